//! The migration runner on PostgreSQL, end to end: the real binary against the
//! real server, each test in a database of its own. Every test checks what
//! happened in the database, not only what stepwise printed.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

// ---- helpers ----

/// Whether a relation (table, index, view) exists.
fn exists(db: &PgDb, rel: &str) -> bool {
    db.sql(&format!("SELECT to_regclass('{rel}') IS NOT NULL")) == "t"
}

/// The tables of schema public, sorted, comma-separated.
fn tables(db: &PgDb) -> String {
    db.sql("SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') FROM pg_tables WHERE schemaname = 'public'")
}

/// `version:status` of every tracking row, ordered numerically, comma-separated;
/// empty when the store does not exist.
fn tracked(db: &PgDb) -> String {
    if !exists(db, "stepwise.migrations") {
        return String::new();
    }
    db.sql(
        "SELECT coalesce(string_agg(version || ':' || status, ',' ORDER BY string_to_array(version, '.')::numeric[]), '') \
         FROM stepwise.migrations WHERE version ~ '^[0-9.]+$'",
    )
}

/// Whether stepwise created anything at all in the database (its schema).
fn store_created(db: &PgDb) -> bool {
    db.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'stepwise'") != "0"
}

/// `status --format json`, as one JSON value.
fn status_json(p: &Project, db: &PgDb, extra: &[&str]) -> Value {
    let mut args = vec!["status", "--format", "json"];
    args.extend_from_slice(extra);
    let r = p.run(&db.url, &args);
    r.ok();
    r.json_lines().pop().unwrap_or_else(|| panic!("no JSON from status:\n{}", r.all()))
}

/// `version -> state` pairs from `status --format json`, in the order shown.
fn states(v: &Value) -> Vec<(String, String)> {
    v["migrations"]
        .as_array()
        .expect("migrations array")
        .iter()
        .map(|m| (m["version"].as_str().unwrap_or_default().to_string(), m["state"].as_str().unwrap_or_default().to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// The line of text output that starts with `version` (status table rows).
fn status_row<'a>(out: &'a str, version: &str) -> &'a str {
    out.lines().find(|l| l.split_whitespace().next() == Some(version)).unwrap_or_else(|| panic!("no status row for {version}:\n{out}"))
}

/// A migration creating table `t` with a down section dropping it.
fn create_with_down(t: &str) -> String {
    format!("-- stepwise:up\nCREATE TABLE {t} (id int);\n-- stepwise:down\nDROP TABLE {t};\n")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read layout dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

fn layout_dir(layout: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../stepwise-migrate/tests/layouts").join(layout)
}

/// A role of the cluster, dropped at the end (declare it before the database,
/// so the database, which holds the role's objects, is dropped first).
struct Role(String);

impl Role {
    fn new() -> Role {
        let name = unique("sw_role");
        psql(PG_ADMIN, &format!("CREATE ROLE {name}"));
        Role(name)
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = Command::new("psql").args([PG_ADMIN, "-X", "-q", "-c", &format!("DROP ROLE IF EXISTS {}", self.0)]).output();
    }
}

// ---- 1. apply, status, rollback ----

#[test]
fn apply_status_and_rollback_by_step_and_by_version() {
    let db = PgDb::new();
    let p = Project::new();
    for (v, t) in [("1", "a"), ("2", "b"), ("3", "c"), ("4", "d")] {
        p.write(&format!("{v}_{t}.sql"), &create_with_down(t));
    }
    p.run(&db.url, &["migrate"]).ok().contains("Applied 4 migrations");
    assert_eq!(tables(&db), "a,b,c,d");
    assert_eq!(tracked(&db), "1:applied,2:applied,3:applied,4:applied");
    assert_eq!(db.sql("SELECT count(*) FROM stepwise.migrations WHERE finished_at IS NULL OR statements_applied <> 1"), "0");

    // Status, text and JSON.
    let text = p.run(&db.url, &["status"]);
    text.ok();
    for v in ["1", "2", "3", "4"] {
        assert!(status_row(&text.stdout, v).contains("applied"), "{}", text.stdout);
    }
    let json = status_json(&p, &db, &[]);
    assert_eq!(states(&json), pairs(&[("1", "applied"), ("2", "applied"), ("3", "applied"), ("4", "applied")]));
    assert_eq!(json["migrations"][2]["file"], "migrations/3_c.sql");

    // Roll back the newest two.
    p.run(&db.url, &["rollback", "--step", "2"]).ok().contains("Rolled back 2 migrations");
    assert_eq!(tables(&db), "a,b");
    assert_eq!(tracked(&db), "1:applied,2:applied");
    let json = status_json(&p, &db, &[]);
    assert_eq!(states(&json), pairs(&[("1", "applied"), ("2", "applied"), ("3", "pending"), ("4", "pending")]));

    // Apply again, then roll back to version 1: 1 stays applied.
    p.run(&db.url, &["migrate"]).ok().contains("Applied 2 migrations");
    assert_eq!(tables(&db), "a,b,c,d");
    p.run(&db.url, &["rollback", "--to", "1"]).ok().contains("Rolled back 3 migrations");
    assert_eq!(tables(&db), "a");
    assert_eq!(tracked(&db), "1:applied");

    // --to a version that is not applied is refused and changes nothing.
    p.run(&db.url, &["rollback", "--to", "3"]).code(2).contains("no applied migration has this version");
    assert_eq!(tables(&db), "a");
    assert_eq!(tracked(&db), "1:applied");
}

#[test]
fn rollback_without_a_down_section_is_refused_before_anything_is_rolled_back() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", &create_with_down("a"));
    p.write("2_no_down.sql", "CREATE TABLE no_down (id int);\n");
    p.write("3_c.sql", &create_with_down("c"));
    p.run(&db.url, &["migrate"]).ok();
    assert_eq!(tables(&db), "a,c,no_down");

    // 3 would be rolled back first, but 2 has no down: nothing may be rolled back.
    let r = p.run(&db.url, &["rollback", "--step", "2"]);
    r.code(1).contains("cannot roll back 2").contains("2_no_down.sql").contains("no down section");
    assert_eq!(tables(&db), "a,c,no_down");
    assert_eq!(tracked(&db), "1:applied,2:applied,3:applied");

    // The same through --to.
    p.run(&db.url, &["rollback", "--to", "1"]).code(1).contains("no down section");
    assert_eq!(tables(&db), "a,c,no_down");
    assert_eq!(tracked(&db), "1:applied,2:applied,3:applied");

    // One step is fine: 3 has a down.
    p.run(&db.url, &["rollback"]).ok();
    assert_eq!(tables(&db), "a,no_down");
    assert_eq!(tracked(&db), "1:applied,2:applied");
}

// ---- 2. drift and missing files ----

#[test]
fn drift_is_reported_and_stops_migrate_unless_allowed() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", &create_with_down("a"));
    p.write("2_b.sql", &create_with_down("b"));
    p.run(&db.url, &["migrate"]).ok();

    // Change an applied file, and add a pending one.
    p.write("1_a.sql", "-- stepwise:up\nCREATE TABLE a (id bigint);\n-- stepwise:down\nDROP TABLE a;\n");
    p.write("3_c.sql", &create_with_down("c"));

    let st = p.run(&db.url, &["status"]);
    st.ok();
    assert!(status_row(&st.stdout, "1").contains("drifted"), "{}", st.stdout);
    assert!(status_row(&st.stdout, "2").contains("applied"), "{}", st.stdout);
    assert!(st.stdout.contains("1_a.sql"), "{}", st.stdout);
    let json = status_json(&p, &db, &[]);
    assert_eq!(json["migrations"][0]["drift"], true);
    assert_eq!(json["migrations"][1]["drift"], false);

    let r = p.run(&db.url, &["migrate"]);
    r.code(1).contains("drift").contains("migrations/1_a.sql").contains("--allow-drift");
    assert!(!exists(&db, "c"), "a refused migrate applied 3");
    assert_eq!(tracked(&db), "1:applied,2:applied");

    p.run(&db.url, &["migrate", "--allow-drift"]).ok().contains("Applied 1 migration");
    assert!(exists(&db, "c"));
    assert_eq!(tracked(&db), "1:applied,2:applied,3:applied");
    // The drifted file was not run again: column a.id is still int.
    assert_eq!(db.sql("SELECT data_type FROM information_schema.columns WHERE table_name = 'a' AND column_name = 'id'"), "integer");
}

#[test]
fn an_applied_migration_without_its_file_is_reported() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", &create_with_down("a"));
    p.write("2_b.sql", &create_with_down("b"));
    p.run(&db.url, &["migrate"]).ok();
    p.remove("2_b.sql");

    let st = p.run(&db.url, &["status"]);
    st.ok();
    assert!(status_row(&st.stdout, "2").contains("no file"), "{}", st.stdout);
    assert!(status_row(&st.stdout, "1").contains("applied"), "{}", st.stdout);
    let json = status_json(&p, &db, &[]);
    assert_eq!(states(&json), pairs(&[("1", "applied"), ("2", "missing-file")]));
    assert_eq!(json["migrations"][1]["name"], "b");
    // The row is still there, and so is the table.
    assert_eq!(tracked(&db), "1:applied,2:applied");
    assert!(exists(&db, "b"));

    // Rolling it back is impossible without its down section.
    p.run(&db.url, &["rollback"]).code(1).contains("missing");
    assert!(exists(&db, "b"));
    assert_eq!(tracked(&db), "1:applied,2:applied");
}

// ---- 3. out of order and phases ----

#[test]
fn out_of_order_migrations_need_a_flag() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", &create_with_down("a"));
    p.write("3_c.sql", &create_with_down("c"));
    p.run(&db.url, &["migrate"]).ok();
    p.write("2_b.sql", &create_with_down("b"));
    p.write("4_d.sql", &create_with_down("d"));

    let r = p.run(&db.url, &["migrate"]);
    r.code(1).contains("out of order").contains("2 (migrations/2_b.sql)").contains("--allow-out-of-order");
    // Refused as a whole: 4, which is in order, was not applied either.
    assert_eq!(tables(&db), "a,c");
    assert_eq!(tracked(&db), "1:applied,3:applied");
    assert_eq!(states(&status_json(&p, &db, &[]))[1], ("2".to_string(), "pending".to_string()));

    p.run(&db.url, &["migrate", "--allow-out-of-order"]).ok().contains("Applied 2 migrations");
    assert_eq!(tables(&db), "a,b,c,d");
    assert_eq!(tracked(&db), "1:applied,2:applied,3:applied,4:applied");
}

#[test]
fn post_deploy_migrations_run_only_in_the_post_phase_and_are_not_out_of_order() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "CREATE TABLE a (id int, old text);\n");
    p.write("2_drop_old.sql", "-- stepwise:phase post-deploy\n-- stepwise:up\nALTER TABLE a DROP COLUMN old;\n");
    p.write("3_c.sql", "CREATE TABLE c (id int);\n");

    // The default run is the pre-deploy phase: 2 is held back.
    p.run(&db.url, &["migrate"]).ok().contains("Applied 2 migrations");
    assert_eq!(tables(&db), "a,c");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'a' AND column_name = 'old'"), "1");
    assert_eq!(tracked(&db), "1:applied,3:applied");
    let json = status_json(&p, &db, &[]);
    assert_eq!(states(&json)[1], ("2".to_string(), "pending".to_string()));
    assert_eq!(json["migrations"][1]["phase"], "post-deploy");

    // A later pre-deploy migration is not out of order because of the held-back 2.
    p.write("4_d.sql", "CREATE TABLE d (id int);\n");
    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration");
    assert_eq!(tables(&db), "a,c,d");
    assert_eq!(tracked(&db), "1:applied,3:applied,4:applied");

    // After the deploy: the post phase applies 2, and only 2.
    p.write("5_e.sql", "CREATE TABLE e (id int);\n");
    p.run(&db.url, &["migrate", "--phase", "post"]).ok().contains("Applied 1 migration");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'a' AND column_name = 'old'"), "0");
    assert!(!exists(&db, "e"), "--phase post applied a pre-deploy migration");
    assert_eq!(db.sql("SELECT phase FROM stepwise.migrations WHERE version = '2'"), "post-deploy");
    assert_eq!(tracked(&db), "1:applied,2:applied,3:applied,4:applied");
}

// ---- 4. --to, --dry-run, plan ----

#[test]
fn migrate_to_a_version_and_dry_run() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n");
    p.write("2_b.sql", &create_with_down("b"));
    p.write("3_c.sql", &create_with_down("c"));

    // Dry run: lists what would run, applies nothing (not even the state schema).
    let r = p.run(&db.url, &["migrate", "--dry-run"]);
    r.ok().contains("CREATE TABLE a (id int)").contains("INSERT INTO a VALUES (1)").contains("CREATE TABLE c (id int)");
    r.contains("Dry run: 3 migrations would be applied");
    assert_eq!(tables(&db), "");
    assert!(!store_created(&db), "--dry-run created the state schema");

    let r = p.run(&db.url, &["migrate", "--dry-run", "--to", "2", "--format", "json"]);
    r.ok();
    let plan = r.json_lines().pop().expect("json");
    assert_eq!(plan["dry_run"], true);
    let versions: Vec<&str> = plan["pending"].as_array().unwrap().iter().map(|m| m["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["1", "2"]);
    assert_eq!(tables(&db), "");

    // --to applies up to and including the version.
    p.run(&db.url, &["migrate", "--to", "2"]).ok().contains("Applied 2 migrations");
    assert_eq!(tables(&db), "a,b");
    assert_eq!(tracked(&db), "1:applied,2:applied");
    p.run(&db.url, &["migrate", "--to", "9"]).code(2).contains("--to 9");
    assert_eq!(tracked(&db), "1:applied,2:applied");
    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration");
    assert_eq!(tables(&db), "a,b,c");
}

#[test]
fn plan_shows_pending_migrations_and_how_each_runs() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "CREATE TABLE a (id int);\n");
    p.write("2_b.sql", "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n");
    p.write("3_idx.sql", "-- stepwise:no-transaction\nCREATE INDEX CONCURRENTLY b_id ON b (id);\n");
    p.run(&db.url, &["migrate", "--to", "1"]).ok();

    let r = p.run(&db.url, &["plan"]);
    r.ok().contains("2 b [pre-deploy] (one transaction)").contains("3 idx [pre-deploy] (no transaction");
    r.contains("CREATE INDEX CONCURRENTLY b_id ON b (id)");
    assert!(!r.stdout.contains("1 a"), "plan lists an applied migration:\n{}", r.stdout);

    let r = p.run(&db.url, &["plan", "--format", "json"]);
    r.ok();
    let plan = r.json_lines().pop().expect("json");
    let pending = plan["pending"].as_array().expect("pending");
    assert_eq!(pending.len(), 2);
    assert_eq!((pending[0]["version"].as_str(), pending[0]["transactional"].as_bool()), (Some("2"), Some(true)));
    assert_eq!((pending[1]["version"].as_str(), pending[1]["transactional"].as_bool()), (Some("3"), Some(false)));
    assert_eq!(pending[0]["statements"].as_array().unwrap().len(), 2);
    assert_eq!(pending[0]["statements"][1]["line"], 2);
    assert_eq!(pending[1]["statements"][0]["sql"], "CREATE INDEX CONCURRENTLY b_id ON b (id)");
    // plan changes nothing.
    assert_eq!(tables(&db), "a");
    assert_eq!(tracked(&db), "1:applied");
}

// ---- 5. layouts ----

/// Copy the sample directory of `layout` into a project, apply it with
/// auto-detection, check the schema, roll everything back, apply again.
fn apply_layout(layout: &str, versions: &str) {
    let db = PgDb::new();
    let p = Project::new();
    copy_dir(&layout_dir(layout), &p.migrations());
    let r = p.run(&db.url, &["migrate"]);
    r.ok().contains("Applied 3 migrations");
    let check_applied = || {
        assert!(exists(&db, "users"), "{layout}: no users table");
        assert_eq!(
            db.sql("SELECT indisvalid AND indisunique FROM pg_index WHERE indexrelid = 'users_email_key'::regclass"),
            "t",
            "{layout}"
        );
        assert_eq!(
            db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'last_login_at'"),
            "1",
            "{layout}"
        );
        assert_eq!(tracked(&db), versions, "{layout}");
    };
    check_applied();
    if layout == "goose" {
        // StatementBegin/End kept the function body whole.
        assert_eq!(db.sql("SELECT count(*) FROM pg_proc WHERE proname = 'touch_last_login'"), "1");
    }
    // The index migration runs outside a transaction in every layout (CONCURRENTLY or not).
    let idx_transactional = db.sql("SELECT transactional FROM stepwise.migrations ORDER BY version LIMIT 1 OFFSET 1");
    let concurrently = std::fs::read_dir(p.migrations())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("CREATE UNIQUE INDEX CONCURRENTLY")));
    assert_eq!(idx_transactional, if concurrently { "f" } else { "t" }, "{layout}");

    p.run(&db.url, &["rollback", "--step", "3"]).ok().contains("Rolled back 3 migrations");
    assert!(!exists(&db, "users"), "{layout}: users survived a full rollback");
    assert_eq!(db.sql("SELECT count(*) FROM pg_proc WHERE proname = 'touch_last_login'"), "0");
    assert_eq!(tracked(&db), "", "{layout}");

    p.run(&db.url, &["migrate"]).ok().contains("Applied 3 migrations");
    check_applied();
}

#[test]
fn layout_native() {
    apply_layout("native", "20240101120000:applied,20240102090000:applied,20240103150000:applied");
}

#[test]
fn layout_sqlx() {
    apply_layout("sqlx", "20240101120000:applied,20240102090000:applied,20240103150000:applied");
}

#[test]
fn layout_dbmate() {
    apply_layout("dbmate", "20240101120000:applied,20240102090000:applied,20240103150000:applied");
}

#[test]
fn layout_goose() {
    apply_layout("goose", "1:applied,2:applied,3:applied");
}

#[test]
fn layout_golang_migrate() {
    apply_layout("golang-migrate", "1:applied,2:applied,3:applied");
}

#[test]
fn layout_flyway_pointed_at_with_dir() {
    // The sample directory itself, read in place.
    let db = PgDb::new();
    let p = Project::new();
    let dir = path_str(&layout_dir("flyway"));
    p.run(&db.url, &["migrate", "--dir", &dir]).ok().contains("Applied 4 migrations");
    assert!(exists(&db, "users") && exists(&db, "users_email_key") && exists(&db, "active_users"));
    assert_eq!(tracked(&db), "1:applied,1.1:applied,2:applied");
    assert_eq!(db.sql("SELECT status FROM stepwise.migrations WHERE version = 'R__active users view'"), "applied");
}

#[test]
fn layout_flyway_versions_repeatables_and_undo() {
    let db = PgDb::new();
    let p = Project::new();
    copy_dir(&layout_dir("flyway"), &p.migrations());
    // 1.10 comes after 1.9 (numerically, not as text): its foreign key needs t19.
    p.write("V1_9__t19.sql", "CREATE TABLE t19 (id int PRIMARY KEY);\n");
    p.write("V1.10__t110.sql", "CREATE TABLE t110 (id int REFERENCES t19 (id));\n");

    p.run(&db.url, &["migrate"]).ok().contains("Applied 6 migrations");
    assert_eq!(tracked(&db), "1:applied,1.1:applied,1.9:applied,1.10:applied,2:applied");
    assert!(exists(&db, "t110") && exists(&db, "users_email_key") && exists(&db, "active_users"));
    let order = db.sql("SELECT string_agg(version, ',' ORDER BY started_at, finished_at) FROM stepwise.migrations");
    assert_eq!(order, "1,1.1,1.9,1.10,2,R__active users view");
    let json = status_json(&p, &db, &[]);
    let shown: Vec<String> = states(&json).into_iter().map(|(v, _)| v).collect();
    assert_eq!(shown, ["1", "1_1", "1_9", "1.10", "2", "R__active_users_view"]);

    // A repeatable migration runs again when its file changes.
    p.run(&db.url, &["migrate"]).ok().contains("Nothing to apply");
    p.write(
        "R__active_users_view.sql",
        "CREATE OR REPLACE VIEW active_users AS\n    SELECT id, email, last_login_at, created_at\n    FROM users\n    WHERE last_login_at > now() - interval '30 days';\n",
    );
    assert_eq!(states(&status_json(&p, &db, &[])).last().unwrap().1, "pending");
    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration");
    assert_eq!(
        db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'active_users' AND column_name = 'created_at'"),
        "1"
    );

    // U2 undoes V2, but the view depends on the column: the undo fails as a whole.
    let r = p.run(&db.url, &["rollback"]);
    r.code(1).contains("U2__add_users_last_login_at.sql:1:1").contains("2BP01");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'last_login_at'"), "1");
    assert_eq!(tracked(&db), "1:applied,1.1:applied,1.9:applied,1.10:applied,2:applied");
    db.sql("DROP VIEW active_users");
    p.run(&db.url, &["rollback"]).ok().contains("Rolled back 1 migration");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'last_login_at'"), "0");
    assert_eq!(tracked(&db), "1:applied,1.1:applied,1.9:applied,1.10:applied");
    // 1.10 has no undo file.
    p.run(&db.url, &["rollback"]).code(1).contains("no down section");
    assert!(exists(&db, "t110"));
}

// ---- 6. non-transactional migrations ----

#[test]
fn no_transaction_migration_builds_an_index_concurrently() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_t.sql", "CREATE TABLE t (id int);\nINSERT INTO t SELECT generate_series(1, 1000);\n");
    p.write(
        "2_t_id.sql",
        "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n-- stepwise:down\nDROP INDEX CONCURRENTLY t_id;\n",
    );
    p.run(&db.url, &["migrate"]).ok().contains("outside a transaction");
    assert_eq!(db.sql("SELECT indisvalid AND indisready FROM pg_index WHERE indexrelid = 't_id'::regclass"), "t");
    assert_eq!(
        db.sql("SELECT status, transactional, statements_applied, statements_total, in_flight IS NULL FROM stepwise.migrations WHERE version = '2'"),
        "applied|f|1|1|t"
    );
    p.run(&db.url, &["rollback"]).ok();
    assert!(!exists(&db, "t_id"));
    assert_eq!(tracked(&db), "1:applied");
}

#[test]
fn concurrently_without_the_marker_is_refused_before_the_database_is_touched() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_ok.sql", "CREATE TABLE ok_t (id int);\n");
    p.write("2_idx.sql", "-- stepwise:up\nCREATE TABLE early (id int);\n  CREATE INDEX CONCURRENTLY early_id ON early (id);\n");
    let r = p.run(&db.url, &["migrate"]);
    r.code(2).contains("migrations/2_idx.sql:3:3").contains("CREATE INDEX CONCURRENTLY").contains("no-transaction");
    assert_eq!(tables(&db), "", "something was created");
    assert!(!exists(&db, "early_id"));
    assert!(!store_created(&db), "the state schema was created although the run was refused");

    // plan and --dry-run say the same.
    p.run(&db.url, &["plan"]).code(2).contains("migrations/2_idx.sql:3:3");
    p.run(&db.url, &["migrate", "--dry-run"]).code(2).contains("migrations/2_idx.sql:3:3");

    // With a store in place (1 applied), still no tracking row for 2.
    p.run(&db.url, &["migrate", "--to", "1"]).ok();
    p.run(&db.url, &["migrate"]).code(2).contains("migrations/2_idx.sql:3:3");
    assert_eq!(tracked(&db), "1:applied");
    assert_eq!(tables(&db), "ok_t");
}

// ---- 7. transactional atomicity ----

#[test]
fn a_failed_transactional_migration_leaves_nothing_and_can_be_fixed() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "CREATE TABLE a (id int);\n");
    p.write(
        "2_b.sql",
        "-- stepwise:up\nCREATE TABLE b (id int);\nINSERT INTO no_such_table VALUES (1);\n-- stepwise:down\nDROP TABLE b;\n",
    );
    p.write("3_c.sql", "CREATE TABLE c (id int);\n");

    let r = p.run(&db.url, &["migrate"]);
    r.code(1).contains("migrations/2_b.sql:3:13").contains("no_such_table").contains("42P01");
    assert_eq!(tables(&db), "a", "the failed migration left something, or the run went on");
    assert_eq!(tracked(&db), "1:applied,2:failed");
    assert_eq!(db.sql("SELECT statements_applied FROM stepwise.migrations WHERE version = '2'"), "0");

    let st = p.run(&db.url, &["status"]);
    st.ok();
    assert!(status_row(&st.stdout, "2").contains("FAILED"), "{}", st.stdout);
    assert!(st.stdout.contains("relation \"no_such_table\" does not exist"), "{}", st.stdout);
    let json = status_json(&p, &db, &[]);
    assert_eq!(states(&json), pairs(&[("1", "applied"), ("2", "failed"), ("3", "pending")]));
    assert!(json["migrations"][1]["error"].as_str().unwrap_or_default().contains("no_such_table"), "{json}");

    // Fix the file: the next migrate applies it and what follows.
    p.write("2_b.sql", "-- stepwise:up\nCREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n-- stepwise:down\nDROP TABLE b;\n");
    p.run(&db.url, &["migrate"]).ok().contains("Applied 2 migrations");
    assert_eq!(tables(&db), "a,b,c");
    assert_eq!(db.sql("SELECT count(*) FROM b"), "1");
    assert_eq!(tracked(&db), "1:applied,2:applied,3:applied");
    assert_eq!(
        db.sql("SELECT error IS NULL AND statements_applied = 2 AND finished_at IS NOT NULL FROM stepwise.migrations WHERE version = '2'"),
        "t"
    );
}

// ---- 8. mark and Rails compatibility ----

#[test]
fn mark_records_a_migration_without_running_it() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "CREATE TABLE a (id int);\n");
    p.write("2_b.sql", "CREATE TABLE b (id int);\n");

    p.run(&db.url, &["mark", "1"]).ok();
    assert!(!exists(&db, "a"), "mark ran the migration");
    assert_eq!(tracked(&db), "1:applied");
    assert!(db.sql("SELECT applied_by FROM stepwise.migrations WHERE version = '1'").contains("marked"));

    p.run(&db.url, &["migrate"]).ok().contains("Applied 1 migration");
    assert!(!exists(&db, "a"), "migrate ran a marked migration");
    assert!(exists(&db, "b"));
    assert_eq!(tracked(&db), "1:applied,2:applied");

    p.run(&db.url, &["mark", "7"]).code(2).contains("no migration file has version 7");
    assert_eq!(tracked(&db), "1:applied,2:applied");

    // Marking an applied migration again would overwrite its real history.
    let before = db.sql("SELECT applied_by || finished_at FROM stepwise.migrations WHERE version = '2'");
    p.run(&db.url, &["mark", "2"]).code(1).contains("already applied");
    assert_eq!(db.sql("SELECT applied_by || finished_at FROM stepwise.migrations WHERE version = '2'"), before);
}

#[test]
fn rails_compat_keeps_schema_migrations_in_step() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("20240101000000_a.sql", &create_with_down("a"));
    p.write(
        "20240102000000_b.sql",
        "-- stepwise:no-transaction\n-- stepwise:up\nCREATE TABLE b (id int);\n-- stepwise:down\nDROP TABLE b;\n",
    );
    p.write("20240103000000_c.sql", &create_with_down("c"));
    let rails = |db: &PgDb| db.sql("SELECT coalesce(string_agg(version, ',' ORDER BY version), '') FROM schema_migrations");

    p.run(&db.url, &["migrate", "--rails", "--to", "20240102000000"]).ok();
    assert_eq!(rails(&db), "20240101000000,20240102000000");
    p.run(&db.url, &["rollback", "--rails"]).ok();
    assert!(!exists(&db, "b"));
    assert_eq!(rails(&db), "20240101000000");

    // Without the flag, schema_migrations is left alone.
    p.run(&db.url, &["migrate", "--to", "20240102000000"]).ok();
    assert_eq!(rails(&db), "20240101000000");
    p.run(&db.url, &["rollback"]).ok();

    // rails_compat = true in stepwise.toml does the same as --rails.
    std::fs::write(p.root.join("stepwise.toml"), "rails_compat = true\n").unwrap();
    p.run(&db.url, &["migrate"]).ok().contains("Applied 2 migrations");
    assert_eq!(rails(&db), "20240101000000,20240102000000,20240103000000");
    p.run(&db.url, &["rollback", "--to", "20240101000000"]).ok();
    assert_eq!(rails(&db), "20240101000000");
    assert_eq!(tables(&db), "a,schema_migrations");
    p.run(&db.url, &["mark", "20240103000000"]).ok();
    assert_eq!(rails(&db), "20240101000000,20240103000000");
    assert!(!exists(&db, "c"));
}

#[test]
fn rails_compat_on_a_fresh_database_creates_schema_migrations() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("20240101000000_a.sql", &create_with_down("a"));
    p.run(&db.url, &["migrate", "--rails"]).ok();
    assert_eq!(db.sql("SELECT string_agg(version, ',') FROM schema_migrations"), "20240101000000");
    assert_eq!(
        db.sql("SELECT data_type FROM information_schema.columns WHERE table_name = 'schema_migrations' AND column_name = 'version'"),
        "character varying"
    );
}

// ---- 9. init, new, configuration ----

#[test]
fn init_creates_the_config_the_directory_and_the_state_tables() {
    let db = PgDb::new();
    let p = Project::new();
    std::fs::remove_dir_all(p.migrations()).unwrap();
    p.run(&db.url, &["init"]).ok().contains("created stepwise.toml").contains("created migrations/");
    assert!(p.migrations().is_dir());
    let toml = std::fs::read_to_string(p.root.join("stepwise.toml")).expect("stepwise.toml");
    assert!(toml.contains("migrations_dir = \"migrations\""), "{toml}");
    assert!(exists(&db, "stepwise.migrations"));
    assert_eq!(db.sql("SELECT count(*) FROM stepwise.migrations"), "0");
    // The file it wrote is valid configuration, and a second init keeps it.
    std::fs::write(p.root.join("stepwise.toml"), format!("{toml}\n# mine\n")).unwrap();
    p.run(&db.url, &["init"]).ok().contains("already exists");
    assert!(std::fs::read_to_string(p.root.join("stepwise.toml")).unwrap().ends_with("# mine\n"));
    p.run(&db.url, &["status"]).ok();
}

fn utc_now_stamp() -> u64 {
    let out = Command::new("date").args(["-u", "+%Y%m%d%H%M%S"]).output().expect("date");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("date output")
}

#[test]
fn new_creates_a_timestamped_migration_that_applies() {
    let db = PgDb::new();
    let p = Project::new();
    let before = utc_now_stamp();
    p.run(&db.url, &["new", "add thing"]).ok().contains("_add_thing.sql");
    let after = utc_now_stamp();
    let files: Vec<String> =
        std::fs::read_dir(p.migrations()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = &files[0];
    let (stamp, rest) = name.split_at(14);
    assert!(stamp.bytes().all(|b| b.is_ascii_digit()), "{name}");
    assert_eq!(rest, "_add_thing.sql");
    let stamp: u64 = stamp.parse().unwrap();
    assert!(before <= stamp && stamp <= after, "{stamp} not between {before} and {after}");

    let text = std::fs::read_to_string(p.migrations().join(name)).unwrap();
    let text = text
        .replace("-- stepwise:up\n", "-- stepwise:up\nCREATE TABLE thing (id int);\n")
        .replace("-- stepwise:down\n", "-- stepwise:down\nDROP TABLE thing;\n");
    p.write(name, &text);
    p.run(&db.url, &["migrate"]).ok();
    assert!(exists(&db, "thing"));
    assert_eq!(tracked(&db), format!("{stamp}:applied"));
    p.run(&db.url, &["rollback"]).ok();
    assert!(!exists(&db, "thing"));
}

#[test]
fn configuration_flag_beats_environment_beats_file() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("../from_toml/1_toml.sql", "CREATE TABLE t_toml (id int);\n");
    p.write("../from_env/2_env.sql", "CREATE TABLE t_env (id int);\n");
    p.write("../from_flag/3_flag.sql", "CREATE TABLE t_flag (id int);\n");
    std::fs::write(p.root.join("stepwise.toml"), "migrations_dir = \"from_toml\"\n").unwrap();
    let run = |env: Option<&str>, args: &[&str]| {
        let mut c = p.cmd(&db.url, args);
        if let Some(dir) = env {
            c.env("STEPWISE_MIGRATIONS_DIR", dir);
        }
        Run::from(c.output().expect("run stepwise"))
    };

    run(None, &["migrate"]).ok();
    assert_eq!(tables(&db), "t_toml");
    run(Some("from_env"), &["migrate"]).ok();
    assert_eq!(tables(&db), "t_env,t_toml");
    run(Some("from_env"), &["migrate", "--dir", "from_flag"]).ok();
    assert_eq!(tables(&db), "t_env,t_flag,t_toml");
    assert_eq!(tracked(&db), "1:applied,2:applied,3:applied");

    // The same order for another setting: the schema for stepwise's state.
    std::fs::write(p.root.join("stepwise.toml"), "migrations_dir = \"from_toml\"\nschema = \"state_toml\"\n").unwrap();
    let mut c = p.cmd(&db.url, &["init"]);
    c.env("STEPWISE_SCHEMA", "state_env");
    Run::from(c.output().unwrap()).ok();
    let mut c = p.cmd(&db.url, &["init", "--schema", "state_flag"]);
    c.env("STEPWISE_SCHEMA", "state_env");
    Run::from(c.output().unwrap()).ok();
    assert_eq!(
        db.sql(
            "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname IN ('state_toml', 'state_env', 'state_flag')"
        ),
        "state_env,state_flag"
    );
}

#[test]
fn an_unknown_key_in_stepwise_toml_is_located() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_a.sql", "CREATE TABLE a (id int);\n");
    std::fs::write(p.root.join("stepwise.toml"), "migrations_dir = \"migrations\"\n\n  lock_timout = \"2s\"\n").unwrap();
    let r = p.run(&db.url, &["migrate"]);
    r.code(2).contains("stepwise.toml:3:3").contains("lock_timout");
    assert_eq!(tables(&db), "");
    assert!(!store_created(&db));
}

// ---- 10. --role ----

#[test]
fn role_owns_what_the_migrations_create() {
    let role = Role::new();
    let db = PgDb::new();
    db.sql(&format!("GRANT CREATE ON SCHEMA public TO {}", role.0));
    let p = Project::new();
    p.write("1_a.sql", &create_with_down("owned_tx"));
    p.write(
        "2_b.sql",
        "-- stepwise:no-transaction\n-- stepwise:up\nCREATE TABLE owned_no_tx (id int);\n-- stepwise:down\nDROP TABLE owned_no_tx;\n",
    );
    p.run(&db.url, &["migrate", "--role", &role.0]).ok();
    let owner = |t: &str| db.sql(&format!("SELECT tableowner FROM pg_tables WHERE tablename = '{t}'"));
    assert_eq!(owner("owned_tx"), role.0);
    assert_eq!(owner("owned_no_tx"), role.0);
    // stepwise's own state stays with the session user.
    assert_eq!(db.sql("SELECT tableowner FROM pg_tables WHERE schemaname = 'stepwise' AND tablename = 'migrations'"), "postgres");
    assert_eq!(tracked(&db), "1:applied,2:applied");
    // Rolling back as the role works (it owns the tables).
    p.run(&db.url, &["rollback", "--step", "2", "--role", &role.0]).ok();
    assert_eq!(tables(&db), "");
    assert_eq!(tracked(&db), "");
}

#[test]
fn a_role_that_does_not_exist_runs_nothing() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_tx.sql", "CREATE TABLE t_tx (id int);\n");
    p.write("2_no_tx.sql", "-- stepwise:no-transaction\nCREATE TABLE t_no_tx (id int);\n");
    let role = unique("sw_no_such_role");

    // A settings error, found before anything is recorded (it used to be
    // recorded FAILED at file:1:1 with an empty source line).
    p.run(&db.url, &["migrate", "--role", &role, "--to", "1"]).code(2).contains("does not exist");
    assert_eq!(tables(&db), "");
    assert_eq!(tracked(&db), "");

    p.run(&db.url, &["migrate", "--to", "1"]).ok();
    // Outside a transaction too: the statement must not run without its settings.
    p.run(&db.url, &["migrate", "--role", &role]).code(2).contains("does not exist");
    assert_eq!(tables(&db), "t_tx", "the statement ran although SET ROLE failed");
    assert_eq!(tracked(&db), "1:applied");
    // Without the bad role it applies.
    p.run(&db.url, &["migrate"]).ok();
    assert_eq!(tables(&db), "t_no_tx,t_tx");
    assert_eq!(tracked(&db), "1:applied,2:applied");
}

/// What a migration SETs for itself (a pg_dump file's empty search_path and
/// `lock_timeout = 0`, a role) does not carry over to the next migration.
#[test]
fn each_migration_starts_from_the_sessions_defaults() {
    let db = PgDb::new();
    let p = Project::new();
    p.write(
        "1_dump.sql",
        "SET lock_timeout = 0;\nSET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.a (id int);\n",
    );
    p.write(
        "2_next.sql",
        "CREATE TABLE b (id int);\nDO $$ BEGIN IF current_setting('lock_timeout') = '0' THEN RAISE EXCEPTION 'lock_timeout leaked'; END IF; END $$;\n",
    );
    p.write("3_no_tx.sql", "-- stepwise:no-transaction\n-- stepwise:up\nSET search_path = '';\nCREATE TABLE public.c (id int);\n-- stepwise:down\nDROP TABLE c;\n");
    p.write("4_after.sql", "-- stepwise:no-transaction\n-- stepwise:up\nCREATE TABLE d (id int);\n-- stepwise:down\nSET search_path = '';\nDROP TABLE public.d;\n");
    let r = p.run(&db.url, &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(db.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('a', 'b', 'c', 'd')"), "4");
    // And back down, where each down starts fresh too.
    p.run(&db.url, &["rollback", "--step", "2"]).ok();
    assert_eq!(db.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('c', 'd')"), "0");
}

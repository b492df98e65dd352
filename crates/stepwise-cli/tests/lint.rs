//! `stepwise lint` end to end: outputs, exit codes, suppression,
//! configuration, the schema model from the catalog and from git, and the
//! lint gate of `migrate`.

mod common;
use common::*;
use std::io::Write;
use std::process::Stdio;

const TABLE: &str = "-- stepwise:up\nCREATE TABLE orders (id bigint PRIMARY KEY, status text);\n-- stepwise:down\nDROP TABLE orders;\n";
const BAD_INDEX: &str =
    "-- stepwise:up\nCREATE INDEX orders_status_idx ON orders (status);\n-- stepwise:down\nDROP INDEX orders_status_idx;\n";

fn project_with_bad_index() -> Project {
    let p = Project::new();
    p.write("1_orders.sql", TABLE);
    p.write("2_index.sql", BAD_INDEX);
    p
}

#[test]
fn text_output_names_rule_place_why_and_recipe() {
    let p = project_with_bad_index();
    let r = p.run("", &["lint"]);
    r.code(1)
        .contains("error[require-concurrent-index]")
        .contains("migrations/2_index.sql:2:1")
        .contains("why: CREATE INDEX takes a SHARE lock")
        .contains("CREATE INDEX CONCURRENTLY orders_status_idx ON orders")
        .contains("1 error(s)");
}

#[test]
fn json_sarif_and_github_outputs() {
    let p = project_with_bad_index();
    let r = p.run("", &["lint", "--format", "json"]);
    r.code(1);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("json");
    assert_eq!(v["findings"][0]["rule"], "require-concurrent-index");
    assert_eq!(v["findings"][0]["line"], 2);
    assert_eq!(v["summary"]["errors"], 1);

    // SARIF 2.1.0: the fields the schema requires, and those code scanning reads.
    let r = p.run("", &["lint", "--format", "sarif"]);
    r.code(1);
    let s: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("sarif json");
    assert_eq!(s["version"], "2.1.0");
    assert!(s["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &s["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "stepwise");
    assert!(run["tool"]["driver"]["rules"].as_array().unwrap().iter().any(|r| r["id"] == "require-concurrent-index"));
    let res = &run["results"][0];
    assert_eq!(res["ruleId"], "require-concurrent-index");
    assert_eq!(res["level"], "error");
    assert!(res["message"]["text"].as_str().unwrap().contains("CONCURRENTLY"));
    let loc = &res["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "migrations/2_index.sql");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 1);

    let r = p.run("", &["lint", "--format", "github"]);
    r.code(1);
    let line = r.stdout.lines().next().unwrap();
    assert!(line.starts_with("::error file=migrations/2_index.sql,line=2,col=1,title=require-concurrent-index::"), "{line}");
    assert!(!line.contains('\n'));
}

#[test]
fn unparseable_sql_is_exit_2_and_the_other_files_are_still_linted() {
    let p = project_with_bad_index();
    p.write("3_broken.sql", "-- stepwise:up\nSELECT 1;\nALTER TABLE orders ADD COLUMN;\n");
    let r = p.run("", &["lint"]);
    r.code(2).contains("migrations/3_broken.sql:3:").contains("cannot parse").contains("error[require-concurrent-index]");
    // An unterminated string (the file parser's error) does not stop the others either.
    p.write("3_broken.sql", "-- stepwise:up\nSELECT 'oops;\n");
    p.run("", &["lint"]).code(2).contains("3_broken.sql:2:8").contains("unterminated").contains("error[require-concurrent-index]");
}

#[test]
fn a_file_named_on_the_command_line_and_stdin() {
    let p = project_with_bad_index();
    // Alone, the file's table is unknown: unknown tables are existing tables.
    p.run("", &["lint", "migrations/2_index.sql"]).code(1).contains("require-concurrent-index");
    let mut child = p.cmd("", &["lint", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"CREATE INDEX i ON big_table (a);\n").unwrap();
    let r = Run::from(child.wait_with_output().unwrap());
    r.code(1).contains("<stdin>:1:1");
}

#[test]
fn ignores_need_to_match_and_warnings_can_fail_the_run() {
    let p = Project::new();
    p.write("1_orders.sql", TABLE);
    p.write(
        "2_index.sql",
        "-- stepwise:up\n-- stepwise:ignore require-concurrent-index table is tiny and has no writers\nCREATE INDEX orders_status_idx ON orders (status);\n",
    );
    p.run("", &["lint"]).ok().contains("0 error(s), 0 warning(s)");
    p.write("2_index.sql", "-- stepwise:up\n-- stepwise:ignore require-index-name not needed\nCREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n");
    let r = p.run("", &["lint"]);
    // CONCURRENTLY in a transaction cannot run (exit 2, as `plan` says); the unused ignore is a warning.
    r.code(2).contains("cannot run inside a transaction block").contains("warning[unused-ignore]").contains("2_index.sql:2:1");
    p.write(
        "2_index.sql",
        "-- stepwise:no-transaction\n-- stepwise:up\n-- stepwise:ignore require-index-name not needed\nCREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n",
    );
    p.run("", &["lint"]).ok().contains("1 warning(s)");
    p.run("", &["lint", "--max-warnings", "0"]).code(1);
}

/// What `plan` and `migrate` refuse before touching the database, `lint`
/// reports too, in the same words, with the same exit status.
#[test]
fn lint_refuses_what_plan_refuses_with_the_same_message() {
    let cases = [
        "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n",
        "CREATE TABLE a (id int);\nVACUUM a;\n",
        "DROP DATABASE other;\n",
        "-- stepwise:no-transaction\nCREATE TABLE a (id int);\nBEGIN;\nCREATE INDEX CONCURRENTLY a_id_idx ON a (id);\nCOMMIT;\n",
        "-- stepwise:no-transaction\nBEGIN;\nCREATE TABLE a (id int);\n",
    ];
    for case in cases {
        let db = PgDb::new();
        let p = Project::new();
        p.write("1_case.sql", case);
        let plan = p.run(&db.url, &["plan"]);
        assert_eq!(plan.code, 2, "plan of {case:?}:\n{}", plan.all());
        let lint = p.run("", &["lint"]);
        assert_eq!(lint.code, 2, "lint of {case:?}:\n{}", lint.all());
        let messages: Vec<&str> = plan.stderr.lines().filter(|l| l.starts_with("error")).collect();
        assert!(!messages.is_empty(), "{}", plan.all());
        for m in messages {
            assert!(lint.all().contains(m), "lint of {case:?} lacks `{m}`:\n{}", lint.all());
        }
        // And nothing was run.
        assert_eq!(db.sql("SELECT count(*) FROM pg_class WHERE relname = 'a'"), "0");
    }
}

#[test]
fn lint_configuration_in_stepwise_toml() {
    let p = project_with_bad_index();
    std::fs::write(p.root.join("stepwise.toml"), "[lint]\ndisable = [\"require-concurrent-index\"]\n").unwrap();
    p.run("", &["lint"]).ok();
    std::fs::write(p.root.join("stepwise.toml"), "[lint]\nseverity = { require-concurrent-index = \"warning\" }\n").unwrap();
    p.run("", &["lint"]).ok().contains("warning[require-concurrent-index]");
    std::fs::write(p.root.join("stepwise.toml"), "[lint]\nexclude = [\"migrations/2_*.sql\"]\n").unwrap();
    p.run("", &["lint"]).ok().contains("0 error(s)");
    std::fs::write(p.root.join("stepwise.toml"), "[lint]\ndisable = [\"no-such-rule\"]\n").unwrap();
    p.run("", &["lint"]).code(2).contains("no rule named `no-such-rule`");
    std::fs::write(p.root.join("stepwise.toml"), "[lint]\ndisabel = [\"x\"]\n").unwrap();
    p.run("", &["lint"]).code(2).contains("stepwise.toml:2:1");
}

#[test]
fn sizes_from_the_catalog_decide_the_severity_of_scans() {
    let db = PgDb::new();
    db.sql("CREATE TABLE orders (id bigint PRIMARY KEY, status text); INSERT INTO orders SELECT g, 'new' FROM generate_series(1, 2000) g; ANALYZE orders;");
    let p = Project::new();
    p.write("2_index.sql", BAD_INDEX);
    p.run("", &["lint", "--database", &db.url, "--large-table-rows", "1000"])
        .code(1)
        .contains("error[require-concurrent-index]")
        .contains("about 2k rows");
    p.run("", &["lint", "--database", &db.url, "--large-table-rows", "100000"])
        .ok()
        .contains("warning[require-concurrent-index]")
        .contains("about 2k rows");
    // Migrations already applied are in the live schema and not linted again.
    p.run(&db.url, &["mark", "2"]).ok();
    p.run("", &["lint", "--database", &db.url]).ok().contains("0 file(s)");
}

#[test]
fn the_live_catalog_names_the_table_of_an_index_no_migration_created() {
    let db = PgDb::new();
    db.sql("CREATE TABLE legacy (id int PRIMARY KEY, a int); CREATE INDEX ON legacy (a);");
    let p = Project::new();
    p.write("2_drop.sql", "DROP INDEX legacy_a_idx;\n");
    // Without the catalog, the index is unknown, and the finding says so.
    p.run("", &["lint"]).code(1).contains("no migration linted creates that index");
    // With it, the table is named, and an index on a table the pending
    // migrations create is new (its default name is worked out).
    p.run("", &["lint", "--database", &db.url]).code(1).contains("lock on `legacy`, the table of `legacy_a_idx`");
    p.write("2_drop.sql", "CREATE TABLE fresh (id int, a int);\nCREATE INDEX ON fresh (a);\n");
    p.write("3_drop.sql", "DROP INDEX fresh_a_idx;\n");
    let r = p.run("", &["lint", "--database", &db.url, "--format", "json"]);
    assert!(!r.stdout.contains("require-concurrent-drop-index"), "{}", r.stdout);
}

#[test]
fn tables_created_by_migrations_added_since_base_are_new() {
    let p = Project::new();
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git").args(args).current_dir(&p.root).output().unwrap();
        assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    git(&["init", "-q"]);
    git(&["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "start"]);
    p.write("1_orders.sql", TABLE);
    git(&["add", "."]);
    git(&["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "orders"]);
    p.write("2_items.sql", "CREATE TABLE items (id bigint PRIMARY KEY, sku text);\n");
    p.write("3_items_idx.sql", "CREATE INDEX items_sku_idx ON items (sku);\n");
    // From scratch, items exists by the time 3 runs: flagged.
    p.run("", &["lint"]).code(1).contains("3_items_idx.sql:1:1");
    // Since HEAD, 2 and 3 are new: nothing uses items yet.
    p.run("", &["lint", "--base", "HEAD"]).ok();
    // orders is not new since HEAD.
    p.write("4_orders_idx.sql", "CREATE INDEX orders_status_idx ON orders (status);\n");
    p.run("", &["lint", "--base", "HEAD"]).code(1).contains("4_orders_idx.sql");
}

#[test]
fn migrate_refuses_lint_errors_and_respects_ignores() {
    let db = PgDb::new();
    let p = project_with_bad_index();
    p.run(&db.url, &["migrate", "--to", "1"]).ok();
    let r = p.run(&db.url, &["migrate"]);
    r.code(1).contains("error[require-concurrent-index]").contains("lint error");
    assert_eq!(db.sql("SELECT count(*) FROM stepwise.migrations"), "1");
    assert_eq!(db.sql("SELECT to_regclass('orders_status_idx') IS NULL"), "t");
    p.run(&db.url, &["plan"]).code(1).contains("require-concurrent-index");
    p.write(
        "2_index.sql",
        "-- stepwise:up\n-- stepwise:ignore require-concurrent-index orders is empty in every environment\nCREATE INDEX orders_status_idx ON orders (status);\n",
    );
    p.run(&db.url, &["migrate"]).ok();
    assert_eq!(db.sql("SELECT to_regclass('orders_status_idx') IS NOT NULL"), "t");
}

#[test]
fn migrate_does_not_run_postgres_rules_on_mariadb() {
    // Tested on MariaDB: a plain CREATE INDEX is what MySQL migrations write.
    let db = MyDb::new();
    let p = project_with_bad_index();
    p.run(&db.url, &["migrate"]).ok();
    assert_eq!(db.sql("SELECT COUNT(*) FROM stepwise_migrations"), "2");
}

#[test]
fn the_postgres_version_changes_verdicts() {
    let p = Project::new();
    p.write("1_orders.sql", TABLE);
    p.write("2_flag.sql", "ALTER TABLE orders ADD COLUMN priority bigint DEFAULT 0;\n");
    // PostgreSQL 11 stores a constant default without rewriting the table.
    p.run("", &["lint"]).ok();
    p.run("", &["lint", "--pg-version", "10"]).code(1).contains("error[add-column-volatile-default]");
    std::fs::write(p.root.join("stepwise.toml"), "[lint]\npg_version = 10\n").unwrap();
    p.run("", &["lint"]).code(1).contains("add-column-volatile-default");
    p.run("", &["lint", "--pg-version", "16"]).ok();
}

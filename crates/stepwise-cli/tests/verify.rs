//! `stepwise verify` and `--scratch`: work on a throwaway PostgreSQL started
//! from the local server binaries (initdb in /usr/lib/postgresql/*/bin, run
//! as the `postgres` OS user when the tests run as root), with no database
//! configured at all.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// `stepwise <args>` in the project directory with no database configured.
fn no_db(p: &Project, args: &[&str]) -> Run {
    let mut cmd: Command = p.cmd("", args);
    cmd.env_remove("DATABASE_URL");
    Run::from(cmd.output().expect("run stepwise"))
}

fn layout_dir(name: &str) -> String {
    path_str(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../stepwise-migrate/tests/layouts").join(name))
}

const TABLE: &str = "-- stepwise:up\nCREATE TABLE t (id int PRIMARY KEY, email text, status text);\n-- stepwise:down\nDROP TABLE t;\n";

/// Downs that restore the schema: every migration is reported ok, including
/// the full rollback to the empty schema. The sample layout has a
/// `CREATE INDEX CONCURRENTLY` outside a transaction.
#[test]
fn verify_passes_when_every_down_restores_the_schema() {
    let p = Project::new();
    let run = no_db(&p, &["verify", &layout_dir("native")]);
    run.ok().contains("verify: ok");
    for v in ["20240101120000 create_users", "20240102090000 add_users_email_index", "20240103150000 add_users_last_login_at"] {
        run.contains(&format!("ok       {v}: down restores the schema"));
    }
    run.contains("rolling every migration back restores the empty schema");

    // The configured directory when none is given.
    p.write("1_t.sql", TABLE);
    p.write("2_idx.sql", "-- stepwise:up\nCREATE INDEX t_email_idx ON t (email);\n-- stepwise:down\nDROP INDEX t_email_idx;\n");
    no_db(&p, &["verify"]).ok().contains("ok       2 idx").contains("verify: ok");
}

/// A Flyway directory with a repeatable migration (a view over a column a
/// later version adds): versions are checked one by one without it, and the
/// repeatable is applied once every version is.
#[test]
fn verify_handles_flyway_repeatables_after_the_versions() {
    let p = Project::new();
    let run = no_db(&p, &["verify", &layout_dir("flyway")]);
    // V1 and V1.1 have no undo (U) file: they cannot be rolled back, which is not a failure.
    run.ok().contains("no down  1 create users").contains("no down  1_1 add users email index");
    run.contains("ok       2 add users last login at").contains("verify: ok");

    // The repeatable is applied, not skipped: a broken one fails verify.
    for file in [
        "V1__create_users.sql",
        "V2__add_users_last_login_at.sql",
        "U2__add_users_last_login_at.sql",
        "indexes/V1_1__add_users_email_index.sql",
    ] {
        let text = std::fs::read_to_string(Path::new(&layout_dir("flyway")).join(file)).expect("read sample");
        p.write(file, &text);
    }
    p.write("R__active_users_view.sql", "CREATE OR REPLACE VIEW active_users AS SELECT id, no_such_column FROM users;\n");
    no_db(&p, &["verify", "migrations"]).code(1).contains("R__active_users_view").contains("no_such_column");
}

/// A down that forgets to drop an index: exit 1, the migration is named and
/// the index's line shown.
#[test]
fn verify_names_a_down_that_leaves_an_index_behind() {
    let p = Project::new();
    p.write("1_t.sql", TABLE);
    p.write(
        "2_email_index.sql",
        "-- stepwise:up\nCREATE INDEX t_email_idx ON t (email);\nALTER TABLE t ADD COLUMN note text;\n-- stepwise:down\nALTER TABLE t DROP COLUMN note;\n",
    );
    let run = no_db(&p, &["verify", "migrations"]);
    run.code(1)
        .contains("ok       1 t")
        .contains("FAIL     2 email_index: the down migration does not restore the schema")
        .contains("+ CREATE INDEX t_email_idx ON public.t USING btree (email);")
        .contains("verify: FAILED");
    assert!(!run.all().contains("note"), "the column the down did drop is not a difference:\n{}", run.all());

    // The same as JSON.
    let run = no_db(&p, &["verify", "migrations", "--format", "json"]);
    run.code(1);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("verify json");
    assert_eq!(v["ok"], false);
    let bad = &v["report"]["migrations"][1];
    assert_eq!(bad["version"], "2");
    assert_eq!(bad["outcome"], "differs");
    assert!(bad["diff"].to_string().contains("CREATE INDEX t_email_idx"), "{v}");
}

/// A down that forgets a column default: the table's differing line is shown.
#[test]
fn verify_names_a_down_that_leaves_a_default_behind() {
    let p = Project::new();
    p.write("1_t.sql", TABLE);
    p.write("2_default.sql", "-- stepwise:up\nALTER TABLE t ALTER COLUMN status SET DEFAULT 'new';\n-- stepwise:down\nSELECT 1;\n");
    no_db(&p, &["verify", "migrations"])
        .code(1)
        .contains("FAIL     2 default")
        .contains("-     status text\n")
        .contains("+     status text DEFAULT 'new'::text");
}

/// A migration without a down cannot be checked: it is reported as such,
/// and it is not a failure.
#[test]
fn verify_reports_a_migration_with_no_down_without_failing() {
    let p = Project::new();
    p.write("1_t.sql", TABLE);
    p.write("2_backfill.sql", "-- stepwise:up\nINSERT INTO t (id) VALUES (1);\n");
    p.write("3_idx.sql", "-- stepwise:up\nCREATE INDEX t_status_idx ON t (status);\n-- stepwise:down\nDROP INDEX t_status_idx;\n");
    let run = no_db(&p, &["verify", "migrations"]);
    run.ok().contains("ok       1 t").contains("no down  2 backfill").contains("ok       3 idx").contains("verify: ok");
    assert!(!run.all().contains("FAIL"), "{}", run.all());
}

/// The scratch server's port from "Scratch PostgreSQL at postgres://...:<port>/...".
fn scratch_port(output: &str) -> u16 {
    let url = output.lines().find_map(|l| l.strip_prefix("Scratch PostgreSQL at ")).expect("scratch URL in output");
    let hostport = url.split('@').nth(1).and_then(|r| r.split('/').next()).expect("host:port");
    hostport.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
}

fn refused(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).is_err()
}

/// `migrate --scratch` and `status --scratch` with nothing configured: each
/// starts a throwaway PostgreSQL, works on it, and stops it.
#[test]
fn migrate_and_status_work_on_a_scratch_database_with_nothing_configured() {
    let p = Project::new();
    p.write("1_t.sql", TABLE);
    p.write("2_idx.sql", "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY t_email_idx ON t (email);\n");

    // Without --scratch there is nothing to connect to.
    no_db(&p, &["migrate"]).code(2).contains("--scratch");

    let run = no_db(&p, &["migrate", "--scratch"]);
    run.ok().contains("Scratch PostgreSQL at postgres://").contains("Applied 2 migrations");
    let port = scratch_port(&run.all());
    assert!(wait_until(Duration::from_secs(10), || refused(port)), "the scratch server on port {port} is still running");

    let run = no_db(&p, &["status", "--scratch", "--format", "json"]);
    run.ok();
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("status json");
    assert!(v["server"].as_str().unwrap_or("").starts_with("PostgreSQL"), "{v}");
    // A fresh scratch database each time: both are pending there.
    let states: Vec<(&str, &str)> = v["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| (m["version"].as_str().unwrap_or(""), m["state"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(states, [("1", "pending"), ("2", "pending")]);
    let port = scratch_port(&run.all());
    assert!(wait_until(Duration::from_secs(10), || refused(port)), "the scratch server on port {port} is still running");
}

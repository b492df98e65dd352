//! `stepwise lint` on MySQL/MariaDB migrations, and the lint gate of
//! `migrate` and `plan` on MariaDB, end to end through the binary against
//! the MariaDB 10.11 on this machine.

mod common;
use common::my_session::MySession;
use common::*;

const INIT: &str = "-- stepwise:up\nCREATE TABLE orders (\n  id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,\n  total int NOT NULL,\n  note varchar(50)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n";

#[test]
fn migrate_on_mariadb_refuses_an_error_finding_and_runs_a_clean_migration() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("001_init.sql", INIT);
    p.run(&db.url, &["migrate"]).ok();
    p.write("002_widen.sql", "-- stepwise:up\nALTER TABLE orders MODIFY total bigint NOT NULL;\n");
    p.run(&db.url, &["migrate"])
        .code(1)
        .contains("mysql-blocks-writes")
        .contains("002_widen.sql:2:20")
        .contains("ALGORITHM=COPY, LOCK=SHARED on MariaDB 10.11");
    // Refused before anything ran: the column is still INT, 002 is not recorded.
    assert_eq!(db.sql("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders' AND COLUMN_NAME = 'total'"), "int");
    assert_eq!(db.sql("SELECT COUNT(*) FROM stepwise_migrations WHERE version = '002'"), "0");
    // plan says the same, and exits 1.
    p.run(&db.url, &["plan"]).code(1).contains("mysql-blocks-writes");
    // A clean one runs; a warning is summed up, not fatal.
    p.remove("002_widen.sql");
    p.write("002_status.sql", "-- stepwise:up\nALTER TABLE orders ADD COLUMN status varchar(20);\nCREATE INDEX idx_total ON orders (total) ALGORITHM=NOCOPY LOCK=NONE;\n");
    p.run(&db.url, &["migrate"]).ok().contains("mysql-require-algorithm 1");
    assert_eq!(
        db.sql("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'idx_total'"),
        "1"
    );
}

#[test]
fn each_engine_gets_only_its_own_rules() {
    // MySQL syntax that PostgreSQL's rules would refuse (or not parse) passes on MariaDB.
    let db = MyDb::new();
    let p = Project::new();
    p.write("001_init.sql", INIT);
    p.run(&db.url, &["migrate"]).ok();
    p.write("002_index.sql", "-- stepwise:up\nCREATE INDEX idx_note ON orders (note) ALGORITHM=NOCOPY LOCK=NONE;\n");
    let plan = p.run(&db.url, &["plan", "--format", "json"]);
    plan.ok();
    let json: serde_json::Value = serde_json::from_str(plan.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(json["lint"], serde_json::json!([]), "{json}");
    p.run(&db.url, &["migrate"]).ok();

    // On PostgreSQL, the MySQL rules never run: a type change gets the PostgreSQL finding only.
    let pg = PgDb::new();
    let p = Project::new();
    p.write("001_init.sql", "-- stepwise:up\nCREATE TABLE orders (id bigint PRIMARY KEY, total int NOT NULL);\n");
    p.run(&pg.url, &["migrate"]).ok();
    p.write(
        "002_widen.sql",
        "-- stepwise:up\nALTER TABLE orders ALTER COLUMN total TYPE bigint;\nALTER TABLE orders ADD COLUMN note text;\n",
    );
    let plan = p.run(&pg.url, &["plan", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(plan.stdout.lines().last().unwrap()).unwrap();
    let rules: Vec<&str> = json["lint"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"alter-column-type"), "{rules:?}");
    assert!(rules.iter().all(|r| !r.starts_with("mysql-")), "{rules:?}");
}

#[test]
fn lint_with_a_mariadb_database_judges_by_the_live_tables_and_their_size() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("001_init.sql", INIT);
    p.write(
        "002_small.sql",
        "-- stepwise:up\nCREATE TABLE tags (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(50)) ENGINE=InnoDB;\n",
    );
    p.run(&db.url, &["migrate"]).ok();
    // orders holds 5,000 rows, tags 10: the live catalog knows (after ANALYZE).
    db.sql("INSERT INTO orders (total) SELECT seq FROM seq_1_to_5000; INSERT INTO tags (name) SELECT CONCAT('t', seq) FROM seq_1_to_10; ANALYZE TABLE orders, tags");
    p.write("003_rebuild.sql", "-- stepwise:up\nALTER TABLE orders FORCE;\nALTER TABLE tags FORCE;\n");
    let run = p.run(&db.url, &["lint", "--database", &db.url, "--large-table-rows", "1000", "--format", "json"]);
    run.code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON report");
    let all = report["findings"].as_array().unwrap();
    let findings: Vec<&serde_json::Value> = all.iter().filter(|j| j["rule"] == "mysql-rebuilds-table").collect();
    assert_eq!(findings.len(), 2, "{}", run.all());
    assert_eq!(findings[0]["severity"], "error", "{}", findings[0]);
    assert!(findings[0]["message"].as_str().unwrap().contains("orders: about 5k rows"), "{}", findings[0]);
    assert_eq!(findings[1]["severity"], "warning", "{}", findings[1]);
    // The applied migrations are in the live schema: only 003 is linted.
    assert!(all.iter().all(|j| j["file"].as_str().unwrap().ends_with("003_rebuild.sql")), "{all:?}");
    // The server's version decides: MariaDB 10.11 on this machine.
    p.write("004_text.sql", "-- stepwise:up\nALTER TABLE tags MODIFY name varchar(60);\n");
    p.run(&db.url, &["lint", "--database", &db.url, "migrations/004_text.sql"]).ok().contains("ALGORITHM=INSTANT");
    // The model comes from the catalog: the column is utf8mb4 VARCHAR(50) (200 bytes), so 100 crosses
    // 255 bytes and copies; on 10 rows that is a warning.
    p.write("005_text.sql", "-- stepwise:up\nALTER TABLE tags MODIFY name varchar(100);\n");
    p.run(&db.url, &["lint", "--database", &db.url, "migrations/005_text.sql"])
        .ok()
        .contains("warning[mysql-blocks-writes]")
        .contains("crosses 255 bytes");
}

#[test]
fn the_dialect_comes_from_flags_urls_and_the_config_and_bad_values_are_refused() {
    let p = Project::new();
    p.write("001_init.sql", INIT);
    p.write("002_x.sql", "-- stepwise:up\nALTER TABLE orders ADD COLUMN x int AFTER id;\n");
    // Named outright, or from a mysql:// URL, or from stepwise.toml; the version decides.
    p.run("", &["lint", "--dialect", "mysql", "--server-version", "mysql-8.0.27"]).contains("ALGORITHM=INPLACE, LOCK=NONE");
    p.run("", &["lint", "--dialect", "mariadb"]).contains("ALGORITHM=INSTANT");
    p.run("mysql://root@127.0.0.1:3306/nothing", &["lint"]).contains("MariaDB 10.11 would run");
    std::fs::write(p.root.join("stepwise.toml"), "dialect = \"mysql\"\n[lint]\nserver_version = \"mysql-8.0.35\"\n").unwrap();
    p.run("", &["lint"]).contains("MySQL 8.0.35 would run");
    p.run("", &["lint", "--dialect", "oracle"]).code(2).contains("expected postgres, mysql or mariadb");
    p.run("", &["lint", "--dialect", "mysql", "--server-version", "mysql-8"]).code(2).contains("--server-version");
    std::fs::write(p.root.join("stepwise.toml"), "dialect = \"db2\"\n").unwrap();
    p.run("", &["lint"]).code(2).contains("dialect `db2`");
    std::fs::remove_file(p.root.join("stepwise.toml")).unwrap();
    // --list-rules follows the dialect.
    p.run("", &["lint", "--list-rules", "--dialect", "mariadb"]).ok().contains("mysql-blocks-writes");
    let pg = p.run("", &["lint", "--list-rules"]);
    assert!(!pg.all().contains("mysql-"), "{}", pg.all());
}

#[test]
fn a_statement_the_front_end_cannot_read_is_an_error_at_its_line_and_column() {
    let p = Project::new();
    p.write(
        "001_bad.sql",
        "-- stepwise:up\nCREATE TABLE a (id int PRIMARY KEY);\nALTER TABLE a ADD COLUMN b varchar(10) DEFAULT 'unterminated;\n",
    );
    p.run("", &["lint", "--dialect", "mariadb"]).code(2).contains("001_bad.sql:3:");
}

#[test]
fn migrate_names_an_old_transaction_before_ddl() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("001_init.sql", &format!("{INIT}CREATE TABLE other (id int PRIMARY KEY) ENGINE=InnoDB;\n"));
    p.run(&db.url, &["migrate"]).ok();
    // A transaction that read the table: named before the DDL queues behind it
    // (with or without metadata-lock instrumentation; `ddl_guard.rs` has the narrowing).
    let mut holder = MySession::open(&db);
    holder.query("BEGIN; SELECT COUNT(*) FROM orders;");
    let thread = holder.query("SELECT CONNECTION_ID();");
    std::thread::sleep(std::time::Duration::from_millis(2200));
    p.write("002_col.sql", "-- stepwise:up\nALTER TABLE orders ADD COLUMN paid_at datetime, ALGORITHM=INSTANT;\n");
    p.run(&db.url, &["migrate", "--lock-timeout", "1s", "--lock-retries", "0"])
        .code(1)
        .contains("transaction open for")
        .contains(&format!("thread {thread}"))
        .contains("idle in transaction");
    holder.query("ROLLBACK;");
    p.run(&db.url, &["migrate"]).ok();
}

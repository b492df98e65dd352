//! The safe deploy on the real servers: a backup before, a health check
//! after, the automatic rollback of exactly this run's migrations when the
//! check fails (the schema back to what `stepwise dump` said before, and the
//! backup restoring to the same), a refusal where a down cannot give the data
//! back, no migration without a backup; normalized dumps and `diff`.

mod common;

use common::*;

const BASE: &str = "-- stepwise:up\nCREATE TABLE items (id int PRIMARY KEY, a int NOT NULL);\nINSERT INTO items VALUES (1, 1), (2, 2);\n-- stepwise:down\nDROP TABLE items;\n";
const ADD_NOTE: &str =
    "-- stepwise:up\nALTER TABLE items ADD COLUMN note varchar(20);\n-- stepwise:down\nALTER TABLE items DROP COLUMN note;\n";
const INDEX_A: &str =
    "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY items_a ON items (a);\n-- stepwise:down\nDROP INDEX CONCURRENTLY items_a;\n";
const INDEX_A_MY: &str = "-- stepwise:up\nCREATE INDEX items_a ON items (a);\n-- stepwise:down\nDROP INDEX items_a ON items;\n";

fn dump(p: &Project, url: &str) -> String {
    let r = p.run(url, &["dump"]);
    r.ok();
    r.stdout
}

/// A health check that fails while the new column exists (an application that cannot take it).
fn pg_check(url: &str) -> String {
    format!("test \"$(psql '{url}' -XAtc \"SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'\")\" = 0")
}

#[test]
fn postgres_backup_then_failing_check_rolls_back_this_run_and_the_backup_restores_the_same_schema() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_base.sql", BASE);
    bounded(&p, &db.url, &["migrate"]).ok();
    let before = dump(&p, &db.url);
    p.write("2_add_note.sql", ADD_NOTE).write("3_index_a.sql", INDEX_A);
    let dir = p.root.join("backups");
    let check = pg_check(&db.url);
    let r = bounded(&p, &db.url, &["migrate", "--backup", dir.to_str().unwrap(), "--health-check", &check, "--health-retries", "0"]);
    eprintln!("{}", r.all());
    r.code(3).contains("backup: ").contains("checked readable; to restore it: pg_restore").contains("health check failed");
    r.contains("rolled back the 2 migrations this run applied").contains("the check passes after the rollback");
    assert_eq!(dump(&p, &db.url), before, "the schema and history are as before the run");
    // The backup restores to the same dump in a fresh database.
    let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    assert!(file.to_string_lossy().contains("-before-2..3.dump"), "{}", file.display());
    let fresh = PgDb::new();
    let out = std::process::Command::new("pg_restore").args(["--no-owner", "-d", &fresh.url]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(dump(&p, &fresh.url), before);
    assert_eq!(fresh.sql("SELECT count(*) FROM items"), "2");
    // A passing check keeps them (exit 0).
    bounded(&p, &db.url, &["migrate", "--health-check", "true"]).ok().contains("health check passed").contains("Applied 2 migrations");
}

#[test]
fn postgres_a_run_that_dropped_a_column_is_not_rolled_back_and_the_backup_is_named() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_base.sql", BASE);
    bounded(&p, &db.url, &["migrate"]).ok();
    p.write(
        "2_drop_a.sql",
        "-- stepwise:up\n-- stepwise:ignore drop-column the code stopped reading it\nALTER TABLE items DROP COLUMN a;\n-- stepwise:down\nALTER TABLE items ADD COLUMN a int;\n",
    );
    let dir = p.root.join("backups");
    let r = bounded(&p, &db.url, &["migrate", "--backup", dir.to_str().unwrap(), "--health-check", "false", "--health-retries", "0"]);
    eprintln!("{}", r.all());
    r.code(5).contains("not rolled back").contains("destroys data (DROP COLUMN at line 3)").contains("restore the backup: pg_restore");
    assert_eq!(db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'a'"), "0");
}

#[test]
fn a_failing_backup_migrates_nothing() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_base.sql", BASE);
    let r = bounded(&p, &db.url, &["migrate", "--backup-command", "echo no space left >&2; exit 1"]);
    r.code(1).contains("nothing was migrated").contains("no space left");
    assert_eq!(db.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'items'"), "0");
    // A directory that cannot be made: the same.
    let r = bounded(&p, &db.url, &["migrate", "--backup", "/proc/stepwise-cannot-write-here"]);
    r.code(1).contains("the backup failed, so nothing was migrated");
    assert_eq!(db.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'items'"), "0");
}

#[test]
fn postgres_dumps_are_identical_for_the_same_migrations_and_diff_finds_a_hand_made_column() {
    let (a, b) = (PgDb::new(), PgDb::new());
    let p = Project::new();
    p.write("1_base.sql", BASE).write("2_add_note.sql", ADD_NOTE).write("3_index_a.sql", INDEX_A);
    bounded(&p, &a.url, &["migrate"]).ok();
    bounded(&p, &b.url, &["migrate"]).ok();
    let (da, da2, db_) = (dump(&p, &a.url), dump(&p, &a.url), dump(&p, &b.url));
    assert_eq!(da, da2, "the same database dumped twice");
    assert_eq!(da, db_, "two databases with the same migrations");
    assert!(da.contains("-- applied 3 index_a") && da.contains("CREATE INDEX items_a ON public.items"), "{da}");
    p.run(&a.url, &["diff", &a.url, &b.url]).ok().contains("same schema and migrations");
    b.sql("ALTER TABLE items ADD COLUMN by_hand text");
    let file = p.root.join("a.sql");
    p.run(&a.url, &["dump", "--output", file.to_str().unwrap()]).ok();
    let r = p.run(&a.url, &["diff", file.to_str().unwrap(), &b.url]);
    eprintln!("{}", r.all());
    r.code(1).contains("+     by_hand text");
    p.run(&a.url, &["diff", "no-such-dump.sql", &b.url]).code(2).contains("no-such-dump.sql: not a database URL");
}

fn my_check(db: &MyDb) -> String {
    format!(
        "test \"$(mariadb -h 127.0.0.1 -u root -N -B {} -e \"SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'note'\")\" = 0",
        db.name
    )
}

#[test]
fn mariadb_backup_then_failing_check_rolls_back_and_the_backup_restores_the_same_schema() {
    let db = MyDb::new();
    let p = Project::new();
    p.write("1_base.sql", BASE);
    bounded(&p, &db.url, &["migrate"]).ok();
    let before = dump(&p, &db.url);
    assert!(!before.contains("AUTO_INCREMENT="), "{before}");
    p.write("2_add_note.sql", ADD_NOTE).write("3_index_a.sql", INDEX_A_MY);
    let dir = p.root.join("backups");
    let r =
        bounded(&p, &db.url, &["migrate", "--backup", dir.to_str().unwrap(), "--health-check", &my_check(&db), "--health-retries", "0"]);
    eprintln!("{}", r.all());
    r.code(3).contains("checked readable; to restore it: mariadb").contains("the check passes after the rollback");
    assert_eq!(dump(&p, &db.url), before);
    let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let fresh = MyDb::new();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("mariadb -h 127.0.0.1 -u root {} < '{}'", fresh.name, file.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(dump(&p, &fresh.url), before);
}

#[test]
fn mariadb_dumps_are_identical_without_counters_and_diff_finds_a_hand_made_column() {
    let (a, b) = (MyDb::new(), MyDb::new());
    let p = Project::new();
    p.write("1_base.sql", "-- stepwise:up\nCREATE TABLE items (id int AUTO_INCREMENT PRIMARY KEY, a int NOT NULL);\n");
    bounded(&p, &a.url, &["migrate"]).ok();
    bounded(&p, &b.url, &["migrate"]).ok();
    // Different AUTO_INCREMENT counters: data, not schema.
    a.sql("INSERT INTO items (a) VALUES (1), (2), (3)");
    let (da, db_) = (dump(&p, &a.url), dump(&p, &b.url));
    assert_eq!(da, db_);
    assert!(!da.contains("AUTO_INCREMENT=") && !da.contains("stepwise_migrations"), "{da}");
    b.sql("ALTER TABLE items ADD COLUMN by_hand text");
    let r = p.run(&a.url, &["diff", &a.url, &b.url]);
    eprintln!("{}", r.all());
    r.code(1).contains("+   `by_hand` text");
}

#[test]
fn postgres_dump_with_rails_appends_schema_migrations_as_structure_sql_has_them() {
    let db = PgDb::new();
    let p = Project::new();
    db.sql("CREATE TABLE schema_migrations (version varchar PRIMARY KEY)");
    p.write("20251001090000_base.sql", BASE).write("20251002090000_add_note.sql", ADD_NOTE);
    bounded(&p, &db.url, &["--rails", "migrate"]).ok();
    let r = p.run(&db.url, &["--rails", "dump"]);
    r.ok().contains("INSERT INTO \"schema_migrations\" (version) VALUES\n('20251002090000'),\n('20251001090000');\n");
    assert!(!p.run(&db.url, &["dump"]).ok().stdout.contains("INSERT INTO"), "only with --rails");
}

/// `[hooks]` run around the migrations with the database URL and the
/// pending versions in their environment; a failing `before_migrate`
/// migrates nothing, a failing `after_migrate` says the migrations stay.
#[test]
fn hooks_run_before_and_after_with_the_url_in_their_environment() {
    let db = PgDb::new();
    let p = Project::new();
    let log = p.root.join("hooks.log");
    let toml = |before: &str| {
        format!(
            "[hooks]\nbefore_migrate = \"{before}\"\nafter_migrate = \"psql \\\"$DATABASE_URL\\\" -XAtc 'SELECT count(*) FROM items' >> {log}\"\n",
            log = log.display()
        )
    };
    std::fs::write(p.root.join("stepwise.toml"), toml("exit 7")).unwrap();
    p.write("1_base.sql", BASE);
    bounded(&p, &db.url, &["migrate"]).code(1).contains("the before_migrate hook `exit 7` failed").contains("nothing was migrated");
    assert_eq!(db.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'items'"), "0");
    let before = format!("echo before $STEPWISE_PENDING $(psql \\\"$DATABASE_URL\\\" -XAtc 'SELECT 1') >> {}", log.display());
    std::fs::write(p.root.join("stepwise.toml"), toml(&before)).unwrap();
    p.write("2_add_note.sql", ADD_NOTE);
    bounded(&p, &db.url, &["migrate"]).ok().contains("Applied 2 migrations");
    // Before: the pending versions, and the URL reached the database; after: the table the migrations made.
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "before 1 2 1\n2\n");
    // A failing after hook: the migrations stay, and the run says so.
    std::fs::write(p.root.join("stepwise.toml"), "[hooks]\nafter_migrate = \"exit 3\"\n").unwrap();
    p.write("3_index_a.sql", INDEX_A);
    bounded(&p, &db.url, &["migrate"]).code(1).contains("the after_migrate hook `exit 3` failed").contains("stay applied");
    assert_eq!(db.sql("SELECT count(*) FROM pg_indexes WHERE indexname = 'items_a'"), "1");
}

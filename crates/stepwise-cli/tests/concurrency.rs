//! Concurrency, tested for real against the PostgreSQL (and MariaDB) on this
//! machine: runners racing for the migration lock, a session holding a table
//! lock in an open transaction, and how long a reader waits meanwhile.
//! Every test checks the database itself: nothing lost, nothing applied twice.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// Twenty migrations, each of which also writes its version into `log`, so a
/// double apply would show as a duplicate row. Migration 7 takes a while;
/// migration 12 runs outside a transaction (CREATE INDEX CONCURRENTLY).
fn twenty_migrations(p: &Project) {
    for i in 1..=20 {
        let text = match i {
            1 => "-- stepwise:up\nCREATE TABLE log (id bigserial PRIMARY KEY, version int NOT NULL, backend int NOT NULL DEFAULT pg_backend_pid());\n\
                  INSERT INTO log (version) VALUES (1);\n-- stepwise:down\nDROP TABLE log;\n"
                .to_string(),
            7 => "-- stepwise:up\nSELECT pg_sleep(0.5);\nINSERT INTO log (version) VALUES (7);\n".to_string(),
            12 => "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY log_version_idx ON log (version);\n\
                   INSERT INTO log (version) VALUES (12);\n"
                .to_string(),
            _ => format!("-- stepwise:up\nCREATE TABLE t{i} (id int);\nINSERT INTO log (version) VALUES ({i});\n-- stepwise:down\nDROP TABLE t{i};\n"),
        };
        p.write(&format!("{i:03}_m{i}.sql"), &text);
    }
}

/// The database holds exactly the twenty migrations, each applied once, all
/// by one runner's session.
#[track_caller]
fn assert_twenty_applied_once(db: &PgDb) {
    assert_eq!(db.sql("SELECT count(*), count(*) FILTER (WHERE status = 'applied') FROM stepwise.migrations"), "20|20");
    assert_eq!(db.sql("SELECT count(*), count(DISTINCT version), min(version), max(version) FROM log"), "20|20|1|20");
    assert_eq!(db.sql("SELECT count(DISTINCT backend) FROM log"), "1", "one runner applied everything");
    assert_eq!(db.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'log_version_idx'::regclass"), "t");
    assert_eq!(db.sql("SELECT count(*) FROM pg_indexes WHERE tablename = 'log'"), "2", "the primary key and log_version_idx, nothing else");
    for i in [2, 11, 20] {
        assert_eq!(db.sql(&format!("SELECT to_regclass('t{i}') IS NOT NULL")), "t");
    }
}

/// The N of a run's "Applied N migrations" line, if it has one.
fn applied_line(run: &Run) -> Option<usize> {
    run.stdout.lines().find_map(|l| l.strip_prefix("Applied ").and_then(|rest| rest.split_whitespace().next()).and_then(|n| n.parse().ok()))
}

/// How many migrations a successful run says it applied ("Applied N migrations" / "Nothing to apply").
fn applied_count(run: &Run) -> usize {
    if run.stdout.contains("Nothing to apply") {
        return 0;
    }
    applied_line(run).unwrap_or_else(|| panic!("no result line in:\n{}", run.all()))
}

#[test]
fn eight_runners_at_once_apply_every_migration_exactly_once() {
    let db = PgDb::new();
    let p = Project::new();
    twenty_migrations(&p);
    // Spawn all eight before waiting for any.
    let runners: Vec<Bg> = (0..8).map(|_| spawn_bg(p.cmd(&db.url, &["migrate"]))).collect();
    let runs: Vec<Run> = runners.into_iter().map(|r| r.finish(Duration::from_secs(120))).collect();
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r.code, 0, "runner {i} failed:\n{}", r.all());
    }
    let counts: Vec<usize> = runs.iter().map(applied_count).collect();
    assert_eq!(counts.iter().filter(|&&n| n == 20).count(), 1, "exactly one runner applies everything: {counts:?}");
    assert_eq!(counts.iter().filter(|&&n| n == 0).count(), 7, "the others find nothing to apply: {counts:?}");
    let waited = runs.iter().filter(|r| r.all().contains("Waiting for the migration lock")).count();
    eprintln!("8 runners: {waited} said they waited for the migration lock");
    assert!(waited >= 1, "at least one runner waited for the lock");
    assert_twenty_applied_once(&db);
    // And once more, after the race: nothing left to do.
    bounded(&p, &db.url, &["migrate"]).ok().contains("Nothing to apply");
}

#[test]
fn eight_runners_with_a_short_lock_wait_give_up_with_a_clear_message() {
    let db = PgDb::new();
    let p = Project::new();
    twenty_migrations(&p);
    let runners: Vec<Bg> = (0..8).map(|_| spawn_bg(p.cmd(&db.url, &["migrate", "--lock-wait", "200ms"]))).collect();
    let runs: Vec<Run> = runners.into_iter().map(|r| r.finish(Duration::from_secs(120))).collect();
    let mut gave_up = 0;
    let mut applied = 0;
    for (i, r) in runs.iter().enumerate() {
        match r.code {
            0 => applied += applied_count(r),
            1 => {
                assert!(r.stderr.contains("another stepwise holds the migration lock"), "runner {i}: unclear message:\n{}", r.all());
                assert!(r.stderr.contains("(pid "), "runner {i}: the message names the holder:\n{}", r.all());
                assert!(r.stderr.contains("raise --lock-wait"), "runner {i}: the message says what to do:\n{}", r.all());
                assert_eq!(applied_line(r), None, "runner {i} gave up but applied something:\n{}", r.all());
                gave_up += 1;
            }
            other => panic!("runner {i} exited {other}:\n{}", r.all()),
        }
    }
    eprintln!("8 runners with --lock-wait 200ms: {gave_up} gave up, {} finished", 8 - gave_up);
    assert_eq!(applied, 20, "the twenty migrations were applied once in all");
    assert!(gave_up >= 1, "with a 0.5 s migration in the set, some runner must have given up");
    assert_twenty_applied_once(&db);
}

#[test]
fn lock_wait_gives_up_naming_the_runner_that_holds_the_lock() {
    let db = PgDb::new();
    let p = Project::new();
    p.write("1_slow.sql", "-- stepwise:up\nCREATE TABLE log (version int);\nSELECT pg_sleep(5);\nINSERT INTO log VALUES (1);\n");
    let mut monitor = PsqlSession::open(&db.url, "test monitor");
    let holder = spawn_bg(p.cmd(&db.url, &["migrate"]));
    // The holder's session, once it has the advisory lock and is sleeping.
    let mut holder_pid = String::new();
    assert!(
        wait_until(Duration::from_secs(30), || {
            holder_pid = monitor.query(
                "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
                  WHERE a.datname = current_database() AND a.query LIKE 'SELECT pg_sleep(5)%';",
            );
            !holder_pid.is_empty()
        }),
        "the first runner never got to its slow statement"
    );
    let started = Instant::now();
    let r = bounded(&p, &db.url, &["migrate", "--lock-wait", "1s"]);
    let waited = started.elapsed();
    r.code(1)
        .contains("another stepwise holds the migration lock")
        .contains(&format!("pid {holder_pid} (stepwise"))
        .contains("pg_sleep(5)");
    assert!(waited >= Duration::from_millis(900), "gave up after {waited:?}, before the 1s lock wait");
    assert!(waited < Duration::from_secs(4), "gave up after {waited:?}, far beyond the 1s lock wait");
    assert_eq!(db.sql("SELECT count(*) FROM stepwise.migrations"), "0", "the loser recorded nothing");
    holder.finish(Duration::from_secs(60)).ok().contains("Applied 1 migration");
    assert_eq!(db.sql("SELECT count(*) FROM log"), "1");
    assert_eq!(db.sql("SELECT string_agg(status, ',') FROM stepwise.migrations"), "applied");
}

/// A table `t` with rows, applied; then a pending migration that needs an
/// ACCESS EXCLUSIVE lock on it.
fn table_and_alter(db: &PgDb, p: &Project, alter_extra: &str) {
    p.write("1_t.sql", "-- stepwise:up\nCREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t SELECT generate_series(1, 1000);\n");
    bounded(p, &db.url, &["migrate"]).ok();
    p.write(
        "2_add_c.sql",
        &format!("-- stepwise:up\nALTER TABLE t ADD COLUMN c int;\n{alter_extra}-- stepwise:down\nALTER TABLE t DROP COLUMN c;\n"),
    );
}

/// A psql session in an open transaction that has read `t`: it holds ACCESS
/// SHARE on `t`, enough to block `ALTER TABLE t`.
fn blocker(db: &PgDb) -> PsqlSession {
    let mut b = PsqlSession::open(&db.url, "test blocker");
    b.query("BEGIN;");
    assert_eq!(b.query("SELECT count(*) FROM t;"), "1000");
    b
}

fn column_c_exists(db: &PgDb) -> bool {
    db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'c'") == "1"
}

#[test]
fn a_blocked_migration_times_out_retries_names_the_blocker_and_succeeds_once_released() {
    let db = PgDb::new();
    let p = Project::new();
    table_and_alter(&db, &p, "");
    let mut b = blocker(&db);
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate", "--lock-timeout", "200ms"]));
    assert!(run.wait_for("lock timeout", 2, Duration::from_secs(30)), "no retries reported:\n{}", run.output());
    // Hold on for about a second in all, then commit.
    std::thread::sleep(Duration::from_secs(1).saturating_sub(run.elapsed()));
    assert!(!column_c_exists(&db), "the ALTER cannot have run while the blocker holds its lock");
    b.query("COMMIT;");
    let released = run.elapsed();
    let r = run.finish(Duration::from_secs(60));
    eprintln!("released the blocker after {released:?}; output:\n{}", r.all());
    r.ok().contains("Applied 1 migration");
    r.contains("lock timeout").contains("canceling statement due to lock timeout").contains("retrying in");
    r.contains(&format!("blocked by pid {} (user postgres, application test blocker, idle in transaction", b.pid));
    r.contains("SELECT count(*) FROM t;");
    assert!(column_c_exists(&db));
    assert_eq!(db.sql("SELECT status, statements_applied FROM stepwise.migrations WHERE version = '2'"), "applied|1");
    assert_eq!(db.sql("SELECT count(*) FROM t"), "1000");
}

#[test]
fn a_blocked_migration_gives_up_after_its_retries_and_records_the_failure() {
    let db = PgDb::new();
    let p = Project::new();
    table_and_alter(&db, &p, "");
    let b = blocker(&db);
    let r = bounded(&p, &db.url, &["migrate", "--lock-timeout", "200ms", "--lock-retries", "2"]);
    eprintln!("{}", r.all());
    r.code(1)
        .contains("migration 2 (add_c) failed")
        .contains("canceling statement due to lock timeout")
        .contains("gave up waiting for a lock");
    r.contains("(after 3 attempts)").contains("attempt 2/3 failed");
    r.contains(&format!("blocked by pid {} (user postgres, application test blocker", b.pid));
    assert!(!r.all().contains("attempt 3/3 failed, retrying"), "no fourth attempt:\n{}", r.all());
    let row = db.sql("SELECT status, statements_applied, error FROM stepwise.migrations WHERE version = '2'");
    assert!(row.starts_with("failed|0|"), "tracking row: {row}");
    assert!(row.contains("lock timeout"), "the recorded error names the lock timeout: {row}");
    assert!(!column_c_exists(&db));
    p.run(&db.url, &["status"]).contains("failed");
    // Once the blocker is gone the same migration goes through.
    drop(b);
    bounded(&p, &db.url, &["migrate", "--lock-timeout", "200ms"]).ok().contains("Applied 1 migration");
    assert!(column_c_exists(&db));
    assert_eq!(db.sql("SELECT status, error IS NULL FROM stepwise.migrations WHERE version = '2'"), "applied|t");
}

/// Outside a transaction each statement retries on its own; when the retries
/// run out the row keeps what ran, and the next run continues after it.
#[test]
fn a_blocked_statement_outside_a_transaction_fails_keeps_its_progress_and_resumes() {
    let db = PgDb::new();
    let p = Project::new();
    table_and_alter(&db, &p, "");
    p.remove("2_add_c.sql");
    p.write(
        "2_add_c.sql",
        "-- stepwise:no-transaction\n-- stepwise:up\nCREATE TABLE log (step text);\nINSERT INTO log VALUES ('one');\nALTER TABLE t ADD COLUMN c int;\n",
    );
    let b = blocker(&db);
    let r = bounded(&p, &db.url, &["migrate", "--lock-timeout", "200ms", "--lock-retries", "1"]);
    eprintln!("{}", r.all());
    r.code(1).contains("lock timeout statement 3").contains("(after 2 attempts)");
    r.contains(&format!("blocked by pid {} (user postgres, application test blocker", b.pid));
    assert_eq!(db.sql("SELECT status, statements_applied, in_flight FROM stepwise.migrations WHERE version = '2'"), "failed|2|2");
    drop(b);
    let r = bounded(&p, &db.url, &["migrate", "--lock-timeout", "200ms"]);
    eprintln!("{}", r.all());
    r.ok().contains("resuming at statement 3 of 3");
    assert_eq!(db.sql("SELECT string_agg(step, ',') FROM log"), "one", "nothing ran twice");
    assert!(column_c_exists(&db));
    assert_eq!(db.sql("SELECT status, statements_applied, in_flight IS NULL FROM stepwise.migrations WHERE version = '2'"), "applied|3|t");
}

/// A lock_timeout shorter than the blocker probe's usual first look still
/// names the blocker on every attempt.
#[test]
fn a_very_short_lock_timeout_still_names_the_blocker() {
    let db = PgDb::new();
    let p = Project::new();
    table_and_alter(&db, &p, "");
    let b = blocker(&db);
    let r = bounded(&p, &db.url, &["migrate", "--lock-timeout", "50ms", "--lock-retries", "3"]);
    eprintln!("{}", r.all());
    r.code(1).contains("(after 4 attempts)");
    let named = format!("blocked by pid {} (user postgres, application test blocker", b.pid);
    let times = r.all().matches(&named).count();
    // Three retry reports and the final error; allow misses on a busy machine
    // (before the fix, a lock_timeout under 150 ms never named anyone).
    assert!(times >= 2, "the blocker was named {times} times, expected 4:\n{}", r.all());
    assert!(!column_c_exists(&db));
}

/// While stepwise's ALTER waits behind a blocker, a reader of the same table
/// queues behind the ALTER; lock_timeout bounds that wait. Once the blocker
/// commits, a reader waits at most for as long as stepwise holds its lock.
#[test]
fn a_reader_waits_at_most_lock_timeout_plus_the_time_stepwise_holds_its_lock() {
    const LOCK_TIMEOUT: Duration = Duration::from_millis(200);
    let db = PgDb::new();
    let p = Project::new();
    // The migration holds its lock a measurable while after the ALTER.
    table_and_alter(&db, &p, "SELECT pg_sleep(0.3);\n");
    let mut b = blocker(&db);
    let mut monitor = PsqlSession::open(&db.url, "test monitor");
    let mut reader = PsqlSession::open(&db.url, "test reader");
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate", "--lock-timeout", "200ms", "--lock-retries", "20"]));
    let alter_queued = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                         WHERE a.application_name = 'stepwise' AND l.relation = 't'::regclass AND NOT l.granted;";
    // Readers that start while the ALTER is queued (during the retries).
    let mut during_retries = Vec::new();
    while during_retries.len() < 3 {
        assert!(
            wait_until(Duration::from_secs(30), || monitor.query(alter_queued) == "1" || run.exited()),
            "the ALTER never queued for its lock:\n{}",
            run.output()
        );
        assert!(!run.exited(), "migrate ended while the blocker held its lock:\n{}", run.output());
        let t = Instant::now();
        let n = reader.query_within("SELECT count(*) FROM t;", Duration::from_secs(20));
        let waited = t.elapsed();
        assert_eq!(n.as_deref(), Some("1000"), "the reader was stuck behind the queued ALTER for {waited:?}:\n{}", run.output());
        during_retries.push(waited);
        // Next time, a fresh attempt: wait until this one has timed out.
        wait_until(Duration::from_secs(10), || monitor.query(alter_queued) == "0" || run.exited());
    }
    assert!(run.output().contains("lock timeout"), "the readers started during the retries:\n{}", run.output());
    b.query("COMMIT;");
    // A reader that starts while stepwise holds ACCESS EXCLUSIVE on t.
    let alter_holds = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                        WHERE a.application_name = 'stepwise' AND l.relation = 't'::regclass
                          AND l.mode = 'AccessExclusiveLock' AND l.granted;";
    let mut during_hold = None;
    if wait_until(Duration::from_secs(30), || monitor.query(alter_holds) == "1" || run.exited()) && !run.exited() {
        let t = Instant::now();
        let n = reader.query_within("SELECT count(*) FROM t;", Duration::from_secs(20));
        let waited = t.elapsed();
        assert_eq!(n.as_deref(), Some("1000"), "the reader behind stepwise's lock never finished");
        during_hold = Some(waited);
    }
    let r = run.finish(Duration::from_secs(60));
    r.ok().contains("Applied 1 migration");
    assert!(column_c_exists(&db));
    // How long stepwise held its lock: the successful attempt, from BEGIN to
    // the tracking write just before COMMIT (an upper bound: it includes the
    // attempt's own wait for the lock, itself at most lock_timeout).
    let held =
        Duration::from_millis(db.sql("SELECT duration_ms FROM stepwise.migrations WHERE version = '2'").parse().expect("duration_ms"));
    let bound = LOCK_TIMEOUT + held + Duration::from_millis(1500);
    let worst = during_retries.iter().chain(during_hold.iter()).max().copied().unwrap_or_default();
    eprintln!(
        "reader wait bound: lock_timeout {LOCK_TIMEOUT:?}; stepwise held its lock at most {held:?} (successful attempt); \
         readers started during the retries waited {during_retries:?}; a reader started while stepwise held the lock waited {during_hold:?}; \
         bound asserted: {bound:?}"
    );
    assert!(held >= Duration::from_millis(300), "the migration sleeps 0.3 s under its lock, yet took {held:?}");
    for w in &during_retries {
        assert!(*w < LOCK_TIMEOUT + Duration::from_millis(1500), "a reader during the retries waited {w:?}");
    }
    assert!(worst < bound, "a reader waited {worst:?}, more than lock_timeout + held + slack = {bound:?}");
}

/// MariaDB: the same race, with GET_LOCK (tested on MariaDB; MySQL 8 is not available here).
#[test]
fn eight_runners_at_once_on_mariadb_apply_every_migration_exactly_once() {
    let db = MyDb::new();
    let p = Project::new();
    for i in 1..=20 {
        let text = match i {
            1 => "-- stepwise:up\nCREATE TABLE log (id bigint AUTO_INCREMENT PRIMARY KEY, version int NOT NULL, conn bigint NOT NULL);\n\
                  INSERT INTO log (version, conn) VALUES (1, CONNECTION_ID());\n"
                .to_string(),
            7 => "-- stepwise:up\nSELECT SLEEP(0.5);\nINSERT INTO log (version, conn) VALUES (7, CONNECTION_ID());\n".to_string(),
            _ => format!("-- stepwise:up\nCREATE TABLE t{i} (id int);\nINSERT INTO log (version, conn) VALUES ({i}, CONNECTION_ID());\n"),
        };
        p.write(&format!("{i:03}_m{i}.sql"), &text);
    }
    let runners: Vec<Bg> = (0..8).map(|_| spawn_bg(p.cmd(&db.url, &["migrate"]))).collect();
    let runs: Vec<Run> = runners.into_iter().map(|r| r.finish(Duration::from_secs(120))).collect();
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r.code, 0, "runner {i} failed:\n{}", r.all());
    }
    let counts: Vec<usize> = runs.iter().map(applied_count).collect();
    assert_eq!(counts.iter().filter(|&&n| n == 20).count(), 1, "exactly one runner applies everything: {counts:?}");
    assert_eq!(counts.iter().filter(|&&n| n == 0).count(), 7, "the others find nothing to apply: {counts:?}");
    assert_eq!(db.sql("SELECT count(*), sum(status = 'applied') FROM stepwise_migrations"), "20\t20");
    assert_eq!(db.sql("SELECT count(*), count(DISTINCT version), count(DISTINCT conn) FROM log"), "20\t20\t1");
}

//! `--max-load` and `--critical-load` on the real servers: while other
//! sessions keep the server busy, osc and backfill wait between batches and
//! say so; at the critical load the job pauses itself, and `resume` finishes
//! it once the load is gone, with every row where it belongs. PostgreSQL
//! counts its active sessions other than stepwise's, MariaDB its
//! Threads_running. The tests take turns: each one's sessions are load for
//! the others.

mod common;

use common::osc::{assert_equal_to_control, leftovers, osc, setup};
use common::*;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `n` psql sessions each running `pg_sleep(secs)`: that many more active sessions.
fn pg_sleepers(db: &PgDb, n: usize, secs: u32) -> Vec<Bg> {
    let v: Vec<Bg> = (0..n)
        .map(|_| {
            let mut c = Command::new("psql");
            c.args([db.url.as_str(), "-X", "-q", "-c", &format!("SELECT pg_sleep({secs})")]);
            spawn_bg(c)
        })
        .collect();
    let active = || {
        db.sql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'")
            .parse::<usize>()
            .unwrap_or(0)
    };
    assert!(wait_until(Duration::from_secs(10), || active() >= n), "the sleepers did not start");
    v
}

fn done(sessions: Vec<Bg>) {
    for s in sessions {
        s.finish(Duration::from_secs(30));
    }
}

#[test]
fn postgres_osc_waits_while_the_server_is_busy_and_pauses_itself_at_the_critical_load() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 20_000);
    // Above --max-load: the copy waits, says so, and goes on once the load is gone.
    let load = pg_sleepers(&db, 8, 3);
    let run =
        osc(&p, &db, &["osc", "orders", "--alter", "ADD COLUMN z int", "--max-load", "5", "--critical-load", "0", "--batch-rows", "5000"]);
    run.ok().contains("waiting for the server's load").contains("active sessions, --max-load 5").contains("swapped: ");
    done(load);
    osc(&p, &db, &["osc", "finish"]).ok();
    assert_equal_to_control(&db);

    // At --critical-load: the job pauses itself before copying on; resume continues it.
    let load = pg_sleepers(&db, 8, 3);
    let run = osc(&p, &db, &["osc", "orders", "--alter", "ADD COLUMN y int", "--critical-load", "6", "--batch-rows", "5000"]);
    run.code(1).contains("at or above --critical-load 6").contains("paused itself");
    assert_eq!(db.sql("SELECT state FROM stepwise.jobs WHERE id = 2"), "paused");
    done(load);
    osc(&p, &db, &["osc", "resume"]).ok().contains("swapped: ");
    osc(&p, &db, &["osc", "finish"]).ok();
    assert_equal_to_control(&db);
    assert_eq!(leftovers(&db), "");
}

#[test]
fn postgres_backfill_pauses_itself_at_the_critical_load_and_resume_changes_every_row_once() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (db, p) = (PgDb::new(), Project::new());
    db.sql("CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); INSERT INTO items (id) SELECT g FROM generate_series(1, 20000) g;");
    let load = pg_sleepers(&db, 8, 3);
    let run = bounded(&p, &db.url, &["backfill", "items", "--set", "n = n + 1", "--critical-load", "6", "--batch-rows", "1000"]);
    run.code(1).contains("at or above --critical-load 6").contains("paused itself");
    done(load);
    bounded(&p, &db.url, &["backfill", "resume"]).ok().contains("finished");
    assert_eq!(db.sql("SELECT count(*) FILTER (WHERE n = 1) || ' ' || count(*) FROM items"), "20000 20000");
}

#[test]
fn mariadb_backfill_waits_while_threads_run_above_max_load() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (db, p) = (MyDb::new(), Project::new());
    db.sql("CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); INSERT INTO items (id) SELECT seq FROM seq_1_to_20000;");
    let load: Vec<Bg> = (0..10)
        .map(|_| {
            let mut c = Command::new("mariadb");
            c.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", &db.name, "-e", "SELECT SLEEP(3)"]);
            spawn_bg(c)
        })
        .collect();
    let running =
        || db.sql("SHOW GLOBAL STATUS LIKE 'Threads_running'").split_whitespace().last().and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    assert!(wait_until(Duration::from_secs(10), || running() > 10), "the sleepers did not start");
    let run = bounded(
        &p,
        &db.url,
        &["backfill", "items", "--set", "n = n + 1", "--max-load", "5", "--critical-load", "0", "--batch-rows", "1000"],
    );
    run.ok().contains("Threads_running, --max-load 5").contains("finished");
    done(load);
    assert_eq!(db.sql("SELECT CONCAT(SUM(n = 1), ' ', COUNT(*)) FROM items"), "20000 20000");
}

/// The most of this database's stepwise sessions (and their parallel
/// workers) seen running a statement at once, sampled until `stop`.
fn most_at_work(url: &str, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<u32> {
    let url = url.to_string();
    std::thread::spawn(move || {
        // Named like stepwise's sessions, so that osc does not count the
        // sampler as load.
        let mut psql = PsqlSession::open(&url, "stepwise-test-sampler");
        let mut most = 0;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let n: u32 = psql
                .query(
                    "SELECT count(*) FROM pg_stat_activity a
                      WHERE a.datname = current_database() AND a.state = 'active' AND a.pid <> pg_backend_pid()
                        AND (a.application_name = 'stepwise osc'
                             OR a.leader_pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = 'stepwise osc'));",
                )
                .parse()
                .unwrap_or(0);
            most = most.max(n);
            std::thread::sleep(Duration::from_millis(2));
        }
        most
    })
}

#[test]
fn postgres_osc_works_with_one_session_while_others_run_statements_unless_told_to_keep_two() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (db, p) = (PgDb::new(), Project::new());
    setup(&db, 200_000);
    // A session always running a statement: the foreground at work.
    let mut load = pg_sleepers(&db, 1, 60);
    // Batches back to back, and small ranges to compare behind them: with a
    // second session the two would be seen at work at once.
    let slow = ["--verify-chunk", "10000"];
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = most_at_work(&db.url, stop.clone());
    let run = osc(&p, &db, &[&["osc", "orders", "--alter", "ADD COLUMN z int"][..], &slow].concat());
    stop.store(true, Ordering::SeqCst);
    let most = sampler.join().expect("sampler");
    run.ok().contains("osc works with one session while they do").contains("swapped: ");
    assert_eq!(most, 1, "osc kept {most} sessions at work at once beside the foreground");
    osc(&p, &db, &["osc", "finish"]).ok();
    assert_equal_to_control(&db);

    // Told to keep two, it compares beside the copy all the same.
    let run = osc(&p, &db, &[&["osc", "orders", "--alter", "ADD COLUMN y int", "--sessions", "2"][..], &slow].concat());
    run.ok().contains("swapped: ");
    assert!(!run.all().contains("works with one session"), "{}", run.all());
    osc(&p, &db, &["osc", "finish"]).ok();
    assert_equal_to_control(&db);
    assert_eq!(leftovers(&db), "");
    // The sleeper's server session ends with the test's database.
    load.remove(0).kill9();
}

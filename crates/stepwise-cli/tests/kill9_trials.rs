//! Randomized `kill -9` trials: stepwise is killed at a random instant of an
//! osc, a backfill or a migrate while an application keeps writing, then the
//! job is resumed, cancelled, finished or reverted (chosen at random among
//! what its state allows), and the result is compared with a control table
//! that the application wrote in the same transactions.
//!
//! Every trial asserts: no row lost or changed, nothing left behind (shadow
//! tables, change logs, triggers, functions), no job left unfinished, and
//! that every resume or cancel worked.
//!
//! `STEPWISE_KILL_TRIALS` trials per kind (default 2, the CI run);
//! `STEPWISE_KILL_SEED` replays a seed (each test prints its own).

mod common;
use common::osc::{self as fx, Writer};
use common::*;
use std::time::Duration;

fn trials() -> usize {
    std::env::var("STEPWISE_KILL_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(2)
}

/// xorshift64*, seeded from the clock unless `STEPWISE_KILL_SEED` is set.
struct Rng(u64);

impl Rng {
    fn new(test: &str) -> Rng {
        let seed = std::env::var("STEPWISE_KILL_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1
        });
        eprintln!("{test}: seed {seed} (STEPWISE_KILL_SEED={seed} replays it)");
        Rng(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
    fn coin(&mut self) -> bool {
        self.below(2) == 1
    }
    /// When to kill a run that is throttled to last about `ms`: uniform over
    /// it, but one time in four within its first 100 ms, where a job is
    /// being set up (a job row without its shadow, a shadow without triggers).
    fn kill_time(&mut self, ms: u64) -> u64 {
        if self.below(4) == 0 {
            self.below(100)
        } else {
            self.below(ms)
        }
    }
}

/// Start `cmd`, let it run `ms` milliseconds, then `kill -9` it (if it has
/// not ended by itself).
fn kill_after(mut bg: Bg, ms: u64) -> Run {
    std::thread::sleep(Duration::from_millis(ms));
    if !bg.exited() {
        bg.kill9();
    }
    bg.finish(Duration::from_secs(20))
}

/// The job a killed run left (id and state), if it got as far as creating one.
fn pg_job(db: &PgDb, kind: &str) -> Option<(String, String)> {
    if db.sql("SELECT to_regclass('stepwise.jobs') IS NULL") == "t" {
        return None;
    }
    let row = db.sql(&format!("SELECT id || '|' || state FROM stepwise.jobs WHERE kind = '{kind}' ORDER BY id DESC LIMIT 1"));
    row.split_once('|').map(|(id, state)| (id.to_string(), state.to_string()))
}

fn pg_unfinished_jobs(db: &PgDb) -> String {
    if db.sql("SELECT to_regclass('stepwise.jobs') IS NULL") == "t" {
        return String::new();
    }
    db.sql("SELECT string_agg(id || ' ' || state, ', ') FROM stepwise.jobs WHERE state NOT IN ('finished', 'cancelled', 'reverted')")
}

/// Run stepwise to its end (five minutes at most) and require success.
#[track_caller]
fn done(p: &Project, url: &str, args: &[&str], what: &str) -> Run {
    let run = spawn_bg(p.cmd(url, args)).finish(Duration::from_secs(300));
    assert_eq!(run.code, 0, "{what}: `stepwise {}` failed:\n{}", args.join(" "), run.all());
    run
}

const OSC_ROWS: i64 = 20_000;
const ALTER: &str = "ADD COLUMN flag int NOT NULL DEFAULT 7";

#[test]
fn osc_killed_at_random_then_resumed_cancelled_finished_or_reverted_loses_nothing() {
    let mut rng = Rng::new("osc");
    for trial in 0..trials() {
        let (db, p) = (PgDb::new(), Project::new());
        fx::setup(&db, OSC_ROWS);
        let writer = Writer::start(&db.url, OSC_ROWS);
        // 20,000 rows at 8,000 rows/s: the copy alone takes 2.5 s.
        let at = rng.kill_time(3500);
        let args = ["osc", "orders", "--alter", ALTER, "--batch-rows", "500", "--max-rate", "8000"];
        let killed = kill_after(spawn_bg(p.cmd(&db.url, &args)), at);
        let what = format!("trial {trial}, killed after {at} ms");
        // Whatever state the kill left, the way on must work.
        let (outcome, changed) = match pg_job(&db, "osc") {
            None => {
                assert_eq!(fx::leftovers(&db), "", "{what}: no job, but osc left objects:\n{}", killed.all());
                done(&p, &db.url, &args, &what);
                done(&p, &db.url, &["osc", "finish"], &what);
                ("no job yet: run again, finish", true)
            }
            Some((_, state)) if state == "swapped" => {
                if rng.coin() {
                    done(&p, &db.url, &["osc", "finish"], &what);
                    ("swapped: finish", true)
                } else {
                    done(&p, &db.url, &["osc", "revert"], &what);
                    ("swapped: revert", false)
                }
            }
            Some((_, state)) if state == "finished" => ("finished", true),
            Some(_) => {
                if rng.coin() {
                    done(&p, &db.url, &["osc", "resume"], &what);
                    done(&p, &db.url, &["osc", "finish"], &what);
                    ("resume, finish", true)
                } else {
                    done(&p, &db.url, &["osc", "cancel"], &what);
                    ("cancel", false)
                }
            }
        };
        let (txns, errors) = writer.stop();
        eprintln!("osc {what}: {outcome}; the application committed {txns} transactions meanwhile");
        assert_eq!(errors, "", "{what}: an application transaction failed");
        fx::assert_equal_to_control(&db);
        assert_eq!(fx::leftovers(&db), "", "{what} ({outcome}): left behind");
        assert_eq!(pg_unfinished_jobs(&db), "", "{what} ({outcome}): a job is left unfinished");
        let has_flag = db.sql("SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'flag'");
        assert_eq!(has_flag, if changed { "1" } else { "0" }, "{what} ({outcome}): the ALTER's effect");
        if changed {
            assert_eq!(db.sql("SELECT count(*) FROM orders WHERE flag IS DISTINCT FROM 7"), "0", "{what}");
        }
    }
}

/// `items` whose `total` is to become `a * 10 + b`, and `touched`: how often
/// the backfill (and only it) updated each row.
fn backfill_setup(db: &PgDb, rows: i64) {
    db.sql(&format!(
        "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL, total bigint);
         INSERT INTO items SELECT i, i % 1000, i % 7, NULL FROM generate_series(1, {rows}) i;
         CREATE TABLE control AS SELECT * FROM items;
         CREATE TABLE touched (id bigint PRIMARY KEY, n int NOT NULL);
         CREATE FUNCTION count_backfill() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF current_setting('application_name') = 'stepwise backfill' THEN
             INSERT INTO touched VALUES (NEW.id, 1) ON CONFLICT (id) DO UPDATE SET n = touched.n + 1;
           END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER count_backfill AFTER UPDATE ON items FOR EACH ROW EXECUTE FUNCTION count_backfill();
         ANALYZE items;"
    ));
}

/// An application at a steady pace: each transaction changes `a` of a
/// random row in `items` (keeping `total` right itself, as new code does)
/// and the same in `control`.
const APP: &str = "DO $$
DECLARE k bigint;
BEGIN
  WHILE NOT (SELECT stop FROM app_ctl) LOOP
    k := 1 + floor(random() * ROWS)::bigint;
    UPDATE items SET a = a + 1, total = (a + 1) * 10 + b WHERE id = k;
    UPDATE control SET a = a + 1, total = (a + 1) * 10 + b WHERE id = k;
    COMMIT;
    PERFORM pg_sleep(0.002);
  END LOOP;
END $$;";

fn start_pg_app(db: &PgDb, rows: i64) -> Bg {
    db.sql("CREATE TABLE app_ctl (stop boolean NOT NULL); INSERT INTO app_ctl VALUES (false)");
    let mut cmd = std::process::Command::new("psql");
    cmd.args([db.url.as_str(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &APP.replace("ROWS", &rows.to_string())]);
    spawn_bg(cmd)
}

#[track_caller]
fn stop_pg_app(db: &PgDb, app: Bg, what: &str) {
    db.sql("UPDATE app_ctl SET stop = true");
    let run = app.finish(Duration::from_secs(60));
    assert_eq!(run.code, 0, "{what}: an application transaction failed:\n{}", run.all());
}

const BACKFILL_ROWS: i64 = 40_000;

#[test]
fn backfill_killed_at_random_then_resumed_or_cancelled_and_rerun_loses_nothing() {
    let mut rng = Rng::new("backfill");
    for trial in 0..trials() {
        let (db, p) = (PgDb::new(), Project::new());
        backfill_setup(&db, BACKFILL_ROWS);
        let delete = rng.below(3) == 0;
        let args: Vec<&str> = if delete {
            vec![
                "backfill",
                "items",
                "--delete",
                "--where",
                "b = 3",
                "--backup-table",
                "purged",
                "--batch-rows",
                "500",
                "--max-rate",
                "16000",
            ]
        } else {
            vec!["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "500", "--max-rate", "16000"]
        };
        // The application changes `a`, so a delete (by `b`) runs without it.
        let app = (!delete).then(|| start_pg_app(&db, BACKFILL_ROWS));
        // 40,000 rows at 16,000 rows/s: about 2.5 s.
        let at = rng.kill_time(3000);
        let killed = kill_after(spawn_bg(p.cmd(&db.url, &args)), at);
        let what = format!("trial {trial} ({}), killed after {at} ms", if delete { "delete" } else { "update" });
        let outcome = match pg_job(&db, "backfill") {
            None => {
                assert!(killed.code != 0 || delete, "{what}: {}", killed.all());
                done(&p, &db.url, &args, &what);
                "no job yet: run again"
            }
            Some((_, state)) if state == "finished" => "finished",
            Some((_, _)) if rng.coin() => {
                done(&p, &db.url, &["backfill", "resume"], &what);
                "resume"
            }
            Some((_, _)) => {
                done(&p, &db.url, &["backfill", "cancel"], &what);
                // A delete runs again into the same backup table, which keeps
                // the rows the cancelled job deleted.
                done(&p, &db.url, &args, &what);
                "cancel, run again"
            }
        };
        if let Some(app) = app {
            stop_pg_app(&db, app, &what);
        }
        eprintln!("backfill {what}: {outcome}");
        assert_eq!(pg_unfinished_jobs(&db), "", "{what} ({outcome}): a job is left unfinished");
        assert_eq!(db.sql("SELECT count(*) FROM touched WHERE n > 1"), "0", "{what} ({outcome}): a row updated twice");
        if delete {
            assert_eq!(db.sql("SELECT count(*) FROM items WHERE b = 3"), "0", "{what}: rows left");
            let lost = db.sql("SELECT count(*) FROM (SELECT * FROM control EXCEPT (SELECT * FROM items UNION ALL SELECT * FROM purged)) x");
            assert_eq!(lost, "0", "{what} ({outcome}): rows deleted without a backup");
            let extra = db.sql("SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM purged) - (SELECT count(*) FROM control)");
            assert_eq!(extra, "0", "{what} ({outcome}): rows duplicated");
        } else {
            assert_eq!(db.sql("SELECT count(*) FROM items WHERE total IS DISTINCT FROM a * 10 + b"), "0", "{what}: rows left wrong");
            let diff = db.sql("SELECT count(*) FROM (SELECT id, a, b FROM items EXCEPT SELECT id, a, b FROM control) x");
            assert_eq!(diff, "0", "{what} ({outcome}): the application's values changed");
            assert_eq!(db.sql("SELECT count(*) FROM items"), BACKFILL_ROWS.to_string());
        }
    }
}

/// Three migrations: a table, a non-transactional one that logs, builds an
/// index concurrently and logs again, and a backfill step.
fn migrate_project(p: &Project, rows: i64, my: bool) {
    if my {
        p.write(
            "1_items.sql",
            &format!(
                "-- stepwise:up\nCREATE TABLE items (id BIGINT PRIMARY KEY, a INT NOT NULL, score BIGINT NULL);\n\
                 INSERT INTO items SELECT seq, seq % 1000, NULL FROM seq_1_to_{rows};\n\
                 CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, step VARCHAR(20) NOT NULL);\n"
            ),
        );
        p.write(
            "2_index.sql",
            "-- stepwise:up\nINSERT INTO log (step) VALUES ('before');\nCREATE INDEX items_a ON items (a);\nINSERT INTO log (step) VALUES ('after');\n",
        );
    } else {
        p.write(
            "1_items.sql",
            &format!(
                "-- stepwise:up\nCREATE TABLE items AS SELECT g::bigint AS id, g % 1000 AS a, NULL::bigint AS score FROM generate_series(1, {rows}) g;\n\
                 ALTER TABLE items ADD PRIMARY KEY (id);\nCREATE TABLE log (id serial PRIMARY KEY, step text NOT NULL);\n"
            ),
        );
        p.write(
            "2_index.sql",
            "-- stepwise:no-transaction\n-- stepwise:up\nINSERT INTO log (step) VALUES ('before');\n\
             CREATE INDEX CONCURRENTLY items_a ON items (a);\nINSERT INTO log (step) VALUES ('after');\n",
        );
    }
    p.write("3_score.sql", "-- stepwise:up\n-- stepwise:backfill items SET score = a * 10\n");
}

#[test]
fn migrate_killed_at_random_then_rerun_applies_each_statement_once() {
    let mut rng = Rng::new("migrate");
    for trial in 0..trials() {
        let (db, p) = (PgDb::new(), Project::new());
        migrate_project(&p, 200_000, false);
        let at = rng.kill_time(4000);
        let args = ["migrate", "--online-batch-rows", "2000", "--online-max-rate", "100000"];
        let killed = kill_after(spawn_bg(p.cmd(&db.url, &args)), at);
        let what = format!("trial {trial}, killed after {at} ms (exit {})", killed.code);
        done(&p, &db.url, &args, &what);
        eprintln!("migrate {what}");
        assert_eq!(db.sql("SELECT string_agg(step, ',' ORDER BY id) FROM log"), "before,after", "{what}: a statement ran twice");
        assert_eq!(db.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_a'::regclass"), "t", "{what}");
        assert_eq!(db.sql("SELECT count(*) FROM items WHERE score IS DISTINCT FROM a * 10"), "0", "{what}");
        assert_eq!(db.sql("SELECT count(*) FROM items"), "200000", "{what}");
        assert_eq!(db.sql("SELECT count(*) FROM stepwise.migrations WHERE status = 'applied'"), "3", "{what}");
        assert_eq!(pg_unfinished_jobs(&db), "", "{what}");
    }
}

// ---- MariaDB ----

/// Like `db.sql`, but None when the statement fails (a table not there yet).
fn my_try(db: &MyDb, sql: &str) -> Option<String> {
    let out = std::process::Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", &db.name, "-e", sql])
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn my_job(db: &MyDb) -> Option<String> {
    my_try(db, "SELECT state FROM stepwise_jobs ORDER BY id DESC LIMIT 1").filter(|s| !s.is_empty())
}

fn my_unfinished_jobs(db: &MyDb) -> String {
    my_try(db, "SELECT GROUP_CONCAT(id, ' ', state) FROM stepwise_jobs WHERE state NOT IN ('finished', 'cancelled', 'reverted')")
        .filter(|s| s != "NULL")
        .unwrap_or_default()
}

/// An application on MariaDB: each transaction changes `a` of a random row
/// in `items` (and `total` with it) and the same in `control`. (MySQL
/// assigns left to right, each assignment seeing the ones before it.)
fn start_my_app(db: &MyDb, rows: i64) -> Bg {
    db.sql("CREATE TABLE app_ctl (stop BOOLEAN NOT NULL); INSERT INTO app_ctl VALUES (false)");
    let body = format!(
        "CREATE PROCEDURE app() BEGIN
           DECLARE k BIGINT;
           WHILE NOT (SELECT stop FROM app_ctl) DO
             SET k = 1 + FLOOR(RAND() * {rows});
             START TRANSACTION;
             UPDATE items SET total = (a + 1) * 10 + b, a = a + 1 WHERE id = k;
             UPDATE control SET total = (a + 1) * 10 + b, a = a + 1 WHERE id = k;
             COMMIT;
             DO SLEEP(0.002);
           END WHILE;
         END"
    );
    let out = std::process::Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-u", "root", "--delimiter=$$", &db.name, "-e", &body])
        .output()
        .expect("mariadb");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut cmd = std::process::Command::new("mariadb");
    cmd.args(["-h", "127.0.0.1", "-u", "root", &db.name, "-e", "CALL app()"]);
    spawn_bg(cmd)
}

#[test]
fn mariadb_backfill_killed_at_random_then_resumed_or_cancelled_and_rerun_loses_nothing() {
    let mut rng = Rng::new("mariadb backfill");
    for trial in 0..trials() {
        let (db, p) = (MyDb::new(), Project::new());
        db.sql(&format!(
            "CREATE TABLE items (id BIGINT PRIMARY KEY, a INT NOT NULL, b INT NOT NULL, total BIGINT NULL) ENGINE = InnoDB;
             INSERT INTO items SELECT seq, seq % 1000, seq % 7, NULL FROM seq_1_to_{BACKFILL_ROWS};
             CREATE TABLE control ENGINE = InnoDB AS SELECT * FROM items;
             ANALYZE TABLE items;"
        ));
        let delete = rng.below(3) == 0;
        let args: Vec<&str> = if delete {
            vec![
                "backfill",
                "items",
                "--delete",
                "--where",
                "b = 3",
                "--backup-table",
                "purged",
                "--batch-rows",
                "500",
                "--max-rate",
                "16000",
            ]
        } else {
            vec!["backfill", "items", "--set", "total = a * 10 + b", "--batch-rows", "500", "--max-rate", "16000"]
        };
        let app = (!delete).then(|| start_my_app(&db, BACKFILL_ROWS));
        // 40,000 rows at 16,000 rows/s: about 2.5 s.
        let at = rng.kill_time(3000);
        let killed = kill_after(spawn_bg(p.cmd(&db.url, &args)), at);
        let what = format!("trial {trial} ({}), killed after {at} ms (exit {})", if delete { "delete" } else { "update" }, killed.code);
        let outcome = match my_job(&db) {
            None => {
                done(&p, &db.url, &args, &what);
                "no job yet: run again"
            }
            Some(state) if state == "finished" => "finished",
            Some(_) if rng.coin() => {
                done(&p, &db.url, &["backfill", "resume"], &what);
                "resume"
            }
            Some(_) => {
                done(&p, &db.url, &["backfill", "cancel"], &what);
                done(&p, &db.url, &args, &what);
                "cancel, run again"
            }
        };
        if let Some(app) = app {
            db.sql("UPDATE app_ctl SET stop = true");
            let run = app.finish(Duration::from_secs(60));
            assert_eq!(run.code, 0, "{what}: an application transaction failed:\n{}", run.all());
        }
        eprintln!("mariadb backfill {what}: {outcome}");
        assert_eq!(my_unfinished_jobs(&db), "", "{what} ({outcome}): a job is left unfinished");
        if delete {
            assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE b = 3"), "0", "{what}: rows left");
            let lost = db.sql(
                "SELECT COUNT(*) FROM control c WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = c.id)
                   AND NOT EXISTS (SELECT 1 FROM purged g WHERE g.id = c.id AND g.a = c.a AND g.b = c.b)",
            );
            assert_eq!(lost, "0", "{what} ({outcome}): rows deleted without a backup");
            let extra = db.sql("SELECT (SELECT COUNT(*) FROM items) + (SELECT COUNT(*) FROM purged) - (SELECT COUNT(*) FROM control)");
            assert_eq!(extra, "0", "{what} ({outcome}): rows duplicated");
        } else {
            assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE NOT (total <=> a * 10 + b)"), "0", "{what}: rows left wrong");
            let diff = db.sql(
                "SELECT COUNT(*) FROM items i JOIN control c USING (id) WHERE NOT (i.a <=> c.a AND i.b <=> c.b AND i.total <=> c.total)
                   AND NOT (i.total <=> i.a * 10 + i.b)",
            );
            assert_eq!(diff, "0", "{what} ({outcome}): the application's values changed");
            let same_a = db.sql("SELECT COUNT(*) FROM items i JOIN control c USING (id) WHERE i.a = c.a AND i.b = c.b");
            assert_eq!(same_a, BACKFILL_ROWS.to_string(), "{what} ({outcome}): rows lost or the application's values changed");
        }
    }
}

#[test]
fn mariadb_migrate_killed_at_random_then_rerun_applies_each_statement_once() {
    let mut rng = Rng::new("mariadb migrate");
    for trial in 0..trials() {
        let (db, p) = (MyDb::new(), Project::new());
        migrate_project(&p, 100_000, true);
        let at = rng.kill_time(3000);
        let args = ["migrate", "--online-batch-rows", "2000", "--online-max-rate", "50000"];
        let killed = kill_after(spawn_bg(p.cmd(&db.url, &args)), at);
        let what = format!("trial {trial}, killed after {at} ms (exit {})", killed.code);
        done(&p, &db.url, &args, &what);
        eprintln!("mariadb migrate {what}");
        assert_eq!(db.sql("SELECT GROUP_CONCAT(step ORDER BY id) FROM log"), "before,after", "{what}: a statement ran twice");
        assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE NOT (score <=> a * 10)"), "0", "{what}");
        assert_eq!(db.sql("SELECT COUNT(*) FROM items"), "100000", "{what}");
        assert_eq!(my_unfinished_jobs(&db), "", "{what}");
    }
}

// ---- A statement the server finishes after stepwise died ----

/// The migration lock's holder died while the server still ran its
/// statement: the server finishes it anyway. Found by the MariaDB trials: the
/// next migrate, which only knew the statement had started, ran it again (an
/// INSERT twice). Now a statement that can share a transaction with its
/// progress commits with it, so the orphaned one rolls back with its session.
#[track_caller]
fn killed_during_a_statement_that_outlives_its_client(p: &Project, url: &str, in_flight: impl Fn() -> bool, log: impl Fn() -> String) {
    let mut run = spawn_bg(p.cmd(url, &["migrate"]));
    assert!(wait_until(Duration::from_secs(30), &in_flight), "the slow INSERT started:\n{}", run.output());
    run.kill9();
    let _ = run.finish(Duration::from_secs(10));
    done(p, url, &["migrate"], "after the kill");
    assert_eq!(log(), "before,once,after", "each statement ran once");
}

#[test]
fn postgres_a_statement_finished_by_the_server_after_a_kill_9_is_not_run_again() {
    let (db, p) = (PgDb::new(), Project::new());
    p.write(
        "1_log.sql",
        "-- stepwise:no-transaction\n-- stepwise:up\nCREATE TABLE log (id serial PRIMARY KEY, step text NOT NULL);\n\
         INSERT INTO log (step) VALUES ('before');\nINSERT INTO log (step) SELECT 'once' FROM pg_sleep(2);\n\
         INSERT INTO log (step) VALUES ('after');\n",
    );
    let in_flight = || {
        db.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stepwise' AND query LIKE '%pg_sleep(2)%' AND state = 'active'",
        ) != "0"
    };
    killed_during_a_statement_that_outlives_its_client(&p, &db.url, in_flight, || {
        db.sql("SELECT string_agg(step, ',' ORDER BY id) FROM log")
    });
}

#[test]
fn mariadb_a_statement_finished_by_the_server_after_a_kill_9_is_not_run_again() {
    let (db, p) = (MyDb::new(), Project::new());
    p.write(
        "1_log.sql",
        "-- stepwise:up\nCREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, step VARCHAR(10) NOT NULL);\n\
         INSERT INTO log (step) VALUES ('before');\nINSERT INTO log (step) SELECT 'once' FROM (SELECT SLEEP(2)) s;\n\
         INSERT INTO log (step) VALUES ('after');\n",
    );
    let in_flight = || {
        mysql("", &format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{}' AND INFO LIKE '%SLEEP(2)) s%' AND INFO NOT LIKE '%PROCESSLIST%'", db.name)) != "0"
    };
    killed_during_a_statement_that_outlives_its_client(&p, &db.url, in_flight, || db.sql("SELECT GROUP_CONCAT(step ORDER BY id) FROM log"));
}

/// MySQL DDL commits by itself, so it cannot commit with its progress: a
/// CREATE INDEX the server finishes after stepwise was killed makes the
/// re-run fail with "Duplicate key name". The next migrate reads that error,
/// for the statement the killed run was running, as the statement done.
#[test]
fn mariadb_ddl_finished_by_the_server_after_a_kill_9_counts_as_applied() {
    let (db, p) = (MyDb::new(), Project::new());
    db.sql("CREATE TABLE items (id BIGINT PRIMARY KEY, a INT NOT NULL); INSERT INTO items SELECT seq, seq % 1000 FROM seq_1_to_1500000");
    p.write("1_index.sql", "-- stepwise:up\nCREATE INDEX items_a ON items (a);\nCREATE TABLE after_it (id INT);\n");
    let mut run = spawn_bg(p.cmd(&db.url, &["migrate"]));
    let building = || {
        mysql(
            "",
            &format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{}' AND INFO LIKE 'CREATE INDEX items_a%'", db.name),
        ) != "0"
    };
    assert!(wait_until(Duration::from_secs(30), building), "the index build started:\n{}", run.output());
    run.kill9();
    let _ = run.finish(Duration::from_secs(10));
    let rerun = done(&p, &db.url, &["migrate"], "after the kill");
    let indexes = db.sql("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'items_a'");
    assert_eq!(indexes, "1", "{}", rerun.all());
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'after_it'"), "1");
    eprintln!("{}", rerun.all());
}

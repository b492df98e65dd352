//! The main job on a throwaway database: build stepwise, start a scratch
//! PostgreSQL (unless DATABASE_URL is set), and show what stepwise is for,
//! in about a minute: a dangerous migration caught by lint with its recipe,
//! the plan, the migrations applied, the deploy checklist of the next two,
//! a deploy with a backup whose health check fails and is rolled back, an online schema change of a 300,000-row
//! table while a writer runs, a backfill, and who blocks whom.
//!
//! It works in `target/demo/` on a copy of `examples/`, so the examples stay
//! as they are.

use crate::util::{build_stepwise, root, run, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub fn demo() -> Result {
    crate::setup::setup()?;
    let stepwise = build_stepwise(false)?;
    let work = root().join("target").join("demo");
    let _ = std::fs::remove_dir_all(&work);
    copy_dir(&root().join("examples"), &work)?;
    let (url, mut scratch) = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => (url, None),
        None => {
            let mut child = Command::new(&stepwise)
                .args(["scratch", "--format", "json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("cannot start stepwise scratch: {e}"))?;
            let stdout = child.stdout.take().ok_or("no stdout from stepwise scratch")?;
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
            let url = line
                .split("\"url\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .ok_or_else(|| format!("stepwise scratch printed no URL: {line}"))?
                .to_string();
            (url, Some(child))
        }
    };
    // A step and the exit codes it is expected to end with (lint finds an
    // error: 1; a deploy rolled back and healthy again: 3).
    let step = |title: &str, args: &[&str], expect: &[i32]| -> Result {
        eprintln!("\n=== {title}: stepwise {}", args.join(" "));
        let status = Command::new(&stepwise)
            .current_dir(&work)
            .env("DATABASE_URL", &url)
            .args(args)
            .status()
            .map_err(|e| format!("cannot run stepwise: {e}"))?;
        match status.code() {
            Some(c) if expect.contains(&c) => Ok(()),
            _ => Err(format!("stepwise {} ended with {status}, expected exit {expect:?}", args.join(" "))),
        }
    };
    let sql = |text: &str| run(Command::new("psql").args([url.as_str(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", text]));
    let result = (|| {
        step("a dangerous migration, caught before it merges", &["lint", "unsafe"], &[1])?;
        step("pending migrations", &["plan"], &[0])?;
        step("apply", &["migrate"], &[0])?;
        eprintln!("\n=== 300,000 orders to work on");
        sql("INSERT INTO customers (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 1000) g")?;
        sql("INSERT INTO orders (customer_id, total_cents) SELECT 1 + g % 1000, g FROM generate_series(1, 300000) g")?;

        sql("ANALYZE orders")?;
        let write = |name: &str, text: &str| std::fs::write(work.join(name), text).map_err(|e| e.to_string());
        write(
            "migrations/20251105090000_add_coupon_to_orders.sql",
            "-- stepwise:up\nALTER TABLE orders ADD COLUMN coupon text;\n\n-- stepwise:down\nALTER TABLE orders DROP COLUMN coupon;\n",
        )?;
        write(
            "migrations/20251105090100_index_orders_created_at.sql",
            "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);\n\n\
             -- stepwise:down\nDROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;\n",
        )?;
        eprintln!("\n=== stepwise.toml: [backup] dir = \"backups\"");
        write("stepwise.toml", "[backup]\ndir = \"backups\"\n")?;
        step("the deploy checklist, for the pull request", &["plan", "--checklist", "--format", "markdown"], &[0])?;
        step(
            "a deploy: backup, migrate, a health check that fails, the automatic rollback",
            // The application cannot live with the new column (a stand-in for its health endpoint).
            &["migrate", "--health-check", HEALTH, "--health-retries", "0"],
            &[3],
        )?;

        // An application writing while the table is copied.
        let mut writer = background(
            &url,
            "DO $$ BEGIN FOR i IN 1..400 LOOP \
               UPDATE orders SET total_cents = total_cents + 1 WHERE id = 1 + (random() * 299999)::int; \
               INSERT INTO orders (customer_id, total_cents) VALUES (1, i); \
               COMMIT; PERFORM pg_sleep(0.01); END LOOP; END $$;",
        )?;
        step(
            "an online schema change while the application writes",
            &["osc", "orders", "--alter", "ALTER COLUMN total_cents TYPE numeric(14,0)"],
            &[0],
        )?;
        let _ = writer.wait();
        step("drop the old table once the change is confirmed", &["osc", "finish"], &[0])?;
        step("a backfill in small batches", &["backfill", "orders", "--set", "status = 'paid'", "--where", "status IS NULL"], &[0])?;

        // A report left a transaction open, a deploy's ALTER queued behind it, and the application behind the ALTER.
        let holder = background(&url, "BEGIN; SELECT count(*) FROM customers; SELECT pg_sleep(4); COMMIT;")?;
        std::thread::sleep(std::time::Duration::from_millis(500));
        let ddl = background(&url, "SET lock_timeout = '3s'; ALTER TABLE customers ADD COLUMN nickname text;")?;
        std::thread::sleep(std::time::Duration::from_millis(300));
        let app = background(&url, "UPDATE customers SET email = email WHERE id = 1;")?;
        std::thread::sleep(std::time::Duration::from_millis(700));
        step("who blocks whom", &["locks"], &[0])?;
        for mut c in [holder, ddl, app] {
            let _ = c.wait();
        }
        step("status", &["status"], &[0])
    })();
    if let Some(child) = scratch.as_mut() {
        // SIGTERM lets the scratch server stop and delete its data directory.
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
    result
}

/// The demo's health check: healthy while `orders` has no `coupon` column.
const HEALTH: &str = "test \"$(psql \"$DATABASE_URL\" -XAtc \"SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'coupon'\")\" = 0 || { echo 'the app cannot start: unknown column coupon' >&2; exit 1; }";

/// psql running `sql` in the background (its output hidden).
fn background(url: &str, sql: &str) -> Result<Child> {
    let mut child = Command::new("psql")
        .args([url, "-X", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "{sql}").map_err(|e| e.to_string())?;
    }
    Ok(child)
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

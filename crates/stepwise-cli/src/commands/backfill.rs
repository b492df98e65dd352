//! `backfill`: start a batched update or delete, or act on an unfinished one.

use super::{online_fail as fail, show_jobs, target};
use crate::cli::{BackfillArgs, Format};
use crate::config::Config;
use crate::render::{backfill_line, Out};
use std::io::{IsTerminal, Write};
use stepwise_db::mysql::MyConn;
use stepwise_db::pg::PgConn;
use stepwise_db::Engine;
use stepwise_online::backfill::{self, mysql::MyDb, pg::PgDb, Db, Options, Progress, Request};
use stepwise_online::batch::BatchOptions;
use stepwise_online::jobs::Job;

const ACTIONS: &[&str] = &["status", "pause", "resume", "cancel"];

fn options(cfg: &Config, args: &BackfillArgs) -> Options {
    let mut batch = BatchOptions::default();
    if let Some(t) = args.batch_time {
        batch.target = Some(t);
    }
    batch.fixed_rows = args.batch_rows;
    batch.max_rate = args.max_rate;
    if let Some(lag) = args.max_replica_lag {
        batch.max_replica_lag = lag.0;
    }
    args.load.apply(&mut batch);
    Options { state: cfg.schema.clone(), batch, cancel_blockers: args.cancel.policy() }
}

/// Progress for people: the batch line rewritten in place on a terminal,
/// plain lines elsewhere; JSON events with `--format json`.
fn show(out: Out) -> impl Fn(&Progress) + Sync {
    let tty = std::io::stderr().is_terminal();
    move |p: &Progress| {
        if out.format == Format::Json {
            out.json(p);
            return;
        }
        let line = backfill_line(p);
        match p {
            Progress::Batch { .. } | Progress::Throttled { .. } | Progress::LockWait { .. } if tty => {
                eprint!("\r{line}\x1b[K");
                let _ = std::io::stderr().flush();
            }
            Progress::Finished { .. } if tty => out.progress(&format!("\r{line}\x1b[K")),
            // Lock waits are routine under load; one line each would flood a log.
            Progress::LockWait { attempt, .. } if *attempt % 10 != 1 => {}
            _ => out.progress(&line),
        }
    }
}

pub fn status_line(j: &Job) -> String {
    let mut s = format!("job {} on {}: {}, {} rows examined, {} changed", j.id, j.target, j.state, j.rows_done, j.rows_changed);
    if let (Some(cursor), false) = (&j.cursor, j.state == "finished") {
        s.push_str(&format!(" (up to key {})", cursor.join(", ")));
    }
    if j.rows_done > 0 && j.elapsed_secs > 0.0 {
        let rate = j.rows_done as f64 / j.elapsed_secs;
        s.push_str(&format!(", {rate:.0} rows/s on average"));
        if let (Some(total), "running" | "paused") =
            (j.rows_total.or(j.spec.get("estimated_rows").and_then(|v| v.as_i64())), j.state.as_str())
        {
            s.push_str(&format!(", ETA {:.0}s", (total - j.rows_done).max(0) as f64 / rate.max(1.0)));
        }
    }
    s.push_str(&format!(", updated {:.0}s ago", j.updated_secs_ago));
    if let Some(e) = &j.error {
        s.push_str(&format!("\n  error: {e}"));
    }
    let next = match j.state.as_str() {
        "running" if j.updated_secs_ago > 30.0 => {
            "  no progress for a while: if its process is gone, `stepwise backfill resume` continues it, `stepwise backfill cancel` gives it up"
        }
        "paused" => "  `stepwise backfill resume` continues it; `stepwise backfill cancel` gives it up (batches done so far stay)",
        "failed" => "  `stepwise backfill resume` retries from the failed batch; `stepwise backfill cancel` gives it up",
        _ => "",
    };
    if !next.is_empty() {
        s.push('\n');
        s.push_str(next);
    }
    s
}

pub async fn backfill(cfg: &Config, out: &Out, args: &BackfillArgs) -> i32 {
    let action = ACTIONS.contains(&args.target.as_str()).then_some(args.target.as_str());
    let work_flags = args.set.is_some() || args.condition.is_some() || args.delete || args.only_missing;
    if action.is_none() && args.set.is_none() && !args.delete {
        out.error(&format!(
            "backfill {}: say what to change with --set \"<column> = <expression>\" or --delete --where \"<condition>\" (or use one of: {})",
            args.target,
            ACTIONS.join(", ")
        ));
        return 2;
    }
    if action.is_some() && work_flags {
        out.error(&format!("backfill {} takes no --set, --where, --delete or --only-missing", args.target));
        return 2;
    }
    let target = match target(cfg, out, false).await {
        Ok(t) => t,
        Err(code) => return code,
    };
    let code = match target.url.engine {
        Engine::Postgres => match PgConn::connect(&target.url, "stepwise backfill").await {
            Ok(conn) => {
                let mut db = PgDb::new(&conn, &cfg.schema);
                act(&mut db, cfg, out, args, action).await
            }
            Err(e) => {
                out.error(&e.to_string());
                1
            }
        },
        Engine::MySql => match MyConn::connect(&target.url).await {
            Ok(mut conn) => {
                let mut db = MyDb::new(&mut conn, &cfg.schema);
                act(&mut db, cfg, out, args, action).await
            }
            Err(e) => {
                out.error(&e.to_string());
                1
            }
        },
    };
    target.close().await;
    code
}

async fn act<D: Db>(db: &mut D, cfg: &Config, out: &Out, args: &BackfillArgs, action: Option<&str>) -> i32 {
    let opts = options(cfg, args);
    let progress = show(*out);
    match action {
        None => {
            let req = Request {
                table: args.target.clone(),
                set: args.set.clone(),
                condition: args.condition.clone(),
                delete: args.delete,
                backup_table: args.backup_table.clone(),
                only_missing: args.only_missing,
                allow_volatile: args.allow_volatile,
            };
            if args.dry_run {
                return match backfill::plan(db, &req, &opts).await {
                    Ok(text) => {
                        out.result(&text, serde_json::json!({"dry_run": true, "table": req.table, "plan": text}));
                        0
                    }
                    Err(e) => fail(out, e),
                };
            }
            match backfill::start(db, &req, &opts, &progress).await {
                Ok(job) => report_end(out, &job),
                Err(e) => fail(out, e),
            }
        }
        Some("status") => match db.jobs(args.job.is_some()).await {
            Ok(jobs) => {
                show_jobs(out, "backfill", jobs, args.job, status_line);
                0
            }
            Err(e) => fail(out, e),
        },
        Some(verb) => {
            let job = match backfill::pick(db, args.job).await {
                Ok(j) => j,
                Err(e) => return fail(out, e),
            };
            match verb {
                "resume" => match backfill::resume(db, &job, &opts, &progress).await {
                    Ok(j) => report_end(out, &j),
                    Err(e) => fail(out, e),
                },
                "pause" => match backfill::pause(db, &job).await {
                    Ok(()) => {
                        let msg = format!("job {} will pause after its current batch", job.id);
                        out.result(&msg, serde_json::json!({"action": "pause", "job": job.id, "table": job.target, "state": "paused"}));
                        0
                    }
                    Err(e) => fail(out, e),
                },
                _ => match backfill::cancel(db, &job).await {
                    Ok(()) => {
                        let msg = format!(
                            "job {} cancelled: {} rows changed before it stopped stay changed; no further batch runs",
                            job.id, job.rows_changed
                        );
                        let fields = serde_json::json!({"action": "cancel", "job": job.id, "table": job.target, "state": "cancelled", "rows_changed": job.rows_changed});
                        out.result(&msg, fields);
                        0
                    }
                    Err(e) => fail(out, e),
                },
            }
        }
    }
}

fn report_end(out: &Out, job: &Job) -> i32 {
    if out.format != Format::Json {
        out.line(&status_line(job));
    }
    match job.state.as_str() {
        "finished" | "paused" => 0,
        _ => 1,
    }
}

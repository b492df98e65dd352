//! `osc`: start an online schema change, or act on an unfinished one.

use super::{online_fail as fail, show_jobs, target};
use crate::cli::{Format, OscArgs, SessionsArg};
use crate::config::Config;
use crate::render::Out;
use std::io::{IsTerminal, Write};
use stepwise_db::pg::PgConn;
use stepwise_online::batch::BatchOptions;
use stepwise_online::jobs::Job;
use stepwise_online::osc::{self, OscOptions, OscRequest, Progress, Sessions};

const ACTIONS: &[&str] = &["status", "pause", "resume", "cancel", "finish", "revert"];

fn options(cfg: &Config, args: &OscArgs) -> OscOptions {
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
    OscOptions {
        state_schema: cfg.schema.clone(),
        batch,
        lock_timeout: cfg.run.lock_timeout,
        retries: cfg.run.retry.retries,
        verify_chunk: args.verify_chunk.unwrap_or(OscOptions::default().verify_chunk),
        allow_all_tables_publication: args.allow_all_tables_publication,
        cancel_blockers: args.cancel.policy(),
        sessions: match args.sessions {
            SessionsArg::Auto => Sessions::Auto,
            SessionsArg::One => Sessions::One,
            SessionsArg::Two => Sessions::Two,
        },
    }
}

/// Progress for people: one line rewritten in place on a terminal, plain
/// lines elsewhere; JSON events with `--format json`.
fn show(out: Out) -> impl Fn(&Progress) + Sync {
    let tty = std::io::stderr().is_terminal();
    move |p: &Progress| {
        if out.format == Format::Json {
            out.json(p);
            return;
        }
        let line = match p {
            Progress::Started { job, table, shadow, estimated_rows } => {
                format!("osc job {job}: copying {table} (about {estimated_rows} rows) into {shadow}")
            }
            Progress::Copied { rows_done, rows_total, rows_per_sec, .. } => {
                let left = (rows_total - rows_done).max(0) as f64 / rows_per_sec.max(1.0);
                let pct = if *rows_total > 0 { 100.0 * *rows_done as f64 / *rows_total as f64 } else { 100.0 };
                let text = format!("copied {rows_done}/{rows_total} rows ({pct:.0}%), {rows_per_sec:.0} rows/s, ETA {left:.0}s");
                if tty {
                    eprint!("\r{text}\x1b[K");
                    let _ = std::io::stderr().flush();
                    return;
                }
                text
            }
            Progress::Throttled { .. } | Progress::Loaded { .. } if tty => {
                // In place of the copy's progress line, which comes back when the copy goes on.
                eprint!("\r{}\x1b[K", crate::render::online_line(p));
                let _ = std::io::stderr().flush();
                return;
            }
            Progress::Throttled { .. } | Progress::Loaded { .. } => crate::render::online_line(p),
            Progress::IndexBuilt { .. } => format!("{}{}", if tty { "\n" } else { "" }, crate::render::online_line(p)),
            Progress::Verified { rows, chunks, .. } => {
                format!("{}verified {rows} rows in {chunks} chunk(s): the copy matches", if tty { "\n" } else { "" })
            }
            Progress::LockWait { what, attempt, blockers, .. } => format!(
                "lock wait: could not {what} within lock_timeout (attempt {attempt}){}",
                if blockers.is_empty() { String::new() } else { format!("; held by {}", blockers.join(", ")) }
            ),
            Progress::Swapped { table, old, lock_held_ms, .. } => format!(
                "swapped: {table} is the new table (locks held {lock_held_ms} ms); the old one is kept in sync as {old} until `stepwise osc finish` (or `stepwise osc revert`)"
            ),

            Progress::Validated { foreign_keys, .. } => format!("validated foreign key(s): {}", foreign_keys.join(", ")),
        Progress::ForeignKeysRenamed { foreign_keys, .. } => format!("foreign key(s) named as before: {}", foreign_keys.join(", ")),
        Progress::ChildKeysMoved { table, foreign_keys, .. } => {
            format!("foreign key(s) now referencing {table}: {}", foreign_keys.join(", "))
        }
            Progress::Reverted { table, lock_held_ms, .. } => {
                format!("reverted: {table} is the old table again, with every change made since the swap (locks held {lock_held_ms} ms)")
            }
            Progress::BlockerCancelled { .. } | Progress::Note { .. } => {
                format!("{}{}", if tty { "\n" } else { "" }, crate::render::online_line(p))
            }
        };
        out.progress(&line);
    }
}

fn status_line(j: &Job) -> String {
    let mut s = format!("job {} on {}: {}, {} rows copied", j.id, j.target, j.state, j.rows_done);
    if let Some(cursor) = &j.cursor {
        s.push_str(&format!(" (up to key {})", cursor.join(", ")));
    }
    s.push_str(&format!(", updated {:.0}s ago", j.updated_secs_ago));
    if let Some(e) = &j.error {
        s.push_str(&format!("\n  error: {e}"));
    }
    if let Some(why) = &j.revert_blocked {
        s.push_str(&format!("\n  revert is no longer possible: {why}"));
    }
    let next = match j.state.as_str() {
        "copying" | "indexing" | "verifying" | "ready" if j.updated_secs_ago > 30.0 => {
            "  no progress for a while: if its process is gone, `stepwise osc resume` continues it, `stepwise osc cancel` removes it"
        }
        "paused" => "  `stepwise osc resume` continues it; `stepwise osc cancel` removes it",
        "failed" | "cancelling" => "  the original table is untouched; `stepwise osc cancel` removes the triggers and the copy",
        "swapped" if j.revert_blocked.is_some() => "  `stepwise osc finish` drops the old table",
        "swapped" => "  the old table is kept in sync; `stepwise osc finish` drops it, `stepwise osc revert` swaps back",
        _ => "",
    };
    if !next.is_empty() {
        s.push('\n');
        s.push_str(next);
    }
    s
}

pub async fn osc(cfg: &Config, out: &Out, args: &OscArgs) -> i32 {
    let action = ACTIONS.contains(&args.target.as_str()).then_some(args.target.as_str());
    if action.is_none() && args.alter.is_none() {
        out.error(&format!(
            "osc {}: say what to change with --alter \"<ALTER TABLE clauses>\" (or use one of: {})",
            args.target,
            ACTIONS.join(", ")
        ));
        return 2;
    }
    if action.is_some() && args.alter.is_some() {
        out.error(&format!("osc {} takes no --alter", args.target));
        return 2;
    }
    let target = match target(cfg, out, false).await {
        Ok(t) => t,
        Err(code) => return code,
    };
    if target.url.engine != stepwise_db::Engine::Postgres {
        return mysql(cfg, out, args, action, &target.url).await;
    }
    let conn = match PgConn::connect(&target.url, "stepwise osc").await {
        Ok(c) => c,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    let code = verbs(out, args, action, &mut osc::engine::Pg(&conn), &options(cfg, args)).await;
    target.close().await;
    code
}

/// The command itself, once for both engines.
async fn verbs(out: &Out, args: &OscArgs, action: Option<&str>, engine: &mut impl osc::engine::OscEngine, opts: &OscOptions) -> i32 {
    let progress = show(*out);
    match action {
        None => {
            let req = OscRequest {
                table: args.target.clone(),
                alter: args.alter.clone().unwrap_or_default(),
                rebuild_child_keys: args.rebuild_child_keys,
            };
            if args.dry_run {
                match engine.plan(&req, opts).await {
                    Ok(text) => {
                        out.result(&text, serde_json::json!({"dry_run": true, "table": req.table, "plan": text}));
                        0
                    }
                    Err(e) => fail(out, e),
                }
            } else {
                match engine.start(&req, opts, &progress).await {
                    Ok(job) => report_end(out, &job),
                    Err(e) => fail(out, e),
                }
            }
        }
        Some("status") => match engine.jobs(opts, args.job.is_some()).await {
            Ok(jobs) => {
                show_jobs(out, "osc", jobs, args.job, status_line);
                0
            }
            Err(e) => fail(out, e),
        },
        Some(verb) => {
            let job = match engine.pick(opts, args.job).await {
                Ok(j) => j,
                Err(e) => return fail(out, e),
            };
            let mut state = None;
            let done = match verb {
                "pause" => engine.pause(&job, opts).await.map(|_| format!("job {} will pause after its current batch", job.id)),
                "resume" => engine.resume(&job, opts, &progress).await.map(|j| {
                    state = Some(j.state.clone());
                    format!("job {} is {}", j.id, j.state)
                }),
                "cancel" => engine
                    .cancel(&job, opts, &progress)
                    .await
                    .map(|_| format!("job {} cancelled: triggers and copy removed, {} untouched", job.id, job.target)),
                "revert" => engine
                    .revert(&job, opts, &progress)
                    .await
                    .map(|_| format!("job {} reverted: {} is the original table again", job.id, job.target)),
                _ => engine.finish(&job, opts, &progress).await.map(|_| format!("job {} finished: the old table is dropped", job.id)),
            };
            verb_done(out, verb, &job, done, state)
        }
    }
}

/// What a verb did, said once for both engines.
fn verb_done(out: &Out, verb: &str, job: &Job, done: Result<String, stepwise_online::OnlineError>, state: Option<String>) -> i32 {
    match done {
        Ok(msg) => {
            let state = state.unwrap_or_else(|| {
                match verb {
                    "pause" => "paused",
                    "cancel" => "cancelled",
                    "revert" => "reverted",
                    _ => "finished",
                }
                .into()
            });
            out.result(&msg, serde_json::json!({"action": verb, "job": job.id, "table": job.target, "state": state}));
            0
        }
        Err(e) => fail(out, e),
    }
}

fn report_end(out: &Out, job: &Job) -> i32 {
    if out.format != Format::Json {
        out.line(&status_line(job));
    }
    if job.state == "swapped" || job.state == "paused" {
        0
    } else {
        1
    }
}

/// MySQL/MariaDB: the same verbs on `osc::mysql`.
async fn mysql(cfg: &Config, out: &Out, args: &OscArgs, action: Option<&str>, url: &stepwise_db::DbUrl) -> i32 {
    let mut conn = match stepwise_db::mysql::MyConn::connect(url).await {
        Ok(c) => c,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    verbs(out, args, action, &mut osc::engine::My(&mut conn), &options(cfg, args)).await
}

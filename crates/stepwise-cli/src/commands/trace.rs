//! `trace`: run migrations statement by statement on a PostgreSQL and report
//! what each really did: the locks it took on relations that existed before
//! it, what it rewrote, what it scanned, and how long it took.
//!
//! Where: a scratch server (the default: thrown away afterwards, everything
//! runs for real), or `--database`, where everything runs in one transaction
//! that is rolled back (statements PostgreSQL runs only outside a
//! transaction are then not run; `--commit` runs them, for a database that
//! is itself a throwaway). Every statement runs under the lock timeout.

use super::lint::gather;
use crate::cli::{Format, TraceArgs};
use crate::config::Config;
use crate::render::Out;
use serde::Serialize;
use stepwise_db::pg::PgConn;
use stepwise_db::scratch::{Scratch, ScratchOptions};
use stepwise_db::trace::{self, Effects};
use stepwise_db::DbUrl;
use stepwise_sql::Statement;

#[derive(Serialize)]
struct TracedStatement {
    line: usize,
    col: usize,
    sql: String,
    /// `transaction` (locks read after it), `sampled` (run outside a
    /// transaction, locks sampled while it ran), or `not run`.
    how: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    why_not_run: Option<String>,
    #[serde(flatten)]
    effects: Effects,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct TracedMigration {
    file: String,
    statements: Vec<TracedStatement>,
}

pub async fn trace(cfg: &Config, out: &Out, args: &TraceArgs) -> i32 {
    let mut errors = Vec::new();
    let inputs = match gather(&args.paths, cfg, stepwise_sql::Dialect::Postgres, &mut errors) {
        Ok(i) => i,
        Err(e) => {
            out.error(&e);
            return 2;
        }
    };
    if !errors.is_empty() {
        errors.iter().for_each(|e| out.input_error(e));
        return 2;
    }
    let (url, scratch) = match &args.database {
        Some(raw) => match DbUrl::parse(raw) {
            Ok(u) if u.engine == stepwise_db::Engine::Postgres => (u, None),
            Ok(_) => {
                out.error("trace reads PostgreSQL's locks; it does not run on MySQL/MariaDB");
                return 2;
            }
            Err(e) => {
                out.error(&e.to_string());
                return 2;
            }
        },
        None => {
            out.progress("Starting a scratch PostgreSQL ...");
            match Scratch::start(ScratchOptions::default()).await {
                Ok(s) => (s.url(), Some(s)),
                Err(e) => {
                    out.error(&e.to_string());
                    return 1;
                }
            }
        }
    };
    let commit = args.commit || scratch.is_some();
    let result = run(&url, cfg, &inputs, commit).await;
    if let Some(s) = scratch {
        let _ = s.stop().await;
    }
    let traced = match result {
        Ok(t) => t,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    let failed = traced.iter().flat_map(|m| &m.statements).any(|s| s.error.is_some());
    if out.format == Format::Json {
        out.json(&serde_json::json!({ "rolled_back": !commit, "migrations": traced }));
    } else {
        render(out, &traced, commit);
    }
    i32::from(failed)
}

/// Statements run as `migrate` would run them: a transactional migration in
/// one transaction, a no-transaction one statement by statement. Without
/// `commit`, everything runs in one transaction rolled back at the end
/// (savepoints keep a failed statement from ending it). A lock an earlier
/// statement of the same transaction holds is not taken again, so it is
/// shown at the statement that took it.
async fn run(url: &DbUrl, cfg: &Config, inputs: &[super::lint::Input], commit: bool) -> Result<Vec<TracedMigration>, stepwise_db::DbError> {
    let conn = PgConn::connect(url, "stepwise trace").await?;
    let observer = conn.another().await?;
    let lock_timeout = cfg.run.lock_timeout.as_millis().max(1);
    conn.batch(&format!("SET lock_timeout = '{lock_timeout}ms'")).await?;
    if !commit {
        conn.batch("BEGIN").await?;
    }
    let mut out = Vec::new();
    for input in inputs {
        let Some(up) = &input.file.parsed.up else { continue };
        let transactional = !up.no_transaction;
        if commit && transactional {
            conn.batch("BEGIN").await?;
        }
        let mut statements = Vec::new();
        let mut aborted = false;
        for s in &up.statements {
            if aborted {
                statements.push(not_run(s, "an earlier statement of this transactional migration failed"));
                continue;
            }
            let traced = one(&conn, &observer, s, commit, transactional).await?;
            aborted = traced.error.is_some() && transactional;
            statements.push(traced);
        }
        if commit && transactional {
            conn.batch(if aborted { "ROLLBACK" } else { "COMMIT" }).await?;
        }
        out.push(TracedMigration { file: input.file.file.name.clone(), statements });
    }
    if !commit {
        conn.batch("ROLLBACK").await?;
    }
    Ok(out)
}

fn not_run(s: &Statement, why: &str) -> TracedStatement {
    TracedStatement {
        line: s.line,
        col: s.col,
        sql: s.sql.clone(),
        how: "not run",
        why_not_run: Some(why.to_string()),
        effects: Effects::default(),
        error: None,
    }
}

async fn one(
    conn: &PgConn,
    observer: &PgConn,
    s: &Statement,
    commit: bool,
    transactional: bool,
) -> Result<TracedStatement, stepwise_db::DbError> {
    if s.backfill.is_some() {
        return Ok(not_run(s, "a backfill step: stepwise runs it in batches (see `stepwise backfill`)"));
    }
    if s.online.is_some() {
        return Ok(not_run(s, "an online schema change: stepwise runs it through `osc`, not as written"));
    }
    if s.info.transaction_control {
        return Ok(not_run(s, "transaction control: trace opens and ends the transactions itself"));
    }
    let outside = s.info.requires_no_transaction.is_some();
    let (how, ran) = if outside && !commit {
        return Ok(not_run(s, "PostgreSQL runs it only outside a transaction, and --database is traced in a transaction that is rolled back; use --commit on a throwaway database, or the scratch server"));
    } else if outside {
        ("sampled", trace::sampled(conn, observer, &s.sql).await?)
    } else if commit && !transactional {
        // A transaction of its own, so its locks can be read before they go.
        conn.batch("BEGIN").await?;
        let r = trace::in_transaction(conn, &s.sql).await?;
        conn.batch(if r.is_ok() { "COMMIT" } else { "ROLLBACK" }).await?;
        ("transaction", r)
    } else if !commit {
        conn.batch("SAVEPOINT stepwise_trace").await?;
        let r = trace::in_transaction(conn, &s.sql).await?;
        conn.batch(if r.is_ok() { "RELEASE SAVEPOINT stepwise_trace" } else { "ROLLBACK TO SAVEPOINT stepwise_trace" }).await?;
        ("transaction", r)
    } else {
        ("transaction", trace::in_transaction(conn, &s.sql).await?)
    };
    let (effects, error) = match ran {
        Ok(e) => (e, None),
        Err(e) => (Effects::default(), Some(e.to_string())),
    };
    Ok(TracedStatement { line: s.line, col: s.col, sql: s.sql.clone(), how, why_not_run: None, effects, error })
}

fn render(out: &Out, traced: &[TracedMigration], commit: bool) {
    for m in traced {
        out.line(&m.file);
        for s in &m.statements {
            let first: String = s.sql.lines().next().unwrap_or("").chars().take(100).collect();
            let more = if first.len() < s.sql.len() { " ..." } else { "" };
            let ms = if s.how == "not run" { String::new() } else { format!("  ({:.1} ms)", s.effects.ms) };
            out.line(&format!("  {}:{} {first}{more}{ms}", s.line, s.col));
            if let Some(why) = &s.why_not_run {
                out.line(&format!("      not run: {why}"));
                continue;
            }
            if let Some(e) = &s.error {
                out.line(&format!("      failed: {e}"));
                continue;
            }
            let sampled = if s.how == "sampled" { " (sampled while it ran)" } else { "" };
            let locks = if s.effects.locks.is_empty() {
                "none on existing relations".to_string()
            } else {
                s.effects.locks.iter().map(|l| format!("{} {} ({})", l.relation, l.mode, l.kind)).collect::<Vec<_>>().join(", ")
            };
            out.line(&format!("      locks{sampled}: {locks}"));
            if !s.effects.rewritten.is_empty() {
                out.line(&format!("      rewrote: {}", s.effects.rewritten.join(", ")));
            }
            if !s.effects.scanned.is_empty() {
                out.line(&format!("      scanned: {}", s.effects.scanned.join(", ")));
            }
        }
    }
    if !commit {
        out.line("Everything ran in one transaction that was rolled back: the database is unchanged. A lock an earlier statement took is shown only there.");
    }
}

//! `migrate`, `rollback` and `plan`.

use super::{connect, load_set, phase_filter, target, Session};
use crate::cli::{Format, MigrateArgs, PhaseArg};
use crate::config::Config;
use crate::render::{plural, Out};
use serde::Serialize;
use stepwise_lint::Severity;
use stepwise_migrate::deploy::{BackupTo, DeployOptions, Outcome};
use stepwise_migrate::engine::Engine;
use stepwise_migrate::events::Event;
use stepwise_migrate::health::{Check, HealthCheck};
use stepwise_migrate::history::HistoryRow;
use stepwise_migrate::resolve::{check_runnable, resolve, runs_in_transaction, select_pending, Selection};
use stepwise_migrate::rollback::RollbackTarget;
use stepwise_migrate::source::MigrationSet;
use stepwise_migrate::{Migration, RunError};
use stepwise_sql::Dialect;

pub async fn migrate(cfg: &Config, out: &Out, args: &MigrateArgs) -> i32 {
    let sel = Selection {
        phase: phase_filter(args.phase),
        to: args.to.clone(),
        allow_drift: args.allow_drift,
        allow_out_of_order: args.allow_out_of_order,
    };
    if args.dry_run {
        return show_plan(cfg, out, &sel, true).await;
    }
    // Flags (and STEPWISE_ONLINE_*) over `[online]` in stepwise.toml.
    let mut run = cfg.run.clone();
    if let Some(t) = args.online_batch_time {
        run.online.target = Some(t);
        run.online.fixed_rows = None;
    }
    if let Some(n) = args.online_batch_rows {
        run.online.fixed_rows = Some(n);
    }
    if let Some(r) = args.online_max_rate {
        run.online.max_rate = Some(r);
    }
    if let Some(lag) = args.online_max_replica_lag {
        run.online.max_replica_lag = lag.0;
    }
    run.online_all_tables_publication |= args.online_allow_all_tables_publication;
    run.cancel_blockers = args.cancel.policy();
    let mut s = match Session::open(cfg, out, args.scratch).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Old tables that online statements kept, for the closing reminder.
    let mut kept: Vec<(i64, String)> = Vec::new();
    let code = async {
        let mut report = |e: Event| {
            if let Event::OnlineSwapped { job, old: Some(old), .. } = &e {
                kept.push((*job, old.clone()));
            }
            out.event(&e)
        };
        let deploy = deploy_options(cfg, args);
        if !deploy.is_empty() {
            let outcome = stepwise_migrate::deploy::deploy(&mut s.engine, &s.set, &sel, &run, &deploy, &s.target.url, &mut report).await;
            return Ok(deployed(out, outcome));
        }
        let result = stepwise_migrate::apply::migrate(&mut s.engine, &s.set, &sel, &run, &mut report).await;
        if out.format == Format::Text && !kept.is_empty() {
            // Said whether or not a later migration failed: the swaps happened.
            for (job, old) in &kept {
                out.line(&format!(
                    "Kept the old table {old} (osc job {job}) in sync: once the change is confirmed, `stepwise osc finish --job {job}` drops it; `stepwise osc revert --job {job}` swaps it back."
                ));
            }
        }
        let applied = result.map_err(|e| out.run_error(&e))?;
        if out.format == Format::Json {
            out.json(&serde_json::json!({"event": "result", "applied": applied}));
        } else if applied.is_empty() {
            out.line("Nothing to apply: the database is up to date.");
        } else {
            let total: u64 = applied.iter().map(|a| a.duration_ms).sum();
            out.line(&format!("Applied {} migration{} in {total} ms.", applied.len(), plural(applied.len())));
        }
        Ok::<i32, i32>(0)
    }
    .await
    .unwrap_or_else(|c| c);
    s.close().await;
    code
}

/// Hooks, backup and health check, from flags over stepwise.toml.
fn deploy_options(cfg: &Config, args: &MigrateArgs) -> DeployOptions {
    let backup = match (&args.backup, &args.backup_command) {
        (Some(dir), _) => Some(BackupTo::Dir(dir.clone())),
        (_, Some(cmd)) => Some(BackupTo::Command(cmd.clone())),
        _ => match (&cfg.backup.dir, &cfg.backup.command) {
            (Some(dir), _) => Some(BackupTo::Dir(dir.clone())),
            (_, Some(cmd)) => Some(BackupTo::Command(cmd.clone())),
            _ => None,
        },
    };
    DeployOptions {
        backup,
        before_migrate: cfg.hooks.before_migrate.clone(),
        after_migrate: cfg.hooks.after_migrate.clone(),
        health: args.health_check.as_deref().map(|c| HealthCheck {
            check: Check::parse(c),
            timeout: args.health_timeout,
            retries: args.health_retries,
        }),
    }
}

/// Render a deploy's outcome; the exit code says which it was: 0 applied
/// and healthy, 3 rolled back and healthy again, 4 rolled back and still
/// failing its check, 5 check failed and the rollback refused (1 and 2 as ever).
fn deployed(out: &Out, outcome: Result<Outcome, RunError>) -> i32 {
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return out.run_error(&e),
    };
    let code = match &outcome {
        Outcome::NothingPending | Outcome::Applied { .. } => 0,
        Outcome::RolledBack { check_after: None, .. } => 3,
        Outcome::RolledBack { .. } => 4,
        Outcome::RollbackRefused { .. } => 5,
    };
    if out.format == Format::Json {
        let mut v = serde_json::to_value(&outcome).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("event".into(), "result".into());
            o.insert("exit_code".into(), code.into());
        }
        out.json(&v);
        return code;
    }
    match &outcome {
        Outcome::NothingPending => out.line("Nothing to apply: the database is up to date."),
        Outcome::Applied { applied, .. } => {
            let total: u64 = applied.iter().map(|a| a.duration_ms).sum();
            out.line(&format!("Applied {} migration{} in {total} ms.", applied.len(), plural(applied.len())));
        }
        Outcome::RolledBack { applied, rolled_back, check_after, .. } => {
            out.line(&format!(
                "The health check failed: rolled back the {} migration{} this run applied ({} rolled back); the check {} after the rollback.",
                applied.len(),
                plural(applied.len()),
                rolled_back.len(),
                if check_after.is_none() { "passes" } else { "still fails" }
            ));
        }
        Outcome::RollbackRefused { reason, backup, .. } => {
            out.error(&format!("the health check failed, and the migrations of this run were not rolled back: {reason}"));
            match backup {
                Some(b) => out.line(&format!("To return to the state before this run, restore the backup: {}", b.restore)),
                None => out.line("No backup was taken by this run (--backup DIR takes one)."),
            }
        }
    }
    code
}

pub async fn rollback(cfg: &Config, out: &Out, step: Option<usize>, to: Option<String>) -> i32 {
    let goal = match to {
        Some(v) => RollbackTarget::To(v),
        None => RollbackTarget::Steps(step.unwrap_or(1)),
    };
    let mut s = match Session::open(cfg, out, false).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = async {
        let done = stepwise_migrate::rollback::rollback(&mut s.engine, &s.set, &goal, &cfg.run, &mut |e| out.event(&e))
            .await
            .map_err(|e| out.run_error(&e))?;
        if out.format == Format::Json {
            out.json(&serde_json::json!({"event": "result", "rolled_back": done}));
        } else if done.is_empty() {
            out.line("Nothing to roll back.");
        } else {
            out.line(&format!("Rolled back {} migration{}.", done.len(), plural(done.len())));
        }
        Ok::<i32, i32>(0)
    }
    .await
    .unwrap_or_else(|c| c);
    s.close().await;
    code
}

pub async fn plan(cfg: &Config, out: &Out, phase: PhaseArg) -> i32 {
    let sel = Selection { phase: phase_filter(phase), to: None, allow_drift: true, allow_out_of_order: true };
    show_plan(cfg, out, &sel, false).await
}

#[derive(Serialize)]
struct PlannedStatement {
    line: usize,
    col: usize,
    sql: String,
    summary: String,
    /// Marked `-- stepwise:online`: runs as an online schema change.
    online: Option<stepwise_sql::OnlineAlter>,
}

#[derive(Serialize)]
struct Planned {
    version: String,
    name: String,
    phase: String,
    file: String,
    transactional: bool,
    statements: Vec<PlannedStatement>,
}

fn planned(m: &Migration, dialect: Dialect) -> Planned {
    Planned {
        version: m.version.text.clone(),
        name: m.name.clone(),
        phase: m.phase.as_str().into(),
        file: m.files.first().cloned().unwrap_or_default(),
        transactional: runs_in_transaction(&m.up, dialect),
        statements: m
            .up
            .statements
            .iter()
            .map(|s| PlannedStatement {
                line: s.line,
                col: s.col,
                sql: s.sql.clone(),
                summary: s.info.summary.clone(),
                online: s.online.clone(),
            })
            .collect(),
    }
}

/// The pending migrations and how each would run. Reads history when a
/// database is configured; without one, everything is pending.
async fn show_plan(cfg: &Config, out: &Out, sel: &Selection, dry_run: bool) -> i32 {
    let (dialect, history, pg_major, mysql_version): (Dialect, Vec<HistoryRow>, Option<u32>, Option<String>) =
        match cfg.database_url.as_deref() {
            None => {
                if out.format == Format::Text {
                    out.progress("note: no database configured; every migration is shown as pending");
                }
                let dialect = if matches!(cfg.dialect.as_deref(), Some("mysql" | "mariadb")) { Dialect::MySql } else { Dialect::Postgres };
                (dialect, vec![], None, None)
            }
            Some(_) => {
                let t = match target(cfg, out, false).await {
                    Ok(t) => t,
                    Err(code) => return code,
                };
                let mut engine = match connect(cfg, out, &t.url).await {
                    Ok(e) => e,
                    Err(code) => return code,
                };
                match engine.history().await {
                    Ok(h) => (engine.dialect(), h, engine.pg_major(), engine.mysql_version()),
                    Err(e) => return out.run_error(&RunError::Db(e)),
                }
            }
        };
    let set: MigrationSet = match load_set(cfg, out, dialect) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let entries = resolve(&set, &history);
    let pending = match select_pending(&entries, sel) {
        Ok(p) => p,
        Err(refusal) => return out.run_error(&refusal.into()),
    };
    let invalid: Vec<_> = pending.iter().flat_map(|m| check_runnable(&m.up, dialect)).collect();
    let plan: Vec<Planned> = pending.iter().map(|m| planned(m, dialect)).collect();
    let findings = match &cfg.run.lint {
        Some(o) => {
            let o = stepwise_migrate::lint_gate::for_server(o, pg_major, mysql_version.as_deref());
            stepwise_migrate::lint_gate::lint_pending(&set, &pending, &o, dialect)
        }
        None => vec![],
    };
    if out.format == Format::Json {
        out.json(&serde_json::json!({"pending": plan, "dry_run": dry_run, "lint": findings}));
    } else if plan.is_empty() {
        out.line("Nothing pending.");
    } else {
        for p in &plan {
            let online = p.statements.iter().filter(|s| s.online.is_some()).count();
            let how = match (p.transactional, online) {
                (true, _) => "one transaction".to_string(),
                (false, 0) => "no transaction: statement by statement, progress recorded".to_string(),
                (false, n) => format!("no transaction: statement by statement, progress recorded; {n} online change{}", plural(n)),
            };
            out.line(&format!("{} {} [{}] ({how})", p.version, p.name, p.phase));
            out.line(&format!("  file: {}", p.file));
            for s in &p.statements {
                // The first line, at most 100 characters: a plan is read by
                // people, and a seed file's INSERT can be megabytes long.
                let line = s.sql.lines().next().unwrap_or("");
                let first_line: String = line.chars().take(100).collect();
                let more = if first_line.len() < line.len() || s.sql.lines().nth(1).is_some() { " ..." } else { "" };
                out.line(&format!("  {:>4}: {first_line}{more}", s.line));
                if let Some(o) = &s.online {
                    out.line(&format!(
                        "        online: osc copies {} with `{}` applied, in batches, while writes go on; verifies the copy, swaps it in, and keeps the old table",
                        o.table,
                        o.clauses.split_whitespace().collect::<Vec<_>>().join(" ")
                    ));
                }
            }
        }
        if dry_run {
            out.line(&format!("Dry run: {} migration{} would be applied; nothing was changed.", plan.len(), plural(plan.len())));
        }
    }
    if !invalid.is_empty() {
        return out.run_error(&RunError::Invalid(invalid));
    }
    if out.format == Format::Text {
        // Errors in full; warnings counted (`stepwise lint` shows them).
        findings.iter().filter(|f| f.severity == Severity::Error).for_each(|f| crate::lint_output::finding_text(out, f));
        if let Some(summary) = stepwise_migrate::lint_gate::warnings_summary(&findings) {
            out.line(&summary);
        }
    }
    let blocking: Vec<_> = stepwise_migrate::lint_gate::blocking(&findings).into_iter().cloned().collect();
    if !blocking.is_empty() {
        if out.format == Format::Text {
            out.error(&RunError::Lint(blocking).to_string());
        }
        return 1;
    }
    0
}

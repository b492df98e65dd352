//! `stepwise plan --checklist [--format markdown|json]`: the deploy
//! checklist of the pending migrations (see `stepwise_migrate::checklist`),
//! with the live tables' sizes and write rates when a database is configured.

use super::{connect, load_set, phase_filter, target};
use crate::cli::{Format, PhaseArg};
use crate::config::Config;
use crate::render::Out;
use std::time::Duration;
use stepwise_db::table_facts::{self, TableFacts, WriteRates};
use stepwise_migrate::checklist::estimate::human_seconds;
use stepwise_migrate::checklist::{build, BackupPlan, Checklist, Judge, MigrationCheck, StatementCheck};
use stepwise_migrate::engine::any::AnyEngine;
use stepwise_migrate::engine::Engine;
use stepwise_migrate::error::RunError;
use stepwise_migrate::history::HistoryRow;
use stepwise_migrate::resolve::{resolve, select_pending, Selection};
use stepwise_sql::Dialect;

/// How long the write rate is sampled: PostgreSQL's backends report their
/// row counts at most once a second, so a shorter window misses them.
const WRITE_WINDOW: Duration = Duration::from_secs(2);

struct Live {
    history: Vec<HistoryRow>,
    facts: Vec<TableFacts>,
    rates: WriteRates,
    judge: Judge,
    server: String,
    pg_major: Option<u32>,
    mysql_version: Option<String>,
}

async fn live(cfg: &Config, out: &Out) -> Result<(Dialect, Live), i32> {
    let t = target(cfg, out, false).await?;
    let mut engine = connect(cfg, out, &t.url).await?;
    let history = engine.history().await.map_err(|e| out.run_error(&RunError::Db(e)))?;
    let failed = |e: String| {
        out.error(&format!("reading the database for the checklist: {e}"));
        1
    };
    let server = engine.server();
    let (pg_major, mysql_version) = (engine.pg_major(), engine.mysql_version());
    let (dialect, facts, judge) = match &mut engine {
        AnyEngine::Pg(pg) => {
            let facts = table_facts::pg(pg.session(), &cfg.schema, WRITE_WINDOW).await.map_err(|e| failed(e.to_string()))?;
            let (schema, version) = super::lint::live_schema(pg.session(), cfg).await.map_err(failed)?;
            (Dialect::Postgres, facts, Judge::Pg(Box::new(stepwise_lint::pg::work::Planner::new(schema, version))))
        }
        AnyEngine::My(my) => {
            let facts = table_facts::mysql(my.session(), &cfg.schema, WRITE_WINDOW).await.map_err(|e| failed(e.to_string()))?;
            let (schema, server) = super::lint_mysql::live_schema(my.session(), cfg).await.map_err(failed)?;
            (Dialect::MySql, facts, Judge::MySql(stepwise_lint::mysql::work::Planner::new(schema, server.unwrap_or_default())))
        }
    };
    let (facts, rates) = facts;
    Ok((dialect, Live { history, facts, rates, judge, server, pg_major, mysql_version }))
}

pub async fn checklist(cfg: &Config, out: &Out, phase: PhaseArg) -> i32 {
    let (dialect, live) = match cfg.database_url.as_deref() {
        None => {
            let dialect = if matches!(cfg.dialect.as_deref(), Some("mysql" | "mariadb")) { Dialect::MySql } else { Dialect::Postgres };
            (dialect, None)
        }
        Some(_) => match live(cfg, out).await {
            Ok((d, l)) => (d, Some(l)),
            Err(code) => return code,
        },
    };
    let set = match load_set(cfg, out, dialect) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let history = live.as_ref().map(|l| l.history.clone()).unwrap_or_default();
    let entries = resolve(&set, &history);
    let sel = Selection { phase: phase_filter(phase), to: None, allow_drift: true, allow_out_of_order: true };
    let pending = match select_pending(&entries, &sel) {
        Ok(p) => p,
        Err(refusal) => return out.run_error(&refusal.into()),
    };
    let findings = match &cfg.run.lint {
        Some(o) => {
            let (pg, my) = live.as_ref().map(|l| (l.pg_major, l.mysql_version.clone())).unwrap_or((None, None));
            let o = stepwise_migrate::lint_gate::for_server(o, pg, my.as_deref());
            stepwise_migrate::lint_gate::lint_pending(&set, &pending, &o, dialect)
        }
        None => vec![],
    };
    let backup = match (&cfg.backup.dir, &cfg.backup.command) {
        (Some(dir), _) => BackupPlan::Dir { dir: dir.display().to_string() },
        (None, Some(command)) => BackupPlan::Command { command: command.clone() },
        (None, None) => BackupPlan::None,
    };
    let (server, checklist) = match live {
        Some(mut l) => {
            let c = build(&pending, dialect, &mut l.judge, &l.facts, Some(l.rates), backup, &findings);
            (Some(l.server), c)
        }
        None => {
            let mut judge = match dialect {
                Dialect::Postgres => Judge::Pg(Box::new(stepwise_lint::pg::work::Planner::new(Default::default(), 15))),
                Dialect::MySql => Judge::MySql(stepwise_lint::mysql::work::Planner::new(Default::default(), Default::default())),
            };
            (None, build(&pending, dialect, &mut judge, &[], None, backup, &findings))
        }
    };
    match out.format {
        Format::Json => out.json(&serde_json::json!({"checklist": checklist, "server": server})),
        Format::Markdown => render(&checklist, server.as_deref(), true).iter().for_each(|l| out.line(l)),
        _ => render(&checklist, server.as_deref(), false).iter().for_each(|l| out.line(l)),
    }
    // As `plan`: lint errors that would refuse the run make the exit 1 (the
    // checklist is printed all the same).
    if stepwise_migrate::lint_gate::blocking(&findings).is_empty() {
        0
    } else {
        1
    }
}

/// The checklist as markdown (for a pull request comment) or plain text.
fn render(c: &Checklist, server: Option<&str>, md: bool) -> Vec<String> {
    let code = |s: &str| code(s, md);
    let mut out = Vec::new();
    let n = c.migrations.len();
    out.push(format!("{}Deploy checklist: {n} pending migration{}", if md { "## " } else { "" }, if n == 1 { "" } else { "s" }));
    out.push(String::new());
    match (server, &c.rates) {
        (Some(server), Some(r)) => {
            let server_wide = r.server_per_sec.map(|w| format!("; server-wide {w:.0} rows/s")).unwrap_or_default();
            out.push(format!(
                "{server}: table sizes from the catalog, writes measured over {:.1} s ({}{server_wide}). Estimates are for a warm cache and an idle server.",
                r.window_ms as f64 / 1000.0,
                r.source
            ));
        }
        _ => out.push("No database configured: locks from the statements alone, no sizes and no durations.".into()),
    }
    let backup = match &c.backup {
        BackupPlan::Dir { dir } => format!("[x] backup: taken into {} before the first migration, checked readable", code(dir)),
        BackupPlan::Command { command } => format!("[x] backup: {} runs before the first migration", code(command)),
        BackupPlan::None => {
            format!("[ ] backup: none configured ({} or {} in stepwise.toml)", code("migrate --backup DIR"), code("[backup] dir"))
        }
    };
    if n == 0 {
        out.push(String::new());
        out.push("Nothing pending.".into());
        return out;
    }
    for (i, m) in c.migrations.iter().enumerate() {
        out.push(String::new());
        out.extend(migration(i + 1, m, md, &backup));
    }
    out
}

fn migration(index: usize, m: &MigrationCheck, md: bool, backup: &str) -> Vec<String> {
    let code = |s: &str| code(s, md);
    let bullet = if md { "- " } else { "  " };
    let mut out = Vec::new();
    let how = if m.transactional { "one transaction" } else { "statement by statement, no transaction" };
    let total = m.estimate_seconds.map(|s| format!(", about {} of work", human_seconds(s))).unwrap_or_default();
    out.push(format!("{}{index}. {} {} ({}, {how}{total})", if md { "### " } else { "" }, m.version, m.name, m.phase));
    out.push(format!("{bullet}file: {}", code(&m.file)));
    for s in &m.statements {
        out.extend(statement(s, md));
    }
    let boxed = |done: bool, text: String| format!("{bullet}[{}] {text}", if done { "x" } else { " " });
    let down = match (m.down.exists, m.down.restores_data, &m.down.note) {
        (true, true, None) => "down section: rolling back gives the data back".to_string(),
        (true, true, Some(note)) => format!("down section: {note}"),
        (_, _, Some(note)) => note.clone(),
        (_, _, None) => "no down section".to_string(),
    };
    out.push(boxed(m.down.exists && m.down.restores_data, down));
    out.push(format!("{bullet}{backup}"));
    if m.online {
        out.push(boxed(true, "online: osc/backfill work runs in batches and resumes after a crash; progress is recorded".into()));
    }
    out.push(boxed(false, format!("watch while it runs: {}", m.watch.iter().map(|w| code(w)).collect::<Vec<_>>().join(", "))));
    if m.findings.is_empty() {
        out.push(boxed(true, "lint: no findings".into()));
    } else {
        out.push(boxed(false, format!("lint: {} finding{}", m.findings.len(), if m.findings.len() == 1 { "" } else { "s" })));
        for f in &m.findings {
            out.push(format!("  {bullet}{}:{} {} ({}): {}", f.line, f.col, f.rule, f.severity.as_str(), f.message));
        }
    }
    out.push(boxed(false, "tested on a staging copy of production".into()));
    out
}

fn statement(s: &StatementCheck, md: bool) -> Vec<String> {
    let code = |s: &str| code(s, md);
    let (bullet, sub) = if md { ("- ", "  - ") } else { ("  ", "      ") };
    let mut out = vec![format!("{bullet}line {}: {}", s.line, code(&s.sql))];
    let w = &s.work;
    if let Some(a) = &w.algorithm {
        out.push(format!("{sub}algorithm: {}", code(a)));
    }
    if w.locks.is_empty() {
        out.push(format!("{sub}locks: nothing others wait for"));
    }
    for l in &w.locks {
        let held = match (&s.estimate, l.during_work) {
            (_, false) if s.work.kind == stepwise_lint::work::WorkKind::OnlineCopy => {
                "for moments (creating the triggers, the swap), under the lock timeout".to_string()
            }
            (_, false) => "for a moment".to_string(),
            (Some(e), true) => format!("for about {}", human_seconds(e.seconds)),
            (None, true) => "for the whole work (size unknown)".to_string(),
        };
        let writes = s.writes_held.filter(|n| l.during_work && *n >= 1.0).map(|n| format!(" (about {n:.0} writes)")).unwrap_or_default();
        out.push(format!("{sub}locks: {} on {} {held}: {} wait{writes}", l.lock, code(&l.table), l.blocks));
    }
    let estimate = s.estimate.as_ref().map(|e| format!(": about {} ({})", human_seconds(e.seconds), e.basis)).unwrap_or_default();
    out.push(format!("{sub}work: {}{estimate}", w.reason));
    out
}

/// Inline code in markdown (a backquote inside becomes a quote), as is in text.
fn code(s: &str, md: bool) -> String {
    if md {
        format!("`{}`", s.replace('`', "'"))
    } else {
        s.to_string()
    }
}

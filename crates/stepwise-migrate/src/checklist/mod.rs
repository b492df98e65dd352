//! The deploy checklist of `stepwise plan --checklist`: for each pending
//! migration, what each statement locks and for how long (the lint's
//! knowledge of the statement, the table's size and write rate when a
//! database is at hand), how it runs, whether its down section gives the
//! data back, whether a backup is taken, what to watch while it runs, and
//! the lint's findings. Pure: the facts come in, the CLI renders it.

pub mod estimate;

use crate::migration::Migration;
use estimate::Estimate;
use serde::Serialize;
use stepwise_db::table_facts::{TableFacts, WriteRates};
use stepwise_lint::work::{Work, WorkKind};
use stepwise_lint::Finding;
use stepwise_sql::{Dialect, Statement};

/// Reads each statement against the schema, per engine.
pub enum Judge {
    Pg(Box<stepwise_lint::pg::work::Planner>),
    MySql(stepwise_lint::mysql::work::Planner),
}

impl Judge {
    fn work(&mut self, s: &Statement) -> Work {
        if let Some(b) = &s.backfill {
            return Work::new(
                Some(unquote(&b.table)),
                WorkKind::RowChanges,
                "stepwise backfills it in short batches, each its own transaction: no lock held between batches",
            );
        }
        let read = match self {
            Judge::Pg(p) => p.statement(&s.sql),
            Judge::MySql(p) => p.statement(&s.sql),
        };
        let work = read.unwrap_or_else(|e| Work::new(None, WorkKind::Catalog, format!("not analysed: {e}")));
        let Some(online) = &s.online else { return work };
        // What locks the live table for moments: the triggers' creation and the swap.
        let lock = match self {
            Judge::Pg(_) => "ACCESS EXCLUSIVE",
            Judge::MySql(_) => "exclusive metadata lock",
        };
        Work { table: work.table.clone().or_else(|| Some(unquote(&online.table))), ..work }.online(lock)
    }
}

/// `"Odd Name"`, `` `t` ``, `app.orders` as the lint's model names them
/// (PostgreSQL's `public.` dropped; MySQL names in lower case by the caller).
fn unquote(name: &str) -> String {
    let name = name.trim_matches(|c| c == '"' || c == '`');
    name.strip_prefix("public.").unwrap_or(name).to_string()
}

/// Where the backup before the run will go, as configured.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackupPlan {
    Dir { dir: String },
    Command { command: String },
    None,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementCheck {
    pub line: usize,
    /// The first line of the statement, at most 100 characters.
    pub sql: String,
    pub work: Work,
    /// How long the work takes (None: instant, or the size is unknown).
    pub estimate: Option<Estimate>,
    /// The table's writes that would wait while its lock is held for the
    /// work (the write rate times the estimate), where both are known.
    pub writes_held: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DownCheck {
    pub exists: bool,
    /// Rolling back gives the data back (not when the up destroys data).
    pub restores_data: bool,
    /// Why not, or what rolling back loses.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationCheck {
    pub version: String,
    pub name: String,
    pub file: String,
    pub phase: String,
    /// One transaction, or statement by statement.
    pub transactional: bool,
    pub statements: Vec<StatementCheck>,
    /// The sum of the statements' estimates, when any has one.
    pub estimate_seconds: Option<f64>,
    /// Runs as osc or backfill (online work with progress).
    pub online: bool,
    pub down: DownCheck,
    pub watch: Vec<String>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Checklist {
    pub migrations: Vec<MigrationCheck>,
    pub backup: BackupPlan,
    /// Where sizes and write rates came from; None without a database.
    pub rates: Option<WriteRates>,
}

/// The checklist for `pending`, in order (each migration sees the schema
/// the ones before it leave). `facts`: the live tables' sizes, empty
/// without a database; `findings`: the lint's, for the pending files.
pub fn build(
    pending: &[&Migration],
    dialect: Dialect,
    judge: &mut Judge,
    facts: &[TableFacts],
    rates: Option<WriteRates>,
    backup: BackupPlan,
    findings: &[Finding],
) -> Checklist {
    // Indexes built by a statement make the later statements' copies and
    // rewrites of the table slower: they are added to its facts as they come.
    let mut facts: Vec<TableFacts> = facts.to_vec();
    let find = |facts: &[TableFacts], table: &str| {
        let key = if dialect == Dialect::MySql { table.to_ascii_lowercase() } else { table.to_string() };
        facts.iter().position(|f| f.table == key)
    };
    let migrations = pending
        .iter()
        .map(|m| {
            let transactional = stepwise_sql::runnable::runs_in_transaction(&m.up, dialect);
            let statements: Vec<StatementCheck> =
                m.up.statements
                    .iter()
                    .map(|s| {
                        let work = judge.work(s);
                        let at = work.table.as_deref().and_then(|t| find(&facts, t));
                        let f = at.map(|i| &facts[i]);
                        let estimate = estimate::estimate(&work, f, dialect);
                        let holds_writes = work.locks.iter().any(|l| l.during_work && l.blocks_writes);
                        let writes_held = match (holds_writes, &estimate, f.and_then(|f| f.writes_per_sec)) {
                            (true, Some(e), Some(w)) => Some(w * e.seconds),
                            _ => None,
                        };
                        if let (Some(i), WorkKind::IndexBuild) = (at, work.kind) {
                            let f = &mut facts[i];
                            f.index_bytes += estimate::index_bytes_built(f.rows.unwrap_or(0), estimate::key_bytes(&work, f));
                        }
                        StatementCheck { line: s.line, sql: first_line(&s.sql), work, estimate, writes_held }
                    })
                    .collect();
            let estimates: Vec<f64> = statements.iter().filter_map(|s| s.estimate.as_ref().map(|e| e.seconds)).collect();
            let online = m.up.statements.iter().any(|s| s.online.is_some() || s.backfill.is_some());
            let file = m.files.first().cloned().unwrap_or_default();
            MigrationCheck {
                version: m.version.text.clone(),
                name: m.name.clone(),
                phase: m.phase.as_str().into(),
                transactional,
                estimate_seconds: (!estimates.is_empty()).then(|| estimates.iter().sum()),
                online,
                down: down_check(m),
                watch: watch(&statements),
                findings: findings.iter().filter(|f| m.files.iter().any(|name| name == &f.file) || f.file == file).cloned().collect(),
                file,
                statements,
            }
        })
        .collect();
    Checklist { migrations, backup, rates }
}

fn first_line(sql: &str) -> String {
    let line = sql.lines().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--")).unwrap_or("");
    let short: String = line.chars().take(100).collect();
    if short.len() < line.len() || sql.trim_end().lines().filter(|l| !l.trim_start().starts_with("--")).count() > 1 {
        format!("{short} ...")
    } else {
        short
    }
}

fn down_check(m: &Migration) -> DownCheck {
    let Some(down) = m.down.as_ref().filter(|d| !d.statements.is_empty()) else {
        return DownCheck {
            exists: false,
            restores_data: false,
            note: Some("no down section: undoing it means a new migration, or the backup".into()),
        };
    };
    if let Some(what) = m.up.statements.iter().find_map(|s| s.info.destroys_data.clone()) {
        return DownCheck {
            exists: true,
            restores_data: false,
            note: Some(format!("the up runs {what}: the down gives back the schema, not the values; only the backup has them")),
        };
    }
    let note = down
        .statements
        .iter()
        .find_map(|s| s.info.destroys_data.clone())
        .map(|what| format!("rolling back runs {what}: what was written there since the deploy is lost"));
    DownCheck { exists: true, restores_data: true, note }
}

/// `name` as one shell word: as it is when plain, else in single quotes.
fn shell_word(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

/// The commands to keep open while the migration runs.
fn watch(statements: &[StatementCheck]) -> Vec<String> {
    let mut out = Vec::new();
    for s in statements {
        for l in &s.work.locks {
            let cmd = format!("stepwise locks --table {} --watch", shell_word(&l.table));
            if !out.contains(&cmd) {
                out.push(cmd);
            }
        }
    }
    if statements.iter().any(|s| !matches!(s.work.kind, WorkKind::Catalog | WorkKind::Scan)) {
        out.push("stepwise progress --watch".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MigrationSet;
    use std::collections::BTreeMap;

    fn set(files: &[(&str, &str)]) -> MigrationSet {
        let dir = std::env::temp_dir().join(format!("stepwise-checklist-{}-{}", std::process::id(), files.len()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.join(name), text).expect("write");
        }
        let set = crate::source::load_dir(&dir, None, Dialect::Postgres).expect("loads");
        let _ = std::fs::remove_dir_all(&dir);
        set
    }

    fn items(writes: f64) -> TableFacts {
        TableFacts {
            table: "items".into(),
            rows: Some(1_000_000),
            data_bytes: 104_000_000,
            index_bytes: 30_000_000,
            column_bytes: BTreeMap::from([("a".into(), 4.0)]),
            writes_per_sec: Some(writes),
        }
    }

    fn pg_judge() -> Judge {
        let schema = stepwise_lint::pg::Schema::replay("CREATE TABLE items (id int PRIMARY KEY, a int, b text);").expect("parses");
        Judge::Pg(Box::new(stepwise_lint::pg::work::Planner::new(schema, 15)))
    }

    #[test]
    fn each_statement_gets_its_lock_work_and_estimate() {
        let s = set(&[(
            "1_checks.sql",
            "-- stepwise:no-transaction\n-- stepwise:up\nCREATE INDEX CONCURRENTLY items_a ON items (a);\n\
             ALTER TABLE items ALTER COLUMN a SET NOT NULL;\n-- stepwise:online\nALTER TABLE items ALTER COLUMN b SET STATISTICS 200;\n\
             -- stepwise:down\nDROP INDEX CONCURRENTLY items_a;\n",
        )]);
        let pending: Vec<&Migration> = s.migrations.iter().collect();
        let c = build(&pending, Dialect::Postgres, &mut pg_judge(), &[items(200.0)], None, BackupPlan::None, &[]);
        let m = &c.migrations[0];
        assert!(!m.transactional && m.online);
        let kinds: Vec<WorkKind> = m.statements.iter().map(|s| s.work.kind).collect();
        assert_eq!(kinds, [WorkKind::IndexBuild, WorkKind::Scan, WorkKind::OnlineCopy]);
        assert!(m.statements.iter().all(|s| s.estimate.is_some()));
        assert_eq!(m.statements[1].work.locks[0].lock, "ACCESS EXCLUSIVE");
        // SET NOT NULL holds writes for its scan; CONCURRENTLY holds none.
        assert!(m.statements[1].writes_held.is_some() && m.statements[0].writes_held.is_none());
        assert!(m.statements[2].work.locks.iter().all(|l| !l.during_work));
        assert!(m.down.exists && m.down.restores_data);
        assert_eq!(m.watch, ["stepwise locks --table items --watch", "stepwise progress --watch"]);
        let total: f64 = m.statements.iter().filter_map(|s| s.estimate.as_ref()).map(|e| e.seconds).sum();
        assert_eq!(m.estimate_seconds, Some(total));
    }

    #[test]
    fn table_names_in_the_commands_to_watch_are_one_shell_word() {
        assert_eq!(shell_word("app.orders"), "app.orders");
        assert_eq!(shell_word("Odd \"Name\""), "'Odd \"Name\"'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    #[test]
    fn a_down_cannot_give_back_what_the_up_dropped() {
        let s = set(&[
            ("1_drop.sql", "-- stepwise:up\nALTER TABLE items DROP COLUMN b;\n-- stepwise:down\nALTER TABLE items ADD COLUMN b text;\n"),
            ("2_add.sql", "-- stepwise:up\nALTER TABLE items ADD COLUMN c int;\n-- stepwise:down\nALTER TABLE items DROP COLUMN c;\n"),
            ("3_none.sql", "ALTER TABLE items ADD COLUMN d int;\n"),
        ]);
        let pending: Vec<&Migration> = s.migrations.iter().collect();
        let c = build(&pending, Dialect::Postgres, &mut pg_judge(), &[], None, BackupPlan::None, &[]);
        let downs: Vec<(bool, bool)> = c.migrations.iter().map(|m| (m.down.exists, m.down.restores_data)).collect();
        assert_eq!(downs, [(true, false), (true, true), (false, false)]);
        assert!(
            c.migrations[0].down.note.as_deref().is_some_and(|n| n.contains("DROP COLUMN") && n.contains("backup")),
            "{:?}",
            c.migrations[0].down
        );
        assert!(c.migrations[1].down.note.as_deref().is_some_and(|n| n.contains("lost")));
        // No sizes: locks named, nothing estimated.
        assert!(c.migrations.iter().flat_map(|m| &m.statements).all(|s| s.estimate.is_none()));
        assert_eq!(c.migrations[0].statements[0].work.locks[0].lock, "ACCESS EXCLUSIVE");
    }
}

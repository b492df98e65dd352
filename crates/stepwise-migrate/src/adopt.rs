//! `adopt`: import the history another tool kept, so that switching to
//! stepwise never re-applies what that tool applied.

use crate::apply::row_for;
use crate::engine::{Engine, TrackingOp};
use crate::error::RunError;
use crate::events::Event;
use crate::execute::{begin_locked, end_locked, RunOptions};
use crate::history::{RowStatus, Stamp};
use crate::migration::{MigrationKind, Version};
use crate::resolve::runs_in_transaction;
use crate::source::MigrationSet;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    Sqlx,
    /// `schema_migrations(version)`: Rails and dbmate.
    SchemaMigrations,
    /// `schema_migrations(version, dirty)`: golang-migrate's single row.
    GolangMigrate,
    Goose,
    Flyway,
}

impl Tool {
    pub fn parse(s: &str) -> Option<Tool> {
        match s {
            "sqlx" => Some(Tool::Sqlx),
            "rails" | "dbmate" | "schema-migrations" => Some(Tool::SchemaMigrations),
            "golang-migrate" | "migrate" => Some(Tool::GolangMigrate),
            "goose" => Some(Tool::Goose),
            "flyway" => Some(Tool::Flyway),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::SchemaMigrations => "dbmate/rails",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Goose => "goose",
            Tool::Flyway => "flyway",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AdoptReport {
    pub tool: String,
    /// Versions recorded as applied now.
    pub imported: Vec<String>,
    /// Versions stepwise already had.
    pub already: Vec<String>,
    /// Versions the other tool applied that have no file here.
    pub without_file: Vec<String>,
    /// Versions the other tool left failed or dirty: not imported.
    pub failed: Vec<String>,
}

fn truthy(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("t" | "true" | "1" | "TRUE"))
}

/// Which tool's table is here (the first found, in a fixed order).
pub async fn detect_tool<E: Engine>(engine: &mut E) -> Result<Option<Tool>, RunError> {
    if engine.table_exists("flyway_schema_history").await? {
        return Ok(Some(Tool::Flyway));
    }
    if engine.table_exists("goose_db_version").await? {
        return Ok(Some(Tool::Goose));
    }
    if engine.table_exists("_sqlx_migrations").await? {
        return Ok(Some(Tool::Sqlx));
    }
    if engine.table_exists("schema_migrations").await? {
        if engine.column_exists("schema_migrations", "dirty").await? {
            return Ok(Some(Tool::GolangMigrate));
        }
        return Ok(Some(Tool::SchemaMigrations));
    }
    Ok(None)
}

/// The versions the tool applied, in application order, and the failed ones.
async fn read_history<E: Engine>(engine: &mut E, tool: Tool, set: &MigrationSet) -> Result<(Vec<String>, Vec<String>), RunError> {
    let mut applied: Vec<String> = Vec::new();
    let mut failed = Vec::new();
    match tool {
        Tool::Sqlx => {
            for r in engine.text_rows("SELECT version, success FROM _sqlx_migrations ORDER BY version").await? {
                let v = r[0].clone().unwrap_or_default();
                if truthy(&r[1]) {
                    applied.push(v)
                } else {
                    failed.push(v)
                }
            }
        }
        Tool::SchemaMigrations => {
            for r in engine.text_rows("SELECT version FROM schema_migrations").await? {
                applied.extend(r[0].clone());
            }
        }
        Tool::GolangMigrate => {
            // One row: the newest version, and whether it failed halfway ("dirty").
            if let Some(r) = engine.text_rows("SELECT version, dirty FROM schema_migrations").await?.first() {
                let current = r[0].as_deref().and_then(Version::parse);
                let dirty = truthy(&r[1]);
                if let Some(cur) = current {
                    for m in set.migrations.iter().filter(|m| m.kind == MigrationKind::Versioned && m.version <= cur) {
                        if dirty && m.version == cur {
                            failed.push(m.version.text.clone());
                        } else {
                            applied.push(m.version.text.clone());
                        }
                    }
                    if !set.migrations.iter().any(|m| m.version == cur) && !dirty {
                        applied.push(cur.text.clone());
                    }
                }
            }
        }
        Tool::Goose => {
            // Rows are appended for each up (is_applied) and down (not applied).
            for r in engine.text_rows("SELECT version_id, is_applied FROM goose_db_version ORDER BY id").await? {
                let v = r[0].clone().unwrap_or_default();
                if v == "0" {
                    continue;
                }
                applied.retain(|a| a != &v);
                if truthy(&r[1]) {
                    applied.push(v);
                }
            }
        }
        Tool::Flyway => {
            let rows = engine
                .text_rows("SELECT version, type, success FROM flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank")
                .await?;
            for r in rows {
                let v = r[0].clone().unwrap_or_default();
                let kind = r[1].clone().unwrap_or_default();
                if !truthy(&r[2]) {
                    failed.push(v);
                    continue;
                }
                match kind.as_str() {
                    "UNDO_SQL" | "UNDO_JDBC" | "DELETE" => applied.retain(|a| a != &v),
                    "SQL" | "JDBC" => applied.push(v),
                    "BASELINE" => {
                        // A baseline stands for every version up to it: Flyway
                        // ignores the files below it, so they count as applied.
                        if let Some(base) = Version::parse(&v) {
                            let below = set.migrations.iter().filter(|m| m.kind == MigrationKind::Versioned && m.version < base);
                            applied.extend(below.map(|m| m.version.text.clone()));
                        }
                        applied.push(v);
                    }
                    _ => {}
                }
            }
        }
    }
    Ok((applied, failed))
}

pub async fn adopt<E: Engine>(
    engine: &mut E,
    set: &MigrationSet,
    from: Option<Tool>,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<AdoptReport, RunError> {
    begin_locked(engine, opts, report).await?;
    let result = adopt_locked(engine, set, from, opts, report).await;
    end_locked(engine).await;
    result
}

async fn adopt_locked<E: Engine>(
    engine: &mut E,
    set: &MigrationSet,
    from: Option<Tool>,
    opts: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<AdoptReport, RunError> {
    let tool = match from {
        Some(t) => t,
        None => detect_tool(engine).await?.ok_or_else(|| {
            RunError::Refused(
                "no other tool's history table here (looked for flyway_schema_history, goose_db_version, _sqlx_migrations, schema_migrations)".into(),
            )
        })?,
    };
    engine.ensure_store().await?;
    let (versions, failed) = read_history(engine, tool, set).await?;
    let history = engine.history().await?;
    let mut out = AdoptReport { tool: tool.name().into(), failed, ..Default::default() };
    for v in versions {
        let Some(parsed) = Version::parse(&v) else {
            out.without_file.push(v);
            continue;
        };
        let Some(m) = set.migrations.iter().find(|m| m.kind == MigrationKind::Versioned && m.version == parsed) else {
            out.without_file.push(v);
            continue;
        };
        if history.iter().any(|r| r.version == m.key() && r.status == RowStatus::Applied) {
            out.already.push(m.version.text.clone());
            continue;
        }
        let mut row = row_for(m, RowStatus::Applied, runs_in_transaction(&m.up, engine.dialect()), m.up.statements.len());
        row.duration_ms = Some(0);
        row.applied_by = format!("adopted from {}", tool.name());
        let mut ops = vec![TrackingOp::Save(row, Stamp::Finish)];
        if opts.rails && tool != Tool::SchemaMigrations {
            ops.push(TrackingOp::Rails(m.version.text.clone(), true));
        }
        engine.track(&ops).await?;
        report(Event::Adopted { tool: tool.name().into(), version: m.version.text.clone(), name: m.name.clone() });
        out.imported.push(m.version.text.clone());
    }
    Ok(out)
}

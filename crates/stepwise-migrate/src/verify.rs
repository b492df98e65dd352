//! `verify`: on an empty database, apply each migration, roll it back, check
//! that the schema is exactly what it was before, and apply it again. Then
//! roll everything back to empty and apply it all once more.

use crate::apply::migrate;
use crate::engine::any::AnyEngine;
use crate::error::RunError;
use crate::events::Event;
use crate::execute::RunOptions;
use crate::migration::MigrationKind;
use crate::resolve::{PhaseFilter, Selection};
use crate::rollback::{rollback, RollbackTarget};
use crate::source::MigrationSet;
use serde::Serialize;
use std::path::Path;
use stepwise_db::schema_dump::{diff_lines, dump_schema};
use stepwise_db::DbUrl;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The down migration restored the schema exactly, and the up ran again.
    Restored,
    NoDown,
    /// The schema after the down differs from the schema before the up.
    Differs {
        diff: Vec<String>,
    },
    /// After down, applying the up again gave another schema than the first time.
    ReapplyDiffers {
        diff: Vec<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub version: String,
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub migrations: Vec<Checked>,
    /// Rolling every migration back reached the empty schema again (None: some have no down).
    pub full_rollback_restores_empty: Option<bool>,
    pub full_rollback_diff: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.migrations.iter().all(|c| matches!(c.outcome, Outcome::Restored | Outcome::NoDown))
            && self.full_rollback_restores_empty != Some(false)
    }
}

pub async fn verify(
    url: &DbUrl,
    set: &MigrationSet,
    schema: &str,
    opts: &RunOptions,
    bindir: Option<&Path>,
    report: &mut dyn FnMut(Event),
) -> Result<VerifyReport, RunError> {
    // verify checks reversibility on a scratch database, not lock safety;
    // the old table an online statement keeps would only show up as a
    // difference there, and nobody needs the way back.
    let opts = &RunOptions { lint: None, online_finish: true, ..opts.clone() };
    let mut engine = AnyEngine::connect(url, schema, opts.rails).await?;
    let exclude = [schema];
    let dump = || dump_schema(url, &exclude, bindir);
    let empty = dump().await?;
    let mut checked = Vec::new();
    // Versions are checked one at a time without the repeatable (Flyway R__)
    // migrations: `migrate --to` applies those too, and they may need a later
    // version (a view over a column added later). They run last, with all.
    let only_versioned = MigrationSet {
        layout: set.layout,
        migrations: set.migrations.iter().filter(|m| m.kind == MigrationKind::Versioned).cloned().collect(),
    };
    let versioned: Vec<_> = only_versioned.migrations.iter().collect();
    let vset = &only_versioned;
    let upto = |v: &str| Selection { phase: PhaseFilter::All, to: Some(v.to_string()), allow_drift: false, allow_out_of_order: false };
    let all = Selection { phase: PhaseFilter::All, to: None, allow_drift: false, allow_out_of_order: false };
    for m in &versioned {
        let before = dump().await?;
        migrate(&mut engine, vset, &upto(&m.version.text), opts, report).await?;
        if m.down.is_none() {
            checked.push(Checked { version: m.version.text.clone(), name: m.name.clone(), outcome: Outcome::NoDown });
            continue;
        }
        let after = dump().await?;
        rollback(&mut engine, vset, &RollbackTarget::Steps(1), opts, report).await?;
        let restored = dump().await?;
        let outcome = if restored != before {
            Outcome::Differs { diff: diff_lines(&before, &restored) }
        } else {
            migrate(&mut engine, vset, &upto(&m.version.text), opts, report).await?;
            let again = dump().await?;
            if again == after {
                Outcome::Restored
            } else {
                Outcome::ReapplyDiffers { diff: diff_lines(&after, &again) }
            }
        };
        let differs = !matches!(outcome, Outcome::Restored);
        checked.push(Checked { version: m.version.text.clone(), name: m.name.clone(), outcome });
        if differs {
            // Later checks would compare against a schema this down left wrong.
            return Ok(VerifyReport { migrations: checked, full_rollback_restores_empty: None, full_rollback_diff: vec![] });
        }
    }
    let mut full = None;
    let mut full_diff = vec![];
    if !versioned.is_empty() && versioned.iter().all(|m| m.down.is_some()) {
        rollback(&mut engine, vset, &RollbackTarget::Steps(versioned.len()), opts, report).await?;
        let back = dump().await?;
        full = Some(back == empty);
        full_diff = diff_lines(&empty, &back);
    }
    // Everything, repeatables included, applies on top.
    migrate(&mut engine, set, &all, opts, report).await?;
    Ok(VerifyReport { migrations: checked, full_rollback_restores_empty: full, full_rollback_diff: full_diff })
}

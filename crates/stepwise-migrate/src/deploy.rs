//! The deploy around `migrate`, as the production checklists have it: a
//! hook before, a backup before the first pending migration (refusing to
//! migrate without one), the migrations, a hook after, a health check, and
//! when the check fails the automatic rollback of exactly the migrations this
//! run applied, newest first, where that gives the data back: each has a down
//! section and none of them destroyed data (a down cannot bring back a
//! dropped column's values; the backup can).

use crate::apply::{self, Applied};
use crate::engine::Engine;
use crate::error::RunError;
use crate::events::Event;
use crate::execute::RunOptions;
use crate::health::{self, HealthCheck};
use crate::history::RowStatus;
use crate::migration::Version;
use crate::resolve::{resolve, select_pending, Selection};
use crate::rollback::{self, RollbackTarget};
use crate::source::MigrationSet;
use serde::Serialize;
use std::path::PathBuf;
use stepwise_db::backup::Backup;
use stepwise_db::DbUrl;

#[derive(Debug, Clone)]
pub enum BackupTo {
    /// `pg_dump -Fc` / `mariadb-dump` into this directory.
    Dir(PathBuf),
    /// The user's own backup command (run with `sh -c`).
    Command(String),
}

#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    pub backup: Option<BackupTo>,
    pub before_migrate: Option<String>,
    pub after_migrate: Option<String>,
    pub health: Option<HealthCheck>,
}

impl DeployOptions {
    pub fn is_empty(&self) -> bool {
        self.backup.is_none() && self.before_migrate.is_none() && self.after_migrate.is_none() && self.health.is_none()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing was pending: no hook, backup or check ran.
    NothingPending,
    /// Applied, and healthy (or no check was asked for).
    Applied { applied: Vec<Applied>, backup: Option<Backup> },
    /// The check failed; this run's migrations were rolled back, newest
    /// first, and the check ran again (`healthy_after`: Ok, or why not).
    RolledBack { applied: Vec<Applied>, rolled_back: Vec<Applied>, check: String, check_after: Option<String>, backup: Option<Backup> },
    /// The check failed and the migrations stay applied: why they were not
    /// rolled back, and the backup that restores the state before them.
    RollbackRefused { applied: Vec<Applied>, check: String, reason: String, backup: Option<Backup> },
}

/// Run `cmd` with `sh -c`, the database URL in `DATABASE_URL` (the
/// environment, not the command line, which other users can read).
async fn hook(what: &str, cmd: &str, url: &DbUrl, pending: &str) -> Result<(), String> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("DATABASE_URL", url.expose())
        .env("STEPWISE_PENDING", pending)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("{what} `{cmd}` could not run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what} `{cmd}` failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
    }
}

pub async fn deploy<E: Engine>(
    engine: &mut E,
    set: &MigrationSet,
    sel: &Selection,
    opts: &RunOptions,
    d: &DeployOptions,
    url: &DbUrl,
    report: &mut dyn FnMut(Event),
) -> Result<Outcome, RunError> {
    let history = engine.history().await?;
    let entries = resolve(set, &history);
    let chosen = select_pending(&entries, sel)?;
    // What migrate would refuse is refused before any hook or backup runs.
    // (Its warnings are noted when migrate runs them.)
    apply::refuse_unrunnable(engine, set, &chosen, opts, &mut |_| {})?;
    let pending: Vec<String> = chosen.iter().map(|m| m.version.text.clone()).collect();
    if pending.is_empty() {
        apply::migrate(engine, set, sel, opts, report).await?;
        return Ok(Outcome::NothingPending);
    }
    let pending_text = pending.join(" ");
    if let Some(cmd) = &d.before_migrate {
        hook("the before_migrate hook", cmd, url, &pending_text)
            .await
            .map_err(|e| RunError::Refused(format!("{e}; nothing was migrated")))?;
    }
    let label = match pending.as_slice() {
        [one] => one.clone(),
        [first, .., last] => format!("{first}..{last}"),
        [] => String::new(),
    };
    let backup = match &d.backup {
        None => None,
        Some(BackupTo::Dir(dir)) => {
            let b = stepwise_db::backup::take(url, dir, &label)
                .await
                .map_err(|e| RunError::Refused(format!("the backup failed, so nothing was migrated: {e}")))?;
            report(Event::Note {
                message: format!("backup: {} ({} bytes), checked readable; to restore it: {}", b.path.display(), b.bytes, b.restore),
            });
            Some(b)
        }
        Some(BackupTo::Command(cmd)) => {
            hook("the backup command", cmd, url, &pending_text)
                .await
                .map_err(|e| RunError::Refused(format!("{e}; nothing was migrated")))?;
            report(Event::Note { message: format!("backup: `{cmd}` succeeded") });
            None
        }
    };
    let applied = match apply::migrate(engine, set, sel, opts, report).await {
        Ok(a) => a,
        Err(e) => {
            if let Some(b) = &backup {
                report(Event::Note { message: format!("the backup from before this run: {} (restore: {})", b.path.display(), b.restore) });
            }
            return Err(e);
        }
    };
    if let Some(cmd) = &d.after_migrate {
        hook("the after_migrate hook", cmd, url, &pending_text)
            .await
            .map_err(|e| RunError::Refused(format!("{e} (the migrations of this run stay applied)")))?;
    }
    let Some(check) = &d.health else { return Ok(Outcome::Applied { applied, backup }) };
    if applied.is_empty() {
        return Ok(Outcome::Applied { applied, backup });
    }
    report(Event::Note { message: format!("health check: {}", check.check) });
    let failed = match health::run(check).await {
        Ok(()) => {
            report(Event::Note { message: "health check passed".into() });
            return Ok(Outcome::Applied { applied, backup });
        }
        Err(e) => e,
    };
    report(Event::Note { message: format!("health check failed: {failed}") });
    if let Some(reason) = why_not_roll_back(engine, set, &applied).await? {
        return Ok(Outcome::RollbackRefused { applied, check: failed, reason, backup });
    }
    report(Event::Note { message: format!("rolling back the {} migration(s) this run applied, newest first", applied.len()) });
    let rolled_back = rollback::rollback(engine, set, &RollbackTarget::Steps(applied.len()), opts, report).await?;
    let check_after = health::run(check).await.err();
    report(Event::Note {
        message: match &check_after {
            None => "health check passed after the rollback".into(),
            Some(e) => format!("health check still fails after the rollback: {e}"),
        },
    });
    Ok(Outcome::RolledBack { applied, rolled_back, check: failed, check_after, backup })
}

/// Why the migrations this run applied cannot be rolled back automatically, if they cannot.
async fn why_not_roll_back<E: Engine>(engine: &mut E, set: &MigrationSet, applied: &[Applied]) -> Result<Option<String>, RunError> {
    for a in applied {
        let Some(m) = set.migrations.iter().find(|m| m.version.text == a.version) else {
            return Ok(Some(format!("{} is not among the migration files", a.version)));
        };
        if m.down.is_none() {
            return Ok(Some(format!("{} {} has no down section", a.version, a.name)));
        }
        if let Some((s, what)) = m.up.statements.iter().find_map(|s| s.info.destroys_data.as_ref().map(|w| (s, w))) {
            return Ok(Some(format!(
                "{} {} destroys data ({what} at line {}): its down cannot bring the values back",
                a.version, a.name, s.line
            )));
        }
    }
    // They must be the newest applied: a rollback goes newest first.
    let history = engine.history().await?;
    let mut versions: Vec<Option<Version>> =
        history.iter().filter(|r| r.status == RowStatus::Applied).map(|r| Version::parse(&r.version)).collect();
    versions.sort();
    let newest: Vec<&Option<Version>> = versions.iter().rev().take(applied.len()).collect();
    if applied.iter().any(|a| !newest.contains(&&Version::parse(&a.version))) {
        return Ok(Some("this run applied migrations older than others already applied (out of order)".into()));
    }
    Ok(None)
}

//! Settings from flags, then environment, then `stepwise.toml`, then defaults.
//! clap already merged flags and environment; this adds the file.

use crate::cli::Global;
use crate::duration::parse_duration;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use stepwise_migrate::retry::RetryPolicy;
use stepwise_migrate::{Layout, RunOptions};
use stepwise_sql::{InputError, LineIndex};

/// `stepwise.toml`. Unknown keys are errors: a typo must not silently fall back to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    /// `postgres`, `mysql` or `mariadb`: which SQL the migrations are written in.
    pub dialect: Option<String>,
    pub migrations_dir: Option<PathBuf>,
    pub layout: Option<String>,
    pub schema: Option<String>,
    pub lock_timeout: Option<String>,
    pub lock_retries: Option<u32>,
    pub statement_timeout: Option<String>,
    pub concurrent_timeout: Option<String>,
    pub lock_wait: Option<String>,
    pub role: Option<String>,
    pub rails_compat: Option<bool>,
    pub lint: Option<LintSection>,
    pub online: Option<OnlineSection>,
    pub backup: Option<BackupSection>,
    pub hooks: Option<HooksSection>,
}

/// `[backup]` in stepwise.toml: what `migrate` does before the first pending migration.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct BackupSection {
    /// Back up into this directory (pg_dump -Fc, mariadb-dump).
    pub dir: Option<PathBuf>,
    /// Or run this command as the backup.
    pub command: Option<String>,
}

/// `[hooks]` in stepwise.toml: commands run around `migrate` (sh -c, with DATABASE_URL and STEPWISE_PENDING set).
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct HooksSection {
    pub before_migrate: Option<String>,
    pub after_migrate: Option<String>,
}

/// `[online]` in stepwise.toml: the copies of statements marked
/// `-- stepwise:online` (flags and `STEPWISE_ONLINE_*` win over it).
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct OnlineSection {
    /// Aim for batches that take this long (`50ms` for copies, `20ms` for backfills).
    pub batch_time: Option<String>,
    /// A fixed number of rows per batch instead.
    pub batch_rows: Option<u64>,
    /// At most this many rows per second.
    pub max_rate: Option<f64>,
    /// Wait while a standby replays more than this far behind (`5s`, or `off`).
    pub max_replica_lag: Option<String>,
    /// Run although a publication publishes all tables.
    pub allow_all_tables_publication: Option<bool>,
}

/// `[lint]` in stepwise.toml.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct LintSection {
    /// Opt-in rules to turn on (`all` for every rule).
    #[serde(default)]
    pub enable: Vec<String>,
    #[serde(default)]
    pub disable: Vec<String>,
    /// Severity per rule: "error" or "warning".
    #[serde(default)]
    pub severity: std::collections::BTreeMap<String, String>,
    /// Path patterns not to lint.
    #[serde(default)]
    pub exclude: Vec<String>,
    pub large_table_rows: Option<i64>,
    pub pg_version: Option<u32>,
    /// The MySQL/MariaDB server to judge for, e.g. `mariadb-10.11`.
    pub server_version: Option<String>,
}

#[derive(Debug)]
pub struct Config {
    pub lint: LintSection,
    pub dialect: Option<String>,
    pub database_url: Option<String>,
    pub migrations_dir: PathBuf,
    pub layout: Option<Layout>,
    pub schema: String,
    pub run: RunOptions,
    pub backup: BackupSection,
    pub hooks: HooksSection,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Located(InputError),
    #[error("{0}")]
    Invalid(String),
}

pub const DEFAULT_CONFIG: &str = "stepwise.toml";

pub fn load(global: &Global) -> Result<Config, ConfigError> {
    let path = match &global.config {
        Some(p) => Some(p.clone()),
        None => Path::new(DEFAULT_CONFIG).exists().then(|| PathBuf::from(DEFAULT_CONFIG)),
    };
    let file = match &path {
        Some(p) => read_file(p)?,
        None => FileConfig::default(),
    };
    let duration = |name: &str, flag: &Option<String>, file: &Option<String>, default: Duration| -> Result<Duration, ConfigError> {
        match flag.as_ref().or(file.as_ref()) {
            Some(v) => parse_duration(v).map_err(|e| ConfigError::Invalid(format!("{name}: {e}"))),
            None => Ok(default),
        }
    };
    let defaults = RunOptions::default();
    let lock_timeout = duration("lock_timeout", &global.lock_timeout, &file.lock_timeout, defaults.lock_timeout)?;
    if lock_timeout.is_zero() {
        return Err(ConfigError::Invalid("lock_timeout: 0 would wait for locks forever; stepwise never does that".into()));
    }
    let statement_timeout = duration("statement_timeout", &global.statement_timeout, &file.statement_timeout, Duration::ZERO)?;
    let layout_name = global.layout.clone().or(file.layout.clone()).unwrap_or_else(|| "auto".into());
    let layout = if layout_name == "auto" {
        None
    } else {
        Some(Layout::parse(&layout_name).ok_or_else(|| {
            ConfigError::Invalid(format!("layout `{layout_name}`: expected auto, native, sqlx, dbmate, goose, golang-migrate or flyway"))
        })?)
    };
    let schema = global.schema.clone().or(file.schema.clone()).unwrap_or_else(|| "stepwise".into());
    if schema.is_empty() || !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ConfigError::Invalid(format!("schema `{schema}`: use letters, digits and underscores")));
    }
    let run = RunOptions {
        lock_timeout,
        retry: RetryPolicy {
            retries: global.lock_retries.or(file.lock_retries).unwrap_or(defaults.retry.retries),
            ..RetryPolicy::default()
        },
        statement_timeout: (!statement_timeout.is_zero()).then_some(statement_timeout),
        concurrent_timeout: duration(
            "concurrent_timeout",
            &global.concurrent_timeout,
            &file.concurrent_timeout,
            defaults.concurrent_timeout,
        )?,
        lock_wait: duration("lock_wait", &global.lock_wait, &file.lock_wait, defaults.lock_wait)?,
        role: global.role.clone().or(file.role.clone()).filter(|r| !r.is_empty()),
        rails: global.rails || file.rails_compat.unwrap_or(false),
        lint: None,
        online: online_batches(&file.online.clone().unwrap_or_default())?,
        online_finish: false,
        online_all_tables_publication: file.online.as_ref().and_then(|o| o.allow_all_tables_publication).unwrap_or(false),
        cancel_blockers: None,
    };
    Ok(Config {
        lint: file.lint.clone().unwrap_or_default(),
        dialect: match file.dialect.as_deref() {
            None => None,
            Some(d @ ("postgres" | "postgresql" | "mysql" | "mariadb")) => Some(d.to_string()),
            Some(other) => return Err(ConfigError::Invalid(format!("dialect `{other}`: expected postgres, mysql or mariadb"))),
        },
        database_url: global.database_url.clone().or(file.database_url.clone()).filter(|u| !u.is_empty()),
        migrations_dir: global.migrations_dir.clone().or(file.migrations_dir.clone()).unwrap_or_else(|| PathBuf::from("migrations")),
        layout,
        schema,
        run,
        backup: file.backup.clone().unwrap_or_default(),
        hooks: file.hooks.clone().unwrap_or_default(),
    })
}

/// Batch options of online statements from `[online]`.
fn online_batches(s: &OnlineSection) -> Result<stepwise_online::batch::BatchOptions, ConfigError> {
    let mut b = stepwise_online::batch::BatchOptions::default();
    if let Some(t) = &s.batch_time {
        let target = parse_duration(t).map_err(|e| ConfigError::Invalid(format!("online.batch_time: {e}")))?;
        b.target = Some(target);
        if target.is_zero() {
            return Err(ConfigError::Invalid("online.batch_time: must be more than 0".into()));
        }
    }
    if s.batch_rows == Some(0) {
        return Err(ConfigError::Invalid("online.batch_rows: must be at least 1".into()));
    }
    b.fixed_rows = s.batch_rows;
    if let Some(r) = s.max_rate {
        crate::duration::check_rate(r).map_err(|e| ConfigError::Invalid(format!("online.max_rate {r}: {e}")))?;
    }
    b.max_rate = s.max_rate;
    if let Some(lag) = &s.max_replica_lag {
        b.max_replica_lag = crate::duration::parse_limit(lag).map_err(|e| ConfigError::Invalid(format!("online.max_replica_lag: {e}")))?.0;
    }
    Ok(b)
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid(format!("cannot read {name}: {e}")))?;
    toml::from_str(&text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let (line, col) = LineIndex::new(&text).line_col(&text, offset);
        let message = e.message().trim().to_string();
        let line_text = LineIndex::new(&text).line_text(&text, line).to_string();
        ConfigError::Located(InputError { file: name.clone(), line, col, message, line_text })
    })
}

//! The command line, as clap reads it. Flags win over environment variables
//! (named beside each flag), which win over `stepwise.toml`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "stepwise", version, about = "Safe schema changes for PostgreSQL and MySQL/MariaDB", max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Database URL (postgres://... or mysql://...). Env: DATABASE_URL.
    #[arg(long = "database-url", short = 'd', env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Configuration file [default: ./stepwise.toml if present]. Env: STEPWISE_CONFIG.
    #[arg(long, env = "STEPWISE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Migrations directory [default: migrations]. Env: STEPWISE_MIGRATIONS_DIR.
    #[arg(long = "dir", env = "STEPWISE_MIGRATIONS_DIR", global = true)]
    pub migrations_dir: Option<PathBuf>,
    /// Directory layout: auto, native, sqlx, dbmate, goose, golang-migrate, flyway. Env: STEPWISE_LAYOUT.
    #[arg(long, env = "STEPWISE_LAYOUT", global = true)]
    pub layout: Option<String>,
    /// PostgreSQL schema for stepwise's state (MySQL: table prefix) [default: stepwise]. Env: STEPWISE_SCHEMA.
    #[arg(long, env = "STEPWISE_SCHEMA", global = true)]
    pub schema: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,
    /// Log more (settings in effect; passwords are never shown).
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    /// Lock wait per statement before giving up and retrying [default: 1s]. Env: STEPWISE_LOCK_TIMEOUT.
    #[arg(long, env = "STEPWISE_LOCK_TIMEOUT", global = true)]
    pub lock_timeout: Option<String>,
    /// Retries after a lock timeout [default: 10]. Env: STEPWISE_LOCK_RETRIES.
    #[arg(long, env = "STEPWISE_LOCK_RETRIES", global = true)]
    pub lock_retries: Option<u32>,
    /// Statement timeout, 0 for none [default: 0]. Env: STEPWISE_STATEMENT_TIMEOUT.
    #[arg(long, env = "STEPWISE_STATEMENT_TIMEOUT", global = true)]
    pub statement_timeout: Option<String>,
    /// How long a CONCURRENTLY statement may wait for older transactions [default: 1h]. Env: STEPWISE_CONCURRENT_TIMEOUT.
    #[arg(long, env = "STEPWISE_CONCURRENT_TIMEOUT", global = true)]
    pub concurrent_timeout: Option<String>,
    /// How long to wait for another runner's migration lock [default: 1m]. Env: STEPWISE_LOCK_WAIT.
    #[arg(long, env = "STEPWISE_LOCK_WAIT", global = true)]
    pub lock_wait: Option<String>,
    /// Run migrations as this role (SET ROLE), so objects get its ownership. Env: STEPWISE_ROLE.
    #[arg(long, env = "STEPWISE_ROLE", global = true)]
    pub role: Option<String>,
    /// Also keep Rails' schema_migrations table in step. Env: STEPWISE_RAILS_COMPAT.
    #[arg(long = "rails", env = "STEPWISE_RAILS_COMPAT", global = true)]
    pub rails: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// SARIF 2.1.0 (lint only), for code scanning.
    Sarif,
    /// GitHub workflow annotations (lint only).
    Github,
    /// Markdown, for a pull request comment (plan --checklist only).
    Markdown,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseArg {
    Pre,
    Post,
    All,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create stepwise.toml and the migrations directory (and the state tables, with a database).
    Init,
    /// Create a new migration file.
    New {
        /// What the migration does, e.g. add_status_to_orders.
        name: String,
    },
    /// Apply pending migrations. An ALTER TABLE after `-- stepwise:online` runs as an online schema change.
    Migrate(MigrateArgs),
    /// Show applied, pending, failed and drifted migrations.
    Status {
        /// Run against a throwaway local PostgreSQL.
        #[arg(long)]
        scratch: bool,
    },
    /// Roll back applied migrations (newest first).
    Rollback {
        /// How many migrations to roll back [default: 1].
        #[arg(long, conflicts_with = "to")]
        step: Option<usize>,
        /// Roll back everything applied after this version.
        #[arg(long)]
        to: Option<String>,
    },
    /// Show the pending migrations, their statements, and how each runs.
    Plan {
        #[arg(long, value_enum, default_value_t = PhaseArg::Pre)]
        phase: PhaseArg,
        /// A Rails migrations directory (db/migrate): show the SQL Rails will run for each pending migration, with the verdicts [default: the migrations directory].
        path: Option<String>,
        /// Rails: the adapter's SQL, postgres, mysql or mariadb [default: config/database.yml's adapter, else postgres].
        #[arg(long)]
        dialect: Option<String>,
        /// The deploy checklist: per migration, what each statement locks and for about how long (from the tables' sizes and write rates), how it runs, whether its down gives the data back, the backup, what to watch, the lint findings (`--format markdown` for a pull request).
        #[arg(long)]
        checklist: bool,
    },
    /// Record a migration as applied without running it.
    Mark { version: String },
    /// Import the history of another migration tool (sqlx, dbmate, rails, golang-migrate, goose, flyway).
    Adopt {
        /// Which tool's table to read [default: detect].
        #[arg(long)]
        from: Option<String>,
    },
    /// Check migrations for dangerous PostgreSQL operations and say what to write instead.
    Lint(LintArgs),
    /// Run migrations on a throwaway PostgreSQL (or --database, rolled back) and report each statement's locks, rewrites and scans.
    Trace(TraceArgs),
    /// Change a large table online: copy it with triggers, verify the copy, swap it in.
    Osc(OscArgs),
    /// Update (or delete) the rows of a large table in small, throttled, resumable batches (PostgreSQL, MySQL/MariaDB).
    Backfill(BackfillArgs),
    /// Show who blocks whom right now: the sessions holding locks others wait for, first, with everyone behind them.
    Locks(LocksArgs),
    /// Show long DDL in flight (index builds, CLUSTER/VACUUM, copying ALTERs) and stepwise's osc and backfill jobs, with how far each is.
    Progress(ProgressArgs),
    /// Print the database's schema, normalized and diff-friendly, with the applied migrations (`--rails`: and Rails' schema_migrations).
    Dump {
        /// Write it to this file instead (whole, or not at all).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Compare two databases or dumps (a URL or a file `stepwise dump` wrote, each): schema and applied migrations; exit 1 when they differ.
    Diff { first: String, second: String },
    /// Start a throwaway PostgreSQL and print its URL; Ctrl-C stops it.
    Scratch,
    /// Apply, roll back and re-apply every migration on a scratch database and report downs that do not restore the schema.
    Verify {
        /// Migrations directory [default: the configured one].
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct OscArgs {
    /// The table to change, or one of: status, pause, resume, cancel, finish, revert.
    pub target: String,
    /// ALTER TABLE clauses to apply, e.g. "ALTER COLUMN id TYPE bigint".
    #[arg(long)]
    pub alter: Option<String>,
    /// Aim for copy batches that take this long [default: 50ms].
    #[arg(long, value_parser = crate::duration::parse_duration, conflicts_with = "batch_rows")]
    pub batch_time: Option<std::time::Duration>,
    /// Copy this many rows per batch instead of adapting to --batch-time.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch_rows: Option<u64>,
    /// Copy at most this many rows per second.
    #[arg(long, value_parser = crate::duration::parse_rate)]
    pub max_rate: Option<f64>,
    /// Wait between batches while a standby replays more than this far behind; `off` to never wait [default: 5s].
    #[arg(long, value_parser = crate::duration::parse_limit)]
    pub max_replica_lag: Option<crate::duration::Limit>,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Rows compared in one snapshot when verifying the copy (a long snapshot holds back vacuum) [default: 100000].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub verify_chunk: Option<u64>,
    /// PostgreSQL: server sessions kept busy at once. 2 compares the copied ranges beside the copy and may use parallel
    /// workers (fastest with cores to spare); 1 works one statement at a time (gentlest on a small server); auto uses 2
    /// while no other client session has run a statement in the last second, else 1.
    #[arg(long, value_enum, default_value = "auto")]
    pub sessions: SessionsArg,
    /// Run although a publication publishes all tables (its subscribers must be able to take osc's tables).
    #[arg(long)]
    pub allow_all_tables_publication: bool,
    /// MySQL/MariaDB: point other tables' foreign keys at the new table right after the swap, keeping their names
    /// (each an in-place ALTER of the child); without it a referenced table is refused.
    #[arg(long)]
    pub rebuild_child_keys: bool,
    /// Show what would run, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The job to act on (status, pause, resume, cancel, finish, revert) when several are unfinished.
    #[arg(long)]
    pub job: Option<i64>,
    #[command(flatten)]
    pub cancel: CancelArgs,
}

/// `osc --sessions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SessionsArg {
    Auto,
    #[value(name = "1")]
    One,
    #[value(name = "2")]
    Two,
}

/// The server's load that long work waits on and stops at (osc, backfill).
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Wait between batches while the server runs more statements than this (PostgreSQL: active sessions other than stepwise's; MySQL/MariaDB: Threads_running); 0 never waits [default: 25].
    #[arg(long)]
    pub max_load: Option<u64>,
    /// Pause the job when the server runs this many statements; 0 never pauses [default: 50].
    #[arg(long)]
    pub critical_load: Option<u64>,
}

impl LoadArgs {
    /// Into `batch`: 0 turns a limit off, nothing keeps the default.
    pub fn apply(&self, batch: &mut stepwise_online::batch::BatchOptions) {
        let limit = |arg: Option<u64>, default: Option<u64>| match arg {
            Some(0) => None,
            Some(n) => Some(n),
            None => default,
        };
        batch.max_load = limit(self.max_load, batch.max_load);
        batch.critical_load = limit(self.critical_load, batch.critical_load);
    }
}

#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// The table to backfill, or one of: status, pause, resume, cancel.
    pub target: String,
    /// Assignments, e.g. "total = price * qty, currency = 'EUR'".
    #[arg(long)]
    pub set: Option<String>,
    /// Only rows matching this condition.
    #[arg(long = "where", value_name = "CONDITION")]
    pub condition: Option<String>,
    /// Delete the rows matching --where, in batches, instead of updating.
    #[arg(long, conflicts_with_all = ["set", "only_missing"])]
    pub delete: bool,
    /// With --delete: copy each batch's rows into this table (created like the table if missing) in the same transaction.
    #[arg(long, requires = "delete")]
    pub backup_table: Option<String>,
    /// Update only targets that are NULL, leaving values the application set alone.
    #[arg(long)]
    pub only_missing: bool,
    /// Accept expressions that change from call to call (random(), now()).
    #[arg(long)]
    pub allow_volatile: bool,
    /// Aim for batches that take this long [default: 20ms: each batch holds the rows it changes until it commits].
    #[arg(long, value_parser = crate::duration::parse_duration, conflicts_with = "batch_rows")]
    pub batch_time: Option<std::time::Duration>,
    /// This many rows per batch instead of adapting to --batch-time.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch_rows: Option<u64>,
    /// At most this many rows per second.
    #[arg(long, value_parser = crate::duration::parse_rate)]
    pub max_rate: Option<f64>,
    /// Wait between batches while a standby replays more than this far behind (PostgreSQL); `off` to never wait [default: 5s].
    #[arg(long, value_parser = crate::duration::parse_limit)]
    pub max_replica_lag: Option<crate::duration::Limit>,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Check the request and show the first batch's statement; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The job to act on (status, pause, resume, cancel) when several are unfinished.
    #[arg(long)]
    pub job: Option<i64>,
    #[command(flatten)]
    pub cancel: CancelArgs,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Files or directories (any layout the runner reads); `-` reads standard input [default: the migrations directory].
    pub paths: Vec<String>,
    /// Read sizes, the schema, the server version and which migrations are applied from this database (postgres:// or mysql://).
    #[arg(long = "database")]
    pub database: Option<String>,
    /// Which SQL the migrations are: postgres, mysql or mariadb [default: from --database, `dialect` in stepwise.toml, or the configured database URL; else postgres].
    #[arg(long)]
    pub dialect: Option<String>,
    /// Judge for this PostgreSQL major version [default: 15, or the server's with --database].
    #[arg(long)]
    pub pg_version: Option<u32>,
    /// Judge for this MySQL/MariaDB server, e.g. mariadb-10.11 or mysql-8.0.35 [default: the server's with --database; else mysql-8.0 for --dialect mysql, mariadb-10.11 otherwise].
    #[arg(long)]
    pub server_version: Option<String>,
    /// Treat migrations added since this git ref as new (their tables are not in use yet).
    #[arg(long)]
    pub base: Option<String>,
    /// Fail when there are more warnings than this.
    #[arg(long)]
    pub max_warnings: Option<usize>,
    /// Rows above which a scan or rewrite is an error [default: 500000].
    #[arg(long)]
    pub large_table_rows: Option<i64>,
    /// List the rules and exit.
    #[arg(long)]
    pub list_rules: bool,
}

/// `--cancel-blockers-after` and its companions, for the commands that take locks.
#[derive(Args, Debug, Clone, Default)]
pub struct CancelArgs {
    /// Cancel the sessions that block one of stepwise's statements once it has waited this long for its lock
    /// (off by default; never stepwise's own sessions, never one only queued behind the same lock). Env: STEPWISE_CANCEL_BLOCKERS_AFTER.
    #[arg(long, env = "STEPWISE_CANCEL_BLOCKERS_AFTER", value_parser = crate::duration::parse_positive_duration)]
    pub cancel_blockers_after: Option<std::time::Duration>,
    /// With --cancel-blockers-after: end a blocker's session (pg_terminate_backend, KILL) when cancelling its statement did not release the lock.
    #[arg(long, requires = "cancel_blockers_after")]
    pub terminate: bool,
    /// With --cancel-blockers-after: never touch sessions of this application name or user (repeat, or separate with commas). Env: STEPWISE_PROTECT.
    #[arg(long = "protect", value_name = "NAME", env = "STEPWISE_PROTECT", value_delimiter = ',')]
    pub protect: Vec<String>,
}

impl CancelArgs {
    pub fn policy(&self) -> Option<stepwise_db::sessions::cancel::CancelPolicy> {
        self.cancel_blockers_after.map(|after| stepwise_db::sessions::cancel::CancelPolicy {
            after,
            terminate: self.terminate,
            protected: self.protect.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        })
    }
}

/// `--watch`, `--interval`, `--count`: a picture, or one every interval.
#[derive(Args, Debug, Clone)]
pub struct WatchArgs {
    /// Refresh until interrupted (in place on a terminal).
    #[arg(long)]
    pub watch: bool,
    /// Time between refreshes with --watch.
    #[arg(long, value_parser = crate::duration::parse_positive_duration, default_value = "2s")]
    pub interval: std::time::Duration,
    /// With --watch: stop after this many pictures.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

#[derive(Args, Debug)]
pub struct LocksArgs {
    /// Only the trees with a session that holds or waits for a lock on this table.
    #[arg(long)]
    pub table: Option<String>,
    #[command(flatten)]
    pub watch: WatchArgs,
    /// Show queries with their literal values (by default strings and numbers are shown as `?`).
    #[arg(long)]
    pub show_queries: bool,
}

#[derive(Args, Debug)]
pub struct ProgressArgs {
    #[command(flatten)]
    pub watch: WatchArgs,
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// Files or directories (any layout the runner reads) [default: the migrations directory].
    pub paths: Vec<String>,
    /// Trace on this PostgreSQL, in one transaction rolled back at the end [default: a scratch server].
    #[arg(long = "database")]
    pub database: Option<String>,
    /// Keep the changes, and run statements that cannot run in a transaction (for a throwaway --database).
    #[arg(long)]
    pub commit: bool,
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// Apply up to and including this version.
    #[arg(long)]
    pub to: Option<String>,
    /// Which phase to run: pre (before the deploy), post (after it), or all.
    #[arg(long, value_enum, default_value_t = PhaseArg::Pre)]
    pub phase: PhaseArg,
    /// Show what would run, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run even if applied migrations' files changed.
    #[arg(long)]
    pub allow_drift: bool,
    /// Apply pending migrations older than the newest applied one.
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Run against a throwaway local PostgreSQL.
    #[arg(long)]
    pub scratch: bool,
    /// Online statements (`-- stepwise:online`) and backfill steps: aim for batches that take this long [default: 50ms for copies, 20ms for backfills]. Env: STEPWISE_ONLINE_BATCH_TIME.
    #[arg(long, env = "STEPWISE_ONLINE_BATCH_TIME", value_parser = crate::duration::parse_duration, conflicts_with = "online_batch_rows")]
    pub online_batch_time: Option<std::time::Duration>,
    /// Online statements: copy this many rows per batch instead. Env: STEPWISE_ONLINE_BATCH_ROWS.
    #[arg(long, env = "STEPWISE_ONLINE_BATCH_ROWS", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub online_batch_rows: Option<u64>,
    /// Online statements: copy at most this many rows per second. Env: STEPWISE_ONLINE_MAX_RATE.
    #[arg(long, env = "STEPWISE_ONLINE_MAX_RATE", value_parser = crate::duration::parse_rate)]
    pub online_max_rate: Option<f64>,
    /// Online statements: wait between batches while a standby replays more than this far behind; `off` to never wait [default: 5s]. Env: STEPWISE_ONLINE_MAX_REPLICA_LAG.
    #[arg(long, env = "STEPWISE_ONLINE_MAX_REPLICA_LAG", value_parser = crate::duration::parse_limit)]
    pub online_max_replica_lag: Option<crate::duration::Limit>,
    /// Online statements: run although a publication publishes all tables (its subscribers must be able to take osc's tables).
    #[arg(long)]
    pub online_allow_all_tables_publication: bool,
    #[command(flatten)]
    pub cancel: CancelArgs,
    /// Back up the database into this directory before the first pending migration (pg_dump -Fc, mariadb-dump); no backup, no migration. Env: STEPWISE_BACKUP_DIR.
    #[arg(long = "backup", value_name = "DIR", env = "STEPWISE_BACKUP_DIR", conflicts_with = "backup_command")]
    pub backup: Option<PathBuf>,
    /// Run this command as the backup instead (sh -c, with DATABASE_URL in its environment).
    #[arg(long, value_name = "CMD")]
    pub backup_command: Option<String>,
    /// After the migrations: a command (healthy when it exits 0) or an http(s):// URL (healthy on 2xx); when it fails,
    /// the migrations this run applied are rolled back where their downs give the data back.
    #[arg(long, value_name = "CMD|URL")]
    pub health_check: Option<String>,
    /// Each health check attempt gives up after this long.
    #[arg(long, value_parser = crate::duration::parse_positive_duration, default_value = "60s")]
    pub health_timeout: std::time::Duration,
    /// Health check attempts after the first, two seconds apart.
    #[arg(long, default_value_t = 2)]
    pub health_retries: u32,
}

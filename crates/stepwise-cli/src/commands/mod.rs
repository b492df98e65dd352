//! One function per command. Each returns the process exit code.

mod adopt;
mod backfill;
mod checklist;
mod dump;
mod files;
mod lint;
mod lint_mysql;
mod locks;
mod migrate;
mod osc;
mod progress;
mod rails;
mod scratch;
mod status;
mod trace;
mod watch;

use crate::cli::{Cli, Command, Format, PhaseArg};
use crate::config::{self, Config, ConfigError};
use crate::render::Out;
use stepwise_db::scratch::{Scratch, ScratchOptions};
use stepwise_db::DbUrl;
use stepwise_migrate::engine::any::AnyEngine;
use stepwise_migrate::resolve::PhaseFilter;
use stepwise_migrate::source::{load_dir, MigrationSet};
use stepwise_migrate::RunError;
use stepwise_sql::Dialect;

pub async fn run(cli: Cli, out: Out) -> i32 {
    let cfg = match config::load(&cli.global) {
        Ok(c) => c,
        Err(ConfigError::Located(e)) => {
            out.input_error(&e);
            return 2;
        }
        Err(ConfigError::Invalid(msg)) => {
            out.error(&msg);
            return 2;
        }
    };
    if cli.global.verbose {
        out.progress(&format!(
            "config: database {}, migrations {}, layout {}, schema {}, lock_timeout {:?}, retries {}, lock_wait {:?}, concurrent_timeout {:?}, role {}",
            cfg.database_url.as_deref().map(stepwise_db::redact).unwrap_or_else(|| "(none)".into()),
            cfg.migrations_dir.display(),
            cfg.layout.map(|l| l.as_str()).unwrap_or("auto"),
            cfg.schema,
            cfg.run.lock_timeout,
            cfg.run.retry.retries,
            cfg.run.lock_wait,
            cfg.run.concurrent_timeout,
            cfg.run.role.as_deref().unwrap_or("(session user)"),
        ));
    }
    let mut cfg = cfg;
    match lint::options(&cfg.lint, None, None) {
        Ok(o) => cfg.run.lint = Some(o),
        Err(e) => {
            out.error(&e);
            return 2;
        }
    }
    if matches!(out.format, Format::Sarif | Format::Github) && !matches!(cli.command, Command::Lint(_)) {
        out.error("--format sarif and --format github are for `stepwise lint`; use text or json");
        return 2;
    }
    if out.format == Format::Markdown && !matches!(cli.command, Command::Plan { checklist: true, .. }) {
        out.error("--format markdown is for `stepwise plan --checklist`; use text or json");
        return 2;
    }
    match cli.command {
        Command::Init => files::init(&cfg, &out).await,
        Command::New { name } => files::new(&cfg, &out, &name),
        Command::Migrate(args) => migrate::migrate(&cfg, &out, &args).await,
        Command::Status { scratch } => status::status(&cfg, &out, scratch).await,
        Command::Rollback { step, to } => migrate::rollback(&cfg, &out, step, to).await,
        Command::Plan { phase, path, dialect, checklist } => {
            let dir = path.clone().unwrap_or_else(|| cfg.migrations_dir.display().to_string());
            if checklist {
                if path.is_some() || dialect.is_some() {
                    out.error("--checklist reads the configured migrations directory (SQL migrations); it takes no path or --dialect");
                    return 2;
                }
                return checklist::checklist(&cfg, &out, phase).await;
            }
            if rails::is_rails(std::slice::from_ref(&dir)) {
                rails::plan(&cfg, &out, &dir, dialect.as_deref()).await
            } else if path.is_some() && path.as_deref() != Some(&cfg.migrations_dir.display().to_string()) {
                out.error(&format!(
                    "{dir}: not a Rails migrations directory (plan of SQL migrations reads the configured migrations directory)"
                ));
                2
            } else {
                migrate::plan(&cfg, &out, phase).await
            }
        }
        Command::Mark { version } => adopt::mark(&cfg, &out, &version).await,
        Command::Adopt { from } => adopt::adopt(&cfg, &out, from.as_deref()).await,
        Command::Locks(args) => locks::locks(&cfg, &out, &args).await,
        Command::Progress(args) => progress::progress(&cfg, &out, &args).await,
        Command::Dump { output } => dump::dump(&cfg, &out, output.as_deref()).await,
        Command::Diff { first, second } => dump::diff(&cfg, &out, &first, &second).await,
        Command::Scratch => scratch::scratch(&out).await,
        Command::Verify { dir } => scratch::verify(&cfg, &out, dir).await,
        Command::Lint(args) => lint::lint(&cfg, &out, &args).await,
        Command::Trace(args) => trace::trace(&cfg, &out, &args).await,
        Command::Osc(args) => osc::osc(&cfg, &out, &args).await,
        Command::Backfill(args) => backfill::backfill(&cfg, &out, &args).await,
    }
}

pub fn phase_filter(p: PhaseArg) -> PhaseFilter {
    match p {
        PhaseArg::Pre => PhaseFilter::Pre,
        PhaseArg::Post => PhaseFilter::Post,
        PhaseArg::All => PhaseFilter::All,
    }
}

/// The database to work on: the configured URL, or a scratch server.
pub struct Target {
    pub url: DbUrl,
    pub scratch: Option<Scratch>,
}

impl Target {
    pub async fn close(self) {
        if let Some(s) = self.scratch {
            let _ = s.stop().await;
        }
    }
}

pub async fn target(cfg: &Config, out: &Out, scratch: bool) -> Result<Target, i32> {
    if scratch {
        out.progress("Starting a scratch PostgreSQL ...");
        return match Scratch::start(ScratchOptions::default()).await {
            Ok(s) => {
                out.progress(&format!("Scratch PostgreSQL at {}", s.url()));
                Ok(Target { url: s.url(), scratch: Some(s) })
            }
            Err(e) => {
                out.error(&e.to_string());
                Err(1)
            }
        };
    }
    let Some(raw) = cfg.database_url.as_deref() else {
        out.error("no database: pass --database-url, set DATABASE_URL, put database_url in stepwise.toml, or use --scratch for a throwaway local PostgreSQL");
        return Err(2);
    };
    match DbUrl::parse(raw) {
        Ok(url) => Ok(Target { url, scratch: None }),
        Err(e) => {
            out.error(&e.to_string());
            Err(2)
        }
    }
}

/// An online job's error, rendered; returns its exit code.
pub fn online_fail(out: &Out, e: stepwise_online::OnlineError) -> i32 {
    out.error(&e.to_string());
    e.exit_code()
}

/// `osc status` and `backfill status`: the jobs (only `only` when given),
/// one line each, or as JSON.
pub fn show_jobs(
    out: &Out,
    kind: &str,
    jobs: Vec<stepwise_online::jobs::Job>,
    only: Option<i64>,
    line: fn(&stepwise_online::jobs::Job) -> String,
) {
    let jobs: Vec<_> = jobs.into_iter().filter(|j| only.is_none_or(|id| j.id == id)).collect();
    if out.format == Format::Json {
        out.json(&jobs);
    } else if jobs.is_empty() {
        out.line(&format!("no unfinished {kind} jobs"));
    } else {
        for j in &jobs {
            out.line(&line(j));
        }
    }
}

pub fn dialect_of(url: &DbUrl) -> Dialect {
    match url.engine {
        stepwise_db::Engine::Postgres => Dialect::Postgres,
        stepwise_db::Engine::MySql => Dialect::MySql,
    }
}

pub fn load_set(cfg: &Config, out: &Out, dialect: Dialect) -> Result<MigrationSet, i32> {
    load_dir(&cfg.migrations_dir, cfg.layout, dialect).map_err(|e| out.run_error(&RunError::Load(e)))
}

pub async fn connect(cfg: &Config, out: &Out, url: &DbUrl) -> Result<AnyEngine, i32> {
    AnyEngine::connect(url, &cfg.schema, cfg.run.rails).await.map_err(|e| out.run_error(&RunError::Db(e)))
}

/// What most commands work with: the database, its engine, and the
/// migrations read in its dialect.
pub struct Session {
    pub target: Target,
    pub set: MigrationSet,
    pub engine: AnyEngine,
}

impl Session {
    pub async fn open(cfg: &Config, out: &Out, scratch: bool) -> Result<Session, i32> {
        let target = target(cfg, out, scratch).await?;
        let opened = async {
            let set = load_set(cfg, out, dialect_of(&target.url))?;
            let engine = connect(cfg, out, &target.url).await?;
            Ok::<_, i32>((set, engine))
        }
        .await;
        match opened {
            Ok((set, engine)) => Ok(Session { target, set, engine }),
            Err(code) => {
                target.close().await;
                Err(code)
            }
        }
    }

    pub async fn close(self) {
        drop(self.engine);
        self.target.close().await;
    }
}

//! `lint`: gather migrations from paths (or stdin), decide which are new,
//! seed the schema from the catalog when asked, run the rules, render.

use crate::cli::LintArgs;
use crate::config::{Config, LintSection};
use crate::lint_output;
use crate::render::Out;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stepwise_db::DbUrl;
use stepwise_lint::mysql::Server;
use stepwise_lint::pg::schema::{col_type_from_text, key, Column, Table};
use stepwise_lint::pg::{lint as run_lint, Schema};
use stepwise_lint::{LintConfig, LintFile, LintOptions, Severity};
use stepwise_migrate::engine::any::AnyEngine;
use stepwise_migrate::engine::Engine;
use stepwise_migrate::source::{load_dir, load_file, LoadError};
use stepwise_migrate::Migration;
use stepwise_sql::{parse_file, Dialect, FileRole, Flavor, InputError, ParsedFile, SourceFile};

/// The lint options `[lint]` and the flags ask for; errors are bad configuration.
pub fn options(section: &LintSection, pg_version: Option<u32>, large_table_rows: Option<i64>) -> Result<LintOptions, String> {
    for id in section.enable.iter().chain(&section.disable).chain(section.severity.keys()) {
        if id != "all" && !stepwise_lint::known_rule(id) {
            return Err(format!("[lint]: no rule named `{id}` (see `stepwise lint --list-rules`)"));
        }
    }
    let mut severity = std::collections::HashMap::new();
    for (id, s) in &section.severity {
        let s = Severity::parse(s).ok_or_else(|| format!("[lint] severity of `{id}`: expected \"error\" or \"warning\", found \"{s}\""))?;
        severity.insert(id.clone(), s);
    }
    Ok(LintOptions {
        pg_version: pg_version.or(section.pg_version).unwrap_or(15),
        mysql: match &section.server_version {
            Some(v) => Server::parse(v).map_err(|e| format!("[lint] server_version {e}"))?,
            None => Server::default(),
        },
        large_table_rows: large_table_rows.or(section.large_table_rows).unwrap_or(500_000),
        config: LintConfig { enable: section.enable.clone(), disable: section.disable.clone(), severity, exclude: section.exclude.clone() },
    })
}

/// A migration to lint, and where it came from (to decide whether it is new).
pub struct Input {
    pub path: Option<PathBuf>,
    pub version_key: Option<String>,
    pub file: LintFile,
}

fn from_migration(m: Migration, path: Option<PathBuf>) -> Input {
    let (version_key, file) = (m.key(), m.up.file.clone());
    // Moved, not cloned: every statement's text would be copied otherwise.
    let parsed = ParsedFile { up: Some(m.up), down: m.down, phase: Some(m.phase) };
    Input { path, version_key: Some(version_key), file: LintFile { file, parsed, new: false } }
}

/// Read the paths the way the runner reads them. Files that cannot be read as
/// migrations become errors; the others are still linted.
pub fn gather(paths: &[String], cfg: &Config, dialect: Dialect, errors: &mut Vec<InputError>) -> Result<Vec<Input>, String> {
    let paths: Vec<String> = if paths.is_empty() { vec![cfg.migrations_dir.display().to_string()] } else { paths.to_vec() };
    let mut out = Vec::new();
    for p in &paths {
        if p == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read standard input: {e}"))?;
            let file = Arc::new(SourceFile { name: "<stdin>".into(), text });
            match parse_file(file.clone(), FileRole::Combined, dialect, Flavor::Native) {
                Ok(parsed) => out.push(Input { path: None, version_key: None, file: LintFile { file, parsed, new: false } }),
                Err(e) => errors.push(e),
            }
            continue;
        }
        let path = Path::new(p);
        if path.is_dir() {
            match load_dir(path, cfg.layout, dialect) {
                Ok(set) => out.extend(set.migrations.into_iter().map(|m| {
                    let file = m.files.first().map(PathBuf::from);
                    from_migration(m, file)
                })),
                Err(LoadError::Input(errs)) => {
                    // Lint what can be read, one file at a time, in name order.
                    errors.extend(errs);
                    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                        .map_err(|e| format!("cannot read {p}: {e}"))?
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|f| f.extension().is_some_and(|x| x == "sql"))
                        .collect();
                    files.sort();
                    for f in files {
                        if let Ok(m) = load_file(&f, dialect) {
                            out.push(from_migration(m, Some(f)));
                        }
                    }
                }
                Err(e) => return Err(e.to_string()),
            }
        } else if path.is_file() {
            match load_file(path, dialect) {
                Ok(m) => out.push(from_migration(m, Some(path.to_path_buf()))),
                Err(LoadError::Input(errs)) => errors.extend(errs),
                Err(e) => return Err(e.to_string()),
            }
        } else {
            return Err(format!("{p}: no such file or directory"));
        }
    }
    Ok(out)
}

/// Files added since `base` (git), as absolute paths.
fn added_since(base: &str) -> Result<HashSet<PathBuf>, String> {
    let top =
        std::process::Command::new("git").args(["rev-parse", "--show-toplevel"]).output().map_err(|e| format!("cannot run git: {e}"))?;
    if !top.status.success() {
        return Err("--base needs a git repository".into());
    }
    let root = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
    let diff = std::process::Command::new("git")
        .args(["diff", "--name-only", "--diff-filter=A", base, "--"])
        .current_dir(&root)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !diff.status.success() {
        return Err(format!("--base {base}: {}", String::from_utf8_lossy(&diff.stderr).trim()));
    }
    // Files not committed yet are new too.
    let untracked = std::process::Command::new("git").args(["ls-files", "--others", "--exclude-standard"]).current_dir(&root).output();
    let mut names: Vec<String> = String::from_utf8_lossy(&diff.stdout).lines().map(str::to_string).collect();
    if let Ok(u) = untracked {
        names.extend(String::from_utf8_lossy(&u.stdout).lines().map(str::to_string));
    }
    Ok(names.into_iter().filter_map(|n| root.join(n).canonicalize().ok()).collect())
}

/// A connection to the linted database and the versions applied there
/// (those are in its live schema already, so they are not linted).
pub async fn connect_with_history(url: &DbUrl, cfg: &Config) -> Result<(AnyEngine, HashSet<String>), String> {
    let mut engine = AnyEngine::connect(url, &cfg.schema, false).await.map_err(|e| e.to_string())?;
    let applied = engine
        .history()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|r| r.status == stepwise_migrate::history::RowStatus::Applied)
        .map(|r| r.version)
        .collect();
    Ok((engine, applied))
}

/// The schema, versions applied and server version from a live PostgreSQL.
pub async fn from_database(raw: &str, cfg: &Config) -> Result<(Schema, HashSet<String>, u32), String> {
    let url = DbUrl::parse(raw).map_err(|e| e.to_string())?;
    if url.engine != stepwise_db::Engine::Postgres {
        return Err("this is a MySQL/MariaDB URL, but the migrations are linted as PostgreSQL (--dialect postgres)".into());
    }
    let (engine, applied) = connect_with_history(&url, cfg).await?;
    let AnyEngine::Pg(pg) = &engine else { return Err("not PostgreSQL".into()) };
    let (schema, version) = live_schema(pg.session(), cfg).await?;
    Ok((schema, applied, version))
}

/// The lint's schema model of a live PostgreSQL (stepwise's own schema left
/// out), and its major version.
pub async fn live_schema(conn: &stepwise_db::pg::PgConn, cfg: &Config) -> Result<(Schema, u32), String> {
    let version = (conn.version_num / 10000) as u32;
    let tables = stepwise_db::catalog::tables(conn, &cfg.schema).await.map_err(|e| e.to_string())?;
    let mut schema = Schema::default();
    for t in tables {
        let columns = t
            .columns
            .iter()
            .map(|c| Column { name: c.name.clone(), ty: Some(col_type_from_text(&c.type_text)), not_null: c.not_null })
            .collect();
        schema
            .tables
            .insert(key(&t.schema, &t.name), Table { name: t.name, columns, new: false, partitioned: t.partitioned, rows: t.rows });
    }
    // Indexes and constraints, so DROP INDEX finds its table and unnamed
    // ones in pending migrations get the names PostgreSQL will give them.
    for c in stepwise_db::catalog::constraints(conn, &cfg.schema).await.map_err(|e| e.to_string())? {
        schema.seed_constraint(&key(&c.schema, &c.table), &c.name, &c.kind, c.columns, c.validated);
    }
    for i in stepwise_db::catalog::indexes(conn, &cfg.schema).await.map_err(|e| e.to_string())? {
        if i.constraint.is_none() {
            schema.seed_index(&key(&i.schema, &i.table), &i.name, i.columns);
        }
    }
    Ok((schema, version))
}

/// Which judge lints, and for which server: `--dialect`, then the
/// `--database` URL, then `dialect` in stepwise.toml, then the configured
/// database URL; PostgreSQL when nothing says.
fn dialect_of(args: &LintArgs, cfg: &Config) -> Result<(Dialect, Option<Server>), String> {
    let from_url = |u: &str| DbUrl::parse(u).ok().map(|u| u.engine);
    let named = args.dialect.clone().or_else(|| {
        args.database
            .as_deref()
            .and_then(from_url)
            .map(|e| if e == stepwise_db::Engine::Postgres { "postgres" } else { "mysql-url" }.to_string())
    });
    let named = named.or_else(|| cfg.dialect.clone()).or_else(|| {
        cfg.database_url
            .as_deref()
            .and_then(from_url)
            .map(|e| if e == stepwise_db::Engine::Postgres { "postgres" } else { "mysql-url" }.to_string())
    });
    let version = args.server_version.as_deref().or(cfg.lint.server_version.as_deref());
    let server = |default: &str| -> Result<Server, String> {
        Server::parse(version.unwrap_or(default)).map_err(|e| format!("--server-version {e}"))
    };
    match named.as_deref().unwrap_or("postgres") {
        "postgres" | "postgresql" => Ok((Dialect::Postgres, None)),
        // Named outright, the flavour is known; from a mysql:// URL it is not
        // (until --database connects), and MariaDB 10.11 is the default.
        "mysql" => Ok((Dialect::MySql, Some(server("mysql-8.0")?))),
        "mariadb" | "mysql-url" => Ok((Dialect::MySql, Some(server("mariadb-10.11")?))),
        other => Err(format!("--dialect {other}: expected postgres, mysql or mariadb")),
    }
}

pub async fn lint(cfg: &Config, out: &Out, args: &LintArgs) -> i32 {
    let (dialect, server) = match dialect_of(args, cfg) {
        Ok(d) => d,
        Err(e) => {
            out.error(&e);
            return 2;
        }
    };
    if args.list_rules {
        lint_output::list_rules(out, dialect);
        return 0;
    }
    let mut opts = match options(&cfg.lint, args.pg_version, args.large_table_rows) {
        Ok(o) => o,
        Err(e) => {
            out.error(&e);
            return 2;
        }
    };
    if let Some(server) = server {
        opts.mysql = server;
    }
    let paths = if args.paths.is_empty() { vec![cfg.migrations_dir.display().to_string()] } else { args.paths.clone() };
    if super::rails::is_rails(&paths) {
        return lint_rails(cfg, out, args, &paths, dialect, opts).await;
    }
    let mut errors = Vec::new();
    let mut inputs = match gather(&args.paths, cfg, dialect, &mut errors) {
        Ok(i) => i,
        Err(e) => {
            out.error(&e);
            return 2;
        }
    };
    let mut pg_schema = stepwise_lint::pg::Schema::default();
    let mut my_schema = stepwise_lint::mysql::Schema::default();
    if let Some(raw) = &args.database {
        let applied = match dialect {
            Dialect::Postgres => from_database(raw, cfg).await.map(|(s, applied, version)| {
                pg_schema = s;
                if args.pg_version.is_none() && cfg.lint.pg_version.is_none() {
                    opts.pg_version = version;
                }
                applied
            }),
            Dialect::MySql => super::lint_mysql::from_database(raw, cfg).await.map(|(s, applied, version)| {
                my_schema = s;
                if args.server_version.is_none() && cfg.lint.server_version.is_none() {
                    if let Some(v) = version {
                        opts.mysql = v;
                    }
                }
                applied
            }),
        };
        match applied {
            Ok(applied) => {
                // With the live schema, applied migrations are already in it:
                // lint only what is not applied, each new.
                inputs.retain(|i| i.version_key.as_ref().is_none_or(|k| !applied.contains(k)));
                for i in &mut inputs {
                    i.file.new = true;
                }
            }
            Err(e) => {
                out.error(&format!("--database: {e}"));
                return 2;
            }
        }
    }
    if let Some(base) = &args.base {
        match added_since(base) {
            Ok(added) => {
                for i in &mut inputs {
                    if i.path.as_ref().and_then(|p| p.canonicalize().ok()).is_some_and(|p| added.contains(&p)) {
                        i.file.new = true;
                    }
                }
            }
            Err(e) => {
                out.error(&e);
                return 2;
            }
        }
    }
    let files: Vec<LintFile> = inputs.into_iter().map(|i| i.file).collect();
    let mut report = match dialect {
        Dialect::Postgres => run_lint(&files, pg_schema, &opts),
        Dialect::MySql => stepwise_lint::mysql::lint(&files, my_schema, &opts),
    };
    report.errors.splice(0..0, errors);
    lint_output::render(out, &report);
    exit_code(&report, args)
}

fn exit_code(report: &stepwise_lint::LintReport, args: &LintArgs) -> i32 {
    if !report.errors.is_empty() {
        2
    } else if report.count(Severity::Error) > 0 || args.max_warnings.is_some_and(|m| report.count(Severity::Warning) > m) {
        1
    } else {
        0
    }
}

/// Rails migrations (`db/migrate/*.rb`): the adapter is the one named on the
/// command line or in stepwise.toml, else `config/database.yml`'s.
async fn lint_rails(cfg: &Config, out: &Out, args: &LintArgs, paths: &[String], dialect: Dialect, mut opts: LintOptions) -> i32 {
    let mut inputs = super::rails::gather(paths);
    let named = args.dialect.is_some() || args.database.is_some() || cfg.dialect.is_some() || cfg.database_url.is_some();
    let dialect = match (named, inputs.adapter) {
        (false, Some((d, server))) => {
            if let (Some(s), None, None) = (server, &args.server_version, &cfg.lint.server_version) {
                opts.mysql = s;
            }
            d
        }
        _ => dialect,
    };
    if let Some(base) = &args.base {
        match added_since(base) {
            Ok(added) => {
                for f in &mut inputs.files {
                    if Path::new(&f.file.name).canonicalize().ok().is_some_and(|p| added.contains(&p)) {
                        f.new = true;
                    }
                }
            }
            Err(e) => {
                out.error(&e);
                return 2;
            }
        }
    }
    let result = match super::rails::lint(out, inputs, dialect, &opts, args.database.as_deref(), cfg).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    lint_output::render(out, &result.report);
    exit_code(&result.report, args)
}

//! Rails applications: `lint` and `plan` on `db/migrate`. Finds the .rb
//! migrations, the schema file beside them (`db/schema.rb` or
//! `db/structure.sql`) and the adapter in `config/database.yml`, then hands
//! them to the Rails front end of `stepwise-lint`.

use crate::cli::Format;
use crate::config::Config;
use crate::render::Out;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stepwise_db::DbUrl;
use stepwise_lint::mysql::Server;
use stepwise_lint::rails::{self, RailsFile, RailsLint};
use stepwise_lint::LintOptions;
use stepwise_migrate::engine::any::AnyEngine;
use stepwise_migrate::engine::Engine;
use stepwise_sql::{Dialect, InputError, SourceFile};

/// Rails migrations found among the paths.
pub struct RailsInputs {
    pub files: Vec<RailsFile>,
    pub schema: Option<SourceFile>,
    /// From `config/database.yml`'s `adapter:`.
    pub adapter: Option<(Dialect, Option<Server>)>,
    /// Files that could not be read.
    pub errors: Vec<InputError>,
}

fn is_rb(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().ends_with(b".rb")
}

/// The `.rb` files of a directory, by name (the version order).
fn rb_files(dir: &Path) -> Vec<PathBuf> {
    let mut names: Vec<std::ffi::OsString> =
        std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.file_name())).filter(|n| is_rb(n)).collect()).unwrap_or_default();
    names.sort_unstable();
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// Whether the paths are Rails migrations: a `.rb` file, or a directory
/// holding `.rb` files and no `.sql` migrations.
pub fn is_rails(paths: &[String]) -> bool {
    paths.iter().any(|p| {
        let path = Path::new(p);
        if path.is_file() {
            return path.extension().is_some_and(|x| x == "rb");
        }
        path.is_dir() && std::fs::read_dir(path).is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| is_rb(&e.file_name()))))
    })
}

/// The directory a Rails app keeps beside `db/migrate`: `db/`.
fn db_dir(migrations: &Path) -> Option<PathBuf> {
    let dir = if migrations.is_dir() { migrations.to_path_buf() } else { migrations.parent()?.to_path_buf() };
    dir.parent().map(Path::to_path_buf)
}

/// The adapter of `config/database.yml` (production's, else the first).
fn adapter(db: &Path) -> Option<(Dialect, Option<Server>)> {
    let yml = std::fs::read_to_string(db.parent()?.join("config/database.yml")).ok()?;
    let mut section = "";
    let mut first = None;
    for line in yml.lines() {
        if !line.starts_with([' ', '\t', '#']) && line.trim_end().ends_with(':') {
            section = line.trim_end().trim_end_matches(':');
        }
        let Some(value) = line.trim().strip_prefix("adapter:") else { continue };
        let value = value.trim().trim_matches(['"', '\'']);
        let found = match value {
            "postgresql" | "postgis" | "postgres" => (Dialect::Postgres, None),
            // mysql2 and trilogy do not say which server; MySQL 8.0 is the
            // usual one (--server-version says otherwise).
            "mysql2" | "trilogy" | "mysql" => (Dialect::MySql, Server::parse("mysql-8.0").ok()),
            _ => continue,
        };
        if section == "production" {
            return Some(found);
        }
        first.get_or_insert(found);
    }
    first
}

pub fn gather(paths: &[String]) -> RailsInputs {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut first_dir = None;
    let mut list = Vec::new();
    for p in paths {
        let path = Path::new(p);
        list.extend(if path.is_dir() { rb_files(path) } else { vec![path.to_path_buf()] });
        first_dir.get_or_insert_with(|| path.to_path_buf());
    }
    // Read on every core: thousands of small files.
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let chunk = list.len().div_ceil(threads).max(64);
    let read: Vec<Result<RailsFile, InputError>> = std::thread::scope(|s| {
        let handles: Vec<_> = list
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    c.iter()
                        .map(|f| {
                            let name = f.display().to_string();
                            match std::fs::read(f) {
                                Ok(bytes) => match String::from_utf8(bytes) {
                                    Ok(text) => Ok(RailsFile { file: Arc::new(SourceFile { name, text }), new: false }),
                                    Err(_) => Err(InputError::whole_file(&name, "not UTF-8 text")),
                                },
                                Err(e) => Err(InputError::whole_file(&name, format!("cannot read: {e}"))),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    for r in read {
        match r {
            Ok(f) => files.push(f),
            Err(e) => errors.push(e),
        }
    }
    let db = first_dir.as_deref().and_then(db_dir);
    let schema = db.as_ref().and_then(|db| {
        ["schema.rb", "structure.sql"].iter().find_map(|n| {
            let p = db.join(n);
            std::fs::read_to_string(&p).ok().map(|text| SourceFile { name: p.display().to_string(), text })
        })
    });
    RailsInputs { files, schema, adapter: db.as_deref().and_then(adapter), errors }
}

/// The versions in Rails' `schema_migrations` of a live database.
pub async fn applied_versions(engine: &mut AnyEngine) -> Result<HashSet<String>, String> {
    if !engine.table_exists("schema_migrations").await.map_err(|e| e.to_string())? {
        return Ok(HashSet::new());
    }
    let rows = engine.text_rows("SELECT version FROM schema_migrations").await.map_err(|e| e.to_string())?;
    Ok(rows.into_iter().filter_map(|r| r.into_iter().next().flatten()).collect())
}

/// Lint the Rails migrations: each applied one (with `--database`) is in the
/// live schema already and is left out; the others are new.
pub async fn lint(
    out: &Out,
    inputs: RailsInputs,
    dialect: Dialect,
    opts: &LintOptions,
    database: Option<&str>,
    cfg: &Config,
) -> Result<RailsLint, i32> {
    let RailsInputs { mut files, schema, errors, .. } = inputs;
    let mut pg_schema = stepwise_lint::pg::Schema::default();
    let mut my_schema = stepwise_lint::mysql::Schema::default();
    let mut opts = opts.clone();
    let mut schema = schema;
    if let Some(raw) = database {
        let url = DbUrl::parse(raw).map_err(|e| {
            out.error(&format!("--database: {e}"));
            2
        })?;
        let fail = |e: String| {
            out.error(&format!("--database: {e}"));
            2
        };
        match dialect {
            Dialect::Postgres => {
                let (s, _, version) = super::lint::from_database(raw, cfg).await.map_err(fail)?;
                pg_schema = s;
                opts.pg_version = version;
            }
            Dialect::MySql => {
                let (s, _, version) = super::lint_mysql::from_database(raw, cfg).await.map_err(fail)?;
                my_schema = s;
                if let Some(v) = version {
                    opts.mysql = v;
                }
            }
        }
        let mut engine = AnyEngine::connect(&url, &cfg.schema, false).await.map_err(|e| fail(e.to_string()))?;
        let applied = applied_versions(&mut engine).await.map_err(fail)?;
        files.retain(|f| rails::version_of(&f.file.name).is_none_or(|v| !applied.contains(&v)));
        for f in &mut files {
            f.new = true;
        }
        // The live catalog is the schema: the schema file describes the
        // same tables, as of some commit.
        schema = None;
    }
    let mut result = rails::lint(&files, schema.as_ref(), dialect, pg_schema, my_schema, &opts);
    result.report.errors.splice(0..0, errors);
    Ok(result)
}

#[derive(serde::Serialize)]
struct PlannedStatement<'a> {
    line: usize,
    col: usize,
    sql: &'a str,
    findings: Vec<&'a stepwise_lint::Finding>,
    /// Findings `safety_assured { }` excused here.
    suppressed: Vec<&'a stepwise_lint::Finding>,
}

#[derive(serde::Serialize)]
struct PlannedMigration<'a> {
    version: Option<String>,
    file: &'a str,
    transactional: bool,
    online_tool: Option<&'static str>,
    statements: Vec<PlannedStatement<'a>>,
    /// Findings not tied to one statement (not analysed Ruby, the online tool).
    notes: Vec<&'a stepwise_lint::Finding>,
}

/// `stepwise plan db/migrate`: the pending Rails migrations, each with the
/// SQL Rails will run (at its .rb line) and the verdicts on it. Pending
/// means not in `schema_migrations` of the configured database; with no
/// database, every migration.
pub async fn plan(cfg: &Config, out: &Out, dir: &str, dialect: Option<&str>) -> i32 {
    let mut inputs = gather(&[dir.to_string()]);
    let dialect = match dialect.or(cfg.dialect.as_deref()) {
        Some("postgres" | "postgresql") => Dialect::Postgres,
        Some(d @ ("mysql" | "mariadb")) => {
            inputs.adapter = Some((Dialect::MySql, Server::parse(if d == "mysql" { "mysql-8.0" } else { "mariadb-10.11" }).ok()));
            Dialect::MySql
        }
        Some(other) => {
            out.error(&format!("--dialect {other}: expected postgres, mysql or mariadb"));
            return 2;
        }
        None => inputs.adapter.map(|a| a.0).unwrap_or(Dialect::Postgres),
    };
    let mut opts = match super::lint::options(&cfg.lint, None, None) {
        Ok(o) => o,
        Err(e) => {
            out.error(&e);
            return 2;
        }
    };
    if let Some((_, Some(server))) = inputs.adapter {
        if cfg.lint.server_version.is_none() {
            opts.mysql = server;
        }
    }
    let mut applied = HashSet::new();
    match cfg.database_url.as_deref() {
        None => {
            if out.format == Format::Text {
                out.progress("note: no database configured; every migration is shown as pending");
            }
        }
        Some(raw) => {
            let url = match DbUrl::parse(raw) {
                Ok(u) => u,
                Err(e) => {
                    out.error(&e.to_string());
                    return 2;
                }
            };
            let mut engine = match super::connect(cfg, out, &url).await {
                Ok(e) => e,
                Err(code) => return code,
            };
            match applied_versions(&mut engine).await {
                Ok(a) => applied = a,
                Err(e) => {
                    out.error(&e);
                    return 1;
                }
            }
        }
    }
    let pending = |name: &str| rails::version_of(name).is_none_or(|v| !applied.contains(&v));
    // With a database, pending migrations are new (their tables are not in
    // use yet); without one, each is judged as `lint` judges it: against
    // tables the earlier ones made, already in use.
    let known = cfg.database_url.is_some();
    for f in &mut inputs.files {
        f.new = known && pending(&f.file.name);
    }
    let result = match lint(out, inputs, dialect, &opts, None, cfg).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    let report = &result.report;
    let mut plan = Vec::new();
    for d in result.derived.iter().filter(|d| pending(&d.rb.name)) {
        let on_file: Vec<&stepwise_lint::Finding> = report.findings.iter().filter(|f| f.file == d.rb.name).collect();
        let idx = stepwise_sql::LineIndex::new(&d.rb.text);
        let mut claimed = HashSet::new();
        let statements: Vec<PlannedStatement> = d
            .migration
            .stmts
            .iter()
            .map(|s| {
                let (line, col) = idx.line_col(&d.rb.text, s.at);
                // The findings at this statement's place in the .rb file.
                let mut lines = vec![line];
                if s.literal {
                    lines.extend(line..line + s.sql.lines().count());
                }
                let findings: Vec<&stepwise_lint::Finding> =
                    on_file.iter().enumerate().filter(|(k, f)| lines.contains(&f.line) && claimed.insert(*k)).map(|(_, f)| *f).collect();
                let suppressed = if s.assured {
                    report.suppressed.iter().filter(|f| f.file == d.rb.name && lines.contains(&f.line)).collect()
                } else {
                    vec![]
                };
                PlannedStatement { line, col, sql: &s.sql, findings, suppressed }
            })
            .collect();
        let notes = on_file.iter().enumerate().filter(|(k, _)| !claimed.contains(k)).map(|(_, f)| *f).collect();
        plan.push(PlannedMigration {
            version: rails::version_of(&d.rb.name),
            file: &d.rb.name,
            transactional: !d.migration.no_transaction,
            online_tool: d.migration.online_tool.map(|t| t.0),
            statements,
            notes,
        });
    }
    let errors = report.count(stepwise_lint::Severity::Error);
    if out.format == Format::Json {
        out.json(&serde_json::json!({"pending": plan, "errors": report.errors, "summary": {"errors": errors, "not_analysed": report.not_analysed, "suppressed": report.suppressed.len()}}));
    } else {
        for e in &report.errors {
            out.input_error(e);
        }
        if plan.is_empty() {
            out.line("Nothing pending.");
        }
        for p in &plan {
            let how = if p.transactional { "one transaction" } else { "no transaction (disable_ddl_transaction!)" };
            let tool = p.online_tool.map(|t| format!("; through {t}")).unwrap_or_default();
            out.line(&format!("{} {} ({how}{tool})", p.version.as_deref().unwrap_or("-"), p.file));
            for s in &p.statements {
                let mut lines = s.sql.trim().lines();
                out.line(&format!("  {:>4}: {}", s.line, lines.next().unwrap_or("")));
                for l in lines {
                    out.line(&format!("        {l}"));
                }
                for f in &s.findings {
                    out.line(&format!("        {}[{}]: {}", f.severity.as_str(), f.rule, f.message));
                }
                for f in &s.suppressed {
                    out.line(&format!("        suppressed by safety_assured: [{}] {}", f.rule, f.message));
                }
            }
            for f in &p.notes {
                out.line(&format!("  {:>4}: {}[{}]: {}", f.line, f.severity.as_str(), f.rule, f.message));
            }
        }
        out.line(&format!(
            "{} pending migration(s): {errors} error(s); `stepwise lint {dir}` explains each finding and what to write instead",
            plan.len()
        ));
    }
    if !report.errors.is_empty() {
        2
    } else if errors > 0 {
        1
    } else {
        0
    }
}

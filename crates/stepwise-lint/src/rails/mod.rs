//! The Rails front end: `db/migrate/*.rb` read with prism (the official
//! Ruby parser), the migration DSL interpreted into the SQL Rails would send
//! for the adapter in use ([`dsl`], [`render`]), and that SQL judged by the
//! engine's own judge, [`crate::pg`] or [`crate::mysql`], exactly as a SQL
//! migration would be. Findings are mapped back to the .rb line and column.
//!
//! What the Ruby does that cannot be read statically is a
//! `rails-not-analysed` finding at its line, never a silent pass; a
//! migration that switches to an online schema change tool (Departure, LHM)
//! has its ALTERs judged as online and gets a `rails-online-tool` note
//! saying what stepwise would run instead. `safety_assured { }` blocks are
//! reviewed exceptions: their findings are reported as suppressed.

pub mod advice;
pub mod dsl;
pub mod interp;
pub mod names;
pub mod render;
pub mod ruby;
pub mod schema_rb;
pub mod synth;

use crate::rule::{Cost, RuleMeta};
use crate::{Finding, LintFile, LintOptions, LintReport, Severity};
use interp::{Migration, Model, NoteKind};
use std::sync::Arc;
use stepwise_sql::error::InputError;
use stepwise_sql::{Dialect, FileRole, Flavor, LineIndex, SourceFile};

pub static NOT_ANALYSED: RuleMeta = RuleMeta {
    id: "rails-not-analysed",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "Ruby in a migration that stepwise cannot read statically (loops, computed names, interpolated SQL): not judged",
    setup: "",
    bad: "",
    safe: &[],
};

pub static ONLINE_TOOL: RuleMeta = RuleMeta {
    id: "rails-online-tool",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "The migration switches to an online schema change tool (Departure, LHM): its ALTERs are judged as online",
    setup: "",
    bad: "",
    safe: &[],
};

pub fn rule_metas() -> Vec<&'static RuleMeta> {
    vec![&NOT_ANALYSED, &ONLINE_TOOL]
}

/// A migration file: `20240101000000_add_x.rb`.
pub struct RailsFile {
    pub file: Arc<SourceFile>,
    /// Not applied yet: its tables stay new for the migrations after it.
    pub new: bool,
}

/// One migration, derived: what the interpreter found and the map from
/// the derived SQL back to the .rb file.
pub struct Derived {
    pub migration: Migration,
    pub synth: synth::Synth,
    pub rb: Arc<SourceFile>,
}

/// The version of a Rails migration file name (`20240101000000_x.rb`).
pub fn version_of(name: &str) -> Option<String> {
    let base = name.rsplit('/').next()?;
    let v: String = base.chars().take_while(|c| c.is_ascii_digit()).collect();
    (!v.is_empty() && base[v.len()..].starts_with('_')).then_some(v)
}

/// Parse and interpret one migration; a syntax error is an input error at
/// its line and column.
pub fn derive(rb: &RailsFile, dialect: Dialect, model: &mut Model) -> Result<(Derived, LintFile), InputError> {
    let parsed = parse(rb)?;
    let migration = interp::interpret(&parsed, dialect, model);
    finish(rb, &parsed.comments, migration, dialect)
}

/// The Ruby of one migration file.
fn parse(rb: &RailsFile) -> Result<ruby::Parsed, InputError> {
    let text = &rb.file.text;
    ruby::parse(text).map_err(|e| InputError::new(&rb.file.name, text, e.offset, format!("Ruby syntax error: {}", e.message)))
}

/// The derived SQL file of an interpreted migration, ready for the judge.
fn finish(rb: &RailsFile, comments: &[(usize, String)], migration: Migration, dialect: Dialect) -> Result<(Derived, LintFile), InputError> {
    let text = &rb.file.text;
    let idx = LineIndex::new(text);
    let synth = synth::build(text, &idx, &migration, comments);
    // The derived SQL carries the .rb file's name: `[lint] exclude` globs
    // and every finding name the file the user wrote.
    let file = Arc::new(SourceFile { name: rb.file.name.clone(), text: synth.sql.clone() });
    let parsed_sql = stepwise_sql::parse_file(file.clone(), FileRole::Combined, dialect, Flavor::Native).map_err(|e| {
        let (line, col) = synth.origin(e.line, e.col);
        InputError { line, col, line_text: idx.line_text(text, line).to_string(), ..e }
    })?;
    Ok((Derived { migration, synth, rb: rb.file.clone() }, LintFile { file, parsed: parsed_sql, new: rb.new }))
}

/// `f` over `items` on every core, results in order.
fn par_map<T: Send, U: Send>(items: Vec<T>, f: impl Fn(T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let chunk = items.len().div_ceil(threads).max(16);
    if items.len() <= chunk {
        return items.into_iter().map(&f).collect();
    }
    let mut chunks = Vec::new();
    let mut items = items.into_iter();
    loop {
        let c: Vec<T> = items.by_ref().take(chunk).collect();
        if c.is_empty() {
            break;
        }
        chunks.push(c);
    }
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = chunks.into_iter().map(|c| s.spawn(move || c.into_iter().map(f).collect::<Vec<U>>())).collect();
        // A worker only fails by panicking: re-raise it here.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// A Rails lint: the report, and the migrations as derived (for `plan`):
/// each with the SQL file the judge saw.
pub struct RailsLint {
    pub report: LintReport,
    pub derived: Vec<Derived>,
    pub files: Vec<LintFile>,
}

/// Lint Rails migrations in order for the adapter `dialect`, starting from
/// `pg_schema`/`my_schema` (empty, or the live catalog) and `schema` (the
/// app's schema.rb or structure.sql: tables no migration here creates).
pub fn lint(
    files: &[RailsFile],
    schema: Option<&SourceFile>,
    dialect: Dialect,
    pg_schema: crate::pg::Schema,
    my_schema: crate::mysql::Schema,
    opts: &LintOptions,
) -> RailsLint {
    let mut model = Model::default();
    let mut errors = Vec::new();
    let mut schema_file = None;
    if let Some(s) = schema {
        match schema_rb::SchemaFile::read(s, dialect) {
            Ok((f, m)) => {
                model = m;
                schema_file = Some(f);
            }
            Err(e) => errors.push(e),
        }
    }
    // Parsing the Ruby and writing the SQL are per file, on every core;
    // interpreting is in order (each migration sees the columns the earlier
    // ones made).
    // Each migration with a model of its own, in parallel, through to its
    // SQL file; then, in order, its changes replayed on the shared model,
    // or (when it needed a column an earlier migration made) interpreted
    // again against it.
    enum First<'a> {
        Done(Box<(Derived, LintFile)>, Vec<interp::ModelOp>),
        Again(&'a RailsFile, Vec<ruby::R>, Vec<(usize, String)>),
    }
    let first = par_map(files.iter().collect(), |f| {
        let parsed = parse(f)?;
        let mut own = Model::recording();
        let m = interp::interpret(&parsed, dialect, &mut own);
        if own.missed() {
            return Ok(First::Again(f, parsed.body, parsed.comments));
        }
        let done = finish(f, &parsed.comments, m, dialect)?;
        Ok::<_, InputError>(First::Done(Box::new(done), own.take_log()))
    });
    let mut finished = Vec::new();
    for r in first {
        match r {
            Ok(First::Done(done, log)) => {
                for op in log {
                    model.apply(op);
                }
                finished.push(Ok(*done));
            }
            Ok(First::Again(f, body, comments)) => {
                let m = interp::interpret(&ruby::Parsed { body, comments: vec![] }, dialect, &mut model);
                finished.push(finish(f, &comments, m, dialect));
            }
            Err(e) => errors.push(e),
        }
    }
    let mut derived = Vec::new();
    let mut sql_files = Vec::new();
    for r in finished {
        match r {
            Ok((d, lf)) => {
                derived.push(d);
                sql_files.push(lf);
            }
            Err(e) => errors.push(e),
        }
    }
    // The schema file's tables that no migration here creates (their
    // creating migrations were squashed away): the judge starts from them.
    let created: std::collections::HashSet<&str> =
        derived.iter().flat_map(|d| d.migration.created_tables.iter().map(String::as_str)).collect();
    let mut lint_files = Vec::new();
    let seed_name = "<schema>";
    if let (Some(s), Some(f)) = (schema, &schema_file) {
        let file = Arc::new(SourceFile { name: seed_name.into(), text: f.seed_sql(dialect, &created) });
        match stepwise_sql::parse_file(file.clone(), FileRole::Combined, dialect, Flavor::Native) {
            Ok(parsed) => lint_files.push(LintFile { file, parsed, new: false }),
            Err(e) => errors.push(InputError { file: s.name.clone(), ..e }),
        }
    }
    let seeded = lint_files.len();
    lint_files.extend(sql_files);
    let mut report = match dialect {
        Dialect::Postgres => crate::pg::lint(&lint_files, pg_schema, opts),
        Dialect::MySql => crate::mysql::lint(&lint_files, my_schema, opts),
    };
    let files_sql: Vec<LintFile> = lint_files.drain(seeded..).collect();
    map_back(&mut report, &derived, seed_name, opts);
    report.errors.splice(0..0, errors);
    report.files = files.len();
    // Statements of the migrations (not of the schema file's seed).
    report.statements = files_sql.iter().map(|f| f.parsed.up.as_ref().map_or(0, |u| u.statements.len())).sum();
    RailsLint { report, derived, files: files_sql }
}

/// Findings and errors on the derived SQL, moved to the .rb file's line and
/// column; findings inside `safety_assured` become suppressed; the notes
/// of the interpreter become findings.
fn map_back(report: &mut LintReport, derived: &[Derived], seed_name: &str, opts: &LintOptions) {
    let by_name: std::collections::HashMap<&str, &Derived> = derived.iter().map(|d| (d.rb.name.as_str(), d)).collect();
    // Line indexes of the files with something to report, made on demand.
    let mut indexes: std::collections::HashMap<&str, LineIndex> = Default::default();
    for name in report.errors.iter().map(|e| e.file.as_str()).chain(report.findings.iter().map(|f| f.file.as_str())) {
        if let Some(d) = by_name.get(name) {
            indexes.entry(d.rb.name.as_str()).or_insert_with(|| LineIndex::new(&d.rb.text));
        }
    }
    for d in derived.iter().filter(|d| !d.migration.notes.is_empty()) {
        indexes.entry(d.rb.name.as_str()).or_insert_with(|| LineIndex::new(&d.rb.text));
    }
    report.errors.retain(|e| e.file != seed_name);
    report.findings.retain(|f| f.file != seed_name);
    for e in &mut report.errors {
        if let Some(d) = by_name.get(e.file.as_str()) {
            let (line, col) = d.synth.origin(e.line, e.col);
            e.line_text = indexes[e.file.as_str()].line_text(&d.rb.text, line).to_string();
            (e.line, e.col) = (line, col);
        }
    }
    let mut kept = Vec::new();
    // `# stepwise:ignore` copied before several statements: unused on some
    // of them is expected; unused on all of them is reported once.
    let mut unused: std::collections::HashMap<(String, usize, String), (usize, Finding)> = Default::default();
    for mut f in std::mem::take(&mut report.findings) {
        let Some(d) = by_name.get(f.file.as_str()) else {
            kept.push(f);
            continue;
        };
        let stmt = d.synth.statement(f.line);
        let (line, col) = d.synth.origin(f.line, f.col);
        f.line_text = indexes[f.file.as_str()].line_text(&d.rb.text, line).to_string();
        (f.line, f.col) = (line, col);
        if f.rule == "unused-ignore" {
            let key = (f.file.clone(), line, f.message.clone());
            unused.entry(key).or_insert((0, f.clone())).0 += 1;
            continue;
        }
        if stmt.is_some_and(|i| !advice::applies(&f.rule, &d.migration.stmts[i])) {
            continue;
        }
        // A DSL call gets the Rails form of the recipe first.
        if let Some(ruby) = stmt.filter(|i| !d.migration.stmts[*i].literal).and_then(|_| advice::recipe(&f.rule, &f.line_text)) {
            f.safe = format!("{ruby}\n-- the SQL, for `execute` or a SQL migration:\n{}", f.safe);
        }
        if stmt.is_some_and(|i| d.migration.stmts[i].assured) {
            report.suppressed.push(f);
        } else {
            kept.push(f);
        }
    }
    for ((file, line, _), (count, f)) in unused {
        let copies = by_name.get(file.as_str()).and_then(|d| d.synth.ignores.get(&line)).copied().unwrap_or(1);
        if count >= copies {
            kept.push(f);
        }
    }
    for d in derived.iter().filter(|d| !d.migration.notes.is_empty()) {
        let idx = &indexes[d.rb.name.as_str()];
        for n in &d.migration.notes {
            let meta = match n.kind {
                NoteKind::NotAnalysed => &NOT_ANALYSED,
                NoteKind::OnlineTool => &ONLINE_TOOL,
            };
            if n.kind == NoteKind::NotAnalysed {
                report.not_analysed += 1;
            }
            if !opts.config.is_on(meta.id, meta.default_on) || opts.config.excluded(&d.rb.name) {
                continue;
            }
            let (line, col) = idx.line_col(&d.rb.text, n.at);
            let f = note_finding(n, meta, d, line, col, idx, opts);
            if n.assured || ignored_by_comment(d, idx, line, meta.id) {
                report.suppressed.push(f);
            } else {
                kept.push(f);
            }
        }
    }
    kept.sort_by(|a, b| (a.file.as_str(), a.line, a.col).cmp(&(b.file.as_str(), b.line, b.col)));
    report.findings = kept;
}

/// A `# stepwise:ignore <rule>` on the line above `line`.
fn ignored_by_comment(d: &Derived, idx: &LineIndex, line: usize, rule: &str) -> bool {
    line > 1 && {
        let above = idx.line_text(&d.rb.text, line - 1).trim();
        above
            .strip_prefix('#')
            .map(str::trim)
            .and_then(|c| c.strip_prefix("stepwise:ignore"))
            .is_some_and(|rest| rest.split_whitespace().next().is_some_and(|ids| ids.split(',').any(|r| r == rule)))
    }
}

fn note_finding(n: &interp::Note, meta: &RuleMeta, d: &Derived, line: usize, col: usize, idx: &LineIndex, opts: &LintOptions) -> Finding {
    let (message, why, safe) = match n.kind {
        NoteKind::NotAnalysed => (
            format!("not analysed: {}", n.message),
            "stepwise reads the migration DSL without running Ruby; this part could not be read statically, so nothing in it was judged (it is not known to be safe).".to_string(),
            "Write the change with the migration DSL and literal names, or `execute` a literal SQL string; or review it by hand and mark the line above with `# stepwise:ignore rails-not-analysed <reason>`.".to_string(),
        ),
        NoteKind::OnlineTool => {
            let first = d.migration.stmts.iter().find(|s| s.online && s.sql.trim_start().to_ascii_uppercase().starts_with("ALTER TABLE"));
            let recipe = match first.and_then(|s| osc_command(&s.sql)) {
                Some(cmd) => format!("{cmd}\n-- or, in a SQL migration, the same ALTER TABLE under `-- stepwise:online`: `stepwise migrate` then runs it as an online schema change"),
                None => "stepwise osc <table> --alter '<clauses>'\n-- or, in a SQL migration, `-- stepwise:online` before the ALTER TABLE".to_string(),
            };
            (
                format!("this migration runs its ALTERs through {}: they are judged as online changes, and stepwise would run them with `stepwise osc`", n.message),
                "An online tool copies the table and swaps it, so the ALTER does not block writes; stepwise osc does the same with triggers, short batches, a checksum of every kept column before the swap, and resumes after a crash.".to_string(),
                recipe,
            )
        }
    };
    Finding {
        rule: meta.id.to_string(),
        severity: opts.config.severity.get(meta.id).copied().unwrap_or(meta.severity),
        file: d.rb.name.clone(),
        line,
        col,
        line_text: idx.line_text(&d.rb.text, line).to_string(),
        message,
        why,
        safe,
    }
}

/// `stepwise osc <table> --alter '<clauses>'` for an `ALTER TABLE t <clauses>`.
fn osc_command(alter: &str) -> Option<String> {
    let rest = alter.trim_start().get(11..)?.trim_start();
    let (table, clauses) = if let Some(r) = rest.strip_prefix('`') {
        let end = r.find('`')?;
        (&r[..end], r[end + 1..].trim())
    } else if let Some(r) = rest.strip_prefix('"') {
        let end = r.find('"')?;
        (&r[..end], r[end + 1..].trim())
    } else {
        let (t, c) = rest.split_once(' ')?;
        (t, c.trim())
    };
    Some(format!("stepwise osc {table} --alter '{}'", clauses.replace('\'', "'\\''")))
}

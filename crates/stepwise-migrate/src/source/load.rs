//! Read and parse migration files and build [`Migration`]s from them.

use super::assemble::{assemble, Named, Plan};
use super::filename::{self, FileName};
use super::list::{self, SqlFile};
use super::{detect, LoadError, MigrationSet};
use crate::migration::{Layout, Migration};
use std::fs;
use std::path::Path;
use std::sync::Arc;
use stepwise_sql::{Dialect, FileRole, Flavor, InputError, ParsedFile, SourceFile};

/// Read the migrations of `dir` in `layout` (`None`: detect it). Every bad file
/// is reported, not just the first.
pub fn load_dir(dir: &Path, layout: Option<Layout>, dialect: Dialect) -> Result<MigrationSet, LoadError> {
    // One listing and one read of each file serve detection and parsing; the
    // reading and parsing are spread over the cores.
    let all = list::sql_files(dir, true)?;
    let flyway = layout.map_or_else(|| detect::is_flyway(&all), |l| l == Layout::Flyway);
    let files: Vec<SqlFile> = if flyway { all } else { all.into_iter().filter(|f| f.path.parent() == Some(dir)).collect() };
    let mut sources = Vec::with_capacity(files.len());
    for read in stepwise_sql::par::map(&files, |f| read_source(&f.path, &f.display)) {
        match read {
            Ok(source) => sources.push(Ok(source)),
            Err(LoadError::Input(bad)) => sources.push(Err(bad)),
            Err(io) => return Err(io),
        }
    }
    let layout = match layout {
        Some(layout) => layout,
        None if flyway => Layout::Flyway,
        None => detect::layout_of(sources.iter().filter_map(|s| s.as_ref().ok()).map(|s| s.text.as_str()), detect::has_pairs(files.iter())),
    };
    let mut errors = Vec::new();
    let mut named = Vec::with_capacity(files.len());
    for (file, source) in files.into_iter().zip(sources) {
        match filename::parse(layout, &file.file_name) {
            Ok(name) => named.push(Named { file, name, source }),
            Err(msg) => errors.push(InputError::whole_file(&file.display, msg)),
        }
    }
    let plans = assemble(named, &mut errors);
    let mut migrations = Vec::with_capacity(plans.len());
    for read in stepwise_sql::par::map(&plans, |plan| read_plan(plan, flavor(layout), dialect)) {
        match read {
            Ok(migration) => migrations.push(migration),
            Err(LoadError::Input(bad)) => errors.extend(bad),
            Err(io) => return Err(io),
        }
    }
    if errors.is_empty() {
        Ok(MigrationSet { layout, migrations })
    } else {
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(LoadError::Input(errors))
    }
}

/// Read one file named on the command line, whatever its name: the markers it
/// uses decide how it is parsed (a file without markers is all up), and the
/// version comes from its name if it has one, else it is `0`.
pub fn load_file(path: &Path, dialect: Dialect) -> Result<Migration, LoadError> {
    let display = path.display().to_string();
    let source = read_source(path, &display)?;
    let flavor = detect::flavor_of(&source.text);
    let name = filename::loose(&path.file_name().unwrap_or(path.as_os_str()).to_string_lossy());
    let parsed = stepwise_sql::parse_file(source, FileRole::Combined, dialect, flavor).map_err(|e| LoadError::Input(vec![e]))?;
    build(name, parsed, None, vec![display])
}

fn flavor(layout: Layout) -> Flavor {
    match layout {
        Layout::Native => Flavor::Native,
        Layout::Sqlx => Flavor::Sqlx,
        Layout::Dbmate => Flavor::Dbmate,
        Layout::Goose => Flavor::Goose,
        Layout::GolangMigrate | Layout::Flyway => Flavor::Plain,
    }
}

fn read_plan(plan: &Plan, flavor: Flavor, dialect: Dialect) -> Result<Migration, LoadError> {
    let up = parse(&plan.up, flavor, dialect);
    let down = plan.down.as_ref().map(|down| parse(down, flavor, dialect)).transpose();
    let (up, down) = both(up, down)?;
    let mut files = vec![plan.up.file.display.clone()];
    files.extend(plan.down.as_ref().map(|d| d.file.display.clone()));
    build(plan.up.name.clone(), up, down, files)
}

fn parse(named: &Named, flavor: Flavor, dialect: Dialect) -> Result<ParsedFile, LoadError> {
    let source = named.source.clone().map_err(LoadError::Input)?;
    stepwise_sql::parse_file(source, named.name.part.role(), dialect, flavor).map_err(|e| LoadError::Input(vec![e]))
}

/// Both results, or the errors of both (an I/O error first, as it ends the load).
fn both<A, B>(a: Result<A, LoadError>, b: Result<B, LoadError>) -> Result<(A, B), LoadError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(LoadError::Input(mut first)), Err(LoadError::Input(second))) => {
            first.extend(second);
            Err(LoadError::Input(first))
        }
        (Err(e @ LoadError::Io { .. }), _) | (_, Err(e)) | (Err(e), Ok(_)) => Err(e),
    }
}

/// A migration from its parsed up (or whole) file and its separate down file, if any.
fn build(name: FileName, up: ParsedFile, down: Option<ParsedFile>, files: Vec<String>) -> Result<Migration, LoadError> {
    let Some(up_section) = up.up else {
        // parse_file always gives a combined or up-only file an up section; kept as an error, not a panic.
        let file = files.first().map_or("", String::as_str);
        return Err(LoadError::Input(vec![InputError::whole_file(file, "the file has no up section")]));
    };
    let down_section = match down {
        Some(down) => down.down,
        None => up.down,
    };
    Ok(Migration {
        version: name.version,
        kind: name.kind,
        name: name.name,
        phase: up.phase.unwrap_or_default(),
        checksum: stepwise_sql::checksum(up_section.body_text()),
        up: up_section,
        down: down_section,
        files,
    })
}

/// A file's text as a `SourceFile` named by its display path. Text that is not
/// UTF-8 is bad input; a leading byte-order mark is dropped.
fn read_source(path: &Path, display: &str) -> Result<Arc<SourceFile>, LoadError> {
    let bytes = fs::read(path).map_err(|source| LoadError::Io { path: display.to_string(), source })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let msg = format!("the file is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to());
        LoadError::Input(vec![InputError::whole_file(display, msg)])
    })?;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    Ok(Arc::new(SourceFile { name: display.to_string(), text }))
}

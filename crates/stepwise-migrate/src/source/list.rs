//! Which files of a directory are migration files: `.sql` files that are not
//! hidden, at the top level or (for Flyway) in any subdirectory.

use super::LoadError;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub(super) struct SqlFile {
    pub path: PathBuf,
    /// The path as the user should see it: the directory as given, joined with the file.
    pub display: String,
    /// The file name without its directory.
    pub file_name: String,
}

/// The `.sql` files of `dir`, sorted by path. Hidden files and directories are skipped;
/// subdirectories are searched only when `recursive`. Symbolic links to files are
/// followed, links to directories are not (so a link loop cannot trap the search).
pub(super) fn sql_files(dir: &Path, recursive: bool) -> Result<Vec<SqlFile>, LoadError> {
    let mut files = Vec::new();
    walk(dir, recursive, &mut files)?;
    if recursive {
        files.sort_by(|a, b| a.path.cmp(&b.path));
    } else {
        // One directory: the same order as by path, without comparing
        // path components (which took a tenth of linting 10,000 files).
        files.sort_by(|a, b| a.file_name.as_bytes().cmp(b.file_name.as_bytes()));
    }
    Ok(files)
}

fn walk(dir: &Path, recursive: bool, out: &mut Vec<SqlFile>) -> Result<(), LoadError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| LoadError::Io { path, source }
    };
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type().map_err(io(&path))?;
        if file_type.is_dir() {
            if file_name.ends_with(".sql") {
                return Err(LoadError::Io { path: path.display().to_string(), source: not_a_file("a directory") });
            } else if recursive {
                walk(&path, recursive, out)?;
            }
        } else if file_name.ends_with(".sql") {
            // Named like a migration, it must be one: skipping a dangling
            // link, a FIFO or a socket said "nothing pending" over a
            // migration the user meant to run.
            // A regular file needs no second look (the listing said so); a
            // link does, at what it points to.
            if file_type.is_file() {
                out.push(SqlFile { display: path.display().to_string(), path, file_name });
                continue;
            }
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => out.push(SqlFile { display: path.display().to_string(), path, file_name }),
                Ok(m) => {
                    let what =
                        if m.is_dir() { "a directory (reached through a link)" } else { "not a regular file (a FIFO, socket or device)" };
                    return Err(LoadError::Io { path: path.display().to_string(), source: not_a_file(what) });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(LoadError::Io { path: path.display().to_string(), source: not_a_file("a symbolic link to nothing") });
                }
                Err(e) => return Err(LoadError::Io { path: path.display().to_string(), source: e }),
            }
        }
    }
    Ok(())
}

fn not_a_file(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("it is named like a migration but is {what}"))
}

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
    files.sort_by(|a, b| a.path.cmp(&b.path));
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
        if entry.file_type().map_err(io(&path))?.is_dir() {
            if recursive {
                walk(&path, recursive, out)?;
            }
        } else if file_name.ends_with(".sql") && path.is_file() {
            out.push(SqlFile { display: path.display().to_string(), path, file_name });
        }
    }
    Ok(())
}

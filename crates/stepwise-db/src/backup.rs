//! A backup before migrating: PostgreSQL `pg_dump -Fc`, MySQL/MariaDB
//! `mariadb-dump` (or `mysqldump`) `--single-transaction --routines
//! --triggers`, written to a directory under a name that says which database,
//! when, and before which migrations; checked readable before anything is
//! migrated (`pg_restore --list`, or the dump's header and completion line).
//! Passwords go to the tools through the environment, never the command line.

use crate::scratch::find_program;
use crate::{DbError, DbUrl, Engine};
use std::path::{Path, PathBuf};
use std::process::Stdio;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    /// The command that restores it (without the password).
    pub restore: String,
}

/// Take a backup of the database at `url` into `dir` (created if missing);
/// `label` says what it is before (the versions pending).
pub async fn take(url: &DbUrl, dir: &Path, label: &str) -> Result<Backup, DbError> {
    std::fs::create_dir_all(dir).map_err(|e| DbError::Other(format!("cannot create the backup directory {}: {e}", dir.display())))?;
    let db = url.database().unwrap_or_else(|| "database".into());
    let stamp = utc_stamp(std::time::SystemTime::now());
    let ext = if url.engine == Engine::Postgres { "dump" } else { "sql" };
    let path = dir.join(format!("{}-{stamp}-before-{}.{ext}", safe(&db), safe(label)));
    let result = match url.engine {
        Engine::Postgres => pg(url, &path).await,
        Engine::MySql => mysql(url, &path).await,
    };
    match result {
        Ok(restore) => {
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            Ok(Backup { path, bytes, restore })
        }
        Err(e) => {
            // A failed or unreadable backup is not left to be mistaken for a good one.
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

async fn run(mut cmd: tokio::process::Command, what: &str) -> Result<std::process::Output, DbError> {
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    let out = cmd.output().await.map_err(|e| DbError::Other(format!("cannot run {what}: {e}")))?;
    if !out.status.success() {
        return Err(DbError::Other(format!("{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim())));
    }
    Ok(out)
}

async fn pg(url: &DbUrl, path: &Path) -> Result<String, DbError> {
    let (target, password) = crate::schema_dump::split_password(url.expose());
    let pg_dump = find_program("pg_dump", None).unwrap_or_else(|| PathBuf::from("pg_dump"));
    let mut cmd = tokio::process::Command::new(&pg_dump);
    cmd.args(["--format=custom", "--no-password", "--lock-wait-timeout=10s"])
        .arg(format!("--file={}", path.display()))
        .arg(format!("--dbname={target}"));
    if let Some(p) = &password {
        cmd.env("PGPASSWORD", p);
    }
    run(cmd, "pg_dump").await?;
    let pg_restore = find_program("pg_restore", None).unwrap_or_else(|| PathBuf::from("pg_restore"));
    let mut check = tokio::process::Command::new(&pg_restore);
    check.arg("--list").arg(path);
    let listed = run(check, "pg_restore --list (checking the backup)").await?;
    if listed.stdout.is_empty() {
        return Err(DbError::Other(format!("the backup {} lists nothing: not kept", path.display())));
    }
    Ok(format!("pg_restore --clean --if-exists --no-owner --dbname '{}' '{}'", url.redacted(), path.display()))
}

async fn mysql(url: &DbUrl, path: &Path) -> Result<String, DbError> {
    let (opts, _) = crate::mysql::driver_opts(url)?;
    let db =
        opts.db_name().ok_or_else(|| DbError::Config(format!("{}: name the database to back up in the URL", url.redacted())))?.to_string();
    let user = opts.user().unwrap_or("root").to_string();
    let host = opts.ip_or_hostname().to_string();
    let port = opts.tcp_port();
    let tool = find_program("mariadb-dump", None).or_else(|| find_program("mysqldump", None)).unwrap_or_else(|| PathBuf::from("mysqldump"));
    let mut cmd = tokio::process::Command::new(&tool);
    cmd.args(["--single-transaction", "--routines", "--triggers", "--no-tablespaces", "--protocol=TCP"])
        .arg(format!("--host={host}"))
        .arg(format!("--port={port}"))
        .arg(format!("--user={user}"))
        .arg(format!("--result-file={}", path.display()))
        // The database's objects without CREATE DATABASE/USE: it restores into any database.
        .arg(&db);
    if let Some(p) = opts.pass() {
        cmd.env("MYSQL_PWD", p);
    }
    run(cmd, &tool.display().to_string()).await?;
    let text = std::fs::read_to_string(path).map_err(|e| DbError::Other(format!("cannot read the backup {}: {e}", path.display())))?;
    // Recent MariaDB dumps start with a sandbox-mode line, then the header.
    let head_ok = text.lines().take(3).any(|l| l.starts_with("-- MariaDB dump") || l.starts_with("-- MySQL dump"));
    let tail_ok = text.lines().rev().find(|l| !l.trim().is_empty()).is_some_and(|l| l.starts_with("-- Dump completed"));
    if !head_ok || !tail_ok {
        return Err(DbError::Other(format!(
            "the backup {} is not a complete dump (no header or no completion line): not kept",
            path.display()
        )));
    }
    Ok(format!("mariadb --host={host} --port={port} --user={user} -p {db} < '{}'", path.display()))
}

/// `20251206T031500Z` for a time.
fn utc_stamp(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (y, mo, d, h, mi, s) = crate::clock::utc(secs);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// A file-name-safe version of `s`, at most 80 characters.
fn safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "._+-".contains(c) { c } else { '_' }).take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_and_names() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_765_000_000);
        assert_eq!(utc_stamp(t), "20251206T054640Z");
        assert_eq!(utc_stamp(std::time::UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(safe("a b/c;d"), "a_b_c_d");
    }
}

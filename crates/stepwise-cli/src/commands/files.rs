//! `init` and `new`: files on disk.

use crate::config::{Config, DEFAULT_CONFIG};
use crate::render::Out;
use std::path::Path;
use stepwise_migrate::engine::Engine;

const CONFIG_TEMPLATE: &str = r#"# stepwise configuration. Flags and environment variables (DATABASE_URL,
# STEPWISE_*) override what is written here.

# database_url = "postgres://app@localhost:5432/app"
migrations_dir = "migrations"
# auto, native, sqlx, dbmate, goose, golang-migrate or flyway
layout = "auto"
# PostgreSQL schema for stepwise's state (MySQL: table name prefix)
schema = "stepwise"
# Every statement waits at most this long for a lock, then retries.
lock_timeout = "1s"
lock_retries = 10
# 0 means no statement timeout
statement_timeout = "0"
# CREATE INDEX CONCURRENTLY waits for older transactions; this long at most.
concurrent_timeout = "1h"
# How long to wait for another runner's migration lock.
lock_wait = "1m"
# role = "app"
rails_compat = false
"#;

pub async fn init(cfg: &Config, out: &Out) -> i32 {
    // Text: a line per step as it happens; JSON: one result at the end.
    let json = out.format == crate::cli::Format::Json;
    let mut said: Vec<String> = Vec::new();
    let mut say = |msg: String| {
        if json {
            said.push(msg);
        } else {
            out.line(&msg);
        }
    };
    if Path::new(DEFAULT_CONFIG).exists() {
        say(format!("{DEFAULT_CONFIG} already exists; left as it is"));
    } else if let Err(e) = std::fs::write(DEFAULT_CONFIG, CONFIG_TEMPLATE) {
        out.error(&format!("cannot write {DEFAULT_CONFIG}: {e}"));
        return 1;
    } else {
        say(format!("created {DEFAULT_CONFIG}"));
    }
    if cfg.migrations_dir.is_dir() {
        say(format!("{} already exists", cfg.migrations_dir.display()));
    } else if let Err(e) = std::fs::create_dir_all(&cfg.migrations_dir) {
        out.error(&format!("cannot create {}: {e}", cfg.migrations_dir.display()));
        return 1;
    } else {
        say(format!("created {}/", cfg.migrations_dir.display()));
    }
    let mut store = None;
    if cfg.database_url.is_some() {
        let target = match super::target(cfg, out, false).await {
            Ok(t) => t,
            Err(code) => return code,
        };
        let mut engine = match super::connect(cfg, out, &target.url).await {
            Ok(e) => e,
            Err(code) => return code,
        };
        let locked = stepwise_migrate::execute::acquire_lock(&mut engine, cfg.run.lock_wait, &mut |e| out.event(&e)).await;
        if let Err(e) = locked {
            return out.run_error(&e);
        }
        let made = engine.ensure_store().await;
        let _ = engine.unlock().await;
        if let Err(e) = made {
            return out.run_error(&e.into());
        }
        say(format!("state tables ready in {} ({})", engine.store_name(), engine.server()));
        store = Some(engine.store_name());
    }
    if json {
        let fields = serde_json::json!({
            "action": "init",
            "config": DEFAULT_CONFIG,
            "migrations_dir": cfg.migrations_dir.display().to_string(),
            "store": store,
        });
        out.result(&said.join("; "), fields);
    }
    0
}

/// `YYYYMMDDHHMMSS` in UTC, computed from the system clock.
fn utc_timestamp() -> String {
    let (y, mo, d, h, mi, s) = stepwise_db::clock::utc(stepwise_db::clock::now_secs());
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    s.trim_matches('_').to_string()
}

pub fn new(cfg: &Config, out: &Out, name: &str) -> i32 {
    let slug = slug(name);
    if slug.is_empty() {
        out.error(&format!("`{name}` is not a usable migration name: use letters, digits and underscores, like add_status_to_orders"));
        return 2;
    }
    if let Err(e) = std::fs::create_dir_all(&cfg.migrations_dir) {
        out.error(&format!("cannot create {}: {e}", cfg.migrations_dir.display()));
        return 1;
    }
    let path = match create_unique(&cfg.migrations_dir, &slug) {
        Ok(p) => p,
        Err(e) => {
            out.error(&e);
            return 1;
        }
    };
    if out.format == crate::cli::Format::Json {
        out.json(&serde_json::json!({"created": path.display().to_string()}));
    } else {
        out.line(&format!("created {}", path.display()));
    }
    0
}

/// The highest numeric version among the files in `dir` (`<digits>_...`).
fn highest_version(dir: &Path) -> Option<u64> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
            (!digits.is_empty() && digits.len() <= 19).then(|| digits.parse::<u64>().ok()).flatten()
        })
        .max()
}

/// Create `<version>_<slug>.sql` with a version no other file in `dir` has:
/// the current UTC time, or one past the highest version there (two `new`s
/// in one second gave both the same version, and every later command
/// refused the directory). A lock file makes concurrent `new`s take turns.
fn create_unique(dir: &Path, slug: &str) -> Result<std::path::PathBuf, String> {
    let lock = dir.join(".stepwise-new.lock");
    let start = std::time::Instant::now();
    loop {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // A `new` killed while holding it leaves it: stale after 10 s.
                let stale = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() >= 10);
                if stale || start.elapsed().as_secs() >= 10 {
                    let _ = std::fs::remove_file(&lock);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(format!("cannot create {}: {e}", lock.display())),
        }
    }
    let result = (|| {
        let now: u64 = utc_timestamp().parse().map_err(|_| "the clock gives no usable time".to_string())?;
        let version = match highest_version(dir) {
            Some(high) if high >= now => high + 1,
            _ => now,
        };
        let path = dir.join(format!("{version}_{slug}.sql"));
        let body = "-- stepwise:up\n\n\n-- stepwise:down\n\n";
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, body.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    })();
    let _ = std::fs::remove_file(&lock);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_timestamps() {
        assert_eq!(slug("Add status to Orders!"), "add_status_to_orders");
        assert_eq!(slug("  "), "");
        let ts = utc_timestamp();
        assert_eq!(ts.len(), 14);
        assert!(ts.starts_with("20"));
    }
}

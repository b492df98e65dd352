//! Shared test helpers: a database of its own for each test (PostgreSQL or
//! MariaDB on this machine), a directory of migration files, and the
//! `stepwise` binary run as a user would run it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const MY_ADMIN: &str = "mysql://root@127.0.0.1:3306/";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name unique to this test run: `<prefix>_<pid>_<n>`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// Run psql against `url` with `sql`; panics on failure.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql").args([url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]).output().expect("run psql");
    assert!(out.status.success(), "psql failed: {}\n{sql}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Run the mariadb client against database `db` with `sql`; panics on failure.
pub fn mysql(db: &str, sql: &str) -> String {
    let out = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", db, "-e", sql])
        .output()
        .expect("run mariadb client");
    assert!(out.status.success(), "mariadb failed: {}\n{sql}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A PostgreSQL database of its own, dropped at the end.
pub struct PgDb {
    pub name: String,
    pub url: String,
}

impl PgDb {
    pub fn new() -> PgDb {
        let name = unique("sw_test");
        psql(PG_ADMIN, &format!("CREATE DATABASE {name}"));
        PgDb { url: format!("postgres://postgres@127.0.0.1:5432/{name}"), name }
    }

    pub fn sql(&self, sql: &str) -> String {
        psql(&self.url, sql)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = Command::new("psql").args([PG_ADMIN, "-X", "-q", "-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)]).output();
    }
}

/// A MariaDB database of its own, dropped at the end.
pub struct MyDb {
    pub name: String,
    pub url: String,
}

impl MyDb {
    pub fn new() -> MyDb {
        let name = unique("sw_test");
        mysql("", &format!("CREATE DATABASE {name}"));
        MyDb { url: format!("mysql://root@127.0.0.1:3306/{name}"), name }
    }

    pub fn sql(&self, sql: &str) -> String {
        mysql(&self.name, sql)
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        let _ = Command::new("mariadb").args(["-h", "127.0.0.1", "-u", "root", "-e", &format!("DROP DATABASE IF EXISTS {}", self.name)]).output();
    }
}

/// A temporary project directory with a `migrations/` folder.
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    pub fn new() -> Project {
        let root = std::env::temp_dir().join(unique("sw_proj"));
        std::fs::create_dir_all(root.join("migrations")).expect("create project dir");
        Project { root }
    }

    pub fn migrations(&self) -> PathBuf {
        self.root.join("migrations")
    }

    /// Write `migrations/<file>`.
    pub fn write(&self, file: &str, text: &str) -> &Self {
        let path = self.migrations().join(file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create dir");
        }
        std::fs::write(path, text).expect("write migration");
        self
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.migrations().join(file)).expect("remove migration");
    }

    /// A `stepwise` command run in the project directory against `url`.
    pub fn cmd(&self, url: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stepwise"));
        c.current_dir(&self.root).env("DATABASE_URL", url).env("NO_COLOR", "1").args(args);
        for var in ["STEPWISE_CONFIG", "STEPWISE_MIGRATIONS_DIR", "STEPWISE_LAYOUT", "STEPWISE_SCHEMA", "STEPWISE_LOCK_TIMEOUT"] {
            c.env_remove(var);
        }
        c
    }

    pub fn run(&self, url: &str, args: &[&str]) -> Run {
        Run::from(self.cmd(url, args).output().expect("run stepwise"))
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// What a run of stepwise did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success, got {}:\n{}", self.code, self.all());
        self
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "expected exit {code}, got {}:\n{}", self.code, self.all());
        self
    }

    #[track_caller]
    pub fn contains(&self, s: &str) -> &Self {
        assert!(self.all().contains(s), "expected output to contain {s:?}:\n{}", self.all());
        self
    }

    /// JSON lines on stdout.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).expect("json line")).collect()
    }
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

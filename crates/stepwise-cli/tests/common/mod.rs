//! Shared test helpers: a database of its own for each test (PostgreSQL or
//! MariaDB on this machine), a directory of migration files, and the
//! `stepwise` binary run as a user would run it.
#![allow(dead_code)]

pub mod history;
pub mod mariadb_pair;
pub mod my_session;
pub mod mysql_history;
pub mod osc;
pub mod standby;

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
        let _ = Command::new("psql")
            .args([PG_ADMIN, "-X", "-q", "-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)])
            .output();
    }
}

/// A MariaDB database of its own, dropped at the end.
pub struct MyDb {
    pub name: String,
    pub url: String,
}

impl MyDb {
    /// osc's tables (`_sw...`) and every trigger in the database, as
    /// `tables|triggers`: `|` when nothing of osc is left.
    #[allow(dead_code)]
    pub fn osc_leftovers(&self) -> String {
        self.sql(
            "SELECT CONCAT(
                (SELECT COALESCE(GROUP_CONCAT(TABLE_NAME), '') FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE '%\\_sw%'),
                '|',
                (SELECT COALESCE(GROUP_CONCAT(TRIGGER_NAME), '') FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()))",
        )
    }

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
        let _ = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "-e", &format!("DROP DATABASE IF EXISTS {}", self.name)])
            .output();
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

/// What a command printed, trimmed; panics when it cannot run.
pub fn output(c: &mut Command) -> String {
    String::from_utf8_lossy(&c.output().expect("run a command").stdout).trim().to_string()
}

pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")) == "0"
}

/// Two distinct ports that were free a moment ago (for throwaway servers).
pub fn free_ports() -> [u16; 2] {
    let a = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let b = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    [a.local_addr().expect("port").port(), b.local_addr().expect("port").port()]
}

// ---- Concurrency and crash helpers: long-lived sessions and background runs ----

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Poll `f` every 20 ms until it returns true or `timeout` passes; returns
/// whether it became true.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A psql session kept open (a child with piped stdin), to hold locks in an
/// open transaction or to time a query without the cost of connecting.
pub struct PsqlSession {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    marker: u32,
    /// The session's backend pid.
    pub pid: i32,
}

impl PsqlSession {
    /// Connect to `url` as application `app`.
    pub fn open(url: &str, app: &str) -> PsqlSession {
        let mut child = Command::new("psql")
            .args([url, "-X", "-q", "-At"])
            .env("PGAPPNAME", app)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn psql");
        let stdin = child.stdin.take();
        let (tx, lines) = channel();
        let stdout = child.stdout.take().expect("psql stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err_buf = stderr.clone();
        let err = child.stderr.take().expect("psql stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut b = err_buf.lock().unwrap();
                b.push_str(&line);
                b.push('\n');
            }
        });
        let mut s = PsqlSession { child, stdin, lines, stderr, marker: 0, pid: 0 };
        s.pid = s.query("SELECT pg_backend_pid();").parse().expect("backend pid");
        s
    }

    /// Send SQL without waiting for its answer (it may block on a lock).
    pub fn send(&mut self, sql: &str) {
        let stdin = self.stdin.as_mut().expect("psql stdin open");
        writeln!(stdin, "{sql}").expect("write to psql");
        stdin.flush().expect("flush psql stdin");
    }

    /// Run SQL and wait (up to 60 s) for its output, which is returned
    /// without the trailing newline. Errors show up on psql's stderr, which
    /// `errors` returns.
    pub fn query(&mut self, sql: &str) -> String {
        self.query_within(sql, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("psql did not answer within 60s: {sql}\n{}", self.errors()))
    }

    /// Like `query`, but None if no answer came within `timeout`.
    pub fn query_within(&mut self, sql: &str, timeout: Duration) -> Option<String> {
        self.marker += 1;
        let marker = format!("__stepwise_test_done_{}", self.marker);
        self.send(&format!("{sql}\n\\echo {marker}"));
        self.collect_until(&marker, timeout)
    }

    fn collect_until(&mut self, marker: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(line) if line == marker => return Some(out.join("\n")),
                Ok(line) => out.push(line),
                Err(_) => return None,
            }
        }
    }

    /// What psql wrote to stderr so far.
    pub fn errors(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for PsqlSession {
    fn drop(&mut self) {
        // End of input ends the session (an open transaction rolls back).
        drop(self.stdin.take());
        if !wait_until(Duration::from_secs(5), || matches!(self.child.try_wait(), Ok(Some(_)))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A process running in the background whose output is collected as it
/// comes, so a test can wait for a line and then act.
pub struct Bg {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    started: Instant,
}

/// The JSON event of a job waiting for a replica.
pub const THROTTLED: &str = "\"event\":\"throttled\"";

/// A background job held up by a replica: waits for its first throttled
/// event and returns it, with the job's progress 2 s later. Meanwhile
/// `progress` moved at most one batch of `batch` rows (one may have been in
/// flight) and stayed below `total`, the job kept running, and it said so
/// about once a second. `what` names the job and the stall, for messages.
pub fn held_by_replica(bg: &mut Bg, progress: impl Fn() -> i64, batch: i64, total: i64, what: &str) -> (serde_json::Value, i64) {
    assert!(bg.wait_for(THROTTLED, 1, Duration::from_secs(30)), "no throttled event:\n{}", bg.output());
    let event = bg.output().lines().find(|l| l.contains(THROTTLED)).unwrap_or_default().to_string();
    let event: serde_json::Value = serde_json::from_str(&event).expect("a json event");
    let held = progress();
    std::thread::sleep(Duration::from_secs(2));
    let still = progress();
    assert!(still - held <= batch, "{what}: it went on, {held} then {still} rows");
    assert!(still < total, "{what}: it finished before it was throttled");
    assert!(!bg.exited(), "{what}: it ended:\n{}", bg.output());
    let waits = bg.output().matches(THROTTLED).count();
    assert!((2..=5).contains(&waits), "about one throttled event a second while waiting, got {waits}:\n{}", bg.output());
    (event, still)
}

/// Start `cmd` in the background with its output collected.
pub fn spawn_bg(mut cmd: Command) -> Bg {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn process");
    let stdout = Arc::new(Mutex::new(String::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut readers = Vec::new();
    let out = child.stdout.take().expect("stdout");
    let buf = stdout.clone();
    readers.push(std::thread::spawn(move || collect_lines(out, buf)));
    let err = child.stderr.take().expect("stderr");
    let buf = stderr.clone();
    readers.push(std::thread::spawn(move || collect_lines(err, buf)));
    Bg { child, stdout, stderr, readers, started: Instant::now() }
}

fn collect_lines(r: impl std::io::Read, buf: Arc<Mutex<String>>) {
    for line in BufReader::new(r).lines().map_while(Result::ok) {
        let mut b = buf.lock().unwrap();
        b.push_str(&line);
        b.push('\n');
    }
}

impl Bg {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Time since the process was started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Output so far, stdout then stderr.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout.lock().unwrap(), self.stderr.lock().unwrap())
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Wait until `needle` occurs `times` times in the output; false on timeout
    /// or if the process exited first.
    pub fn wait_for(&mut self, needle: &str, times: usize, timeout: Duration) -> bool {
        wait_until(timeout, || self.output().matches(needle).count() >= times || self.exited())
            && self.output().matches(needle).count() >= times
    }

    /// SIGKILL, as `kill -9` does.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill -9");
    }

    /// Wait for the exit (at most `timeout`, then kill it and panic) and collect the output.
    #[track_caller]
    pub fn finish(mut self, timeout: Duration) -> Run {
        if !wait_until(timeout, || self.exited()) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!("process did not exit within {timeout:?}; output so far:\n{}", self.output());
        }
        let status = self.child.wait().expect("wait");
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Run { code: status.code().unwrap_or(-1), stdout: self.stdout.lock().unwrap().clone(), stderr: self.stderr.lock().unwrap().clone() }
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if !self.exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Run stepwise in `p` and wait at most two minutes: a lock wait that never
/// ends fails the test instead of hanging it.
#[track_caller]
pub fn bounded(p: &Project, url: &str, args: &[&str]) -> Run {
    spawn_bg(p.cmd(url, args)).finish(Duration::from_secs(120))
}

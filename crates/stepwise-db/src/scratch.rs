//! A throwaway PostgreSQL server: `initdb` in a fresh temporary directory, a
//! free port on 127.0.0.1, trust authentication, durability switched off.
//!
//! The server is started with `pg_ctl -w start` rather than by spawning
//! `postgres` as a child: pg_ctl waits until the server accepts connections,
//! and stopping needs nothing but the data directory (`postmaster.pid`), so
//! `Drop` can stop it synchronously whether or not we run it as another OS
//! user (a `runuser` child would not pass our signals on to `postgres`).
//!
//! PostgreSQL refuses to run as root. When we are root, `initdb`, `pg_ctl`
//! and the server run as the `postgres` OS user, who is given the directory.

use crate::DbUrl;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// How long the server may take to start or stop.
const WAIT_SECS: u32 = 30;
/// How many ports to try when another process takes ours before the server binds it.
const PORT_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, Default)]
pub struct ScratchOptions {
    /// Directory holding `initdb` and `pg_ctl`; found automatically when `None`
    /// (see [`find_bindir`]).
    pub bindir: Option<PathBuf>,
    /// Leave the temporary directory (data directory and server log) behind
    /// when the server stops, for a post-mortem.
    pub keep: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error("initdb not found: install postgresql (apt-get install postgresql) or set STEPWISE_PG_BINDIR")]
    NotFound,
    #[error(
        "PostgreSQL refuses to run as root and there is no `postgres` OS user to run it as: \
         create one (useradd --system postgres) or run stepwise as an unprivileged user"
    )]
    NoUnprivilegedUser,
    #[error("{action}: {source}")]
    Io { action: String, source: std::io::Error },
    #[error("`{command}` failed ({status}):\n{output}")]
    Command { command: String, status: String, output: String },
    #[error("the scratch PostgreSQL server did not start on port {port}: {output}\nserver log (tail):\n{log_tail}")]
    Start { port: u16, output: String, log_tail: String },
}

/// A running throwaway server. Stop it with [`Scratch::stop`]; dropping it
/// stops it too (immediate shutdown), so a panicking test leaves nothing running.
#[derive(Debug)]
pub struct Scratch {
    /// The temporary directory: `data/`, `log` and the Unix socket.
    dir: PathBuf,
    data: PathBuf,
    bindir: PathBuf,
    port: u16,
    run_as: RunAs,
    keep: bool,
    /// Set once `stop` has cleaned up, so `Drop` has nothing left to do.
    done: bool,
}

impl Scratch {
    pub async fn start(opts: ScratchOptions) -> Result<Scratch, ScratchError> {
        let bindir = find_bindir(opts.bindir.as_deref()).ok_or(ScratchError::NotFound)?;
        let run_as = RunAs::detect()?;
        sweep_orphans(&run_as, &bindir);
        let dir = make_temp_dir()?;
        // From here on, Drop removes the directory (and stops a server) on any error.
        let mut scratch = Scratch { data: dir.join("data"), dir, bindir, port: 0, run_as, keep: opts.keep, done: false };
        if opts.keep {
            // Asked to outlive its process: the sweep leaves it alone.
            std::fs::write(scratch.dir.join(KEEP_MARK), b"")
                .map_err(|source| io_error("cannot mark the scratch directory kept".into(), source))?;
        }
        scratch.run_as.give(&scratch.dir)?;
        scratch.initdb().await?;
        let mut attempt = 1;
        loop {
            scratch.port = free_port()?;
            match scratch.pg_ctl_start().await {
                Ok(()) => return Ok(scratch),
                Err(ScratchError::Start { log_tail, .. }) if attempt < PORT_ATTEMPTS && log_tail.contains("already in use") => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`
    pub fn url(&self) -> DbUrl {
        self.url_for("postgres")
    }

    pub fn url_for(&self, db: &str) -> DbUrl {
        // Invariant: a postgres:// URL always parses (parse only checks the scheme).
        DbUrl::parse(&format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)).expect("postgres:// URL")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The directory with the server's programs (`pg_dump` of the same version lives here).
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// Fast shutdown, then remove the temporary directory (unless `keep`).
    pub async fn stop(mut self) -> Result<(), ScratchError> {
        let wait = WAIT_SECS.to_string();
        self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", &wait]).await?;
        self.done = true;
        if !self.keep {
            std::fs::remove_dir_all(&self.dir).map_err(|source| io_error(format!("cannot remove {}", self.dir.display()), source))?;
        }
        Ok(())
    }

    async fn initdb(&self) -> Result<(), ScratchError> {
        let mut args: Vec<OsString> = vec!["-D".into(), self.data.clone().into()];
        args.extend(["-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"].map(OsString::from));
        self.run("initdb", &args).await.map(drop)
    }

    async fn pg_ctl_start(&self) -> Result<(), ScratchError> {
        let log = self.dir.join("log");
        // pg_ctl appends to the log: start each attempt with an empty one.
        let _ = std::fs::remove_file(&log);
        // pg_ctl passes -o through /bin/sh, hence the quoted socket directory.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            shell_quote(&self.dir.to_string_lossy())
        );
        let wait = WAIT_SECS.to_string();
        let mut args: Vec<OsString> = vec!["-D".into(), self.data.clone().into(), "-l".into(), log.clone().into()];
        args.extend(["-w", "-t", &wait, "-o", &options, "start"].map(OsString::from));
        match self.run("pg_ctl", &args).await {
            Ok(_) => Ok(()),
            Err(ScratchError::Command { output, .. }) => Err(ScratchError::Start { port: self.port, output, log_tail: tail(&log, 20) }),
            Err(e) => Err(e),
        }
    }

    async fn pg_ctl(&self, args: &[&str]) -> Result<Output, ScratchError> {
        let mut all: Vec<OsString> = vec!["-D".into(), self.data.clone().into()];
        all.extend(args.iter().map(OsString::from));
        self.run("pg_ctl", &all).await
    }

    /// Run one of the server programs to completion; an error carries its output.
    async fn run(&self, program: &str, args: &[OsString]) -> Result<Output, ScratchError> {
        let mut cmd = self.run_as.command(&self.bindir.join(program), args);
        cmd.current_dir(&self.dir).stdin(Stdio::null());
        let output =
            tokio::process::Command::from(cmd).output().await.map_err(|source| io_error(format!("cannot run {program}"), source))?;
        if output.status.success() {
            return Ok(output);
        }
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        Err(ScratchError::Command {
            command: format!("{program} {}", args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")),
            status: output.status.to_string(),
            output: text.trim_end().to_string(),
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.data.join("postmaster.pid").exists() {
            let args: Vec<OsString> =
                ["-D".into(), self.data.clone().into(), "stop".into(), "-m".into(), "immediate".into(), "-w".into()].into();
            let mut cmd = self.run_as.command(&self.bindir.join("pg_ctl"), &args);
            // Best effort: there is no one to report a failure to.
            let _ = cmd.current_dir(&self.dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The directory with PostgreSQL's server programs (the one holding `initdb`);
/// see [`find_program`] for where it looks.
pub fn find_bindir(explicit: Option<&Path>) -> Option<PathBuf> {
    find_program("initdb", explicit).and_then(|p| p.parent().map(Path::to_path_buf))
}

/// A PostgreSQL program, looked for in order: in `explicit` (and only there
/// when given), in `$STEPWISE_PG_BINDIR` (and only there when set), in the
/// highest version of `/usr/lib/postgresql/*/bin` (Debian, Ubuntu), in
/// `pg_config --bindir`, then on the `PATH`.
pub fn find_program(program: &str, explicit: Option<&Path>) -> Option<PathBuf> {
    let in_dir = |dir: &Path| Some(dir.join(program)).filter(|p| p.is_file());
    if let Some(dir) = explicit {
        return in_dir(dir);
    }
    if let Some(dir) = std::env::var_os("STEPWISE_PG_BINDIR") {
        return in_dir(Path::new(&dir));
    }
    let mut debian: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.split('.').map(|p| p.parse().ok()).collect::<Option<Vec<u32>>>()?;
            Some((version, in_dir(&entry.path().join("bin"))?))
        })
        .collect();
    debian.sort();
    if let Some((_, path)) = debian.pop() {
        return Some(path);
    }
    let pg_config = std::process::Command::new("pg_config").arg("--bindir").stderr(Stdio::null()).output();
    if let Some(out) = pg_config.ok().filter(|o| o.status.success()) {
        if let Some(path) = in_dir(Path::new(String::from_utf8_lossy(&out.stdout).trim())) {
            return Some(path);
        }
    }
    which(program)
}

/// Who runs the server programs.
#[derive(Debug, Clone)]
enum RunAs {
    /// We are not root: run them directly.
    Me,
    /// We are root: run them as this OS user, via `runuser` when there is one, else `su`.
    User { name: String, uid: u32, gid: u32, runuser: Option<PathBuf> },
}

impl RunAs {
    fn detect() -> Result<RunAs, ScratchError> {
        if effective_uid() != Some(0) {
            return Ok(RunAs::Me);
        }
        let name = "postgres";
        match (id_of(name, "-u"), id_of(name, "-g")) {
            (Some(uid), Some(gid)) => Ok(RunAs::User { name: name.to_string(), uid, gid, runuser: which("runuser") }),
            _ => Err(ScratchError::NoUnprivilegedUser),
        }
    }

    /// Hand `dir` over to the user who runs the server.
    fn give(&self, dir: &Path) -> Result<(), ScratchError> {
        match self {
            RunAs::Me => Ok(()),
            RunAs::User { name, uid, gid, .. } => std::os::unix::fs::chown(dir, Some(*uid), Some(*gid))
                .map_err(|source| io_error(format!("cannot give {} to OS user {name}", dir.display()), source)),
        }
    }

    fn command(&self, program: &Path, args: &[OsString]) -> std::process::Command {
        match self {
            RunAs::Me => {
                let mut cmd = std::process::Command::new(program);
                cmd.args(args);
                cmd
            }
            RunAs::User { name, runuser: Some(runuser), .. } => {
                let mut cmd = std::process::Command::new(runuser);
                cmd.args(["-u", name, "--"]).arg(program).args(args);
                cmd
            }
            RunAs::User { name, runuser: None, .. } => {
                let line = std::iter::once(program.as_os_str())
                    .chain(args.iter().map(OsString::as_os_str))
                    .map(|a| shell_quote(&a.to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut cmd = std::process::Command::new("su");
                cmd.args([name.as_str(), "-s", "/bin/sh", "-c"]).arg(format!("exec {line}"));
                cmd
            }
        }
    }
}

/// The effective user id, from /proc (Linux) or else `id -u`.
fn effective_uid() -> Option<u32> {
    let from_proc = std::fs::read_to_string("/proc/self/status").ok().and_then(|status| {
        // "Uid:\t<real>\t<effective>\t<saved>\t<fs>"
        let line = status.lines().find(|l| l.starts_with("Uid:"))?;
        line.split_whitespace().nth(2)?.parse().ok()
    });
    from_proc.or_else(|| {
        let out = std::process::Command::new("id").arg("-u").output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    })
}

/// `id -u user` / `id -g user`.
fn id_of(user: &str, flag: &str) -> Option<u32> {
    let out = std::process::Command::new("id").args([flag, user]).stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// A program on the PATH (or in the sbin directories, which a root PATH may lack).
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).chain(["/usr/sbin", "/sbin"].map(PathBuf::from)).map(|dir| dir.join(program)).find(|p| p.is_file())
}

fn make_temp_dir() -> Result<PathBuf, ScratchError> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let base = std::env::temp_dir();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("stepwise-scratch-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            // Left behind by an earlier process with our pid: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(io_error(format!("cannot create a directory in {}", base.display()), source)),
        }
    }
}

const KEEP_MARK: &str = "keep";

/// Stop and remove the scratch servers of processes that are gone (a
/// `scratch` killed with `kill -9` cannot clean up after itself; its server
/// kept running and its directory stayed). A directory is
/// `stepwise-scratch-<pid>-<n>`: when no process `<pid>` runs and the
/// directory is not marked kept, its server is stopped and it is removed.
fn sweep_orphans(run_as: &RunAs, bindir: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("stepwise-scratch-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let dir = entry.path();
        if Path::new(&format!("/proc/{pid}")).exists() || dir.join(KEEP_MARK).exists() {
            continue;
        }
        let data = dir.join("data");
        if data.join("postmaster.pid").exists() {
            let args: Vec<OsString> = ["-D".into(), data.into(), "stop".into(), "-m".into(), "immediate".into(), "-w".into()].into();
            let mut cmd = run_as.command(&bindir.join("pg_ctl"), &args);
            let _ = cmd.current_dir(&dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A port that was free a moment ago (the server may still lose a race for it).
fn free_port() -> Result<u16, ScratchError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|source| io_error("cannot find a free port on 127.0.0.1".to_string(), source))?;
    listener.local_addr().map(|a| a.port()).map_err(|source| io_error("cannot read a free port".to_string(), source))
}

/// The last `n` lines of a file, or a note saying why there are none.
fn tail(path: &Path, n: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("({} unreadable: {e})", path.display()),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn io_error(action: String, source: std::io::Error) -> ScratchError {
    ScratchError::Io { action, source }
}

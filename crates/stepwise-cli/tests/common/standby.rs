//! A throwaway primary and a streaming standby of it, for the replica-lag
//! tests (the machine's own server has no replica, and is not touched).
//!
//! Both run from a temporary directory with `pg_ctl`, as the `postgres` OS
//! user when the tests run as root (PostgreSQL refuses to run as root).
//! Dropping the pair stops both (immediate shutdown) and removes the
//! directory, so a failing test leaves nothing running.

use super::*;
use std::os::unix::fs::chown;

pub struct Pair {
    pub dir: PathBuf,
    /// PostgreSQL's programs (the newest /usr/lib/postgresql/*/bin, or $STEPWISE_PG_BINDIR).
    bin: PathBuf,
    pub primary_port: u16,
    pub standby_port: u16,
    as_postgres: bool,
    started: Vec<&'static str>,
}

impl Pair {
    /// initdb, start the primary, pg_basebackup a standby, start it and wait
    /// until the primary sees it streaming.
    pub fn start() -> Pair {
        let mut pair = Pair::primary_only("");
        let primary_port = pair.primary_port;
        let standby_port = pair.standby_port;
        let standby = pair.dir.join("standby");
        let port = primary_port.to_string();
        pair.pg(
            "pg_basebackup",
            &["-R", "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-D", &path_str(&standby), "-X", "stream", "-c", "fast"],
        );
        append(&standby.join("postgresql.conf"), &format!("port = {standby_port}\n"));
        pair.pg_ctl_start("standby");
        let streaming = wait_until(Duration::from_secs(30), || {
            psql(&pair.primary_url(), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1"
        });
        assert!(streaming, "the standby did not start streaming:\n{}", pair.log("standby"));
        pair
    }

    /// Only the primary, with `extra` appended to its postgresql.conf; the
    /// pair's directory is owned by the server's user, for files it reads.
    pub fn primary_only(extra: &str) -> Pair {
        Pair::primary_with(extra, |_| {})
    }

    /// Like `primary_only`, with `prepare` run on the directory before the
    /// server starts (to put files there that `extra` names).
    pub fn primary_with(extra: &str, prepare: impl FnOnce(&Path)) -> Pair {
        let bin = stepwise_db::scratch::find_bindir(None).expect("PostgreSQL's server programs (initdb)");
        let as_postgres = is_root();
        let [primary_port, standby_port] = free_ports();
        let dir = std::env::temp_dir().join(unique("sw_standby"));
        std::fs::create_dir_all(&dir).expect("create the pair's directory");
        let mut pair = Pair { dir, bin, primary_port, standby_port, as_postgres, started: vec![] };
        if as_postgres {
            let id = |flag| output(Command::new("id").args([flag, "postgres"])).parse::<u32>().expect("the postgres OS user");
            chown(&pair.dir, Some(id("-u")), Some(id("-g"))).expect("give the directory to postgres");
        }
        let primary = pair.dir.join("primary");
        pair.pg("initdb", &["-D", &path_str(&primary), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
        append(
            &primary.join("postgresql.conf"),
            &format!(
                "port = {primary_port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 wal_level = logical\nmax_wal_senders = 10\nmax_replication_slots = 10\nfsync = off\n",
                pair.dir.display()
            ),
        );
        append(&primary.join("pg_hba.conf"), "host replication all 127.0.0.1/32 trust\n");
        append(&primary.join("postgresql.conf"), extra);
        prepare(&pair.dir);
        if pair.as_postgres {
            let id = |flag| output(Command::new("id").args([flag, "postgres"])).parse::<u32>().expect("the postgres OS user");
            for e in std::fs::read_dir(&pair.dir).expect("the pair's directory").flatten() {
                let _ = chown(e.path(), Some(id("-u")), Some(id("-g")));
            }
        }
        pair.pg_ctl_start("primary");
        pair
    }

    pub fn primary_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.primary_port)
    }

    pub fn standby_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.standby_port)
    }

    /// A command running one of PostgreSQL's server programs, as postgres when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        c.current_dir(&self.dir).stdin(Stdio::null());
        c
    }

    /// A command running one of PostgreSQL's client programs (as ourselves).
    pub fn client(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        c.current_dir(&self.dir).stdin(Stdio::null());
        c
    }

    /// Run a PostgreSQL program to completion; panics with its output on failure.
    fn pg(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(out.status.success(), "{program} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }

    fn pg_ctl_start(&mut self, name: &'static str) {
        let (data, log) = (path_str(&self.dir.join(name)), path_str(&self.dir.join(format!("{name}.log"))));
        let out = self.command("pg_ctl").args(["-D", &data, "-l", &log, "-w", "-t", "30", "start"]).output().expect("run pg_ctl");
        self.started.push(name);
        assert!(out.status.success(), "{name} did not start: {}\n{}", String::from_utf8_lossy(&out.stdout), self.log(name));
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for name in self.started.iter().rev() {
            let data = path_str(&self.dir.join(name));
            let _ = self.command("pg_ctl").args(["-D", &data, "stop", "-m", "immediate", "-w"]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.write_all(text.as_bytes()).expect("append to a configuration file");
}

//! A throwaway MariaDB primary and a replica of it, for the replica-lag
//! tests (the machine's own server has no binary log, and is not touched).
//!
//! Both run from one temporary directory (`mariadb-install-db` once, the
//! data directory copied for the replica), as the `mysql` OS user when the
//! tests run as root. Each server has a temporary directory of its own: a
//! starting server deletes the `#sql*` files it finds in its tmpdir, which
//! in the shared /tmp would be other servers' (two installs side by side
//! failed that way). Dropping the pair kills both and removes the
//! directory, so a failing test leaves nothing running.

use super::*;
use std::os::unix::fs::chown;

pub struct MyPair {
    pub dir: PathBuf,
    pub primary_port: u16,
    pub replica_port: u16,
    servers: Vec<Child>,
}

impl MyPair {
    /// Install, start the primary (binary log on) and the replica, and
    /// replicate until the primary lists the replica.
    pub fn start() -> MyPair {
        let mut pair = MyPair::install(|_| {});
        let user = pair.user();
        let (primary_port, replica_port) = (pair.primary_port, pair.replica_port);
        let copied = Command::new("cp").args(["-a", &path_str(&pair.dir.join("primary")), &path_str(&pair.dir.join("replica"))]).status();
        assert!(copied.is_ok_and(|s| s.success()), "copy the data directory for the replica");
        pair.server("primary", primary_port, 1, &user, &[]);
        pair.server("replica", replica_port, 2, &user, &[]);
        pair.replica(&format!(
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {primary_port}, MASTER_USER = 'root', MASTER_USE_GTID = slave_pos;
             START SLAVE;"
        ));
        let listed = wait_until(Duration::from_secs(30), || pair.primary("SHOW SLAVE HOSTS").lines().count() == 1);
        assert!(listed, "the primary does not list the replica:\n{}", pair.log("replica"));
        pair
    }

    /// Only a primary, started with the server options `prepare` returns
    /// after putting what they name into the directory.
    pub fn single(prepare: impl FnOnce(&Path) -> Vec<String>) -> MyPair {
        let mut extra = vec![];
        let mut pair = MyPair::install(|d| extra = prepare(d));
        let user = pair.user();
        let port = pair.primary_port;
        pair.server("primary", port, 1, &user, &extra);
        pair
    }

    fn user(&self) -> Vec<String> {
        if is_root() {
            vec!["--user=mysql".into()]
        } else {
            vec![]
        }
    }

    /// Create the directory and the primary's data directory.
    fn install(prepare: impl FnOnce(&Path)) -> MyPair {
        let [primary_port, replica_port] = free_ports();
        let dir = std::env::temp_dir().join(unique("sw_mypair"));
        let tmpdirs = ["tmp_primary", "tmp_replica"].map(|t| dir.join(t));
        for d in &tmpdirs {
            std::fs::create_dir_all(d).expect("create the pair's directories");
        }
        let root = is_root();
        let user: Vec<String> = if root { vec!["--user=mysql".into()] } else { vec![] };
        if root {
            let id = |flag| output(Command::new("id").args([flag, "mysql"])).parse::<u32>().expect("the mysql OS user");
            for d in std::iter::once(&dir).chain(&tmpdirs) {
                chown(d, Some(id("-u")), Some(id("-g"))).expect("give the directory to mysql");
            }
        }
        prepare(&dir);
        if root {
            let id = |flag| output(Command::new("id").args([flag, "mysql"])).parse::<u32>().expect("the mysql OS user");
            for e in std::fs::read_dir(&dir).expect("the pair's directory").flatten() {
                let _ = chown(e.path(), Some(id("-u")), Some(id("-g")));
            }
        }
        let pair = MyPair { dir, primary_port, replica_port, servers: vec![] };
        let primary = pair.dir.join("primary");
        let out = Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                &format!("--datadir={}", primary.display()),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                &format!("--tmpdir={}", tmpdirs[0].display()),
            ])
            .args(&user)
            .output()
            .expect("run mariadb-install-db");
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        pair
    }

    /// Start one server and wait until it answers.
    fn server(&mut self, name: &str, port: u16, id: u32, user: &[String], extra: &[String]) {
        let d = |f: &str| path_str(&self.dir.join(f));
        let child = Command::new("/usr/sbin/mariadbd")
            .arg("--no-defaults")
            .args(user)
            .args([
                format!("--datadir={}", d(name)),
                format!("--tmpdir={}", d(&format!("tmp_{name}"))),
                format!("--socket={}", d(&format!("{name}.sock"))),
                format!("--pid-file={}", d(&format!("{name}.pid"))),
                format!("--log-error={}", d(&format!("{name}.log"))),
                format!("--port={port}"),
                "--bind-address=127.0.0.1".into(),
                "--skip-name-resolve".into(),
                format!("--server-id={id}"),
                format!("--log-bin={}", d(&format!("{name}/bin"))),
                "--innodb-buffer-pool-size=64M".into(),
                "--innodb-flush-log-at-trx-commit=2".into(),
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        self.servers.push(child);
        let up = wait_until(Duration::from_secs(30), || self.try_sql(port, "SELECT 1").is_ok());
        assert!(up, "the {name} did not start:\n{}", self.log(name));
    }

    /// The primary's database `db` as a URL for root.
    pub fn primary_url(&self, db: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{db}", self.primary_port)
    }

    pub fn primary(&self, sql: &str) -> String {
        self.sql(self.primary_port, sql)
    }

    pub fn replica(&self, sql: &str) -> String {
        self.sql(self.replica_port, sql)
    }

    /// Run `sql` as root on the server at `port`; panics on failure.
    fn sql(&self, port: u16, sql: &str) -> String {
        self.try_sql(port, sql).unwrap_or_else(|e| panic!("mariadb on port {port} failed: {e}\n{sql}"))
    }

    fn try_sql(&self, port: u16, sql: &str) -> Result<String, String> {
        let out = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-P", &port.to_string(), "-u", "root", "-N", "-B", "-e", sql])
            .output()
            .map_err(|e| e.to_string())?;
        match out.status.success() {
            true => Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()),
            false => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        }
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
    }
}

impl Drop for MyPair {
    fn drop(&mut self) {
        for child in self.servers.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

//! Make a fresh Debian machine ready: PostgreSQL and MariaDB installed,
//! running, and reachable on 127.0.0.1 the way the tests expect (PostgreSQL
//! user postgres and MariaDB user root, no passwords, local only).

use crate::util::{capture, run, succeeds, which, Result};
use std::process::Command;
use std::time::{Duration, Instant};

// libclang-dev: pg_query (the PostgreSQL parser the linter uses) generates its bindings with bindgen.
// openssl: the TLS tests make a certificate authority of their own.
const PACKAGES: &[&str] = &[
    "postgresql",
    "postgresql-contrib",
    "mariadb-server",
    "mariadb-client",
    "time",
    "procps",
    "libclang-dev",
    "build-essential",
    "openssl",
];

pub fn setup() -> Result {
    install_packages()?;
    start_postgres()?;
    start_mariadb()?;
    eprintln!("setup: PostgreSQL on 127.0.0.1:5432 (user postgres) and MariaDB on 127.0.0.1:3306 (user root) are ready");
    Ok(())
}

/// `cargo xtask setup`: the servers, then the peers the benches measure
/// stepwise against (the tests need none of them, so `ci` leaves them out):
/// pg_repack for the server's PostgreSQL and pt-online-schema-change.
pub fn setup_with_peers() -> Result {
    setup()?;
    let major = pg_versions().into_iter().next().ok_or("no PostgreSQL server installed under /usr/lib/postgresql")?;
    install_peer("pg_repack", &format!("postgresql-{major}-repack"))?;
    install_peer("pt-online-schema-change", "percona-toolkit")?;
    eprintln!("setup: pg_repack and pt-online-schema-change are installed for the benches");
    Ok(())
}

/// Install Debian's `package` unless `command` is already on the PATH.
pub fn install_peer(command: &str, package: &str) -> Result {
    if which(command) {
        return Ok(());
    }
    if !which("apt-get") {
        return Err(format!("{command} is missing and apt-get is not available: install {package}"));
    }
    let install = || {
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    // A machine whose package lists are stale (or were never fetched) gets them first.
    install().or_else(|_| {
        run(Command::new("apt-get").args(["update", "-q"]))?;
        install()
    })
}

fn install_packages() -> Result {
    let have_pg = !pg_versions().is_empty() && which("psql");
    let have_my = std::path::Path::new("/usr/sbin/mariadbd").exists() && which("mariadb");
    let have_time = std::path::Path::new("/usr/bin/time").exists();
    let have_clang = succeeds(Command::new("dpkg").args(["-s", "libclang-dev"]));
    let have_openssl = which("openssl");
    if have_pg && have_my && have_time && have_clang && have_openssl {
        return Ok(());
    }
    if !which("apt-get") {
        return Err("PostgreSQL or MariaDB is missing and apt-get is not available: install postgresql and mariadb-server".into());
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Installed PostgreSQL major versions, newest first.
fn pg_versions() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.retain(|x| x.chars().all(|c| c.is_ascii_digit()));
    v.sort_by_key(|x| std::cmp::Reverse(x.parse::<u32>().unwrap_or(0)));
    v
}

fn pg_ready() -> bool {
    succeeds(Command::new("psql").args(["postgres://postgres@127.0.0.1:5432/postgres", "-X", "-qAt", "-c", "SELECT 1"]))
}

fn start_postgres() -> Result {
    if pg_ready() {
        return Ok(());
    }
    let version = pg_versions().into_iter().next().ok_or("no PostgreSQL server installed under /usr/lib/postgresql")?;
    let clusters = capture(Command::new("pg_lsclusters").arg("-h")).unwrap_or_default();
    if !clusters.lines().any(|l| l.starts_with(&format!("{version} main"))) {
        run(Command::new("pg_createcluster").args([&version, "main"]))?;
    }
    // The tests connect over TCP as postgres without a password: trust local
    // TCP connections (this is a throwaway CI/dev server, reachable only locally).
    let hba = format!("/etc/postgresql/{version}/main/pg_hba.conf");
    if let Ok(text) = std::fs::read_to_string(&hba) {
        if !text.contains("host all all 127.0.0.1/32 trust") {
            let patched = format!("# added by cargo xtask setup\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n{text}");
            std::fs::write(&hba, patched).map_err(|e| format!("cannot write {hba}: {e}"))?;
        }
    }
    let _ = Command::new("pg_ctlcluster").args(["--skip-systemctl-redirect", &version, "main", "start"]).status();
    let _ = Command::new("pg_ctlcluster").args(["--skip-systemctl-redirect", &version, "main", "reload"]).status();
    wait_for("PostgreSQL", pg_ready)
}

fn my_ready() -> bool {
    succeeds(Command::new("mariadb").args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-e", "SELECT 1"]))
}

fn start_mariadb() -> Result {
    if my_ready() {
        return Ok(());
    }
    let socket_ready = || succeeds(Command::new("mariadb").args(["-u", "root", "-e", "SELECT 1"]));
    if !socket_ready() {
        let _ = std::fs::create_dir_all("/run/mysqld");
        let _ = Command::new("chown").args(["mysql:mysql", "/run/mysqld"]).status();
        run(Command::new("start-stop-daemon").args(["--start", "--oknodo", "--background", "--exec", "/usr/sbin/mariadbd"]))?;
        wait_for("MariaDB (socket)", socket_ready)?;
    }
    if !my_ready() {
        // Debian's root uses unix_socket authentication; the tests connect over TCP
        // with an empty password.
        run(Command::new("mariadb").args([
            "-u",
            "root",
            "-e",
            "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; \
             CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;",
        ]))?;
    }
    wait_for("MariaDB", my_ready)
}

fn wait_for(what: &str, ready: impl Fn() -> bool) -> Result {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!("{what} did not become ready within 60s"))
}

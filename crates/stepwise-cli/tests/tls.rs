//! TLS on both engines against throwaway servers with a certificate made
//! for the test (a CA of its own, a server certificate for localhost and
//! 127.0.0.1): libpq's sslmodes and the mysql client's ssl-modes, each
//! refusing what it should before anything runs, and a migration end to end
//! over TLS.

mod common;
use common::mariadb_pair::MyPair;
use common::standby::Pair;
use common::*;
use std::path::Path;
use std::process::Command;

/// `ca.crt`, `server.crt`, `server.key` (for localhost and 127.0.0.1), and
/// `other-ca.crt`, a CA that signed nothing, in `dir`.
fn certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=stepwise test CA",
    ]);
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "other-ca.key",
        "-out",
        "other-ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=another CA",
    ]);
    run(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn migration(p: &Project) {
    p.write("20260101000000_t.sql", "-- stepwise:up\nCREATE TABLE t (id int);\n");
}

#[test]
fn postgres_sslmodes_against_a_server_with_its_own_ca() {
    let pair = Pair::primary_with("ssl = on\nssl_cert_file = '../server.crt'\nssl_key_file = '../server.key'\n", certificates);
    let (ca, other) = (path_str(&pair.dir.join("ca.crt")), path_str(&pair.dir.join("other-ca.crt")));
    // Only TLS connections are let in, so a plain one shows as refused.
    std::fs::write(
        pair.dir.join("primary/pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
    )
    .unwrap();
    psql(&pair.primary_url(), "SELECT pg_reload_conf()");
    let port = pair.primary_port;
    let url = |host: &str, q: &str| format!("postgres://postgres@{host}:{port}/postgres?{q}");
    let p = Project::new();
    migration(&p);
    for (u, ok) in [
        (url("127.0.0.1", "sslmode=disable"), false),
        (url("127.0.0.1", "sslmode=verify-full"), false),
        (url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={other}")), false),
        (url("localhost", &format!("sslmode=verify-full&sslrootcert={other}")), false),
        (url("127.0.0.1", "sslmode=require"), true),
        (url("127.0.0.1", "sslmode=prefer"), true),
        (url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")), true),
        (url("localhost", &format!("sslmode=verify-full&sslrootcert={ca}")), true),
        (url("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={ca}")), true),
    ] {
        let r = p.run(&u, &["migrate"]);
        assert_eq!(r.code == 0, ok, "{u}:\n{}", r.all());
        if ok {
            // Applied over TLS; undo for the next mode.
            psql(&pair.primary_url(), "DROP TABLE t; DROP SCHEMA stepwise CASCADE");
        } else {
            assert!(!r.all().contains("panicked"), "{}", r.all());
            assert_eq!(psql(&pair.primary_url(), "SELECT to_regclass('t') IS NULL"), "t", "{u}: ran without the TLS it asked for");
        }
    }
    // What the server saw: an encrypted session for stepwise.
    p.write("20260102000000_ssl.sql", "-- stepwise:up\nCREATE TABLE seen AS SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();\n");
    p.run(&url("localhost", &format!("sslmode=verify-full&sslrootcert={ca}")), &["migrate"]).ok();
    assert_eq!(psql(&pair.primary_url(), "SELECT ssl FROM seen"), "t");
}

#[test]
fn mariadb_ssl_modes_against_a_server_with_its_own_ca() {
    let pair = MyPair::single(|d| {
        certificates(d);
        let f = |name: &str| path_str(&d.join(name));
        vec![format!("--ssl-ca={}", f("ca.crt")), format!("--ssl-cert={}", f("server.crt")), format!("--ssl-key={}", f("server.key"))]
    });
    let (ca, other) = (path_str(&pair.dir.join("ca.crt")), path_str(&pair.dir.join("other-ca.crt")));
    pair.primary("CREATE DATABASE app; CREATE USER tls_only@'%' REQUIRE SSL; GRANT ALL ON app.* TO tls_only@'%'; CREATE USER plain@'%'; GRANT ALL ON app.* TO plain@'%';");
    let port = pair.primary_port;
    let url = |user: &str, host: &str, q: &str| format!("mysql://{user}@{host}:{port}/app?{q}");
    let p = Project::new();
    migration(&p);
    for (u, ok) in [
        (url("tls_only", "127.0.0.1", "ssl-mode=DISABLED"), false),
        (url("tls_only", "127.0.0.1", "ssl-mode=VERIFY_CA"), false),
        (url("tls_only", "127.0.0.1", &format!("ssl-mode=VERIFY_CA&ssl-ca={other}")), false),
        (url("tls_only", "127.0.0.1", "ssl-mode=REQUIRED"), true),
        (url("tls_only", "127.0.0.1", ""), true),
        (url("tls_only", "127.0.0.1", &format!("ssl-mode=VERIFY_CA&ssl-ca={ca}")), true),
        (url("tls_only", "localhost", &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}")), true),
        (url("plain", "127.0.0.1", "ssl-mode=DISABLED"), true),
    ] {
        let r = p.run(&u, &["migrate"]);
        assert_eq!(r.code == 0, ok, "{u}:\n{}", r.all());
        assert!(!r.all().contains("panicked"), "{}", r.all());
        let made = pair.primary("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 't'");
        assert_eq!(made, if ok { "1" } else { "0" }, "{u}");
        pair.primary("DROP DATABASE app; CREATE DATABASE app;");
    }
    // The machine's own server has no TLS: REQUIRED is refused, PREFERRED goes plain.
    let db = MyDb::new();
    p.run(&format!("{}?ssl-mode=REQUIRED", db.url), &["migrate"]).code(1);
    p.run(&format!("{}?ssl-mode=PREFERRED", db.url), &["migrate"]).ok();
}

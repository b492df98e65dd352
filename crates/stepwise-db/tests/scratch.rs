//! Throwaway PostgreSQL servers: real `initdb` and `pg_ctl`, no mocks.

use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;
use stepwise_db::pg::PgConn;
use stepwise_db::scratch::{Scratch, ScratchOptions};

fn refuses_connections(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).is_err()
}

fn gone(scratch_data_dir: &Path) -> bool {
    // The data directory and the temporary directory holding it.
    !scratch_data_dir.exists() && scratch_data_dir.parent().is_some_and(|d| !d.exists())
}

#[tokio::test]
async fn a_scratch_server_works_and_stops() {
    let scratch = Scratch::start(ScratchOptions::default()).await.unwrap();
    let url = scratch.url();
    assert_eq!(url.expose(), format!("postgres://postgres@127.0.0.1:{}/postgres", scratch.port()));
    assert_eq!(scratch.url_for("other").database().as_deref(), Some("other"));
    assert!(scratch.data_dir().join("PG_VERSION").is_file());

    let conn = PgConn::connect(&url, "stepwise-test").await.unwrap();
    assert!(conn.version_num >= 100000, "{}", conn.version_num);
    let setting: String = conn.rows("SHOW server_version_num", &[]).await.unwrap()[0].get(0);
    assert_eq!(setting.parse::<i32>().unwrap(), conn.version_num);
    let fsync: String = conn.rows("SHOW fsync", &[]).await.unwrap()[0].get(0);
    assert_eq!(fsync, "off");
    conn.batch("CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'one'), (2, 'two');").await.unwrap();
    let rows = conn.rows("SELECT id, name FROM t ORDER BY id", &[]).await.unwrap();
    let got: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, [(1, "one".to_string()), (2, "two".to_string())]);
    drop(conn);

    let (port, data) = (scratch.port(), scratch.data_dir().to_path_buf());
    scratch.stop().await.unwrap();
    assert!(gone(&data), "{} is still there", data.display());
    assert!(refuses_connections(port), "port {port} still accepts connections");
}

#[tokio::test]
async fn two_servers_at_once_get_different_ports() {
    let (a, b) = tokio::join!(Scratch::start(ScratchOptions::default()), Scratch::start(ScratchOptions::default()));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.port(), b.port());
    assert_ne!(a.data_dir(), b.data_dir());
    for s in [&a, &b] {
        let conn = PgConn::connect(&s.url(), "stepwise-test").await.unwrap();
        conn.batch("SELECT 1").await.unwrap();
    }
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn dropping_without_stop_stops_it() {
    let scratch = Scratch::start(ScratchOptions::default()).await.unwrap();
    let (port, data) = (scratch.port(), scratch.data_dir().to_path_buf());
    PgConn::connect(&scratch.url(), "stepwise-test").await.unwrap();
    drop(scratch);
    assert!(gone(&data), "{} is still there", data.display());
    assert!(refuses_connections(port), "port {port} still accepts connections");
}

#[tokio::test]
async fn keep_leaves_the_data_dir() {
    let scratch = Scratch::start(ScratchOptions { keep: true, ..Default::default() }).await.unwrap();
    let (port, data) = (scratch.port(), scratch.data_dir().to_path_buf());
    scratch.stop().await.unwrap();
    assert!(data.join("PG_VERSION").is_file());
    assert!(refuses_connections(port));
    std::fs::remove_dir_all(data.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn a_missing_bindir_is_a_clear_error() {
    let opts = ScratchOptions { bindir: Some("/nonexistent/bin".into()), keep: false };
    let err = Scratch::start(opts).await.unwrap_err().to_string();
    assert!(err.contains("initdb not found") && err.contains("STEPWISE_PG_BINDIR"), "{err}");
}

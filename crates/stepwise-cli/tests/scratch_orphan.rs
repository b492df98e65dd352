//! `stepwise scratch` killed with `kill -9` cannot stop its server: the
//! next scratch (or verify) stops it and removes its directory.

mod common;
use common::*;
use std::time::Duration;

#[test]
fn a_scratch_killed_with_kill_9_is_cleaned_up_by_the_next_one() {
    let p = Project::new();
    let mut first = spawn_bg(p.cmd("", &["scratch", "--format", "json"]));
    assert!(first.wait_for("data_dir", 1, Duration::from_secs(60)), "{}", first.output());
    let info: serde_json::Value = serde_json::from_str(first.output().lines().find(|l| l.contains("data_dir")).unwrap()).unwrap();
    let (data, port) = (info["data_dir"].as_str().unwrap().to_string(), info["port"].as_u64().unwrap());
    let url = info["url"].as_str().unwrap().to_string();
    first.kill9();
    let _ = first.finish(Duration::from_secs(10));
    assert_eq!(psql(&url, "SELECT 1"), "1", "the killed scratch's server still runs");
    assert!(std::path::Path::new(&data).exists());

    let mut second = spawn_bg(p.cmd("", &["scratch", "--format", "json"]));
    assert!(second.wait_for("data_dir", 1, Duration::from_secs(60)), "{}", second.output());
    assert!(!std::path::Path::new(&data).exists(), "the orphan's directory {data} is still there");
    let down = wait_until(Duration::from_secs(10), || std::net::TcpStream::connect(("127.0.0.1", port as u16)).is_err());
    assert!(down, "the orphan's server still listens on {port}");
    // Stopped as a user stops it, the second cleans up after itself.
    let _ = std::process::Command::new("kill").args(["-TERM", &second.pid().to_string()]).status();
    second.finish(Duration::from_secs(60)).ok();
}

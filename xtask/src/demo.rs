//! The main job on a throwaway database: build stepwise, start a scratch
//! PostgreSQL (unless DATABASE_URL is set), apply the example migrations,
//! show status, roll one back, show status again.

use crate::util::{build_stepwise, root, run, Result};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

pub fn demo() -> Result {
    crate::setup::setup()?;
    let stepwise = build_stepwise(false)?;
    let examples = root().join("examples");
    let (url, mut scratch) = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => (url, None),
        None => {
            let mut child = Command::new(&stepwise)
                .args(["scratch", "--format", "json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("cannot start stepwise scratch: {e}"))?;
            let stdout = child.stdout.take().ok_or("no stdout from stepwise scratch")?;
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
            let url = line
                .split("\"url\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .ok_or_else(|| format!("stepwise scratch printed no URL: {line}"))?
                .to_string();
            (url, Some(child))
        }
    };
    let step = |title: &str, args: &[&str]| -> Result {
        eprintln!("\n=== {title}: stepwise {}", args.join(" "));
        run(Command::new(&stepwise).current_dir(&examples).env("DATABASE_URL", &url).args(args))
    };
    let result = (|| {
        step("pending migrations", &["plan"])?;
        step("apply", &["migrate"])?;
        step("status", &["status"])?;
        step("roll back the newest migration", &["rollback", "--step", "1"])?;
        step("status after the rollback", &["status"])
    })();
    if let Some(child) = scratch.as_mut() {
        // SIGTERM lets the scratch server stop and delete its data directory.
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
    result
}

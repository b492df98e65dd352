//! A `mariadb` client session kept open on a pipe: a transaction held open
//! (row or metadata locks) while a test goes on.

use super::{wait_until, MyDb};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A `mariadb` client kept open on a pipe, to hold row locks in an open
/// transaction while the test goes on.
pub struct MySession {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    queries: u32,
}

impl MySession {
    pub fn open(db: &MyDb) -> MySession {
        let mut child = Command::new("mariadb")
            // -n: flush the output after each statement, so answers arrive as they come.
            .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", "-n", &db.name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mariadb client");
        let stdin = child.stdin.take();
        let (tx, lines) = channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (buf, err) = (stderr.clone(), child.stderr.take().expect("stderr"));
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                buf.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        MySession { child, stdin, lines, stderr, queries: 0 }
    }

    /// Send `sql` without waiting for its answer (it may block on a lock).
    pub fn send(&mut self, sql: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{sql}").and_then(|_| stdin.flush()).expect("write to mariadb");
    }

    /// Run `sql` and wait (at most 30 s) for its output.
    pub fn query(&mut self, sql: &str) -> String {
        self.queries += 1;
        let marker = format!("__answered_{}", self.queries);
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{sql}\nSELECT '{marker}';").and_then(|_| stdin.flush()).expect("write to mariadb");
        let mut out = Vec::new();
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line == marker => return out.join("\n"),
                Ok(line) => out.push(line),
                Err(_) => panic!("the mariadb session did not answer within 30s: {sql}\n{}", self.errors()),
            }
        }
    }

    pub fn errors(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for MySession {
    fn drop(&mut self) {
        // End of input ends the session; an open transaction rolls back.
        drop(self.stdin.take());
        if !wait_until(Duration::from_secs(5), || matches!(self.child.try_wait(), Ok(Some(_)))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

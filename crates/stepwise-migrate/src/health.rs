//! The health check after a deploy: a command (healthy when it exits 0) or
//! an HTTP URL (healthy on a 2xx answer to a GET), each attempt bounded by a
//! timeout, retried a few times before it counts as failed.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Run with `sh -c`; healthy when it exits 0.
    Command(String),
    /// GET; healthy on 2xx. `https://` goes through `curl`.
    Url(String),
}

impl Check {
    pub fn parse(s: &str) -> Check {
        if s.starts_with("http://") || s.starts_with("https://") {
            Check::Url(s.to_string())
        } else {
            Check::Command(s.to_string())
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Command(c) => write!(f, "`{c}`"),
            Check::Url(u) => write!(f, "GET {u}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub check: Check,
    /// Each attempt gives up after this long.
    pub timeout: Duration,
    /// Attempts after the first, two seconds apart.
    pub retries: u32,
}

/// Ok, or why the last attempt failed.
pub async fn run(h: &HealthCheck) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 0..=h.retries {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        match tokio::time::timeout(h.timeout, once(&h.check)).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => last = e,
            Err(_) => last = format!("no answer within {:?}", h.timeout),
        }
    }
    Err(format!("{} failed {} time(s): {last}", h.check, h.retries + 1))
}

async fn once(check: &Check) -> Result<(), String> {
    match check {
        Check::Command(c) => {
            let out = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(c)
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|e| format!("cannot run it: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                let err = String::from_utf8_lossy(&out.stderr);
                Err(format!("{}{}", out.status, if err.trim().is_empty() { String::new() } else { format!(": {}", err.trim()) }))
            }
        }
        Check::Url(u) if u.starts_with("https://") => {
            let out = tokio::process::Command::new("curl")
                .args(["-fsS", "-o", "/dev/null", u])
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|e| format!("https needs curl: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
            }
        }
        Check::Url(u) => http_get(u).await,
    }
}

/// A plain HTTP/1.1 GET; Ok on a 2xx status.
async fn http_get(url: &str) -> Result<(), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: not an http:// URL"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let addr = if host.contains(':') && !host.ends_with(']') { host.to_string() } else { format!("{host}:80") };
    let mut stream = tokio::net::TcpStream::connect(&addr).await.map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: stepwise\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut head = vec![0u8; 64];
    let n = stream.read(&mut head).await.map_err(|e| e.to_string())?;
    let line = String::from_utf8_lossy(&head[..n]);
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("not an HTTP answer: {line:?}"))?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commands_and_http_answers() {
        let ok = HealthCheck { check: Check::parse("true"), timeout: Duration::from_secs(5), retries: 0 };
        assert!(run(&ok).await.is_ok());
        let bad = HealthCheck { check: Check::parse("echo down >&2; exit 3"), timeout: Duration::from_secs(5), retries: 1 };
        let e = run(&bad).await.unwrap_err();
        assert!(e.contains("failed 2 time(s)") && e.contains("down"), "{e}");
        let slow = HealthCheck { check: Check::parse("sleep 5"), timeout: Duration::from_millis(200), retries: 0 };
        assert!(run(&slow).await.unwrap_err().contains("no answer within"));

        // A one-shot HTTP server answering 503 then 200.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            for status in ["503 Service Unavailable", "200 OK"] {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes()).await;
            }
        });
        let url = format!("http://127.0.0.1:{port}/health");
        assert_eq!(http_get(&url).await, Err("HTTP 503".into()));
        assert_eq!(http_get(&url).await, Ok(()));
    }
}

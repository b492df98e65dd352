//! What `locks` and `progress` share: a watching session, and one picture
//! or a picture every `--interval`, redrawn in place on a terminal.

use super::target;
use crate::cli::{Format, WatchArgs};
use crate::config::Config;
use crate::render::Out;
use std::io::IsTerminal;
use stepwise_db::sessions::monitor::Monitor;

/// Connect a watching session to the configured database, as `application`.
pub async fn monitor(cfg: &Config, out: &Out, application: &str) -> Result<Monitor, i32> {
    let t = target(cfg, out, false).await?;
    Monitor::connect(&t.url, application).await.map_err(|e| {
        out.error(&e.to_string());
        1
    })
}

pub struct Repeat<'a> {
    args: &'a WatchArgs,
    tty: bool,
    shown: u64,
}

impl<'a> Repeat<'a> {
    pub fn new(args: &'a WatchArgs, out: &Out) -> Repeat<'a> {
        Repeat { args, tty: std::io::stdout().is_terminal() && out.format == Format::Text, shown: 0 }
    }

    /// Before a text picture: clear the terminal, or stamp the picture in a log.
    pub fn header(&self, out: &Out) {
        if self.args.watch && self.tty {
            print!("\x1b[H\x1b[2J");
        } else if self.args.watch {
            out.line(&format!("-- {}", now_utc()));
        }
    }

    /// After a picture: false when done, else wait for the next one.
    pub async fn again(&mut self) -> bool {
        self.shown += 1;
        if !self.args.watch || self.args.count.is_some_and(|c| self.shown >= c) {
            return false;
        }
        tokio::time::sleep(self.args.interval).await;
        true
    }
}

fn now_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("{:02}:{:02}:{:02} UTC", secs / 3600 % 24, secs / 60 % 60, secs % 60)
}

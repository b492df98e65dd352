//! A small fixed-rate load generator for MariaDB, where pgbench cannot drive
//! the load: `clients` connections share `rate` transactions per second, each
//! transaction a few statements about one random row, each statement
//! committed on its own (as pgbench runs a script without BEGIN), sent as
//! text (as pgbench's default simple protocol does).
//!
//! Transaction k is due at start + k / rate and goes to client k % clients.
//! Its latency runs from when it was due, not from when the client got to
//! it: a client held up by a lock counts the time its next transactions
//! waited behind it (no coordinated omission), as pgbench -R does.

use super::load::{now_us, Load};
use crate::util::Result;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

pub struct MariadbLoad {
    pub rate: u32,
    pub clients: u32,
}

/// A load that is running; [`Running::wait`] collects it.
pub struct Running(Vec<JoinHandle<Client>>);

/// What one client did.
#[derive(Default)]
struct Client {
    txs: Vec<(i64, i64)>,
    failed: usize,
    /// The first error it saw.
    error: Option<String>,
}

impl MariadbLoad {
    /// Run for `secs` seconds: each transaction runs `statements` with
    /// `{id}` replaced by a random id in 1..=max_id.
    pub fn start(&self, rt: &Runtime, url: &str, statements: &'static [&'static str], max_id: u64, secs: u64) -> Result<Running> {
        let opts = Opts::from_url(url).map_err(|e| format!("bad MariaDB URL {url}: {e}"))?;
        // Connect every client before the clock starts, so the first
        // transactions do not count the connection time.
        let conns = rt.block_on(async {
            let mut conns = Vec::new();
            for _ in 0..self.clients {
                conns.push(Conn::new(opts.clone()).await.map_err(|e| format!("cannot connect to {url}: {e}"))?);
            }
            Ok::<_, String>(conns)
        })?;
        let (start, start_us) = (Instant::now(), now_us());
        let end = start + Duration::from_secs(secs);
        let (rate, clients) = (self.rate as f64, self.clients as u64);
        let handles = conns
            .into_iter()
            .enumerate()
            .map(|(c, conn)| {
                let opts = opts.clone();
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1).wrapping_mul(start_us as u64));
                rt.spawn(async move {
                    let mut conn = Some(conn);
                    let mut log = Client::default();
                    let mut k = c as u64;
                    loop {
                        let due = start + Duration::from_secs_f64(k as f64 / rate);
                        if due >= end {
                            break;
                        }
                        k += clients;
                        tokio::time::sleep_until(due.into()).await;
                        let id = 1 + rng.next() % max_id.max(1);
                        let result = match conn.as_mut() {
                            Some(conn) => transaction(conn, statements, id).await,
                            None => Err(mysql_async::Error::Other("not connected".into())),
                        };
                        let done = Instant::now();
                        match result {
                            Ok(()) => log.txs.push((start_us + (done - start).as_micros() as i64, (done - due).as_micros() as i64)),
                            Err(e) => {
                                log.failed += 1;
                                log.error.get_or_insert_with(|| e.to_string());
                                // A server error (a lock wait timeout, a deadlock)
                                // leaves the connection usable; anything else: reconnect.
                                if !matches!(e, mysql_async::Error::Server(_)) {
                                    conn = Conn::new(opts.clone()).await.ok();
                                }
                            }
                        }
                    }
                    if let Some(conn) = conn {
                        let _ = conn.disconnect().await;
                    }
                    log
                })
            })
            .collect();
        Ok(Running(handles))
    }
}

async fn transaction(conn: &mut Conn, statements: &[&str], id: u64) -> mysql_async::Result<()> {
    for s in statements {
        conn.query_drop(s.replace("{id}", &id.to_string())).await?;
    }
    Ok(())
}

impl Running {
    pub fn wait(self, rt: &Runtime) -> Result<Load> {
        let mut load = Load { txs: Vec::new(), failed: 0, skipped: 0, trouble: None };
        for handle in self.0 {
            let client = rt.block_on(handle).map_err(|e| format!("a load client panicked: {e}"))?;
            load.txs.extend(client.txs);
            load.failed += client.failed;
            if let Some(e) = client.error {
                load.trouble.get_or_insert(format!("load client error: {e}"));
            }
        }
        if load.txs.is_empty() {
            return Err(format!("the MariaDB load ran no transaction: {}", load.trouble.unwrap_or_default()));
        }
        Ok(load)
    }
}

/// splitmix64: random enough to pick rows, and no new dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

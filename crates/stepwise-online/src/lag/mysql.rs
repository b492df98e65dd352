//! MySQL/MariaDB replicas, found from the primary and read directly.
//!
//! A MySQL primary does not know how far its replicas have applied, so each
//! replica is asked: the replicas are those `SHOW SLAVE HOSTS` lists (on
//! MariaDB 10.5 and later every connected replica, by the address it
//! connects from and the port it listens on; on MySQL, `SHOW REPLICAS`,
//! only those started with `report_host`), reached with the primary's user
//! and password.
//!
//! The position is the job's own progress: each batch writes `rows_done` to
//! the job row in its transaction, the primary records the value as it
//! commits, and a replica has applied as far as the `rows_done` its copy of
//! the row shows. That needs no binary-log coordinates or GTIDs (any
//! replication format works) and measures exactly the writes being waited
//! for. Replicas of replicas are not seen.
//!
//! A server without a binary log has no replicas, and is not asked.

use super::{Reading, Replica, Replicas};
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row};
use std::time::Duration;
use stepwise_db::mysql::MyConn;
use stepwise_db::DbError;

const TURN_OFF: &str = "or turn the wait off (--max-replica-lag off, or --online-max-replica-lag off for migrate)";
/// How long connecting to a replica, or reading it, may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Connections to the replicas, kept from one reading to the next.
#[derive(Default)]
pub struct Connections {
    /// `@@log_bin` of the primary, read once.
    binlog: Option<bool>,
    /// `host:port` and its connection.
    open: Vec<(String, Conn)>,
}

/// The replicas of the primary `primary` is connected to, read for the
/// progress of job `job` in the jobs table `jobs` (qualified).
pub struct JobReplicas<'a> {
    pub primary: &'a mut MyConn,
    pub conns: &'a mut Connections,
    pub jobs: &'a str,
    pub job: i64,
}

/// A column of a text-protocol row as text ("" for NULL).
fn text(row: &Row, i: usize) -> String {
    match row.as_ref(i) {
        Some(mysql_async::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(mysql_async::Value::NULL) | None => String::new(),
        Some(v) => v.as_sql(true).trim_matches('\'').to_string(),
    }
}

fn server_code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(s) => Some(s.code),
        _ => None,
    }
}

impl JobReplicas<'_> {
    /// `host:port` of every replica the primary lists.
    async fn listed(&mut self) -> Result<Vec<(String, u16)>, OnlineError> {
        // MySQL 8.4 dropped SHOW SLAVE HOSTS for SHOW REPLICAS (8.0.22 and
        // later; untested here), which MariaDB does not have.
        let show = if self.primary.is_mariadb() { "SHOW SLAVE HOSTS" } else { "SHOW REPLICAS" };
        let rows: Vec<Row> = match self.primary.conn.query(show).await {
            Ok(rows) => rows,
            // ER_SPECIFIC_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR
            Err(e) if matches!(server_code(&e), Some(1227 | 1044 | 1045)) => {
                return Err(OnlineError::Refused(format!(
                    "cannot measure replica lag: this user cannot list the replicas ({show}: {e}); \
                     grant it REPLICATION MASTER ADMIN (MariaDB) or REPLICATION SLAVE (MySQL), {TURN_OFF}"
                )))
            }
            Err(e) => return Err(DbError::from(e).into()),
        };
        let mut out = Vec::new();
        for row in rows {
            let (id, host, port) = (text(&row, 0), text(&row, 1), text(&row, 2));
            let port: u16 = port.parse().unwrap_or(0);
            if host.is_empty() || port == 0 {
                return Err(OnlineError::Refused(format!(
                    "cannot measure replica lag: the replica with server_id {id} registered without an address \
                     (set report_host and report_port on it), {TURN_OFF}"
                )));
            }
            out.push((host, port));
        }
        Ok(out)
    }

    /// The connection to `host:port`, opened with the primary's credentials.
    async fn connection(&mut self, host: &str, port: u16) -> Result<&mut Conn, OnlineError> {
        let name = format!("{host}:{port}");
        if let Some(i) = self.conns.open.iter().position(|(n, _)| *n == name) {
            return Ok(&mut self.conns.open[i].1);
        }
        let opts = OptsBuilder::from_opts(self.primary.conn.opts().clone()).ip_or_hostname(host).tcp_port(port).db_name(None::<String>);
        let cannot = |why: String| {
            OnlineError::Refused(format!(
                "cannot measure replica lag: cannot connect to the replica {name} with this user: {why}; {TURN_OFF}"
            ))
        };
        let conn = match tokio::time::timeout(TIMEOUT, Conn::new(opts)).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(cannot(e.to_string())),
            Err(_) => return Err(cannot(format!("no answer within {} s", TIMEOUT.as_secs()))),
        };
        self.conns.open.push((name, conn));
        let last = self.conns.open.len() - 1;
        Ok(&mut self.conns.open[last].1)
    }
}

impl Replicas for JobReplicas<'_> {
    async fn read(&mut self) -> Result<Reading, OnlineError> {
        if self.conns.binlog.is_none() {
            let on: Option<i64> = self.primary.conn.query_first("SELECT @@log_bin").await.map_err(DbError::from)?;
            self.conns.binlog = Some(on.unwrap_or(0) != 0);
        }
        if self.conns.binlog == Some(false) {
            return Ok(Reading::default());
        }
        let listed = self.listed().await?;
        // Forget replicas that left.
        self.conns.open.retain(|(name, _)| listed.iter().any(|(h, p)| *name == format!("{h}:{p}")));
        let sql = format!("SELECT rows_done FROM {} WHERE id = {}", self.jobs, self.job);
        let mut replicas = Vec::new();
        for (host, port) in listed {
            let name = format!("{host}:{port}");
            let conn = self.connection(&host, port).await?;
            let applied: Option<i64> = match tokio::time::timeout(TIMEOUT, conn.query_first::<i64, _>(sql.as_str())).await {
                Ok(Ok(v)) => v,
                // The job's table or database has not reached it yet:
                // ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR.
                Ok(Err(e)) if matches!(server_code(&e), Some(1146 | 1049)) => None,
                Ok(Err(e)) => {
                    return Err(OnlineError::Refused(format!("cannot measure replica lag: reading the replica {name}: {e}; {TURN_OFF}")))
                }
                Err(_) => {
                    return Err(OnlineError::Refused(format!(
                        "cannot measure replica lag: the replica {name} did not answer within {} s; {TURN_OFF}",
                        TIMEOUT.as_secs()
                    )))
                }
            };
            replicas.push(Replica { name, applied, reported: Duration::ZERO });
        }
        Ok(Reading { primary: None, replicas })
    }

    async fn nudge(&mut self) -> Result<(), OnlineError> {
        // Each replica is read directly: nothing can be stale.
        Ok(())
    }
}

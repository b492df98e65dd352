//! PostgreSQL's standbys, read from the primary.
//!
//! The standbys are the walsenders of `pg_stat_replication`, except those of
//! logical slots (a slow logical consumer such as Debezium never throttles),
//! base backups, and clients that report no replay position at all
//! (`pg_receivewal`, a base backup's WAL stream): they replay nothing.
//!
//! The position is the WAL position: the primary's current one at each
//! reading, each standby's replayed one. `replay_lag` alone cannot be
//! trusted (when a standby's replay stalls it is not updated and stays
//! small), but it counts too when it says more.
//!
//! A standby reports its replay position when WAL reaches it, or every
//! `wal_receiver_status_interval` (10 s) on a quiet primary: while waiting,
//! stepwise commits one empty transaction per check (an xid and a commit
//! record), so a standby that has caught up says so at once.

use super::{Reading, Replica, Replicas};
use crate::OnlineError;
use std::time::Duration;
use stepwise_db::pg::PgConn;

const QUERY: &str = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
       r.pid, r.state, r.application_name, host(r.client_addr),
       pg_wal_lsn_diff(r.replay_lsn, '0/0')::bigint, r.reply_time IS NOT NULL,
       (extract(epoch FROM r.replay_lag) * 1000)::bigint
  FROM (VALUES (1)) AS one(x)
  LEFT JOIN pg_stat_replication r ON r.pid NOT IN
       (SELECT active_pid FROM pg_replication_slots WHERE slot_type = 'logical' AND active_pid IS NOT NULL)";

const HIDDEN: &str = "cannot measure replica lag: this role cannot read pg_stat_replication; \
    grant it pg_monitor, or turn the wait off (--max-replica-lag off, or --online-max-replica-lag off for migrate)";

/// The standbys of the primary `conn` is connected to.
pub struct Standbys<'a>(pub &'a PgConn);

impl Replicas for Standbys<'_> {
    async fn read(&mut self) -> Result<Reading, OnlineError> {
        let rows = self.0.client.query(QUERY, &[]).await?;
        // The query returns a row at least (a LEFT JOIN from one row).
        let primary: i64 = rows.first().map(|r| r.get(0)).unwrap_or_default();
        let mut replicas = Vec::new();
        for r in rows.iter().filter(|r| r.get::<_, Option<i32>>(1).is_some()) {
            let state: Option<String> = r.get(2);
            let replay: Option<i64> = r.get(5);
            let replied: Option<bool> = r.get(6);
            match state.as_deref() {
                // Only superusers and members of pg_read_all_stats see more than the pid.
                None => return Err(OnlineError::Refused(HIDDEN.into())),
                Some("backup") => continue,
                _ if replay.is_none() && replied == Some(true) => continue,
                _ => {}
            }
            let reported = r.get::<_, Option<i64>>(7).map(|ms| Duration::from_millis(ms.max(0) as u64)).unwrap_or_default();
            let name: Option<String> = r.get(3);
            let addr: Option<String> = r.get(4);
            let name = name.filter(|n| !n.is_empty()).unwrap_or_else(|| "standby".into());
            replicas.push(Replica { name: format!("{name} ({})", addr.as_deref().unwrap_or("local")), applied: replay, reported });
        }
        Ok(Reading { primary: Some(primary), replicas })
    }

    async fn nudge(&mut self) -> Result<(), OnlineError> {
        self.0.batch("SELECT pg_current_xact_id()").await?;
        Ok(())
    }
}

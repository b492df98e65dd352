//! MySQL/MariaDB: MariaDB reports `STAGE`, `MAX_STAGE` and `PROGRESS` (a
//! percentage of the current stage) in its processlist for ALTER TABLE
//! that copies, LOAD DATA and a few others; MySQL 8 reports InnoDB's ALTER
//! stages in `performance_schema.events_stages_current` (work completed of
//! estimated) when the `stage/innodb/alter%` instruments and the
//! `events_stages_current` consumer are on (from its manual; not run here).

use super::DdlProgress;
use crate::mysql::MyConn;
use crate::DbError;
use mysql_async::prelude::Queryable;

type MariaRow = (u64, Option<String>, Option<String>, Option<String>, i64, i64, f64, f64);
type MysqlRow = (u64, Option<String>, String, Option<i64>, Option<i64>, f64);

/// Statements with a progress report, in the current database (thread `id` only, if given).
pub async fn in_flight(conn: &mut MyConn, id: Option<u64>) -> Result<Vec<DdlProgress>, DbError> {
    let mut out = Vec::new();
    if conn.is_mariadb() {
        let rows: Vec<MariaRow> = conn
            .conn
            .exec(
                "SELECT ID, DB, INFO, STATE, CAST(STAGE AS SIGNED), CAST(MAX_STAGE AS SIGNED), CAST(PROGRESS AS DOUBLE), CAST(TIME_MS AS DOUBLE) \
                 FROM information_schema.PROCESSLIST WHERE MAX_STAGE > 0 AND COMMAND = 'Query' AND (? IS NULL OR ID = ?) \
                   AND (DB = DATABASE() OR DATABASE() IS NULL) ORDER BY ID",
                (id, id),
            )
            .await?;
        for (thread, _db, info, state, stage, max_stage, percent, ms) in rows {
            let info = info.unwrap_or_default();
            // PROGRESS is the percentage of the current stage (measured on
            // 10.11: 0 to 95 in stage 1 "copy to tmp table", then 0 again in
            // stage 2 "Enabling keys"); the stages count equally here.
            let fraction = (((stage - 1).max(0) as f64 + (percent / 100.0).clamp(0.0, 1.0)) / max_stage.max(1) as f64).clamp(0.0, 1.0);
            out.push(
                DdlProgress {
                    id: thread as i64,
                    command: command_of(&info),
                    table: table_of(&info),
                    index: None,
                    phase: format!("{} (stage {stage} of {max_stage})", state.unwrap_or_default()),
                    done: None,
                    total: None,
                    unit: String::new(),
                    fraction: Some(fraction),
                    waiting_for: vec![],
                    elapsed_secs: Some(ms / 1000.0),
                    eta_secs: None,
                }
                .with_eta(),
            );
        }
        return Ok(out);
    }
    let rows: Result<Vec<MysqlRow>, _> = conn
        .conn
        .exec(
            "SELECT t.PROCESSLIST_ID, t.PROCESSLIST_INFO, s.EVENT_NAME, CAST(s.WORK_COMPLETED AS SIGNED), CAST(s.WORK_ESTIMATED AS SIGNED), \
                    CAST(COALESCE(t.PROCESSLIST_TIME, 0) AS DOUBLE) \
             FROM performance_schema.events_stages_current s JOIN performance_schema.threads t ON t.THREAD_ID = s.THREAD_ID \
             WHERE s.EVENT_NAME LIKE 'stage/innodb/alter%' AND (? IS NULL OR t.PROCESSLIST_ID = ?)",
            (id, id),
        )
        .await;
    for (thread, info, stage, done, total, secs) in rows.unwrap_or_default() {
        let info = info.unwrap_or_default();
        let fraction = match (done, total) {
            (Some(d), Some(t)) if t > 0 => Some((d as f64 / t as f64).clamp(0.0, 1.0)),
            _ => None,
        };
        out.push(
            DdlProgress {
                id: thread as i64,
                command: command_of(&info),
                table: table_of(&info),
                index: None,
                phase: stage.trim_start_matches("stage/innodb/").to_string(),
                done,
                total,
                unit: "work units".into(),
                fraction,
                waiting_for: vec![],
                elapsed_secs: Some(secs),
                eta_secs: None,
            }
            .with_eta(),
        );
    }
    Ok(out)
}

/// `ALTER TABLE`, `CREATE INDEX`, ...: the statement's first two words.
fn command_of(sql: &str) -> String {
    sql.split_whitespace().take(2).collect::<Vec<_>>().join(" ").to_ascii_uppercase()
}

/// The table an `ALTER TABLE t ...` or `OPTIMIZE TABLE t` names (display only).
fn table_of(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let skip = ["IF", "NOT", "EXISTS"];
    let at = words.iter().position(|w| w.eq_ignore_ascii_case("table")).map(|i| i + 1);
    let at = at.map(|i| i + words[i.min(words.len())..].iter().take_while(|w| skip.iter().any(|k| w.eq_ignore_ascii_case(k))).count());
    at.and_then(|i| words.get(i)).map(|t| t.trim_matches('`').trim_end_matches(';').to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_and_table_from_the_statement() {
        assert_eq!(command_of("alter table `items` force"), "ALTER TABLE");
        assert_eq!(table_of("alter table `items` force"), "items");
        assert_eq!(table_of("ALTER TABLE IF EXISTS t2 ADD x int"), "t2");
        assert_eq!(table_of("select 1"), "");
    }
}

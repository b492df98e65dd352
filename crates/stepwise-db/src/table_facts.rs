//! How big each user table is and how fast it is written to right now: what
//! a deploy checklist needs to say how long a statement will hold its lock
//! (`stepwise plan --checklist`). Sizes come from the catalog's estimates
//! (`pg_class.reltuples`, `information_schema.TABLES`), never from a count,
//! so asking costs nothing on a large table. The write rate is the change of
//! the server's row counters over a short window.

use crate::mysql::MyConn;
use crate::pg::PgConn;
use crate::DbError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableFacts {
    /// The lint model's name: `name`, or `schema.name` outside PostgreSQL's
    /// `public`; MySQL/MariaDB table names in lower case.
    pub table: String,
    /// The catalog's estimate; None when PostgreSQL never analyzed the table.
    pub rows: Option<i64>,
    /// The table's data (PostgreSQL: with TOAST), and its indexes
    /// (MySQL/MariaDB: the secondary ones; the primary key is the table).
    pub data_bytes: i64,
    pub index_bytes: i64,
    /// Average stored width of each column in bytes (PostgreSQL: `pg_stats`;
    /// MySQL/MariaDB: from the declared type).
    pub column_bytes: BTreeMap<String, f64>,
    /// Rows inserted, updated and deleted per second over the window; None
    /// where the server keeps no per-table count (see [`WriteRates`]).
    pub writes_per_sec: Option<f64>,
}

/// What the window saw, for the checklist to say where the rate comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteRates {
    pub window_ms: u64,
    /// Where the counts come from (`pg_stat_user_tables`, ...).
    pub source: String,
    /// Rows written per second in the whole server, where only that is known
    /// (MariaDB without performance_schema).
    pub server_per_sec: Option<f64>,
}

/// PostgreSQL: every user table outside `exclude_schema` (stepwise's own).
pub async fn pg(conn: &PgConn, exclude_schema: &str, window: Duration) -> Result<(Vec<TableFacts>, WriteRates), DbError> {
    let writes = || async {
        let rows = conn
            .rows(
                "SELECT relid::int8, (n_tup_ins + n_tup_upd + n_tup_del)::int8 FROM pg_stat_user_tables WHERE schemaname <> $1",
                &[&exclude_schema],
            )
            .await?;
        Ok::<BTreeMap<i64, i64>, DbError>(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    };
    let started = std::time::Instant::now();
    let before = writes().await?;
    let rows = conn
        .rows(
            "SELECT c.oid::int8,
                    CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END,
                    c.reltuples::float8, pg_table_size(c.oid)::int8, pg_indexes_size(c.oid)::int8
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname <> $1
              ORDER BY 2",
            &[&exclude_schema],
        )
        .await?;
    let widths = conn
        .rows(
            "SELECT CASE WHEN schemaname = 'public' THEN tablename::text ELSE schemaname || '.' || tablename END,
                    attname::text, avg_width::float8
               FROM pg_stats WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname <> $1",
            &[&exclude_schema],
        )
        .await?;
    let mut column_bytes: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for w in widths {
        column_bytes.entry(w.get(0)).or_default().insert(w.get(1), w.get(2));
    }
    tokio::time::sleep(window.saturating_sub(started.elapsed())).await;
    let after = writes().await?;
    let seconds = started.elapsed().as_secs_f64();
    let facts = rows
        .iter()
        .map(|r| {
            let oid: i64 = r.get(0);
            let table: String = r.get(1);
            let tuples: f64 = r.get(2);
            let written = after.get(&oid).zip(before.get(&oid)).map(|(a, b)| (a - b).max(0) as f64 / seconds);
            TableFacts {
                column_bytes: column_bytes.remove(&table).unwrap_or_default(),
                table,
                rows: (tuples >= 0.0).then_some(tuples as i64),
                data_bytes: r.get(3),
                index_bytes: r.get(4),
                writes_per_sec: written,
            }
        })
        .collect();
    let rates = WriteRates { window_ms: (seconds * 1000.0) as u64, source: "pg_stat_user_tables".into(), server_per_sec: None };
    Ok((facts, rates))
}

type MyTableRow = (String, Option<i64>, Option<i64>, Option<i64>);

/// MySQL/MariaDB: the base tables of the current database except
/// stepwise's own (`<prefix>_...`).
pub async fn mysql(conn: &mut MyConn, prefix: &str, window: Duration) -> Result<(Vec<TableFacts>, WriteRates), DbError> {
    use mysql_async::prelude::Queryable;
    let started = std::time::Instant::now();
    let before = mysql_writes(conn).await?;
    let c = &mut conn.conn;
    let tables: Vec<MyTableRow> = c
        .query(
            "SELECT TABLE_NAME, CAST(TABLE_ROWS AS SIGNED), CAST(DATA_LENGTH AS SIGNED), CAST(INDEX_LENGTH AS SIGNED) \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        )
        .await?;
    let columns: Vec<(String, String, String, Option<i64>)> = c
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CAST(CHARACTER_MAXIMUM_LENGTH AS SIGNED) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE()",
        )
        .await?;
    let mut column_bytes: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for (table, column, ty, chars) in columns {
        column_bytes.entry(table.to_ascii_lowercase()).or_default().insert(column, declared_bytes(&ty, chars));
    }
    tokio::time::sleep(window.saturating_sub(started.elapsed())).await;
    let after = mysql_writes(conn).await?;
    let seconds = started.elapsed().as_secs_f64();
    let rate = |a: i64, b: i64| (a - b).max(0) as f64 / seconds;
    let prefix = format!("{prefix}_");
    let facts = tables
        .into_iter()
        .filter(|(name, ..)| !name.starts_with(&prefix))
        .map(|(name, rows, data, index)| {
            let table = name.to_ascii_lowercase();
            TableFacts {
                rows,
                data_bytes: data.unwrap_or(0),
                index_bytes: index.unwrap_or(0),
                column_bytes: column_bytes.remove(&table).unwrap_or_default(),
                writes_per_sec: match (&before, &after) {
                    (Writes::PerTable(b), Writes::PerTable(a)) => {
                        Some(rate(a.get(&table).copied().unwrap_or(0), b.get(&table).copied().unwrap_or(0)))
                    }
                    _ => None,
                },
                table,
            }
        })
        .collect();
    let (source, server_per_sec) = match (&before, &after) {
        (Writes::PerTable(_), _) => ("performance_schema.table_io_waits_summary_by_table".to_string(), None),
        (Writes::Server(b), Writes::Server(a)) => {
            ("Innodb_rows_inserted/updated/deleted (server-wide: per-table counts need performance_schema)".to_string(), Some(rate(*a, *b)))
        }
        _ => ("none".to_string(), None),
    };
    Ok((facts, WriteRates { window_ms: (seconds * 1000.0) as u64, source, server_per_sec }))
}

enum Writes {
    PerTable(BTreeMap<String, i64>),
    Server(i64),
}

/// Per table from performance_schema when it is on (MySQL's default;
/// MariaDB's is off), else the server's InnoDB row counters.
async fn mysql_writes(conn: &mut MyConn) -> Result<Writes, DbError> {
    use mysql_async::prelude::Queryable;
    let c = &mut conn.conn;
    let on: Option<i64> = c.query_first("SELECT CAST(@@performance_schema AS SIGNED)").await?;
    if on == Some(1) {
        let rows: Vec<(String, i64)> = c
            .query(
                "SELECT OBJECT_NAME, CAST(COUNT_INSERT + COUNT_UPDATE + COUNT_DELETE AS SIGNED) \
                 FROM performance_schema.table_io_waits_summary_by_table WHERE OBJECT_SCHEMA = DATABASE() AND INDEX_NAME IS NULL",
            )
            .await?;
        return Ok(Writes::PerTable(rows.into_iter().map(|(t, n)| (t.to_ascii_lowercase(), n)).collect()));
    }
    let rows: Vec<(String, String)> =
        c.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_rows_inserted', 'Innodb_rows_updated', 'Innodb_rows_deleted')").await?;
    Ok(Writes::Server(rows.iter().filter_map(|(_, v)| v.parse::<i64>().ok()).sum()))
}

/// A column's width in an index key, from its declared type: strings are
/// taken as half full.
fn declared_bytes(data_type: &str, chars: Option<i64>) -> f64 {
    match data_type.to_ascii_lowercase().as_str() {
        "tinyint" => 1.0,
        "smallint" => 2.0,
        "mediumint" | "date" => 3.0,
        "int" | "integer" | "float" | "timestamp" => 4.0,
        "bigint" | "double" | "datetime" => 8.0,
        "decimal" => 8.0,
        _ => chars.map(|c| (c as f64 / 2.0).clamp(1.0, 768.0)).unwrap_or(16.0),
    }
}

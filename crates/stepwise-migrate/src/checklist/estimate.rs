//! How long a statement's work takes, from the table's size: a cost model
//! per kind of work, with rates measured on PostgreSQL 15 and MariaDB 10.11
//! on a 2-core machine with the table in memory (a 1,000,000-row table of
//! 104 MB, `id int primary key, a int, b text` of 64 characters, one
//! secondary index). A cold cache, a slower disk or a busy server make the
//! real figure larger; the checklist says the estimate is one.
//!
//! Measured (seconds, 1,000,000 rows): PostgreSQL SET NOT NULL 0.037;
//! CREATE INDEX on int 0.20, on 64-byte text 1.28; CONCURRENTLY 0.34 and
//! 1.51; ALTER COLUMN TYPE bigint (a rewrite) 0.84 with 30 MB of indexes,
//! 2.28 with the text column's index too (155 MB); stepwise osc 1.8 and 2.6
//! (it builds the copy's secondary indexes after the rows are in; before
//! it did, 2.3 and 6.6: a b-tree kept up to date row by row costs most, as
//! it still does in MariaDB's osc). MariaDB ADD
//! INDEX on int 0.63, on varchar(64) 1.0; a rebuild with 98 MB of secondary
//! indexes 1.66; stepwise osc 2.5 with 20 MB of them, 7.2 with 98 MB.

use stepwise_db::table_facts::TableFacts;
use stepwise_lint::emit::human_rows;
use stepwise_lint::work::{Work, WorkKind};
use stepwise_sql::Dialect;

/// An estimate and what it rests on, in words.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub seconds: f64,
    pub basis: String,
}

const MB: f64 = 1_000_000.0;

struct Rates {
    /// Reading the table to check every row.
    scan_bytes_per_sec: f64,
    /// Index build: a fixed cost per row, and one per key byte.
    index_row: f64,
    index_key_byte: f64,
    /// Rewrite: writing the data, and its indexes again.
    rewrite_bytes_per_sec: f64,
    rewrite_index_bytes_per_sec: f64,
    /// osc: copying the data (and on PostgreSQL the key, kept up to date
    /// row by row), and the indexes: on PostgreSQL built after the copy,
    /// on MySQL/MariaDB kept up to date row by row (random inserts into
    /// each b-tree, which costs most).
    copy_bytes_per_sec: f64,
    copy_index_bytes_per_sec: f64,
    /// Replaying the change log after the copy, rows per second.
    replay_rows_per_sec: f64,
    /// Changing one row (index maintenance included), in a single statement.
    row_change: f64,
}

const PG: Rates = Rates {
    scan_bytes_per_sec: 2_000.0 * MB,
    index_row: 0.15e-6,
    index_key_byte: 0.018e-6,
    rewrite_bytes_per_sec: 270.0 * MB,
    rewrite_index_bytes_per_sec: 67.0 * MB,
    copy_bytes_per_sec: 65.0 * MB,
    copy_index_bytes_per_sec: 150.0 * MB,
    replay_rows_per_sec: 50_000.0,
    row_change: 10e-6,
};

/// MySQL/MariaDB's index size (`INDEX_LENGTH`) leaves out the primary key,
/// which is the table itself.
const MYSQL: Rates = Rates {
    scan_bytes_per_sec: 500.0 * MB,
    index_row: 0.55e-6,
    index_key_byte: 0.007e-6,
    rewrite_bytes_per_sec: 120.0 * MB,
    rewrite_index_bytes_per_sec: 120.0 * MB,
    copy_bytes_per_sec: 74.0 * MB,
    copy_index_bytes_per_sec: 17.0 * MB,
    replay_rows_per_sec: 30_000.0,
    row_change: 6e-6,
};

/// The size of the index an index build makes: each entry is its key and
/// about 20 bytes of overhead, and pages are not packed full.
pub fn index_bytes_built(rows: i64, key_bytes: f64) -> i64 {
    (rows as f64 * (key_bytes + 20.0) * 1.2) as i64
}

/// An index build's key width: the columns' average widths, 8 bytes for
/// each column whose width is unknown (or for an unknown key).
pub fn key_bytes(work: &Work, facts: &TableFacts) -> f64 {
    if work.key_columns.is_empty() {
        return 8.0;
    }
    work.key_columns.iter().map(|c| facts.column_bytes.get(c).copied().unwrap_or(8.0)).sum()
}

/// The estimate for `work` on a table described by `facts`; None for
/// catalog-only work (instant) and when the table's size is unknown.
pub fn estimate(work: &Work, facts: Option<&TableFacts>, dialect: Dialect) -> Option<Estimate> {
    let facts = facts?;
    let rows = facts.rows?;
    let r = if dialect == Dialect::Postgres { &PG } else { &MYSQL };
    let n = rows as f64;
    let bytes = facts.data_bytes as f64;
    let index_bytes = facts.index_bytes as f64;
    let size = format!("{} rows, {:.0} MB", human_rows(rows), bytes / MB);
    let scan = bytes / r.scan_bytes_per_sec;
    let (seconds, how) = match work.kind {
        WorkKind::Catalog => return None,
        WorkKind::Scan => (scan, format!("a read of {size}")),
        WorkKind::IndexBuild => {
            let key = key_bytes(work, facts);
            let build = n * (r.index_row + r.index_key_byte * key);
            if work.concurrent {
                (build * 1.2 + 2.0 * scan, format!("an index build over {size} with keys of {key:.0} bytes, reading the table twice"))
            } else {
                (build, format!("an index build over {size} with keys of {key:.0} bytes"))
            }
        }
        WorkKind::Rewrite => (
            bytes / r.rewrite_bytes_per_sec + index_bytes / r.rewrite_index_bytes_per_sec,
            format!("a rewrite of {size} and {:.0} MB of indexes", index_bytes / MB),
        ),
        WorkKind::OnlineCopy => {
            let copy = bytes / r.copy_bytes_per_sec + index_bytes / r.copy_index_bytes_per_sec;
            let replay = facts.writes_per_sec.unwrap_or(0.0) * copy / r.replay_rows_per_sec;
            let writes = match facts.writes_per_sec {
                Some(w) if w >= 1.0 => format!(", and the {w:.0} rows/s written meanwhile replayed"),
                _ => String::new(),
            };
            (copy + replay, format!("a batched copy of {size} with {:.0} MB of indexes{writes}", index_bytes / MB))
        }
        WorkKind::RowChanges => (n * r.row_change, format!("at most, if every row of {size} matches")),
    };
    Some(Estimate { seconds, basis: how })
}

/// "0.3 s", "12 s", "4 min", "2.5 h": an estimate reads as one.
pub fn human_seconds(s: f64) -> String {
    if s < 0.01 {
        "under 0.01 s".into()
    } else if s < 1.0 {
        format!("{s:.2} s")
    } else if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The table the rates were measured on.
    fn items() -> TableFacts {
        TableFacts {
            table: "items".into(),
            rows: Some(1_000_000),
            data_bytes: 104_000_000,
            index_bytes: 30_000_000,
            column_bytes: BTreeMap::from([("id".into(), 4.0), ("a".into(), 4.0), ("b".into(), 65.0)]),
            writes_per_sec: Some(0.0),
        }
    }

    fn work(kind: WorkKind, keys: &[&str], concurrent: bool) -> Work {
        Work { key_columns: keys.iter().map(|k| k.to_string()).collect(), concurrent, ..Work::new(Some("items".into()), kind, "") }
    }

    fn secs(w: &Work, dialect: Dialect) -> f64 {
        estimate(w, Some(&items()), dialect).expect("an estimate").seconds
    }

    /// Each estimate is within a factor of 1.5 of what it was measured at
    /// (the figures in the module's documentation).
    #[test]
    fn the_model_gives_back_the_measurements_it_was_made_from() {
        let near = |got: f64, measured: f64| assert!(got / measured < 1.5 && measured / got < 1.5, "{got} vs measured {measured}");
        near(secs(&work(WorkKind::Scan, &[], false), Dialect::Postgres), 0.037);
        near(secs(&work(WorkKind::IndexBuild, &["a"], false), Dialect::Postgres), 0.20);
        near(secs(&work(WorkKind::IndexBuild, &["b"], false), Dialect::Postgres), 1.28);
        near(secs(&work(WorkKind::IndexBuild, &["a"], true), Dialect::Postgres), 0.34);
        near(secs(&work(WorkKind::IndexBuild, &["b"], true), Dialect::Postgres), 1.51);
        near(secs(&work(WorkKind::Rewrite, &[], false), Dialect::Postgres), 0.84);
        near(secs(&work(WorkKind::OnlineCopy, &[], false), Dialect::Postgres), 1.8);
        // With the 125 MB index on the text column too.
        let indexed = TableFacts { index_bytes: 155 * 1_000_000, ..items() };
        let pg = |w: &Work| estimate(w, Some(&indexed), Dialect::Postgres).expect("an estimate").seconds;
        near(pg(&work(WorkKind::Rewrite, &[], false)), 2.28);
        near(pg(&work(WorkKind::OnlineCopy, &[], false)), 2.6);
        let mut my = items();
        my.data_bytes = 96 * 1_000_000;
        my.index_bytes = 20_500_000;
        my.column_bytes.insert("b".into(), 32.0);
        let my_secs = |w: &Work, t: &TableFacts| estimate(w, Some(t), Dialect::MySql).expect("an estimate").seconds;
        near(my_secs(&work(WorkKind::IndexBuild, &["a"], false), &my), 0.63);
        near(my_secs(&work(WorkKind::IndexBuild, &["b"], false), &my), 1.0);
        near(my_secs(&work(WorkKind::OnlineCopy, &[], false), &my), 2.5);
        // With the index on the varchar column too.
        my.data_bytes = 104_000_000;
        my.index_bytes = 98_000_000;
        near(my_secs(&work(WorkKind::Rewrite, &[], false), &my), 1.66);
        near(my_secs(&work(WorkKind::OnlineCopy, &[], false), &my), 7.2);
    }

    #[test]
    fn no_estimate_for_catalog_work_or_an_unknown_size() {
        assert_eq!(estimate(&work(WorkKind::Catalog, &[], false), Some(&items()), Dialect::Postgres), None);
        let unknown = TableFacts { rows: None, ..items() };
        assert_eq!(estimate(&work(WorkKind::Scan, &[], false), Some(&unknown), Dialect::Postgres), None);
        assert_eq!(estimate(&work(WorkKind::Scan, &[], false), None, Dialect::Postgres), None);
    }

    #[test]
    fn writes_during_an_online_copy_add_their_replay() {
        let idle = secs(&work(WorkKind::OnlineCopy, &[], false), Dialect::Postgres);
        let busy = TableFacts { writes_per_sec: Some(5_000.0), ..items() };
        let e = estimate(&work(WorkKind::OnlineCopy, &[], false), Some(&busy), Dialect::Postgres).expect("an estimate");
        assert!(e.seconds > idle * 1.05, "{} vs {idle}", e.seconds);
        assert!(e.basis.contains("5000 rows/s written meanwhile"), "{}", e.basis);
    }

    #[test]
    fn durations_read_as_estimates() {
        assert_eq!(human_seconds(0.004), "under 0.01 s");
        assert_eq!(human_seconds(0.042), "0.04 s");
        assert_eq!(human_seconds(2.34), "2.3 s");
        assert_eq!(human_seconds(45.0), "45 s");
        assert_eq!(human_seconds(600.0), "10 min");
        assert_eq!(human_seconds(9000.0), "2.5 h");
    }
}

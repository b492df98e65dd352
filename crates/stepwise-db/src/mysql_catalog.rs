//! The MySQL/MariaDB catalog facts lint needs: the tables of the current
//! database with their columns, keys, foreign keys, size and row format,
//! read from information_schema in a few queries (not one per table).

use crate::mysql::MyConn;
use crate::DbError;
use mysql_async::prelude::Queryable;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct MyColumn {
    pub name: String,
    /// `COLUMN_TYPE` as the server writes it: `varchar(255)`, `int(10) unsigned`, `enum('a','b')`.
    pub column_type: String,
    pub charset: Option<String>,
    pub collation: Option<String>,
    pub nullable: bool,
    /// `EXTRA`: `auto_increment`, `VIRTUAL GENERATED`, `STORED GENERATED`, ...
    pub extra: String,
}

#[derive(Debug, Clone, Default)]
pub struct MyKey {
    pub name: String,
    pub unique: bool,
    /// `BTREE`, `FULLTEXT`, `SPATIAL`, `HASH`.
    pub index_type: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MyForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub table: String,
}

#[derive(Debug, Clone, Default)]
pub struct MyTable {
    pub name: String,
    pub rows: Option<i64>,
    pub data_bytes: Option<i64>,
    pub row_format: Option<String>,
    pub collation: Option<String>,
    pub partitioned: bool,
    pub columns: Vec<MyColumn>,
    pub keys: Vec<MyKey>,
    pub foreign_keys: Vec<MyForeignKey>,
    /// MySQL 8.0.29+: `information_schema.innodb_tables.TOTAL_ROW_VERSIONS`.
    pub row_versions: Option<u32>,
}

type TableRow = (String, Option<i64>, Option<i64>, Option<String>, Option<String>, Option<String>);
type ColumnRow = (String, String, String, Option<String>, Option<String>, String, String);
type TransactionRow = (u64, Option<String>, Option<String>, i64, Option<String>);

/// The base tables of the current database (`DATABASE()`).
pub async fn tables(conn: &mut MyConn) -> Result<Vec<MyTable>, DbError> {
    let c = &mut conn.conn;
    let mut out: BTreeMap<String, MyTable> = BTreeMap::new();
    let rows: Vec<TableRow> = c
        .query(
            "SELECT TABLE_NAME, CAST(TABLE_ROWS AS SIGNED), CAST(DATA_LENGTH AS SIGNED), ROW_FORMAT, TABLE_COLLATION, CREATE_OPTIONS \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
        )
        .await?;
    for (name, rows, data_bytes, row_format, collation, options) in rows {
        let partitioned = options.as_deref().is_some_and(|o| o.contains("partitioned"));
        out.insert(name.clone(), MyTable { name, rows, data_bytes, row_format, collation, partitioned, ..Default::default() });
    }
    let cols: Vec<ColumnRow> = c
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, IS_NULLABLE, EXTRA \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )
        .await?;
    for (table, name, column_type, charset, collation, nullable, extra) in cols {
        if let Some(t) = out.get_mut(&table) {
            t.columns.push(MyColumn { name, column_type, charset, collation, nullable: nullable == "YES", extra });
        }
    }
    let keys: Vec<(String, String, i64, String, Option<String>)> = c
        .query(
            "SELECT TABLE_NAME, INDEX_NAME, CAST(NON_UNIQUE AS SIGNED), INDEX_TYPE, COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        )
        .await?;
    for (table, name, non_unique, index_type, column) in keys {
        let Some(t) = out.get_mut(&table) else { continue };
        if t.keys.last().is_none_or(|k| k.name != name) {
            t.keys.push(MyKey { name, unique: non_unique == 0, index_type, columns: vec![] });
        }
        if let (Some(k), Some(col)) = (t.keys.last_mut(), column) {
            k.columns.push(col);
        }
    }
    let fks: Vec<(String, String, String, String)> = c
        .query(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
        )
        .await?;
    for (table, name, column, referenced) in fks {
        let Some(t) = out.get_mut(&table) else { continue };
        if t.foreign_keys.last().is_none_or(|k| k.name != name) {
            t.foreign_keys.push(MyForeignKey { name, columns: vec![], table: referenced });
        }
        if let Some(k) = t.foreign_keys.last_mut() {
            k.columns.push(column);
        }
    }
    // MySQL 8.0.29+ only; elsewhere the column or the view is missing.
    if !conn.is_mariadb() {
        let versions: Result<Vec<(String, i64)>, _> = conn
            .conn
            .query(
                "SELECT SUBSTRING_INDEX(NAME, '/', -1), CAST(TOTAL_ROW_VERSIONS AS SIGNED) FROM information_schema.INNODB_TABLES \
                 WHERE NAME LIKE CONCAT(DATABASE(), '/%')",
            )
            .await;
        for (table, v) in versions.unwrap_or_default() {
            if let Some(t) = out.get_mut(&table) {
                t.row_versions = Some(v.max(0) as u32);
            }
        }
    }
    Ok(out.into_values().collect())
}

/// An open transaction older than some age, with who holds it.
#[derive(Debug, Clone)]
pub struct OldTransaction {
    pub thread: u64,
    pub user: String,
    pub host: String,
    pub seconds: i64,
    pub query: Option<String>,
}

/// Transactions open for at least `seconds`, other than this session's.
/// InnoDB does not say which tables a transaction touched (MariaDB's
/// `metadata_lock_info` plugin and MySQL's performance_schema would): any of
/// them can hold the metadata lock an ALTER waits for.
pub async fn old_transactions(conn: &mut MyConn, seconds: u64) -> Result<Vec<OldTransaction>, DbError> {
    let me = conn.id;
    let rows: Vec<TransactionRow> = conn
        .conn
        .exec(
            "SELECT t.trx_mysql_thread_id, p.USER, p.HOST, CAST(TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS SIGNED), p.INFO \
             FROM information_schema.INNODB_TRX t LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE t.trx_mysql_thread_id <> ? AND t.trx_started <= NOW() - INTERVAL ? SECOND ORDER BY t.trx_started",
            (me, seconds),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(thread, user, host, seconds, query)| OldTransaction {
            thread,
            user: user.unwrap_or_default(),
            host: host.unwrap_or_default(),
            seconds,
            query,
        })
        .collect())
}

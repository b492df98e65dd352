//! What an online schema change needs to know about a table from the
//! catalog: its columns and types, its key, and what hangs on it.

use crate::OnlineError;
use stepwise_db::pg::PgConn;

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// `format_type` of the column: `integer`, `character varying(20)`.
    pub ty: String,
    /// A stored generated column: written by PostgreSQL, never copied.
    pub generated: bool,
}

#[derive(Debug, Clone)]
pub struct TableInfo {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub columns: Vec<Column>,
    /// The primary key, or a unique index on NOT NULL columns.
    pub key: Vec<String>,
    pub estimated_rows: i64,
    /// PostgreSQL's relkind: `r` a plain table, `p` a partitioned one.
    pub relkind: String,
}

impl TableInfo {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The table named `name` (`orders` or `app.orders`, resolved like PostgreSQL
/// resolves it), or `None` if there is no such table.
pub async fn load(conn: &PgConn, name: &str) -> Result<Option<TableInfo>, OnlineError> {
    let rows = conn
        .rows(
            "SELECT c.oid, n.nspname, c.relname, c.relkind::text, greatest(c.reltuples, 0)::bigint
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.oid = to_regclass($1)",
            &[&name],
        )
        .await?;
    let Some(r) = rows.first() else { return Ok(None) };
    let (oid, relkind): (u32, String) = (r.get(0), r.get(3));
    if !matches!(relkind.as_str(), "r" | "p") {
        return Err(OnlineError::Usage(format!("{name} is not a table (relkind {relkind})")));
    }
    let columns = conn
        .rows(
            "SELECT attname, format_type(atttypid, atttypmod), attgenerated <> ''
               FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&oid],
        )
        .await?
        .iter()
        .map(|r| Column { name: r.get(0), ty: r.get(1), generated: r.get(2) })
        .collect();
    Ok(Some(TableInfo { oid, schema: r.get(1), name: r.get(2), columns, key: key_of(conn, oid).await?, estimated_rows: r.get(4), relkind }))
}

/// The primary key's columns, else those of the first valid unique index
/// without expressions or predicate whose columns are all NOT NULL.
async fn key_of(conn: &PgConn, oid: u32) -> Result<Vec<String>, OnlineError> {
    let rows = conn
        .rows(
            "SELECT i.indexrelid, array_agg(a.attname ORDER BY k.ord), bool_and(a.attnotnull)
               FROM pg_index i
               CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
              GROUP BY i.indexrelid, i.indisprimary
              ORDER BY i.indisprimary DESC, i.indexrelid",
            &[&oid],
        )
        .await?;
    Ok(rows.iter().find(|r| r.get::<_, bool>(2)).map(|r| r.get(1)).unwrap_or_default())
}

/// Things on or around the table that a swap would have to carry over and
/// that osc does not carry over yet: it refuses rather than lose them.
pub async fn unsupported(conn: &PgConn, oid: u32) -> Result<Vec<String>, OnlineError> {
    let rows = conn
        .rows(
            "SELECT 'child table ' || inhrelid::regclass FROM pg_inherits WHERE inhparent = $1
             UNION ALL
             SELECT 'parent table ' || inhparent::regclass FROM pg_inherits WHERE inhrelid = $1
             UNION ALL
             SELECT 'materialized view ' || v.oid::regclass
               FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class
              WHERE d.refobjid = $1 AND d.classid = 'pg_rewrite'::regclass AND v.relkind = 'm'",
            &[&oid],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

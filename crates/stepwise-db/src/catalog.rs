//! What the live PostgreSQL catalog says about user tables: columns with
//! their types, whether a table is partitioned, and its estimated row count.

use crate::pg::PgConn;
use crate::DbError;

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogColumn {
    pub name: String,
    /// `format_type` text: `integer`, `character varying(20)`, `numeric(10,2)`, ...
    pub type_text: String,
    pub not_null: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogTable {
    pub schema: String,
    pub name: String,
    pub partitioned: bool,
    /// `pg_class.reltuples` (None when the table was never analyzed).
    pub rows: Option<i64>,
    pub columns: Vec<CatalogColumn>,
}

/// User tables (not in system schemas nor in `exclude_schema`, stepwise's own).
pub async fn tables(conn: &PgConn, exclude_schema: &str) -> Result<Vec<CatalogTable>, DbError> {
    let rows = conn
        .rows(
            "SELECT n.nspname::text, c.relname::text, c.relkind = 'p', c.reltuples::float8,
                    a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              WHERE c.relkind IN ('r', 'p')
                AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
                AND n.nspname <> $1
              ORDER BY n.nspname, c.relname, a.attnum",
            &[&exclude_schema],
        )
        .await?;
    let mut out: Vec<CatalogTable> = Vec::new();
    for r in rows {
        let (schema, name): (String, String) = (r.get(0), r.get(1));
        if out.last().is_none_or(|t| t.schema != schema || t.name != name) {
            let tuples: f64 = r.get(3);
            out.push(CatalogTable { schema, name, partitioned: r.get(2), rows: (tuples >= 0.0).then_some(tuples as i64), columns: vec![] });
        }
        if let (Some(col), Some(ty)) = (r.get::<_, Option<String>>(4), r.get::<_, Option<String>>(5)) {
            if let Some(t) = out.last_mut() {
                t.columns.push(CatalogColumn { name: col, type_text: ty, not_null: r.get::<_, Option<bool>>(6).unwrap_or(false) });
            }
        }
    }
    Ok(out)
}

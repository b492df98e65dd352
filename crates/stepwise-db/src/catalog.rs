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

/// An index of a user table, with the constraint it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogIndex {
    /// The index's schema (its table's).
    pub schema: String,
    pub name: String,
    pub table: String,
    /// Its key columns then its INCLUDE columns (`expr` for an expression).
    pub columns: Vec<String>,
    /// `p`, `u` or `x` when it carries a primary key, unique or exclusion constraint.
    pub constraint: Option<String>,
}

/// A constraint of a user table.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogConstraint {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `pg_constraint.contype`: `p`, `u`, `x`, `c`, `f`, ...
    pub kind: String,
    pub columns: Vec<String>,
    pub validated: bool,
}

/// The indexes of user tables (not in system schemas nor `exclude_schema`).
pub async fn indexes(conn: &PgConn, exclude_schema: &str) -> Result<Vec<CatalogIndex>, DbError> {
    let rows = conn
        .rows(
            "SELECT n.nspname::text, i.relname::text, t.relname::text,
                    ARRAY(SELECT coalesce(a.attname::text, 'expr') FROM unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
                           LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
                          ORDER BY k.ord),
                    (SELECT c.contype::text FROM pg_constraint c WHERE c.conindid = i.oid AND c.contype IN ('p', 'u', 'x') LIMIT 1)
               FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid
               JOIN pg_class t ON t.oid = x.indrelid
               JOIN pg_namespace n ON n.oid = i.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
                AND n.nspname <> $1",
            &[&exclude_schema],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogIndex { schema: r.get(0), name: r.get(1), table: r.get(2), columns: r.get(3), constraint: r.get(4) })
        .collect())
}

/// The constraints of user tables (not in system schemas nor `exclude_schema`).
pub async fn constraints(conn: &PgConn, exclude_schema: &str) -> Result<Vec<CatalogConstraint>, DbError> {
    let rows = conn
        .rows(
            "SELECT n.nspname::text, t.relname::text, c.conname::text, c.contype::text,
                    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord),
                    c.convalidated
               FROM pg_constraint c
               JOIN pg_class t ON t.oid = c.conrelid
               JOIN pg_namespace n ON n.oid = t.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname <> $1",
            &[&exclude_schema],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogConstraint {
            schema: r.get(0),
            table: r.get(1),
            name: r.get(2),
            kind: r.get(3),
            columns: r.get(4),
            validated: r.get(5),
        })
        .collect())
}

//! `lint --database mysql://...`: the schema, the server and which
//! migrations are applied, read from a live MySQL/MariaDB for the MySQL judge.

use crate::config::Config;
use std::collections::HashSet;
use stepwise_db::mysql_catalog::{tables, MyTable};
use stepwise_db::DbUrl;
use stepwise_lint::mysql::ast::{ColumnDef, ForeignKeyDef, Generated, KeyDef, KeyKind};
use stepwise_lint::mysql::reader::catalog_column;
use stepwise_lint::mysql::schema::{key, Table};
use stepwise_lint::mysql::{Schema, Server};
use stepwise_migrate::engine::any::AnyEngine;

pub async fn from_database(raw: &str, cfg: &Config) -> Result<(Schema, HashSet<String>, Option<Server>), String> {
    let url = DbUrl::parse(raw).map_err(|e| e.to_string())?;
    if url.engine == stepwise_db::Engine::Postgres {
        return Err("this is a PostgreSQL URL, but the migrations are linted as MySQL (--dialect mysql|mariadb)".into());
    }
    let (mut engine, applied) = super::lint::connect_with_history(&url, cfg).await?;
    let AnyEngine::My(my) = &mut engine else { return Err("not MySQL".into()) };
    let (schema, server) = live_schema(my.session(), cfg).await?;
    Ok((schema, applied, server))
}

/// The MySQL judge's schema model of a live MySQL/MariaDB (stepwise's own
/// tables left out), and which server it is.
pub async fn live_schema(conn: &mut stepwise_db::mysql::MyConn, cfg: &Config) -> Result<(Schema, Option<Server>), String> {
    let server = Server::from_version_string(&conn.version);
    let mut schema = Schema::default();
    for t in tables(conn).await.map_err(|e| e.to_string())? {
        // stepwise's own tables are not the application's.
        if t.name.starts_with(&format!("{}_", cfg.schema)) {
            continue;
        }
        schema.tables.insert(key(&t.name), table(t));
    }
    Ok((schema, server))
}

fn table(t: MyTable) -> Table {
    let columns = t
        .columns
        .iter()
        .map(|c| {
            let mut col =
                catalog_column(&c.name, &c.column_type).unwrap_or_else(|| ColumnDef { name: c.name.clone(), ..Default::default() });
            col.ty.charset = c.charset.clone();
            col.ty.collation = c.collation.clone();
            col.not_null = Some(!c.nullable);
            let extra = c.extra.to_ascii_uppercase();
            col.auto_increment = extra.contains("AUTO_INCREMENT");
            col.generated = if extra.contains("STORED") || extra.contains("PERSISTENT") {
                Some(Generated::Stored)
            } else if extra.contains("VIRTUAL") {
                Some(Generated::Virtual)
            } else {
                None
            };
            col
        })
        .collect();
    let keys = t
        .keys
        .iter()
        .map(|k| KeyDef {
            name: Some(k.name.clone()),
            kind: match (k.name.as_str(), k.index_type.as_str(), k.unique) {
                ("PRIMARY", _, _) => KeyKind::Primary,
                (_, "FULLTEXT", _) => KeyKind::Fulltext,
                (_, "SPATIAL", _) => KeyKind::Spatial,
                (_, _, true) => KeyKind::Unique,
                _ => KeyKind::Plain,
            },
            columns: k.columns.clone(),
        })
        .collect();
    let foreign_keys = t
        .foreign_keys
        .iter()
        .map(|f| ForeignKeyDef { name: Some(f.name.clone()), columns: f.columns.clone(), table: f.table.clone() })
        .collect();
    Table {
        name: t.name,
        columns,
        keys,
        foreign_keys,
        charset: t.collation.as_deref().and_then(|c| c.split('_').next()).map(str::to_string),
        row_format: t.row_format,
        partitioned: t.partitioned,
        new: false,
        rows: t.rows,
        data_bytes: t.data_bytes,
        row_versions: t.row_versions,
    }
}

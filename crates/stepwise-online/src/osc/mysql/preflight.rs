//! Before anything is created on MySQL/MariaDB: the clauses are one ALTER
//! TABLE osc carries, the table is an InnoDB table with a key to copy by,
//! no other table's foreign key points at it unless `--rebuild-child-keys`
//! says to point them at the new table after the swap (MySQL moves a
//! child's foreign key along with a renamed parent, so it would point at
//! the old table), it has no foreign keys or triggers of its own (neither is
//! carried yet: `CREATE TABLE ... LIKE` leaves foreign keys behind), and a
//! unique or primary key the ALTER adds holds on the rows there now.
//!
//! That last check is the one pt-online-schema-change lacks: its copy is
//! `INSERT IGNORE`, which keeps the first row of each duplicate and drops
//! the rest without a word. Here the duplicates are named with their counts,
//! before anything exists to clean up.

use crate::backfill::mysql::MyDb;
use crate::backfill::Db;
use crate::osc::table::TableInfo;
use crate::osc::OscRequest;
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use stepwise_db::mysql::{quote_ident as qi, MyConn};
use stepwise_db::DbError;
use stepwise_sql::osc_alter::{check_osc_alter_mysql, NewKey, OscAlter};

/// Duplicate values shown per key.
const SHOWN: usize = 10;

/// What passed: the table, the checked clauses and one line per check.
pub struct Checked {
    pub table: TableInfo,
    /// The index behind the key (`PRIMARY`), for the copy's FORCE INDEX.
    pub key_index: String,
    pub alter: OscAlter,
    pub notes: Vec<String>,
}

pub async fn check(conn: &mut MyConn, req: &OscRequest, state_prefix: &str) -> Result<Checked, OnlineError> {
    let alter = check_osc_alter_mysql(&req.alter).map_err(OnlineError::Usage)?;
    let mut db = MyDb::new(conn, state_prefix);
    let table = db.table(&req.table).await?.ok_or_else(|| OnlineError::Usage(format!("no table named {}", req.table)))?;
    let key_index = db.key_index().to_string();
    let original = format!("{}.{}", qi(&table.schema), qi(&table.name));
    let engine: Option<String> = conn
        .conn
        .exec_first("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", (&table.schema, &table.name))
        .await
        .map_err(DbError::from)?;
    let engine = engine.unwrap_or_default();
    if !engine.eq_ignore_ascii_case("InnoDB") {
        return Err(OnlineError::Refused(format!(
            "{original} is a {engine} table: osc copies InnoDB tables (its batches rely on row locks and consistent snapshots); \
             give it `ENGINE=InnoDB` with a plain ALTER TABLE first, in a quiet moment"
        )));
    }
    if table.key.is_empty() {
        return Err(OnlineError::Refused(format!(
            "{original} has neither a primary key nor a unique index on NOT NULL columns (without prefix lengths): \
             osc copies by key and cannot copy it safely"
        )));
    }
    let mut notes = vec![format!("{original} is InnoDB with key ({})", table.key.join(", "))];

    let children = super::foreign_keys::referencing(conn, &table.schema, &table.name).await?;
    let list = children.iter().map(|k| k.describe()).collect::<Vec<_>>().join(", ");
    if children.is_empty() {
        notes.push(format!("no other table's foreign key references {original}"));
    } else if req.rebuild_child_keys {
        notes.push(format!("after the swap, these foreign keys will be pointed at the new table (--rebuild-child-keys): {list}"));
    } else {
        return Err(OnlineError::Refused(format!(
            "foreign keys of other tables reference {original}: {list}. MySQL moves a child's foreign key with the table it \
             references, so after the swap they would point at the old table. `--rebuild-child-keys` points them at the new \
             table right after the swap, keeping their names (one in-place ALTER of each child, without checking its rows again)"
        )));
    }

    // CREATE TABLE ... LIKE leaves foreign keys behind: osc adds them to the
    // copy under other names (InnoDB names them per database) and gives
    // them their names back at `finish` (see `foreign_keys`).
    let own = super::foreign_keys::own(conn, &table.schema, &table.name).await?;
    if !own.is_empty() {
        let list = own.iter().map(|k| k.describe_own()).collect::<Vec<_>>().join(", ");
        if let Some(k) = own.iter().find(|k| k.parent_schema == table.schema && k.parent_table == table.name) {
            return Err(OnlineError::Refused(format!(
                "{original} has a foreign key to itself ({}): osc does not carry one yet on MySQL/MariaDB",
                k.describe()
            )));
        }
        if alter.drops_constraint {
            return Err(OnlineError::Refused(format!(
                "{original} has foreign keys of its own ({list}) and the ALTER drops a foreign key or constraint: osc carries \
                 the keys to the copy under other names, where the DROP would not find it. Drop it with a plain ALTER TABLE \
                 first (dropping a foreign key changes no row)"
            )));
        }
        notes.push(format!("its own foreign keys go to the new table as they are, named as now after `osc finish`: {list}"));
    } else {
        notes.push(format!("{original} has no foreign keys of its own"));
    }

    let triggers: Vec<String> = conn
        .conn
        .exec(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?
              ORDER BY TRIGGER_NAME",
            (&table.schema, &table.name),
        )
        .await
        .map_err(DbError::from)?;
    if !triggers.is_empty() {
        let list: Vec<String> = triggers.iter().map(|t| qi(t)).collect();
        return Err(OnlineError::Refused(format!(
            "{original} has triggers of its own ({}): osc does not carry them to the new table yet, and will not drop them",
            list.join(", ")
        )));
    }
    notes.push(format!("{original} has no triggers of its own"));

    let existing: Vec<String> = table.columns.iter().map(|c| c.name.to_ascii_lowercase()).collect();
    for key in &alter.new_keys {
        let what = describe(key);
        match &key.columns {
            Some(cols) if cols.iter().all(|c| existing.contains(&c.to_ascii_lowercase())) => {
                duplicates(conn, &original, key, cols).await?;
                notes.push(format!("no duplicates in {original} for the new {what}"));
            }
            _ => notes.push(format!(
                "the new {what} is on a prefix, an expression or a column the ALTER adds: the verification after the copy judges it"
            )),
        }
    }
    Ok(Checked { table, key_index, alter, notes })
}

/// `UNIQUE KEY uk_email (email)`-like words for messages.
fn describe(key: &NewKey) -> String {
    let kind = if key.primary { "PRIMARY KEY" } else { "UNIQUE KEY" };
    let name = key.name.as_deref().map(|n| format!(" {}", qi(n))).unwrap_or_default();
    let cols = key.columns.as_ref().map(|c| format!(" ({})", c.iter().map(|c| qi(c)).collect::<Vec<_>>().join(", "))).unwrap_or_default();
    format!("{kind}{name}{cols}")
}

/// Refuse when `cols` repeat in the table. A unique key lets rows with a
/// NULL in any key column repeat; a primary key's columns become NOT NULL,
/// so NULLs there are named too.
async fn duplicates(conn: &mut MyConn, original: &str, key: &NewKey, cols: &[String]) -> Result<(), OnlineError> {
    let list = cols.iter().map(|c| qi(c)).collect::<Vec<_>>().join(", ");
    let filter = if key.primary {
        String::new()
    } else {
        format!("WHERE {}", cols.iter().map(|c| format!("{} IS NOT NULL", qi(c))).collect::<Vec<_>>().join(" AND "))
    };
    let shown = cols.iter().map(|c| format!("COALESCE(QUOTE({}), 'NULL')", qi(c))).collect::<Vec<_>>().join(", ', ', ");
    let (values, rows): (Option<i64>, Option<i64>) = conn
        .conn
        .query_first(format!(
            "SELECT COUNT(*), CAST(SUM(n) AS SIGNED) FROM (SELECT COUNT(*) AS n FROM {original} {filter} GROUP BY {list} HAVING COUNT(*) > 1) d"
        ))
        .await
        .map_err(DbError::from)?
        .unwrap_or((None, None));
    let values = values.unwrap_or(0);
    if values == 0 {
        return Ok(());
    }
    let sample: Vec<(String, i64)> = conn
        .conn
        .query(format!(
            "SELECT CONCAT({shown}), COUNT(*) AS n FROM {original} {filter} GROUP BY {list} HAVING COUNT(*) > 1 ORDER BY n DESC, 1 LIMIT {SHOWN}"
        ))
        .await
        .map_err(DbError::from)?;
    let shown: Vec<String> = sample.iter().map(|(v, n)| format!("({v}) x{n}")).collect();
    let more = if values as usize > sample.len() { format!(", and {} more", values as usize - sample.len()) } else { String::new() };
    Err(OnlineError::Refused(format!(
        "the new {} would not hold: {values} value(s) of ({list}) occur more than once in {original}, in {} rows: {}{more}. \
         pt-online-schema-change would keep one row of each and drop the others without a word; decide which rows to keep \
         (or whether the key is right), then run again. Nothing was created",
        describe(key),
        rows.unwrap_or(0),
        shown.join(", ")
    )))
}

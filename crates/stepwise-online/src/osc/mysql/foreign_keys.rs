//! Foreign keys, on MySQL/MariaDB.
//!
//! **The table's own keys.** `CREATE TABLE ... LIKE` leaves them behind, and
//! InnoDB names them per database, so the copy takes each one under an
//! interim name (`_sw<job>_<name>`) before any row goes in ([`carry`]); the
//! old table keeps the names until `finish` drops it, and then each key
//! takes its name back in one in-place ALTER ([`restore_names`]). A key to
//! the table itself is not carried yet (refused).
//!
//! **Keys of other tables that reference the altered table.**
//! MySQL and MariaDB move a child's foreign key with the table it
//! references: after the swap's RENAME the children point at the old table.
//! By default osc refuses such a table (with the list); with
//! `--rebuild-child-keys` it points each of them at the new table right
//! after the swap, as pt-online-schema-change's `rebuild_constraints` does,
//! keeping every name:
//!
//! ```sql
//! ALTER TABLE child DROP FOREIGN KEY fk, ADD CONSTRAINT _sw<job>_fk ... REFERENCES t, ALGORITHM=INPLACE, LOCK=NONE;
//! ALTER TABLE child DROP FOREIGN KEY _sw<job>_fk, ADD CONSTRAINT fk ... REFERENCES t, ALGORITHM=INPLACE, LOCK=NONE;
//! ```
//!
//! Each statement swaps one constraint for another at once, so the child is
//! never without its key (MariaDB refuses to drop and add one name in a
//! single ALTER, hence two). They run with `foreign_key_checks = 0`, which
//! makes adding a key an in-place change that neither copies the child nor
//! blocks its writes (tested on MariaDB 10.11; MySQL 8 documents the same)
//! and skips checking the child's rows again: they held against the old
//! table, which the new one equals at the swap. Until a child is pointed
//! at the new table, its key still holds through the old one, which the
//! reverse triggers keep equal; a delete they cannot make there because a
//! child row still needs the parent fails the application's statement, as
//! the key would have without osc.

use super::capture::locked;
use super::Names;
use crate::osc::{OnProgress, OscOptions};
use crate::OnlineError;
use mysql_async::prelude::Queryable;
use stepwise_db::mysql::{quote_ident as qi, MyConn};
use stepwise_db::DbError;

/// One foreign key of another table that references `schema.table`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    pub schema: String,
    pub table: String,
    pub name: String,
    pub columns: Vec<String>,
    pub referenced: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
    /// The table it references.
    pub parent_schema: String,
    pub parent_table: String,
}

impl ForeignKey {
    fn parent(&self) -> String {
        format!("{}.{}", qi(&self.parent_schema), qi(&self.parent_table))
    }

    /// As one of the table's own keys: its name and what it references.
    pub fn describe_own(&self) -> String {
        format!("{} (to {})", qi(&self.name), self.parent())
    }

    pub fn describe(&self) -> String {
        format!("{}.{} ({})", qi(&self.schema), qi(&self.table), qi(&self.name))
    }

    /// `ALTER TABLE` that replaces constraint `from` by `to`, referencing `parent`.
    fn replace(&self, from: &str, to: &str, parent: &str) -> String {
        format!(
            "ALTER TABLE {}.{} DROP FOREIGN KEY {}, ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {parent} ({}){}{}, \
             ALGORITHM=INPLACE, LOCK=NONE",
            qi(&self.schema),
            qi(&self.table),
            qi(from),
            qi(to),
            list(&self.columns),
            list(&self.referenced),
            rule(" ON DELETE", &self.on_delete),
            rule(" ON UPDATE", &self.on_update)
        )
    }
}

/// A referential action from the catalog, as a clause after `on` (only
/// the five there are; none for RESTRICT, the default, which the catalog
/// then shows as it showed before).
fn rule(on: &str, r: &str) -> String {
    let action = match r.to_ascii_uppercase().as_str() {
        "CASCADE" => "CASCADE",
        "SET NULL" => "SET NULL",
        "SET DEFAULT" => "SET DEFAULT",
        "NO ACTION" => "NO ACTION",
        _ => return String::new(),
    };
    format!("{on} {action}")
}

/// Child keys whose referenced columns the ALTER changed (`shadow` has
/// another type for them than `table`): the key cannot point at the new
/// table until the child's columns change too. Each described with why.
pub async fn broken_by(conn: &mut MyConn, schema: &str, table: &str, shadow: &str, keys: &[ForeignKey]) -> Result<Vec<String>, DbError> {
    let mut broken = Vec::new();
    for k in keys {
        for c in &k.referenced {
            let ty = |t: &str| {
                let sql =
                    "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?";
                (sql, (schema.to_string(), t.to_string(), c.clone()))
            };
            let (sql, args) = ty(table);
            let before: Option<String> = conn.conn.exec_first(sql, args).await?;
            let (sql, args) = ty(shadow);
            let after: Option<String> = conn.conn.exec_first(sql, args).await?;
            if before != after {
                broken.push(format!(
                    "{} references {} ({} becomes {})",
                    k.describe(),
                    qi(c),
                    before.unwrap_or_default(),
                    after.unwrap_or_else(|| "gone".into())
                ));
            }
        }
    }
    Ok(broken)
}

/// Give the shadow (still empty) the original's own foreign keys, under
/// interim names: the old table keeps the names until `finish` drops it.
/// Once copied, rows and changes are checked against the parents as the
/// original's are, and a parent's CASCADE or SET NULL reaches the copy by
/// its own key (MySQL fires no trigger for a cascaded change).
pub async fn carry(conn: &mut MyConn, n: &Names) -> Result<(), DbError> {
    for k in own(conn, &n.schema, &n.table).await? {
        conn.exec(&format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}{}",
            n.shadow(),
            qi(&interim(n.job, &k.name)),
            list(&k.columns),
            k.parent(),
            list(&k.referenced),
            rule(" ON DELETE", &k.on_delete),
            rule(" ON UPDATE", &k.on_update)
        ))
        .await?;
    }
    Ok(())
}

/// After `finish` dropped the old table: the table's own keys take their
/// names back, each in one in-place ALTER. The keys renamed.
pub async fn restore_names(conn: &mut MyConn, n: &Names, opts: &OscOptions, progress: OnProgress<'_>) -> Result<Vec<String>, OnlineError> {
    let prefix = interim(n.job, "");
    let mut steps = Vec::new();
    for k in own(conn, &n.schema, &n.table).await? {
        if let Some(name) = k.name.strip_prefix(&prefix).filter(|s| !s.is_empty()) {
            let sql = k.replace(&k.name, name, &k.parent());
            steps.push((format!("{} (was {})", qi(name), qi(&k.name)), sql));
        }
    }
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    conn.exec("SET SESSION foreign_key_checks = 0").await?;
    let mut done = Vec::new();
    let mut result = Ok(());
    for (k, sql) in steps {
        if let Err(e) = locked(conn, opts, n.job, &n.original(), "rename a foreign key", &[sql], progress).await {
            result = Err(e);
            break;
        }
        done.push(k);
    }
    conn.exec("SET SESSION foreign_key_checks = 1").await?;
    result.map(|_| done)
}

fn list(cols: &[String]) -> String {
    cols.iter().map(|c| qi(c)).collect::<Vec<_>>().join(", ")
}

/// The name a child key carries between the two statements.
pub fn interim(job: i64, name: &str) -> String {
    format!("_sw{job}_{name}").chars().take(64).collect()
}

/// The foreign keys of other tables that reference `schema.table`.
pub async fn referencing(conn: &mut MyConn, schema: &str, table: &str) -> Result<Vec<ForeignKey>, DbError> {
    keys(conn, "r.UNIQUE_CONSTRAINT_SCHEMA = ? AND r.REFERENCED_TABLE_NAME = ?", schema, table).await
}

/// The foreign keys of `schema.table` itself.
pub async fn own(conn: &mut MyConn, schema: &str, table: &str) -> Result<Vec<ForeignKey>, DbError> {
    keys(conn, "r.CONSTRAINT_SCHEMA = ? AND r.TABLE_NAME = ?", schema, table).await
}

async fn keys(conn: &mut MyConn, filter: &str, schema: &str, table: &str) -> Result<Vec<ForeignKey>, DbError> {
    type Row = (String, String, String, String, String, String, String, String, String);
    let rows: Vec<Row> = conn
        .conn
        .exec(
            format!(
                "SELECT r.CONSTRAINT_SCHEMA, r.TABLE_NAME, r.CONSTRAINT_NAME, r.DELETE_RULE, r.UPDATE_RULE,
                        k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME, r.UNIQUE_CONSTRAINT_SCHEMA, r.REFERENCED_TABLE_NAME
                   FROM information_schema.REFERENTIAL_CONSTRAINTS r
                   JOIN information_schema.KEY_COLUMN_USAGE k
                     ON k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA AND k.TABLE_NAME = r.TABLE_NAME
                    AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME AND k.REFERENCED_TABLE_NAME IS NOT NULL
                  WHERE {filter}
                  ORDER BY r.CONSTRAINT_SCHEMA, r.TABLE_NAME, r.CONSTRAINT_NAME, k.ORDINAL_POSITION"
            ),
            (schema, table),
        )
        .await?;
    let mut keys: Vec<ForeignKey> = Vec::new();
    for (s, t, name, on_delete, on_update, col, refcol, parent_schema, parent_table) in rows {
        match keys.last_mut() {
            Some(k) if k.schema == s && k.table == t && k.name == name => {
                k.columns.push(col);
                k.referenced.push(refcol);
            }
            _ => keys.push(ForeignKey {
                schema: s,
                table: t,
                name,
                columns: vec![col],
                referenced: vec![refcol],
                on_delete,
                on_update,
                parent_schema,
                parent_table,
            }),
        }
    }
    Ok(keys)
}

/// Point every child key that references table `from` (a name in the
/// job's schema) at the table's own name, keeping its name; also finish a
/// key left under its interim name by a crash. The keys moved.
pub async fn repoint(
    conn: &mut MyConn,
    n: &Names,
    from: &str,
    opts: &OscOptions,
    progress: OnProgress<'_>,
) -> Result<Vec<String>, OnlineError> {
    let mut moved = Vec::new();
    let prefix = interim(n.job, "");
    let mut steps: Vec<(ForeignKey, Vec<String>)> = Vec::new();
    for k in referencing(conn, &n.schema, from).await? {
        let tmp = interim(n.job, &k.name);
        steps.push((k.clone(), vec![k.replace(&k.name, &tmp, &n.original()), k.replace(&tmp, &k.name, &n.original())]));
    }
    if from != n.table {
        for k in referencing(conn, &n.schema, &n.table).await? {
            if let Some(name) = k.name.strip_prefix(&prefix).filter(|s| !s.is_empty()) {
                let mut back = k.clone();
                back.name = name.to_string();
                steps.push((back.clone(), vec![k.replace(&k.name, name, &n.original())]));
            }
        }
    }
    if steps.is_empty() {
        return Ok(moved);
    }
    conn.exec("SET SESSION foreign_key_checks = 0").await?;
    let mut result = Ok(());
    for (k, sql) in &steps {
        let child = format!("{}.{}", qi(&k.schema), qi(&k.table));
        if let Err(e) = locked(conn, opts, n.job, &child, "point a foreign key at the new table", sql, progress).await {
            result = Err(e);
            break;
        }
        moved.push(k.describe());
    }
    conn.exec("SET SESSION foreign_key_checks = 1").await?;
    result.map(|_| moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_keeps_the_columns_and_actions_and_quotes_every_name() {
        let k = ForeignKey {
            schema: "app".into(),
            table: "line`s".into(),
            name: "fk".into(),
            columns: vec!["order_id".into(), "shop".into()],
            referenced: vec!["id".into(), "shop".into()],
            on_delete: "CASCADE".into(),
            on_update: "whatever; DROP TABLE x".into(),
            parent_schema: "app".into(),
            parent_table: "orders".into(),
        };
        assert_eq!(
            k.replace("fk", &interim(7, "fk"), "`app`.`orders`"),
            "ALTER TABLE `app`.`line``s` DROP FOREIGN KEY `fk`, ADD CONSTRAINT `_sw7_fk` FOREIGN KEY (`order_id`, `shop`) \
             REFERENCES `app`.`orders` (`id`, `shop`) ON DELETE CASCADE, ALGORITHM=INPLACE, LOCK=NONE"
        );
    }

    #[test]
    fn an_interim_name_fits_in_64_characters() {
        assert_eq!(interim(12, &"k".repeat(80)).chars().count(), 64);
    }
}

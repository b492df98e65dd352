//! Work that belongs elsewhere: data changes, table maintenance and lock
//! juggling that a schema migration should not do, plus the opt-in rules for
//! teams that run migrations by hand (lock timeouts, idempotency, one change
//! per migration).

mod enum_add_value_in_transaction;
pub(crate) mod locks;
mod multiple_locks_in_transaction;
mod no_cluster;
mod no_data_change_in_migration;
mod no_truncate;
mod no_vacuum_full;
mod one_change_per_migration;
mod require_if_exists;
mod require_lock_timeout;

use crate::pg::rule::Rule;

pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &no_data_change_in_migration::RULE,
        &no_truncate::RULE,
        &no_vacuum_full::RULE,
        &no_cluster::RULE,
        &multiple_locks_in_transaction::RULE,
        &enum_add_value_in_transaction::RULE,
        &require_lock_timeout::RULE,
        &require_if_exists::RULE,
        &one_change_per_migration::RULE,
    ]
}

/// Quote a value for a shell command line in a recipe (`--set "..."`).
pub(super) fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// SQL text of a statement node (for recipes), without a trailing `;`.
pub(super) fn sql_of(node: &pg_query::NodeEnum) -> String {
    node.deparse(pg_query::DeparseOptions::default()).unwrap_or_else(|_| "...".into())
}

/// SQL text of an expression. PostgreSQL's deparser prints statements only,
/// so the expression is put into a parsed `SELECT 1` (whose other fields
/// are then valid for the deparser) and the keyword cut off again.
pub(super) fn expr_sql(expr: &pg_query::protobuf::Node) -> Option<String> {
    use pg_query::NodeEnum;
    let parsed = pg_query::parse("SELECT 1", pg_query::ParserOptions::DEFAULT).ok()?;
    let mut select = parsed.protobuf.stmts.into_iter().next()?.stmt?.node?;
    let NodeEnum::SelectStmt(s) = &mut select else { return None };
    let Some(NodeEnum::ResTarget(t)) = s.target_list.first_mut()?.node.as_mut() else { return None };
    t.val = Some(Box::new(expr.clone()));
    let text = select.deparse(pg_query::DeparseOptions::default()).ok()?;
    text.strip_prefix("SELECT ").map(str::to_string)
}

/// A statement (or a data-modifying `WITH` part of one) that changes rows.
pub(super) enum DataChange<'a> {
    Update(&'a pg_query::protobuf::UpdateStmt),
    Delete(&'a pg_query::protobuf::DeleteStmt),
    Merge(&'a pg_query::protobuf::MergeStmt),
    Insert(&'a pg_query::protobuf::InsertStmt),
    /// `COPY ... FROM`.
    Copy(&'a pg_query::protobuf::CopyStmt),
}

impl DataChange<'_> {
    pub fn relation(&self) -> Option<&pg_query::protobuf::RangeVar> {
        match self {
            DataChange::Update(u) => u.relation.as_ref(),
            DataChange::Delete(d) => d.relation.as_ref(),
            DataChange::Merge(m) => m.relation.as_ref(),
            DataChange::Insert(i) => i.relation.as_ref(),
            DataChange::Copy(c) => c.relation.as_ref(),
        }
    }

    pub fn verb(&self) -> &'static str {
        match self {
            DataChange::Update(_) => "UPDATE",
            DataChange::Delete(_) => "DELETE",
            DataChange::Merge(_) => "MERGE",
            DataChange::Insert(_) => "INSERT",
            DataChange::Copy(_) => "COPY",
        }
    }
}

/// The row changes a statement makes, data-modifying `WITH` queries included.
pub(super) fn data_changes(node: &pg_query::NodeEnum) -> Vec<DataChange<'_>> {
    use pg_query::protobuf::WithClause;
    use pg_query::NodeEnum;
    fn with<'a>(w: Option<&'a WithClause>, out: &mut Vec<DataChange<'a>>) {
        for cte in w.map(|w| w.ctes.as_slice()).unwrap_or_default() {
            if let Some(NodeEnum::CommonTableExpr(c)) = &cte.node {
                if let Some(q) = c.ctequery.as_ref().and_then(|q| q.node.as_ref()) {
                    walk(q, out);
                }
            }
        }
    }
    fn walk<'a>(node: &'a NodeEnum, out: &mut Vec<DataChange<'a>>) {
        match node {
            NodeEnum::UpdateStmt(u) => {
                with(u.with_clause.as_ref(), out);
                out.push(DataChange::Update(u));
            }
            NodeEnum::DeleteStmt(d) => {
                with(d.with_clause.as_ref(), out);
                out.push(DataChange::Delete(d));
            }
            NodeEnum::MergeStmt(m) => {
                with(m.with_clause.as_ref(), out);
                out.push(DataChange::Merge(m));
            }
            NodeEnum::InsertStmt(i) => {
                with(i.with_clause.as_ref(), out);
                if let Some(s) = i.select_stmt.as_ref().and_then(|s| s.node.as_ref()) {
                    walk(s, out);
                }
                out.push(DataChange::Insert(i));
            }
            NodeEnum::SelectStmt(s) => with(s.with_clause.as_ref(), out),
            NodeEnum::CopyStmt(c) if c.is_from => out.push(DataChange::Copy(c)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(node, &mut out);
    out
}

#[cfg(test)]
mod recipes {
    use crate::pg::rules::types::recipes::recipes_pass;

    #[test]
    fn each_findings_recipe_passes_every_rule() {
        for r in super::all() {
            let m = r.meta();
            recipes_pass(m.id, m.setup, m.bad, false);
        }
        let setup = "CREATE TABLE orders (id bigint PRIMARY KEY, status text, created_at timestamptz);\nCREATE TABLE customers (id bigint PRIMARY KEY);";
        for (rule, m) in [
            ("no-data-change-in-migration", "DELETE FROM orders WHERE created_at < now() - interval '1 year';"),
            (
                "multiple-locks-in-transaction",
                "ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status <> '') NOT VALID;\nALTER TABLE customers ADD COLUMN note text;",
            ),
            // (The rewrites half of one-change-per-migration splits rewrites that
            // other rules flag on their own; its recipe cannot pass them.)
            ("one-change-per-migration", "DELETE FROM customers WHERE id < 0;\nCREATE TABLE IF NOT EXISTS notes (id bigint PRIMARY KEY);"),
            ("require-if-exists", "-- stepwise:no-transaction\nDROP INDEX CONCURRENTLY orders_pkey;"),
        ] {
            recipes_pass(rule, setup, m, false);
        }
    }
}

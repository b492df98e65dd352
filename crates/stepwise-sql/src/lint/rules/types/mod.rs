//! Type rules: column types that cost a table rewrite to change later, or
//! that behave in ways applications rarely expect. Warnings (advice); they
//! look at the columns that CREATE TABLE and ALTER TABLE ... ADD COLUMN
//! create, new tables included (that is where a type is cheapest to fix).

mod ban_char;
mod prefer_bigint_keys;
mod prefer_jsonb;
mod prefer_text;
mod prefer_timestamptz;
mod require_boolean_not_null;

use crate::lint::context::Cx;
use crate::lint::rule::{Hit, Rule};
use crate::lint::rules::helpers::{alter_cmds, constr_type, constraint, ident, strings, word_offset};
use crate::lint::schema::{col_type, ColType};
use pg_query::protobuf::{AlterTableType, ColumnDef, ConstrType, Node, RangeVar, TypeName};
use pg_query::NodeEnum;

pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &prefer_bigint_keys::RULE,
        &prefer_text::RULE,
        &prefer_timestamptz::RULE,
        &prefer_jsonb::RULE,
        &ban_char::RULE,
        &require_boolean_not_null::RULE,
    ]
}

/// A column that a statement creates.
pub(super) struct NewColumn<'a> {
    pub table: &'a RangeVar,
    pub def: &'a ColumnDef,
    pub ty: ColType,
    /// Where the column definition sits: its index in `CREATE TABLE`'s
    /// elements, or in `ALTER TABLE`'s commands (for [`recipe`]).
    index: usize,
    /// In CREATE TABLE (not ADD COLUMN).
    pub in_create: bool,
    /// Part of the primary key, inline or in a table-level PRIMARY KEY.
    pub primary_key: bool,
    /// Part of a foreign key, inline (REFERENCES) or table-level.
    pub foreign_key: bool,
}

impl NewColumn<'_> {
    pub fn not_null(&self) -> bool {
        self.def.is_not_null || self.primary_key || inline(self.def, ConstrType::ConstrNotnull)
    }

    pub fn has_default(&self) -> bool {
        self.def.raw_default.is_some() || inline(self.def, ConstrType::ConstrDefault)
    }

    /// `orders.status` for messages.
    pub fn label(&self) -> String {
        format!("{}.{}", Cx::name(self.table), self.def.colname)
    }
}

/// Whether the column definition carries a constraint of `kind`.
fn inline(def: &ColumnDef, kind: ConstrType) -> bool {
    def.constraints.iter().filter_map(constraint).any(|k| constr_type(k) == kind)
}

/// The columns that CREATE TABLE or ALTER TABLE ... ADD COLUMN creates.
pub(super) fn new_columns(node: &NodeEnum) -> Vec<NewColumn<'_>> {
    let mut out = Vec::new();
    match node {
        NodeEnum::CreateStmt(c) => {
            let Some(table) = &c.relation else { return out };
            // Columns named in a table-level PRIMARY KEY (...) or FOREIGN KEY (...).
            let table_level = |kind: ConstrType| -> Vec<String> {
                c.table_elts
                    .iter()
                    .chain(&c.constraints)
                    .filter_map(constraint)
                    .filter(|k| constr_type(k) == kind)
                    .flat_map(|k| strings(if kind == ConstrType::ConstrForeign { &k.fk_attrs } else { &k.keys }))
                    .collect()
            };
            let (pk, fk) = (table_level(ConstrType::ConstrPrimary), table_level(ConstrType::ConstrForeign));
            for (index, e) in c.table_elts.iter().enumerate() {
                let Some(NodeEnum::ColumnDef(def)) = &e.node else { continue };
                let Some(t) = &def.type_name else { continue };
                out.push(NewColumn {
                    table,
                    def,
                    ty: col_type(t),
                    index,
                    in_create: true,
                    primary_key: inline(def, ConstrType::ConstrPrimary) || pk.contains(&def.colname),
                    foreign_key: inline(def, ConstrType::ConstrForeign) || fk.contains(&def.colname),
                });
            }
        }
        NodeEnum::AlterTableStmt(a) => {
            let Some(table) = &a.relation else { return out };
            for (index, (kind, cmd)) in alter_cmds(a).enumerate() {
                if kind != AlterTableType::AtAddColumn {
                    continue;
                }
                let Some(NodeEnum::ColumnDef(def)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
                let Some(t) = &def.type_name else { continue };
                out.push(NewColumn {
                    table,
                    def,
                    ty: col_type(t),
                    index,
                    in_create: false,
                    primary_key: inline(def, ConstrType::ConstrPrimary),
                    foreign_key: inline(def, ConstrType::ConstrForeign),
                });
            }
        }
        _ => {}
    }
    out
}

/// The column definition at `index` (see [`NewColumn`]) in a copy of the statement.
fn column_mut(node: &mut NodeEnum, index: usize) -> Option<&mut ColumnDef> {
    let def = match node {
        NodeEnum::CreateStmt(c) => c.table_elts.get_mut(index).and_then(|e| e.node.as_mut()),
        NodeEnum::AlterTableStmt(a) => a
            .cmds
            .iter_mut()
            .filter_map(|n| match n.node.as_mut() {
                Some(NodeEnum::AlterTableCmd(c)) => Some(c),
                _ => None,
            })
            .nth(index)
            .and_then(|c| c.def.as_mut())
            .and_then(|d| d.node.as_mut()),
        _ => None,
    };
    match def {
        Some(NodeEnum::ColumnDef(d)) => Some(d),
        _ => None,
    }
}

/// The walk every type rule shares: for each column the statement creates
/// that `judge` objects to (returning its message and why), a finding at the
/// column's name whose safe way is the statement with all type advice applied.
pub(super) fn flag_columns(cx: &Cx, hits: &mut Vec<Hit>, judge: impl Fn(&NewColumn) -> Option<(String, String)>) {
    let mut safe = None;
    for col in new_columns(cx.node) {
        let Some((message, why)) = judge(&col) else { continue };
        let safe = safe.get_or_insert_with(|| recipe(cx, false)).clone();
        hits.push(Hit::new(message, why, safe).at(word_offset(cx.sql(), &[col.def.colname.as_str()], 0) as i32));
    }
}

/// A key column: primary or foreign key, or named `id` or `*_id`.
pub(super) fn key_like(col: &NewColumn) -> bool {
    let name = col.def.colname.as_str();
    col.primary_key || col.foreign_key || name == "id" || name.ends_with("_id")
}

/// `integer`/`smallint` key columns: the bigint type to use instead.
pub(super) fn bigint_instead(col: &NewColumn) -> Option<&'static [&'static str]> {
    if col.ty.array || !key_like(col) || !matches!(col.ty.base.as_str(), "int4" | "int2") {
        return None;
    }
    let serial =
        col.def.type_name.as_ref().is_some_and(|t| matches!(raw_type_name(t).as_str(), "serial" | "serial4" | "smallserial" | "serial2"));
    Some(if serial { &["bigserial"] } else { &["pg_catalog", "int8"] })
}

/// `varchar(n)` and `char(n)` columns: the length limit their `text`
/// replacement checks. The quoted `"char"` is PostgreSQL's internal one-byte
/// type, not `char(n)` (which parses to `pg_catalog.bpchar`).
pub(super) fn length_limit(col: &NewColumn) -> Option<i64> {
    if col.ty.array {
        return None;
    }
    let raw = col.def.type_name.as_ref().map(raw_type_name).unwrap_or_default();
    match (col.ty.base.as_str(), col.ty.mods.first()) {
        ("varchar", Some(n)) => Some(*n),
        ("bpchar", n) if raw == "bpchar" => Some(n.copied().unwrap_or(1)),
        _ => None,
    }
}

/// A nullable boolean column (what `require-boolean-not-null` flags).
pub(super) fn nullable_boolean(col: &NewColumn) -> bool {
    col.ty.base == "bool" && !col.ty.array && !col.not_null() && col.def.generated.is_empty()
}

/// `NOT NULL` and `DEFAULT false` column constraints, parsed by PostgreSQL
/// itself so that every field is valid for the deparser.
fn not_null_default_false() -> Vec<Node> {
    let Ok(parsed) = pg_query::parse("CREATE TABLE t (c boolean NOT NULL DEFAULT false)", pg_query::ParserOptions::DEFAULT) else {
        return vec![];
    };
    let Some(NodeEnum::CreateStmt(c)) = parsed.protobuf.stmts.into_iter().next().and_then(|s| s.stmt).and_then(|n| n.node) else {
        return vec![];
    };
    match c.table_elts.into_iter().next().and_then(|e| e.node) {
        Some(NodeEnum::ColumnDef(d)) => d.constraints,
        _ => vec![],
    }
}

/// The recipe of every type finding: the statement with the advice of all
/// the default type rules applied to every column it creates (and, for
/// `require-boolean-not-null`, NOT NULL DEFAULT false on nullable booleans),
/// so that following one finding does not trip another. Length checks are
/// inline on a new table; on an existing one they are added NOT VALID and
/// validated in the next migration (a scan under SHARE UPDATE EXCLUSIVE).
pub(super) fn recipe(cx: &Cx, boolean_not_null: bool) -> String {
    let cols = new_columns(cx.node);
    let mut node = cx.node.clone();
    let mut later: Vec<(String, String, String)> = Vec::new();
    for col in &cols {
        let inline_checks = col.in_create || !cx.existing(col.table);
        let Some(def) = column_mut(&mut node, col.index) else { continue };
        if let Some(names) = bigint_instead(col) {
            set_type(def, names, false);
        } else if let Some(limit) = length_limit(col) {
            set_type(def, &["text"], false);
            let name = constraint_name(&col.table.relname, &col.def.colname, "length");
            let expr = format!("length({}) <= {limit}", ident(&col.def.colname));
            if inline_checks {
                def.constraints.extend(check_constraint(&name, &expr));
            } else {
                later.push((Cx::name(col.table), name, expr));
            }
        } else if col.ty.base == "timestamp" {
            set_type(def, &["timestamptz"], true);
        } else if col.ty.base == "json" {
            set_type(def, &["jsonb"], false);
        } else if boolean_not_null && nullable_boolean(col) {
            let has_default = col.has_default();
            for c in not_null_default_false() {
                let is_default = matches!(&c.node, Some(NodeEnum::Constraint(k)) if k.contype == ConstrType::ConstrDefault as i32);
                if !(is_default && has_default) {
                    def.constraints.push(c);
                }
            }
        }
    }
    let mut sql = node
        .deparse(pg_query::DeparseOptions { pretty_print: true, ..Default::default() })
        .map(|s| s + ";")
        .unwrap_or_else(|_| cx.sql().trim().to_string() + ";");
    for (table, name, expr) in &later {
        sql.push_str(&format!("\nALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({expr}) NOT VALID;"));
    }
    if !later.is_empty() {
        sql.push_str("\n-- next migration (the validating scan holds only a SHARE UPDATE EXCLUSIVE lock):");
        for (table, name, _) in &later {
            sql.push_str(&format!("\nALTER TABLE {table} VALIDATE CONSTRAINT {name};"));
        }
    }
    sql
}

/// Give a column definition the type `names` (`["pg_catalog", "int8"]`),
/// keeping or dropping its modifiers.
pub(super) fn set_type(def: &mut ColumnDef, names: &[&str], keep_mods: bool) {
    if let Some(t) = &mut def.type_name {
        t.names = names.iter().map(|n| string_node(n)).collect();
        if !keep_mods {
            t.typmods.clear();
        }
    }
}

pub(super) fn string_node(s: &str) -> Node {
    Node { node: Some(NodeEnum::String(pg_query::protobuf::String { sval: s.to_string() })) }
}

/// The type's own name as written, without `pg_catalog.` (`bpchar`, `serial`, `char`).
pub(super) fn raw_type_name(t: &TypeName) -> String {
    strings(&t.names).pop().unwrap_or_default()
}

/// A CHECK constraint node `CONSTRAINT <name> CHECK (<expr>)`, parsed by
/// PostgreSQL itself so that it deparses exactly.
pub(super) fn check_constraint(name: &str, expr: &str) -> Option<Node> {
    let sql = format!("ALTER TABLE t ADD CONSTRAINT {name} CHECK ({expr})");
    let parsed = pg_query::parse(&sql, pg_query::ParserOptions::DEFAULT).ok()?;
    let stmt = parsed.protobuf.stmts.into_iter().next()?.stmt?.node?;
    let NodeEnum::AlterTableStmt(a) = stmt else { return None };
    let NodeEnum::AlterTableCmd(cmd) = a.cmds.into_iter().next()?.node? else { return None };
    let c = cmd.def?;
    matches!(c.node, Some(NodeEnum::Constraint(_))).then_some(*c)
}

/// A constraint name PostgreSQL accepts (at most 63 bytes).
pub(super) fn constraint_name(table: &str, column: &str, suffix: &str) -> String {
    crate::lint::rules::helpers::ident(&crate::lint::rules::helpers::object_name(table, column, suffix))
}

#[cfg(test)]
pub(crate) mod recipes {
    //! The recipe a finding gives (not only its rule's META one) is linted as
    //! the migrations it describes, cut at its `-- next migration` lines: it
    //! must pass every rule.

    use crate::lint::rules::testing::{check, findings_in_sequence};

    pub(crate) fn migrations(safe: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        for line in safe.lines() {
            if line.starts_with("-- next migration") && !out.last().is_some_and(|m| m.trim().is_empty()) {
                out.push(String::new());
            }
            if let Some(m) = out.last_mut() {
                m.push_str(&format!("{line}\n"));
            }
        }
        out
    }

    /// Every finding of `rule` on `migration` has a recipe that passes every
    /// rule. `require-lock-timeout` is left out unless `strict`: a finding's
    /// recipe is written for `stepwise migrate`, which sets its own timeout.
    pub(crate) fn recipes_pass(rule: &str, setup: &str, migration: &str, strict: bool) -> usize {
        let found = check(rule, setup, migration);
        assert!(!found.is_empty(), "{rule} flags nothing in {migration}");
        for f in &found {
            let steps = migrations(&f.safe);
            let mut seq = vec![setup];
            seq.extend(steps.iter().map(String::as_str));
            let flagged: Vec<_> = findings_in_sequence(&seq).into_iter().filter(|g| strict || g.rule != "require-lock-timeout").collect();
            assert!(flagged.is_empty(), "the recipe of {rule} is flagged:\n{}\n{flagged:#?}", f.safe);
        }
        found.len()
    }

    #[test]
    fn each_findings_recipe_passes_every_rule() {
        for r in super::all() {
            let m = r.meta();
            recipes_pass(m.id, m.setup, m.bad, true);
        }
        let setup = "CREATE TABLE customers (id bigint PRIMARY KEY);";
        for (rule, m) in [
            ("prefer-bigint-keys", "ALTER TABLE customers ADD COLUMN region_id integer;"),
            ("prefer-text", "ALTER TABLE customers ADD COLUMN email varchar(200);"),
            ("ban-char", "ALTER TABLE customers ADD COLUMN country char(2);"),
            ("prefer-timestamptz", "ALTER TABLE customers ADD COLUMN seen_at timestamp;"),
            ("prefer-jsonb", "ALTER TABLE customers ADD COLUMN prefs json;"),
            ("require-boolean-not-null", "ALTER TABLE customers ADD COLUMN vip boolean;"),
        ] {
            recipes_pass(rule, setup, m, false);
        }
    }

    #[test]
    fn recipes_are_cut_at_next_migration() {
        assert_eq!(migrations("A;\n-- next migration:\nB;\nC;"), ["A;\n", "-- next migration:\nB;\nC;\n"]);
    }
}

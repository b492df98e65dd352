//! What the column rules share: the columns an ALTER TABLE adds to an
//! existing table, what a default expression does, the session TimeZone a
//! migration sets, and the SQL pieces their recipes are built from.

use crate::pg::context::Cx;
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, constraint, ident, strings, word_offset};
use crate::pg::schema::ColType;
use pg_query::protobuf::{AlterTableType, ColumnDef, ConstrType, Constraint, Node, RangeVar, VariableSetKind};
use pg_query::NodeEnum;

/// The columns an `ALTER TABLE ... ADD COLUMN` statement adds to a table
/// that exists before this migration (tables new in it are nobody's yet).
pub fn added_columns<'a>(cx: &Cx<'a>) -> Vec<(&'a RangeVar, &'a ColumnDef)> {
    let node: &'a NodeEnum = cx.node;
    let Some(a) = alter_table(node) else { return vec![] };
    let Some(r) = &a.relation else { return vec![] };
    if !cx.existing(r) {
        return vec![];
    }
    alter_cmds(a)
        .filter(|(kind, _)| *kind == AlterTableType::AtAddColumn)
        .filter_map(|(_, cmd)| match cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
            Some(NodeEnum::ColumnDef(d)) => Some((r, d.as_ref())),
            _ => None,
        })
        .collect()
}

/// The constraint of kind `kind` among a column definition's constraints.
pub fn column_constraint(def: &ColumnDef, kind: ConstrType) -> Option<&Constraint> {
    def.constraints.iter().filter_map(constraint).find(|c| constr_type(c) == kind)
}

/// The column's DEFAULT expression, unless it is absent or `DEFAULT NULL`
/// (which stores nothing and rewrites nothing).
pub fn default_expr(def: &ColumnDef) -> Option<&Node> {
    let expr = column_constraint(def, ConstrType::ConstrDefault).and_then(|c| c.raw_expr.as_deref()).or(def.raw_default.as_deref())?;
    match &expr.node {
        Some(NodeEnum::AConst(c)) if c.isnull => None,
        Some(NodeEnum::TypeCast(t)) if matches!(t.arg.as_deref().and_then(|a| a.node.as_ref()), Some(NodeEnum::AConst(c)) if c.isnull) => {
            None
        }
        _ => Some(expr),
    }
}

/// Functions PostgreSQL marks IMMUTABLE or STABLE (checked against
/// `pg_proc.provolatile`): a default calling only these is evaluated once,
/// at ALTER time, and stored without rewriting the table (PostgreSQL 11+).
const NON_VOLATILE: &[&str] = &[
    "now",
    "statement_timestamp",
    "transaction_timestamp",
    "current_setting",
    "current_database",
    "lower",
    "upper",
    "initcap",
    "length",
    "btrim",
    "replace",
    "left",
    "right",
    "lpad",
    "rpad",
    "split_part",
    "substring",
    "regexp_replace",
    "concat",
    "format",
    "md5",
    "sha256",
    "encode",
    "decode",
    "abs",
    "round",
    "floor",
    "ceil",
    "make_date",
    "make_interval",
    "date_trunc",
    "to_char",
    "to_timestamp",
    "timezone",
    "age",
    "to_jsonb",
    "jsonb_build_object",
    "jsonb_build_array",
    "json_build_object",
    "jsonb_set",
    "array_fill",
    "txid_current",
    "pg_current_xact_id",
];

/// Functions PostgreSQL marks VOLATILE that defaults commonly call.
const VOLATILE: &[&str] = &[
    "clock_timestamp",
    "timeofday",
    "random",
    "random_normal",
    "gen_random_uuid",
    "gen_random_bytes",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "nextval",
    "currval",
    "lastval",
    "setval",
];

/// Why `expr` may be volatile (so that PostgreSQL must evaluate it for each
/// existing row and rewrite the table), or None when it is known not to be.
pub fn volatile_part(expr: &Node) -> Option<String> {
    let node = expr.node.as_ref()?;
    if let NodeEnum::FuncCall(f) = node {
        let names = strings(&f.funcname);
        let name = names.last().map(|n| n.to_lowercase()).unwrap_or_default();
        let builtin = names.len() == 1 || names.first().is_some_and(|s| s == "pg_catalog");
        // Extensions put uuid_generate_v4() and friends in any schema.
        if VOLATILE.contains(&name.as_str()) {
            return Some(format!("`{name}()` is VOLATILE"));
        }
        if !(builtin && NON_VOLATILE.contains(&name.as_str())) {
            return Some(format!("`{}()` is not known to be IMMUTABLE or STABLE", names.join(".")));
        }
    }
    match children(node) {
        Some(kids) => kids.into_iter().find_map(volatile_part),
        None => Some("stepwise cannot tell whether this expression is volatile".into()),
    }
}

/// The sub-expressions of an expression node, or None for a kind of node
/// these rules do not look into.
fn children(node: &NodeEnum) -> Option<Vec<&Node>> {
    fn one(n: &Option<Box<Node>>) -> Vec<&Node> {
        n.as_deref().into_iter().collect()
    }
    Some(match node {
        NodeEnum::AConst(_) | NodeEnum::SqlvalueFunction(_) | NodeEnum::ColumnRef(_) | NodeEnum::ParamRef(_) => vec![],
        NodeEnum::FuncCall(f) => f.args.iter().collect(),
        NodeEnum::TypeCast(t) => one(&t.arg),
        NodeEnum::AExpr(e) => one(&e.lexpr).into_iter().chain(one(&e.rexpr)).collect(),
        NodeEnum::BoolExpr(b) => b.args.iter().collect(),
        NodeEnum::CoalesceExpr(c) => c.args.iter().collect(),
        NodeEnum::MinMaxExpr(m) => m.args.iter().collect(),
        NodeEnum::NullTest(t) => one(&t.arg),
        NodeEnum::BooleanTest(t) => one(&t.arg),
        NodeEnum::CaseExpr(c) => one(&c.arg).into_iter().chain(c.args.iter()).chain(one(&c.defresult)).collect(),
        NodeEnum::CaseWhen(w) => one(&w.expr).into_iter().chain(one(&w.result)).collect(),
        NodeEnum::AArrayExpr(a) => a.elements.iter().collect(),
        NodeEnum::RowExpr(r) => r.args.iter().collect(),
        NodeEnum::CollateClause(c) => one(&c.arg),
        NodeEnum::AIndirection(i) => one(&i.arg),
        NodeEnum::NamedArgExpr(n) => one(&n.arg),
        NodeEnum::List(l) => l.items.iter().collect(),
        _ => return None,
    })
}

/// The same walk, mutable: `f` sees every node of the expression.
fn walk_mut(n: &mut Node, f: &mut dyn FnMut(&mut NodeEnum)) {
    fn boxed(b: &mut Option<Box<Node>>, f: &mut dyn FnMut(&mut NodeEnum)) {
        if let Some(b) = b.as_deref_mut() {
            walk_mut(b, f);
        }
    }
    fn all(v: &mut [Node], f: &mut dyn FnMut(&mut NodeEnum)) {
        v.iter_mut().for_each(|n| walk_mut(n, f));
    }
    let Some(node) = n.node.as_mut() else { return };
    f(node);
    match node {
        NodeEnum::FuncCall(x) => all(&mut x.args, f),
        NodeEnum::TypeCast(x) => boxed(&mut x.arg, f),
        NodeEnum::AExpr(x) => {
            boxed(&mut x.lexpr, f);
            boxed(&mut x.rexpr, f);
        }
        NodeEnum::BoolExpr(x) => all(&mut x.args, f),
        NodeEnum::CoalesceExpr(x) => all(&mut x.args, f),
        NodeEnum::MinMaxExpr(x) => all(&mut x.args, f),
        NodeEnum::NullTest(x) => boxed(&mut x.arg, f),
        NodeEnum::BooleanTest(x) => boxed(&mut x.arg, f),
        NodeEnum::CaseExpr(x) => {
            boxed(&mut x.arg, f);
            all(&mut x.args, f);
            boxed(&mut x.defresult, f);
        }
        NodeEnum::CaseWhen(x) => {
            boxed(&mut x.expr, f);
            boxed(&mut x.result, f);
        }
        NodeEnum::AArrayExpr(x) => all(&mut x.elements, f),
        NodeEnum::RowExpr(x) => all(&mut x.args, f),
        NodeEnum::CollateClause(x) => boxed(&mut x.arg, f),
        NodeEnum::AIndirection(x) => boxed(&mut x.arg, f),
        NodeEnum::NamedArgExpr(x) => boxed(&mut x.arg, f),
        NodeEnum::List(x) => all(&mut x.items, f),
        _ => {}
    }
}

/// SQL text of an expression (pg_query's deparser), or None.
pub fn expr_sql(expr: &Node) -> Option<String> {
    use pg_query::protobuf::{LimitOption, ResTarget, SelectStmt, SetOperation};
    let target = Node { node: Some(NodeEnum::ResTarget(Box::new(ResTarget { val: Some(Box::new(expr.clone())), ..Default::default() }))) };
    let select = SelectStmt {
        target_list: vec![target],
        op: SetOperation::SetopNone as i32,
        limit_option: LimitOption::Default as i32,
        ..Default::default()
    };
    let text = NodeEnum::SelectStmt(Box::new(select)).deparse(pg_query::DeparseOptions::default()).ok()?;
    text.strip_prefix("SELECT ").map(str::to_string)
}

/// The expression with its column references read from the trigger's `NEW`
/// row (`a + b` -> `new.a + new.b`), as SQL; None when it cannot be built.
pub fn expr_sql_on_new(expr: &Node) -> Option<String> {
    if !expr.node.as_ref().is_some_and(kinds_known) {
        return None;
    }
    let mut e = expr.clone();
    walk_mut(&mut e, &mut |n| {
        if let NodeEnum::ColumnRef(c) = n {
            if c.fields.len() == 1 {
                c.fields.insert(0, Node { node: Some(NodeEnum::String(pg_query::protobuf::String { sval: "new".into() })) });
            }
        }
    });
    expr_sql(&e)
}

/// Whether every node of the expression is of a kind the walks look into.
fn kinds_known(node: &NodeEnum) -> bool {
    match children(node) {
        Some(kids) => kids.into_iter().all(|k| k.node.as_ref().is_none_or(kinds_known)),
        None => false,
    }
}

/// What the migration set `TimeZone` to before this statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionTz {
    /// Not set in this migration: whatever the server or role says.
    Unknown,
    /// A zone with a fixed offset of zero (UTC, Etc/UTC, GMT, ...).
    Utc,
    Other(String),
}

/// Zone names with a fixed zero offset: PostgreSQL 12+ changes a column
/// between timestamp and timestamptz without a rewrite only under these.
const UTC_ZONES: &[&str] = &[
    "utc",
    "etc/utc",
    "uct",
    "etc/uct",
    "gmt",
    "etc/gmt",
    "gmt0",
    "etc/gmt0",
    "gmt+0",
    "etc/gmt+0",
    "gmt-0",
    "etc/gmt-0",
    "greenwich",
    "etc/greenwich",
    "universal",
    "etc/universal",
    "zulu",
    "etc/zulu",
];

/// The session TimeZone as the earlier statements of this migration leave it
/// (`SET TimeZone = 'UTC'`, `SET TIME ZONE 'UTC'`, `SET LOCAL ...` when the
/// migration runs in a transaction).
pub fn session_timezone(cx: &Cx) -> SessionTz {
    let mut tz = SessionTz::Unknown;
    for node in cx.earlier {
        let NodeEnum::VariableSetStmt(v) = node else { continue };
        if v.kind == VariableSetKind::VarResetAll as i32 {
            tz = SessionTz::Unknown;
            continue;
        }
        if !v.name.eq_ignore_ascii_case("timezone") || (v.is_local && !cx.in_transaction) {
            continue;
        }
        let value = match v.args.first().and_then(|a| a.node.as_ref()) {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(pg_query::protobuf::a_const::Val::Sval(s)) => Some(s.sval.clone()),
                Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(i.ival.to_string()),
                _ => None,
            },
            _ => None,
        };
        tz = match value {
            Some(z) if v.kind == VariableSetKind::VarSetValue as i32 => {
                if UTC_ZONES.contains(&z.to_lowercase().as_str()) || z == "0" {
                    SessionTz::Utc
                } else {
                    SessionTz::Other(z)
                }
            }
            _ => SessionTz::Unknown,
        };
    }
    tz
}

/// A type as SQL for a recipe (`int8` -> `bigint`).
pub fn type_sql(t: &ColType) -> String {
    let base = match t.base.as_str() {
        "int8" => "bigint",
        "int4" => "integer",
        "int2" => "smallint",
        "float8" => "double precision",
        "float4" => "real",
        "bool" => "boolean",
        "bpchar" => "char",
        other => other,
    };
    let mut s = base.to_string();
    // An interval's modifiers encode its fields too: leave them out.
    if !t.mods.is_empty() && base != "interval" {
        s.push_str(&format!("({})", t.mods.iter().map(i64::to_string).collect::<Vec<_>>().join(",")));
    }
    if t.array {
        s.push_str("[]");
    }
    s
}

/// A PostgreSQL identifier built from parts, cut to 63 bytes like the server does.
pub fn name_of(parts: &[&str]) -> String {
    let mut s = parts.join("_");
    let mut n = s.len().min(63);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    s.truncate(n);
    s
}

/// `CREATE TRIGGER` for a BEFORE INSERT OR UPDATE row trigger, in the form
/// the target version accepts (OR REPLACE from 14, EXECUTE FUNCTION from 11).
pub fn before_row_trigger(pg_version: u32, name: &str, table: &str, function: &str) -> String {
    let exec = if pg_version >= 11 { "FUNCTION" } else { "PROCEDURE" };
    let create = if pg_version >= 14 {
        "CREATE OR REPLACE TRIGGER".to_string()
    } else {
        format!("DROP TRIGGER IF EXISTS {} ON {table};\nCREATE TRIGGER", ident(name))
    };
    format!("{create} {} BEFORE INSERT OR UPDATE ON {table}\n    FOR EACH ROW EXECUTE {exec} {}();", ident(name), ident(function))
}

/// A plpgsql trigger function whose body is `body` (statements, indented).
pub fn trigger_function(name: &str, body: &str) -> String {
    format!("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}  RETURN NEW;\nEND\n$$;", ident(name))
}

/// The backfill step of a recipe: a command run outside the migration.
pub fn backfill(table: &str, set: &str, extra: &str) -> String {
    format!("-- Fill the existing rows in small batches, outside the migration:\n--   stepwise backfill {table} --set \"{set}\"{extra}")
}

/// A table's name for recipes: `orders` or `app.orders`, quoted where needed.
pub fn table_sql(r: &RangeVar) -> String {
    if r.schemaname.is_empty() || r.schemaname == "public" {
        ident(&r.relname)
    } else {
        format!("{}.{}", ident(&r.schemaname), ident(&r.relname))
    }
}

/// The three migrations that add NOT NULL to a column of a large table
/// without a long ACCESS EXCLUSIVE scan (PostgreSQL 12+ proves the NOT NULL
/// from the validated CHECK), or, before 12, the CHECK that stands in for it.
pub fn not_null_recipe(pg_version: u32, table: &RangeVar, column: &str) -> String {
    let t = table_sql(table);
    let c = ident(column);
    let check = ident(&name_of(&[&table.relname, column, "not_null"]));
    let mut s = format!(
        "ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;\n\
         -- next migration (scans under SHARE UPDATE EXCLUSIVE: reads and writes go on):\n\
         ALTER TABLE {t} VALIDATE CONSTRAINT {check};"
    );
    if pg_version >= 12 {
        s.push_str(&format!(
            "\n-- next migration (the valid CHECK proves it: no scan):\n\
             ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n\
             ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check};"
        ));
    } else {
        s.push_str(
            "\n-- PostgreSQL before 12 scans for SET NOT NULL even then: keep the CHECK as the guarantee\n\
             -- (it refuses NULLs the same way), and SET NOT NULL after upgrading.",
        );
    }
    s
}

/// Where a column's sub-command stands in the statement (`ADD COLUMN x`,
/// `ALTER x`, `DROP COLUMN IF EXISTS x`), for the finding's caret: a long
/// ALTER TABLE then points at the right line. 0 (the statement) if not found.
pub fn column_offset(sql: &str, verb: &str, column: &str) -> i32 {
    let forms: [&[&str]; 4] = [
        &[verb, "COLUMN", column],
        &[verb, "COLUMN", "IF", "EXISTS", column],
        &[verb, "COLUMN", "IF", "NOT", "EXISTS", column],
        &[verb, column],
    ];
    let at = forms.iter().map(|w| word_offset(sql, w, 0)).find(|&o| o > 0).unwrap_or(0);
    i32::try_from(at).unwrap_or(0)
}

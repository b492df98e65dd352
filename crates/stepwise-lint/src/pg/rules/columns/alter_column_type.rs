//! `alter-column-type`: `ALTER COLUMN ... TYPE` that rewrites an existing table.
//!
//! Changing a column's type normally makes PostgreSQL rewrite the whole
//! table and rebuild all its indexes under an ACCESS EXCLUSIVE lock: no
//! reads, no writes until it ends, minutes to hours on a large table. It
//! skips the rewrite only when the stored values stay valid as they are
//! (checked against PostgreSQL 15): `varchar(n)` to a larger `n`, to
//! `varchar` or to `text`; `text` to `varchar`; `numeric(p,s)` to a larger
//! `p` with the same `s`, or to `numeric`; `varbit(n)` likewise; a higher (or
//! no) precision for `timestamp`, `timestamptz`, `time`, `timetz`; no
//! precision for `interval`; `cidr` to `inet`; and from PostgreSQL 12
//! `timestamp` to `timestamptz` and back when the session TimeZone is UTC
//! (that one has its own rule, `alter-column-type-timezone`). A `USING`
//! expression other than the column itself always rewrites. `int` to
//! `bigint` rewrites.
//!
//! Whether a change rewrites depends on the column's current type, which
//! comes from the schema model; when it is unknown the change is flagged.
//! The safe way is `stepwise osc` (copy the table online and swap it in), or
//! a new column kept in sync by a trigger, backfilled, then swapped in.

use super::shared::{
    backfill, before_row_trigger, column_offset, expr_sql, expr_sql_on_new, name_of, session_timezone, table_sql, trigger_function,
    type_sql, SessionTz,
};
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, ident, strings};
use crate::pg::schema::{col_type, ColType};
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableType, Node, RangeVar};
use pg_query::NodeEnum;

pub struct AlterColumnType;
pub static RULE: AlterColumnType = AlterColumnType;

static META: RuleMeta = RuleMeta {
    id: "alter-column-type",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "ALTER COLUMN TYPE that rewrites the table (judged from the column's current type)",
    setup: "CREATE TABLE orders (id bigint PRIMARY KEY, quantity integer);",
    bad: "ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;",
    safe: &[
        "SET LOCAL lock_timeout = '2s';\n\
         ALTER TABLE orders ADD COLUMN IF NOT EXISTS quantity_new bigint;\n\
         CREATE OR REPLACE FUNCTION orders_quantity_new_sync() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN\n  NEW.quantity_new := NEW.quantity;\n  RETURN NEW;\nEND\n$$;\n\
         CREATE OR REPLACE TRIGGER orders_quantity_new_sync BEFORE INSERT OR UPDATE ON orders\n    \
         FOR EACH ROW EXECUTE FUNCTION orders_quantity_new_sync();\n\
         -- Then fill the existing rows in small batches, outside the migration:\n\
         --   stepwise backfill orders --set \"quantity_new = quantity\"",
        "-- The swap, in one transaction: running code keeps reading and writing `quantity`.\n\
         SET LOCAL lock_timeout = '2s';\n\
         -- stepwise:ignore rename-column the next statement gives the name back in the same transaction\n\
         ALTER TABLE orders RENAME COLUMN quantity TO quantity_old;\n\
         ALTER TABLE orders RENAME COLUMN quantity_new TO quantity;\n\
         DROP TRIGGER IF EXISTS orders_quantity_new_sync ON orders;\n\
         DROP FUNCTION IF EXISTS orders_quantity_new_sync();",
        "-- stepwise:phase post-deploy\n\
         SET LOCAL lock_timeout = '2s';\n\
         ALTER TABLE orders DROP COLUMN IF EXISTS quantity_old;",
    ],
};

/// What a type change does to the stored rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// The values stay valid as stored: no rewrite (indexes are kept too).
    NoRewrite,
    /// Between timestamp and timestamptz: no rewrite on PostgreSQL 12+ when
    /// the session TimeZone is UTC, a rewrite otherwise.
    TimeZone,
    Rewrite,
}

/// Whether changing a column from `old` to `new` rewrites the table
/// (verified against PostgreSQL 15 by comparing `relfilenode`s).
pub(crate) fn classify(old: &ColType, new: &ColType) -> Change {
    use Change::*;
    if old == new {
        return NoRewrite;
    }
    // Array types rewrite even between varchar[] and text[].
    if old.array || new.array {
        return Rewrite;
    }
    let first = |t: &ColType| t.mods.first().copied();
    // varchar(n) and varbit(n): a length limit that may only grow or go.
    let length_grows = || match (first(old), first(new)) {
        (_, None) => NoRewrite,
        (Some(o), Some(n)) if n >= o => NoRewrite,
        _ => Rewrite,
    };
    // Fractional-second precision: none means 6, the most there is.
    let precision_grows = || first(new).unwrap_or(6) >= first(old).unwrap_or(6);
    let is_timestamp = |b: &str| matches!(b, "timestamp" | "timestamptz");
    match (old.base.as_str(), new.base.as_str()) {
        ("varchar", "varchar") | ("varbit", "varbit") => length_grows(),
        ("varchar", "text") | ("cidr", "inet") => NoRewrite,
        ("text", "varchar") if new.mods.is_empty() => NoRewrite,
        ("numeric", "numeric") => match (old.mods.as_slice(), new.mods.as_slice()) {
            (_, []) => NoRewrite,
            ([p, rest @ ..], [p2, rest2 @ ..]) if rest.first().unwrap_or(&0) == rest2.first().unwrap_or(&0) && p2 >= p => NoRewrite,
            _ => Rewrite,
        },
        (o, n) if o == n && matches!(o, "timestamp" | "timestamptz" | "time" | "timetz") => {
            if precision_grows() {
                NoRewrite
            } else {
                Rewrite
            }
        }
        ("interval", "interval") if new.mods.is_empty() => NoRewrite,
        (o, n) if is_timestamp(o) && is_timestamp(n) => {
            if precision_grows() {
                TimeZone
            } else {
                Rewrite
            }
        }
        _ => Rewrite,
    }
}

/// Whether a USING expression is the column itself (maybe cast to the new
/// type), which PostgreSQL treats like no USING at all.
pub(crate) fn plain_using(using: &Node, column: &str, new: &ColType) -> bool {
    let is_column = |n: &Node| matches!(&n.node, Some(NodeEnum::ColumnRef(c)) if strings(&c.fields) == [column]);
    match &using.node {
        Some(NodeEnum::TypeCast(t)) => t.arg.as_deref().is_some_and(is_column) && t.type_name.as_ref().is_some_and(|n| col_type(n) == *new),
        _ => is_column(using),
    }
}

/// The online recipes for a change that rewrites: osc, or a new column kept
/// in sync by a trigger, backfilled, and swapped in.
fn recipe(cx: &Cx, r: &RangeVar, column: &str, new: &str, using: Option<&Node>) -> String {
    let t = table_sql(r);
    let col = ident(column);
    let tmp = name_of(&[column, "new"]);
    let tmp_sql = ident(&tmp);
    let sync = name_of(&[&r.relname, &tmp, "sync"]);
    let conv_new = using.and_then(expr_sql_on_new).unwrap_or_else(|| format!("new.{col}::{new}"));
    let conv = using.and_then(expr_sql).unwrap_or_else(|| format!("{col}::{new}"));
    let using_clause = using.and_then(expr_sql).map(|u| format!(" USING {u}")).unwrap_or_default();
    format!(
        "-- Option 1: copy the table online and swap it in, from the migration itself:\n\
         --   -- stepwise:online\n\
         --   ALTER TABLE {t} ALTER COLUMN {col} TYPE {new}{using};\n\
         -- or by hand: stepwise osc {t} --alter \"ALTER COLUMN {col} TYPE {new}{using}\"\n\
         -- Option 2 (not for a primary key or a column foreign keys reference: use option 1):\n\
         -- a new column kept in sync by a trigger, backfilled, then swapped in.\n\
         ALTER TABLE {t} ADD COLUMN {tmp_sql} {new};\n\
         {function}\n\
         {trigger}\n\
         {backfill}\n\
         -- next migration, in one transaction (first give {tmp_sql} the default, NOT NULL, indexes and\n\
         -- constraints {col} has, each the safe way: indexes CONCURRENTLY, NOT NULL through a CHECK):\n\
         -- stepwise:ignore rename-column the next statement gives the name back in the same transaction\n\
         ALTER TABLE {t} RENAME COLUMN {col} TO {old};\n\
         ALTER TABLE {t} RENAME COLUMN {tmp_sql} TO {col};\n\
         DROP TRIGGER IF EXISTS {sync_sql} ON {t};\n\
         DROP FUNCTION IF EXISTS {sync_sql}();\n\
         -- next migration, after the deploy:\n\
         -- stepwise:phase post-deploy\n\
         ALTER TABLE {t} DROP COLUMN IF EXISTS {old};",
        using = using_clause.replace('"', "\\\""),
        function = trigger_function(&sync, &format!("  NEW.{tmp_sql} := {conv_new};\n")),
        trigger = before_row_trigger(cx.pg_version, &sync, &t, &sync),
        backfill = backfill(&t, &format!("{tmp_sql} = {}", conv.replace('"', "\\\"")), ""),
        old = ident(&name_of(&[column, "old"])),
        sync_sql = ident(&sync),
    )
}

impl Rule for AlterColumnType {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Some(a) = alter_table(cx.node) else { return };
        let Some(r) = &a.relation else { return };
        if !cx.existing(r) {
            return;
        }
        let table = Cx::name(r);
        for (kind, cmd) in alter_cmds(a) {
            if kind != AlterTableType::AtAlterColumnType {
                continue;
            }
            let Some(NodeEnum::ColumnDef(def)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
            let Some(new) = def.type_name.as_ref().map(col_type) else { continue };
            let using = def.raw_default.as_deref().filter(|u| !plain_using(u, &cmd.name, &new));
            let old = cx.table(r).and_then(|t| t.column(&cmd.name)).and_then(|c| c.ty.clone());
            let new_sql = type_sql(&new);
            let lock = format!(
                "PostgreSQL rewrites `{table}` and rebuilds all its indexes under an ACCESS EXCLUSIVE lock, \
                 which blocks every read and write of the table until the rewrite ends (minutes to hours on a large table)."
            );
            let (message, why) = match (&old, using) {
                (None, _) => {
                    let unknown = if cx.table(r).is_some() {
                        format!("`{table}` is in the schema model but its column `{}` is not", cmd.name)
                    } else {
                        format!("`{table}` is not in the schema model: lint the migrations that create it too, or use --database")
                    };
                    (
                        format!("changing `{table}.{}` to {new_sql}: its current type is unknown, so a rewrite cannot be ruled out", cmd.name),
                        format!(
                            "stepwise cannot tell whether this change rewrites the table ({unknown}). Unless it is one of the changes \
                             PostgreSQL makes in place (varchar(n) to a larger n or to text, numeric to a higher precision with the same scale, \
                             cidr to inet, ...), {lock}"
                        ),
                    )
                }
                (Some(old), Some(_)) => (
                    format!("changing `{table}.{}` from {} to {new_sql} with USING rewrites `{table}`", cmd.name, type_sql(old)),
                    format!("The USING expression is computed for every row: {lock}"),
                ),
                (Some(old), None) => {
                    let because = match classify(old, &new) {
                        Change::NoRewrite => continue,
                        Change::TimeZone if cx.pg_version < 12 => {
                            format!(
                                "Before PostgreSQL 12 (target: {}) a change between timestamp and timestamptz always rewrites: ",
                                cx.pg_version
                            )
                        }
                        Change::TimeZone => match session_timezone(cx) {
                            // UTC: in place; unknown: `alter-column-type-timezone` warns.
                            SessionTz::Utc | SessionTz::Unknown => continue,
                            SessionTz::Other(z) => {
                                format!("The migration sets TimeZone to '{z}', so the stored values change with the type: ")
                            }
                        },
                        Change::Rewrite => format!("The stored {} values are not valid {new_sql} values as they are: ", type_sql(old)),
                    };
                    (
                        format!("changing `{table}.{}` from {} to {new_sql} rewrites `{table}`", cmd.name, type_sql(old)),
                        format!("{because}{lock}"),
                    )
                }
            };
            hits.push(
                Hit::new(message, why, recipe(cx, r, &cmd.name, &new_sql, using))
                    .at(column_offset(cx.sql(), "ALTER", &cmd.name))
                    .on_table(&table),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{classify, Change};
    use crate::pg::rules::testing::{check, check_with};
    use crate::pg::schema::ColType;
    use crate::pg::LintOptions;

    const ID: &str = "alter-column-type";
    const SETUP: &str = "CREATE TABLE t (id bigint PRIMARY KEY, qty integer, code varchar(20), name text, price numeric(10,2), \
                         net cidr, at timestamp, at3 timestamp(3), tags varchar(10)[], flags varbit(8), span interval(3));";

    fn ty(base: &str, mods: &[i64]) -> ColType {
        ColType { base: base.into(), mods: mods.to_vec(), array: false }
    }

    #[test]
    fn classify_knows_the_in_place_changes() {
        use Change::*;
        let cases = [
            (ty("varchar", &[10]), ty("varchar", &[20]), NoRewrite),
            (ty("varchar", &[20]), ty("varchar", &[10]), Rewrite),
            (ty("varchar", &[10]), ty("varchar", &[]), NoRewrite),
            (ty("varchar", &[]), ty("varchar", &[30]), Rewrite),
            (ty("varchar", &[10]), ty("text", &[]), NoRewrite),
            (ty("text", &[]), ty("varchar", &[]), NoRewrite),
            (ty("text", &[]), ty("varchar", &[50]), Rewrite),
            (ty("numeric", &[10, 2]), ty("numeric", &[12, 2]), NoRewrite),
            (ty("numeric", &[12, 2]), ty("numeric", &[12, 3]), Rewrite),
            (ty("numeric", &[10]), ty("numeric", &[12, 0]), NoRewrite),
            (ty("numeric", &[10, 2]), ty("numeric", &[]), NoRewrite),
            (ty("numeric", &[]), ty("numeric", &[10, 2]), Rewrite),
            (ty("varbit", &[5]), ty("varbit", &[10]), NoRewrite),
            (ty("timestamp", &[3]), ty("timestamp", &[6]), NoRewrite),
            (ty("timestamp", &[]), ty("timestamp", &[3]), Rewrite),
            (ty("time", &[2]), ty("time", &[]), NoRewrite),
            (ty("interval", &[32767, 3]), ty("interval", &[]), NoRewrite),
            (ty("cidr", &[]), ty("inet", &[]), NoRewrite),
            (ty("timestamp", &[]), ty("timestamptz", &[]), TimeZone),
            (ty("timestamptz", &[3]), ty("timestamp", &[]), TimeZone),
            (ty("timestamptz", &[]), ty("timestamp", &[3]), Rewrite),
            (ty("int4", &[]), ty("int8", &[]), Rewrite),
            (ty("bpchar", &[5]), ty("bpchar", &[10]), Rewrite),
            (ty("bpchar", &[5]), ty("text", &[]), Rewrite),
            (ty("json", &[]), ty("jsonb", &[]), Rewrite),
            (ty("date", &[]), ty("timestamp", &[]), Rewrite),
        ];
        for (old, new, want) in cases {
            assert_eq!(classify(&old, &new), want, "{} -> {}", old.display(), new.display());
        }
        let arr = |m: &[i64]| ColType { array: true, ..ty("varchar", m) };
        assert_eq!(classify(&arr(&[10]), &arr(&[20])), Rewrite);
        assert_eq!(classify(&arr(&[10]), &arr(&[10])), NoRewrite);
    }

    #[test]
    fn flags_a_rewriting_change() {
        let f = check(ID, SETUP, "ALTER TABLE t ALTER COLUMN qty TYPE bigint;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].message, "changing `t.qty` from integer to bigint rewrites `t`");
        assert!(f[0].why.contains("ACCESS EXCLUSIVE"), "{}", f[0].why);
        let safe = &f[0].safe;
        for s in [
            "stepwise osc t --alter \"ALTER COLUMN qty TYPE bigint\"",
            "--   -- stepwise:online\n--   ALTER TABLE t ALTER COLUMN qty TYPE bigint;",
            "ALTER TABLE t ADD COLUMN qty_new bigint;",
            "NEW.qty_new := new.qty::bigint;",
            "CREATE OR REPLACE TRIGGER t_qty_new_sync BEFORE INSERT OR UPDATE ON t",
            "stepwise backfill t --set \"qty_new = qty::bigint\"",
            "ALTER TABLE t RENAME COLUMN qty TO qty_old;\nALTER TABLE t RENAME COLUMN qty_new TO qty;",
            "ALTER TABLE t DROP COLUMN IF EXISTS qty_old;",
        ] {
            assert!(safe.contains(s), "missing {s:?} in\n{safe}");
        }
        for m in [
            "ALTER TABLE t ALTER COLUMN code TYPE varchar(10);",
            "ALTER TABLE t ALTER COLUMN name TYPE varchar(50);",
            "ALTER TABLE t ALTER COLUMN price TYPE numeric(12,3);",
            "ALTER TABLE t ALTER COLUMN tags TYPE text[];",
            "ALTER TABLE t ALTER COLUMN at3 TYPE timestamp(0);",
        ] {
            assert_eq!(check(ID, SETUP, m).len(), 1, "{m}");
        }
    }

    #[test]
    fn in_place_changes_pass() {
        for m in [
            "ALTER TABLE t ALTER COLUMN code TYPE varchar(40);",
            "ALTER TABLE t ALTER COLUMN code TYPE text;",
            "ALTER TABLE t ALTER COLUMN name TYPE varchar;",
            "ALTER TABLE t ALTER COLUMN price TYPE numeric(14,2);",
            "ALTER TABLE t ALTER COLUMN price TYPE numeric;",
            "ALTER TABLE t ALTER COLUMN net TYPE inet;",
            "ALTER TABLE t ALTER COLUMN at3 TYPE timestamp;",
            "ALTER TABLE t ALTER COLUMN flags TYPE bit varying(16);",
            "ALTER TABLE t ALTER COLUMN span TYPE interval;",
            "ALTER TABLE t ALTER COLUMN code TYPE text USING code::text;",
            "ALTER TABLE t ALTER COLUMN code TYPE character varying(30) USING code;",
            "CREATE TABLE u (id int);\nALTER TABLE u ALTER COLUMN id TYPE bigint;",
        ] {
            assert!(check(ID, SETUP, m).is_empty(), "{m}");
        }
    }

    #[test]
    fn using_an_expression_rewrites() {
        let f = check(ID, SETUP, "ALTER TABLE t ALTER COLUMN code TYPE text USING lower(code);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("with USING"), "{}", f[0].message);
        assert!(f[0].safe.contains("NEW.code_new := lower(new.code);"), "{}", f[0].safe);
        assert!(f[0].safe.contains("--set \"code_new = lower(code)\""), "{}", f[0].safe);
        assert!(f[0].safe.contains("--alter \"ALTER COLUMN code TYPE text USING lower(code)\""), "{}", f[0].safe);
    }

    #[test]
    fn an_unknown_current_type_is_flagged_and_said() {
        let f = check(ID, "", "ALTER TABLE legacy ALTER COLUMN code TYPE text;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("current type is unknown"), "{}", f[0].message);
        assert!(f[0].why.contains("`legacy` is not in the schema model"), "{}", f[0].why);
    }

    #[test]
    fn timestamp_to_timestamptz_depends_on_version_and_timezone() {
        let m = "ALTER TABLE t ALTER COLUMN at TYPE timestamptz;";
        assert!(check(ID, SETUP, m).is_empty(), "left to alter-column-type-timezone");
        let opts = LintOptions { pg_version: 11, ..Default::default() };
        let f = check_with(ID, SETUP, m, &opts);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].why.contains("Before PostgreSQL 12"), "{}", f[0].why);
        let berlin = check(ID, SETUP, &format!("SET LOCAL TimeZone = 'Europe/Berlin';\n{m}"));
        assert_eq!(berlin.len(), 1, "{berlin:?}");
        assert!(berlin[0].why.contains("'Europe/Berlin'"), "{}", berlin[0].why);
        assert!(check(ID, SETUP, &format!("SET TIME ZONE 'UTC';\n{m}")).is_empty());
    }

    #[test]
    fn the_recipe_fits_the_version() {
        let opts = LintOptions { pg_version: 13, ..Default::default() };
        let f = check_with(ID, SETUP, "ALTER TABLE t ALTER COLUMN qty TYPE bigint;", &opts);
        assert!(f[0].safe.contains("DROP TRIGGER IF EXISTS t_qty_new_sync ON t;\nCREATE TRIGGER t_qty_new_sync"), "{}", f[0].safe);
    }
}

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

use crate::pg::context::Cx;
use crate::pg::edit::{type_span, Edits};
use crate::pg::new_columns::NewColumn;
use crate::pg::rule::{Hit, Rule};
use crate::pg::rules::helpers::{constr_type, constraint, ident, strings};
use pg_query::protobuf::{ConstrType, TypeName};

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

/// The walk every type rule shares: for each column the statement creates
/// that `judge` objects to (returning its message and why), a finding at the
/// column's name whose safe way is the statement with all type advice applied.
pub(super) fn flag_columns(cx: &Cx, hits: &mut Vec<Hit>, judge: impl Fn(&NewColumn) -> Option<(String, String)>) {
    let mut safe = None;
    for col in cx.typed_columns() {
        let Some((message, why)) = judge(col) else { continue };
        let safe = safe.get_or_insert_with(|| recipe(cx, false)).clone();
        hits.push(Hit::new(message, why, safe).at(cx.offset(col.def.location)));
    }
}

/// A key column: primary or foreign key, or named `id` or `*_id`.
pub(super) fn key_like(col: &NewColumn) -> bool {
    let name = col.name;
    col.primary_key || col.foreign_key || name == "id" || name.ends_with("_id")
}

/// `integer`/`smallint` key columns: the bigint type to use instead
/// (`bigint`, or `bigserial` for a serial).
pub(super) fn bigint_instead(col: &NewColumn) -> Option<&'static str> {
    if col.ty.array || !key_like(col) || !matches!(col.ty.base.as_str(), "int4" | "int2") {
        return None;
    }
    let serial =
        col.def.type_name.as_ref().is_some_and(|t| matches!(raw_type_name(t).as_str(), "serial" | "serial4" | "smallserial" | "serial2"));
    Some(if serial { "bigserial" } else { "bigint" })
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

/// `varchar(n)[]` and `char(n)[]` columns: their elements' length limit
/// (a CHECK on each element's length has no simple form: the advice is text[]).
pub(super) fn array_length_limit(col: &NewColumn) -> Option<i64> {
    if !col.ty.array {
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
    !col.retyped && col.ty.base == "bool" && !col.ty.array && !col.not_null() && col.def.generated.is_empty()
}

/// The recipe of every type finding: the statement with the advice of all
/// the default type rules applied to every column it creates (and, for
/// `require-boolean-not-null`, NOT NULL DEFAULT false on nullable booleans),
/// so that following one finding does not trip another. Length checks are
/// inline on a new table; on an existing one they are added NOT VALID and
/// validated in the next migration (a scan under SHARE UPDATE EXCLUSIVE).
pub(super) fn recipe(cx: &Cx, boolean_not_null: bool) -> String {
    let sql = cx.sql();
    let mut edits = Edits::default();
    let mut later: Vec<(String, String, String)> = Vec::new();
    for col in cx.typed_columns() {
        let Some(t) = col.def.type_name.as_ref().filter(|t| t.location >= 0) else { continue };
        let span = type_span(sql, cx.offset(t.location) as usize);
        if let Some(better) = bigint_instead(col) {
            edits.replace(span, better);
        } else if let Some(limit) = length_limit(col) {
            let name = constraint_name(&col.table.relname, col.name, "length");
            let expr = format!("length({}) <= {limit}", ident(col.name));
            edits.replace(span.clone(), "text");
            if col.in_create || !cx.existing(col.table) {
                edits.insert(span.end, format!(" CONSTRAINT {name} CHECK ({expr})"));
            } else {
                later.push((Cx::name(col.table), name, expr));
            }
        } else if array_length_limit(col).is_some() {
            // The brackets stay: `varchar(20)[]` becomes `text[]`.
            edits.replace(span, "text");
        } else if col.ty.base == "timestamp" {
            let mods: Vec<String> = col.ty.mods.iter().map(i64::to_string).collect();
            let precision = if mods.is_empty() { String::new() } else { format!("({})", mods.join(", ")) };
            edits.replace(span, format!("timestamptz{precision}"));
        } else if col.ty.base == "json" {
            edits.replace(span, "jsonb");
        } else if boolean_not_null && nullable_boolean(col) {
            // An explicit `NULL` would contradict the NOT NULL added here.
            for k in col.def.constraints.iter().filter_map(constraint).filter(|k| constr_type(k) == ConstrType::ConstrNull) {
                let at = cx.offset(k.location) as usize;
                edits.replace(at..at + "NULL".len(), "");
            }
            edits.insert(span.end, if col.has_default() { " NOT NULL" } else { " NOT NULL DEFAULT false" });
        }
    }
    let mut out = edits.apply(sql).trim_end().to_string();
    out.push(';');
    for (table, name, expr) in &later {
        out.push_str(&format!("\nALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({expr}) NOT VALID;"));
    }
    if !later.is_empty() {
        out.push_str("\n-- next migration (the validating scan holds only a SHARE UPDATE EXCLUSIVE lock):");
        for (table, name, _) in &later {
            out.push_str(&format!("\nALTER TABLE {table} VALIDATE CONSTRAINT {name};"));
        }
    }
    out
}

/// The type's own name as written, without `pg_catalog.` (`bpchar`, `serial`, `char`).
pub(super) fn raw_type_name(t: &TypeName) -> String {
    strings(&t.names).pop().unwrap_or_default()
}

/// A constraint name PostgreSQL accepts (at most 63 bytes).
pub(super) fn constraint_name(table: &str, column: &str, suffix: &str) -> String {
    crate::pg::rules::helpers::ident(&crate::pg::rules::helpers::object_name(table, column, suffix))
}

#[cfg(test)]
pub(crate) mod recipes {
    //! The recipe a finding gives (not only its rule's META one) is linted as
    //! the migrations it describes, cut at its `-- next migration` lines: it
    //! must pass every rule.

    use crate::pg::rules::testing::{check, findings_in_sequence};

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
            ("prefer-text", "ALTER TABLE customers ADD COLUMN tags varchar(20)[];"),
            ("ban-char", "ALTER TABLE customers ADD COLUMN codes char(2)[];"),
            ("prefer-timestamptz", "ALTER TABLE customers ADD COLUMN seen timestamp[];"),
        ] {
            recipes_pass(rule, setup, m, false);
        }
    }

    #[test]
    fn arrays_and_the_target_of_alter_column_type_get_the_same_advice() {
        let setup = "CREATE TABLE customers (id bigint PRIMARY KEY, email text, seen timestamptz, note text);";
        let f = check("prefer-text", setup, "ALTER TABLE customers ADD COLUMN tags varchar(20)[];");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("varchar(20)[]: use text[]"), "{}", f[0].message);
        assert!(f[0].safe.contains("tags text[]"), "{}", f[0].safe);
        let f = check("ban-char", setup, "ALTER TABLE customers ADD COLUMN codes char(2)[];");
        assert_eq!(f.len(), 1, "{f:?}");
        let f = check("prefer-text", setup, "ALTER TABLE customers ALTER COLUMN email TYPE varchar(200);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("customers.email` is varchar(200)"), "{}", f[0].message);
        let f = check("prefer-timestamptz", setup, "ALTER TABLE customers ALTER COLUMN seen TYPE timestamp;");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].safe.contains("ALTER COLUMN seen TYPE timestamptz"), "{}", f[0].safe);
        // A retyped boolean is not told to be NOT NULL DEFAULT false.
        assert!(check("require-boolean-not-null", setup, "ALTER TABLE customers ALTER COLUMN note TYPE boolean USING note::boolean;")
            .is_empty());
        // text and arrays of text are fine.
        assert!(check("prefer-text", setup, "ALTER TABLE customers ADD COLUMN labels text[];").is_empty());
    }

    #[test]
    fn recipes_are_cut_at_next_migration() {
        assert_eq!(migrations("A;\n-- next migration:\nB;\nC;"), ["A;\n", "-- next migration:\nB;\nC;\n"]);
    }
}

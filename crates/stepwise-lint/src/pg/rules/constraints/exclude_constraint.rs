//! `exclude-constraint`: an EXCLUDE constraint added to an existing table.
//!
//! `ALTER TABLE ... ADD CONSTRAINT ... EXCLUDE` takes an ACCESS EXCLUSIVE
//! lock on the table and builds the constraint's index (checking every row)
//! under it: no read and no write of the table until the build ends. Unlike
//! UNIQUE, there is no concurrent way: PostgreSQL cannot attach an index
//! built `CONCURRENTLY` as an exclusion constraint. The ways out are a
//! trigger that enforces the rule for new writes, a new table that has the
//! constraint from the start (and an online copy), or a reviewed build in
//! an off-peak window with a short lock_timeout.

use super::shared::constraint_name;
use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::{alter_cmds, alter_table, constr_type, constraint, ident, strings, word_offset};
use crate::pg::Severity;
use pg_query::protobuf::{AlterTableType, ConstrType, Constraint};
use pg_query::NodeEnum;

pub struct ExcludeConstraint;
pub static RULE: ExcludeConstraint = ExcludeConstraint;

static META: RuleMeta = RuleMeta {
    id: "exclude-constraint",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "An EXCLUDE constraint on an existing table builds its index under ACCESS EXCLUSIVE: enforce it with a trigger, or use a new table",
    setup: "CREATE TABLE maintenance_windows (id bigint PRIMARY KEY, during tstzrange NOT NULL);",
    bad: "ALTER TABLE maintenance_windows ADD CONSTRAINT maintenance_windows_no_overlap EXCLUDE USING gist (during WITH &&);",
    safe: &["SET LOCAL lock_timeout = '2s';\nCREATE OR REPLACE FUNCTION maintenance_windows_no_overlap_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('maintenance_windows.maintenance_windows_no_overlap'));
  IF (SELECT count(*) FROM maintenance_windows other WHERE other.during && NEW.during) > 1 THEN
    RAISE EXCEPTION 'conflicting key value violates exclusion constraint \"maintenance_windows_no_overlap\"' USING ERRCODE = 'exclusion_violation';
  END IF;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER maintenance_windows_no_overlap AFTER INSERT OR UPDATE OF during ON maintenance_windows
  FOR EACH ROW EXECUTE FUNCTION maintenance_windows_no_overlap_check();"],
};

/// The `column WITH operator` pairs of an EXCLUDE, when every element is a
/// plain column (expressions get no trigger recipe).
fn elements(c: &Constraint) -> Option<Vec<(String, String)>> {
    c.exclusions
        .iter()
        .map(|e| {
            let Some(NodeEnum::List(l)) = &e.node else { return None };
            let col = match l.items.first().and_then(|i| i.node.as_ref()) {
                Some(NodeEnum::IndexElem(ie)) if !ie.name.is_empty() => ie.name.clone(),
                _ => return None,
            };
            let op = match l.items.get(1).and_then(|i| i.node.as_ref()) {
                Some(NodeEnum::List(ops)) => strings(&ops.items).pop()?,
                _ => return None,
            };
            Some((col, op))
        })
        .collect()
}

fn trigger_recipe(cx: &Cx, table: &str, name: &str, elems: &[(String, String)], has_where: bool) -> String {
    let conds: Vec<String> = elems.iter().map(|(c, op)| format!("other.{c} {op} NEW.{c}", c = ident(c))).collect();
    let cols: Vec<String> = elems.iter().map(|(c, _)| ident(c)).collect();
    let func = ident(&format!("{name}_check"));
    let trigger = ident(name);
    let create_trigger = if cx.pg_version >= 14 { "CREATE OR REPLACE TRIGGER" } else { "CREATE TRIGGER" };
    let execute = if cx.pg_version >= 11 { "FUNCTION" } else { "PROCEDURE" };
    let where_note = if has_where { "\n    -- and the EXCLUDE's WHERE condition, on both rows" } else { "" };
    format!(
        "CREATE OR REPLACE FUNCTION {func}() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN\n\
         \x20 -- One writer at a time: two transactions cannot both miss each other's row.\n\
         \x20 PERFORM pg_advisory_xact_lock(hashtext('{table}.{name}'));\n\
         \x20 -- The row itself matches too (AFTER trigger), so a conflict means more than one.\n\
         \x20 IF (SELECT count(*) FROM {table} other WHERE {}{where_note}) > 1 THEN\n\
         \x20   RAISE EXCEPTION 'conflicting key value violates exclusion constraint \"{name}\"' USING ERRCODE = 'exclusion_violation';\n\
         \x20 END IF;\n\
         \x20 RETURN NULL;\n\
         END\n$$;\n\
         {create_trigger} {trigger} AFTER INSERT OR UPDATE OF {} ON {table}\n\
         \x20 FOR EACH ROW EXECUTE {execute} {func}();",
        conds.join(" AND "),
        cols.join(", "),
    )
}

impl Rule for ExcludeConstraint {
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
        let mut seen = 0;
        for (t, c) in alter_cmds(a) {
            if t != AlterTableType::AtAddConstraint {
                continue;
            }
            let Some(k) = c.def.as_deref().and_then(constraint).filter(|k| constr_type(k) == ConstrType::ConstrExclusion) else { continue };
            let at = word_offset(cx.sql(), &["EXCLUDE"], seen);
            seen += 1;
            let name = constraint_name(&r.relname, k, None);
            let trigger = match elements(k) {
                Some(elems) if !elems.is_empty() => trigger_recipe(cx, &table, &name, &elems, k.where_clause.is_some()),
                _ => "-- (write the trigger's query from the EXCLUDE's elements: a row conflicts when another row matches every `element WITH operator`)"
                    .to_string(),
            };
            hits.push(
                Hit::new(
                    format!("EXCLUDE constraint `{name}` on `{table}` builds its index while the table is locked"),
                    format!(
                        "ADD CONSTRAINT ... EXCLUDE takes an ACCESS EXCLUSIVE lock on `{table}` and builds the index, checking every row, under it: every read and write of `{table}` waits until the build ends, which takes minutes on a large table. Unlike UNIQUE, an exclusion constraint cannot be attached from an index built CONCURRENTLY, so there is no lock-free way to add it."
                    ),
                    format!(
                        "-- Either enforce the rule for new writes with a trigger (one migration; check the existing rows once with the same query):\n\
                         {trigger}\n\
                         -- Or create a new table that has the constraint from the start and move the rows online (`stepwise osc`).\n\
                         -- Or, after measuring the build on a copy, add it off-peak as a reviewed exception with a short lock_timeout:\n\
                         -- SET lock_timeout = '2s';\n\
                         -- -- stepwise:ignore exclude-constraint off-peak window, build measured at <duration>\n\
                         -- {};",
                        cx.sql()
                    ),
                )
                .on_table(table.clone())
                .at(at as i32),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::{check, check_with};
    use crate::pg::LintOptions;

    const ID: &str = "exclude-constraint";
    const SETUP: &str = "CREATE TABLE bookings (id bigint PRIMARY KEY, room_id bigint NOT NULL, during tstzrange NOT NULL);";
    const BAD: &str = "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);";

    #[test]
    fn flags_exclude_on_an_existing_table() {
        let f = check(ID, SETUP, BAD);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].col, 57, "{f:?}");
        assert!(f[0].message.contains("bookings_no_overlap") && f[0].message.contains("`bookings`"));
        assert!(f[0].why.contains("ACCESS EXCLUSIVE") && f[0].why.contains("CONCURRENTLY"));
        let safe = &f[0].safe;
        assert!(safe.contains("WHERE other.room_id = NEW.room_id AND other.during && NEW.during) > 1"), "{safe}");
        assert!(
            safe.contains("CREATE OR REPLACE TRIGGER bookings_no_overlap AFTER INSERT OR UPDATE OF room_id, during ON bookings"),
            "{safe}"
        );
        assert!(safe.contains("EXECUTE FUNCTION bookings_no_overlap_check();"), "{safe}");
    }

    #[test]
    fn the_trigger_recipe_follows_the_version() {
        let f = check_with(ID, SETUP, BAD, &LintOptions { pg_version: 10, ..Default::default() });
        assert!(f[0].safe.contains("CREATE TRIGGER bookings_no_overlap") && f[0].safe.contains("EXECUTE PROCEDURE"), "{}", f[0].safe);
    }

    #[test]
    fn exclude_on_a_new_table_passes() {
        let m = "CREATE TABLE rooms (id bigint PRIMARY KEY, during tstzrange, EXCLUDE USING gist (during WITH &&));\nALTER TABLE rooms ADD CONSTRAINT rooms_excl EXCLUDE USING gist (during WITH &&);";
        assert!(check(ID, SETUP, m).is_empty());
    }

    #[test]
    fn other_constraints_pass() {
        assert!(check(ID, SETUP, "ALTER TABLE bookings ADD CONSTRAINT bookings_room_check CHECK (room_id > 0) NOT VALID;").is_empty());
    }
}

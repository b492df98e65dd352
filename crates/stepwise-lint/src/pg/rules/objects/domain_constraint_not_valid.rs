//! `domain-constraint-not-valid`: `ALTER DOMAIN ... ADD CONSTRAINT` without
//! `NOT VALID`, and `ALTER DOMAIN ... VALIDATE CONSTRAINT`.
//!
//! Both check every value of the domain in every table with a column of
//! that type, holding a SHARE lock on each of those tables for its scan:
//! reads go on, every INSERT, UPDATE and DELETE waits. (Unlike a table's
//! VALIDATE CONSTRAINT, a domain's takes SHARE, not SHARE UPDATE EXCLUSIVE:
//! `stepwise trace` shows it on the server.) `ADD CONSTRAINT ... NOT VALID`
//! scans nothing and checks every value written from then on; the old rows
//! are checked without blocking writes by a CHECK on each column's table,
//! added NOT VALID and validated (SHARE UPDATE EXCLUSIVE).

use crate::pg::context::Cx;
use crate::pg::rule::{Cost, Hit, Rule, RuleMeta};
use crate::pg::rules::helpers::strings;
use crate::pg::Severity;
use pg_query::NodeEnum;

pub struct DomainConstraintNotValid;
pub static RULE: DomainConstraintNotValid = DomainConstraintNotValid;

static META: RuleMeta = RuleMeta {
    id: "domain-constraint-not-valid",
    severity: Severity::Error,
    default_on: true,
    cost: Cost::ScanOrRewrite,
    summary: "ALTER DOMAIN ADD CONSTRAINT scans every column of the domain under SHARE locks: add it NOT VALID",
    setup: "CREATE DOMAIN quantity AS integer;\nCREATE TABLE order_lines (id bigint PRIMARY KEY, qty quantity NOT NULL);",
    bad: "ALTER DOMAIN quantity ADD CONSTRAINT quantity_positive CHECK (VALUE > 0);",
    safe: &[
        "ALTER DOMAIN quantity ADD CONSTRAINT quantity_positive CHECK (VALUE > 0) NOT VALID;",
        "SET LOCAL lock_timeout = '2s';\nALTER TABLE order_lines ADD CONSTRAINT order_lines_qty_positive CHECK (qty > 0) NOT VALID;",
        "ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_qty_positive;",
    ],
};

impl Rule for DomainConstraintNotValid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let NodeEnum::AlterDomainStmt(d) = cx.node else { return };
        let names = strings(&d.type_name);
        let Some(domain) = names.last() else { return };
        let validates = match (d.subtype.as_str(), d.def.as_ref().and_then(|n| n.node.as_ref())) {
            ("C", Some(NodeEnum::Constraint(c))) => !c.skip_validation,
            ("V", _) => true,
            _ => false,
        };
        // A domain created in this migration has no column of an existing table yet.
        let created_here =
            cx.earlier.iter().any(|n| matches!(n, NodeEnum::CreateDomainStmt(c) if strings(&c.domainname).last() == Some(domain)));
        if !validates || created_here {
            return;
        }
        let used_by = cx.schema.columns_of_type(domain);
        let tables: Vec<&str> =
            used_by.iter().filter(|(t, _)| cx.schema.tables.get(t).is_some_and(|t| !t.new)).map(|(t, _)| t.as_str()).collect();
        if tables.is_empty() && !used_by.is_empty() {
            return;
        }
        let on = if tables.is_empty() {
            "every table with a column of it".to_string()
        } else {
            tables.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
        };
        let what = if d.subtype == "V" { "VALIDATE CONSTRAINT" } else { "ADD CONSTRAINT without NOT VALID" };
        let columns: Vec<String> = used_by.iter().map(|(t, c)| format!("-- ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_check CHECK (<the same condition on {c}>) NOT VALID;\n--   then, next migration: ALTER TABLE {t} VALIDATE CONSTRAINT {t}_{c}_check;")).collect();
        let safe = if d.subtype == "V" {
            format!(
                "-- Check the old rows per table instead (the scan holds SHARE UPDATE EXCLUSIVE: writes go on):\n{}\nSELECT 1;",
                columns.join("\n")
            )
        } else {
            format!(
                "-- New and updated values are checked from now on, with no scan:\n{};\n-- Check the old rows per table (the scan holds SHARE UPDATE EXCLUSIVE: writes go on):\n{}",
                add_not_valid(cx.sql()),
                columns.join("\n")
            )
        };
        hits.push(Hit::new(
            format!("ALTER DOMAIN {domain} {what} checks every value of the domain holding a SHARE lock on {on}"),
            format!("PostgreSQL scans each table that has a column of `{domain}` under a SHARE lock: reads go on, but every INSERT, UPDATE and DELETE on {on} waits until the scan ends. A domain's VALIDATE CONSTRAINT takes the same SHARE locks, so NOT VALID alone skips the scan, and the old rows are checked per table by a table CHECK, whose validation lets writes go on."),
            safe,
        ));
    }
}

/// The statement with `NOT VALID` added.
fn add_not_valid(sql: &str) -> String {
    format!("{} NOT VALID", sql.trim_end().trim_end_matches(';').trim_end())
}

#[cfg(test)]
mod tests {
    use crate::pg::rules::testing::check;

    const SETUP: &str = "CREATE DOMAIN quantity AS integer;\nCREATE TABLE order_lines (id bigint PRIMARY KEY, qty quantity NOT NULL);";

    #[test]
    fn flags_adding_a_validated_constraint_and_validating() {
        let f = check("domain-constraint-not-valid", SETUP, "ALTER DOMAIN quantity ADD CONSTRAINT quantity_positive CHECK (VALUE > 0);");
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("`order_lines`"), "{}", f[0].message);
        assert!(f[0].safe.contains("CHECK (VALUE > 0) NOT VALID;"), "{}", f[0].safe);
        let f = check("domain-constraint-not-valid", SETUP, "ALTER DOMAIN quantity VALIDATE CONSTRAINT quantity_positive;");
        assert_eq!(f.len(), 1, "{f:?}");
    }

    #[test]
    fn not_valid_other_changes_and_new_domains_pass() {
        assert!(
            check("domain-constraint-not-valid", SETUP, "ALTER DOMAIN quantity ADD CONSTRAINT q CHECK (VALUE > 0) NOT VALID;").is_empty()
        );
        assert!(check("domain-constraint-not-valid", SETUP, "ALTER DOMAIN quantity SET DEFAULT 1;").is_empty());
        let m = "CREATE DOMAIN price AS numeric;\nALTER DOMAIN price ADD CONSTRAINT price_positive CHECK (VALUE >= 0);";
        assert!(check("domain-constraint-not-valid", SETUP, m).is_empty());
        // Used only by a table created in this migration: nothing live to scan.
        let m = "CREATE TABLE fresh (q quantity);\nALTER DOMAIN quantity ADD CONSTRAINT q CHECK (VALUE > 0);";
        let setup_unused = "CREATE DOMAIN quantity AS integer;";
        assert!(check("domain-constraint-not-valid", setup_unused, m).is_empty());
    }
}

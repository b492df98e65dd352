//! The advice must work: every rule's safe recipe, run by the runner on a
//! real PostgreSQL after the rule's setup, applies cleanly and passes lint.

mod common;
use common::*;

#[test]
fn every_rules_safe_recipe_applies_on_postgres_and_passes_lint() {
    let rules = stepwise_lint::pg::rules::all();
    assert!(rules.len() >= 4);
    let mut failures = Vec::new();
    for rule in rules {
        let m = rule.meta();
        let db = PgDb::new();
        let p = Project::new();
        p.write("0001_setup.sql", &format!("-- stepwise:up\n{}\n", m.setup));
        for (i, safe) in m.safe.iter().enumerate() {
            p.write(&format!("{:04}_safe.sql", i + 2), safe);
        }
        let lint = p.run("", &["lint"]);
        if lint.code != 0 {
            failures.push(format!("{}: lint flags the recipe:\n{}", m.id, lint.all()));
            continue;
        }
        let r = p.run(&db.url, &["migrate", "--phase", "all"]);
        if r.code != 0 {
            failures.push(format!("{}: the recipe does not apply:\n{}", m.id, r.all()));
            continue;
        }
        let applied = db.sql("SELECT count(*) FROM stepwise.migrations WHERE status = 'applied'");
        if applied != (m.safe.len() + 1).to_string() {
            failures.push(format!("{}: {applied} of {} migrations applied", m.id, m.safe.len() + 1));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

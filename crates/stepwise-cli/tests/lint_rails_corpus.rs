//! A Rails application history of a few hundred migrations per adapter
//! (tests/common/rails_history.rs: Rails 4.2 to 8.0 styles, the
//! zero-downtime checklist followed in most, the usual mistakes in the
//! rest), linted end to end: every planted mistake is found by its rule,
//! the migrations written the safe way have no errors, nothing is an input
//! error, and the share of Ruby that cannot be read stays under 2%.

mod common;
#[path = "common/rails_history.rs"]
mod rails_history;
use common::*;
use rails_history::{rails_history, write_app, Adapter};
use std::collections::BTreeMap;

fn corpus(adapter: Adapter) {
    let migs = rails_history(32, adapter);
    assert!(migs.len() >= 300, "{}", migs.len());
    let p = Project::new();
    write_app(&p.root, adapter, &migs);
    let r = p.run("", &["lint", "db/migrate", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}\n{}", r.all()));
    assert_eq!(v["errors"].as_array().unwrap().len(), 0, "input errors: {}", v["errors"]);
    r.code(1);
    let findings = v["findings"].as_array().unwrap();
    let mut per_rule: BTreeMap<(String, String), usize> = BTreeMap::new();
    for f in findings {
        *per_rule.entry((f["rule"].as_str().unwrap().to_string(), f["severity"].as_str().unwrap().to_string())).or_default() += 1;
    }
    let mut missed = Vec::new();
    let mut wrongly = Vec::new();
    for m in &migs {
        let here: Vec<&serde_json::Value> = findings.iter().filter(|f| f["file"].as_str().unwrap().ends_with(&m.name)).collect();
        for rule in &m.expect {
            if !here.iter().any(|f| f["rule"] == *rule) {
                missed.push(format!("{} should be found by {rule}", m.name));
            }
        }
        if m.expect.is_empty() {
            for f in here.iter().filter(|f| f["severity"] == "error") {
                wrongly.push(format!("{}:{} {} {}", m.name, f["line"], f["rule"], f["message"]));
            }
        }
    }
    assert!(missed.is_empty(), "{adapter:?}: planted mistakes not found:\n{}", missed.join("\n"));
    assert!(wrongly.is_empty(), "{adapter:?}: errors on migrations written the safe way:\n{}", wrongly.join("\n"));
    let statements = v["summary"]["statements"].as_u64().unwrap() as f64;
    let not_analysed = v["summary"]["not_analysed"].as_u64().unwrap() as f64;
    let planted: usize = migs.iter().map(|m| m.unreadable).sum();
    assert_eq!(not_analysed as usize, planted, "{adapter:?}: only the planted loops are not analysed: {}", v["findings"]);
    let rate = 100.0 * not_analysed / (statements + not_analysed);
    assert!(rate < 2.0, "{rate}");
    let suppressed = v["summary"]["suppressed"].as_u64().unwrap();
    assert!(suppressed > 0);
    eprintln!(
        "{adapter:?}: {} migrations, {statements} statements, not analysed {not_analysed} ({rate:.2}%), suppressed {suppressed}",
        migs.len()
    );
    for ((rule, sev), n) in &per_rule {
        eprintln!("  {rule:40} {sev:8} {n}");
    }
}

#[test]
fn postgres_history() {
    corpus(Adapter::Postgres);
}

#[test]
fn mysql_history() {
    corpus(Adapter::MySql);
}

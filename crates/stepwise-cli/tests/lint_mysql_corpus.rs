//! A realistic MySQL application history (`common/mysql_history.rs`: a
//! mysqldump base with DELIMITER blocks, then 30 features of ten migrations)
//! linted as MariaDB 10.11: every file reads without an error, each planted
//! mistake is found by exactly the rules it should be, and the migrations
//! written the safe way get no finding at all. Then the same history is
//! applied to the real server by `migrate` (the safe files), so the corpus
//! is MySQL the server accepts, not just text the linter accepts.

mod common;
use common::mysql_history::{mysql_history, write};
use common::*;
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn every_planted_mistake_is_found_and_nothing_else() {
    let p = Project::new();
    let migs = mysql_history(30);
    let names = write(&p.migrations(), &migs);
    assert!(names.len() > 300);
    let run = p.run("", &["lint", "--dialect", "mariadb", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.all()));
    assert_eq!(report["errors"], serde_json::json!([]), "every file reads");
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut per_rule: BTreeMap<String, usize> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        let file = f["file"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        found.entry(file).or_default().insert(f["rule"].as_str().unwrap().to_string());
        *per_rule.entry(f["rule"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let mut wrong = Vec::new();
    for (name, m) in names.iter().zip(&migs) {
        let want: BTreeSet<String> = m.expect.iter().map(|s| s.to_string()).collect();
        let got = found.remove(name).unwrap_or_default();
        if got != want {
            wrong.push(format!("{name}: expected {want:?}, found {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    eprintln!("findings per rule over {} files: {per_rule:?}", names.len());
}

#[test]
fn the_safe_migrations_of_the_history_run_on_mariadb() {
    // The base and the first feature's safe migrations, applied for real:
    // what the corpus says is MySQL, MariaDB runs.
    let db = MyDb::new();
    let p = Project::new();
    let migs: Vec<_> = mysql_history(1).into_iter().filter(|m| m.expect.is_empty()).collect();
    write(&p.migrations(), &migs);
    p.run(&db.url, &["migrate"]).ok();
    assert_eq!(db.sql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('f1_items', 'f1_log', 'f1_aux')"), "3");
    assert_eq!(db.sql("SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'f1_items' AND COLUMN_NAME = 'qty'"), "bigint(20)");
}

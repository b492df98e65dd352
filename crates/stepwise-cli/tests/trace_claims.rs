//! The server is the oracle: every rule's bad example and safe recipe runs
//! through `stepwise trace` on a real PostgreSQL, and what the server did
//! must be what the lint claims:
//!
//! - the locks each statement takes on existing tables are the ones the
//!   lint's lock knowledge predicts (no stronger, no weaker), for bad
//!   examples and safe recipes alike;
//! - the lock a finding's message names is the lock the server took;
//! - a rule about a scan or a rewrite sees the server scan or rewrite an
//!   existing table, and no safe recipe rewrites one.

mod common;
use common::*;
use serde_json::Value;
use std::collections::HashMap;
use stepwise_lint::pg::predicted_locks;
use stepwise_lint::Cost;

const MODES: [&str; 8] = [
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
];

fn rank(mode: &str) -> usize {
    MODES.iter().position(|m| *m == mode).unwrap_or_else(|| panic!("unknown lock mode {mode}"))
}

/// The first lock mode a text names (the longest name at the earliest place).
fn first_mode(text: &str) -> Option<&'static str> {
    let upper = text.to_uppercase();
    MODES
        .iter()
        .filter_map(|m| {
            let mut from = 0;
            while let Some(i) = upper[from..].find(&format!("{m} ")).map(|i| from + i) {
                let before = upper[..i].chars().next_back();
                if !before.is_some_and(|c| c.is_ascii_alphabetic()) {
                    return Some((i, std::cmp::Reverse(m.len()), *m));
                }
                from = i + 1;
            }
            None
        })
        .min()
        .map(|(_, _, m)| m)
}

fn table_like(kind: &str) -> bool {
    matches!(kind, "table" | "partitioned table" | "materialized view" | "foreign table")
}

/// Trace one migration file on `db` (for real: the database is a throwaway).
fn trace(p: &Project, db: &PgDb, file: &str) -> Vec<Value> {
    let path = p.root.join(file);
    let r = p.run("", &["trace", "--database", &db.url, "--commit", "--format", "json", path.to_str().unwrap()]);
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.all()));
    v["migrations"][0]["statements"].as_array().cloned().unwrap_or_default()
}

/// Compare each statement's strongest locks per existing table, held so far
/// in its transaction, with the prediction; mismatches are returned.
fn compare(what: &str, text: &str, traced: &[Value], predicted: &[Vec<(String, &'static str)>]) -> Vec<String> {
    let mut problems = Vec::new();
    let transactional = !text.contains("stepwise:no-transaction");
    if traced.len() != predicted.len() {
        return vec![format!("{what}: {} statements traced, {} predicted", traced.len(), predicted.len())];
    }
    let (mut held_t, mut held_p): (HashMap<String, usize>, HashMap<String, usize>) = Default::default();
    for (st, pred) in traced.iter().zip(predicted) {
        if st["error"].is_string() {
            // Judged by the caller: a bad example may fail on purpose.
            continue;
        }
        if !transactional {
            held_t.clear();
            held_p.clear();
        }
        for l in st["locks"].as_array().into_iter().flatten() {
            if table_like(l["kind"].as_str().unwrap_or("")) {
                let r = rank(l["mode"].as_str().unwrap());
                let e = held_t.entry(l["relation"].as_str().unwrap().to_string()).or_default();
                *e = (*e).max(r);
            }
        }
        for (t, m) in pred {
            let e = held_p.entry(t.clone()).or_default();
            *e = (*e).max(rank(m));
        }
        // Locks up to ROW EXCLUSIVE (reads and writes take them) are not part of the model.
        let strong = |h: &HashMap<String, usize>| -> Vec<(String, &'static str)> {
            let mut v: Vec<_> = h.iter().filter(|(_, r)| **r > rank("ROW EXCLUSIVE")).map(|(t, r)| (t.clone(), MODES[*r])).collect();
            v.sort();
            v
        };
        let (t, p) = (strong(&held_t), strong(&held_p));
        // A statement that runs outside a transaction is sampled while it
        // runs: a short one can end between two samples, so what was seen
        // must be no stronger than predicted, but may be less.
        let sampled = st["how"] == "sampled";
        let stronger = t.iter().any(|(table, mode)| p.iter().find(|(pt, _)| pt == table).is_none_or(|(_, pm)| rank(mode) > rank(pm)));
        if (!sampled && t != p) || (sampled && stronger) {
            problems.push(format!("{what}: `{}`: the server took {t:?}, the lint predicts {p:?}", st["sql"]));
        }
    }
    problems
}

/// Statements beyond the rules' examples whose locks the lint predicts.
const EXTRA: &[(&str, &str)] = &[
    (
        "CREATE DOMAIN quantity AS integer;\nCREATE TABLE lines (id bigint PRIMARY KEY, qty quantity);\nALTER DOMAIN quantity ADD CONSTRAINT q CHECK (VALUE > 0) NOT VALID;",
        "ALTER DOMAIN quantity VALIDATE CONSTRAINT q;",
    ),
    ("CREATE TABLE orders (id bigint PRIMARY KEY, n int);", "ALTER TABLE orders ADD CONSTRAINT n_positive CHECK (n > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT n_positive;"),
    ("CREATE TABLE orders (id bigint PRIMARY KEY, n int);\nCREATE TABLE items (id bigint PRIMARY KEY, order_id bigint);", "ALTER TABLE items ADD CONSTRAINT items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;"),
    ("CREATE TABLE orders (id bigint PRIMARY KEY, n int);", "CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();"),
    ("CREATE TABLE orders (id bigint PRIMARY KEY, n int);\nCREATE INDEX orders_n_idx ON orders (n);", "REINDEX INDEX orders_n_idx;"),
    ("CREATE TABLE orders (id bigint PRIMARY KEY, n int);", "LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;"),
];

#[test]
fn the_lock_knowledge_agrees_with_the_server_beyond_the_examples() {
    let mut problems = Vec::new();
    for (setup, migration) in EXTRA {
        let db = PgDb::new();
        db.sql(setup);
        let p = Project::new();
        std::fs::write(p.root.join("case.sql"), migration).unwrap();
        let traced = trace(&p, &db, "case.sql");
        let predicted = predicted_locks(setup, migration, 15).expect("case parses");
        problems.extend(compare(migration, migration, &traced, &predicted));
        problems.extend(traced.iter().filter_map(|s| s["error"].as_str().map(|e| format!("{migration}: {e}"))));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rules_claims_agree_with_what_the_server_did() {
    let mut problems = Vec::new();
    for rule in stepwise_lint::pg::rules::all() {
        let m = rule.meta();
        // The bad example, on a database with the setup applied.
        let db = PgDb::new();
        let p = Project::new();
        p.write("0001_setup.sql", &format!("-- stepwise:up\n{}\n", m.setup));
        let setup = p.run(&db.url, &["migrate", "--phase", "all"]);
        assert_eq!(setup.code, 0, "{}: setup:\n{}", m.id, setup.all());
        std::fs::create_dir_all(p.root.join("bad")).unwrap();
        std::fs::write(p.root.join("bad/0002_bad.sql"), m.bad).unwrap();
        let traced = trace(&p, &db, "bad/0002_bad.sql");
        let predicted = predicted_locks(m.setup, m.bad, 15).expect("bad example parses");
        problems.extend(compare(&format!("{} (bad)", m.id), m.bad, &traced, &predicted));

        // The lock a finding names is the lock the server took; a bad
        // example the server refuses is one whose finding says it fails.
        let failed: Vec<&Value> = traced.iter().filter(|s| s["error"].is_string()).collect();
        let lint_dir = Project::new();
        lint_dir.write("0001_setup.sql", m.setup);
        lint_dir.write("0002_bad.sql", m.bad);
        let r = lint_dir.run("", &["lint", "--format", "json"]);
        let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.all()));
        let findings: Vec<&Value> = v["findings"].as_array().into_iter().flatten().filter(|f| f["rule"] == m.id).collect();
        for st in failed {
            let said = findings.iter().any(|f| {
                let text = format!("{} {}", f["message"], f["why"]).to_lowercase();
                f["line"] == st["line"] && (text.contains("fails") || text.contains("refuse"))
            });
            if !said {
                problems
                    .push(format!("{} (bad): `{}` failed on the server ({}), and no finding says it would", m.id, st["sql"], st["error"]));
            }
        }
        for f in findings {
            let Some(named) = first_mode(f["message"].as_str().unwrap_or("")) else { continue };
            let line = f["line"].as_u64().unwrap_or(0);
            let st = traced.iter().find(|s| s["line"].as_u64() == Some(line));
            let took: Vec<&str> = st
                .into_iter()
                .flat_map(|s| s["locks"].as_array().into_iter().flatten())
                .filter(|l| table_like(l["kind"].as_str().unwrap_or("")))
                .filter_map(|l| l["mode"].as_str())
                .collect();
            let strongest = took.iter().copied().max_by_key(|m| rank(m));
            if strongest != Some(named) {
                problems
                    .push(format!("{}: the message says {named}, the server's strongest lock was {strongest:?}: {}", m.id, f["message"]));
            }
        }

        // A scan or a rewrite, where the rule is about one.
        if m.cost == Cost::ScanOrRewrite {
            let touched = traced.iter().any(|s| {
                s["rewritten"].as_array().is_some_and(|a| !a.is_empty()) || s["scanned"].as_array().is_some_and(|a| !a.is_empty())
            });
            if !touched {
                problems.push(format!(
                    "{}: a scan-or-rewrite rule, but the server neither scanned nor rewrote an existing table: {traced:?}",
                    m.id
                ));
            }
        }

        // The safe recipe, in order, on a database of its own.
        let db = PgDb::new();
        p.run(&db.url, &["migrate", "--phase", "all"]).ok();
        let mut context = m.setup.to_string();
        std::fs::create_dir_all(p.root.join("safe")).unwrap();
        for (i, safe) in m.safe.iter().enumerate() {
            let file = format!("safe/{:04}_safe.sql", i + 2);
            std::fs::write(p.root.join(&file), safe).unwrap();
            let traced = trace(&p, &db, &file);
            let predicted = predicted_locks(&context, safe, 15).expect("safe recipe parses");
            problems.extend(compare(&format!("{} (safe {})", m.id, i + 1), safe, &traced, &predicted));
            for s in &traced {
                if let Some(e) = s["error"].as_str() {
                    problems.push(format!("{} (safe {}): `{}` failed: {e}", m.id, i + 1, s["sql"]));
                }
                if s["rewritten"].as_array().is_some_and(|a| a.iter().any(|r| !r.as_str().unwrap_or("").ends_with("_idx"))) {
                    problems.push(format!("{} (safe {}): `{}` rewrote {}", m.id, i + 1, s["sql"], s["rewritten"]));
                }
            }
            context.push_str(";\n");
            context.push_str(safe);
        }
    }
    assert!(problems.is_empty(), "{} disagreement(s) with the server:\n{}", problems.len(), problems.join("\n"));
}

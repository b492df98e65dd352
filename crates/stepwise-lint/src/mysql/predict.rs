//! The classifier's predictions for a migration, statement by statement,
//! written as the statements the server can be asked to run: what the
//! oracle test (`lint_mysql_oracle`) runs on a real MariaDB to check that
//! the server accepts each prediction and refuses anything better.

use super::ast::{Algorithm, LockLevel, Stmt};
use super::classify::{alter, Env, Verdict};
use super::reader::read;
use super::rules::helpers::with_clause;
use super::schema::Schema;
use super::server::Server;
use std::sync::Arc;
use stepwise_sql::{parse_file, Dialect, FileRole, Flavor, SourceFile};

#[derive(Debug, Clone)]
pub struct Prediction {
    /// The statement as written.
    pub sql: String,
    /// For an ALTER of a table that exists before it: the verdict, the
    /// statement holding the server to it, and the statements asking for
    /// more (a better algorithm, or LOCK=NONE), which the server must refuse.
    pub verdict: Option<Verdict>,
    pub predicted: Option<String>,
    pub better: Vec<String>,
}

/// Predictions for `migration` after `setup` on `server`. Statements are
/// split and read the way `stepwise lint` reads them; backfill steps are left out.
pub fn predict(setup: &str, migration: &str, server: Server) -> Result<Vec<Prediction>, String> {
    let mut schema = Schema::default();
    for s in statements(setup)? {
        schema.apply(&read(&s).map_err(|e| e.message)?, false);
    }
    let mut fk_checks_off = false;
    let mut out = Vec::new();
    for sql in statements(migration)? {
        let parsed = read(&sql).map_err(|e| e.message)?;
        if let Stmt::Set { name, value } = &parsed {
            if name == "foreign_key_checks" {
                fk_checks_off = matches!(value.to_ascii_uppercase().as_str(), "0" | "OFF");
            }
        }
        let mut p = Prediction { sql: sql.clone(), verdict: None, predicted: None, better: vec![] };
        if let Stmt::Alter(a) = &parsed {
            if let Some(t) = schema.get(&a.table) {
                let v = alter(a, Env { server, table: Some(t), fk_checks_off });
                // What is written is not the prediction: ask for the prediction itself.
                let v = v.refused.clone().unwrap_or(v.verdict);
                if v.known && !v.reason.is_empty() {
                    p.predicted = Some(with_clause(&sql, &parsed, &v.clause(server), server));
                    if let Some(better) = better_algorithm(v.algorithm, server) {
                        p.better.push(with_clause(&sql, &parsed, &format!("ALGORITHM={}", better.name()), server));
                    }
                    if v.lock > LockLevel::None && v.algorithm != Algorithm::Instant {
                        let better = Verdict { lock: LockLevel::None, ..v.clone() };
                        p.better.push(with_clause(&sql, &parsed, &better.clause(server), server));
                    }
                    p.verdict = Some(v);
                }
            }
        }
        schema.apply(&parsed, false);
        out.push(p);
    }
    Ok(out)
}

/// The next better algorithm the server knows (MySQL has no NOCOPY).
fn better_algorithm(a: Algorithm, server: Server) -> Option<Algorithm> {
    match a {
        Algorithm::Instant => None,
        Algorithm::Nocopy => Some(Algorithm::Instant),
        Algorithm::Inplace if server.mariadb() => Some(Algorithm::Nocopy),
        Algorithm::Inplace => Some(Algorithm::Instant),
        Algorithm::Copy => Some(Algorithm::Inplace),
    }
}

fn statements(text: &str) -> Result<Vec<String>, String> {
    let file = Arc::new(SourceFile { name: "m.sql".into(), text: text.to_string() });
    let parsed = parse_file(file, FileRole::Combined, Dialect::MySql, Flavor::Native).map_err(|e| e.to_string())?;
    Ok(parsed.up.map(|u| u.statements.into_iter().filter(|s| s.backfill.is_none()).map(|s| s.sql).collect()).unwrap_or_default())
}

//! osc on MySQL/MariaDB. Built so far: the checks that run before anything
//! is created ([`preflight`]) and the plan a dry run shows. The copy,
//! capture triggers, verification and swap come next (issue 17), behind the
//! same state machine as PostgreSQL's.

pub mod preflight;

use super::OscRequest;
use crate::OnlineError;
use stepwise_db::mysql::{quote_ident as qi, MyConn};

/// The shadow's name for a job: `_sw<job>_<table>_new`, cut to MySQL's 64
/// characters.
pub fn shadow_name(table: &str, job: i64) -> String {
    let prefix = format!("_sw{job}_");
    let mut base = table.to_string();
    while prefix.len() + base.len() + "_new".len() > 64 {
        base.pop();
    }
    format!("{prefix}{base}_new")
}

/// What a dry run shows: the checks passed and the statements osc would run first.
pub async fn plan(conn: &mut MyConn, req: &OscRequest, state_prefix: &str) -> Result<String, OnlineError> {
    let checked = preflight::check(conn, req, state_prefix).await?;
    let t = &checked.table;
    let shadow = format!("{}.{}", qi(&t.schema), qi(&shadow_name(&t.name, 0)));
    let original = format!("{}.{}", qi(&t.schema), qi(&t.name));
    let mut out = format!(
        "-- {original} ({} rows estimated), key ({})\nCREATE TABLE {shadow} LIKE {original};\nALTER TABLE {shadow} {};\n",
        t.estimated_rows,
        t.key.join(", "),
        req.alter.trim()
    );
    for line in &checked.notes {
        out.push_str(&format!("-- checked: {line}\n"));
    }
    out.push_str(&format!("-- then: capture triggers on {original}, copy in batches, verify, swap"));
    Ok(out)
}

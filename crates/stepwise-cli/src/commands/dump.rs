//! `dump`: the database's schema, normalized, with the applied migrations;
//! `diff`: what differs between two databases or dumps.

use super::{connect, target};
use crate::cli::Format;
use crate::config::Config;
use crate::render::Out;
use std::path::Path;
use stepwise_db::DbUrl;
use stepwise_migrate::dump::{compare, dump as dump_of};

pub async fn dump(cfg: &Config, out: &Out, output: Option<&Path>) -> i32 {
    let t = match target(cfg, out, false).await {
        Ok(t) => t,
        Err(code) => return code,
    };
    let text = match dump_url(cfg, out, &t.url).await {
        Ok(text) => text,
        Err(code) => return code,
    };
    match output {
        Some(path) => {
            // Written whole, then renamed: a dump is never left half-written.
            let tmp = path.with_extension("stepwise-tmp");
            if let Err(e) = std::fs::write(&tmp, &text).and_then(|_| std::fs::rename(&tmp, path)) {
                let _ = std::fs::remove_file(&tmp);
                out.error(&format!("cannot write {}: {e}", path.display()));
                return 1;
            }
            out.result(&format!("wrote the schema of {} to {}", t.url.redacted(), path.display()), serde_json::json!({"file": path}));
        }
        None if out.format == Format::Json => out.json(&serde_json::json!({"dump": text})),
        None => print!("{text}"),
    }
    0
}

async fn dump_url(cfg: &Config, out: &Out, url: &DbUrl) -> Result<String, i32> {
    let mut engine = connect(cfg, out, url).await?;
    dump_of(&mut engine, cfg.run.rails).await.map_err(|e| out.run_error(&e))
}

/// A side of `diff`: a database URL, or a file `stepwise dump` wrote.
async fn side(cfg: &Config, out: &Out, what: &str) -> Result<String, i32> {
    let looks_like_url = ["postgres://", "postgresql://", "mysql://", "mariadb://"].iter().any(|p| what.starts_with(p));
    if looks_like_url {
        let url = DbUrl::parse(what).map_err(|e| {
            out.error(&e.to_string());
            2
        })?;
        return dump_url(cfg, out, &url).await;
    }
    std::fs::read_to_string(what).map_err(|e| {
        out.error(&format!("{what}: not a database URL (postgres://, mysql://) and not a readable dump file: {e}"));
        2
    })
}

pub async fn diff(cfg: &Config, out: &Out, first: &str, second: &str) -> i32 {
    let a = match side(cfg, out, first).await {
        Ok(t) => t,
        Err(code) => return code,
    };
    let b = match side(cfg, out, second).await {
        Ok(t) => t,
        Err(code) => return code,
    };
    let d = compare(&a, &b);
    let (na, nb) = (stepwise_db::redact(first), stepwise_db::redact(second));
    if out.format == Format::Json {
        out.json(&serde_json::json!({"same": d.is_empty(), "first": na, "second": nb, "diff": d}));
    } else if d.is_empty() {
        out.line(&format!("same schema and migrations: {na} and {nb}"));
    } else {
        if !d.schema.is_empty() {
            out.line(&format!("schema: - only in {na}, + only in {nb}"));
            for l in &d.schema {
                out.line(&format!("  {l}"));
            }
        }
        if !d.only_in_first.is_empty() {
            out.line(&format!("migrations applied only in {na}: {}", d.only_in_first.join(", ")));
        }
        if !d.only_in_second.is_empty() {
            out.line(&format!("migrations applied only in {nb}: {}", d.only_in_second.join(", ")));
        }
    }
    if d.is_empty() {
        0
    } else {
        1
    }
}

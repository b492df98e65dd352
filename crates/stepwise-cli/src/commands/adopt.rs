//! `mark` and `adopt`: record history without running migrations.

use super::Session;
use crate::cli::Format;
use crate::config::Config;
use crate::render::Out;
use stepwise_migrate::adopt::Tool;
use stepwise_migrate::RunError;

pub async fn mark(cfg: &Config, out: &Out, version: &str) -> i32 {
    let Session { target, set, mut engine } = match Session::open(cfg, out, false).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    drop(target);
    match stepwise_migrate::mark::mark(&mut engine, &set, version, &cfg.run, &mut |e| out.event(&e)).await {
        Ok(()) => {
            if out.format == Format::Json {
                out.json(&serde_json::json!({"event": "result", "marked": version}));
            }
            0
        }
        Err(e) => out.run_error(&e),
    }
}

pub async fn adopt(cfg: &Config, out: &Out, from: Option<&str>) -> i32 {
    let tool = match from {
        None => None,
        Some(name) => match Tool::parse(name) {
            Some(t) => Some(t),
            None => {
                out.error(&format!("--from {name}: expected sqlx, dbmate, rails, golang-migrate, goose or flyway"));
                return 2;
            }
        },
    };
    let Session { target, set, mut engine } = match Session::open(cfg, out, false).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    drop(target);
    match stepwise_migrate::adopt::adopt(&mut engine, &set, tool, &cfg.run, &mut |e| out.event(&e)).await {
        Ok(r) => {
            if out.format == Format::Json {
                out.json(&serde_json::json!({"event": "result", "adopt": r}));
            } else {
                out.line(&format!("Adopted {} migration(s) from {} ({} already recorded).", r.imported.len(), r.tool, r.already.len()));
                if !r.without_file.is_empty() {
                    out.line(&format!("  applied by {} but no file here (not imported): {}", r.tool, r.without_file.join(", ")));
                }
                if !r.failed.is_empty() {
                    out.line(&format!(
                        "  failed or dirty in {} (not imported; fix the schema, then `stepwise mark` or `stepwise migrate`): {}",
                        r.tool,
                        r.failed.join(", ")
                    ));
                }
            }
            0
        }
        Err(e @ RunError::Refused(_)) => out.run_error(&e),
        Err(e) => out.run_error(&e),
    }
}

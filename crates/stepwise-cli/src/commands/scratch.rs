//! `scratch` and `verify`: work on a throwaway local PostgreSQL.

use super::load_set;
use crate::cli::Format;
use crate::config::Config;
use crate::render::Out;
use std::path::PathBuf;
use stepwise_db::scratch::{Scratch, ScratchOptions};
use stepwise_migrate::verify::{verify as run_verify, Outcome};
use stepwise_sql::Dialect;

pub async fn scratch(out: &Out) -> i32 {
    let s = match Scratch::start(ScratchOptions::default()).await {
        Ok(s) => s,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    if out.format == Format::Json {
        out.json(&serde_json::json!({"url": s.url().expose(), "port": s.port(), "data_dir": s.data_dir().display().to_string()}));
    } else {
        out.line(s.url().expose());
        out.progress(&format!("Scratch PostgreSQL running (data in {}). Press Ctrl-C to stop and delete it.", s.data_dir().display()));
    }
    wait_for_stop().await;
    match s.stop().await {
        Ok(()) => 0,
        Err(e) => {
            out.error(&e.to_string());
            1
        }
    }
}

async fn wait_for_stop() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

pub async fn verify(cfg: &Config, out: &Out, dir: Option<PathBuf>) -> i32 {
    let mut cfg_dir = Config { migrations_dir: dir.unwrap_or_else(|| cfg.migrations_dir.clone()), ..clone_config(cfg) };
    cfg_dir.run.rails = false;
    let set = match load_set(&cfg_dir, out, Dialect::Postgres) {
        Ok(s) => s,
        Err(code) => return code,
    };
    out.progress("Starting a scratch PostgreSQL ...");
    let s = match Scratch::start(ScratchOptions::default()).await {
        Ok(s) => s,
        Err(e) => {
            out.error(&e.to_string());
            return 1;
        }
    };
    let quiet = |_e: stepwise_migrate::Event| {};
    let mut report = quiet;
    let result = run_verify(&s.url(), &set, &cfg_dir.schema, &cfg_dir.run, Some(s.bindir()), &mut report).await;
    let _ = s.stop().await;
    let r = match result {
        Ok(r) => r,
        Err(e) => return out.run_error(&e),
    };
    if out.format == Format::Json {
        out.json(&serde_json::json!({"ok": r.ok(), "report": r}));
    } else {
        for c in &r.migrations {
            match &c.outcome {
                Outcome::Restored => out.line(&format!("ok       {} {}: down restores the schema, up applies again", c.version, c.name)),
                Outcome::NoDown => out.line(&format!("no down  {} {}: cannot be rolled back", c.version, c.name)),
                Outcome::Differs { diff } => {
                    out.line(&format!("FAIL     {} {}: the down migration does not restore the schema:", c.version, c.name));
                    diff.iter().for_each(|d| out.line(&format!("           {d}")));
                }
                Outcome::ReapplyDiffers { diff } => {
                    out.line(&format!("FAIL     {} {}: applying again after the down gives another schema:", c.version, c.name));
                    diff.iter().for_each(|d| out.line(&format!("           {d}")));
                }
            }
        }
        match r.full_rollback_restores_empty {
            Some(true) => out.line("ok       rolling every migration back restores the empty schema, and they all apply again"),
            Some(false) => {
                out.line("FAIL     rolling every migration back does not restore the empty schema:");
                r.full_rollback_diff.iter().for_each(|d| out.line(&format!("           {d}")));
            }
            None => {}
        }
        out.line(if r.ok() { "verify: ok" } else { "verify: FAILED" });
    }
    if r.ok() {
        0
    } else {
        1
    }
}

fn clone_config(cfg: &Config) -> Config {
    Config {
        lint: cfg.lint.clone(),
        dialect: cfg.dialect.clone(),
        database_url: cfg.database_url.clone(),
        migrations_dir: cfg.migrations_dir.clone(),
        layout: cfg.layout,
        schema: cfg.schema.clone(),
        run: cfg.run.clone(),
        backup: cfg.backup.clone(),
        hooks: cfg.hooks.clone(),
    }
}

//! The PostgreSQL judge: migrations checked on PostgreSQL's own grammar
//! (pg_query) against a model of the schema the earlier migrations build.
//!
//! Flow: parse every file (in parallel), then walk the files in order. For each
//! statement of an up section, run the enabled rules with the schema as it
//! stands, turn their hits into findings (size-aware severity, config
//! overrides, `-- stepwise:ignore`), then apply the statement to the model.

pub mod by_table;
pub mod context;
pub mod edit;
pub mod names;
pub mod new_columns;
pub mod parse;
pub mod relations;
pub mod rule;
pub mod rules;
pub mod schema;
pub mod work;

pub use crate::{config, finding};
pub use crate::{Finding, LintConfig, LintFile, LintOptions, LintReport, Severity};
pub use rule::{Cost, Hit, Rule, RuleMeta};
pub use schema::Schema;

use crate::emit::At;
use context::Cx;
use parse::{parse_up, ParsedStatement};
use pg_query::NodeEnum;
use stepwise_sql::error::InputError;

/// Files per window. Parse trees are many times the size of their source:
/// holding every file's at once costs gigabytes on a large history, so the
/// parsers run at most [`AHEAD`] windows ahead of the linting, and each
/// window's trees are dropped after it.
const WINDOW: usize = 64;
const AHEAD: usize = 3;

/// Lint `files` in order, starting from `schema` (empty, or the live catalog).
///
/// One parser thread per core parses windows of files continuously (thread
/// `k` takes windows `k`, `k + n`, ...); this thread lints them in order as
/// they arrive, since each file is judged against the schema the earlier
/// ones built.
pub fn lint(files: &[LintFile], mut schema: Schema, opts: &LintOptions) -> LintReport {
    let rules: Vec<&'static dyn Rule> = rules::all().into_iter().filter(|r| opts.config.is_on(r.meta().id, r.meta().default_on)).collect();
    let mut report = LintReport { files: files.len(), ..Default::default() };
    let windows = files.len().div_ceil(WINDOW);
    let parsers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, windows.max(1));
    std::thread::scope(|scope| {
        // Each parser also frees the trees the linter is done with: freeing
        // costs about a third of what linting does, and the parsers have
        // the time.
        let pipes: Vec<_> = (0..parsers)
            .map(|k| {
                let (tx, rx) = std::sync::mpsc::sync_channel(AHEAD);
                let (done_tx, done_rx) = std::sync::mpsc::channel::<Vec<Vec<ParsedStatement>>>();
                scope.spawn(move || {
                    for window in files.chunks(WINDOW).skip(k).step_by(parsers) {
                        let parsed: Vec<_> = window.iter().map(|f| parse_up(&f.file, &f.parsed)).collect();
                        if tx.send(parsed).is_err() {
                            return;
                        }
                        while let Ok(trees) = done_rx.try_recv() {
                            drop(trees);
                        }
                    }
                    // The last windows' trees: until the linter hangs up.
                    for trees in done_rx {
                        drop(trees);
                    }
                });
                (rx, done_tx)
            })
            .collect();
        for (i, window) in files.chunks(WINDOW).enumerate() {
            // A parser only stops early by panicking (a bug in pg_query):
            // the scope re-raises that panic when it ends.
            let (inbox, done) = &pipes[i % parsers];
            let Ok(parsed) = inbox.recv() else { break };
            let mut trees = Vec::with_capacity(window.len());
            for (lf, (stmts, errors)) in window.iter().zip(parsed) {
                lint_file(lf, &stmts, errors, &mut schema, &rules, opts, &mut report);
                trees.push(stmts);
            }
            // A parser that has gone (it panicked) cannot take them: drop here.
            let _ = done.send(trees);
        }
        drop(pipes);
    });
    report
}

/// Check one file's statements in order, applying each to the schema.
fn lint_file(
    lf: &LintFile,
    stmts: &[ParsedStatement],
    errors: Vec<InputError>,
    schema: &mut Schema,
    rules: &[&'static dyn Rule],
    opts: &LintOptions,
    report: &mut LintReport,
) {
    report.errors.extend(errors);
    let excluded = opts.config.excluded(&lf.file.name);
    let in_transaction = lf.parsed.up.as_ref().is_some_and(|u| !u.no_transaction);
    // Statements inside a BEGIN ... COMMIT of a no-transaction migration run
    // in a transaction all the same.
    let mut in_block = std::collections::HashSet::new();
    if let Some(up) = &lf.parsed.up {
        let refused = stepwise_sql::runnable::check_runnable(up, stepwise_sql::Dialect::Postgres);
        report.refused += refused.len();
        report.errors.extend(refused);
        if !in_transaction {
            let blocks = stepwise_sql::runnable::explicit_blocks(up);
            in_block.extend(up.statements.iter().zip(blocks).filter(|(_, b)| b.is_some()).map(|(s, _)| s.span.start));
        }
    }
    let phase = lf.parsed.phase.unwrap_or_default();
    let all: Vec<&NodeEnum> = stmts.iter().flat_map(|ps| ps.nodes.iter()).collect();
    let all_sql: Vec<&str> = stmts.iter().flat_map(|ps| ps.nodes.iter().map(|_| ps.stmt.sql.as_str())).collect();
    let mut at = 0;
    // One line index per file: findings of every statement use it.
    let lines = std::cell::OnceCell::new();
    for ps in stmts {
        report.statements += 1;
        let mut suppressed = Vec::new();
        for node in &ps.nodes {
            let (earlier, earlier_sql, later) = (&all[..at], &all_sql[..at], &all[at + 1..]);
            at += 1;
            if !excluded {
                let cx = Cx {
                    node,
                    stmt: ps.stmt,
                    schema,
                    in_transaction: in_transaction || in_block.contains(&ps.stmt.span.start),
                    pg_version: opts.pg_version,
                    earlier,
                    earlier_sql,
                    later,
                    base: ps.base,
                    phase,
                    created: Default::default(),
                    retyped: Default::default(),
                };
                check_statement(
                    &cx,
                    rules,
                    &At { file: &lf.file, lines: &lines, stmt: ps.stmt },
                    opts,
                    &mut report.findings,
                    &mut suppressed,
                );
            }
            schema.apply(node, true);
        }
        if !excluded {
            let known_off = |id: &str| rules::all().iter().any(|r| r.meta().id == id && !opts.config.is_on(id, r.meta().default_on));
            report.findings.extend(At { file: &lf.file, lines: &lines, stmt: ps.stmt }.unused_ignores(&suppressed, known_off));
        }
    }
    if !lf.new {
        schema.settle();
    }
}

/// Run the rules on one statement. Findings a `-- stepwise:ignore` excuses
/// are not reported; their rule ids go to `suppressed`.
fn check_statement(
    cx: &Cx,
    rules: &[&'static dyn Rule],
    at: &At,
    opts: &LintOptions,
    out: &mut Vec<Finding>,
    suppressed: &mut Vec<&'static str>,
) {
    for rule in rules {
        at.run(rule.meta(), |hits| rule.check(cx, hits), |t: &str| cx.schema.tables.get(t).and_then(|t| t.rows), opts, out, suppressed);
    }
}

/// The table locks the lint's lock knowledge predicts for each statement
/// of `migration` (after `setup`), on tables `setup` made: what `stepwise
/// trace` checks against the server. Locks no stronger than ROW EXCLUSIVE
/// are not listed (the model leaves them out: they block no schema change).
pub fn predicted_locks(setup: &str, migration: &str, pg_version: u32) -> Result<Vec<Vec<(String, &'static str)>>, String> {
    let mut schema = Schema::replay(setup)?;
    let existing: Vec<String> = schema.tables.keys().cloned().collect();
    let parsed = pg_query::parse(migration, pg_query::ParserOptions::DEFAULT).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for node in parsed.protobuf.stmts.iter().filter_map(|raw| raw.stmt.as_ref().and_then(|s| s.node.as_ref())) {
        let locks = rules::elsewhere::locks::table_locks(node, &schema, pg_version);
        out.push(locks.into_iter().filter(|l| l.resolved && existing.contains(&l.table)).map(|l| (l.table, l.lock.name())).collect());
        schema.apply(node, true);
    }
    Ok(out)
}

#[cfg(test)]
mod online {
    use super::rules::testing::all_findings;

    const SETUP: &str = "CREATE TABLE t (id int PRIMARY KEY, a int, b text, c int);\nCREATE TABLE p (id int PRIMARY KEY);";
    /// Each statement is flagged for its lock or its rewrite when run in place.
    const CHANGES: &[(&str, &str)] = &[
        ("ALTER TABLE t ALTER COLUMN id TYPE bigint", "alter-column-type"),
        ("ALTER TABLE t ALTER COLUMN a SET NOT NULL", "set-not-null"),
        ("ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid()", "add-column-volatile-default"),
        ("ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE (b)", "unique-without-index"),
        ("ALTER TABLE t ADD CONSTRAINT t_c_fk FOREIGN KEY (c) REFERENCES p (id)", "foreign-key-not-valid"),
        ("ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a > 0)", "check-not-valid"),
        ("ALTER TABLE t ADD COLUMN n bigserial", "add-serial-or-identity-column"),
    ];

    #[test]
    fn an_online_statement_is_not_flagged_for_the_lock_or_rewrite_osc_avoids() {
        for (sql, rule) in CHANGES {
            let plain = all_findings(SETUP, &format!("{sql};"));
            assert!(plain.iter().any(|f| f.rule == *rule), "{rule} should flag `{sql}` run in place: {plain:#?}");
            let online = all_findings(SETUP, &format!("-- stepwise:online\n{sql};"));
            let costly: Vec<_> = online
                .iter()
                .filter(|f| super::rules::all().iter().any(|r| r.meta().id == f.rule && r.meta().cost.avoided_online()))
                .collect();
            assert!(costly.is_empty(), "`{sql}` runs online, yet: {costly:#?}");
        }
    }

    #[test]
    fn what_breaks_code_is_still_flagged_online() {
        let found = all_findings(SETUP, "-- stepwise:online\nALTER TABLE t DROP COLUMN b;");
        assert!(found.iter().any(|f| f.rule == "drop-column"), "{found:#?}");
        let found = all_findings(SETUP, "-- stepwise:online\nALTER TABLE t ADD COLUMN d int NOT NULL;");
        assert!(found.iter().any(|f| f.rule == "add-column-not-null-without-default"), "{found:#?}");
        // An ignore that an online statement no longer needs excuses nothing.
        let found = all_findings(
            SETUP,
            "-- stepwise:online\n-- stepwise:ignore alter-column-type reviewed\nALTER TABLE t ALTER COLUMN id TYPE bigint;",
        );
        assert!(found.iter().any(|f| f.rule == "unused-ignore"), "{found:#?}");
    }
}

#[cfg(test)]
mod backfill {
    use super::rules::testing::all_findings;

    #[test]
    fn a_backfill_step_is_not_linted_and_the_statements_around_it_keep_their_findings() {
        let setup = "CREATE TABLE t (id int PRIMARY KEY, a int);";
        let migration = "-- stepwise:backfill t SET a = 0 WHERE a IS NULL\nALTER TABLE t ADD COLUMN d int;\n-- stepwise:backfill t SET d = a WHERE d IS NULL\nALTER TABLE t ALTER COLUMN d SET NOT NULL;\n-- stepwise:backfill t SET a = d";
        let found = all_findings(setup, migration);
        assert!(found.iter().any(|f| f.rule == "set-not-null" && f.line == 4), "{found:#?}");
        assert!(found.iter().all(|f| f.line % 2 == 0), "nothing points at a backfill line: {found:#?}");
    }
}

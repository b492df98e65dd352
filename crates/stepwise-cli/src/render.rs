//! The one place that turns results, events and errors into output. Text for
//! people (progress on stderr, results on stdout), JSON lines for machines.

use crate::cli::Format;
use crate::duration::format_duration;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::time::Duration;
use stepwise_migrate::error::StatementFailure;
use stepwise_migrate::events::{Direction, Event};
use stepwise_migrate::RunError;
use stepwise_sql::InputError;

#[derive(Clone, Copy)]
pub struct Out {
    pub format: Format,
    pub color: bool,
}

impl Out {
    pub fn new(format: Format) -> Out {
        let color = format == Format::Text && std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Out { format, color }
    }

    pub fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn json<T: Serialize>(&self, value: &T) {
        // Buffered: stdout on its own writes at every line break or 1 KiB.
        let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let _ = serde_json::to_writer(&mut stdout, value);
        let _ = writeln!(stdout);
        let _ = stdout.flush();
    }

    /// The result of a command: `message` for people, or with `--format
    /// json` one object `{"event": "result", ...fields, "message": ...}`.
    pub fn result(&self, message: &str, fields: serde_json::Value) {
        if self.format == Format::Json {
            let mut obj = serde_json::Map::new();
            obj.insert("event".into(), "result".into());
            if let serde_json::Value::Object(f) = fields {
                obj.extend(f);
            }
            obj.insert("message".into(), message.into());
            self.json(&serde_json::Value::Object(obj));
        } else {
            self.line(message);
        }
    }

    /// A line of the result, for people (stdout).
    pub fn line(&self, s: &str) {
        println!("{s}");
    }

    /// Progress for people (stderr), so stdout stays the result.
    pub fn progress(&self, s: &str) {
        eprintln!("{s}");
    }

    pub fn event(&self, e: &Event) {
        if self.format == Format::Json {
            self.json(e);
            return;
        }
        match e {
            Event::Connected { server, store } => self.progress(&format!("Connected to {server} (state in {store})")),
            Event::LockWaiting { holder, .. } => self.progress(&format!(
                "Waiting for the migration lock{}",
                holder.as_ref().map(|h| format!(", held by {h}")).unwrap_or_default()
            )),
            Event::LockAcquired { waited_ms } => self.progress(&format!("Got the migration lock after {waited_ms} ms")),
            Event::MigrationStarted { version, name, direction, transactional, statements } => {
                let verb = if *direction == Direction::Up { "Applying" } else { "Rolling back" };
                let how = if *transactional { "in one transaction" } else { "statement by statement, outside a transaction" };
                self.progress(&format!("{verb} {version} {name} ({statements} statement{}, {how})", plural(*statements)));
            }
            Event::Resuming { statement, statements, .. } => {
                self.progress(&format!("  resuming at statement {} of {statements}", statement + 1))
            }
            Event::Recovered { statement, action, .. } => self.progress(&format!("  statement {}: {action}", statement + 1)),
            Event::StatementStarted { statement, line, summary, .. } => {
                self.progress(&format!("  statement {} (line {line}): {summary}", statement + 1))
            }
            // Said only when it took long enough for someone to wonder.
            Event::StatementDone { statement, duration_ms, .. } if *duration_ms >= 1000 => {
                self.progress(&format!("  statement {} done in {:.1} s", statement + 1, *duration_ms as f64 / 1000.0))
            }
            Event::StatementDone { .. } => {}
            Event::Retrying { attempt, max_attempts, delay_ms, error, blockers, statement, .. } => {
                let at = statement.map(|s| format!(" statement {}", s + 1)).unwrap_or_default();
                self.progress(&format!(
                    "  {}{at}: {error}; attempt {attempt}/{max_attempts} failed, retrying in {delay_ms} ms",
                    self.paint("33", "lock timeout")
                ));
                if blockers.is_empty() {
                    self.progress("    (the blocking session had finished before it could be identified)");
                }
                for b in blockers {
                    self.progress(&format!("    blocked by {b}"));
                }
            }
            Event::Waiting { statement, waiting_for, .. } => {
                self.progress(&format!("  statement {} is waiting for {} older transaction(s):", statement + 1, waiting_for.len()));
                for b in waiting_for {
                    self.progress(&format!("    {b}"));
                }
            }
            Event::MigrationDone { version, direction, duration_ms, .. } => {
                let verb = if *direction == Direction::Up { "applied" } else { "rolled back" };
                self.progress(&format!("  {} {version} in {duration_ms} ms", self.paint("32", verb)));
            }
            Event::Marked { version, name } => self.progress(&format!("Marked {version} {name} as applied (not run)")),
            Event::Adopted { tool, version, name } => self.progress(&format!("Adopted {version} {name} from {tool}")),
            Event::Note { message } => self.progress(&format!("note: {message}")),
            Event::StatementProgress { progress, .. } => self.progress(&format!("    {}", progress.line())),
            Event::BlockerCancelled { statement, cancellation, .. } => {
                let at = statement.map(|s| format!("statement {}: ", s + 1)).unwrap_or_default();
                self.progress(&format!("  {at}{} {cancellation}", self.paint("31", "blocker:")));
            }
            Event::OnlineResuming { job, state, rows_done, .. } => {
                self.progress(&format!("    resuming osc job {job} ({state}, {rows_done} rows copied before it stopped)"))
            }
            Event::Online { progress, .. } => self.progress(&format!("    {}", online_line(progress))),
            Event::Backfill { progress, .. } => self.progress(&format!("    {}", backfill_line(progress))),
            Event::OnlineSwapped { job, table, old, .. } => match old {
                // `migrate` says at the end how to drop it or swap back.
                Some(old) => self.progress(&format!("    {table} is changed; the old table is kept in sync as {old} (osc job {job})")),
                None => self.progress(&format!("    {table} is changed (osc job {job}; its old table is already dropped)")),
            },
        }
    }

    /// Render an error; returns the exit code.
    pub fn run_error(&self, e: &RunError) -> i32 {
        let code = e.exit_code();
        if self.format == Format::Json {
            let value = match e {
                RunError::Failed(f) => serde_json::json!({"event": "error", "kind": "statement_failed", "exit_code": code, "failure": f}),
                RunError::Invalid(list) => {
                    serde_json::json!({"event": "error", "kind": "invalid_input", "exit_code": code, "errors": list})
                }
                RunError::Load(stepwise_migrate::source::LoadError::Input(list)) => {
                    serde_json::json!({"event": "error", "kind": "invalid_input", "exit_code": code, "errors": list})
                }
                RunError::Lint(list) => serde_json::json!({"event": "error", "kind": "lint", "exit_code": code, "findings": list}),
                other => serde_json::json!({"event": "error", "kind": "error", "exit_code": code, "message": other.to_string()}),
            };
            self.json(&value);
            return code;
        }
        match e {
            RunError::Failed(f) => self.statement_failure(f),
            RunError::Invalid(list) => list.iter().for_each(|i| self.input_error(i)),
            RunError::Load(stepwise_migrate::source::LoadError::Input(list)) => list.iter().for_each(|i| self.input_error(i)),
            RunError::Lint(findings) => {
                findings.iter().for_each(|f| crate::lint_output::finding_text(self, f));
                self.error(&e.to_string());
            }
            other => self.error(&other.to_string()),
        }
        code
    }

    pub fn error(&self, msg: &str) {
        if self.format == Format::Json {
            self.json(&serde_json::json!({"event": "error", "message": msg}));
        } else {
            eprintln!("{}: {msg}", self.paint("1;31", "error"));
        }
    }

    /// rustc-style: the message, the place, the line and a caret.
    pub fn input_error(&self, e: &InputError) {
        if self.format == Format::Json {
            self.json(&serde_json::json!({"event": "error", "kind": "invalid_input", "error": e}));
            return;
        }
        eprintln!("{}: {}", self.paint("1;31", "error"), e.message);
        self.snippet(&e.file, e.line, e.col, &e.line_text);
    }

    fn snippet(&self, file: &str, line: usize, col: usize, text: &str) {
        if line == 0 {
            eprintln!("  --> {file}");
            return;
        }
        let gutter = line.to_string().len();
        eprintln!("{:gutter$}--> {file}:{line}:{col}", "");
        eprintln!("{:gutter$} |", "");
        eprintln!("{line} | {}", text.replace('\t', " "));
        eprintln!("{:gutter$} | {}{}", "", " ".repeat(col.saturating_sub(1)), self.paint("1;31", "^"));
    }

    fn statement_failure(&self, f: &StatementFailure) {
        eprintln!("{}: migration {} ({}) failed: {}", self.paint("1;31", "error"), f.version, f.name, f.message);
        self.snippet(&f.file, f.line, f.col, &f.line_text);
        if let Some(s) = &f.server {
            let code = s.errno.map(|n| format!("SQLSTATE {}, error {n}", s.sqlstate)).unwrap_or_else(|| format!("SQLSTATE {}", s.sqlstate));
            eprintln!("  = {code}");
            if let Some(d) = &s.detail {
                eprintln!("  = detail: {d}");
            }
            if let Some(h) = &s.hint {
                eprintln!("  = hint: {h}");
            }
        }
        for b in &f.blockers {
            eprintln!("  = blocked by {b}");
        }
        let (command, section) = match f.direction {
            Direction::Up => ("migrate", "this migration"),
            Direction::Down => ("rollback", "the down section"),
        };
        if f.transactional {
            eprintln!("  = it ran in one transaction: nothing of it was kept. Fix it and run `stepwise {command}` again");
        } else if f.statement == 0 {
            eprintln!("  = no statement of {section} was applied; `stepwise {command}` starts it again");
        } else {
            eprintln!(
                "  = statements 1 to {} of {section} were applied; `stepwise {command}` continues at statement {}",
                f.statement,
                f.statement + 1
            );
        }
    }
}

/// One plain line per osc progress event.
pub fn online_line(p: &stepwise_online::osc::Progress) -> String {
    use stepwise_online::osc::Progress;
    match p {
        Progress::Started { job, table, shadow, estimated_rows } => {
            format!("osc job {job}: copying {table} (about {estimated_rows} rows) into {shadow}")
        }
        Progress::Copied { rows_done, rows_total, rows_per_sec, .. } => {
            let left = (rows_total - rows_done).max(0) as f64 / rows_per_sec.max(1.0);
            let pct = if *rows_total > 0 { 100.0 * *rows_done as f64 / *rows_total as f64 } else { 100.0 };
            format!("copied {rows_done}/{rows_total} rows ({pct:.0}%), {rows_per_sec:.0} rows/s, ETA {left:.0}s")
        }
        Progress::Loaded { job, threads_running, max, measure } => {
            format!("job {job}: waiting for the server's load: {threads_running} {measure}, --max-load {max}")
        }
        Progress::Throttled { job, replica, lag_ms, max_ms } => format!(
            "job {job}: waiting for replica {replica}: {} behind, max {}",
            format_duration(Duration::from_millis(*lag_ms)),
            format_duration(Duration::from_millis(*max_ms))
        ),
        Progress::IndexBuilt { index, ms, .. } => format!("built index {index} on the copy in {ms} ms"),
        Progress::Verified { rows, chunks, .. } => format!("verified {rows} rows in {chunks} chunk(s): the copy matches"),
        Progress::LockWait { what, attempt, blockers, .. } => format!(
            "lock wait: could not {what} within lock_timeout (attempt {attempt}){}",
            if blockers.is_empty() { String::new() } else { format!("; held by {}", blockers.join(", ")) }
        ),
        Progress::Swapped { table, lock_held_ms, .. } => format!("swapped: {table} is the new table (locks held {lock_held_ms} ms)"),
        Progress::Validated { foreign_keys, .. } => format!("validated foreign key(s): {}", foreign_keys.join(", ")),
        Progress::ForeignKeysRenamed { foreign_keys, .. } => format!("foreign key(s) named as before: {}", foreign_keys.join(", ")),
        Progress::ChildKeysMoved { table, foreign_keys, .. } => {
            format!("foreign key(s) now referencing {table}: {}", foreign_keys.join(", "))
        }
        Progress::Reverted { table, lock_held_ms, .. } => {
            format!("reverted: {table} is the old table again (locks held {lock_held_ms} ms)")
        }
        Progress::BlockerCancelled { cancellation, .. } => format!("blocker: {cancellation}"),
        Progress::Note { message, .. } => format!("note: {message}"),
    }
}

/// One line of a backfill's progress (the command's and migrate's).
pub fn backfill_line(p: &stepwise_online::backfill::Progress) -> String {
    use stepwise_online::backfill::Progress;
    match p {
        Progress::Started { job, table, estimated_rows } => format!("backfill job {job}: {table} (about {estimated_rows} rows)"),
        Progress::Resumed { job, table, rows_done } => format!("backfill job {job}: resuming {table} after {rows_done} rows"),
        Progress::Batch { rows_done, rows_total, rows_changed, rows_per_sec, .. } => {
            let left = (rows_total - rows_done).max(0) as f64 / rows_per_sec.max(1.0);
            let pct = if *rows_total > 0 { 100.0 * *rows_done as f64 / *rows_total as f64 } else { 100.0 };
            format!("{rows_done}/{rows_total} rows ({pct:.0}%), {rows_changed} changed, {rows_per_sec:.0} rows/s, ETA {left:.0}s")
        }
        Progress::LockWait { attempt, rows, .. } => {
            format!("a batch gave way to the application's row locks (attempt {attempt}); retrying with {rows} rows")
        }
        Progress::Throttled { job, replica, lag_ms, max_ms } => format!(
            "job {job}: waiting for replica {replica}: {} behind, max {}",
            format_duration(Duration::from_millis(*lag_ms)),
            format_duration(Duration::from_millis(*max_ms))
        ),
        Progress::Loaded { job, running, max, measure } => {
            format!("job {job}: waiting for the server's load: {running} {measure}, --max-load {max}")
        }
        Progress::Finished { job, rows_done, rows_changed, secs } => {
            format!("backfill job {job} finished: {rows_done} rows examined, {rows_changed} changed in {secs:.1}s")
        }
        Progress::BlockerCancelled { cancellation, .. } => format!("blocker: {cancellation}"),
        Progress::Note { message, .. } => format!("note: {message}"),
    }
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

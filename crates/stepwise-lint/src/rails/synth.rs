//! A Rails migration as the SQL migration it amounts to: the statements
//! Rails would send, with the directives the DSL implies
//! (`disable_ddl_transaction!` → `-- stepwise:no-transaction`, an online
//! tool → `-- stepwise:online`, `# stepwise:ignore` → `-- stepwise:ignore`),
//! and for each line of that SQL the place in the .rb file it stands for,
//! so the judges' findings point into the Ruby.

use super::interp::Migration;
use std::collections::HashMap;
use stepwise_sql::LineIndex;

/// Where a line of the derived SQL points in the .rb file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Origin {
    /// Every column of the line points at this line:col (a DSL call).
    Fixed { line: usize, col: usize },
    /// The line is the .rb file's line `line`, its columns shifted by `shift`
    /// (the text of an `execute` string or heredoc).
    Shifted { line: usize, shift: i64 },
}

#[derive(Debug, Default)]
pub struct Synth {
    pub sql: String,
    /// One entry per line of `sql` (index = line - 1), with the index of
    /// the statement (in `Migration::stmts`) the line belongs to.
    pub lines: Vec<(Origin, Option<usize>)>,
    /// `# stepwise:ignore` comment lines (of the .rb file) and how many
    /// statements each was copied before.
    pub ignores: HashMap<usize, usize>,
}

impl Synth {
    /// The .rb line:col of line:col of the derived SQL.
    pub fn origin(&self, line: usize, col: usize) -> (usize, usize) {
        match self.lines.get(line.saturating_sub(1)).map(|l| l.0) {
            Some(Origin::Fixed { line, col }) => (line, col),
            Some(Origin::Shifted { line, shift }) => (line, (col as i64 + shift).max(1) as usize),
            None => (1, 1),
        }
    }

    /// The statement a line of the derived SQL belongs to.
    pub fn statement(&self, line: usize) -> Option<usize> {
        self.lines.get(line.saturating_sub(1)).and_then(|l| l.1)
    }
}

/// `# stepwise:ignore a,b reason` comments, by the .rb line they are on.
pub fn ignore_comments(text: &str, idx: &LineIndex, comments: &[(usize, String)]) -> HashMap<usize, String> {
    let mut out = HashMap::new();
    for (at, c) in comments {
        let body = c.trim_start_matches('#').trim();
        if let Some(rest) = body.strip_prefix("stepwise:ignore") {
            out.insert(idx.line_col(text, *at).0, rest.trim().to_string());
        }
    }
    out
}

/// The ignore comments that apply to a call on `line`: those on the lines
/// right above it (a run of comment lines).
pub fn ignores_above(line: usize, ignores: &HashMap<usize, String>, comment_lines: &std::collections::HashSet<usize>) -> Vec<usize> {
    let mut out = Vec::new();
    let mut l = line;
    while l > 1 && comment_lines.contains(&(l - 1)) {
        l -= 1;
        if ignores.contains_key(&l) {
            out.push(l);
        }
    }
    out
}

pub fn build(text: &str, idx: &LineIndex, m: &Migration, comments: &[(usize, String)]) -> Synth {
    let ignores = ignore_comments(text, idx, comments);
    let comment_lines: std::collections::HashSet<usize> = comments
        .iter()
        .filter(|(at, _)| text[..*at].rsplit('\n').next().is_some_and(|before| before.trim().is_empty()))
        .map(|(at, _)| idx.line_col(text, *at).0)
        .collect();
    let mut s = Synth::default();
    let push = |s: &mut Synth, line: &str, origin: Origin, stmt: Option<usize>| {
        s.sql.push_str(line);
        s.sql.push('\n');
        s.lines.push((origin, stmt));
    };
    let top = Origin::Fixed { line: 1, col: 1 };
    push(&mut s, "-- stepwise:up", top, None);
    if m.no_transaction {
        push(&mut s, "-- stepwise:no-transaction", top, None);
    }
    let total = idx.line_col(text, text.len()).0;
    for (i, e) in m.stmts.iter().enumerate() {
        let (line, col) = idx.line_col(text, e.at);
        for l in ignores_above(line, &ignores, &comment_lines) {
            *s.ignores.entry(l).or_default() += 1;
            push(&mut s, &format!("-- stepwise:ignore {}", ignores[&l]), Origin::Fixed { line: l, col: 1 }, None);
        }
        let upper = e.sql.trim_start().get(..11).map(|w| w.to_ascii_uppercase());
        if e.online && upper.as_deref() == Some("ALTER TABLE") {
            push(&mut s, "-- stepwise:online", Origin::Fixed { line, col }, Some(i));
        }
        let sql = e.sql.trim_end();
        let sql = sql.strip_suffix(';').unwrap_or(sql).trim_end();
        for (k, l) in sql.split('\n').enumerate() {
            let origin = if e.literal {
                let src_line = (line + k).min(total);
                let src = idx.line_text(text, src_line);
                let indent = |t: &str| (t.len() - t.trim_start().len()) as i64;
                let shift = if k == 0 && col > 1 { col as i64 - 1 } else { indent(src) - indent(l) };
                Origin::Shifted { line: src_line, shift }
            } else {
                Origin::Fixed { line, col }
            };
            push(&mut s, l, origin, Some(i));
        }
        // The statement's end, on a line of its own: a `--` comment at the
        // end of the SQL would swallow it otherwise.
        let last = s.lines.last().map(|l| l.0).unwrap_or(top);
        push(&mut s, ";", last, Some(i));
    }
    s
}

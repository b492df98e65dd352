//! How a rule's hit becomes a finding, the same for every engine: a
//! `-- stepwise:ignore` excuses it, size decides the severity of a scan or a
//! rewrite, `[lint] severity` overrides, and the position is the file's
//! line:col. Ignores that excused nothing are findings of their own.

use crate::{Cost, Finding, Hit, LintOptions, RuleMeta, Severity};
use stepwise_sql::{LineIndex, SourceFile, Statement};

/// The statement being judged, and where its findings point.
pub struct At<'a> {
    pub file: &'a SourceFile,
    /// The file's line index, made when its first finding needs it (most
    /// files have none).
    pub lines: &'a std::cell::OnceCell<LineIndex>,
    pub stmt: &'a Statement,
}

impl At<'_> {
    fn idx(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.file.text))
    }

    /// Whether a `-- stepwise:ignore` before the statement names `rule`.
    pub fn ignored(&self, rule: &str) -> bool {
        self.stmt.ignores.iter().any(|i| i.rules.iter().any(|r| r == rule))
    }

    /// The finding for `hit`; `rows` is the size of the table it falls on,
    /// when known.
    pub fn finding(&self, meta: &RuleMeta, hit: Hit, rows: Option<i64>, opts: &LintOptions) -> Finding {
        let mut severity = meta.severity;
        let mut message = hit.message;
        if meta.cost == Cost::ScanOrRewrite {
            if let Some(rows) = rows {
                severity = if rows >= opts.large_table_rows { Severity::Error } else { Severity::Warning };
                message.push_str(&format!(" ({}: about {} rows)", hit.table.as_deref().unwrap_or(""), human_rows(rows)));
            }
        }
        if let Some(s) = opts.config.severity.get(meta.id) {
            severity = *s;
        }
        let offset = self.stmt.span.start + hit.offset.min(self.stmt.sql.len());
        let (line, col) = self.idx().line_col(&self.file.text, offset);
        Finding {
            rule: meta.id.to_string(),
            severity,
            file: self.file.name.clone(),
            line,
            col,
            line_text: self.idx().line_text(&self.file.text, line).to_string(),
            message,
            why: hit.why,
            safe: hit.safe,
        }
    }

    /// Run one rule on the statement, the same way for every engine: an
    /// online statement does not pay for a lock or a rewrite on the live
    /// table (see `Cost::avoided_online`), so those rules skip it; a hit a
    /// `-- stepwise:ignore` excuses goes to `suppressed`; the others become
    /// findings, sized by `rows` (the table's rows, when known).
    pub fn run(
        &self,
        meta: &'static RuleMeta,
        check: impl FnOnce(&mut Vec<Hit>),
        rows: impl Fn(&str) -> Option<i64>,
        opts: &LintOptions,
        out: &mut Vec<Finding>,
        suppressed: &mut Vec<&'static str>,
    ) {
        if self.stmt.online.is_some() && meta.cost.avoided_online() {
            return;
        }
        let mut hits = Vec::new();
        check(&mut hits);
        for hit in hits {
            if self.ignored(meta.id) {
                suppressed.push(meta.id);
                continue;
            }
            let size = hit.table.as_deref().and_then(&rows);
            out.push(self.finding(meta, hit, size, opts));
        }
    }

    /// `-- stepwise:ignore` rules that excused nothing are findings themselves:
    /// an exception that excuses nothing hides the next real problem.
    ///
    /// An ignore naming a rule that is known but not enabled here (an opt-in
    /// rule another team turns on) excuses nothing, harmlessly: `known_off`
    /// says which, and they are not reported.
    pub fn unused_ignores(&self, suppressed: &[&str], known_off: impl Fn(&str) -> bool) -> Vec<Finding> {
        let mut out = Vec::new();
        for ig in &self.stmt.ignores {
            for rule in ig.rules.iter().filter(|r| !suppressed.contains(&r.as_str()) && !known_off(r)) {
                out.push(Finding {
                    rule: "unused-ignore".into(),
                    severity: Severity::Warning,
                    file: self.file.name.clone(),
                    line: ig.line,
                    col: 1,
                    line_text: self.idx().line_text(&self.file.text, ig.line).to_string(),
                    message: format!("`stepwise:ignore {rule}` matches no finding on the next statement"),
                    why: "An exception that excuses nothing misleads reviewers and hides the next real problem.".into(),
                    safe: "Remove the directive, or correct the rule name.".into(),
                });
            }
        }
        out
    }
}

pub fn human_rows(rows: i64) -> String {
    match rows {
        r if r >= 1_000_000_000 => format!("{:.1}B", r as f64 / 1e9),
        r if r >= 1_000_000 => format!("{:.1}M", r as f64 / 1e6),
        r if r >= 1_000 => format!("{:.0}k", r as f64 / 1e3),
        r => r.to_string(),
    }
}

//! Lint findings as text (like rustc), JSON, SARIF 2.1.0 or GitHub
//! workflow annotations.

use crate::cli::Format;
use crate::render::Out;
use stepwise_lint::{Finding, LintReport, Severity};

pub fn render(out: &Out, report: &LintReport) {
    match out.format {
        // Markdown is refused for lint before it gets here.
        Format::Text | Format::Markdown => text(out, report),
        // Borrowed, not copied into a `serde_json::Value`: a large history
        // has tens of thousands of findings.
        Format::Json => out.json(&JsonReport {
            findings: &report.findings,
            errors: &report.errors,
            suppressed: &report.suppressed,
            summary: summary(report),
        }),
        Format::Sarif => out.json(&sarif(report)),
        Format::Github => github(report),
    }
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    findings: &'a [Finding],
    errors: &'a [stepwise_sql::InputError],
    /// Findings a reviewed exception excused (Rails' `safety_assured`).
    suppressed: &'a [Finding],
    summary: serde_json::Value,
}

fn summary(r: &LintReport) -> serde_json::Value {
    serde_json::json!({
        "files": r.files,
        "statements": r.statements,
        "errors": r.count(Severity::Error),
        "warnings": r.count(Severity::Warning),
        "unparseable": r.errors.len() - r.refused,
        "cannot_run": r.refused,
        "suppressed": r.suppressed.len(),
        "not_analysed": r.not_analysed,
    })
}

fn text(out: &Out, r: &LintReport) {
    for e in &r.errors {
        out.input_error(e);
    }
    for f in &r.findings {
        finding_text(out, f);
    }
    let (e, w) = (r.count(Severity::Error), r.count(Severity::Warning));
    let mut line = format!("{} file(s), {} statement(s): {e} error(s), {w} warning(s)", r.files, r.statements);
    let unparseable = r.errors.len() - r.refused;
    if unparseable > 0 {
        line.push_str(&format!(", {unparseable} statement(s) or file(s) that cannot be parsed"));
    }
    if r.refused > 0 {
        line.push_str(&format!(", {} statement(s) that cannot run as the migration runs them", r.refused));
    }
    if !r.suppressed.is_empty() {
        let mut rules: Vec<&str> = r.suppressed.iter().map(|f| f.rule.as_str()).collect();
        rules.sort();
        rules.dedup();
        line.push_str(&format!(", {} suppressed by safety_assured ({})", r.suppressed.len(), rules.join(", ")));
    }
    if r.not_analysed > 0 {
        let share = 100.0 * r.not_analysed as f64 / (r.statements + r.not_analysed) as f64;
        line.push_str(&format!(", {} part(s) of Ruby not analysed ({share:.1}%)", r.not_analysed));
    }
    out.line(&line);
}

pub fn finding_text(out: &Out, f: &Finding) {
    let head = format!("{}[{}]", f.severity.as_str(), f.rule);
    let gutter = f.line.to_string().len();
    let mut s = format!("{}: {}\n", out.paint(if f.severity == Severity::Error { "1;31" } else { "1;33" }, &head), f.message);
    s.push_str(&format!("{:gutter$}--> {}:{}:{}\n", "", f.file, f.line, f.col));
    s.push_str(&format!("{:gutter$} |\n{} | {}\n{:gutter$} | {}^\n", "", f.line, f.line_text, "", " ".repeat(f.col.saturating_sub(1))));
    s.push_str(&format!("{:gutter$} = why: {}\n", "", f.why));
    s.push_str(&format!("{:gutter$} = instead:\n", ""));
    for l in f.safe.lines() {
        s.push_str(&format!("{:gutter$}       {l}\n", ""));
    }
    out.line(&s);
}

fn sarif(r: &LintReport) -> serde_json::Value {
    // The rules of both judges (a finding names its rule; ids shared by the
    // two are described once).
    let mut metas = stepwise_lint::rule_metas(stepwise_sql::Dialect::Postgres);
    metas.extend(stepwise_lint::rule_metas(stepwise_sql::Dialect::MySql).into_iter().filter(|m| m.id.starts_with("mysql-")));
    metas.extend(stepwise_lint::rails::rule_metas());
    let rules: Vec<serde_json::Value> = metas
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id,
                "shortDescription": {"text": m.summary},
                "defaultConfiguration": {"level": m.severity.as_str(), "enabled": m.default_on},
            })
        })
        .collect();
    let mut results: Vec<serde_json::Value> = r
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "ruleId": f.rule,
                "level": f.severity.as_str(),
                "message": {"text": format!("{}\n\nWhy: {}\n\nInstead:\n{}", f.message, f.why, f.safe)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.file},
                    "region": {"startLine": f.line, "startColumn": f.col.max(1)}
                }}]
            })
        })
        .collect();
    results.extend(r.errors.iter().map(|e| {
        serde_json::json!({
            "ruleId": "parse-error",
            "level": "error",
            "message": {"text": e.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": e.file},
                "region": {"startLine": e.line.max(1), "startColumn": e.col.max(1)}
            }}]
        })
    }));
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "stepwise", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://github.com/stepwise", "rules": rules}},
            "results": results
        }]
    })
}

/// GitHub's workflow-command escaping for data and for property values.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_prop(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(r: &LintReport) {
    for e in &r.errors {
        println!(
            "::error file={},line={},col={},title=parse-error::{}",
            escape_prop(&e.file),
            e.line.max(1),
            e.col.max(1),
            escape_data(&e.message)
        );
    }
    for f in &r.findings {
        let level = if f.severity == Severity::Error { "error" } else { "warning" };
        println!(
            "::{level} file={},line={},col={},title={}::{}",
            escape_prop(&f.file),
            f.line,
            f.col.max(1),
            escape_prop(&f.rule),
            escape_data(&format!("{}\nWhy: {}\nInstead:\n{}", f.message, f.why, f.safe))
        );
    }
}

pub fn list_rules(out: &Out, dialect: stepwise_sql::Dialect) {
    // The Rails front end's own findings, for Rails migrations of either adapter.
    for m in stepwise_lint::rule_metas(dialect).into_iter().chain(stepwise_lint::rails::rule_metas()) {
        if out.format == crate::cli::Format::Json {
            out.json(&serde_json::json!({"rule": m.id, "severity": m.severity.as_str(), "default_on": m.default_on, "summary": m.summary}));
            continue;
        }
        let on = if m.default_on { "" } else { " (opt-in)" };
        out.line(&format!("{:40} {:7} {}{on}", m.id, m.severity.as_str(), m.summary));
    }
}

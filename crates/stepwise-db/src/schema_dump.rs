//! A normalized schema dump, for telling whether two PostgreSQL databases
//! have the same schema (for example: before an up migration, and after its
//! down migration).
//!
//! The dump is `pg_dump --schema-only` without owners, privileges,
//! tablespaces and subscriptions (they belong to the environment, not to the
//! schema), but with everything a down migration must restore: tables,
//! columns, types, defaults, indexes, constraints, functions, triggers, views,
//! sequences, enum types and comments. Normalizing removes pg_dump's noise and
//! sorts its statements, so the order in which objects were created does not
//! matter.

use crate::pg::quote_ident;
use crate::scratch::find_program;
use crate::{DbError, DbUrl};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// pg_dump gives up rather than queue behind a lock for longer than this.
const LOCK_WAIT_TIMEOUT: &str = "10s";
/// Statements larger than this (lines before × lines after) are shown whole
/// rather than diffed line by line.
const MAX_DIFF_CELLS: usize = 1_000_000;

/// The normalized schema of the database at `url`, without the schemas in
/// `exclude_schemas` (exact names, not patterns). `bindir` is where to look
/// for `pg_dump` first (a scratch server's [`crate::scratch::Scratch::bindir`]).
pub async fn dump_schema(url: &DbUrl, exclude_schemas: &[&str], bindir: Option<&Path>) -> Result<String, DbError> {
    Ok(normalize_dump(&dump_schema_raw(url, exclude_schemas, bindir).await?))
}

/// pg_dump's own output, before [`normalize_dump`].
pub async fn dump_schema_raw(url: &DbUrl, exclude_schemas: &[&str], bindir: Option<&Path>) -> Result<String, DbError> {
    // pg_dump reads servers of its own version and older, so the newest installed one is the best fallback.
    let pg_dump = find_program("pg_dump", bindir).or_else(|| find_program("pg_dump", None)).unwrap_or_else(|| PathBuf::from("pg_dump"));
    // The password goes through the environment: other local users can read a command line.
    let (target, password) = split_password(url.expose());
    let mut cmd = tokio::process::Command::new(&pg_dump);
    cmd.args(["--schema-only", "--no-owner", "--no-privileges", "--no-tablespaces", "--no-subscriptions"])
        .arg("--no-password")
        .arg(format!("--lock-wait-timeout={LOCK_WAIT_TIMEOUT}"));
    for schema in exclude_schemas {
        cmd.arg(format!("--exclude-schema={}", quote_ident(schema)));
    }
    cmd.arg(format!("--dbname={target}")).stdin(Stdio::null()).kill_on_drop(true);
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    let output = cmd.output().await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DbError::Other(format!(
            "pg_dump not found: install the PostgreSQL client (apt-get install postgresql-client) or set STEPWISE_PG_BINDIR ({e})"
        )),
        _ => DbError::Other(format!("cannot run {}: {e}", pg_dump.display())),
    })?;
    if !output.status.success() {
        return Err(DbError::Other(format!(
            "pg_dump of {} failed ({}): {}",
            url.redacted(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8(output.stdout).map_err(|e| DbError::Other(format!("pg_dump of {} printed invalid UTF-8: {e}", url.redacted())))
}

/// The dump's statements without pg_dump's noise (comments, blank lines,
/// `SET`, `set_config`, `\restrict`), each kept whole, sorted, one after the
/// other. Trailing whitespace is dropped.
pub fn normalize_dump(raw: &str) -> String {
    let mut statements = split_statements(raw);
    statements.sort();
    let mut out = statements.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// What differs between two dumps, statement by statement: `- line` for what
/// only `before` has, `+ line` for what only `after` has. A statement that
/// changed (say a table that lost a column) is shown as its first line with
/// two spaces, followed by its changed lines.
pub fn diff_lines(before: &str, after: &str) -> Vec<String> {
    let (before, after) = (split_statements(before), split_statements(after));
    let removed = multiset_minus(&before, &after);
    let added = multiset_minus(&after, &before);
    let mut paired = vec![false; added.len()];
    let mut out = Vec::new();
    for old in &removed {
        let head = first_line(old);
        let partner = only_one_with_head(&removed, head)
            .and(only_one_with_head(&added, head))
            .filter(|&j| old.lines().count() * added[j].lines().count() <= MAX_DIFF_CELLS);
        match partner {
            Some(j) => {
                paired[j] = true;
                out.extend(statement_diff(old, &added[j]));
            }
            None => out.extend(old.lines().map(|l| format!("- {l}"))),
        }
    }
    for (new, _) in added.iter().zip(&paired).filter(|(_, &p)| !p) {
        out.extend(new.lines().map(|l| format!("+ {l}")));
    }
    out
}

/// Split a dump into statements. A statement ends with `;` at the end of a
/// line, outside quotes and dollar quotes (function bodies), or, for a
/// `BEGIN ATOMIC` body, with the line `END;`.
fn split_statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut quote = Quote::None;
    let mut atomic = false;
    for line in text.lines().map(str::trim_end) {
        if current.is_empty() && is_noise(line) {
            continue;
        }
        if quote == Quote::None && line.trim_start() == "BEGIN ATOMIC" {
            atomic = true;
        }
        quote = scan(line, quote);
        current.push(line);
        let ends = quote == Quote::None && if atomic { line == "END;" } else { line.ends_with(';') };
        if ends {
            statements.push(current.join("\n"));
            current.clear();
            atomic = false;
        }
    }
    if !current.is_empty() {
        statements.push(current.join("\n"));
    }
    statements
}

fn is_noise(line: &str) -> bool {
    line.is_empty()
        || line.starts_with("--")
        || line.starts_with("SET ")
        || line.starts_with("SELECT pg_catalog.set_config(")
        || line.starts_with("\\restrict")
        || line.starts_with("\\unrestrict")
}

/// The quoting a line ends in, which the next line starts in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Quote {
    None,
    /// `'...'`; `E'...'` also has backslash escapes.
    Single {
        backslash: bool,
    },
    /// `"..."`
    Double,
    /// `$tag$...$tag$`, holding the whole delimiter.
    Dollar(Vec<u8>),
}

/// Follow the quoting through one line. (The quote characters are ASCII,
/// so walking bytes never confuses them with part of a UTF-8 character.)
fn scan(line: &str, mut quote: Quote) -> Quote {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match &quote {
            Quote::None => match b[i] {
                b'\'' => {
                    let e_string = i > 0 && b[i - 1].eq_ignore_ascii_case(&b'e') && (i < 2 || !is_ident_byte(b[i - 2]));
                    quote = Quote::Single { backslash: e_string };
                }
                b'"' => quote = Quote::Double,
                // `$` inside an identifier (`a$b`) does not start a dollar quote.
                b'$' if i == 0 || !is_ident_byte(b[i - 1]) => {
                    if let Some(len) = dollar_tag_len(&b[i..]) {
                        quote = Quote::Dollar(b[i..i + len].to_vec());
                        i += len - 1;
                    }
                }
                _ => {}
            },
            Quote::Single { backslash } => match b[i] {
                b'\\' if *backslash => i += 1,
                b'\'' => quote = Quote::None,
                _ => {}
            },
            Quote::Double => {
                if b[i] == b'"' {
                    quote = Quote::None;
                }
            }
            Quote::Dollar(tag) => {
                if b[i..].starts_with(tag) {
                    i += tag.len() - 1;
                    quote = Quote::None;
                }
            }
        }
        i += 1;
    }
    quote
}

/// The length of a dollar-quote delimiter (`$$`, `$body$`) at the start of `b`.
fn dollar_tag_len(b: &[u8]) -> Option<usize> {
    let mut j = 1;
    if b.get(j).is_some_and(|&c| is_ident_byte(c) && !c.is_ascii_digit()) {
        while b.get(j).is_some_and(|&c| is_ident_byte(c)) {
            j += 1;
        }
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1)
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn first_line(statement: &str) -> &str {
    statement.lines().next().unwrap_or("")
}

/// The index of the only statement in `list` starting with `head`, if exactly one does.
fn only_one_with_head(list: &[String], head: &str) -> Option<usize> {
    let mut matches = list.iter().enumerate().filter(|(_, s)| first_line(s) == head).map(|(i, _)| i);
    match (matches.next(), matches.next()) {
        (Some(i), None) => Some(i),
        _ => None,
    }
}

/// The statements of `left` that `right` lacks, counting repeats.
fn multiset_minus(left: &[String], right: &[String]) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for s in right {
        *counts.entry(s).or_default() += 1;
    }
    left.iter()
        .filter(|s| match counts.get_mut(s.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

/// A line diff of two versions of one statement (same first line): the first
/// line as context, then the removed and added lines.
fn statement_diff(before: &str, after: &str) -> Vec<String> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    // Lines compare without a trailing comma: a column added at the end of a
    // list does not make the one before it look changed.
    let key = |l: &str| l.strip_suffix(',').unwrap_or(l).to_string();
    let (ka, kb): (Vec<String>, Vec<String>) = (a.iter().map(|l| key(l)).collect(), b.iter().map(|l| key(l)).collect());
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if ka[i] == kb[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && ka[i] == kb[j] {
            if i == 0 {
                out.push(format!("  {}", a[i]));
            }
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", a[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", b[j]));
            j += 1;
        }
    }
    out
}

/// The URL without its password (from `user:password@` or a `password=`
/// parameter), and the password, percent-decoded.
pub(crate) fn split_password(raw: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return (raw.to_string(), None);
    };
    let (main, query) = rest.split_once('?').map_or((rest, None), |(m, q)| (m, Some(q)));
    let (authority, path) = main.split_at(main.find('/').unwrap_or(main.len()));
    let mut password = None;
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => match userinfo.split_once(':') {
            Some((user, pw)) => {
                password = Some(percent_decode(pw));
                format!("{user}@{hosts}")
            }
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let mut out = format!("{scheme}://{authority}{path}");
    let mut params = Vec::new();
    for param in query.into_iter().flat_map(|q| q.split('&')) {
        match param.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("password") => password = Some(percent_decode(value)),
            _ => params.push(param),
        }
    }
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    (out, password)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = r#"--
-- PostgreSQL database dump
--

\restrict abc123

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Name: f(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.f() RETURNS trigger
    LANGUAGE plpgsql
    AS $_$
begin
  -- a comment;

  new.n := '$1;';
  return new;
end;
$_$;

CREATE TABLE public.t (
    id integer NOT NULL,
    note text DEFAULT E'it\'s;
'::text
);

COMMENT ON TABLE public.t IS 'two
lines;';

CREATE FUNCTION public.g(x integer) RETURNS integer
    LANGUAGE sql
    BEGIN ATOMIC
 SELECT 1;
 SELECT 2;
END;

CREATE INDEX a_idx ON public.t USING btree (id);

\unrestrict abc123
"#;

    #[test]
    fn statements_stay_whole_and_noise_goes() {
        let statements = split_statements(DUMP);
        assert_eq!(statements.len(), 5, "{statements:#?}");
        assert!(statements[0].starts_with("CREATE FUNCTION public.f()") && statements[0].ends_with("$_$;"));
        assert!(statements[0].contains("  -- a comment;\n\n  new.n"), "function bodies keep comments and blank lines");
        assert!(statements[1].ends_with("'::text\n);"));
        assert!(statements[2].ends_with("lines;';"));
        assert!(statements[3].starts_with("CREATE FUNCTION public.g") && statements[3].ends_with("\nEND;"));
        let normal = normalize_dump(DUMP);
        assert!(normal.starts_with("COMMENT ON TABLE"), "{normal}");
        assert!(!normal.contains("restrict") && !normal.contains("SET ") && !normal.contains("PostgreSQL database dump"));
        assert_eq!(normalize_dump(&normal), normal, "normalizing is idempotent");
    }

    #[test]
    fn order_does_not_matter() {
        let a = "CREATE TABLE a (\n    x int\n);\n\nCREATE TABLE b (\n    y int\n);\n";
        let b = "-- other order\nCREATE TABLE b (\n    y int\n);\nCREATE TABLE a (\n    x int\n);\n";
        assert_eq!(normalize_dump(a), normalize_dump(b));
        assert!(diff_lines(&normalize_dump(a), &normalize_dump(b)).is_empty());
    }

    #[test]
    fn diff_shows_changed_statements() {
        let before = "CREATE TABLE a (\n    x int,\n    y int\n);\nCREATE INDEX i ON a (x);\nCREATE TABLE c (\n);\n";
        let after = "CREATE TABLE a (\n    x int\n);\nCREATE TABLE c (\n);\nCREATE INDEX j ON a (y);\n";
        assert_eq!(
            diff_lines(before, after),
            // The last column gone: only it shows, not the comma it took from `x`.
            ["  CREATE TABLE a (", "-     y int", "- CREATE INDEX i ON a (x);", "+ CREATE INDEX j ON a (y);"]
        );
    }

    #[test]
    fn passwords_leave_the_command_line() {
        assert_eq!(
            split_password("postgres://app:s%40cret@h:5432/db?sslmode=disable"),
            ("postgres://app@h:5432/db?sslmode=disable".to_string(), Some("s@cret".to_string()))
        );
        assert_eq!(
            split_password("postgresql://app@h/db?Password=x%2By&application_name=a"),
            ("postgresql://app@h/db?application_name=a".to_string(), Some("x+y".to_string()))
        );
        assert_eq!(split_password("postgres://h/db"), ("postgres://h/db".to_string(), None));
    }
}

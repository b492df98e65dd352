//! Recipes written as edits of the statement the user wrote: the type of one
//! column replaced, a constraint inserted after it. The rest of the text
//! (formatting, comments, quoting) stays as written, which reads better in a
//! review than a deparsed statement and costs no trip through the deparser.

use std::ops::Range;

/// Replacements in one text, applied together.
#[derive(Debug, Default)]
pub struct Edits {
    edits: Vec<(Range<usize>, String)>,
}

impl Edits {
    /// Replace `range` with `text` (an empty range inserts).
    pub fn replace(&mut self, range: Range<usize>, text: impl Into<String>) {
        self.edits.push((range, text.into()));
    }

    pub fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.replace(at..at, text);
    }

    /// `src` with every edit applied. Edits are applied in order of position;
    /// one that overlaps an earlier one, or falls outside `src` or inside a
    /// character, is dropped rather than producing garbage.
    pub fn apply(mut self, src: &str) -> String {
        self.edits.sort_by_key(|(r, _)| (r.start, r.end));
        let mut out = String::with_capacity(src.len() + 64);
        let mut at = 0;
        for (r, text) in self.edits {
            if r.start < at || r.end < r.start || r.end > src.len() || !src.is_char_boundary(r.start) || !src.is_char_boundary(r.end) {
                continue;
            }
            out.push_str(&src[at..r.start]);
            out.push_str(&text);
            at = r.end;
        }
        out.push_str(&src[at..]);
        out
    }
}

/// Words that continue a type name after its first word: `character
/// varying`, `double precision`, `timestamp without time zone`.
const TYPE_WORDS: &[&str] = &["varying", "precision", "without", "with", "time", "zone", "character", "char"];

/// The span of a type name that starts at `start` in `sql` (a `TypeName`'s
/// location): its words, a qualifying `schema.`, and its modifiers in
/// parentheses, but not an array suffix (`[]`) nor what follows the type.
pub fn type_span(sql: &str, start: usize) -> Range<usize> {
    let b = sql.as_bytes();
    let mut end = start;
    let mut pos = start;
    let mut first = true;
    loop {
        pos = skip_space(b, pos);
        match b.get(pos) {
            Some(b'"') => {
                if !first && b.get(end.wrapping_sub(1)) != Some(&b'.') {
                    break;
                }
                let close = sql[pos + 1..].find('"').map_or(b.len(), |i| pos + 2 + i);
                (end, pos) = (close, close);
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let word_end = pos + b[pos..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'$').count();
                let word = &sql[pos..word_end];
                let qualified = b.get(end.wrapping_sub(1)) == Some(&b'.');
                if !first && !qualified && !TYPE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
                    break;
                }
                (end, pos) = (word_end, word_end);
            }
            Some(b'.') if !first => (end, pos) = (pos + 1, pos + 1),
            Some(b'(') if !first => {
                let close = matching_paren(b, pos);
                (end, pos) = (close, close);
            }
            _ => break,
        }
        first = false;
    }
    start..end
}

fn skip_space(b: &[u8], mut pos: usize) -> usize {
    loop {
        while b.get(pos).is_some_and(u8::is_ascii_whitespace) {
            pos += 1;
        }
        if b[pos.min(b.len())..].starts_with(b"--") {
            while b.get(pos).is_some_and(|c| *c != b'\n') {
                pos += 1;
            }
        } else if b[pos.min(b.len())..].starts_with(b"/*") {
            pos = b[pos + 2..].windows(2).position(|w| w == b"*/").map_or(b.len(), |i| pos + 4 + i);
        } else {
            return pos;
        }
    }
}

/// Just past the `)` that closes the `(` at `open` (modifiers hold numbers
/// and words only, so quotes need no care here).
fn matching_paren(b: &[u8], open: usize) -> usize {
    let mut depth = 0;
    for (i, c) in b.iter().enumerate().skip(open) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span_of(sql: &str, from: &str) -> &'static str {
        let start = sql.find(from).unwrap();
        let r = type_span(sql, start);
        Box::leak(sql[r].to_string().into_boxed_str())
    }

    #[test]
    fn type_spans_cover_the_words_and_modifiers_of_a_type() {
        assert_eq!(span_of("id integer NOT NULL", "integer"), "integer");
        assert_eq!(span_of("name character varying (20) DEFAULT 'x'", "character"), "character varying (20)");
        assert_eq!(span_of("at timestamp(3) without time zone, b int", "timestamp"), "timestamp(3) without time zone");
        assert_eq!(span_of("at timestamp[] NOT NULL", "timestamp"), "timestamp");
        assert_eq!(span_of("x pg_catalog.int4 PRIMARY KEY", "pg_catalog"), "pg_catalog.int4");
        assert_eq!(span_of("x \"char\" REFERENCES t", "\"char\""), "\"char\"");
        assert_eq!(span_of("x varchar(20) /* note */ COLLATE \"C\"", "varchar"), "varchar(20)");
        assert_eq!(span_of("x serial)", "serial"), "serial");
        assert_eq!(span_of("x json", "json"), "json");
    }

    #[test]
    fn edits_apply_in_position_order_and_skip_overlaps() {
        let mut e = Edits::default();
        e.insert(5, " NOT NULL");
        e.replace(2..5, "bigint");
        e.replace(3..4, "clash");
        assert_eq!(e.apply("a int, b"), "a bigint NOT NULL, b");
    }
}

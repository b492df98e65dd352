//! Byte offsets to line and column, and the other way round. Columns count
//! characters, as editors and PostgreSQL's error positions do.

#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let col = text.get(start..offset).map(|s| s.chars().count()).unwrap_or(offset - start);
        (line + 1, col + 1)
    }

    /// The text of a 1-based line, without its newline.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        if line == 0 || line > self.starts.len() {
            return "";
        }
        let start = self.starts[line - 1];
        let end = self.starts.get(line).map(|e| e - 1).unwrap_or(text.len());
        text[start..end].trim_end_matches('\r')
    }
}

/// Byte offset of the 1-based character position `pos` in `text` (PostgreSQL
/// reports error positions in characters). Positions past the end clamp to it.
pub fn char_pos_to_byte(text: &str, pos: usize) -> usize {
    text.char_indices().nth(pos.saturating_sub(1)).map(|(i, _)| i).unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters() {
        let text = "ab\nçé x\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        // 'x' is after two 2-byte characters and a space.
        assert_eq!(idx.line_col(text, 8), (2, 4));
        assert_eq!(idx.line_text(text, 2), "çé x");
    }

    #[test]
    fn character_positions_map_to_bytes() {
        assert_eq!(char_pos_to_byte("çé x", 4), 5);
        assert_eq!(char_pos_to_byte("abc", 1), 0);
        assert_eq!(char_pos_to_byte("abc", 99), 3);
    }
}

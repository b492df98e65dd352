//! The tables as the migrations so far (or the live catalog) left them:
//! what the classifier needs to know about a table to name the algorithm
//! of a change to it.

use super::ast::*;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub keys: Vec<KeyDef>,
    pub foreign_keys: Vec<ForeignKeyDef>,
    /// The table's default character set, when known.
    pub charset: Option<String>,
    pub row_format: Option<String>,
    pub partitioned: bool,
    /// Created by a migration not applied yet: nothing reads it, changes are free.
    pub new: bool,
    /// Rows and bytes, from the live catalog.
    pub rows: Option<i64>,
    pub data_bytes: Option<i64>,
    /// MySQL 8.0.29+: instant ADD/DROP COLUMN row versions used (of 64).
    pub row_versions: Option<u32>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn has_fulltext(&self) -> bool {
        self.keys.iter().any(|k| k.kind == KeyKind::Fulltext)
    }

    pub fn has_spatial(&self) -> bool {
        self.keys.iter().any(|k| k.kind == KeyKind::Spatial)
    }

    /// Whether `column` is part of any key.
    pub fn indexed(&self, column: &str) -> bool {
        self.keys.iter().any(|k| k.columns.iter().any(|c| c.eq_ignore_ascii_case(column)))
    }

    pub fn primary(&self) -> Option<&KeyDef> {
        self.keys.iter().find(|k| k.kind == KeyKind::Primary)
    }

    /// The column's character set: its own, its collation's, the table's.
    pub fn charset_of(&self, col: &ColumnDef) -> Option<String> {
        col.ty
            .charset
            .clone()
            .or_else(|| col.ty.collation.as_ref().and_then(|c| c.split('_').next().map(str::to_string)))
            .or_else(|| self.charset.clone())
            .map(|c| if c == "utf8" { "utf8mb3".to_string() } else { c })
    }
}

/// Tables by lower-cased name (table names are case-insensitive on the
/// servers teams run with `lower_case_table_names=1`; on Linux with 0 two
/// tables differing only in case are rare enough to merge here).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub tables: HashMap<String, Table>,
}

pub fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl Schema {
    pub fn get(&self, name: &str) -> Option<&Table> {
        self.tables.get(&key(name))
    }

    /// Whether `name` exists and was not created by a pending migration.
    pub fn existing(&self, name: &str) -> Option<&Table> {
        self.get(name).filter(|t| !t.new)
    }

    /// Mark every table as existing (the migration that made them is applied).
    pub fn settle(&mut self) {
        for t in self.tables.values_mut() {
            t.new = false;
        }
    }

    /// Apply a statement; `new` marks what it creates as new.
    pub fn apply(&mut self, stmt: &Stmt, new: bool) {
        match stmt {
            Stmt::CreateTable(ct) => {
                let mut t = match &ct.like {
                    Some(src) => self.get(src).cloned().map(|mut t| {
                        t.rows = None;
                        t.data_bytes = None;
                        t.foreign_keys.clear();
                        t
                    }),
                    None => None,
                }
                .unwrap_or_default();
                t.name = ct.table.clone();
                if ct.like.is_none() {
                    t.columns = ct.columns.clone();
                    t.keys = ct.keys.clone();
                    t.foreign_keys = ct.foreign_keys.clone();
                    t.charset = ct.charset.clone();
                    t.row_format = ct.row_format.clone();
                    t.partitioned = ct.partitioned;
                }
                t.new = new;
                self.tables.insert(key(&ct.table), t);
            }
            Stmt::DropTable { tables } => {
                for name in tables {
                    self.tables.remove(&key(name));
                }
            }
            Stmt::RenameTable { pairs } => {
                for (from, to) in pairs {
                    if let Some(mut t) = self.tables.remove(&key(from)) {
                        t.name = to.clone();
                        self.tables.insert(key(to), t);
                    }
                }
            }
            Stmt::Alter(a) => self.alter(a),
            _ => {}
        }
    }

    fn alter(&mut self, a: &AlterTable) {
        let Some(mut t) = self.tables.remove(&key(&a.table)) else { return };
        for clause in &a.clauses {
            match &clause.op {
                Op::AddColumn { col, position } => {
                    let at = insert_at(&t, position.as_ref());
                    t.columns.insert(at, col.clone());
                    if col.primary {
                        t.keys.push(KeyDef { name: Some("PRIMARY".into()), kind: KeyKind::Primary, columns: vec![col.name.clone()] });
                    } else if col.unique {
                        t.keys.push(KeyDef { name: Some(col.name.clone()), kind: KeyKind::Unique, columns: vec![col.name.clone()] });
                    }
                }
                Op::DropColumn { name } => {
                    t.columns.retain(|c| !c.name.eq_ignore_ascii_case(name));
                    for k in &mut t.keys {
                        k.columns.retain(|c| !c.eq_ignore_ascii_case(name));
                    }
                    t.keys.retain(|k| !k.columns.is_empty());
                }
                Op::ChangeColumn { old, col, position } => {
                    if let Some(i) = t.columns.iter().position(|c| c.name.eq_ignore_ascii_case(old)) {
                        t.columns.remove(i);
                        let col = col.clone();
                        let at = if position.is_some() { insert_at(&t, position.as_ref()) } else { i.min(t.columns.len()) };
                        t.columns.insert(at, col.clone());
                        rename_in_keys(&mut t, old, &col.name);
                    }
                }
                Op::RenameColumn { old, new } => {
                    if let Some(c) = t.columns.iter_mut().find(|c| c.name.eq_ignore_ascii_case(old)) {
                        c.name = new.clone();
                    }
                    rename_in_keys(&mut t, old, new);
                }
                Op::AddKey(k) => {
                    let mut k = k.clone();
                    if k.kind == KeyKind::Primary {
                        k.name = Some("PRIMARY".into());
                    } else if k.name.is_none() {
                        k.name = k.columns.first().cloned();
                    }
                    t.keys.push(k);
                }
                Op::DropKey { name } => t.keys.retain(|k| !k.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name))),
                Op::DropPrimaryKey => t.keys.retain(|k| k.kind != KeyKind::Primary),
                Op::RenameKey { old, new } => {
                    if let Some(k) = t.keys.iter_mut().find(|k| k.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(old))) {
                        k.name = Some(new.clone());
                    }
                }
                Op::AddForeignKey(fk) => t.foreign_keys.push(fk.clone()),
                Op::DropForeignKey { name } | Op::DropConstraint { name } => {
                    t.foreign_keys.retain(|f| !f.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
                }
                Op::RowFormat { name } => t.row_format = Some(name.clone()),
                Op::ConvertCharset { charset } => {
                    t.charset = Some(charset.clone());
                    for c in &mut t.columns {
                        if is_text(&c.ty.base) {
                            c.ty.charset = Some(charset.clone());
                            c.ty.collation = None;
                        }
                    }
                }
                Op::RenameTable { to } => t.name = to.clone(),
                Op::Partition { .. } => t.partitioned = true,
                _ => {}
            }
        }
        self.tables.insert(key(&t.name), t);
    }
}

fn insert_at(t: &Table, position: Option<&Position>) -> usize {
    match position {
        Some(Position::First) => 0,
        Some(Position::After(a)) => t.columns.iter().position(|c| c.name.eq_ignore_ascii_case(a)).map(|i| i + 1).unwrap_or(t.columns.len()),
        None => t.columns.len(),
    }
}

fn rename_in_keys(t: &mut Table, old: &str, new: &str) {
    for k in &mut t.keys {
        for c in &mut k.columns {
            if c.eq_ignore_ascii_case(old) {
                *c = new.to_string();
            }
        }
    }
}

/// Types that hold characters (and so have a character set).
pub fn is_text(base: &str) -> bool {
    matches!(base, "CHAR" | "VARCHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET")
}

/// Bytes per character at most, for the character sets in use.
pub fn max_bytes_per_char(charset: &str) -> Option<u32> {
    Some(match charset {
        "latin1" | "ascii" | "binary" | "latin2" | "latin5" | "latin7" | "cp1250" | "cp1251" | "cp1256" | "cp1257" | "cp850" | "greek"
        | "hebrew" | "koi8r" | "koi8u" | "swe7" | "tis620" | "armscii8" | "geostd8" | "keybcs2" | "macce" | "macroman" | "dec8" | "hp8" => {
            1
        }
        "ucs2" | "big5" | "gbk" | "sjis" | "cp932" | "euckr" | "gb2312" => 2,
        "utf8" | "utf8mb3" | "ujis" | "eucjpms" => 3,
        "utf8mb4" | "utf16" | "utf16le" | "utf32" | "gb18030" => 4,
        _ => return None,
    })
}

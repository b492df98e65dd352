//! What the MySQL front end reads out of a statement: the DDL the judge
//! needs (tables, columns, keys, the ALTER clauses with where each starts)
//! and, for everything else, what kind of statement it is.
//!
//! Offsets are byte offsets into the statement's text, so findings point at
//! the clause in the user's file.

/// A column's type as written: `VARCHAR(255) CHARACTER SET utf8mb4`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColType {
    /// Upper-cased base type (`INT`, `VARCHAR`, `ENUM`, `DOUBLE PRECISION`).
    pub base: String,
    /// What is in the parentheses: lengths, precision, or ENUM/SET members
    /// (members with their quotes).
    pub params: Vec<String>,
    pub unsigned: bool,
    pub charset: Option<String>,
    pub collation: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    Virtual,
    Stored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultKind {
    /// A literal (or NULL): stored once in the dictionary.
    Literal,
    /// `CURRENT_TIMESTAMP`/`NOW()`: evaluated per row but instant-capable.
    CurrentTimestamp,
    /// Any other expression (`(a + 1)`, `uuid()`): evaluated per existing row.
    Expression,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnDef {
    pub name: String,
    pub ty: ColType,
    /// `Some(true)` for NOT NULL, `Some(false)` for NULL, `None` unwritten.
    pub not_null: Option<bool>,
    pub default: Option<DefaultKind>,
    pub auto_increment: bool,
    pub generated: Option<Generated>,
    /// An inline `PRIMARY KEY` or `UNIQUE` on the column.
    pub primary: bool,
    pub unique: bool,
    /// An inline `REFERENCES` (MariaDB 10.5+ creates a foreign key for it).
    pub references: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Plain,
    Unique,
    Primary,
    Fulltext,
    Spatial,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDef {
    pub name: Option<String>,
    pub kind: KeyKind,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyDef {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub table: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    First,
    After(String),
}

/// `ALGORITHM=` values, weakest last: the order the server falls back in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Instant,
    /// MariaDB's in-place without a rebuild; MySQL calls it INPLACE.
    Nocopy,
    Inplace,
    Copy,
}

impl Algorithm {
    pub fn parse(word: &str) -> Option<Algorithm> {
        Some(match word.to_ascii_uppercase().as_str() {
            "INSTANT" => Algorithm::Instant,
            "NOCOPY" => Algorithm::Nocopy,
            "INPLACE" => Algorithm::Inplace,
            "COPY" => Algorithm::Copy,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Instant => "INSTANT",
            Algorithm::Nocopy => "NOCOPY",
            Algorithm::Inplace => "INPLACE",
            Algorithm::Copy => "COPY",
        }
    }
}

/// `LOCK=` values, weakest first: what concurrent statements may still do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockLevel {
    /// Reads and writes go on.
    None,
    /// Reads go on; writes wait for the whole ALTER.
    Shared,
    /// Reads and writes wait for the whole ALTER.
    Exclusive,
}

impl LockLevel {
    pub fn parse(word: &str) -> Option<Option<LockLevel>> {
        Some(match word.to_ascii_uppercase().as_str() {
            "NONE" => Some(LockLevel::None),
            "SHARED" => Some(LockLevel::Shared),
            "EXCLUSIVE" => Some(LockLevel::Exclusive),
            "DEFAULT" => None,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            LockLevel::None => "NONE",
            LockLevel::Shared => "SHARED",
            LockLevel::Exclusive => "EXCLUSIVE",
        }
    }
}

/// One clause of an ALTER TABLE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    AddColumn {
        col: ColumnDef,
        position: Option<Position>,
    },
    DropColumn {
        name: String,
    },
    /// `MODIFY` (old = new name) and `CHANGE old new`.
    ChangeColumn {
        old: String,
        col: ColumnDef,
        position: Option<Position>,
    },
    RenameColumn {
        old: String,
        new: String,
    },
    /// `ALTER COLUMN c SET DEFAULT | DROP DEFAULT | SET [IN]VISIBLE`.
    ColumnDefault {
        name: String,
    },
    AddKey(KeyDef),
    DropKey {
        name: String,
    },
    DropPrimaryKey,
    RenameKey {
        old: String,
        new: String,
    },
    /// `ALTER INDEX i [NOT] IGNORED | VISIBLE | INVISIBLE`.
    KeyVisibility {
        name: String,
    },
    AddForeignKey(ForeignKeyDef),
    DropForeignKey {
        name: String,
    },
    AddCheck,
    /// `DROP CONSTRAINT | CHECK name`: a check, or (MariaDB) any constraint.
    DropConstraint {
        name: String,
    },
    Engine {
        name: String,
    },
    Force,
    RowFormat {
        name: String,
    },
    KeyBlockSize,
    ConvertCharset {
        charset: String,
    },
    DefaultCharset,
    AutoIncrementValue,
    Comment,
    RenameTable {
        to: String,
    },
    StatsOption,
    OrderBy,
    Partition {
        what: String,
    },
    Algorithm(Algorithm),
    Lock(Option<LockLevel>),
    /// A clause the reader does not know: judged as a copy, and reported.
    Unknown {
        text: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub op: Op,
    /// Where the clause starts in the statement.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterTable {
    pub table: String,
    pub clauses: Vec<Clause>,
    /// `ALTER IGNORE TABLE`: rows that break a new unique key are deleted.
    pub ignore: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateTable {
    pub table: String,
    pub columns: Vec<ColumnDef>,
    pub keys: Vec<KeyDef>,
    pub foreign_keys: Vec<ForeignKeyDef>,
    pub charset: Option<String>,
    pub row_format: Option<String>,
    pub partitioned: bool,
    /// `CREATE TABLE t LIKE other`.
    pub like: Option<String>,
    /// `CREATE TABLE ... AS SELECT` / `... SELECT`: the rows come from a query.
    pub select: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataVerb {
    Update,
    Delete,
    Insert,
    Replace,
}

/// One statement as the judge sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stmt {
    Alter(AlterTable),
    CreateTable(CreateTable),
    DropTable {
        tables: Vec<String>,
    },
    RenameTable {
        pairs: Vec<(String, String)>,
    },
    Truncate {
        table: String,
    },
    /// An UPDATE, DELETE or INSERT/REPLACE; `from_select` for `INSERT ... SELECT`.
    Data {
        verb: DataVerb,
        table: String,
        from_select: bool,
        whole_table: bool,
    },
    /// `SET [SESSION] name = value` (lower-cased name, value as written).
    Set {
        name: String,
        value: String,
    },
    Other,
}

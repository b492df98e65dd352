//! The classifier: for each ALTER clause, the algorithm the server will use
//! (INSTANT, NOCOPY, INPLACE, COPY), the lock it holds while it works, and
//! whether it rebuilds the table; the statement gets the weakest of its
//! clauses. Decided from the server flavour and version and the table.
//!
//! MariaDB 10.11 is the oracle here: the test `lint_mysql_oracle` runs every
//! verdict's `ALGORITHM=`/`LOCK=` on the server and checks that it accepts
//! the prediction and refuses the next stronger one. The MySQL 8 rows are
//! from the MySQL 8.0/8.4 manual ("Online DDL Operations"), not tested here.
//!
//! What every ALTER shares, whatever its algorithm: it takes the table's
//! metadata lock exclusively for a moment at the start and at the end, so
//! it queues behind any open transaction that has touched the table, and
//! every statement on the table queues behind it.

use super::ast::*;
use super::schema::{is_text, max_bytes_per_char, Table};
use super::server::{Server, ServerFlavor};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub algorithm: Algorithm,
    /// The lock held for the duration of the work (the moments of exclusive
    /// metadata lock at the start and end are every ALTER's).
    pub lock: LockLevel,
    /// The table is rebuilt (in place or by copy): time and I/O in
    /// proportion to its size, and replicas lag by as long.
    pub rebuild: bool,
    /// Why, in a few words: "changing a column's type copies the table".
    pub reason: String,
    /// False when the model lacked what it needed (an unknown table or
    /// column): the verdict is then the cautious one.
    pub known: bool,
}

impl Verdict {
    fn new(algorithm: Algorithm, lock: LockLevel, rebuild: bool, reason: impl Into<String>) -> Verdict {
        Verdict { algorithm, lock, rebuild, reason: reason.into(), known: true }
    }
    fn instant(reason: &str) -> Verdict {
        Verdict::new(Algorithm::Instant, LockLevel::None, false, reason)
    }
    fn nocopy(reason: &str) -> Verdict {
        Verdict::new(Algorithm::Nocopy, LockLevel::None, false, reason)
    }
    fn rebuild(reason: &str) -> Verdict {
        Verdict::new(Algorithm::Inplace, LockLevel::None, true, reason)
    }
    fn copy(reason: &str) -> Verdict {
        Verdict::new(Algorithm::Copy, LockLevel::Shared, true, reason)
    }
    fn unknown(mut self) -> Verdict {
        self.known = false;
        self
    }

    /// Reads and writes go on while it works.
    pub fn online(&self) -> bool {
        self.lock == LockLevel::None
    }

    /// The `ALGORITHM=... [, LOCK=...]` that makes the server refuse rather
    /// than fall back to something weaker: MySQL has no NOCOPY (its INPLACE
    /// without a rebuild is the same thing), and INSTANT takes no LOCK.
    pub fn clause(&self, server: Server) -> String {
        let algorithm = match (self.algorithm, server.flavor) {
            (Algorithm::Nocopy, ServerFlavor::MySql) => Algorithm::Inplace,
            (a, _) => a,
        };
        if algorithm == Algorithm::Instant {
            return "ALGORITHM=INSTANT".into();
        }
        format!("ALGORITHM={}, LOCK={}", algorithm.name(), self.lock.name())
    }

    /// The metadata lock the ALTER takes on the table, from the servers'
    /// online DDL design (MySQL's and MariaDB's manuals): every algorithm
    /// takes it exclusively for a moment; what differs is what it holds
    /// while it works.
    pub fn metadata_lock(&self) -> &'static str {
        match (self.algorithm, self.lock) {
            (Algorithm::Instant, _) => "exclusive, only for the moment the dictionary changes",
            (_, LockLevel::None) => {
                "shared-upgradable while it works (reads and writes go on), exclusive for a moment at the start and the end"
            }
            (_, LockLevel::Shared) => "shared-no-write while it works (reads go on, writes wait), exclusive for a moment at the end",
            (_, LockLevel::Exclusive) => "exclusive for the whole ALTER (reads and writes wait)",
        }
    }

    /// The algorithm as the server names it.
    pub fn algorithm_name(&self, server: Server) -> &'static str {
        match (self.algorithm, server.flavor) {
            (Algorithm::Nocopy, ServerFlavor::MySql) => "INPLACE",
            (a, _) => a.name(),
        }
    }
}

/// What the classifier knows besides the clause.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub server: Server,
    pub table: Option<&'a Table>,
    /// `SET foreign_key_checks = 0` is in effect for the statement.
    pub fk_checks_off: bool,
}

/// The verdict of a whole ALTER, with each clause's.
#[derive(Debug, Clone)]
pub struct AlterVerdict {
    pub verdict: Verdict,
    /// (index of the clause, its verdict), for the clauses that change something.
    pub clauses: Vec<(usize, Verdict)>,
    pub written_algorithm: Option<(Algorithm, usize)>,
    pub written_lock: Option<(LockLevel, usize)>,
    /// The written ALGORITHM= or LOCK= asks for more than the server can
    /// do here: it refuses the ALTER (the prediction, which `verdict` then
    /// no longer is: it is what the statement asks for).
    pub refused: Option<Verdict>,
}

impl AlterVerdict {
    /// The clause that decided the statement's verdict (the first weakest).
    pub fn deciding(&self) -> Option<&(usize, Verdict)> {
        let v = &self.verdict;
        self.clauses
            .iter()
            .find(|(_, c)| c.algorithm == v.algorithm && c.lock == v.lock)
            .or_else(|| self.clauses.iter().max_by_key(|(_, c)| (c.algorithm, c.lock)))
    }
}

pub fn alter(a: &AlterTable, env: Env) -> AlterVerdict {
    let mut clauses = Vec::new();
    let (mut written_algorithm, mut written_lock) = (None, None);
    let replaces_primary = a.clauses.iter().any(|c| matches!(&c.op, Op::AddKey(k) if k.kind == KeyKind::Primary));
    for (i, c) in a.clauses.iter().enumerate() {
        match &c.op {
            Op::Algorithm(alg) => written_algorithm = Some((*alg, c.offset)),
            Op::Lock(Some(l)) => written_lock = Some((*l, c.offset)),
            Op::Lock(None) => {}
            Op::DropPrimaryKey if replaces_primary => {
                clauses.push((i, Verdict::rebuild("replacing the primary key rebuilds the table in place")))
            }
            op => clauses.push((i, clause(op, env))),
        }
    }
    let mut verdict = combine(&clauses, a);
    if a.ignore && verdict.algorithm != Algorithm::Instant {
        // ALTER IGNORE TABLE cannot run in place: the server copies.
        verdict = Verdict::copy("ALTER IGNORE TABLE copies the table");
    }
    online_copy(&mut verdict, a, env);
    // What is written binds the server: it does that, or refuses.
    let asks_more = written_algorithm.is_some_and(|(w, _)| w < verdict.algorithm) || written_lock.is_some_and(|(w, _)| w < verdict.lock);
    let mut refused = None;
    if asks_more {
        if verdict.known {
            refused = Some(verdict.clone());
        }
        if let Some((w, _)) = written_algorithm {
            verdict.algorithm = verdict.algorithm.min(w);
        }
        if let Some((w, _)) = written_lock {
            verdict.lock = verdict.lock.min(w);
        }
    }
    AlterVerdict { verdict, clauses, written_algorithm, written_lock, refused }
}

fn combine(clauses: &[(usize, Verdict)], a: &AlterTable) -> Verdict {
    let Some(worst) = clauses.iter().map(|(_, v)| v).max_by_key(|v| (v.algorithm, v.lock)) else {
        return Verdict::instant("nothing to change");
    };
    let mut out = worst.clone();
    out.lock = clauses.iter().map(|(_, v)| v.lock).max().unwrap_or(LockLevel::None);
    out.rebuild = clauses.iter().any(|(_, v)| v.rebuild);
    out.known = clauses.iter().all(|(_, v)| v.known);
    // An instant change of the column layout (add, drop, reorder) cannot be
    // combined with work done in place: the whole ALTER becomes a rebuild.
    // (MariaDB 10.11: `ADD COLUMN x INT, ADD INDEX (x)` is INPLACE.)
    let layout = a.clauses.iter().any(|c| matches!(c.op, Op::AddColumn { .. } | Op::DropColumn { .. }))
        && clauses.iter().any(|(_, v)| v.algorithm == Algorithm::Instant);
    if layout && out.algorithm == Algorithm::Nocopy {
        out.algorithm = Algorithm::Inplace;
        out.rebuild = true;
        out.reason = format!("{}; with an instant column change in the same ALTER, the table is rebuilt", out.reason);
    }
    out
}

/// MariaDB 11.2+ copies without blocking writes (it applies the writes made
/// during the copy from a log, like INPLACE), except for the cases its
/// manual lists. From the manual: not tested here.
fn online_copy(v: &mut Verdict, a: &AlterTable, env: Env) {
    if v.algorithm != Algorithm::Copy || !env.server.at_least(ServerFlavor::MariaDb, (11, 2, 0)) {
        return;
    }
    let adds_auto_increment =
        a.clauses.iter().any(|c| matches!(&c.op, Op::AddColumn { col, .. } | Op::ChangeColumn { col, .. } if col.auto_increment));
    let fulltext = env.table.is_some_and(|t| t.has_fulltext() || t.has_spatial());
    // The writes made during the copy are applied by key: a table left
    // without a primary key cannot take them.
    let drops_key = a.clauses.iter().any(|c| matches!(c.op, Op::DropPrimaryKey))
        && !a.clauses.iter().any(|c| matches!(&c.op, Op::AddKey(k) if k.kind == KeyKind::Primary));
    if !adds_auto_increment && !fulltext && !drops_key {
        v.lock = LockLevel::None;
        v.reason = format!("{} (MariaDB 11.2+ copies without blocking writes)", v.reason);
    }
}

/// One clause's verdict.
pub fn clause(op: &Op, env: Env) -> Verdict {
    let s = env.server;
    let mariadb = s.mariadb();
    let t = env.table;
    match op {
        Op::AddColumn { col, position } => add_column(col, position.as_ref(), env),
        Op::DropColumn { name } => {
            let Some(t) = t else { return drop_column_plain().unknown() };
            let in_primary = t.primary().is_some_and(|k| k.columns.iter().any(|c| c.eq_ignore_ascii_case(name)));
            if in_primary {
                return Verdict::rebuild("dropping a column of the primary key rebuilds the table");
            }
            if mariadb && s.version >= (10, 4, 0) {
                if t.has_fulltext() {
                    return Verdict::rebuild("on a table with a FULLTEXT index, dropping a column rebuilds it");
                }
                if t.indexed(name) {
                    return Verdict::nocopy("dropping an indexed column drops its index in place (no rebuild)");
                }
                return Verdict::instant("dropping a column is instant (MariaDB 10.4+)");
            }
            if s.at_least(ServerFlavor::MySql, (8, 0, 29)) && !t.has_fulltext() && !t.indexed(name) && !compressed(t) {
                return instant_or_rebuild_versions(t, "dropping a column is instant (MySQL 8.0.29+)");
            }
            drop_column_plain()
        }
        Op::ChangeColumn { old, col, position } => change_column(old, col, position.as_ref(), env),
        Op::RenameColumn { .. } => rename_column(s),
        Op::ColumnDefault { .. } => Verdict::instant("changing a column's default or visibility only changes the dictionary"),
        Op::AddKey(k) => add_key(k, env),
        Op::DropKey { .. } => Verdict::nocopy("dropping an index is done in place"),
        Op::DropPrimaryKey => Verdict::copy("dropping the primary key without adding another copies the table"),
        Op::RenameKey { .. } => {
            if mariadb || s.version >= (8, 0, 0) {
                Verdict::instant("renaming an index only changes the dictionary")
            } else {
                Verdict::nocopy("renaming an index is done in place")
            }
        }
        Op::KeyVisibility { .. } => Verdict::instant("making an index ignored or visible only changes the dictionary"),
        Op::AddForeignKey(_) => {
            if !env.fk_checks_off {
                Verdict::copy("adding a foreign key with foreign_key_checks on copies the table to check every row")
            } else if mariadb {
                Verdict::instant("with foreign_key_checks=0 a foreign key is added without checking rows")
            } else {
                Verdict::nocopy("with foreign_key_checks=0 a foreign key is added in place without checking rows")
            }
        }
        Op::DropForeignKey { .. } | Op::DropConstraint { .. } => {
            if mariadb {
                Verdict::instant("dropping a constraint only changes the dictionary")
            } else {
                Verdict::nocopy("dropping a constraint is done in place")
            }
        }
        Op::AddCheck => Verdict::copy("adding a CHECK constraint copies the table to check every row"),
        Op::Engine { name } => {
            if name.eq_ignore_ascii_case("innodb") {
                Verdict::rebuild("ENGINE=InnoDB on an InnoDB table rebuilds it in place")
            } else {
                Verdict::copy("changing the storage engine copies the table")
            }
        }
        Op::Force => Verdict::rebuild("FORCE rebuilds the table in place"),
        Op::RowFormat { .. } | Op::KeyBlockSize => Verdict::rebuild("changing the row format rebuilds the table in place"),
        Op::ConvertCharset { .. } => Verdict::copy("CONVERT TO CHARACTER SET copies the table and re-encodes every text column"),
        Op::DefaultCharset => {
            if mariadb {
                Verdict::instant("the default character set only applies to columns added later")
            } else {
                Verdict::rebuild("changing the table's character set rebuilds it in place (MySQL)")
            }
        }
        Op::AutoIncrementValue => {
            if mariadb {
                Verdict::instant("setting AUTO_INCREMENT only changes the dictionary")
            } else {
                Verdict::nocopy("setting AUTO_INCREMENT is done in place")
            }
        }
        Op::Comment | Op::StatsOption => Verdict::instant("a table option that only changes the dictionary"),
        Op::RenameTable { .. } => Verdict::instant("renaming a table only changes the dictionary"),
        Op::OrderBy => Verdict::copy("ORDER BY copies the table"),
        Op::Partition { what } => Verdict::copy(&format!("{what}: partition maintenance copies the rows it moves")),
        Op::Algorithm(_) | Op::Lock(_) => Verdict::instant("an option"),
        Op::Unknown { text } => {
            Verdict::copy(&format!("stepwise does not know the clause `{}`, so it assumes a copy", short(text))).unknown()
        }
    }
}

fn short(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 {
        format!("{}...", one_line.chars().take(57).collect::<String>())
    } else {
        one_line
    }
}

fn compressed(t: &Table) -> bool {
    t.row_format.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("COMPRESSED"))
}

fn drop_column_plain() -> Verdict {
    Verdict::rebuild("dropping a column rebuilds the table in place")
}

fn rename_column(s: Server) -> Verdict {
    if s.mariadb() || s.version >= (8, 0, 28) {
        Verdict::instant("renaming a column only changes the dictionary")
    } else {
        Verdict::nocopy("renaming a column is done in place without a rebuild (MySQL before 8.0.28)")
    }
}

/// MySQL 8.0.29+ allows 64 instant row versions per table; after that an
/// instant ADD or DROP COLUMN is refused and the default falls back to a rebuild.
fn instant_or_rebuild_versions(t: &Table, reason: &str) -> Verdict {
    if t.row_versions.is_some_and(|v| v >= 64) {
        return Verdict::rebuild("the table has used its 64 instant row versions (TOTAL_ROW_VERSIONS), so this rebuilds it");
    }
    Verdict::instant(reason)
}

fn add_column(col: &ColumnDef, position: Option<&Position>, env: Env) -> Verdict {
    let s = env.server;
    if col.generated == Some(Generated::Stored) {
        return Verdict::copy("adding a STORED generated column copies the table to compute it for every row");
    }
    if col.auto_increment {
        return Verdict::new(
            Algorithm::Inplace,
            LockLevel::Shared,
            true,
            "adding an AUTO_INCREMENT column rebuilds the table and blocks writes to number the rows",
        );
    }
    if col.default == Some(DefaultKind::Expression) {
        return Verdict::copy("a column whose default is an expression is filled row by row: the table is copied");
    }
    if col.primary || col.unique {
        return Verdict::rebuild("a column added with its own key is added by rebuilding the table");
    }
    if col.generated == Some(Generated::Virtual) {
        return Verdict::instant("adding a VIRTUAL column only changes the dictionary");
    }
    let t = env.table;
    if s.mariadb() {
        if t.is_some_and(|t| t.has_fulltext()) {
            return Verdict::new(
                Algorithm::Inplace,
                LockLevel::Shared,
                true,
                "on a table with a FULLTEXT index, adding a column rebuilds it and blocks writes",
            );
        }
        if t.is_some_and(compressed) {
            return Verdict::rebuild("ROW_FORMAT=COMPRESSED tables cannot add columns instantly: the table is rebuilt");
        }
        if s.version >= (10, 4, 0) || (s.version >= (10, 3, 2) && position.is_none()) {
            return Verdict::instant("adding a column is instant (MariaDB 10.4+ at any position, 10.3 at the end)");
        }
        return Verdict::rebuild("adding a column before the end rebuilds the table (MariaDB before 10.4)");
    }
    if let Some(t) = t {
        if t.has_fulltext() {
            return Verdict::rebuild("on a table with a FULLTEXT index, adding a column rebuilds it in place (MySQL)");
        }
        if compressed(t) {
            return Verdict::rebuild("ROW_FORMAT=COMPRESSED tables cannot add columns instantly: the table is rebuilt");
        }
    }
    if s.version >= (8, 0, 29) {
        return match t {
            Some(t) => instant_or_rebuild_versions(t, "adding a column is instant at any position (MySQL 8.0.29+)"),
            None => Verdict::instant("adding a column is instant at any position (MySQL 8.0.29+)"),
        };
    }
    if s.version >= (8, 0, 12) && position.is_none() {
        return Verdict::instant("adding a column as the last one is instant (MySQL 8.0.12+)");
    }
    Verdict::rebuild(if s.version >= (8, 0, 12) {
        "before MySQL 8.0.29, adding a column anywhere but last rebuilds the table"
    } else {
        "before MySQL 8.0.12, adding a column rebuilds the table"
    })
}

fn add_key(k: &KeyDef, env: Env) -> Verdict {
    match k.kind {
        KeyKind::Primary => Verdict::rebuild("adding a primary key rebuilds the table (the rows are stored in its order)"),
        KeyKind::Plain | KeyKind::Unique => Verdict::nocopy("an index is built in place while reads and writes go on"),
        KeyKind::Fulltext => {
            if env.table.is_some_and(|t| t.has_fulltext()) {
                Verdict::new(Algorithm::Nocopy, LockLevel::Shared, false, "a FULLTEXT index blocks writes while it is built")
            } else {
                Verdict::new(
                    Algorithm::Inplace,
                    LockLevel::Shared,
                    true,
                    "the table's first FULLTEXT index rebuilds it (to add FTS_DOC_ID) and blocks writes while it is built",
                )
            }
        }
        KeyKind::Spatial => Verdict::new(Algorithm::Nocopy, LockLevel::Shared, false, "a SPATIAL index blocks writes while it is built"),
    }
}

fn change_column(old: &str, new: &ColumnDef, position: Option<&Position>, env: Env) -> Verdict {
    let s = env.server;
    let Some(t) = env.table else {
        return Verdict::copy("the table is not known to stepwise, so a MODIFY/CHANGE is assumed to change the type and copy").unknown();
    };
    let Some(cur) = t.column(old) else {
        return Verdict::copy(&format!("the column `{old}` is not known to stepwise, so its change is assumed to copy")).unknown();
    };
    if new.auto_increment && !cur.auto_increment {
        return Verdict::copy("making a column AUTO_INCREMENT copies the table");
    }
    if new.generated.is_some() || cur.generated.is_some() {
        if new.generated == cur.generated && same_type(cur, new, t) {
            return Verdict::instant("the generated column keeps its type");
        }
        return Verdict::copy("changing a generated column copies the table");
    }
    let renamed = !old.eq_ignore_ascii_case(&new.name);
    let reordered = position.is_some();
    // The type, then nullability.
    let ty = type_change(cur, new, t, s);
    if ty.algorithm == Algorithm::Copy {
        return ty;
    }
    let was_not_null = cur.not_null == Some(true) || t.primary().is_some_and(|k| k.columns.iter().any(|c| c.eq_ignore_ascii_case(old)));
    let not_null = new.not_null == Some(true);
    let mut v = ty;
    if was_not_null != not_null {
        let n = Verdict::rebuild(if not_null {
            "making a column NOT NULL rebuilds the table in place (and fails on a NULL in strict mode)"
        } else {
            "making a NOT NULL column nullable rebuilds the table in place"
        });
        if (n.algorithm, n.lock) > (v.algorithm, v.lock) {
            v = n;
        }
    }
    if reordered && v.algorithm == Algorithm::Instant {
        if s.mariadb() && s.version >= (10, 4, 0) {
            v.reason = "reordering a column is instant (MariaDB 10.4+)".into();
        } else {
            v = Verdict::rebuild("reordering columns rebuilds the table in place");
        }
    }
    if renamed && v.algorithm == Algorithm::Instant && !(s.mariadb() || s.version >= (8, 0, 28)) {
        v = rename_column(s);
    }
    v
}

/// The parentheses say the same: an integer's `(11)` is only a display
/// width (MariaDB's catalog shows `int(11)` for a column written `int`;
/// MySQL 8.0.19+ shows none), and changes nothing stored.
fn same_params(a: &ColType, b: &ColType) -> bool {
    let integer = |t: &ColType| matches!(t.base.as_str(), "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "INTEGER" | "BIGINT");
    a.params == b.params || (integer(a) && integer(b))
}

fn same_type(a: &ColumnDef, b: &ColumnDef, t: &Table) -> bool {
    a.ty.base == b.ty.base
        && same_params(&a.ty, &b.ty)
        && a.ty.unsigned == b.ty.unsigned
        && t.charset_of(a) == t.charset_of(b)
        && a.ty.collation == b.ty.collation
}

fn type_change(cur: &ColumnDef, new: &ColumnDef, t: &Table, s: Server) -> Verdict {
    let (a, b) = (&cur.ty, &new.ty);
    let (ca, cb) = (t.charset_of(cur), t.charset_of(new));
    let same_charset = ca == cb || !is_text(&a.base);
    if a.base == b.base && same_params(a, b) && a.unsigned == b.unsigned {
        if same_charset {
            if a.collation != b.collation && b.collation.is_some() && is_text(&a.base) {
                return collation_change(cur, t, s);
            }
            return Verdict::instant("the column keeps its type: only the dictionary changes");
        }
        return charset_change(cur, ca.as_deref(), cb.as_deref(), t, s);
    }
    if !same_charset {
        return charset_change(cur, ca.as_deref(), cb.as_deref(), t, s);
    }
    if a.base == "VARCHAR" && b.base == "VARCHAR" && a.unsigned == b.unsigned {
        let (Some(n), Some(m)) = (length(a), length(b)) else {
            return Verdict::copy("changing a column's type copies the table");
        };
        if m < n {
            return Verdict::copy("shortening a VARCHAR copies the table (every value is checked)");
        }
        let per = ca.as_deref().and_then(max_bytes_per_char).unwrap_or(4);
        let (old_bytes, new_bytes) = (n * per, m * per);
        if s.mariadb() {
            // InnoDB stores a length in one byte while the column's maximum
            // is at most 255 bytes, or its values are shorter than 128 bytes.
            // MariaDB 10.11 extends instantly whenever every stored length
            // stays readable (measured: utf8mb4 VARCHAR(50) -> (63) INSTANT,
            // -> (64) COPY; latin1 VARCHAR(50) -> (300) INSTANT).
            if new_bytes <= 255 || old_bytes <= 127 || old_bytes > 255 {
                return Verdict::instant(&format!(
                    "widening VARCHAR({n}) to VARCHAR({m}) keeps each value's length prefix ({old_bytes} -> {new_bytes} bytes): instant"
                ));
            }
            return Verdict::copy(&format!(
                "widening VARCHAR({n}) to VARCHAR({m}) crosses 255 bytes ({old_bytes} -> {new_bytes} in {}): the length prefix grows and the table is copied",
                ca.as_deref().unwrap_or("utf8mb4")
            ));
        }
        if (old_bytes <= 255) == (new_bytes <= 255) {
            return Verdict::nocopy(&format!("widening VARCHAR({n}) to VARCHAR({m}) keeps the length prefix: done in place"));
        }
        return Verdict::copy(&format!(
            "widening VARCHAR({n}) to VARCHAR({m}) crosses 255 bytes ({old_bytes} -> {new_bytes}): the length prefix grows and the table is copied"
        ));
    }
    if (a.base == "ENUM" && b.base == "ENUM") || (a.base == "SET" && b.base == "SET") {
        let appended = b.params.len() >= a.params.len() && b.params[..a.params.len()] == a.params[..];
        let size = |n: usize| {
            if a.base == "ENUM" {
                if n <= 255 {
                    1
                } else {
                    2
                }
            } else {
                n.div_ceil(8)
            }
        };
        if appended && size(a.params.len()) == size(b.params.len()) {
            return Verdict::instant("adding members at the end of an ENUM or SET only changes the dictionary");
        }
        return Verdict::copy("reordering, removing or inserting ENUM/SET members copies the table");
    }
    Verdict::copy(&format!("changing {} to {} copies the table and blocks writes", type_text(a), type_text(b)))
}

fn length(ty: &ColType) -> Option<u32> {
    ty.params.first().and_then(|p| p.trim().parse().ok())
}

pub fn type_text(ty: &ColType) -> String {
    let mut s = ty.base.clone();
    if !ty.params.is_empty() {
        s.push_str(&format!("({})", ty.params.join(",")));
    }
    if ty.unsigned {
        s.push_str(" UNSIGNED");
    }
    s
}

fn collation_change(cur: &ColumnDef, t: &Table, s: Server) -> Verdict {
    if t.indexed(&cur.name) {
        if s.mariadb() {
            return Verdict::nocopy("a new collation on an indexed column rebuilds its indexes in place");
        }
        return Verdict::copy("a new collation on an indexed column copies the table (MySQL)");
    }
    if s.mariadb() {
        Verdict::instant("a new collation on a column without an index only changes the dictionary")
    } else {
        Verdict::copy("changing a column's collation copies the table (MySQL)")
    }
}

fn charset_change(cur: &ColumnDef, from: Option<&str>, to: Option<&str>, t: &Table, s: Server) -> Verdict {
    let widening =
        matches!((from, to), (Some("utf8mb3" | "utf8"), Some("utf8mb4")) | (Some("ascii"), Some("latin1" | "utf8mb3" | "utf8mb4")));
    if s.mariadb() && s.version >= (10, 6, 0) && widening && !t.indexed(&cur.name) {
        // Measured on 10.11: utf8mb3 -> utf8mb4 of a VARCHAR(10) without an index is INSTANT.
        return Verdict::instant("utf8mb3 to utf8mb4 on a column without an index only changes the dictionary (MariaDB)");
    }
    Verdict::copy(&format!(
        "changing the column's character set ({} -> {}) copies the table and re-encodes every value",
        from.unwrap_or("table default"),
        to.unwrap_or("table default")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::reader::read;
    use crate::mysql::schema::Schema;

    const SETUP: &[&str] = &[
        "CREATE TABLE t (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, a int, b varchar(50), c varchar(50) CHARACTER SET latin1, f text, e enum('x','y'), KEY ka (a)) DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE tf (id int PRIMARY KEY, body text, FULLTEXT KEY ft (body)) DEFAULT CHARSET=utf8mb4",
    ];

    fn verdict(server: &str, sql: &str) -> String {
        let mut schema = Schema::default();
        for s in SETUP {
            schema.apply(&read(s).unwrap(), false);
        }
        let Stmt::Alter(a) = read(sql).unwrap() else { panic!("{sql}") };
        let server = Server::parse(server).unwrap();
        let v = alter(&a, Env { server, table: schema.get(&a.table), fk_checks_off: false }).verdict;
        format!("{}{}", v.clause(server), if v.rebuild { " rebuild" } else { "" })
    }

    /// The same ALTER judged for each server: what changes by version.
    #[test]
    fn the_same_alter_is_judged_by_the_server_version() {
        let servers = ["mariadb-10.6", "mariadb-11.4", "mysql-8.0.27", "mysql-8.0.35"];
        for (sql, want) in [
            // Instant ADD COLUMN at any position: MariaDB 10.4+, MySQL 8.0.29+.
            (
                "ALTER TABLE t ADD COLUMN x int AFTER id",
                ["ALGORITHM=INSTANT", "ALGORITHM=INSTANT", "ALGORITHM=INPLACE, LOCK=NONE rebuild", "ALGORITHM=INSTANT"],
            ),
            ("ALTER TABLE t ADD COLUMN x int", ["ALGORITHM=INSTANT"; 4]),
            // RENAME COLUMN: instant from MySQL 8.0.28, in place before.
            (
                "ALTER TABLE t RENAME COLUMN f TO g",
                ["ALGORITHM=INSTANT", "ALGORITHM=INSTANT", "ALGORITHM=INPLACE, LOCK=NONE", "ALGORITHM=INSTANT"],
            ),
            // DROP COLUMN: instant on MariaDB 10.4+ and MySQL 8.0.29+.
            (
                "ALTER TABLE t DROP COLUMN f",
                ["ALGORITHM=INSTANT", "ALGORITHM=INSTANT", "ALGORITHM=INPLACE, LOCK=NONE rebuild", "ALGORITHM=INSTANT"],
            ),
            // A type change copies; MariaDB 11.2+ copies without blocking writes.
            (
                "ALTER TABLE t MODIFY a bigint",
                [
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=NONE rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                ],
            ),
            // VARCHAR widening inside one length byte: instant on MariaDB, in place on MySQL.
            (
                "ALTER TABLE t MODIFY b varchar(60)",
                ["ALGORITHM=INSTANT", "ALGORITHM=INSTANT", "ALGORITHM=INPLACE, LOCK=NONE", "ALGORITHM=INPLACE, LOCK=NONE"],
            ),
            // Crossing 255 bytes (utf8mb4: 200 -> 400) copies everywhere.
            (
                "ALTER TABLE t MODIFY b varchar(100)",
                [
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=NONE rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                ],
            ),
            // latin1 VARCHAR(50) is 50 bytes: MariaDB widens it past 255 instantly, MySQL copies.
            (
                "ALTER TABLE t MODIFY c varchar(300) CHARACTER SET latin1",
                ["ALGORITHM=INSTANT", "ALGORITHM=INSTANT", "ALGORITHM=COPY, LOCK=SHARED rebuild", "ALGORITHM=COPY, LOCK=SHARED rebuild"],
            ),
            (
                "ALTER TABLE t ADD INDEX kb (b)",
                [
                    "ALGORITHM=NOCOPY, LOCK=NONE",
                    "ALGORITHM=NOCOPY, LOCK=NONE",
                    "ALGORITHM=INPLACE, LOCK=NONE",
                    "ALGORITHM=INPLACE, LOCK=NONE",
                ],
            ),
            ("ALTER TABLE t ADD FULLTEXT INDEX ft (f)", ["ALGORITHM=INPLACE, LOCK=SHARED rebuild"; 4]),
            (
                "ALTER TABLE tf ADD COLUMN x int",
                [
                    "ALGORITHM=INPLACE, LOCK=SHARED rebuild",
                    "ALGORITHM=INPLACE, LOCK=SHARED rebuild",
                    "ALGORITHM=INPLACE, LOCK=NONE rebuild",
                    "ALGORITHM=INPLACE, LOCK=NONE rebuild",
                ],
            ),
            (
                "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4",
                [
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=NONE rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                ],
            ),
            (
                "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p (id)",
                [
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=NONE rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                ],
            ),
            (
                "ALTER TABLE t DROP PRIMARY KEY",
                [
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                ],
            ),
            ("ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, a)", ["ALGORITHM=INPLACE, LOCK=NONE rebuild"; 4]),
            ("ALTER TABLE t MODIFY e enum('x','y','z')", ["ALGORITHM=INSTANT"; 4]),
            (
                "ALTER TABLE t MODIFY e enum('z','x','y')",
                [
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=NONE rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                    "ALGORITHM=COPY, LOCK=SHARED rebuild",
                ],
            ),
        ] {
            for (server, want) in servers.iter().zip(want) {
                assert_eq!(verdict(server, sql), want, "{sql} on {server}");
            }
        }
    }

    #[test]
    fn dropping_the_auto_increment_key_column_is_not_instant_and_unknown_columns_are_cautious() {
        // The column is in the primary key: a rebuild.
        assert_eq!(verdict("mariadb-10.11", "ALTER TABLE t DROP COLUMN id"), "ALGORITHM=INPLACE, LOCK=NONE rebuild");
        let mut schema = Schema::default();
        schema.apply(&read(SETUP[0]).unwrap(), false);
        let Stmt::Alter(a) = read("ALTER TABLE t MODIFY nope bigint").unwrap() else { panic!() };
        let v = alter(&a, Env { server: Server::default(), table: schema.get("t"), fk_checks_off: false }).verdict;
        assert!(!v.known && v.algorithm == Algorithm::Copy, "{v:?}");
    }
}

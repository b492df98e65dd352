//! What a statement makes the server do to a table, and under which lock:
//! the facts a deploy checklist needs to say how long a lock is held. Each
//! engine's judge fills it (`pg::work`, `mysql::work`); the duration comes
//! later, from the table's size (`stepwise_migrate::checklist`).

use serde::Serialize;

/// The kind of work, in the order of what it costs on a large table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkKind {
    /// A change to the catalog only: instant whatever the table's size.
    Catalog,
    /// Every row is read (a NOT NULL or CHECK proved, a foreign key checked).
    Scan,
    /// An index is built: every row read, the keys sorted and written.
    IndexBuild,
    /// The table is written again with all its indexes (in place).
    Rewrite,
    /// Rows change (UPDATE, DELETE, INSERT ... SELECT): as many as match.
    RowChanges,
    /// stepwise's online schema change: a copy in batches while writes go
    /// on, then a swap under a lock held for milliseconds.
    OnlineCopy,
}

/// One lock a statement takes on a table that existed before the migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockTaken {
    pub table: String,
    /// As the server names it: `ACCESS EXCLUSIVE`, or on MySQL/MariaDB the
    /// metadata lock it holds while it works.
    pub lock: String,
    /// What waits while it is held (and while it waits in the queue).
    pub blocks: String,
    /// The table's writes are among what waits.
    pub blocks_writes: bool,
    /// Held for the whole work (a scan under ACCESS EXCLUSIVE); false when
    /// held only for a moment at the start or the end.
    pub during_work: bool,
}

/// What one statement does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Work {
    /// The table the work is done on (the model's name for it), when there is one.
    pub table: Option<String>,
    pub kind: WorkKind,
    /// In a few words, why: "SET NOT NULL checks every row".
    pub reason: String,
    pub locks: Vec<LockTaken>,
    /// An index build's key columns (for its sort cost).
    pub key_columns: Vec<String>,
    /// PostgreSQL CONCURRENTLY: two passes over the table, and waits for
    /// the transactions older than it.
    pub concurrent: bool,
    /// MySQL/MariaDB: the algorithm the server will use (`INPLACE`, ...).
    pub algorithm: Option<String>,
}

impl Work {
    pub fn new(table: Option<String>, kind: WorkKind, reason: impl Into<String>) -> Work {
        Work { table, kind, reason: reason.into(), locks: vec![], key_columns: vec![], concurrent: false, algorithm: None }
    }

    /// The same work, done by stepwise's online schema change instead: the
    /// only lock on the live table is `lock`, for the moments the capture
    /// triggers are created and the copy is swapped in.
    pub fn online(mut self, lock: &str) -> Work {
        self.kind = WorkKind::OnlineCopy;
        self.reason = format!("osc copies the table in batches with the change applied while writes go on (in place: {})", self.reason);
        self.locks = self
            .table
            .iter()
            .map(|t| LockTaken {
                table: t.clone(),
                lock: lock.to_string(),
                blocks: "every read and write".into(),
                blocks_writes: true,
                during_work: false,
            })
            .collect();
        self.concurrent = false;
        self.algorithm = None;
        self
    }
}

//! What the runner reports while it works. The CLI renders these as text or
//! as JSON lines; the runner never prints.

use serde::Serialize;
use stepwise_db::Blocker;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Connected {
        server: String,
        store: String,
    },
    LockWaiting {
        holder: Option<String>,
        waited_ms: u64,
    },
    LockAcquired {
        waited_ms: u64,
    },
    MigrationStarted {
        version: String,
        name: String,
        direction: Direction,
        transactional: bool,
        statements: usize,
    },
    Resuming {
        version: String,
        statement: usize,
        statements: usize,
    },
    Recovered {
        version: String,
        statement: usize,
        action: String,
    },
    StatementStarted {
        version: String,
        statement: usize,
        line: usize,
        summary: String,
    },
    /// A statement outside a transaction finished, and how long it took.
    StatementDone {
        version: String,
        statement: usize,
        duration_ms: u64,
    },
    Retrying {
        version: String,
        statement: Option<usize>,
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        error: String,
        blockers: Vec<Blocker>,
    },
    /// A CONCURRENTLY statement is waiting for older transactions.
    Waiting {
        version: String,
        statement: usize,
        waiting_for: Vec<Blocker>,
    },
    /// `--cancel-blockers-after` acted on (or left alone) a session blocking a statement.
    BlockerCancelled {
        version: String,
        statement: Option<usize>,
        cancellation: Box<stepwise_db::sessions::cancel::Cancellation>,
    },
    /// How far the server is with a long statement (an index build, a copying ALTER).
    StatementProgress {
        version: String,
        statement: Option<usize>,
        progress: Box<stepwise_db::progress::DdlProgress>,
    },
    MigrationDone {
        version: String,
        name: String,
        direction: Direction,
        duration_ms: u64,
    },
    Marked {
        version: String,
        name: String,
    },
    Adopted {
        tool: String,
        version: String,
        name: String,
    },
    Note {
        message: String,
    },
    /// A statement marked `-- stepwise:online` resumes the osc job that an
    /// interrupted attempt started.
    OnlineResuming {
        version: String,
        statement: usize,
        job: i64,
        state: String,
        rows_done: i64,
    },
    /// Progress of the osc job that runs an online statement.
    Online {
        version: String,
        statement: usize,
        progress: stepwise_online::osc::Progress,
    },
    /// Progress of a `-- stepwise:backfill` step.
    Backfill {
        version: String,
        statement: usize,
        progress: stepwise_online::backfill::Progress,
    },
    /// An online statement is done: `table` is the changed table, and the
    /// old one is kept (in sync) as `old` until `stepwise osc finish` drops
    /// it or `stepwise osc revert` swaps it back (None: already dropped).
    OnlineSwapped {
        version: String,
        statement: usize,
        job: i64,
        table: String,
        old: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Direction {
        if s == "down" {
            Direction::Down
        } else {
            Direction::Up
        }
    }
}

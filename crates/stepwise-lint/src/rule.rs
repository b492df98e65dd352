//! What every rule of every engine describes about itself (`RuleMeta`), what
//! it reports (`Hit`), and what its danger costs (`Cost`). The engines' rule
//! traits (`pg::rule::Rule`, `mysql::rule::Rule`) take these.

use crate::finding::Severity;

/// What a rule's danger costs, which decides how table size changes its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// An exclusive lock that waits in the lock queue: a small busy table
    /// stalls just as hard, so size never lowers the severity.
    LockQueue,
    /// A scan or a rewrite under a lock: an error above `large_table_rows`,
    /// a warning below (when sizes are known).
    ScanOrRewrite,
    /// Breaks code that is running (renames, drops): size does not matter.
    BreaksCode,
    /// Advice about style or types.
    Advice,
}

impl Cost {
    /// Whether running the statement as an online schema change (`--
    /// stepwise:online`) takes this cost away. osc applies the ALTER to an
    /// empty copy, fills it in short keyset batches and swaps it in under
    /// lock_timeout with retries: no scan or rewrite happens under a lock on
    /// the live table, and nothing waits in its lock queue for longer than
    /// lock_timeout. What breaks running code, and advice, still apply.
    pub fn avoided_online(self) -> bool {
        matches!(self, Cost::ScanOrRewrite | Cost::LockQueue)
    }
}

pub struct RuleMeta {
    /// kebab-case id, used in `-- stepwise:ignore` and configuration.
    pub id: &'static str,
    pub severity: Severity,
    /// Opt-in rules are off unless enabled in `[lint]`.
    pub default_on: bool,
    pub cost: Cost,
    /// One line for `stepwise lint --explain` and the docs.
    pub summary: &'static str,
    /// Examples, checked by the tests of every rule and run against a real
    /// PostgreSQL by the runner's tests: `setup` is an applied migration that
    /// builds what the others need, `bad` is flagged by this rule, and each
    /// element of `safe` is one migration of the recommended recipe (in
    /// order) that no rule flags.
    pub setup: &'static str,
    pub bad: &'static str,
    pub safe: &'static [&'static str],
}

/// One thing a rule found in the statement it was given.
#[derive(Debug, Clone)]
pub struct Hit {
    pub message: String,
    pub why: String,
    pub safe: String,
    /// Byte offset in the statement text where the problem is (0: its start).
    pub offset: usize,
    /// The table the cost falls on, for size-aware severity and messages.
    pub table: Option<String>,
}

impl Hit {
    pub fn new(message: impl Into<String>, why: impl Into<String>, safe: impl Into<String>) -> Hit {
        Hit { message: message.into(), why: why.into(), safe: safe.into(), offset: 0, table: None }
    }

    pub fn at(mut self, offset: i32) -> Hit {
        self.offset = offset.max(0) as usize;
        self
    }

    pub fn on_table(mut self, table: impl Into<String>) -> Hit {
        self.table = Some(table.into());
        self
    }
}

//! A session that holds a lock someone else is waiting for.

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Blocker {
    pub pid: i64,
    pub user: String,
    pub application: String,
    pub state: String,
    /// Seconds since its transaction (or, outside one, its query) started.
    pub age_secs: f64,
    pub query: String,
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let app = if self.application.is_empty() { "-" } else { &self.application };
        // Literal values masked, as `stepwise locks` shows them: queries carry customer data.
        let query: String = crate::sessions::mask_literals(&self.query).split_whitespace().collect::<Vec<_>>().join(" ");
        let query = if query.chars().count() > 120 { format!("{}...", query.chars().take(117).collect::<String>()) } else { query };
        write!(f, "pid {} (user {}, application {}, {}, {:.1}s)", self.pid, self.user, app, self.state, self.age_secs)?;
        // MySQL shows no statement for a session idle in its transaction.
        if query.is_empty() {
            Ok(())
        } else {
            write!(f, ": {query}")
        }
    }
}

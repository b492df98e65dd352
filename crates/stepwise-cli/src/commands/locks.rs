//! `locks`: who blocks whom right now, as trees with the root (the session
//! holding what the others wait for) first.

use super::watch::{self, Repeat};
use crate::cli::{Format, LocksArgs};
use crate::config::Config;
use crate::render::{plural, Out};
use stepwise_db::sessions::tree::{self, Node};
use stepwise_db::sessions::{Session, Snapshot};

pub async fn locks(cfg: &Config, out: &Out, args: &LocksArgs) -> i32 {
    let mut monitor = match watch::monitor(cfg, out, "stepwise locks").await {
        Ok(m) => m,
        Err(code) => return code,
    };
    let mut repeat = Repeat::new(&args.watch, out);
    loop {
        let snap = match monitor.snapshot().await {
            Ok(s) => s,
            Err(e) => {
                out.error(&format!("could not read the server's sessions: {e}"));
                return 1;
            }
        };
        let view = View::new(snap, args);
        if out.format == Format::Json {
            out.json(&view.json(monitor.id_word()));
        } else {
            repeat.header(out);
            out.line(view.text(monitor.id_word()).trim_end());
        }
        if !repeat.again().await {
            return 0;
        }
    }
}

/// A snapshot cut to what the user asked for.
struct View {
    snap: Snapshot,
    trees: Vec<Node>,
    show_queries: bool,
}

impl View {
    fn new(snap: Snapshot, args: &LocksArgs) -> View {
        let mut trees = tree::build(&snap.sessions);
        if let Some(t) = &args.table {
            trees = tree::on_table(trees, &snap.sessions, t);
        }
        View { snap, trees, show_queries: args.show_queries }
    }

    fn session(&self, id: i64) -> Option<&Session> {
        self.snap.sessions.iter().find(|s| s.id == id)
    }

    /// Open transactions outside every tree, oldest first (the next blockers).
    fn idle_transactions(&self) -> Vec<&Session> {
        let in_trees: Vec<i64> = self.trees.iter().flat_map(|t| t.ids()).collect();
        let mut v: Vec<&Session> =
            self.snap.sessions.iter().filter(|s| !in_trees.contains(&s.id) && s.transaction_secs.is_some_and(|t| t >= 1.0)).collect();
        v.sort_by(|a, b| b.transaction_secs.unwrap_or(0.0).total_cmp(&a.transaction_secs.unwrap_or(0.0)));
        v
    }

    fn text(&self, word: &str) -> String {
        let mut s = String::new();
        let waiting: usize = self.trees.iter().map(|t| t.waiting_behind).sum();
        if self.trees.is_empty() {
            s.push_str(&format!("{}: no session waits for a lock\n", self.snap.server));
        } else {
            s.push_str(&format!(
                "{}: {} blocking tree{}, {waiting} session{} waiting\n",
                self.snap.server,
                self.trees.len(),
                plural(self.trees.len()),
                plural(waiting)
            ));
        }
        for n in &self.snap.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        if !self.snap.exact && !self.trees.is_empty() {
            s.push_str("note: blockers marked (inferred) are guessed, not read from the server\n");
        }
        for t in &self.trees {
            s.push('\n');
            self.node_text(&mut s, t, word, "", true, true);
        }
        let idle = self.idle_transactions();
        if !idle.is_empty() {
            s.push_str("\nopen transactions blocking no one (yet):\n");
            for o in idle.iter().take(10) {
                s.push_str(&format!("  {word} {} {}\n", o.id, self.describe(o)));
            }
            if idle.len() > 10 {
                s.push_str(&format!("  ... and {} more\n", idle.len() - 10));
            }
        }
        s
    }

    fn describe(&self, o: &Session) -> String {
        let mut parts = vec![format!("user {}", if o.user.is_empty() { "?" } else { &o.user })];
        if !o.application.is_empty() {
            parts.push(format!("application {}", o.application));
        }
        if !o.client.is_empty() {
            parts.push(o.client.clone());
        }
        if !o.state.is_empty() {
            parts.push(o.state.clone());
        }
        if let Some(t) = o.transaction_secs {
            parts.push(format!("transaction {}", secs(t)));
        }
        if o.is_waiting() {
            if let Some(q) = o.query_secs {
                parts.push(format!("waiting {}", secs(q)));
            }
            if let (Some(w), None) = (&o.wait, &o.waiting_for) {
                if !o.state.contains(w.as_str()) {
                    parts.push(w.clone());
                }
            }
        } else if let (Some(q), true) = (o.query_secs, o.state == "active" || o.state.starts_with("Query")) {
            parts.push(format!("running {}", secs(q)));
        }
        parts.join(", ")
    }

    fn node_text(&self, s: &mut String, n: &Node, word: &str, indent: &str, last: bool, root: bool) {
        let Some(o) = self.session(n.id) else { return };
        let (branch, cont) = if root {
            ("", "")
        } else if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        let behind = if n.waiting_behind > 0 { format!(" [{} waiting behind it]", n.waiting_behind) } else { String::new() };
        s.push_str(&format!("{indent}{branch}{word} {}{behind}: {}\n", n.id, self.describe(o)));
        let pad = format!("{indent}{cont}   ");
        if let Some(w) = &o.waiting_for {
            s.push_str(&format!("{pad}waits for {w}\n"));
        }
        if !n.also_blocked_by.is_empty() {
            let others: Vec<String> = n.also_blocked_by.iter().map(|b| format!("{word} {b}")).collect();
            s.push_str(&format!("{pad}also waits behind {}\n", others.join(", ")));
        }
        for h in &o.holds {
            s.push_str(&format!("{pad}holds {h}\n"));
        }
        if !self.snap.exact && !o.blocked_by.is_empty() && o.waiting_for.as_ref().is_none_or(|l| l.kind == "metadata") {
            s.push_str(&format!("{pad}(inferred)\n"));
        }
        match o.query_line(160, self.show_queries) {
            Some(q) if !q.is_empty() => {
                let label = if o.state.contains("idle") || o.state == "Sleep" { "last query" } else { "query" };
                s.push_str(&format!("{pad}{label}: {q}\n"));
            }
            Some(_) => {}
            None => s.push_str(&format!("{pad}query: (not visible to this role)\n")),
        }
        let next_indent = format!("{indent}{cont}");
        for (i, c) in n.children.iter().enumerate() {
            self.node_text(s, c, word, &next_indent, i + 1 == n.children.len(), false);
        }
    }

    fn json(&self, word: &str) -> serde_json::Value {
        let masked: Vec<Session> = self
            .snap
            .sessions
            .iter()
            .map(|o| {
                let mut o = o.clone();
                o.query = o.query_line(usize::MAX, self.show_queries);
                o
            })
            .collect();
        serde_json::json!({
            "server": self.snap.server,
            "id": word,
            "exact": self.snap.exact,
            "notes": self.snap.notes,
            "trees": self.trees,
            "waiting": self.trees.iter().map(|t| t.waiting_behind).sum::<usize>(),
            "sessions": masked,
        })
    }
}

fn secs(t: f64) -> String {
    if t >= 3600.0 {
        format!("{:.1}h", t / 3600.0)
    } else if t >= 120.0 {
        format!("{:.0}m{:02.0}s", (t / 60.0).floor(), t % 60.0)
    } else {
        format!("{t:.1}s")
    }
}

//! Which sessions stepwise may cancel when they block one of its statements,
//! and in what order: opt-in, only the sessions that block stepwise's own
//! session (never stepwise, never a protected application or user, never a
//! session that is itself only queued), a cancel first, and the session
//! ended only when cancelling did not release the lock and `terminate` allows.

use super::{Observer, Session};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CancelPolicy {
    /// Act once stepwise's statement has waited this long for its lock.
    pub after: Duration,
    /// End the blocker's session (PostgreSQL `pg_terminate_backend`, MySQL
    /// `KILL`) when cancelling its query did not release the lock.
    pub terminate: bool,
    /// Application names and users never touched (exact, case-insensitive).
    pub protected: Vec<String>,
}

/// How long a cancelled session has to release the lock before it counts
/// as still blocking (and, with `terminate`, is ended).
pub const GRACE: Duration = Duration::from_millis(1000);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Cancel its statement (`pg_cancel_backend`, `KILL QUERY`).
    Cancel,
    /// End its session (`pg_terminate_backend`, `KILL`).
    Terminate,
    /// Left alone, with the reason.
    Skip,
    /// Cancelled, still blocking, and `terminate` is off: said once.
    StillBlocking,
}

/// What stepwise did (or chose not to do) to one session, for the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cancellation {
    pub action: Action,
    pub session: Session,
    /// Why (for Skip and StillBlocking), or the server's answer on failure.
    pub note: String,
    pub ok: bool,
}

impl std::fmt::Display for Cancellation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.session;
        let what = match self.action {
            Action::Cancel => "cancelled the statement of",
            Action::Terminate => "terminated",
            Action::Skip => "left alone",
            Action::StillBlocking => "still blocked by",
        };
        let app = if s.application.is_empty() { String::new() } else { format!(", application {}", s.application) };
        let age = s.transaction_secs.map(|a| format!(", transaction open {a:.1}s")).unwrap_or_default();
        let query = s.query_line(80, false).filter(|q| !q.is_empty()).map(|q| format!(": {q}")).unwrap_or_default();
        write!(f, "{what} session {} (user {}{app}, {}{age}){query}", s.id, s.user, if s.state.is_empty() { "?" } else { &s.state })?;
        if !self.note.is_empty() {
            write!(f, " [{}]", self.note)?;
        }
        if !self.ok {
            write!(f, " (failed)")?;
        }
        Ok(())
    }
}

/// The state of one wait: which sessions were cancelled when, and what was
/// already said, so that each session is acted on (and logged) once per step.
#[derive(Debug, Default)]
pub struct Tracker {
    cancelled: BTreeMap<i64, Instant>,
    terminated: BTreeMap<i64, Instant>,
    said: BTreeSet<(i64, &'static str)>,
}

impl Tracker {
    /// What to do now about `blockers` (the sessions stepwise's session waits
    /// behind) given `own` (stepwise's sessions) and the policy. The caller
    /// performs Cancel and Terminate and logs everything returned.
    pub fn decide(&mut self, blockers: &[Session], own: &[i64], policy: &CancelPolicy, now: Instant) -> Vec<(Action, Session, String)> {
        let mut out = Vec::new();
        for b in blockers {
            if own.contains(&b.id) {
                continue;
            }
            if let Some(reason) = protected(b, policy) {
                if self.said.insert((b.id, "skip")) {
                    out.push((Action::Skip, b.clone(), reason));
                }
                continue;
            }
            if b.is_waiting() {
                // Queued ahead of stepwise, behind the real holder: cancelling
                // the holder lets it through; it is not what holds the lock.
                continue;
            }
            if self.terminated.contains_key(&b.id) {
                continue;
            }
            match self.cancelled.get(&b.id) {
                None => {
                    self.cancelled.insert(b.id, now);
                    out.push((Action::Cancel, b.clone(), String::new()));
                }
                Some(at) if now.duration_since(*at) >= GRACE => {
                    if policy.terminate {
                        self.terminated.insert(b.id, now);
                        out.push((Action::Terminate, b.clone(), "cancelling its statement did not release the lock".into()));
                    } else if self.said.insert((b.id, "still")) {
                        let why = if b.state.contains("idle") {
                            "idle in its transaction: there is no statement to cancel; --terminate ends its session"
                        } else {
                            "its transaction still holds the lock after the cancel; --terminate ends its session"
                        };
                        out.push((Action::StillBlocking, b.clone(), why.into()));
                    }
                }
                Some(_) => {}
            }
        }
        out
    }
}

/// Why `s` is never touched, if it is protected.
fn protected(s: &Session, policy: &CancelPolicy) -> Option<String> {
    if s.application.to_ascii_lowercase().starts_with("stepwise") {
        return Some(format!("application {} is stepwise", s.application));
    }
    for p in &policy.protected {
        if !s.application.is_empty() && s.application.eq_ignore_ascii_case(p) {
            return Some(format!("application {} is protected", s.application));
        }
        if s.user.eq_ignore_ascii_case(p) {
            return Some(format!("user {} is protected", s.user));
        }
    }
    None
}

/// `--cancel-blockers-after` for one wait: the policy, and when the wait
/// began (a statement's first attempt; it counts across retries).
#[derive(Debug, Clone)]
pub struct Cancel {
    pub policy: CancelPolicy,
    pub since: Instant,
}

impl Cancel {
    pub fn starting_now(policy: &CancelPolicy) -> Cancel {
        Cancel { policy: policy.clone(), since: Instant::now() }
    }
}

/// What happened, for the caller's log.
#[derive(Debug, Clone)]
pub enum CancelEvent {
    Acted(Box<Cancellation>),
    /// Said once: why nobody will be cancelled, or that looking failed.
    Note(String),
}

/// The state of `--cancel-blockers-after` across the attempts of one wait;
/// an [`Observer`] of the engine says who blocks and performs the act.
#[derive(Debug, Default)]
pub struct Canceller {
    since: Option<Instant>,
    tracker: Tracker,
    noted: bool,
}

impl Canceller {
    /// The policy when it is time to act: the wait has lasted at least
    /// `after`. A new wait (another `since`) starts a new record.
    pub fn due<'a>(&mut self, cancel: Option<&'a Cancel>) -> Option<&'a CancelPolicy> {
        let c = cancel?;
        if self.since != Some(c.since) {
            *self = Canceller { since: Some(c.since), ..Default::default() };
        }
        (c.since.elapsed() >= c.policy.after).then_some(&c.policy)
    }

    /// What to do about the sessions session `me` waits behind in `snap`:
    /// the acts to perform (with their note); skips are reported here.
    pub fn decide(
        &mut self,
        snap: &super::Snapshot,
        me: i64,
        own: &[i64],
        policy: &CancelPolicy,
        report: &mut dyn FnMut(CancelEvent),
    ) -> Vec<(Action, Session, String)> {
        let Some(mine) = snap.sessions.iter().find(|s| s.id == me) else { return vec![] };
        if mine.blocked_by.is_empty() {
            return vec![];
        }
        if !snap.exact {
            if !std::mem::replace(&mut self.noted, true) {
                let why = snap.notes.last().cloned().unwrap_or_default();
                report(CancelEvent::Note(format!(
                    "--cancel-blockers-after: not cancelling anyone, the server does not say exactly who holds the lock ({why})"
                )));
            }
            return vec![];
        }
        let blockers: Vec<Session> = snap.sessions.iter().filter(|s| mine.blocked_by.contains(&s.id)).cloned().collect();
        let mut act = Vec::new();
        for (action, session, note) in self.tracker.decide(&blockers, own, policy, Instant::now()) {
            match action {
                Action::Cancel | Action::Terminate => act.push((action, session, note)),
                _ => report(CancelEvent::Acted(Box::new(Cancellation { action, session, note, ok: true }))),
            }
        }
        act
    }
}

/// Act on the sessions that block `waiter` right now, as the policy says,
/// and report each. Never touched: `waiter`, the observer, and every other
/// session this process has open.
pub async fn cancel_blockers<O: Observer>(
    observer: &mut O,
    waiter: i64,
    canceller: &mut Canceller,
    policy: &CancelPolicy,
    report: &mut dyn FnMut(CancelEvent),
) {
    let snap = match observer.snapshot().await {
        Ok(s) => s,
        Err(e) => return report(CancelEvent::Note(format!("--cancel-blockers-after: could not read the blocking sessions: {e}"))),
    };
    let mut own = vec![waiter, observer.own_id()];
    own.extend(super::own::sessions());
    for (action, session, why) in canceller.decide(&snap, waiter, &own, policy, report) {
        let (ok, note) = match observer.act(session.id, action).await {
            Ok(true) => (true, why),
            Ok(false) => (false, "no such session any more".to_string()),
            Err(e) => (false, e.to_string()),
        };
        report(CancelEvent::Acted(Box::new(Cancellation { action, session, note, ok })));
    }
}

/// Run `main` (work on session `waiter`) while `observer` watches it every
/// `every`; once `cancel` is due and `waiter` waits for a lock, cancel its blockers.
pub async fn guarded<O: Observer, R>(
    observer: &mut O,
    waiter: i64,
    canceller: &mut Canceller,
    cancel: Option<&Cancel>,
    every: Duration,
    main: impl std::future::Future<Output = R>,
    report: &mut dyn FnMut(CancelEvent),
) -> R {
    let Some(c) = cancel else { return main.await };
    tokio::pin!(main);
    loop {
        tokio::select! {
            biased;
            r = &mut main => return r,
            _ = tokio::time::sleep(every) => {
                if let Some(policy) = canceller.due(Some(c)) {
                    cancel_blockers(observer, waiter, canceller, policy, report).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: i64, app: &str, user: &str, blocked_by: &[i64]) -> Session {
        Session {
            id,
            application: app.into(),
            user: user.into(),
            blocked_by: blocked_by.to_vec(),
            state: "idle in transaction".into(),
            ..Default::default()
        }
    }

    fn policy(terminate: bool) -> CancelPolicy {
        CancelPolicy { after: Duration::from_secs(2), terminate, protected: vec!["replicator".into(), "Billing".into()] }
    }

    #[test]
    fn cancels_then_terminates_only_with_terminate() {
        let t0 = Instant::now();
        let blockers = vec![s(7, "psql", "app", &[])];
        let mut t = Tracker::default();
        let first = t.decide(&blockers, &[1], &policy(true), t0);
        assert_eq!(first.iter().map(|a| a.0).collect::<Vec<_>>(), vec![Action::Cancel]);
        assert!(t.decide(&blockers, &[1], &policy(true), t0 + Duration::from_millis(300)).is_empty(), "within the grace");
        let later = t.decide(&blockers, &[1], &policy(true), t0 + GRACE);
        assert_eq!(later.iter().map(|a| a.0).collect::<Vec<_>>(), vec![Action::Terminate]);
        assert!(t.decide(&blockers, &[1], &policy(true), t0 + GRACE * 3).is_empty(), "terminated once");

        let mut t = Tracker::default();
        t.decide(&blockers, &[1], &policy(false), t0);
        let later = t.decide(&blockers, &[1], &policy(false), t0 + GRACE);
        assert_eq!(later.iter().map(|a| a.0).collect::<Vec<_>>(), vec![Action::StillBlocking]);
        assert!(later[0].2.contains("--terminate"));
        assert!(t.decide(&blockers, &[1], &policy(false), t0 + GRACE * 2).is_empty(), "said once");
    }

    #[test]
    fn own_protected_and_queued_sessions_are_never_touched() {
        let blockers = vec![
            s(1, "stepwise", "me", &[]),
            s(2, "stepwise monitor", "me", &[]),
            s(3, "billing", "app", &[]),
            s(4, "psql", "replicator", &[]),
            s(5, "psql", "app", &[9]),
            s(6, "psql", "app", &[]),
        ];
        let mut t = Tracker::default();
        let acts = t.decide(&blockers, &[1], &policy(true), Instant::now());
        let acted: Vec<(Action, i64)> = acts.iter().map(|(a, s, _)| (*a, s.id)).collect();
        assert_eq!(acted, vec![(Action::Skip, 2), (Action::Skip, 3), (Action::Skip, 4), (Action::Cancel, 6)]);
    }
}

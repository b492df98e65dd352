//! The blocking tree: roots (sessions that block others while waiting for
//! no one) first, each with every session that waits behind it, directly
//! or through another waiter. Pure: works on a snapshot's sessions.

use super::Session;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub id: i64,
    /// Sessions waiting behind this one, directly or transitively.
    pub waiting_behind: usize,
    /// Other sessions this one also waits for (it is drawn under its first).
    pub also_blocked_by: Vec<i64>,
    pub children: Vec<Node>,
}

impl Node {
    pub fn ids(&self) -> Vec<i64> {
        let mut out = vec![self.id];
        for c in &self.children {
            out.extend(c.ids());
        }
        out
    }
}

/// The trees of who blocks whom. Sessions neither waiting nor blocking are
/// left out. A waiter whose blockers all wait (a deadlock the server has
/// not broken yet) or are not in the snapshot becomes a root of its own.
pub fn build(sessions: &[Session]) -> Vec<Node> {
    let known: BTreeSet<i64> = sessions.iter().map(|s| s.id).collect();
    // blocker -> its direct waiters, in id order.
    let mut waiters: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut first_blocker: BTreeMap<i64, i64> = BTreeMap::new();
    for s in sessions {
        let blockers: Vec<i64> = s.blocked_by.iter().copied().filter(|b| known.contains(b) && *b != s.id).collect();
        for b in &blockers {
            waiters.entry(*b).or_default().push(s.id);
        }
        if let Some(b) = blockers.first() {
            first_blocker.insert(s.id, *b);
        }
    }
    let by_id: BTreeMap<i64, &Session> = sessions.iter().map(|s| (s.id, s)).collect();
    let behind = |id: i64| -> usize {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(x) = stack.pop() {
            for w in waiters.get(&x).into_iter().flatten() {
                if *w != id && seen.insert(*w) {
                    stack.push(*w);
                }
            }
        }
        seen.len()
    };
    let mut placed = BTreeSet::new();
    let mut roots: Vec<i64> = waiters.keys().copied().filter(|id| !first_blocker.contains_key(id)).collect();
    // Most sessions behind first, then the oldest transaction.
    let age = |id: &i64| by_id.get(id).and_then(|s| s.transaction_secs).unwrap_or(0.0);
    roots.sort_by(|a, b| behind(*b).cmp(&behind(*a)).then(age(b).total_cmp(&age(a))).then(a.cmp(b)));
    let mut out = Vec::new();
    for r in roots {
        out.push(grow(r, &waiters, &first_blocker, &by_id, &mut placed, &behind));
    }
    // Waiters not reached from a root: a cycle, or blocked by someone gone.
    let rest: Vec<i64> = sessions.iter().filter(|s| !s.blocked_by.is_empty()).map(|s| s.id).collect();
    for id in rest {
        if !placed.contains(&id) {
            out.push(grow(id, &waiters, &first_blocker, &by_id, &mut placed, &behind));
        }
    }
    out
}

fn grow(
    id: i64,
    waiters: &BTreeMap<i64, Vec<i64>>,
    first_blocker: &BTreeMap<i64, i64>,
    by_id: &BTreeMap<i64, &Session>,
    placed: &mut BTreeSet<i64>,
    behind: &dyn Fn(i64) -> usize,
) -> Node {
    placed.insert(id);
    let mut children = Vec::new();
    for w in waiters.get(&id).into_iter().flatten() {
        // Drawn once, under its first blocker.
        if !placed.contains(w) && first_blocker.get(w) == Some(&id) {
            children.push(grow(*w, waiters, first_blocker, by_id, placed, behind));
        }
    }
    let also_blocked_by = by_id
        .get(&id)
        .map(|s| s.blocked_by.iter().copied().filter(|b| Some(b) != first_blocker.get(&id) && by_id.contains_key(b)).collect())
        .unwrap_or_default();
    Node { id, waiting_behind: behind(id), also_blocked_by, children }
}

/// Keep the trees with a session that holds or waits for a lock on `table`.
pub fn on_table(trees: Vec<Node>, sessions: &[Session], table: &str) -> Vec<Node> {
    let touching: BTreeSet<i64> = sessions.iter().filter(|s| s.touches(table)).map(|s| s.id).collect();
    trees.into_iter().filter(|t| t.ids().iter().any(|id| touching.contains(id))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: i64, blocked_by: &[i64]) -> Session {
        Session { id, blocked_by: blocked_by.to_vec(), ..Default::default() }
    }

    #[test]
    fn the_holder_is_the_root_with_everyone_behind_it() {
        // 10 holds a lock, 11 (an ALTER) waits for it, 12..14 queue behind 11; 20 is idle.
        let sessions = vec![s(10, &[]), s(11, &[10]), s(12, &[11]), s(13, &[11]), s(14, &[11]), s(20, &[])];
        let trees = build(&sessions);
        assert_eq!(trees.len(), 1);
        assert_eq!(trees[0].id, 10);
        assert_eq!(trees[0].waiting_behind, 4);
        assert_eq!(trees[0].children.len(), 1);
        assert_eq!(trees[0].children[0].id, 11);
        assert_eq!(trees[0].children[0].waiting_behind, 3);
        assert_eq!(trees[0].children[0].children.iter().map(|n| n.id).collect::<Vec<_>>(), vec![12, 13, 14]);
    }

    #[test]
    fn roots_with_more_behind_them_come_first_and_shared_waiters_are_drawn_once() {
        let sessions = vec![s(1, &[]), s(2, &[1]), s(5, &[]), s(6, &[5]), s(7, &[5, 1]), s(8, &[5])];
        let trees = build(&sessions);
        assert_eq!(trees.iter().map(|t| t.id).collect::<Vec<_>>(), vec![5, 1]);
        assert_eq!(trees[0].waiting_behind, 3);
        assert_eq!(trees[1].waiting_behind, 2);
        let all: Vec<i64> = trees.iter().flat_map(|t| t.ids()).collect();
        assert_eq!(all.iter().filter(|&&x| x == 7).count(), 1);
        let seven = trees[0].children.iter().find(|n| n.id == 7).unwrap();
        assert_eq!(seven.also_blocked_by, vec![1]);
    }

    #[test]
    fn a_cycle_and_an_unknown_blocker_still_show() {
        let sessions = vec![s(1, &[2]), s(2, &[1]), s(3, &[99])];
        let trees = build(&sessions);
        let all: BTreeSet<i64> = trees.iter().flat_map(|t| t.ids()).collect();
        assert_eq!(all, [1, 2, 3].into_iter().collect());
    }

    #[test]
    fn nothing_waits_nothing_shows() {
        assert!(build(&[s(1, &[]), s(2, &[])]).is_empty());
    }
}

//! The server sessions this process has open, so that cancelling blockers
//! never touches stepwise's own (a copy, a verifier, a monitor), on MySQL
//! too, where a session carries no application name to recognise it by.

use std::collections::BTreeSet;
use std::sync::Mutex;

static OWN: Mutex<BTreeSet<i64>> = Mutex::new(BTreeSet::new());

pub fn register(id: i64) {
    if let Ok(mut s) = OWN.lock() {
        s.insert(id);
    }
}

pub fn forget(id: i64) {
    if let Ok(mut s) = OWN.lock() {
        s.remove(&id);
    }
}

/// Every session id this process has open (on any server: ids from another
/// server only make stepwise more careful).
pub fn sessions() -> Vec<i64> {
    OWN.lock().map(|s| s.iter().copied().collect()).unwrap_or_default()
}

//! A map of relations (indexes, sequences) by key that also knows which keys
//! each table owns, so that dropping or renaming a table, or one of its
//! columns, touches that table's entries and not every entry of a long
//! history (a scan per statement made linting quadratic in the history).
//!
//! Reads go through `Deref` to the plain `HashMap`; every change goes
//! through the methods here, which keep the per-table index in step.

use std::collections::{BTreeSet, HashMap};
use std::ops::Deref;

/// An entry that may belong to a table (by the model's table key).
pub trait Owned {
    fn owner(&self) -> Option<&str>;
    fn set_owner(&mut self, owner: &str);
}

#[derive(Debug, Clone)]
pub struct ByTable<V> {
    items: HashMap<String, V>,
    of_table: HashMap<String, BTreeSet<String>>,
}

impl<V> Default for ByTable<V> {
    fn default() -> Self {
        ByTable { items: HashMap::new(), of_table: HashMap::new() }
    }
}

impl<V> Deref for ByTable<V> {
    type Target = HashMap<String, V>;
    fn deref(&self) -> &Self::Target {
        &self.items
    }
}

impl<V: Owned> ByTable<V> {
    pub fn insert(&mut self, key: String, value: V) {
        self.remove(&key);
        if let Some(owner) = value.owner() {
            self.of_table.entry(owner.to_string()).or_default().insert(key.clone());
        }
        self.items.insert(key, value);
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        let value = self.items.remove(key)?;
        if let Some(owner) = value.owner() {
            if let Some(keys) = self.of_table.get_mut(owner) {
                keys.remove(key);
                if keys.is_empty() {
                    self.of_table.remove(owner);
                }
            }
        }
        Some(value)
    }

    /// The keys of `table`'s entries, in key order (a stable order for
    /// anything derived from them).
    pub fn keys_of(&self, table: &str) -> Vec<String> {
        self.of_table.get(table).map(|keys| keys.iter().cloned().collect()).unwrap_or_default()
    }

    /// Change each of `table`'s entries (anything but its owner).
    pub fn update_of(&mut self, table: &str, mut f: impl FnMut(&mut V)) {
        for k in self.of_table.get(table).into_iter().flatten() {
            if let Some(v) = self.items.get_mut(k) {
                f(v);
            }
        }
    }

    /// Every entry of `table` removed.
    pub fn remove_table(&mut self, table: &str) -> Vec<(String, V)> {
        let keys = self.of_table.remove(table).unwrap_or_default();
        keys.into_iter().filter_map(|k| self.items.remove(&k).map(|v| (k, v))).collect()
    }

    /// `from` renamed to `to`: its entries now belong to `to`.
    pub fn rename_table(&mut self, from: &str, to: &str) {
        let Some(keys) = self.of_table.remove(from) else { return };
        for k in &keys {
            if let Some(v) = self.items.get_mut(k) {
                v.set_owner(to);
            }
        }
        self.of_table.entry(to.to_string()).or_default().extend(keys);
    }
}

/// A sequence's owner (a serial or identity column's table), or none (a
/// view, or a sequence of its own).
impl Owned for Option<String> {
    fn owner(&self) -> Option<&str> {
        self.as_deref()
    }
    fn set_owner(&mut self, owner: &str) {
        *self = Some(owner.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_per_table_keys_follow_inserts_removes_and_renames() {
        let mut m: ByTable<Option<String>> = ByTable::default();
        m.insert("a_seq".into(), Some("a".into()));
        m.insert("b_seq".into(), Some("a".into()));
        m.insert("v".into(), None);
        assert_eq!(m.keys_of("a"), ["a_seq", "b_seq"]);
        // Re-inserting under another owner moves the key.
        m.insert("b_seq".into(), Some("b".into()));
        assert_eq!(m.keys_of("a"), ["a_seq"]);
        m.rename_table("a", "c");
        assert!(m.keys_of("a").is_empty());
        assert_eq!(m.get("a_seq"), Some(&Some("c".to_string())));
        assert_eq!(m.remove_table("c").len(), 1);
        assert!(!m.contains_key("a_seq") && m.contains_key("b_seq") && m.contains_key("v"));
        m.remove("b_seq");
        assert!(m.keys_of("b").is_empty() && m.of_table.is_empty());
    }
}

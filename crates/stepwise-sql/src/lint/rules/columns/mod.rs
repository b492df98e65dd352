//! columns rules.

use crate::lint::rule::Rule;

pub fn all() -> Vec<&'static dyn Rule> {
    vec![]
}

//! Constraint rules: keys and checks that scan or index a live table under
//! a lock, and the recipes that split them into short steps.

mod ban_foreign_keys;
mod check_not_valid;
mod drop_primary_key;
mod exclude_constraint;
mod foreign_key_not_valid;
mod primary_key_using_nullable_index;
mod shared;
mod unique_without_index;
mod validate_in_same_transaction;

use crate::pg::rule::Rule;

pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &foreign_key_not_valid::RULE,
        &check_not_valid::RULE,
        &validate_in_same_transaction::RULE,
        &unique_without_index::RULE,
        &exclude_constraint::RULE,
        &ban_foreign_keys::RULE,
        &drop_primary_key::RULE,
        &primary_key_using_nullable_index::RULE,
    ]
}

//! Index rules: builds and drops that lock writes or reads, and index builds
//! that cannot run where they are.

mod concurrent_index_on_partitioned_table;
mod require_concurrent_drop_index;
mod require_concurrent_index;
mod require_concurrent_reindex;
mod require_index_name;

use crate::pg::rule::Rule;

pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &require_concurrent_index::RULE,
        &require_concurrent_drop_index::RULE,
        &require_index_name::RULE,
        &require_concurrent_reindex::RULE,
        &concurrent_index_on_partitioned_table::RULE,
    ]
}

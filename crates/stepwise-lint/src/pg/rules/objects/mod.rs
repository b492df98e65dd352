//! Rules for objects around tables: partitions, materialized views,
//! domains, schemas and databases.

mod attach_partition_without_check;
mod detach_partition_concurrently;
mod domain_constraint_not_valid;
mod drop_schema_cascade;
mod no_drop_database;
mod refresh_materialized_view_concurrently;
mod rename_schema;

use crate::pg::rule::Rule;

pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &detach_partition_concurrently::RULE,
        &attach_partition_without_check::RULE,
        &refresh_materialized_view_concurrently::RULE,
        &domain_constraint_not_valid::RULE,
        &drop_schema_cascade::RULE,
        &no_drop_database::RULE,
        &rename_schema::RULE,
    ]
}

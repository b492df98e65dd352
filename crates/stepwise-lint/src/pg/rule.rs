//! The PostgreSQL rule interface. Each rule lives in its own file under
//! `rules/`, with its explanation and its bad and good examples tested beside it.

use super::context::Cx;
pub use crate::rule::{Cost, Hit, RuleMeta};

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// Look at one statement (with the schema as it stands before it) and
    /// push what is wrong.
    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>);
}

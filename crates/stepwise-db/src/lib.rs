//! stepwise-db: connections, server versions and catalog introspection, one
//! module per engine. No migration logic lives here.

pub mod backup;
pub mod blocker;
pub mod catalog;
pub mod clock;
pub mod error;
pub mod mysql;
pub mod mysql_catalog;
pub mod mysql_dump;
pub mod pg;
pub mod progress;
pub mod tls;
pub mod trace;
pub mod url;

pub use blocker::Blocker;
pub use error::{DbError, ServerError};
pub use url::{redact, DbUrl, Engine};
pub mod schema_dump;
pub mod scratch;
pub mod sessions;
pub mod table_facts;

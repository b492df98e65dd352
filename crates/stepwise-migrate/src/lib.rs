//! stepwise-migrate: migration sources and formats, the tracking store,
//! apply and rollback under lock timeouts with retries, the migration lock.

pub mod adopt;
pub mod apply;
pub mod checklist;
pub mod deploy;
pub mod dump;
pub mod engine;
pub mod error;
pub mod events;
pub mod execute;
pub mod health;
pub mod history;
pub mod lint_gate;
pub mod mark;
pub mod migration;
pub mod resolve;
pub mod retry;
pub mod rollback;
pub mod source;
pub mod verify;

pub use error::RunError;
pub use events::Event;
pub use execute::RunOptions;
pub use migration::{Layout, Migration, MigrationKind, Version};

//! The MySQL/MariaDB judge (in progress).

pub mod server;
pub use server::{Server, ServerFlavor};

//! What CI runs: set up the machine, then build and run every test.

use crate::util::{root, run, Result};
use std::process::Command;

pub fn ci() -> Result {
    crate::setup::setup()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo).current_dir(root()).args(["build", "--workspace", "--all-targets", "--locked"]))?;
    run(Command::new(&cargo).current_dir(root()).args(["test", "--workspace", "--locked", "--no-fail-fast"]))
}

//! The `stepwise` binary: parse, call, render. All logic lives in the library
//! crates; this crate reads configuration and prints.

// Parse trees are millions of small allocations; mimalloc serves them about
// twice as fast as the system allocator (see bench/results/lint.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod commands;
mod config;
mod duration;
mod lint_output;
mod render;

use clap::Parser;
use cli::{Cli, Format};
use render::Out;

fn main() {
    let cli = Cli::parse();
    let out = Out::new(cli.global.format);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&format!("cannot start the async runtime: {e}"));
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(commands::run(cli, out));
    if code != 0 && out.format == Format::Text {
        // Nothing more to say: the error was rendered where it happened.
    }
    std::process::exit(code);
}

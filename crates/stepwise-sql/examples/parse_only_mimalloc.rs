//! `parse_only` with mimalloc, the allocator the `stepwise` binary uses: the
//! floor for `stepwise lint` measured like for like (`cargo xtask bench lint`).

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "parse_only.rs"]
mod parse_only;

fn main() {
    parse_only::main()
}

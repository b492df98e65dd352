//! Project automation: `cargo xtask setup | demo | ci | bench <name>`.
//! Standard library only, except for the MariaDB side of `bench backfill`
//! (tokio and mysql_async, which the stepwise crates already use).

mod bench;
mod ci;
mod demo;
mod setup;
mod util;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::setup_with_peers(),
        Some("demo") => demo::demo(),
        Some("ci") => ci::ci(),
        Some("bench") => bench::bench(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  setup          install and start what a fresh machine lacks (PostgreSQL, MariaDB), and the benches' peers (pg_repack, pt-online-schema-change)\n  demo           build, start a scratch PostgreSQL (unless DATABASE_URL is set), apply the examples, show status and a rollback\n  ci             setup, then build and run every test\n  bench runner   1,000 migrations: stepwise against psql -f\n  bench lint     10,000 files: stepwise lint against the parser alone (and squawk)\n  bench osc      1,000,000 rows: stepwise osc against INSERT ... SELECT, and pgbench latency during it\n  bench backfill [pg|mysql]\n                 1,000,000 rows: stepwise backfill against one UPDATE and a Rails in_batches loop, and latency under load during it\n"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: {e}");
        std::process::exit(1);
    }
}

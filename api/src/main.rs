//! `wangge`: the command line of the grid service.

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: the partition's search and tessellation allocate many
/// small, short-lived buffers per spanning tree (see BENCHMARKS.md, "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            cli::exit_bad_input()
        }
    }
}

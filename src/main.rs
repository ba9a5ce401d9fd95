//! The `switchyard` binary: parse the command line and hand over to the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Invoked as `nats-server` (a symlink or copy): nats-server's flags.
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let result = match args.split_first() {
        Some((program, rest)) if switchyard::cli::compat::invoked_as_nats_server(program) => {
            switchyard::cli::compat::run(program, rest)
        }
        _ => switchyard::cli::run(switchyard::cli::Cli::parse()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

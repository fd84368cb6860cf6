//! `kentro`: K-Means clustering from the command line.
//!
//! The binary is thin: [`cli`] describes the arguments, the modules under `commands/` turn them
//! into calls to the `kentro` core, and this file only dispatches and reports errors. Every error
//! is printed as one line with its causes; a closed stdout (`kentro predict … | head`) ends the
//! program quietly with success.

mod cli;
mod commands;
mod output;
mod pca;
mod plot;
mod progress;
mod read;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(args),
        Command::Fit(args) => commands::fit::run(args),
        Command::Predict(args) => commands::predict::run(args),
        Command::Blobs(args) => commands::blobs::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole chain of causes on one line: "context: cause: cause".
            let _ = writeln!(io::stderr(), "error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether the error comes from writing to a pipe whose reader has gone away, which is how a
/// command-line tool is normally stopped early (`kentro predict … | head`).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|io_err| io_err.kind() == io::ErrorKind::BrokenPipe)
}

//! `kentro`: K-Means clustering from the command line.
//!
//! The binary is thin: [`cli`] describes the arguments, the modules under `commands/` turn them
//! into calls to the `kentro` core, and this file only dispatches and reports errors. Every error
//! is printed as one line, `error: …`, with its causes. The exit status is 0 on success, 1 on an
//! error, 2 on a command-line error (clap's convention: an unknown option, a missing or
//! malformed value) and 130 on Ctrl-C; `--help` and `--version` print to stdout and succeed. A
//! closed stdout (`kentro predict … | head`) ends the program quietly with success.
//!
//! Files are written all or nothing ([`output::Outputs`]); Ctrl-C removes the temporary files of
//! an unfinished write before exiting.

mod cli;
mod commands;
mod output;
mod pca;
mod plot;
mod plot_k;
mod progress;
mod read;
mod text;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::{Cli, Command};

/// The exit status of a command-line error.
const USAGE_ERROR: u8 = 2;
/// The exit status after Ctrl-C (128 + SIGINT, as a shell reports it).
const INTERRUPTED: i32 = 130;

fn main() -> ExitCode {
    // Without the handler Ctrl-C still stops the program, only its temporary files could stay.
    let _ = ctrlc::set_handler(on_interrupt);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return command_line_error(err),
    };
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(args),
        Command::Fit(args) => commands::fit::run(args),
        Command::Predict(args) => commands::predict::run(args),
        Command::Blobs(args) => commands::blobs::run(args),
        Command::Quantize(args) => commands::quantize::run(args),
        Command::Text(args) => commands::text::run(args),
        Command::Outliers(args) => commands::outliers::run(args),
        Command::ChooseK(args) => commands::choose_k::run(args),
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

/// Ctrl-C: clear the progress line, remove unfinished outputs, exit with 130.
fn on_interrupt() {
    progress::clear_shown();
    output::remove_pending();
    std::process::exit(INTERRUPTED);
}

/// Help and version are printed as clap does; every other parse error on one line, with the
/// usage error status.
fn command_line_error(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => err.exit(),
        _ => {
            let _ = writeln!(io::stderr(), "error: {}", one_line(&err.render().to_string()));
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// clap's message on one line: without the `error: ` it starts with, the usage and the
/// "For more information" advice, its remaining lines joined (`tip:` lines after a `;`).
fn one_line(rendered: &str) -> String {
    let message = rendered.trim_start().strip_prefix("error:").unwrap_or(rendered).trim_start();
    let mut text = String::new();
    for line in message.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str(if line.starts_with("tip:") { "; " } else { " " });
        }
        text.push_str(line);
    }
    text
}

/// Whether the error comes from writing to a pipe whose reader has gone away, which is how a
/// command-line tool is normally stopped early (`kentro predict … | head`).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|io_err| io_err.kind() == io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(args: &[&str]) -> String {
        let err = Cli::try_parse_from(args).unwrap_err();
        one_line(&err.render().to_string())
    }

    #[test]
    fn command_line_errors_fit_on_one_line() {
        assert_eq!(
            parse_error(&["kentro", "fit", "d.csv", "-k", "2", "--threads", "0"]),
            "invalid value '0' for '--threads <N>': expected a whole number >= 1"
        );
        assert_eq!(
            parse_error(&["kentro", "fit", "d.csv"]),
            "the following required arguments were not provided: --n-clusters <K>"
        );
        let unknown = parse_error(&["kentro", "fit", "d.csv", "-k", "2", "--thread", "2"]);
        assert!(unknown.starts_with("unexpected argument '--thread' found; tip:"), "{unknown}");
        let init = parse_error(&["kentro", "fit", "d.csv", "-k", "2", "--init", "kmeans"]);
        assert!(init.starts_with("invalid value 'kmeans' for '--init <INIT>' [possible values:"), "{init}");
        for message in [unknown, init] {
            assert!(!message.contains('\n') && !message.contains('\x1b'), "{message:?}");
        }
    }
}

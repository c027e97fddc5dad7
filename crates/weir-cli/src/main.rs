//! The `weir` command-line tool: a thin layer over the `weir` library.

mod args;
mod demo;
mod demo_data;
mod run;
mod spec;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let matches = args::Cli::command().get_matches();
    let cli = args::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Step flags are applied in the order typed, which only the raw matches know.
    let sub = |name| {
        matches
            .subcommand_matches(name)
            .expect("the parsed subcommand")
    };
    let code = match cli.command {
        args::Command::Run(a) => run::run(a, sub("run")),
        args::Command::Explain(a) => run::explain(a, sub("explain")),
        args::Command::Schema(args::SchemaCommand::Infer(a)) => run::infer(a),
        args::Command::Demo(a) => demo::demo(a),
    };
    ExitCode::from(code)
}

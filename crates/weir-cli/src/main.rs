//! The `weir` command-line tool: a thin layer over the `weir` library.

mod args;
mod demo;
mod demo_data;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let code = match cli.command {
        args::Command::Run(a) => run::run(a),
        args::Command::Demo(a) => demo::demo(a),
    };
    ExitCode::from(code)
}

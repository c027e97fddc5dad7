//! The `weir` command-line tool: a thin layer over the `weir` library.

mod args;
mod demo;
mod demo_data;
mod exit;
mod help;
mod human;
mod inputs;
mod progress;
mod run;
mod shard;
mod signals;
mod spec;
mod summary;

use std::process::ExitCode;

use clap::FromArgMatches;

use crate::exit::Exit;

fn main() -> ExitCode {
    let matches = args::command().get_matches();
    let cli = args::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    init_logging(cli.verbose);
    // Step flags are applied in the order typed, which only the raw matches know.
    let sub = |name| {
        matches
            .subcommand_matches(name)
            .expect("the parsed subcommand")
    };
    let code = match cli.command {
        // --shards and --shard-size mean something only to weir plan: refused here, before
        // either kind of run looks at the other flags.
        args::Command::Run(a) => match a.shard.planning_flag() {
            Some(flag) => {
                eprintln!("weir: error: {flag} is for weir plan");
                Exit::Usage
            }
            None if a.shard.selects_a_shard() => shard::run(a, sub("run")),
            None => run::run(a, sub("run")),
        },
        args::Command::Plan(a) => shard::plan(a, sub("plan")),
        args::Command::Merge(a) => shard::merge(a),
        args::Command::Explain(a) => run::explain(a, sub("explain")),
        args::Command::Schema(args::SchemaCommand::Infer(a)) => run::infer(a),
        args::Command::Demo(a) => demo::demo(a),
        args::Command::Completions { shell } => {
            let mut cmd = args::command();
            clap_complete::generate(shell, &mut cmd, "weir", &mut std::io::stdout());
            Exit::Ok
        }
        args::Command::Man => help::man(),
        args::Command::Help { topic } => help::help(&topic),
    };
    ExitCode::from(code)
}

/// Logs go to stderr through `tracing`: `-v` for info, `-vv` debug, `-vvv` trace, or RUST_LOG.
/// By default only warnings are shown; data never goes to stderr and logs never to stdout.
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .with_target(false)
        .try_init();
}

//! What the user typed (clap), before it is resolved into a pipeline.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use weir::Format;

/// The exit codes, shown in `weir --help` and `weir run --help`.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0    success (also when standard output is closed early, e.g. by `| head`)
  1    the run failed: I/O error, oversized record, unterminated quote, ...
  2    usage or configuration error (bad flag, unknown column); nothing is written
  124  the --timeout passed; nothing is committed
  130  interrupted by Ctrl-C (SIGINT); nothing is committed; a second Ctrl-C exits at once
  143  terminated by SIGTERM; nothing is committed"
    };
}

/// weir: process record files far larger than memory, in parallel, with every record accounted for.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about, long_about = None, after_help = exit_codes!())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline over an input file: parse, transform, write, reject.
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Generate a dirty customers file and run a pipeline on it, showing the whole product.
    Demo(DemoArgs),
}

const RUN_HELP: &str = concat!(
    "Examples:
  weir run --input customers.csv --output out.csv --rejects rejects.csv
  weir run --input big.csv --output - --select id,name,email | head
  weir run --input events.jsonl --output slim.jsonl --select ts,user --report report.json
  zcat big.csv.gz | weir run --input - --format csv --output out.csv --timeout 10m

Records whose field count differs from the header's are rejected (missing-cell / extra-cell)
unless --flexible. Rejected records go to --rejects as CSV with the columns
file,line,byte_offset,field,error,message,record. Output appears at its path only when the run
succeeds; a failed or stopped run leaves no file there (and an existing file untouched).

",
    exit_codes!()
);

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Input file, or `-` for standard input.
    #[arg(long, short = 'i', value_name = "PATH")]
    pub input: String,

    /// Output file (written atomically), or `-` for standard output.
    #[arg(long, short = 'o', value_name = "PATH", default_value = "-")]
    pub output: String,

    /// Input format; by default from the input's extension (.csv, .tsv, .jsonl, .txt), else csv.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<Format>,

    /// Field delimiter for csv (one byte; `\t` for tab).
    #[arg(long, value_name = "CHAR", value_parser = parse_byte)]
    pub delimiter: Option<u8>,

    /// Quote character for csv/tsv (one byte).
    #[arg(long, value_name = "CHAR", value_parser = parse_byte)]
    pub quote: Option<u8>,

    /// The csv/tsv input has no header row; columns are named column1, column2, ...
    #[arg(long)]
    pub no_header: bool,

    /// Keep only these columns, in this order (comma-separated names).
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub select: Option<Vec<String>>,

    /// Write rejected records here (CSV: file,line,byte_offset,field,error,message,record).
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,

    /// Write the run's report here as JSON (also when the run fails or is stopped).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,

    /// Worker threads [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub workers: Option<usize>,

    /// Target chunk size: 4096, 64KiB, 1MiB, ...
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    pub chunk_size: usize,

    /// Largest record accepted; a longer one stops the run with an error naming its line.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_record_size: usize,

    /// Write batches as they finish instead of in input order.
    #[arg(long)]
    pub unordered: bool,

    /// Accept records whose field count differs from the header's.
    #[arg(long)]
    pub flexible: bool,

    /// Stop the run after this long (90s, 10m, 1h); exits with 124.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Seconds between status lines on stderr while running.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub status_interval: Duration,

    /// No status lines and no summary on stderr (errors are still shown).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Size of the generated input: 10MiB, 100MiB, 1GiB, ...
    #[arg(long, value_name = "SIZE", default_value = "100MiB", value_parser = parse_size)]
    pub size: usize,

    /// Folder for the demo's files [default: a new folder under the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Seed of the data generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Worker threads [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub workers: Option<usize>,
}

fn parse_size(s: &str) -> Result<usize, String> {
    weir::units::parse_size(s)
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    weir::units::parse_duration(s)
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_byte(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "tab" => Ok(b'\t'),
        _ if s.len() == 1 => Ok(s.as_bytes()[0]),
        _ => Err(format!("'{s}' is not a single byte (use \\t for tab)")),
    }
}

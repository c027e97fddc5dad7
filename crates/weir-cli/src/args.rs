//! What the user typed (clap), before it is resolved into a pipeline.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand};
use serde::Deserialize;
use weir::{Format, InvalidUtf8, Oversized, Ragged, RejectBudget, RejectsFormat};

/// The exit codes, shown in `weir --help` and `weir run --help`.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0    success (also when standard output is closed early, e.g. by `| head`)
  1    the run failed: I/O error (disk full, ...), oversized record, unterminated quote, an
       input changed while it was read, ...; nothing is committed
  2    usage or configuration error (bad flag, unknown column, output folder missing or
       read-only), found before any input is read; nothing is written
  3    the rejects budget (--max-rejects) was exceeded; nothing is committed (the report
       says so, status too-many-rejects)
  124  the --timeout passed; nothing is committed
  130  interrupted by Ctrl-C (SIGINT); nothing is committed; a second Ctrl-C (or SIGTERM)
       exits at once, removing the temporary files
  143  terminated by SIGTERM; nothing is committed; a second signal exits at once"
    };
}

/// weir: process record files far larger than memory, in parallel, with every record accounted for.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about, long_about = None, after_help = exit_codes!())]
#[command(disable_help_subcommand = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides it.
    #[arg(long, short = 'v', global = true, action = ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline over an input file: parse, transform, write, reject.
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Plan a sharded run: cut the input into byte ranges for N machines (writes DIR/_plan.json,
    /// prints the shard count). Then `weir run --out DIR --shard K` per shard and `weir merge`.
    #[command(
        after_help = "Examples:\n  N=$(weir plan pipeline.toml big.csv --out out/ --shard-size 2GiB)\n  \
        weir plan --input big.csv --out out/ --shards 16 --select id,name\n\nSee docs/scale-out.md."
    )]
    Plan(RunArgs),
    /// Merge a sharded run's folder: prove each shard started where the one before ended
    /// (re-running wrong guesses with --repair), sum the reports, write rejects.csv,
    /// _report.json and, last, _SUCCESS.
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
    /// Print the compiled plan of a pipeline: each step with its columns in and out. Reads only
    /// the start of the input; reports every usage error a run would.
    #[command(
        after_help = "Examples:\n  weir explain pipelines/demo.toml customers.csv\n  \
        weir explain customers.csv --filter \"age >= 30\" --select id,name"
    )]
    Explain(RunArgs),
    /// Work with Frictionless Table Schemas.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Generate a dirty customers file and run a pipeline on it, showing the whole product.
    #[command(
        after_help = "Examples:\n  weir demo\n  weir demo --size 1GiB --dir /tmp/weir-demo --workers 2"
    )]
    Demo(DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Example:\n  weir completions bash > /etc/bash_completion.d/weir")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): weir and every subcommand with all its options, generated
    /// from the same definitions as --help.
    #[command(after_help = "Example:\n  weir man > weir.1 && man ./weir.1")]
    Man,
    /// Print the help of weir or of a command, or the expression functions: `weir help run`,
    /// `weir help functions` (every function of --filter and --derive, with an example),
    /// `weir help functions NAME`.
    #[command(
        after_help = "Examples:\n  weir help run\n  weir help schema infer\n  weir help functions\n  \
        weir help functions regexp_replace\n  weir help functions dates"
    )]
    Help {
        /// A command (run, plan, merge, ...), or `functions` and optionally a function or
        /// family name (text, regex, math, null, dates).
        #[arg(value_name = "TOPIC")]
        topic: Vec<String>,
    },
}

/// The command line as clap parses it: [`Cli`] plus what its derive cannot say. `run`, `plan`
/// and `explain` share [`RunArgs`], but the planning flags (--shards, --shard-size) mean
/// something only to `weir plan`, so `run` and `explain` hide them (`run` refuses them: see
/// [`ShardArgs::planning_flag`]).
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    // In place (Command::mut_subcommand would move them to the end of the list).
    for sub in cmd.get_subcommands_mut() {
        if matches!(sub.get_name(), "run" | "explain") {
            *sub = std::mem::take(sub)
                .mut_arg("shards", |a| a.hide(true))
                .mut_arg("shard_size", |a| a.hide(true));
        }
    }
    cmd
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Infer a Table Schema (types, formats, required) from a bounded sample of the input, as a
    /// starting point for --schema.
    #[command(
        after_help = "Examples:\n  weir schema infer customers.csv --sample 50000 > customers.schema.json\n  \
        head -n 1000 events.jsonl | weir schema infer --format jsonl"
    )]
    Infer(InferArgs),
}

#[derive(Debug, Args)]
pub struct InferArgs {
    /// Input file, or `-` for standard input [default: standard input, when it is a pipe, a
    /// file or a socket, not a terminal].
    #[arg(value_name = "INPUT")]
    pub input: Option<String>,

    /// How many records to read at most.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub sample: usize,

    /// Write the schema here instead of standard output.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<String>,

    /// Input format; by default from the extension, else csv.
    #[arg(long, value_name = "FORMAT", value_parser = str::parse::<Format>)]
    pub format: Option<Format>,

    /// Field delimiter for csv (one byte; `\t` for tab).
    #[arg(long, value_name = "CHAR", value_parser = parse_byte)]
    pub delimiter: Option<u8>,

    /// The csv/tsv input has no header row.
    #[arg(long)]
    pub no_header: bool,
}

const RUN_HELP: &str = concat!(
    "Examples:
  weir run customers.csv -o out.csv --rejects rejects.csv
  weir run pipeline.toml other.csv --workers 4        # a pipeline file (.toml/.yaml) and an input
  weir run -i logs/*.csv -o all.csv                   # several inputs, read as one stream
  cat customers.csv | weir run -o out.parquet         # standard input, when no input is named
  weir run -i customers.csv -o t2.csv --filter \"TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')\" --select id,name,age,country
  weir run -i customers.csv -o t3.csv --derive \"name=upper(trim(name))\" --derive \"email=lower(email)\" \\
      --derive \"score_pct=round(score * 100, 1)\" --rename signup_date=signup
  weir run -i customers.csv -o valid.csv --schema customers.schema.json --rejects invalid.csv
  weir run --input big.csv --output - --select id,name,email | head
  weir run --input events.jsonl --output slim.jsonl --select ts,user --report report.json
  weir run -i customers.csv -o customers.jsonl       # convert: by the output's extension
  weir run -i customers.csv --select email --output-format lines | sort -u
  weir run -i customers.csv -o customers.parquet --schema customers.schema.json   # typed Parquet
  ssh host cat big.jsonl | weir run --format jsonl -o out.csv --timeout 10m   # -i - is implied

Inputs: FILE arguments and --input values, in the order given; a FILE ending in .toml, .yaml
or .yml is the pipeline file. Inputs named on the command line replace the pipeline file's
`input`. With none named anywhere, standard input is read when it is a pipe, a file or a socket
(`cmd | weir run`, `weir run < x.csv`), never a terminal. Paths written in a pipeline file are
relative to its folder; paths on the command line to the current folder. The summary on stderr
names the output, rejects and report paths.

Records whose field count differs from the header's are rejected (missing-cell / extra-cell)
unless --ragged pads, truncates or keeps them. A record longer than --max-record-size stops the
run unless --oversized reject. Any input format converts to any output format: CSV/TSV out has a header of
the output columns, NULL as an empty field and the empty string as \"\"; JSON Lines out has one
object per record, text as strings, JSON values raw, NULL as null; lines out takes exactly one
column (NULL is an empty line; a value with a line break is rejected, encode-error); Parquet
out has nullable columns typed from --schema (integer, number, boolean, date, datetime; others
and all without a schema are text), each value written exactly or its record rejected
(encode-error: an integer past Int64, a number no double reads back as, a datetime finer than
microseconds). Parquet is not read. Text that is not UTF-8 into JSON Lines
or Parquet, and a JSON lone surrogate (\\ud800) anywhere, is rejected (encode-error) unless
--invalid-utf8 replace. JSON Lines input is validated, nested arrays and objects too
(parse-error); an object holding a key twice is rejected (duplicate-key). Steps that leave no
column to write are a usage error (exit 2).
Rejected records go to --rejects as CSV with the columns
file,line,byte_offset,field,error,message,record, or with --rejects-format input as they were
read, their reasons beside them in NAME.errors.csv: fix them and run again on that file. Output appears at its path only when the run
succeeds; a failed or stopped run leaves no file there (and an existing file untouched). The
output, rejects and report appear together or none changes. No path the run writes may be an
input or another output (compared as files, however spelled): that is a usage error (exit 2).

",
    exit_codes!()
);

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Files, in any order: a pipeline file (a name ending in .toml, .yaml or .yml; at most
    /// one) and the inputs (any other name, as --input takes them; `-` is standard input).
    /// The pipeline file holds input, output, rejects, report, schema, [[transform]] steps and
    /// [options], its paths relative to its folder; flags override its settings (inputs named
    /// here or with --input replace its input), transform flags add steps after its own.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// The pipeline file, sorted out of `files` (and `--input`'s values) by
    /// `inputs::place_files`.
    #[arg(skip)]
    pub pipeline: Option<PathBuf>,

    /// Whether standard input is the input when none is named and data is piped or redirected
    /// in (`weir run` and `weir explain`; not plan or shards, which cut files into ranges).
    #[arg(skip)]
    pub stdin_when_piped: bool,

    #[command(flatten)]
    pub io: IoArgs,

    #[command(flatten)]
    pub steps: StepArgs,

    #[command(flatten)]
    pub options: OptionArgs,

    #[command(flatten)]
    pub shard: ShardArgs,
}

/// Running one shard of a sharded run, and planning one (docs/scale-out.md).
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Scale-out (docs/scale-out.md)")]
pub struct ShardArgs {
    /// The shard folder: parts, rejects/, _reports/, _plan.json.
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,

    /// Run one shard: K of the plan in DIR/_plan.json (or --plan), or K/N to compute the same
    /// plan of N shards here without a plan file.
    #[arg(long, value_name = "K|K/N", conflicts_with = "shard_from_env")]
    pub shard: Option<String>,

    /// Run the shard whose index is in WEIR_SHARD_INDEX, SLURM_ARRAY_TASK_ID,
    /// JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX (the first set); the count comes from
    /// the plan, or from WEIR_SHARD_COUNT without one.
    #[arg(long)]
    pub shard_from_env: bool,

    /// The plan file [default: DIR/_plan.json].
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// Start the shard at this byte (a proven record start that `weir merge` gives) instead of
    /// guessing.
    #[arg(long, value_name = "BYTE")]
    pub start_at: Option<u64>,

    /// weir plan: cut the input into this many shards.
    #[arg(long, value_name = "N", conflicts_with = "shard_size")]
    pub shards: Option<usize>,

    /// weir plan: cut the input into shards of about this size (2GiB, ...).
    #[arg(long, value_name = "SIZE", value_parser = weir::parse_size)]
    pub shard_size: Option<usize>,
}

impl ShardArgs {
    /// Whether one shard is selected (`--shard` or `--shard-from-env`): `weir run` runs that
    /// shard.
    pub fn selects_a_shard(&self) -> bool {
        self.shard.is_some() || self.shard_from_env
    }

    /// A shard flag given where it means nothing (`weir run` without a shard selection; the
    /// planning flags are refused before, by [`ShardArgs::planning_flag`]).
    pub fn misplaced(&self) -> Option<&'static str> {
        [
            (self.out.is_some(), "--out"),
            (self.plan.is_some(), "--plan"),
            (self.start_at.is_some(), "--start-at"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag))
    }

    /// A planning flag (--shards, --shard-size) given to `weir run`, where it means nothing:
    /// main.rs refuses it before either kind of run looks at the others.
    pub fn planning_flag(&self) -> Option<&'static str> {
        [
            (self.shards.is_some(), "--shards"),
            (self.shard_size.is_some(), "--shard-size"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag))
    }
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard folder.
    #[arg(value_name = "DIR")]
    pub dir: String,

    /// Re-run the shards whose start was guessed wrong, from the proven start, here, with the
    /// command each one recorded; without it merge exits 3 and prints those commands.
    #[arg(long)]
    pub repair: bool,

    /// Also write the parts as one file (the header once), byte-identical to a one-machine
    /// run's output.
    #[arg(long, value_name = "FILE")]
    pub concat: Option<String>,

    /// No summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

const MERGE_HELP: &str = "Examples:
  weir merge out/ --repair --concat result.csv
  weir merge out/ || cat    # exit 3: prints the weir run ... --start-at commands to run

Exit codes:
  0    merged (or already merged: _SUCCESS exists)
  1    the folder is damaged (a plan or report that cannot be read, a part of the wrong size)
  3    shards started in the wrong place and --repair was not given: the commands that re-run
       them from the proven start are printed on standard output, one per line
  4    shards have no report (never ran, or ran another plan): their indexes are printed
  65   a shard that started on a proven record start failed: a real error in the data";

/// Where data comes from and goes to.
#[derive(Debug, Args, Default)]
pub struct IoArgs {
    /// Input file, `s3://bucket/key` object, or `-` for standard input; inputs may also be
    /// given as FILE arguments. Give several (`-i a.csv b.csv`, the shell's `-i logs/*.csv`),
    /// repeat it, or give a glob ('data/*.csv', 's3://bucket/logs/**/*.csv.gz') to read
    /// several files as one stream, in the order given (globs sorted by name); their headers
    /// must agree, and rejects name the file each record came from. With no input named here,
    /// as a FILE or in the pipeline file, `weir run` and `weir explain` read standard input
    /// when it is a pipe, a file or a socket (not a terminal). gzip and zstd content is
    /// decompressed as it is read, recognised by its magic bytes; content weir cannot read
    /// (xz, bzip2, LZ4, zip, Parquet, UTF-16/32 text) is refused, naming what it is (exit 1).
    #[arg(long, short = 'i', value_name = "PATH", num_args = 1.., action = ArgAction::Append)]
    pub input: Vec<String>,

    /// Output file (written atomically; compressed if it ends in .gz, .zst or .zstd), or `-`
    /// for standard output [default: -].
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<String>,

    /// Write rejected records here (CSV: file,line,byte_offset,field,error,message,record;
    /// see --rejects-format).
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<String>,

    /// How --rejects holds the rejected records: `table` (the default: one CSV row per
    /// error, the record's raw bytes in the last column) or `input` (the records as they were
    /// read, in the input's format, a CSV/TSV input's header line first, so the file can be
    /// fixed and fed back as it is; the reasons go beside it to NAME.errors.csv, with the
    /// columns file,line,byte_offset,field,error,message,rejects_line). With `input`, a record
    /// too large to keep whole (--oversized reject) has only its reason there; --rejects must
    /// be a file or object, and shards are refused.
    #[arg(long, value_name = "FORMAT", value_parser = str::parse::<RejectsFormat>)]
    pub rejects_format: Option<RejectsFormat>,

    /// Write the run's report here as JSON, committed with the output and the rejects (a run
    /// that fails or is stopped writes it alone, its status saying so); `-` is standard output.
    #[arg(long, value_name = "PATH")]
    pub report: Option<String>,

    /// Validate every record against this Frictionless Table Schema (JSON or YAML) before the
    /// other steps; invalid records are rejected with the Table Schema error name.
    #[arg(long, value_name = "PATH")]
    pub schema: Option<String>,

    /// List every error of a record the schema rejects (each cell that breaks its field's
    /// type or a constraint, then each cell too many or too few, then a duplicate key), not
    /// only the first: one rejects row per error. The report still counts records in
    /// records_rejected; reject_errors, rejects_by_error and rejects_by_field count errors.
    /// Needs --schema.
    #[arg(long)]
    pub all_errors: bool,

    /// Input format; by default from the input's extension (.csv, .tsv, .jsonl, .txt), else csv.
    #[arg(long, value_name = "FORMAT", value_parser = str::parse::<Format>)]
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

    /// Output format: csv, tsv, jsonl, lines or parquet; by default from the output's extension
    /// (.csv, .tsv, .jsonl/.ndjson, .txt, .parquet; past .gz/.zst), else the input's. Any input
    /// format converts to any output format; lines output takes exactly one column; Parquet
    /// columns take their types from --schema (text otherwise).
    #[arg(long, value_name = "FORMAT", value_parser = str::parse::<Format>)]
    pub output_format: Option<Format>,

    /// Write csv/tsv output without a header row.
    #[arg(long)]
    pub output_no_header: bool,
}

/// Transform steps; applied in the order given on the command line.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Steps (applied in the order given)")]
pub struct StepArgs {
    /// Keep only these columns, in this order (a column may repeat). Comma-separated, each a
    /// name (`id,email`), a 0-based index (`0,2`), an inclusive range of names or indexes
    /// (`id:email`, `1:3`, `2:` to the last, `:email` from the first) or a regex between
    /// slashes matching names (`/^addr_/`, columns in header order). A number is always an
    /// index: quote a name that looks like one or holds `:` or `,` ('"2024"'); an item that is
    /// exactly a column's name is that column.
    #[arg(long, value_name = "COLS", action = ArgAction::Append)]
    pub select: Vec<String>,

    /// Remove these columns: names, indexes, ranges or regexes, as --select takes them.
    #[arg(long = "drop", value_name = "COLS", action = ArgAction::Append)]
    pub drop_columns: Vec<String>,

    /// Rename a column: OLD=NEW (repeatable).
    #[arg(long, value_name = "OLD=NEW", action = ArgAction::Append)]
    pub rename: Vec<String>,

    /// Keep records where this SQL condition is true, e.g. "age >= 30 AND country IN ('US','DE')".
    /// `weir help functions` lists the functions, each with an example.
    #[arg(long, value_name = "EXPR", action = ArgAction::Append)]
    pub filter: Vec<String>,

    /// Set (or add) a column to a SQL expression: NAME=EXPR, e.g. "name=upper(trim(name))"
    /// (functions: `weir help functions`).
    #[arg(long, value_name = "NAME=EXPR", action = ArgAction::Append)]
    pub derive: Vec<String>,

    /// Treat these values as NULL in every column (comma-separated), e.g. "NA,n/a,-".
    #[arg(long, value_name = "VALUES", value_delimiter = ',', action = ArgAction::Append)]
    pub null_markers: Vec<String>,

    /// Replace NULL in a column with a default: COL=VALUE (repeatable).
    #[arg(long, value_name = "COL=VALUE", action = ArgAction::Append)]
    pub fill: Vec<String>,

    /// Keep the first record of each key (comma-separated key columns; no value: whole record).
    /// Memory: at most 32 bytes per distinct key, bounded by --dedupe-max-keys (more distinct
    /// keys stop the run, exit 1).
    #[arg(long, value_name = "COLS", num_args = 0..=1, default_missing_value = "", action = ArgAction::Append)]
    pub dedupe: Vec<String>,

    /// Bound on distinct keys held by --dedupe [default: 4194304].
    #[arg(long, value_name = "N")]
    pub dedupe_max_keys: Option<usize>,

    /// Keep only the first N records (in input order).
    #[arg(long, visible_alias = "limit", value_name = "N", action = ArgAction::Append)]
    pub head: Vec<u64>,
}

/// How the run goes.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Run options")]
pub struct OptionArgs {
    /// Worker threads, at least 1 [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = parse_workers)]
    pub workers: Option<usize>,

    /// Target chunk size: 4096, 64KiB, 1MiB, ... [default: 1MiB]
    #[arg(long, value_name = "SIZE", value_parser = weir::parse_size)]
    pub chunk_size: Option<usize>,

    /// Largest record accepted, with its line terminator; what happens to a longer one is
    /// --oversized's choice [default: 64MiB]. Also the largest value an expression
    /// (--derive, --filter) may build: a longer one rejects its record, record-too-large.
    #[arg(long, value_name = "SIZE", value_parser = weir::parse_size)]
    pub max_record_size: Option<usize>,

    /// A record longer than --max-record-size: `stop` the run with an error naming its line
    /// (exit 1, nothing committed), or `reject` it (error record-too-large, its size in the
    /// message, only its first KiB as the raw record) and go on with the next record. Either
    /// way weir holds no more than about --max-record-size of it in memory [default: stop].
    #[arg(long, value_name = "MODE", value_parser = str::parse::<Oversized>)]
    pub oversized: Option<Oversized>,

    /// Write batches as they finish instead of in input order (ignored when a step decides by
    /// input order: head, dedupe, unique).
    #[arg(long)]
    pub unordered: bool,

    /// Accept records whose field count differs from the header's, as they are: the same as
    /// --ragged keep.
    #[arg(long, conflicts_with = "ragged")]
    pub flexible: bool,

    /// A record whose field count differs from the header's (JSON Lines: whose keys differ from
    /// the first record's): `reject` it (missing-cell / extra-cell), `pad` a short one with
    /// NULLs (JSON: an absent key is null), `truncate` a long one (JSON: an unknown key is
    /// dropped), `pad-truncate` both, or `keep` it with the fields it has (= --flexible; steps
    /// see NULL past its end; JSON: a record with an unknown key is kept only when copied
    /// unchanged to JSON Lines output, else rejected, extra-cell) [default: reject]. With pad or truncate the other kind is still
    /// rejected; a padded or truncated record is written with exactly the header's columns.
    #[arg(long, value_name = "MODE", value_parser = str::parse::<Ragged>)]
    pub ragged: Option<Ragged>,

    /// A text value that is not Unicode text where the output needs text: bytes that are not
    /// UTF-8 written to JSON Lines or Parquet, or a JSON Lines string that is not UTF-8 or
    /// holds a lone surrogate escape (`\ud800`). `reject` its record (encode-error, naming the
    /// field) or `replace` what is invalid with U+FFFD, counted in the report as
    /// values_replaced [default: reject]. CSV, TSV and lines output copy the bytes of a
    /// CSV or lines value as they are.
    #[arg(long, value_name = "MODE", value_parser = str::parse::<InvalidUtf8>)]
    pub invalid_utf8: Option<InvalidUtf8>,

    /// Sync the output and rejects to disk before renaming them into place, so they survive a
    /// power loss too (slower where the disk is slower than weir). Without it the commit is
    /// atomic against every other failure.
    #[arg(long)]
    pub durable: bool,

    /// Make the run resumable, and resume it: outputs are written to hidden partial files
    /// beside their targets, synced every --checkpoint-every, with a checkpoint of what is
    /// committed. Run the same command again after a crash, a kill or a stop and it continues
    /// exactly where the last checkpoint left off (the finished output is byte-identical to an
    /// uninterrupted run's); with no checkpoint it starts from the beginning, after a finished
    /// run it says the output is complete. A changed input or pipeline is refused (exit 2).
    /// Needs input files and an output file (not Parquet); the output is always in input order.
    #[arg(long)]
    pub resume: bool,

    /// Time between checkpoints of a --resume run (default 10s; 0s: after every chunk); each
    /// syncs the outputs. Without --resume it is a usage error.
    #[arg(long, value_name = "DURATION", value_parser = weir::parse_interval)]
    pub checkpoint_every: Option<Duration>,

    /// Level of a compressed output or rejects file, chosen by its name: `.gz` 0-9 (default 1,
    /// the fastest), `.zst`/`.zstd` 1-22 (default 3). Higher is smaller and slower.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub compression_level: Option<i32>,

    /// Fail the run when more records are rejected than this: a count (`100`: stops as soon
    /// as the 101st record is rejected) or a percentage of the records read (`5%`: judged
    /// over the whole input, at the end). Past it nothing is committed, the message names the
    /// budget, the counts and the most common reject reason, and weir exits with 3.
    #[arg(long, value_name = "N|P%", value_parser = str::parse::<RejectBudget>)]
    pub max_rejects: Option<RejectBudget>,

    /// Stop the run after this long (90s, 10m, 1h); exits with 124.
    #[arg(long, value_name = "DURATION", value_parser = weir::parse_duration)]
    pub timeout: Option<Duration>,

    /// Progress on stderr while running: `bar` (a live display, on a terminal), `log` (a plain
    /// line every --status-interval), `none`, or `auto` (bar on a terminal, log otherwise)
    /// [default: auto]. Never on stdout; NO_COLOR turns the display's colours off.
    #[arg(long, value_name = "MODE", value_enum)]
    pub progress: Option<ProgressMode>,

    /// Time between status lines on stderr while running (--progress log) [default: 2s].
    #[arg(long, value_name = "DURATION", value_parser = weir::parse_duration)]
    pub status_interval: Option<Duration>,

    /// No progress and no summary on stderr (errors are still shown).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// How progress is shown (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgressMode {
    /// A live display when stderr is a terminal, log lines otherwise.
    #[default]
    Auto,
    /// The live display (drawn only if stderr is a terminal).
    Bar,
    /// A plain status line every `--status-interval`.
    Log,
    /// Nothing while running (the summary is still printed unless `--quiet`).
    None,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Size of the generated input: 10MiB, 100MiB, 1GiB, ...
    #[arg(long, value_name = "SIZE", default_value = "100MiB", value_parser = weir::parse_size)]
    pub size: usize,

    /// Folder for the demo's files [default: a new folder under the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Seed of the data generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Worker threads, at least 1 [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = parse_workers)]
    pub workers: Option<usize>,
}

/// A worker count: 0 is refused rather than quietly run as 1.
pub fn parse_workers(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("0 workers would run nothing: give at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a number of workers (1, 2, ...)")),
    }
}

fn parse_byte(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "tab" => Ok(b'\t'),
        _ if s.len() == 1 => Ok(s.as_bytes()[0]),
        _ => Err(format!("'{s}' is not a single byte (use \\t for tab)")),
    }
}

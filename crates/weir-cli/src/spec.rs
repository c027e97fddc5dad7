//! Pipeline files (TOML, or YAML of the same shape) and how they merge with the command line.
//!
//! ```toml
//! input = "customers.csv"          # paths are relative to this file
//! output = "clean.csv"
//! rejects = "rejects.csv"
//! report = "report.json"
//! schema = "customers.schema.json" # or an inline [schema] table
//!
//! [[transform]]
//! filter = "TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')"
//! [[transform]]
//! select = ["id", "name", "age", "country"]
//!
//! [options]
//! workers = 2
//! chunk_size = "1MiB"
//! ```
//!
//! Flags override the file's settings; transform flags add steps after the file's own; inputs
//! named on the command line replace the file's `input`. Paths written in the file are relative
//! to its folder, paths on the command line to the current folder.
//! [`resolve`] gives the run's configuration (ripgrep's low-to-high arguments), and
//! [`RunConfig::builder`] the library pipeline it describes, for every command that runs one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ArgMatches;
use serde::Deserialize;
use weir::schema::Schema;
use weir::transform::Validate;
use weir::transform::{Dedupe, Derive, DropColumns, Fill, Filter, Head, NullMarkers, Rename};
use weir::{
    Dialect, Format, InvalidUtf8, Oversized, PipelineBuilder, Ragged, RejectBudget, RejectsFormat,
    Select, Sink, Source, Step, StopHandle,
};

use crate::args::{IoArgs, OptionArgs, ProgressMode, RunArgs};
use crate::exit::{Exit, Scope};
use crate::human::escape_lines;

/// A pipeline file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    input: Option<Inputs>,
    output: Option<String>,
    rejects: Option<String>,
    rejects_format: Option<RejectsFormat>,
    report: Option<String>,
    format: Option<Format>,
    delimiter: Option<String>,
    quote: Option<String>,
    header: Option<bool>,
    output_format: Option<Format>,
    output_header: Option<bool>,
    schema: Option<SchemaSource>,
    all_errors: Option<bool>,
    #[serde(default, rename = "transform")]
    steps: Vec<Step>,
    #[serde(default)]
    options: FileOptions,
}

/// One input path (or glob) or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Inputs {
    One(String),
    Many(Vec<String>),
}

/// A Table Schema: a path to a JSON/YAML file, or written inline.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SchemaSource {
    /// A file.
    Path(String),
    /// The schema itself (as a TOML table).
    Inline(serde_json::Value),
}

/// `max_rejects` in a pipeline file: `100` or `"5%"` (or `"100"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum BudgetValue {
    Count(u64),
    Text(String),
}

impl BudgetValue {
    /// The budget written: a count as it is, text as `--max-rejects` reads it.
    fn budget(self) -> Result<RejectBudget, String> {
        match self {
            BudgetValue::Count(n) => Ok(RejectBudget::Count(n)),
            BudgetValue::Text(t) => t.parse(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOptions {
    workers: Option<usize>,
    chunk_size: Option<String>,
    max_record_size: Option<String>,
    oversized: Option<Oversized>,
    ordered: Option<bool>,
    flexible: Option<bool>,
    ragged: Option<Ragged>,
    invalid_utf8: Option<InvalidUtf8>,
    durable: Option<bool>,
    resume: Option<bool>,
    checkpoint_every: Option<String>,
    compression_level: Option<i32>,
    max_rejects: Option<BudgetValue>,
    timeout: Option<String>,
    status_interval: Option<String>,
    progress: Option<ProgressMode>,
    quiet: Option<bool>,
}

/// The resolved run: everything `weir run`, `weir explain` and `weir demo` need.
#[derive(Debug)]
pub struct RunConfig {
    /// The inputs, globs expanded, in order (at least one).
    pub inputs: Vec<String>,
    pub output: String,
    pub dialect: Dialect,
    /// The dialect written: `--output-format`, else the output's extension, else the input's.
    pub output_dialect: Dialect,
    pub schema: Option<SchemaSource>,
    pub steps: Vec<Step>,
    pub rejects: Option<String>,
    /// How the rejects hold the rejected records.
    pub rejects_format: RejectsFormat,
    /// Whether schema validation lists every error of a rejected record.
    pub all_errors: bool,
    pub report: Option<String>,
    pub workers: usize,
    pub chunk_size: usize,
    pub max_record_size: usize,
    pub oversized: Oversized,
    pub ordered: bool,
    pub ragged: Ragged,
    pub invalid_utf8: InvalidUtf8,
    pub durable: bool,
    /// Resumable, continuing from a checkpoint if there is one.
    pub resume: bool,
    pub checkpoint_every: Duration,
    pub compression_level: Option<i32>,
    /// How many rejects fail the run (exit 3).
    pub max_rejects: Option<RejectBudget>,
    pub timeout: Option<Duration>,
    pub status_interval: Duration,
    pub progress: ProgressMode,
    pub quiet: bool,
}

impl RunConfig {
    /// The pipeline a configuration describes (schema validation first, then the steps).
    pub fn builder(&self, stop: StopHandle) -> Result<PipelineBuilder, String> {
        let mut b = PipelineBuilder::new(
            Source::from_arg(&self.inputs[0]),
            Sink::from_arg(&self.output),
        )
        .dialect(self.dialect)
        .output_dialect(self.output_dialect)
        .workers(self.workers)
        .chunk_size(self.chunk_size)
        .max_record_size(self.max_record_size)
        .oversized(self.oversized)
        .ordered(self.ordered)
        .ragged(self.ragged)
        .invalid_utf8(self.invalid_utf8)
        .durable(self.durable)
        .stop_handle(stop);
        if let Some(level) = self.compression_level {
            b = b.compression_level(level);
        }
        if let Some(source) = &self.schema {
            let schema = match source {
                SchemaSource::Path(p) => Schema::from_path(Path::new(p)),
                SchemaSource::Inline(v) => Schema::from_json(&v.to_string()),
            }
            .map_err(|e| format!("schema: {e}"))?;
            b = b.transform(Validate::new(schema).all_errors(self.all_errors));
        }
        for more in &self.inputs[1..] {
            b = b.input(Source::from_arg(more));
        }
        for step in &self.steps {
            b = b.boxed_transform(step.build());
        }
        if let Some(r) = &self.rejects {
            b = b.rejects(Sink::from_arg(r));
            b = b.rejects_format(self.rejects_format);
        }
        if let Some(r) = &self.report {
            // Every report the command writes has one layout, a sharded run's: a run on one
            // machine's with its `shard` and `merge` sections null.
            b = b
                .report(Sink::from_arg(r))
                .report_json(weir::shard::ShardReport::plain_json);
        }
        if let Some(t) = self.timeout {
            b = b.timeout(t);
        }
        if let Some(budget) = self.max_rejects {
            b = b.max_rejects(budget);
        }
        if self.resume {
            b = b.resumable(self.checkpoint_every, self.fingerprint()?);
        }
        Ok(b)
    }

    /// What identifies the pipeline of a resumable run beyond what the engine sees: the steps as
    /// configured and the schema's text (a schema file edited between a crash and the resume is a
    /// changed pipeline).
    pub fn fingerprint(&self) -> Result<String, String> {
        let schema = match &self.schema {
            None => String::new(),
            Some(SchemaSource::Path(p)) => std::fs::read(p)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| format!("schema {p}: {e}"))?,
            Some(SchemaSource::Inline(v)) => v.to_string(),
        };
        let mut text = format!("steps {:?}\nschema {schema}\n", self.steps);
        // Only when on, so checkpoints and plans made before the option still match.
        if self.all_errors {
            text.push_str("all_errors\n");
        }
        Ok(text)
    }
}

/// Reads a pipeline file, YAML when its name ends in `.yaml` or `.yml`, else TOML; errors name
/// the file and the line.
pub fn load(path: &Path) -> Result<PipelineFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read pipeline file {}: {e}", path.display()))?;
    let yaml = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if yaml {
        // An empty YAML document is an empty pipeline file, as an empty TOML one is.
        if text.trim().is_empty() {
            return Ok(PipelineFile::default());
        }
        // Steps are one-key maps (`- filter: "..."`), as in TOML, not YAML tags (`!filter`).
        let yaml = serde_norway::Deserializer::from_str(&text);
        serde_norway::with::singleton_map_recursive::deserialize(yaml)
            .map_err(|e| format!("pipeline file {}: {e}", path.display()))
    } else {
        toml::from_str(&text).map_err(|e| format!("pipeline file {}: {e}", path.display()))
    }
}

/// The run configuration of a pipeline file alone.
pub fn from_file(path: &Path) -> Result<RunConfig, String> {
    let args = RunArgs {
        pipeline: Some(path.to_path_buf()),
        ..RunArgs::default()
    };
    resolve(args, None).map_err(|e| e.to_string())
}

/// Why a run's arguments could not be resolved.
#[derive(Debug)]
pub enum ResolveError {
    /// Wrong or inconsistent arguments, a pipeline file that does not load, an input pattern
    /// that matches nothing or cannot be listed for good (a missing bucket, no permission):
    /// exit 2.
    Usage(String),
    /// Listing an `s3://` input pattern failed in a way that may pass on a retry (the network,
    /// throttling, a server error): exit 1, or 75 in a shard, which its driver retries.
    Transient(weir::Error),
}

impl ResolveError {
    /// Says why the arguments could not be resolved; the exit code (2, or a failed listing's
    /// as any library error's in `scope`).
    pub fn fail(&self, scope: Scope) -> Exit {
        match self {
            ResolveError::Usage(message) => {
                eprintln!("weir: error: {message}");
                Exit::Usage
            }
            ResolveError::Transient(e) => {
                eprintln!("weir: error: {}", escape_lines(&e.to_string()));
                Exit::of(e, scope)
            }
        }
    }
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Usage(m) => f.write_str(m),
            ResolveError::Transient(e) => write!(f, "{e}"),
        }
    }
}

impl From<String> for ResolveError {
    fn from(message: String) -> Self {
        ResolveError::Usage(message)
    }
}

impl From<&str> for ResolveError {
    fn from(message: &str) -> Self {
        ResolveError::Usage(message.to_string())
    }
}

/// Merges the pipeline file (if any) with the command line into a run configuration, in
/// steps: where the run reads and writes, how it reads and writes records (the dialects), what
/// it does to them (the schema, then the steps), and last the run's options. Flags win over
/// the file's settings; the file's paths are relative to it.
pub fn resolve(mut args: RunArgs, matches: Option<&ArgMatches>) -> Result<RunConfig, ResolveError> {
    crate::inputs::place_files(&mut args, matches)?;
    resolve_placed(args, matches)
}

/// [`resolve`] of arguments whose FILEs [`crate::inputs::place_files`] has sorted already (a
/// shard does it first, to read its plan's inputs when none is named).
pub fn resolve_placed(
    args: RunArgs,
    matches: Option<&ArgMatches>,
) -> Result<RunConfig, ResolveError> {
    let (file, base) = match &args.pipeline {
        Some(p) => (
            load(p)?,
            p.parent().map(Path::to_path_buf).unwrap_or_default(),
        ),
        None => (PipelineFile::default(), PathBuf::new()),
    };
    let rel = |p: &str| relative_to(&base, p.to_string());
    let places = places(&args.io, &file, &rel, args.stdin_when_piped)?;
    let dialect = input_dialect(&args.io, &file, &places.inputs[0])?;
    let output_dialect = output_dialect(&args.io, &file, &dialect, &places.output);
    let schema = match &args.io.schema {
        Some(p) => Some(SchemaSource::Path(p.clone())),
        None => file.schema.clone().map(|s| match s {
            SchemaSource::Path(p) => SchemaSource::Path(rel(&p)),
            inline => inline,
        }),
    };
    let all_errors = args.io.all_errors || file.all_errors.unwrap_or(false);
    if all_errors && schema.is_none() {
        return Err(
            "--all-errors lists every error that schema validation finds in a record: \
                    give --schema (or `schema` in the pipeline file)"
                .into(),
        );
    }
    let mut steps = file.steps;
    if let Some(m) = matches {
        steps.extend(command_line_steps(m)?);
    }
    let flow = Dataflow {
        places,
        dialect,
        output_dialect,
        schema,
        all_errors,
        steps,
    };
    Ok(with_options(flow, args.options, file.options)?)
}

/// Where a run reads and writes.
struct Places {
    /// The inputs, patterns expanded, in order (at least one).
    inputs: Vec<String>,
    output: String,
    rejects: Option<String>,
    rejects_format: RejectsFormat,
    report: Option<String>,
}

/// What a run reads, does and writes: a [`RunConfig`] but for the run's options.
struct Dataflow {
    places: Places,
    dialect: Dialect,
    output_dialect: Dialect,
    schema: Option<SchemaSource>,
    all_errors: bool,
    steps: Vec<Step>,
}

/// The inputs (patterns expanded) and the outputs: the flags', else the pipeline file's; the
/// output is standard output unless one is given. With no input named anywhere, standard input
/// when `stdin_when_piped` and data is piped or redirected in.
fn places(
    io: &IoArgs,
    file: &PipelineFile,
    rel: &dyn Fn(&str) -> String,
    stdin_when_piped: bool,
) -> Result<Places, ResolveError> {
    let patterns = if !io.input.is_empty() {
        io.input.clone()
    } else {
        match &file.input {
            Some(Inputs::One(p)) => vec![rel(p)],
            Some(Inputs::Many(ps)) => ps.iter().map(|p| rel(p)).collect(),
            None => Vec::new(),
        }
    };
    let patterns = if !patterns.is_empty() {
        patterns
    } else if stdin_when_piped && crate::inputs::stdin_has_data() {
        vec!["-".to_string()]
    } else {
        return Err(crate::inputs::no_input(stdin_when_piped).into());
    };
    let output = io
        .output
        .clone()
        .or(file.output.as_deref().map(rel))
        .unwrap_or_else(|| "-".into());
    let rejects = io.rejects.clone().or(file.rejects.as_deref().map(rel));
    let report = io.report.clone().or(file.report.as_deref().map(rel));
    // What the run writes, which no input pattern may match (a second run of `-i '*.csv' -o
    // all.csv` would otherwise read the first run's output).
    let mut writes: Vec<weir::Sink> = [Some(&output), rejects.as_ref(), report.as_ref()]
        .into_iter()
        .flatten()
        .map(|p| weir::Sink::from_arg(p))
        .collect();
    let rejects_format = io
        .rejects_format
        .or(file.rejects_format)
        .unwrap_or_default();
    if let Some(r) = rejects.as_deref() {
        if rejects_format == RejectsFormat::Input {
            let r = weir::Sink::from_arg(r);
            let Some(reasons) = weir::io::reasons_beside(&r) else {
                return Err(format!(
                    "--rejects-format input writes the rejects' reasons to a file beside them, \
                     and --rejects {} has none: give --rejects a file",
                    r.name()
                )
                .into());
            };
            writes.push(reasons);
        }
    } else if io.rejects_format.is_some() || file.rejects_format.is_some() {
        return Err(
            "--rejects-format says how --rejects holds the rejected records: give \
                    --rejects PATH (or `rejects` in the pipeline file)"
                .into(),
        );
    }
    let inputs = weir::io::expand_inputs(&patterns, &writes).map_err(|e| {
        if e.is_transient() {
            ResolveError::Transient(e)
        } else {
            ResolveError::Usage(e.to_string())
        }
    })?;
    Ok(Places {
        inputs,
        output,
        rejects,
        rejects_format,
        report,
    })
}

/// How the inputs are read: the format given, else the first input's extension's, else CSV;
/// the delimiter, quote and header from the flags, else the file.
fn input_dialect(io: &IoArgs, file: &PipelineFile, first_input: &str) -> Result<Dialect, String> {
    let format = match io.format.or(file.format) {
        Some(f) => f,
        None => Format::from_path(first_input).unwrap_or(Format::Csv),
    };
    let mut dialect = Dialect::new(format);
    if let Some(d) = io
        .delimiter
        .or(file_byte(file.delimiter.as_deref(), "delimiter")?)
    {
        dialect.delimiter = d;
    }
    if let Some(q) = io.quote.or(file_byte(file.quote.as_deref(), "quote")?) {
        dialect.quote = q;
    }
    dialect.header = !io.no_header && file.header.unwrap_or(true);
    if dialect.delimiter == dialect.quote {
        return Err("the delimiter and the quote must differ".into());
    }
    Ok(dialect)
}

/// How the output is written: `--output-format`, else the file's, else the output's
/// extension's, else the input's format; a header unless a flag or the file says not.
fn output_dialect(io: &IoArgs, file: &PipelineFile, input: &Dialect, output: &str) -> Dialect {
    let format = io
        .output_format
        .or(file.output_format)
        .or_else(|| Format::from_path(output))
        .unwrap_or(input.format);
    let mut dialect = Dialect::output_for(input, format);
    if io.output_no_header || file.output_header == Some(false) {
        dialect.header = false;
    } else if file.output_header == Some(true) {
        dialect.header = true;
    }
    dialect
}

/// The run configuration: `flow` with the run's options, the flags' else the file's.
fn with_options(flow: Dataflow, options: OptionArgs, fo: FileOptions) -> Result<RunConfig, String> {
    let Dataflow {
        places:
            Places {
                inputs,
                output,
                rejects,
                rejects_format,
                report,
            },
        dialect,
        output_dialect,
        schema,
        all_errors,
        steps,
    } = flow;
    let OptionArgs {
        workers,
        chunk_size,
        max_record_size,
        oversized,
        unordered,
        flexible,
        ragged,
        invalid_utf8,
        durable,
        resume,
        checkpoint_every,
        compression_level,
        max_rejects,
        timeout,
        status_interval,
        progress,
        quiet,
    } = options;
    if fo.workers == Some(0) {
        return Err("options.workers: 0 workers would run nothing: give at least 1".into());
    }
    let resume = resume || fo.resume.unwrap_or(false);
    if !resume {
        // Checkpoints are what --resume continues from; without it none are written.
        match (checkpoint_every, &fo.checkpoint_every) {
            (Some(_), _) => return Err("--checkpoint-every needs --resume".into()),
            (None, Some(_)) => {
                return Err("options.checkpoint_every needs resume = true (or --resume)".into())
            }
            (None, None) => {}
        }
    }
    Ok(RunConfig {
        inputs,
        output,
        dialect,
        output_dialect,
        schema,
        steps,
        rejects,
        rejects_format,
        all_errors,
        report,
        workers: workers.or(fo.workers).unwrap_or_else(default_workers),
        chunk_size: chunk_size
            .or(file_option(
                fo.chunk_size.as_deref(),
                "chunk_size",
                weir::parse_size,
            )?)
            .unwrap_or(1 << 20),
        max_record_size: max_record_size
            .or(file_option(
                fo.max_record_size.as_deref(),
                "max_record_size",
                weir::parse_size,
            )?)
            .unwrap_or(64 << 20),
        oversized: oversized.or(fo.oversized).unwrap_or_default(),
        ordered: !unordered && fo.ordered.unwrap_or(true),
        ragged: ragged_choice(flexible, ragged, fo.flexible, fo.ragged)?,
        invalid_utf8: invalid_utf8.or(fo.invalid_utf8).unwrap_or_default(),
        durable: durable || fo.durable.unwrap_or(false),
        resume,
        checkpoint_every: checkpoint_every
            .or(file_option(
                fo.checkpoint_every.as_deref(),
                "checkpoint_every",
                weir::parse_interval,
            )?)
            .unwrap_or(Duration::from_secs(10)),
        compression_level: compression_level.or(fo.compression_level),
        // The file's budget is read only when the flag does not replace it.
        max_rejects: match max_rejects {
            Some(b) => Some(b),
            None => file_option(fo.max_rejects, "max_rejects", BudgetValue::budget)?,
        },
        timeout: timeout.or(file_option(
            fo.timeout.as_deref(),
            "timeout",
            weir::parse_duration,
        )?),
        status_interval: status_interval
            .or(file_option(
                fo.status_interval.as_deref(),
                "status_interval",
                weir::parse_duration,
            )?)
            .unwrap_or(Duration::from_secs(2)),
        progress: progress.or(fo.progress).unwrap_or_default(),
        quiet: quiet || fo.quiet.unwrap_or(false),
    })
}

/// A pipeline file's `[options]` value read by `parse`, its error naming `options.NAME`: every
/// option written as text (a size, a duration, a budget) is read this one way.
fn file_option<V, T>(
    value: Option<V>,
    name: &str,
    parse: impl FnOnce(V) -> Result<T, String>,
) -> Result<Option<T>, String> {
    value
        .map(|v| parse(v).map_err(|e| format!("options.{name}: {e}")))
        .transpose()
}

/// `--ragged`, or `--flexible` (its `keep`), the flags before the file's options; the file may
/// not set both either.
fn ragged_choice(
    flexible: bool,
    ragged: Option<Ragged>,
    file_flexible: Option<bool>,
    file_ragged: Option<Ragged>,
) -> Result<Ragged, String> {
    if let (Some(true), Some(r)) = (file_flexible, file_ragged) {
        if r != Ragged::Keep {
            return Err(format!(
                "options: flexible = true and ragged = \"{r}\" disagree (flexible is ragged = \"keep\")"
            ));
        }
    }
    let file = file_ragged.or(file_flexible.map(|f| if f { Ragged::Keep } else { Ragged::Reject }));
    Ok(match (flexible, ragged) {
        (true, _) => Ragged::Keep,
        (false, Some(r)) => r,
        (false, None) => file.unwrap_or_default(),
    })
}

pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn relative_to(base: &Path, path: String) -> String {
    if path == "-"
        || weir::io::is_url(&path)
        || Path::new(&path).is_absolute()
        || base.as_os_str().is_empty()
    {
        path
    } else {
        base.join(path).display().to_string()
    }
}

fn file_byte(v: Option<&str>, what: &str) -> Result<Option<u8>, String> {
    match v {
        None => Ok(None),
        Some("\\t") | Some("\t") | Some("tab") => Ok(Some(b'\t')),
        Some(s) if s.len() == 1 => Ok(Some(s.as_bytes()[0])),
        Some(s) => Err(format!("{what} '{s}' is not a single byte")),
    }
}

/// The transform flags as steps, in the order they were typed.
fn command_line_steps(m: &ArgMatches) -> Result<Vec<Step>, String> {
    let mut steps: Vec<(usize, Step)> = Vec::new();
    let max_keys = m.get_one::<usize>("dedupe_max_keys").copied();
    for id in [
        "select",
        "drop_columns",
        "rename",
        "filter",
        "derive",
        "null_markers",
        "fill",
        "dedupe",
    ] {
        for (index, values) in occurrences(m, id) {
            let step = match id {
                "select" => Step::Select(Select::new(selection(&values, "--select")?)),
                "drop_columns" => Step::Drop(DropColumns::new(selection(&values, "--drop")?)),
                "rename" => Step::Rename(Rename::new([pair(&values[0], "--rename", "OLD=NEW")?])),
                "filter" => Step::Filter(Filter::new(values[0].clone())),
                "derive" => {
                    let (name, expr) = pair(&values[0], "--derive", "NAME=EXPR")?;
                    Step::Derive(Derive::new(name, expr))
                }
                "null_markers" => Step::NullMarkers(NullMarkers::new(values)),
                "fill" => Step::Fill(Fill::new([pair(&values[0], "--fill", "COL=VALUE")?])),
                "dedupe" => {
                    let cols: Vec<String> = values[0]
                        .split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect();
                    let mut d = Dedupe::new(cols);
                    if let Some(n) = max_keys {
                        d.max_keys = n;
                    }
                    Step::Dedupe(d)
                }
                _ => unreachable!("every step flag is handled"),
            };
            steps.push((index, step));
        }
    }
    if let (Some(idx), Some(vals)) = (m.indices_of("head"), m.get_many::<u64>("head")) {
        for (index, n) in idx.zip(vals) {
            steps.push((index, Step::Head(Head::new(*n))));
        }
    }
    steps.sort_by_key(|(i, _)| *i);
    Ok(steps.into_iter().map(|(_, s)| s).collect())
}

/// Each occurrence of a string flag with the command-line index of its first value.
fn occurrences(m: &ArgMatches, id: &str) -> Vec<(usize, Vec<String>)> {
    let (Some(groups), Some(indices)) = (m.get_occurrences::<String>(id), m.indices_of(id)) else {
        return Vec::new();
    };
    let indices: Vec<usize> = indices.collect();
    let mut out = Vec::new();
    let mut at = 0;
    for group in groups {
        let values: Vec<String> = group.map(|v| v.trim().to_string()).collect();
        // A flag given with no value (`--dedupe`) still has an index.
        let index = indices.get(at).copied().unwrap_or(usize::MAX);
        at += values.len().max(1);
        out.push((index, values));
    }
    out
}

/// A --select or --drop value's items (commas inside quotes and regexes are not separators).
fn selection(values: &[String], flag: &str) -> Result<Vec<String>, String> {
    let items: Vec<String> = values
        .iter()
        .flat_map(|v| weir::transform::split_selection(v))
        .collect();
    if items.is_empty() {
        return Err(format!("{flag} '{}': no column given", values.join(",")));
    }
    Ok(items)
}

fn pair(text: &str, flag: &str, shape: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() => Ok((a.trim().to_string(), b.trim().to_string())),
        _ => Err(format!("{flag} '{text}': expected {shape}")),
    }
}

//! The engine: builds a pipeline and runs it.
//!
//! Threads and the data flow, in one direction:
//!
//! ```text
//! splitter ──chunk──▶ [work queue] ──▶ worker × N ──batch──▶ [commit queue] ──▶ committer
//!    ▲                                                                            │
//!    └──────────────────────── slot returned after writing ◀─────────────────────┘
//! ```
//!
//! A *slot* (an input chunk buffer and its output batch buffers) is the credit: the splitter
//! takes a free slot before it reads, and the committer returns it after writing. The number of
//! slots bounds memory at about `slots × (chunk + output)` plus the largest record, whatever the
//! input size, and also bounds the committer's reorder window, so ordered output cannot stall.
//! The caller's thread supervises: it enforces the time limit, watches the stop handle and
//! calls the observer; it never touches the data.

mod committer;
mod keys;
mod resume;
mod stop;
mod timed;
mod worker;

pub use stop::StopHandle;

pub use worker::REJECTS_HEADER;

use std::io::{BufReader, Read};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::checkpoint::{self, Checkpoint, Resumable};
use crate::error::{Error, Result};
use crate::format::csv::CsvDecoder;
use crate::format::encode::{check_columns, Encoder};
use crate::format::jsonl::{JsonDecoder, Lines};
use crate::format::parquet::{ParquetLayout, ParquetSink};
use crate::format::{Columns, Dialect, Format, InvalidUtf8, Ragged, Record, RecordBuf, ValueKind};
use crate::report::{Progress, Report, Snapshot, Status, WorkerReport};
use crate::sink::{check_places, Place, Sink, SinkWriter};
use crate::source::{Source, SourceName};
use crate::split::{Chunk, Oversized, Splitter, SplitterBuilder};
use crate::transform::{BindError, Chain, OnPanic, Transform};

use committer::Committer;
use committer::Output;
use stop::{recv_until_stopped, StopState};
use timed::TimedRead;
use worker::{Batch, Worker, WorkerSpec};

/// A chunk and the buffers its results go into; the unit of credit.
#[derive(Default)]
struct Slot {
    chunk: Chunk,
    batch: Batch,
    worker: usize,
    /// Offset in the whole input stream (all inputs) just after the chunk.
    stream_end: u64,
    /// Physical line in its input just after the chunk.
    end_line: u64,
}

/// An observer called from the supervising thread at the configured interval.
pub type Observer = Box<dyn FnMut(&Snapshot) + Send>;

/// Configures a pipeline: source, format, transforms, sinks, parallelism and limits.
///
/// ```no_run
/// use weir::{Format, PipelineBuilder, Select, Sink, Source};
///
/// let report = PipelineBuilder::new(Source::from_arg("in.csv"), Sink::from_arg("out.csv"))
///     .format(Format::Csv)
///     .transform(Select::new(["id", "name"]))
///     .rejects(Sink::from_arg("rejects.csv"))
///     .workers(4)
///     .build()
///     .run()
///     .map_err(|f| f.error)?;
/// assert!(report.balanced());
/// # Ok::<(), weir::Error>(())
/// ```
pub struct PipelineBuilder {
    source: Source,
    /// Inputs after the first, read in order as one stream.
    more_sources: Vec<Source>,
    sink: Sink,
    rejects: Option<Sink>,
    report: Option<Sink>,
    dialect: Option<Dialect>,
    output: Option<OutputChoice>,
    chain: Vec<Box<dyn Transform>>,
    workers: usize,
    chunk_size: usize,
    max_record_size: usize,
    ordered: bool,
    ragged: Ragged,
    oversized: Oversized,
    durable: bool,
    compression_level: Option<i32>,
    timeout: Option<Duration>,
    stop: StopHandle,
    observer: Option<(Duration, Observer)>,
    on_panic: OnPanic,
    invalid_utf8: InvalidUtf8,
    resumable: Option<Resumable>,
    shard: Option<ShardRange>,
    /// Whether the report carries the xxh64 of the output and rejects as stored.
    digests: bool,
}

/// The byte range one shard reads (see [`crate::shard`]): the header is read from the input's
/// start as usual, then the records from `start` (a record start) up to the first record
/// boundary at or after `end`.
pub(crate) struct ShardRange {
    /// Where the shard's first record starts.
    pub start: u64,
    /// The shard's nominal end: the records it owns start before it.
    pub end: u64,
    /// The line number given to `start` (the input's first data line: merge adds the lines of
    /// the shards before).
    pub line: u64,
    /// The input's bytes from `start` on.
    pub reader: Box<dyn Read + Send>,
}

impl PipelineBuilder {
    /// A pipeline from `source` to `sink` with defaults: format from the source's extension
    /// (CSV otherwise), one worker per core, 1 MiB chunks, 64 MiB maximum record, ordered
    /// output, strict field counts, no time limit.
    pub fn new(source: Source, sink: Sink) -> PipelineBuilder {
        PipelineBuilder {
            source,
            more_sources: Vec::new(),
            sink,
            rejects: None,
            report: None,
            dialect: None,
            output: None,
            chain: Vec::new(),
            workers: thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_size: 1 << 20,
            max_record_size: 64 << 20,
            ordered: true,
            ragged: Ragged::Reject,
            oversized: Oversized::Stop,
            durable: false,
            compression_level: None,
            timeout: None,
            stop: StopHandle::default(),
            observer: None,
            on_panic: OnPanic::default(),
            invalid_utf8: InvalidUtf8::default(),
            resumable: None,
            shard: None,
            digests: false,
        }
    }

    /// Computes the xxh64 of the output and the rejects as they are written (as stored:
    /// after compression), into [`Report::output_digest`] and [`Report::rejects_digest`]: a
    /// shard's report carries them for `weir merge` to verify.
    pub(crate) fn keep_digests(mut self) -> Self {
        self.digests = true;
        self
    }

    /// Makes this pipeline one shard: it reads `source` only (the other inputs are dropped),
    /// over `range`, and writes to `sink` and `rejects`.
    pub(crate) fn shard(
        self,
        source: Source,
        sink: Sink,
        rejects: Sink,
        range: ShardRange,
    ) -> Self {
        let mut b = self.reroute(source, sink, rejects);
        b.ordered = true;
        b.shard = Some(range);
        b
    }

    /// This pipeline reading `source` only and writing `sink` and `rejects` (not resumable).
    pub(crate) fn reroute(mut self, source: Source, sink: Sink, rejects: Sink) -> Self {
        self.source = source;
        self.more_sources.clear();
        self.sink = sink;
        self.rejects = Some(rejects);
        self.resumable = None;
        self
    }

    /// The input dialect this pipeline reads with, as a run resolves it.
    pub(crate) fn input_dialect(&self) -> Dialect {
        resolve_dialect(self)
    }

    /// The output dialect this pipeline writes, as a run resolves it.
    pub(crate) fn output_dialect_resolved(&self) -> Dialect {
        resolve_output_dialect(self, &resolve_dialect(self))
    }

    /// The largest record accepted.
    pub(crate) fn record_limit(&self) -> usize {
        self.max_record_size
    }

    /// Adds an input after the others: all inputs are read in order as one stream. Their
    /// headers (CSV/TSV) must agree with the first one's; line numbers and byte offsets in
    /// rejects are those of each input, and the rejects name it.
    pub fn input(mut self, source: Source) -> Self {
        self.more_sources.push(source);
        self
    }

    /// Sets the format with its default dialect.
    pub fn format(mut self, format: Format) -> Self {
        self.dialect = Some(Dialect::new(format));
        self
    }

    /// Sets the full dialect (delimiter, quote, header).
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// Writes the output in this format, with the input's dialect when the format is the same
    /// and the format's defaults otherwise (see [`Dialect::output_for`]). Without it or
    /// [`PipelineBuilder::output_dialect`], the format comes from the output path's extension
    /// (past a compression extension: `out.jsonl.gz` is JSON Lines), else it is the input's.
    pub fn output_format(mut self, format: Format) -> Self {
        self.output = Some(OutputChoice::Format(format));
        self
    }

    /// Writes the output in exactly this dialect (format, delimiter, quote, header row).
    /// Records are copied as raw input bytes only when it encodes as the input dialect does.
    pub fn output_dialect(mut self, dialect: Dialect) -> Self {
        self.output = Some(OutputChoice::Dialect(dialect));
        self
    }

    /// Appends a transform to the chain.
    pub fn transform<T: Transform + 'static>(mut self, t: T) -> Self {
        self.chain.push(Box::new(t));
        self
    }

    /// Appends a boxed transform to the chain.
    pub fn boxed_transform(mut self, t: Box<dyn Transform>) -> Self {
        self.chain.push(t);
        self
    }

    /// Where rejected records go (CSV: `file,line,byte_offset,field,error,message,record`).
    /// Without it, rejects are counted but not kept.
    pub fn rejects(mut self, sink: Sink) -> Self {
        self.rejects = Some(sink);
        self
    }

    /// Where the run's [`Report`] is written as JSON: a file or an object, committed together
    /// with the output and the rejects (all three appear, or none changes), or standard
    /// output. A run that fails or is stopped writes its report alone (its status says so),
    /// leaving the output and the rejects as they were; a usage error writes none.
    pub fn report(mut self, sink: Sink) -> Self {
        self.report = Some(sink);
        self
    }

    /// Worker threads (at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// Target chunk size in bytes (at least 1).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// The largest record accepted.
    pub fn max_record_size(mut self, bytes: usize) -> Self {
        self.max_record_size = bytes.max(1);
        self
    }

    /// Whether output keeps input order (default) or is written as batches finish.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Whether records may have a different field count from the header: `true` is
    /// [`Ragged::Keep`], `false` [`Ragged::Reject`] (the default).
    pub fn flexible(mut self, flexible: bool) -> Self {
        self.ragged = if flexible {
            Ragged::Keep
        } else {
            Ragged::Reject
        };
        self
    }

    /// What to do with a record whose field count differs from the header's (CSV/TSV) or whose
    /// keys differ from the first record's (JSON Lines): reject it (the default), pad it with
    /// NULLs, truncate it, both, or keep it as it is.
    pub fn ragged(mut self, ragged: Ragged) -> Self {
        self.ragged = ragged;
        self
    }

    /// What to do with a record longer than [`PipelineBuilder::max_record_size`]: stop the run
    /// (the default) or reject it (`record-too-large`, its first KiB kept) and go on. Either
    /// way no more than about the maximum is held in memory.
    pub fn oversized(mut self, oversized: Oversized) -> Self {
        self.oversized = oversized;
        self
    }

    /// Whether the outputs are synced to disk before they are renamed into place (see
    /// [`crate::sink::SinkWriter::set_durable`]); off by default, as in DuckDB and Polars.
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// The level of a compressed output or rejects file (`.gz`: 0-9, default 1; `.zst`/`.zstd`:
    /// 1-22, default 3); out of range is a usage error when the run starts.
    pub fn compression_level(mut self, level: i32) -> Self {
        self.compression_level = Some(level);
        self
    }

    /// Makes the run resumable after a crash, a kill or a stop: the outputs are written to
    /// partial files beside their targets (`.NAME.weir-partial`), and every `every` the
    /// committer syncs them and records what is committed in `.NAME.weir-checkpoint` (see the
    /// `checkpoint` module). A later run of the same pipeline with this option continues from
    /// the checkpoint: it checks that the inputs (size, modification time, first and last
    /// blocks read) and the pipeline are the ones checkpointed, refusing with
    /// [`Error::Resume`] if not, truncates the partial files to the committed lengths and
    /// carries on; the finished outputs and counters are byte-identical to an uninterrupted
    /// run's. Without a checkpoint it starts from the beginning; after a finished run it does
    /// nothing and says the output is complete ([`crate::report::Report::resume`]).
    ///
    /// `fingerprint` describes the pipeline beyond what the engine sees of it (a CLI passes its
    /// resolved pipeline and schema text); it is hashed into the pipeline's identity with the
    /// steps' descriptions and the dialects.
    ///
    /// Resumable runs need input files and an output file that is not Parquet (a compressed
    /// one is written as a series of gzip members or zstd frames, one ended at each
    /// checkpoint); their output is always in input order (a checkpoint records an input
    /// prefix), and their outputs are synced at every checkpoint, as with
    /// [`PipelineBuilder::durable`].
    pub fn resumable(mut self, every: Duration, fingerprint: impl Into<String>) -> Self {
        self.resumable = Some(Resumable {
            every,
            fingerprint: fingerprint.into(),
        });
        self
    }

    /// Stops the run after this long.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// What a panic in a transform does (default [`OnPanic::Stop`]): each record's pass
    /// through the chain runs under `catch_unwind`, so a panic either rejects that record
    /// (`transform-panic`) or stops the run with [`Error::TransformPanic`] naming the
    /// transform, the input and the line; never a hang or a lost record. Panics inside
    /// transform calls are not printed by the process's panic hook: weir installs, once, a hook
    /// that stays silent for them and passes every other panic to the hook set before it.
    pub fn on_panic(mut self, policy: OnPanic) -> Self {
        self.on_panic = policy;
        self
    }

    /// What to do with a value that is not Unicode text where the output needs text (default
    /// [`InvalidUtf8::Reject`]): bytes that are not UTF-8 written to JSON Lines or Parquet, a
    /// JSON Lines string that is not UTF-8 or holds a lone surrogate escape. Rejected as
    /// `encode-error` naming the field, or written with U+FFFD and counted in
    /// [`Report::values_replaced`]. Never replaced silently.
    pub fn invalid_utf8(mut self, policy: InvalidUtf8) -> Self {
        self.invalid_utf8 = policy;
        self
    }

    /// Uses this handle to stop the run from outside (signal handlers, other threads).
    pub fn stop_handle(mut self, handle: StopHandle) -> Self {
        self.stop = handle;
        self
    }

    /// Calls `observer` every `interval` while running.
    pub fn observer(mut self, interval: Duration, observer: Observer) -> Self {
        self.observer = Some((interval, observer));
        self
    }

    /// Finishes configuration.
    pub fn build(self) -> Pipeline {
        Pipeline { cfg: self }
    }
}

/// How the output dialect was chosen.
#[derive(Debug, Clone, Copy)]
enum OutputChoice {
    Format(Format),
    Dialect(Dialect),
}

/// A configured pipeline, ready to run.
pub struct Pipeline {
    cfg: PipelineBuilder,
}

/// A run that did not succeed: the error and the partial report.
#[derive(Debug)]
pub struct Failure {
    /// What stopped the run.
    pub error: Error,
    /// The accounting up to the stop (nothing was committed).
    pub report: Box<Report>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The start of a run: the splitter positioned after any header, the columns, and the first
/// data chunk if one had to be read to learn the columns.
struct Prologue {
    splitter: Splitter<BufReader<Box<dyn Read + Send>>>,
    columns: Columns,
    first: Option<Chunk>,
    /// The header row's fields as read (names may not be valid UTF-8).
    header_raw: Option<Vec<(Vec<u8>, ValueKind)>>,
}

/// What a pipeline will do, step by step: the compiled plan `weir explain` prints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    /// The input's name.
    pub input: String,
    /// The input dialect's format.
    pub format: Format,
    /// The output dialect's format.
    pub output_format: Format,
    /// The columns of the input.
    pub input_columns: Columns,
    /// Each step with the columns it produces.
    pub steps: Vec<PlanStep>,
    /// Whether output keeps input order.
    pub ordered: bool,
    /// Worker threads.
    pub workers: usize,
}

/// One step of a [`Plan`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanStep {
    /// The step's name.
    pub name: String,
    /// What it does.
    pub detail: String,
    /// Its output columns.
    pub columns: Columns,
    /// Whether it takes decisions in input order (head, dedupe, unique).
    pub ordered_gate: bool,
}

impl Pipeline {
    /// The dialect the pipeline reads.
    pub fn dialect(&self) -> Dialect {
        resolve_dialect(&self.cfg)
    }

    /// The dialect the pipeline writes.
    pub fn output_dialect(&self) -> Dialect {
        resolve_output_dialect(&self.cfg, &resolve_dialect(&self.cfg))
    }

    /// Compiles the pipeline against the input's columns, reading only its start (the header,
    /// or the first chunk for JSON Lines), and returns the plan. Every usage error a run would
    /// report (unknown column, bad expression) is reported here.
    pub fn plan(self) -> Result<Plan> {
        let cfg = self.cfg;
        let dialect = resolve_dialect(&cfg);
        let output_dialect = resolve_output_dialect(&cfg, &dialect);
        let input = cfg.source.name().to_string();
        let (reader, _) = cfg.source.open()?;
        let splitter = SplitterBuilder::new(dialect.framing())
            .chunk_size(cfg.chunk_size)
            .max_record_size(cfg.max_record_size)
            .build(
                BufReader::with_capacity(64 << 10, reader),
                SourceName::new(&input),
            );
        let prologue = watch_prologue(splitter, dialect, None, &cfg.stop)?;
        let mut columns = prologue.columns.clone();
        let mut steps = Vec::new();
        let mut gated = false;
        for mut step in cfg.chain {
            columns = step.bind(&columns).map_err(|e| BindError {
                message: format!("{}: {}", step.name(), e.message),
            })?;
            let ordered_gate = !step.gates().is_empty();
            gated |= ordered_gate;
            steps.push(PlanStep {
                name: step.name().to_string(),
                detail: step.describe(),
                columns: columns.clone(),
                ordered_gate,
            });
        }
        if !prologue.columns.is_empty() {
            check_columns(&output_dialect, &columns).map_err(Error::Config)?;
        }
        Ok(Plan {
            input,
            format: dialect.format,
            output_format: output_dialect.format,
            input_columns: prologue.columns,
            steps,
            ordered: cfg.ordered || gated,
            workers: cfg.workers,
        })
    }

    /// Runs the pipeline to the end, or until it is stopped or fails.
    pub fn run(self) -> std::result::Result<Report, Failure> {
        let started = Instant::now();
        let mut cfg = self.cfg;
        let report_sink = cfg.report.take();
        let dialect = resolve_dialect(&cfg);
        let mut report = Report {
            output: cfg.sink.name(),
            rejects: cfg.rejects.as_ref().map(Sink::name),
            format: dialect.format.to_string(),
            workers: cfg.workers,
            chunk_size: cfg.chunk_size,
            ordered: cfg.ordered,
            ..Report::empty(cfg.source.name().to_string())
        };
        match run_inner(cfg, dialect, started, &mut report, report_sink.as_ref()) {
            Ok(()) => {
                finish_report(&mut report, started, None);
                Ok(report)
            }
            Err(error) => {
                finish_report(&mut report, started, Some(&error));
                let error = match report_sink.as_ref().filter(|_| !error.is_usage()) {
                    // The report of a run that committed nothing, written alone.
                    Some(sink) => match report_writer(sink, &report).and_then(SinkWriter::commit) {
                        Ok(()) => error,
                        Err(e) if matches!(error, Error::BrokenPipe) => e,
                        Err(e) => {
                            tracing::error!(error = %e, "cannot write the report");
                            error
                        }
                    },
                    None => error,
                };
                Err(Failure {
                    error,
                    report: Box::new(report),
                })
            }
        }
    }
}

/// Sets a report's final status, time and rates (`error`: what stopped the run, if it did).
fn finish_report(report: &mut Report, started: Instant, error: Option<&Error>) {
    report.status = match error {
        None => Status::Succeeded,
        Some(Error::BrokenPipe) => Status::OutputClosed,
        Some(Error::Stopped(crate::StopReason::Interrupted)) => Status::Interrupted,
        Some(Error::Stopped(crate::StopReason::Terminated)) => Status::Terminated,
        Some(Error::Stopped(crate::StopReason::TimedOut)) => Status::TimedOut,
        Some(_) => Status::Failed,
    };
    report.error = error.map(Error::to_string);
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    report.finish_rates();
}

/// The same destination again (a report sink is opened once per outcome).
fn sink_again(sink: &Sink) -> Result<Sink> {
    Ok(match sink {
        Sink::Path(p) => Sink::Path(p.clone()),
        Sink::Url(u) => Sink::Url(u.clone()),
        Sink::Stdout => Sink::Stdout,
        Sink::Writer(name, _) => {
            return Err(Error::Config(format!(
                "the report goes to a file, an object or standard output, not to {name}"
            )))
        }
    })
}

/// The report as JSON in an opened (uncommitted) writer.
fn report_writer(sink: &Sink, report: &Report) -> Result<SinkWriter> {
    let mut json = serde_json::to_vec_pretty(report).expect("a report serialises");
    json.push(b'\n');
    let mut w = sink_again(sink)?.open()?;
    w.write_all(&json)?;
    Ok(w)
}

fn resolve_dialect(cfg: &PipelineBuilder) -> Dialect {
    cfg.dialect.unwrap_or_else(|| {
        let format = match &cfg.source {
            Source::Path(p) => Format::from_path(&p.to_string_lossy()),
            Source::Url(url) => Format::from_path(url),
            _ => None,
        };
        Dialect::new(format.unwrap_or(Format::Csv))
    })
}

fn resolve_output_dialect(cfg: &PipelineBuilder, input: &Dialect) -> Dialect {
    let format = match cfg.output {
        Some(OutputChoice::Dialect(d)) => return d,
        Some(OutputChoice::Format(f)) => Some(f),
        None => match &cfg.sink {
            Sink::Path(p) => Format::from_path(&p.to_string_lossy()),
            Sink::Url(url) => Format::from_path(url),
            _ => None,
        },
    };
    Dialect::output_for(input, format.unwrap_or(input.format))
}

fn run_inner(
    cfg: PipelineBuilder,
    dialect: Dialect,
    started: Instant,
    report: &mut Report,
    report_sink: Option<&Sink>,
) -> Result<()> {
    let output_dialect = resolve_output_dialect(&cfg, &dialect);
    let PipelineBuilder {
        source,
        more_sources,
        sink,
        rejects,
        chain,
        workers,
        chunk_size,
        max_record_size,
        ordered,
        ragged,
        oversized,
        durable,
        compression_level,
        timeout,
        stop,
        mut observer,
        on_panic,
        invalid_utf8,
        resumable,
        shard,
        digests,
        ..
    } = cfg;
    check_outputs(&sink, rejects.as_ref(), report_sink, &source, &more_sources)?;
    // A resumable run checks its checkpoint before it reads or writes anything.
    let resume = match &resumable {
        Some(r) => {
            let identity = pipeline_identity(
                &chain,
                &dialect,
                &output_dialect,
                ragged,
                oversized,
                max_record_size,
                on_panic,
                invalid_utf8,
            );
            let sources: Vec<&Source> = std::iter::once(&source).chain(&more_sources).collect();
            let plan = resume::ResumePlan::prepare(
                r,
                &identity,
                &sink,
                rejects.as_ref(),
                &sources,
                output_dialect.format,
            )?;
            let names: Vec<String> = sources.iter().map(|s| s.name().to_string()).collect();
            plan.outcome(report, &names);
            if let Some(cp) = &plan.complete {
                resume::fill_complete(report, cp);
                tracing::info!("the output is complete: nothing to do");
                return Ok(());
            }
            Some(plan)
        }
        None => None,
    };
    // A run that is not resumable replaces the output, and with it any resumable run's files.
    let stale = match (&resume, &sink) {
        (None, Sink::Path(p)) => {
            let rejects = match &rejects {
                Some(Sink::Path(r)) => Some(r.as_path()),
                _ => None,
            };
            Some(checkpoint::Paths::new(p, rejects))
        }
        _ => None,
    };
    // A missing or read-only destination is found before any input is read.
    sink.check_destination()?;
    if let Some(r) = &rejects {
        r.check_destination()?;
    }
    let source_name = source.name();
    let mut source_names = vec![source_name.clone()];
    let mut bytes_total = Some(0u64);
    for more in &more_sources {
        // Every input must be there before anything is written.
        if let Source::Path(p) = more {
            let meta = std::fs::metadata(p).map_err(|e| Error::Open {
                source_name: more.name(),
                source: e,
            })?;
            bytes_total = bytes_total.map(|t| t + meta.len());
        } else if let Source::Url(url) = more {
            let size = crate::source::object_size(url)?;
            bytes_total = bytes_total.map(|t| t + size);
        } else {
            bytes_total = None;
        }
        source_names.push(more.name());
    }
    let progress = Arc::new(Progress::default());
    let (reader, first_size) = source.open_counted(&progress)?;
    bytes_total = bytes_total.zip(first_size).map(|(a, b)| a + b);
    let reader = BufReader::with_capacity(64 << 10, TimedRead::boxed(reader, &progress));
    let splitter = SplitterBuilder::new(dialect.framing())
        .chunk_size(chunk_size)
        .max_record_size(max_record_size)
        .oversized(oversized)
        .build(reader, source_name.clone());
    let deadline = timeout.map(|t| started + t);
    let prologue = watch_prologue(splitter, dialect, deadline, &stop)?;

    tracing::info!(
        inputs = source_names.len(),
        format = %dialect.format,
        workers,
        chunk_size,
        ordered,
        "run starts on {}",
        source_names[0]
    );
    tracing::debug!(columns = ?prologue.columns.names(), "input columns");
    // Bind the chain before any output exists: a usage error must leave nothing behind.
    let mut chain = Chain::new(chain);
    chain.limit_values(max_record_size);
    let output_columns = if prologue.columns.is_empty() && prologue.first.is_none() {
        Columns::default() // empty input: nothing to bind against, nothing to write
    } else {
        let columns = chain.bind(&prologue.columns)?;
        // No columns known (no line of the first JSON Lines chunk is an object): every record
        // is rejected, there is nothing to check the output against.
        if !prologue.columns.is_empty() {
            check_columns(&output_dialect, &columns).map_err(Error::Config)?;
        }
        check_header_text(&output_dialect, &prologue, &columns, invalid_utf8)?;
        columns
    };
    let gates = chain.gates();
    if shard.is_some() && !gates.is_empty() {
        return Err(Error::Config(
            "head, dedupe and a schema's unique or primaryKey decide over the whole input in \
             order, so they cannot run sharded: run them on the merged output"
                .into(),
        ));
    }
    // Gates decide in input order, so batches are taken in order when there are any.
    // A checkpoint records an input prefix, so resumable runs are ordered too.
    let ordered = ordered || !gates.is_empty() || resume.is_some();
    report.ordered = ordered;

    // A Parquet output's column types are fixed before anything is written.
    let parquet = (output_dialect.format == Format::Parquet).then(|| {
        Arc::new(ParquetLayout::new(
            &output_columns,
            chain.typed_fields(&output_columns),
        ))
    });
    // Where the splitter starts: the beginning, or a resumed run's checkpoint (checked
    // against the input's bytes before any output file is touched).
    let from = resume
        .as_ref()
        .and_then(|p| p.from.as_ref().map(|cp| (p, cp)));
    let shard_start = shard.as_ref().map(|r| (r.start, r.line));
    let (mut splitter, first, rest, first_index, first_base) = match (from, shard) {
        (None, Some(range)) => {
            // A shard: the header came from the input's start; the records from its range.
            let mut splitter = SplitterBuilder::new(dialect.framing())
                .chunk_size(chunk_size)
                .max_record_size(max_record_size)
                .oversized(oversized)
                .build(
                    BufReader::with_capacity(64 << 10, TimedRead::boxed(range.reader, &progress)),
                    source_name.clone(),
                );
            splitter.resume_at(range.start, range.line, 0);
            splitter.end_at(range.end);
            (splitter, None, Vec::new(), 0, 0)
        }
        (None, None) => (prologue.splitter, prologue.first, more_sources, 0, 0),
        (Some((plan, cp)), _) => {
            let p = &cp.position;
            let before: u64 = plan.inputs[..p.source].iter().map(|i| i.size).sum();
            progress.source_bytes_read.store(before, Ordering::Relaxed);
            progress
                .bytes_read
                .store(p.stream_offset, Ordering::Relaxed);
            let reader = checkpoint::open_at(
                &plan.input_paths[p.source],
                p,
                &plan.paths.checkpoint,
                &progress,
            )?;
            let mut splitter = SplitterBuilder::new(dialect.framing())
                .chunk_size(chunk_size)
                .max_record_size(max_record_size)
                .oversized(oversized)
                .build(
                    BufReader::with_capacity(64 << 10, TimedRead::boxed(reader, &progress)),
                    source_names[p.source].clone(),
                );
            splitter.resume_at(p.offset, p.line, p.seq);
            tracing::info!(
                line = p.line,
                offset = p.offset,
                records = cp.counters.read,
                "resuming {} from the checkpoint",
                source_names[p.source]
            );
            let rest = more_sources.into_iter().skip(p.source).collect();
            (splitter, None, rest, p.source, p.stream_offset - p.offset)
        }
    };
    let fresh = from.is_none();
    // Where the data starts: what a run without data chunks has read (and committed).
    let data_start = splitter.offset();
    let (mut out, mut rejects_out) = match &resume {
        None => {
            let mut out = open_watched(sink, compression_level, deadline, &stop)?;
            out.set_durable(durable);
            if digests {
                out.keep_digest();
            }
            let rejects_out = match rejects {
                Some(s) => {
                    let mut w = open_watched(s, compression_level, deadline, &stop)?;
                    w.set_durable(durable);
                    if digests {
                        w.keep_digest();
                    }
                    w.write_all(REJECTS_HEADER)?;
                    Some(w)
                }
                None => None,
            };
            (out, rejects_out)
        }
        Some(plan) => {
            let cp = plan.from.as_ref();
            for target in std::iter::once(&plan.paths.output).chain(&plan.paths.rejects) {
                crate::sink::compression_for(target, compression_level)?;
            }
            // Each partial file keeps what the checkpoint counts (its length as stored, and
            // the bytes written before compression,
            // and the digest of what it keeps, checked: an edit inside it is a refusal).
            let partial = |path: &std::path::PathBuf,
                           target: &std::path::PathBuf,
                           keep: Option<(u64, u64, &str)>| {
                let (file, digest) = checkpoint::open_partial_verified(
                    path,
                    keep.map(|k| (k.0, k.2)),
                    &plan.paths.checkpoint,
                )?;
                let written = keep.map_or(0, |k| k.1);
                SinkWriter::partial(
                    file,
                    path.clone(),
                    target.clone(),
                    written,
                    compression_level,
                    digest,
                )
            };
            let out = partial(
                &plan.paths.output_partial,
                &plan.paths.output,
                cp.map(|c| (c.output_len, c.output_written, c.output_hash.as_str())),
            )?;
            let rejects_out = match (&plan.paths.rejects_partial, &plan.paths.rejects) {
                (Some(path), Some(target)) => {
                    let mut w = partial(
                        path,
                        target,
                        cp.map(|c| (c.rejects_len, c.rejects_written, c.rejects_hash.as_str())),
                    )?;
                    if fresh {
                        w.write_all(REJECTS_HEADER)?;
                    }
                    Some(w)
                }
                _ => None,
            };
            (out, rejects_out)
        }
    };
    if fresh {
        // Input columns keep the header's fields as read (bytes that are not UTF-8, a quoted
        // empty name), whatever the steps did to the other columns; new or renamed ones are
        // written as named.
        let raw = prologue.header_raw.as_deref().map(|fields| {
            if output_columns == prologue.columns {
                return fields.to_vec();
            }
            output_columns
                .names()
                .iter()
                .map(|name| match prologue.columns.positions(name).first() {
                    Some(&i) => fields[i].clone(),
                    None => (name.as_bytes().to_vec(), ValueKind::Text),
                })
                .collect::<Vec<_>>()
        });
        let mut header = Vec::new();
        Encoder::new(&output_dialect, &dialect, &output_columns).header(
            &mut header,
            &output_columns,
            raw.as_deref(),
        );
        if !header.is_empty() {
            out.write_all(&header)?;
        }
    }
    let out = match &parquet {
        Some(layout) => Output::Parquet(Box::new(ParquetSink::new(out, layout)?)),
        None => Output::Bytes(out),
    };

    let slots = workers * 2 + 2;
    let state = Arc::new(StopState::new(stop));
    let (pool_tx, pool_rx) = bounded::<Slot>(slots);
    for _ in 0..slots {
        pool_tx.send(Slot::default()).expect("pool has room");
    }
    let (work_tx, work_rx) = bounded::<Slot>(slots);
    let (commit_tx, commit_rx) = bounded::<Slot>(slots);

    let spec = WorkerSpec {
        dialect,
        output_dialect,
        input_columns: prologue.columns.clone(),
        output_columns,
        ragged,
        oversized,
        chain,
        source_names: source_names.clone(),
        max_record_size,
        parquet,
        on_panic,
        invalid_utf8,
    };

    // Splitter thread.
    let (split_done_tx, split_done_rx) = bounded::<()>(1);
    {
        let state = state.clone();
        let progress = progress.clone();
        let pool_rx = pool_rx.clone();
        let work_tx = work_tx.clone();
        let header = prologue.columns.clone();
        let framing = (dialect, chunk_size, max_record_size, oversized);
        thread::Builder::new()
            .name("weir-splitter".into())
            .spawn(move || {
                let inputs = Inputs {
                    rest,
                    first_index,
                    first_base,
                    header,
                    framing,
                    first_name: source_name,
                };
                // A panic here (a bug) must fail the run: unwinding would drop the work queue's
                // sender, which the workers and the committer take for the input's end.
                let split = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    inputs.split_all(&mut splitter, first, &pool_rx, &work_tx, &state, &progress)
                }));
                match split {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => state.fail(e),
                    Err(p) => state.fail(Error::Panic(format!(
                        "the splitter: {} (a bug in weir)",
                        panic_message(p)
                    ))),
                }
                drop(work_tx);
                let _ = split_done_tx.send(());
            })
            .expect("spawn splitter");
    }
    drop(work_tx);

    // Workers.
    let mut worker_handles = Vec::with_capacity(workers);
    for id in 0..workers {
        let rx = work_rx.clone();
        let tx = commit_tx.clone();
        let state = state.clone();
        let progress = progress.clone();
        let spec = spec.clone();
        worker_handles.push(
            thread::Builder::new()
                .name(format!("weir-worker-{id}"))
                .spawn(move || worker_loop(id, spec, &rx, &tx, &state, &progress))
                .expect("spawn worker"),
        );
    }
    drop(commit_tx);
    let work_probe = work_rx;

    // Committer.
    let (done_tx, done_rx) = bounded::<()>(1);
    let committer = {
        let state = state.clone();
        let progress = progress.clone();
        let mut c = Committer::new(
            ordered,
            out,
            rejects_out.take(),
            pool_tx,
            progress,
            &gates,
            source_names.clone(),
        );
        if let Some(plan) = resume {
            let cp = plan.from.as_ref();
            let (log, keys) = checkpoint::GateLog::open(
                &plan.paths.gates,
                cp.map(|c| (c.gates_len, c.gates_hash.as_str())),
                &plan.paths.checkpoint,
            )?;
            let every = resumable.as_ref().map_or(Duration::ZERO, |r| r.every);
            let base = Checkpoint::new(plan.pipeline.clone(), plan.inputs.clone(), &plan.paths);
            c.checkpointed(
                committer::Checkpointer {
                    paths: plan.paths.clone(),
                    base,
                    every,
                    last: Instant::now(),
                    gates: log,
                },
                cp,
                keys,
            );
        }
        thread::Builder::new()
            .name("weir-committer".into())
            .spawn(move || {
                if let Err(e) = c.run(&commit_rx, &state) {
                    state.fail(e);
                }
                let _ = done_tx.send(());
                c
            })
            .expect("spawn committer")
    };

    // Supervise: time limit, outside stop requests, observer.
    let mut next_observe = observer.as_ref().map(|(every, _)| started + *every);
    let mut stopped_at = None;
    loop {
        match done_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            state.stop(crate::StopReason::TimedOut);
        }
        if state.is_stopped() && now - *stopped_at.get_or_insert(now) >= COMMITTER_GRACE {
            // The committer is stuck in a write (a pipe nobody reads, a hung file system): the
            // stop is reported without it. Its temporary files are removed when the write
            // returns, or by `sink::remove_temp_files` at exit; a resumable run's partial files
            // stay for `--resume`, whose last checkpoint is on disk.
            tracing::warn!("the output is still being written {COMMITTER_GRACE:?} after the stop; not waited for");
            report.records_read = progress.records_read.load(Ordering::Relaxed);
            report.records_written = progress.records_written.load(Ordering::Relaxed);
            report.records_filtered = progress.records_filtered.load(Ordering::Relaxed);
            report.records_rejected = progress.records_rejected.load(Ordering::Relaxed);
            report.bytes_read = progress.bytes_read.load(Ordering::Relaxed);
            return Err(state
                .take_error()
                .unwrap_or(Error::Stopped(crate::StopReason::Interrupted)));
        }
        if let (Some(at), Some((every, f))) = (next_observe, observer.as_mut()) {
            if now >= at {
                progress
                    .queued_chunks
                    .store(work_probe.len(), Ordering::Relaxed);
                f(&progress.snapshot(now - started, bytes_total, slots, workers));
                next_observe = Some(now + *every);
            }
        }
    }

    let committer = match committer.join() {
        Ok(c) => c,
        Err(p) => return Err(Error::Panic(panic_message(p))),
    };
    // After a stop, a worker stuck in a transform that never returns must not hold the run:
    // workers hold no output (the committer, joined above, owns the sinks), so one still busy
    // after a grace period is left behind, detached, and the stop is reported at once.
    let grace_end = Instant::now() + WORKER_GRACE;
    for (id, h) in worker_handles.into_iter().enumerate() {
        if state.is_stopped() {
            while !h.is_finished() && Instant::now() < grace_end {
                thread::sleep(Duration::from_millis(5));
            }
            if !h.is_finished() {
                tracing::warn!(
                    worker = id,
                    "worker still busy {WORKER_GRACE:?} after the stop; not waited for"
                );
                report.per_worker.push(WorkerReport {
                    worker: id,
                    ..Default::default()
                });
                continue;
            }
        }
        match h.join() {
            Ok(w) => report.per_worker.push(w),
            Err(p) => {
                state.fail(Error::Panic(panic_message(p)));
                report.per_worker.push(WorkerReport {
                    worker: id,
                    ..Default::default()
                });
            }
        }
    }
    // The splitter may be blocked reading a pipe; it holds no output, so it is not waited for
    // beyond a moment once the run is over.
    let _ = split_done_rx.recv_timeout(Duration::from_millis(200));

    committer.fill_report(report);
    report.bytes_read = progress.bytes_read.load(Ordering::Relaxed);
    if report.chunks == 0 && fresh {
        // Only a header (or nothing): every record, of none, is committed after it.
        report.bytes_read = report.bytes_read.max(data_start);
        report.committed_offset = report.committed_offset.max(data_start);
    }
    if let Some((start, line)) = shard_start {
        // Where the shard ended: after its last record (its start when it owned none).
        let (end, end_line) = committer.committed_end().unwrap_or((start, line));
        report.bytes_read = end - start;
        report.shard = Some(crate::shard::ShardInfo {
            start,
            end,
            lines: end_line - line,
            ..Default::default()
        });
    }
    report.compressed_bytes_read = progress
        .source_compressed
        .load(Ordering::Relaxed)
        .then(|| progress.source_bytes_read.load(Ordering::Relaxed));
    let read = progress.read_nanos.load(Ordering::Relaxed);
    let split = progress.split_nanos.load(Ordering::Relaxed);
    report.stages.splitter.read_seconds = read as f64 * 1e-9;
    // Reads made for the header happen outside `split_nanos`; never show a negative scan.
    report.stages.splitter.scan_seconds = split.saturating_sub(read) as f64 * 1e-9;
    if let Some(e) = state.take_error() {
        tracing::info!(error = %e, "run stopped; nothing committed");
        return Err(e);
    }
    // The report is committed with the outputs, so it is made once they are finished (their
    // digests known) and before any is renamed.
    committer.commit(|output_digest, rejects_digest| {
        let hex = |d: u64| format!("{d:016x}");
        report.output_digest = output_digest.map(hex);
        report.rejects_digest = rejects_digest.map(hex);
        let Some(r) = report_sink else {
            return Ok(None);
        };
        let mut done = report.clone();
        finish_report(&mut done, started, None);
        let mut w = report_writer(r, &done)?;
        w.set_durable(durable);
        Ok(Some(w))
    })?;
    if let Some(stale) = stale {
        stale.remove_all();
    }
    tracing::info!(
        read = report.records_read,
        written = report.records_written,
        filtered = report.records_filtered,
        rejected = report.records_rejected,
        "outputs committed"
    );
    Ok(())
}

/// Before anything is read: finishes a crashed run's commit to the same output and removes
/// dead runs' temporary files beside the outputs, then refuses a run that would write over an
/// input or write two outputs to one file (see [`crate::sink::check_places`]).
fn check_outputs(
    sink: &Sink,
    rejects: Option<&Sink>,
    report: Option<&Sink>,
    source: &Source,
    more_sources: &[Source],
) -> Result<()> {
    let mut writes = vec![Place::output("output", sink)];
    writes.extend(rejects.map(|r| Place::output("rejects", r)));
    writes.extend(report.map(|r| Place::output("report", r)));
    let path_of = |s: &Sink| match s {
        Sink::Path(p) => Some((p.clone(), false)),
        Sink::Url(u) => Some((std::path::PathBuf::from(u), true)),
        _ => None,
    };
    if let Some((out, object)) = path_of(sink) {
        let also: Vec<_> = [rejects, report]
            .into_iter()
            .flatten()
            .filter_map(|s| path_of(s).map(|p| p.0))
            .collect();
        let also: Vec<&std::path::Path> = also.iter().map(|p| p.as_path()).collect();
        crate::sink::recover(&out, object, &also)?;
        writes.push(Place::internal(
            "commit journal",
            &crate::sink::journal_for(&out, object),
        ));
        if !object {
            let rejects = match rejects {
                Some(Sink::Path(r)) => Some(r.as_path()),
                _ => None,
            };
            let files = checkpoint::Paths::new(&out, rejects);
            writes.push(Place::internal("checkpoint", &files.checkpoint));
            writes.push(Place::internal("partial output", &files.output_partial));
            writes.push(Place::internal("key log", &files.gates));
            if let Some(p) = &files.rejects_partial {
                writes.push(Place::internal("partial rejects", p));
            }
        }
    }
    let reads: Vec<Place> = std::iter::once(source)
        .chain(more_sources)
        .map(Place::input)
        .collect();
    check_places(&reads, &writes)
}

/// How long the supervisor waits for the committer after a stop before it reports the stop
/// without it.
const COMMITTER_GRACE: Duration = Duration::from_secs(2);

/// How long a stopped run waits for its workers to finish the chunk in hand.
const WORKER_GRACE: Duration = Duration::from_millis(500);

/// Everything in a pipeline that shapes its output, as text for a resumable run's identity:
/// each step with its description, the dialects and the record rules.
#[allow(clippy::too_many_arguments)]
fn pipeline_identity(
    chain: &[Box<dyn Transform>],
    dialect: &Dialect,
    output_dialect: &Dialect,
    ragged: Ragged,
    oversized: Oversized,
    max_record_size: usize,
    on_panic: OnPanic,
    invalid_utf8: InvalidUtf8,
) -> String {
    let mut text = format!(
        "in {dialect:?}\nout {output_dialect:?}\nragged {ragged:?}\noversized {oversized:?}\n\
         max_record_size {max_record_size}\non_panic {on_panic:?}\n"
    );
    // Only when not the default, so the checkpoints of runs before the option still match.
    if invalid_utf8 != InvalidUtf8::default() {
        text.push_str(&format!("invalid_utf8 {invalid_utf8}\n"));
    }
    for step in chain {
        text.push_str(&format!("step {}: {}\n", step.name(), step.describe()));
    }
    text
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Reads up to `limit` records from the start of `source` (serially, without running a
/// pipeline): the columns and each record's fields, `None` for NULL. For schema inference and
/// previews; memory is bounded by `limit` and the chunk size.
pub fn sample(
    source: Source,
    dialect: Dialect,
    limit: usize,
) -> Result<(Columns, Vec<Vec<Option<String>>>)> {
    let name = source.name();
    let (reader, _) = source.open()?;
    let splitter = SplitterBuilder::new(dialect.framing())
        .chunk_size(256 << 10)
        .build(BufReader::with_capacity(64 << 10, reader), name.clone());
    let prologue = watch_prologue(splitter, dialect, None, &StopHandle::new())?;
    let mut splitter = prologue.splitter;
    let spec = WorkerSpec {
        dialect,
        output_dialect: dialect,
        input_columns: prologue.columns.clone(),
        output_columns: prologue.columns.clone(),
        ragged: Ragged::Keep,
        oversized: Oversized::Stop,
        chain: Chain::default(),
        source_names: vec![name],
        max_record_size: usize::MAX,
        parquet: None,
        on_panic: OnPanic::Stop,
        invalid_utf8: InvalidUtf8::Replace,
    };
    let mut worker = Worker::new(spec);
    let mut rows = Vec::new();
    let mut chunk = prologue.first;
    loop {
        let c = match chunk.take() {
            Some(c) => c,
            None => {
                let mut c = Chunk::default();
                if !splitter.next_chunk(&mut c)? {
                    break;
                }
                c
            }
        };
        worker.sample(&c, limit - rows.len(), &mut rows);
        if rows.len() >= limit {
            break;
        }
    }
    Ok((prologue.columns, rows))
}

/// Opens an output; a named pipe on its own thread, so that a stop request or the time limit
/// is acted on while it waits for a reader (opening a pipe for writing blocks until one
/// comes). An open still blocked after a stop is left behind: a pipe has no temporary file.
fn open_watched(
    sink: Sink,
    compression_level: Option<i32>,
    deadline: Option<Instant>,
    stop: &StopHandle,
) -> Result<SinkWriter> {
    if !matches!(&sink, Sink::Path(p) if crate::source::is_fifo(p)) {
        return sink.open_with(compression_level);
    }
    let (tx, rx) = bounded(1);
    thread::Builder::new()
        .name("weir-open-output".into())
        .spawn(move || {
            let _ = tx.send(sink.open_with(compression_level));
        })
        .expect("spawn output opener");
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(result) => return result,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::Panic("the output opener stopped".into()))
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            stop.stop(crate::StopReason::TimedOut);
        }
        if let Some(reason) = stop.reason() {
            return Err(Error::Stopped(reason));
        }
    }
}

/// Reads the prologue on its own thread, so that a stop request or the time limit is acted on
/// even while the input has not yet delivered a header (a pipe that stays open). A reader
/// still blocked after a stop is left behind: it holds no output.
fn watch_prologue(
    splitter: Splitter<BufReader<Box<dyn Read + Send>>>,
    dialect: Dialect,
    deadline: Option<Instant>,
    stop: &StopHandle,
) -> Result<Prologue> {
    let (tx, rx) = bounded(1);
    thread::Builder::new()
        .name("weir-prologue".into())
        .spawn(move || {
            let _ = tx.send(read_prologue(splitter, &dialect));
        })
        .expect("spawn prologue reader");
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(result) => return result,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::Panic("the prologue reader stopped".into()))
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            stop.stop(crate::StopReason::TimedOut);
        }
        if let Some(reason) = stop.reason() {
            return Err(Error::Stopped(reason));
        }
    }
}

impl Prologue {
    /// The prologue of an input with nothing in it (or only blank lines).
    fn empty(splitter: Splitter<BufReader<Box<dyn Read + Send>>>) -> Prologue {
        Prologue {
            splitter,
            columns: Columns::default(),
            first: None,
            header_raw: None,
        }
    }
}

/// The header row's fields as read and their names.
type Header = (Vec<(Vec<u8>, ValueKind)>, Vec<String>);

/// Reads a CSV header: the first record, after any blank lines (as readers skip them). `None`
/// for an input with no record at all.
pub(crate) fn read_header<R: Read>(
    splitter: &mut Splitter<R>,
    dialect: &Dialect,
) -> Result<Option<Header>> {
    let mut buf = RecordBuf::default();
    let mut chunk = Chunk::default();
    loop {
        if !splitter.next_record(&mut chunk)? {
            return Ok(None);
        }
        let mut dec = CsvDecoder::new(&chunk.data, dialect, chunk.first_line);
        if dec.next_record(&mut buf) {
            let rec = Record::new(&chunk.data, &mut buf);
            let fields: Vec<(Vec<u8>, ValueKind)> =
                rec.fields().map(|(b, k)| (b.to_vec(), k)).collect();
            let names = fields
                .iter()
                .map(|(b, _)| String::from_utf8_lossy(b).into_owned())
                .collect();
            return Ok(Some((fields, names)));
        }
    }
}

/// Refuses (usage error) a header name that is not UTF-8 among the output columns of a JSON
/// Lines or Parquet output, whose keys and column names are UTF-8: written with U+FFFD it
/// would silently be another name. `--invalid-utf8 replace` accepts the replacement.
fn check_header_text(
    output: &Dialect,
    prologue: &Prologue,
    columns: &Columns,
    policy: InvalidUtf8,
) -> Result<()> {
    if !matches!(output.format, Format::Jsonl | Format::Parquet) || policy == InvalidUtf8::Replace {
        return Ok(());
    }
    let Some(raw) = &prologue.header_raw else {
        return Ok(());
    };
    for (i, (bytes, _)) in raw.iter().enumerate() {
        let name = &prologue.columns.names()[i];
        if std::str::from_utf8(bytes).is_err() && columns.names().contains(name) {
            return Err(Error::Config(format!(
                "column {} of the header, '{}', is not UTF-8, which {} output cannot hold as a \
                 name (--rename it, or --invalid-utf8 replace writes U+FFFD)",
                i + 1,
                name.escape_debug(),
                output.format
            )));
        }
    }
    Ok(())
}

/// Reads the header (or the first chunk, to learn the columns) before the threads start.
fn read_prologue(
    mut splitter: Splitter<BufReader<Box<dyn Read + Send>>>,
    dialect: &Dialect,
) -> Result<Prologue> {
    let mut buf = RecordBuf::default();
    match dialect.format {
        Format::Csv | Format::Tsv if dialect.header => match read_header(&mut splitter, dialect)? {
            None => Ok(Prologue::empty(splitter)),
            Some((fields, names)) => Ok(Prologue {
                columns: Columns::new(names),
                splitter,
                first: None,
                header_raw: Some(fields),
            }),
        },
        Format::Csv | Format::Tsv => {
            let mut chunk = Chunk::default();
            if !splitter.next_chunk(&mut chunk)? {
                return Ok(Prologue::empty(splitter));
            }
            let mut dec = CsvDecoder::new(&chunk.data, dialect, chunk.first_line);
            let n = if dec.next_record(&mut buf) {
                buf.field_count()
            } else {
                0
            };
            let columns = Columns::new((1..=n).map(|i| format!("column{i}")));
            Ok(Prologue {
                splitter,
                columns,
                first: Some(chunk),
                header_raw: None,
            })
        }
        Format::Jsonl => {
            // The columns are the keys of the first object within the record limit, whatever
            // the chunk size: oversized records skipped before it (with --oversized reject)
            // are handed out again before it, in order.
            let mut chunk = Chunk::default();
            let mut skipped = Vec::new();
            loop {
                if !splitter.next_chunk(&mut chunk)? {
                    splitter.replay(skipped);
                    return Ok(Prologue::empty(splitter));
                }
                if chunk.oversized.is_none() {
                    break;
                }
                skipped.push(std::mem::take(&mut chunk));
            }
            splitter.replay(skipped);
            let max = splitter.max_record_size();
            let keys = Lines::new(&chunk.data, 1)
                .filter(|&(s, e, term, _)| e - s + term <= max)
                .find_map(|(s, e, _, _)| JsonDecoder::keys(&chunk.data[s..e]).ok());
            if keys.as_ref().is_some_and(Vec::is_empty) {
                // Its records could only be written as nothing (or all rejected).
                return Err(Error::Config(
                    "the input has no columns: its first JSON object has no keys ({}), and \
                     the columns are the first object's keys"
                        .into(),
                ));
            }
            let keys = keys.unwrap_or_default();
            Ok(Prologue {
                splitter,
                columns: Columns::new(keys),
                first: Some(chunk),
                header_raw: None,
            })
        }
        Format::Lines => Ok(Prologue {
            splitter,
            columns: Columns::new(["line"]),
            first: None,
            header_raw: None,
        }),
        Format::Parquet => Err(Error::Config(
            "weir writes Parquet but does not read it: choose another input --format".into(),
        )),
    }
}

/// The inputs after the first, and what the splitter needs to read them like the first.
struct Inputs {
    rest: Vec<Source>,
    /// The index of the first input split (not 0 when a resumed run starts in a later one).
    first_index: usize,
    /// The offset in the whole input stream of the first input's byte 0.
    first_base: u64,
    header: Columns,
    framing: (Dialect, usize, usize, Oversized),
    first_name: SourceName,
}

impl Inputs {
    /// Splits the first input, then each of the others in turn into the same chunk stream:
    /// sequence numbers continue, a CSV header is checked against the first and skipped.
    fn split_all(
        self,
        first_splitter: &mut Splitter<BufReader<Box<dyn Read + Send>>>,
        first_chunk: Option<Chunk>,
        pool: &Receiver<Slot>,
        work: &Sender<Slot>,
        state: &StopState,
        progress: &Progress,
    ) -> Result<()> {
        let (dialect, chunk_size, max_record_size, oversized) = self.framing;
        split_loop(
            first_splitter,
            first_chunk,
            self.first_index,
            self.first_base,
            pool,
            work,
            state,
            progress,
        )?;
        let mut seq = first_splitter.next_seq();
        let mut base = self.first_base + first_splitter.offset();
        for (i, source) in self.rest.into_iter().enumerate() {
            if state.is_stopped() {
                return Ok(());
            }
            let name = source.name();
            let (reader, _) = source.open_counted(progress)?;
            let mut splitter = SplitterBuilder::new(dialect.framing())
                .chunk_size(chunk_size)
                .max_record_size(max_record_size)
                .oversized(oversized)
                .build(
                    BufReader::with_capacity(64 << 10, timed::TimedRead::boxed(reader, progress)),
                    name.clone(),
                );
            splitter.set_next_seq(seq);
            if dialect.has_header() {
                if let Some((_, names)) = read_header(&mut splitter, &dialect)? {
                    if names != self.header.names() {
                        return Err(Error::HeaderMismatch {
                            source_name: name,
                            first: self.first_name.clone(),
                            detail: header_difference(self.header.names(), &names),
                        });
                    }
                }
            }
            split_loop(
                &mut splitter,
                None,
                self.first_index + i + 1,
                base,
                pool,
                work,
                state,
                progress,
            )?;
            seq = splitter.next_seq();
            base += splitter.offset();
        }
        Ok(())
    }
}

/// How two headers differ, for a message: the first column that does.
fn header_difference(first: &[String], other: &[String]) -> String {
    for (i, (a, b)) in first.iter().zip(other).enumerate() {
        if a != b {
            return format!("column {} is '{b}', not '{a}'", i + 1);
        }
    }
    format!("it has {} columns, not {}", other.len(), first.len())
}

#[allow(clippy::too_many_arguments)]
fn split_loop<R: Read>(
    splitter: &mut Splitter<R>,
    mut first: Option<Chunk>,
    source: usize,
    base_offset: u64,
    pool: &Receiver<Slot>,
    work: &Sender<Slot>,
    state: &StopState,
    progress: &Progress,
) -> Result<()> {
    loop {
        // Take a credit: wait for a free slot, watching for a stop.
        let Some(mut slot) = recv_until_stopped(pool, state) else {
            return Ok(());
        };
        if let Some(chunk) = first.take() {
            let buf = std::mem::replace(&mut slot.chunk, chunk);
            drop(buf);
        } else {
            let t = Instant::now();
            let more = splitter.next_chunk(&mut slot.chunk)?;
            let spent = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
            progress.split_nanos.fetch_add(spent, Ordering::Relaxed);
            if !more {
                return Ok(());
            }
        }
        slot.chunk.source = source;
        slot.stream_end = base_offset + splitter.offset();
        slot.end_line = splitter.line();
        progress
            .bytes_read
            .store(slot.stream_end, Ordering::Relaxed);
        if work.send(slot).is_err() {
            return Ok(());
        }
    }
}

fn worker_loop(
    id: usize,
    spec: WorkerSpec,
    rx: &Receiver<Slot>,
    tx: &Sender<Slot>,
    state: &StopState,
    progress: &Progress,
) -> WorkerReport {
    let names = spec.source_names.clone();
    let mut worker = Worker::new(spec);
    let mut report = WorkerReport {
        worker: id,
        ..Default::default()
    };
    let mut busy = Duration::ZERO;
    while let Some(mut slot) = recv_until_stopped(rx, state) {
        progress.busy_workers.fetch_add(1, Ordering::Relaxed);
        let t = Instant::now();
        // Transform panics are caught per record inside `process`; one that escapes it is a
        // bug in weir's own decoding or encoding. It must still stop the run at once: a worker
        // that died silently would keep its chunk's credit, and an ordered committer would
        // wait for that chunk for ever. The worker is not used again after a panic.
        let processed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            worker.process(&slot.chunk, &mut slot.batch)
        }));
        if let Err(p) = processed {
            progress.busy_workers.fetch_sub(1, Ordering::Relaxed);
            let c = &slot.chunk;
            state.fail(Error::Panic(format!(
                "{} (worker {id}, in the chunk of {} from line {}; a bug in weir)",
                panic_message(p),
                names[c.source],
                c.first_line
            )));
            break;
        }
        busy += t.elapsed();
        progress.busy_workers.fetch_sub(1, Ordering::Relaxed);
        report.chunks += 1;
        report.records += slot.batch.read;
        slot.worker = id;
        if tx.send(slot).is_err() {
            break;
        }
    }
    report.busy_seconds = busy.as_secs_f64();
    report
}

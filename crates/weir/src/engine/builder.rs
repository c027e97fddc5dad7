//! The pipeline builder: every setting of a run, with its default, and the dialects it
//! resolves from the input and output names.

use std::io::Read;
use std::thread;
use std::time::Duration;

use crate::checkpoint::Resumable;
use crate::error::RejectBudget;
use crate::format::{Dialect, Format, InvalidUtf8, Ragged};
use crate::report::{Report, Snapshot};
use crate::sink::{RejectsFormat, Sink};
use crate::source::Source;
use crate::split::Oversized;
use crate::transform::{OnPanic, Transform};

use super::stop::StopHandle;
use super::Pipeline;

/// An observer called from the supervising thread at the configured interval.
pub type Observer = Box<dyn FnMut(&Snapshot) + Send>;

/// How a run's report is written: the bytes of the report file, made from the [`Report`] (see
/// [`PipelineBuilder::report_json`]).
pub(super) type ReportJson = Box<dyn Fn(&Report) -> Vec<u8> + Send>;

/// The report as its own JSON, pretty-printed, with a final newline: the default
/// [`ReportJson`].
fn bare_json(report: &Report) -> Vec<u8> {
    let mut json = serde_json::to_vec_pretty(report).expect("a report serialises");
    json.push(b'\n');
    json
}

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
    pub(super) source: Source,
    /// Inputs after the first, read in order as one stream.
    pub(super) more_sources: Vec<Source>,
    pub(super) sink: Sink,
    pub(super) rejects: Option<Sink>,
    pub(super) rejects_format: RejectsFormat,
    /// Where the reasons of input-format rejects go, if not beside the rejects.
    pub(super) reasons: Option<Sink>,
    pub(super) report: Option<Sink>,
    pub(super) report_json: ReportJson,
    pub(super) dialect: Option<Dialect>,
    pub(super) output: Option<OutputChoice>,
    pub(super) chain: Vec<Box<dyn Transform>>,
    pub(super) workers: usize,
    pub(super) chunk_size: usize,
    pub(super) max_record_size: usize,
    pub(super) ordered: bool,
    pub(super) ragged: Ragged,
    pub(super) oversized: Oversized,
    pub(super) durable: bool,
    pub(super) compression_level: Option<i32>,
    pub(super) timeout: Option<Duration>,
    pub(super) stop: StopHandle,
    pub(super) observer: Option<(Duration, Observer)>,
    pub(super) on_panic: OnPanic,
    pub(super) invalid_utf8: InvalidUtf8,
    pub(super) resumable: Option<Resumable>,
    pub(super) shard: Option<ShardRange>,
    /// Whether the report carries the xxh64 of the output and rejects as stored.
    pub(super) digests: bool,
    pub(super) max_rejects: Option<RejectBudget>,
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

/// What a run over a [`ShardRange`] read, returned with its report (see
/// [`Pipeline::run_range`]): from its first record's start to just after its last record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RangeRead {
    /// Where its first record started (the range's `start`).
    pub start: u64,
    /// Just after its last record (= `start` when it read none).
    pub end: u64,
    /// Line breaks between `start` and `end`.
    pub lines: u64,
}

/// Where the report goes and how it is written: the builder's [`PipelineBuilder::report`]
/// and [`PipelineBuilder::report_json`].
pub(super) struct ReportTo {
    pub(super) sink: Sink,
    pub(super) json: ReportJson,
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
            rejects_format: RejectsFormat::Table,
            reasons: None,
            report: None,
            report_json: Box::new(bare_json),
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
            max_rejects: None,
        }
    }

    /// Fails the run when more records are rejected than `budget` allows
    /// ([`crate::Error::TooManyRejects`], report status `too-many-rejects`): nothing is committed. An
    /// absolute count stops the run as soon as it is passed (in input order, at the batch
    /// that passes it); a percentage of the records read is judged over the whole input,
    /// before the commit. Not for a shard (judge the merged counts instead).
    pub fn max_rejects(mut self, budget: RejectBudget) -> Self {
        self.max_rejects = Some(budget);
        self
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

    /// Where the report goes and how it is written, taken out of the settings (`None` without
    /// a report).
    pub(super) fn take_report(&mut self) -> Option<ReportTo> {
        let sink = self.report.take()?;
        let json = std::mem::replace(&mut self.report_json, Box::new(bare_json));
        Some(ReportTo { sink, json })
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

    /// How the rejects file holds the rejected records: a table of reasons (the default), or
    /// the records' bytes as read, in the input's format, with a CSV table header first when
    /// the input has one ([`RejectsFormat::Input`]): then the reasons go to a sidecar, beside
    /// a rejects file or object ([`crate::io::reasons_beside`]) unless
    /// [`PipelineBuilder::rejects_reasons`] names another place. A record too large to keep
    /// whole (`record-too-large`) is not in such a rejects file: its reason has no
    /// `rejects_line`. A resumable run keeps the reasons as it keeps the rejects (a partial
    /// file, in the checkpoint); a shard refuses it ([`crate::Error::Config`]): its rejects are
    /// tables that `weir merge` concatenates.
    pub fn rejects_format(mut self, format: RejectsFormat) -> Self {
        self.rejects_format = format;
        self
    }

    /// Where the reasons of input-format rejects go (CSV:
    /// `file,line,byte_offset,field,error,message,rejects_line`), committed with the output
    /// and the rejects; needed when the rejects go to standard output or a writer.
    pub fn rejects_reasons(mut self, sink: Sink) -> Self {
        self.reasons = Some(sink);
        self
    }

    /// Where the run's [`Report`](crate::Report) is written as JSON: a file or an object, committed together
    /// with the output and the rejects (all three appear, or none changes), or standard
    /// output. A run that fails or is stopped writes its report alone (its status says so),
    /// leaving the output and the rejects as they were; a usage error writes none.
    pub fn report(mut self, sink: Sink) -> Self {
        self.report = Some(sink);
        self
    }

    /// How the report is written: `json` makes the bytes of the report file from the report
    /// (by default the [`Report`] itself, pretty-printed, with a final newline), for a caller
    /// that wraps it in an envelope of its own. The `weir` command passes
    /// [`ShardReport::plain_json`](crate::shard::ShardReport::plain_json), so that a run's
    /// report has the layout of a sharded run's, with its `shard` and `merge` sections null.
    pub fn report_json(mut self, json: impl Fn(&Report) -> Vec<u8> + Send + 'static) -> Self {
        self.report_json = Box::new(json);
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

    /// Whether the outputs are synced to disk (`fsync`) before they are renamed into place;
    /// off by default, as in DuckDB and Polars.
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
    /// [`Error::Resume`](crate::Error::Resume) if not, truncates the partial files to the committed lengths and
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
    /// (`transform-panic`) or stops the run with [`Error::TransformPanic`](crate::Error::TransformPanic) naming the
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
    /// [`Report::values_replaced`](crate::Report::values_replaced). Never replaced silently.
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
pub(super) enum OutputChoice {
    Format(Format),
    Dialect(Dialect),
}

pub(super) fn resolve_dialect(cfg: &PipelineBuilder) -> Dialect {
    cfg.dialect.unwrap_or_else(|| {
        let format = match &cfg.source {
            Source::Path(p) => Format::from_path(&p.to_string_lossy()),
            Source::Url(url) => Format::from_path(url),
            _ => None,
        };
        Dialect::new(format.unwrap_or(Format::Csv))
    })
}

pub(super) fn resolve_output_dialect(cfg: &PipelineBuilder, input: &Dialect) -> Dialect {
    let format = match cfg.output {
        Some(OutputChoice::Dialect(d)) => return d,
        Some(OutputChoice::Format(f)) => Some(f),
        None => cfg
            .sink
            .location()
            .and_then(|place| Format::from_path(&place.to_string())),
    };
    Dialect::output_for(input, format.unwrap_or(input.format))
}

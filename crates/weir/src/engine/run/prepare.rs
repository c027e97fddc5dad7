//! Prepare, the run's first step: everything checked that can be before reading or writing
//! (the outputs' places, a resumable run's checkpoint, the destinations), the first input opened
//! and its prologue read, the chain bound to its columns. What the later steps need of it
//! travels in [`Prepared`].

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::checkpoint::{self, Resumable};

use crate::error::{Error, RejectBudget, Result, SourceName};
use crate::format::encode::check_columns;
use crate::format::parquet::ParquetLayout;
use crate::format::{Dialect, Format, InvalidUtf8, Ragged};
use crate::record::Columns;
use crate::report::{Progress, Report};
use crate::sink::{check_places, Place, RejectsFormat, Sink};
use crate::source::Source;
use crate::split::{Chunk, Oversized};
use crate::store::Location;
use crate::transform::{Chain, Gate, OnPanic, Transform};

use crate::engine::builder::{
    resolve_output_dialect, Observer, PipelineBuilder, ReportTo, ShardRange,
};
use crate::engine::prologue::{check_header_text, watch_prologue, Prologue, RawField};
use crate::engine::resume::{self, ResumeStart};
use crate::engine::splitter::{Chunking, RunSplitter};
use crate::engine::stop::StopHandle;

use super::report_member;
use crate::engine::worker::{WorkerSpec, REJECTS_HEADER};

/// What the steps after [`prepare`] read of the builder's settings.
pub(super) struct Settings {
    pub(super) workers: usize,
    /// Whether batches are taken in input order: asked for, or needed by ordered gates or by
    /// checkpoints (which record an input prefix).
    pub(super) ordered: bool,
    pub(super) durable: bool,
    pub(super) compression_level: Option<i32>,
    pub(super) digests: bool,
    pub(super) started: Instant,
    pub(super) deadline: Option<Instant>,
    pub(super) stop: StopHandle,
    pub(super) observer: Option<(Duration, Observer)>,
    pub(super) resumable: Option<Resumable>,
    pub(super) max_rejects: Option<RejectBudget>,
}

impl Settings {
    /// Takes what the later steps read of the builder's settings (its observer and resumable
    /// settings move here).
    fn take(cfg: &mut PipelineBuilder, started: Instant) -> Settings {
        Settings {
            workers: cfg.workers,
            ordered: cfg.ordered,
            durable: cfg.durable,
            compression_level: cfg.compression_level,
            digests: cfg.digests,
            started,
            deadline: cfg.timeout.map(|t| started + t),
            stop: cfg.stop.clone(),
            observer: cfg.observer.take(),
            resumable: cfg.resumable.take(),
            max_rejects: cfg.max_rejects,
        }
    }
}

/// Where the output and rejects go.
pub(super) struct Destinations {
    pub(super) sink: Sink,
    pub(super) rejects: Option<Sink>,
    /// What a fresh rejects file starts with: the table's header, or in the input's format
    /// the input's header line as read (nothing for an input without one).
    pub(super) rejects_header: Vec<u8>,
    /// Where the reasons of input-format rejects go.
    pub(super) reasons: Option<Sink>,
}

/// The first input, opened with its prologue read, and the inputs after it.
pub(super) struct Opening {
    /// Positioned after the header (or the first chunk, if read).
    pub(super) splitter: RunSplitter,
    /// The first data chunk, when the prologue read it to learn the columns.
    pub(super) first: Option<Chunk>,
    pub(super) more_sources: Vec<Source>,
    /// A shard's range of the first input.
    pub(super) shard: Option<ShardRange>,
}

/// A run once every check before writing has passed: its inputs open, its chain bound, no
/// output yet.
pub(super) struct Prepared {
    pub(super) settings: Settings,
    pub(super) destinations: Destinations,
    pub(super) opening: Opening,
    /// The header row's fields as read.
    pub(super) header_raw: Option<Vec<RawField>>,
    /// What a resumable run starts from.
    pub(super) resume: Option<ResumeStart>,
    /// A run that is not resumable replaces the output, and with it any resumable run's files.
    pub(super) stale: Option<checkpoint::Paths>,
    pub(super) progress: Arc<Progress>,
    /// The size of all the inputs, when each has one.
    pub(super) bytes_total: Option<u64>,
    pub(super) chunking: Chunking,
    /// The workers' settings, the bound chain and the columns.
    pub(super) spec: WorkerSpec,
    pub(super) gates: Vec<Gate>,
    /// For each gate, whether it is a head every written record passes.
    pub(super) bounding: Vec<bool>,
}

/// Checks what can be checked before reading or writing (the outputs, a resumable run's
/// checkpoint, the destinations), opens the first input and reads its prologue, and binds the
/// chain to its columns. `None` when a resumable run's output is complete already.
pub(super) fn prepare(
    mut cfg: PipelineBuilder,
    dialect: Dialect,
    started: Instant,
    report: &mut Report,
    report_to: Option<&ReportTo>,
) -> Result<Option<Prepared>> {
    let output_dialect = resolve_output_dialect(&cfg, &dialect);
    cfg.reasons = reasons_sink(&mut cfg)?;
    let (sink, rejects) = (&cfg.sink, cfg.rejects.as_ref());
    let report_sink = report_to.map(|to| &to.sink);
    let rejects_and_reasons: Vec<&Sink> = rejects.into_iter().chain(&cfg.reasons).collect();
    check_outputs(
        sink,
        &rejects_and_reasons,
        report_sink,
        &cfg.source,
        &cfg.more_sources,
    )?;
    // A resumable run checks its checkpoint before it reads or writes anything.
    let resume = match &cfg.resumable {
        Some(r) => {
            let start = prepare_resume(r, &cfg, &dialect, &output_dialect, report)?;
            if start.complete.is_some() {
                // Nothing left to read: the commit a crash cut short is ended, this run's
                // report with it.
                let member = report_member(report_to, report, started, cfg.durable)?;
                start.commit_finished(member, cfg.compression_level)?;
                tracing::info!("the output is complete: nothing to read");
                return Ok(None);
            }
            Some(start)
        }
        None => None,
    };
    let stale = check_destinations(sink, rejects, resume.is_some())?
        .map(|paths| paths.with_reasons(path_of(cfg.reasons.as_ref())));
    if let Some(r) = &cfg.reasons {
        r.check_destination()?;
    }
    let settings = Settings::take(&mut cfg, started);
    let chunking = Chunking {
        dialect,
        chunk_size: cfg.chunk_size,
        max_record_size: cfg.max_record_size,
        oversized: cfg.oversized,
    };
    let (mut source_names, bytes_total) = measure_inputs(&cfg.more_sources)?;
    source_names.insert(0, cfg.source.name());
    let progress = Arc::new(Progress::default());
    let (reader, first_size) = cfg.source.open_counted(&progress)?;
    let bytes_total = bytes_total.zip(first_size).map(|(a, b)| a + b);
    let splitter = chunking.splitter(reader, &progress, source_names[0].clone());
    let prologue = watch_prologue(splitter, dialect, settings.deadline, &settings.stop)?;
    tracing::info!(
        inputs = source_names.len(),
        format = %dialect.format,
        workers = settings.workers,
        chunk_size = cfg.chunk_size,
        ordered = settings.ordered,
        "run starts on {}",
        source_names[0]
    );
    tracing::debug!(columns = ?prologue.columns.names(), "input columns");
    // Bind the chain before any output exists: a usage error must leave nothing behind.
    let (chain, output_columns, gates) = bind_chain(
        cfg.chain,
        &prologue,
        &output_dialect,
        cfg.max_record_size,
        cfg.invalid_utf8,
        (cfg.shard.is_some(), cfg.max_rejects),
    )?;
    let bounding = chain.bounding_heads();
    // Gates decide in input order, so batches are taken in order when there are any.
    // A checkpoint records an input prefix, so resumable runs are ordered too.
    let mut settings = settings;
    settings.ordered |= !gates.is_empty() || resume.is_some();
    report.ordered = settings.ordered;
    // A Parquet output's column types are fixed before anything is written.
    let parquet = (output_dialect.format == Format::Parquet).then(|| {
        let fields = chain.typed_fields(&output_columns);
        Arc::new(ParquetLayout::new(&output_columns, fields))
    });
    let spec = WorkerSpec {
        dialect,
        output_dialect,
        input_columns: prologue.columns,
        output_columns,
        ragged: cfg.ragged,
        oversized: cfg.oversized,
        chain,
        source_names,
        max_record_size: cfg.max_record_size,
        parquet,
        on_panic: cfg.on_panic,
        invalid_utf8: cfg.invalid_utf8,
        rejects_format: cfg.rejects_format,
    };
    let rejects_header = match cfg.rejects_format {
        RejectsFormat::Input => prologue
            .header_line
            .map(|mut line| {
                line.push(b'\n');
                line
            })
            .unwrap_or_default(),
        _ => REJECTS_HEADER.to_vec(),
    };
    let opening = Opening {
        splitter: prologue.splitter,
        first: prologue.first,
        more_sources: cfg.more_sources,
        shard: cfg.shard,
    };
    Ok(Some(Prepared {
        settings,
        destinations: Destinations {
            sink: cfg.sink,
            rejects: cfg.rejects,
            rejects_header,
            reasons: cfg.reasons,
        },
        opening,
        header_raw: prologue.header_raw,
        resume,
        stale,
        progress,
        bytes_total,
        chunking,
        spec,
        gates,
        bounding,
    }))
}

/// Where the reasons of input-format rejects go: the place given, else beside the rejects.
/// Without rejects there is nothing to give reasons for (the rejects are counted, as a
/// table's would be); standard output or a writer has no place beside it, and shards keep
/// their rejects as tables (which `weir merge` concatenates): those are usage errors.
fn reasons_sink(cfg: &mut PipelineBuilder) -> Result<Option<Sink>> {
    if cfg.rejects_format != RejectsFormat::Input {
        return Ok(None);
    }
    let Some(rejects) = &cfg.rejects else {
        cfg.rejects_format = RejectsFormat::Table;
        return Ok(None);
    };
    if cfg.shard.is_some() || cfg.digests {
        return Err(Error::Config(
            "a shard keeps its rejects as a table, which `weir merge` concatenates: \
             --rejects-format input is for runs on one machine"
                .into(),
        ));
    }
    match cfg
        .reasons
        .take()
        .or_else(|| crate::sink::reasons_beside(rejects))
    {
        Some(reasons) => Ok(Some(reasons)),
        None => Err(Error::Config(format!(
            "rejects in the input's format go with a file of their reasons beside them, and \
             the rejects go to {}, which has none: give --rejects a file",
            rejects.name()
        ))),
    }
}

/// Finds a missing or read-only destination before any input is read. Returns the files of a
/// resumable run to the same output, which a run that is not resumable replaces.
fn check_destinations(
    sink: &Sink,
    rejects: Option<&Sink>,
    resumable: bool,
) -> Result<Option<checkpoint::Paths>> {
    sink.check_destination()?;
    if let Some(r) = rejects {
        r.check_destination()?;
    }
    Ok(match sink {
        Sink::Path(p) if !resumable => Some(checkpoint::Paths::new(p, path_of(rejects))),
        _ => None,
    })
}

/// A local file's path, if the sink is one.
fn path_of(sink: Option<&Sink>) -> Option<&Path> {
    match sink {
        Some(Sink::Path(p)) => Some(p.as_path()),
        _ => None,
    }
}

/// Before anything is read: finishes a crashed run's commit to the same output and removes
/// dead runs' temporary files beside the outputs, then refuses a run that would write over an
/// input or write two outputs to one file (see [`crate::sink::check_places`]).
fn check_outputs(
    sink: &Sink,
    rejects: &[&Sink],
    report: Option<&Sink>,
    source: &Source,
    more_sources: &[Source],
) -> Result<()> {
    // Where the output, the rejects and the report go, when a file or an object.
    let targets: Vec<Location> = std::iter::once(sink)
        .chain(rejects.iter().copied())
        .chain(report)
        .filter_map(Sink::location)
        .collect();
    // First, as the places are known by their files: putting back a crashed commit moves
    // files (a resumable run's rejects back to its partial file, which would otherwise look
    // like the same file as the rejects).
    crate::sink::recover(&targets)?;
    let mut writes = vec![Place::output("output", sink)];
    // The rejects, and the reasons of input-format rejects beside them.
    for (r, role) in rejects.iter().zip(["rejects", "rejects reasons"]) {
        writes.push(Place::output(role, r));
    }
    writes.extend(report.map(|r| Place::output("report", r)));
    for target in &targets {
        writes.push(Place::internal(
            "commit journal",
            &crate::sink::journal_for(target),
        ));
    }
    if let Sink::Path(out) = sink {
        let files = checkpoint::Paths::new(out, path_of(rejects.first().copied()))
            .with_reasons(path_of(rejects.get(1).copied()));
        writes.push(Place::internal("checkpoint", &files.checkpoint));
        writes.push(Place::internal("partial output", &files.output_partial));
        writes.push(Place::internal("key log", &files.gates));
        if let Some(p) = &files.rejects_partial {
            writes.push(Place::internal("partial rejects", p));
        }
        if let Some(p) = &files.reasons_partial {
            writes.push(Place::internal("partial rejects reasons", p));
        }
    }
    let reads: Vec<Place> = std::iter::once(source)
        .chain(more_sources)
        .map(Place::input)
        .collect();
    check_places(&reads, &writes)
}

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

/// The names of the inputs after the first, and the total size of all but the first (`None`
/// when one has no size, a pipe): every input must be there before anything is written.
fn measure_inputs(more_sources: &[Source]) -> Result<(Vec<SourceName>, Option<u64>)> {
    let mut source_names = Vec::with_capacity(more_sources.len() + 1);
    let mut bytes_total = Some(0u64);
    for more in more_sources {
        if let Source::Path(p) = more {
            let meta =
                std::fs::metadata(p).map_err(|e| crate::source::open_error(more.name(), e))?;
            if meta.is_dir() {
                let is_dir =
                    std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory");
                return Err(crate::source::open_error(more.name(), is_dir));
            }
            bytes_total = bytes_total.map(|t| t + meta.len());
        } else if let Source::Url(url) = more {
            let size = crate::source::object_size(url)?;
            bytes_total = bytes_total.map(|t| t + size);
        } else {
            bytes_total = None;
        }
        source_names.push(more.name());
    }
    Ok((source_names, bytes_total))
}

/// Binds the steps to the input's columns (names to positions, types, expressions), checks
/// that the output can hold what they make, and refuses ordered gates in a shard.
fn bind_chain(
    chain: Vec<Box<dyn Transform>>,
    prologue: &Prologue,
    output_dialect: &Dialect,
    max_record_size: usize,
    invalid_utf8: InvalidUtf8,
    (sharded, max_rejects): (bool, Option<RejectBudget>),
) -> Result<(Chain, Columns, Vec<Gate>)> {
    let mut chain = Chain::new(chain);
    chain.limit_values(max_record_size);
    let output_columns = if prologue.columns.is_empty() && prologue.first.is_none() {
        Columns::default() // empty input: nothing to bind against, nothing to write
    } else {
        let columns = chain.bind(&prologue.columns)?;
        // No columns known (no line of the first JSON Lines chunk is an object): every record
        // is rejected, there is nothing to check the output against.
        if !prologue.columns.is_empty() {
            check_columns(output_dialect, &columns).map_err(Error::Config)?;
        }
        check_header_text(output_dialect, prologue, &columns, invalid_utf8)?;
        columns
    };
    let gates = chain.gates();
    if sharded && max_rejects.is_some() {
        return Err(Error::Config(
            "a rejects budget is judged over the whole input, not a shard of it: check the \
             merged report's counts instead"
                .into(),
        ));
    }
    if sharded && !gates.is_empty() {
        return Err(Error::Config(
            "head, dedupe and a schema's unique or primaryKey decide over the whole input in \
             order, so they cannot run sharded: run them on the merged output"
                .into(),
        ));
    }
    Ok((chain, output_columns, gates))
}

/// A resumable run's start from its checkpoint, checked against this run's pipeline, inputs
/// and outputs; when the checkpoint counts every record (`complete`), the report is filled
/// from it and says so.
fn prepare_resume(
    resumable: &Resumable,
    cfg: &PipelineBuilder,
    dialect: &Dialect,
    output_dialect: &Dialect,
    report: &mut Report,
) -> Result<ResumeStart> {
    let identity = pipeline_identity(
        &cfg.chain,
        dialect,
        output_dialect,
        cfg.ragged,
        cfg.oversized,
        cfg.max_record_size,
        cfg.on_panic,
        cfg.invalid_utf8,
    );
    let sources: Vec<&Source> = std::iter::once(&cfg.source)
        .chain(&cfg.more_sources)
        .collect();
    let start = ResumeStart::prepare(
        resumable,
        &identity,
        &cfg.sink,
        (cfg.rejects.as_ref(), cfg.reasons.as_ref()),
        &sources,
        output_dialect.format,
    )?;
    let names: Vec<String> = sources.iter().map(|s| s.name().to_string()).collect();
    start.outcome(report, &names);
    if let Some(cp) = &start.complete {
        resume::fill_complete(report, cp);
    }
    Ok(start)
}

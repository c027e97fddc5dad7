//! One run, from the checks before reading to the commit, in steps that [`run_inner`] calls
//! in turn:
//!
//! - [`prepare`]: the checks before reading (outputs, a resumable run's checkpoint,
//!   destinations), the first input opened and its prologue read, the chain bound;
//! - [`choose_start`]: where the splitter starts (the beginning, a shard's range, a checkpoint);
//! - [`open_outputs`]: the output and rejects opened (or a resumable run's partial files);
//! - [`spawn`]: the slots, the queues and the threads;
//! - [`supervise`]: the caller's thread until the committer is done (time limit, stop, observer);
//! - [`finish`]: the threads joined into the report, the outputs committed with it.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::checkpoint::{self, Checkpoint, Resumable};
use crate::error::{Error, Result};
use crate::format::encode::{check_columns, Encoder};
use crate::format::parquet::{ParquetLayout, ParquetSink};
use crate::format::{Columns, Dialect, Format, InvalidUtf8, Ragged, ValueKind};
use crate::report::{Progress, Report, Status, WorkerReport};
use crate::sink::{check_places, Place, Sink, SinkWriter};
use crate::source::{Source, SourceName};
use crate::split::{Chunk, Oversized};
use crate::transform::{Chain, Gate, OnPanic, Transform};

use super::batch::Slot;
use super::builder::{resolve_output_dialect, Observer, PipelineBuilder, ShardRange};
use super::committer::{self, Boundary, Committer, Output};
use super::prologue::{check_header_text, watch_prologue, Prologue, RawField};
use super::resume::{self, ResumeStart};
use super::splitter::{Chunking, Inputs, RunSplitter};
use super::stop::{panic_message, StopHandle, StopState};
use super::worker::worker_loop;
use super::worker::{WorkerSpec, REJECTS_HEADER};

/// Sets a report's final status, time and rates (`error`: what stopped the run, if it did).
pub(super) fn finish_report(report: &mut Report, started: Instant, error: Option<&Error>) {
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
pub(super) fn sink_again(sink: &Sink) -> Result<Sink> {
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
pub(super) fn report_writer(sink: &Sink, report: &Report) -> Result<SinkWriter> {
    let mut json = serde_json::to_vec_pretty(report).expect("a report serialises");
    json.push(b'\n');
    let mut w = sink_again(sink)?.open()?;
    w.write_all(&json)?;
    Ok(w)
}

/// One run, step by step; see the module documentation. `Ok` with nothing committed only for
/// a resumable run whose output was complete already.
pub(super) fn run_inner(
    cfg: PipelineBuilder,
    dialect: Dialect,
    started: Instant,
    report: &mut Report,
    report_sink: Option<&Sink>,
) -> Result<()> {
    let Some(prepared) = prepare(cfg, dialect, started, report, report_sink)? else {
        return Ok(()); // a resumable run whose output is complete: nothing to do
    };
    let Prepared {
        mut settings,
        destinations,
        opening,
        header_raw,
        resume,
        stale,
        progress,
        bytes_total,
        chunking,
        spec,
        gates,
    } = prepared;
    let start = choose_start(opening, resume.as_ref(), chunking, &progress, &spec)?;
    let outputs = open_outputs(
        destinations,
        resume.as_ref(),
        &settings,
        start.bounds.fresh,
        header_raw.as_deref(),
        &spec,
    )?;
    let threads = spawn(
        &settings,
        spec,
        start.reading,
        outputs,
        &gates,
        resume,
        &progress,
    )?;
    supervise(&threads, &mut settings, &progress, bytes_total, report)?;
    finish(
        threads,
        &settings,
        &progress,
        start.bounds,
        report,
        report_sink,
    )?;
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

/// What the steps after [`prepare`] read of the builder's settings.
struct Settings {
    workers: usize,
    /// Whether batches are taken in input order: asked for, or needed by ordered gates or by
    /// checkpoints (which record an input prefix).
    ordered: bool,
    durable: bool,
    compression_level: Option<i32>,
    digests: bool,
    started: Instant,
    deadline: Option<Instant>,
    stop: StopHandle,
    observer: Option<(Duration, Observer)>,
    resumable: Option<Resumable>,
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
        }
    }
}

/// Where the output and rejects go.
struct Destinations {
    sink: Sink,
    rejects: Option<Sink>,
}

/// The first input, opened with its prologue read, and the inputs after it.
struct Opening {
    /// Positioned after the header (or the first chunk, if read).
    splitter: RunSplitter,
    /// The first data chunk, when the prologue read it to learn the columns.
    first: Option<Chunk>,
    more_sources: Vec<Source>,
    /// A shard's range of the first input.
    shard: Option<ShardRange>,
}

/// A run once every check before writing has passed: its inputs open, its chain bound, no
/// output yet.
struct Prepared {
    settings: Settings,
    destinations: Destinations,
    opening: Opening,
    /// The header row's fields as read.
    header_raw: Option<Vec<RawField>>,
    /// What a resumable run starts from.
    resume: Option<ResumeStart>,
    /// A run that is not resumable replaces the output, and with it any resumable run's files.
    stale: Option<checkpoint::Paths>,
    progress: Arc<Progress>,
    /// The size of all the inputs, when each has one.
    bytes_total: Option<u64>,
    chunking: Chunking,
    /// The workers' settings, the bound chain and the columns.
    spec: WorkerSpec,
    gates: Vec<Gate>,
}

/// Checks what can be checked before reading or writing (the outputs, a resumable run's
/// checkpoint, the destinations), opens the first input and reads its prologue, and binds the
/// chain to its columns. `None` when a resumable run's output is complete already.
fn prepare(
    mut cfg: PipelineBuilder,
    dialect: Dialect,
    started: Instant,
    report: &mut Report,
    report_sink: Option<&Sink>,
) -> Result<Option<Prepared>> {
    let output_dialect = resolve_output_dialect(&cfg, &dialect);
    let (sink, rejects) = (&cfg.sink, cfg.rejects.as_ref());
    check_outputs(sink, rejects, report_sink, &cfg.source, &cfg.more_sources)?;
    // A resumable run checks its checkpoint before it reads or writes anything.
    let resume = match &cfg.resumable {
        Some(r) => match prepare_resume(r, &cfg, &dialect, &output_dialect, report)? {
            Some(start) => Some(start),
            None => return Ok(None),
        },
        None => None,
    };
    let stale = check_destinations(sink, rejects, resume.is_some())?;
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
        cfg.shard.is_some(),
    )?;
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
    }))
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

/// Where the splitter starts, and the bounds of what the run reads for the report.
struct Start {
    reading: Reading,
    bounds: Bounds,
}

/// What the splitter thread reads: from `splitter`'s position (after `first`, when the
/// prologue read it), then `inputs`.
struct Reading {
    splitter: RunSplitter,
    first: Option<Chunk>,
    inputs: Inputs,
}

/// Where a run's reading starts, for the report.
#[derive(Clone, Copy)]
struct Bounds {
    /// Whether the run starts from the beginning (not from a checkpoint): it writes headers.
    fresh: bool,
    /// Where the data starts: what a fresh run without data chunks has read and committed.
    data_start: u64,
    /// A shard's first record.
    shard_start: Option<Boundary>,
}

/// Chooses where the splitter starts: the first input after its prologue, a shard's range,
/// or a resumed run's checkpoint (checked against the input's bytes before any output file is
/// touched).
fn choose_start(
    opening: Opening,
    resume: Option<&ResumeStart>,
    chunking: Chunking,
    progress: &Progress,
    spec: &WorkerSpec,
) -> Result<Start> {
    let names = &spec.source_names;
    let from = resume.and_then(|r| r.from.as_ref().map(|cp| (r, cp)));
    let shard_start = opening.shard.as_ref().map(|r| Boundary {
        offset: r.start,
        line: r.line,
    });
    // The inputs after the one the splitter starts in, that one's index and the offset of its
    // byte 0 in the whole stream.
    let inputs = |rest, first_index, first_base| Inputs {
        rest,
        first_index,
        first_base,
        header: spec.input_columns.clone(),
        chunking,
        first_name: names[0].clone(),
    };
    let reading = match (from, opening.shard) {
        (None, Some(range)) => {
            // A shard: the header came from the input's start; the records from its range.
            let mut splitter = chunking.splitter(range.reader, progress, names[0].clone());
            splitter.resume_at(range.start, range.line, 0);
            splitter.end_at(range.end);
            Reading {
                splitter,
                first: None,
                inputs: inputs(Vec::new(), 0, 0),
            }
        }
        (None, None) => Reading {
            splitter: opening.splitter,
            first: opening.first,
            inputs: inputs(opening.more_sources, 0, 0),
        },
        (Some((resume, cp)), _) => {
            let p = &cp.position;
            let splitter = resume_splitter(resume, cp, &chunking, progress, names)?;
            let rest = opening.more_sources.into_iter().skip(p.source).collect();
            Reading {
                splitter,
                first: None,
                inputs: inputs(rest, p.source, p.stream_offset - p.offset),
            }
        }
    };
    Ok(Start {
        bounds: Bounds {
            fresh: from.is_none(),
            data_start: reading.splitter.offset(),
            shard_start,
        },
        reading,
    })
}

/// Opens the output and the rejects: a fresh run's, or a resumable run's partial files cut
/// back to its checkpoint; a Parquet output wrapped to gather its rows. A `fresh` run (from
/// the beginning) writes the headers (`header_raw`: the input's header row as read, if any).
fn open_outputs(
    destinations: Destinations,
    resume: Option<&ResumeStart>,
    settings: &Settings,
    fresh: bool,
    header_raw: Option<&[RawField]>,
    spec: &WorkerSpec,
) -> Result<(Output, Option<SinkWriter>)> {
    let (mut out, rejects_out) = match resume {
        None => open_fresh(destinations, settings)?,
        Some(resume) => open_partials(resume, settings.compression_level, fresh)?,
    };
    if fresh {
        write_header(&mut out, header_raw, spec)?;
    }
    let out = match &spec.parquet {
        Some(layout) => Output::Parquet(Box::new(ParquetSink::new(out, layout)?)),
        None => Output::Bytes(out),
    };
    Ok((out, rejects_out))
}

/// A run's threads once spawned, and what the supervisor and [`finish`] need of them.
struct Threads {
    state: Arc<StopState>,
    /// Says when the splitter is done.
    splitter_done: Receiver<()>,
    workers: Vec<thread::JoinHandle<WorkerReport>>,
    /// The work queue, only for its length (the observer's queued chunks).
    work_probe: Receiver<Slot>,
    slots: usize,
    /// Joined, gives the committer back (to commit, or to report from).
    committer: thread::JoinHandle<Committer>,
    /// Says when the committer is done.
    committer_done: Receiver<()>,
}

/// Makes the slots and queues and starts the splitter, the workers and the committer (given
/// a resumable run's checkpointing).
fn spawn(
    settings: &Settings,
    spec: WorkerSpec,
    reading: Reading,
    (out, rejects_out): (Output, Option<SinkWriter>),
    gates: &[Gate],
    resume: Option<ResumeStart>,
    progress: &Arc<Progress>,
) -> Result<Threads> {
    let slots = settings.workers * 2 + 2;
    let state = Arc::new(StopState::new(settings.stop.clone()));
    let (pool_tx, pool_rx) = bounded::<Slot>(slots);
    for _ in 0..slots {
        pool_tx.send(Slot::default()).expect("pool has room");
    }
    let (work_tx, work_rx) = bounded::<Slot>(slots);
    let (commit_tx, commit_rx) = bounded::<Slot>(slots);
    let splitter_done = spawn_splitter(reading, (&pool_rx, &work_tx), &state, progress);
    drop(work_tx);
    let workers = spawn_workers(
        settings.workers,
        &spec,
        (&work_rx, &commit_tx),
        &state,
        progress,
    );
    drop(commit_tx);
    let mut committer = Committer::new(
        settings.ordered,
        out,
        rejects_out,
        pool_tx,
        progress.clone(),
        gates,
        spec.source_names.clone(),
    );
    if let Some(resume) = resume {
        resume_committer(&mut committer, &resume, settings.resumable.as_ref())?;
    }
    let (committer, committer_done) = spawn_committer(committer, commit_rx, &state);
    Ok(Threads {
        state,
        splitter_done,
        workers,
        work_probe: work_rx,
        slots,
        committer,
        committer_done,
    })
}

/// Once the committer is done: the threads joined into the report and, unless the run
/// stopped, the outputs committed with the report.
fn finish(
    threads: Threads,
    settings: &Settings,
    progress: &Progress,
    bounds: Bounds,
    report: &mut Report,
    report_sink: Option<&Sink>,
) -> Result<()> {
    let state = threads.state;
    let committer = match threads.committer.join() {
        Ok(c) => c,
        Err(p) => return Err(Error::Panic(panic_message(p))),
    };
    join_workers(threads.workers, &state, report);
    // The splitter may be blocked reading a pipe; it holds no output, so it is not waited for
    // beyond a moment once the run is over.
    let _ = threads
        .splitter_done
        .recv_timeout(Duration::from_millis(200));
    fill_report(report, &committer, progress, bounds);
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
        finish_report(&mut done, settings.started, None);
        let mut w = report_writer(r, &done)?;
        w.set_durable(settings.durable);
        Ok(Some(w))
    })
}

/// Before anything is read: finishes a crashed run's commit to the same output and removes
/// dead runs' temporary files beside the outputs, then refuses a run that would write over an
/// input or write two outputs to one file (see [`crate::sink::check_places`]).
pub(super) fn check_outputs(
    sink: &Sink,
    rejects: Option<&Sink>,
    report: Option<&Sink>,
    source: &Source,
    more_sources: &[Source],
) -> Result<()> {
    let mut writes = vec![Place::output("output", sink)];
    writes.extend(rejects.map(|r| Place::output("rejects", r)));
    writes.extend(report.map(|r| Place::output("report", r)));
    // Where the output, the rejects and the report go, when a file or an object.
    let targets: Vec<(PathBuf, bool)> = [Some(sink), rejects, report]
        .into_iter()
        .flatten()
        .filter_map(|s| match s {
            Sink::Path(p) => Some((p.clone(), false)),
            Sink::Url(u) => Some((PathBuf::from(u), true)),
            _ => None,
        })
        .collect();
    crate::sink::recover(&targets)?;
    for (path, object) in &targets {
        writes.push(Place::internal(
            "commit journal",
            &crate::sink::journal_for(path, *object),
        ));
    }
    if let (Sink::Path(_) | Sink::Url(_), Some((out, object))) = (sink, targets.first()) {
        let (out, object) = (out.as_path(), *object);
        if !object {
            let files = checkpoint::Paths::new(out, path_of(rejects));
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
pub(super) const COMMITTER_GRACE: Duration = Duration::from_secs(2);

/// How long a stopped run waits for its workers to finish the chunk in hand.
pub(super) const WORKER_GRACE: Duration = Duration::from_millis(500);

/// Everything in a pipeline that shapes its output, as text for a resumable run's identity:
/// each step with its description, the dialects and the record rules.
#[allow(clippy::too_many_arguments)]
pub(super) fn pipeline_identity(
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

/// Opens an output; a named pipe on its own thread, so that a stop request or the time limit
/// is acted on while it waits for a reader (opening a pipe for writing blocks until one
/// comes). An open still blocked after a stop is left behind: a pipe has no temporary file.
pub(super) fn open_watched(
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

/// The names of the inputs after the first, and the total size of all but the first (`None`
/// when one has no size, a pipe): every input must be there before anything is written.
fn measure_inputs(more_sources: &[Source]) -> Result<(Vec<SourceName>, Option<u64>)> {
    let mut source_names = Vec::with_capacity(more_sources.len() + 1);
    let mut bytes_total = Some(0u64);
    for more in more_sources {
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
    Ok((source_names, bytes_total))
}

/// The supervising loop, on the caller's thread until the committer is done: the time limit,
/// outside stop requests, the observer. After a stop, a committer stuck in a write is not
/// waited for beyond [`COMMITTER_GRACE`]: the stop is reported without it.
fn supervise(
    threads: &Threads,
    settings: &mut Settings,
    progress: &Progress,
    bytes_total: Option<u64>,
    report: &mut Report,
) -> Result<()> {
    let started = settings.started;
    let state = &threads.state;
    let mut next_observe = settings
        .observer
        .as_ref()
        .map(|(every, _)| started + *every);
    let mut stopped_at = None;
    loop {
        match threads
            .committer_done
            .recv_timeout(Duration::from_millis(50))
        {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        if settings.deadline.is_some_and(|d| now >= d) {
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
        if let (Some(at), Some((every, f))) = (next_observe, settings.observer.as_mut()) {
            if now >= at {
                progress
                    .queued_chunks
                    .store(threads.work_probe.len(), Ordering::Relaxed);
                let (slots, workers) = (threads.slots, settings.workers);
                f(&progress.snapshot(now - started, bytes_total, slots, workers));
                next_observe = Some(now + *every);
            }
        }
    }
    Ok(())
}

/// Joins the workers into the report. After a stop, a worker stuck in a transform that never
/// returns must not hold the run: workers hold no output (the committer, joined before, owns
/// the sinks), so one still busy after [`WORKER_GRACE`] is left behind, detached, and the stop
/// is reported at once.
fn join_workers(
    handles: Vec<thread::JoinHandle<WorkerReport>>,
    state: &StopState,
    report: &mut Report,
) {
    let grace_end = Instant::now() + WORKER_GRACE;
    for (id, h) in handles.into_iter().enumerate() {
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
}

/// The report's counts, bytes and stage times once the threads are done: a fresh run without
/// data chunks has read and committed up to where its data begins; a shard's bytes and lines
/// are those of its range.
fn fill_report(report: &mut Report, committer: &Committer, progress: &Progress, bounds: Bounds) {
    committer.fill_report(report);
    report.bytes_read = progress.bytes_read.load(Ordering::Relaxed);
    if let (0, true) = (report.chunks, bounds.fresh) {
        let data_start = bounds.data_start;
        // Only a header (or nothing): every record, of none, is committed after it.
        report.bytes_read = report.bytes_read.max(data_start);
        report.committed_offset = report.committed_offset.max(data_start);
    }
    if let Some(start) = bounds.shard_start {
        // Where the shard ended: after its last record (its start when it owned none).
        let end = committer.committed_end().unwrap_or(start);
        report.bytes_read = end.offset - start.offset;
        report.shard = Some(crate::shard::ShardInfo {
            start: start.offset,
            end: end.offset,
            lines: end.line - start.line,
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
}

/// Writes the output's header row (nothing for formats without one).
fn write_header(
    out: &mut SinkWriter,
    header_raw: Option<&[RawField]>,
    spec: &WorkerSpec,
) -> Result<()> {
    let input_columns = &spec.input_columns;
    let output_columns = &spec.output_columns;
    // Input columns keep the header's fields as read (bytes that are not UTF-8, a quoted
    // empty name), whatever the steps did to the other columns; new or renamed ones are
    // written as named.
    let raw = header_raw.map(|fields| {
        if output_columns == input_columns {
            return fields.to_vec();
        }
        // Each name's first input column, hashed once: a wide header stays linear.
        let mut first = std::collections::HashMap::with_capacity(input_columns.len());
        for (i, name) in input_columns.names().iter().enumerate() {
            first.entry(name.as_str()).or_insert(i);
        }
        output_columns
            .names()
            .iter()
            .map(|name| match first.get(name.as_str()) {
                Some(&i) => fields[i].clone(),
                None => (name.as_bytes().to_vec(), ValueKind::Text),
            })
            .collect::<Vec<_>>()
    });
    let mut header = Vec::new();
    Encoder::new(&spec.output_dialect, &spec.dialect, output_columns).header(
        &mut header,
        output_columns,
        raw.as_deref(),
    );
    if !header.is_empty() {
        out.write_all(&header)?;
    }
    Ok(())
}

/// Opens a fresh run's output and rejects (with the rejects' header).
fn open_fresh(
    Destinations { sink, rejects }: Destinations,
    settings: &Settings,
) -> Result<(SinkWriter, Option<SinkWriter>)> {
    let Settings {
        compression_level,
        durable,
        digests,
        deadline,
        ref stop,
        ..
    } = *settings;
    let mut out = open_watched(sink, compression_level, deadline, stop)?;
    out.set_durable(durable);
    if digests {
        out.keep_digest();
    }
    let rejects_out = match rejects {
        Some(s) => {
            let mut w = open_watched(s, compression_level, deadline, stop)?;
            w.set_durable(durable);
            if digests {
                w.keep_digest();
            }
            w.write_all(REJECTS_HEADER)?;
            Some(w)
        }
        None => None,
    };
    Ok((out, rejects_out))
}

/// What a checkpoint counts of one partial file.
#[derive(Clone, Copy)]
struct Kept<'a> {
    /// Its length as stored.
    len: u64,
    /// The bytes written to it before compression.
    written: u64,
    /// The xxh64 of what it stores, as hex.
    hash: &'a str,
}

/// Opens a resumable run's partial output and rejects, cut back to (and checked against) what
/// its checkpoint counts; the rejects' header for a fresh start.
fn open_partials(
    resume: &ResumeStart,
    compression_level: Option<i32>,
    fresh: bool,
) -> Result<(SinkWriter, Option<SinkWriter>)> {
    let cp = resume.from.as_ref();
    for target in std::iter::once(&resume.paths.output).chain(&resume.paths.rejects) {
        crate::sink::compression_for(target, compression_level)?;
    }
    // Each partial file keeps what the checkpoint counts, its digest checked: an edit inside
    // it is a refusal.
    let partial = |path: &PathBuf, target: &PathBuf, keep: Option<Kept<'_>>| {
        let (file, digest) = checkpoint::open_partial_verified(
            path,
            keep.map(|k| (k.len, k.hash)),
            &resume.paths.checkpoint,
        )?;
        let written = keep.map_or(0, |k| k.written);
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
        &resume.paths.output_partial,
        &resume.paths.output,
        cp.map(|c| Kept {
            len: c.output_len,
            written: c.output_written,
            hash: &c.output_hash,
        }),
    )?;
    let rejects_out = match (&resume.paths.rejects_partial, &resume.paths.rejects) {
        (Some(path), Some(target)) => {
            let mut w = partial(
                path,
                target,
                cp.map(|c| Kept {
                    len: c.rejects_len,
                    written: c.rejects_written,
                    hash: &c.rejects_hash,
                }),
            )?;
            if fresh {
                w.write_all(REJECTS_HEADER)?;
            }
            Some(w)
        }
        _ => None,
    };
    Ok((out, rejects_out))
}

/// Starts the splitter thread over `inputs` (the first chunk, if the prologue read it, goes
/// first); the returned channel says when it is done. A panic there (a bug) fails the run:
/// unwinding would drop the work queue's sender, which the workers and the committer take for
/// the input's end.
fn spawn_splitter(
    Reading {
        mut splitter,
        first,
        inputs,
    }: Reading,
    (pool_rx, work_tx): (&Receiver<Slot>, &Sender<Slot>),
    state: &Arc<StopState>,
    progress: &Arc<Progress>,
) -> Receiver<()> {
    let (split_done_tx, split_done_rx) = bounded::<()>(1);
    let state = state.clone();
    let progress = progress.clone();
    let pool_rx = pool_rx.clone();
    let work_tx = work_tx.clone();
    thread::Builder::new()
        .name("weir-splitter".into())
        .spawn(move || {
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
    split_done_rx
}

/// Starts `workers` worker threads, each with its own copy of the chain.
fn spawn_workers(
    workers: usize,
    spec: &WorkerSpec,
    (work_rx, commit_tx): (&Receiver<Slot>, &Sender<Slot>),
    state: &Arc<StopState>,
    progress: &Arc<Progress>,
) -> Vec<thread::JoinHandle<WorkerReport>> {
    (0..workers)
        .map(|id| {
            let rx = work_rx.clone();
            let tx = commit_tx.clone();
            let state = state.clone();
            let progress = progress.clone();
            let spec = spec.clone();
            thread::Builder::new()
                .name(format!("weir-worker-{id}"))
                .spawn(move || worker_loop(id, spec, &rx, &tx, &state, &progress))
                .expect("spawn worker")
        })
        .collect()
}

/// Gives a resumable run's committer its checkpointing: the key log of the gates reopened (and
/// checked), and what the checkpoint counts so far.
fn resume_committer(
    c: &mut Committer,
    resume: &ResumeStart,
    resumable: Option<&Resumable>,
) -> Result<()> {
    let cp = resume.from.as_ref();
    let (log, keys) = checkpoint::GateLog::open(
        &resume.paths.gates,
        cp.map(|c| (c.gates_len, c.gates_hash.as_str())),
        &resume.paths.checkpoint,
    )?;
    let every = resumable.map_or(Duration::ZERO, |r| r.every);
    let base = Checkpoint::new(
        resume.pipeline.clone(),
        resume.inputs.clone(),
        &resume.paths,
    );
    c.checkpointed(
        committer::Checkpointer {
            paths: resume.paths.clone(),
            base,
            every,
            last: Instant::now(),
            gates: log,
        },
        cp,
        keys,
    );
    Ok(())
}

/// Binds the steps to the input's columns (names to positions, types, expressions), checks
/// that the output can hold what they make, and refuses ordered gates in a shard.
fn bind_chain(
    chain: Vec<Box<dyn Transform>>,
    prologue: &Prologue,
    output_dialect: &Dialect,
    max_record_size: usize,
    invalid_utf8: InvalidUtf8,
    sharded: bool,
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
/// and outputs; `None` when the output is complete already (the report then says so, and
/// there is nothing to do).
fn prepare_resume(
    resumable: &Resumable,
    cfg: &PipelineBuilder,
    dialect: &Dialect,
    output_dialect: &Dialect,
    report: &mut Report,
) -> Result<Option<ResumeStart>> {
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
        cfg.rejects.as_ref(),
        &sources,
        output_dialect.format,
    )?;
    let names: Vec<String> = sources.iter().map(|s| s.name().to_string()).collect();
    start.outcome(report, &names);
    if let Some(cp) = &start.complete {
        resume::fill_complete(report, cp);
        tracing::info!("the output is complete: nothing to do");
        return Ok(None);
    }
    Ok(Some(start))
}

/// A resumed run's splitter, positioned at its checkpoint in the input it had reached (checked
/// against that input's bytes).
fn resume_splitter(
    resume: &ResumeStart,
    cp: &Checkpoint,
    chunking: &Chunking,
    progress: &Progress,
    source_names: &[SourceName],
) -> Result<RunSplitter> {
    let p = &cp.position;
    let before: u64 = resume.inputs[..p.source].iter().map(|i| i.size).sum();
    progress.source_bytes_read.store(before, Ordering::Relaxed);
    progress
        .bytes_read
        .store(p.stream_offset, Ordering::Relaxed);
    let reader = checkpoint::open_at(
        &resume.input_paths[p.source],
        p,
        &resume.paths.checkpoint,
        progress,
    )?;
    let mut splitter = chunking.splitter(reader, progress, source_names[p.source].clone());
    splitter.resume_at(p.offset, p.line, p.seq);
    tracing::info!(
        line = p.line,
        offset = p.offset,
        records = cp.counters.records_read,
        "resuming {} from the checkpoint",
        source_names[p.source]
    );
    Ok(splitter)
}

/// Starts the committer's thread; the returned channel says when it is done, and joining the
/// handle gives the committer back (to commit, or to report from).
fn spawn_committer(
    mut c: Committer,
    commit_rx: Receiver<Slot>,
    state: &Arc<StopState>,
) -> (thread::JoinHandle<Committer>, Receiver<()>) {
    let (done_tx, done_rx) = bounded::<()>(1);
    let state = state.clone();
    let handle = thread::Builder::new()
        .name("weir-committer".into())
        .spawn(move || {
            if let Err(e) = c.run(&commit_rx, &state) {
                state.fail(e);
            }
            let _ = done_tx.send(());
            c
        })
        .expect("spawn committer");
    (handle, done_rx)
}

//! One run, from the checks before reading to the commit: the outputs checked and opened,
//! the threads spawned and supervised, the report finished and committed with the outputs.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::checkpoint::{self, Checkpoint, Resumable};
use crate::error::{Error, Result, SourceName};
use crate::format::encode::{check_columns, Encoder};
use crate::format::parquet::{ParquetLayout, ParquetSink};
use crate::format::{Dialect, Format, InvalidUtf8, Ragged};
use crate::record::{Columns, ValueKind};
use crate::report::{Progress, Report, Status, WorkerReport};
use crate::sink::{check_places, Place, Sink, SinkWriter};
use crate::source::Source;
use crate::split::{Chunk, Oversized};
use crate::transform::{Chain, Gate, OnPanic, Transform};

use super::builder::{resolve_output_dialect, PipelineBuilder};
use super::committer::{self, Committer, Output};
use super::prologue::{check_header_text, watch_prologue, Prologue};
use super::resume;
use super::splitter::{Chunking, Inputs, RunSplitter};
use super::stop::{StopHandle, StopState};
use super::worker::{worker_loop, WorkerSpec, REJECTS_HEADER};
use super::Slot;

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

/// The report of a run that succeeds, in an opened writer to commit with the outputs.
fn report_member(
    sink: Option<&Sink>,
    report: &Report,
    started: Instant,
    durable: bool,
) -> Result<Option<SinkWriter>> {
    let Some(sink) = sink else {
        return Ok(None);
    };
    let mut done = report.clone();
    finish_report(&mut done, started, None);
    let mut w = report_writer(sink, &done)?;
    w.set_durable(durable);
    Ok(Some(w))
}

pub(super) fn run_inner(
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
            let plan = prepare_resume(
                r,
                &identity,
                (&sink, rejects.as_ref()),
                &sources,
                &output_dialect,
                report,
            )?;
            if plan.complete.is_some() {
                // Nothing left to read: the commit a crash cut short is ended, this run's
                // report with it.
                let member = report_member(report_sink, report, started, durable)?;
                plan.commit_finished(member, compression_level)?;
                tracing::info!("the output is complete: nothing to read");
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
    let (mut source_names, mut bytes_total) = measure_inputs(&more_sources)?;
    source_names.insert(0, source_name.clone());
    let progress = Arc::new(Progress::default());
    let (reader, first_size) = source.open_counted(&progress)?;
    bytes_total = bytes_total.zip(first_size).map(|(a, b)| a + b);
    let chunking = Chunking {
        dialect,
        chunk_size,
        max_record_size,
        oversized,
    };
    let splitter = chunking.splitter(reader, &progress, source_name.clone());
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
    let (chain, output_columns, gates) = bind_chain(
        chain,
        &prologue,
        &output_dialect,
        max_record_size,
        invalid_utf8,
        shard.is_some(),
    )?;
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
    let (splitter, first, rest, first_index, first_base) = match (from, shard) {
        (None, Some(range)) => {
            // A shard: the header came from the input's start; the records from its range.
            let mut splitter = chunking.splitter(range.reader, &progress, source_name.clone());
            splitter.resume_at(range.start, range.line, 0);
            splitter.end_at(range.end);
            (splitter, None, Vec::new(), 0, 0)
        }
        (None, None) => (prologue.splitter, prologue.first, more_sources, 0, 0),
        (Some((plan, cp)), _) => {
            let (splitter, rest, index, base) =
                resume_splitter(plan, cp, &chunking, &progress, &source_names, more_sources)?;
            (splitter, None, rest, index, base)
        }
    };
    let fresh = from.is_none();
    // Where the data starts: what a run without data chunks has read (and committed).
    let data_start = splitter.offset();
    let (mut out, mut rejects_out) = match &resume {
        None => open_outputs(
            (sink, rejects),
            compression_level,
            durable,
            digests,
            deadline,
            &stop,
        )?,
        Some(plan) => open_partials(plan, compression_level, fresh)?,
    };
    if fresh {
        write_header(
            &mut out,
            (prologue.header_raw.as_deref(), &prologue.columns),
            &output_columns,
            &output_dialect,
            &dialect,
        )?;
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

    let split_done_rx = spawn_splitter(
        splitter,
        first,
        Inputs {
            rest,
            first_index,
            first_base,
            header: prologue.columns.clone(),
            chunking,
            first_name: source_name,
        },
        (&pool_rx, &work_tx),
        &state,
        &progress,
    );
    drop(work_tx);

    let worker_handles = spawn_workers(workers, &spec, (&work_rx, &commit_tx), &state, &progress);
    drop(commit_tx);
    let work_probe = work_rx;

    let mut committer = Committer::new(
        ordered,
        out,
        rejects_out.take(),
        pool_tx,
        progress.clone(),
        &gates,
        source_names.clone(),
    );
    if let Some(plan) = resume {
        resume_committer(&mut committer, &plan, resumable.as_ref())?;
    }
    let (committer, done_rx) = spawn_committer(committer, commit_rx, &state);

    supervise(
        &done_rx,
        deadline,
        &state,
        observer.as_mut(),
        started,
        &progress,
        (&work_probe, slots, workers, bytes_total),
        report,
    )?;

    let committer = match committer.join() {
        Ok(c) => c,
        Err(p) => return Err(Error::Panic(panic_message(p))),
    };
    join_workers(worker_handles, &state, report);
    // The splitter may be blocked reading a pipe; it holds no output, so it is not waited for
    // beyond a moment once the run is over.
    let _ = split_done_rx.recv_timeout(Duration::from_millis(200));

    fill_report(
        report,
        &committer,
        &progress,
        fresh.then_some(data_start),
        shard_start,
    );
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
        report_member(report_sink, report, started, durable)
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
pub(super) fn check_outputs(
    sink: &Sink,
    rejects: Option<&Sink>,
    report: Option<&Sink>,
    source: &Source,
    more_sources: &[Source],
) -> Result<()> {
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
    // First, as the places are known by their files: putting back a crashed commit moves
    // files (a resumable run's rejects back to its partial file, which would otherwise look
    // like the same file as the rejects).
    crate::sink::recover(&targets)?;
    let mut writes = vec![Place::output("output", sink)];
    writes.extend(rejects.map(|r| Place::output("rejects", r)));
    writes.extend(report.map(|r| Place::output("report", r)));
    for (path, object) in &targets {
        writes.push(Place::internal(
            "commit journal",
            &crate::sink::journal_for(path, *object),
        ));
    }
    if let (Sink::Path(_) | Sink::Url(_), Some((out, object))) = (sink, targets.first()) {
        let (out, object) = (out.as_path(), *object);
        if !object {
            let rejects = match rejects {
                Some(Sink::Path(r)) => Some(r.as_path()),
                _ => None,
            };
            let files = checkpoint::Paths::new(out, rejects);
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

pub(super) fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
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
#[allow(clippy::too_many_arguments)]
fn supervise(
    done_rx: &Receiver<()>,
    deadline: Option<Instant>,
    state: &StopState,
    mut observer: Option<&mut (Duration, super::Observer)>,
    started: Instant,
    progress: &Progress,
    (work_probe, slots, workers, bytes_total): (&Receiver<Slot>, usize, usize, Option<u64>),
    report: &mut Report,
) -> Result<()> {
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
        if let (Some(at), Some((every, f))) = (next_observe, observer.as_deref_mut()) {
            if now >= at {
                progress
                    .queued_chunks
                    .store(work_probe.len(), Ordering::Relaxed);
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

/// The report's counts, bytes and stage times once the threads are done: a run without data
/// chunks has read and committed up to `data_start` (a fresh run's, where its data begins); a
/// shard's bytes and lines are those of its range.
fn fill_report(
    report: &mut Report,
    committer: &Committer,
    progress: &Progress,
    data_start: Option<u64>,
    shard_start: Option<(u64, u64)>,
) {
    committer.fill_report(report);
    report.bytes_read = progress.bytes_read.load(Ordering::Relaxed);
    if let (0, Some(data_start)) = (report.chunks, data_start) {
        // Only a header (or nothing): every record, of none, is committed after it.
        report.bytes_read = report.bytes_read.max(data_start);
        report.committed_offset = report.committed_offset.max(data_start);
    }
    if let Some((start, line)) = shard_start {
        // Where the shard ended: after its last record (its start when it owned none).
        let (end, end_line) = committer.committed_end().unwrap_or((start, line));
        report.bytes_read = end - start;
        report.shard = Some(crate::report::ShardInfo {
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
}

/// A header field as read: its bytes and how it was quoted.
type RawField = (Vec<u8>, ValueKind);

/// Writes the output's header row (nothing for formats without one).
fn write_header(
    out: &mut SinkWriter,
    (header_raw, input_columns): (Option<&[RawField]>, &Columns),
    output_columns: &Columns,
    output_dialect: &Dialect,
    dialect: &Dialect,
) -> Result<()> {
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
    Encoder::new(output_dialect, dialect, output_columns).header(
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
fn open_outputs(
    (sink, rejects): (Sink, Option<Sink>),
    compression_level: Option<i32>,
    durable: bool,
    digests: bool,
    deadline: Option<Instant>,
    stop: &StopHandle,
) -> Result<(SinkWriter, Option<SinkWriter>)> {
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

/// Opens a resumable run's partial output and rejects, cut back to (and checked against) what
/// its checkpoint counts; the rejects' header for a fresh start.
fn open_partials(
    plan: &resume::ResumePlan,
    compression_level: Option<i32>,
    fresh: bool,
) -> Result<(SinkWriter, Option<SinkWriter>)> {
    let cp = plan.from.as_ref();
    for target in std::iter::once(&plan.paths.output).chain(&plan.paths.rejects) {
        crate::sink::compression_for(target, compression_level)?;
    }
    // Each partial file keeps what the checkpoint counts (its length as stored, and
    // the bytes written before compression,
    // and the digest of what it keeps, checked: an edit inside it is a refusal).
    let partial = |path: &PathBuf, target: &PathBuf, keep: Option<(u64, u64, &str)>| {
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
    Ok((out, rejects_out))
}

/// Starts the splitter thread over `inputs` (the first chunk, if the prologue read it, goes
/// first); the returned channel says when it is done. A panic there (a bug) fails the run:
/// unwinding would drop the work queue's sender, which the workers and the committer take for
/// the input's end.
fn spawn_splitter(
    mut splitter: RunSplitter,
    first: Option<Chunk>,
    inputs: Inputs,
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
    plan: &resume::ResumePlan,
    resumable: Option<&Resumable>,
) -> Result<()> {
    let cp = plan.from.as_ref();
    let (log, keys) = checkpoint::GateLog::open(
        &plan.paths.gates,
        cp.map(|c| (c.gates_len, c.gates_hash.as_str())),
        &plan.paths.checkpoint,
    )?;
    let every = resumable.map_or(Duration::ZERO, |r| r.every);
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

/// A resumable run's plan from its checkpoint; when the checkpoint counts every record
/// (`complete`), the report is filled from it and says so.
fn prepare_resume(
    resumable: &Resumable,
    identity: &str,
    (sink, rejects): (&Sink, Option<&Sink>),
    sources: &[&Source],
    output_dialect: &Dialect,
    report: &mut Report,
) -> Result<resume::ResumePlan> {
    let plan = resume::ResumePlan::prepare(
        resumable,
        identity,
        sink,
        rejects,
        sources,
        output_dialect.format,
    )?;
    let names: Vec<String> = sources.iter().map(|s| s.name().to_string()).collect();
    plan.outcome(report, &names);
    if let Some(cp) = &plan.complete {
        resume::fill_complete(report, cp);
    }
    Ok(plan)
}

/// A resumed run's splitter, positioned at its checkpoint in the input it had reached (checked
/// against that input's bytes), and the inputs after it, that input's index and the offset of
/// its byte 0 in the whole stream.
fn resume_splitter(
    plan: &resume::ResumePlan,
    cp: &Checkpoint,
    chunking: &Chunking,
    progress: &Progress,
    source_names: &[SourceName],
    more_sources: Vec<Source>,
) -> Result<(RunSplitter, Vec<Source>, usize, u64)> {
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
        progress,
    )?;
    let mut splitter = chunking.splitter(reader, progress, source_names[p.source].clone());
    splitter.resume_at(p.offset, p.line, p.seq);
    tracing::info!(
        line = p.line,
        offset = p.offset,
        records = cp.counters.read,
        "resuming {} from the checkpoint",
        source_names[p.source]
    );
    let rest = more_sources.into_iter().skip(p.source).collect();
    Ok((splitter, rest, p.source, p.stream_offset - p.offset))
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

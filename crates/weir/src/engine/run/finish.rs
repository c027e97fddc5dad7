//! Finish: the threads joined into the report and, unless the run stopped, the outputs
//! committed together with the report; a run over a range says what it read.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::report::{Progress, Report};

use crate::engine::builder::{RangeRead, ReportTo};
use crate::engine::committer::Committer;
use crate::engine::stop::panic_message;

use super::prepare::Settings;
use super::report_member;
use super::start::Bounds;
use super::threads::{join_workers, Threads};

/// Once the committer is done: the threads joined into the report and, unless the run
/// stopped, the outputs committed with the report. For a run over a range, what it read.
pub(super) fn finish(
    threads: Threads,
    settings: &Settings,
    progress: &Progress,
    bounds: Bounds,
    report: &mut Report,
    report_to: Option<&ReportTo>,
) -> Result<Option<RangeRead>> {
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
    let range = fill_report(report, &committer, progress, bounds);
    if let Some(e) = state.take_error() {
        tracing::info!(error = %e, "run stopped; nothing committed");
        return Err(e);
    }
    // A percentage of rejects is judged over the whole input, so only here.
    committer.check_budget(true)?;
    // The report is committed with the outputs, so it is made once they are finished (their
    // digests known) and before any is renamed.
    committer.commit(|output_digest, rejects_digest| {
        let hex = |d: u64| format!("{d:016x}");
        report.output_digest = output_digest.map(hex);
        report.rejects_digest = rejects_digest.map(hex);
        report_member(report_to, report, settings.started, settings.durable)
    })?;
    Ok(range)
}

/// The report's counts, bytes and stage times once the threads are done: a fresh run without
/// data chunks has read and committed up to where its data begins; a run over a range read
/// the bytes of its records, and returns where they start and end.
fn fill_report(
    report: &mut Report,
    committer: &Committer,
    progress: &Progress,
    bounds: Bounds,
) -> Option<RangeRead> {
    committer.fill_report(report);
    // A run that ended early read as far as the chunk that ended it, whatever the splitter
    // read ahead of it, so that its report is a serial run's.
    report.bytes_read =
        (committer.early_end()).unwrap_or_else(|| progress.bytes_read.load(Ordering::Relaxed));
    if let (0, true) = (report.chunks, bounds.fresh) {
        let data_start = bounds.data_start;
        // Only a header (or nothing): every record, of none, is committed after it.
        report.bytes_read = report.bytes_read.max(data_start);
        report.committed_offset = report.committed_offset.max(data_start);
    }
    let range = bounds.range_start.map(|start| {
        // Where the range's reading ended: after its last record (its start without one).
        let end = committer.committed_end().unwrap_or(start);
        report.bytes_read = end.offset - start.offset;
        RangeRead {
            start: start.offset,
            end: end.offset,
            lines: end.line - start.line,
        }
    });
    report.compressed_bytes_read = progress
        .source_compressed
        .load(Ordering::Relaxed)
        .then(|| progress.source_bytes_read.load(Ordering::Relaxed));
    let read = progress.read_nanos.load(Ordering::Relaxed);
    let split = progress.split_nanos.load(Ordering::Relaxed);
    report.stages.splitter.read_seconds = read as f64 * 1e-9;
    // Reads made for the header happen outside `split_nanos`; never show a negative scan.
    report.stages.splitter.scan_seconds = split.saturating_sub(read) as f64 * 1e-9;
    range
}

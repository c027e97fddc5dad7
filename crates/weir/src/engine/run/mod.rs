//! One run, from the checks before reading to the commit, in steps that [`run_inner`] calls
//! in turn, a file each:
//!
//! - `prepare`: the checks before reading (outputs, a resumable run's checkpoint,
//!   destinations), the first input opened and its prologue read, the chain bound;
//! - `start` (`choose_start`): where the splitter starts (the beginning, a shard's range, a
//!   checkpoint);
//! - `outputs` (`open_outputs`): the output and rejects opened (or a resumable run's partial
//!   files);
//! - `threads` (`spawn`, `supervise`): the slots, the queues and the threads; the caller's
//!   thread until the committer is done (time limit, stop, observer);
//! - `finish`: the threads joined into the report, the outputs committed with it.
//!
//! What travels between the steps is in small structs: `Prepared` (with `Settings`,
//! `Destinations` and `Opening`), `Start` (a `Reading` and its report `Bounds`), `Threads`.

mod finish;
mod outputs;
mod prepare;
mod start;
mod threads;

use std::time::Instant;

use crate::error::{Error, Result};
use crate::format::Dialect;
use crate::report::{Report, Status};
use crate::sink::{Sink, SinkWriter};

use crate::engine::builder::{PipelineBuilder, RangeRead, ReportTo};

use finish::finish;
use outputs::{open_outputs, open_reasons};
use prepare::{prepare, Prepared};
use start::choose_start;
use threads::{spawn, supervise};

/// Sets a report's final status, time and rates (`error`: what stopped the run, if it did).
pub(super) fn finish_report(report: &mut Report, started: Instant, error: Option<&Error>) {
    report.status = match error {
        None => Status::Succeeded,
        Some(Error::BrokenPipe) => Status::OutputClosed,
        Some(Error::Stopped(crate::StopReason::Interrupted)) => Status::Interrupted,
        Some(Error::Stopped(crate::StopReason::Terminated)) => Status::Terminated,
        Some(Error::Stopped(crate::StopReason::TimedOut)) => Status::TimedOut,
        Some(Error::TooManyRejects(_)) => Status::TooManyRejects,
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

/// The report of a run that succeeds, in an opened writer to commit with the outputs.
pub(super) fn report_member(
    to: Option<&ReportTo>,
    report: &Report,
    started: Instant,
    durable: bool,
) -> Result<Option<SinkWriter>> {
    let Some(to) = to else {
        return Ok(None);
    };
    let mut done = report.clone();
    finish_report(&mut done, started, None);
    let mut w = report_writer(to, &done)?;
    w.set_durable(durable);
    Ok(Some(w))
}

/// The report's file, as the builder says to write it, in an opened (uncommitted) writer.
pub(super) fn report_writer(to: &ReportTo, report: &Report) -> Result<SinkWriter> {
    let json = (to.json)(report);
    let mut w = sink_again(&to.sink)?.open()?;
    w.write_all(&json)?;
    Ok(w)
}

/// One run, step by step; see the module documentation. `Ok` with nothing committed only for
/// a resumable run whose output was complete already. A run over a range says what it read.
pub(super) fn run_inner(
    cfg: PipelineBuilder,
    dialect: Dialect,
    started: Instant,
    report: &mut Report,
    report_to: Option<&ReportTo>,
) -> Result<Option<RangeRead>> {
    let Some(prepared) = prepare(cfg, dialect, started, report, report_to)? else {
        return Ok(None); // a resumable run whose output is complete: nothing to do
    };
    let Prepared {
        mut settings,
        mut destinations,
        opening,
        header_raw,
        resume,
        stale,
        progress,
        bytes_total,
        chunking,
        spec,
        gates,
        bounding,
    } = prepared;
    let start = choose_start(opening, resume.as_ref(), chunking, &progress, &spec)?;
    let reasons = destinations.reasons.take();
    let header = &destinations.rejects_header;
    let fresh = start.bounds.fresh;
    let reasons = open_reasons(reasons, header, &settings, resume.as_ref(), fresh)?;
    let (out, rejects_out) = open_outputs(
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
        (out, rejects_out, reasons),
        (&gates, &bounding),
        resume,
        &progress,
    )?;
    supervise(&threads, &mut settings, &progress, bytes_total, report)?;
    let range = finish(
        threads,
        &settings,
        &progress,
        start.bounds,
        report,
        report_to,
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
    Ok(range)
}

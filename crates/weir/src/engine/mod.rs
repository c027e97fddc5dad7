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
//!
//! One file a stage: `builder` (every setting and its default), `explain` (what a pipeline will
//! do, without a run), `prologue` (the header and the columns, before any output exists;
//! `sample`), `splitter` (the splitter thread), `worker` (a worker and its loop), `batch` (the
//! slot and the batch a worker hands the committer), `gate` (the ordered gates `head`,
//! `dedupe` and `unique`, a file each), `committer` (the only writer: order, checkpoints, the
//! commit), `run` (one run, a file a step: prepare, choose the start, open the outputs, spawn
//! and supervise the threads, finish); beside them `stop` (the stop handle), `resume`
//! (checkpoints read back), `keys` (the gates' key tables) and `timed` (read timing). Siblings
//! import one way (`contrib/tools/module_cycles.py --children`).

mod batch;
mod builder;
mod committer;
mod explain;
mod gate;
mod keys;
mod prologue;
mod resume;
mod run;
mod splitter;
mod stop;
mod timed;
mod worker;

pub use builder::{Observer, PipelineBuilder};
pub use explain::{Explain, ExplainStep};
pub use prologue::sample;
pub use stop::StopHandle;
pub use worker::REJECTS_HEADER;

pub(crate) use builder::{RangeRead, ShardRange};
pub(crate) use prologue::read_header;

use std::time::Instant;

use crate::error::Error;
use crate::format::Dialect;
use crate::report::Report;
use crate::sink::{Sink, SinkWriter};

use builder::{resolve_dialect, resolve_output_dialect};
use run::{finish_report, report_writer, run_inner};

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

/// `?` on [`Pipeline::run`] in a function returning [`crate::Result`]: the error, without the
/// partial report (keep the [`Failure`] to read that).
impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        failure.error
    }
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

    /// Runs the pipeline to the end, or until it is stopped or fails.
    pub fn run(self) -> std::result::Result<Report, Failure> {
        self.run_range().map(|(report, _)| report)
    }

    /// Runs the pipeline; a run over a [`ShardRange`] also says what it read (`None` for other
    /// runs).
    pub(crate) fn run_range(self) -> std::result::Result<(Report, Option<RangeRead>), Failure> {
        let started = Instant::now();
        let mut cfg = self.cfg;
        let report_to = cfg.take_report();
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
        match run_inner(cfg, dialect, started, &mut report, report_to.as_ref()) {
            Ok(range) => {
                finish_report(&mut report, started, None);
                Ok((report, range))
            }
            Err(error) => {
                finish_report(&mut report, started, Some(&error));
                let error = match report_to.as_ref().filter(|_| !error.is_usage()) {
                    // The report of a run that committed nothing, written alone.
                    Some(to) => match report_writer(to, &report).and_then(SinkWriter::commit) {
                        Ok(()) => error,
                        // A closed stdout is a quiet success to the CLI: a report that could
                        // not be written must not be lost with it.
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

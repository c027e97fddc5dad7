//! Choose the start: where the splitter begins reading (the first input after its prologue, a
//! shard's range, or a resumed run's checkpoint), and what the report needs of that.

use std::sync::atomic::Ordering;

use crate::checkpoint::{self, Checkpoint};
use crate::error::Result;
use crate::error::SourceName;
use crate::report::Progress;
use crate::split::Chunk;

use crate::engine::committer::Boundary;
use crate::engine::resume::ResumeStart;
use crate::engine::splitter::{Chunking, Inputs, RunSplitter};
use crate::engine::worker::WorkerSpec;

use super::prepare::Opening;

/// Where the splitter starts, and the bounds of what the run reads for the report.
pub(super) struct Start {
    pub(super) reading: Reading,
    pub(super) bounds: Bounds,
}

/// What the splitter thread reads: from `splitter`'s position (after `first`, when the
/// prologue read it), then `inputs`.
pub(super) struct Reading {
    pub(super) splitter: RunSplitter,
    pub(super) first: Option<Chunk>,
    pub(super) inputs: Inputs,
}

/// Where a run's reading starts, for the report.
#[derive(Clone, Copy)]
pub(super) struct Bounds {
    /// Whether the run starts from the beginning (not from a checkpoint): it writes headers.
    pub(super) fresh: bool,
    /// Where the data starts: what a fresh run without data chunks has read and committed.
    pub(super) data_start: u64,
    /// The first record of a run over a range (a shard's).
    pub(super) range_start: Option<Boundary>,
}

/// Chooses where the splitter starts: the first input after its prologue, a shard's range,
/// or a resumed run's checkpoint (checked against the input's bytes before any output file is
/// touched).
pub(super) fn choose_start(
    opening: Opening,
    resume: Option<&ResumeStart>,
    chunking: Chunking,
    progress: &Progress,
    spec: &WorkerSpec,
) -> Result<Start> {
    let names = &spec.source_names;
    let from = resume.and_then(|r| r.from.as_ref().map(|cp| (r, cp)));
    let range_start = opening.shard.as_ref().map(|r| Boundary {
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
            range_start,
        },
        reading,
    })
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
    // Opening at the checkpoint counted the stored bytes it skipped.
    let skipped = progress.source_bytes_read.load(Ordering::Relaxed);
    progress
        .resumed_source_bytes
        .store(skipped, Ordering::Relaxed);
    progress
        .resumed_records
        .store(cp.counters.records_read, Ordering::Relaxed);
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

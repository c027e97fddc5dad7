//! Counters while running, and the report at the end.
//!
//! A run's report file is [`Report`]'s JSON, unless the run's caller wraps it in a layout of
//! its own ([`PipelineBuilder::report_json`](crate::PipelineBuilder::report_json)); this module
//! knows nothing of who does.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Live counters, written by the stages and only read by observers.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes the splitter has read from the input.
    pub bytes_read: AtomicU64,
    /// Bytes of the input as stored that have been consumed: the compressed bytes the decoder
    /// has taken for compressed input, as many as the splitter read for plain input. Shared
    /// with the source's readers (hence the `Arc`), which count into it.
    pub source_bytes_read: Arc<AtomicU64>,
    /// Whether an input turned out to be compressed (known once its first bytes are read).
    pub source_compressed: Arc<AtomicBool>,
    /// A resumed run: the bytes of the input as stored before its checkpoint, which it did
    /// not read (0 otherwise), so rates count only what this run read.
    pub resumed_source_bytes: AtomicU64,
    /// A resumed run: the records its checkpoint had committed (0 otherwise).
    pub resumed_records: AtomicU64,
    /// Records committed so far, by outcome.
    pub records_read: AtomicU64,
    /// Records written.
    pub records_written: AtomicU64,
    /// Records filtered out.
    pub records_filtered: AtomicU64,
    /// Records rejected.
    pub records_rejected: AtomicU64,
    /// Workers processing a chunk right now.
    pub busy_workers: AtomicUsize,
    /// Chunks waiting for a worker.
    pub queued_chunks: AtomicUsize,
    /// Nanoseconds the splitter spent cutting chunks (reading and scanning).
    pub split_nanos: AtomicU64,
    /// Nanoseconds spent inside the source's reads (including decompression).
    /// (Shared with the timed readers, which outlive no run but are built before it starts.)
    pub read_nanos: Arc<AtomicU64>,
}

/// One observation of a running pipeline, handed to the observer callback.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// Time since the run started.
    pub elapsed_seconds: f64,
    /// Bytes read from the input.
    pub bytes_read: u64,
    /// Bytes of the input as stored consumed so far (compressed bytes for compressed input,
    /// `bytes_read` otherwise): compare it with `bytes_total`.
    pub source_bytes_read: u64,
    /// Input size on disk if known (a regular file; the compressed size for compressed input).
    pub bytes_total: Option<u64>,
    /// Whether the input read so far is compressed (`bytes_read` then counts decompressed
    /// bytes, `source_bytes_read` compressed ones).
    #[serde(default)]
    pub source_compressed: bool,
    /// A resumed run: the part of `source_bytes_read` its checkpoint had already done, which
    /// this run skipped (0 otherwise). A rate counts `source_bytes_read` minus this.
    #[serde(default)]
    pub resumed_source_bytes: u64,
    /// A resumed run: the part of `records_read` its checkpoint had committed (0 otherwise).
    #[serde(default)]
    pub resumed_records: u64,
    /// Records committed.
    pub records_read: u64,
    /// Records rejected.
    pub records_rejected: u64,
    /// Chunks waiting for a worker.
    pub queued_chunks: usize,
    /// Capacity of the chunk queue.
    pub queue_capacity: usize,
    /// Workers busy right now.
    pub busy_workers: usize,
    /// Worker count.
    pub workers: usize,
}

impl Progress {
    pub(crate) fn snapshot(
        &self,
        elapsed: Duration,
        bytes_total: Option<u64>,
        queue_capacity: usize,
        workers: usize,
    ) -> Snapshot {
        Snapshot {
            elapsed_seconds: elapsed.as_secs_f64(),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            source_bytes_read: self.source_bytes_read.load(Ordering::Relaxed),
            bytes_total,
            source_compressed: self.source_compressed.load(Ordering::Relaxed),
            resumed_source_bytes: self.resumed_source_bytes.load(Ordering::Relaxed),
            resumed_records: self.resumed_records.load(Ordering::Relaxed),
            records_read: self.records_read.load(Ordering::Relaxed),
            records_rejected: self.records_rejected.load(Ordering::Relaxed),
            queued_chunks: self.queued_chunks.load(Ordering::Relaxed),
            queue_capacity,
            busy_workers: self.busy_workers.load(Ordering::Relaxed),
            workers,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every record was processed and the outputs committed.
    Succeeded,
    /// An error stopped the run; nothing was committed.
    Failed,
    /// Ctrl-C stopped the run; nothing was committed.
    Interrupted,
    /// SIGTERM stopped the run; nothing was committed.
    Terminated,
    /// The time limit stopped the run; nothing was committed.
    TimedOut,
    /// The reader of standard output closed it (e.g. `| head`); the run stopped there.
    OutputClosed,
    /// More records were rejected than the run's budget allows
    /// ([`crate::PipelineBuilder::max_rejects`]); nothing was committed.
    TooManyRejects,
}

/// Where a run stopped reading early because no later record could reach the output (a
/// `head` had passed all it keeps): the records after it were neither read nor counted, as
/// in a serial run that stops there. The run succeeded and its outputs are committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyStop {
    /// The input of the last record read.
    pub input: String,
    /// That record's first line (the record that filled the head); `None` when no record was
    /// needed at all (`head 0`, or a resumed run whose heads were full already).
    pub line: Option<u64>,
    /// That record's byte offset in its input.
    pub byte_offset: Option<u64>,
}

/// Per-worker figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    /// Worker number, from 0.
    pub worker: usize,
    /// Chunks processed.
    pub chunks: u64,
    /// Records decoded.
    pub records: u64,
    /// Time spent processing chunks (not waiting).
    pub busy_seconds: f64,
}

/// The version of the report's layout, written as `report_version` and described field by
/// field in `docs/report.schema.json`. Adding a field keeps it; renaming, removing or changing
/// the meaning of one raises it.
pub const REPORT_VERSION: u32 = 1;

/// The first record rejected with a given error (the first in input order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstReject {
    /// The input it is in.
    pub file: String,
    /// Its first physical line (1-based).
    pub line: u64,
    /// Its byte offset in the input.
    pub byte_offset: u64,
    /// The field named by the reject, if any.
    pub field: Option<String>,
    /// The reject's message (it may quote the value, so it is data: escape it before showing
    /// it on a terminal).
    pub message: String,
}

/// Where the time went, per stage. Stages run at the same time, so these add up to more than
/// the wall-clock time when the run is parallel.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StageTimes {
    /// The splitter thread.
    pub splitter: SplitterTimes,
    /// The workers, added up.
    pub workers: WorkerTimes,
    /// The committer thread.
    pub committer: CommitterTimes,
}

/// The splitter's time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SplitterTimes {
    /// Time inside the source's reads (including decompression).
    pub read_seconds: f64,
    /// Time cutting the bytes at record boundaries (splitting, not reading).
    pub scan_seconds: f64,
}

/// The workers' time, over all workers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerTimes {
    /// Time processing chunks (decode, transforms, encode), not waiting.
    pub busy_seconds: f64,
}

/// The committer's time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CommitterTimes {
    /// Time writing and flushing the output and rejects (not waiting for batches).
    pub write_seconds: f64,
}

/// The process's peak resident memory so far (`getrusage` `ru_maxrss`), where the platform
/// tells it.
pub fn peak_memory_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a whole `rusage` into the pointer it is given, which points
        // at a zeroed, properly aligned `rusage` that lives for the call.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
        if rc != 0 {
            return None;
        }
        // SAFETY: getrusage returned 0, so it filled the struct (it was zeroed before anyway).
        let usage = unsafe { usage.assume_init() };
        // Linux reports kibibytes.
        u64::try_from(usage.ru_maxrss).ok().map(|kib| kib * 1024)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// What a resumable run did with its checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResumeOutcome {
    /// There was no checkpoint: the run started from the beginning.
    Started,
    /// The run continued from a checkpoint.
    Resumed,
    /// The checkpoint counted every record: nothing was read (a commit a crash cut short was
    /// ended, with this run's report).
    Complete,
}

/// How a resumable run began; see [`Report::resume`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resume {
    /// What happened.
    pub outcome: ResumeOutcome,
    /// The checkpoint file.
    pub checkpoint: String,
    /// The input the run continued in (its name).
    pub from_input: String,
    /// The line it continued at (1 when it started afresh).
    pub from_line: u64,
    /// The byte offset in that input it continued at.
    pub from_offset: u64,
    /// Records the checkpoint had already committed.
    pub records_before: u64,
}

/// The accounting of a run: `records_read = records_written + records_filtered +
/// records_rejected` always holds, for finished and stopped runs alike (counted over the
/// batches the committer took in).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The layout version, [`REPORT_VERSION`].
    pub report_version: u32,
    /// How the run ended.
    pub status: Status,
    /// The error that stopped it, if any.
    pub error: Option<String>,
    /// The input's name.
    pub input: String,
    /// The output's name.
    pub output: String,
    /// The rejects file's name, if any.
    pub rejects: Option<String>,
    /// Input format.
    pub format: String,
    /// Records decoded (header excluded; empty CSV lines are not records).
    pub records_read: u64,
    /// Records written to the output.
    pub records_written: u64,
    /// Records dropped by a filter.
    pub records_filtered: u64,
    /// Records sent to the rejects file.
    pub records_rejected: u64,
    /// The errors listed for the rejected records, one a record unless every error of a
    /// record is listed (a schema's `all_errors`), when a record counts once in
    /// `records_rejected` and once here for each of its errors.
    #[serde(default)]
    pub reject_errors: u64,
    /// Rejected records by error name (with every error listed, errors by name).
    pub rejects_by_error: BTreeMap<String, u64>,
    /// Rejected records by the field their reject names (rejects that name no field, such as
    /// a `parse-error`, are not in it; with every error listed, errors by field).
    pub rejects_by_field: BTreeMap<String, u64>,
    /// The first rejected record of each error name.
    pub first_rejects: BTreeMap<String, FirstReject>,
    /// Text values written with U+FFFD in place of what was not Unicode text (invalid UTF-8,
    /// a JSON lone surrogate), under `--invalid-utf8 replace`; 0 otherwise, where such a value
    /// rejects its record (`encode-error`).
    #[serde(default)]
    pub values_replaced: u64,
    /// Bytes read from the input (decompressed).
    pub bytes_read: u64,
    /// Compressed bytes read, for a compressed input.
    pub compressed_bytes_read: Option<u64>,
    /// Bytes written to the output (before any compression).
    pub bytes_written: u64,
    /// Input offset up to which every record is committed.
    pub committed_offset: u64,
    /// Chunks processed.
    pub chunks: u64,
    /// Wall-clock time.
    pub elapsed_seconds: f64,
    /// Worker threads.
    pub workers: usize,
    /// Target chunk size in bytes.
    pub chunk_size: usize,
    /// Whether output kept input order.
    pub ordered: bool,
    /// (read - rejected) / read, or 1 when nothing was read.
    pub success_rate: f64,
    /// Per-worker figures.
    pub per_worker: Vec<WorkerReport>,
    /// Time per stage.
    pub stages: StageTimes,
    /// The process's peak resident memory in bytes, if the platform tells it.
    pub peak_memory_bytes: Option<u64>,
    /// For a resumable run: whether it started afresh, resumed from a checkpoint, or found its
    /// output already complete; `None` for other runs.
    pub resume: Option<Resume>,
    /// Where the run stopped reading because nothing more could reach the output (`head`);
    /// `None` when it read every input to the end (or failed).
    #[serde(default)]
    pub stopped_early: Option<EarlyStop>,
    /// The xxh64 of the output as stored (16 hex digits), for runs that keep it; not written
    /// in the JSON report itself.
    #[serde(skip)]
    pub output_digest: Option<String>,
    /// The same for the rejects file.
    #[serde(skip)]
    pub rejects_digest: Option<String>,
}

impl Report {
    /// The report of a run over `input` that has done nothing yet (status `failed` until it
    /// says otherwise).
    pub fn empty(input: String) -> Report {
        Report {
            report_version: REPORT_VERSION,
            status: Status::Failed,
            error: None,
            input,
            output: String::new(),
            rejects: None,
            format: String::new(),
            records_read: 0,
            records_written: 0,
            records_filtered: 0,
            records_rejected: 0,
            reject_errors: 0,
            rejects_by_error: BTreeMap::new(),
            rejects_by_field: BTreeMap::new(),
            first_rejects: BTreeMap::new(),
            values_replaced: 0,
            bytes_read: 0,
            compressed_bytes_read: None,
            bytes_written: 0,
            committed_offset: 0,
            chunks: 0,
            elapsed_seconds: 0.0,
            workers: 0,
            chunk_size: 0,
            ordered: true,
            success_rate: 1.0,
            per_worker: Vec::new(),
            stages: StageTimes::default(),
            peak_memory_bytes: None,
            resume: None,
            stopped_early: None,
            output_digest: None,
            rejects_digest: None,
        }
    }

    /// Whether the accounting identity holds.
    pub fn balanced(&self) -> bool {
        self.records_read == self.records_written + self.records_filtered + self.records_rejected
    }

    pub(crate) fn finish_rates(&mut self) {
        self.peak_memory_bytes = peak_memory_bytes();
        self.stages.workers.busy_seconds = self.per_worker.iter().map(|w| w.busy_seconds).sum();
        self.success_rate = if self.records_read == 0 {
            1.0
        } else {
            (self.records_read - self.records_rejected) as f64 / self.records_read as f64
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn peak_memory_is_at_least_what_was_touched() {
        let block = vec![1u8; 32 << 20];
        std::hint::black_box(&block);
        let peak = peak_memory_bytes().expect("linux tells the peak");
        assert!(peak >= 32 << 20, "peak {peak}");
    }
}

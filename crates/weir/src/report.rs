//! Counters while running, and the report at the end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Live counters, written by the stages and only read by observers.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes the splitter has read from the input.
    pub bytes_read: AtomicU64,
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
}

/// One observation of a running pipeline, handed to the observer callback.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Time since the run started.
    pub elapsed_seconds: f64,
    /// Bytes read from the input.
    pub bytes_read: u64,
    /// Input size if known (a regular file).
    pub bytes_total: Option<u64>,
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
            bytes_total,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
}

/// Per-worker figures.
#[derive(Debug, Clone, Default, Serialize)]
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

/// The accounting of a run: `records_read = records_written + records_filtered +
/// records_rejected` always holds, for finished and stopped runs alike (counted over the
/// batches the committer took in).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
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
    /// Rejected records by error name.
    pub rejects_by_error: BTreeMap<String, u64>,
    /// Bytes read from the input.
    pub bytes_read: u64,
    /// Bytes written to the output.
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
}

impl Report {
    /// Whether the accounting identity holds.
    pub fn balanced(&self) -> bool {
        self.records_read == self.records_written + self.records_filtered + self.records_rejected
    }

    pub(crate) fn finish_rates(&mut self) {
        self.success_rate = if self.records_read == 0 {
            1.0
        } else {
            (self.records_read - self.records_rejected) as f64 / self.records_read as f64
        };
    }
}

//! What travels from a worker to the committer: the [`Slot`] (a chunk and the buffers of its
//! results, the unit of credit) and the [`Batch`] a worker makes of its chunk, with the gated
//! records whose fate the committer's ordered gates may still change.

use std::borrow::Cow;
use std::ops::Range;

use crate::report::FirstReject;
use crate::split::Chunk;
use crate::transform::Reject;

/// A chunk and the buffers its results go into; the unit of credit.
#[derive(Default)]
pub(super) struct Slot {
    pub(super) chunk: Chunk,
    pub(super) batch: Batch,
    /// The worker that made the batch.
    pub(super) worker: usize,
    /// Offset in the whole input stream (all inputs) just after the chunk.
    pub(super) stream_end: u64,
    /// Physical line in its input just after the chunk.
    pub(super) end_line: u64,
    /// The splitter's error where this (empty) chunk would have been: it fails the run when
    /// the committer reaches it in input order, so a run that ends before it (`head`) does
    /// not see it.
    pub(super) error: Option<crate::error::Error>,
}

/// A worker's output for one chunk; travels with the chunk to the committer.
#[derive(Debug, Default)]
pub struct Batch {
    /// Encoded output records.
    pub out: Vec<u8>,
    /// Encoded rejects rows.
    pub rejects: Vec<u8>,
    /// Records decoded.
    pub records_read: u64,
    /// Records written.
    pub records_written: u64,
    /// Records filtered.
    pub records_filtered: u64,
    /// Records rejected.
    pub records_rejected: u64,
    /// Text values of written records that were written with U+FFFD in place of what was not
    /// Unicode text (`--invalid-utf8 replace`).
    pub values_replaced: u64,
    /// Rejects by error name and field, each with its first record in this batch.
    pub reject_counts: Vec<RejectCount>,
    /// The index in `reject_counts` of each record rejected, in order: what the committer
    /// takes back when the run ends early inside the batch.
    pub reject_kinds: Vec<u32>,
    /// Records that claimed ordered gates, in input order, for the committer to decide.
    pub gated: Vec<Gated>,
    /// The claims of `gated` records: (gate index, key hash).
    pub claims: Vec<(u32, u128)>,
    /// An error that must stop the run when the committer reaches this batch (so the first
    /// one in input order is the one reported).
    pub fatal: Option<crate::error::Error>,
}

/// How many records of a batch were rejected with one error in one field, and the first of
/// them (kept once per kind and batch, so the per-record cost is a short search).
#[derive(Debug, Clone)]
pub struct RejectCount {
    /// The error name.
    pub error: Cow<'static, str>,
    /// The field these rejects name, if any.
    pub field: Option<String>,
    /// How many.
    pub count: u64,
    /// The first of them in the batch.
    pub first: FirstReject,
}

/// What the worker did with a record that claimed ordered gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Written to the output.
    Written,
    /// Filtered.
    Filtered,
    /// Rejected; the index of its error in `Batch::reject_counts`.
    Rejected(usize),
}

/// A record whose fate the committer may still change: where its bytes are in the batch.
#[derive(Debug, Clone)]
pub struct Gated {
    /// Where its claims are in `Batch::claims`, in chain order.
    pub claims: Range<usize>,
    /// What the worker did with it.
    pub fate: Fate,
    /// Its bytes in `Batch::out` (empty unless written).
    pub out: Range<usize>,
    /// Its row in `Batch::rejects` (empty unless rejected); `start` is where it stands in
    /// order.
    pub rejects: Range<usize>,
    /// Its raw bytes in the chunk.
    pub raw: Range<usize>,
    /// Its first line.
    pub line: u64,
    /// Its input byte offset.
    pub offset: u64,
    /// The batch's records read, written, filtered and rejected up to and including this
    /// one, as the worker counted them: what is left when the run ends early at it.
    pub counts_after: [u64; 4],
}

impl Batch {
    /// Empties the batch for the next chunk, keeping its buffers.
    pub(super) fn clear(&mut self) {
        self.out.clear();
        self.rejects.clear();
        self.records_read = 0;
        self.records_written = 0;
        self.records_filtered = 0;
        self.records_rejected = 0;
        self.values_replaced = 0;
        self.reject_counts.clear();
        self.reject_kinds.clear();
        self.gated.clear();
        self.claims.clear();
        self.fatal = None;
    }

    /// Counts a reject of the record at `line` / `offset`; returns its index in
    /// `reject_counts`.
    pub(crate) fn count_reject(&mut self, r: &Reject, file: &str, line: u64, offset: u64) -> usize {
        self.records_rejected += 1;
        let field = r.field.as_deref();
        let index = match self
            .reject_counts
            .iter()
            .position(|c| c.error == r.error && c.field.as_deref() == field)
        {
            Some(i) => {
                self.reject_counts[i].count += 1;
                i
            }
            None => {
                self.reject_counts.push(RejectCount {
                    error: r.error.clone(),
                    field: r.field.clone(),
                    count: 1,
                    first: FirstReject {
                        file: file.to_string(),
                        line,
                        byte_offset: offset,
                        field: r.field.clone(),
                        message: r.message.clone(),
                    },
                });
                self.reject_counts.len() - 1
            }
        };
        self.reject_kinds.push(index as u32);
        index
    }

    /// The counts that [`Gated::counts_after`] keeps.
    pub(super) fn counts(&self) -> [u64; 4] {
        [
            self.records_read,
            self.records_written,
            self.records_filtered,
            self.records_rejected,
        ]
    }
}

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
    /// Encoded rejects rows (or, in the input's format, the rejected records' bytes).
    pub rejects: Vec<u8>,
    /// With rejects in the input's format, the rejected records in order, for the committer
    /// to write their reasons (it alone knows the line each lands on in the rejects file).
    pub rejected: Vec<Rejected>,
    /// Records decoded.
    pub records_read: u64,
    /// Records written.
    pub records_written: u64,
    /// Records filtered.
    pub records_filtered: u64,
    /// Records rejected.
    pub records_rejected: u64,
    /// Errors listed for the records rejected (more than the records when every error of a
    /// record is listed).
    pub reject_errors: u64,
    /// Text values of written records that were written with U+FFFD in place of what was not
    /// Unicode text (`--invalid-utf8 replace`).
    pub values_replaced: u64,
    /// Rejects by error name and field, each with its first record in this batch.
    pub reject_counts: Vec<RejectCount>,
    /// The index in `reject_counts` of each error listed for a rejected record, in order:
    /// what the committer takes back when the run ends early inside the batch.
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

/// A record written to input-format rejects: its reasons, and where it stands.
#[derive(Debug)]
pub struct Rejected {
    /// Where its bytes start in `Batch::rejects`: how the gates find it.
    pub at: usize,
    /// The lines its bytes take in the rejects file; `None` when it is not there (a record
    /// too large to keep whole).
    pub lines: Option<u64>,
    /// Its input.
    pub file: crate::error::SourceName,
    /// Its first line in its input.
    pub line: u64,
    /// Its byte offset in its input.
    pub offset: u64,
    /// Why (and its further errors).
    pub reject: Reject,
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
    /// When rejected with several errors, the indexes in `Batch::reject_counts` of the errors
    /// after the first (whose index is in `fate`).
    pub more_kinds: Vec<usize>,
    /// Its first line.
    pub line: u64,
    /// Its input byte offset.
    pub offset: u64,
    /// The batch's records read, written, filtered and rejected, and errors listed, up to and including this
    /// one, as the worker counted them: what is left when the run ends early at it.
    pub counts_after: [u64; 5],
}

impl Batch {
    /// Empties the batch for the next chunk, keeping its buffers.
    pub(super) fn clear(&mut self) {
        self.out.clear();
        self.rejects.clear();
        self.rejected.clear();
        self.records_read = 0;
        self.records_written = 0;
        self.records_filtered = 0;
        self.records_rejected = 0;
        self.reject_errors = 0;
        self.values_replaced = 0;
        self.reject_counts.clear();
        self.reject_kinds.clear();
        self.gated.clear();
        self.claims.clear();
        self.fatal = None;
    }

    /// Counts a rejected record at `line` / `offset`, and each of its errors; returns the
    /// index in `reject_counts` of its first error, and of the others (empty unless it has
    /// more than one).
    pub(crate) fn count_reject(
        &mut self,
        r: &Reject,
        file: &str,
        line: u64,
        offset: u64,
    ) -> (usize, Vec<usize>) {
        self.records_rejected += 1;
        let first = self.count_error(r, file, line, offset);
        let more = r
            .more
            .iter()
            .map(|m| self.count_error(m, file, line, offset))
            .collect();
        (first, more)
    }

    /// Counts one error of a rejected record; returns its index in `reject_counts`.
    fn count_error(&mut self, r: &Reject, file: &str, line: u64, offset: u64) -> usize {
        self.reject_errors += 1;
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

    /// The counts that [`Gated::counts_after`] keeps: records read, written, filtered and
    /// rejected, and the errors listed for the rejected ones.
    pub(super) fn counts(&self) -> [u64; 5] {
        [
            self.records_read,
            self.records_written,
            self.records_filtered,
            self.records_rejected,
            self.reject_errors,
        ]
    }
}

//! The ordered gates: what `head`, `dedupe` and a schema's `unique` decide, in input order,
//! about the records that claimed them. A worker only claims (it hashes the record's key, see
//! [`crate::transform::Gate`]); the committer asks the gates here one batch at a time, in
//! order, and a record a gate stops has its bytes cut out of the batch's output or rejects.
//!
//! One file a gate: `head`, `dedupe`, `unique`; the keys they remember are in `super::keys`.

mod dedupe;
mod head;
mod unique;

use crate::checkpoint::{GateEntry, GateLog};
use crate::error::Result;
use crate::error::SourceName;
use crate::format::csv::CsvEncoder;
use crate::format::{Dialect, Format};
use crate::report::FirstReject;
use crate::transform::Gate;

use super::batch::{Batch, Fate, Gated, RejectCount, Rejected};
use super::worker::{keep_rejected, Place};
use crate::sink::RejectsFormat;
use crate::transform::Reject;
use dedupe::Dedupe;
use head::Head;
use unique::Unique;

/// The committer's side of one ordered gate.
enum GateState {
    Head(Head),
    Dedupe(Dedupe),
    Unique(Unique),
}

/// What a gate decided about a record that it stops.
enum Verdict {
    Filter,
    Reject { field: String, message: String },
}

impl GateState {
    fn new(gate: &Gate) -> GateState {
        match gate {
            Gate::Head(n) => GateState::Head(Head::new(*n)),
            Gate::Dedupe { max_keys } => GateState::Dedupe(Dedupe::new(*max_keys)),
            Gate::Unique { field, max_keys } => {
                GateState::Unique(Unique::new(field.clone(), *max_keys))
            }
        }
    }

    /// Whether the gate remembers keys (which a resumable run logs).
    fn keeps_keys(&self) -> bool {
        !matches!(self, GateState::Head(_))
    }

    /// Decides the record at `line` with key `key`: `None` lets it through.
    fn decide(&mut self, key: u128, line: u64) -> Result<Option<Verdict>> {
        match self {
            GateState::Head(g) => Ok(g.decide()),
            GateState::Dedupe(g) => g.decide(key, line),
            GateState::Unique(g) => g.decide(key, line),
        }
    }
}

/// A run's ordered gates, in chain order, and the buffers a batch's bytes are rebuilt in when
/// a gate stops one of its records.
pub(super) struct Gates {
    states: Vec<GateState>,
    /// The inputs' names, for the rejects rows the gates write.
    source_names: Vec<SourceName>,
    rejects_enc: CsvEncoder,
    /// How rejected records are written (a table, or their bytes as read).
    rejects_format: RejectsFormat,
    /// Whether a rejected record's `unique-error` is listed after its other errors.
    all_errors: bool,
    out_scratch: Vec<u8>,
    rejects_scratch: Vec<u8>,
}

impl Gates {
    pub(super) fn new(gates: &[Gate], source_names: Vec<SourceName>) -> Gates {
        Gates {
            states: gates.iter().map(GateState::new).collect(),
            source_names,
            rejects_enc: CsvEncoder::new(&Dialect::new(Format::Csv)),
            rejects_format: RejectsFormat::Table,
            all_errors: false,
            out_scratch: Vec::new(),
            rejects_scratch: Vec::new(),
        }
    }

    /// Writes the records the gates reject in this format (the table by default).
    pub(super) fn rejects_format(&mut self, format: RejectsFormat) {
        self.rejects_format = format;
    }

    /// Lists a `unique-error` as one more error of a record rejected already (the schema
    /// lists every error of a record).
    pub(super) fn list_all_errors(&mut self) {
        self.all_errors = true;
    }

    /// How many records each head gate has passed (0 for the other gates), for a checkpoint.
    pub(super) fn heads(&self) -> Vec<u64> {
        self.states
            .iter()
            .map(|g| match g {
                GateState::Head(h) => h.passed(),
                _ => 0,
            })
            .collect()
    }

    /// Puts back what a checkpointed run's gates had decided: the records each head passed,
    /// and the keys the others had registered.
    pub(super) fn restore(&mut self, heads: &[u64], keys: Vec<GateEntry>) {
        for (gate, &passed) in self.states.iter_mut().zip(heads) {
            if let GateState::Head(h) = gate {
                h.restore(passed);
            }
        }
        for (gate, line, key) in keys {
            match self.states.get_mut(gate as usize) {
                Some(GateState::Dedupe(g)) => g.restore(key),
                Some(GateState::Unique(g)) => g.restore(key, line),
                Some(GateState::Head(_)) | None => {}
            }
        }
    }

    /// Decides the gated records of a batch in input order, cutting the bytes of those a gate
    /// stops out of the batch's output or rejects and fixing the counts. The keys registered
    /// go to `log` (a resumable run's key log).
    pub(super) fn apply(
        &mut self,
        b: &mut Batch,
        input: &[u8],
        source: usize,
        mut log: Option<&mut GateLog>,
    ) -> Result<()> {
        self.out_scratch.clear();
        self.rejects_scratch.clear();
        let (mut out_pos, mut rej_pos) = (0, 0);
        let mut changed = false;
        // Input-format rejects: the batch's rejected records, rebuilt in order beside the
        // bytes (`kept` are those already moved back).
        let mut old_rejected = std::mem::take(&mut b.rejected).into_iter().peekable();
        let mut kept: Vec<Rejected> = Vec::new();
        for g in &b.gated {
            let claims = &b.claims[g.claims.clone()];
            let Some(verdict) = self.decide(claims, g.line, log.as_deref_mut())? else {
                continue;
            };
            if matches!(verdict, Verdict::Reject { .. }) && matches!(g.fate, Fate::Rejected(_)) {
                // A record already rejected keeps its first reason (frictionless lists a row's
                // cell errors before its unique-error); its key was still registered. Listing
                // every error, the unique-error is one more.
                if let (true, Verdict::Reject { field, message }) = (self.all_errors, verdict) {
                    changed = true;
                    self.rejects_scratch
                        .extend_from_slice(&b.rejects[rej_pos..g.rejects.end]);
                    rej_pos = g.rejects.end;
                    b.reject_errors += 1;
                    let error = (field, message);
                    if self.rejects_format == RejectsFormat::Input {
                        // Its own entry is the last that starts where it does.
                        while let Some(r) = old_rejected.next_if(|r| r.at <= g.rejects.start) {
                            kept.push(r);
                        }
                        self.count_unique(&mut b.reject_counts, g, &error, source);
                        let own = &mut kept.last_mut().expect("its own entry").reject;
                        own.more
                            .push(Reject::new("unique-error", Some(error.0), error.1));
                    } else {
                        self.reject(&mut b.reject_counts, g, error, source, input);
                    }
                }
                continue;
            }
            changed = true;
            self.out_scratch
                .extend_from_slice(&b.out[out_pos..g.out.start]);
            out_pos = g.out.end;
            self.rejects_scratch
                .extend_from_slice(&b.rejects[rej_pos..g.rejects.start]);
            rej_pos = g.rejects.end;
            // The input-format rejects before this record stay (a record too large to keep
            // has no bytes, so one before it may start where it does).
            while let Some(r) = old_rejected.next_if(|r| {
                r.at < g.rejects.start || (r.at == g.rejects.start && r.lines.is_none())
            }) {
                kept.push(r);
            }
            match g.fate {
                Fate::Written => b.records_written -= 1,
                Fate::Filtered => b.records_filtered -= 1,
                Fate::Rejected(i) => {
                    b.records_rejected -= 1;
                    b.reject_errors -= 1 + g.more_kinds.len() as u64;
                    b.reject_counts[i].count -= 1;
                    for &k in &g.more_kinds {
                        b.reject_counts[k].count -= 1;
                    }
                    if self.rejects_format == RejectsFormat::Input {
                        // Its own entry, cut with its bytes.
                        old_rejected.next();
                    }
                }
            }
            match verdict {
                Verdict::Filter => b.records_filtered += 1,
                Verdict::Reject { field, message } => {
                    b.records_rejected += 1;
                    b.reject_errors += 1;
                    let row = (field, message);
                    match self.rejects_format {
                        RejectsFormat::Input => {
                            self.keep(&mut b.reject_counts, &mut kept, g, row, (source, input))
                        }
                        _ => self.reject(&mut b.reject_counts, g, row, source, input),
                    }
                }
            }
        }
        if changed {
            self.out_scratch.extend_from_slice(&b.out[out_pos..]);
            self.rejects_scratch
                .extend_from_slice(&b.rejects[rej_pos..]);
            std::mem::swap(&mut b.out, &mut self.out_scratch);
            std::mem::swap(&mut b.rejects, &mut self.rejects_scratch);
        }
        kept.extend(old_rejected);
        b.rejected = kept;
        Ok(())
    }

    /// Counts a record a `unique` gate rejects and keeps its bytes, for rejects in the
    /// input's format.
    fn keep(
        &mut self,
        counts: &mut Vec<RejectCount>,
        kept: &mut Vec<Rejected>,
        g: &Gated,
        (field, message): (String, String),
        (source, input): (usize, &[u8]),
    ) {
        // Counted and kept through a batch of its own, then moved into place.
        let mut one = Batch {
            reject_counts: std::mem::take(counts),
            ..Batch::default()
        };
        let at = Place {
            file: &self.source_names[source],
            line: g.line,
            offset: g.offset,
        };
        let reject = Reject::new("unique-error", Some(field), message);
        keep_rejected(&mut one, reject, at, Some(&input[g.raw.clone()]));
        *counts = one.reject_counts;
        let mut r = one.rejected.pop().expect("one record kept");
        r.at = self.rejects_scratch.len();
        self.rejects_scratch.extend_from_slice(&one.rejects);
        kept.push(r);
    }

    /// Asks a record's gates in chain order; the first that stops it decides, and the keys
    /// registered before are logged.
    fn decide(
        &mut self,
        claims: &[(u32, u128)],
        line: u64,
        mut log: Option<&mut GateLog>,
    ) -> Result<Option<Verdict>> {
        for &(gate, key) in claims {
            let state = &mut self.states[gate as usize];
            let verdict = state.decide(key, line)?;
            if verdict.is_some() {
                return Ok(verdict);
            }
            if let Some(log) = log.as_deref_mut().filter(|_| state.keeps_keys()) {
                log.push((gate, line, key));
            }
        }
        Ok(None)
    }

    /// Counts a record a `unique` gate rejects and writes its rejects row.
    fn reject(
        &mut self,
        counts: &mut Vec<RejectCount>,
        g: &Gated,
        (field, message): (String, String),
        source: usize,
        input: &[u8],
    ) {
        self.count_unique(counts, g, &(field.clone(), message.clone()), source);
        let file = self.source_names[source].as_str();
        let (line, offset) = (g.line.to_string(), g.offset.to_string());
        let row: [&[u8]; 7] = [
            file.as_bytes(),
            line.as_bytes(),
            offset.as_bytes(),
            field.as_bytes(),
            b"unique-error",
            message.as_bytes(),
            &input[g.raw.clone()],
        ];
        self.rejects_enc.record(&mut self.rejects_scratch, row);
    }

    /// Counts a `unique-error` in `field` of the record `g`.
    fn count_unique(
        &self,
        counts: &mut Vec<RejectCount>,
        g: &Gated,
        (field, message): &(String, String),
        source: usize,
    ) {
        let file = self.source_names[source].as_str();
        match counts
            .iter_mut()
            .find(|c| c.error == "unique-error" && c.field.as_ref() == Some(field))
        {
            Some(c) => c.count += 1,
            None => counts.push(RejectCount {
                error: std::borrow::Cow::Borrowed("unique-error"),
                field: Some(field.clone()),
                count: 1,
                first: FirstReject {
                    file: file.to_string(),
                    line: g.line,
                    byte_offset: g.offset,
                    field: Some(field.clone()),
                    message: message.clone(),
                },
            }),
        }
    }
}

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
use crate::report::{EarlyStop, FirstReject};
use crate::transform::Gate;

use super::batch::{Batch, Fate, Gated, RejectCount, Rejected};
use super::worker::{kept_entry, Place};
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
    fn new(gate: &Gate, bounds_output: bool) -> GateState {
        match gate {
            Gate::Head(n) => GateState::Head(Head::new(*n, bounds_output)),
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
    /// The gates of a chain; `bounding[i]` says whether gate `i` is a head every written
    /// record passes ([`crate::transform::Transform::head_bounds_output`]).
    pub(super) fn new(gates: &[Gate], bounding: &[bool], source_names: Vec<SourceName>) -> Gates {
        Gates {
            states: gates
                .iter()
                .enumerate()
                .map(|(i, g)| GateState::new(g, bounding.get(i).copied().unwrap_or(false)))
                .collect(),
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
    ///
    /// When a record fills a head that bounds the output (or one was full before the batch),
    /// no later record can be written: the batch ends there, the records after it taken out of
    /// the output, the rejects and the counts as if they had never been read, and the place is
    /// returned (the run ends early).
    pub(super) fn apply(
        &mut self,
        b: &mut Batch,
        input: &[u8],
        source: usize,
        mut log: Option<&mut GateLog>,
    ) -> Result<Option<EarlyStop>> {
        self.out_scratch.clear();
        self.rejects_scratch.clear();
        let worker_counts = b.counts();
        let (mut out_pos, mut rej_pos) = (0, 0);
        let mut changed = false;
        // Input-format rejects: the batch's rejected records, rebuilt in order beside the
        // bytes (`kept` are those already moved back).
        let mut old_rejected = std::mem::take(&mut b.rejected).into_iter().peekable();
        let mut kept: Vec<Rejected> = Vec::new();
        // `Some(None)`: the output was closed before the batch's first record; `Some(Some(i))`:
        // gated record `i` closed it.
        let closed_before = self.output_closed();
        let mut end: Option<Option<usize>> = closed_before.then_some(None);
        for (i, g) in b.gated.iter().enumerate().filter(|_| !closed_before) {
            let claims = &b.claims[g.claims.clone()];
            let rejected = matches!(g.fate, Fate::Rejected(_));
            match self.decide(claims, g.line, log.as_deref_mut())? {
                None => {}
                // A record already rejected keeps its first reason (frictionless lists a row's
                // cell errors before its unique-error); its key was still registered.
                Some(Verdict::Reject { .. }) if rejected && !self.all_errors => {}
                // Listing every error, the unique-error is one more.
                Some(Verdict::Reject { field, message }) if rejected => {
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
                Some(verdict) => {
                    changed = true;
                    self.out_scratch
                        .extend_from_slice(&b.out[out_pos..g.out.start]);
                    out_pos = g.out.end;
                    self.rejects_scratch
                        .extend_from_slice(&b.rejects[rej_pos..g.rejects.start]);
                    rej_pos = g.rejects.end;
                    // The input-format rejects before this record stay (a record too large to
                    // keep has no bytes, so one before it may start where it does).
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
                                RejectsFormat::Input => self.keep(
                                    &mut b.reject_counts,
                                    &mut kept,
                                    g,
                                    row,
                                    (source, input),
                                ),
                                _ => self.reject(&mut b.reject_counts, g, row, source, input),
                            }
                        }
                    }
                }
            }
            if self.output_closed() {
                end = Some(Some(i));
                break;
            }
        }
        let (out_end, rej_end) = match end {
            None => (b.out.len(), b.rejects.len()),
            Some(None) => (0, 0),
            Some(Some(i)) => (b.gated[i].out.end, b.gated[i].rejects.end),
        };
        if changed || end.is_some() {
            self.out_scratch
                .extend_from_slice(&b.out[out_pos.min(out_end)..out_end]);
            self.rejects_scratch
                .extend_from_slice(&b.rejects[rej_pos.min(rej_end)..rej_end]);
            std::mem::swap(&mut b.out, &mut self.out_scratch);
            std::mem::swap(&mut b.rejects, &mut self.rejects_scratch);
        }
        let Some(at) = end else {
            kept.extend(old_rejected);
            b.rejected = kept;
            return Ok(None);
        };
        // Input-format rejects after the record that ended the run go with it.
        let last_line = at.map_or(0, |i| b.gated[i].line);
        kept.extend(old_rejected.take_while(|r| r.line < last_line));
        b.rejected = kept;
        let last = at.map(|i| (b.gated[i].counts_after, b.gated[i].line, b.gated[i].offset));
        cut_after(b, worker_counts, last.map_or([0; 5], |l| l.0));
        Ok(Some(EarlyStop {
            input: self.source_names[source].to_string(),
            line: last.map(|l| l.1),
            byte_offset: last.map(|l| l.2),
        }))
    }

    /// Whether a head that bounds the output is full: no later record can be written.
    pub(super) fn output_closed(&self) -> bool {
        self.states
            .iter()
            .any(|g| matches!(g, GateState::Head(h) if h.closes_output()))
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
        let error = (field, message);
        self.count_unique(counts, g, &error, source);
        let at = Place {
            file: &self.source_names[source],
            line: g.line,
            offset: g.offset,
        };
        let reject = Reject::new("unique-error", Some(error.0), error.1);
        let raw = Some(&input[g.raw.clone()]);
        kept.push(kept_entry(&mut self.rejects_scratch, reject, at, raw));
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

/// Takes out of `b`'s counts the records after the one that ended the run: the worker counted
/// `worker` in all, `kept` up to and including that record (gates decide nothing after it, so
/// what it counted after is as it counted it).
fn cut_after(b: &mut Batch, worker: [u64; 5], kept: [u64; 5]) {
    let [read, written, filtered, rejected, errors] =
        std::array::from_fn::<u64, 5, _>(|i| worker[i] - kept[i]);
    b.records_read -= read;
    b.records_written -= written;
    b.records_filtered -= filtered;
    b.records_rejected -= rejected;
    b.reject_errors -= errors;
    // One kind an error, in order: those of the errors after it go.
    for &kind in &b.reject_kinds[kept[4] as usize..] {
        b.reject_counts[kind as usize].count -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FirstReject;

    /// A batch as a worker makes it of five records: 1 written, 2 rejected, 3 written,
    /// 4 rejected (the same error), 5 written; the written ones claim the head.
    fn batch() -> Batch {
        let mut b = Batch::default();
        let reject = crate::transform::Reject::new("missing-cell", Some("v".into()), "short");
        let written = |b: &mut Batch, n: u64, bytes: &[u8]| {
            let start = b.out.len();
            b.out.extend_from_slice(bytes);
            b.records_read += 1;
            b.records_written += 1;
            b.claims.push((0, 0));
            let rejects = b.rejects.len();
            b.gated.push(Gated {
                claims: b.claims.len() - 1..b.claims.len(),
                fate: Fate::Written,
                out: start..b.out.len(),
                rejects: rejects..rejects,
                raw: 0..0,
                more_kinds: Vec::new(),
                line: n + 1,
                offset: 10 * n,
                counts_after: b.counts(),
            });
        };
        let rejected = |b: &mut Batch, n: u64| {
            b.records_read += 1;
            b.rejects.extend_from_slice(format!("row {n}\n").as_bytes());
            b.count_reject(&reject, "in", n + 1, 10 * n);
        };
        written(&mut b, 1, b"1\n");
        rejected(&mut b, 2);
        written(&mut b, 3, b"3\n");
        rejected(&mut b, 4);
        written(&mut b, 5, b"5\n");
        b
    }

    #[test]
    fn a_full_head_cuts_the_batch_after_the_record_that_filled_it() {
        let mut gates = Gates::new(&[Gate::Head(2)], &[true], vec![SourceName::new("in")]);
        let mut b = batch();
        assert_eq!(b.reject_counts[0].count, 2);
        let end = gates.apply(&mut b, b"", 0, None).unwrap();
        assert_eq!(
            end,
            Some(EarlyStop {
                input: "in".into(),
                line: Some(4),
                byte_offset: Some(30),
            })
        );
        assert_eq!(b.out, b"1\n3\n");
        assert_eq!(b.rejects, b"row 2\n");
        assert_eq!(b.counts(), [3, 2, 0, 1, 1]);
        assert_eq!(b.reject_counts[0].count, 1);
        assert_eq!(
            b.reject_counts[0].first,
            FirstReject {
                file: "in".into(),
                line: 3,
                byte_offset: 20,
                field: Some("v".into()),
                message: "short".into(),
            }
        );
        // Full before the next batch: nothing of it is read.
        let mut next = batch();
        let end = gates.apply(&mut next, b"", 0, None).unwrap();
        assert_eq!(end.map(|e| e.line), Some(None));
        assert!(next.out.is_empty() && next.rejects.is_empty());
        assert_eq!(next.counts(), [0; 5]);
        assert_eq!(next.reject_counts[0].count, 0);
    }

    #[test]
    fn a_head_that_does_not_bound_the_output_filters_and_never_ends_the_run() {
        let mut gates = Gates::new(&[Gate::Head(2)], &[false], vec![SourceName::new("in")]);
        let mut b = batch();
        assert_eq!(gates.apply(&mut b, b"", 0, None).unwrap(), None);
        assert_eq!(b.out, b"1\n3\n");
        assert_eq!(b.rejects, b"row 2\nrow 4\n");
        assert_eq!(b.counts(), [5, 2, 1, 2, 2]);
        assert!(!gates.output_closed());
    }

    #[test]
    fn a_head_with_room_left_changes_nothing() {
        let mut gates = Gates::new(&[Gate::Head(4)], &[true], vec![SourceName::new("in")]);
        let mut b = batch();
        assert_eq!(gates.apply(&mut b, b"", 0, None).unwrap(), None);
        assert_eq!(b.out, b"1\n3\n5\n");
        assert_eq!(b.counts(), [5, 3, 0, 2, 2]);
        assert_eq!(gates.heads(), [3]);
    }
}

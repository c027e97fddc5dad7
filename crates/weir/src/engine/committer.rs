//! The committer: the only writer. Puts batches in input order (or not, if asked), writes them,
//! returns their slots to the pool, and commits the outputs at the end.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::keys::KeyMap;
use super::stop::{recv_until_stopped, StopState};
use super::worker::{Batch, Fate, RejectCount};
use super::Slot;
use crate::checkpoint::{self, Checkpoint, Counters, GateEntry, GateLog, Paths, Position, State};
use crate::error::{Error, Result, SourceName};
use crate::format::csv::CsvEncoder;
use crate::format::parquet::ParquetSink;
use crate::format::{Dialect, Format};
use crate::report::{FirstReject, Progress, Report};
use crate::sink::SinkWriter;
use crate::transform::Gate;

/// The committer's side of an ordered gate.
enum GateState {
    Head {
        limit: u64,
        passed: u64,
    },
    Dedupe {
        seen: KeyMap<()>,
        max_keys: usize,
    },
    Unique {
        first_line: KeyMap<u64>,
        field: String,
        max_keys: usize,
    },
}

/// What a gate decided about a record that the worker had kept.
enum Verdict {
    Filter,
    Reject { field: String, message: String },
}

impl GateState {
    fn new(gate: &Gate) -> GateState {
        match gate {
            Gate::Head(n) => GateState::Head {
                limit: *n,
                passed: 0,
            },
            Gate::Dedupe { max_keys } => GateState::Dedupe {
                seen: KeyMap::new(),
                max_keys: *max_keys,
            },
            Gate::Unique { field, max_keys } => GateState::Unique {
                first_line: KeyMap::new(),
                field: field.clone(),
                max_keys: *max_keys,
            },
        }
    }

    /// Whether the gate remembers keys (which a resumable run logs).
    fn keeps_keys(&self) -> bool {
        !matches!(self, GateState::Head { .. })
    }

    /// Registers a key a checkpointed run had registered.
    fn restore(&mut self, key: u128, line: u64) {
        match self {
            GateState::Head { .. } => {}
            GateState::Dedupe { seen, .. } => {
                seen.insert(key, ());
            }
            GateState::Unique { first_line, .. } => {
                first_line.insert(key, line);
            }
        }
    }

    fn decide(&mut self, key: u128, line: u64) -> Result<Option<Verdict>> {
        // Not a usage error: the pipeline is valid, this input has more keys than it allows.
        let too_many = |max_keys: usize, step: &'static str| Error::TooManyKeys {
            step,
            bound: match step {
                "dedupe" => "raise it with the step's max_keys or --dedupe-max-keys",
                _ => "fixed for a schema's unique and primary keys",
            },
            bytes_per_key: if step == "dedupe" { 28 } else { 41 },
            max_keys,
            line,
        };
        match self {
            GateState::Head { limit, passed } => {
                if *passed >= *limit {
                    return Ok(Some(Verdict::Filter));
                }
                *passed += 1;
                Ok(None)
            }
            GateState::Dedupe { seen, max_keys } => {
                if seen.get(key).is_some() {
                    return Ok(Some(Verdict::Filter));
                }
                if seen.len() >= *max_keys {
                    return Err(too_many(*max_keys, "dedupe"));
                }
                seen.insert(key, ());
                Ok(None)
            }
            GateState::Unique {
                first_line,
                field,
                max_keys,
            } => {
                if let Some(first) = first_line.get(key) {
                    return Ok(Some(Verdict::Reject {
                        field: field.clone(),
                        message: format!(
                            "the value of '{field}' must be unique: it repeats the record at line {first}"
                        ),
                    }));
                }
                if first_line.len() >= *max_keys {
                    return Err(too_many(*max_keys, "unique"));
                }
                first_line.insert(key, line);
                Ok(None)
            }
        }
    }
}

/// Where the committer writes the output: bytes as the workers encoded them, or Parquet, whose
/// rows the committer gathers into column batches.
pub(crate) enum Output {
    Bytes(SinkWriter),
    Parquet(Box<ParquetSink>),
}

impl Output {
    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Output::Bytes(w) => w.write_all(bytes),
            Output::Parquet(p) => p.write_rows(bytes),
        }
    }

    /// Flushes a byte output; Parquet writes whole row groups as they fill.
    fn flush(&mut self) -> Result<()> {
        match self {
            Output::Bytes(w) => w.flush(),
            Output::Parquet(_) => Ok(()),
        }
    }

    fn written(&self) -> u64 {
        match self {
            Output::Bytes(w) => w.written(),
            Output::Parquet(p) => p.written(),
        }
    }

    /// Writes all that is left (a Parquet footer, the end of a compressed stream), so that
    /// nothing can fail for want of space once the renames start; the byte sink to commit.
    fn finish(self) -> Result<SinkWriter> {
        let mut w = match self {
            Output::Bytes(w) => w,
            Output::Parquet(p) => p.finish()?,
        };
        w.finish()?;
        Ok(w)
    }

    /// The xxh64 of what the output has stored, if kept.
    fn digest(&self) -> Option<u64> {
        match self {
            Output::Bytes(w) => w.digest(),
            Output::Parquet(_) => None,
        }
    }

    /// Syncs a byte output to disk (resumable runs write no Parquet); returns its length as
    /// stored.
    fn sync(&mut self) -> Result<u64> {
        match self {
            Output::Bytes(w) => w.sync(),
            Output::Parquet(p) => Ok(p.written()),
        }
    }
}

/// A resumable run's checkpointing: see [`crate::checkpoint`].
pub(crate) struct Checkpointer {
    pub paths: Paths,
    /// The identity part of every checkpoint (pipeline, inputs, files); the rest is filled in
    /// each time.
    pub base: Checkpoint,
    pub every: Duration,
    pub last: Instant,
    pub gates: GateLog,
}

/// How often buffered sinks (stdout, library writers) are flushed.
const FLUSH_EVERY: Duration = Duration::from_millis(500);

pub(crate) struct Committer {
    ordered: bool,
    out: Output,
    rejects: Option<SinkWriter>,
    pool: Sender<Slot>,
    progress: Arc<Progress>,
    /// Batches that arrived before their turn (ordered mode); at most the slot count.
    waiting: BTreeMap<u64, Slot>,
    next_seq: u64,
    /// The report's counters over the batches written (a checkpoint records them as they
    /// are). In unordered mode batches come in any order: the first reject of an error is the
    /// one of the earliest batch.
    counts: Counters,
    /// Time spent writing and flushing.
    write_time: Duration,
    last_flush: Instant,
    gates: Vec<GateState>,
    source_names: Vec<SourceName>,
    rejects_enc: CsvEncoder,
    out_scratch: Vec<u8>,
    rejects_scratch: Vec<u8>,
    checkpoints: Option<Checkpointer>,
    /// Where the input continues after the last batch written (resumable runs).
    last_position: Option<Position>,
    /// The line just after the last batch committed in order.
    committed_line: Option<u64>,
}

impl Committer {
    pub(crate) fn new(
        ordered: bool,
        out: Output,
        rejects: Option<SinkWriter>,
        pool: Sender<Slot>,
        progress: Arc<Progress>,
        gates: &[Gate],
        source_names: Vec<SourceName>,
    ) -> Committer {
        Committer {
            gates: gates.iter().map(GateState::new).collect(),
            source_names,
            rejects_enc: CsvEncoder::new(&Dialect::new(Format::Csv)),
            out_scratch: Vec::new(),
            rejects_scratch: Vec::new(),
            ordered,
            out,
            rejects,
            pool,
            progress,
            waiting: BTreeMap::new(),
            next_seq: 0,
            counts: Counters::default(),
            write_time: Duration::ZERO,
            last_flush: Instant::now(),
            checkpoints: None,
            last_position: None,
            committed_line: None,
        }
    }

    /// Takes checkpoints as it writes, starting from `from` (a resumed run) and its gate keys.
    pub(crate) fn checkpointed(
        &mut self,
        checkpoints: Checkpointer,
        from: Option<&Checkpoint>,
        keys: Vec<GateEntry>,
    ) {
        if let Some(cp) = from {
            let c = &cp.counters;
            self.counts = c.clone();
            self.next_seq = cp.position.seq;
            self.last_position = Some(cp.position.clone());
            for (gate, passed) in self.gates.iter_mut().zip(&c.heads) {
                if let GateState::Head { passed: p, .. } = gate {
                    *p = *passed;
                }
            }
            for (gate, line, key) in keys {
                if let Some(g) = self.gates.get_mut(gate as usize) {
                    g.restore(key, line);
                }
            }
            let p = &self.progress;
            p.records_read.store(c.read, Ordering::Relaxed);
            p.records_written.store(c.written, Ordering::Relaxed);
            p.records_filtered.store(c.filtered, Ordering::Relaxed);
            p.records_rejected.store(c.rejected, Ordering::Relaxed);
        }
        self.checkpoints = Some(checkpoints);
    }

    /// Makes everything written so far durable, then records it in a new checkpoint.
    fn checkpoint(&mut self, state: State, position: Position) -> Result<()> {
        let Some(cp) = &mut self.checkpoints else {
            return Ok(());
        };
        let t = Instant::now();
        self.out.flush()?;
        let output_len = self.out.sync()?;
        let rejects_len = match &mut self.rejects {
            Some(r) => {
                r.flush()?;
                r.sync()?
            }
            None => 0,
        };
        let (gates_len, gates_hash) = cp.gates.sync()?;
        let c = &mut cp.base;
        c.state = state;
        c.position = position;
        c.output_len = output_len;
        c.output_written = self.out.written();
        c.output_hash = checkpoint::digest_hex(self.out.digest());
        c.rejects_len = rejects_len;
        c.rejects_written = self.rejects.as_ref().map_or(0, SinkWriter::written);
        c.rejects_hash = checkpoint::digest_hex(self.rejects.as_ref().and_then(SinkWriter::digest));
        c.gates_len = gates_len;
        c.gates_hash = gates_hash;
        c.counters = Counters {
            heads: self
                .gates
                .iter()
                .map(|g| match g {
                    GateState::Head { passed, .. } => *passed,
                    _ => 0,
                })
                .collect(),
            ..self.counts.clone()
        };
        c.store(&cp.paths.checkpoint)?;
        cp.last = Instant::now();
        self.write_time += cp.last - t;
        tracing::debug!(
            offset = c.position.offset,
            records = self.counts.read,
            "checkpoint taken"
        );
        Ok(())
    }

    /// The position after `slot`'s chunk, for a checkpoint.
    fn position_after(slot: &Slot) -> Position {
        let data = &slot.chunk.data;
        let tail = &data[data.len().saturating_sub(64 << 10)..];
        Position {
            source: slot.chunk.source,
            offset: slot.chunk.end_offset(),
            stream_offset: slot.stream_end,
            line: slot.end_line,
            seq: slot.chunk.seq + 1,
            tail_len: tail.len() as u64,
            tail_hash: checkpoint::hash_hex(tail),
        }
    }

    /// Takes batches until the workers are done or the run stops.
    pub(crate) fn run(&mut self, rx: &Receiver<Slot>, state: &StopState) -> Result<()> {
        while let Some(slot) = recv_until_stopped(rx, state) {
            self.accept(slot)?;
        }
        if state.is_stopped() {
            // Whatever stopped the run, every batch written so far is whole and in order: a
            // resumable run records them, so that `--resume` loses none of the work.
            if let Some(position) = self.last_position.take() {
                if let Err(e) = self.checkpoint(State::Running, position) {
                    tracing::warn!(error = %e, "no checkpoint at the stop");
                }
            }
            return Ok(());
        }
        if !self.waiting.is_empty() {
            return Err(Error::Panic(format!(
                "chunk {} never arrived (a worker stopped early)",
                self.next_seq
            )));
        }
        let t = Instant::now();
        self.out.flush()?;
        if let Some(r) = &mut self.rejects {
            r.flush()?;
        }
        self.write_time += t.elapsed();
        Ok(())
    }

    fn accept(&mut self, slot: Slot) -> Result<()> {
        if !self.ordered {
            return self.write(slot);
        }
        if slot.chunk.seq != self.next_seq {
            self.waiting.insert(slot.chunk.seq, slot);
            return Ok(());
        }
        self.write(slot)?;
        while let Some(slot) = self.waiting.remove(&self.next_seq) {
            self.write(slot)?;
        }
        Ok(())
    }

    fn write(&mut self, mut slot: Slot) -> Result<()> {
        if let Some(e) = slot.batch.fatal.take() {
            return Err(e);
        }
        if !slot.batch.gated.is_empty() {
            self.apply_gates(&mut slot.batch, &slot.chunk.data, slot.chunk.source)?;
        }
        let b = &slot.batch;
        let t = Instant::now();
        self.out.write_all(&b.out)?;
        if let Some(r) = &mut self.rejects {
            r.write_all(&b.rejects)?;
        }
        self.write_time += t.elapsed();
        self.counts.read += b.read;
        self.counts.written += b.written;
        self.counts.filtered += b.filtered;
        self.counts.rejected += b.rejected;
        self.counts.values_replaced += b.replaced;
        for c in b.reject_counts.iter().filter(|c| c.count > 0) {
            *self
                .counts
                .reject_counts
                .entry(c.error.to_string())
                .or_default() += c.count;
            if let Some(field) = &c.field {
                *self.counts.reject_fields.entry(field.clone()).or_default() += c.count;
            }
            let seq = slot.chunk.seq;
            match self.counts.first_rejects.get_mut(c.error.as_ref()) {
                Some(first) if first.0 <= seq => {}
                Some(first) => *first = (seq, c.first.clone()),
                None => {
                    self.counts
                        .first_rejects
                        .insert(c.error.to_string(), (seq, c.first.clone()));
                }
            }
        }
        self.counts.chunks += 1;
        tracing::trace!(
            seq = slot.chunk.seq,
            records = b.read,
            bytes = b.out.len(),
            "batch written"
        );
        if self.ordered {
            self.next_seq += 1;
            self.counts.committed_offset = slot.chunk.end_offset();
            self.committed_line = Some(slot.end_line);
        }
        if let Some(cp) = &self.checkpoints {
            let position = Self::position_after(&slot);
            if cp.last.elapsed() >= cp.every {
                self.checkpoint(State::Running, position.clone())?;
            }
            self.last_position = Some(position);
        }
        let p = &self.progress;
        p.records_read.fetch_add(b.read, Ordering::Relaxed);
        p.records_written.fetch_add(b.written, Ordering::Relaxed);
        p.records_filtered.fetch_add(b.filtered, Ordering::Relaxed);
        p.records_rejected.fetch_add(b.rejected, Ordering::Relaxed);
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            let t = Instant::now();
            self.out.flush()?;
            if let Some(r) = &mut self.rejects {
                r.flush()?;
            }
            self.last_flush = Instant::now();
            self.write_time += self.last_flush - t;
        }
        // The credit goes back; if the splitter is gone the slot is simply dropped.
        let _ = self.pool.send(slot);
        Ok(())
    }

    /// Decides the gated records of a batch in input order, cutting the bytes of those a gate
    /// stops out of the batch's output or rejects and fixing the counts.
    fn apply_gates(&mut self, b: &mut Batch, input: &[u8], source: usize) -> Result<()> {
        self.out_scratch.clear();
        self.rejects_scratch.clear();
        let (mut out_pos, mut rej_pos) = (0, 0);
        let mut changed = false;
        for g in &b.gated {
            let mut verdict = None;
            for &(gate, key) in &b.claims[g.claims.0..g.claims.1] {
                let state = &mut self.gates[gate as usize];
                verdict = state.decide(key, g.line)?;
                if verdict.is_some() {
                    break;
                }
                if let Some(cp) = self.checkpoints.as_mut().filter(|_| state.keeps_keys()) {
                    cp.gates.push((gate, g.line, key));
                }
            }
            let Some(verdict) = verdict else { continue };
            if matches!(verdict, Verdict::Reject { .. }) && matches!(g.fate, Fate::Rejected(_)) {
                // A record already rejected keeps its first reason (frictionless lists a row's
                // cell errors before its unique-error); its key was still registered.
                continue;
            }
            changed = true;
            self.out_scratch.extend_from_slice(&b.out[out_pos..g.out.0]);
            out_pos = g.out.1;
            self.rejects_scratch
                .extend_from_slice(&b.rejects[rej_pos..g.rejects.0]);
            rej_pos = g.rejects.1;
            match g.fate {
                Fate::Written => b.written -= 1,
                Fate::Filtered => b.filtered -= 1,
                Fate::Rejected(i) => {
                    b.rejected -= 1;
                    b.reject_counts[i].count -= 1;
                }
            }
            match verdict {
                Verdict::Filter => b.filtered += 1,
                Verdict::Reject { field, message } => {
                    b.rejected += 1;
                    match b
                        .reject_counts
                        .iter_mut()
                        .find(|c| c.error == "unique-error" && c.field.as_ref() == Some(&field))
                    {
                        Some(c) => c.count += 1,
                        None => b.reject_counts.push(RejectCount {
                            error: Cow::Borrowed("unique-error"),
                            field: Some(field.clone()),
                            count: 1,
                            first: FirstReject {
                                file: self.source_names[source].as_str().to_string(),
                                line: g.line,
                                byte_offset: g.offset,
                                field: Some(field.clone()),
                                message: message.clone(),
                            },
                        }),
                    }
                    let (line, offset) = (g.line.to_string(), g.offset.to_string());
                    let row: [&[u8]; 7] = [
                        self.source_names[source].as_str().as_bytes(),
                        line.as_bytes(),
                        offset.as_bytes(),
                        field.as_bytes(),
                        b"unique-error",
                        message.as_bytes(),
                        &input[g.raw.0..g.raw.1],
                    ];
                    self.rejects_enc.record(&mut self.rejects_scratch, row);
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
        Ok(())
    }

    /// The input offset and line just after the last batch committed in order, if any.
    pub(crate) fn committed_end(&self) -> Option<(u64, u64)> {
        self.committed_line
            .map(|line| (self.counts.committed_offset, line))
    }

    pub(crate) fn fill_report(&self, report: &mut Report) {
        self.counts.fill_report(report);
        report.stages.committer.write_seconds = self.write_time.as_secs_f64();
        report.bytes_written = self.out.written();
    }

    /// Makes the outputs final together with the report: all appear, or none changes (see
    /// [`crate::sink::commit_all`]). `report` is given the xxh64 of the output and the rejects
    /// as stored (where kept) once they are finished, and returns the report's writer, if any.
    /// A resumable run records that it is committing first, and that it is complete after.
    pub(crate) fn commit(
        mut self,
        report: impl FnOnce(Option<u64>, Option<u64>) -> Result<Option<SinkWriter>>,
    ) -> Result<()> {
        if let Some(position) = self.last_position.clone() {
            self.checkpoint(State::Committing, position)?;
            crate::sink::crash_point(format_args!("committing recorded"));
        }
        let out = self.out.finish()?;
        if let Some(r) = &mut self.rejects {
            r.finish()?;
        }
        let report = report(
            out.digest(),
            self.rejects.as_ref().and_then(SinkWriter::digest),
        )?;
        let members: Vec<SinkWriter> = self
            .rejects
            .into_iter()
            .chain(report)
            .chain([out])
            .collect();
        crate::sink::commit_all(members)?;
        crate::sink::crash_point(format_args!("committed"));
        if let Some(mut cp) = self.checkpoints {
            // The keys are not needed any more: a crash from here on finds the outputs in place.
            let _ = std::fs::remove_file(&cp.paths.gates);
            cp.base.state = State::Complete;
            cp.base.store(&cp.paths.checkpoint)?;
        }
        Ok(())
    }
}

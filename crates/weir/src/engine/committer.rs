//! The committer: the only writer. Puts batches in input order (or not, if asked), has the
//! ordered gates (`super::gate`) decide their gated records, writes them, returns their slots
//! to the pool, takes a resumable run's checkpoints, and commits the outputs at the end.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::batch::{Rejected, Slot};
use super::gate::Gates;
use super::stop::{recv_until_stopped, StopState};
use crate::checkpoint::{
    self, Checkpoint, CommittedCounts, GateEntry, GateLog, Paths, Position, State,
};
use crate::error::{CommonReject, Error, RejectBudget, RejectsOverBudget, Result, SourceName};
use crate::format::csv::CsvEncoder;
use crate::format::{Dialect, Format};
use crate::report::{Progress, Report};
use crate::sink::{Output, RejectsFormat, SinkWriter};
use crate::transform::Gate;

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

/// A record boundary in an input: its byte offset and the line that starts there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Boundary {
    pub(crate) offset: u64,
    pub(crate) line: u64,
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
    counts: CommittedCounts,
    /// Time spent writing and flushing.
    write_time: Duration,
    last_flush: Instant,
    /// The ordered gates, deciding the gated records of each batch in input order.
    gates: Gates,
    checkpoints: Option<Checkpointer>,
    /// Where the input continues after the last batch written (resumable runs).
    last_position: Option<Position>,
    /// The line just after the last batch committed in order.
    committed_line: Option<u64>,
    /// How many rejects the run accepts before it fails.
    max_rejects: Option<RejectBudget>,
    /// Where the chunk holding the record that ended the run early ends in the input stream:
    /// as far as the run read, in the report (the splitter may have read ahead of it).
    early_end: Option<u64>,
    /// With rejects in the input's format, the sidecar their reasons go to.
    reasons: Option<Reasons>,
}

/// The reasons sidecar of input-format rejects, and the line the next rejected record starts
/// on in the rejects file.
pub(crate) struct Reasons {
    writer: SinkWriter,
    next_line: u64,
    enc: CsvEncoder,
    rows: Vec<u8>,
}

impl Reasons {
    /// Reasons written to `writer` (its header written already), for a rejects file whose
    /// first record will start on `first_line`.
    pub(crate) fn new(writer: SinkWriter, first_line: u64) -> Reasons {
        Reasons {
            writer,
            next_line: first_line,
            enc: CsvEncoder::new(&Dialect::new(Format::Csv)),
            rows: Vec::new(),
        }
    }

    /// Writes the reasons of a batch's rejected records, each linked to the line its record
    /// starts on in the rejects file.
    fn write(&mut self, rejected: &[Rejected]) -> Result<()> {
        self.rows.clear();
        for r in rejected {
            let rejects_line = match r.lines {
                Some(lines) => {
                    let at = self.next_line;
                    self.next_line += lines;
                    at.to_string()
                }
                None => String::new(),
            };
            let (line, offset) = (r.line.to_string(), r.offset.to_string());
            for e in r.reject.all() {
                let row: [&[u8]; 7] = [
                    r.file.as_str().as_bytes(),
                    line.as_bytes(),
                    offset.as_bytes(),
                    e.field.as_deref().unwrap_or("").as_bytes(),
                    e.error.as_bytes(),
                    e.message.as_bytes(),
                    rejects_line.as_bytes(),
                ];
                self.enc.record(&mut self.rows, row);
            }
        }
        self.writer.write_all(&self.rows)
    }
}

impl Committer {
    pub(crate) fn new(
        ordered: bool,
        out: Output,
        rejects: Option<SinkWriter>,
        pool: Sender<Slot>,
        progress: Arc<Progress>,
        (gates, bounding): (&[Gate], &[bool]),
        source_names: Vec<SourceName>,
    ) -> Committer {
        Committer {
            gates: Gates::new(gates, bounding, source_names),
            ordered,
            out,
            rejects,
            pool,
            progress,
            waiting: BTreeMap::new(),
            next_seq: 0,
            counts: CommittedCounts::default(),
            write_time: Duration::ZERO,
            last_flush: Instant::now(),
            checkpoints: None,
            last_position: None,
            committed_line: None,
            max_rejects: None,
            early_end: None,
            reasons: None,
        }
    }

    /// Writes rejects in the input's format, their reasons to `reasons`.
    pub(crate) fn with_reasons(&mut self, reasons: Reasons) {
        self.gates.rejects_format(RejectsFormat::Input);
        self.reasons = Some(reasons);
    }

    /// Lists the gates' errors of a record rejected already too (see
    /// [`crate::transform::Transform::lists_all_errors`]).
    pub(crate) fn list_all_errors(&mut self) {
        self.gates.list_all_errors();
    }

    /// Fails the run once more records are rejected than `budget` allows (see
    /// [`Committer::check_budget`]).
    pub(crate) fn max_rejects(&mut self, budget: Option<RejectBudget>) {
        self.max_rejects = budget;
    }

    /// The rejects budget, judged on what is committed so far: an absolute count as soon as
    /// it is passed (`whole_input` false, after each batch), a percentage only over the whole
    /// input (`whole_input` true, before the commit).
    pub(crate) fn check_budget(&self, whole_input: bool) -> Result<()> {
        let Some(budget) = self.max_rejects else {
            return Ok(());
        };
        let c = &self.counts;
        if matches!(budget, RejectBudget::Percent(_)) && !whole_input
            || !budget.exceeded(c.records_rejected, c.records_read)
        {
            return Ok(());
        }
        // The most common reason (the first name among equals), with its first record.
        let most_common = c
            .rejects_by_error
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(error, &count)| {
                let first = c.first_rejects.get(error).map(|(_, f)| f);
                CommonReject {
                    error: error.clone(),
                    count,
                    file: first.map_or_else(String::new, |f| f.file.clone()),
                    line: first.map_or(0, |f| f.line),
                    message: first.map_or_else(String::new, |f| f.message.clone()),
                }
            });
        Err(Error::TooManyRejects(Box::new(RejectsOverBudget {
            budget,
            rejected: c.records_rejected,
            read: c.records_read,
            most_common,
        })))
    }

    /// Takes checkpoints as it writes, starting from `from` (a resumed run) and its gate keys.
    pub(crate) fn checkpointed(
        &mut self,
        checkpoints: Checkpointer,
        from: Option<&Checkpoint>,
        keys: Vec<GateEntry>,
    ) {
        if let Some(cp) = from {
            if let (Some(r), Some(kept)) = (&mut self.reasons, &cp.reasons) {
                r.next_line = kept.next_line;
            }
            let c = &cp.counters;
            self.counts = c.clone();
            if c.stopped_early.is_some() {
                // Stopped just after the run ended early: it read as far as the chunk that
                // ended it, where the checkpoint is (not as far as this run's splitter reads).
                self.early_end = Some(cp.position.stream_offset);
            }
            self.next_seq = cp.position.seq;
            self.last_position = Some(cp.position.clone());
            self.gates.restore(&c.heads, keys);
            let p = &self.progress;
            p.records_read.store(c.records_read, Ordering::Relaxed);
            p.records_written
                .store(c.records_written, Ordering::Relaxed);
            p.records_filtered
                .store(c.records_filtered, Ordering::Relaxed);
            p.records_rejected
                .store(c.records_rejected, Ordering::Relaxed);
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
        if let (Some(r), Some(kept)) = (&mut self.reasons, &mut c.reasons) {
            r.writer.flush()?;
            kept.len = r.writer.sync()?;
            kept.written = r.writer.written();
            kept.hash = checkpoint::digest_hex(r.writer.digest());
            kept.next_line = r.next_line;
        }
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
        c.counters = CommittedCounts {
            heads: self.gates.heads(),
            ..self.counts.clone()
        };
        c.store(&cp.paths.checkpoint)?;
        cp.last = Instant::now();
        self.write_time += cp.last - t;
        tracing::debug!(
            offset = c.position.offset,
            records = self.counts.records_read,
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

    /// Takes batches until the workers are done, the run stops, or every record the output
    /// can take is decided (then the splitter and the workers are stopped, and the run ends
    /// as if the input ended there).
    pub(crate) fn run(&mut self, rx: &Receiver<Slot>, state: &StopState) -> Result<()> {
        while let Some(slot) = recv_until_stopped(rx, state) {
            self.accept(slot)?;
            if self.counts.stopped_early.is_some() {
                state.finish_early();
                // The slots go back, so that a splitter waiting for one sees the end at once.
                for (_, slot) in std::mem::take(&mut self.waiting) {
                    let _ = self.pool.send(slot);
                }
                break;
            }
        }
        if state.is_aborted() {
            // Whatever stopped the run, every batch written so far is whole and in order: a
            // resumable run records them, so that `--resume` loses none of the work.
            if let Some(position) = self.last_position.take() {
                if let Err(e) = self.checkpoint(State::Running, position) {
                    tracing::warn!(error = %e, "no checkpoint at the stop");
                }
            }
            return Ok(());
        }
        if !self.waiting.is_empty() && self.counts.stopped_early.is_none() {
            return Err(Error::Panic(format!(
                "chunk {} never arrived (a worker stopped early)",
                self.next_seq
            )));
        }
        let t = Instant::now();
        self.flush()?;
        self.write_time += t.elapsed();
        Ok(())
    }

    /// Hands what the output, the rejects and the reasons buffer to their files.
    fn flush(&mut self) -> Result<()> {
        self.out.flush()?;
        if let Some(r) = &mut self.rejects {
            r.flush()?;
        }
        if let Some(r) = &mut self.reasons {
            r.writer.flush()?;
        }
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
        if self.counts.stopped_early.is_some() {
            // After the record that ended the run: not read, as far as the run goes.
            let _ = self.pool.send(slot);
            return Ok(());
        }
        if let Some(e) = slot.error.take() {
            return Err(e);
        }
        let mut early = None;
        if !slot.batch.gated.is_empty() || self.gates.output_closed() {
            let log = self.checkpoints.as_mut().map(|cp| &mut cp.gates);
            let (batch, chunk) = (&mut slot.batch, &slot.chunk);
            early = self.gates.apply(batch, &chunk.data, chunk.source, log)?;
        }
        // A batch's error is at a record after all its gated ones: a run that ended at one of
        // them never reaches it.
        if let Some(e) = slot.batch.fatal.take().filter(|_| early.is_none()) {
            return Err(e);
        }
        let b = &slot.batch;
        let t = Instant::now();
        self.out.write_all(&b.out)?;
        if let Some(r) = &mut self.rejects {
            r.write_all(&b.rejects)?;
        }
        if let Some(r) = &mut self.reasons {
            r.write(&b.rejected)?;
        }
        self.write_time += t.elapsed();
        self.counts.records_read += b.records_read;
        self.counts.records_written += b.records_written;
        self.counts.records_filtered += b.records_filtered;
        self.counts.records_rejected += b.records_rejected;
        self.counts.reject_errors += b.reject_errors;
        self.counts.values_replaced += b.values_replaced;
        for c in b.reject_counts.iter().filter(|c| c.count > 0) {
            *self
                .counts
                .rejects_by_error
                .entry(c.error.to_string())
                .or_default() += c.count;
            if let Some(field) = &c.field {
                *self
                    .counts
                    .rejects_by_field
                    .entry(field.clone())
                    .or_default() += c.count;
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
        if let Some(early) = early {
            tracing::info!(input = %early.input, line = ?early.line, "every record the output can take is decided: the run ends here");
            self.counts.stopped_early = Some(early);
            self.early_end = Some(slot.stream_end);
        }
        self.check_budget(false)?;
        tracing::trace!(
            seq = slot.chunk.seq,
            records = b.records_read,
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
        p.records_read.fetch_add(b.records_read, Ordering::Relaxed);
        p.records_written
            .fetch_add(b.records_written, Ordering::Relaxed);
        p.records_filtered
            .fetch_add(b.records_filtered, Ordering::Relaxed);
        p.records_rejected
            .fetch_add(b.records_rejected, Ordering::Relaxed);
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            let t = Instant::now();
            self.flush()?;
            self.last_flush = Instant::now();
            self.write_time += self.last_flush - t;
        }
        // The credit goes back; if the splitter is gone the slot is simply dropped.
        let _ = self.pool.send(slot);
        Ok(())
    }

    /// Where the input continues after the last batch committed in order, if any.
    pub(crate) fn committed_end(&self) -> Option<Boundary> {
        self.committed_line.map(|line| Boundary {
            offset: self.counts.committed_offset,
            line,
        })
    }

    /// Where the input stream was read to, when the run ended early (see `early_end`).
    pub(crate) fn early_end(&self) -> Option<u64> {
        self.early_end
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
        if let Some(r) = &mut self.reasons {
            r.writer.finish()?;
        }
        let report = report(
            out.digest(),
            self.rejects.as_ref().and_then(SinkWriter::digest),
        )?;
        let members: Vec<SinkWriter> = self
            .rejects
            .into_iter()
            .chain(self.reasons.map(|r| r.writer))
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

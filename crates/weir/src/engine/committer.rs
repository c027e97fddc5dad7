//! The committer: the only writer. Puts batches in input order (or not, if asked), writes them,
//! returns their slots to the pool, and commits the outputs at the end.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::stop::StopState;
use super::Slot;
use crate::error::{Error, Result};
use crate::report::{Progress, Report};
use crate::sink::SinkWriter;

/// How often buffered sinks (stdout, library writers) are flushed.
const FLUSH_EVERY: Duration = Duration::from_millis(500);

pub(crate) struct Committer {
    ordered: bool,
    out: SinkWriter,
    rejects: Option<SinkWriter>,
    pool: Sender<Slot>,
    progress: Arc<Progress>,
    /// Batches that arrived before their turn (ordered mode); at most the slot count.
    waiting: BTreeMap<u64, Slot>,
    next_seq: u64,
    read: u64,
    written: u64,
    filtered: u64,
    rejected: u64,
    reject_counts: BTreeMap<String, u64>,
    committed_offset: u64,
    chunks: u64,
    last_flush: Instant,
}

impl Committer {
    pub(crate) fn new(
        ordered: bool,
        out: SinkWriter,
        rejects: Option<SinkWriter>,
        pool: Sender<Slot>,
        progress: Arc<Progress>,
    ) -> Committer {
        Committer {
            ordered,
            out,
            rejects,
            pool,
            progress,
            waiting: BTreeMap::new(),
            next_seq: 0,
            read: 0,
            written: 0,
            filtered: 0,
            rejected: 0,
            reject_counts: BTreeMap::new(),
            committed_offset: 0,
            chunks: 0,
            last_flush: Instant::now(),
        }
    }

    /// Takes batches until the workers are done or the run stops.
    pub(crate) fn run(&mut self, rx: &Receiver<Slot>, state: &StopState) -> Result<()> {
        loop {
            if state.is_stopped() {
                return Ok(());
            }
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(slot) => self.accept(slot)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        if !self.waiting.is_empty() && !state.is_stopped() {
            return Err(Error::Panic(format!(
                "chunk {} never arrived (a worker stopped early)",
                self.next_seq
            )));
        }
        self.out.flush()?;
        if let Some(r) = &mut self.rejects {
            r.flush()?;
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

    fn write(&mut self, slot: Slot) -> Result<()> {
        let b = &slot.batch;
        self.out.write_all(&b.out)?;
        if let Some(r) = &mut self.rejects {
            r.write_all(&b.rejects)?;
        }
        self.read += b.read;
        self.written += b.written;
        self.filtered += b.filtered;
        self.rejected += b.rejected;
        for (error, n) in &b.reject_counts {
            *self.reject_counts.entry(error.to_string()).or_default() += n;
        }
        self.chunks += 1;
        if self.ordered {
            self.next_seq += 1;
            self.committed_offset = slot.chunk.end_offset();
        }
        let p = &self.progress;
        p.records_read.fetch_add(b.read, Ordering::Relaxed);
        p.records_written.fetch_add(b.written, Ordering::Relaxed);
        p.records_filtered.fetch_add(b.filtered, Ordering::Relaxed);
        p.records_rejected.fetch_add(b.rejected, Ordering::Relaxed);
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.out.flush()?;
            if let Some(r) = &mut self.rejects {
                r.flush()?;
            }
            self.last_flush = Instant::now();
        }
        // The credit goes back; if the splitter is gone the slot is simply dropped.
        let _ = self.pool.send(slot);
        Ok(())
    }

    pub(crate) fn fill_report(&self, report: &mut Report) {
        report.records_read = self.read;
        report.records_written = self.written;
        report.records_filtered = self.filtered;
        report.records_rejected = self.rejected;
        report.rejects_by_error = self.reject_counts.clone();
        report.committed_offset = self.committed_offset;
        report.chunks = self.chunks;
        report.bytes_written = self.out.written();
    }

    /// Makes the outputs final (rejects first, so a visible output always has its rejects).
    pub(crate) fn commit(self) -> Result<()> {
        if let Some(r) = self.rejects {
            r.commit()?;
        }
        self.out.commit()
    }
}

//! The splitter thread: reads the inputs one after the other as one stream, cuts chunks at
//! record boundaries and hands them to the workers, a free slot at a time.

use std::io::{BufReader, Read};
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

use crate::error::{Error, Result, SourceName};
use crate::format::Dialect;
use crate::record::Columns;
use crate::report::Progress;
use crate::source::Source;
use crate::split::{Chunk, Oversized, Splitter, SplitterBuilder};
use crate::units::plural;

use super::batch::Slot;
use super::prologue::read_header;
use super::stop::{recv_until_stopped, StopState};
use super::timed::{self};

/// How a run cuts its inputs into chunks: the same for every input, and for a resumed or
/// sharded start.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chunking {
    pub(super) dialect: Dialect,
    pub(super) chunk_size: usize,
    pub(super) max_record_size: usize,
    pub(super) oversized: Oversized,
}

/// The splitter every run reads through.
pub(super) type RunSplitter = Splitter<BufReader<Box<dyn Read + Send>>>;

impl Chunking {
    /// A splitter over `reader` (named `name` in errors and rejects), its reads timed into
    /// `progress`.
    pub(super) fn splitter(
        &self,
        reader: Box<dyn Read + Send>,
        progress: &Progress,
        name: SourceName,
    ) -> RunSplitter {
        SplitterBuilder::new(self.dialect.framing())
            .chunk_size(self.chunk_size)
            .max_record_size(self.max_record_size)
            .oversized(self.oversized)
            .build(
                BufReader::with_capacity(64 << 10, timed::TimedRead::boxed(reader, progress)),
                name,
            )
    }
}

/// The inputs after the first, and what the splitter needs to read them like the first.
pub(super) struct Inputs {
    pub(super) rest: Vec<Source>,
    /// The index of the first input split (not 0 when a resumed run starts in a later one).
    pub(super) first_index: usize,
    /// The offset in the whole input stream of the first input's byte 0.
    pub(super) first_base: u64,
    pub(super) header: Columns,
    pub(super) chunking: Chunking,
    pub(super) first_name: SourceName,
}

impl Inputs {
    /// Splits the first input, then each of the others in turn into the same chunk stream:
    /// sequence numbers continue, a CSV header is checked against the first and skipped.
    pub(super) fn split_all(
        self,
        first_splitter: &mut Splitter<BufReader<Box<dyn Read + Send>>>,
        first_chunk: Option<Chunk>,
        pool: &Receiver<Slot>,
        work: &Sender<Slot>,
        state: &StopState,
        progress: &Progress,
    ) -> Result<()> {
        let dialect = self.chunking.dialect;
        split_loop(
            first_splitter,
            first_chunk,
            self.first_index,
            self.first_base,
            pool,
            work,
            state,
            progress,
        )?;
        let mut seq = first_splitter.next_seq();
        let mut base = self.first_base + first_splitter.offset();
        for (i, source) in self.rest.into_iter().enumerate() {
            if state.is_stopped() {
                return Ok(());
            }
            let name = source.name();
            let opened = source.open_counted(progress).and_then(|(reader, _)| {
                let mut splitter = self.chunking.splitter(reader, progress, name.clone());
                splitter.set_next_seq(seq);
                if dialect.has_header() {
                    if let Some(header) = read_header(&mut splitter, &dialect)? {
                        let names = header.names;
                        if names != self.header.names() {
                            return Err(Error::HeaderMismatch {
                                source_name: name.clone(),
                                first: self.first_name.clone(),
                                detail: header_difference(self.header.names(), &names),
                            });
                        }
                    }
                }
                Ok(splitter)
            });
            let mut splitter = match opened {
                Ok(splitter) => splitter,
                Err(e) => return send_error(e, seq, pool, work, state),
            };
            split_loop(
                &mut splitter,
                None,
                self.first_index + i + 1,
                base,
                pool,
                work,
                state,
                progress,
            )?;
            seq = splitter.next_seq();
            base += splitter.offset();
        }
        Ok(())
    }
}

/// How two headers differ, for a message: the first column that does.
pub(super) fn header_difference(first: &[String], other: &[String]) -> String {
    for (i, (a, b)) in first.iter().zip(other).enumerate() {
        if a != b {
            return format!("column {} is '{b}', not '{a}'", i + 1);
        }
    }
    format!(
        "it has {}, not {}",
        plural(other.len(), "column"),
        first.len()
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn split_loop<R: Read>(
    splitter: &mut Splitter<R>,
    mut first: Option<Chunk>,
    source: usize,
    base_offset: u64,
    pool: &Receiver<Slot>,
    work: &Sender<Slot>,
    state: &StopState,
    progress: &Progress,
) -> Result<()> {
    loop {
        // Take a credit: wait for a free slot, watching for a stop (which may have come while
        // waiting: the committer gives the slots back when the run ends early).
        let Some(mut slot) = recv_until_stopped(pool, state).filter(|_| !state.is_stopped()) else {
            return Ok(());
        };
        if let Some(chunk) = first.take() {
            let buf = std::mem::replace(&mut slot.chunk, chunk);
            drop(buf);
        } else {
            let t = Instant::now();
            let more = match splitter.next_chunk(&mut slot.chunk) {
                Ok(more) => more,
                Err(e) => {
                    let seq = splitter.next_seq();
                    return send_in(slot, e, seq, work, state);
                }
            };
            let spent = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
            progress.split_nanos.fetch_add(spent, Ordering::Relaxed);
            if !more {
                return Ok(());
            }
        }
        slot.chunk.source = source;
        slot.stream_end = base_offset + splitter.offset();
        slot.end_line = splitter.line();
        progress
            .bytes_read
            .store(slot.stream_end, Ordering::Relaxed);
        if work.send(slot).is_err() {
            return Ok(());
        }
    }
}

/// Sends the splitter's error `e` to the committer in input order, as the (empty) chunk `seq`
/// would have been, in a slot taken from `pool`; `Err(e)` when the run stopped first.
fn send_error(
    e: Error,
    seq: u64,
    pool: &Receiver<Slot>,
    work: &Sender<Slot>,
    state: &StopState,
) -> Result<()> {
    match recv_until_stopped(pool, state) {
        Some(slot) => send_in(slot, e, seq, work, state),
        None => Err(e),
    }
}

/// [`send_error`] in `slot`.
fn send_in(
    mut slot: Slot,
    e: Error,
    seq: u64,
    work: &Sender<Slot>,
    state: &StopState,
) -> Result<()> {
    if state.is_stopped() {
        return Err(e);
    }
    slot.chunk.data.clear();
    slot.chunk.oversized = None;
    slot.chunk.seq = seq;
    slot.error = Some(e);
    match work.send(slot) {
        Ok(()) => Ok(()),
        Err(back) => Err(back.0.error.expect("the error just put there")),
    }
}

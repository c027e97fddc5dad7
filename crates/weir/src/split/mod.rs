//! Framing: cutting a byte stream into record-aligned [`Chunk`]s.
//!
//! The [`Splitter`] reads large blocks from a source and cuts each one after the last record
//! terminator that lies outside quotes, carrying the unfinished tail into the next block. The
//! quote model is the one the CSV parser in [`crate::format::csv`] uses (csv-core's, Python's):
//! a quote opens a quoted field only at the start of a field, `""` inside quotes is a literal
//! quote, and text after a closing quote continues the field unquoted. The scanner only needs the
//! quote bytes to follow that model (see [`csv::QuoteScanner`]), so it runs at `memchr` speed.
//!
//! Nothing here knows about the engine; the scanners work on byte slices and are fuzzable alone.

pub mod csv;

use std::io::Read;

use memchr::memchr_iter;

use crate::error::{Error, Result};
use crate::source::SourceName;

/// How records are delimited in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// CSV-like: a record ends at `\n`, `\r\n` or a lone `\r` outside quotes.
    Quoted {
        /// The quote byte; a terminator between an opening and a closing quote is data.
        quote: u8,
        /// The field delimiter (needed to tell a field-start quote from a literal one).
        delimiter: u8,
    },
    /// One record per line: a record ends at `\n` (JSON Lines, plain lines, unquoted CSV).
    Lines,
}

/// A record-aligned piece of the input, the unit of parallel work.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Position in the input, from 0; the committer orders output by it.
    pub seq: u64,
    /// Physical line number (1-based) of the chunk's first byte.
    pub first_line: u64,
    /// Byte offset of the chunk's first byte in the (decompressed) input.
    pub offset: u64,
    /// Which input the chunk comes from (its index in the run's list of inputs).
    pub source: usize,
    /// The bytes: whole records only (the last one may lack its terminator at end of input).
    pub data: Vec<u8>,
}

impl Chunk {
    /// Byte offset just after this chunk: everything before it is in this or earlier chunks.
    pub fn end_offset(&self) -> u64 {
        self.offset + self.data.len() as u64
    }
}

/// Counts physical lines in `bytes`: every `\n`, and every `\r` not followed by `\n`.
/// `next` is the byte after the slice, if known, so a `\r\n` split across slices counts once.
pub fn count_lines(bytes: &[u8], next: Option<u8>) -> u64 {
    let lf = memchr_iter(b'\n', bytes).count() as u64;
    let lone_cr = memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1).copied().or(next) != Some(b'\n'))
        .count() as u64;
    lf + lone_cr
}

/// Configuration of a [`Splitter`].
#[derive(Debug, Clone)]
pub struct SplitterBuilder {
    framing: Framing,
    chunk_size: usize,
    max_record_size: usize,
}

impl SplitterBuilder {
    /// A builder for the given framing with the default sizes (1 MiB chunks, 64 MiB records).
    pub fn new(framing: Framing) -> SplitterBuilder {
        SplitterBuilder {
            framing,
            chunk_size: 1 << 20,
            max_record_size: 64 << 20,
        }
    }

    /// Target chunk size in bytes (at least 1). A chunk is cut after the last record boundary
    /// within this many bytes; a record longer than this becomes a chunk of its own.
    pub fn chunk_size(&mut self, bytes: usize) -> &mut SplitterBuilder {
        self.chunk_size = bytes.max(1);
        self
    }

    /// The largest record accepted; a longer one stops the run with [`Error::RecordTooLarge`]
    /// before more than this many bytes of it are held in memory.
    pub fn max_record_size(&mut self, bytes: usize) -> &mut SplitterBuilder {
        self.max_record_size = bytes.max(1);
        self
    }

    /// Builds a splitter reading from `reader`. A leading UTF-8 byte order mark is skipped.
    pub fn build<R: Read>(&self, reader: R, name: SourceName) -> Splitter<R> {
        Splitter {
            reader,
            name,
            framing: self.framing,
            chunk_size: self.chunk_size,
            max_record_size: self.max_record_size,
            scanner: csv::QuoteScanner::default(),
            carry: Vec::new(),
            seq: 0,
            line: 1,
            offset: 0,
            started: false,
            eof: false,
        }
    }
}

/// Cuts a byte stream into record-aligned chunks; see the module documentation.
pub struct Splitter<R> {
    reader: R,
    name: SourceName,
    framing: Framing,
    chunk_size: usize,
    max_record_size: usize,
    scanner: csv::QuoteScanner,
    /// Bytes read past the last cut: the start of the next chunk (always a record start).
    carry: Vec<u8>,
    seq: u64,
    line: u64,
    offset: u64,
    started: bool,
    eof: bool,
}

impl<R: Read> Splitter<R> {
    /// The physical line number the next chunk starts at.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The input byte offset the next chunk starts at.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The sequence number the next chunk gets.
    pub fn next_seq(&self) -> u64 {
        self.seq
    }

    /// Continues numbering chunks from `seq` (the inputs after the first carry on the first's
    /// numbering, so the committer sees one stream).
    pub fn set_next_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// Fills `chunk` (its buffer is reused) with the next run of whole records of about the
    /// chunk size. Returns `Ok(false)` at the end of the input.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        let filled = self.fill_chunk(chunk, self.chunk_size, Cut::Last)?;
        if filled {
            chunk.seq = self.seq;
            self.seq += 1;
        }
        Ok(filled)
    }

    /// Fills `chunk` with exactly the next record (used for a header row). It takes no
    /// sequence number: data chunks are numbered from 0 whatever precedes them.
    pub fn next_record(&mut self, chunk: &mut Chunk) -> Result<bool> {
        self.fill_chunk(chunk, 1, Cut::First)
    }

    fn fill_chunk(&mut self, chunk: &mut Chunk, target: usize, cut: Cut) -> Result<bool> {
        let buf = &mut chunk.data;
        buf.clear();
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        if !self.started {
            self.started = true;
            self.read_at_least(buf, 3)?;
            if buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
                self.offset = 3;
            }
        }
        // The carry starts at a record boundary; the scanner starts afresh on it.
        let mut scanned = 0;
        let mut want = target;
        loop {
            if buf.len() < want && !self.eof {
                self.read_at_least(buf, want)?;
            }
            let boundary = match self.framing {
                Framing::Quoted { quote, delimiter } => {
                    self.scanner.scan(buf, quote, delimiter, self.eof, cut)
                }
                Framing::Lines => csv::line_boundary(buf, scanned, cut),
            };
            scanned = buf.len();
            if let Some(end) = boundary {
                self.finish(chunk, end);
                return Ok(true);
            }
            if self.eof {
                if buf.is_empty() {
                    return Ok(false);
                }
                if let Some(open) = self.scanner.unterminated_quote() {
                    let line = self.line + count_lines(&buf[..open], None);
                    return Err(Error::UnterminatedQuote {
                        source_name: self.name.clone(),
                        line,
                        byte_offset: self.offset + open as u64,
                    });
                }
                let end = buf.len();
                self.finish(chunk, end);
                return Ok(true);
            }
            if buf.len() > self.max_record_size {
                return Err(Error::RecordTooLarge {
                    source_name: self.name.clone(),
                    line: self.line,
                    byte_offset: self.offset,
                    limit: self.max_record_size,
                });
            }
            // No boundary yet: the record is longer than the target; read on in steps that
            // double the buffer, never past the record-size bound.
            want = (buf.len() * 2).max(want + 1).min(self.max_record_size + 1);
        }
    }

    /// Cuts `chunk.data` at `end`, keeping the rest as the carry, and stamps the chunk.
    fn finish(&mut self, chunk: &mut Chunk, end: usize) {
        let buf = &mut chunk.data;
        self.carry.extend_from_slice(&buf[end..]);
        buf.truncate(end);
        self.scanner = csv::QuoteScanner::default();
        chunk.first_line = self.line;
        chunk.offset = self.offset;
        self.line += count_lines(buf, self.carry.first().copied());
        self.offset += end as u64;
    }

    /// Reads until `buf` holds at least `want` bytes or the input ends.
    fn read_at_least(&mut self, buf: &mut Vec<u8>, want: usize) -> Result<()> {
        while buf.len() < want && !self.eof {
            let start = buf.len();
            // Grow to exactly what is asked: a long record must not make the buffer overshoot
            // the record-size bound by Vec's doubling.
            buf.reserve_exact(want - start);
            // `take` bounds the read; `read_to_end` fills the spare capacity without zeroing
            // it first (files read into uninitialised memory), which a resize would do for
            // every chunk.
            let limit = (want - start) as u64;
            match (&mut self.reader).take(limit).read_to_end(buf) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(start);
                    return Err(Error::Read {
                        source_name: self.name.clone(),
                        source: e,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Which boundary a scan should report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The last record boundary in the scanned bytes (chunking).
    Last,
    /// The first record boundary (reading a header row).
    First,
}

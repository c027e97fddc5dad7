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

use crate::error::{Error, Result, SourceName};

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

/// What happens to a record longer than the maximum record size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Oversized {
    /// The run stops with [`Error::RecordTooLarge`] (the default).
    #[default]
    Stop,
    /// The record is rejected (`record-too-large`, with its first 1,024 bytes as
    /// the raw record) and the run goes on with the next one. The splitter skips the rest of
    /// the record in bounded memory, still following quotes and counting lines.
    Reject,
}

impl std::str::FromStr for Oversized {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Oversized, String> {
        match s {
            "stop" => Ok(Oversized::Stop),
            "reject" => Ok(Oversized::Reject),
            _ => Err(format!("'{s}' is not stop or reject")),
        }
    }
}

impl std::fmt::Display for Oversized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Oversized::Stop => "stop",
            Oversized::Reject => "reject",
        })
    }
}

/// How much of an oversized record a reject keeps as its raw record.
pub const OVERSIZED_HEAD: usize = 1024;

/// A record longer than the maximum that the splitter skipped (with [`Oversized::Reject`]).
#[derive(Debug, Clone, Default)]
pub struct OversizedRecord {
    /// Physical line (1-based) where it starts.
    pub line: u64,
    /// Input byte offset where it starts.
    pub offset: u64,
    /// Its length in bytes, with its terminator.
    pub len: u64,
    /// Its first [`OVERSIZED_HEAD`] bytes (fewer if it is shorter).
    pub head: Vec<u8>,
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
    /// A record too long to hold that was skipped; a chunk that has one has no `data` and
    /// starts where that record starts.
    pub oversized: Option<OversizedRecord>,
}

impl Chunk {
    /// Byte offset just after this chunk: everything before it is in this or earlier chunks.
    pub fn end_offset(&self) -> u64 {
        self.offset + self.data.len() as u64 + self.oversized.as_ref().map_or(0, |o| o.len)
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

/// Configuration of a splitter (the framing, chunk size and record limit it cuts with).
#[derive(Debug, Clone)]
pub struct SplitterBuilder {
    framing: Framing,
    chunk_size: usize,
    max_record_size: usize,
    oversized: Oversized,
}

impl SplitterBuilder {
    /// A builder for the given framing with the default sizes (1 MiB chunks, 64 MiB records).
    pub fn new(framing: Framing) -> SplitterBuilder {
        SplitterBuilder {
            framing,
            chunk_size: 1 << 20,
            max_record_size: 64 << 20,
            oversized: Oversized::Stop,
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

    /// What [`Splitter::next_chunk`] does with a record longer than the maximum: stop the run
    /// (the default) or skip it, handing it on as [`Chunk::oversized`]. A header row longer
    /// than the maximum always stops the run.
    pub fn oversized(&mut self, oversized: Oversized) -> &mut SplitterBuilder {
        self.oversized = oversized;
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
            oversized: self.oversized,
            replay: std::collections::VecDeque::new(),
            scanner: csv::QuoteScanner::default(),
            carry: Vec::new(),
            seq: 0,
            line: 1,
            offset: 0,
            started: false,
            eof: false,
            end: None,
            past_end: false,
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
    oversized: Oversized,
    /// Chunks already cut that [`Splitter::next_chunk`] hands out again first.
    replay: std::collections::VecDeque<Chunk>,
    scanner: csv::QuoteScanner,
    /// Bytes read past the last cut: the start of the next chunk (always a record start).
    carry: Vec<u8>,
    seq: u64,
    line: u64,
    offset: u64,
    started: bool,
    eof: bool,
    /// With [`Splitter::end_at`]: the offset where the records this splitter owns stop
    /// starting.
    end: Option<u64>,
    /// Whether reading has passed `end`, to finish the record that began before it.
    past_end: bool,
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

    /// Positions a splitter whose reader starts at byte `offset` of the input (a record start
    /// past any byte order mark), at physical line `line`, numbering chunks from `seq`: how a
    /// resumed run continues exactly where its checkpoint says the committed output ends.
    pub fn resume_at(&mut self, offset: u64, line: u64, seq: u64) {
        self.started = true;
        self.offset = offset;
        self.line = line;
        self.seq = seq;
    }

    /// Ends the chunks at the first record boundary at or after byte `end` of the input: the
    /// splitter hands out exactly the records that start before `end` (the last one read to
    /// its end, past `end` if need be) and then reports the end of the input. How a shard
    /// takes the records that start in its byte range (see [`crate::shard`]). Reads stop at
    /// `end` until the record that crosses it is all that is left, so at most one record (and
    /// the byte held back to decide a terminator) is read past it.
    pub fn end_at(&mut self, end: u64) {
        self.end = Some(end);
    }

    /// The largest record accepted.
    pub fn max_record_size(&self) -> usize {
        self.max_record_size
    }

    /// Hands `chunks` (cut by this splitter, in order) out again, before any new one: for a
    /// reader that had to look past them (a JSON Lines prologue past oversized records).
    pub fn replay(&mut self, chunks: Vec<Chunk>) {
        self.replay.extend(chunks);
    }

    /// Fills `chunk` (its buffer is reused) with the next run of whole records of about the
    /// chunk size. Returns `Ok(false)` at the end of the input.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        if let Some(c) = self.replay.pop_front() {
            *chunk = c;
            return Ok(true);
        }
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

    fn fill_chunk(&mut self, chunk: &mut Chunk, target: usize, mut cut: Cut) -> Result<bool> {
        chunk.oversized = None;
        if self.end.is_some_and(|end| self.offset >= end) {
            chunk.data.clear();
            return Ok(false);
        }
        if self.past_end {
            cut = Cut::First;
        }
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
                let want = match self.end {
                    // Before the end, never read past it: the last chunk is cut there.
                    Some(end) if !self.past_end => {
                        let room = end.saturating_sub(self.offset) as usize;
                        want.min(room.max(buf.len()))
                    }
                    _ => want,
                };
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
            if !self.past_end
                && self
                    .end
                    .is_some_and(|end| self.offset + buf.len() as u64 >= end)
            {
                // The buffer reaches the end and holds no boundary: what it holds is one record
                // that starts before the end (and maybe a terminator held back). Read on to
                // that record's end, and no further.
                self.past_end = true;
                cut = Cut::First;
                want = want.max(buf.len() + 1);
                continue;
            }
            if buf.len() > self.max_record_size {
                if self.oversized == Oversized::Reject && cut == Cut::Last {
                    // No boundary in `buf`: all of it is the start of one record.
                    let record = self.skip_record(buf)?;
                    buf.clear();
                    buf.shrink_to(self.chunk_size);
                    chunk.first_line = record.line;
                    chunk.offset = record.offset;
                    chunk.oversized = Some(record);
                    return Ok(true);
                }
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

    /// Skips the rest of the record that `buf` starts (it holds no boundary; the scanner has
    /// scanned it), reading on through a window of about a chunk, still following quotes and
    /// counting lines, and keeps what follows the record as the carry.
    fn skip_record(&mut self, buf: &mut Vec<u8>) -> Result<OversizedRecord> {
        let (line, offset) = (self.line, self.offset);
        let mut head = Vec::with_capacity(OVERSIZED_HEAD);
        // Bytes of the record dropped from the front of `buf`, and the lines in them.
        let (mut dropped, mut lines) = (0usize, 0u64);
        // The line of an open quote whose bytes were dropped.
        let mut open_line = None;
        let window = self.chunk_size.clamp(64 << 10, 4 << 20);
        let mut scanned = buf.len();
        loop {
            if head.len() < OVERSIZED_HEAD {
                let from = head.len() - dropped;
                let to = buf.len().min(OVERSIZED_HEAD - dropped);
                head.extend_from_slice(&buf[from.min(to)..to]);
            }
            // Drop what is scanned, keeping the last byte: the next decision may depend on it.
            let seen = match self.framing {
                Framing::Quoted { .. } => self.scanner.scanned().min(buf.len()),
                Framing::Lines => scanned,
            };
            let drop = seen.saturating_sub(1);
            if drop > 0 {
                if let Some(open) = self.scanner.unterminated_quote() {
                    if (dropped..dropped + drop).contains(&open) {
                        let at = open - dropped;
                        open_line =
                            Some(line + lines + self.line_breaks(&buf[..at], Some(buf[at])));
                    }
                }
                lines += self.line_breaks(&buf[..drop], Some(buf[drop]));
                buf.drain(..drop);
                self.scanner.discard(drop.min(self.scanner.scanned()));
                dropped += drop;
                scanned -= drop;
            }
            if !self.eof {
                let want = buf.len() + window;
                self.read_at_least(buf, want)?;
            }
            let boundary = match self.framing {
                Framing::Quoted { quote, delimiter } => {
                    self.scanner
                        .scan(buf, quote, delimiter, self.eof, Cut::First)
                }
                Framing::Lines => csv::line_boundary(buf, scanned, Cut::First),
            };
            scanned = buf.len();
            let end = match boundary {
                Some(end) => end,
                None if self.eof => {
                    if let Some(open) = self.scanner.unterminated_quote() {
                        let line = match open.checked_sub(dropped) {
                            Some(at) => line + lines + self.line_breaks(&buf[..at], None),
                            None => open_line.unwrap_or(line),
                        };
                        return Err(Error::UnterminatedQuote {
                            source_name: self.name.clone(),
                            line,
                            byte_offset: offset + open as u64,
                        });
                    }
                    buf.len()
                }
                None => continue,
            };
            if head.len() < OVERSIZED_HEAD {
                let from = head.len() - dropped;
                let to = end.min(OVERSIZED_HEAD - dropped);
                head.extend_from_slice(&buf[from.min(to)..to]);
            }
            self.carry.extend_from_slice(&buf[end..]);
            let len = (dropped + end) as u64;
            if head.len() as u64 == len {
                // The head is the whole record: keep it without its terminator, as rejects do.
                let quoted = matches!(self.framing, Framing::Quoted { .. });
                head.truncate(without_terminator(&head, quoted).len());
            }
            self.line = line + lines + self.line_breaks(&buf[..end], buf.get(end).copied());
            self.offset += len;
            self.scanner = csv::QuoteScanner::default();
            return Ok(OversizedRecord {
                line,
                offset,
                len,
                head,
            });
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
        self.line += self.line_breaks(buf, self.carry.first().copied());
        self.offset += end as u64;
    }

    /// The line breaks in `bytes` as the framing counts them: every `\n`, and for quoted
    /// framing every lone `\r` too (it ends a CSV record; see [`count_lines`]). In lines framing
    /// a lone `\r` is inside a line, as the decoders number them: counting it here would number
    /// a record differently depending on where the chunks were cut.
    fn line_breaks(&self, bytes: &[u8], next: Option<u8>) -> u64 {
        match self.framing {
            Framing::Quoted { .. } => count_lines(bytes, next),
            Framing::Lines => memchr_iter(b'\n', bytes).count() as u64,
        }
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
                    return Err(Error::read(self.name.clone(), e));
                }
            }
        }
        Ok(())
    }
}

/// `record` without its terminator: `\n` or `\r\n`, or in quoted framing a lone `\r` too.
fn without_terminator(record: &[u8], quoted: bool) -> &[u8] {
    match record.strip_suffix(b"\n") {
        Some(r) => r.strip_suffix(b"\r").unwrap_or(r),
        None if quoted => record.strip_suffix(b"\r").unwrap_or(record),
        None => record,
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A record as the tests compare them: (line, offset, length with terminator, its bytes up
    /// to `OVERSIZED_HEAD`, whether it was over the limit).
    type Rec = (u64, u64, u64, Vec<u8>, bool);

    /// Line breaks as the framing counts them: a lone `\r` ends a line only in quoted framing.
    fn breaks(framing: Framing, bytes: &[u8], next: Option<u8>) -> u64 {
        match framing {
            Framing::Quoted { .. } => count_lines(bytes, next),
            Framing::Lines => memchr_iter(b'\n', bytes).count() as u64,
        }
    }

    /// The reference: every record boundary of the whole input, scanned in one piece.
    fn reference(input: &[u8], framing: Framing, limit: usize) -> Result<Vec<Rec>> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < input.len() {
            let rest = &input[start..];
            let end = match framing {
                Framing::Quoted { quote, delimiter } => {
                    let mut s = csv::QuoteScanner::default();
                    match s.scan(rest, quote, delimiter, true, Cut::First) {
                        Some(e) => e,
                        None => {
                            if let Some(open) = s.unterminated_quote() {
                                return Err(Error::UnterminatedQuote {
                                    source_name: SourceName::new("t"),
                                    line: 1 + breaks(framing, &input[..start + open], None),
                                    byte_offset: (start + open) as u64,
                                });
                            }
                            rest.len()
                        }
                    }
                }
                Framing::Lines => csv::line_boundary(rest, 0, Cut::First).unwrap_or(rest.len()),
            };
            let line = 1 + breaks(framing, &input[..start], input.get(start).copied());
            out.push(record(framing, line, start as u64, &rest[..end], limit));
            start += end;
        }
        Ok(out)
    }

    fn record(framing: Framing, line: u64, offset: u64, bytes: &[u8], limit: usize) -> Rec {
        let over = bytes.len() > limit;
        let head = if over {
            // A reject keeps the raw record without its terminator, at most the head.
            let raw = without_terminator(bytes, framing != Framing::Lines);
            raw[..raw.len().min(OVERSIZED_HEAD)].to_vec()
        } else {
            bytes.to_vec()
        };
        (line, offset, bytes.len() as u64, head, over)
    }

    /// What the splitter hands on, at `chunk` bytes and `limit`, as records.
    fn split(input: &[u8], framing: Framing, chunk: usize, limit: usize) -> Result<Vec<Rec>> {
        let mut s = SplitterBuilder::new(framing)
            .chunk_size(chunk)
            .max_record_size(limit)
            .oversized(Oversized::Reject)
            .build(input, SourceName::new("t"));
        let mut c = Chunk::default();
        let mut out = Vec::new();
        let mut expect_offset = 0;
        while s.next_chunk(&mut c)? {
            assert_eq!(c.offset, expect_offset, "chunks are contiguous");
            expect_offset = c.end_offset();
            if let Some(o) = &c.oversized {
                assert!(c.data.is_empty());
                assert!(o.len > limit as u64);
                out.push((o.line, o.offset, o.len, o.head.clone(), true));
                continue;
            }
            for (line, offset, len, _, _) in reference(&c.data, framing, usize::MAX)? {
                let at = offset as usize;
                let line = c.first_line - 1 + line;
                out.push(record(
                    framing,
                    line,
                    c.offset + offset,
                    &c.data[at..at + len as usize],
                    limit,
                ));
            }
        }
        assert_eq!(
            expect_offset,
            input.len() as u64,
            "every byte is in a chunk"
        );
        Ok(out)
    }

    const QUOTED: Framing = Framing::Quoted {
        quote: b'"',
        delimiter: b',',
    };

    #[test]
    fn oversized_record_in_the_middle_is_skipped_with_exact_positions() {
        // Record 3 (line 4, byte 13) holds a quoted line break after 5,000 bytes.
        let mut input = b"id,v\n1,\"a\nb\"\n2,\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', 5000));
        input.extend_from_slice(b"\r\nq\"\n3,after\n");
        for chunk in [1, 7, 64, 4096, 1 << 20] {
            let got = split(&input, QUOTED, chunk, 100).unwrap();
            assert_eq!(
                got,
                reference(&input, QUOTED, 100).unwrap(),
                "chunk {chunk}"
            );
            let big = got.iter().find(|r| r.4).unwrap();
            assert_eq!((big.0, big.1, big.2), (4, 13, 3 + 5000 + 5));
            assert_eq!(big.3.len(), OVERSIZED_HEAD);
            assert_eq!(
                got.last().unwrap().0,
                6,
                "the line after the record is exact"
            );
        }
    }

    #[test]
    fn oversized_last_record_with_and_without_newline() {
        for framing in [QUOTED, Framing::Lines] {
            for tail in [&b""[..], b"\n", b"\r\n"] {
                let mut input = b"a\nb\n".to_vec();
                input.extend(std::iter::repeat_n(b'z', 3000));
                input.extend_from_slice(tail);
                for chunk in [1, 3, 1000, 1 << 16] {
                    let got = split(&input, framing, chunk, 10).unwrap();
                    assert_eq!(got, reference(&input, framing, 10).unwrap());
                    assert_eq!(got.len(), 3);
                    assert_eq!(got[2].2, 3000 + tail.len() as u64);
                }
            }
        }
    }

    #[test]
    fn unterminated_quote_inside_an_oversized_record_names_where_it_opened() {
        let mut input = b"a\nb\n1,x".to_vec();
        input.extend(std::iter::repeat_n(b'y', 500));
        input.extend_from_slice(b"\n2,\"open\n");
        input.extend(std::iter::repeat_n(b'w', 5000));
        input.extend_from_slice(b"\nmore\n");
        for chunk in [1, 5, 64, 1 << 20] {
            let e = split(&input, QUOTED, chunk, 50).unwrap_err();
            match e {
                Error::UnterminatedQuote {
                    line, byte_offset, ..
                } => assert_eq!((line, byte_offset), (4, 4 + 503 + 1 + 2), "chunk {chunk}"),
                e => panic!("{e}"),
            }
        }
    }

    #[test]
    fn memory_stays_near_the_limit_while_skipping() {
        // 64 MiB of one record, skipped with a 1 KiB limit: the chunk buffer stays small.
        let input = std::io::repeat(b'x').take(64 << 20).chain(&b"\nnext\n"[..]);
        let mut s = SplitterBuilder::new(QUOTED)
            .chunk_size(4096)
            .max_record_size(1024)
            .oversized(Oversized::Reject)
            .build(input, SourceName::new("t"));
        let mut c = Chunk::default();
        assert!(s.next_chunk(&mut c).unwrap());
        assert_eq!(c.oversized.as_ref().unwrap().len, (64 << 20) + 1);
        assert!(c.data.capacity() <= 1 << 20, "{}", c.data.capacity());
        assert!(s.next_chunk(&mut c).unwrap());
        assert_eq!((c.first_line, &c.data[..]), (2, &b"next\n"[..]));
    }

    fn bytes_from(alphabet: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::sample::select(alphabet), 0..300)
    }

    proptest! {
        #[test]
        fn skipping_agrees_with_the_whole_input_reference(
            input in bytes_from(b"ab,\"\"\n\n\r"),
            chunk in 1usize..80,
            limit in 1usize..40,
            quoted in any::<bool>(),
        ) {
            let framing = if quoted { QUOTED } else { Framing::Lines };
            let want = reference(&input, framing, limit).map_err(|e| e.to_string());
            let got = split(&input, framing, chunk, limit).map_err(|e| e.to_string());
            prop_assert_eq!(got, want);
        }
    }
}

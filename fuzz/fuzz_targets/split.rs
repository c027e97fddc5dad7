//! The splitter against a serial reading: arbitrary bytes, chunk size, read size, dialect and
//! framing. The chunks must cover the input exactly, at record boundaries, with the right
//! offsets and line numbers; decoding them one by one must give the records (and their lines)
//! that csv-core reads from the whole input; an input that ends inside quotes must fail at the
//! opening quote. Some inputs also go through the engine (1-3 workers, in memory), whose
//! output must equal csv-core's writer on the reference records.
#![no_main]

use std::io::{Cursor, Read, Write};
use std::sync::{Arc, Mutex};

use libfuzzer_sys::fuzz_target;
use weir::error::SourceName;
use weir::fuzzing::{Chunk, Framing, SplitterBuilder};
use weir::{Error, PipelineBuilder, Sink, Source};
use weir_fuzz::{dialect, expected_records, open_quote, physical_line, weir_records, RefRecord};

const CHUNK_SIZES: [usize; 8] = [1, 2, 3, 4, 7, 16, 64, 1 << 20];

/// A reader that returns at most `step` bytes per call, so the splitter's rolling buffer sees
/// every way a record can straddle reads.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(buf.len()).min(self.step);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let [a, b, input @ ..] = data else {
        return;
    };
    let chunk_size = CHUNK_SIZES[(a & 7) as usize];
    let lines = a & 8 != 0;
    let engine = a & 16 != 0;
    let dialect = dialect(a >> 5);
    let step = if *b == 0 { usize::MAX } else { *b as usize };
    let workers = 1 + (*b as usize % 3);

    let framing = if lines {
        Framing::Lines
    } else {
        dialect.framing()
    };
    let mut splitter = SplitterBuilder::new(framing)
        .chunk_size(chunk_size)
        .build(Trickle { data: input, step }, SourceName::new("fuzz"));
    let mut chunks = Vec::new();
    let result = loop {
        let mut chunk = Chunk::default();
        match splitter.next_chunk(&mut chunk) {
            Ok(true) => chunks.push(chunk),
            Ok(false) => break Ok(()),
            Err(e) => break Err(e),
        }
    };

    let bom = if input.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let body = &input[bom..];
    // The chunks are consecutive pieces of the input, numbered in order, each starting on the
    // line the serial count gives.
    let mut at = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!(chunk.seq, i as u64);
        assert_eq!(chunk.offset, (bom + at) as u64, "chunk {i} offset");
        assert!(!chunk.data.is_empty(), "chunk {i} is empty");
        assert_eq!(
            chunk.data[..],
            body[at..at + chunk.data.len()],
            "chunk {i} bytes"
        );
        let want_line = if lines {
            1 + memchr_count(b'\n', &body[..at])
        } else {
            physical_line(body, at)
        };
        assert_eq!(chunk.first_line, want_line, "chunk {i} first line");
        at += chunk.data.len();
    }

    if lines {
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(at, body.len(), "the chunks cover the input");
        for (i, chunk) in chunks.iter().enumerate().rev().skip(1) {
            assert_eq!(
                chunk.data.last(),
                Some(&b'\n'),
                "chunk {i} ends inside a line"
            );
        }
        return;
    }

    let (delimiter, quote) = (dialect.delimiter, dialect.quote);
    match open_quote(body, delimiter, quote) {
        Some(open) => match &result {
            Err(Error::UnterminatedQuote {
                line, byte_offset, ..
            }) => {
                assert_eq!(*byte_offset, (bom + open) as u64, "open quote offset");
                assert_eq!(*line, physical_line(body, open), "open quote line");
            }
            other => panic!("an input open at {open} must fail, got {other:?}"),
        },
        None => {
            assert!(result.is_ok(), "{result:?}");
            assert_eq!(at, body.len(), "the chunks cover the input");
        }
    }

    // Every chunk ends on a record boundary: outside quotes, after a whole terminator.
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!(
            open_quote(&chunk.data, delimiter, quote),
            None,
            "chunk {i} ends inside quotes"
        );
        if i + 1 < chunks.len() {
            let last = *chunk.data.last().unwrap();
            assert!(last == b'\n' || last == b'\r', "chunk {i} ends mid-record");
            let next_first = chunks[i + 1].data[0];
            assert!(
                !(last == b'\r' && next_first == b'\n'),
                "chunk {i} splits a CRLF"
            );
        }
    }

    // Decoding the chunks one by one gives the serial reading of the covered input, with the
    // same lines and byte offsets.
    let covered = &body[..at];
    let want = expected_records(covered, &dialect, 1, bom as u64);
    let mut got = Vec::new();
    for chunk in &chunks {
        for (line, offset, fields) in weir_records(&chunk.data, &dialect, chunk.first_line) {
            got.push((line, chunk.offset + offset, fields));
        }
    }
    assert_eq!(got, want);

    // The engine's source decompresses an input that starts with a gzip or zstd magic number.
    let compressed =
        input.starts_with(&[0x1f, 0x8b]) || input.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    if engine && !compressed {
        check_engine(input, body, &dialect, chunk_size, workers);
    }
});

fn memchr_count(needle: u8, hay: &[u8]) -> u64 {
    hay.iter().filter(|&&b| b == needle).count() as u64
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The whole engine, ordered and flexible: its output must be csv-core's writer on the
/// reference records (a NULL written empty, an empty string `""`).
fn check_engine(input: &[u8], body: &[u8], dialect: &weir::Dialect, chunk: usize, workers: usize) {
    let out = Shared::default();
    let result = PipelineBuilder::new(
        Source::Reader("fuzz.csv".into(), Box::new(Cursor::new(input.to_vec()))),
        Sink::Writer("out".into(), Box::new(out.clone())),
    )
    .dialect(*dialect)
    .chunk_size(chunk)
    .workers(workers)
    .ordered(true)
    .flexible(true)
    .build()
    .run();
    let output = out.0.lock().unwrap().clone();
    // Text in UTF-16 or UTF-32, another compressor's data: refused, never read as CSV.
    if weir::fuzzing::refuses_head(input) {
        let failure = result.expect_err("a format weir cannot read must fail the run");
        assert!(
            failure.error.to_string().contains("which weir cannot read"),
            "{}",
            failure.error
        );
        return;
    }
    if open_quote(body, dialect.delimiter, dialect.quote).is_some() {
        let failure = result.expect_err("an open quote at the end must fail the run");
        assert!(
            matches!(failure.error, Error::UnterminatedQuote { .. }),
            "{}",
            failure.error
        );
        return;
    }
    let report = result.unwrap_or_else(|f| panic!("the run failed: {}", f.error));
    assert!(report.balanced());
    let records = weir_fuzz::csv_records(body, dialect.delimiter, dialect.quote);
    assert_eq!(
        String::from_utf8_lossy(&output),
        String::from_utf8_lossy(&reference_write(&records, dialect)),
    );
}

/// csv-core's writer (necessary quoting, `\n` terminators) on the reference records.
fn reference_write(records: &[RefRecord], dialect: &weir::Dialect) -> Vec<u8> {
    use csv_core::{WriteResult, WriterBuilder};
    let mut wtr = WriterBuilder::new()
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .build();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    for record in records {
        for (i, field) in record.fields.iter().enumerate() {
            if i > 0 {
                let (r, n) = wtr.delimiter(&mut buf);
                assert_eq!(r, WriteResult::InputEmpty);
                out.extend_from_slice(&buf[..n]);
            }
            if field.quoted && field.bytes.is_empty() && record.fields.len() > 1 {
                out.extend_from_slice(&[dialect.quote, dialect.quote]);
                continue;
            }
            let mut rest = &field.bytes[..];
            loop {
                let (r, nin, n) = wtr.field(rest, &mut buf);
                out.extend_from_slice(&buf[..n]);
                rest = &rest[nin..];
                if r == WriteResult::InputEmpty {
                    break;
                }
            }
        }
        let (r, n) = wtr.terminator(&mut buf);
        assert_eq!(r, WriteResult::InputEmpty);
        out.extend_from_slice(&buf[..n]);
    }
    out
}

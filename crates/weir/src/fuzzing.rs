//! Entry points for the fuzz targets in `fuzz/`: not part of the API, hidden and unstable.
//!
//! The decoders fill a [`RecordBuf`] that only a [`Record`] reads, and records are made inside
//! the crate; these functions decode a slice and hand out each record, so a fuzz target can
//! compare fields with a reference parser and run expressions and schema checks on them
//! without the engine's threads.

use crate::format::csv::CsvDecoder;
use crate::format::jsonl::{JsonError, KeyCheck};
use crate::format::Dialect;
use crate::record::{Columns, Record, RecordBuf};

pub use crate::format::csv::CsvEncoder;
pub use crate::format::jsonl::{JsonDecoder, JsonEncoder};
pub use crate::split::{Chunk, Framing, SplitterBuilder};

/// Decodes the CSV records of `input` (a whole number of records, as a chunk holds) in
/// `dialect`, the first byte on physical line `first_line`, and calls `each` with each one.
pub fn for_each_csv_record<F>(input: &[u8], dialect: &Dialect, first_line: u64, mut each: F)
where
    F: FnMut(&mut Record<'_>),
{
    let mut decoder = CsvDecoder::new(input, dialect, first_line);
    let mut buf = RecordBuf::default();
    while decoder.next_record(&mut buf) {
        each(&mut Record::new(input, &mut buf));
    }
}

/// Decodes one JSON Lines record (`line`, without its terminator) into one field per column
/// and calls `each` with it; returns what the key check found, or why it is not an object.
pub fn with_json_record<F>(columns: &Columns, line: &[u8], each: F) -> Result<KeyCheck, JsonError>
where
    F: FnOnce(&mut Record<'_>),
{
    let mut decoder = JsonDecoder::new(columns);
    let mut buf = RecordBuf::default();
    buf.reset(0);
    let check = decoder.decode(line, 0, line.len(), &mut buf)?;
    each(&mut Record::new(line, &mut buf));
    Ok(check)
}

/// Whether an input starting with `head` is refused as a format weir cannot read (another
/// compressor, an archive, Parquet, UTF-16/32 text), as the source checks its first bytes: a
/// fuzz target comparing the engine with a reference skips those, checking the refusal.
pub fn refuses_head(head: &[u8]) -> bool {
    crate::compress::check_text_head(&head[..head.len().min(256)]).is_err()
}

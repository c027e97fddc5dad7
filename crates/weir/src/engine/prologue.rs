//! The start of an input: the header (or the first JSON Lines chunk) read, checked and
//! turned into columns before any output exists; and `sample`, the serial reading of a
//! file's first records for schema inference.

use std::io::{BufReader, Read};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::format::csv::CsvDecoder;
use crate::format::jsonl::JsonDecoder;
use crate::format::lines::Lines;
use crate::format::{Dialect, Format, InvalidUtf8, Ragged};
use crate::record::{Columns, Record, RecordBuf, ValueKind};
use crate::source::Source;
use crate::split::{Chunk, Oversized, Splitter, SplitterBuilder};
use crate::transform::{Chain, OnPanic};

use super::stop::{run_watched, StopHandle};
use super::worker::{Worker, WorkerSpec};

/// The start of a run: the splitter positioned after any header, the columns, and the first
/// data chunk if one had to be read to learn the columns.
pub(super) struct Prologue {
    pub(super) splitter: Splitter<BufReader<Box<dyn Read + Send>>>,
    pub(super) columns: Columns,
    pub(super) first: Option<Chunk>,
    /// The header row's fields as read (names may not be valid UTF-8).
    pub(super) header_raw: Option<Vec<RawField>>,
    /// The header row's bytes as read, without its terminator.
    pub(super) header_line: Option<Vec<u8>>,
}

impl Prologue {
    /// The prologue of an input with nothing in it (or only blank lines).
    fn empty(splitter: Splitter<BufReader<Box<dyn Read + Send>>>) -> Prologue {
        Prologue {
            splitter,
            columns: Columns::default(),
            first: None,
            header_raw: None,
            header_line: None,
        }
    }
}

/// A header field as read: its bytes and how it was quoted.
pub(super) type RawField = (Vec<u8>, ValueKind);

/// A header row as read.
pub(crate) struct Header {
    /// Its fields as read (names may not be valid UTF-8).
    pub(crate) fields: Vec<RawField>,
    /// Its fields as column names (anything not UTF-8 replaced).
    pub(crate) names: Vec<String>,
    /// Its bytes as read, without its terminator.
    pub(crate) line: Vec<u8>,
}

/// Reads a CSV header: the first record, after any blank lines (as readers skip them). `None`
/// for an input with no record at all.
pub(crate) fn read_header<R: Read>(
    splitter: &mut Splitter<R>,
    dialect: &Dialect,
) -> Result<Option<Header>> {
    let mut buf = RecordBuf::default();
    let mut chunk = Chunk::default();
    loop {
        if !splitter.next_record(&mut chunk)? {
            return Ok(None);
        }
        let mut dec = CsvDecoder::new(&chunk.data, dialect, chunk.first_line);
        if dec.next_record(&mut buf) {
            let rec = Record::new(&chunk.data, &mut buf);
            let fields: Vec<RawField> = rec.fields().map(|(b, k)| (b.to_vec(), k)).collect();
            let names = fields
                .iter()
                .map(|(b, _)| String::from_utf8_lossy(b).into_owned())
                .collect();
            let line = rec.raw().to_vec();
            return Ok(Some(Header {
                fields,
                names,
                line,
            }));
        }
    }
}

/// Refuses (usage error) a header name that is not UTF-8 among the output columns of a JSON
/// Lines or Parquet output, whose keys and column names are UTF-8: written with U+FFFD it
/// would silently be another name. `--invalid-utf8 replace` accepts the replacement.
pub(super) fn check_header_text(
    output: &Dialect,
    prologue: &Prologue,
    columns: &Columns,
    policy: InvalidUtf8,
) -> Result<()> {
    if !output.format.names_columns() || policy == InvalidUtf8::Replace {
        return Ok(());
    }
    let Some(raw) = &prologue.header_raw else {
        return Ok(());
    };
    for (i, (bytes, _)) in raw.iter().enumerate() {
        let name = &prologue.columns.names()[i];
        if std::str::from_utf8(bytes).is_err() && columns.names().contains(name) {
            return Err(Error::Config(format!(
                "column {} of the header, '{}', is not UTF-8, which {} output cannot hold as a \
                 name (--rename it, or --invalid-utf8 replace writes U+FFFD)",
                i + 1,
                name.escape_debug(),
                output.format
            )));
        }
    }
    Ok(())
}

/// Reads the header (or the first chunk, to learn the columns) before the threads start.
pub(super) fn read_prologue(
    mut splitter: Splitter<BufReader<Box<dyn Read + Send>>>,
    dialect: &Dialect,
) -> Result<Prologue> {
    let mut buf = RecordBuf::default();
    match dialect.format {
        Format::Csv | Format::Tsv if dialect.header => match read_header(&mut splitter, dialect)? {
            None => Ok(Prologue::empty(splitter)),
            Some(header) => Ok(Prologue {
                columns: Columns::new(header.names),
                splitter,
                first: None,
                header_raw: Some(header.fields),
                header_line: Some(header.line),
            }),
        },
        Format::Csv | Format::Tsv => {
            let mut chunk = Chunk::default();
            if !splitter.next_chunk(&mut chunk)? {
                return Ok(Prologue::empty(splitter));
            }
            let mut dec = CsvDecoder::new(&chunk.data, dialect, chunk.first_line);
            let n = if dec.next_record(&mut buf) {
                buf.field_count()
            } else {
                0
            };
            let columns = Columns::new((1..=n).map(|i| format!("column{i}")));
            Ok(Prologue {
                splitter,
                columns,
                first: Some(chunk),
                header_raw: None,
                header_line: None,
            })
        }
        Format::Jsonl => {
            // The columns are the keys of the first object within the record limit, whatever
            // the chunk size: oversized records skipped before it (with --oversized reject)
            // are handed out again before it, in order.
            let mut chunk = Chunk::default();
            let mut skipped = Vec::new();
            loop {
                if !splitter.next_chunk(&mut chunk)? {
                    splitter.replay(skipped);
                    return Ok(Prologue::empty(splitter));
                }
                if chunk.oversized.is_none() {
                    break;
                }
                skipped.push(std::mem::take(&mut chunk));
            }
            splitter.replay(skipped);
            let max = splitter.max_record_size();
            let keys = Lines::new(&chunk.data, 1)
                .filter(|&(s, e, term, _)| e - s + term <= max)
                .find_map(|(s, e, _, _)| JsonDecoder::keys(&chunk.data[s..e]).ok());
            if keys.as_ref().is_some_and(Vec::is_empty) {
                // Its records could only be written as nothing (or all rejected).
                return Err(Error::Config(
                    "the input has no columns: its first JSON object has no keys ({}), and \
                     the columns are the first object's keys"
                        .into(),
                ));
            }
            let keys = keys.unwrap_or_default();
            Ok(Prologue {
                splitter,
                columns: Columns::new(keys),
                first: Some(chunk),
                header_raw: None,
                header_line: None,
            })
        }
        Format::Lines => Ok(Prologue {
            splitter,
            columns: Columns::new(["line"]),
            first: None,
            header_raw: None,
            header_line: None,
        }),
        Format::Parquet => Err(Error::Config(
            "weir writes Parquet but does not read it: choose another input --format".into(),
        )),
    }
}

/// Reads the prologue on its own thread, so that a stop request or the time limit is acted on
/// even while the input has not yet delivered a header (a pipe that stays open). A reader
/// still blocked after a stop is left behind: it holds no output.
pub(super) fn watch_prologue(
    splitter: Splitter<BufReader<Box<dyn Read + Send>>>,
    dialect: Dialect,
    deadline: Option<Instant>,
    stop: &StopHandle,
) -> Result<Prologue> {
    run_watched(
        "weir-prologue",
        "the prologue reader",
        deadline,
        stop,
        move || read_prologue(splitter, &dialect),
    )
}

/// Reads up to `limit` records from the start of `source` (serially, without running a
/// pipeline): the columns and each record's fields, `None` for NULL. For schema inference and
/// previews; memory is bounded by `limit` and the chunk size.
pub fn sample(
    source: Source,
    dialect: Dialect,
    limit: usize,
) -> Result<(Columns, Vec<Vec<Option<String>>>)> {
    let name = source.name();
    let (reader, _) = source.open()?;
    let splitter = SplitterBuilder::new(dialect.framing())
        .chunk_size(256 << 10)
        .build(BufReader::with_capacity(64 << 10, reader), name.clone());
    let prologue = watch_prologue(splitter, dialect, None, &StopHandle::new())?;
    let mut splitter = prologue.splitter;
    let spec = WorkerSpec {
        dialect,
        output_dialect: dialect,
        input_columns: prologue.columns.clone(),
        output_columns: prologue.columns.clone(),
        ragged: Ragged::Keep,
        oversized: Oversized::Stop,
        chain: Chain::default(),
        source_names: vec![name],
        max_record_size: usize::MAX,
        parquet: None,
        on_panic: OnPanic::Stop,
        invalid_utf8: InvalidUtf8::Replace,
        rejects_format: crate::sink::RejectsFormat::Table,
    };
    let mut worker = Worker::new(spec);
    let mut rows = Vec::new();
    let mut chunk = prologue.first;
    loop {
        let c = match chunk.take() {
            Some(c) => c,
            None => {
                let mut c = Chunk::default();
                if !splitter.next_chunk(&mut c)? {
                    break;
                }
                c
            }
        };
        worker.sample(&c, limit - rows.len(), &mut rows);
        if rows.len() >= limit {
            break;
        }
    }
    Ok((prologue.columns, rows))
}

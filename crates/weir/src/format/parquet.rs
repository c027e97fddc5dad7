//! Parquet output.
//!
//! Workers encode each kept record as a compact binary row in the batch's output bytes, so the
//! committer's ordered gates (head, dedupe, unique), which cut records out of a batch by byte
//! ranges, work unchanged. For each output column a row holds a tag byte (0 = null, 1 = value)
//! and then the value: `i64`/`f64` as 8 bytes, a boolean as 1 byte, a date as `i32` days since
//! 1970-01-01, a timestamp as `i64` microseconds, text as a `u32` length and UTF-8 bytes (all
//! little-endian). The committer, the only writer, decodes the rows into Arrow column builders
//! and hands them to the Arrow writer [`BATCH_ROWS`] rows or [`BATCH_BYTES`] at a time,
//! whichever comes first; a row group is flushed to the atomic sink (temporary file beside the
//! target, renamed into place when the run succeeds) at [`ROW_GROUP_ROWS`] rows or when the
//! writer holds [`ROW_GROUP_BYTES`] of it, so memory follows neither the size of the values
//! nor the number of rows. The builders start empty, so a wide output costs no memory per
//! column before its values arrive.
//!
//! Column types come from the Table Schema when one is given (see
//! `transform::Chain::typed_fields`); every other column is text. All columns are
//! nullable.

use std::io;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::encode::EncodeError;
use super::{Columns, Record, ValueKind};
use crate::error::{Error, Result};
use crate::schema::{ColumnType, Typed, TypedField, Unfit};
use crate::sink::SinkWriter;

/// Rows per Arrow batch that the committer builds and hands to the writer: the column builders
/// hold at most this many rows.
pub const BATCH_ROWS: usize = 4096;

/// Row bytes per Arrow batch: a batch is handed to the writer once its rows hold this much,
/// even before [`BATCH_ROWS`], so that long values (30 KB each) do not fill the builders with
/// 4,096 of them.
pub const BATCH_BYTES: usize = 2 << 20;

/// Rows per row group. The writer keeps the row group being written as compressed pages (about
/// 2 MiB on a typical CSV), and one footer entry per row group until the end, so row groups
/// are large enough for the footer to stay small and small enough to bound memory.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// Bytes of a row group held by the writer (its estimate of the encoded size) at which the row
/// group is flushed before [`ROW_GROUP_ROWS`]: rows of long or many values are not held
/// 65,536 at a time.
pub const ROW_GROUP_BYTES: usize = 8 << 20;

/// Target size of a data page before compression; each column buffers one page.
const PAGE_BYTES: usize = 32 << 10;

const NULL: u8 = 0;
const VALUE: u8 = 1;

/// The output columns of a Parquet file: names and types, known before the run starts.
#[derive(Debug, Clone)]
pub struct ParquetLayout {
    names: Vec<String>,
    types: Vec<ColumnType>,
    fields: Vec<Option<TypedField>>,
}

impl ParquetLayout {
    /// The layout of `columns`, each typed by its schema field (`None`: text).
    pub(crate) fn new(columns: &Columns, fields: Vec<Option<TypedField>>) -> ParquetLayout {
        ParquetLayout {
            names: columns.names().to_vec(),
            types: fields
                .iter()
                .map(|f| f.as_ref().map_or(ColumnType::Utf8, TypedField::column_type))
                .collect(),
            fields,
        }
    }

    /// The Arrow schema of the output.
    pub fn arrow_schema(&self) -> Schema {
        let fields: Vec<Field> = self
            .names
            .iter()
            .zip(&self.types)
            .map(|(name, ty)| {
                let dt = match ty {
                    ColumnType::Utf8 => DataType::Utf8,
                    ColumnType::Int64 => DataType::Int64,
                    ColumnType::Float64 => DataType::Float64,
                    ColumnType::Boolean => DataType::Boolean,
                    ColumnType::Date32 => DataType::Date32,
                    ColumnType::TimestampMicros => DataType::Timestamp(TimeUnit::Microsecond, None),
                };
                Field::new(name, dt, true)
            })
            .collect();
        Schema::new(fields)
    }
}

/// The worker's side: encodes records as binary rows.
#[derive(Debug, Clone)]
pub(crate) struct RowEncoder {
    layout: Arc<ParquetLayout>,
    /// This worker's typed readers (they hold scratch memory).
    fields: Vec<Option<TypedField>>,
    /// What to do with a text value that is not UTF-8.
    pub(crate) invalid_utf8: super::InvalidUtf8,
}

impl RowEncoder {
    pub(crate) fn new(layout: Arc<ParquetLayout>) -> RowEncoder {
        RowEncoder {
            fields: layout.fields.clone(),
            layout,
            invalid_utf8: super::InvalidUtf8::Reject,
        }
    }

    /// Appends one row and returns how many text values had invalid UTF-8 replaced; on error
    /// nothing is appended.
    pub(crate) fn record(
        &mut self,
        out: &mut Vec<u8>,
        record: &Record<'_>,
    ) -> std::result::Result<u32, EncodeError> {
        let mut replaced = 0;
        let start = out.len();
        if record.len() > self.layout.names.len() {
            return Err(EncodeError {
                field: Some(self.layout.names.len()),
                message: format!(
                    "the record has {} fields, the output has {} columns",
                    record.len(),
                    self.layout.names.len()
                ),
            });
        }
        for (i, field) in self.fields.iter_mut().enumerate() {
            let (bytes, kind) = match record.get(i) {
                Some(b) => (b, record.kind(i).unwrap_or(ValueKind::Null)),
                None => (&b""[..], ValueKind::Null),
            };
            let Some(field) = field else {
                if kind == ValueKind::Null {
                    out.push(NULL);
                } else {
                    // A Parquet string is UTF-8: other bytes are refused, or replaced when asked.
                    let text = match std::str::from_utf8(bytes) {
                        Ok(text) => std::borrow::Cow::Borrowed(text),
                        Err(_) if self.invalid_utf8 == super::InvalidUtf8::Replace => {
                            replaced += 1;
                            String::from_utf8_lossy(bytes)
                        }
                        Err(_) => {
                            out.truncate(start);
                            return Err(super::encode::not_utf8(i));
                        }
                    };
                    out.push(VALUE);
                    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
                    out.extend_from_slice(text.as_bytes());
                }
                continue;
            };
            let value = match field.read(bytes, kind) {
                Ok(value) => value,
                Err(unfit) => {
                    out.truncate(start);
                    let why = match unfit {
                        Unfit::NotAValue => String::new(),
                        Unfit::Inexact(why) => format!(": {why}"),
                    };
                    return Err(EncodeError {
                        field: Some(i),
                        message: format!(
                            "cannot convert '{}' (column {}) to the Parquet column's type {:?}{why}",
                            String::from_utf8_lossy(bytes),
                            self.layout.names[i],
                            field.column_type()
                        ),
                    });
                }
            };
            match value {
                Typed::Null => out.push(NULL),
                Typed::Int(v) | Typed::Timestamp(v) => {
                    out.push(VALUE);
                    out.extend_from_slice(&v.to_le_bytes());
                }
                Typed::Float(v) => {
                    out.push(VALUE);
                    out.extend_from_slice(&v.to_le_bytes());
                }
                Typed::Bool(v) => out.extend_from_slice(&[VALUE, u8::from(v)]),
                Typed::Date(v) => {
                    out.push(VALUE);
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        Ok(replaced)
    }
}

enum Builder {
    Utf8(StringBuilder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Boolean(BooleanBuilder),
    Date32(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl Builder {
    /// An empty builder: it grows with the values given to it (a builder of a wide output
    /// sized for a full batch up front cost a million columns many GiB).
    fn new(ty: ColumnType) -> Builder {
        match ty {
            ColumnType::Utf8 => Builder::Utf8(StringBuilder::with_capacity(0, 0)),
            ColumnType::Int64 => Builder::Int64(Int64Builder::with_capacity(0)),
            ColumnType::Float64 => Builder::Float64(Float64Builder::with_capacity(0)),
            ColumnType::Boolean => Builder::Boolean(BooleanBuilder::with_capacity(0)),
            ColumnType::Date32 => Builder::Date32(Date32Builder::with_capacity(0)),
            ColumnType::TimestampMicros => {
                Builder::Timestamp(TimestampMicrosecondBuilder::with_capacity(0))
            }
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Utf8(b) => Arc::new(b.finish()),
            Builder::Int64(b) => Arc::new(b.finish()),
            Builder::Float64(b) => Arc::new(b.finish()),
            Builder::Boolean(b) => Arc::new(b.finish()),
            Builder::Date32(b) => Arc::new(b.finish()),
            Builder::Timestamp(b) => Arc::new(b.finish()),
        }
    }
}

/// Hands the Parquet writer's bytes to the atomic sink, keeping the sink's own error.
struct SinkAdapter {
    /// Taken back by [`ParquetSink::finish`].
    sink: Option<SinkWriter>,
    error: Option<Error>,
}

impl io::Write for SinkAdapter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let sink = self
            .sink
            .as_mut()
            .ok_or_else(|| io::Error::other("finished"))?;
        sink.write_all(buf).map_err(|e| {
            let message = e.to_string();
            self.error = Some(e);
            io::Error::other(message)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The committer's side: decodes rows into Arrow builders and writes row groups.
pub(crate) struct ParquetSink {
    writer: ArrowWriter<SinkAdapter>,
    schema: Arc<Schema>,
    types: Vec<ColumnType>,
    builders: Vec<Builder>,
    /// Rows in the builders, and the row bytes they came from.
    rows: usize,
    bytes: usize,
}

impl ParquetSink {
    /// Starts a Parquet file in `sink` with the layout's columns.
    pub(crate) fn new(sink: SinkWriter, layout: &ParquetLayout) -> Result<ParquetSink> {
        let schema = Arc::new(layout.arrow_schema());
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("level 1")))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_data_page_size_limit(PAGE_BYTES)
            // Dictionaries and per-page statistics cost memory until the row group or the
            // footer is written; plain pages compressed with zstd are as small here.
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .build();
        let path = sink.path();
        let adapter = SinkAdapter {
            sink: Some(sink),
            error: None,
        };
        let writer = ArrowWriter::try_new(adapter, schema.clone(), Some(props)).map_err(|e| {
            Error::Write {
                path,
                source: io::Error::other(e),
            }
        })?;
        Ok(ParquetSink {
            builders: layout.types.iter().map(|t| Builder::new(*t)).collect(),
            types: layout.types.clone(),
            schema,
            writer,
            rows: 0,
            bytes: 0,
        })
    }

    /// The error of a failed write: the sink's own when it failed, else the writer's.
    fn fail(&mut self, e: parquet::errors::ParquetError) -> Error {
        let adapter = self.writer.inner_mut();
        adapter.error.take().unwrap_or_else(|| Error::Write {
            path: adapter
                .sink
                .as_ref()
                .map_or_else(|| "-".into(), SinkWriter::path),
            source: io::Error::other(e),
        })
    }

    /// Bytes written to the file so far.
    pub(crate) fn written(&self) -> u64 {
        self.writer
            .inner()
            .sink
            .as_ref()
            .map_or(0, SinkWriter::written)
    }

    /// Decodes the rows in `bytes` (whole rows, as the workers wrote them) and writes every
    /// row group that fills.
    pub(crate) fn write_rows(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let before = bytes.len();
            for (ty, builder) in self.types.iter().zip(&mut self.builders) {
                bytes = decode_value(*ty, builder, bytes);
            }
            self.rows += 1;
            self.bytes += before - bytes.len();
            if self.rows == BATCH_ROWS || self.bytes >= BATCH_BYTES {
                self.flush_batch()?;
            }
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| Error::Panic(format!("parquet batch: {e}")))?;
        self.rows = 0;
        self.bytes = 0;
        self.writer.write(&batch).map_err(|e| self.fail(e))?;
        drop(batch);
        if self.writer.in_progress_size() >= ROW_GROUP_BYTES {
            self.writer.flush().map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    /// Writes the last row group and the footer, and returns the sink to commit.
    pub(crate) fn finish(mut self) -> Result<SinkWriter> {
        self.flush_batch()?;
        // Writes the footer; the sink's own error, if it failed, is kept.
        self.writer.finish().map_err(|e| self.fail(e))?;
        // `finish` flushed everything to the sink; the writer is done with it.
        Ok(self
            .writer
            .inner_mut()
            .sink
            .take()
            .expect("the sink is taken once"))
    }
}

fn take<const N: usize>(bytes: &[u8]) -> ([u8; N], &[u8]) {
    let (head, rest) = bytes.split_at(N);
    (head.try_into().expect("N bytes"), rest)
}

/// Decodes one value of type `ty` into `builder`; returns the rest of the bytes.
fn decode_value<'a>(ty: ColumnType, builder: &mut Builder, bytes: &'a [u8]) -> &'a [u8] {
    let (tag, rest) = (bytes[0], &bytes[1..]);
    if tag == NULL {
        match builder {
            Builder::Utf8(b) => b.append_null(),
            Builder::Int64(b) => b.append_null(),
            Builder::Float64(b) => b.append_null(),
            Builder::Boolean(b) => b.append_null(),
            Builder::Date32(b) => b.append_null(),
            Builder::Timestamp(b) => b.append_null(),
        }
        return rest;
    }
    debug_assert_eq!(tag, VALUE, "a {ty:?} value");
    match builder {
        Builder::Utf8(b) => {
            let (len, rest) = take::<4>(rest);
            let (text, rest) = rest.split_at(u32::from_le_bytes(len) as usize);
            // The worker wrote valid UTF-8 (lossy conversion).
            b.append_value(std::str::from_utf8(text).expect("UTF-8 from the worker"));
            rest
        }
        Builder::Int64(b) => {
            let (v, rest) = take::<8>(rest);
            b.append_value(i64::from_le_bytes(v));
            rest
        }
        Builder::Timestamp(b) => {
            let (v, rest) = take::<8>(rest);
            b.append_value(i64::from_le_bytes(v));
            rest
        }
        Builder::Float64(b) => {
            let (v, rest) = take::<8>(rest);
            b.append_value(f64::from_le_bytes(v));
            rest
        }
        Builder::Boolean(b) => {
            b.append_value(rest[0] != 0);
            &rest[1..]
        }
        Builder::Date32(b) => {
            let (v, rest) = take::<4>(rest);
            b.append_value(i32::from_le_bytes(v));
            rest
        }
    }
}

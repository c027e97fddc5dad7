//! Parquet output.
//!
//! Workers encode each kept record as a compact binary row in the batch's output bytes, so the
//! committer's ordered gates (head, dedupe, unique), which cut records out of a batch by byte
//! ranges, work unchanged. For each output column a row holds a tag byte (0 = null, 1 = value)
//! and then the value: `i64`/`f64` as 8 bytes, a boolean as 1 byte, a date as `i32` days since
//! 1970-01-01, a timestamp as `i64` microseconds, text as a `u32` length and UTF-8 bytes (all
//! little-endian). The committer, the only writer, gathers the rows of a row group as they
//! are ([`ROW_GROUP_ROWS`] rows or [`ROW_GROUP_BYTES`] of them, whichever comes first) and
//! writes the row group to the atomic sink (temporary file beside the target, renamed into
//! place when the run succeeds) one column at a time, with the Parquet crate's column writers:
//! only one column writer exists at any moment, so memory follows neither the size of the
//! values, nor the number of rows, nor the number of columns.
//!
//! Column types come from the Table Schema when one is given (see
//! `transform::Chain::typed_fields`); every other column is text. All columns are
//! nullable. The Parquet schema is the one the Arrow writer writes for the same Arrow schema
//! (see [`ParquetLayout::arrow_schema`]), so Arrow readers read back the same types; the
//! Arrow schema itself is not stored in the file (a million columns would make it tens of MB).

use std::io;
use std::sync::Arc;

#[cfg(test)]
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use bytes::Bytes;
use parquet::basic::{
    Compression, LogicalType, Repetition, TimeUnit as ParquetTimeUnit, Type as PhysicalType,
    ZstdLevel,
};
use parquet::column::writer::ColumnWriterImpl;
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DataType as ParquetType, DoubleType, Int32Type, Int64Type,
};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{Type, TypePtr};

use super::EncodeError;
use crate::error::{Error, Result};
use crate::record::{Columns, Record, ValueKind};
use crate::schema::{ColumnType, Typed, TypedField, Unfit};
use crate::sink::SinkWriter;

/// Rows per row group at most. The footer holds an entry per row group and column until the
/// end, so row groups are large enough for it to stay small.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// Row bytes at which a row group is written before [`ROW_GROUP_ROWS`]: the committer holds
/// the rows of one row group, so rows of long or many values are not held 65,536 at a time.
pub const ROW_GROUP_BYTES: usize = 8 << 20;

/// Row bytes per column at which a wide output's row group is written, when that is more than
/// [`ROW_GROUP_BYTES`]: a row of a million columns takes megabytes, and a row group of one or
/// two rows would give the footer an entry per column for every row or two.
pub const GROUP_BYTES_PER_COLUMN: usize = 64;

/// Columns past which the output is wide: it has no offset index (where each page starts, for
/// readers that skip pages), which the writer holds for every column of every row group until
/// the footer (232 bytes a column: 232 MB at a million columns).
pub const WIDE_COLUMNS: usize = 10_000;

/// Target size of a data page before compression; each column buffers one page.
const PAGE_BYTES: usize = 32 << 10;

const NULL: u8 = 0;
const VALUE: u8 = 1;

/// The output columns of a Parquet file: names and types, known before the run starts.
#[derive(Debug, Clone)]
pub struct ParquetLayout {
    names: Vec<String>,
    types: Vec<ColumnType>,
    fields: Vec<Option<Box<TypedField>>>,
}

impl ParquetLayout {
    /// The layout of `columns`, each typed by its schema field (`None`: text).
    pub(crate) fn new(columns: &Columns, fields: Vec<Option<Box<TypedField>>>) -> ParquetLayout {
        ParquetLayout {
            names: columns.names().to_vec(),
            types: fields
                .iter()
                .map(|f| f.as_ref().map_or(ColumnType::Utf8, |f| f.column_type()))
                .collect(),
            fields,
        }
    }

    /// The Arrow schema of the output (the tests read files back with it).
    #[cfg(test)]
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

    /// The Parquet schema of the output: the one the Arrow writer derives from
    /// [`ParquetLayout::arrow_schema`], built without it (an Arrow schema of a million columns
    /// costs hundreds of MB).
    pub fn parquet_schema(&self) -> TypePtr {
        let fields = self
            .names
            .iter()
            .zip(&self.types)
            .map(|(name, ty)| {
                let (physical, logical) = match ty {
                    ColumnType::Utf8 => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
                    ColumnType::Int64 => (PhysicalType::INT64, None),
                    ColumnType::Float64 => (PhysicalType::DOUBLE, None),
                    ColumnType::Boolean => (PhysicalType::BOOLEAN, None),
                    ColumnType::Date32 => (PhysicalType::INT32, Some(LogicalType::Date)),
                    ColumnType::TimestampMicros => (
                        PhysicalType::INT64,
                        Some(LogicalType::timestamp(false, ParquetTimeUnit::MICROS)),
                    ),
                };
                let column = Type::primitive_type_builder(name, physical)
                    .with_logical_type(logical)
                    .with_repetition(Repetition::OPTIONAL)
                    .build()
                    .expect("a primitive type of a known kind");
                Arc::new(column)
            })
            .collect();
        let root = Type::group_type_builder("arrow_schema")
            .with_fields(fields)
            .build()
            .expect("a group of primitive columns");
        Arc::new(root)
    }
}

/// The worker's side: encodes records as binary rows.
#[derive(Debug, Clone)]
pub(crate) struct RowEncoder {
    layout: Arc<ParquetLayout>,
    /// This worker's typed readers (they hold scratch memory).
    fields: Vec<Option<Box<TypedField>>>,
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
                            return Err(EncodeError::not_utf8(i));
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

/// The committer's side: gathers a row group's rows and writes it one column at a time.
///
/// Only one column writer (with its page buffer and zstd context, about 20 KiB) exists at any
/// moment, so a million columns cost no more writer memory than one; the Arrow writer this
/// replaces opened a writer per column for every row group (20,000 columns peaked at 415 MiB).
pub(crate) struct ParquetSink {
    writer: SerializedFileWriter<SinkAdapter>,
    types: Vec<ColumnType>,
    /// The rows of the row group being gathered, as the workers wrote them.
    rows: Vec<u8>,
    /// Where each row of [`ParquetSink::rows`] starts.
    starts: Vec<usize>,
    /// Row bytes at which the row group is written: [`ROW_GROUP_BYTES`], or more for a wide
    /// output (see [`GROUP_BYTES_PER_COLUMN`]).
    group_bytes: usize,
}

impl ParquetSink {
    /// Starts a Parquet file in `sink` with the layout's columns.
    pub(crate) fn new(sink: SinkWriter, layout: &ParquetLayout) -> Result<ParquetSink> {
        let columns = layout.types.len();
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("level 1")))
            .set_data_page_size_limit(PAGE_BYTES)
            // Dictionaries and per-page statistics cost memory until the column or the
            // footer is written; plain pages compressed with zstd are as small here.
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(columns > WIDE_COLUMNS)
            .build();
        let path = sink.path();
        let adapter = SinkAdapter {
            sink: Some(sink),
            error: None,
        };
        let writer = SerializedFileWriter::new(adapter, layout.parquet_schema(), Arc::new(props))
            .map_err(|e| Error::Write {
            path,
            source: io::Error::other(e),
        })?;
        Ok(ParquetSink {
            writer,
            types: layout.types.clone(),
            rows: Vec::new(),
            starts: Vec::new(),
            group_bytes: ROW_GROUP_BYTES.max(columns.saturating_mul(GROUP_BYTES_PER_COLUMN)),
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

    /// Gathers the rows in `bytes` (whole rows, as the workers wrote them) and writes every
    /// row group that fills.
    pub(crate) fn write_rows(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let len = row_len(&self.types, bytes);
            // A row that would take the row group past its bytes starts the next one, so the
            // buffer, allocated once at its full size, never doubles (only a row larger than
            // a whole row group grows it).
            if !self.starts.is_empty() && self.rows.len() + len > self.group_bytes {
                self.write_group()?;
            }
            if self.rows.capacity() == 0 {
                self.rows.reserve_exact(self.group_bytes.max(len));
            }
            self.starts.push(self.rows.len());
            self.rows.extend_from_slice(&bytes[..len]);
            bytes = &bytes[len..];
            if self.starts.len() == ROW_GROUP_ROWS {
                self.write_group()?;
            }
        }
        Ok(())
    }

    /// Writes the gathered rows as one row group, a column at a time: each row's cursor moves
    /// past one value per column, so the rows are read once in all.
    fn write_group(&mut self) -> Result<()> {
        if self.starts.is_empty() {
            return Ok(());
        }
        // Text values are slices of the rows, not copies (the statistics copy their bounds).
        let rows = Bytes::from(std::mem::take(&mut self.rows));
        let mut cursors = std::mem::take(&mut self.starts);
        let written = write_group(&mut self.writer, &self.types, &rows, &mut cursors);
        written.map_err(|e| self.fail(e))?;
        // The row buffers are reused; `rows` is freed (it is as large as a row group).
        cursors.clear();
        self.starts = cursors;
        Ok(())
    }

    /// Writes the last row group and the footer, and returns the sink to commit.
    pub(crate) fn finish(mut self) -> Result<SinkWriter> {
        self.write_group()?;
        // Writes the footer; the sink's own error, if it failed, is kept.
        if let Err(e) = self.writer.finish() {
            return Err(self.fail(e));
        }
        // `finish` flushed everything to the sink; the writer is done with it.
        Ok(self
            .writer
            .inner_mut()
            .sink
            .take()
            .expect("the sink is taken once"))
    }
}

/// The length of the row at the start of `bytes`.
fn row_len(types: &[ColumnType], bytes: &[u8]) -> usize {
    let mut at = 0;
    for ty in types {
        at = value_end(*ty, bytes, at);
    }
    at
}

/// Where the value of type `ty` that starts at `at` ends.
fn value_end(ty: ColumnType, bytes: &[u8], at: usize) -> usize {
    if bytes[at] == NULL {
        return at + 1;
    }
    debug_assert_eq!(bytes[at], VALUE, "a {ty:?} value");
    at + 1
        + match ty {
            ColumnType::Utf8 => 4 + u32::from_le_bytes(array(bytes, at + 1)) as usize,
            ColumnType::Int64 | ColumnType::Float64 | ColumnType::TimestampMicros => 8,
            ColumnType::Boolean => 1,
            ColumnType::Date32 => 4,
        }
}

fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    bytes[at..at + N].try_into().expect("N bytes")
}

/// Writes one row group of `rows`, whose rows start at `cursors`.
fn write_group(
    writer: &mut SerializedFileWriter<SinkAdapter>,
    types: &[ColumnType],
    rows: &Bytes,
    cursors: &mut [usize],
) -> parquet::errors::Result<()> {
    let mut group = writer.next_row_group()?;
    for ty in types {
        let mut column = group
            .next_column()?
            .expect("the schema has a column per type");
        match ty {
            ColumnType::Utf8 => {
                write_column(column.typed::<ByteArrayType>(), rows, cursors, |at| {
                    let len = u32::from_le_bytes(array(rows, at)) as usize;
                    (
                        ByteArray::from(rows.slice(at + 4..at + 4 + len)),
                        at + 4 + len,
                    )
                })
            }
            ColumnType::Int64 | ColumnType::TimestampMicros => {
                write_column(column.typed::<Int64Type>(), rows, cursors, |at| {
                    (i64::from_le_bytes(array(rows, at)), at + 8)
                })
            }
            ColumnType::Float64 => {
                write_column(column.typed::<DoubleType>(), rows, cursors, |at| {
                    (f64::from_le_bytes(array(rows, at)), at + 8)
                })
            }
            ColumnType::Boolean => write_column(column.typed::<BoolType>(), rows, cursors, |at| {
                (rows[at] != 0, at + 1)
            }),
            ColumnType::Date32 => write_column(column.typed::<Int32Type>(), rows, cursors, |at| {
                (i32::from_le_bytes(array(rows, at)), at + 4)
            }),
        }?;
        column.close()?;
    }
    group.close()?;
    Ok(())
}

/// Values handed to a column writer at a time: bounds the column's scratch vectors.
const WRITE_BATCH: usize = 4096;

/// Writes one column: the value at each cursor, read by `read` (given where the value starts
/// past its tag, it returns the value and where the next one starts); moves each cursor past it.
fn write_column<T: ParquetType>(
    writer: &mut ColumnWriterImpl<'_, T>,
    rows: &[u8],
    cursors: &mut [usize],
    mut read: impl FnMut(usize) -> (T::T, usize),
) -> parquet::errors::Result<()> {
    let batch = cursors.len().min(WRITE_BATCH);
    let mut values = Vec::with_capacity(batch);
    let mut levels = Vec::with_capacity(batch);
    for chunk in cursors.chunks_mut(WRITE_BATCH) {
        values.clear();
        levels.clear();
        for at in chunk {
            if rows[*at] == NULL {
                levels.push(0);
                *at += 1;
            } else {
                let (value, next) = read(*at + 1);
                values.push(value);
                levels.push(1);
                *at = next;
            }
        }
        writer.write_batch(&values, Some(&levels), None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use parquet::arrow::ArrowSchemaConverter;

    use super::*;

    #[test]
    fn the_parquet_schema_is_the_arrow_writers() {
        let types = [
            ColumnType::Utf8,
            ColumnType::Int64,
            ColumnType::Float64,
            ColumnType::Boolean,
            ColumnType::Date32,
            ColumnType::TimestampMicros,
        ];
        let layout = ParquetLayout {
            names: (0..types.len()).map(|i| format!("c{i}")).collect(),
            types: types.to_vec(),
            fields: vec![None; types.len()],
        };
        let arrow = ArrowSchemaConverter::new()
            .convert(&layout.arrow_schema())
            .expect("an Arrow schema Parquet can hold");
        assert_eq!(*layout.parquet_schema(), *arrow.root_schema_ptr());
    }
}

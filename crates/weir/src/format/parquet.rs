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
//! values, nor the number of rows, nor the number of columns. The footer is written by weir
//! (see `footer`): each column chunk's metadata is kept as the few bytes the footer holds,
//! not as the Parquet crate's file writer keeps it (about 1.1 KiB of structs a column).
//!
//! Column types come from the Table Schema when one is given (see
//! `transform::Chain::typed_fields`); every other column is text. All columns are
//! nullable. The Parquet schema is the one the Arrow writer writes for the same Arrow schema
//! (see [`ParquetLayout::arrow_schema`]), so Arrow readers read back the same types; the
//! Arrow schema itself is not stored in the file (a million columns would make it tens of MB).

use std::io::{self, Write as _};
use std::sync::Arc;

#[cfg(test)]
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use bytes::Bytes;
use parquet::basic::{
    Compression, LogicalType, Repetition, TimeUnit as ParquetTimeUnit, Type as PhysicalType,
    ZstdLevel,
};
use parquet::column::writer::{ColumnCloseResult, ColumnWriterImpl};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DataType as ParquetType, DoubleType, Int32Type, Int64Type,
};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::{ColumnDescriptor, ColumnPath, Type, TypePtr};

use super::EncodeError;
use crate::error::{Error, Result};
use crate::record::{Columns, Record, ValueKind};
use crate::schema::{ColumnType, Typed, TypedField, Unfit};
use crate::sink::SinkWriter;

mod footer;

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
    /// costs hundreds of MB); the footer writes the same schema element by element, and the
    /// tests compare the two.
    #[cfg(test)]
    pub fn parquet_schema(&self) -> TypePtr {
        let fields = self
            .names
            .iter()
            .zip(&self.types)
            .map(|(name, ty)| column_type(name, *ty))
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

/// What the footer will say of one row group: its column chunks, each encoded as the footer's
/// bytes when its column was written (see [`footer::column_chunk`]).
struct GroupMeta {
    /// The columns' `ColumnChunk`s up to their metadata, one after the other.
    chunks: Vec<u8>,
    /// Where each column's bytes in [`GroupMeta::chunks`] end.
    ends: Vec<u32>,
    /// Bytes of each column's offset index, in [`ParquetSink::offset_indexes`] after those of
    /// the columns (and row groups) before it.
    index_lens: Vec<u32>,
    rows: i64,
    uncompressed: i64,
    compressed: i64,
    /// Where the row group's first page is.
    file_offset: i64,
}

/// The committer's side: gathers a row group's rows, writes it one column at a time, and
/// writes the file's footer.
///
/// Pages are written by the Parquet crate's column writer, one at a time (with its page
/// buffer and zstd context, about 20 KiB), so a million columns cost no more writer memory
/// than one. The footer is weir's own (see [`footer`]): the Parquet crate's file writer held
/// about 1.1 KiB a column (2 GiB for a million columns), where weir keeps each column chunk's
/// metadata as the bytes the footer holds (about 60 a column and row group).
pub(crate) struct ParquetSink {
    out: TrackedWrite<SinkAdapter>,
    props: WriterPropertiesPtr,
    layout: Arc<ParquetLayout>,
    /// The rows of the row group being gathered, as the workers wrote them.
    rows: Vec<u8>,
    /// Where each row of [`ParquetSink::rows`] starts.
    starts: Vec<usize>,
    /// Row bytes at which the row group is written: [`ROW_GROUP_BYTES`], or more for a wide
    /// output (see [`GROUP_BYTES_PER_COLUMN`]).
    group_bytes: usize,
    /// The written row groups, for the footer.
    groups: Vec<GroupMeta>,
    /// The columns' offset indexes (where each page is) of every row group written, in order,
    /// written before the footer, where readers look for them.
    offset_indexes: Vec<u8>,
}

impl ParquetSink {
    /// Starts a Parquet file in `sink` with the layout's columns.
    pub(crate) fn new(sink: SinkWriter, layout: &Arc<ParquetLayout>) -> Result<ParquetSink> {
        let columns = layout.types.len();
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("level 1")))
            .set_data_page_size_limit(PAGE_BYTES)
            // Dictionaries and per-page statistics cost memory until the column or the
            // footer is written; plain pages compressed with zstd are as small here.
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .build();
        let mut sink = ParquetSink {
            out: TrackedWrite::new(SinkAdapter {
                sink: Some(sink),
                error: None,
            }),
            props: Arc::new(props),
            layout: Arc::clone(layout),
            rows: Vec::new(),
            starts: Vec::new(),
            group_bytes: ROW_GROUP_BYTES.max(columns.saturating_mul(GROUP_BYTES_PER_COLUMN)),
            groups: Vec::new(),
            offset_indexes: Vec::new(),
        };
        if let Err(e) = sink.out.write_all(MAGIC) {
            return Err(sink.fail(e.into()));
        }
        Ok(sink)
    }

    /// The error of a failed write: the sink's own when it failed, else the writer's.
    fn fail(&mut self, e: parquet::errors::ParquetError) -> Error {
        let adapter = self.out.inner_mut();
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
        self.out
            .inner()
            .sink
            .as_ref()
            .map_or(0, SinkWriter::written)
    }

    /// Gathers the rows in `bytes` (whole rows, as the workers wrote them) and writes every
    /// row group that fills.
    pub(crate) fn write_rows(&mut self, mut bytes: &[u8]) -> Result<()> {
        let layout = Arc::clone(&self.layout);
        let types = &layout.types;
        while !bytes.is_empty() {
            let len = row_len(types, bytes);
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
        let written = self.write_columns(&rows, &mut cursors);
        written.map_err(|e| self.fail(e))?;
        // The row buffers are reused; `rows` is freed (it is as large as a row group).
        cursors.clear();
        self.starts = cursors;
        Ok(())
    }

    /// Writes one row group of `rows`, whose rows start at `cursors`, and keeps what the
    /// footer says of it.
    fn write_columns(
        &mut self,
        rows: &Bytes,
        cursors: &mut [usize],
    ) -> parquet::errors::Result<()> {
        let columns = self.layout.types.len();
        let mut group = GroupMeta {
            chunks: Vec::new(),
            ends: Vec::with_capacity(columns),
            index_lens: Vec::with_capacity(columns),
            rows: cursors.len() as i64,
            uncompressed: 0,
            compressed: 0,
            file_offset: self.out.bytes_written() as i64,
        };
        for (name, ty) in self.layout.names.iter().zip(&self.layout.types) {
            let descr = Arc::new(ColumnDescriptor::new(
                column_type(name, *ty),
                1,
                0,
                ColumnPath::new(vec![name.clone()]),
            ));
            let pages = Box::new(SerializedPageWriter::new(&mut self.out));
            let props = Arc::clone(&self.props);
            let closed = match ty {
                ColumnType::Utf8 => {
                    let column = ColumnWriterImpl::<ByteArrayType>::new(descr, props, pages);
                    write_column(column, rows, cursors, |at| {
                        let len = u32::from_le_bytes(array(rows, at)) as usize;
                        (
                            ByteArray::from(rows.slice(at + 4..at + 4 + len)),
                            at + 4 + len,
                        )
                    })
                }
                ColumnType::Int64 | ColumnType::TimestampMicros => {
                    let column = ColumnWriterImpl::<Int64Type>::new(descr, props, pages);
                    write_column(column, rows, cursors, |at| {
                        (i64::from_le_bytes(array(rows, at)), at + 8)
                    })
                }
                ColumnType::Float64 => {
                    let column = ColumnWriterImpl::<DoubleType>::new(descr, props, pages);
                    write_column(column, rows, cursors, |at| {
                        (f64::from_le_bytes(array(rows, at)), at + 8)
                    })
                }
                ColumnType::Boolean => {
                    let column = ColumnWriterImpl::<BoolType>::new(descr, props, pages);
                    write_column(column, rows, cursors, |at| (rows[at] != 0, at + 1))
                }
                ColumnType::Date32 => {
                    let column = ColumnWriterImpl::<Int32Type>::new(descr, props, pages);
                    write_column(column, rows, cursors, |at| {
                        (i32::from_le_bytes(array(rows, at)), at + 4)
                    })
                }
            }?;
            // The column's metadata is kept as the footer's bytes at once, not as the
            // Parquet crate's structs.
            let meta = &closed.metadata;
            group.uncompressed += meta.uncompressed_size();
            group.compressed += meta.compressed_size();
            footer::column_chunk(&mut group.chunks, *ty, name, meta);
            group
                .ends
                .push(u32::try_from(group.chunks.len()).map_err(|_| {
                    parquet::errors::ParquetError::General("row group metadata past 4 GiB".into())
                })?);
            if let Some(index) = &closed.offset_index {
                let before = self.offset_indexes.len();
                footer::offset_index(&mut self.offset_indexes, index);
                group
                    .index_lens
                    .push((self.offset_indexes.len() - before) as u32);
            }
        }
        group.chunks.shrink_to_fit();
        self.groups.push(group);
        Ok(())
    }

    /// Writes the last row group and the footer, and returns the sink to commit.
    pub(crate) fn finish(mut self) -> Result<SinkWriter> {
        self.write_group()?;
        if let Err(e) = self.write_footer() {
            return Err(self.fail(e.into()));
        }
        Ok(self
            .out
            .inner_mut()
            .sink
            .take()
            .expect("the sink is taken once"))
    }

    /// Writes the offset indexes and the footer (Thrift `FileMetaData`), streamed out in
    /// pieces of about [`FOOTER_PIECE`] bytes.
    fn write_footer(&mut self) -> io::Result<()> {
        let mut at = self.out.bytes_written() as i64;
        self.out.write_all(&self.offset_indexes)?;
        self.offset_indexes = Vec::new();
        let start = self.out.bytes_written();
        let mut buf = Vec::with_capacity(2 * FOOTER_PIECE);
        let out = &mut self.out;
        let mut piece = |buf: &mut Vec<u8>| -> io::Result<()> {
            if buf.len() >= FOOTER_PIECE {
                out.write_all(buf)?;
                buf.clear();
            }
            Ok(())
        };
        let layout = &*self.layout;
        let mut file = footer::Fields::new(&mut buf);
        // Version 1, as the Parquet crate writes by default.
        file.i32(1, 1);
        file.structs(2, layout.names.len() + 1);
        footer::schema_root(file.out(), layout.names.len());
        for (name, ty) in layout.names.iter().zip(&layout.types) {
            footer::schema_column(file.out(), name, *ty);
            piece(file.out())?;
        }
        file.i64(3, self.groups.iter().map(|g| g.rows).sum());
        file.structs(4, self.groups.len());
        for group in &self.groups {
            let mut g = footer::Fields::new(file.out());
            g.structs(1, group.ends.len());
            let mut from = 0;
            for (i, &end) in group.ends.iter().enumerate() {
                g.out()
                    .extend_from_slice(&group.chunks[from as usize..end as usize]);
                from = end;
                let index = group.index_lens.get(i).map(|&len| {
                    let place = (at, len as i32);
                    at += i64::from(len);
                    place
                });
                footer::column_chunk_end(g.out(), index);
                piece(g.out())?;
            }
            g.i64(2, group.uncompressed);
            g.i64(3, group.rows);
            g.i64(5, group.file_offset);
            g.i64(6, group.compressed);
            g.end();
        }
        file.binary(6, self.props.created_by().as_bytes());
        file.structs(7, layout.names.len());
        for ty in &layout.types {
            footer::column_order(file.out(), *ty);
            piece(file.out())?;
        }
        file.end();
        out.write_all(&buf)?;
        let len = self.out.bytes_written() - start;
        let len = u32::try_from(len).map_err(|_| io::Error::other("a footer past 4 GiB"))?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(MAGIC)?;
        // The tracked writer buffers.
        self.out.flush()
    }
}

/// The first and last bytes of a Parquet file.
const MAGIC: &[u8; 4] = b"PAR1";

/// Bytes of footer encoded before they are written out.
const FOOTER_PIECE: usize = 64 << 10;

/// The Parquet type of a column: nullable, of the physical and logical type the Arrow writer
/// gives its Arrow type.
fn column_type(name: &str, ty: ColumnType) -> TypePtr {
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

/// Values handed to a column writer at a time: bounds the column's scratch vectors.
const WRITE_BATCH: usize = 4096;

/// Writes one column and closes it: the value at each cursor, read by `read` (given where the
/// value starts past its tag, it returns the value and where the next one starts); moves each
/// cursor past it.
fn write_column<T: ParquetType>(
    mut writer: ColumnWriterImpl<'_, T>,
    rows: &[u8],
    cursors: &mut [usize],
    mut read: impl FnMut(usize) -> (T::T, usize),
) -> parquet::errors::Result<ColumnCloseResult> {
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
    writer.close()
}

#[cfg(test)]
mod tests {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ArrowSchemaConverter;
    use parquet::basic::ColumnOrder;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::serialized_reader::ReadOptionsBuilder;

    use super::*;
    use crate::sink::Sink;

    const TYPES: [ColumnType; 6] = [
        ColumnType::Utf8,
        ColumnType::Int64,
        ColumnType::Float64,
        ColumnType::Boolean,
        ColumnType::Date32,
        ColumnType::TimestampMicros,
    ];

    /// The binary row of row `r` (every seventh value of a column is null).
    fn row(r: usize, out: &mut Vec<u8>) {
        for (c, ty) in TYPES.iter().enumerate() {
            if (r + c) % 7 == 0 {
                out.push(NULL);
                continue;
            }
            out.push(VALUE);
            let v = r as i64 - 1000;
            match ty {
                ColumnType::Utf8 => {
                    let text = format!("text {r} é {}", "x".repeat(r % 20));
                    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
                    out.extend_from_slice(text.as_bytes());
                }
                ColumnType::Int64 => out.extend_from_slice(&(v * 1_000_003).to_le_bytes()),
                ColumnType::Float64 => out.extend_from_slice(&(v as f64 / 8.0).to_le_bytes()),
                ColumnType::Boolean => out.push(u8::from(r % 3 == 0)),
                ColumnType::Date32 => out.extend_from_slice(&(v as i32).to_le_bytes()),
                ColumnType::TimestampMicros => out.extend_from_slice(&(v << 20).to_le_bytes()),
            }
        }
    }

    #[test]
    fn the_footer_is_read_back_as_written() {
        // Several row groups (forced every 2,500 rows), one of them of a single row; pages of
        // 32 KiB, so a column chunk has several and its offset index more than one entry.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let layout = Arc::new(ParquetLayout {
            names: (0..TYPES.len()).map(|i| format!("c{i} ü")).collect(),
            types: TYPES.to_vec(),
            fields: vec![None; TYPES.len()],
        });
        let sink = Sink::from_arg(path.to_str().unwrap()).open().unwrap();
        let mut writer = ParquetSink::new(sink, &layout).unwrap();
        let rows = 7_501;
        for r in 0..rows {
            let mut bytes = Vec::new();
            row(r, &mut bytes);
            writer.write_rows(&bytes).unwrap();
            if (r + 1) % 2500 == 0 {
                writer.write_group().unwrap();
            }
        }
        writer.finish().unwrap().commit().unwrap();

        let file = std::fs::File::open(&path).unwrap();
        let options = ReadOptionsBuilder::new().with_page_index().build();
        let reader = SerializedFileReader::new_with_options(file, options).unwrap();
        let meta = reader.metadata();
        assert_eq!(
            *meta.file_metadata().schema_descr().root_schema(),
            *layout.parquet_schema()
        );
        assert_eq!(meta.file_metadata().num_rows(), rows as i64);
        // The column orders the Parquet crate's writer gives these types.
        for (i, column) in meta
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .enumerate()
        {
            let want = ColumnOrder::column_order_for_type(
                column.logical_type_ref(),
                column.converted_type(),
                column.physical_type(),
            );
            assert_eq!(meta.file_metadata().column_order(i), want, "column {i}");
        }
        let sizes: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(sizes, [2500, 2500, 2500, 1]);
        for (g, group) in meta.row_groups().iter().enumerate() {
            let first = g * 2500;
            let in_group = first..first + group.num_rows() as usize;
            for (c, chunk) in group.columns().iter().enumerate() {
                let nulls = in_group.clone().filter(|r| (r + c) % 7 == 0).count();
                let stats = chunk.statistics().expect("statistics");
                assert_eq!(
                    stats.null_count_opt(),
                    Some(nulls as u64),
                    "group {g} column {c}"
                );
                assert_eq!(chunk.num_values(), group.num_rows());
                let index = meta.page_index_for_row_group(g);
                let pages = index
                    .offset_index(c)
                    .expect("an offset index")
                    .page_locations();
                assert_eq!(pages[0].offset, chunk.data_page_offset());
                if group.num_rows() > 1 && c == 0 {
                    assert!(pages.len() > 1, "several pages of text");
                }
            }
            // Integers: the least and greatest of the group's values, exactly.
            let ints = &group.columns()[1];
            let values = in_group.filter(|r| (r + 1) % 7 != 0);
            let want = values.map(|r| (r as i64 - 1000) * 1_000_003);
            let stats = ints.statistics().unwrap();
            assert_eq!(
                stats.min_bytes_opt().unwrap(),
                want.clone().min().unwrap().to_le_bytes()
            );
            assert_eq!(
                stats.max_bytes_opt().unwrap(),
                want.max().unwrap().to_le_bytes()
            );
        }

        // The values, read by the Arrow reader, are those written.
        let file = std::fs::File::open(&path).unwrap();
        let batches = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let mut want = Vec::new();
        for r in 0..rows {
            row(r, &mut want);
        }
        let mut got = Vec::new();
        let mut read = 0;
        for batch in batches {
            let batch = batch.unwrap();
            assert_eq!(*batch.schema(), layout.arrow_schema());
            for r in 0..batch.num_rows() {
                for (c, ty) in TYPES.iter().enumerate() {
                    let column = batch.column(c);
                    if column.is_null(r) {
                        got.push(NULL);
                        continue;
                    }
                    got.push(VALUE);
                    use arrow_array::cast::AsArray;
                    use arrow_array::types as t;
                    match ty {
                        ColumnType::Utf8 => {
                            let text = column.as_string::<i32>().value(r);
                            got.extend_from_slice(&(text.len() as u32).to_le_bytes());
                            got.extend_from_slice(text.as_bytes());
                        }
                        ColumnType::Int64 => got.extend_from_slice(
                            &column.as_primitive::<t::Int64Type>().value(r).to_le_bytes(),
                        ),
                        ColumnType::Float64 => got.extend_from_slice(
                            &column
                                .as_primitive::<t::Float64Type>()
                                .value(r)
                                .to_le_bytes(),
                        ),
                        ColumnType::Boolean => got.push(u8::from(column.as_boolean().value(r))),
                        ColumnType::Date32 => got.extend_from_slice(
                            &column
                                .as_primitive::<t::Date32Type>()
                                .value(r)
                                .to_le_bytes(),
                        ),
                        ColumnType::TimestampMicros => got.extend_from_slice(
                            &column
                                .as_primitive::<t::TimestampMicrosecondType>()
                                .value(r)
                                .to_le_bytes(),
                        ),
                    }
                }
            }
            read += batch.num_rows();
        }
        assert_eq!(read, rows);
        assert!(got == want, "the values read back differ");
    }

    #[test]
    fn the_parquet_schema_is_the_arrow_writers() {
        let types = TYPES;
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

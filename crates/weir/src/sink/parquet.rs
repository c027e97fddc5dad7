//! Parquet output, the committer's side: gathers the binary rows the workers encoded (see
//! `crate::format::parquet` for the row format) into row groups of [`ROW_GROUP_ROWS`] rows or
//! [`ROW_GROUP_BYTES`] of them, whichever comes first, and writes each to the atomic sink
//! (temporary file beside the target, renamed into place when the run succeeds) one column at
//! a time, with the Parquet crate's column writers: only one column writer exists at any
//! moment, so memory follows neither the size of the values, nor the number of rows, nor the
//! number of columns. The footer is written by weir (see `footer`): each column chunk's
//! metadata is kept as the few bytes the footer holds, not as the Parquet crate's file writer
//! keeps it (about 1.1 KiB of structs a column).

use std::io::{self, Write as _};
use std::sync::Arc;

use bytes::Bytes;

use parquet::basic::{Compression, ZstdLevel};
use parquet::column::writer::{ColumnCloseResult, ColumnWriterImpl};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DataType as ParquetType, DoubleType, Int32Type, Int64Type,
};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::{ColumnDescriptor, ColumnPath};

use super::SinkWriter;
use crate::error::{Error, Result};
use crate::format::parquet::{array, column_type, row_len, ParquetLayout, NULL};
use crate::schema::ColumnType;

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
    pub(crate) fn write_group(&mut self) -> Result<()> {
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

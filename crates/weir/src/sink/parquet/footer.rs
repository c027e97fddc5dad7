//! The Parquet footer, written by weir in Thrift's compact protocol.
//!
//! The Parquet crate's file writer keeps every column chunk's metadata as a struct of about
//! 420 bytes (and, while a row group closes, a second copy), with a schema descriptor of about
//! 200 bytes a column: 2 GiB for a million columns. Here each column chunk is encoded the
//! moment its column writer closes, as the bytes the footer will hold (about 50), and the
//! schema is written from the output's names and types as the footer is streamed out; so
//! nothing of the size of Parquet's in-memory metadata is held for all columns at once.
//!
//! Only the structs and fields this writer needs are encoded, in the order and with the
//! values the Parquet crate's own writer gives them (see `parquet::file::metadata::thrift`),
//! less three optional ones no reader needs here: a column chunk's page encoding statistics
//! and size statistics, and a row group's ordinal. The tests read files back with the Parquet
//! crate, the CLI tests with Arrow, and `contrib/tools/parquet_oracle.py` with pyarrow and
//! DuckDB.

use parquet::basic::Compression;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::page_index::offset_index::OffsetIndexMetaData;
use parquet::file::statistics::Statistics;

use crate::schema::ColumnType;

// Thrift compact protocol type ids (field headers and list headers).
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const I32: u8 = 5;
const I64: u8 = 6;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const STRUCT: u8 = 12;

/// The fields of one Thrift struct being appended to a buffer: field ids are written as the
/// difference from the previous field's.
pub(super) struct Fields<'a> {
    out: &'a mut Vec<u8>,
    last: i16,
}

impl<'a> Fields<'a> {
    /// A struct starting at the end of `out` (a list element, or the outermost struct).
    pub(super) fn new(out: &'a mut Vec<u8>) -> Fields<'a> {
        Fields { out, last: 0 }
    }

    /// A struct already holding fields up to `last` (whose end is written later).
    pub(super) fn after(out: &'a mut Vec<u8>, last: i16) -> Fields<'a> {
        Fields { out, last }
    }

    /// The buffer the struct is appended to, for list elements written between fields.
    pub(super) fn out(&mut self) -> &mut Vec<u8> {
        &mut *self.out
    }

    fn header(&mut self, ty: u8, id: i16) {
        let delta = id - self.last;
        if (1..=15).contains(&delta) {
            self.out.push(((delta as u8) << 4) | ty);
        } else {
            self.out.push(ty);
            varint(self.out, zigzag(i64::from(id)));
        }
        self.last = id;
    }

    pub(super) fn i32(&mut self, id: i16, value: i32) {
        self.header(I32, id);
        varint(self.out, zigzag(i64::from(value)));
    }

    pub(super) fn i64(&mut self, id: i16, value: i64) {
        self.header(I64, id);
        varint(self.out, zigzag(value));
    }

    pub(super) fn bool(&mut self, id: i16, value: bool) {
        self.header(if value { TRUE } else { FALSE }, id);
    }

    pub(super) fn binary(&mut self, id: i16, value: &[u8]) {
        self.header(BINARY, id);
        binary(self.out, value);
    }

    /// Starts a list field of `len` elements of Thrift type `element`.
    fn list(&mut self, id: i16, element: u8, len: usize) {
        self.header(LIST, id);
        list(self.out, element, len);
    }

    /// Starts a list field of `len` structs, each written with [`Fields::new`] on
    /// [`Fields::out`].
    pub(super) fn structs(&mut self, id: i16, len: usize) {
        self.list(id, STRUCT, len);
    }

    /// A struct field: its fields are written with the returned writer, which ends it.
    pub(super) fn nested(&mut self, id: i16) -> Fields<'_> {
        self.header(STRUCT, id);
        Fields {
            out: &mut *self.out,
            last: 0,
        }
    }

    /// Ends the struct.
    pub(super) fn end(self) {
        self.out.push(0);
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn binary(out: &mut Vec<u8>, value: &[u8]) {
    varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

fn list(out: &mut Vec<u8>, element: u8, len: usize) {
    if len < 15 {
        out.push(((len as u8) << 4) | element);
    } else {
        out.push(0xf0 | element);
        varint(out, len as u64);
    }
}

/// The Thrift `Type` (physical type) of a column's values.
fn physical_id(ty: ColumnType) -> i32 {
    match ty {
        ColumnType::Boolean => 0,
        ColumnType::Date32 => 1,
        ColumnType::Int64 | ColumnType::TimestampMicros => 2,
        ColumnType::Float64 => 5,
        ColumnType::Utf8 => 6,
    }
}

/// Thrift `CompressionCodec`.
fn codec(compression: Compression) -> i32 {
    match compression {
        Compression::UNCOMPRESSED => 0,
        Compression::SNAPPY => 1,
        Compression::GZIP(_) => 2,
        Compression::LZO => 3,
        Compression::BROTLI(_) => 4,
        Compression::LZ4 => 5,
        Compression::ZSTD(_) => 6,
        Compression::LZ4_RAW => 7,
    }
}

/// Appends a column chunk's Thrift `ColumnChunk` up to its `meta_data` (field 3): what
/// follows (the offset index's place, field 4 and 5, and the struct's end) is known only
/// when the footer is written, see [`column_chunk_end`].
pub(super) fn column_chunk(out: &mut Vec<u8>, ty: ColumnType, name: &str, m: &ColumnChunkMetaData) {
    let mut chunk = Fields::new(out);
    // Deprecated and required; the Parquet crate writes 0.
    chunk.i64(2, 0);
    let mut meta = chunk.nested(3);
    meta.i32(1, physical_id(ty));
    // The encodings used, in the order of their ids (the Parquet crate keeps them as a mask).
    let mask = m.encodings_mask().as_i32();
    meta.list(2, I32, mask.count_ones() as usize);
    for id in (0..32).filter(|id| mask & (1 << id) != 0) {
        varint(meta.out, zigzag(id));
    }
    meta.list(3, BINARY, 1);
    binary(meta.out, name.as_bytes());
    meta.i32(4, codec(m.compression()));
    meta.i64(5, m.num_values());
    meta.i64(6, m.uncompressed_size());
    meta.i64(7, m.compressed_size());
    meta.i64(9, m.data_page_offset());
    if let Some(at) = m.index_page_offset() {
        meta.i64(10, at);
    }
    if let Some(at) = m.dictionary_page_offset() {
        meta.i64(11, at);
    }
    if let Some(stats) = m.statistics() {
        statistics(meta.nested(12), stats);
    }
    meta.end();
}

/// Ends a `ColumnChunk` begun by [`column_chunk`], with where its offset index is, if any.
pub(super) fn column_chunk_end(out: &mut Vec<u8>, offset_index: Option<(i64, i32)>) {
    let mut chunk = Fields::after(out, 3);
    if let Some((at, len)) = offset_index {
        chunk.i64(4, at);
        chunk.i32(5, len);
    }
    chunk.end();
}

/// Thrift `Statistics`, as the Parquet crate converts its own (`page_stats_to_thrift`).
fn statistics(mut s: Fields<'_>, stats: &Statistics) {
    let (min, max) = (stats.min_bytes_opt(), stats.max_bytes_opt());
    if stats.is_min_max_backwards_compatible() {
        if let Some(max) = max {
            s.binary(1, max);
        }
        if let Some(min) = min {
            s.binary(2, min);
        }
    }
    if let Some(n) = stats.null_count_opt().and_then(|n| i64::try_from(n).ok()) {
        s.i64(3, n);
    }
    if let Some(n) = stats
        .distinct_count_opt()
        .and_then(|n| i64::try_from(n).ok())
    {
        s.i64(4, n);
    }
    if !stats.is_min_max_deprecated() {
        if let Some(max) = max {
            s.binary(5, max);
        }
        if let Some(min) = min {
            s.binary(6, min);
        }
    }
    s.bool(7, stats.max_is_exact());
    s.bool(8, stats.min_is_exact());
    if let Some(n) = stats.nan_count_opt().and_then(|n| i64::try_from(n).ok()) {
        s.i64(9, n);
    }
    s.end();
}

/// Appends a column chunk's Thrift `OffsetIndex` (where each of its pages is).
pub(super) fn offset_index(out: &mut Vec<u8>, index: &OffsetIndexMetaData) {
    let mut f = Fields::new(out);
    let pages = index.page_locations();
    f.structs(1, pages.len());
    for page in pages {
        let mut p = Fields::new(f.out());
        p.i64(1, page.offset);
        p.i32(2, page.compressed_page_size);
        p.i64(3, page.first_row_index);
        p.end();
    }
    if let Some(sizes) = index.unencoded_byte_array_data_bytes() {
        f.list(2, I64, sizes.len());
        for &size in sizes {
            varint(f.out(), zigzag(size));
        }
    }
    f.end();
}

/// Appends the Thrift `SchemaElement` of the root of `columns` columns (named as the Arrow
/// writer names it).
pub(super) fn schema_root(out: &mut Vec<u8>, columns: usize) {
    let mut e = Fields::new(out);
    e.binary(4, b"arrow_schema");
    e.i32(5, i32::try_from(columns).expect("fewer than 2^31 columns"));
    e.end();
}

/// Appends the Thrift `SchemaElement` of a column: nullable, of its physical type, with the
/// converted and logical types the Arrow writer gives it.
pub(super) fn schema_column(out: &mut Vec<u8>, name: &str, ty: ColumnType) {
    let mut e = Fields::new(out);
    e.i32(1, physical_id(ty));
    // OPTIONAL
    e.i32(3, 1);
    e.binary(4, name.as_bytes());
    // Converted type (UTF8 0, DATE 6, TIMESTAMP_MICROS 10), then the `LogicalType` union:
    // STRING 1, DATE 6, TIMESTAMP 8 (`TimestampType`: isAdjustedToUTC, unit MICROS 2).
    let logical = match ty {
        ColumnType::Utf8 => Some((0, 1)),
        ColumnType::Date32 => Some((6, 6)),
        ColumnType::TimestampMicros => Some((10, 8)),
        ColumnType::Int64 | ColumnType::Float64 | ColumnType::Boolean => None,
    };
    if let Some((converted, logical)) = logical {
        e.i32(6, converted);
        let mut union = e.nested(10);
        let mut kind = union.nested(logical);
        if ty == ColumnType::TimestampMicros {
            kind.bool(1, false);
            let mut unit = kind.nested(2);
            unit.nested(2).end();
            unit.end();
        }
        kind.end();
        union.end();
    }
    e.end();
}

/// Appends a column's `ColumnOrder` union, the one the Parquet crate gives its type (which
/// tells readers how its statistics' `min_value` and `max_value` were ordered): IEEE 754 total
/// order (field 2) for doubles, whose statistics the Parquet crate computes that way, else
/// the type's own order (TYPE_ORDER, field 1).
pub(super) fn column_order(out: &mut Vec<u8>, ty: ColumnType) {
    let mut union = Fields::new(out);
    let order = if ty == ColumnType::Float64 { 2 } else { 1 };
    union.nested(order).end();
    union.end();
}

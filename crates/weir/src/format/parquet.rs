//! Parquet output, the workers' side: the output's columns and types (`ParquetLayout`) and
//! the binary row each kept record is encoded as (`RowEncoder`); the committer's side, which
//! gathers rows into row groups and writes the file, is `crate::sink::parquet`.
//!
//! Rows go in the batch's output bytes, so the committer's ordered gates (head, dedupe,
//! unique), which cut records out of a batch by byte ranges, work unchanged. For each output
//! column a row holds a tag byte (0 = null, 1 = value) and then the value: `i64`/`f64` as 8
//! bytes, a boolean as 1 byte, a date as `i32` days since 1970-01-01, a timestamp as `i64`
//! microseconds, text as a `u32` length and UTF-8 bytes (all little-endian); `row_len` and
//! `value_end` read that format back.
//!
//! Column types come from the Table Schema when one is given (see
//! `transform::Chain::typed_fields`); every other column is text. All columns are
//! nullable. The Parquet schema is the one the Arrow writer writes for the same Arrow schema
//! (see [`ParquetLayout::arrow_schema`]), so Arrow readers read back the same types; the
//! Arrow schema itself is not stored in the file (a million columns would make it tens of MB).

use std::sync::Arc;

#[cfg(test)]
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::basic::{LogicalType, Repetition, TimeUnit as ParquetTimeUnit, Type as PhysicalType};
use parquet::schema::types::{Type, TypePtr};

use super::EncodeError;
use crate::record::{Columns, Record, ValueKind};
use crate::schema::{ColumnType, Typed, TypedField, Unfit};
use crate::units::plural;

/// A row's tag byte before each column: null, or a value follows.
pub(crate) const NULL: u8 = 0;
pub(crate) const VALUE: u8 = 1;

/// The output columns of a Parquet file: names and types, known before the run starts.
#[derive(Debug, Clone)]
pub struct ParquetLayout {
    pub(crate) names: Vec<String>,
    pub(crate) types: Vec<ColumnType>,
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
                    "the record has {}, the output has {}",
                    plural(record.len(), "field"),
                    plural(self.layout.names.len(), "column")
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

/// The Parquet type of a column: nullable, of the physical and logical type the Arrow writer
/// gives its Arrow type.
pub(crate) fn column_type(name: &str, ty: ColumnType) -> TypePtr {
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
pub(crate) fn row_len(types: &[ColumnType], bytes: &[u8]) -> usize {
    let mut at = 0;
    for ty in types {
        at = value_end(*ty, bytes, at);
    }
    at
}

/// Where the value of type `ty` that starts at `at` ends.
pub(crate) fn value_end(ty: ColumnType, bytes: &[u8], at: usize) -> usize {
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

pub(crate) fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    bytes[at..at + N].try_into().expect("N bytes")
}

#[cfg(test)]
mod tests {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ArrowSchemaConverter;
    use parquet::basic::ColumnOrder;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::serialized_reader::ReadOptionsBuilder;

    use super::*;
    use crate::sink::parquet::ParquetSink;
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

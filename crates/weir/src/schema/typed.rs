//! Typed values of cells for typed outputs (Parquet): a schema field's own reader, mapped to
//! the output's column types.

use super::field::{Cell, Field, Kind, Scratch, Value};
use super::number::{Num, Special};
use super::Schema;
use crate::format::ValueKind;

/// Days from 0001-01-01 (the schema's day numbers) to 1970-01-01 (Arrow's).
const UNIX_EPOCH_DAYS: i64 = 719_162;
const DAY_MICROS: i64 = 86_400_000_000;

/// The type of a typed output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Utf8,
    Int64,
    Float64,
    Boolean,
    /// Days since 1970-01-01.
    Date32,
    /// Microseconds since 1970-01-01 00:00 (UTC for values with an offset).
    TimestampMicros,
}

/// A cell's typed value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Typed {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(i32),
    Timestamp(i64),
}

/// A schema field, with its missing values and scratch memory, that reads cells as values of
/// its column type. One per worker and column.
#[derive(Debug, Clone)]
pub(crate) struct TypedField {
    field: Field,
    missing: Vec<String>,
    scratch: Scratch,
    ty: ColumnType,
}

impl Schema {
    /// The field named `name` as a typed column, when its type maps to one other than text.
    pub(crate) fn typed_field(&self, name: &str) -> Option<TypedField> {
        let field = self.fields.iter().find(|f| f.name == name)?;
        let ty = match field.kind {
            Kind::Integer { .. } | Kind::Year => ColumnType::Int64,
            Kind::Number { .. } => ColumnType::Float64,
            Kind::Boolean { .. } => ColumnType::Boolean,
            Kind::Date(_) => ColumnType::Date32,
            Kind::DateTime(_) => ColumnType::TimestampMicros,
            _ => return None,
        };
        Some(TypedField {
            missing: field
                .missing_values
                .clone()
                .unwrap_or_else(|| self.missing_values.clone()),
            scratch: field.scratch(),
            field: field.clone(),
            ty,
        })
    }
}

impl TypedField {
    /// The column type.
    pub(crate) fn column_type(&self) -> ColumnType {
        self.ty
    }

    /// The typed value of a cell: `Null` for NULL and the field's missing values, `None` when
    /// the cell is not a value of the field's type (or does not fit the column type).
    pub(crate) fn read(&mut self, bytes: &[u8], kind: ValueKind) -> Option<Typed> {
        let missing = match kind {
            ValueKind::Null => true,
            ValueKind::Text => self.missing.iter().any(|m| m.as_bytes() == bytes),
            ValueKind::Json => false,
        };
        if missing {
            return Some(Typed::Null);
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let cell = match kind {
            ValueKind::Json => Cell::Json(text),
            _ => Cell::Text(text),
        };
        let ty = self.ty;
        Some(match (ty, self.field.read(cell, &mut self.scratch)?) {
            (ColumnType::Int64, Value::Num(n)) => Typed::Int(num_to_i64(&n)?),
            (ColumnType::Int64, Value::Year(y)) => Typed::Int(y),
            (ColumnType::Float64, Value::Num(n)) => Typed::Float(num_to_f64(&n)?),
            (ColumnType::Boolean, Value::Bool(b)) => Typed::Bool(b),
            (ColumnType::Date32, Value::Date(d)) => Typed::Date(d - UNIX_EPOCH_DAYS as i32),
            (ColumnType::TimestampMicros, Value::DateTime(dt)) => {
                let days = i64::from(dt.days) - UNIX_EPOCH_DAYS;
                let offset = i64::from(dt.offset.unwrap_or(0)) * 1_000_000;
                Typed::Timestamp(
                    days.checked_mul(DAY_MICROS)?
                        .checked_add(dt.micros)?
                        .checked_sub(offset)?,
                )
            }
            _ => return None,
        })
    }
}

fn num_to_i64(n: &Num<'_>) -> Option<i64> {
    match n {
        Num::Int(v) => Some(*v),
        Num::Dec(_) => {
            let f = num_to_f64(n)?;
            // An integral value written as a decimal (`1.0`, `1e3`) that fits exactly.
            (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
        }
    }
}

fn num_to_f64(n: &Num<'_>) -> Option<f64> {
    let d = match n {
        Num::Int(v) => return Some(*v as f64),
        Num::Dec(d) => d,
    };
    let sign = if d.neg { -1.0 } else { 1.0 };
    match d.special {
        Special::NaN => return Some(f64::NAN),
        Special::Inf => return Some(sign * f64::INFINITY),
        Special::Finite => {}
    }
    let mut s = String::with_capacity(d.int.len() + d.frac.len() + 24);
    if d.neg {
        s.push('-');
    }
    s.push('0');
    s.extend(
        d.int
            .iter()
            .filter(|b| b.is_ascii_digit())
            .map(|&b| b as char),
    );
    s.push('.');
    s.extend(
        d.frac
            .iter()
            .filter(|b| b.is_ascii_digit())
            .map(|&b| b as char),
    );
    s.push_str("0e");
    s.push_str(&d.exp.to_string());
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(descriptor: &str) -> TypedField {
        let schema = Schema::from_json(&format!(
            r#"{{"fields": [{descriptor}], "missingValues": ["", "NA"]}}"#
        ))
        .expect("a schema");
        schema.typed_field("x").expect("a typed field")
    }

    fn read(f: &mut TypedField, text: &str) -> Option<Typed> {
        f.read(text.as_bytes(), ValueKind::Text)
    }

    #[test]
    fn numbers_read_as_the_schema_reads_them() {
        let mut f = field(r#"{"name": "x", "type": "number"}"#);
        assert_eq!(f.column_type(), ColumnType::Float64);
        assert_eq!(read(&mut f, "-2.25e1"), Some(Typed::Float(-22.5)));
        assert_eq!(read(&mut f, ".5"), Some(Typed::Float(0.5)));
        assert_eq!(read(&mut f, "12.5"), Some(Typed::Float(12.5)));
        assert_eq!(read(&mut f, "7"), Some(Typed::Float(7.0)));
        assert_eq!(read(&mut f, "NA"), Some(Typed::Null));
        assert_eq!(read(&mut f, "abc"), None);
        let mut g =
            field(r#"{"name": "x", "type": "number", "groupChar": " ", "decimalChar": ","}"#);
        assert_eq!(read(&mut g, "1 234,5"), Some(Typed::Float(1234.5)));
    }

    #[test]
    fn integers_years_and_booleans() {
        let mut f = field(r#"{"name": "x", "type": "integer"}"#);
        assert_eq!(f.column_type(), ColumnType::Int64);
        assert_eq!(read(&mut f, "-42"), Some(Typed::Int(-42)));
        assert_eq!(
            read(&mut f, "99999999999999999999"),
            None,
            "does not fit an i64"
        );
        assert_eq!(f.read(b"", ValueKind::Null), Some(Typed::Null));
        let mut y = field(r#"{"name": "x", "type": "year"}"#);
        assert_eq!(read(&mut y, "1999"), Some(Typed::Int(1999)));
        let mut b = field(r#"{"name": "x", "type": "boolean", "trueValues": ["yes"]}"#);
        assert_eq!(read(&mut b, "yes"), Some(Typed::Bool(true)));
        assert_eq!(read(&mut b, "true"), None);
    }

    #[test]
    fn dates_and_datetimes_count_from_the_unix_epoch() {
        let mut d = field(r#"{"name": "x", "type": "date"}"#);
        assert_eq!(d.column_type(), ColumnType::Date32);
        assert_eq!(read(&mut d, "1970-01-01"), Some(Typed::Date(0)));
        assert_eq!(read(&mut d, "1969-12-31"), Some(Typed::Date(-1)));
        let mut p = field(r#"{"name": "x", "type": "date", "format": "%d/%m/%Y"}"#);
        assert_eq!(read(&mut p, "02/01/1970"), Some(Typed::Date(1)));
        let mut t = field(r#"{"name": "x", "type": "datetime"}"#);
        assert_eq!(t.column_type(), ColumnType::TimestampMicros);
        assert_eq!(
            read(&mut t, "1970-01-01T00:00:01Z"),
            Some(Typed::Timestamp(1_000_000))
        );
        assert_eq!(
            read(&mut t, "1970-01-01T02:00:00+02:00"),
            Some(Typed::Timestamp(0))
        );
    }

    #[test]
    fn text_types_are_not_typed_columns() {
        let schema = Schema::from_json(
            r#"{"fields": [{"name": "s", "type": "string"}, {"name": "t", "type": "time"}]}"#,
        )
        .expect("a schema");
        assert!(schema.typed_field("s").is_none());
        assert!(schema.typed_field("t").is_none());
        assert!(schema.typed_field("nope").is_none());
    }
}

//! Typed values of cells for typed outputs (Parquet): a schema field's own reader, mapped to
//! the output's column types.

use super::field::{Cell, Field, Kind, Scratch, Value};
use super::number::{Num, Special};
use super::Schema;
use crate::calendar;
use crate::record::ValueKind;

/// Days from 0001-01-01 (the schema's day numbers) to 1970-01-01 (Arrow's).
const UNIX_EPOCH_DAYS: i64 = calendar::DAYS_0001_TO_1970;

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
    #[cfg(test)]
    pub(crate) fn typed_field(&self, name: &str) -> Option<TypedField> {
        self.typed_columns(&[name.to_string()])
            .pop()
            .flatten()
            .map(|f| *f)
    }

    /// For each of `names`, the field of that name as a typed column, when there is one and
    /// its type maps to one other than text. The fields are hashed by name once, so a wide
    /// output costs time in proportion to its width, and boxed, so that a text column costs
    /// one pointer (a `TypedField` is 280 bytes: a million columns of them took 280 MB).
    pub(crate) fn typed_columns(&self, names: &[String]) -> Vec<Option<Box<TypedField>>> {
        let by_name: std::collections::HashMap<&str, &Field> =
            self.fields.iter().map(|f| (f.name.as_str(), f)).collect();
        names
            .iter()
            .map(|name| self.typed(by_name.get(name.as_str())?).map(Box::new))
            .collect()
    }

    fn typed(&self, field: &Field) -> Option<TypedField> {
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

/// Why a cell has no value of its column's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unfit {
    /// The cell is not a value of the field's type (a step after validation changed it).
    NotAValue,
    /// A value of the field's type that the column cannot hold exactly: why not.
    Inexact(String),
}

impl TypedField {
    /// The column type.
    pub(crate) fn column_type(&self) -> ColumnType {
        self.ty
    }

    /// The typed value of a cell: `Null` for NULL and the field's missing values. A value is
    /// written exactly or not at all: an integer outside the `i64` range, a number no double
    /// reads back as (see [`num_to_f64`]) and a datetime with digits past the microsecond are
    /// [`Unfit::Inexact`], never rounded, clamped or truncated.
    pub(crate) fn read(&mut self, bytes: &[u8], kind: ValueKind) -> Result<Typed, Unfit> {
        let missing = match kind {
            ValueKind::Null => true,
            ValueKind::Text => self.missing.iter().any(|m| m.as_bytes() == bytes),
            ValueKind::Json => false,
        };
        if missing {
            return Ok(Typed::Null);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| Unfit::NotAValue)?;
        let cell = match kind {
            ValueKind::Json => Cell::Json(text),
            _ => Cell::Text(text),
        };
        let ty = self.ty;
        let value = self
            .field
            .read(cell, &mut self.scratch)
            .ok_or(Unfit::NotAValue)?;
        Ok(match (ty, value) {
            (ColumnType::Int64, Value::Num(n)) => Typed::Int(num_to_i64(&n)?),
            (ColumnType::Int64, Value::Year(y)) => Typed::Int(y),
            (ColumnType::Float64, Value::Num(n)) => Typed::Float(num_to_f64(&n)?),
            (ColumnType::Boolean, Value::Bool(b)) => Typed::Bool(b),
            // Python's dates (years 1 to 9999) are all within Date32's range.
            (ColumnType::Date32, Value::Date(d)) => Typed::Date(d - UNIX_EPOCH_DAYS as i32),
            (ColumnType::TimestampMicros, Value::DateTime(dt)) => {
                if dt.past_micros {
                    // Nanoseconds since 1970 in an i64 reach only the years 1677 to 2262,
                    // and the schema's datetimes span 1 to 9999: microseconds hold them all,
                    // so a finer value is refused rather than the unit narrowed for everyone.
                    return Err(Unfit::Inexact(
                        "it has digits past the microsecond, and the Parquet timestamp \
                         holds microseconds"
                            .into(),
                    ));
                }
                let days = i64::from(dt.days) - UNIX_EPOCH_DAYS;
                let offset = i64::from(dt.offset.unwrap_or(0)) * 1_000_000;
                // Years 1 to 9999 in microseconds are far inside an i64.
                let micros = days
                    .checked_mul(calendar::MICROS_PER_DAY)
                    .and_then(|v| v.checked_add(dt.micros))
                    .and_then(|v| v.checked_sub(offset))
                    .ok_or_else(|| Unfit::Inexact("it is outside the timestamp range".into()))?;
                Typed::Timestamp(micros)
            }
            _ => return Err(Unfit::NotAValue),
        })
    }
}

/// An integer exactly, or why not: an `i64` holds -9223372036854775808 to
/// 9223372036854775807, every 19-digit id in between included.
fn num_to_i64(n: &Num<'_>) -> Result<i64, Unfit> {
    match n {
        Num::Int(v) => Ok(*v),
        Num::Dec(d) if !d.is_integral() => Err(Unfit::NotAValue),
        Num::Dec(d) => d.to_i64().ok_or_else(|| {
            Unfit::Inexact(format!(
                "it is outside the 64-bit integer range ({} to {})",
                i64::MIN,
                i64::MAX
            ))
        }),
    }
}

/// A `number` as a double, exactly in this sense: the double written reads back as the same
/// decimal number (its shortest decimal form, as any Parquet reader prints it, equals the
/// cell's value). So `0.1` and `1e-320` are written; a value past the double's range (`1e400`,
/// which would be infinity), one too small for it (`1e-400`, which would be 0) and one with
/// more significant digits than a double keeps (`0.30000000000000001`,
/// `12345678901234567890`) are refused with the nearest double named. `NaN` and `Infinity`
/// are written as they are.
fn num_to_f64(n: &Num<'_>) -> Result<f64, Unfit> {
    let d = match n {
        // Every integer up to 2^53 is a double; past it, only some are.
        Num::Int(v) if v.unsigned_abs() <= 1 << 53 => return Ok(*v as f64),
        Num::Int(v) => {
            let f = *v as f64;
            return if f as i128 == i128::from(*v) {
                Ok(f)
            } else {
                Err(inexact(f))
            };
        }
        Num::Dec(d) => d,
    };
    let sign = if d.neg { -1.0 } else { 1.0 };
    match d.special {
        Special::NaN => return Ok(f64::NAN),
        Special::Inf => return Ok(sign * f64::INFINITY),
        Special::Finite => {}
    }
    let digits = || {
        d.int
            .iter()
            .chain(d.frac)
            .filter(|b| b.is_ascii_digit())
            .map(|&b| b as char)
    };
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
    let f: f64 = s.parse().map_err(|_| Unfit::NotAValue)?;
    if f.is_infinite() {
        return Err(Unfit::Inexact(
            "it is beyond the range of a double (it would be written as infinity)".into(),
        ));
    }
    // Significant digits: from the first non-zero digit to the last.
    let (mut first, mut last) = (None, 0);
    for (i, c) in digits().enumerate() {
        if c != '0' {
            first.get_or_insert(i);
            last = i;
        }
    }
    let Some(first) = first else {
        return Ok(f);
    };
    // At most 15 significant digits in the normal range: the nearest double always reads
    // back as the same number (DBL_DIG), so only longer or extreme values need the check.
    if last - first < 15 && f.abs() >= f64::MIN_POSITIVE {
        return Ok(f);
    }
    let back = format!("{f:e}");
    let same = super::number::parse_decimal(&back)
        .is_some_and(|b| Num::Dec(b).compare(n) == Some(std::cmp::Ordering::Equal));
    if same {
        Ok(f)
    } else {
        Err(inexact(f))
    }
}

/// A number no double reads back as, with the nearest double.
fn inexact(nearest: f64) -> Unfit {
    Unfit::Inexact(format!(
        "a double cannot hold it exactly (the nearest is {nearest:e})"
    ))
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
        f.read(text.as_bytes(), ValueKind::Text).ok()
    }

    /// Why `text` is refused, when it is a value the column cannot hold exactly.
    fn refused(f: &mut TypedField, text: &str) -> String {
        match f.read(text.as_bytes(), ValueKind::Text) {
            Err(Unfit::Inexact(why)) => why,
            other => panic!("{text}: expected a refusal, got {other:?}"),
        }
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
        assert!(
            refused(&mut f, "99999999999999999999").contains("64-bit integer range"),
            "does not fit an i64"
        );
        assert_eq!(f.read(b"", ValueKind::Null), Ok(Typed::Null));
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

    #[test]
    fn integers_in_range_are_written_whatever_their_digits() {
        let mut f = field(r#"{"name": "x", "type": "integer"}"#);
        for (text, want) in [
            ("9223372036854775806", 9_223_372_036_854_775_806),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("1234567890123456789", 1_234_567_890_123_456_789),
            ("+42", 42),
            ("0000000000000000000000042", 42),
            ("-0000000000000000000009223372036854775808", i64::MIN),
        ] {
            assert_eq!(read(&mut f, text), Some(Typed::Int(want)), "{text}");
        }
        assert!(refused(&mut f, "9223372036854775808").contains("64-bit integer range"));
        assert!(refused(&mut f, "-9223372036854775809").contains("64-bit integer range"));
    }

    #[test]
    fn numbers_are_written_only_as_a_double_that_reads_back_the_same() {
        let mut f = field(r#"{"name": "x", "type": "number"}"#);
        for (text, want) in [
            ("0.1", 0.1),
            ("1e-320", 1e-320),
            ("5e-324", 5e-324),
            ("1.7976931348623157e308", f64::MAX),
            ("2.2250738585072014e-308", f64::MIN_POSITIVE),
            ("0.30000000000000004", 0.300_000_000_000_000_04),
            ("9007199254740992", 9_007_199_254_740_992.0),
            ("0e400", 0.0),
            ("-0", -0.0),
            ("123456789012345.6", 123_456_789_012_345.6),
        ] {
            assert_eq!(read(&mut f, text), Some(Typed::Float(want)), "{text}");
        }
        assert_eq!(read(&mut f, "Infinity"), Some(Typed::Float(f64::INFINITY)));
        assert!(refused(&mut f, "1e400").contains("beyond the range of a double"));
        assert!(refused(&mut f, "-1e400").contains("beyond the range of a double"));
        assert!(refused(&mut f, "1e-400").contains("the nearest is 0e0"));
        assert!(refused(&mut f, "4.9e-324").contains("the nearest is 5e-324"));
        assert!(refused(&mut f, "1.2e-323").contains("the nearest is 1e-323"));
        assert!(refused(&mut f, "0.30000000000000001").contains("the nearest is 3e-1"));
        assert!(refused(&mut f, "12345678901234567890").contains("1.2345678901234567e19"));
        assert!(refused(&mut f, "9007199254740993").contains("9.007199254740992e15"));
    }

    #[test]
    fn datetimes_past_the_microsecond_are_refused_not_truncated() {
        let mut t = field(r#"{"name": "x", "type": "datetime"}"#);
        assert_eq!(
            read(&mut t, "1970-01-01T00:00:00.1234560Z"),
            Some(Typed::Timestamp(123_456)),
            "a trailing zero loses nothing"
        );
        assert!(refused(&mut t, "1970-01-01T00:00:00.1234567Z").contains("past the microsecond"));
        assert!(refused(&mut t, "2024-01-05T10:20:30.000000001").contains("past the microsecond"));
        let mut any = field(r#"{"name": "x", "type": "datetime", "format": "any"}"#);
        assert!(refused(&mut any, "5 Jan 2024 10:20:30.1234567").contains("past the microsecond"));
        assert_eq!(
            read(&mut t, "9999-12-31T23:59:59.999999Z"),
            Some(Typed::Timestamp(253_402_300_799_999_999))
        );
        assert_eq!(
            read(&mut t, "0001-01-01T00:00:00Z"),
            Some(Typed::Timestamp(-62_135_596_800_000_000))
        );
    }
}

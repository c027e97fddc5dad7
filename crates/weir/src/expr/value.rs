//! The values expressions compute, their static types, and how they are written as text.

use std::borrow::Cow;

use jiff::civil::{Date, DateTime, Time};

use super::convert::{self, IntWidth, Num};
use super::EvalError;

/// A SQL value. Text borrows from the record or the expression where it can.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// `BOOLEAN`.
    Bool(bool),
    /// `BIGINT` (also `INTEGER`, `SMALLINT`, `TINYINT` after a range check).
    Int(i64),
    /// `DOUBLE` (also `FLOAT`, `REAL` and, approximately, `DECIMAL`).
    Float(f64),
    /// `VARCHAR`.
    Str(Cow<'a, str>),
    /// `DATE`.
    Date(Date),
    /// `TIMESTAMP` (microsecond precision, as DuckDB's).
    Timestamp(DateTime),
    /// `TIME` (microsecond precision).
    Time(Time),
}

impl Value<'_> {
    /// The number arithmetic and numeric functions read: text as DOUBLE; `None` for a value
    /// that is not one.
    #[inline]
    pub(crate) fn to_number(&self) -> Option<Num> {
        match self {
            Value::Int(i) => Some(Num::Int(*i)),
            Value::Float(f) => Some(Num::Float(*f)),
            Value::Str(s) => convert::parse_f64(s.as_bytes()).map(Num::Float),
            _ => None,
        }
    }

    /// The integer a position, count or number of digits is read as; `None` when there is none.
    #[inline]
    pub(crate) fn to_integer(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) => convert::float_to_int(*f, IntWidth::I64),
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Str(s) => convert::parse_int(s.as_bytes()),
            _ => None,
        }
    }

    /// SQL truthiness for WHERE/filter: `Some(true/false)`, `None` for NULL.
    ///
    /// As in DuckDB, a number is true when it is not zero and text must read as a boolean
    /// (`true`/`t`/`yes`/`y`/`1`, `false`/`f`/`no`/`n`/`0`, any case); other text and temporal
    /// values are an error. Use [`super::Expr::eval_truthy`] to get the column into the error.
    pub fn truthy(&self) -> Result<Option<bool>, EvalError> {
        match self {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            Value::Int(i) => Ok(Some(*i != 0)),
            Value::Float(f) => Ok(Some(*f != 0.0)),
            Value::Str(s) => match convert::parse_bool(s.as_bytes()) {
                Some(b) => Ok(Some(b)),
                None => Err(EvalError {
                    column: None,
                    value: s.to_string(),
                    message: format!("cannot convert '{s}' to BOOLEAN"),
                    too_large: false,
                }),
            },
            other => Err(EvalError {
                column: None,
                value: other.to_text().into_owned(),
                message: format!(
                    "cannot use a {} value ({}) as a condition",
                    other.type_name(),
                    other.to_text()
                ),
                too_large: false,
            }),
        }
    }

    /// Appends the value as text the way DuckDB writes it to CSV: integers plain; doubles as
    /// the shortest text that reads back exactly, with `.0` when integral and an exponent from
    /// 1e16 and below 1e-4 (`4567.8`, `1.0`, `1e+20`, `1e-05`, `inf`, `nan`); dates
    /// `2024-01-31`; timestamps `2024-01-31 12:00:00` (fractional seconds without trailing
    /// zeros); booleans `true`/`false`. NULL appends nothing and returns false.
    pub fn write_text(&self, out: &mut Vec<u8>) -> bool {
        match self {
            Value::Null => return false,
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(i) => write_i64(out, *i),
            Value::Float(f) => write_f64(out, *f),
            Value::Str(s) => out.extend_from_slice(s.as_bytes()),
            Value::Date(d) => write_date(out, *d),
            Value::Timestamp(t) => {
                write_date_digits(out, t.date());
                out.push(b' ');
                write_time(out, t.time());
                write_bc(out, t.date());
            }
            Value::Time(t) => write_time(out, *t),
        }
        true
    }

    /// The DuckDB name of the value's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Bool(_) => "BOOLEAN",
            Value::Int(_) => "BIGINT",
            Value::Float(_) => "DOUBLE",
            Value::Str(_) => "VARCHAR",
            Value::Date(_) => "DATE",
            Value::Timestamp(_) => "TIMESTAMP",
            Value::Time(_) => "TIME",
        }
    }

    /// Whether the value is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A copy that owns its text.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Date(d) => Value::Date(d),
            Value::Timestamp(t) => Value::Timestamp(t),
            Value::Time(t) => Value::Time(t),
        }
    }

    /// The value with its text borrowed from `self`.
    pub(crate) fn borrowed(&self) -> Value<'_> {
        match self {
            Value::Str(s) => Value::Str(Cow::Borrowed(s.as_ref())),
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::Float(f) => Value::Float(*f),
            Value::Date(d) => Value::Date(*d),
            Value::Timestamp(t) => Value::Timestamp(*t),
            Value::Time(t) => Value::Time(*t),
        }
    }
}

impl<'a> Value<'a> {
    /// The value as text (its CSV form); NULL is the empty string.
    pub(crate) fn to_text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s.as_ref()),
            other => Cow::Owned(other.format()),
        }
    }

    /// The value as text, keeping borrowed text borrowed.
    pub(crate) fn into_text(self) -> Cow<'a, str> {
        match self {
            Value::Str(s) => s,
            other => Cow::Owned(other.format()),
        }
    }

    fn format(&self) -> String {
        let mut buf = Vec::new();
        self.write_text(&mut buf);
        // Everything but Str writes ASCII.
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl std::fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            other => f.write_str(&other.to_text()),
        }
    }
}

/// A static type, known at compile time. Columns are `Text` (a JSON Lines field may still hold
/// a number or a boolean at run time; conversions handle both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlType {
    Null,
    Bool,
    Int,
    Float,
    Text,
    Date,
    Timestamp,
    Time,
}

impl SqlType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SqlType::Null => "NULL",
            SqlType::Bool => "BOOLEAN",
            SqlType::Int => "BIGINT",
            SqlType::Float => "DOUBLE",
            SqlType::Text => "VARCHAR",
            SqlType::Date => "DATE",
            SqlType::Timestamp => "TIMESTAMP",
            SqlType::Time => "TIME",
        }
    }

    pub(crate) fn is_numeric(self) -> bool {
        matches!(self, SqlType::Int | SqlType::Float)
    }
}

pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Writes a double as DuckDB does (and Python's `repr`): the shortest round-trip digits, fixed
/// notation for decimal exponents -4 <= e < 16, else `d.ddde+XX` with at least two exponent
/// digits.
pub(crate) fn write_f64(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    if f == 0.0 {
        out.extend_from_slice(if f.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return;
    }
    // zmij lays out the same digits in fixed notation for -5 <= e < 16 and as `1e-7`/`1e+20`
    // otherwise; adjust the two differences.
    let mut buf = zmij::Buffer::new();
    let s = buf.format_finite(f).as_bytes();
    if let Some(e) = s.iter().position(|&b| b == b'e') {
        let (mantissa, exp) = s.split_at(e + 2);
        out.extend_from_slice(mantissa);
        if exp.len() < 2 {
            out.push(b'0');
        }
        out.extend_from_slice(exp);
    } else if f.abs() < 1e-4 {
        // `0.0000ddd` (exponent -5) is written `d.dde-05`.
        let first = s
            .iter()
            .position(|&b| (b'1'..=b'9').contains(&b))
            .unwrap_or(0);
        let digits = &s[first..];
        if f < 0.0 {
            out.push(b'-');
        }
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.extend_from_slice(b"e-05");
    } else {
        out.extend_from_slice(s);
    }
}

fn push2(out: &mut Vec<u8>, v: i32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// `YYYY-MM-DD` with the year of the proleptic Gregorian calendar as DuckDB writes it: years
/// before 1 are written as their BC year with a ` (BC)` suffix (by [`write_bc`]).
fn write_date_digits(out: &mut Vec<u8>, d: Date) {
    let y = i32::from(d.year());
    let y = if y <= 0 { 1 - y } else { y };
    if y < 1000 {
        out.extend(std::iter::repeat_n(
            b'0',
            4 - (y.max(1).ilog10() as usize + 1),
        ));
    }
    write_i64(out, i64::from(y));
    out.push(b'-');
    push2(out, i32::from(d.month()));
    out.push(b'-');
    push2(out, i32::from(d.day()));
}

fn write_bc(out: &mut Vec<u8>, d: Date) {
    if d.year() <= 0 {
        out.extend_from_slice(b" (BC)");
    }
}

pub(crate) fn write_date(out: &mut Vec<u8>, d: Date) {
    write_date_digits(out, d);
    write_bc(out, d);
}

/// `HH:MM:SS[.ffffff]`, microseconds without trailing zeros.
pub(crate) fn write_time(out: &mut Vec<u8>, t: Time) {
    push2(out, i32::from(t.hour()));
    out.push(b':');
    push2(out, i32::from(t.minute()));
    out.push(b':');
    push2(out, i32::from(t.second()));
    let mut micros = t.subsec_nanosecond() / 1000;
    if micros > 0 {
        out.push(b'.');
        let mut width = 6;
        while micros % 10 == 0 {
            micros /= 10;
            width -= 1;
        }
        let mut digits = [b'0'; 6];
        for i in (0..width).rev() {
            digits[i] = b'0' + (micros % 10) as u8;
            micros /= 10;
        }
        out.extend_from_slice(&digits[..width]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Value<'_>) -> String {
        let mut out = Vec::new();
        v.write_text(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn doubles_are_written_as_duckdb_writes_them_to_csv() {
        // From DuckDB 2.0.1: COPY (SELECT 1.0::DOUBLE, 4567.8::DOUBLE, ...) TO 'o.csv'.
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (4567.8, "4567.8"),
            (1e20, "1e+20"),
            (1e-7, "1e-07"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (123456789012345680000.0, "1.2345678901234568e+20"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (0.0001, "0.0001"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (100.0, "100.0"),
            (12345678.9, "12345678.9"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (1.23e-18, "1.23e-18"),
            (0.001, "0.001"),
            (1.0 / 3.0, "0.3333333333333333"),
            (-1e-5, "-1e-05"),
            (-2.5, "-2.5"),
            (1.5e-5, "1.5e-05"),
            (-9.87e-5, "-9.87e-05"),
            (1.2345678912345678e16, "1.2345678912345678e+16"),
            (1e21, "1e+21"),
            (45.7, "45.7"),
        ];
        for &(f, want) in cases {
            assert_eq!(text(Value::Float(f)), want, "{f:?}");
        }
    }

    #[test]
    fn other_types_are_written_as_duckdb_writes_them_to_csv() {
        // From DuckDB 2.0.1 COPY ... TO csv: true,false,2024-01-31,2024-01-31 12:00:00,
        // 2024-01-31 12:00:00.5,12:34:56,12:34:56.123,0001-01-01 00:00:00,...123456
        assert_eq!(text(Value::Bool(true)), "true");
        assert_eq!(text(Value::Bool(false)), "false");
        assert_eq!(
            text(Value::Int(-9223372036854775808)),
            "-9223372036854775808"
        );
        assert_eq!(text(Value::Int(0)), "0");
        let d = Date::new(2024, 1, 31).unwrap();
        assert_eq!(text(Value::Date(d)), "2024-01-31");
        assert_eq!(
            text(Value::Timestamp(d.at(12, 0, 0, 0))),
            "2024-01-31 12:00:00"
        );
        assert_eq!(
            text(Value::Timestamp(d.at(12, 0, 0, 500_000_000))),
            "2024-01-31 12:00:00.5"
        );
        assert_eq!(
            text(Value::Timestamp(d.at(12, 0, 0, 123_456_000))),
            "2024-01-31 12:00:00.123456"
        );
        assert_eq!(
            text(Value::Timestamp(Date::new(1, 1, 1).unwrap().at(0, 0, 0, 0))),
            "0001-01-01 00:00:00"
        );
        assert_eq!(
            text(Value::Time(Time::new(12, 34, 56, 123_000_000).unwrap())),
            "12:34:56.123"
        );
        assert_eq!(
            text(Value::Date(Date::new(0, 1, 1).unwrap())),
            "0001-01-01 (BC)"
        );
        let mut out = b"x".to_vec();
        assert!(!Value::Null.write_text(&mut out));
        assert_eq!(out, b"x");
        assert!(Value::Str("".into()).write_text(&mut out));
    }

    #[test]
    fn truthiness_follows_duckdb_where() {
        // DuckDB 2.0.1: SELECT 1 WHERE 2 -> row; WHERE 0 -> none; WHERE 1.5 -> row;
        // WHERE 'true' -> row; WHERE 'yes' -> row; WHERE 'abc' -> Conversion Error.
        assert_eq!(Value::Int(2).truthy().unwrap(), Some(true));
        assert_eq!(Value::Int(0).truthy().unwrap(), Some(false));
        assert_eq!(Value::Float(1.5).truthy().unwrap(), Some(true));
        assert_eq!(Value::Float(0.0).truthy().unwrap(), Some(false));
        assert_eq!(Value::Str("true".into()).truthy().unwrap(), Some(true));
        assert_eq!(Value::Str("yes".into()).truthy().unwrap(), Some(true));
        assert_eq!(Value::Str("F".into()).truthy().unwrap(), Some(false));
        assert_eq!(Value::Null.truthy().unwrap(), None);
        let err = Value::Str("abc".into()).truthy().unwrap_err();
        assert_eq!(err.message, "cannot convert 'abc' to BOOLEAN");
        assert_eq!(err.value, "abc");
        assert!(Value::Date(Date::new(2024, 1, 1).unwrap())
            .truthy()
            .is_err());
    }
}

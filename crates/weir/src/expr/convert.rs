//! Text to typed values with DuckDB's cast rules, and jiff's dates and times as day and
//! microsecond counts (the day arithmetic itself is `crate::calendar`'s).
//!
//! Every parser takes bytes, so a column's text is converted without validating it as UTF-8
//! first; the common shapes (`42`, `2024-01-31`) take a short hand-written path.

use jiff::civil::{Date, DateTime, Time};

use crate::calendar::{civil_from_days, days_from_civil, MICROS_PER_DAY};

/// The integer types a cast can name; all are held as `i64`, after a range check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntWidth {
    I8,
    I16,
    I32,
    I64,
}

impl IntWidth {
    pub(crate) fn check(self, v: i64) -> Option<i64> {
        let ok = match self {
            IntWidth::I8 => i8::try_from(v).is_ok(),
            IntWidth::I16 => i16::try_from(v).is_ok(),
            IntWidth::I32 => i32::try_from(v).is_ok(),
            IntWidth::I64 => true,
        };
        ok.then_some(v)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            IntWidth::I8 => "TINYINT",
            IntWidth::I16 => "SMALLINT",
            IntWidth::I32 => "INTEGER",
            IntWidth::I64 => "BIGINT",
        }
    }
}

/// A number read from text: exact when it is an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// The bytes C's `isspace` accepts, which DuckDB trims around numbers and dates.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

pub(crate) fn trim_space(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_space(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |i| i + 1);
    &s[start..end]
}

fn skip_space(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_space(b)).unwrap_or(s.len());
    &s[start..]
}

/// Up to 18 ASCII digits with an optional `-`: the shape of almost every integer field.
#[inline]
fn fast_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(if neg { -v } else { v })
}

/// VARCHAR to BIGINT as DuckDB casts it: surrounding whitespace, `+`, `_` between digits,
/// `0x`/`0b` prefixes, a fraction (rounded half away from zero: `'2.5'` is 3) and an exponent
/// (`'1e3'` is 1000) are accepted.
#[inline]
pub(crate) fn parse_int(s: &[u8]) -> Option<i64> {
    fast_int(s).or_else(|| parse_int_slow(s))
}

fn parse_int_slow(s: &[u8]) -> Option<i64> {
    let s = trim_space(s);
    let (neg, rest) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest.len() >= 2 && rest[0] == b'0' && matches!(rest[1] | 0x20, b'x' | b'b') {
        if neg {
            return None;
        }
        let radix = if rest[1] | 0x20 == b'x' { 16 } else { 2 };
        let v = digits_radix(&rest[2..], radix)?;
        return i64::try_from(v).ok();
    }
    let mut i = 0;
    let mut int: i128 = 0;
    let mut int_digits = 0;
    while i < rest.len() {
        let b = rest[i];
        if b.is_ascii_digit() {
            int = int * 10 + i128::from(b - b'0');
            if int > i128::from(u64::MAX) {
                return None;
            }
            int_digits += 1;
        } else if !(b == b'_' && underscore_ok(rest, i)) {
            break;
        }
        i += 1;
    }
    let mut round_up = false;
    let mut frac_digits = 0;
    if rest.get(i) == Some(&b'.') {
        i += 1;
        while i < rest.len() {
            let b = rest[i];
            if b.is_ascii_digit() {
                if frac_digits == 0 {
                    round_up = b >= b'5';
                }
                frac_digits += 1;
            } else if !(b == b'_' && underscore_ok(rest, i)) {
                break;
            }
            i += 1;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < rest.len() && rest[i] | 0x20 == b'e' {
        // An exponent: validate its digits, then compute through f64 as DuckDB does.
        let mut j = i + 1;
        if matches!(rest.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if j >= rest.len() || !rest[j..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let f = parse_f64(s)?;
        return f64_to_i64(round_half_away(f));
    }
    if i != rest.len() {
        return None;
    }
    let v = int + i128::from(round_up);
    i64::try_from(if neg { -v } else { v }).ok()
}

/// An underscore at `i` is a digit separator only between two digits.
fn underscore_ok(s: &[u8], i: usize) -> bool {
    i > 0 && s[i - 1].is_ascii_digit() && s.get(i + 1).is_some_and(u8::is_ascii_digit)
}

fn digits_radix(s: &[u8], radix: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for (i, &b) in s.iter().enumerate() {
        if b == b'_' {
            if i == 0 || i + 1 == s.len() || s[i + 1] == b'_' {
                return None;
            }
            continue;
        }
        let d = (b as char).to_digit(radix)?;
        v = v.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    Some(v)
}

pub(crate) fn round_half_away(f: f64) -> f64 {
    f.round()
}

/// A double to BIGINT when it is in range (after the caller rounded it).
pub(crate) fn f64_to_i64(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; every double below it in magnitude fits.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || !(-TWO_63..TWO_63).contains(&f) {
        return None;
    }
    Some(f as i64)
}

/// DOUBLE to an integer type as DuckDB casts it: rounded half to even, then range-checked.
pub(crate) fn float_to_int(f: f64, width: IntWidth) -> Option<i64> {
    f64_to_i64(f.round_ties_even()).and_then(|v| width.check(v))
}

/// VARCHAR to DOUBLE as DuckDB casts it: surrounding whitespace, `_` between digits, `inf`,
/// `infinity` and `nan` in any case; out-of-range exponents give infinity or zero.
pub(crate) fn parse_f64(s: &[u8]) -> Option<f64> {
    if let Some(f) = fast_f64(s) {
        return Some(f);
    }
    let t = trim_space(s);
    if t.is_empty() {
        return None;
    }
    if !t.contains(&b'_') {
        return std::str::from_utf8(t).ok()?.parse().ok();
    }
    let mut stripped = Vec::with_capacity(t.len());
    for (i, &b) in t.iter().enumerate() {
        if b == b'_' {
            let between =
                i > 0 && t[i - 1].is_ascii_digit() && t.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !between {
                return None;
            }
        } else {
            stripped.push(b);
        }
    }
    std::str::from_utf8(&stripped).ok()?.parse().ok()
}

/// VARCHAR to `DECIMAL(precision, scale)`, rounded half away from zero on the decimal digits
/// as DuckDB does (`'1.005'` is 1.01), then held as the nearest DOUBLE; `None` when it is not a
/// number or does not fit the precision.
pub(crate) fn parse_decimal(s: &[u8], precision: u8, scale: u8) -> Option<f64> {
    let t = trim_space(s);
    let (neg, rest) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let dot = rest.iter().position(|&b| b == b'.').unwrap_or(rest.len());
    let (int, frac) = (&rest[..dot], rest.get(dot + 1..).unwrap_or(&[]));
    let plain =
        int.iter().chain(frac).all(u8::is_ascii_digit) && !(int.is_empty() && frac.is_empty());
    if !plain || int.len() + usize::from(scale) > 36 {
        // Exponents, underscores, long inputs: through the double.
        let f = parse_f64(s)?;
        return round_decimal(f, precision, scale);
    }
    let scale = usize::from(scale);
    let mut v: i128 = 0;
    for &b in int
        .iter()
        .chain(frac.iter().chain(std::iter::repeat(&b'0')).take(scale))
    {
        v = v * 10 + i128::from(b - b'0');
    }
    if frac.get(scale).is_some_and(|&b| b >= b'5') {
        v += 1;
    }
    if v >= 10i128.pow(u32::from(precision)) {
        return None;
    }
    let f = v as f64 / 10f64.powi(scale as i32);
    Some(if neg { -f } else { f })
}

/// A DOUBLE to `DECIMAL(precision, scale)`: rounded half away from zero at the scale.
pub(crate) fn round_decimal(f: f64, precision: u8, scale: u8) -> Option<f64> {
    let m = 10f64.powi(i32::from(scale));
    let r = (f * m).round() / m;
    let limit = 10f64.powi(i32::from(precision) - i32::from(scale));
    (r.is_finite() && r.abs() < limit).then_some(r)
}

/// `[-]digits[.digits]` with at most 15 significant digits: the mantissa and the power of ten
/// are exact doubles, so one division gives the correctly rounded result (Clinger's fast path).
#[inline]
fn fast_f64(s: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut frac = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(b - b'0'),
            b'.' if frac.is_none() => frac = Some(digits.len() - i - 1),
            _ => return None,
        }
    }
    let scale = frac.unwrap_or(0);
    let n_digits = digits.len() - usize::from(frac.is_some());
    if n_digits == 0 || n_digits > 15 {
        return None;
    }
    let f = mantissa as f64 / POW10[scale];
    Some(if neg { -f } else { f })
}

/// Text read as a number where an operator needs one: an integer when it is written as one
/// (so large ids compare exactly), else a DOUBLE by DuckDB's rules.
#[inline]
pub(crate) fn parse_number(s: &[u8]) -> Option<Num> {
    if let Some(i) = fast_int(s) {
        return Some(Num::Int(i));
    }
    let t = trim_space(s);
    let digits = match t.first() {
        Some(b'-' | b'+') => &t[1..],
        _ => t,
    };
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        if let Some(i) = std::str::from_utf8(t).ok().and_then(|s| s.parse().ok()) {
            return Some(Num::Int(i));
        }
    }
    parse_f64(t).map(Num::Float)
}

/// VARCHAR to BOOLEAN as DuckDB casts it (no whitespace allowed).
pub(crate) fn parse_bool(s: &[u8]) -> Option<bool> {
    match s.len() {
        1 => match s[0] | 0x20 {
            b't' | b'y' => Some(true),
            b'f' | b'n' => Some(false),
            _ => match s[0] {
                b'1' => Some(true),
                b'0' => Some(false),
                _ => None,
            },
        },
        2 if s.eq_ignore_ascii_case(b"no") => Some(false),
        3 if s.eq_ignore_ascii_case(b"yes") => Some(true),
        4 if s.eq_ignore_ascii_case(b"true") => Some(true),
        5 if s.eq_ignore_ascii_case(b"false") => Some(false),
        _ => None,
    }
}

/// Reads 1..=max ASCII digits.
fn digits(s: &[u8], max: usize) -> Option<(i64, &[u8])> {
    let n = s
        .iter()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n == 0 {
        return None;
    }
    let v = s[..n]
        .iter()
        .fold(0i64, |v, &b| v * 10 + i64::from(b - b'0'));
    Some((v, &s[n..]))
}

/// `Y-M-D` or `Y/M/D` at the start of `s` (after whitespace).
fn date_prefix(s: &[u8]) -> Option<(Date, &[u8])> {
    // Fast path: exactly `YYYY-MM-DD`.
    if s.len() >= 10 && s[4] == b'-' && s[7] == b'-' {
        let d = |i: usize| s[i].wrapping_sub(b'0');
        let all = [0, 1, 2, 3, 5, 6, 8, 9].iter().all(|&i| d(i) <= 9);
        if all && s.get(10).is_none_or(|b| !b.is_ascii_digit()) {
            let y = i16::from(d(0)) * 1000 + i16::from(d(1)) * 100 + i16::from(d(2)) * 10;
            let y = y + i16::from(d(3));
            let m = (d(5) * 10 + d(6)) as i8;
            let day = (d(8) * 10 + d(9)) as i8;
            return Date::new(y, m, day).ok().map(|date| (date, &s[10..]));
        }
    }
    let (y, rest) = digits(s, 6)?;
    let sep = *rest.first()?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    let (m, rest) = digits(&rest[1..], 2)?;
    if rest.first() != Some(&sep) {
        return None;
    }
    let (d, rest) = digits(&rest[1..], 2)?;
    if rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let date = Date::new(i16::try_from(y).ok()?, m as i8, d as i8).ok()?;
    Some((date, rest))
}

/// `H:M[:S[.fraction]]`; the flag is set for `24:00:00`, which DuckDB reads as the next midnight.
fn time_prefix(s: &[u8]) -> Option<(Time, bool, &[u8])> {
    let (h, rest) = digits(s, 2)?;
    if rest.first() != Some(&b':') {
        return None;
    }
    let (m, mut rest) = digits(&rest[1..], 2)?;
    let mut sec = 0;
    let mut nanos: i64 = 0;
    if rest.first() == Some(&b':') {
        let (v, r) = digits(&rest[1..], 2)?;
        sec = v;
        rest = r;
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            // Microsecond precision: further digits are truncated, as DuckDB does.
            let mut micros = 0;
            for i in 0..6 {
                micros = micros * 10
                    + rest
                        .get(1 + i)
                        .filter(|_| i < n)
                        .map_or(0, |b| i64::from(b - b'0'));
            }
            nanos = micros * 1000;
            rest = &rest[1 + n..];
        }
    }
    if h == 24 && m == 0 && sec == 0 && nanos == 0 {
        return Some((Time::midnight(), true, rest));
    }
    let t = Time::new(h as i8, m as i8, sec as i8, nanos as i32).ok()?;
    Some((t, false, rest))
}

/// What may follow a time: whitespace, `Z`, `UTC` or a UTC offset (all ignored, as DuckDB
/// ignores them when casting to TIMESTAMP).
fn tail_ok(s: &[u8]) -> bool {
    let t = trim_space(s);
    if t.is_empty() || t.eq_ignore_ascii_case(b"z") || t.eq_ignore_ascii_case(b"utc") {
        return true;
    }
    if let Some(b'+' | b'-') = t.first() {
        let Some((_, rest)) = digits(&t[1..], 2) else {
            return false;
        };
        let rest = rest.strip_prefix(b":").unwrap_or(rest);
        return rest.is_empty() || digits(rest, 2).is_some_and(|(_, r)| r.is_empty());
    }
    false
}

/// VARCHAR to DATE as DuckDB casts it: `Y-M-D` or `Y/M/D` with 1- or 2-digit month and day,
/// surrounding whitespace, and an optional time after it (ignored).
pub(crate) fn parse_date(s: &[u8]) -> Option<Date> {
    let (d, rest) = date_prefix(skip_space(s))?;
    if rest.is_empty() || trim_space(rest).is_empty() {
        return Some(d);
    }
    let after = match rest[0] {
        b'T' => &rest[1..],
        b if is_space(b) => skip_space(rest),
        _ => return None,
    };
    let (_, _, tail) = time_prefix(after)?;
    tail_ok(tail).then_some(d)
}

/// VARCHAR to TIMESTAMP as DuckDB casts it: a date, then optionally `T` or spaces and a time
/// with up to microsecond precision, then optionally `Z`/`UTC`/an offset (ignored).
pub(crate) fn parse_timestamp(s: &[u8]) -> Option<DateTime> {
    let (d, rest) = date_prefix(skip_space(s))?;
    if rest.is_empty() || trim_space(rest).is_empty() {
        return Some(d.to_datetime(Time::midnight()));
    }
    let after = match rest[0] {
        b'T' => &rest[1..],
        b if is_space(b) => skip_space(rest),
        _ => return None,
    };
    let (t, next_day, tail) = time_prefix(after)?;
    if !tail_ok(tail) {
        return None;
    }
    let d = if next_day { d.tomorrow().ok()? } else { d };
    Some(d.to_datetime(t))
}

/// VARCHAR to TIME as DuckDB casts it: `H:M[:S[.f]]`, or the time of a timestamp.
pub(crate) fn parse_time(s: &[u8]) -> Option<Time> {
    let t = skip_space(s);
    if let Some((time, next_day, tail)) = time_prefix(t) {
        return (!next_day && tail_ok(tail)).then_some(time);
    }
    parse_timestamp(s).map(|ts| ts.time())
}

/// Days since 1970-01-01 of a date.
pub(crate) fn date_days(d: Date) -> i64 {
    days_from_civil(
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    )
}

/// The date `days` after 1970-01-01, when it is one jiff holds.
pub(crate) fn date_from_days(days: i64) -> Option<Date> {
    let (y, m, d) = civil_from_days(days);
    Date::new(i16::try_from(y).ok()?, m as i8, d as i8).ok()
}

pub(crate) fn time_micros(t: Time) -> i64 {
    ((i64::from(t.hour()) * 60 + i64::from(t.minute())) * 60 + i64::from(t.second())) * 1_000_000
        + i64::from(t.subsec_nanosecond()) / 1000
}

/// Microseconds since 1970-01-01 00:00:00.
pub(crate) fn ts_micros(t: DateTime) -> i64 {
    date_days(t.date()) * MICROS_PER_DAY + time_micros(t.time())
}

pub(crate) fn time_from_micros(micros: i64) -> Option<Time> {
    let secs = micros.div_euclid(1_000_000);
    let sub = micros.rem_euclid(1_000_000);
    Time::new(
        i8::try_from(secs / 3600).ok()?,
        (secs / 60 % 60) as i8,
        (secs % 60) as i8,
        (sub * 1000) as i32,
    )
    .ok()
}

pub(crate) fn ts_from_micros(micros: i64) -> Option<DateTime> {
    let date = date_from_days(micros.div_euclid(MICROS_PER_DAY))?;
    let time = time_from_micros(micros.rem_euclid(MICROS_PER_DAY))?;
    Some(date.to_datetime(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(s: &str) -> Option<i64> {
        parse_int(s.as_bytes())
    }

    #[test]
    fn varchar_to_bigint_follows_duckdb() {
        // DuckDB 2.0.1: SELECT try_cast('3.5' AS BIGINT), try_cast('2.5' AS INT), ... ->
        // (4, 3, -3, 7, 7, 1000, 16, 1000), and the further cases below.
        let cases: &[(&str, Option<i64>)] = &[
            ("42", Some(42)),
            ("-42", Some(-42)),
            ("3.5", Some(4)),
            ("2.5", Some(3)),
            ("-2.5", Some(-3)),
            (" 7 ", Some(7)),
            ("+7", Some(7)),
            ("1e3", Some(1000)),
            ("0x10", Some(16)),
            ("0X1f", Some(31)),
            ("0b101", Some(5)),
            ("0x1_0", Some(16)),
            ("-0x10", None),
            ("0x", None),
            ("0b", None),
            ("1_000", Some(1000)),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("1e", None),
            (".5", Some(1)),
            ("5.", Some(5)),
            ("1.", Some(1)),
            (".", None),
            ("+", None),
            ("-", None),
            ("1.5e1", Some(15)),
            ("1.5e0", Some(2)),
            ("15e-1", Some(2)),
            ("1.23456e2", Some(123)),
            ("1e-400", Some(0)),
            ("1.e1", Some(10)),
            ("1E2", Some(100)),
            ("1e1_0", None),
            ("1.5_0", Some(2)),
            ("2.49999", Some(2)),
            ("0.5", Some(1)),
            ("-0.5", Some(-1)),
            ("1.2.3", None),
            ("  ", None),
            ("", None),
            ("1 000", None),
            ("00012", Some(12)),
            ("-0", Some(0)),
            ("+-1", None),
            ("abc", None),
            ("1e20", None),
            ("\x0b7\x0c", Some(7)),
            ("\r7", Some(7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("9223372036854775807.4", Some(i64::MAX)),
            ("9223372036854775807.5", None),
        ];
        for &(s, want) in cases {
            assert_eq!(int(s), want, "{s:?}");
        }
        // try_cast('3000000000' AS INT) -> NULL; try_cast('40000' AS SMALLINT) -> NULL.
        assert_eq!(int("3000000000").and_then(|v| IntWidth::I32.check(v)), None);
        assert_eq!(int("40000").and_then(|v| IntWidth::I16.check(v)), None);
        assert_eq!(
            int("-32768").and_then(|v| IntWidth::I16.check(v)),
            Some(-32768)
        );
    }

    #[test]
    fn double_to_int_rounds_half_to_even_like_duckdb() {
        // DuckDB 2.0.1: SELECT cast(2.5::double AS int), cast(-2.5::double AS int),
        // cast(0.5::double AS bigint), cast(3.5::double AS int) -> (2, -2, 0, 4)
        assert_eq!(float_to_int(2.5, IntWidth::I32), Some(2));
        assert_eq!(float_to_int(-2.5, IntWidth::I32), Some(-2));
        assert_eq!(float_to_int(0.5, IntWidth::I64), Some(0));
        assert_eq!(float_to_int(3.5, IntWidth::I32), Some(4));
        // cast(1e19 AS bigint) -> Conversion Error (out of range).
        assert_eq!(float_to_int(1e19, IntWidth::I64), None);
        assert_eq!(float_to_int(f64::NAN, IntWidth::I64), None);
    }

    #[test]
    fn varchar_to_double_follows_duckdb() {
        // DuckDB 2.0.1: try_cast(... AS DOUBLE) for each input.
        let cases: &[(&str, Option<f64>)] = &[
            ("1e3", Some(1000.0)),
            (" 1.5 ", Some(1.5)),
            ("inf", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("Infinity", Some(f64::INFINITY)),
            ("+inf", Some(f64::INFINITY)),
            ("1_000.5", Some(1000.5)),
            ("0x10", None),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1e400", Some(f64::INFINITY)),
            ("1e-400", Some(0.0)),
            ("+.5e-3", Some(0.0005)),
            (" -1.5e1 ", Some(-15.0)),
            ("1d", None),
            ("1f", None),
            ("_1", None),
            ("1__0", None),
            ("1_.5", None),
            ("infinity ", Some(f64::INFINITY)),
            ("infx", None),
            ("1.5E+3", Some(1500.0)),
            ("", None),
        ];
        for &(s, want) in cases {
            assert_eq!(parse_f64(s.as_bytes()), want, "{s:?}");
        }
        assert!(parse_f64(b"nan").unwrap().is_nan());
        // The fast path agrees with the standard library on plain decimals.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 1_000_000_000_000_000) as f64;
            let scale = (x >> 60) as i32;
            let text = format!("{:.*}", scale as usize, digits / 10f64.powi(scale));
            let want: f64 = text.parse().unwrap();
            assert_eq!(parse_f64(text.as_bytes()), Some(want), "{text}");
            assert_eq!(
                parse_f64(format!("-{text}").as_bytes()),
                Some(-want),
                "-{text}"
            );
        }
        assert_eq!(parse_f64(b"-.5"), Some(-0.5));
        assert_eq!(parse_f64(b"5."), Some(5.0));
        assert_eq!(parse_f64(b"-"), None);
        assert_eq!(parse_f64(b"1.2.3"), None);
        assert!(parse_f64(b"NaN").unwrap().is_nan());
    }

    #[test]
    fn varchar_to_decimal_rounds_on_the_digits_like_duckdb() {
        // DuckDB 2.0.1: CAST('1.005' AS DECIMAL(10,2)) -> 1.01, '-1.005' -> -1.01,
        // ' 2.5 ' AS DECIMAL(10,0) -> 3, '1e2' AS DECIMAL(10,2) -> 100.00, '.5' AS DECIMAL(3,0)
        // -> 1, '1.234' -> 1.23, '1.235' -> 1.24, '99.995' AS DECIMAL(5,2) -> 100.00,
        // '99.995' AS DECIMAL(4,2) and '123456' AS DECIMAL(5,2) -> Conversion Error.
        let dec = |s: &str, p, sc| parse_decimal(s.as_bytes(), p, sc);
        assert_eq!(dec("1.005", 10, 2), Some(1.01));
        assert_eq!(dec("-1.005", 10, 2), Some(-1.01));
        assert_eq!(dec(" 2.5 ", 10, 0), Some(3.0));
        assert_eq!(dec("1e2", 10, 2), Some(100.0));
        assert_eq!(dec(".5", 3, 0), Some(1.0));
        assert_eq!(dec("1.234", 10, 2), Some(1.23));
        assert_eq!(dec("1.235", 10, 2), Some(1.24));
        assert_eq!(dec("99.995", 5, 2), Some(100.0));
        assert_eq!(dec("99.995", 4, 2), None);
        assert_eq!(dec("123456", 5, 2), None);
        assert_eq!(dec("abc", 5, 2), None);
        assert_eq!(dec(".", 5, 2), None);
        // CAST(1.005::DOUBLE AS DECIMAL(10,2)) -> 1.00: the double is just below 1.005.
        assert_eq!(round_decimal(1.005, 10, 2), Some(1.0));
        assert_eq!(round_decimal(2.5, 10, 0), Some(3.0));
    }

    #[test]
    fn implicit_numbers_keep_integers_exact() {
        assert_eq!(
            parse_number(b"12345678901234567"),
            Some(Num::Int(12345678901234567))
        );
        assert_eq!(parse_number(b" +7 "), Some(Num::Int(7)));
        assert_eq!(parse_number(b"30.5"), Some(Num::Float(30.5)));
        assert_eq!(
            parse_number(b"99999999999999999999"),
            Some(Num::Float(1e20))
        );
        assert_eq!(parse_number(b"abc"), None);
        assert_eq!(parse_number(b""), None);
    }

    #[test]
    fn varchar_to_boolean_follows_duckdb() {
        // DuckDB 2.0.1: try_cast(x AS BOOLEAN) for 'true','T','yes','1','0','y','no','f',
        // ' true ','TRUE','2','on','off','n' -> T,T,T,T,F,T,F,F,NULL,T,NULL,NULL,NULL,F
        let cases: &[(&str, Option<bool>)] = &[
            ("true", Some(true)),
            ("T", Some(true)),
            ("yes", Some(true)),
            ("1", Some(true)),
            ("0", Some(false)),
            ("y", Some(true)),
            ("no", Some(false)),
            ("f", Some(false)),
            (" true ", None),
            ("TRUE", Some(true)),
            ("2", None),
            ("on", None),
            ("off", None),
            ("n", Some(false)),
            ("", None),
        ];
        for &(s, want) in cases {
            assert_eq!(parse_bool(s.as_bytes()), want, "{s:?}");
        }
    }

    fn date(s: &str) -> Option<String> {
        parse_date(s.as_bytes()).map(|d| d.to_string())
    }

    #[test]
    fn varchar_to_date_follows_duckdb() {
        // DuckDB 2.0.1: try_cast(x AS DATE) for each input.
        let cases: &[(&str, Option<&str>)] = &[
            ("2024-01-31", Some("2024-01-31")),
            ("2024-1-5", Some("2024-01-05")),
            ("2024/01/31", Some("2024-01-31")),
            (" 2024-01-31 ", Some("2024-01-31")),
            ("\t2024-01-31", Some("2024-01-31")),
            ("2024-01-31 12:00:00", Some("2024-01-31")),
            ("2024-01-31T12:00", Some("2024-01-31")),
            ("2024-02-30", None),
            ("20240131", None),
            ("24-01-31", Some("0024-01-31")),
            ("2024.01.31", None),
            ("2024/01-31", None),
            ("2024-13-01", None),
            ("2024-01-31x", None),
            ("2024-01-31 xyz", None),
            ("", None),
        ];
        for &(s, want) in cases {
            assert_eq!(date(s).as_deref(), want, "{s:?}");
        }
    }

    fn ts(s: &str) -> Option<String> {
        parse_timestamp(s.as_bytes()).map(|d| d.to_string())
    }

    #[test]
    fn varchar_to_timestamp_follows_duckdb() {
        // DuckDB 2.0.1: try_cast(x AS TIMESTAMP) for each input.
        let cases: &[(&str, Option<&str>)] = &[
            ("2024-01-31 12:00:00", Some("2024-01-31T12:00:00")),
            ("2024-01-31T12:00:00", Some("2024-01-31T12:00:00")),
            ("2024-01-31", Some("2024-01-31T00:00:00")),
            ("2024-01-31 12:00", Some("2024-01-31T12:00:00")),
            (
                "2024-01-31 12:00:00.123456789",
                Some("2024-01-31T12:00:00.123456"),
            ),
            (
                "2024-01-31 12:00:00.9999999",
                Some("2024-01-31T12:00:00.999999"),
            ),
            ("2024-01-31 12:00:00Z", Some("2024-01-31T12:00:00")),
            ("2024-01-31 12:00:00+05:00", Some("2024-01-31T12:00:00")),
            ("2024-01-31 12:00:00-0530", Some("2024-01-31T12:00:00")),
            ("2024-01-31 12:00:00 UTC", Some("2024-01-31T12:00:00")),
            ("2024-01-31T12:00:00.5Z", Some("2024-01-31T12:00:00.5")),
            ("2024-01-31 1:2:3", Some("2024-01-31T01:02:03")),
            ("2024-01-31  12:00:00", Some("2024-01-31T12:00:00")),
            (" 2024-01-31 12:00:00 ", Some("2024-01-31T12:00:00")),
            ("2024-01-31 24:00:00", Some("2024-02-01T00:00:00")),
            ("2024-01-31 12:00:60", None),
            ("2024-01-31 12", None),
            ("2024/01/31 12:00", Some("2024-01-31T12:00:00")),
        ];
        for &(s, want) in cases {
            assert_eq!(ts(s).as_deref(), want, "{s:?}");
        }
    }

    #[test]
    fn varchar_to_time_follows_duckdb() {
        // DuckDB 2.0.1: try_cast(x AS TIME) for each input.
        let t = |s: &str| parse_time(s.as_bytes()).map(|t| t.to_string());
        assert_eq!(t("12:34:56").as_deref(), Some("12:34:56"));
        assert_eq!(t("12:34").as_deref(), Some("12:34:00"));
        assert_eq!(t("1:2:3").as_deref(), Some("01:02:03"));
        assert_eq!(t("12:34:56.5").as_deref(), Some("12:34:56.5"));
        assert_eq!(t(" 12:34:56 ").as_deref(), Some("12:34:56"));
        assert_eq!(t("12:34:56Z").as_deref(), Some("12:34:56"));
        assert_eq!(t("2024-01-31 12:00:00").as_deref(), Some("12:00:00"));
        assert_eq!(t("25:00:00"), None);
        assert_eq!(t("12"), None);
    }

    #[test]
    fn timestamp_micros_round_trip() {
        assert_eq!(date_days(Date::new(2024, 3, 15).unwrap()), 19797);
        let t = ts_from_micros(1_710_506_096_500_000).unwrap();
        assert_eq!(t.to_string(), "2024-03-15T12:34:56.5");
        assert_eq!(ts_micros(t), 1_710_506_096_500_000);
    }
}

//! Date functions on evaluated arguments: `strptime`, `strftime`, `date_part` (and `year(x)`
//! and the like), `date_diff`, `date_trunc`, `make_date`. The date arithmetic and the format
//! language are `datetime.rs`'s.

use std::borrow::Cow;

use jiff::civil::Date;

use super::{integer, temporal, Func, FuncError, FuncResult, Prepared};
use crate::expr::datetime::{self, Format, Part};
use crate::expr::Value;

/// The date part named by argument 0, or the one the compiler prepared from a literal.
fn part(name: &Value<'_>, prepared: &Prepared) -> FuncResult<Option<Part>> {
    if prepared.part.is_some() {
        return Ok(prepared.part);
    }
    let name = name.to_text();
    match Part::parse(&name) {
        Some(p) => Ok(Some(p)),
        None => Err(FuncError::invalid(
            0,
            &name,
            format!("unknown date part '{name}'"),
        )),
    }
}

/// `strptime(s, format)` and `try_strptime`: the formats are tried in turn; `try_strptime` is
/// NULL where `strptime` fails.
pub(super) fn strptime(
    func: Func,
    s: &Value<'_>,
    format: &Value<'_>,
    prepared: &Prepared,
) -> FuncResult<Value<'static>> {
    let s = s.to_text();
    let lenient = func == Func::TryStrptime;
    let dynamic;
    let formats: &[Format] = if prepared.formats.is_empty() {
        let text = format.to_text();
        let f = Format::new(&text)
            .and_then(|f| f.check_parse().map(|()| f))
            .map_err(|m| FuncError::invalid(1, &text, m))?;
        dynamic = [f];
        &dynamic
    } else {
        &prepared.formats
    };
    for f in formats {
        if let Some(t) = f.parse(&s) {
            return Ok(Value::Timestamp(t));
        }
    }
    if lenient {
        return Ok(Value::Null);
    }
    let shown: Vec<&str> = formats.iter().map(Format::text).collect();
    let wanted = format!("TIMESTAMP with format '{}'", shown.join("', '"));
    Err(FuncError::convert(0, &s, &wanted))
}

/// `strftime(t, format)`.
pub(super) fn strftime(
    t: &Value<'_>,
    format: &Value<'_>,
    prepared: &Prepared,
) -> FuncResult<Value<'static>> {
    let t = temporal(t, 0)?;
    let mut out = Vec::new();
    let result = match prepared.formats.first() {
        Some(f) => f.format(t, &mut out),
        None => Format::new(&format.to_text()).and_then(|f| f.format(t, &mut out)),
    };
    result.map_err(|m| FuncError::invalid(1, &format.to_text(), m))?;
    // Formats write the format's own text and ASCII.
    Ok(Value::Str(Cow::Owned(
        String::from_utf8(out).unwrap_or_default(),
    )))
}

/// `date_part(part, t)`.
pub(super) fn date_part(
    name: &Value<'_>,
    t: &Value<'_>,
    prepared: &Prepared,
) -> FuncResult<Value<'static>> {
    let part = part(name, prepared)?.unwrap_or(Part::Year);
    extract(part, t, 1)
}

/// `year(t)`, `month(t)`, ...: `date_part` with the part the function's name gives.
pub(super) fn part_of(t: &Value<'_>, prepared: &Prepared) -> FuncResult<Value<'static>> {
    extract(prepared.part.unwrap_or(Part::Year), t, 0)
}

fn extract(part: Part, t: &Value<'_>, arg: usize) -> FuncResult<Value<'static>> {
    let when = temporal(t, arg)?;
    datetime::extract(part, when).map_err(|m| FuncError::invalid(arg, &t.to_text(), m))
}

/// `date_diff(part, a, b)`.
pub(super) fn date_diff(
    name: &Value<'_>,
    a: &Value<'_>,
    b: &Value<'_>,
    prepared: &Prepared,
) -> FuncResult<Value<'static>> {
    let part = part(name, prepared)?.unwrap_or(Part::Day);
    let ta = temporal(a, 1)?;
    let tb = temporal(b, 2)?;
    datetime::date_diff(part, ta, tb)
        .map(Value::Int)
        .map_err(|m| FuncError::invalid(1, &a.to_text(), m))
}

/// `date_trunc(part, t)`.
pub(super) fn date_trunc(
    name: &Value<'_>,
    t: &Value<'_>,
    prepared: &Prepared,
) -> FuncResult<Value<'static>> {
    let part = part(name, prepared)?.unwrap_or(Part::Day);
    let when = temporal(t, 1)?;
    datetime::date_trunc(part, when)
        .map(Value::Timestamp)
        .map_err(|m| FuncError::invalid(1, &t.to_text(), m))
}

/// `make_date(year, month, day)`.
pub(super) fn make_date(
    year: &Value<'_>,
    month: &Value<'_>,
    day: &Value<'_>,
) -> FuncResult<Value<'static>> {
    let y = integer(year, 0)?;
    let m = integer(month, 1)?;
    let d = integer(day, 2)?;
    let date = i16::try_from(y)
        .ok()
        .zip(i8::try_from(m).ok())
        .zip(i8::try_from(d).ok())
        .and_then(|((y, m), d)| Date::new(y, m, d).ok());
    date.map(Value::Date).ok_or_else(|| {
        FuncError::invalid(
            0,
            &year.to_text(),
            format!("date out of range: {y}-{m}-{d}"),
        )
    })
}

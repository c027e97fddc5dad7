//! Dates, times and datetimes as frictionless-py reads them.
//!
//! - `default` formats: a date is Python's `strptime(text, "%Y-%m-%d")` (so `2020-1-5` and
//!   `2020-01- 5` are dates), hand-parsed; a datetime or time is dateutil's `isoparse`, behind
//!   frictionless' guards (a `:` at character 16, resp. 5, and at least 19, resp. 8, characters).
//! - a strftime pattern: Python's `strptime`, whose regular expression is rebuilt here from the
//!   same directive table and compiled once; Rust's regex engine picks the same leftmost-first
//!   match as Python's backtracking one, and the whole text must be consumed, as in Python.
//! - `any`: dateutil's free-form parser is approximated (see [`parse_any`]).
//!
//! Digits are ASCII digits only (Python also takes other Unicode decimal digits).

use regex::{CaptureLocations, Regex};

use crate::calendar;

/// Days since 0001-01-01 of a proleptic Gregorian date (Python's `toordinal() - 1`): the shared
/// calendar's day number, from the schema's day 0.
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let days = calendar::days_from_civil(i64::from(y), i64::from(m), i64::from(d));
    (days + calendar::DAYS_0001_TO_1970) as i32
}

/// The date of a day number from [`days_from_civil`].
pub(crate) fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let (y, m, d) = calendar::civil_from_days(i64::from(days) - calendar::DAYS_0001_TO_1970);
    (y as i32, m as u32, d as u32)
}

/// A Python `date(y, m, d)`: years 1 to 9999.
pub(crate) fn date(y: i64, m: u32, d: u32) -> Option<i32> {
    let ok = (1..=9999).contains(&y) && (1..=12).contains(&m) && d >= 1;
    (ok && i64::from(d) <= calendar::days_in_month(y, i64::from(m)))
        .then(|| days_from_civil(y as i32, m, d))
}

/// A Python `datetime`: a day, the microseconds into it, and a UTC offset in seconds when aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateTime {
    pub days: i32,
    pub micros: i64,
    pub offset: Option<i32>,
    /// Whether the text had non-zero fractional digits past the microsecond, which Python's
    /// parsers (and so validation) drop: an output that keeps the instant cannot hold it.
    pub past_micros: bool,
}

/// A Python `time`: microseconds after midnight, and a UTC offset in seconds when aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Time {
    pub micros: i64,
    pub offset: Option<i32>,
}

impl DateTime {
    /// Microseconds since 0001-01-01, in UTC when aware. Python cannot order an aware and a
    /// naive datetime (it raises); weir reads the naive one as UTC.
    pub(crate) fn instant(&self) -> i128 {
        i128::from(self.days) * i128::from(calendar::MICROS_PER_DAY) + i128::from(self.micros)
            - i128::from(self.offset.unwrap_or(0)) * 1_000_000
    }

    /// Python's `==`: an aware and a naive datetime are never equal.
    pub(crate) fn same(&self, other: &DateTime) -> bool {
        self.offset.is_some() == other.offset.is_some() && self.instant() == other.instant()
    }
}

impl Time {
    /// Microseconds, shifted to UTC when aware (naive is read as UTC, as for datetimes).
    pub(crate) fn instant(&self) -> i64 {
        self.micros - i64::from(self.offset.unwrap_or(0)) * 1_000_000
    }

    /// Python's `==`: an aware and a naive time are never equal.
    pub(crate) fn same(&self, other: &Time) -> bool {
        self.offset.is_some() == other.offset.is_some() && self.instant() == other.instant()
    }
}

/// ASCII digits as a number (Python's `int()` of a short slice); `None` past `u32::MAX`, which
/// no date or time component reaches (a long run of digits overflowed here).
fn digits_value(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |v, &b| {
        v.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// Python's `int()` of a bytes slice, as dateutil applies it to each component: ASCII
/// whitespace around, a sign, digits grouped by single underscores (so `" 1"` and `"+1"` are 1).
fn py_int(s: &[u8]) -> Option<i64> {
    let s = s.trim_ascii();
    let (neg, d) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let grouped = !d.is_empty()
        && d[0].is_ascii_digit()
        && d[d.len() - 1].is_ascii_digit()
        && d.iter().all(|&b| b.is_ascii_digit() || b == b'_')
        && !d.windows(2).any(|w| w == b"__");
    if !grouped {
        return None;
    }
    let v = d.iter().filter(|b| b.is_ascii_digit()).fold(0i64, |v, &b| {
        v.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    Some(if neg { -v } else { v })
}

/// A date or time component read by [`py_int`]; a negative one is outside every range.
fn iso_int(s: &[u8]) -> Option<u32> {
    if let [a @ b'0'..=b'9', b @ b'0'..=b'9'] = s {
        return Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'));
    }
    if s.len() == 4 && s.iter().all(u8::is_ascii_digit) {
        return digits_value(s);
    }
    py_int(s).and_then(|v| u32::try_from(v).ok())
}

/// `s[from..from + n]` clipped to the end, as a Python slice.
fn slice(s: &[u8], from: usize, n: usize) -> &[u8] {
    let from = from.min(s.len());
    &s[from..(from + n).min(s.len())]
}

/// `datetime.strptime(text, "%Y-%m-%d").date()`, hand-parsed: the month is `1[0-2]|0[1-9]|[1-9]`
/// and the day `3[01]|[12]\d|0[1-9]|[1-9]| [1-9]`, first alternative that matches, and nothing
/// may follow.
pub(crate) fn parse_default_date(text: &str) -> Option<i32> {
    let s = text.as_bytes();
    if s.len() < 8 || s[4] != b'-' {
        return None;
    }
    let year = digits_value(&s[..4])?;
    let (month, rest) = month_alternatives(&s[5..])?;
    let rest = rest.strip_prefix(b"-")?;
    let (day, rest) = day_alternatives(rest)?;
    if !rest.is_empty() {
        return None;
    }
    date(i64::from(year), month, day)
}

fn digit(s: &[u8], i: usize) -> Option<u32> {
    s.get(i)
        .filter(|b| b.is_ascii_digit())
        .map(|&b| u32::from(b - b'0'))
}

fn month_alternatives(s: &[u8]) -> Option<(u32, &[u8])> {
    match (digit(s, 0), digit(s, 1)) {
        (Some(1), Some(d @ 0..=2)) => Some((10 + d, &s[2..])),
        (Some(0), Some(d @ 1..=9)) => Some((d, &s[2..])),
        (Some(d @ 1..=9), _) => Some((d, &s[1..])),
        _ => None,
    }
}

fn day_alternatives(s: &[u8]) -> Option<(u32, &[u8])> {
    match (s.first(), digit(s, 0), digit(s, 1)) {
        (_, Some(3), Some(d @ 0..=1)) => Some((30 + d, &s[2..])),
        (_, Some(t @ 1..=2), Some(d)) => Some((t * 10 + d, &s[2..])),
        (_, Some(0), Some(d @ 1..=9)) => Some((d, &s[2..])),
        (_, Some(d @ 1..=9), _) => Some((d, &s[1..])),
        (Some(b' '), _, _) => match digit(s, 1) {
            Some(d @ 1..=9) => Some((d, &s[2..])),
            _ => None,
        },
        _ => None,
    }
}

/// dateutil's `isoparse` (any single character between date and time), for ASCII text.
pub(crate) fn isoparse(text: &str) -> Option<DateTime> {
    let s = text.as_bytes();
    if !s.is_ascii() {
        return None;
    }
    let (y, m, d, pos) = iso_date(s)?;
    let mut t = IsoTime::default();
    if s.len() > pos {
        t = iso_time(&s[pos + 1..])?;
    }
    // `datetime(*components)` validates every part; 24:00 is midnight of the next day.
    let mut days = date(i64::from(y), m, d)?;
    let hour = if t.hour == 24 {
        days += 1;
        if days > date(9999, 12, 31)? {
            return None;
        }
        0
    } else {
        t.hour
    };
    if hour > 23 || t.minute > 59 || t.second > 59 {
        return None;
    }
    Some(DateTime {
        days,
        micros: time_micros(hour, t.minute, t.second, t.micros),
        offset: t.offset,
        past_micros: t.past_micros,
    })
}

fn time_micros(h: u32, m: u32, s: u32, us: u32) -> i64 {
    (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * 1_000_000 + i64::from(us)
}

/// dateutil's `_parse_isodate`: the common forms, else the week and ordinal ones.
fn iso_date(s: &[u8]) -> Option<(u32, u32, u32, usize)> {
    iso_date_common(s).or_else(|| iso_date_uncommon(s))
}

fn iso_date_common(s: &[u8]) -> Option<(u32, u32, u32, usize)> {
    if s.len() < 4 {
        return None;
    }
    let year = iso_int(&s[..4])?;
    let mut pos = 4;
    if pos >= s.len() {
        return Some((year, 1, 1, pos));
    }
    let has_sep = s[pos] == b'-';
    if has_sep {
        pos += 1;
    }
    if s.len() - pos < 2 {
        return None;
    }
    let month = iso_int(&s[pos..pos + 2])?;
    pos += 2;
    if pos >= s.len() {
        return has_sep.then_some((year, month, 1, pos));
    }
    if has_sep {
        if s[pos] != b'-' {
            return None;
        }
        pos += 1;
    }
    if s.len() - pos < 2 {
        return None;
    }
    let day = iso_int(&s[pos..pos + 2])?;
    Some((year, month, day, pos + 2))
}

fn iso_date_uncommon(s: &[u8]) -> Option<(u32, u32, u32, usize)> {
    if s.len() < 4 {
        return None;
    }
    let year = iso_int(&s[..4])?;
    let has_sep = s.get(4) == Some(&b'-');
    let mut pos = 4 + usize::from(has_sep);
    let days = if s.get(pos) == Some(&b'W') {
        pos += 1;
        let week = iso_int(slice(s, pos, 2))?;
        pos += 2;
        let mut day = 1;
        if s.len() > pos {
            if (s[pos] == b'-') != has_sep {
                return None;
            }
            pos += usize::from(has_sep);
            day = iso_int(slice(s, pos, 1))?;
            pos += 1;
        }
        if !(1..=53).contains(&week) || !(1..=7).contains(&day) {
            return None;
        }
        // Week 1 is the week with January 4th; weeks start on Monday. Years 1 to 9999 only.
        date(i64::from(year), 1, 4)?;
        let week1 =
            (calendar::iso_year_start(i64::from(year)) + calendar::DAYS_0001_TO_1970) as i32;
        week1 + (week as i32 - 1) * 7 + (day as i32 - 1)
    } else {
        if s.len() < pos + 3 {
            return None;
        }
        let ordinal = iso_int(&s[pos..pos + 3])?;
        pos += 3;
        let max = if calendar::is_leap(i64::from(year)) {
            366
        } else {
            365
        };
        if ordinal < 1 || ordinal > max {
            return None;
        }
        date(i64::from(year), 1, 1)? + ordinal as i32 - 1
    };
    if !(0..=date(9999, 12, 31)?).contains(&days) {
        return None;
    }
    let (y, m, d) = civil_from_days(days);
    Some((y as u32, m, d, pos))
}

#[derive(Default)]
struct IsoTime {
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
    offset: Option<i32>,
    /// Non-zero digits past the sixth of the fraction (dateutil truncates them).
    past_micros: bool,
}

/// dateutil's `_parse_isotime`: `hh[[:]mm[[:]ss[.ffffff]]][tz]`.
fn iso_time(s: &[u8]) -> Option<IsoTime> {
    let mut parts = [0u32; 4];
    let mut offset = None;
    let mut pos = 0;
    let mut comp: i32 = -1;
    let mut has_sep = false;
    let mut past_micros = false;
    if s.len() < 2 {
        return None;
    }
    while pos < s.len() && comp < 5 {
        comp += 1;
        if matches!(s[pos], b'-' | b'+' | b'Z' | b'z') {
            offset = Some(iso_tz(&s[pos..])?);
            pos = s.len();
            break;
        }
        if comp == 1 && s[pos] == b':' {
            has_sep = true;
            pos += 1;
        } else if comp == 2 && has_sep {
            if s[pos] != b':' {
                return None;
            }
            pos += 1;
        }
        if comp < 3 {
            parts[comp as usize] = iso_int(slice(s, pos, 2))?;
            pos += 2;
        }
        if comp == 3 {
            let rest = &s[pos.min(s.len())..];
            if rest.len() >= 2 && matches!(rest[0], b'.' | b',') && rest[1].is_ascii_digit() {
                let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
                let kept = &rest[1..1 + n.min(6)];
                let v = digits_value(kept)?;
                parts[3] = v * 10u32.pow(6 - kept.len() as u32);
                past_micros = rest[1..1 + n].iter().skip(6).any(|&b| b != b'0');
                pos += 1 + n;
            }
        }
    }
    if pos < s.len() {
        return None;
    }
    if parts[0] == 24 && parts[1..].iter().any(|&p| p != 0) {
        return None;
    }
    Some(IsoTime {
        hour: parts[0],
        minute: parts[1],
        second: parts[2],
        micros: parts[3],
        offset,
        past_micros,
    })
}

/// dateutil's `_parse_tzstr`: `Z`, `±HH`, `±HHMM`, `±HH:MM`.
fn iso_tz(s: &[u8]) -> Option<i32> {
    if s == b"Z" || s == b"z" {
        return Some(0);
    }
    if !matches!(s.len(), 3 | 5 | 6) {
        return None;
    }
    let sign: i64 = match s[0] {
        b'-' => -1,
        b'+' => 1,
        _ => return None,
    };
    let hours = py_int(&s[1..3])?;
    let minutes = match s.len() {
        3 => 0,
        _ if s[3] == b':' => py_int(&s[4..])?,
        _ => py_int(&s[3..])?,
    };
    if hours == 0 && minutes == 0 {
        return Some(0);
    }
    if minutes > 59 || hours > 23 {
        return None;
    }
    // Python's int() lets a component carry its own sign: `+-1:00` is an hour west.
    i32::try_from(sign * (hours * 60 + minutes) * 60).ok()
}

/// frictionless' default datetime: `text[16] == ':'`, at least 19 characters, then `isoparse`.
pub(crate) fn parse_default_datetime(text: &str) -> Option<DateTime> {
    // `isoparse` needs ASCII, so byte positions are character positions here.
    let s = text.as_bytes();
    if s.len() < 19 || s[16] != b':' {
        return None;
    }
    isoparse(text)
}

/// frictionless' default time: `text[5] == ':'`, at least 8 characters, then the time part of
/// `isoparse("2000-01-01T" + text)` (so `24:00:00` is midnight).
pub(crate) fn parse_default_time(text: &str) -> Option<Time> {
    let s = text.as_bytes();
    if !s.is_ascii() || s.len() < 8 || s[5] != b':' {
        return None;
    }
    let t = iso_time(s)?;
    let hour = if t.hour == 24 { 0 } else { t.hour };
    if hour > 23 || t.minute > 59 || t.second > 59 {
        return None;
    }
    Some(Time {
        micros: time_micros(hour, t.minute, t.second, t.micros),
        offset: t.offset,
    })
}

/// What a strptime match yields, before validation.
#[derive(Debug, Default)]
struct Parts {
    year: Option<i64>,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
    julian: Option<u32>,
    offset: Option<i32>,
}

/// The directives weir's strptime understands, as Python 3.11 reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Year4,
    Year2,
    Month,
    MonthName,
    MonthAbbr,
    Day,
    Hour24,
    Hour12,
    AmPm,
    Minute,
    Second,
    Fraction,
    Julian,
    Offset,
    ZoneName,
    Weekday,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A compiled strftime pattern (Python's `strptime` semantics, C locale).
#[derive(Debug, Clone)]
pub(crate) struct Strptime {
    regex: Regex,
    /// The directive each capture group (from 1) holds.
    groups: Vec<Directive>,
}

impl Strptime {
    /// Compiles `format`; the error names the problem (unknown or repeated directive).
    pub(crate) fn new(format: &str) -> Result<Strptime, String> {
        // The C locale's %c, %x and %X, expanded as Python's LocaleTime does.
        let expanded = format
            .replace("%c", "%a %b %d %H:%M:%S %Y")
            .replace("%x", "%m/%d/%y")
            .replace("%X", "%H:%M:%S");
        let mut pattern = String::from(r"(?i)\A");
        let mut groups = Vec::new();
        let mut chars = expanded.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '%' {
                let Some(d) = chars.next() else {
                    return Err(format!("format '{format}' ends with a stray '%'"));
                };
                let (directive, re) = match d {
                    'Y' => (Directive::Year4, r"([0-9]{4})".to_string()),
                    'y' => (Directive::Year2, r"([0-9]{2})".to_string()),
                    'm' => (Directive::Month, r"(1[0-2]|0[1-9]|[1-9])".to_string()),
                    'B' => (Directive::MonthName, names(&MONTHS, None)),
                    'b' | 'h' => (Directive::MonthAbbr, names(&MONTHS, Some(3))),
                    'd' => (Directive::Day, r"(3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])".to_string()),
                    'H' => (Directive::Hour24, r"(2[0-3]|[01][0-9]|[0-9])".to_string()),
                    'I' => (Directive::Hour12, r"(1[0-2]|0[1-9]|[1-9])".to_string()),
                    'p' => (Directive::AmPm, "(am|pm)".to_string()),
                    'M' => (Directive::Minute, r"([0-5][0-9]|[0-9])".to_string()),
                    'S' => (Directive::Second, r"(6[01]|[0-5][0-9]|[0-9])".to_string()),
                    'f' => (Directive::Fraction, r"([0-9]{1,6})".to_string()),
                    'j' => (
                        Directive::Julian,
                        r"(36[0-6]|3[0-5][0-9]|[12][0-9][0-9]|0[1-9][0-9]|00[1-9]|[1-9][0-9]|0[1-9]|[1-9])"
                            .to_string(),
                    ),
                    'z' => (
                        Directive::Offset,
                        r"([+-][0-9][0-9]:?[0-5][0-9](?::?[0-5][0-9](?:\.[0-9]{1,6})?)?|(?-i:Z))"
                            .to_string(),
                    ),
                    'Z' => (Directive::ZoneName, "(utc|gmt)".to_string()),
                    'A' => (Directive::Weekday, names(&WEEKDAYS, None)),
                    'a' => (Directive::Weekday, names(&WEEKDAYS, Some(3))),
                    'w' => (Directive::Weekday, "([0-6])".to_string()),
                    'u' => (Directive::Weekday, "([1-7])".to_string()),
                    '%' => {
                        pattern.push('%');
                        continue;
                    }
                    other => {
                        return Err(format!(
                            "format '{format}' has a directive '%{other}' that weir does not support"
                        ))
                    }
                };
                // Python's regex refuses a group name twice, so such a format matches nothing.
                if directive != Directive::Weekday && groups.contains(&directive) {
                    return Err(format!("format '{format}' repeats the directive '%{d}'"));
                }
                groups.push(directive);
                pattern.push_str(&re);
            } else if c.is_whitespace() {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                pattern.push_str(r"\s+");
            } else {
                pattern.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            }
        }
        let regex = Regex::new(&pattern).map_err(|e| format!("format '{format}': {e}"))?;
        Ok(Strptime { regex, groups })
    }

    /// Reusable match positions for [`Strptime::parse`].
    pub(crate) fn locations(&self) -> CaptureLocations {
        self.regex.capture_locations()
    }

    fn parts(&self, text: &str, locs: &mut CaptureLocations) -> Option<Parts> {
        let m = self.regex.captures_read(locs, text)?;
        if m.end() != text.len() {
            return None;
        }
        let mut p = Parts {
            month: 1,
            day: 1,
            ..Parts::default()
        };
        let mut ampm = None;
        let mut hour12 = None;
        for (i, directive) in self.groups.iter().enumerate() {
            let Some((a, b)) = locs.get(i + 1) else {
                continue;
            };
            let g = &text[a..b];
            let num = || digits_value(g.trim_start().as_bytes());
            match directive {
                Directive::Year4 => p.year = Some(i64::from(num()?)),
                Directive::Year2 => {
                    let y = num()?;
                    p.year = Some(i64::from(if y <= 68 { y + 2000 } else { y + 1900 }));
                }
                Directive::Month => p.month = num()?,
                Directive::MonthName | Directive::MonthAbbr => {
                    let is = |m: &&str| m.len() >= g.len() && m[..g.len()].eq_ignore_ascii_case(g);
                    p.month = MONTHS.iter().position(is)? as u32 + 1;
                }
                Directive::Day => p.day = num()?,
                Directive::Hour24 => p.hour = num()?,
                Directive::Hour12 => hour12 = Some(num()?),
                Directive::AmPm => ampm = Some(g.eq_ignore_ascii_case("pm")),
                Directive::Minute => p.minute = num()?,
                Directive::Second => p.second = num()?,
                Directive::Fraction => p.micros = num()? * 10u32.pow(6 - g.len() as u32),
                Directive::Julian => p.julian = Some(num()?),
                Directive::Offset => p.offset = Some(strptime_offset(g.as_bytes())?),
                Directive::ZoneName | Directive::Weekday => {}
            }
        }
        if let Some(h) = hour12 {
            p.hour = match (ampm, h) {
                (Some(true), 12) => 12,
                (Some(true), h) => h + 12,
                (_, 12) => 0,
                (_, h) => h,
            };
        }
        Some(p)
    }

    /// `datetime.strptime(text, format)`.
    pub(crate) fn parse(&self, text: &str, locs: &mut CaptureLocations) -> Option<DateTime> {
        let p = self.parts(text, locs)?;
        // Python parses Feb 29 without a year in the leap year 1904, then builds the datetime
        // in 1900, which fails: so does this.
        let year = p.year.unwrap_or(1900);
        let days = match p.julian {
            Some(j) => {
                let d = date(year, 1, 1)? + j as i32 - 1;
                (d <= date(9999, 12, 31)?).then_some(d)?
            }
            None => date(year, p.month, p.day)?,
        };
        if p.hour > 23 || p.minute > 59 || p.second > 59 {
            return None;
        }
        // `%f` takes at most six digits: nothing is dropped.
        Some(DateTime {
            days,
            micros: time_micros(p.hour, p.minute, p.second, p.micros),
            offset: p.offset,
            past_micros: false,
        })
    }
}

/// A regex group of names (full, or cut to `abbr` letters), longest first as Python sorts them.
fn names(list: &[&str], abbr: Option<usize>) -> String {
    let mut v: Vec<&str> = list.iter().map(|n| abbr.map_or(*n, |a| &n[..a])).collect();
    v.sort_by_key(|n| std::cmp::Reverse(n.len()));
    format!("({})", v.join("|"))
}

/// Python 3.11's `%z`: `Z`, or `±HH[:]MM[[:]SS[.ffffff]]` with consistent colons, under 24 h.
fn strptime_offset(z: &[u8]) -> Option<i32> {
    if z == b"Z" {
        return Some(0);
    }
    let sign = if z[0] == b'-' { -1 } else { 1 };
    let hours = digits_value(&z[1..3])?;
    let mut rest = &z[3..];
    let colon = rest.first() == Some(&b':');
    if colon {
        rest = &rest[1..];
    }
    let minutes = digits_value(slice(rest, 0, 2))?;
    rest = &rest[2.min(rest.len())..];
    let mut seconds = 0;
    if !rest.is_empty() {
        if colon {
            rest = rest.strip_prefix(b":")?;
        } else if rest[0] == b':' {
            return None;
        }
        seconds = digits_value(slice(rest, 0, 2))?;
    }
    let total = (hours * 3600 + minutes * 60 + seconds) as i32;
    (total < 86_400).then_some(sign * total)
}

/// The time of day of a datetime.
pub(crate) fn time_of(dt: DateTime) -> Time {
    Time {
        micros: dt.micros,
        offset: dt.offset,
    }
}

/// dateutil's `parser.parse(text)`, approximated: ISO forms as `isoparse`; else words and
/// numbers in the common orders (`Jan 2 2020`, `2 January 2020`, `01/02/2020` month first,
/// `2020/01/02`, `20200102`), an optional weekday, a time `h:mm[:ss[.f]]` with `am`/`pm`, and
/// a zone `Z`, `UTC`, `GMT` or `±hh[:mm]`. Missing parts default to 2000-01-01, as dateutil
/// fills them from today. dateutil accepts more (fuzzy words, ordinal suffixes, two-digit years
/// in odd places); weir reports those as type errors.
pub(crate) fn parse_any(text: &str) -> Option<DateTime> {
    if let Some(dt) = isoparse(text.trim()) {
        return Some(dt);
    }
    let mut numbers: [(u32, usize); 3] = [(0, 0); 3];
    let mut n_numbers = 0;
    let mut month_name = None;
    let mut clock: Option<(u32, u32, u32, u32)> = None;
    let mut past_micros = false;
    let mut ampm = None;
    let mut offset = None;
    let lower = text.to_ascii_lowercase();
    for token in lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
    {
        if clock.is_none() && token.contains(':') && token.as_bytes()[0].is_ascii_digit() {
            // A time, possibly with its zone glued on: 10:20:30z, 10:20+01:00.
            let split = token[1..]
                .find(['z', '+', '-'])
                .map_or(token.len(), |i| i + 1);
            let (t, zone) = token.split_at(split);
            let mut it = t.split(':');
            let h = digits_value(it.next()?.as_bytes())?;
            let m = digits_value(it.next()?.as_bytes())?;
            let (s, us) = match it.next() {
                None => (0, 0),
                Some(sec) => {
                    let (whole, frac) = sec.split_once(['.', ',']).unwrap_or((sec, ""));
                    past_micros = frac.bytes().skip(6).any(|b| b != b'0');
                    let frac = &frac[..frac.len().min(6)];
                    let us = if frac.is_empty() {
                        0
                    } else {
                        digits_value(frac.as_bytes())? * 10u32.pow(6 - frac.len() as u32)
                    };
                    (digits_value(whole.as_bytes())?, us)
                }
            };
            if it.next().is_some() {
                return None;
            }
            clock = Some((h, m, s, us));
            if !zone.is_empty() {
                offset = Some(any_zone(zone)?);
            }
        } else if matches!(token, "am" | "a.m." | "pm" | "p.m.") {
            ampm = Some(token.starts_with('p'));
        } else if matches!(token, "z" | "utc" | "gmt") || token.starts_with(['+', '-']) {
            offset = Some(any_zone(token)?);
        } else if let Some(m) = month_of(token) {
            if month_name.replace(m).is_some() {
                return None;
            }
        } else if is_weekday(token) || matches!(token, "at" | "on" | "of" | "t") {
        } else if let Some(day) = ordinal_day(token) {
            if n_numbers == 3 {
                return None;
            }
            numbers[n_numbers] = (day, 2);
            n_numbers += 1;
        } else if token
            .bytes()
            .all(|b| b.is_ascii_digit() || b"-/.".contains(&b))
        {
            for part in token.split(['-', '/', '.']) {
                if n_numbers == 3 {
                    return None;
                }
                numbers[n_numbers] = (digits_value(part.as_bytes())?, part.len());
                n_numbers += 1;
            }
        } else {
            return None;
        }
    }
    let (year, month, day) = any_ymd(&numbers[..n_numbers], month_name)?;
    let mut days = date(i64::from(year), month, day)?;
    let (mut h, m, s, us) = clock.unwrap_or((0, 0, 0, 0));
    if let Some(pm) = ampm {
        if h == 0 || h > 12 {
            return None;
        }
        h = match (pm, h) {
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, 12) => 0,
            (false, h) => h,
        };
    }
    if h == 24 && m == 0 && s == 0 && us == 0 {
        h = 0;
        days += 1;
    }
    if h > 23 || m > 59 || s > 59 || (month_name.is_none() && n_numbers == 0 && clock.is_none()) {
        return None;
    }
    Some(DateTime {
        days,
        micros: time_micros(h, m, s, us),
        offset,
        past_micros,
    })
}

fn any_zone(zone: &str) -> Option<i32> {
    match zone {
        "z" | "utc" | "gmt" => Some(0),
        _ => iso_tz(zone.as_bytes()),
    }
}

/// `1st`, `2nd`, `3rd`, `4th`: a day of the month.
fn ordinal_day(token: &str) -> Option<u32> {
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|suffix| token.strip_suffix(suffix))?;
    digits_value(digits.as_bytes()).filter(|d| (1..=31).contains(d))
}

fn month_of(token: &str) -> Option<u32> {
    let t = token.trim_end_matches('.');
    if t.len() < 3 {
        return None;
    }
    let found = MONTHS.iter().position(|m| {
        *m == t || (t.len() == 3 && m.starts_with(t)) || (t == "sept" && *m == "september")
    });
    found.map(|i| i as u32 + 1)
}

fn is_weekday(token: &str) -> bool {
    let t = token.trim_end_matches('.');
    t.len() >= 3
        && WEEKDAYS
            .iter()
            .any(|d| *d == t || (t.len() == 3 && d.starts_with(t)))
}

/// Orders the numbers of a free-form date as dateutil does by default (month first).
fn any_ymd(numbers: &[(u32, usize)], month_name: Option<u32>) -> Option<(u32, u32, u32)> {
    let yearish = |(v, len): (u32, usize)| len >= 3 || v > 31;
    let two_digit = |(v, len): (u32, usize)| if len <= 2 { 2000 + v } else { v };
    const Y: u32 = 2000;
    Some(match (month_name, numbers) {
        (None, []) => (Y, 1, 1),
        (Some(m), []) => (Y, m, 1),
        (Some(m), [a]) if yearish(*a) => (a.0, m, 1),
        (Some(m), [a]) => (Y, m, a.0),
        (Some(m), [a, b]) if yearish(*a) => (a.0, m, b.0),
        (Some(m), [a, b]) => (two_digit(*b), m, a.0),
        (None, [a]) if a.1 == 8 => (a.0 / 10_000, a.0 / 100 % 100, a.0 % 100),
        (None, [a]) if yearish(*a) => (a.0, 1, 1),
        (None, [a]) => (Y, 1, a.0),
        (None, [a, b]) if yearish(*a) => (a.0, b.0, 1),
        (None, [a, b]) if yearish(*b) => (b.0, a.0, 1),
        (None, [a, b]) => (Y, a.0, b.0),
        (None, [a, b, c]) if yearish(*a) => (a.0, b.0, c.0),
        (None, [a, b, c]) if a.0 > 12 => (two_digit(*c), b.0, a.0),
        (None, [a, b, c]) => (two_digit(*c), a.0, b.0),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(days_from_civil(1, 1, 1), 0);
        assert_eq!(days_from_civil(1970, 1, 1), 719_162);
        for days in [0, 59, 60, 365, 719_162, 738_000, 3_652_058] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn default_date_is_python_strptime() {
        for ok in [
            "2020-01-02",
            "2020-1-2",
            "2020-01- 5",
            "0001-01-01",
            "2020-02-29",
        ] {
            assert!(parse_default_date(ok).is_some(), "{ok:?}");
        }
        for bad in [
            "2020-01-2 ",
            "2020-02-30",
            "0000-01-01",
            "2020/01/02",
            "20200102",
            "2020-13-01",
            "2020-01-32",
            " 2020-01-02",
            "2021-02-29",
            "2020-01-011",
            "2020-01-02T00:00:00",
        ] {
            assert!(parse_default_date(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn default_datetime_is_guarded_isoparse() {
        for ok in [
            "2020-01-02T10:20:30",
            "2020-01-02T10:20:30Z",
            "2020-01-02 10:20:30",
            "2020-01-02x10:20:30",
            "2020-01-02T10:20:30.123456789",
            "2020-01-02T10:20:30+01:00",
            "2020-01-02T10:20:30+0100",
            "2020-01-02T10:20:30+01",
            "2020-01-02T24:00:00",
            "2020-01-02T10:20:30,5",
            "2020-01-02T10:20:30z",
            "2020-W01-1T10:20:30",
        ] {
            assert!(parse_default_datetime(ok).is_some(), "{ok:?}");
        }
        for bad in [
            "2020-01-02T10:20",
            "2020-01-02T10:20:60",
            "20200102T10:20:30",
            "2020-01-02T10:20:30-25:00",
            "2020-01-02T10:20:30 ",
            "2020-01-02T1:20:30",
            "2020-01-02T24:00:01",
            "2020-13-02T10:20:30",
        ] {
            assert!(parse_default_datetime(bad).is_none(), "{bad:?}");
        }
        let midnight = parse_default_datetime("2020-01-02T24:00:00").unwrap();
        assert_eq!(midnight.days, days_from_civil(2020, 1, 3));
        let z = parse_default_datetime("2020-01-02T10:00:00Z").unwrap();
        let plus1 = parse_default_datetime("2020-01-02T11:00:00+01:00").unwrap();
        assert!(z.same(&plus1));
        let naive = parse_default_datetime("2020-01-02T10:00:00").unwrap();
        assert!(!naive.same(&z), "Python: naive != aware");
    }

    #[test]
    fn default_time_is_guarded_isoparse() {
        for ok in [
            "10:20:30",
            "10:20:30Z",
            "10:20:30.5",
            "24:00:00",
            "10:20:30+01:00",
            "10:20:30.1234567",
        ] {
            assert!(parse_default_time(ok).is_some(), "{ok:?}");
        }
        for bad in [
            "10:20",
            "1:20:30",
            "10:20:30 ",
            "102030",
            "10:2030",
            "23:59:60",
            "10:60:00",
        ] {
            assert!(parse_default_time(bad).is_none(), "{bad:?}");
        }
        assert_eq!(parse_default_time("24:00:00").unwrap().micros, 0);
    }

    #[test]
    fn strptime_patterns() {
        let check = |format: &str, ok: &[&str], bad: &[&str]| {
            let p = Strptime::new(format).unwrap();
            let mut locs = p.locations();
            for t in ok {
                assert!(p.parse(t, &mut locs).is_some(), "{format} {t:?}");
            }
            for t in bad {
                assert!(p.parse(t, &mut locs).is_none(), "{format} {t:?}");
            }
        };
        check(
            "%d/%m/%Y",
            &["02/01/2020", "2/1/2020"],
            &["2020-01-02", "02/01/20", "31/02/2020"],
        );
        check(
            "%d/%m/%Y %H:%M",
            &["02/01/2020 10:20", "02/01/2020   10:20"],
            &["02/01/2020 10:20:30"],
        );
        check("%Hh%M", &["10h20", "10H20"], &["10:20"]);
        check(
            "%b %d %Y",
            &["Jan 02 2020", "jan 2 2020"],
            &["January 02 2020"],
        );
        check("%B %d, %Y", &["January 02, 2020"], &["Jan 02, 2020"]);
        check("%I:%M %p", &["12:30 am", "1:05 PM"], &["13:00 pm"]);
        check(
            "%Y-%m-%dT%H:%M:%S%z",
            &[
                "2020-01-02T10:20:30+0100",
                "2020-01-02T10:20:30Z",
                "2020-01-02T10:20:30+01:00",
            ],
            &["2020-01-02T10:20:30+01"],
        );
        check("%m-%d", &["01-02"], &["02-29"]);
        // Python does not hold a day of the year to its year: 366/2021 is 2022-01-01.
        check("%j/%Y", &["366/2020", "366/2021"], &["367/2020"]);
        check("%y", &["68", "69"], &["2020"]);
        let p = Strptime::new("%I %p").unwrap();
        let mut locs = p.locations();
        assert_eq!(p.parse("12 am", &mut locs).unwrap().micros, 0);
        assert_eq!(
            p.parse("1 pm", &mut locs).unwrap().micros,
            13 * 3_600_000_000
        );
        assert!(Strptime::new("%Q").unwrap_err().contains("%Q"));
        assert!(Strptime::new("%Y %Y").unwrap_err().contains("repeats"));
        assert!(Strptime::new("%Y%").unwrap_err().contains("stray"));
    }

    #[test]
    fn any_dates() {
        for ok in [
            "02/01/2020",
            "Jan 2 2020",
            "2020-01-02",
            "2020",
            "January 2, 2020",
            "2 Jan 2020",
            "Thu, 02 Jan 2020 10:20:30 GMT",
            "2020/01/02 10:20 pm",
            "20200102",
            "13/01/2020",
            "10:00",
            "2nd Jan 2020",
        ] {
            assert!(parse_any(ok).is_some(), "{ok:?}");
        }
        for bad in [
            "junk",
            "",
            "2020-02-30",
            "13/13/2020",
            "25:00",
            "Jan Feb 2020",
        ] {
            assert!(parse_any(bad).is_none(), "{bad:?}");
        }
        let us = parse_any("02/01/2020").unwrap();
        assert_eq!(
            us.days,
            days_from_civil(2020, 2, 1),
            "month first, as dateutil"
        );
    }
}

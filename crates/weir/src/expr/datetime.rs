//! Date parts (`extract`, `date_part`), `date_diff`, `date_trunc`, and DuckDB's
//! `strftime`/`strptime` format language.

use jiff::civil::{Date, DateTime, Time};

use super::convert::{self, date_days, date_from_days, time_micros, ts_from_micros, ts_micros};
use super::value::write_i64;
use super::Value;
use crate::calendar::{self, days_from_civil, MICROS_PER_DAY};

/// A date or time value a date function takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Temporal {
    Date(Date),
    Timestamp(DateTime),
    Time(Time),
}

impl Temporal {
    /// A date function's argument: a DATE, TIMESTAMP or TIME as it is, text read as a
    /// TIMESTAMP (or a TIME when it is one); `None` for anything else.
    pub(crate) fn from_value(v: &Value<'_>) -> Option<Temporal> {
        match v {
            Value::Date(d) => Some(Temporal::Date(*d)),
            Value::Timestamp(t) => Some(Temporal::Timestamp(*t)),
            Value::Time(t) => Some(Temporal::Time(*t)),
            Value::Str(s) => {
                if let Some(t) = convert::parse_timestamp(s.as_bytes()) {
                    return Some(Temporal::Timestamp(t));
                }
                convert::parse_time(s.as_bytes()).map(Temporal::Time)
            }
            _ => None,
        }
    }

    fn date(self) -> Option<Date> {
        match self {
            Temporal::Date(d) => Some(d),
            Temporal::Timestamp(t) => Some(t.date()),
            Temporal::Time(_) => None,
        }
    }

    fn time(self) -> Time {
        match self {
            Temporal::Date(_) => Time::midnight(),
            Temporal::Timestamp(t) => t.time(),
            Temporal::Time(t) => t,
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Temporal::Date(_) => "DATE",
            Temporal::Timestamp(_) => "TIMESTAMP",
            Temporal::Time(_) => "TIME",
        }
    }
}

/// A date part, as `extract`, `date_part`, `date_diff` and `date_trunc` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Year,
    Month,
    Day,
    Decade,
    Century,
    Millennium,
    Quarter,
    Dow,
    Isodow,
    Doy,
    Week,
    IsoYear,
    YearWeek,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Epoch,
}

/// Every part name DuckDB accepts, with its part.
const PART_NAMES: &[(&str, Part)] = &[
    ("year", Part::Year),
    ("y", Part::Year),
    ("yr", Part::Year),
    ("yrs", Part::Year),
    ("years", Part::Year),
    ("month", Part::Month),
    ("mon", Part::Month),
    ("mons", Part::Month),
    ("months", Part::Month),
    ("day", Part::Day),
    ("d", Part::Day),
    ("days", Part::Day),
    ("dayofmonth", Part::Day),
    ("decade", Part::Decade),
    ("dec", Part::Decade),
    ("decades", Part::Decade),
    ("decs", Part::Decade),
    ("century", Part::Century),
    ("cent", Part::Century),
    ("centuries", Part::Century),
    ("c", Part::Century),
    ("millennium", Part::Millennium),
    ("mil", Part::Millennium),
    ("millenniums", Part::Millennium),
    ("millennia", Part::Millennium),
    ("mils", Part::Millennium),
    ("millenium", Part::Millennium),
    ("quarter", Part::Quarter),
    ("quarters", Part::Quarter),
    ("dow", Part::Dow),
    ("dayofweek", Part::Dow),
    ("weekday", Part::Dow),
    ("isodow", Part::Isodow),
    ("doy", Part::Doy),
    ("dayofyear", Part::Doy),
    ("week", Part::Week),
    ("weeks", Part::Week),
    ("w", Part::Week),
    ("weekofyear", Part::Week),
    ("isoyear", Part::IsoYear),
    ("yearweek", Part::YearWeek),
    ("hour", Part::Hour),
    ("hours", Part::Hour),
    ("h", Part::Hour),
    ("hr", Part::Hour),
    ("hrs", Part::Hour),
    ("minute", Part::Minute),
    ("minutes", Part::Minute),
    ("m", Part::Minute),
    ("min", Part::Minute),
    ("mins", Part::Minute),
    ("second", Part::Second),
    ("seconds", Part::Second),
    ("s", Part::Second),
    ("sec", Part::Second),
    ("secs", Part::Second),
    ("millisecond", Part::Millisecond),
    ("milliseconds", Part::Millisecond),
    ("ms", Part::Millisecond),
    ("msec", Part::Millisecond),
    ("msecs", Part::Millisecond),
    ("msecond", Part::Millisecond),
    ("mseconds", Part::Millisecond),
    ("microsecond", Part::Microsecond),
    ("microseconds", Part::Microsecond),
    ("us", Part::Microsecond),
    ("usec", Part::Microsecond),
    ("usecs", Part::Microsecond),
    ("usecond", Part::Microsecond),
    ("useconds", Part::Microsecond),
    ("epoch", Part::Epoch),
];

impl Part {
    /// The part a name gives, in any case.
    pub(crate) fn parse(name: &str) -> Option<Part> {
        let name = name.trim().to_ascii_lowercase();
        PART_NAMES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }

    fn name(self) -> &'static str {
        PART_NAMES
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("?", |(n, _)| n)
    }

    fn is_time_part(self) -> bool {
        matches!(
            self,
            Part::Hour
                | Part::Minute
                | Part::Second
                | Part::Millisecond
                | Part::Microsecond
                | Part::Epoch
        )
    }
}

fn century(y: i64) -> i64 {
    if y > 0 {
        (y - 1) / 100 + 1
    } else {
        -((-y) / 100 + 1)
    }
}

fn millennium(y: i64) -> i64 {
    if y > 0 {
        (y - 1) / 1000 + 1
    } else {
        -((-y) / 1000 + 1)
    }
}

/// `extract(part FROM t)`: BIGINT for every part but `epoch` (DOUBLE seconds), as in DuckDB.
pub(crate) fn extract(part: Part, t: Temporal) -> Result<Value<'static>, String> {
    let time = t.time();
    let sec_micros =
        i64::from(time.second()) * 1_000_000 + i64::from(time.subsec_nanosecond()) / 1000;
    if part.is_time_part() {
        return Ok(match part {
            Part::Hour => Value::Int(i64::from(time.hour())),
            Part::Minute => Value::Int(i64::from(time.minute())),
            Part::Second => Value::Int(i64::from(time.second())),
            Part::Millisecond => Value::Int(sec_micros / 1000),
            Part::Microsecond => Value::Int(sec_micros),
            _ => Value::Float(match t {
                Temporal::Time(t) => time_micros(t) as f64 / 1e6,
                Temporal::Date(d) => (date_days(d) * 86_400) as f64,
                Temporal::Timestamp(ts) => ts_micros(ts) as f64 / 1e6,
            }),
        });
    }
    let Some(d) = t.date() else {
        return Err(format!("cannot extract {} from a TIME", part.name()));
    };
    let y = i64::from(d.year());
    let v = match part {
        Part::Year => y,
        Part::Month => i64::from(d.month()),
        Part::Day => i64::from(d.day()),
        Part::Decade => y.div_euclid(10),
        Part::Century => century(y),
        Part::Millennium => millennium(y),
        Part::Quarter => (i64::from(d.month()) - 1) / 3 + 1,
        Part::Dow => i64::from(d.weekday().to_sunday_zero_offset()),
        Part::Isodow => i64::from(d.weekday().to_monday_one_offset()),
        Part::Doy => i64::from(d.day_of_year()),
        Part::Week => i64::from(d.iso_week_date().week()),
        Part::IsoYear => i64::from(d.iso_week_date().year()),
        Part::YearWeek => {
            let w = d.iso_week_date();
            i64::from(w.year()) * 100 + i64::from(w.week())
        }
        _ => unreachable!("time parts are handled above"),
    };
    Ok(Value::Int(v))
}

/// `date_diff(part, a, b)`: the number of part boundaries between `a` and `b`, as DuckDB counts.
pub(crate) fn date_diff(part: Part, a: Temporal, b: Temporal) -> Result<i64, String> {
    let micros = |t: Temporal| match t {
        Temporal::Date(d) => date_days(d) * MICROS_PER_DAY,
        Temporal::Timestamp(t) => ts_micros(t),
        Temporal::Time(t) => time_micros(t),
    };
    let (ma, mb) = (micros(a), micros(b));
    let units = |unit: i64| mb.div_euclid(unit) - ma.div_euclid(unit);
    match part {
        Part::Hour => return Ok(units(3_600_000_000)),
        Part::Minute => return Ok(units(60_000_000)),
        Part::Second | Part::Epoch => return Ok(units(1_000_000)),
        Part::Millisecond => return Ok(units(1000)),
        Part::Microsecond => return Ok(mb - ma),
        _ => {}
    }
    let (Some(da), Some(db)) = (a.date(), b.date()) else {
        return Err(format!(
            "cannot take the {} difference of TIME values",
            part.name()
        ));
    };
    let (ya, yb) = (i64::from(da.year()), i64::from(db.year()));
    let (moa, mob) = (i64::from(da.month()), i64::from(db.month()));
    Ok(match part {
        Part::Year => yb - ya,
        Part::Month => (yb * 12 + mob) - (ya * 12 + moa),
        Part::Quarter => (yb * 4 + (mob - 1) / 3) - (ya * 4 + (moa - 1) / 3),
        Part::Decade => yb.div_euclid(10) - ya.div_euclid(10),
        // Unlike `extract`, DuckDB counts centuries and millennia from year 0 here.
        Part::Century => yb.div_euclid(100) - ya.div_euclid(100),
        Part::Millennium => yb.div_euclid(1000) - ya.div_euclid(1000),
        Part::Day | Part::Dow | Part::Isodow | Part::Doy => date_days(db) - date_days(da),
        Part::Week | Part::YearWeek => (date_days(db) - date_days(da)) / 7,
        Part::IsoYear => {
            i64::from(db.iso_week_date().year()) - i64::from(da.iso_week_date().year())
        }
        _ => unreachable!("time parts are handled above"),
    })
}

/// `date_trunc(part, t)`: a TIMESTAMP (also for a DATE, as DuckDB returns).
pub(crate) fn date_trunc(part: Part, t: Temporal) -> Result<DateTime, String> {
    let Some(d) = t.date() else {
        return Err("date_trunc takes a DATE or TIMESTAMP, not a TIME".into());
    };
    let y = i64::from(d.year());
    let first_of = |y: i64, m: i64| -> Result<DateTime, String> {
        let date = Date::new(i16::try_from(y).map_err(|e| e.to_string())?, m as i8, 1)
            .map_err(|e| e.to_string())?;
        Ok(date.to_datetime(Time::midnight()))
    };
    let micros = match t {
        Temporal::Date(d) => date_days(d) * MICROS_PER_DAY,
        Temporal::Timestamp(t) => ts_micros(t),
        Temporal::Time(_) => unreachable!(),
    };
    let floor = |unit: i64| {
        ts_from_micros(micros.div_euclid(unit) * unit)
            .ok_or_else(|| "date out of range".to_string())
    };
    match part {
        Part::Year => first_of(y, 1),
        Part::Quarter => first_of(y, (i64::from(d.month()) - 1) / 3 * 3 + 1),
        Part::Month => first_of(y, i64::from(d.month())),
        Part::Decade => first_of(y.div_euclid(10) * 10, 1),
        Part::Century => first_of(y.div_euclid(100) * 100, 1),
        Part::Millennium => first_of(y.div_euclid(1000) * 1000, 1),
        Part::Week | Part::YearWeek => {
            let days = date_days(d) - i64::from(d.weekday().to_monday_one_offset()) + 1;
            date_from_days(days)
                .map(|d| d.to_datetime(Time::midnight()))
                .ok_or_else(|| "date out of range".to_string())
        }
        Part::Day | Part::Dow | Part::Isodow | Part::Doy => Ok(d.to_datetime(Time::midnight())),
        Part::Hour => floor(3_600_000_000),
        Part::Minute => floor(60_000_000),
        Part::Second | Part::Epoch => floor(1_000_000),
        Part::Millisecond => floor(1000),
        Part::Microsecond => floor(1),
        Part::IsoYear => {
            let w = d.iso_week_date();
            date_from_days(calendar::iso_year_start(i64::from(w.year())))
                .map(|d| d.to_datetime(Time::midnight()))
                .ok_or_else(|| "date out of range".to_string())
        }
    }
}

/// One item of a compiled strftime/strptime format.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Literal(String),
    /// A run of whitespace: any amount of whitespace when parsing.
    Space(String),
    Spec(Spec),
}

/// A `%` specifier. `padded: false` is the `%-x` form (no leading zeros when formatting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    WeekdayShort,
    WeekdayLong,
    WeekdaySunday0,
    WeekdayMonday1,
    Day { padded: bool },
    MonthShort,
    MonthLong,
    Month { padded: bool },
    Year2 { padded: bool },
    Year4,
    Hour24 { padded: bool },
    Hour12 { padded: bool },
    AmPm,
    Minute { padded: bool },
    Second { padded: bool },
    Micros,
    Millis,
    Nanos,
    UtcOffset,
    ZoneName,
    DayOfYear { padded: bool },
    WeekSunday,
    WeekMonday,
    IsoWeek,
    IsoYear,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A compiled strftime/strptime format.
#[derive(Debug, Clone)]
pub(crate) struct Format {
    items: Vec<Item>,
    text: String,
}

impl Format {
    /// Compiles a format; unknown specifiers are an error, as in DuckDB.
    pub(crate) fn new(text: &str) -> Result<Format, String> {
        let mut items = Vec::new();
        let mut lit = String::new();
        let mut chars = text.chars().peekable();
        let flush = |lit: &mut String, items: &mut Vec<Item>| {
            if !lit.is_empty() {
                items.push(Item::Literal(std::mem::take(lit)));
            }
        };
        while let Some(c) = chars.next() {
            if c.is_ascii_whitespace() {
                flush(&mut lit, &mut items);
                let mut space = c.to_string();
                while let Some(&n) = chars.peek().filter(|n| n.is_ascii_whitespace()) {
                    space.push(n);
                    chars.next();
                }
                items.push(Item::Space(space));
                continue;
            }
            if c != '%' {
                lit.push(c);
                continue;
            }
            let mut padded = true;
            let mut s = chars.next();
            if s == Some('-') {
                padded = false;
                s = chars.next();
            }
            let Some(s) = s else {
                return Err(format!("format '{text}' ends with a lone '%'"));
            };
            let spec = match (s, padded) {
                ('%', true) => {
                    lit.push('%');
                    continue;
                }
                ('a', true) => Spec::WeekdayShort,
                ('A', true) => Spec::WeekdayLong,
                ('w', true) => Spec::WeekdaySunday0,
                ('u', true) => Spec::WeekdayMonday1,
                ('d', p) => Spec::Day { padded: p },
                ('b' | 'h', true) => Spec::MonthShort,
                ('B', true) => Spec::MonthLong,
                ('m', p) => Spec::Month { padded: p },
                ('y', p) => Spec::Year2 { padded: p },
                ('Y', true) => Spec::Year4,
                ('H', p) => Spec::Hour24 { padded: p },
                ('I', p) => Spec::Hour12 { padded: p },
                ('p', true) => Spec::AmPm,
                ('M', p) => Spec::Minute { padded: p },
                ('S', p) => Spec::Second { padded: p },
                ('f', true) => Spec::Micros,
                ('g', true) => Spec::Millis,
                ('n', true) => Spec::Nanos,
                ('z', true) => Spec::UtcOffset,
                ('Z', true) => Spec::ZoneName,
                ('j', p) => Spec::DayOfYear { padded: p },
                ('U', true) => Spec::WeekSunday,
                ('W', true) => Spec::WeekMonday,
                ('V', true) => Spec::IsoWeek,
                ('G', true) => Spec::IsoYear,
                ('c' | 'x' | 'X' | 'T', true) => {
                    flush(&mut lit, &mut items);
                    let expansion = match s {
                        'c' => "%Y-%m-%d %H:%M:%S",
                        'x' => "%Y-%m-%d",
                        _ => "%H:%M:%S",
                    };
                    items.extend(Format::new(expansion)?.items);
                    continue;
                }
                _ => {
                    let dash = if padded { "" } else { "-" };
                    return Err(format!("unknown specifier %{dash}{s} in format '{text}'"));
                }
            };
            flush(&mut lit, &mut items);
            items.push(Item::Spec(spec));
        }
        flush(&mut lit, &mut items);
        Ok(Format {
            items,
            text: text.to_string(),
        })
    }

    /// The format's source text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Checks that every specifier can be parsed by `strptime`.
    pub(crate) fn check_parse(&self) -> Result<(), String> {
        for item in &self.items {
            if let Item::Spec(
                s @ (Spec::ZoneName
                | Spec::WeekSunday
                | Spec::WeekMonday
                | Spec::IsoWeek
                | Spec::IsoYear),
            ) = item
            {
                let name = match s {
                    Spec::ZoneName => "%Z",
                    Spec::WeekSunday => "%U",
                    Spec::WeekMonday => "%W",
                    Spec::IsoWeek => "%V",
                    _ => "%G",
                };
                return Err(format!(
                    "strptime cannot parse {name} (in format '{}')",
                    self.text
                ));
            }
        }
        Ok(())
    }

    /// `strftime`: appends `t` formatted.
    pub(crate) fn format(&self, t: Temporal, out: &mut Vec<u8>) -> Result<(), String> {
        let Some(d) = t.date() else {
            return Err(format!(
                "strftime takes a DATE or TIMESTAMP, not a {}",
                t.type_name()
            ));
        };
        let time = t.time();
        let num = |out: &mut Vec<u8>, v: i64, width: usize, padded: bool| {
            if padded {
                let digits = if v == 0 {
                    1
                } else {
                    v.unsigned_abs().ilog10() as usize + 1
                };
                out.extend(std::iter::repeat_n(b'0', width.saturating_sub(digits)));
            }
            write_i64(out, v);
        };
        for item in &self.items {
            let spec = match item {
                Item::Literal(s) | Item::Space(s) => {
                    out.extend_from_slice(s.as_bytes());
                    continue;
                }
                Item::Spec(spec) => *spec,
            };
            let wd = i64::from(d.weekday().to_sunday_zero_offset());
            let yday0 = i64::from(d.day_of_year()) - 1;
            let micros = i64::from(time.subsec_nanosecond()) / 1000;
            match spec {
                Spec::WeekdayShort => out.extend_from_slice(&WEEKDAYS[wd as usize].as_bytes()[..3]),
                Spec::WeekdayLong => out.extend_from_slice(WEEKDAYS[wd as usize].as_bytes()),
                Spec::WeekdaySunday0 => num(out, wd, 1, false),
                Spec::WeekdayMonday1 => {
                    num(out, i64::from(d.weekday().to_monday_one_offset()), 1, false)
                }
                Spec::Day { padded } => num(out, i64::from(d.day()), 2, padded),
                Spec::MonthShort => {
                    out.extend_from_slice(&MONTHS[d.month() as usize - 1].as_bytes()[..3])
                }
                Spec::MonthLong => out.extend_from_slice(MONTHS[d.month() as usize - 1].as_bytes()),
                Spec::Month { padded } => num(out, i64::from(d.month()), 2, padded),
                Spec::Year2 { padded } => num(out, i64::from(d.year()).rem_euclid(100), 2, padded),
                Spec::Year4 => num(out, i64::from(d.year()), 4, true),
                Spec::Hour24 { padded } => num(out, i64::from(time.hour()), 2, padded),
                Spec::Hour12 { padded } => {
                    let h = i64::from(time.hour()) % 12;
                    num(out, if h == 0 { 12 } else { h }, 2, padded)
                }
                Spec::AmPm => out.extend_from_slice(if time.hour() < 12 { b"AM" } else { b"PM" }),
                Spec::Minute { padded } => num(out, i64::from(time.minute()), 2, padded),
                Spec::Second { padded } => num(out, i64::from(time.second()), 2, padded),
                Spec::Micros => num(out, micros, 6, true),
                Spec::Millis => num(out, micros / 1000, 3, true),
                Spec::Nanos => num(out, micros * 1000, 9, true),
                Spec::UtcOffset => out.extend_from_slice(b"+00"),
                Spec::ZoneName => {}
                Spec::DayOfYear { padded } => num(out, yday0 + 1, 3, padded),
                Spec::WeekSunday => num(out, (yday0 + 7 - wd) / 7, 2, true),
                Spec::WeekMonday => num(out, (yday0 + 7 - (wd + 6) % 7) / 7, 2, true),
                Spec::IsoWeek => num(out, i64::from(d.iso_week_date().week()), 2, true),
                Spec::IsoYear => num(out, i64::from(d.iso_week_date().year()), 4, true),
            }
        }
        Ok(())
    }

    /// `strptime`: the timestamp `s` holds, or `None` when it does not match.
    pub(crate) fn parse(&self, s: &str) -> Option<DateTime> {
        let mut p = Parsed {
            year: 1900,
            month: 1,
            day: 1,
            yday: None,
            hour: 0,
            pm: None,
            minute: 0,
            second: 0,
            micros: 0,
            offset_minutes: 0,
        };
        let mut rest = s.trim_start().as_bytes();
        for item in &self.items {
            match item {
                Item::Space(_) => {
                    let n = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
                    rest = &rest[n..];
                }
                Item::Literal(lit) => rest = rest.strip_prefix(lit.as_bytes())?,
                Item::Spec(spec) => rest = p.spec(*spec, rest)?,
            }
        }
        if !rest.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        p.finish()
    }
}

struct Parsed {
    year: i64,
    month: i64,
    day: i64,
    yday: Option<i64>,
    hour: i64,
    pm: Option<bool>,
    minute: i64,
    second: i64,
    micros: i64,
    offset_minutes: i64,
}

/// Reads `min..=max` digits.
fn num(s: &[u8], min: usize, max: usize) -> Option<(i64, &[u8])> {
    let n = s
        .iter()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n < min {
        return None;
    }
    let v = s[..n]
        .iter()
        .fold(0i64, |v, &b| v * 10 + i64::from(b - b'0'));
    Some((v, &s[n..]))
}

/// Reads one of `names` (or its first three letters when `short`), in any case.
fn name<'s>(s: &'s [u8], names: &[&str], short: bool) -> Option<(i64, &'s [u8])> {
    for (i, n) in names.iter().enumerate() {
        let n = if short {
            &n.as_bytes()[..3]
        } else {
            n.as_bytes()
        };
        if s.len() >= n.len() && s[..n.len()].eq_ignore_ascii_case(n) {
            return Some((i as i64, &s[n.len()..]));
        }
    }
    None
}

impl Parsed {
    fn spec<'s>(&mut self, spec: Spec, s: &'s [u8]) -> Option<&'s [u8]> {
        let (v, rest) = match spec {
            Spec::WeekdayShort => name(s, &WEEKDAYS, true)?,
            Spec::WeekdayLong => name(s, &WEEKDAYS, false)?,
            Spec::WeekdaySunday0 | Spec::WeekdayMonday1 => num(s, 1, 1)?,
            Spec::Day { .. } => {
                let (v, r) = num(s, 1, 2)?;
                self.day = v;
                (v, r)
            }
            Spec::MonthShort | Spec::MonthLong => {
                let (v, r) = name(s, &MONTHS, spec == Spec::MonthShort)?;
                self.month = v + 1;
                (v, r)
            }
            Spec::Month { .. } => {
                let (v, r) = num(s, 1, 2)?;
                self.month = v;
                (v, r)
            }
            Spec::Year2 { .. } => {
                let (v, r) = num(s, 1, 2)?;
                self.year = if v < 69 { 2000 + v } else { 1900 + v };
                (v, r)
            }
            Spec::Year4 => {
                let (v, r) = num(s, 1, 4)?;
                self.year = v;
                (v, r)
            }
            Spec::Hour24 { .. } => {
                let (v, r) = num(s, 1, 2)?;
                self.hour = v;
                (v, r)
            }
            Spec::Hour12 { .. } => {
                let (v, r) = num(s, 1, 2)?;
                if !(1..=12).contains(&v) {
                    return None;
                }
                self.hour = v;
                (v, r)
            }
            Spec::AmPm => {
                let (v, r) = name(s, &["AM", "PM"], false)?;
                self.pm = Some(v == 1);
                (v, r)
            }
            Spec::Minute { .. } => {
                let (v, r) = num(s, 1, 2)?;
                self.minute = v;
                (v, r)
            }
            Spec::Second { .. } => {
                let (v, r) = num(s, 1, 2)?;
                self.second = v;
                (v, r)
            }
            Spec::Micros | Spec::Millis | Spec::Nanos => self.fraction(spec, s)?,
            Spec::UtcOffset => self.utc_offset(s)?,
            Spec::DayOfYear { .. } => {
                let (v, r) = num(s, 1, 3)?;
                self.yday = Some(v);
                (v, r)
            }
            Spec::ZoneName
            | Spec::WeekSunday
            | Spec::WeekMonday
            | Spec::IsoWeek
            | Spec::IsoYear => return None,
        };
        let _ = v;
        Some(rest)
    }

    /// `%f`, `%g`, `%n`: a fraction of a second in micro-, milli- or nanoseconds.
    fn fraction<'s>(&mut self, spec: Spec, s: &'s [u8]) -> Option<(i64, &'s [u8])> {
        let width = match spec {
            Spec::Micros => 6,
            Spec::Millis => 3,
            _ => 9,
        };
        let n = s
            .iter()
            .take(width)
            .take_while(|b| b.is_ascii_digit())
            .count();
        let (v, r) = num(s, 1, width)?;
        // A fraction: '5' with %g is 500 ms.
        let scaled = v * 10i64.pow((width - n) as u32);
        self.micros = match spec {
            Spec::Micros => scaled,
            Spec::Millis => scaled * 1000,
            _ => scaled / 1000,
        };
        Some((v, r))
    }

    /// `%z`: a UTC offset, `+hh[:mm]` or `-hh[:mm]`.
    fn utc_offset<'s>(&mut self, s: &'s [u8]) -> Option<(i64, &'s [u8])> {
        let sign = match s.first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (h, r) = num(&s[1..], 2, 2)?;
        let r2 = r.strip_prefix(b":").unwrap_or(r);
        let (m, r) = match num(r2, 2, 2) {
            Some((m, r)) => (m, r),
            None => (0, r),
        };
        self.offset_minutes = sign * (h * 60 + m);
        Some((0, r))
    }

    fn finish(&self) -> Option<DateTime> {
        let mut hour = self.hour;
        match self.pm {
            Some(true) if hour < 12 => hour += 12,
            Some(false) if hour == 12 => hour = 0,
            _ => {}
        }
        let date = match self.yday {
            Some(yday) => {
                let days = days_from_civil(self.year, 1, 1) + yday - 1;
                let d = date_from_days(days)?;
                (i64::from(d.year()) == self.year).then_some(d)?
            }
            None => Date::new(
                i16::try_from(self.year).ok()?,
                i8::try_from(self.month).ok()?,
                i8::try_from(self.day).ok()?,
            )
            .ok()?,
        };
        let time = Time::new(
            i8::try_from(hour).ok()?,
            i8::try_from(self.minute).ok()?,
            i8::try_from(self.second).ok()?,
            (self.micros * 1000) as i32,
        )
        .ok()?;
        let ts = date.to_datetime(time);
        if self.offset_minutes == 0 {
            return Some(ts);
        }
        ts_from_micros(ts_micros(ts) - self.offset_minutes * 60_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> DateTime {
        super::super::convert::parse_timestamp(s.as_bytes()).unwrap()
    }

    fn strftime(t: &str, f: &str) -> String {
        let mut out = Vec::new();
        Format::new(f)
            .unwrap()
            .format(Temporal::Timestamp(ts(t)), &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strftime_specifiers_match_duckdb() {
        // DuckDB 2.0.1: strftime(TIMESTAMP '2024-01-07 08:04:05.123456', '%x') and
        // strftime(TIMESTAMP '2024-12-30 20:04:05', '%x') for each specifier.
        let a = "2024-01-07 08:04:05.123456";
        let b = "2024-12-30 20:04:05";
        let cases: &[(&str, &str, &str)] = &[
            ("%a", "Sun", "Mon"),
            ("%A", "Sunday", "Monday"),
            ("%w", "0", "1"),
            ("%u", "7", "1"),
            ("%d", "07", "30"),
            ("%-d", "7", "30"),
            ("%b", "Jan", "Dec"),
            ("%h", "Jan", "Dec"),
            ("%B", "January", "December"),
            ("%m", "01", "12"),
            ("%-m", "1", "12"),
            ("%y", "24", "24"),
            ("%-y", "24", "24"),
            ("%Y", "2024", "2024"),
            ("%H", "08", "20"),
            ("%-H", "8", "20"),
            ("%I", "08", "08"),
            ("%-I", "8", "8"),
            ("%p", "AM", "PM"),
            ("%M", "04", "04"),
            ("%-M", "4", "4"),
            ("%S", "05", "05"),
            ("%-S", "5", "5"),
            ("%f", "123456", "000000"),
            ("%g", "123", "000"),
            ("%n", "123456000", "000000000"),
            ("%z", "+00", "+00"),
            ("%Z", "", ""),
            ("%j", "007", "365"),
            ("%-j", "7", "365"),
            ("%U", "01", "52"),
            ("%W", "01", "53"),
            ("%c", "2024-01-07 08:04:05", "2024-12-30 20:04:05"),
            ("%x", "2024-01-07", "2024-12-30"),
            ("%X", "08:04:05", "20:04:05"),
            ("%T", "08:04:05", "20:04:05"),
            ("%%", "%", "%"),
            ("%G", "2024", "2025"),
            ("%V", "01", "01"),
        ];
        for &(f, want_a, want_b) in cases {
            assert_eq!(strftime(a, f), want_a, "{f} of {a}");
            assert_eq!(strftime(b, f), want_b, "{f} of {b}");
        }
        // DuckDB: strftime(TIMESTAMP '1992-03-02 20:32:45', '%A, %-d %B %Y - %I:%M:%S %p')
        assert_eq!(
            strftime("1992-03-02 20:32:45", "%A, %-d %B %Y - %I:%M:%S %p"),
            "Monday, 2 March 1992 - 08:32:45 PM"
        );
        // DuckDB: '%e', '%s', '%C', '%D', '%F' -> "Unrecognized format for strftime/strptime".
        for bad in ["%e", "%s", "%C", "%D", "%F", "%Q", "abc%"] {
            assert!(Format::new(bad).is_err(), "{bad}");
        }
    }

    fn strptime(s: &str, f: &str) -> Option<String> {
        let f = Format::new(f).unwrap();
        f.check_parse().unwrap();
        f.parse(s).map(|t| t.to_string())
    }

    #[test]
    fn strptime_matches_duckdb() {
        // DuckDB 2.0.1: try_strptime(s, f) for each case.
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "2024-01-31 12:34:56",
                "%Y-%m-%d %H:%M:%S",
                Some("2024-01-31T12:34:56"),
            ),
            ("31/01/2024", "%d/%m/%Y", Some("2024-01-31T00:00:00")),
            (" 2024-01-31", "%Y-%m-%d", Some("2024-01-31T00:00:00")),
            ("2024-01-31 ", "%Y-%m-%d", Some("2024-01-31T00:00:00")),
            ("2024-1-5", "%Y-%m-%d", Some("2024-01-05T00:00:00")),
            ("24-1-5", "%y-%m-%d", Some("2024-01-05T00:00:00")),
            ("68-01-01", "%y-%m-%d", Some("2068-01-01T00:00:00")),
            ("69-01-01", "%y-%m-%d", Some("1969-01-01T00:00:00")),
            ("70-01-01", "%y-%m-%d", Some("1970-01-01T00:00:00")),
            ("2024-01-01", "%y-%m-%d", None),
            ("2024-01-31x", "%Y-%m-%d", None),
            ("20240131", "%Y%m%d", Some("2024-01-31T00:00:00")),
            ("2024-001", "%Y-%j", Some("2024-01-01T00:00:00")),
            (
                "jan 5 2024 3pm",
                "%b %d %Y %I%p",
                Some("2024-01-05T15:00:00"),
            ),
            (
                "January 5 2024 12AM",
                "%B %d %Y %I%p",
                Some("2024-01-05T00:00:00"),
            ),
            ("2024-01-31  12", "%Y-%m-%d %H", Some("2024-01-31T12:00:00")),
            (
                "2024-01-31 12:34:56.123",
                "%Y-%m-%d %H:%M:%S.%f",
                Some("2024-01-31T12:34:56.123"),
            ),
            ("2024-01-31 12:34:56.1234567", "%Y-%m-%d %H:%M:%S.%f", None),
            ("12:34:56.5", "%H:%M:%S.%g", Some("1900-01-01T12:34:56.5")),
            ("2024-02-30", "%Y-%m-%d", None),
            ("2024-01-31 25", "%Y-%m-%d %H", None),
            ("Mon 2024-01-31", "%a %Y-%m-%d", Some("2024-01-31T00:00:00")),
            ("2024-01-31", "%Y-%m-%d %H", None),
            ("12345-01-01", "%Y-%m-%d", None),
            ("002024-01-01", "%Y-%m-%d", None),
            ("2024-01-31", "%Y-%m-%-d", Some("2024-01-31T00:00:00")),
            (
                "2024-01-31T00:00:00Z",
                "%Y-%m-%dT%H:%M:%SZ",
                Some("2024-01-31T00:00:00"),
            ),
            ("1-1-1", "%Y-%m-%d", Some("0001-01-01T00:00:00")),
            ("05", "%M", Some("1900-01-01T00:05:00")),
            // %z: DuckDB gives a TIMESTAMP WITH TIME ZONE; here the same instant in UTC.
            (
                "2024-01-31 12:34:56 +0200",
                "%Y-%m-%d %H:%M:%S %z",
                Some("2024-01-31T10:34:56"),
            ),
            (
                "2024-01-31 12:34:56 -05",
                "%Y-%m-%d %H:%M:%S %z",
                Some("2024-01-31T17:34:56"),
            ),
            ("2024-01-31 12:34:56 Z", "%Y-%m-%d %H:%M:%S %z", None),
            (
                "Monday, 2 March 1992 - 08:32:45 PM",
                "%A, %-d %B %Y - %I:%M:%S %p",
                Some("1992-03-02T20:32:45"),
            ),
            ("02/50/1992", "%d/%m/%Y", None),
        ];
        for &(s, f, want) in cases {
            assert_eq!(strptime(s, f).as_deref(), want, "strptime({s:?}, {f:?})");
        }
        assert!(Format::new("%U").unwrap().check_parse().is_err());
    }

    fn d(s: &str) -> Temporal {
        Temporal::Date(super::super::convert::parse_date(s.as_bytes()).unwrap())
    }

    fn t(s: &str) -> Temporal {
        Temporal::Timestamp(ts(s))
    }

    #[test]
    fn extract_matches_duckdb() {
        // DuckDB 2.0.1: extract(year|month|day|dow|doy|week|quarter|epoch|hour|isodow|
        // yearweek FROM DATE '2024-03-15'/'2024-03-17'/'2024-01-01'), isoyear of 2024-12-30.
        let e = |p: &str, v: Temporal| extract(Part::parse(p).unwrap(), v).unwrap();
        assert_eq!(e("year", d("2024-03-15")), Value::Int(2024));
        assert_eq!(e("month", d("2024-03-15")), Value::Int(3));
        assert_eq!(e("day", d("2024-03-15")), Value::Int(15));
        assert_eq!(e("dow", d("2024-03-17")), Value::Int(0));
        assert_eq!(e("doy", d("2024-03-15")), Value::Int(75));
        assert_eq!(e("week", d("2024-01-01")), Value::Int(1));
        assert_eq!(e("quarter", d("2024-03-15")), Value::Int(1));
        assert_eq!(e("epoch", d("2024-03-15")), Value::Float(1710460800.0));
        assert_eq!(e("hour", d("2024-03-15")), Value::Int(0));
        assert_eq!(e("isodow", d("2024-03-17")), Value::Int(7));
        assert_eq!(e("yearweek", d("2024-03-17")), Value::Int(202411));
        assert_eq!(e("isoyear", d("2024-12-30")), Value::Int(2025));
        // extract(epoch|second|millisecond|microsecond FROM TIMESTAMP '2024-03-15 12:34:56.5')
        // -> 1710506096.5, 56, 56500, 56500000; minute/epoch of TIME '12:34:56' -> 34, 45296.0;
        // decade/century/millennium of 2024-01-01 -> 202, 21, 3.
        let x = t("2024-03-15 12:34:56.5");
        assert_eq!(e("epoch", x), Value::Float(1710506096.5));
        assert_eq!(e("second", x), Value::Int(56));
        assert_eq!(e("ms", x), Value::Int(56500));
        assert_eq!(e("us", x), Value::Int(56500000));
        let time = Temporal::Time(Time::new(12, 34, 56, 0).unwrap());
        assert_eq!(e("minute", time), Value::Int(34));
        assert_eq!(e("epoch", time), Value::Float(45296.0));
        assert!(extract(Part::Year, time).is_err());
        assert_eq!(e("decade", d("2024-01-01")), Value::Int(202));
        assert_eq!(e("century", d("2024-01-01")), Value::Int(21));
        assert_eq!(e("millennium", d("2024-01-01")), Value::Int(3));
        // date_part('dayofweek'|'weekday'|'dayofyear'|'y'|'d', DATE '2024-03-17') -> 0,0,77,2024,17
        assert_eq!(e("weekday", d("2024-03-17")), Value::Int(0));
        assert_eq!(e("dayofyear", d("2024-03-17")), Value::Int(77));
        assert_eq!(e("Y", d("2024-03-17")), Value::Int(2024));
        assert_eq!(Part::parse("bogus"), None);
    }

    #[test]
    fn date_diff_counts_boundaries_like_duckdb() {
        // DuckDB 2.0.1: date_diff(part, a, b) for each row.
        let dd =
            |p: &str, a: Temporal, b: Temporal| date_diff(Part::parse(p).unwrap(), a, b).unwrap();
        assert_eq!(dd("day", d("2024-01-31"), d("2024-02-01")), 1);
        assert_eq!(dd("month", d("2024-01-31"), d("2024-02-01")), 1);
        assert_eq!(dd("year", d("2024-12-31"), d("2025-01-01")), 1);
        assert_eq!(
            dd("hour", t("2024-01-01 10:59:59"), t("2024-01-01 11:00:00")),
            1
        );
        assert_eq!(
            dd("minute", t("2024-01-01 10:59:59"), t("2024-01-01 11:00:00")),
            1
        );
        assert_eq!(
            dd(
                "second",
                t("2024-01-01 10:59:59.9"),
                t("2024-01-01 11:00:00.1")
            ),
            1
        );
        assert_eq!(dd("week", d("2024-01-06"), d("2024-01-08")), 0);
        assert_eq!(dd("quarter", d("2024-03-31"), d("2024-04-01")), 1);
        assert_eq!(dd("day", d("2024-02-01"), d("2024-01-31")), -1);
        assert_eq!(dd("day", d("2024-01-01"), t("2024-01-02 23:00:00")), 1);
        assert_eq!(dd("month", d("2024-03-01"), d("2024-01-31")), -2);
        assert_eq!(dd("week", d("2024-01-01"), d("2024-01-07")), 0);
        assert_eq!(dd("week", d("2024-01-01"), d("2024-01-08")), 1);
        assert_eq!(dd("week", d("2024-01-07"), d("2024-01-08")), 0);
        assert_eq!(dd("week", d("2024-01-10"), d("2024-01-01")), -1);
        assert_eq!(dd("decade", d("2019-12-31"), d("2020-01-01")), 1);
        assert_eq!(dd("century", d("1999-12-31"), d("2000-01-01")), 1);
        assert_eq!(dd("century", d("2000-12-31"), d("2001-01-01")), 0);
        assert_eq!(dd("millennium", d("1999-01-01"), d("2000-01-01")), 1);
        assert_eq!(
            dd(
                "epoch",
                t("2024-01-01 00:00:00"),
                t("2024-01-01 00:01:00.5")
            ),
            60
        );
        assert_eq!(
            dd("year", t("2024-12-31 23:59:59"), t("2025-01-01 00:00:00")),
            1
        );
        assert_eq!(dd("hour", d("2024-01-01"), d("2024-01-02")), 24);
        assert_eq!(
            dd(
                "millisecond",
                t("2024-01-01 00:00:00"),
                t("2024-01-01 00:00:01.5")
            ),
            1500
        );
        assert_eq!(
            dd(
                "microseconds",
                t("2024-01-01 00:00:00"),
                t("2024-01-01 00:00:01.5")
            ),
            1500000
        );
        assert_eq!(dd("dow", d("2024-01-01"), d("2024-01-03")), 2);
        assert_eq!(dd("isoyear", d("2024-12-29"), d("2024-12-30")), 1);
        assert_eq!(
            dd("day", t("2024-01-01 23:59:59"), t("2024-01-02 00:00:00")),
            1
        );
        assert_eq!(dd("second", d("2024-01-01"), d("2024-01-02")), 86400);
        assert_eq!(
            dd("hour", t("1969-12-31 23:30:00"), t("1970-01-01 00:30:00")),
            1
        );
        assert_eq!(
            dd(
                "second",
                t("1969-12-31 23:59:59.5"),
                t("1970-01-01 00:00:00.2")
            ),
            1
        );
        assert_eq!(
            dd("minute", t("1969-12-31 23:59:30"), t("1970-01-01 00:00:10")),
            1
        );
        assert_eq!(dd("mon", d("2024-01-01"), d("2024-03-08")), 2);
        assert_eq!(dd("yr", d("2024-01-01"), d("2026-03-08")), 2);
        assert_eq!(dd("min", d("2024-01-01"), d("2024-01-02")), 1440);
        assert_eq!(dd("w", d("2024-01-01"), d("2024-02-02")), 4);
        let tm = |s: &str| Temporal::Time(super::super::convert::parse_time(s.as_bytes()).unwrap());
        assert_eq!(dd("hour", tm("10:30:00"), tm("11:00:00")), 1);
        assert_eq!(dd("hour", tm("10:30:00"), tm("11:10:00")), 1);
        // date_diff('day', TIME, TIME) -> Not implemented Error in DuckDB.
        assert!(date_diff(Part::Day, tm("10:00:00"), tm("11:00:00")).is_err());
    }

    #[test]
    fn date_trunc_matches_duckdb() {
        // DuckDB 2.0.1: date_trunc('month', DATE '2024-03-15') -> 2024-03-01 00:00:00 (a
        // TIMESTAMP); 'hour' of '2024-03-15 12:34:56' -> 12:00; 'week' of 2024-03-15 -> 03-11;
        // 'quarter' of 2024-05-15 12:00 -> 2024-04-01; 'year' of 2024-03-15 -> 2024-01-01.
        let tr = |p: &str, v: Temporal| date_trunc(Part::parse(p).unwrap(), v).unwrap().to_string();
        assert_eq!(tr("month", d("2024-03-15")), "2024-03-01T00:00:00");
        assert_eq!(tr("hour", t("2024-03-15 12:34:56")), "2024-03-15T12:00:00");
        assert_eq!(tr("week", d("2024-03-15")), "2024-03-11T00:00:00");
        assert_eq!(
            tr("quarter", t("2024-05-15 12:00:00")),
            "2024-04-01T00:00:00"
        );
        assert_eq!(tr("day", t("2024-03-15 12:34:56")), "2024-03-15T00:00:00");
        assert_eq!(tr("year", d("2024-03-15")), "2024-01-01T00:00:00");
        assert_eq!(
            tr("minute", t("2024-03-15 12:34:56.7")),
            "2024-03-15T12:34:00"
        );
        assert_eq!(
            tr("second", t("2024-03-15 12:34:56.7")),
            "2024-03-15T12:34:56"
        );
        assert_eq!(tr("decade", d("2024-03-15")), "2020-01-01T00:00:00");
        // DuckDB: date_trunc('century'|'millennium', DATE '2024-03-01') -> 2000-01-01 00:00:00
        assert_eq!(tr("century", d("2024-03-01")), "2000-01-01T00:00:00");
        assert_eq!(tr("millennium", d("2024-03-01")), "2000-01-01T00:00:00");
    }
}

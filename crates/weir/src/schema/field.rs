//! A schema field: its type and options, its constraints, and how a cell is read and checked.
//!
//! Reading follows frictionless-py's `value_reader` of each field type; the checks follow its
//! `cell_reader`: a cell in the missing values is null; `required` fails on null and every other
//! check skips it; a cell the type cannot read is a type error and no constraint is checked;
//! otherwise the constraints run in frictionless' order for the type and the first one that
//! fails is reported.

use std::cmp::Ordering;
use std::sync::OnceLock;

use regex::{CaptureLocations, Regex};

use super::number::{parse_decimal, parse_decimal_stripped, parse_int, py_strip, Num, OwnedNum};
use super::temporal::{self, DateTime, Strptime, Time};
use super::text;

/// A cell as the validator sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    /// Text: a CSV field, a JSON string.
    Text(&'a str),
    /// A JSON value other than a string or null, as its raw text: a number, `true`/`false`,
    /// an array or an object. Frictionless reads JSON into Python values, so each type takes
    /// the ones Python would (an integer field takes `1` and `1.0`, a string field none).
    Json(&'a str),
}

/// The `format` of a date, time or datetime field.
#[derive(Debug, Clone)]
pub(crate) enum Temporal {
    Default,
    Any,
    Pattern(Box<Strptime>),
}

/// The `format` of a string field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StringFormat {
    Default,
    Email,
    Uri,
    Uuid,
    Binary,
}

/// The `format` of a geopoint field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GeoFormat {
    Default,
    Array,
    Object,
}

/// A field type with its options.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    String(StringFormat),
    Integer {
        bare: bool,
        /// Table Schema v2 gives integers a `groupChar`; frictionless-py 5 ignores it.
        group: String,
    },
    Number {
        bare: bool,
        group: String,
        decimal: String,
        /// Whether any of the three options is set (frictionless only then rewrites the text).
        processed: bool,
    },
    Boolean {
        trues: Vec<String>,
        falses: Vec<String>,
    },
    Date(Temporal),
    DateTime(Temporal),
    Time(Temporal),
    Year,
    YearMonth,
    Duration,
    GeoPoint(GeoFormat),
    Object,
    Array,
    Any,
}

impl Kind {
    /// The type's name in a descriptor.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Kind::String(_) => "string",
            Kind::Integer { .. } => "integer",
            Kind::Number { .. } => "number",
            Kind::Boolean { .. } => "boolean",
            Kind::Date(_) => "date",
            Kind::DateTime(_) => "datetime",
            Kind::Time(_) => "time",
            Kind::Year => "year",
            Kind::YearMonth => "yearmonth",
            Kind::Duration => "duration",
            Kind::GeoPoint(_) => "geopoint",
            Kind::Object => "object",
            Kind::Array => "array",
            Kind::Any => "any",
        }
    }

    /// The constraints frictionless supports for the type, in the order it checks them
    /// (`unique` is checked across records, apart).
    pub(crate) fn constraints(&self) -> &'static [&'static str] {
        const ORDERED: &[&str] = &[
            "required",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "enum",
        ];
        const SIZED: &[&str] = &["required", "minLength", "maxLength", "enum"];
        match self {
            Kind::String(_) => &["required", "minLength", "maxLength", "pattern", "enum"],
            Kind::Integer { .. }
            | Kind::Number { .. }
            | Kind::Date(_)
            | Kind::DateTime(_)
            | Kind::Time(_)
            | Kind::Year
            | Kind::YearMonth => ORDERED,
            Kind::Object | Kind::Array => SIZED,
            Kind::Boolean { .. } | Kind::Duration | Kind::GeoPoint(_) | Kind::Any => {
                &["required", "enum"]
            }
        }
    }
}

/// A typed value read from a cell; it borrows the cell (or the worker's scratch text).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Str(&'a str),
    Num(Num<'a>),
    Bool(bool),
    Date(i32),
    DateTime(DateTime),
    Time(Time),
    Year(i64),
    YearMonth(i64, u32),
    /// Object or array: the number of members (for `minLength`/`maxLength`).
    Sized(usize),
    /// A value with no order or size (duration, geopoint).
    Opaque,
}

/// A value owned by the schema: a bound or an enum member.
#[derive(Debug, Clone)]
pub(crate) enum Owned {
    Str(String),
    Num(OwnedNum),
    Bool(bool),
    Date(i32),
    DateTime(DateTime),
    Time(Time),
    Year(i64),
    YearMonth(i64, u32),
}

impl Value<'_> {
    fn to_owned(self) -> Option<Owned> {
        Some(match self {
            Value::Str(s) => Owned::Str(s.to_string()),
            Value::Num(n) => Owned::Num(n.to_owned()),
            Value::Bool(b) => Owned::Bool(b),
            Value::Date(d) => Owned::Date(d),
            Value::DateTime(d) => Owned::DateTime(d),
            Value::Time(t) => Owned::Time(t),
            Value::Year(y) => Owned::Year(y),
            Value::YearMonth(y, m) => Owned::YearMonth(y, m),
            Value::Sized(_) | Value::Opaque => return None,
        })
    }

    /// Orders a value against a bound of the same field; `None` when Python could not (NaN).
    fn compare(&self, bound: &Owned) -> Option<Ordering> {
        match (self, bound) {
            (Value::Num(a), Owned::Num(b)) => a.compare(&b.as_num()),
            (Value::Date(a), Owned::Date(b)) => Some(a.cmp(b)),
            (Value::DateTime(a), Owned::DateTime(b)) => Some(a.instant().cmp(&b.instant())),
            (Value::Time(a), Owned::Time(b)) => Some(a.instant().cmp(&b.instant())),
            (Value::Year(a), Owned::Year(b)) => Some(a.cmp(b)),
            (Value::YearMonth(ay, am), Owned::YearMonth(by, bm)) => Some((ay, am).cmp(&(by, bm))),
            _ => None,
        }
    }

    /// Python's `==` against an enum member.
    fn equals(&self, member: &Owned) -> bool {
        match (self, member) {
            (Value::Str(a), Owned::Str(b)) => a == b,
            (Value::Bool(a), Owned::Bool(b)) => a == b,
            (Value::DateTime(a), Owned::DateTime(b)) => a.same(b),
            (Value::Time(a), Owned::Time(b)) => a.same(b),
            _ => self.compare(member) == Some(Ordering::Equal),
        }
    }
}

/// A constraint other than `required`, compiled.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    MinLength(usize),
    MaxLength(usize),
    Pattern(Regex),
    Minimum(Owned),
    Maximum(Owned),
    ExclusiveMinimum(Owned),
    ExclusiveMaximum(Owned),
    Enum(Vec<Owned>),
}

impl Check {
    /// The constraint's name in a descriptor.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Check::MinLength(_) => "minLength",
            Check::MaxLength(_) => "maxLength",
            Check::Pattern(_) => "pattern",
            Check::Minimum(_) => "minimum",
            Check::Maximum(_) => "maximum",
            Check::ExclusiveMinimum(_) => "exclusiveMinimum",
            Check::ExclusiveMaximum(_) => "exclusiveMaximum",
            Check::Enum(_) => "enum",
        }
    }

    fn passes(&self, value: &Value<'_>) -> bool {
        let length = || match value {
            Value::Str(s) => Some(s.chars().count()),
            Value::Sized(n) => Some(*n),
            _ => None,
        };
        match self {
            Check::MinLength(n) => length().is_none_or(|len| len >= *n),
            Check::MaxLength(n) => length().is_none_or(|len| len <= *n),
            Check::Pattern(re) => match value {
                Value::Str(s) => re.is_match(s),
                _ => true,
            },
            // NaN is outside every bound (frictionless checks `cell != cell` first).
            Check::Minimum(b) => value.compare(b).is_some_and(|o| o != Ordering::Less),
            Check::Maximum(b) => value.compare(b).is_some_and(|o| o != Ordering::Greater),
            Check::ExclusiveMinimum(b) => value.compare(b) == Some(Ordering::Greater),
            Check::ExclusiveMaximum(b) => value.compare(b) == Some(Ordering::Less),
            Check::Enum(members) => members.iter().any(|m| value.equals(m)),
        }
    }
}

/// A field's compiled constraints; `notes` keeps each one's descriptor value for messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct Constraints {
    pub required: bool,
    /// `unique: true`: checked across records, in input order, by the committer.
    pub unique: bool,
    /// The other constraints given, in the order frictionless checks them for the type.
    pub checks: Vec<Check>,
    /// `(name, value as Python prints it)` for each constraint given.
    pub notes: Vec<(&'static str, String)>,
}

/// A field of the schema, ready to check cells.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    pub kind: Kind,
    /// The format as given (`default` when absent), for the type note.
    pub format: String,
    /// The field's own `missingValues` (Table Schema v2), overriding the schema's.
    pub missing_values: Option<Vec<String>>,
    pub constraints: Constraints,
}

/// Why a cell failed, as frictionless names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// `type-error`: the type cannot read the cell.
    Type,
    /// `type-error` too, of a cell whose bytes are not UTF-8 (no type but `any` reads them).
    NotText,
    /// `constraint-error`: the named constraint fails.
    Constraint(&'static str),
}

/// Per-worker reusable memory for reading cells of one field.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    text: String,
    locations: Option<CaptureLocations>,
}

impl Field {
    /// Scratch memory for this field's cells.
    pub(crate) fn scratch(&self) -> Scratch {
        let locations = match &self.kind {
            Kind::Date(Temporal::Pattern(p))
            | Kind::DateTime(Temporal::Pattern(p))
            | Kind::Time(Temporal::Pattern(p)) => Some(p.locations()),
            _ => None,
        };
        Scratch {
            text: String::new(),
            locations,
        }
    }

    /// frictionless' note for a type error: `type is "integer/default"`.
    pub(crate) fn type_note(&self) -> String {
        format!("type is \"{}/{}\"", self.kind.name(), self.format)
    }

    /// frictionless' note for a failed constraint: `constraint "minimum" is "0"`.
    pub(crate) fn constraint_note(&self, name: &str) -> String {
        let value = self
            .constraints
            .notes
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str());
        format!("constraint \"{name}\" is \"{value}\"")
    }

    /// Reads a non-missing cell as the field's type (frictionless' `value_reader`).
    pub(crate) fn read<'a>(&self, cell: Cell<'a>, scratch: &'a mut Scratch) -> Option<Value<'a>> {
        match cell {
            Cell::Text(s) => self.read_text(s, scratch),
            Cell::Json(raw) => self.read_json(raw),
        }
    }

    fn read_text<'a>(&self, s: &'a str, scratch: &'a mut Scratch) -> Option<Value<'a>> {
        let Scratch { text, locations } = scratch;
        match &self.kind {
            Kind::String(format) => {
                let ok = match format {
                    StringFormat::Default => true,
                    StringFormat::Email => text::is_email(s),
                    StringFormat::Uri => text::is_uri(s),
                    StringFormat::Uuid => text::is_uuid(s),
                    StringFormat::Binary => text::is_base64(s),
                };
                ok.then_some(Value::Str(s))
            }
            Kind::Any => Some(Value::Str(s)),
            Kind::Integer { bare, group } => {
                let mut t = py_strip(s);
                if !bare {
                    t = strip_non_bare(t);
                }
                if !group.is_empty() && t.contains(group.as_str()) {
                    text.clear();
                    text.push_str(t);
                    replace_in_place(text, group, "");
                    return parse_int(text).map(Value::Num);
                }
                parse_int(t).map(Value::Num)
            }
            Kind::Number {
                bare,
                group,
                decimal,
                processed,
            } => {
                // frictionless strips, then (when any option is set) drops the non-bare
                // prefix and suffix, removes group chars, refuses a `.` when another decimal
                // char is set and turns the decimal char into `.`; then Decimal() drops `_`.
                let mut t = py_strip(s);
                if *processed && !bare {
                    t = strip_non_bare(t);
                }
                let grouped = *processed && !group.is_empty() && t.contains(group.as_str());
                let other_decimal = *processed && decimal != ".";
                if !(grouped || other_decimal || t.contains('_')) {
                    return parse_decimal(t).map(|d| Value::Num(Num::Dec(d)));
                }
                text.clear();
                text.push_str(t);
                if grouped {
                    replace_in_place(text, group, "");
                }
                if other_decimal {
                    if text.contains('.') {
                        return None;
                    }
                    replace_in_place(text, decimal, ".");
                }
                decimal_in_place(text).map(|d| Value::Num(Num::Dec(d)))
            }
            Kind::Boolean { trues, falses } => {
                if trues.iter().any(|v| v == s) {
                    Some(Value::Bool(true))
                } else if falses.iter().any(|v| v == s) {
                    Some(Value::Bool(false))
                } else {
                    None
                }
            }
            Kind::Date(format) => match format {
                Temporal::Default => temporal::parse_default_date(s).map(Value::Date),
                Temporal::Any => temporal::parse_any(s).map(|d| Value::Date(d.days)),
                Temporal::Pattern(p) => {
                    let locs = locations.as_mut().expect("scratch has pattern locations");
                    p.parse(s, locs).map(|d| Value::Date(d.days))
                }
            },
            Kind::DateTime(format) => match format {
                Temporal::Default => temporal::parse_default_datetime(s),
                Temporal::Any => temporal::parse_any(s),
                Temporal::Pattern(p) => p.parse(
                    s,
                    locations.as_mut().expect("scratch has pattern locations"),
                ),
            }
            .map(Value::DateTime),
            Kind::Time(format) => match format {
                Temporal::Default => temporal::parse_default_time(s),
                Temporal::Any => temporal::parse_any(s).map(temporal::time_of),
                Temporal::Pattern(p) => p
                    .parse(
                        s,
                        locations.as_mut().expect("scratch has pattern locations"),
                    )
                    .map(temporal::time_of),
            }
            .map(Value::Time),
            Kind::Year => {
                // Four characters that Python's int() reads, 0 to 9999.
                if s.chars().count() != 4 {
                    return None;
                }
                match parse_int(s)? {
                    Num::Int(y) if (0..=9999).contains(&y) => Some(Value::Year(y)),
                    _ => None,
                }
            }
            Kind::YearMonth => {
                let (y, m) = s.split_once('-')?;
                if m.contains('-') {
                    return None;
                }
                match (parse_int(y)?, parse_int(m)?) {
                    (Num::Int(y), Num::Int(m)) if (1..=12).contains(&m) => {
                        Some(Value::YearMonth(y, m as u32))
                    }
                    _ => None,
                }
            }
            Kind::Duration => is_duration(s).then_some(Value::Opaque),
            Kind::GeoPoint(format) => read_geopoint(*format, s, text).then_some(Value::Opaque),
            Kind::Object => match serde_json::from_str::<serde_json::Value>(s).ok()? {
                serde_json::Value::Object(m) => Some(Value::Sized(m.len())),
                _ => None,
            },
            Kind::Array => match serde_json::from_str::<serde_json::Value>(s).ok()? {
                serde_json::Value::Array(a) => Some(Value::Sized(a.len())),
                _ => None,
            },
        }
    }

    /// A JSON value that is not a string, as Python's value readers take it.
    fn read_json<'a>(&self, raw: &'a str) -> Option<Value<'a>> {
        let boolean = match raw {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        let number = raw.starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
        match &self.kind {
            Kind::Any => Some(Value::Str(raw)),
            Kind::Boolean { .. } => boolean.map(Value::Bool),
            // Python's bool is an int, and the year reader checks only for int.
            Kind::Year => match boolean {
                Some(b) => Some(Value::Year(i64::from(b))),
                None => match parse_int(raw)? {
                    Num::Int(y) if (0..=9999).contains(&y) => Some(Value::Year(y)),
                    _ => None,
                },
            },
            Kind::Integer { .. } if number => {
                // An int, or a float with no fraction (`1.0`, `1e3`).
                let d = parse_decimal(raw)?;
                if let Some(n) = parse_int(raw) {
                    return Some(Value::Num(n));
                }
                (d.is_integral() && d.exp < 308).then_some(Value::Num(Num::Dec(d)))
            }
            Kind::Number { .. } if number => parse_decimal(raw).map(|d| Value::Num(Num::Dec(d))),
            Kind::Object | Kind::Array => match serde_json::from_str(raw).ok()? {
                serde_json::Value::Object(m) if matches!(self.kind, Kind::Object) => {
                    Some(Value::Sized(m.len()))
                }
                serde_json::Value::Array(a) if matches!(self.kind, Kind::Array) => {
                    Some(Value::Sized(a.len()))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Checks the constraints on a read value, in frictionless' order; `Err` names the first
    /// that fails.
    pub(crate) fn check(&self, value: &Value<'_>) -> Result<(), &'static str> {
        match self.constraints.checks.iter().find(|c| !c.passes(value)) {
            None => Ok(()),
            Some(c) => Err(c.name()),
        }
    }

    /// Reads and checks a non-missing cell.
    pub(crate) fn validate(&self, cell: Cell<'_>, scratch: &mut Scratch) -> Result<(), Failure> {
        let value = self.read(cell, scratch).ok_or(Failure::Type)?;
        self.check(&value).map_err(Failure::Constraint)
    }

    /// Reads a constraint value given in the descriptor, as frictionless does (with the
    /// field's own reader); `None` when the type cannot read it or has no order.
    pub(crate) fn read_owned(&self, value: &serde_json::Value) -> Option<Owned> {
        let raw;
        let cell = match value {
            serde_json::Value::String(s) => Cell::Text(s),
            serde_json::Value::Null => return None,
            other => {
                raw = other.to_string();
                Cell::Json(&raw)
            }
        };
        let mut scratch = self.scratch();
        self.read(cell, &mut scratch)?.to_owned()
    }

    /// Appends the typed key of a non-missing cell to `out`: equal values give equal keys
    /// (`1`, `01` and `1.0` in a number field; `2020-01-02T10:00:00Z` and
    /// `2020-01-02T11:00:00+01:00`). This is what `unique` and `primaryKey` compare. Returns
    /// `false` when the cell has no key: it does not read as the type, or is NaN (which Python
    /// never finds equal to anything).
    pub(crate) fn write_key(
        &self,
        cell: Cell<'_>,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) -> bool {
        let Some(value) = self.read(cell, scratch) else {
            return false;
        };
        match value {
            Value::Str(s) => out.extend_from_slice(s.as_bytes()),
            Value::Num(n) => return n.write_key(out),
            Value::Bool(b) => out.push(u8::from(b)),
            Value::Date(d) => out.extend_from_slice(&d.to_be_bytes()),
            Value::DateTime(d) => {
                out.push(u8::from(d.offset.is_some()));
                out.extend_from_slice(&d.instant().to_be_bytes());
            }
            Value::Time(t) => {
                out.push(u8::from(t.offset.is_some()));
                out.extend_from_slice(&t.instant().to_be_bytes());
            }
            Value::Year(y) => out.extend_from_slice(&y.to_be_bytes()),
            Value::YearMonth(y, m) => {
                out.extend_from_slice(&y.to_be_bytes());
                out.push(m as u8);
            }
            // No canonical form yet: the text itself.
            Value::Sized(_) | Value::Opaque => match cell {
                Cell::Text(s) | Cell::Json(s) => out.extend_from_slice(s.as_bytes()),
            },
        }
        true
    }
}

/// `Decimal(text)`: Python strips whitespace, then drops every underscore; that needs a copy.
fn read_decimal<'a>(t: &'a str, scratch: &'a mut String) -> Option<Num<'a>> {
    if t.contains('_') {
        scratch.clear();
        scratch.push_str(t);
        return decimal_in_place(scratch).map(Num::Dec);
    }
    parse_decimal(t).map(Num::Dec)
}

/// `Decimal(text)` on text the caller owns: strip, drop underscores, parse.
fn decimal_in_place(text: &mut String) -> Option<super::number::Dec<'_>> {
    let kept = py_strip(text);
    let start = kept.as_ptr() as usize - text.as_ptr() as usize;
    let end = start + kept.len();
    text.truncate(end);
    text.drain(..start);
    text.retain(|c| c != '_');
    parse_decimal_stripped(text)
}

/// Python's `text.replace(from, to)`: one left-to-right pass, in place.
fn replace_in_place(text: &mut String, from: &str, to: &str) {
    let mut at = 0;
    while let Some(i) = text[at..].find(from) {
        let start = at + i;
        text.replace_range(start..start + from.len(), to);
        at = start + to.len();
    }
}

/// frictionless' `bareNumber: false`: `re.sub(r"((^[^-\d]*)|(\D*$))", "", text)`, that is
/// drop what precedes the first `-` or digit and what follows the last digit.
fn strip_non_bare(t: &str) -> &str {
    let start = t
        .find(|c: char| c == '-' || c.is_ascii_digit())
        .unwrap_or(t.len());
    let t = &t[start..];
    let end = t.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1);
    &t[..end]
}

/// isodate's `parse_duration` (its regular form): `[+-]P[nY][nM][nW][nD][T[nH][nM][nS]]`,
/// each n with an optional `.`/`,` fraction, within `timedelta`'s range.
fn is_duration(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        let n = r"([0-9]+(?:[,.][0-9]+)?)";
        Regex::new(&format!(
            r"\A[+-]?P(?:{n}Y)?(?:{n}M)?(?:{n}W)?(?:{n}D)?(?:T(?:{n}H)?(?:{n}M)?(?:{n}S)?)?\n?\z"
        ))
        .expect("duration pattern")
    });
    // `P(?!\b)`: something must follow the P.
    let after_p = s.trim_start_matches(['+', '-']).get(1..).unwrap_or("");
    if after_p.is_empty() || after_p == "\n" {
        return false;
    }
    let Some(c) = re.captures(s) else {
        return false;
    };
    let num = |i: usize| {
        c.get(i).map_or(0.0, |m| {
            m.as_str()
                .replace(',', ".")
                .parse::<f64>()
                .unwrap_or(f64::INFINITY)
        })
    };
    // timedelta holds less than a billion days.
    let days = num(3) * 7.0 + num(4) + (num(5) * 3600.0 + num(6) * 60.0 + num(7)) / 86_400.0;
    days < 999_999_999.0 && num(1) < 1e9 && num(2) < 1e9
}

/// frictionless' geopoint reader: `lon, lat` (default), `[lon, lat]` or `{"lon":…, "lat":…}`,
/// longitude within ±180 and latitude within ±90.
fn read_geopoint(format: GeoFormat, s: &str, scratch: &mut String) -> bool {
    let in_range = |lon: &str, lat: &str, scratch: &mut String| {
        let ok = |t: &str, limit: i64, scratch: &mut String| {
            read_decimal(t, scratch).is_some_and(|n| {
                n.compare(&Num::Int(limit))
                    .is_some_and(|o| o != Ordering::Greater)
                    && n.compare(&Num::Int(-limit))
                        .is_some_and(|o| o != Ordering::Less)
            })
        };
        ok(lon, 180, scratch) && ok(lat, 90, scratch)
    };
    match format {
        GeoFormat::Default => {
            let mut parts = s.split(',');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(lon), Some(lat), None) => in_range(lon, lat, scratch),
                _ => false,
            }
        }
        GeoFormat::Array | GeoFormat::Object => {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(s) else {
                return false;
            };
            let (lon, lat) = match (format, &v) {
                (GeoFormat::Array, serde_json::Value::Array(a)) if a.len() == 2 => (&a[0], &a[1]),
                (GeoFormat::Object, serde_json::Value::Object(m)) if m.len() == 2 => {
                    match (m.get("lon"), m.get("lat")) {
                        (Some(lon), Some(lat)) => (lon, lat),
                        _ => return false,
                    }
                }
                _ => return false,
            };
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            match (text(lon), text(lat)) {
                (Some(lon), Some(lat)) => in_range(&lon, &lat, scratch),
                _ => false,
            }
        }
    }
}

//! Frictionless Table Schema: loading, validation of records, inference.
//!
//! A [`Schema`] is loaded from a JSON or YAML descriptor;
//! [`Validate`](crate::transform::Validate) is the transform that checks each record against
//! it, as frictionless-py 5 (the reference implementation) does; and [`infer`] describes a
//! sample as `frictionless describe` would.
//!
//! ## What is checked
//!
//! - **Types and formats**: `string` (`default`, `email`, `uri`, `uuid`, `binary`), `integer`
//!   (`bareNumber`, and Table Schema v2's `groupChar`), `number` (`decimalChar`, `groupChar`,
//!   `bareNumber`), `boolean` (`trueValues`, `falseValues`), `date`, `datetime` and `time`
//!   (`default`, `any`, or a strftime pattern), `year`, `yearmonth`, `duration`, `geopoint`
//!   (`default`, `array`, `object`), `object`, `array`, `any`; a field without a type is a
//!   string. A cell is read exactly as frictionless' value reader of the type reads it,
//!   surprises included: an integer may carry spaces and `_` separators (`" 1_000 "`), a
//!   number may be `NaN` or `inf`, a default date is Python's `strptime("%Y-%m-%d")` (so
//!   `2020-1-5` is a date), a default datetime is dateutil's `isoparse` (any one character
//!   between date and time, `24:00:00`, week dates).
//! - **Constraints**: `required`, `minLength`, `maxLength`, `pattern`, `enum`, `minimum`,
//!   `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, on the types frictionless allows each
//!   on, checked in its order. Bounds and enum members are read with the field's own reader, so
//!   they compare as typed values (`01` is in `enum: [1]` of an integer field; `1.0` equals `1`
//!   in a number field; numbers compare exactly, as `Decimal` does).
//! - **Missing values**: the schema's `missingValues` (default `[""]`), or the field's own
//!   (Table Schema v2). A missing cell is null: `required` fails on it and every other check
//!   skips it. A JSON `null` is always missing; an empty CSV field or an absent JSON key is the
//!   text `""`.
//! - **JSON values** other than strings are read as Python reads them: an integer field takes
//!   `1`, `1.0` and `"1"` but not `true`; a string field takes no number.
//!
//! ## How it is reported
//!
//! frictionless lists every error of a row: each field's type error or failed constraints, in
//! field order, then `extra-cell`, then `missing-cell`; a row whose cells are all missing or
//! absent is one `blank-row` instead. weir rejects a record once, with the first error of
//! that list: `error` is its name (`type-error`, `constraint-error`, `blank-row`,
//! `extra-cell`, `missing-cell`), `field` the field (for `extra-cell`, the column number, as
//! the engine reports it), and the message shows the cell and frictionless' note, e.g.
//! `cell "abc": type is "integer/default"` or `cell "-1": constraint "minimum" is "0"`.
//! A short record (allowed by `--flexible`) so gives `missing-cell`, unless a field before its
//! end failed, or a required field lies past its end (frictionless lists a `constraint-error`
//! for `required` on that field first).
//!
//! The header is checked once, when the transform is bound, per the schema's `fieldsMatch`
//! (`exact` by default: the same names in the same order): a mismatch (`blank-label`,
//! `duplicate-label`, `incorrect-label`, `extra-label`, `missing-label`, `unmatched-header`)
//! is a [`BindError`](crate::error::BindError) naming every mismatching column, a usage
//! error reported before any output is written. frictionless reports these errors and goes on
//! checking rows by position; when the header does not match, every row is suspect, so weir
//! stops instead.
//!
//! ## Where weir differs from frictionless-py, on purpose
//!
//! - `pattern` must match the whole value. frictionless compiles `^pattern$`, so `a|b` accepts
//!   `axx`, and Python's `$` accepts a final newline.
//! - A constraint value the field cannot read (`minimum: "abc"` on an integer, an enum member
//!   that is not a date), an invalid regular expression and an unknown strftime directive are
//!   schema errors. frictionless accepts such a schema, then crashes or fails every value.
//! - An aware and a naive datetime (or time) are ordered with the naive one read as UTC;
//!   Python cannot order them and frictionless crashes. They are never equal, as in Python.
//! - `groupChar` applies to integers, as Table Schema v2 says (frictionless ignores it there).
//! - Digits are ASCII digits (Python also takes other Unicode decimal digits); a cell that is
//!   not UTF-8 is a type error (except for `any`).
//! - `format: any` (dateutil's free-form parser) is approximated: ISO forms, month names,
//!   weekdays, `1st`..`31st`, numeric dates month first, `h:mm[:ss]` with am/pm and a zone.
//!   Email domains with non-ASCII labels are punycoded with lowercasing for nameprep.
//!   Durations in the alternative form `PYYYY-MM-DDThh:mm:ss` are not read.
//! - Not supported (refused when loading): types `geojson` and `list`, format `wkt`, `enum` on
//!   `duration`, `geopoint`, `object` and `array`, and `unique`, `primaryKey`, `uniqueKeys`,
//!   `foreignKeys`. `unique` and `primaryKey` need state shared by all workers in input order
//!   (the later occurrence of a key, in input order, is the duplicate); the typed key of a
//!   cell is computed by `Field::write_key` for when the engine provides it.

pub(crate) mod field;
mod infer;
mod number;
mod temporal;
mod text;
mod typed;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value as Json};

pub use infer::infer;

use field::{Check, Constraints, Field, GeoFormat, Kind, StringFormat, Temporal};
use temporal::Strptime;
pub(crate) use typed::{ColumnType, Typed, TypedField, Unfit};

/// A schema that could not be loaded: what is wrong, naming the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SchemaError {
    /// For example `field 'age': constraint 'minimum' must be an integer (got "abc")`.
    pub message: String,
}

impl SchemaError {
    fn new(message: impl Into<String>) -> SchemaError {
        SchemaError {
            message: message.into(),
        }
    }

    fn field(name: &str, message: impl fmt::Display) -> SchemaError {
        SchemaError::new(format!("field '{name}': {message}"))
    }
}

/// How the schema's fields are matched with the input's columns (Table Schema v2's
/// `fieldsMatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldsMatch {
    /// The same fields in the same order (the default).
    Exact,
    /// The same fields, in any order (matched by name).
    Equal,
    /// Every field, and maybe other columns.
    Subset,
    /// Only fields, maybe not all (the required ones must be there).
    Superset,
    /// At least one field.
    Partial,
}

impl FieldsMatch {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FieldsMatch::Exact => "exact",
            FieldsMatch::Equal => "equal",
            FieldsMatch::Subset => "subset",
            FieldsMatch::Superset => "superset",
            FieldsMatch::Partial => "partial",
        }
    }
}

/// A parsed Frictionless Table Schema.
#[derive(Debug, Clone)]
pub struct Schema {
    pub(crate) fields: Vec<Field>,
    pub(crate) missing_values: Vec<String>,
    pub(crate) fields_match: FieldsMatch,
    /// Field sets whose values must be unique across records: `primaryKey`, each of
    /// `uniqueKeys`, and each field with `unique: true` (field indexes, in key order).
    pub(crate) unique_keys: Vec<Vec<usize>>,
    /// The descriptor as given (for [`Schema::to_json_pretty`]).
    descriptor: Map<String, Json>,
}

impl Schema {
    /// Parses a schema from JSON text.
    pub fn from_json(text: &str) -> Result<Schema, SchemaError> {
        let value: Json = serde_json::from_str(text)
            .map_err(|e| SchemaError::new(format!("the schema is not valid JSON: {e}")))?;
        Schema::from_value(value)
    }

    /// Parses a schema from YAML text.
    pub fn from_yaml(text: &str) -> Result<Schema, SchemaError> {
        let value: Json = serde_norway::from_str(text)
            .map_err(|e| SchemaError::new(format!("the schema is not valid YAML: {e}")))?;
        Schema::from_value(value)
    }

    /// Reads a schema file: YAML for `.yaml`/`.yml`, JSON otherwise.
    pub fn from_path(path: &Path) -> Result<Schema, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SchemaError::new(format!("cannot read the schema {}: {e}", path.display()))
        })?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let parsed = match ext.as_deref() {
            Some("yaml" | "yml") => Schema::from_yaml(&text),
            _ => Schema::from_json(&text),
        };
        parsed.map_err(|e| SchemaError::new(format!("{}: {}", path.display(), e.message)))
    }

    /// The field names, in schema order.
    pub fn field_names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }

    /// The descriptor as pretty-printed JSON, a valid Table Schema (`name`, `type`, `format`
    /// first in each field).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&Ordered {
            map: &self.descriptor,
            first: &["fields", "missingValues", "fieldsMatch"],
        })
        .expect("a JSON value serializes")
    }

    fn from_value(value: Json) -> Result<Schema, SchemaError> {
        let Json::Object(descriptor) = value else {
            return Err(SchemaError::new(
                "a schema must be an object with a 'fields' list",
            ));
        };
        let missing_values = match descriptor.get("missingValues") {
            None => vec![String::new()],
            Some(v) => missing_values(v).ok_or_else(|| {
                SchemaError::new(
                    "'missingValues' must be a list of strings (or of {value, label} objects)",
                )
            })?,
        };
        let fields_match = match descriptor.get("fieldsMatch") {
            None => FieldsMatch::Exact,
            Some(Json::String(s)) => match s.as_str() {
                "exact" => FieldsMatch::Exact,
                "equal" => FieldsMatch::Equal,
                "subset" => FieldsMatch::Subset,
                "superset" => FieldsMatch::Superset,
                "partial" => FieldsMatch::Partial,
                other => return Err(fields_match_error(other)),
            },
            Some(other) => return Err(fields_match_error(&other.to_string())),
        };
        if descriptor.get("foreignKeys").is_some_and(|v| !is_empty(v)) {
            return Err(SchemaError::new(
                "'foreignKeys' is not supported: it needs the referenced resources",
            ));
        }
        let Some(Json::Array(list)) = descriptor.get("fields") else {
            return Err(SchemaError::new(
                "a schema must be an object with a 'fields' list",
            ));
        };
        let mut fields: Vec<Field> = Vec::with_capacity(list.len());
        // Hashed, not searched: a schema may have hundreds of thousands of fields.
        let mut seen = HashSet::with_capacity(list.len());
        for (i, f) in list.iter().enumerate() {
            let field = parse_field(i, f)?;
            if !seen.insert(field.name.clone()) {
                return Err(SchemaError::field(
                    &field.name,
                    "names of the fields are not unique",
                ));
            }
            fields.push(field);
        }
        let unique_keys = unique_keys(&descriptor, &fields)?;
        Ok(Schema {
            fields,
            missing_values,
            fields_match,
            unique_keys,
            descriptor,
        })
    }
}

/// The unique field sets of a schema: `primaryKey` (a name or a list), `uniqueKeys` (a list of
/// lists), and single fields with `unique: true`, without repeats.
fn unique_keys(
    descriptor: &Map<String, Json>,
    fields: &[Field],
) -> Result<Vec<Vec<usize>>, SchemaError> {
    let positions: HashMap<&str, usize> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    let index = |key: &str, name: &Json| -> Result<usize, SchemaError> {
        let Json::String(name) = name else {
            return Err(SchemaError::new(format!(
                "'{key}' must list field names (got {name})"
            )));
        };
        positions.get(name.as_str()).copied().ok_or_else(|| {
            SchemaError::new(format!("'{key}' names '{name}', which is not a field"))
        })
    };
    let list = |key: &str, v: &Json| -> Result<Vec<usize>, SchemaError> {
        match v {
            Json::String(_) => Ok(vec![index(key, v)?]),
            Json::Array(names) if !names.is_empty() => {
                names.iter().map(|n| index(key, n)).collect()
            }
            other => Err(SchemaError::new(format!(
                "'{key}' must be a field name or a list of them (got {other})"
            ))),
        }
    };
    let mut keys: Vec<Vec<usize>> = Vec::new();
    if let Some(pk) = descriptor.get("primaryKey").filter(|v| !is_empty(v)) {
        keys.push(list("primaryKey", pk)?);
    }
    if let Some(uk) = descriptor.get("uniqueKeys").filter(|v| !is_empty(v)) {
        let Json::Array(sets) = uk else {
            return Err(SchemaError::new(format!(
                "'uniqueKeys' must be a list of lists (got {uk})"
            )));
        };
        for set in sets {
            keys.push(list("uniqueKeys", set)?);
        }
    }
    for (i, f) in fields.iter().enumerate() {
        if f.constraints.unique {
            keys.push(vec![i]);
        }
    }
    let mut seen = HashSet::with_capacity(keys.len());
    keys.retain(|k| seen.insert(k.clone()));
    Ok(keys)
}

fn is_empty(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Array(a) => a.is_empty(),
        Json::String(s) => s.is_empty(),
        _ => false,
    }
}

fn fields_match_error(got: &str) -> SchemaError {
    SchemaError::new(format!(
        "'fieldsMatch' must be one of exact, equal, subset, superset, partial (got '{got}')"
    ))
}

/// `missingValues`: strings, or (v2) `{value, label}` objects.
fn missing_values(v: &Json) -> Option<Vec<String>> {
    let Json::Array(items) = v else {
        return None;
    };
    items
        .iter()
        .map(|item| match item {
            Json::String(s) => Some(s.clone()),
            Json::Object(m) => m.get("value")?.as_str().map(str::to_string),
            _ => None,
        })
        .collect()
}

const TYPES: &str = "string, number, integer, boolean, date, datetime, time, year, yearmonth, \
                     duration, geopoint, object, array, any";

fn parse_field(index: usize, value: &Json) -> Result<Field, SchemaError> {
    let Json::Object(d) = value else {
        return Err(SchemaError::new(format!(
            "field {}: must be an object with a 'name'",
            index + 1
        )));
    };
    let name = match d.get("name") {
        Some(Json::String(s)) => s.clone(),
        _ => {
            return Err(SchemaError::new(format!(
                "field {}: 'name' is required and must be a string",
                index + 1
            )))
        }
    };
    let err = |message: String| SchemaError::field(&name, message);
    let string_opt = |key: &str| -> Result<Option<&str>, SchemaError> {
        match d.get(key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(_) => Err(err(format!("'{key}' must be a string"))),
        }
    };
    let bool_opt = |key: &str, default: bool| -> Result<bool, SchemaError> {
        match d.get(key) {
            None => Ok(default),
            Some(Json::Bool(b)) => Ok(*b),
            Some(_) => Err(err(format!("'{key}' must be true or false"))),
        }
    };
    let strings_opt = |key: &str, default: &[&str]| -> Result<Vec<String>, SchemaError> {
        match d.get(key) {
            None => Ok(default.iter().map(|s| s.to_string()).collect()),
            Some(Json::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| err(format!("'{key}' must be a list of strings"))),
            Some(_) => Err(err(format!("'{key}' must be a list of strings"))),
        }
    };
    if d.contains_key("required") {
        return Err(err(
            "\"required\" should be set as \"constraints.required\"".into(),
        ));
    }
    let type_name = string_opt("type")?.unwrap_or("string");
    // Table Schema v1 wrote patterns as `fmt:%Y`.
    let raw_format = string_opt("format")?.unwrap_or("default");
    let format = raw_format.strip_prefix("fmt:").unwrap_or(raw_format);
    let temporal = || -> Result<Temporal, SchemaError> {
        Ok(match format {
            "default" => Temporal::Default,
            "any" => Temporal::Any,
            pattern => Temporal::Pattern(Box::new(Strptime::new(pattern).map_err(err)?)),
        })
    };
    let kind = match type_name {
        "string" => Kind::String(match format {
            "default" => StringFormat::Default,
            "email" => StringFormat::Email,
            "uri" => StringFormat::Uri,
            "uuid" => StringFormat::Uuid,
            "binary" => StringFormat::Binary,
            "wkt" => return Err(err("format 'wkt' is not supported by weir".into())),
            other => {
                return Err(err(format!(
                    "format '{other}' is not a string format (expected default, email, uri, \
                     uuid or binary)"
                )))
            }
        }),
        "integer" => Kind::Integer {
            bare: bool_opt("bareNumber", true)?,
            group: string_opt("groupChar")?.unwrap_or("").to_string(),
        },
        "number" => {
            let decimal = string_opt("decimalChar")?.unwrap_or(".").to_string();
            if decimal.is_empty() {
                return Err(err("'decimalChar' must not be empty".into()));
            }
            Kind::Number {
                bare: bool_opt("bareNumber", true)?,
                group: string_opt("groupChar")?.unwrap_or("").to_string(),
                decimal,
                processed: ["bareNumber", "groupChar", "decimalChar"]
                    .iter()
                    .any(|k| d.contains_key(*k)),
            }
        }
        "boolean" => Kind::Boolean {
            trues: strings_opt("trueValues", &["true", "True", "TRUE", "1"])?,
            falses: strings_opt("falseValues", &["false", "False", "FALSE", "0"])?,
        },
        "date" => Kind::Date(temporal()?),
        "datetime" => Kind::DateTime(temporal()?),
        "time" => Kind::Time(temporal()?),
        "year" => Kind::Year,
        "yearmonth" => Kind::YearMonth,
        "duration" => Kind::Duration,
        "geopoint" => Kind::GeoPoint(match format {
            "default" => GeoFormat::Default,
            "array" => GeoFormat::Array,
            "object" => GeoFormat::Object,
            other => {
                return Err(err(format!(
                    "format '{other}' is not a geopoint format (expected default, array or \
                     object)"
                )))
            }
        }),
        "object" => Kind::Object,
        "array" => Kind::Array,
        "any" => Kind::Any,
        "geojson" | "list" => {
            return Err(err(format!("type '{type_name}' is not supported by weir")))
        }
        other => {
            return Err(err(format!(
                "type '{other}' is not supported (expected one of {TYPES})"
            )))
        }
    };
    let field_missing = match d.get("missingValues") {
        None => None,
        Some(v) => Some(missing_values(v).ok_or_else(|| {
            err("'missingValues' must be a list of strings (or of {value, label} objects)".into())
        })?),
    };
    let mut field = Field {
        name: name.clone(),
        kind,
        format: format.to_string(),
        missing_values: field_missing,
        constraints: Constraints::default(),
    };
    match d.get("constraints") {
        None => {}
        Some(Json::Object(c)) => field.constraints = parse_constraints(&field, c)?,
        Some(_) => return Err(err("'constraints' must be an object".into())),
    }
    Ok(field)
}

/// "an integer", "a date in format '%d/%m/%Y'": what a constraint value must read as.
fn type_phrase(field: &Field) -> String {
    let name = field.kind.name();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    if field.format == "default" {
        format!("{article} {name}")
    } else {
        format!("{article} {name} in format '{}'", field.format)
    }
}

fn parse_constraints(field: &Field, c: &Map<String, Json>) -> Result<Constraints, SchemaError> {
    let err = |rule: &str, message: String| {
        SchemaError::field(&field.name, format!("constraint '{rule}' {message}"))
    };
    let supported = field.kind.constraints();
    let mut out = Constraints::default();
    for (rule, value) in c {
        let Some(&name) = supported
            .iter()
            .chain(["unique"].iter())
            .find(|n| **n == rule)
        else {
            return Err(err(
                rule,
                format!("is not supported by type '{}'", field.kind.name()),
            ));
        };
        let typed = || {
            field.read_owned(value).ok_or_else(|| {
                err(
                    name,
                    format!("must be {} (got {value})", type_phrase(field)),
                )
            })
        };
        let length = || {
            value.as_u64().map(|n| n as usize).ok_or_else(|| {
                err(
                    name,
                    format!("must be a non-negative integer (got {value})"),
                )
            })
        };
        match name {
            "required" | "unique" => {
                let Json::Bool(b) = value else {
                    return Err(err(name, format!("must be true or false (got {value})")));
                };
                if name == "required" {
                    out.required = *b;
                } else {
                    out.unique = *b;
                }
            }
            "minLength" => out.checks.push(Check::MinLength(length()?)),
            "maxLength" => out.checks.push(Check::MaxLength(length()?)),
            "pattern" => {
                let Json::String(p) = value else {
                    return Err(err(name, format!("must be a string (got {value})")));
                };
                // frictionless anchors the pattern (`^…$`, matched from the start); weir
                // makes the whole value match it, alternatives included.
                let re = regex::Regex::new(&format!(r"\A(?:{p})\z"))
                    .map_err(|e| err(name, format!("is not a valid regular expression: {e}")))?;
                out.checks.push(Check::Pattern(re));
            }
            "enum" => {
                let Json::Array(items) = value else {
                    return Err(err(name, format!("must be a list (got {value})")));
                };
                if matches!(
                    field.kind,
                    Kind::Duration | Kind::GeoPoint(_) | Kind::Object | Kind::Array
                ) {
                    return Err(err(
                        name,
                        format!("is not supported by weir for type '{}'", field.kind.name()),
                    ));
                }
                let members = items
                    .iter()
                    .map(|item| {
                        field.read_owned(item).ok_or_else(|| {
                            err(name, format!("member {item} is not {}", type_phrase(field)))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                out.checks.push(Check::Enum(members));
            }
            "minimum" => out.checks.push(Check::Minimum(typed()?)),
            "maximum" => out.checks.push(Check::Maximum(typed()?)),
            "exclusiveMinimum" => out.checks.push(Check::ExclusiveMinimum(typed()?)),
            "exclusiveMaximum" => out.checks.push(Check::ExclusiveMaximum(typed()?)),
            _ => unreachable!("every supported constraint is handled"),
        }
        out.notes.push((name, py_str(value)));
    }
    let length = |name: &str| {
        out.checks.iter().find_map(|c| match c {
            Check::MinLength(n) if name == "minLength" => Some(*n),
            Check::MaxLength(n) if name == "maxLength" => Some(*n),
            _ => None,
        })
    };
    if let (Some(min), Some(max)) = (length("minLength"), length("maxLength")) {
        if min > max {
            return Err(err(
                "minLength",
                format!("({min}) is greater than 'maxLength' ({max})"),
            ));
        }
    }
    // Check in frictionless' order for the type, whatever the descriptor's order.
    out.checks
        .sort_by_key(|c| supported.iter().position(|n| *n == c.name()));
    Ok(out)
}

/// Python's `str()` of a descriptor value, as frictionless prints it in notes.
fn py_str(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Json) -> String {
    match v {
        Json::Null => "None".into(),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::with_capacity(s.len() + 2);
            out.push(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Json::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Json::Object(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Json::String(k.clone())), py_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// A JSON object serialized with some keys first (then the rest in map order), and the
/// `fields` list's objects with `name`, `type`, `format` first.
struct Ordered<'a> {
    map: &'a Map<String, Json>,
    first: &'static [&'static str],
}

struct FieldList<'a>(&'a [Json]);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.map.len()))?;
        let keys = self
            .first
            .iter()
            .copied()
            .filter(|k| self.map.contains_key(*k))
            .chain(
                self.map
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !self.first.contains(k)),
            );
        for key in keys {
            match (key, &self.map[key]) {
                ("fields", Json::Array(list)) => m.serialize_entry(key, &FieldList(list))?,
                (_, value) => m.serialize_entry(key, value)?,
            }
        }
        m.end()
    }
}

impl Serialize for FieldList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            match item {
                Json::Object(map) => seq.serialize_element(&Ordered {
                    map,
                    first: &[
                        "name",
                        "type",
                        "format",
                        "title",
                        "description",
                        "constraints",
                    ],
                })?,
                other => seq.serialize_element(other)?,
            }
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests;

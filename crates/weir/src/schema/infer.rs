//! `infer`: a schema for a sample of rows, as `frictionless describe` infers one.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value as Json};

use super::field::{Cell, Field, Scratch};
use super::{parse_field, Schema};

/// The types frictionless tries, in its order (its `DEFAULT_FIELD_CANDIDATES`, less `geojson`,
/// which weir does not support: a GeoJSON object is inferred as `object`).
const CANDIDATES: [&str; 13] = [
    "yearmonth",
    "geopoint",
    "duration",
    "object",
    "array",
    "datetime",
    "time",
    "date",
    "integer",
    "number",
    "boolean",
    "year",
    "string",
];

/// frictionless' `DEFAULT_FIELD_CONFIDENCE`.
const CONFIDENCE: f64 = 0.9;

/// Infers a schema from a sample of rows (the caller bounds it; frictionless reads 100 rows by
/// default), with `names` as the column names (a blank name becomes `fieldN`, a repeated one
/// `name2`, `name3`, ...).
///
/// The type of each column is frictionless' choice: every candidate type scores +1 for each
/// value it reads and -1 for each it does not, and the first candidate (in the order
/// `yearmonth, geopoint, duration, object, array, datetime, time, date, integer, number,
/// boolean, year, string`) whose score reaches 90% of the column's non-missing values wins, as
/// soon as it does. A column with no value, or an empty sample, is `any`.
///
/// A value is missing when it is `None` (a JSON null, or past the end of a short row) or `""`.
/// frictionless counts a `None` as a value every type reads; weir counts it as missing. And
/// where frictionless infers no constraint, weir marks `constraints.required: true` on a
/// column with no missing value in the sample.
pub fn infer(sample: &mut dyn Iterator<Item = Vec<Option<String>>>, names: &[String]) -> Schema {
    let names = field_names(names);
    let rows: Vec<Vec<Option<String>>> = sample.collect();
    let candidates: Vec<Field> = CANDIDATES
        .iter()
        .map(|t| parse_field(0, &json!({"name": "shared", "type": t})).expect("a candidate type"))
        .collect();
    let mut scratch: Vec<Scratch> = candidates.iter().map(Field::scratch).collect();
    let n = rows.len() as f64;
    let threshold = n * (CONFIDENCE - 1.0);
    let mut fields = Vec::with_capacity(names.len());
    for (col, name) in names.iter().enumerate() {
        let cell = |row: &Vec<Option<String>>| row.get(col).cloned().flatten();
        let missing = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
        let mut max_score = rows.len() as i64;
        let mut scores = vec![0i64; candidates.len()];
        let mut chosen = None;
        'rows: for row in &rows {
            let value = cell(row);
            let is_missing = missing(&value);
            if is_missing {
                max_score -= 1;
            }
            for (i, candidate) in candidates.iter().enumerate() {
                if (scores[i] as f64) < threshold {
                    continue;
                }
                if let (false, Some(v)) = (is_missing, value.as_deref()) {
                    let ok = candidate.read(Cell::Text(v), &mut scratch[i]).is_some();
                    scores[i] += if ok { 1 } else { -1 };
                }
                if max_score > 0 && scores[i] as f64 >= max_score as f64 * CONFIDENCE {
                    chosen = Some(candidate.kind.name());
                    break 'rows;
                }
            }
        }
        let mut field = Map::new();
        field.insert("name".into(), Json::String(name.clone()));
        field.insert("type".into(), Json::String(chosen.unwrap_or("any").into()));
        let required = !rows.is_empty() && rows.iter().all(|r| !missing(&cell(r)));
        if required {
            field.insert("constraints".into(), json!({"required": true}));
        }
        fields.push(Json::Object(field));
    }
    Schema::from_value(json!({ "fields": fields })).expect("an inferred schema is valid")
}

/// frictionless' field names: blank ones numbered, repeated ones suffixed (`a`, `a2`, `a3`:
/// the first suffix from 2 that is free).
fn field_names(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    let mut taken: HashSet<String> = HashSet::with_capacity(names.len());
    // The next suffix to try per base: names are only ever added, so the ones below it stay
    // taken, and a header repeating one name n times costs n tries, not n squared.
    let mut next: HashMap<String, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let base = if name.is_empty() {
            format!("field{}", i + 1)
        } else {
            name.clone()
        };
        let mut unique = base.clone();
        if taken.contains(&unique) {
            let suffix = next.entry(base.clone()).or_insert(2);
            loop {
                unique = format!("{base}{suffix}");
                *suffix += 1;
                if !taken.contains(&unique) {
                    break;
                }
            }
        }
        taken.insert(unique.clone());
        out.push(unique);
    }
    out
}

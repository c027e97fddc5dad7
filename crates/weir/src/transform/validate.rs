//! `validate`: the transform that checks each record against a [`Schema`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use super::{Gate, Outcome, Reject, Transform, DEFAULT_MAX_KEYS};
use crate::error::BindError;
use crate::record::{Columns, Record, ValueKind};
use crate::schema::field::{Cell, Failure, Field, Kind, Scratch};
use crate::schema::{FieldsMatch, Schema};
use crate::units::plural;

/// A transform that validates each record against the schema.
///
/// It rejects a record with the first error frictionless-py would list for its row (see the
/// [module documentation](super)), or all of them ([`Validate::all_errors`]), keeps it
/// unchanged otherwise, and never modifies it.
#[derive(Clone)]
pub struct Validate {
    schema: Arc<Schema>,
    /// For each input column, the schema field it holds (`None`: a column the schema allows
    /// but does not describe, under `fieldsMatch` `subset` or `partial`).
    slots: Vec<Option<usize>>,
    /// Per field, reusable memory for reading its cells (this worker's own).
    scratch: Vec<Scratch>,
    /// For each schema field, the input column holding it.
    columns: Vec<Option<usize>>,
    /// The key being built for a unique check.
    key: Vec<u8>,
    /// One field's typed key, before it is length-prefixed into `key`.
    key_buf: Vec<u8>,
    /// Whether a rejected record lists every error it has, not only the first.
    all_errors: bool,
}

impl Validate {
    /// A validator for `schema`, to be bound to the input columns.
    pub fn new(schema: Schema) -> Validate {
        let scratch = schema.fields.iter().map(Field::scratch).collect();
        Validate {
            schema: Arc::new(schema),
            slots: Vec::new(),
            scratch,
            columns: Vec::new(),
            key: Vec::new(),
            key_buf: Vec::new(),
            all_errors: false,
        }
    }

    /// Lists every error of a rejected record (each cell that breaks its field's type or a
    /// constraint, in column order, then each cell too many or too few), as frictionless
    /// does, in [`Reject::more`], and a duplicate key (`unique-error`, decided in input order
    /// by the committer) after them; by default only the first. A blank row is one error
    /// (`blank-row`) either way.
    pub fn all_errors(mut self, on: bool) -> Validate {
        self.all_errors = on;
        self
    }

    /// The missing values that apply to field `i`.
    fn missing_values(&self, i: usize) -> &[String] {
        self.schema.fields[i]
            .missing_values
            .as_deref()
            .unwrap_or(&self.schema.missing_values)
    }
}

/// Whether a cell is missing: a JSON `null`, or text in the missing values. An empty null span
/// (an empty unquoted CSV field, or an absent JSON key) is the text `""`, as Python's csv module
/// reads it: missing by default, a value when `missingValues` leaves `""` out.
/// The earlier position of `label`, if column `i` repeats one seen before.
fn repeats<'a>(first_at: &mut HashMap<&'a str, usize>, i: usize, label: &'a str) -> Option<usize> {
    let at = *first_at.entry(label).or_insert(i);
    (at != i).then_some(at)
}

fn is_missing(bytes: &[u8], kind: ValueKind, missing: &[String]) -> bool {
    match kind {
        ValueKind::Null if !bytes.is_empty() => true,
        ValueKind::Json => false,
        ValueKind::Null | ValueKind::Text => missing.iter().any(|m| m.as_bytes() == bytes),
    }
}

/// A cell's text for a message, cut to a readable length.
fn shown(text: Cow<'_, str>) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        None => text.into_owned(),
        Some((cut, _)) => format!("{}...", &text[..cut]),
    }
}

impl Transform for Validate {
    fn name(&self) -> &str {
        "validate"
    }

    fn describe(&self) -> String {
        let mut s = format!(
            "Table Schema, {}",
            plural(self.schema.fields.len(), "field")
        );
        if self.all_errors {
            // Part of a resumable run's identity: the rejects differ.
            s.push_str(", all errors listed");
        }
        for key in &self.schema.unique_keys {
            let names: Vec<&str> = key
                .iter()
                .map(|&fi| self.schema.fields[fi].name.as_str())
                .collect();
            s.push_str(&format!(", unique ({})", names.join(", ")));
        }
        s
    }

    /// Matches the header against the schema as frictionless does for the schema's
    /// `fieldsMatch`; any mismatch is an error naming every mismatching column.
    fn schema(&self) -> Option<&Schema> {
        Some(&self.schema)
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        let labels = input.names();
        let fields = &self.schema.fields;
        let mode = self.schema.fields_match;
        let mut problems = Vec::new();
        let mut slots = vec![None; labels.len()];
        // Every name is looked up in a hash map: headers and schemas may be very wide.
        let mut first_at: HashMap<&str, usize> = HashMap::with_capacity(labels.len());
        if labels.is_empty() {
            problems.push("blank-header: the input has no columns".to_string());
        } else if mode == FieldsMatch::Exact {
            for (i, label) in labels.iter().enumerate() {
                let Some(field) = fields.get(i) else {
                    problems.push(format!(
                        "extra-label: column {} '{label}' is not in the schema",
                        i + 1
                    ));
                    continue;
                };
                slots[i] = Some(i);
                if label.is_empty() {
                    problems.push(format!(
                        "blank-label: column {} has no name (the schema expects '{}')",
                        i + 1,
                        field.name
                    ));
                } else if let Some(j) = repeats(&mut first_at, i, label) {
                    problems.push(format!(
                        "duplicate-label: column {} '{label}' repeats column {} (the schema \
                         expects '{}')",
                        i + 1,
                        j + 1,
                        field.name
                    ));
                } else if *label != field.name {
                    problems.push(format!(
                        "incorrect-label: column {} is '{label}', the schema expects '{}'",
                        i + 1,
                        field.name
                    ));
                }
            }
            for field in fields.iter().skip(labels.len()) {
                problems.push(format!(
                    "missing-label: field '{}' has no column",
                    field.name
                ));
            }
        } else {
            let tolerates_extra = matches!(mode, FieldsMatch::Subset | FieldsMatch::Partial);
            let tolerates_missing = matches!(mode, FieldsMatch::Superset | FieldsMatch::Partial);
            let field_at: HashMap<&str, usize> = fields
                .iter()
                .enumerate()
                .map(|(fi, f)| (f.name.as_str(), fi))
                .collect();
            for (i, label) in labels.iter().enumerate() {
                if let Some(j) = repeats(&mut first_at, i, label) {
                    problems.push(format!(
                        "duplicate-label: column {} '{label}' repeats column {} (matching \
                         fields by name needs unique labels)",
                        i + 1,
                        j + 1
                    ));
                }
                slots[i] = field_at.get(label.as_str()).copied();
                if slots[i].is_none() && !tolerates_extra {
                    problems.push(format!(
                        "extra-label: column {} '{label}' is not in the schema",
                        i + 1
                    ));
                }
            }
            if mode == FieldsMatch::Partial && slots.iter().all(Option::is_none) {
                problems
                    .push("unmatched-header: no column has the name of a schema field".to_string());
            }
            let mut matched = vec![false; fields.len()];
            for fi in slots.iter().flatten() {
                matched[*fi] = true;
            }
            for (fi, field) in fields.iter().enumerate() {
                if !matched[fi] && (!tolerates_missing || field.constraints.required) {
                    problems.push(format!(
                        "missing-label: field '{}' has no column",
                        field.name
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(BindError {
                message: format!(
                    "the header does not match the schema (fieldsMatch '{}'): {}",
                    mode.name(),
                    problems.join("; ")
                ),
            });
        }
        // The column of each field: the first that holds it.
        let mut columns = vec![None; fields.len()];
        for (i, slot) in slots.iter().enumerate().rev() {
            if let Some(fi) = slot {
                columns[*fi] = Some(i);
            }
        }
        self.columns = columns;
        self.slots = slots;
        Ok(input.clone())
    }

    fn lists_all_errors(&self) -> bool {
        self.all_errors
    }

    fn gates(&self) -> Vec<Gate> {
        let names = |key: &[usize]| {
            key.iter()
                .map(|&fi| self.schema.fields[fi].name.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        self.schema
            .unique_keys
            .iter()
            .map(|key| Gate::Unique {
                field: names(key),
                max_keys: DEFAULT_MAX_KEYS,
            })
            .collect()
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        let outcome = self.check(record);
        if !self.schema.unique_keys.is_empty()
            && !matches!(&outcome, Outcome::Reject(r) if r.error == "blank-row")
        {
            self.claim_unique_keys(record);
        }
        outcome
    }
}

impl Validate {
    /// Claims each unique key of the record whose cells are all present and readable; the
    /// committer rejects the later duplicates in input order (`unique-error`). As in
    /// frictionless, a record rejected for a cell error still registers its keys, and its cell
    /// error stays the reason it is rejected for.
    fn claim_unique_keys(&mut self, record: &mut Record<'_>) {
        let schema = Arc::clone(&self.schema);
        'keys: for (k, key) in schema.unique_keys.iter().enumerate() {
            self.key.clear();
            for &fi in key {
                let Some(col) = self.columns[fi] else {
                    continue 'keys;
                };
                let (Some(bytes), Some(kind)) = (record.get(col), record.kind(col)) else {
                    continue 'keys;
                };
                if is_missing(bytes, kind, self.missing_values(fi)) {
                    continue 'keys;
                }
                let Ok(text) = std::str::from_utf8(bytes) else {
                    continue 'keys;
                };
                let cell = if kind == ValueKind::Json {
                    Cell::Json(text)
                } else {
                    Cell::Text(text)
                };
                self.key_buf.clear();
                if !schema.fields[fi].write_key(cell, &mut self.scratch[fi], &mut self.key_buf) {
                    continue 'keys;
                }
                self.key
                    .extend_from_slice(&(self.key_buf.len() as u64).to_le_bytes());
                self.key.extend_from_slice(&self.key_buf);
            }
            record.claim(k, &self.key);
        }
    }

    fn check(&mut self, record: &Record<'_>) -> Outcome {
        let n = record.len();
        let ncols = self.slots.len();
        // The errors in frictionless' order (only the first unless all are asked for); a row
        // whose cells are all missing is a blank row instead, so once the errors wanted are
        // found only blankness is left to decide.
        let mut failures: Vec<(usize, Failure)> = Vec::new();
        let mut blank = true;
        for col in 0..ncols {
            let (bytes, kind) = match (record.get(col), record.kind(col)) {
                (Some(b), Some(k)) => (b, k),
                _ => (&[][..], ValueKind::Null),
            };
            let Some(fi) = self.slots[col] else {
                // A column the schema does not describe: an `any` field with frictionless'
                // default missing values.
                if col < n && !is_missing(bytes, kind, &[String::new()]) {
                    blank = false;
                }
                continue;
            };
            let done = !self.all_errors && !failures.is_empty();
            if col >= n || is_missing(bytes, kind, self.missing_values(fi)) {
                let required = self.schema.fields[fi].constraints.required;
                if required && !done {
                    failures.push((col, Failure::Constraint("required")));
                }
                continue;
            }
            blank = false;
            if done {
                break;
            }
            let field = &self.schema.fields[fi];
            let scratch = &mut self.scratch[fi];
            let result = match (kind, std::str::from_utf8(bytes)) {
                (ValueKind::Json, Ok(s)) => field.validate(Cell::Json(s), scratch),
                (_, Ok(s)) => field.validate(Cell::Text(s), scratch),
                // Bytes that are not UTF-8 are text of no type (but `any`).
                (_, Err(_)) if matches!(field.kind, Kind::Any) => Ok(()),
                (_, Err(_)) => Err(Failure::NotText),
            };
            if let Err(failure) = result {
                failures.push((col, failure));
                if !self.all_errors {
                    break;
                }
            }
        }
        if blank {
            return Outcome::Reject(Reject::new("blank-row", None, "record is completely blank"));
        }
        if failures.is_empty() && n == ncols {
            // Most records: nothing to assemble.
            return Outcome::Keep;
        }
        let mut rejects: Vec<Reject> = failures
            .into_iter()
            .map(|(col, failure)| self.cell_reject(record, col, failure))
            .collect();
        if self.all_errors {
            // As frictionless lists them: an error for each cell too many or too few.
            rejects.extend((n.min(ncols)..n.max(ncols)).filter_map(|at| self.width_reject(n, at)));
        } else if rejects.is_empty() {
            rejects.extend(self.width_reject(n, n.min(ncols)));
        }
        let mut rejects = rejects.into_iter();
        match rejects.next() {
            None => Outcome::Keep,
            Some(mut first) => {
                first.more = rejects.collect();
                Outcome::Reject(first)
            }
        }
    }

    /// The reject of a cell that breaks its field's type or a constraint.
    fn cell_reject(&self, record: &Record<'_>, col: usize, failure: Failure) -> Reject {
        let field = &self.schema.fields[self.slots[col].expect("a field failed")];
        let (error, note) = match failure {
            Failure::Type => ("type-error", field.type_note()),
            Failure::NotText => (
                "type-error",
                format!("{} (the bytes are not valid UTF-8)", field.type_note()),
            ),
            Failure::Constraint(name) => ("constraint-error", field.constraint_note(name)),
        };
        let cell = record.display(col).map_or_else(String::new, shown);
        Reject::new(
            error,
            Some(field.name.clone()),
            format!("cell \"{cell}\": {note}"),
        )
    }

    /// The reject of a record of `n` fields where the header has another count, if they
    /// differ, naming the cell at `at` (0-based; an extra or a missing one).
    fn width_reject(&self, n: usize, at: usize) -> Option<Reject> {
        let ncols = self.slots.len();
        if n > ncols {
            return Some(Reject::new(
                "extra-cell",
                Some(format!("{}", at + 1)),
                format!("record has {}, the header has {ncols}", plural(n, "field")),
            ));
        }
        if n < ncols {
            let name = match self.slots[at] {
                Some(fi) => self.schema.fields[fi].name.clone(),
                None => format!("{}", n + 1),
            };
            return Some(Reject::new(
                "missing-cell",
                Some(name.clone()),
                format!(
                    "record has {}, the header has {ncols}: '{name}' is missing",
                    plural(n, "field")
                ),
            ));
        }
        None
    }
}

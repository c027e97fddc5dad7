//! `null_markers` and `fill`: what counts as missing, and what replaces it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Outcome, Transform};
use crate::error::BindError;
use crate::record::{Columns, Record};

/// Turns fields equal to one of the markers (`NA`, `n/a`, `-`, ...) into NULL. An empty
/// unquoted CSV field is NULL already.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NullMarkers {
    /// The markers, compared byte for byte.
    pub markers: Vec<String>,
    /// Only these columns (all if empty).
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(skip)]
    indexes: Vec<usize>,
}

impl NullMarkers {
    /// Markers for all columns.
    pub fn new<I, S>(markers: I) -> NullMarkers
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        NullMarkers {
            markers: markers.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }
}

fn resolve(columns: &[String], input: &Columns) -> Result<Vec<usize>, BindError> {
    if columns.is_empty() {
        return Ok((0..input.len()).collect());
    }
    columns
        .iter()
        .map(|c| {
            input
                .index_of(c)
                .ok_or_else(|| BindError::unknown_column(c, input))
        })
        .collect()
}

impl Transform for NullMarkers {
    fn name(&self) -> &str {
        "null_markers"
    }

    fn describe(&self) -> String {
        self.markers.join(", ")
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        self.indexes = resolve(&self.columns, input)?;
        Ok(input.clone())
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        for &i in &self.indexes {
            if let Some(v) = record.get(i) {
                if !record.is_null(i) && self.markers.iter().any(|m| m.as_bytes() == v) {
                    record.set_null(i);
                }
            }
        }
        Outcome::Keep
    }
}

/// Replaces NULL fields with a default value per column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fill {
    /// Column to default value.
    pub values: BTreeMap<String, String>,
    #[serde(skip)]
    resolved: Vec<(usize, String)>,
}

impl Fill {
    /// Fills these columns.
    pub fn new<I, A, B>(pairs: I) -> Fill
    where
        I: IntoIterator<Item = (A, B)>,
        A: Into<String>,
        B: Into<String>,
    {
        Fill {
            values: pairs
                .into_iter()
                .map(|(a, b)| (a.into(), b.into()))
                .collect(),
            resolved: Vec::new(),
        }
    }
}

impl Transform for Fill {
    fn name(&self) -> &str {
        "fill"
    }

    fn sets_columns(&self) -> Vec<String> {
        self.values.keys().cloned().collect()
    }

    fn describe(&self) -> String {
        self.values
            .iter()
            .map(|(c, v)| format!("{c} = '{v}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        self.resolved = self
            .values
            .iter()
            .map(|(c, v)| {
                input
                    .index_of(c)
                    .map(|i| (i, v.clone()))
                    .ok_or_else(|| BindError::unknown_column(c, input))
            })
            .collect::<Result<_, _>>()?;
        Ok(input.clone())
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        for (i, value) in &self.resolved {
            if record.is_null(*i) {
                record.set(*i, value.as_bytes());
            }
        }
        Outcome::Keep
    }
}

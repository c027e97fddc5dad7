//! `dedupe`: keep the first record of each key, filter later ones.

use serde::{Deserialize, Serialize};

use super::{Gate, Outcome, Transform};
use crate::error::BindError;
use crate::record::{Columns, Record};
use crate::units::plural;

/// The default bound on distinct keys: at most 128 MiB of memory at <= 32 bytes per key.
pub const DEFAULT_MAX_KEYS: usize = 4 << 20;

/// Filters every record whose key columns repeat an earlier record's (the first occurrence in
/// input order is kept, exactly, for any parallelism). Memory: at most 32 bytes per distinct
/// key (a 128-bit hash in a table, see `engine::keys`), bounded by `max_keys`; more distinct
/// keys than that stops the run ([`crate::Error::TooManyKeys`], a run failure, not a usage
/// error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dedupe {
    /// Key columns; empty means the whole record.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Bound on distinct keys.
    #[serde(default = "default_max_keys")]
    pub max_keys: usize,
    #[serde(skip)]
    indexes: Vec<usize>,
    #[serde(skip)]
    key: Vec<u8>,
}

fn default_max_keys() -> usize {
    DEFAULT_MAX_KEYS
}

impl Dedupe {
    /// Dedupes on these columns (all columns if empty).
    pub fn new<I, S>(columns: I) -> Dedupe
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Dedupe {
            columns: columns.into_iter().map(Into::into).collect(),
            max_keys: DEFAULT_MAX_KEYS,
            indexes: Vec::new(),
            key: Vec::new(),
        }
    }
}

impl Transform for Dedupe {
    fn name(&self) -> &str {
        "dedupe"
    }

    fn describe(&self) -> String {
        format!(
            "by {} (at most {})",
            if self.columns.is_empty() {
                "all columns".to_string()
            } else {
                self.columns.join(", ")
            },
            plural(self.max_keys, "key")
        )
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        self.indexes = if self.columns.is_empty() {
            (0..input.len()).collect()
        } else {
            self.columns
                .iter()
                .map(|c| {
                    input
                        .index_of(c)
                        .ok_or_else(|| BindError::unknown_column(c, input))
                })
                .collect::<Result<_, _>>()?
        };
        Ok(input.clone())
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        self.key.clear();
        for &i in &self.indexes {
            // Length-prefixed, with NULL distinct from the empty string.
            match record.get(i) {
                Some(v) if !record.is_null(i) => {
                    self.key.extend_from_slice(&(v.len() as u64).to_le_bytes());
                    self.key.extend_from_slice(v);
                }
                _ => self.key.extend_from_slice(&u64::MAX.to_le_bytes()),
            }
        }
        record.claim(0, &self.key);
        Outcome::Keep
    }

    fn gates(&self) -> Vec<Gate> {
        vec![Gate::Dedupe {
            max_keys: self.max_keys,
        }]
    }
}

//! A schema's `unique` (or primary key): a record whose key an earlier record had is rejected
//! (`unique-error`, naming that record's line); the first of each key passes. The keys and
//! their first lines are held (see `super::super::keys`) up to `max_keys`; one more is an
//! error of the run.

use crate::error::{Error, Result};

use super::super::keys::KeyMap;
use super::Verdict;

pub(super) struct Unique {
    /// Each key and the line of its first record.
    first_line: KeyMap<u64>,
    /// The field (or fields) the key is made of, as rejects name it.
    field: String,
    max_keys: usize,
}

impl Unique {
    pub(super) fn new(field: String, max_keys: usize) -> Unique {
        Unique {
            first_line: KeyMap::new(),
            field,
            max_keys,
        }
    }

    /// Registers a key a checkpointed run had registered, with its first line.
    pub(super) fn restore(&mut self, key: u128, line: u64) {
        self.first_line.insert(key, line);
    }

    pub(super) fn decide(&mut self, key: u128, line: u64) -> Result<Option<Verdict>> {
        if let Some(first) = self.first_line.get(key) {
            let field = &self.field;
            return Ok(Some(Verdict::Reject {
                field: field.clone(),
                message: format!(
                    "the value of '{field}' must be unique: it repeats the record at line {first}"
                ),
            }));
        }
        if self.first_line.len() >= self.max_keys {
            // Not a usage error: the pipeline is valid, this input has more keys than it allows.
            return Err(Error::TooManyKeys {
                step: "unique",
                bound: "fixed for a schema's unique and primary keys",
                bytes_per_key: 41,
                max_keys: self.max_keys,
                line,
            });
        }
        self.first_line.insert(key, line);
        Ok(None)
    }
}

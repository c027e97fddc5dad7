//! `dedupe`: a record whose key was seen before is filtered; the first of each key passes.
//! The keys are held (see `super::super::keys`) up to `max_keys`; one more is an error of the
//! run, never a record let through.

use crate::error::{Error, Result};

use super::super::keys::KeyMap;
use super::Verdict;

pub(super) struct Dedupe {
    seen: KeyMap<()>,
    max_keys: usize,
}

impl Dedupe {
    pub(super) fn new(max_keys: usize) -> Dedupe {
        Dedupe {
            seen: KeyMap::new(),
            max_keys,
        }
    }

    /// Registers a key a checkpointed run had registered.
    pub(super) fn restore(&mut self, key: u128) {
        self.seen.insert(key, ());
    }

    pub(super) fn decide(&mut self, key: u128, line: u64) -> Result<Option<Verdict>> {
        if self.seen.get(key).is_some() {
            return Ok(Some(Verdict::Filter));
        }
        if self.seen.len() >= self.max_keys {
            // Not a usage error: the pipeline is valid, this input has more keys than it allows.
            return Err(Error::TooManyKeys {
                step: "dedupe",
                bound: "raise it with the step's max_keys or --dedupe-max-keys",
                bytes_per_key: 28,
                max_keys: self.max_keys,
                line,
            });
        }
        self.seen.insert(key, ());
        Ok(None)
    }
}

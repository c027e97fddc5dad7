//! `head`: keep the first `n` records that reach this step, in input order.

use serde::{Deserialize, Serialize};

use super::{Gate, Outcome, Transform};
use crate::record::Record;

/// Keeps the first `n` records reaching this step (the rest are filtered). Which records are
/// first is decided by the committer in input order, so it is exact for any parallelism.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Head {
    /// How many records to keep.
    pub n: u64,
}

impl Head {
    /// Keeps the first `n` records.
    pub fn new(n: u64) -> Head {
        Head { n }
    }
}

impl Transform for Head {
    fn name(&self) -> &str {
        "head"
    }

    fn describe(&self) -> String {
        format!("first {} records", self.n)
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        record.claim(0, b"");
        Outcome::Keep
    }

    fn gates(&self) -> Vec<Gate> {
        vec![Gate::Head(self.n)]
    }

    fn head_bounds_output(&self) -> bool {
        true // every record reaching it claims the gate
    }
}

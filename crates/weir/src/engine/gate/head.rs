//! `head`: the first `limit` records that reach it, in input order, pass; the rest are
//! filtered. A resumed run starts from the count its checkpoint kept. Once a head that every
//! written record passes is full, nothing more can be written: the run ends there.

use super::Verdict;

pub(super) struct Head {
    limit: u64,
    passed: u64,
    /// Every record the output takes passes this gate (the built-in `head`): once it is
    /// full, the run can end.
    bounds_output: bool,
}

impl Head {
    pub(super) fn new(limit: u64, bounds_output: bool) -> Head {
        Head {
            limit,
            passed: 0,
            bounds_output,
        }
    }

    /// Whether no later record can reach the output: it bounds the output and is full.
    pub(super) fn closes_output(&self) -> bool {
        self.bounds_output && self.passed >= self.limit
    }

    /// How many records it has passed.
    pub(super) fn passed(&self) -> u64 {
        self.passed
    }

    /// Takes the count a checkpointed run had reached.
    pub(super) fn restore(&mut self, passed: u64) {
        self.passed = passed;
    }

    pub(super) fn decide(&mut self) -> Option<Verdict> {
        if self.passed >= self.limit {
            return Some(Verdict::Filter);
        }
        self.passed += 1;
        None
    }
}

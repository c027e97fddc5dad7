//! `head`: the first `limit` records that reach it, in input order, pass; the rest are
//! filtered. A resumed run starts from the count its checkpoint kept.

use super::Verdict;

pub(super) struct Head {
    limit: u64,
    passed: u64,
}

impl Head {
    pub(super) fn new(limit: u64) -> Head {
        Head { limit, passed: 0 }
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

//! The library's integration tests, as one test binary (one link of arrow, parquet and
//! object_store instead of one per file): each module runs the public API on real inputs.
//! `tests/faults.rs` is apart: its panic-hook test needs a process of its own.

mod common;
mod conversions;
mod early_end;
mod equivalence;
mod fuzz_regressions;
mod matrix;
mod rejects;
mod reports;
mod resume;
mod shards;

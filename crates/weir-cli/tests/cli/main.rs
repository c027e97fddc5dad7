//! End-to-end tests of the `weir` binary: each test runs it on real files in a temporary
//! folder and checks the exact output bytes, the exit code and, where it matters, stderr.
//!
//! Fixtures are in `tests/data/`; each module is a file beside this one.

mod support;

mod budgets;
mod compression;
mod conversions;
mod edges;
mod failures;
mod faults;
mod first_minutes_inputs;
mod first_minutes_messages;
mod formats;
mod golden;
mod help;
mod hostile;
mod inputs;
mod language;
mod parallel;
mod parquet;
mod polish;
mod progress;
mod promises_misc;
mod promises_parquet;
mod promises_paths;
mod promises_text;
mod readme;
mod rejects;
mod rejects_feedback;
mod resume;
mod roundtrip;
mod selection;
mod shards;
mod stdio;
mod stopping;

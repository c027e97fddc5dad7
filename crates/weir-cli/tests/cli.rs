//! End-to-end tests of the `weir` binary: each test runs it on real files in a temporary
//! folder and checks the exact output bytes, the exit code and, where it matters, stderr.
//!
//! Fixtures are in `tests/data/`; the submodules are in `tests/cli/`.

#[path = "cli/support.rs"]
mod support;

#[path = "cli/compression.rs"]
mod compression;
#[path = "cli/conversions.rs"]
mod conversions;
#[path = "cli/edges.rs"]
mod edges;
#[path = "cli/failures.rs"]
mod failures;
#[path = "cli/faults.rs"]
mod faults;
#[path = "cli/formats.rs"]
mod formats;
#[path = "cli/golden.rs"]
mod golden;
#[path = "cli/hostile.rs"]
mod hostile;
#[path = "cli/inputs.rs"]
mod inputs;
#[path = "cli/language.rs"]
mod language;
#[path = "cli/parallel.rs"]
mod parallel;
#[path = "cli/parquet.rs"]
mod parquet;
#[path = "cli/polish.rs"]
mod polish;
#[path = "cli/progress.rs"]
mod progress;
#[path = "cli/promises_misc.rs"]
mod promises_misc;
#[path = "cli/promises_parquet.rs"]
mod promises_parquet;
#[path = "cli/promises_paths.rs"]
mod promises_paths;
#[path = "cli/promises_text.rs"]
mod promises_text;
#[path = "cli/rejects.rs"]
mod rejects;
#[path = "cli/resume.rs"]
mod resume;
#[path = "cli/roundtrip.rs"]
mod roundtrip;
#[path = "cli/shards.rs"]
mod shards;
#[path = "cli/stdio.rs"]
mod stdio;
#[path = "cli/stopping.rs"]
mod stopping;

//! # weir: record files far larger than memory, in parallel, in bounded memory
//!
//! weir reads CSV/TSV, JSON Lines or plain lines, runs a chain of transforms on every record
//! in parallel, and writes the results in input order, in any of those formats
//! ([`PipelineBuilder::output_format`]), with every record accounted for:
//! `read = written + filtered + rejected`, always.
//!
//! ```text
//!  Source ──bytes──▶ Splitter ──Chunk──▶ Worker × N ──Batch──▶ Committer ──▶ output, rejects
//!  (file, stdin)     (record-aligned,    decode, transform,    (input order,  (atomic: renamed
//!                     quote-aware)        encode               credits back)   into place on
//!                                                                               success)
//! ```
//!
//! - The [`split::Splitter`] cuts the input into chunks that end on record boundaries, tracking
//!   quotes exactly as RFC 4180 readers do, for any chunk size down to one byte.
//! - Workers decode each chunk into [`Record`]s, run the [`Transform`] chain (cloned per worker),
//!   and encode output and rejects. A record the chain leaves unchanged is copied as raw bytes.
//! - The committer writes batches in input order and returns their buffers (the credits that
//!   bound memory) to the splitter. Outputs are renamed into place only when the run succeeds.
//!
//! ## Example: a custom transform
//!
//! ```no_run
//! use weir::{Columns, BindError, Outcome, PipelineBuilder, Record, Reject, Sink, Source, Transform};
//!
//! /// Rejects records whose `age` is not an integer.
//! #[derive(Clone)]
//! struct AgeIsInteger { col: usize }
//!
//! impl Transform for AgeIsInteger {
//!     fn name(&self) -> &str { "age-is-integer" }
//!     fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
//!         self.col = input.index_of("age").ok_or_else(|| BindError::unknown_column("age", input))?;
//!         Ok(input.clone())
//!     }
//!     fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
//!         match record.get_str(self.col).map(str::parse::<i64>) {
//!             Some(Ok(_)) => Outcome::Keep,
//!             _ => Outcome::Reject(Reject::new("type-error", Some("age".into()), "age is not an integer")),
//!         }
//!     }
//! }
//!
//! let report = PipelineBuilder::new(Source::from_arg("customers.csv"), Sink::from_arg("out.csv"))
//!     .transform(AgeIsInteger { col: 0 })
//!     .rejects(Sink::from_arg("rejects.csv"))
//!     .build()
//!     .run()
//!     .map_err(|failure| failure.error)?;
//! println!("{} written, {} rejected", report.records_written, report.records_rejected);
//! # Ok::<(), weir::Error>(())
//! ```
#![deny(missing_docs)]

mod checkpoint;
pub mod compress;
pub mod engine;
pub mod error;
pub mod expr;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
pub mod report;
pub mod schema;
pub mod shard;
pub mod sink;
pub mod source;
pub mod split;
#[cfg(feature = "s3")]
pub mod store;
pub mod transform;
pub mod units;

pub use compress::Compression;
pub use engine::{
    sample, Explain, ExplainStep, Failure, Observer, Pipeline, PipelineBuilder, StopHandle,
};
pub use error::{Error, Result, StopReason};
pub use format::{Columns, Dialect, Format, InvalidUtf8, Ragged, Record, ValueKind};
pub use report::{Report, Snapshot, Status};
pub use sink::Sink;
pub use source::Source;
pub use split::Oversized;
pub use transform::{BindError, Chain, OnPanic, Outcome, Reject, Select, Step, Transform};

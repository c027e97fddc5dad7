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
//! - The splitter cuts the input into chunks that end on record boundaries, tracking
//!   quotes exactly as RFC 4180 readers do, for any chunk size down to one byte.
//! - Workers decode each chunk into [`Record`]s, run the [`Transform`] chain (cloned per worker),
//!   and encode output and rejects. A record the chain leaves unchanged is copied as raw bytes.
//! - The committer writes batches in input order and returns their buffers (the credits that
//!   bound memory) to the splitter. Outputs are renamed into place only when the run succeeds.
//!
//! ## Example: built-in steps
//!
//! Filter, derive and a Table Schema, on input in memory; what fails the schema goes to the
//! rejects with its line and reason, and the counts always balance.
//!
//! ```
//! use weir::schema::Schema;
//! use weir::transform::{Derive, Filter, Validate};
//! use weir::{PipelineBuilder, Sink, Source};
//! # use std::sync::{Arc, Mutex};
//! # /// An in-memory output the example reads back.
//! # #[derive(Clone, Default)]
//! # struct Buffer(Arc<Mutex<Vec<u8>>>);
//! # impl std::io::Write for Buffer {
//! #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
//! #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
//! # }
//! # impl Buffer { fn text(&self) -> String { String::from_utf8(self.0.lock().unwrap().clone()).unwrap() } }
//!
//! let input = "id,name,age\n1,Ada,36\n2,Bob,x\n3,Cy,17\n";
//! let schema = Schema::from_json(r#"{"fields": [
//!     {"name": "id", "type": "integer"},
//!     {"name": "name", "type": "string"},
//!     {"name": "age", "type": "integer"}]}"#)
//! .unwrap();
//! let (output, rejects) = (Buffer::default(), Buffer::default());
//! let report = PipelineBuilder::new(
//!     Source::Reader("people.csv".into(), Box::new(input.as_bytes())),
//!     Sink::Writer("adults.csv".into(), Box::new(output.clone())),
//! )
//! .rejects(Sink::Writer("rejects.csv".into(), Box::new(rejects.clone())))
//! .transform(Validate::new(schema))
//! .transform(Filter::new("CAST(age AS BIGINT) >= 18"))
//! .transform(Derive::new("initial", "substr(name, 1, 1)"))
//! .build()
//! .run()?;
//!
//! assert_eq!(output.text(), "id,name,age,initial\n1,Ada,36,A\n");
//! assert!(rejects.text().contains("type-error"), "{}", rejects.text());
//! assert_eq!((report.records_read, report.records_written), (3, 1));
//! assert_eq!((report.records_filtered, report.records_rejected), (1, 1));
//! # Ok::<(), weir::Error>(())
//! ```
//!
//! ## Example: a custom transform
//!
//! A step of your own is a [`Transform`]: it binds to the input's columns once, then decides
//! about each record, keeping, filtering or rejecting it (see `examples/custom_transform.rs`).
//!
//! ```
//! use weir::{BindError, Columns, Outcome, PipelineBuilder, Record, Reject, Sink, Source, Transform};
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
//! let input = "name,age\nAda,36\nBob,x\n";
//! let report = PipelineBuilder::new(
//!     Source::Reader("people.csv".into(), Box::new(input.as_bytes())),
//!     Sink::Writer("out.csv".into(), Box::new(std::io::sink())),
//! )
//! .transform(AgeIsInteger { col: 0 })
//! .rejects(Sink::Writer("rejects.csv".into(), Box::new(std::io::sink())))
//! .build()
//! .run()?;
//! assert_eq!((report.records_written, report.records_rejected), (1, 1));
//! # Ok::<(), weir::Error>(())
//! ```
//!
//! ## Example: the steps of a pipeline file
//!
//! The `[[transform]]` tables of a pipeline file (as `weir run --pipeline` reads it) are
//! [`Step`]s; each builds its transform:
//!
//! ```
//! use weir::{PipelineBuilder, Sink, Source, Step};
//!
//! #[derive(serde::Deserialize)]
//! struct PipelineFile { transform: Vec<Step> }
//!
//! let file: PipelineFile = toml::from_str(r#"
//!     [[transform]]
//!     filter = "TRY_CAST(age AS BIGINT) >= 18"
//!     [[transform]]
//!     select = ["name"]
//! "#).unwrap();
//! let mut builder = PipelineBuilder::new(
//!     Source::Reader("people.csv".into(), Box::new(&b"name,age\nAda,36\nCy,17\n"[..])),
//!     Sink::Writer("names.csv".into(), Box::new(std::io::sink())),
//! );
//! for step in &file.transform {
//!     builder = builder.boxed_transform(step.build());
//! }
//! let report = builder.build().run()?;
//! assert_eq!((report.records_written, report.records_filtered), (1, 1));
//! # Ok::<(), weir::Error>(())
//! ```
#![deny(missing_docs)]

mod calendar;
mod checkpoint;
mod compress;
mod engine;
pub mod error;
pub mod expr;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
pub mod io;
pub mod record;
pub mod report;
pub mod schema;
pub mod shard;
mod sink;
mod source;
mod split;
mod store;
pub mod transform;
mod units;

pub use compress::Compression;
pub use engine::{
    sample, Explain, ExplainStep, Failure, Observer, Pipeline, PipelineBuilder, StopHandle,
};
pub use error::{
    BindError, CommonReject, Error, RejectBudget, RejectsOverBudget, Result, SourceName, StopReason,
};
pub use format::{Dialect, Format, InvalidUtf8, Ragged};
pub use record::{Columns, Record, ValueKind};
pub use report::{Report, Snapshot, Status};
pub use sink::{RejectsFormat, Sink};
pub use source::Source;
pub use split::Oversized;
pub use transform::{Chain, OnPanic, Outcome, Reject, Select, Step, Transform};
pub use units::{parse_duration, parse_interval, parse_size};

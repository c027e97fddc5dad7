//! Errors that stop a run. Problems with single records are not errors: they are
//! [`crate::transform::Reject`]s, routed to the rejects file.

use std::io;
use std::path::PathBuf;

use crate::source::SourceName;
use crate::transform::BindError;

/// Why a run stopped before it finished, when no error caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Interrupted (Ctrl-C / SIGINT).
    Interrupted,
    /// Asked to terminate (SIGTERM).
    Terminated,
    /// The run's time limit passed.
    TimedOut,
}

/// The library's error type: each variant says where the problem is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be opened.
    #[error("cannot open input {source_name}: {source}")]
    Open {
        /// The input.
        source_name: SourceName,
        /// The I/O error.
        source: io::Error,
    },
    /// Reading the input failed.
    #[error("error reading {source_name}: {source}")]
    Read {
        /// The input.
        source_name: SourceName,
        /// The I/O error.
        source: io::Error,
    },
    /// A record is larger than the configured maximum.
    #[error(
        "{source_name}: line {line} (byte {byte_offset}): record larger than the maximum record \
         size of {limit} bytes (raise --max-record-size, or check for an unbalanced quote)"
    )]
    RecordTooLarge {
        /// The input.
        source_name: SourceName,
        /// Line where the record starts.
        line: u64,
        /// Byte offset where the record starts.
        byte_offset: u64,
        /// The configured maximum.
        limit: usize,
    },
    /// The input ended inside a quoted field.
    #[error(
        "{source_name}: line {line} (byte {byte_offset}): quoted field is never closed \
         (the input ends inside quotes)"
    )]
    UnterminatedQuote {
        /// The input.
        source_name: SourceName,
        /// Line of the opening quote.
        line: u64,
        /// Byte offset of the opening quote.
        byte_offset: u64,
    },
    /// An input's header differs from the first input's.
    #[error("{source_name}: the header differs from {first}'s: {detail}")]
    HeaderMismatch {
        /// The input whose header differs.
        source_name: SourceName,
        /// The first input.
        first: SourceName,
        /// What differs.
        detail: String,
    },
    /// A transform could not be bound to the input columns (a usage error).
    #[error("{0}")]
    Bind(#[from] BindError),
    /// The pipeline's configuration is invalid (a usage error).
    #[error("{0}")]
    Config(String),
    /// Creating, writing or committing an output failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The output path (`-` for stdout).
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// Standard output was closed by the reader (e.g. `| head`).
    #[error("broken pipe on standard output")]
    BrokenPipe,
    /// The run was stopped from outside or by its time limit.
    #[error("{}", match .0 {
        StopReason::Interrupted => "interrupted",
        StopReason::Terminated => "terminated",
        StopReason::TimedOut => "timed out",
    })]
    Stopped(StopReason),
    /// A worker thread panicked (a bug in a transform or in weir).
    #[error("a worker panicked: {0}")]
    Panic(String),
}

impl Error {
    /// Whether this is a usage or configuration error (reported before any output is written).
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Bind(_) | Error::Config(_))
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

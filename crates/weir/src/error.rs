//! Errors that stop a run. Problems with single records are not errors: they are
//! [`Reject`](crate::transform::Reject)s, routed to the rejects file.

use std::io;
use std::path::PathBuf;

use std::fmt;
use std::sync::Arc;

use crate::record::{list_positions, Columns};

/// The name of an input as errors and rejects show it (a path, or `-` for stdin).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceName(Arc<str>);

impl SourceName {
    /// A name.
    pub fn new(name: &str) -> SourceName {
        SourceName(Arc::from(name))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A problem found while binding a transform to its input columns: a usage error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BindError {
    /// What is wrong, naming the column and the nearest existing one where that helps.
    pub message: String,
}

impl BindError {
    /// An unknown column, with a suggestion from `columns`.
    pub fn unknown_column(name: &str, columns: &Columns) -> BindError {
        let at = columns.positions(name);
        if at.len() > 1 {
            return BindError::ambiguous_column(name, &at);
        }
        let message = match columns.nearest(name) {
            Some(near) => format!("unknown column '{name}' (did you mean '{near}'?)"),
            None => format!(
                "unknown column '{name}' (columns: {})",
                columns.names().join(", ")
            ),
        };
        BindError { message }
    }

    /// The error for a name that several input columns have (`positions` 0-based).
    pub fn ambiguous_column(name: &str, positions: &[usize]) -> BindError {
        BindError {
            message: format!(
                "column '{name}' is ambiguous: the header has it at positions {} \
                 (give the columns distinct names)",
                list_positions(positions)
            ),
        }
    }
}

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

/// How many rejected records a run accepts before it fails
/// ([`crate::PipelineBuilder::max_rejects`]): past it nothing is committed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RejectBudget {
    /// At most this many records rejected; the run stops as soon as one more is (in input
    /// order, at the batch that passes it).
    Count(u64),
    /// At most this percentage (0 to 100) of the records read rejected; judged over the whole
    /// input, at the end, before the commit.
    Percent(f64),
}

impl RejectBudget {
    /// Whether `rejected` of `read` records is over the budget.
    pub fn exceeded(&self, rejected: u64, read: u64) -> bool {
        match *self {
            RejectBudget::Count(n) => rejected > n,
            RejectBudget::Percent(p) => read > 0 && rejected as f64 * 100.0 > p * read as f64,
        }
    }
}

impl std::str::FromStr for RejectBudget {
    type Err = String;

    /// `100` (a count) or `5%` (a percentage of the records read, 0 to 100, decimals allowed).
    fn from_str(s: &str) -> std::result::Result<RejectBudget, String> {
        let t = s.trim();
        let bad = || {
            format!(
                "'{s}' is not a rejects budget: give a count of records (100) or a percentage \
                 of the records read (5%)"
            )
        };
        match t.strip_suffix('%') {
            Some(p) => {
                let p: f64 = p.trim().parse().map_err(|_| bad())?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(format!(
                        "'{s}' is not a rejects budget: a percentage is from 0% to 100%"
                    ));
                }
                Ok(RejectBudget::Percent(p))
            }
            None => t.parse().map(RejectBudget::Count).map_err(|_| bad()),
        }
    }
}

impl fmt::Display for RejectBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectBudget::Count(n) => write!(f, "{n}"),
            RejectBudget::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// The most common reason a run's records were rejected, with one example, for
/// [`Error::TooManyRejects`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonReject {
    /// The error name (`type-error`, `missing-cell`, ...).
    pub error: String,
    /// How many records it rejected.
    pub count: u64,
    /// The input of its first record.
    pub file: String,
    /// That record's first line.
    pub line: u64,
    /// Its reject's message (it may quote the value: data, to escape before showing it).
    pub message: String,
}

/// What [`Error::TooManyRejects`] says: the budget, the counts when it was judged, and the
/// most common reason.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectsOverBudget {
    /// The budget that was passed.
    pub budget: RejectBudget,
    /// Records rejected when the run stopped.
    pub rejected: u64,
    /// Records read when the run stopped.
    pub read: u64,
    /// The most common reject reason, if any record was rejected.
    pub most_common: Option<CommonReject>,
}

impl fmt::Display for RejectsOverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = if self.read == 0 {
            0.0
        } else {
            100.0 * self.rejected as f64 / self.read as f64
        };
        write!(
            f,
            "too many rejects: {} of {} records read were rejected ({pct:.2}%), over the \
             rejects budget of {}; nothing is committed",
            self.rejected, self.read, self.budget
        )?;
        if let Some(c) = &self.most_common {
            write!(
                f,
                "; most common: {} ({}), e.g. {} line {}: {}",
                c.error,
                crate::units::plural(c.count, "record"),
                c.file,
                c.line,
                c.message
            )?;
        }
        Ok(())
    }
}

/// The library's error type: each variant says where the problem is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// A resumable run cannot continue from its checkpoint (the input, the pipeline or the
    /// checkpoint changed); nothing was written. Starting over is the user's decision.
    #[error("cannot resume from {}: {reason}", checkpoint.display())]
    Resume {
        /// The checkpoint file.
        checkpoint: PathBuf,
        /// Why not, and what to do.
        reason: String,
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
    /// An output cannot be created where it is asked for (a missing or read-only folder),
    /// found before any input is read (a usage error: nothing ran).
    #[error("cannot write {}: {reason}", path.display())]
    Destination {
        /// The output path.
        path: PathBuf,
        /// Why not.
        reason: String,
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
    /// A sharded run could not go on: a shard re-run from a proven start failed for a reason
    /// other than its data, or a shard folder is not what its plan and reports say.
    #[error("{0}")]
    Shard(String),
    /// An ordered step that remembers keys (dedupe, a schema's unique or primary key) met
    /// more distinct keys than its bound allows: the run stops instead of growing without
    /// bound. The pipeline is valid; this input needs a higher bound.
    #[error(
        "{step}: more than {max_keys} distinct keys (at line {line}), its bound ({bound}; \
         about {bytes_per_key} bytes of memory per key)"
    )]
    TooManyKeys {
        /// The step: `dedupe` or `unique`.
        step: &'static str,
        /// What sets the bound.
        bound: &'static str,
        /// What a key costs in memory.
        bytes_per_key: u32,
        /// Its bound.
        max_keys: usize,
        /// The line of the record whose key was one too many.
        line: u64,
    },
    /// More records were rejected than the run's budget allows
    /// ([`crate::PipelineBuilder::max_rejects`]); nothing is committed.
    #[error("{0}")]
    TooManyRejects(Box<RejectsOverBudget>),
    /// A worker thread panicked (a bug in a transform or in weir).
    #[error("a worker panicked: {0}")]
    Panic(String),
    /// A transform panicked on a record and the pipeline stops on panics
    /// ([`crate::OnPanic::Stop`], the default).
    #[error(
        "{source_name}: line {line} (byte {byte_offset}): transform '{transform}' panicked: \
         {message}"
    )]
    TransformPanic {
        /// The transform's name.
        transform: String,
        /// The input the record came from.
        source_name: SourceName,
        /// The record's first line.
        line: u64,
        /// The record's byte offset.
        byte_offset: u64,
        /// The panic's message (and where it was raised, when known).
        message: String,
    },
    /// An input file changed while it was read (truncated, appended to, rewritten, or
    /// replaced by another file at its path), so what was read is not the file: nothing is
    /// committed.
    #[error("input {source_name} changed while it was read: {detail}")]
    InputChanged {
        /// The input.
        source_name: SourceName,
        /// What changed: sizes, modification time, the file at the path, or an object's ETag.
        detail: String,
    },
    /// A request to an object store (an `s3://` input or output) failed: which object (or
    /// bucket) and what went wrong. Never holds credentials.
    #[error("{url}: {message}")]
    Store {
        /// The `s3://bucket/key` URL.
        url: String,
        /// What went wrong.
        message: String,
        /// Whether trying again later may succeed (network errors, throttling, server errors:
        /// see [`Error::is_transient`]).
        transient: bool,
    },
}

/// The I/O error a watched input returns at its end when it changed while it was read;
/// [`Error::read`] turns it into [`Error::InputChanged`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct InputChangedIo(pub(crate) String);

/// The I/O error of a read or write that failed for a reason that may pass (an object store's
/// network error, throttling or server error), so that [`Error::is_transient`] can tell it
/// after it went through [`std::io::Error`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct TransientIo(pub(crate) String);

impl Error {
    /// The error for a failed read of `source_name`: [`Error::InputChanged`] when the input
    /// was found changed (a file at its end, an object at any of its ranged GETs: see
    /// `store::Store::reader`), [`Error::Read`] otherwise.
    pub fn read(source_name: SourceName, source: io::Error) -> Error {
        if let Some(changed) = source
            .get_ref()
            .and_then(|e| e.downcast_ref::<InputChangedIo>())
        {
            return Error::InputChanged {
                detail: changed.0.clone(),
                source_name,
            };
        }
        Error::Read {
            source_name,
            source,
        }
    }

    /// Whether this is a usage or configuration error (reported before any output is written).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Bind(_) | Error::Config(_) | Error::Resume { .. } | Error::Destination { .. }
        )
    }
}

impl Error {
    /// Whether trying the same run again later may succeed: an object store's network error,
    /// throttling or server error, a timed-out or reset connection, a full disk. A driver
    /// retries these (the CLI's exit 75); usage and data errors it does not.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Store { transient, .. } => *transient,
            Error::Open { source, .. }
            | Error::Read { source, .. }
            | Error::Write { source, .. } => transient_io(source),
            _ => false,
        }
    }
}

/// Whether an I/O error may pass if tried again.
fn transient_io(e: &io::Error) -> bool {
    if e.get_ref().is_some_and(|e| e.is::<TransientIo>()) {
        return true;
    }
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::NotConnected
            | io::ErrorKind::StorageFull
    )
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejects_budget_is_a_count_or_a_percentage() {
        assert_eq!("100".parse(), Ok(RejectBudget::Count(100)));
        assert_eq!(" 5% ".parse(), Ok(RejectBudget::Percent(5.0)));
        assert_eq!("2.5 %".parse(), Ok(RejectBudget::Percent(2.5)));
        for bad in ["", "-1", "5%%", "x%", "1e3"] {
            let e = bad.parse::<RejectBudget>().unwrap_err();
            assert!(e.contains("is not a rejects budget"), "{bad}: {e}");
        }
        let e = "101%".parse::<RejectBudget>().unwrap_err();
        assert!(e.ends_with("a percentage is from 0% to 100%"), "{e}");
        assert_eq!(RejectBudget::Percent(5.0).to_string(), "5%");
        assert_eq!(RejectBudget::Count(7).to_string(), "7");
    }

    #[test]
    fn the_budget_message_counts_the_most_common_reason_in_records() {
        let over = |count| RejectsOverBudget {
            budget: RejectBudget::Count(0),
            rejected: count,
            read: 10,
            most_common: Some(CommonReject {
                error: "extra-cell".into(),
                count,
                file: "in.csv".into(),
                line: 2,
                message: "record has 3 fields, the header has 2".into(),
            }),
        };
        assert!(over(1)
            .to_string()
            .contains("most common: extra-cell (1 record), e.g."));
        assert!(over(2)
            .to_string()
            .contains("most common: extra-cell (2 records), e.g."));
    }

    #[test]
    fn a_budget_is_exceeded_only_past_it() {
        let count = RejectBudget::Count(3);
        assert!(!count.exceeded(3, 3) && count.exceeded(4, 100));
        let pct = RejectBudget::Percent(5.0);
        assert!(!pct.exceeded(5, 100) && pct.exceeded(6, 100));
        assert!(!pct.exceeded(0, 0), "nothing read is never over");
        assert!(RejectBudget::Percent(0.0).exceeded(1, 1_000_000));
        assert!(!RejectBudget::Percent(100.0).exceeded(10, 10));
    }
}

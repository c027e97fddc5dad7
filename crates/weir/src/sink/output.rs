//! What the committer writes the output to: the bytes the workers encoded, as they are, or
//! Parquet, whose binary rows are gathered into row groups (see `parquet.rs`).

use super::parquet::ParquetSink;
use super::SinkWriter;
use crate::error::Result;

/// Where the committer writes the output: bytes as the workers encoded them, or Parquet, whose
/// rows the committer gathers into column batches.
pub(crate) enum Output {
    Bytes(SinkWriter),
    Parquet(Box<ParquetSink>),
}

impl Output {
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Output::Bytes(w) => w.write_all(bytes),
            Output::Parquet(p) => p.write_rows(bytes),
        }
    }

    /// Flushes a byte output; Parquet writes whole row groups as they fill.
    pub(crate) fn flush(&mut self) -> Result<()> {
        match self {
            Output::Bytes(w) => w.flush(),
            Output::Parquet(_) => Ok(()),
        }
    }

    pub(crate) fn written(&self) -> u64 {
        match self {
            Output::Bytes(w) => w.written(),
            Output::Parquet(p) => p.written(),
        }
    }

    /// Writes all that is left (a Parquet footer, the end of a compressed stream), so that
    /// nothing can fail for want of space once the renames start; the byte sink to commit.
    pub(crate) fn finish(self) -> Result<SinkWriter> {
        let mut w = match self {
            Output::Bytes(w) => w,
            Output::Parquet(p) => p.finish()?,
        };
        w.finish()?;
        Ok(w)
    }

    /// The xxh64 of what the output has stored, if kept.
    pub(crate) fn digest(&self) -> Option<u64> {
        match self {
            Output::Bytes(w) => w.digest(),
            Output::Parquet(_) => None,
        }
    }

    /// Syncs a byte output to disk (resumable runs write no Parquet); returns its length as
    /// stored.
    pub(crate) fn sync(&mut self) -> Result<u64> {
        match self {
            Output::Bytes(w) => w.sync(),
            Output::Parquet(p) => Ok(p.written()),
        }
    }
}

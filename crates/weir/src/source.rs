//! Bytes in: a file, standard input, or any reader; gzip or zstd content is decompressed here
//! (detected by its magic bytes, see [`crate::compress`]), so everything after sees plain bytes.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use crate::compress::{Compression, Decompress, SourceCounters};
use crate::error::{Error, Result};
use crate::report::Progress;

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

/// Where records come from.
pub enum Source {
    /// A file.
    Path(PathBuf),
    /// Standard input.
    Stdin,
    /// Any reader, with a name for messages.
    Reader(String, Box<dyn Read + Send>),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(p) => write!(f, "Path({})", p.display()),
            Source::Stdin => f.write_str("Stdin"),
            Source::Reader(name, _) => write!(f, "Reader({name})"),
        }
    }
}

impl Source {
    /// `-` is standard input; anything else a path.
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(arg))
        }
    }

    /// The name used in messages and in the rejects file.
    pub fn name(&self) -> SourceName {
        match self {
            Source::Path(p) => SourceName::new(&p.display().to_string()),
            Source::Stdin => SourceName::new("-"),
            Source::Reader(name, _) => SourceName::new(name),
        }
    }

    /// Opens the source; returns the reader of its plain (decompressed) bytes and, for files,
    /// the size in bytes on disk. Whether the content is compressed is decided on the first
    /// read, so opening a pipe does not block; a `.gz`/`.zst`/`.zstd` file without the magic
    /// bytes, and corrupt or truncated compressed data, are read errors that say where.
    pub fn open(self) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
        self.open_with(None)
    }

    /// [`Source::open`], counting the stored (compressed) bytes consumed into
    /// `progress.source_bytes_read`.
    pub(crate) fn open_counted(
        self,
        progress: &Progress,
    ) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
        self.open_with(Some(SourceCounters::of(progress)))
    }

    fn open_with(
        self,
        progress: Option<SourceCounters>,
    ) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
        let named = match &self {
            Source::Path(p) => Compression::from_path(p),
            _ => Compression::None,
        };
        let (reader, size) = self.open_plain()?;
        let reader = Decompress::new(reader, named, progress);
        Ok((Box::new(reader), size))
    }

    fn open_plain(self) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
        let name = self.name();
        match self {
            Source::Path(path) => {
                let file = File::open(&path).map_err(|source| Error::Open {
                    source_name: name.clone(),
                    source,
                })?;
                let meta = file.metadata().map_err(|source| Error::Open {
                    source_name: name.clone(),
                    source,
                })?;
                if meta.is_dir() {
                    return Err(Error::Open {
                        source_name: name,
                        source: io::Error::new(io::ErrorKind::InvalidInput, "is a directory"),
                    });
                }
                let size = meta.is_file().then_some(meta.len());
                Ok((Box::new(file), size))
            }
            Source::Stdin => Ok((Box::new(io::stdin()), None)),
            Source::Reader(_, reader) => Ok((reader, None)),
        }
    }
}

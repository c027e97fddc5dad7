//! Bytes in: a file, standard input, an object (`s3://bucket/key`, see `store`), or any
//! reader; gzip or zstd content is decompressed here (detected by its magic bytes, see
//! [`crate::compress`]), so everything after sees plain bytes.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::compress::{Compression, Decompress, SourceCounters};
use crate::error::{Error, InputChangedIo, Result, SourceName};
use crate::report::Progress;

/// Where records come from.
#[non_exhaustive]
pub enum Source {
    /// A file.
    Path(PathBuf),
    /// Standard input.
    Stdin,
    /// An object in an object store (`s3://bucket/key`), read with ranged GETs pinned to the
    /// version it had when opened (see `store::Store::reader`); needs the `s3`
    /// feature. The URL is its name in messages and rejects.
    Url(String),
    /// Any reader, with a name for messages.
    Reader(String, Box<dyn Read + Send>),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(p) => write!(f, "Path({})", p.display()),
            Source::Stdin => f.write_str("Stdin"),
            Source::Url(url) => write!(f, "Url({url})"),
            Source::Reader(name, _) => write!(f, "Reader({name})"),
        }
    }
}

impl Source {
    /// `-` is standard input, `s3://bucket/key` an object; anything else a path.
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else if crate::store::is_url(arg) {
            Source::Url(arg.to_string())
        } else {
            Source::Path(PathBuf::from(arg))
        }
    }

    /// The name used in messages and in the rejects file.
    pub fn name(&self) -> SourceName {
        match self {
            Source::Path(p) => SourceName::new(&p.display().to_string()),
            Source::Stdin => SourceName::new("-"),
            Source::Url(url) => SourceName::new(url),
            Source::Reader(name, _) => SourceName::new(name),
        }
    }

    /// Opens the source; returns the reader of its plain (decompressed) bytes and, for files
    /// and objects, the size in bytes as stored. Whether the content is compressed is decided
    /// on the first read, so opening a pipe does not block; a `.gz`/`.zst`/`.zstd` file without
    /// the magic bytes, and corrupt or truncated compressed data, are read errors that say
    /// where.
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
            Source::Url(url) => Compression::from_path(Path::new(url)),
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
                if is_fifo(&path) {
                    // Opening a FIFO blocks until a writer opens it, on whatever thread calls
                    // `open`: the one that must see a stop. Opened on the first read instead,
                    // which happens on a reader thread that a stop does not wait for.
                    return Ok((Box::new(Fifo::Closed(path, name)), None));
                }
                let file = File::open(&path).map_err(|source| open_error(name.clone(), source))?;
                let meta = file.metadata().map_err(|source| Error::Open {
                    source_name: name.clone(),
                    source,
                })?;
                if meta.is_dir() {
                    return Err(open_error(
                        name,
                        io::Error::new(io::ErrorKind::IsADirectory, "is a directory"),
                    ));
                }
                if !meta.is_file() {
                    // A pipe or device has no identity to check: it is read as it comes.
                    return Ok((Box::new(file), None));
                }
                let size = meta.len();
                Ok((Box::new(Watched::new(file, path, name, &meta)), Some(size)))
            }
            Source::Stdin => Ok((Box::new(io::stdin()), None)),
            Source::Url(url) => open_object(&url),
            Source::Reader(_, reader) => Ok((reader, None)),
        }
    }
}

/// Whether `path` is a named pipe (a `stat`, which never blocks).
pub(crate) fn is_fifo(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// A named pipe, opened (blocking until a writer comes) by its first read.
enum Fifo {
    Closed(PathBuf, SourceName),
    Open(File),
}

impl Read for Fifo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Fifo::Closed(path, name) = self {
            let file = File::open(&*path).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot open the named pipe {name}: {e}"))
            })?;
            *self = Fifo::Open(file);
        }
        match self {
            Fifo::Open(file) => file.read(buf),
            Fifo::Closed(..) => unreachable!("opened above"),
        }
    }
}

/// The error of an input file that cannot be opened. One that is not there, or is a folder,
/// is a usage error (the CLI's exit 2, as for a pattern that matches nothing): every input is
/// opened or measured before anything is read. Any other failure is an I/O error.
pub(crate) fn open_error(source_name: SourceName, source: io::Error) -> Error {
    match source.kind() {
        io::ErrorKind::NotFound => {
            Error::Config(format!("cannot open input {source_name}: no such file"))
        }
        io::ErrorKind::IsADirectory => Error::Config(format!(
            "cannot open input {source_name}: it is a folder (name its files, or a pattern \
             such as '{source_name}/*.csv')"
        )),
        _ => Error::Open {
            source_name,
            source,
        },
    }
}

/// The reader of the object at `url` from its start, pinned to the version it has now, and its
/// size.
fn open_object(url: &str) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
    let store = crate::store::Store::for_url(url)?;
    let meta = store.input_meta(url)?;
    let reader = store.reader(url, 0, Some(&meta.version))?;
    Ok((reader, Some(meta.size)))
}

/// The size of the object at `url` (one HEAD): checks that an input is there before anything
/// is written.
pub(crate) fn object_size(url: &str) -> Result<u64> {
    Ok(crate::store::Store::for_url(url)?.input_meta(url)?.size)
}

/// The identity of a regular file at one moment: which file it is (device and inode) and what
/// it holds as far as the file system tells (length and modification time). Two stamps of an
/// unchanged file are equal; a rewrite, truncation, append or replacement changes at least one
/// field (a rewrite within the file system's timestamp granularity that keeps the length is the
/// one change it cannot see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    /// Length in bytes.
    pub(crate) len: u64,
    /// Modification time, where the platform has one.
    pub(crate) modified: Option<SystemTime>,
    /// Device of the file system holding it (0 where the platform has none).
    pub(crate) dev: u64,
    /// Inode number (0 where the platform has none).
    pub(crate) ino: u64,
}

impl FileStamp {
    /// The stamp of a file's metadata (`fstat` of an open file, or `stat` of a path).
    pub(crate) fn of(meta: &Metadata) -> FileStamp {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            dev,
            ino,
        }
    }

    /// The stamp of the file now at `path`.
    pub(crate) fn of_path(path: &Path) -> io::Result<FileStamp> {
        std::fs::metadata(path).map(|m| FileStamp::of(&m))
    }

    /// Whether `other` is the same file (device and inode).
    pub(crate) fn same_file(&self, other: &FileStamp) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

/// A regular input file that checks, when it has been read to its end, that it is still the
/// file it was when opened: as many bytes read as it had then, the same length and
/// modification time on the open file, and the same file at its path. A change is an
/// [`InputChangedIo`] error at the end, so a run that read a truncated, appended, rewritten or
/// replaced input fails ([`Error::InputChanged`]) instead of committing what it read.
struct Watched {
    file: File,
    path: PathBuf,
    name: SourceName,
    at_open: FileStamp,
    read: u64,
    /// The end's verdict once checked: reads after the end repeat it.
    checked: Option<Option<String>>,
}

/// `file` (the input at `path`), positioned at byte `offset` by a resumed run, read on with
/// the same end-of-input check as a fresh open: the bytes before the offset count as read.
pub(crate) fn watched_from(
    file: File,
    path: &Path,
    offset: u64,
) -> io::Result<Box<dyn Read + Send>> {
    let meta = file.metadata()?;
    let name = SourceName::new(&path.display().to_string());
    let mut watched = Watched::new(file, path.to_path_buf(), name, &meta);
    watched.read = offset;
    Ok(Box::new(watched))
}

impl Watched {
    fn new(file: File, path: PathBuf, name: SourceName, meta: &Metadata) -> Watched {
        Watched {
            file,
            path,
            name,
            at_open: FileStamp::of(meta),
            read: 0,
            checked: None,
        }
    }

    /// What changed since the file was opened, if anything.
    fn change(&self) -> Option<String> {
        let was = self.at_open;
        let now = match self.file.metadata() {
            Ok(m) => FileStamp::of(&m),
            Err(e) => return Some(format!("it cannot be examined any more ({e})")),
        };
        // Pseudo-files (`/proc`) report a length of 0 whatever they hold.
        let pseudo = was.len == 0 && now.len == 0;
        if (self.read != was.len && !pseudo) || now.len != was.len {
            let size = if now.len != was.len {
                now.len
            } else {
                self.read
            };
            return Some(format!(
                "its size went from {} to {} bytes ({} bytes read)",
                was.len, size, self.read
            ));
        }
        if now.modified != was.modified {
            return Some("it was modified (its modification time changed)".into());
        }
        match FileStamp::of_path(&self.path) {
            Ok(at_path) if at_path.same_file(&was) => None,
            Ok(_) => Some(format!(
                "{} is now another file (it was replaced, e.g. renamed over)",
                self.path.display()
            )),
            Err(e) => Some(format!(
                "{} is gone from its path ({e})",
                self.path.display()
            )),
        }
    }
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.checked.is_none() {
            let n = self.file.read(buf)?;
            self.read += n as u64;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let verdict = self.change();
            if let Some(detail) = &verdict {
                tracing::debug!(input = %self.name, "{detail}");
            }
            self.checked = Some(verdict);
        }
        match self.checked.as_ref().and_then(Option::as_ref) {
            Some(detail) => Err(io::Error::other(InputChangedIo(detail.clone()))),
            None => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(r: &mut dyn Read) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            match r.read(&mut buf)? {
                0 => return Ok(v),
                n => v.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn an_s3_url_is_an_object_named_by_its_url() {
        let s = Source::from_arg("s3://bkt/in.csv.gz");
        assert!(matches!(&s, Source::Url(u) if u == "s3://bkt/in.csv.gz"));
        assert_eq!(s.name().as_str(), "s3://bkt/in.csv.gz");
        assert!(matches!(Source::from_arg("s3:/bkt/x"), Source::Path(_)));
        let sink = crate::Sink::from_arg("s3://bkt/out.csv");
        assert!(matches!(&sink, crate::Sink::Url(u) if u == "s3://bkt/out.csv"));
        assert_eq!(sink.name(), "s3://bkt/out.csv");
    }

    #[test]
    fn an_unchanged_file_reads_to_its_end_and_a_changed_one_fails_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, b"a,b\n1,2\n3,4\n").unwrap();
        let (mut r, size) = Source::Path(path.clone()).open().unwrap();
        assert_eq!(size, Some(12));
        assert_eq!(read_all(&mut r).unwrap(), b"a,b\n1,2\n3,4\n");
        // Reads after the end repeat the verdict.
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);

        let (mut r, _) = Source::Path(path.clone()).open().unwrap();
        let mut head = [0u8; 4];
        r.read_exact(&mut head).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(6)
            .unwrap();
        let err = read_all(&mut r).unwrap_err();
        let err = Error::read(SourceName::new("in.csv"), err);
        assert_eq!(
            err.to_string(),
            "input in.csv changed while it was read: its size went from 12 to 6 bytes (6 bytes \
             read)"
        );
        let again = Error::read(SourceName::new("in.csv"), r.read(&mut head).unwrap_err());
        assert!(matches!(again, Error::InputChanged { .. }), "{again}");
    }
}

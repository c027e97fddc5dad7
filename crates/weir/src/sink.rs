//! Bytes out: files that appear at their path only when the run succeeds, or standard output.
//!
//! A file output is written to a temporary file beside its target (same directory, so the final
//! rename is atomic) and renamed into place by [`SinkWriter::commit`] after an `fsync`. Dropping
//! a writer without committing removes the temporary file, so a failed or stopped run leaves no
//! file that looks complete, and an existing file at the target stays untouched.
//!
//! An object output (`s3://bucket/key`, the `s3` feature) is written the same way to a temporary
//! file in the system's temporary folder, and uploaded by [`SinkWriter::commit`] (a multipart
//! upload above 8 MiB, which the store shows only once complete): the object appears only when
//! the run succeeded, and a failed run uploads nothing.
//!
//! A file (or object) whose name ends in `.gz`, `.zst` or `.zstd` is compressed as it is
//! written, on the writing (committer) thread; the compressed stream is finished before the
//! rename (or upload), so a committed file is always a complete gzip member or zstd frame.

use std::fs::{self, File, OpenOptions};
use std::hash::Hasher;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use twox_hash::XxHash64;

use crate::compress::Compression;
use crate::error::{Error, Result};
use crate::store::Location;

mod clash;
mod commit;
mod output;
pub(crate) mod parquet;
mod preflight;
mod reasons;
mod temps;

pub use clash::{check_places, is_written, Place};
#[cfg(test)]
pub(crate) use commit::CRASH_AT;
pub(crate) use commit::{commit_all, crash_point, journal_for, recover};
pub(crate) use output::Output;
pub use reasons::{reasons_beside, RejectsFormat, REASONS_HEADER};
pub use temps::remove_temp_files;

/// Where output goes.
#[non_exhaustive]
pub enum Sink {
    /// A file, written atomically.
    Path(PathBuf),
    /// Standard output.
    Stdout,
    /// An object in an object store (`s3://bucket/key`), uploaded when committed; needs the
    /// `s3` feature.
    Url(String),
    /// Any writer (flushed periodically and at the end).
    Writer(String, Box<dyn Write + Send>),
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Path(p) => write!(f, "Path({})", p.display()),
            Sink::Stdout => f.write_str("Stdout"),
            Sink::Url(url) => write!(f, "Url({url})"),
            Sink::Writer(name, _) => write!(f, "Writer({name})"),
        }
    }
}

impl Sink {
    /// `-` is standard output, `s3://bucket/key` an object; anything else a path.
    pub fn from_arg(arg: &str) -> Sink {
        if arg == "-" {
            Sink::Stdout
        } else if crate::store::is_url(arg) {
            Sink::Url(arg.to_string())
        } else {
            Sink::Path(PathBuf::from(arg))
        }
    }

    /// Where it writes, when a file or an object (not standard output nor a writer).
    pub(crate) fn location(&self) -> Option<Location> {
        match self {
            Sink::Path(p) => Some(Location::Path(p.clone())),
            Sink::Url(url) => Some(Location::Object(url.clone())),
            Sink::Stdout | Sink::Writer(..) => None,
        }
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Sink::Path(p) => p.display().to_string(),
            Sink::Stdout => "-".to_string(),
            Sink::Url(url) => url.clone(),
            Sink::Writer(name, _) => name.clone(),
        }
    }

    /// Opens the sink for writing (creating the temporary file for a path), compressing a
    /// `.gz`/`.zst`/`.zstd` file at its default level.
    pub fn open(self) -> Result<SinkWriter> {
        self.open_with(None)
    }

    /// [`Sink::open`] with a compression level for a compressed file (gzip 0-9, zstd 1-22;
    /// `None` for the default); ignored for other outputs.
    pub fn open_with(self, compression_level: Option<i32>) -> Result<SinkWriter> {
        match self {
            Sink::Path(path) => {
                // A device, FIFO or socket (`/dev/null`, `>(cmd)`) is written directly: renaming
                // a file over it would replace the device node itself.
                if let Ok(meta) = fs::metadata(&path) {
                    if meta.is_dir() {
                        let source = io::Error::new(io::ErrorKind::IsADirectory, "is a directory");
                        return Err(Error::Write { path, source });
                    }
                    if !meta.is_file() {
                        let file =
                            OpenOptions::new()
                                .write(true)
                                .open(&path)
                                .map_err(|source| Error::Write {
                                    path: path.clone(),
                                    source,
                                })?;
                        return Ok(SinkWriter::new(Target::Special { file, path }));
                    }
                }
                open_temp(Location::Path(path), compression_level)
            }
            Sink::Url(url) => open_upload(url, compression_level),
            Sink::Stdout => Ok(SinkWriter::new(Target::Stdout)),
            Sink::Writer(name, w) => Ok(SinkWriter::new(Target::Writer(name, w))),
        }
    }
}

/// The compression a file output's name asks for, and its level (the default unless given;
/// out of range is a usage error).
pub(crate) fn compression_for(path: &Path, level: Option<i32>) -> Result<(Compression, i32)> {
    let compression = Compression::from_path(path);
    let level = level.unwrap_or(compression.default_level());
    let (lo, hi) = compression.levels();
    if compression != Compression::None && !(lo..=hi).contains(&level) {
        return Err(Error::Config(format!(
            "{}: {compression} compression level {level} is out of range ({lo}..={hi})",
            path.display()
        )));
    }
    Ok((compression, level))
}

/// An object output: a temporary file in the system's temporary folder, uploaded at commit.
fn open_upload(url: String, compression_level: Option<i32>) -> Result<SinkWriter> {
    // Refused here, before anything is written, in a build without the `s3` feature.
    crate::store::Store::for_url(&url)?;
    open_temp(Location::Object(url), compression_level)
}

/// A file output written to a new temporary file (compressed as `place`'s name says), renamed
/// to `place` at commit, or uploaded to it.
fn open_temp(place: Location, compression_level: Option<i32>) -> Result<SinkWriter> {
    let temp = temp_path(&place);
    let path = place.as_path().to_path_buf();
    let (compression, level) = compression_for(&path, compression_level)?;
    // A file replacing another takes its permission bits from the start, so a private
    // output's data is never readable by others while it is written.
    let file = temps::create(&temp, |t| {
        let f = OpenOptions::new().write(true).create_new(true).open(t)?;
        if let Location::Path(path) = &place {
            keep_mode(t, path)?;
        }
        Ok(f)
    })
    .map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    let file = Stored {
        file,
        digest: None,
        sealed: false,
    };
    let file = Encoded::new(file, compression, level).map_err(|source| {
        let _ = fs::remove_file(&temp);
        temps::unregister(&temp);
        Error::Write {
            path: path.clone(),
            source,
        }
    })?;
    Ok(SinkWriter::new(Target::File {
        file,
        temp,
        place,
        committed: false,
    }))
}

/// Puts a finished temporary file in place: uploads it as the object, or gives it the replaced
/// file's permission bits and renames it over the path.
fn place(temp: &Path, place: &Location) -> Result<()> {
    let path = match place {
        Location::Object(url) => return crate::store::Store::for_url(url)?.upload(temp, url),
        Location::Path(path) => path,
    };
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    keep_mode(temp, path).map_err(err)?;
    fs::rename(temp, path).map_err(err)
}

/// Gives `temp` the permission bits of the file at `target` it is about to replace, so that
/// replacing an output neither widens nor narrows who may read it (a new output keeps the
/// umask's default).
pub(crate) fn keep_mode(temp: &Path, target: &Path) -> io::Result<()> {
    match fs::metadata(target) {
        Ok(old) if old.is_file() => fs::set_permissions(temp, old.permissions()),
        _ => Ok(()),
    }
}

/// A new temporary file's path for the output `place`: hidden beside it, or in the temporary
/// folder for an object; see [`temp_folder`].
fn temp_path(place: &Location) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = place.name();
    temp_folder(place).join(format!(".{name}.weir-{}-{n}.tmp", std::process::id()))
}

/// The folder where the temporary files of the output `place` are made: its own folder (so the
/// rename is atomic; empty for a bare name, the current folder), or the system's temporary
/// folder for an object.
fn temp_folder(place: &Location) -> PathBuf {
    match place {
        Location::Object(_) => std::env::temp_dir(),
        Location::Path(path) => path.parent().map(Path::to_path_buf).unwrap_or_default(),
    }
}

/// How many bytes a file output accumulates before their writeback to disk is started.
const WRITEBACK_STEP: u64 = 8 << 20;

/// Starts (does not wait for) writeback of a written range, so the `fsync` at commit finds
/// little left to do: on a 1 GB output it otherwise costs a third of the run.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the lifetime of `file`; the call takes no pointers,
    // and its failure only means the final fsync does the work.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _len: u64) {}

/// A file as written: the bytes as stored (compressed, for a compressed output), and their
/// running xxh64 when asked for (see [`SinkWriter::digest`]): computed as they are written,
/// never by reading the file back.
struct Stored {
    file: File,
    digest: Option<XxHash64>,
    /// Committed: the file is in place and takes no more bytes. (A gzip encoder ends its
    /// stream when it is dropped: a resumable output's, started afresh at its last sync, would
    /// add an empty member to the committed file, after its digest and checkpoint were taken.)
    sealed: bool,
}

impl Write for Stored {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.sealed {
            return Err(io::Error::other("the file is committed"));
        }
        self.file.write_all(bytes)?;
        if let Some(d) = &mut self.digest {
            d.write(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A file output, compressed or not.
enum Encoded {
    Plain(Stored),
    Gzip(Box<flate2::write::GzEncoder<Stored>>),
    Zstd(Box<zstd::stream::write::Encoder<'static, Stored>>),
}

impl Encoded {
    fn new(file: Stored, compression: Compression, level: i32) -> io::Result<Encoded> {
        Ok(match compression {
            Compression::None => Encoded::Plain(file),
            Compression::Gzip => Encoded::Gzip(Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::new(level.unsigned_abs()),
            ))),
            Compression::Zstd => {
                let mut e = zstd::stream::write::Encoder::new(file, level)?;
                // As the zstd tool does: a reader can then tell a corrupt frame from a good one
                // (the checksum costs far less than the compression).
                e.include_checksum(true)?;
                Encoded::Zstd(Box::new(e))
            }
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Encoded::Plain(f) => f.write_all(bytes),
            Encoded::Gzip(e) => e.write_all(bytes),
            Encoded::Zstd(e) => e.write_all(bytes),
        }
    }

    /// The file, for writeback, when its offsets are the written bytes' (uncompressed).
    fn plain(&self) -> Option<&File> {
        match self {
            Encoded::Plain(f) => Some(&f.file),
            _ => None,
        }
    }

    /// The file as stored.
    fn stored(&self) -> &Stored {
        match self {
            Encoded::Plain(f) => f,
            Encoded::Gzip(e) => e.get_ref(),
            Encoded::Zstd(e) => e.get_ref(),
        }
    }

    fn stored_mut(&mut self) -> &mut Stored {
        match self {
            Encoded::Plain(f) => f,
            Encoded::Gzip(e) => e.get_mut(),
            Encoded::Zstd(e) => e.get_mut(),
        }
    }

    /// Ends the compressed stream here (a gzip member, a zstd frame) and starts another after
    /// it, so that the file up to its present length is a whole compressed stream; a reader
    /// reads the members or frames one after the other as one stream.
    fn restart(&mut self, level: i32) -> io::Result<()> {
        let stored = self.finish()?;
        // The ended encoder writes nothing more: the digest goes on in the next one.
        let file = Stored {
            file: stored.file.try_clone()?,
            digest: stored.digest.clone(),
            sealed: false,
        };
        match self {
            Encoded::Plain(_) => {}
            Encoded::Gzip(_) => *self = Encoded::new(file, Compression::Gzip, level)?,
            Encoded::Zstd(_) => *self = Encoded::new(file, Compression::Zstd, level)?,
        }
        Ok(())
    }

    /// Writes the end of the compressed stream; returns the file.
    fn finish(&mut self) -> io::Result<&Stored> {
        match self {
            Encoded::Plain(f) => Ok(f),
            Encoded::Gzip(e) => {
                e.try_finish()?;
                Ok(e.get_ref())
            }
            Encoded::Zstd(e) => {
                e.do_finish()?;
                Ok(e.get_ref())
            }
        }
    }
}

enum Target {
    File {
        file: Encoded,
        temp: PathBuf,
        /// The output's path, or an object output's URL (`temp` is uploaded there at commit,
        /// not renamed).
        place: Location,
        committed: bool,
    },
    Special {
        file: File,
        path: PathBuf,
    },
    Stdout,
    Writer(String, Box<dyn Write + Send>),
}

/// An open output ([`Sink::open`]): a file is written to a temporary file beside it and
/// renamed over it by [`SinkWriter::commit`] (an object is uploaded then); dropped without a
/// commit, it leaves nothing behind. Standard output and writers are written as they go.
pub struct SinkWriter {
    target: Target,
    written: u64,
    /// Whether `commit` makes the output durable (fsync before the rename, and of the folder).
    durable: bool,
    /// Output offset from which written bytes have not yet been handed to writeback.
    writeback_from: u64,
    /// A resumable run's partial file: kept when the run fails, for `--resume`.
    keep_partial: bool,
    /// A resumable compressed file's level, and whether bytes were written since its
    /// compressed stream was last ended.
    restart: Option<(i32, bool)>,
}

impl SinkWriter {
    fn new(target: Target) -> SinkWriter {
        SinkWriter {
            target,
            written: 0,
            durable: false,
            writeback_from: 0,
            keep_partial: false,
            restart: None,
        }
    }

    /// A resumable run's output: `file` is the partial file `partial` (opened and positioned
    /// by the checkpoint code after what earlier attempts wrote, `written` bytes before
    /// compression), renamed to `path` by `commit` and kept when the writer is dropped
    /// uncommitted. Durable: checkpoints count only synced bytes. A compressed one (by the
    /// name of `path`) is written as a series of gzip members or zstd frames, one ended at
    /// each [`SinkWriter::sync`], so that any synced length of it is whole.
    pub(crate) fn partial(
        file: File,
        partial: PathBuf,
        path: PathBuf,
        written: u64,
        level: Option<i32>,
        digest: XxHash64,
    ) -> Result<SinkWriter> {
        let (compression, level) = compression_for(&path, level)?;
        let file = Stored {
            file,
            digest: Some(digest),
            sealed: false,
        };
        let file = Encoded::new(file, compression, level).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        Ok(SinkWriter {
            target: Target::File {
                file,
                temp: partial,
                place: Location::Path(path),
                committed: false,
            },
            written,
            durable: true,
            writeback_from: written,
            keep_partial: true,
            restart: (compression != Compression::None).then_some((level, false)),
        })
    }

    /// Syncs a file output's written bytes to disk, ending a compressed one's present member
    /// or frame first; returns the file's length, all of it whole and on disk (a checkpoint
    /// counts only that).
    pub(crate) fn sync(&mut self) -> Result<u64> {
        let restart = self.restart;
        let Target::File { file, place, .. } = &mut self.target else {
            return Ok(self.written);
        };
        let err = |source| Error::Write {
            path: place.as_path().to_path_buf(),
            source,
        };
        if let Some((level, true)) = restart {
            file.restart(level).map_err(err)?;
            self.restart = Some((level, false));
        }
        let f = &file.stored().file;
        f.sync_data().map_err(err)?;
        f.metadata().map(|m| m.len()).map_err(err)
    }

    /// Makes `commit` durable against power loss: the file is synced to disk before it is
    /// renamed into place, and the rename is synced too. Writeback of the written bytes starts
    /// while the run goes on, so the final sync waits for little more than the disk's backlog.
    /// Without it, the commit is still atomic for every failure but a power loss or kernel
    /// crash (the file appears whole or not at all), as DuckDB's and Polars' outputs are.
    /// An object output is as durable as its store makes it: its temporary file is not synced.
    pub fn set_durable(&mut self, durable: bool) {
        self.durable = durable
            && !matches!(
                &self.target,
                Target::File { place, .. } if place.is_object()
            );
    }

    pub(crate) fn path(&self) -> PathBuf {
        match &self.target {
            Target::File { place, .. } => place.as_path().to_path_buf(),
            Target::Special { path, .. } => path.clone(),
            Target::Stdout => PathBuf::from("-"),
            Target::Writer(name, _) => PathBuf::from(name),
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Keeps a running xxh64 of the bytes the file stores (after compression), for
    /// [`SinkWriter::digest`]; call it before the first write. Nothing for other outputs.
    pub(crate) fn keep_digest(&mut self) {
        if let Target::File { file, .. } = &mut self.target {
            let stored = file.stored_mut();
            stored.digest.get_or_insert_with(|| XxHash64::with_seed(0));
        }
    }

    /// The xxh64 of the bytes the file has stored so far (the whole file after
    /// [`SinkWriter::finish`], the synced prefix after [`SinkWriter::sync`]), if kept.
    pub(crate) fn digest(&self) -> Option<u64> {
        match &self.target {
            Target::File { file, .. } => file.stored().digest.as_ref().map(Hasher::finish),
            _ => None,
        }
    }

    /// Writes all of `bytes`.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let res = match &mut self.target {
            Target::File { file, .. } => file.write_all(bytes),
            Target::Special { file, .. } => file.write_all(bytes),
            Target::Stdout => io::stdout().lock().write_all(bytes),
            Target::Writer(_, w) => w.write_all(bytes),
        };
        match res {
            Ok(()) => {
                self.written += bytes.len() as u64;
                if let Some((_, pending)) = &mut self.restart {
                    *pending = true;
                }
                if let (Target::File { file, .. }, true) = (&self.target, self.durable) {
                    // A compressed file's offsets are not the written bytes': its commit
                    // syncs it whole.
                    let Some(file) = file.plain() else {
                        return Ok(());
                    };
                    if self.written - self.writeback_from >= WRITEBACK_STEP {
                        start_writeback(
                            file,
                            self.writeback_from,
                            self.written - self.writeback_from,
                        );
                        self.writeback_from = self.written;
                    }
                }
                Ok(())
            }
            Err(e)
                if e.kind() == io::ErrorKind::BrokenPipe
                    && matches!(self.target, Target::Stdout) =>
            {
                Err(Error::BrokenPipe)
            }
            Err(source) => Err(Error::Write {
                path: self.path(),
                source,
            }),
        }
    }

    /// Pushes buffered bytes to the operating system (a no-op for files, which are unbuffered).
    pub fn flush(&mut self) -> Result<()> {
        let res = match &mut self.target {
            Target::File { .. } | Target::Special { .. } => Ok(()),
            Target::Stdout => io::stdout().lock().flush(),
            Target::Writer(_, w) => w.flush(),
        };
        match res {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Error::BrokenPipe),
            Err(source) => Err(Error::Write {
                path: self.path(),
                source,
            }),
            Ok(()) => Ok(()),
        }
    }

    /// Writes everything that is still buffered (the end of a compressed stream included) and,
    /// if durable, syncs the file: every write that can fail (a full disk) fails here, before
    /// any output of the run is renamed into place. Calling it again does nothing more.
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.flush()?;
        let durable = self.durable;
        if let Some((_, false)) = self.restart {
            // A resumable compressed file whose every member is ended and synced: an empty
            // member more would add nothing.
            return Ok(());
        }
        if let Target::File { file, place, .. } = &mut self.target {
            let path = place.as_path();
            let file = file.finish().map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })?;
            if durable {
                file.file.sync_all().map_err(|source| Error::Write {
                    path: path.to_path_buf(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Makes the output final: renames a file into place (syncing it first if durable), or
    /// uploads an object output's temporary file (and removes it).
    pub fn commit(mut self) -> Result<()> {
        self.finish()?;
        if let Target::File {
            temp, place: to, ..
        } = &self.target
        {
            place(temp, to)?;
            if self.durable {
                sync_parent(to.as_path());
            }
        }
        self.placed();
        Ok(())
    }

    /// Marks a file output whose temporary file is in place as committed: dropping the writer
    /// no longer removes it (an uploaded one is removed now), nor writes to it.
    fn placed(&mut self) {
        if let Target::File {
            file,
            temp,
            committed,
            place,
        } = &mut self.target
        {
            file.stored_mut().sealed = true;
            *committed = true;
            if place.is_object() {
                let _ = fs::remove_file(&*temp);
            }
            temps::unregister(temp);
        }
    }
}

/// Makes a rename in `path`'s folder durable (not all platforms allow opening a folder).
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

impl Drop for SinkWriter {
    fn drop(&mut self) {
        if let Target::File {
            temp,
            committed: false,
            ..
        } = &self.target
        {
            if self.keep_partial {
                return;
            }
            let _ = fs::remove_file(temp);
            temps::unregister(temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_appears_only_on_commit_and_is_removed_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        fs::write(&target, b"old").unwrap();
        let mut w = Sink::Path(target.clone()).open().unwrap();
        w.write_all(b"new").unwrap();
        drop(w);
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file removed"
        );

        let mut w = Sink::Path(target.clone()).open().unwrap();
        w.set_durable(true);
        w.write_all(&vec![b'x'; 9 << 20]).unwrap(); // past one writeback step
        w.commit().unwrap();
        assert_eq!(fs::metadata(&target).unwrap().len(), 9 << 20);
        let mut w = Sink::Path(target.clone()).open().unwrap();
        w.write_all(b"new").unwrap();
        w.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn compressed_outputs_by_extension_round_trip_and_commit_atomically() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..50_000u32)
            .flat_map(|i| format!("{i},x{}\n", i % 97).into_bytes())
            .collect();
        for (name, level) in [
            ("out.csv.gz", None),
            ("out.csv.gz", Some(9)),
            ("out.csv.zst", None),
            ("out.ZSTD", Some(19)),
        ] {
            let target = dir.path().join(name);
            let mut w = Sink::Path(target.clone()).open_with(level).unwrap();
            for part in data.chunks(7000) {
                w.write_all(part).unwrap();
            }
            // Uncommitted: nothing at the target, no temporary file left.
            drop(w);
            assert!(!target.exists());
            assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);

            let mut w = Sink::Path(target.clone()).open_with(level).unwrap();
            w.set_durable(true);
            for part in data.chunks(7000) {
                w.write_all(part).unwrap();
            }
            assert_eq!(w.written(), data.len() as u64);
            w.commit().unwrap();
            let stored = fs::read(&target).unwrap();
            assert!(stored.len() < data.len() * 3 / 4, "{name} is compressed");
            let mut plain = Vec::new();
            if name.ends_with(".gz") {
                flate2::read::GzDecoder::new(&stored[..])
                    .read_to_end(&mut plain)
                    .unwrap();
            } else {
                plain = zstd::decode_all(&stored[..]).unwrap();
            }
            assert_eq!(plain, data, "{name}");
            fs::remove_file(&target).unwrap();
        }
    }

    #[test]
    fn a_committed_resumable_gzip_output_gains_nothing_when_its_writer_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join(".out.csv.gz.weir-partial");
        let target = dir.path().join("out.csv.gz");
        let file = File::create(&partial).unwrap();
        let mut w = SinkWriter::partial(
            file,
            partial.clone(),
            target.clone(),
            0,
            None,
            XxHash64::with_seed(0),
        )
        .unwrap();
        w.write_all(b"a,b\n1,2\n").unwrap();
        // A checkpoint ends the gzip member and starts another, which nothing is written to.
        let synced = w.sync().unwrap();
        let digest = w.digest();
        w.commit().unwrap();
        let stored = fs::read(&target).unwrap();
        assert_eq!(
            stored.len() as u64,
            synced,
            "no empty member after the commit"
        );
        assert_eq!(digest, Some(XxHash64::oneshot(0, &stored)));
    }

    #[test]
    fn a_compression_level_out_of_range_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        for (name, level) in [("o.gz", 10), ("o.gz", -1), ("o.zst", 0), ("o.zst", 23)] {
            let err = Sink::Path(dir.path().join(name))
                .open_with(Some(level))
                .err()
                .unwrap();
            assert!(err.is_usage(), "{err}");
            assert!(err.to_string().contains("out of range"), "{err}");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        // A level is ignored for a plain file.
        let w = Sink::Path(dir.path().join("o.csv"))
            .open_with(Some(99))
            .unwrap();
        drop(w);
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_path() {
        let err = Sink::Path(PathBuf::from("/nonexistent-dir/out.csv"))
            .open()
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("/nonexistent-dir/out.csv"),
            "{err}"
        );
    }

    #[cfg(feature = "s3")]
    #[test]
    fn an_object_output_is_a_temporary_file_until_committed() {
        let name = format!("weir-unit-{}.csv.gz", std::process::id());
        let temps = || {
            fs::read_dir(std::env::temp_dir())
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().contains(&name))
                .count()
        };
        let url = format!("s3://bkt/dir/{name}");
        let mut w = Sink::from_arg(&url).open().unwrap();
        w.set_durable(true);
        assert!(
            !w.durable,
            "the store makes an object durable, not an fsync"
        );
        w.write_all(b"a,b\n").unwrap();
        assert_eq!(w.path(), PathBuf::from(&url));
        assert_eq!(temps(), 1);
        drop(w); // not committed: nothing uploaded, the temporary file removed
        assert_eq!(temps(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_output_keeps_its_permission_bits_and_a_new_one_gets_the_default() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let fresh = dir.path().join("fresh.csv");
        let mut w = Sink::Path(fresh.clone()).open().unwrap();
        w.write_all(b"new").unwrap();
        w.commit().unwrap();
        let default = mode(&fresh);
        for old in [0o600, 0o640, 0o444, 0o755] {
            let target = dir.path().join("out.csv");
            fs::write(&target, b"old").unwrap();
            fs::set_permissions(&target, fs::Permissions::from_mode(old)).unwrap();
            let mut w = Sink::Path(target.clone()).open().unwrap();
            w.write_all(b"new").unwrap();
            w.commit().unwrap();
            assert_eq!(mode(&target), old, "{old:o}");
            assert_eq!(fs::read(&target).unwrap(), b"new");
            fs::remove_file(&target).unwrap();
        }
        assert_eq!(mode(&fresh), default);
    }

    #[test]
    fn a_device_is_written_directly_and_never_replaced() {
        let mut w = Sink::Path(PathBuf::from("/dev/null")).open().unwrap();
        w.write_all(b"gone").unwrap();
        w.commit().unwrap();
        let meta = fs::metadata("/dev/null").unwrap();
        assert!(!meta.is_file(), "/dev/null must still be a device");
    }
}

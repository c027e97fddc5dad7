//! Checkpoints: what a resumable run has durably committed, and how a later run of the same
//! pipeline on the same input continues exactly from there.
//!
//! A resumable run writes its outputs to fixed partial files beside their targets
//! (`.NAME.weir-partial`) instead of throwaway temporary files. Every so often the committer,
//! between two batches, takes a checkpoint: it syncs the partial outputs and the log of
//! ordered-gate keys to disk, then atomically replaces `.NAME.weir-checkpoint` (a JSON document
//! followed by a line with its own checksum) with one that records
//! - the identity of the pipeline (a hash of its steps, dialects and the caller's fingerprint)
//!   and of each input (size, modification time, a hash of its first 64 KiB);
//! - the position: the input, byte offset, line and chunk number the next chunk starts at, and
//!   a hash of the input bytes just before it;
//! - the committed lengths of the output, the rejects and the gate-key log, and every counter
//!   the report carries.
//!
//! A checkpoint is written only after the bytes it counts are on disk, so whatever kills the
//! process, the files hold at least what the last checkpoint says. A resumed run checks the
//! identity, truncates the partial files to the recorded lengths, restores the counters and the
//! gates' keys, positions the splitter (a seek for plain files; compressed input is decoded up
//! to the offset) and goes on; chunking from a chunk boundary is deterministic, so the finished
//! output, rejects and counters are byte-identical to an uninterrupted run's.
//!
//! The commit at the end records the state `committing`, commits the partial files and the
//! report together (all appear or none, see `sink::commit_all`), then records `complete`. The
//! next `--resume` after a crash between those steps ends that commit the same way, this run's
//! report with it; a run resumed after completion changes no output, says so, and writes its
//! report (the finished run's counters).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use twox_hash::XxHash64;

use crate::compress::{Compression, Decompress, SourceCounters};
use crate::error::{Error, Result, SourceName};
use crate::report::{FirstReject, Progress, Report};
use crate::source::Source;

/// The layout version of a checkpoint file.
const VERSION: u32 = 1;

/// How many bytes the identity hashes at the start of each input and before the position.
const BLOCK: u64 = 64 << 10;

/// The marker of the checksum line that ends a checkpoint file.
const CHECKSUM: &str = "checksum xxh64:";

/// A resumable run's settings.
#[derive(Debug, Clone)]
pub(crate) struct Resumable {
    /// The time between checkpoints.
    pub every: Duration,
    /// The caller's description of the pipeline (a CLI passes its resolved pipeline file and
    /// schema), hashed into the pipeline's identity with the engine's own view of it.
    pub fingerprint: String,
}

/// The files of a resumable run, all beside the output (the rejects' partial beside the
/// rejects).
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    pub checkpoint: PathBuf,
    pub output: PathBuf,
    pub output_partial: PathBuf,
    pub rejects: Option<PathBuf>,
    pub rejects_partial: Option<PathBuf>,
    /// The reasons sidecar of input-format rejects, and its partial file beside it.
    pub reasons: Option<PathBuf>,
    pub reasons_partial: Option<PathBuf>,
    pub gates: PathBuf,
}

/// `dir/.NAME.weir-SUFFIX` for `dir/NAME`.
pub(crate) fn beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hidden = format!(".{name}.weir-{suffix}");
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(hidden),
        _ => PathBuf::from(hidden),
    }
}

impl Paths {
    pub fn new(output: &Path, rejects: Option<&Path>) -> Paths {
        Paths {
            checkpoint: beside(output, "checkpoint"),
            output: output.to_path_buf(),
            output_partial: beside(output, "partial"),
            rejects: rejects.map(Path::to_path_buf),
            rejects_partial: rejects.map(|r| beside(r, "partial")),
            reasons: None,
            reasons_partial: None,
            gates: beside(output, "gates"),
        }
    }

    /// These paths with the reasons sidecar of input-format rejects, if any.
    pub fn with_reasons(mut self, reasons: Option<&Path>) -> Paths {
        self.reasons = reasons.map(Path::to_path_buf);
        self.reasons_partial = reasons.map(|r| beside(r, "partial"));
        self
    }

    /// Each output file with its partial file: the output, the rejects, the reasons.
    pub fn targets(&self) -> Vec<(&PathBuf, &PathBuf)> {
        let rejects = self.rejects.iter().zip(&self.rejects_partial);
        let reasons = self.reasons.iter().zip(&self.reasons_partial);
        std::iter::once((&self.output, &self.output_partial))
            .chain(rejects)
            .chain(reasons)
            .collect()
    }

    /// Removes the files of an earlier resumable run for the same output (a run that is not
    /// resumable replaced the output, so they describe nothing any more).
    pub fn remove_all(&self) {
        // A checkpoint's own temporary file too: a kill can come while one is written.
        let _ = fs::remove_file(beside(&self.checkpoint, "tmp"));
        for p in [
            Some(&self.checkpoint),
            Some(&self.output_partial),
            self.rejects_partial.as_ref(),
            self.reasons_partial.as_ref(),
            Some(&self.gates),
        ]
        .into_iter()
        .flatten()
        {
            let _ = fs::remove_file(p);
        }
    }
}

/// Where a run is in its commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum State {
    /// Running: the partial files hold the committed prefix.
    Running,
    /// Every record is committed; the partial files are being renamed into place.
    Committing,
    /// The outputs are in place.
    Complete,
}

/// What identifies an input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct InputStamp {
    pub path: String,
    pub size: u64,
    pub modified_ns: u64,
    /// Hash of the first 64 KiB as stored.
    pub head_hash: String,
}

/// Where the next chunk starts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Position {
    /// Which input.
    pub source: usize,
    /// Byte offset in that input (decompressed).
    pub offset: u64,
    /// Offset in the whole decompressed stream of all inputs.
    pub stream_offset: u64,
    /// Physical line in that input.
    pub line: u64,
    /// Sequence number of the next chunk.
    pub seq: u64,
    /// How many bytes before `offset` `tail_hash` covers.
    pub tail_len: u64,
    pub tail_hash: String,
}

/// The report's counts over the batches committed, as a checkpoint keeps them (the fields
/// are named as the report's; the names in the file are the older short ones).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct CommittedCounts {
    #[serde(rename = "read")]
    pub records_read: u64,
    #[serde(rename = "written")]
    pub records_written: u64,
    #[serde(rename = "filtered")]
    pub records_filtered: u64,
    #[serde(rename = "rejected")]
    pub records_rejected: u64,
    pub chunks: u64,
    pub committed_offset: u64,
    #[serde(rename = "reject_counts")]
    pub rejects_by_error: BTreeMap<String, u64>,
    #[serde(rename = "reject_fields")]
    pub rejects_by_field: BTreeMap<String, u64>,
    /// Text values written with U+FFFD (`--invalid-utf8 replace`); absent in older checkpoints.
    #[serde(default)]
    pub values_replaced: u64,
    /// The errors listed for the rejected records; absent in older checkpoints.
    #[serde(default)]
    pub reject_errors: u64,
    /// The first reject of each error with its batch's sequence number.
    pub first_rejects: BTreeMap<String, (u64, FirstReject)>,
    /// Records each head gate has passed (0 for other gates).
    pub heads: Vec<u64>,
    /// Where the run ended early (a full `head`); absent in older checkpoints.
    #[serde(default)]
    pub stopped_early: Option<crate::report::EarlyStop>,
}

impl CommittedCounts {
    /// Puts the counters in a report.
    pub fn fill_report(&self, report: &mut Report) {
        report.records_read = self.records_read;
        report.records_written = self.records_written;
        report.records_filtered = self.records_filtered;
        report.records_rejected = self.records_rejected;
        report.reject_errors = self.reject_errors;
        report.rejects_by_error = self.rejects_by_error.clone();
        report.rejects_by_field = self.rejects_by_field.clone();
        report.values_replaced = self.values_replaced;
        report.first_rejects = self
            .first_rejects
            .iter()
            .map(|(e, (_, first))| (e.clone(), first.clone()))
            .collect();
        report.committed_offset = self.committed_offset;
        report.chunks = self.chunks;
        report.stopped_early = self.stopped_early.clone();
    }
}

/// One checkpoint file; see the module documentation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    pub weir_checkpoint: u32,
    pub state: State,
    pub pipeline: String,
    pub inputs: Vec<InputStamp>,
    pub output: String,
    pub rejects: Option<String>,
    pub position: Position,
    /// The output's committed length as stored (compressed, for a compressed output).
    pub output_len: u64,
    /// The bytes written to the output before compression.
    pub output_written: u64,
    /// The xxh64 of the output's committed bytes as stored: a resumed run reads them back and
    /// refuses to go on when they differ (the partial file was edited).
    #[serde(default)]
    pub output_hash: String,
    pub rejects_len: u64,
    pub rejects_written: u64,
    /// The same for the rejects.
    #[serde(default)]
    pub rejects_hash: String,
    pub gates_len: u64,
    pub gates_hash: String,
    pub counters: CommittedCounts,
    /// The reasons sidecar of input-format rejects, as committed; absent for table rejects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<KeptReasons>,
}

/// What a checkpoint keeps of the reasons sidecar of input-format rejects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeptReasons {
    /// Its path.
    pub path: String,
    /// Its committed length as stored, the bytes written before compression and the xxh64 of
    /// what it stores, as for the output.
    pub len: u64,
    pub written: u64,
    pub hash: String,
    /// The line the next rejected record starts on in the rejects file.
    pub next_line: u64,
}

pub(crate) fn hash_hex(bytes: &[u8]) -> String {
    hex(XxHash64::oneshot(0, bytes))
}

/// A hash as written in a checkpoint.
fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

/// The identity of each input; every input must be a file (standard input cannot be read
/// again).
pub(crate) fn stamp_inputs(sources: &[&Source]) -> Result<Vec<InputStamp>> {
    sources
        .iter()
        .map(|s| {
            let Source::Path(path) = s else {
                return Err(Error::Config(format!(
                    "--resume needs input files: {} cannot be read again after a crash",
                    s.name()
                )));
            };
            let open_err = |source| Error::Open {
                source_name: s.name(),
                source,
            };
            // A pipe cannot be read again either, and opening one would block until a
            // writer comes, on the thread that must see a stop.
            if fs::metadata(path).is_ok_and(|m| !m.is_file()) {
                return Err(Error::Config(format!(
                    "--resume needs input files: {} is not a regular file, so it cannot be \
                     read again after a crash",
                    s.name()
                )));
            }
            let mut file = File::open(path).map_err(open_err)?;
            let meta = file.metadata().map_err(open_err)?;
            let mut head = Vec::new();
            (&mut file)
                .take(BLOCK)
                .read_to_end(&mut head)
                .map_err(|source| Error::Read {
                    source_name: s.name(),
                    source,
                })?;
            Ok(InputStamp {
                path: path.display().to_string(),
                size: meta.len(),
                modified_ns: modified_ns(&meta),
                head_hash: hash_hex(&head),
            })
        })
        .collect()
}

fn modified_ns(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Checkpoint {
    /// A checkpoint of a run at its start: identity filled in, nothing committed.
    pub fn new(pipeline: String, inputs: Vec<InputStamp>, paths: &Paths) -> Checkpoint {
        Checkpoint {
            weir_checkpoint: VERSION,
            state: State::Running,
            pipeline,
            inputs,
            output: paths.output.display().to_string(),
            rejects: paths.rejects.as_ref().map(|r| r.display().to_string()),
            position: Position::default(),
            output_len: 0,
            output_written: 0,
            output_hash: String::new(),
            rejects_len: 0,
            rejects_written: 0,
            rejects_hash: String::new(),
            gates_len: 0,
            gates_hash: String::new(),
            counters: CommittedCounts::default(),
            reasons: paths.reasons.as_ref().map(|r| KeptReasons {
                path: r.display().to_string(),
                ..KeptReasons::default()
            }),
        }
    }

    /// Reads the checkpoint at `path`; `None` if there is none. A file that does not end with
    /// the checksum of its content, or does not parse, is a refusal.
    pub fn load(path: &Path) -> Result<Option<Checkpoint>> {
        let text = match fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(refuse(path, format!("it cannot be read: {e}")));
            }
        };
        let damaged = |why: &str| {
            refuse(
                path,
                format!("the checkpoint is damaged ({why}); run without --resume to start over"),
            )
        };
        let text = std::str::from_utf8(&text).map_err(|_| damaged("not UTF-8"))?;
        let body_end = text
            .trim_end_matches('\n')
            .rfind('\n')
            .ok_or_else(|| damaged("no checksum line"))?;
        let (body, tail) = text.split_at(body_end + 1);
        let sum = tail
            .trim_end()
            .strip_prefix(CHECKSUM)
            .ok_or_else(|| damaged("no checksum line"))?;
        if sum != hash_hex(body.as_bytes()) {
            return Err(damaged("its checksum does not match its content"));
        }
        let cp: Checkpoint =
            serde_json::from_str(body).map_err(|e| damaged(&format!("unreadable: {e}")))?;
        if cp.weir_checkpoint != VERSION {
            return Err(refuse(
                path,
                format!(
                    "it has layout version {}, this weir reads version {VERSION}",
                    cp.weir_checkpoint
                ),
            ));
        }
        Ok(Some(cp))
    }

    /// Replaces the checkpoint at `path` atomically and durably: written beside it, synced,
    /// renamed over it, and the rename synced.
    pub fn store(&self, path: &Path) -> Result<()> {
        let write_err = |source| Error::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut body = serde_json::to_string_pretty(self).expect("a checkpoint serializes");
        body.push('\n');
        let sum = hash_hex(body.as_bytes());
        body.push_str(CHECKSUM);
        body.push_str(&sum);
        body.push('\n');
        let temp = beside(path, "tmp");
        let mut f = File::create(&temp).map_err(write_err)?;
        f.write_all(body.as_bytes()).map_err(write_err)?;
        f.sync_all().map_err(write_err)?;
        drop(f);
        fs::rename(&temp, path).map_err(write_err)?;
        sync_dir(path);
        Ok(())
    }

    /// Checks that this checkpoint was made by the same pipeline on the same inputs, writing
    /// to the same files.
    pub fn check_identity(
        &self,
        path: &Path,
        pipeline: &str,
        inputs: &[InputStamp],
        paths: &Paths,
    ) -> Result<()> {
        let start_over = "; run without --resume to start over";
        if self.pipeline != pipeline {
            return Err(refuse(
                path,
                format!("the pipeline changed since the checkpoint was taken{start_over}"),
            ));
        }
        let same_files = self.output == paths.output.display().to_string()
            && self.rejects == paths.rejects.as_ref().map(|r| r.display().to_string());
        if !same_files {
            return Err(refuse(
                path,
                format!(
                    "it was taken for output {} and rejects {}{start_over}",
                    self.output,
                    self.rejects.as_deref().unwrap_or("(none)")
                ),
            ));
        }
        let reasons = paths.reasons.as_ref().map(|r| r.display().to_string());
        if self.reasons.as_ref().map(|r| &r.path) != reasons.as_ref() {
            let format = |r: bool| if r { "input" } else { "table" };
            return Err(refuse(
                path,
                format!(
                    "it was taken for rejects in the {} format, not the {} one \
                     (--rejects-format){start_over}",
                    format(self.reasons.is_some()),
                    format(reasons.is_some()),
                ),
            ));
        }
        if self.inputs.len() != inputs.len()
            || self
                .inputs
                .iter()
                .zip(inputs)
                .any(|(a, b)| a.path != b.path)
        {
            let names = |v: &[InputStamp]| {
                v.iter()
                    .map(|i| i.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(refuse(
                path,
                format!(
                    "it was taken for inputs {}, not {}{start_over}",
                    names(&self.inputs),
                    names(inputs)
                ),
            ));
        }
        for (was, now) in self.inputs.iter().zip(inputs) {
            let change = if was.size != now.size {
                format!("its size went from {} to {} bytes", was.size, now.size)
            } else if was.head_hash != now.head_hash {
                "its first 64 KiB differ".to_string()
            } else if was.modified_ns != now.modified_ns {
                "its modification time changed".to_string()
            } else {
                continue;
            };
            return Err(refuse(
                path,
                format!(
                    "input {} changed since the checkpoint was taken: {change}{start_over}",
                    now.path
                ),
            ));
        }
        Ok(())
    }
}

/// A refusal to resume from the checkpoint at `path`.
pub(crate) fn refuse(path: &Path, reason: String) -> Error {
    Error::Resume {
        checkpoint: path.to_path_buf(),
        reason,
    }
}

/// Syncs the folder holding `path`, making a rename in it durable (best effort: not every
/// platform opens folders).
pub(crate) fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Opens input `path` at the checkpoint's `position`, after checking that the bytes just
/// before it are the ones the checkpoint hashed: a seek for a plain file, decoding up to the
/// offset for a compressed one. Counts what it reads into `progress` as a fresh open would.
pub(crate) fn open_at(
    path: &Path,
    position: &Position,
    checkpoint: &Path,
    progress: &Progress,
) -> Result<Box<dyn Read + Send>> {
    let name = SourceName::new(&path.display().to_string());
    let read_err = |source| Error::Read {
        source_name: name.clone(),
        source,
    };
    let mut file = File::open(path).map_err(|source| Error::Open {
        source_name: name.clone(),
        source,
    })?;
    let mut head = Vec::new();
    (&mut file)
        .take(4)
        .read_to_end(&mut head)
        .map_err(read_err)?;
    let (skip, tail_len) = (position.offset, position.tail_len.min(position.offset));
    let mut tail = vec![0; tail_len as usize];
    let reader: Box<dyn Read + Send> = if Compression::from_magic(&head) == Compression::None {
        file.seek(SeekFrom::Start(skip - tail_len))
            .map_err(read_err)?;
        file.read_exact(&mut tail).map_err(read_err)?;
        progress
            .source_bytes_read
            .fetch_add(skip, std::sync::atomic::Ordering::Relaxed);
        let watched = crate::source::watched_from(file, path, skip).map_err(read_err)?;
        Box::new(Decompress::plain(
            watched,
            Some(SourceCounters::of(progress)),
        ))
    } else {
        drop(file);
        let (mut reader, _) = Source::Path(path.to_path_buf()).open_counted(progress)?;
        let skipped = io::copy(&mut (&mut reader).take(skip - tail_len), &mut io::sink())
            .map_err(read_err)?;
        if skipped == skip - tail_len {
            reader.read_exact(&mut tail).map_err(read_err)?;
        }
        reader
    };
    if hash_hex(&tail) != position.tail_hash {
        return Err(refuse(
            checkpoint,
            format!(
                "input {name}: the bytes before offset {} differ from those the checkpoint \
                 recorded; run without --resume to start over",
                position.offset
            ),
        ));
    }
    Ok(reader)
}

/// A kept digest as a checkpoint records it (empty when not kept).
pub(crate) fn digest_hex(digest: Option<u64>) -> String {
    digest.map(hex).unwrap_or_default()
}

/// [`open_partial`], checking that the `keep` bytes kept hash to what the checkpoint recorded
/// (`(length, xxh64)`): they are read back once, at the resume, and the hash goes on over what
/// the resumed run writes. An edit anywhere in them is a refusal, not a silent splice.
pub(crate) fn open_partial_verified(
    path: &Path,
    keep: Option<(u64, &str)>,
    checkpoint: &Path,
) -> Result<(File, XxHash64)> {
    let mut hasher = XxHash64::with_seed(0);
    if let Some((len, want)) = keep {
        // Checked before anything is cut, so a refusal leaves the file as it was.
        let read_err = |source| Error::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(read_err)?;
        let mut buf = vec![0u8; 1 << 20];
        let mut left = len;
        while left > 0 {
            let n = file
                .read(&mut buf[..left.min(1 << 20) as usize])
                .map_err(read_err)?;
            if n == 0 {
                break;
            }
            std::hash::Hasher::write(&mut hasher, &buf[..n]);
            left -= n as u64;
        }
        let got = hex(std::hash::Hasher::finish(&hasher));
        // A file too short is open_partial's refusal, which says so.
        if left == 0 && got != want {
            let why = if want.is_empty() {
                "the checkpoint holds no digest of it (an older weir took it)".to_string()
            } else {
                format!("its first {len} bytes have xxh64 {got}, the checkpoint recorded {want}")
            };
            return Err(refuse(
                checkpoint,
                format!(
                    "{} was changed since the checkpoint was taken ({why}); run without \
                     --resume to start over",
                    path.display()
                ),
            ));
        }
    }
    let file = open_partial(path, keep.map(|k| k.0), checkpoint)?;
    Ok((file, hasher))
}

/// Opens a partial file for writing at `keep` bytes (truncating what a killed run wrote after
/// its last checkpoint), or empty; locked so that two resumable runs cannot write it at once.
pub(crate) fn open_partial(path: &Path, keep: Option<u64>, checkpoint: &Path) -> Result<File> {
    let write_err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(write_err)?;
    lock(&file).map_err(|e| {
        Error::Config(format!(
            "{}: another weir run is writing this output ({e})",
            path.display()
        ))
    })?;
    let keep = keep.unwrap_or(0);
    let len = file.metadata().map_err(write_err)?.len();
    if len < keep {
        return Err(refuse(
            checkpoint,
            format!(
                "{} holds {len} bytes but the checkpoint counts {keep}; run without --resume \
                 to start over",
                path.display()
            ),
        ));
    }
    file.set_len(keep).map_err(write_err)?;
    file.seek(SeekFrom::Start(keep)).map_err(write_err)?;
    Ok(file)
}

#[cfg(unix)]
fn lock(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the lifetime of `file`; the lock goes with it.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn lock(_file: &File) -> io::Result<()> {
    Ok(())
}

/// The log of keys the ordered gates (dedupe, unique) have registered: 28-byte entries
/// (gate: u32, line: u64, key: u128, little-endian), appended at each checkpoint and synced
/// before it, with a running hash of the committed prefix.
pub(crate) struct GateLog {
    file: File,
    path: PathBuf,
    len: u64,
    hasher: XxHash64,
    pending: Vec<u8>,
}

/// One entry of the gate log.
pub(crate) type GateEntry = (u32, u64, u128);

const ENTRY: usize = 28;

impl GateLog {
    /// Opens the log, keeping its first `keep` bytes (whose hash must be `hash`) and returning
    /// their entries.
    pub fn open(
        path: &Path,
        keep: Option<(u64, &str)>,
        checkpoint: &Path,
    ) -> Result<(GateLog, Vec<GateEntry>)> {
        let mut file = open_partial(path, keep.map(|k| k.0), checkpoint)?;
        let mut entries = Vec::new();
        let mut hasher = XxHash64::with_seed(0);
        if let Some((len, hash)) = keep {
            let mut bytes = Vec::with_capacity(len as usize);
            file.seek(SeekFrom::Start(0))
                .and_then(|_| (&mut file).take(len).read_to_end(&mut bytes))
                .map_err(|source| Error::Write {
                    path: path.to_path_buf(),
                    source,
                })?;
            std::hash::Hasher::write(&mut hasher, &bytes);
            if hex(std::hash::Hasher::finish(&hasher)) != hash || bytes.len() % ENTRY != 0 {
                return Err(refuse(
                    checkpoint,
                    format!(
                        "the gate-key log {} is damaged; run without --resume to start over",
                        path.display()
                    ),
                ));
            }
            for e in bytes.chunks_exact(ENTRY) {
                let gate = u32::from_le_bytes(e[..4].try_into().expect("4 bytes"));
                let line = u64::from_le_bytes(e[4..12].try_into().expect("8 bytes"));
                let key = u128::from_le_bytes(e[12..].try_into().expect("16 bytes"));
                entries.push((gate, line, key));
            }
        }
        Ok((
            GateLog {
                file,
                path: path.to_path_buf(),
                len: keep.map_or(0, |k| k.0),
                hasher,
                pending: Vec::new(),
            },
            entries,
        ))
    }

    /// Notes a key registered since the last checkpoint.
    pub fn push(&mut self, (gate, line, key): GateEntry) {
        self.pending.extend_from_slice(&gate.to_le_bytes());
        self.pending.extend_from_slice(&line.to_le_bytes());
        self.pending.extend_from_slice(&key.to_le_bytes());
    }

    /// Appends and syncs the pending keys; returns the committed length and its hash.
    pub fn sync(&mut self) -> Result<(u64, String)> {
        let err = |source| Error::Write {
            path: self.path.clone(),
            source,
        };
        if !self.pending.is_empty() {
            self.file.write_all(&self.pending).map_err(err)?;
            self.file.sync_data().map_err(err)?;
            std::hash::Hasher::write(&mut self.hasher, &self.pending);
            self.len += self.pending.len() as u64;
            self.pending.clear();
        }
        Ok((self.len, hex(std::hash::Hasher::finish(&self.hasher))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            weir_checkpoint: VERSION,
            state: State::Running,
            pipeline: "p".into(),
            inputs: vec![],
            output: "out.csv".into(),
            rejects: None,
            position: Position::default(),
            output_len: 10,
            output_written: 10,
            output_hash: String::new(),
            rejects_len: 0,
            rejects_written: 0,
            rejects_hash: String::new(),
            gates_len: 0,
            gates_hash: String::new(),
            counters: CommittedCounts::default(),
            reasons: None,
        }
    }

    #[test]
    fn a_checkpoint_round_trips_and_any_damage_is_a_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".out.csv.weir-checkpoint");
        assert!(Checkpoint::load(&path).unwrap().is_none());
        sample().store(&path).unwrap();
        let back = Checkpoint::load(&path).unwrap().unwrap();
        assert_eq!(back.output_len, 10);
        let good = fs::read_to_string(&path).unwrap();
        for damaged in [
            good.replace("\"output_len\": 10", "\"output_len\": 11"),
            good[..good.len() / 2].to_string(),
            good.replace(CHECKSUM, "sum "),
            String::new(),
        ] {
            fs::write(&path, damaged).unwrap();
            let err = Checkpoint::load(&path).unwrap_err();
            assert!(err.to_string().contains("damaged"), "{err}");
            assert!(err.is_usage());
        }
    }

    #[test]
    fn the_gate_log_keeps_its_committed_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gates");
        let cp = dir.path().join("cp");
        let (mut log, entries) = GateLog::open(&path, None, &cp).unwrap();
        assert!(entries.is_empty());
        log.push((1, 7, 42));
        log.push((0, 9, u128::MAX));
        let (len, hash) = log.sync().unwrap();
        log.push((2, 2, 2)); // never synced: a crash loses it
        drop(log);
        let (_, entries) = GateLog::open(&path, Some((len, &hash)), &cp).unwrap();
        assert_eq!(entries, vec![(1, 7, 42), (0, 9, u128::MAX)]);
        let err = GateLog::open(&path, Some((len, "0000")), &cp)
            .err()
            .unwrap();
        assert!(err.to_string().contains("damaged"), "{err}");
    }
}

//! Scale-out: one pipeline run as N shards over byte ranges of its inputs, on machines an
//! outside engine schedules (Ray, a job array), and the proof that the shards' union is exactly
//! the one-machine result. `docs/scale-out.md` is the contract; in short:
//!
//! - [`ShardPlan::new`] cuts each input after its header into nominal ranges `[s_k, s_{k+1})`;
//! - [`run_shard`] runs the pipeline over the records that *start* in one range: it finds its
//!   first record start from the byte before `s_k` (exactly for newline-framed formats,
//!   speculatively for CSV, see [`guess_start`]) and reads past `s_{k+1}` to the end of the
//!   record that crosses it; it writes its part, its rejects and, last, its report;
//! - [`merge`] proves, left to right, that each shard started where the one before it ended
//!   (then every shard parsed exactly as a serial reader would), has the wrong guesses re-run
//!   from the proven start, sums the reports, makes reject line numbers file-absolute, and
//!   commits with a `_SUCCESS` marker created only if absent.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::compress::Compression;
use crate::engine::{read_header, ShardRange};
use crate::error::{Error, Result};
use crate::format::{Dialect, Format};
use crate::report::{Report, Status};
use crate::sink::Sink;
use crate::source::{Source, SourceName};
use crate::split::{csv::QuoteScanner, Chunk, Cut, Framing, SplitterBuilder};
use crate::PipelineBuilder;

/// The plan's file in the shard folder.
pub const PLAN_FILE: &str = "_plan.json";
/// The folder of the shards' reports.
pub const REPORTS_DIR: &str = "_reports";
/// The folder of the shards' rejects.
pub const REJECTS_DIR: &str = "rejects";
/// The merged report.
pub const MERGED_REPORT: &str = "_report.json";
/// The merged rejects (line numbers file-absolute).
pub const MERGED_REJECTS: &str = "rejects.csv";
/// The marker a successful merge creates last.
pub const SUCCESS: &str = "_SUCCESS";
/// The layout version of `_plan.json`.
pub const PLAN_VERSION: u32 = 1;

/// How far past a guessed start the records are parsed to judge the guess.
const GUESS_WINDOW: usize = 64 << 10;
/// How many records after a guessed start are judged at most.
const GUESS_RECORDS: usize = 100;

/// How the inputs are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// About this many shards in all (several inputs share them by size).
    Count(usize),
    /// Shards of about this many bytes.
    Size(u64),
}

/// The plan: every shard's input and nominal byte range; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardPlan {
    /// [`PLAN_VERSION`].
    pub plan_version: u32,
    /// A hash of everything below: shards check they ran the same plan.
    pub id: String,
    /// The weir that made it.
    pub weir_version: String,
    /// A hash of the resolved pipeline (steps, schema, dialects, record rules).
    pub pipeline: String,
    /// The inputs, in order.
    pub inputs: Vec<PlanInput>,
    /// The shards, in input order.
    pub shards: Vec<PlanShard>,
}

/// One input of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    /// Its path or URL.
    pub name: String,
    /// Its size in bytes as stored.
    pub size: u64,
    /// What identifies this version of it: size and modification time of a file.
    pub version: String,
    /// The first byte after the header (and a byte order mark).
    pub data_start: u64,
    /// The line `data_start` is on.
    pub data_line: u64,
    /// The header's field count (CSV/TSV), to judge guessed starts.
    pub fields: Option<usize>,
    /// Whether it can be cut (plain bytes; compressed inputs are one shard each).
    pub splittable: bool,
}

/// One shard of a plan: the records of `input` that start in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanShard {
    /// The input's index.
    pub input: usize,
    /// The nominal start.
    pub start: u64,
    /// The nominal end.
    pub end: u64,
}

/// How a shard found where its first record starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartGuess {
    /// `data-start` (the first shard of an input), `newline` (a newline always ends a record),
    /// `given` (`--start-at`), `whole-input` (an input that cannot be cut), or the CSV
    /// hypothesis kept: `outside-quotes`, `inside-quotes` (`agree` when both found the same
    /// start).
    pub hypothesis: String,
    /// What each hypothesis found.
    pub candidates: Vec<Candidate>,
    /// Where the two hypotheses' parses reach the same record boundary, when they start apart
    /// and meet within the window read (then the one with fewer bad records on the way wins).
    #[serde(default)]
    pub met_at: Option<u64>,
}

/// What one hypothesis about the quote state before a shard's nominal start found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// `outside-quotes` or `inside-quotes`.
    pub hypothesis: String,
    /// The record start it leads to (`None`: the input ended inside quotes).
    pub start: Option<u64>,
    /// Records parsed after it (at most 100, or 64 KiB).
    pub records: u64,
    /// Of those, how many have the header's field count and no stray quote.
    pub well_formed: u64,
    /// Quotes that only make sense on the other hypothesis: a quote inside an unquoted field,
    /// text right after a closing quote.
    pub stray_quotes: u64,
    /// Bad records (another field count, stray quotes) its parse met before the other
    /// hypothesis's parse joined it.
    #[serde(default)]
    pub bad_before_meeting: Option<u64>,
}

/// What a shard's report says of the shard (the report's `shard` field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// The shard's index, from 0.
    pub index: usize,
    /// How many shards the plan has.
    pub count: usize,
    /// The plan's id.
    pub plan: String,
    /// The index of the input it read.
    pub input: usize,
    /// The plan's range.
    pub nominal_start: u64,
    /// The plan's range end.
    pub nominal_end: u64,
    /// Where its first record started.
    pub start: u64,
    /// Just after its last record (= `start` when it owned none).
    pub end: u64,
    /// How the start was found.
    pub start_guess: StartGuess,
    /// Line breaks between `start` and `end`.
    pub lines: u64,
    /// The length of the header row at the top of its part (0 without one).
    pub header_bytes: u64,
    /// The part's file name in the shard folder.
    pub part: String,
    /// The part's size in bytes.
    pub part_bytes: u64,
    /// When it started and finished (seconds since 1970).
    pub started_at: f64,
    /// See `started_at`.
    pub finished_at: f64,
    /// The command that ran it, without its shard selection, for a re-run from another start.
    pub argv: Vec<String>,
    /// The folder it ran in.
    pub cwd: String,
    /// The shard selection it ran with: `K` (with the plan file) or `K/N`.
    pub selection: String,
    /// For a failed shard: the line its error names, counted like the rejects' lines.
    pub error_line: Option<u64>,
}

/// What the merged report says of the shards (its `merge` field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeInfo {
    /// The plan's id.
    pub plan: String,
    /// How many shards.
    pub shards: usize,
    /// The shards whose guessed start was wrong and that were re-run from the proven start.
    pub repairs: Vec<usize>,
    /// The single file the parts were concatenated into, if any.
    pub concat: Option<String>,
}

/// A shard part's name: `part-00007`, zero-padded to at least five digits.
pub fn part_stem(index: usize, count: usize) -> String {
    let width = count.saturating_sub(1).to_string().len().max(5);
    format!("part-{index:0width$}")
}

/// The file extension of a part in `format`.
pub fn extension(format: Format) -> &'static str {
    match format {
        Format::Csv => "csv",
        Format::Tsv => "tsv",
        Format::Jsonl => "jsonl",
        Format::Lines => "txt",
        Format::Parquet => "parquet",
    }
}

/// xxh64 of `bytes` as 16 hex digits (stable across versions; identity, not security).
pub fn hash_hex(bytes: &[u8]) -> String {
    crate::checkpoint::hash_hex(bytes)
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The size and version of an input: a file's size and modification time, an object's size
/// and ETag.
fn stamp(name: &str) -> Result<(u64, String)> {
    #[cfg(feature = "s3")]
    if crate::store::is_url(name) {
        let meta = crate::store::Store::for_url(name)?.head(name)?;
        return Ok((meta.size, meta.version));
    }
    let meta = fs::metadata(name).map_err(|source| Error::Open {
        source_name: SourceName::new(name),
        source,
    })?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok((meta.len(), format!("size {} mtime {mtime}", meta.len())))
}

/// The stored bytes of input `name` from `offset` on; an object's reads are pinned to
/// `version` (a replaced object fails them with [`Error::InputChanged`]).
fn open_input(name: &str, offset: u64, version: &str) -> Result<Box<dyn Read + Send>> {
    #[cfg(feature = "s3")]
    if crate::store::is_url(name) {
        let store = crate::store::Store::for_url(name)?;
        return store.reader(name, offset, Some(version));
    }
    let _ = version; // a file's version is checked before and after the shard reads it
    let mut file = File::open(name).map_err(|source| Error::Open {
        source_name: SourceName::new(name),
        source,
    })?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::read(SourceName::new(name), e))?;
    Ok(Box::new(file))
}

impl ShardPlan {
    /// Plans `inputs` (files) read in `dialect`: reads each one's size, version and header.
    /// `pipeline` identifies the resolved pipeline.
    pub fn new(
        inputs: &[String],
        dialect: Dialect,
        max_record_size: usize,
        pipeline: &str,
        split: Split,
    ) -> Result<ShardPlan> {
        if inputs.iter().any(|i| i == "-") {
            return Err(Error::Config(
                "standard input cannot be sharded: give input files".into(),
            ));
        }
        let mut probed = Vec::with_capacity(inputs.len());
        for name in inputs {
            probed.push(probe(name, dialect, max_record_size)?);
        }
        let counts = shard_counts(&probed, split);
        let mut shards = Vec::new();
        for (i, (input, &n)) in probed.iter().zip(&counts).enumerate() {
            if !input.splittable {
                shards.push(PlanShard {
                    input: i,
                    start: 0,
                    end: input.size,
                });
                continue;
            }
            let body = input.size.saturating_sub(input.data_start);
            let nominal = |k: u64| input.data_start + (k as u128 * body as u128 / n as u128) as u64;
            for k in 0..n as u64 {
                shards.push(PlanShard {
                    input: i,
                    start: nominal(k),
                    end: if k + 1 == n as u64 {
                        input.size
                    } else {
                        nominal(k + 1)
                    },
                });
            }
        }
        let mut plan = ShardPlan {
            plan_version: PLAN_VERSION,
            id: String::new(),
            weir_version: env!("CARGO_PKG_VERSION").to_string(),
            pipeline: pipeline.to_string(),
            inputs: probed,
            shards,
        };
        plan.id = hash_hex(&serde_json::to_vec(&plan).expect("a plan serialises"));
        Ok(plan)
    }

    /// The plan as pretty JSON.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a plan serialises");
        s.push('\n');
        s
    }

    /// Reads a plan.
    pub fn from_json(bytes: &[u8], name: &str) -> Result<ShardPlan> {
        let plan: ShardPlan = serde_json::from_slice(bytes)
            .map_err(|e| Error::Config(format!("{name} is not a weir shard plan: {e}")))?;
        if plan.plan_version != PLAN_VERSION {
            return Err(Error::Config(format!(
                "{name} is a plan of layout {}, this weir reads layout {PLAN_VERSION}",
                plan.plan_version
            )));
        }
        Ok(plan)
    }
}

/// How many shards each input gets.
fn shard_counts(inputs: &[PlanInput], split: Split) -> Vec<usize> {
    match split {
        Split::Size(size) => inputs
            .iter()
            .map(|i| {
                let body = i.size.saturating_sub(i.data_start);
                if i.splittable {
                    body.div_ceil(size.max(1)).max(1) as usize
                } else {
                    1
                }
            })
            .collect(),
        Split::Count(n) => {
            let splittable: u64 = inputs
                .iter()
                .filter(|i| i.splittable)
                .map(|i| i.size.saturating_sub(i.data_start))
                .sum();
            let whole = inputs.iter().filter(|i| !i.splittable).count();
            let left = n.saturating_sub(whole).max(1);
            inputs
                .iter()
                .map(|i| {
                    if !i.splittable {
                        return 1;
                    }
                    let body = i.size.saturating_sub(i.data_start);
                    let share = (left as u128 * body as u128)
                        .checked_div(splittable as u128)
                        .unwrap_or(0);
                    (share as usize).max(1)
                })
                .collect()
        }
    }
}

/// Size, version, where the data starts and the header's width, of one input.
fn probe(name: &str, dialect: Dialect, max_record_size: usize) -> Result<PlanInput> {
    let (size, version) = stamp(name)?;
    let mut head = Vec::new();
    open_input(name, 0, &version)?
        .take(4)
        .read_to_end(&mut head)
        .map_err(|e| Error::read(SourceName::new(name), e))?;
    let splittable = Compression::from_magic(&head) == Compression::None;
    let mut input = PlanInput {
        name: name.to_string(),
        size,
        version,
        data_start: 0,
        data_line: 1,
        fields: None,
        splittable,
    };
    if !splittable {
        return Ok(input);
    }
    let reader = open_input(name, 0, &input.version)?;
    let mut splitter = SplitterBuilder::new(dialect.framing())
        .chunk_size(64 << 10)
        .max_record_size(max_record_size)
        .build(io::BufReader::new(reader), SourceName::new(name));
    if dialect.has_header() {
        input.fields = read_header(&mut splitter, &dialect)?.map(|(fields, _)| fields.len());
    } else {
        // Only a byte order mark precedes the data; the first record gives the width.
        let mut chunk = Chunk::default();
        let more = splitter.next_record(&mut chunk)?;
        if more && matches!(dialect.format, Format::Csv | Format::Tsv) {
            input.fields = Some(field_count(&chunk.data, dialect.framing()).0);
        }
        input.data_start = chunk.offset;
        input.data_line = 1;
        return Ok(input);
    }
    input.data_start = splitter.offset();
    input.data_line = splitter.line();
    Ok(input)
}

/// The number of fields of the record at the start of `bytes`, and its stray quotes.
fn field_count(bytes: &[u8], framing: Framing) -> (usize, u64) {
    match framing {
        Framing::Quoted { quote, delimiter } => {
            let (_, fields, stray) = parse_record(bytes, quote, delimiter);
            (fields, stray)
        }
        Framing::Lines => (1, 0),
    }
}

/// Parses the record at the start of `bytes` under the splitter's quote model: its length
/// with its terminator (`None` if `bytes` ends first), its field count, and its stray quotes
/// (a quote inside an unquoted field, text straight after a closing quote): legal, but what a
/// parse that started in the wrong quote state typically meets.
fn parse_record(bytes: &[u8], quote: u8, delimiter: u8) -> (Option<usize>, usize, u64) {
    let (mut fields, mut stray) = (1usize, 0u64);
    let mut i = 0;
    let mut field_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if b == quote && field_start {
            // A quoted field: to its closing quote (`""` is a quote inside).
            let mut j = i + 1;
            loop {
                match memchr::memchr(quote, &bytes[j.min(bytes.len())..]) {
                    None => return (None, fields, stray),
                    Some(q) => {
                        let at = j + q;
                        if bytes.get(at + 1) == Some(&quote) {
                            j = at + 2;
                            continue;
                        }
                        i = at + 1;
                        break;
                    }
                }
            }
            if let Some(&next) = bytes.get(i) {
                if next != delimiter && next != b'\n' && next != b'\r' {
                    stray += 1;
                }
            }
            field_start = false;
            continue;
        }
        field_start = false;
        if b == delimiter {
            fields += 1;
            field_start = true;
        } else if b == b'\n' {
            return (Some(i + 1), fields, stray);
        } else if b == b'\r' {
            return match bytes.get(i + 1) {
                Some(b'\n') => (Some(i + 2), fields, stray),
                Some(_) => (Some(i + 1), fields, stray),
                None => (None, fields, stray),
            };
        } else if b == quote {
            stray += 1;
        }
        i += 1;
    }
    (None, fields, stray)
}

/// Where the first record starting at or after `nominal` begins, judged from `window`: the
/// input's bytes from `window_at` (at most `nominal - 2`, so that the byte before the nominal
/// start and the one before that are in view) on; `eof` says the window reaches the input's
/// end. For newline-framed formats the answer is exact (the byte after the first `\n` at or
/// after `nominal - 1`); for CSV it is the better of two hypotheses about the quote state
/// before `nominal - 1`, judged by the records that follow (the header's field count, no stray
/// quotes), "outside quotes" on a tie. `None`: the window holds no answer (read a longer one).
pub fn guess_start(
    window: &[u8],
    window_at: u64,
    nominal: u64,
    eof: bool,
    framing: Framing,
    fields: Option<usize>,
) -> Option<(u64, StartGuess)> {
    let from = (nominal - 1 - window_at) as usize;
    match framing {
        Framing::Lines => {
            let at = match memchr::memchr(b'\n', &window[from..]) {
                Some(i) => from + i + 1,
                None if eof => window.len(),
                None => return None,
            };
            Some((
                window_at + at as u64,
                StartGuess {
                    hypothesis: "newline".into(),
                    ..Default::default()
                },
            ))
        }
        Framing::Quoted { quote, delimiter } => {
            let mut candidates = Vec::new();
            for quoted in [false, true] {
                let mut scanner = QuoteScanner::starting_at(from, quoted);
                let at = match scanner.scan(window, quote, delimiter, eof, Cut::First) {
                    Some(at) => Some(at),
                    None if eof && scanner.unterminated_quote().is_none() => Some(window.len()),
                    None if eof => None,
                    None => {
                        if window.len() - from < GUESS_WINDOW * 4 {
                            return None; // not decided yet: read on
                        }
                        None // no record end within the window on this hypothesis
                    }
                };
                let mut c = Candidate {
                    hypothesis: if quoted {
                        "inside-quotes"
                    } else {
                        "outside-quotes"
                    }
                    .into(),
                    start: at.map(|a| window_at + a as u64),
                    ..Default::default()
                };
                if let Some(mut pos) = at {
                    let limit = (pos + GUESS_WINDOW).min(window.len());
                    while c.records < GUESS_RECORDS as u64 && pos < limit {
                        let (len, n, stray) = parse_record(&window[pos..], quote, delimiter);
                        let len = match len {
                            Some(len) => len,
                            // The last record of the input, or one the window cuts.
                            None if eof && window.len() - pos < GUESS_WINDOW => window.len() - pos,
                            None => break,
                        };
                        c.records += 1;
                        c.stray_quotes += stray;
                        if stray == 0 && fields.is_none_or(|f| f == n) {
                            c.well_formed += 1;
                        }
                        pos += len;
                    }
                }
                candidates.push(c);
            }
            let score = |c: &Candidate| {
                // Well-formed share (in thousandths), then fewer stray quotes.
                let share = (c.well_formed * 1000).checked_div(c.records).unwrap_or(500);
                (c.start.is_some(), share, u64::MAX - c.stray_quotes)
            };
            // Two different starts: follow both parses until they reach the same record
            // boundary (from there on they are one parse). The right one met only the data's own
            // bad records on the way; the wrong one usually also the garbage of its resync.
            let met = match (candidates[0].start, candidates[1].start) {
                (Some(a), Some(b)) if a != b => {
                    let at = |x: u64| (x - window_at) as usize;
                    meet(window, at(a), at(b), quote, delimiter, fields)
                }
                _ => None,
            };
            if let Some((_, bad_out, bad_in)) = met {
                candidates[0].bad_before_meeting = Some(bad_out);
                candidates[1].bad_before_meeting = Some(bad_in);
            }
            let (out, inside) = (&candidates[0], &candidates[1]);
            let (start, hypothesis) = if out.start == inside.start {
                (out.start, "agree")
            } else if let Some((_, bad_out, bad_in)) = met {
                if bad_in < bad_out {
                    (inside.start, "inside-quotes")
                } else {
                    (out.start, "outside-quotes")
                }
            } else if score(inside) > score(out) {
                (inside.start, "inside-quotes")
            } else {
                (out.start, "outside-quotes")
            };
            // Neither hypothesis ends a record before the input ends: the shard starts at the
            // end and owns nothing (the shard before it reads to the end).
            let start = start.unwrap_or(window_at + window.len() as u64);
            Some((
                start,
                StartGuess {
                    hypothesis: hypothesis.into(),
                    candidates,
                    met_at: met.map(|(at, _, _)| window_at + at as u64),
                },
            ))
        }
    }
}

/// Follows the record boundaries of two parses of `window`, from `a` and from `b`, until they
/// reach the same boundary: where, and how many bad records (another field count than the
/// header's, stray quotes) each met before. `None` if they do not meet within the window.
fn meet(
    window: &[u8],
    mut a: usize,
    mut b: usize,
    quote: u8,
    delimiter: u8,
    fields: Option<usize>,
) -> Option<(usize, u64, u64)> {
    let (mut bad_a, mut bad_b) = (0u64, 0u64);
    while a != b {
        let (pos, bad) = if a < b {
            (&mut a, &mut bad_a)
        } else {
            (&mut b, &mut bad_b)
        };
        let (len, n, stray) = parse_record(&window[*pos..], quote, delimiter);
        if stray > 0 || fields.is_some_and(|f| f != n) {
            *bad += 1;
        }
        *pos += len?;
    }
    Some((a, bad_a, bad_b))
}

/// Reads the bytes of `path` from `at` until `guess_start` can answer.
fn find_start(
    name: &str,
    version: &str,
    nominal: u64,
    size: u64,
    framing: Framing,
    fields: Option<usize>,
    max_record_size: usize,
) -> Result<(u64, StartGuess)> {
    let at = nominal.saturating_sub(2);
    let mut file = open_input(name, at, version)?;
    let read_err = |source| Error::read(SourceName::new(name), source);
    let mut window = Vec::new();
    let mut want = (4 * GUESS_WINDOW) as u64;
    loop {
        let have = window.len() as u64;
        (&mut file)
            .take(want - have)
            .read_to_end(&mut window)
            .map_err(read_err)?;
        let eof = at + window.len() as u64 >= size || (window.len() as u64) < want;
        if let Some(found) = guess_start(&window, at, nominal, eof, framing, fields) {
            return Ok(found);
        }
        if window.len() > max_record_size + 8 * GUESS_WINDOW {
            // No hypothesis ends a record within the longest record allowed: the record that
            // holds the nominal start is too large, as a one-machine run would say.
            return Err(Error::RecordTooLarge {
                source_name: SourceName::new(name),
                line: 0,
                byte_offset: nominal,
                limit: max_record_size,
            });
        }
        want *= 2;
    }
}

/// Where a shard's outputs go: a local (or shared) folder, or an `s3://` prefix.
#[derive(Debug)]
pub struct OutDir {
    dir: String,
    #[cfg(feature = "s3")]
    store: Option<crate::store::Store>,
}

impl OutDir {
    /// The folder or `s3://bucket/prefix` `arg`.
    pub fn new(arg: &str) -> Result<OutDir> {
        let dir = arg.trim_end_matches('/').to_string();
        #[cfg(feature = "s3")]
        {
            let store = crate::store::is_url(arg)
                .then(|| crate::store::Store::for_url(arg))
                .transpose()?;
            Ok(OutDir { dir, store })
        }
        #[cfg(not(feature = "s3"))]
        {
            if arg.starts_with("s3://") {
                return Err(Error::Config(
                    "s3:// shard folders need weir built with the `s3` feature".into(),
                ));
            }
            Ok(OutDir { dir })
        }
    }

    /// The folder's name, as given.
    pub fn name(&self) -> &str {
        &self.dir
    }

    /// Where `name` in the folder is (a path or a URL), for messages.
    pub fn location(&self, name: &str) -> String {
        format!("{}/{name}", self.dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        Path::new(&self.dir).join(name)
    }

    #[cfg(feature = "s3")]
    fn object(&self) -> Option<&crate::store::Store> {
        self.store.as_ref()
    }

    /// Creates the folder and its `_reports` and `rejects` folders (for a prefix: checks the
    /// bucket is there).
    pub fn prepare(&self) -> Result<()> {
        #[cfg(feature = "s3")]
        if let Some(store) = self.object() {
            return store.check_bucket(&self.location(PLAN_FILE));
        }
        for d in [
            PathBuf::from(&self.dir),
            self.file(REPORTS_DIR),
            self.file(REJECTS_DIR),
        ] {
            fs::create_dir_all(&d).map_err(|source| Error::Write {
                path: d.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The bytes of `name`, `None` if there is no such file.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        #[cfg(feature = "s3")]
        if let Some(store) = self.object() {
            return store.get(&self.location(name));
        }
        let path = self.file(name);
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Read {
                source_name: SourceName::new(&path.display().to_string()),
                source,
            }),
        }
    }

    /// Writes `name` atomically (temporary file, sync, rename; one PUT for an object).
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        #[cfg(feature = "s3")]
        if let Some(store) = self.object() {
            return store.put(&self.location(name), bytes);
        }
        let mut w = Sink::Path(self.file(name)).open()?;
        w.set_durable(true);
        w.write_all(bytes)?;
        w.commit()
    }

    /// Creates `name` with `bytes` only if it does not exist (`O_EXCL`, or `If-None-Match: *`
    /// for an object); `false` if it did.
    pub fn create_new(&self, name: &str, bytes: &[u8]) -> Result<bool> {
        #[cfg(feature = "s3")]
        if let Some(store) = self.object() {
            return store.put_if_absent(&self.location(name), bytes);
        }
        let path = self.file(name);
        let err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(bytes).map_err(err)?;
                f.sync_all().map_err(err)?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(err(e)),
        }
    }

    /// The size of `name`, `None` if there is no such file.
    fn size(&self, name: &str) -> Option<u64> {
        #[cfg(feature = "s3")]
        if let Some(store) = self.object() {
            return store.head(&self.location(name)).ok().map(|m| m.size);
        }
        fs::metadata(self.file(name)).ok().map(|m| m.len())
    }

    /// Removes `name`, if it is there.
    fn remove(&self, name: &str) {
        #[cfg(feature = "s3")]
        if let Some(store) = self.object() {
            let _ = store.delete(&self.location(name));
            return;
        }
        let _ = fs::remove_file(self.file(name));
    }

    /// Opens `name` for reading from byte `offset`.
    fn open_at(&self, name: &str, offset: u64) -> Result<Box<dyn Read + Send>> {
        #[cfg(feature = "s3")]
        if let Some(store) = self.object() {
            return store.reader(&self.location(name), offset, None);
        }
        let path = self.file(name);
        let name = SourceName::new(&path.display().to_string());
        let mut file = File::open(&path).map_err(|source| Error::Open {
            source_name: name.clone(),
            source,
        })?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::read(name, e))?;
        Ok(Box::new(file))
    }

    /// Removes the temporary files of shard attempts that were killed before they could
    /// (`.part-00007.csv.weir-PID-N.tmp`): once merged, nothing is writing a part worth having.
    /// (An object store has none: an unfinished upload is never visible.)
    fn remove_leftovers(&self) {
        #[cfg(feature = "s3")]
        if self.object().is_some() {
            return;
        }
        for d in [
            PathBuf::from(&self.dir),
            self.file(REJECTS_DIR),
            self.file(REPORTS_DIR),
        ] {
            let Ok(entries) = fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(".part-") && name.contains(".weir-") && name.ends_with(".tmp") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }

    /// The sink that writes `name` (atomically: renamed into place, or uploaded at commit).
    fn sink(&self, name: &str) -> Sink {
        #[cfg(feature = "s3")]
        if self.object().is_some() {
            return Sink::from_arg(&self.location(name));
        }
        Sink::Path(self.file(name))
    }
}

/// Which shard to run.
#[derive(Debug, Clone)]
pub struct ShardJob {
    /// The shard's index.
    pub index: usize,
    /// `Some(N)` for `K/N` (the shard plans itself); `None` to use the plan file.
    pub count: Option<usize>,
    /// A proven start (`--start-at`), instead of the guess.
    pub start_at: Option<u64>,
    /// The command as typed, without the shard selection and `--start-at` (for a re-run).
    pub argv: Vec<String>,
}

/// How a shard run ended.
#[derive(Debug)]
pub enum ShardOutcome {
    /// It ran; its report is written.
    Done(Box<Report>),
    /// A report of the same plan and start was there already: nothing was done.
    AlreadyDone(Box<Report>),
}

/// The report file of shard `index` (`failed`: of a failed attempt).
pub fn report_name(index: usize, count: usize, failed: bool) -> String {
    let stem = part_stem(index, count);
    if failed {
        format!("{REPORTS_DIR}/{stem}.failed.json")
    } else {
        format!("{REPORTS_DIR}/{stem}.json")
    }
}

/// Reads a report written by a shard.
fn read_report(dir: &OutDir, name: &str) -> Result<Option<Report>> {
    let Some(bytes) = dir.read(name)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Config(format!("{} is not a weir report: {e}", dir.location(name))))
}

fn report_json(report: &Report) -> Vec<u8> {
    let mut json = serde_json::to_vec_pretty(report).expect("a report serialises");
    json.push(b'\n');
    json
}

/// The plan a shard runs: the plan file, or (with `K/N`) the same plan made here, which is
/// then stored if no shard stored one yet.
pub fn load_or_make_plan(
    dir: &OutDir,
    plan_file: Option<&Path>,
    count: Option<usize>,
    make: impl FnOnce(Split) -> Result<ShardPlan>,
) -> Result<ShardPlan> {
    if let Some(n) = count {
        let plan = make(Split::Count(n))?;
        if plan.shards.len() != n {
            return Err(Error::Config(format!(
                "--shard K/{n}: the inputs make {} shards (a compressed input is one shard; \
                 several inputs share the count by size): use `weir plan`",
                plan.shards.len()
            )));
        }
        dir.prepare()?;
        if !dir.create_new(PLAN_FILE, plan.to_json().as_bytes())? {
            let stored = dir.read(PLAN_FILE)?.unwrap_or_default();
            let stored = ShardPlan::from_json(&stored, PLAN_FILE)?;
            if stored.id != plan.id {
                return Err(Error::Config(format!(
                    "{} holds another plan ({}; this shard's is {}): the input or pipeline \
                     differs, or the folder is another run's",
                    dir.location(PLAN_FILE),
                    stored.id,
                    plan.id
                )));
            }
        }
        return Ok(plan);
    }
    let (bytes, name) = match plan_file {
        Some(p) => (
            fs::read(p).map_err(|source| Error::Open {
                source_name: SourceName::new(&p.display().to_string()),
                source,
            })?,
            p.display().to_string(),
        ),
        None => (
            dir.read(PLAN_FILE)?.ok_or_else(|| {
                Error::Config(format!(
                    "no plan at {}: run `weir plan` first, or give --shard K/N",
                    dir.location(PLAN_FILE)
                ))
            })?,
            dir.location(PLAN_FILE),
        ),
    };
    ShardPlan::from_json(&bytes, &name)
}

/// Runs shard `job.index` of `plan` with the pipeline `builder` describes (its input and
/// output are replaced by the shard's), writing the part, the rejects and the report into
/// `dir`. The report is written last; a failed shard writes a `.failed.json` report (with
/// where it started) and returns the error.
pub fn run_shard(
    builder: PipelineBuilder,
    plan: &ShardPlan,
    job: &ShardJob,
    dir: &OutDir,
) -> Result<ShardOutcome> {
    let count = plan.shards.len();
    let k = job.index;
    let shard = *plan.shards.get(k).ok_or_else(|| {
        Error::Config(format!(
            "shard {k} is not in the plan: it has shards 0 to {}",
            count.saturating_sub(1)
        ))
    })?;
    let input = &plan.inputs[shard.input];
    dir.prepare()?;
    let ok_name = report_name(k, count, false);
    if let Some(done) = read_report(dir, &ok_name)? {
        if let Some(info) = &done.shard {
            let same_start = job.start_at.is_none_or(|s| s == info.start);
            let part_ok = dir.size(&info.part) == Some(info.part_bytes);
            if info.plan == plan.id && same_start && part_ok && done.status == Status::Succeeded {
                return Ok(ShardOutcome::AlreadyDone(Box::new(done)));
            }
        }
    }
    let started_at = now_seconds();
    let selection = match job.count {
        Some(n) => format!("{k}/{n}"),
        None => k.to_string(),
    };
    let mut info = ShardInfo {
        index: k,
        count,
        plan: plan.id.clone(),
        input: shard.input,
        nominal_start: shard.start,
        nominal_end: shard.end,
        started_at,
        argv: job.argv.clone(),
        cwd: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        selection,
        ..Default::default()
    };
    let result = run_shard_inner(builder, plan, job, dir, &mut info);
    info.finished_at = now_seconds();
    match result {
        Ok(mut report) => {
            report.shard = Some(info);
            dir.write(&ok_name, &report_json(&report))?;
            // A failed attempt's report is out of date now.
            dir.remove(&report_name(k, count, true));
            Ok(ShardOutcome::Done(Box::new(report)))
        }
        Err((error, report)) => {
            // Only a data error says something about the shard's start (merge judges it); a
            // stop, a usage error or a transient one leaves the shard to be run again.
            if !is_data_error(&error) {
                return Err(error);
            }
            let mut report = report.unwrap_or_else(|| Box::new(Report::empty(input.name.clone())));
            info.error_line = error_line(&error);
            report.status = Status::Failed;
            report.error = Some(error.to_string());
            // A success report of another start is superseded (this attempt is a re-run from
            // a proven start); one of the same start stays: it is a duplicate's good result.
            if let Some(done) = read_report(dir, &ok_name).ok().flatten() {
                if done.shard.is_some_and(|d| d.start != info.start) {
                    dir.remove(&ok_name);
                }
            }
            report.shard = Some(info);
            dir.write(&report_name(k, count, true), &report_json(&report))?;
            Err(error)
        }
    }
}

/// Whether an error is in the data (the same shard from the same start fails again: an
/// unterminated quote, a record too large, an input changed since the plan, a failing step),
/// as opposed to a stop, a usage error, or a transient one (I/O, network) worth a retry.
pub fn is_data_error(e: &Error) -> bool {
    match e {
        Error::InputChanged { .. } => true,
        Error::Stopped(_) | Error::BrokenPipe => false,
        e if e.is_usage() || e.is_transient() => false,
        Error::Open { .. } | Error::Read { .. } | Error::Write { .. } => false,
        _ => true,
    }
}

/// The line a data error names.
fn error_line(e: &Error) -> Option<u64> {
    match e {
        Error::UnterminatedQuote { line, .. } | Error::RecordTooLarge { line, .. } => Some(*line),
        _ => None,
    }
}

type Failed = (Error, Option<Box<Report>>);

fn run_shard_inner(
    builder: PipelineBuilder,
    plan: &ShardPlan,
    job: &ShardJob,
    dir: &OutDir,
    info: &mut ShardInfo,
) -> std::result::Result<Report, Failed> {
    let shard = plan.shards[job.index];
    let input = &plan.inputs[shard.input];
    let changed = |detail: String| Error::InputChanged {
        source_name: SourceName::new(&input.name),
        detail,
    };
    let check_stamp = || -> Result<()> {
        let (size, version) = stamp(&input.name)?;
        if version != input.version {
            return Err(changed(format!(
                "the plan saw {} bytes ({}), now it has {size} ({version}): plan again",
                input.size, input.version
            )));
        }
        Ok(())
    };
    check_stamp().map_err(|e| (e, None))?;
    let dialect = builder.input_dialect();
    let out_dialect = builder.output_dialect_resolved();
    let out_format = out_dialect.format;
    let part = format!(
        "{}.{}",
        part_stem(job.index, plan.shards.len()),
        extension(out_format)
    );
    let rejects = format!(
        "{REJECTS_DIR}/{}.csv",
        part_stem(job.index, plan.shards.len())
    );
    info.part = part.clone();
    let source = Source::from_arg(&input.name);
    let report = if !input.splittable {
        // A compressed input is one shard: the whole input, as a one-machine run reads it.
        info.start = shard.start;
        info.end = shard.end;
        info.start_guess.hypothesis = "whole-input".into();
        let b = builder.reroute(source, dir.sink(&part), dir.sink(&rejects));
        let mut report = b.build().run().map_err(|f| (f.error, Some(f.report)))?;
        report.shard = None;
        report
    } else {
        let (start, guess) = match job.start_at {
            Some(s) => (
                s,
                StartGuess {
                    hypothesis: "given".into(),
                    ..Default::default()
                },
            ),
            None if shard.start <= input.data_start => (
                input.data_start,
                StartGuess {
                    hypothesis: "data-start".into(),
                    ..Default::default()
                },
            ),
            None => find_start(
                &input.name,
                &input.version,
                shard.start,
                input.size,
                dialect.framing(),
                input.fields,
                builder.record_limit(),
            )
            .map_err(|e| (e, None))?,
        };
        info.start = start;
        info.start_guess = guess;
        let file = open_input(&input.name, start, &input.version).map_err(|e| (e, None))?;
        let range = ShardRange {
            start,
            end: shard.end.max(start),
            line: input.data_line,
            reader: Box::new(io::BufReader::with_capacity(64 << 10, file)),
        };
        let b = builder.shard(source, dir.sink(&part), dir.sink(&rejects), range);
        let mut report = b.build().run().map_err(|f| (f.error, Some(f.report)))?;
        let ran = report.shard.take().unwrap_or_default();
        info.end = ran.end;
        info.lines = ran.lines;
        report
    };
    check_stamp().map_err(|e| (e, Some(Box::new(report.clone()))))?;
    info.part_bytes = dir.size(&part).unwrap_or(0);
    info.header_bytes = header_len(dir, &part, out_dialect).map_err(|e| (e, None))?;
    Ok(report)
}

/// The length of the header row at the top of a part (CSV/TSV output with a header).
fn header_len(dir: &OutDir, part: &str, out: Dialect) -> Result<u64> {
    if !matches!(out.format, Format::Csv | Format::Tsv) {
        return Ok(0);
    }
    let mut head = Vec::new();
    dir.open_at(part, 0)?
        .take(1 << 20)
        .read_to_end(&mut head)
        .map_err(|e| Error::read(SourceName::new(part), e))?;
    // The header row is the first record: the encoder quotes names with line breaks.
    let mut scanner = QuoteScanner::default();
    let end = scanner.scan(&head, out.quote, out.delimiter, true, Cut::First);
    Ok(end.unwrap_or(head.len()) as u64)
}

/// What a merge found.
#[derive(Debug)]
pub enum MergeOutcome {
    /// Merged and committed; the merged report.
    Merged(Box<Report>),
    /// `_SUCCESS` was there already.
    AlreadyMerged,
    /// Shards without a report (or with one of another plan): their indexes and why.
    Missing(Missing),
    /// Shards that started in the wrong place, with the proven start to re-run them from.
    NeedsRepair(Vec<Repair>),
    /// A shard that started on a proven record start failed: a real error in the data.
    Failed {
        /// The shard.
        index: usize,
        /// Its error, with the file-absolute line.
        message: String,
    },
}

/// A shard to re-run from a proven start.
#[derive(Debug, Clone)]
pub struct Repair {
    /// The shard.
    pub index: usize,
    /// Where it started (its guess).
    pub guessed: u64,
    /// Where it must start: where the shard before it ended.
    pub start: u64,
    /// The command that re-runs it (its recorded command with `--shard` and `--start-at`).
    pub argv: Vec<String>,
    /// The folder to run it in.
    pub cwd: String,
}

/// What merge does with a shard that needs a re-run from a proven start.
pub type Repairer<'a> = &'a mut dyn FnMut(&Repair) -> Result<()>;

/// One shard's state as its reports tell it.
enum Seen {
    Done(Box<Report>, ShardInfo),
    Failed(Box<Report>, ShardInfo),
}

/// Reads the plan and every shard's report; the shards with none.
/// Shards without a usable report, and why.
type Missing = Vec<(usize, String)>;

fn load_shards(dir: &OutDir) -> Result<(ShardPlan, Vec<Option<Seen>>, Missing)> {
    let bytes = dir.read(PLAN_FILE)?.ok_or_else(|| {
        Error::Config(format!(
            "no plan at {}: not a shard folder, or no shard ran",
            dir.location(PLAN_FILE)
        ))
    })?;
    let plan = ShardPlan::from_json(&bytes, &dir.location(PLAN_FILE))?;
    let count = plan.shards.len();
    let (mut seen, mut missing) = (Vec::with_capacity(count), Vec::new());
    for k in 0..count {
        let ok = read_report(dir, &report_name(k, count, false))?;
        let failed = read_report(dir, &report_name(k, count, true))?;
        let state = match (ok, failed) {
            (Some(mut r), _) => {
                let info = r.shard.take();
                match info {
                    Some(i) if i.plan == plan.id => Some(Seen::Done(Box::new(r), i)),
                    Some(i) => {
                        missing.push((k, format!("its report is of another plan ({})", i.plan)));
                        None
                    }
                    None => {
                        missing.push((k, "its report has no shard section".into()));
                        None
                    }
                }
            }
            (None, Some(mut r)) => match r.shard.take() {
                Some(i) if i.plan == plan.id => Some(Seen::Failed(Box::new(r), i)),
                _ => {
                    missing.push((k, "no report".into()));
                    None
                }
            },
            (None, None) => {
                missing.push((k, "no report".into()));
                None
            }
        };
        seen.push(state);
    }
    Ok((plan, seen, missing))
}

/// The command that re-runs `info`'s shard from `start`.
fn repair_of(index: usize, info: &ShardInfo, start: u64) -> Repair {
    let mut argv = info.argv.clone();
    argv.push("--shard".into());
    argv.push(info.selection.clone());
    argv.push("--start-at".into());
    argv.push(start.to_string());
    Repair {
        index,
        guessed: info.start,
        start,
        argv,
        cwd: info.cwd.clone(),
    }
}

/// Merges the shard folder `dir`: proves the shards' starts (re-running wrong guesses through
/// `repair` when given), sums the reports, writes the merged rejects and report, the single
/// file `concat` if asked, and last `_SUCCESS` (only if absent). See the module documentation.
pub fn merge(
    dir: &OutDir,
    mut repair: Option<Repairer<'_>>,
    concat: Option<&Path>,
) -> Result<MergeOutcome> {
    if dir.size(SUCCESS).is_some() {
        return Ok(MergeOutcome::AlreadyMerged);
    }
    let (plan, mut seen, missing) = load_shards(dir)?;
    if !missing.is_empty() {
        return Ok(MergeOutcome::Missing(missing));
    }
    let count = plan.shards.len();
    let mut repairs = Vec::new();
    let mut wanted = Vec::new();
    // Prove the chain, input by input, left to right.
    let mut expected: Option<u64> = None;
    for k in 0..count {
        let shard = plan.shards[k];
        let input = &plan.inputs[shard.input];
        let first_of_input = k == 0 || plan.shards[k - 1].input != shard.input;
        if first_of_input {
            expected = Some(if input.splittable {
                input.data_start
            } else {
                0
            });
        }
        let Some(want) = expected else {
            continue; // an earlier shard of this input is still to be repaired
        };
        let info = match &seen[k] {
            Some(Seen::Done(_, i)) | Some(Seen::Failed(_, i)) => i.clone(),
            None => unreachable!("missing shards returned above"),
        };
        let proven = !input.splittable || info.start == want;
        if !proven {
            let r = repair_of(k, &info, want);
            match repair.as_mut() {
                Some(run) => {
                    tracing::info!(
                        shard = k,
                        guessed = info.start,
                        start = want,
                        "re-running a shard whose start was guessed wrong"
                    );
                    run(&r)?;
                    repairs.push(k);
                    let (_, again, _) = load_shards(dir)?;
                    seen[k] = again.into_iter().nth(k).flatten();
                    let now = match &seen[k] {
                        Some(Seen::Done(_, i)) | Some(Seen::Failed(_, i)) => i.start,
                        None => u64::MAX,
                    };
                    if now != want {
                        return Err(Error::Shard(format!(
                            "shard {k} re-run from byte {want} reports start {now}: the repair \
                             did not take"
                        )));
                    }
                }
                None => {
                    wanted.push(r);
                    expected = None;
                    continue;
                }
            }
        }
        match &seen[k] {
            Some(Seen::Failed(report, info)) => {
                let base = lines_before(&plan, &seen, k);
                let message = match info.error_line {
                    Some(line) => format!(
                        "shard {k} failed at line {} of {}: {}",
                        line + base,
                        input.name,
                        report.error.as_deref().unwrap_or("unknown error")
                    ),
                    None => format!(
                        "shard {k} failed: {}",
                        report.error.as_deref().unwrap_or("unknown error")
                    ),
                };
                return Ok(MergeOutcome::Failed { index: k, message });
            }
            Some(Seen::Done(_, info)) => {
                expected = Some(info.end);
                let last_of_input = k + 1 == count || plan.shards[k + 1].input != shard.input;
                if last_of_input && input.splittable && info.end != input.size {
                    return Err(Error::Shard(format!(
                        "shard {k}, the last of {}, ended at byte {} of {}: the input changed \
                         since the plan",
                        input.name, info.end, input.size
                    )));
                }
                if dir.size(&info.part) != Some(info.part_bytes) {
                    return Ok(MergeOutcome::Missing(vec![(
                        k,
                        format!(
                            "its part {} is missing or not {} bytes long",
                            info.part, info.part_bytes
                        ),
                    )]));
                }
            }
            None => unreachable!(),
        }
    }
    if !wanted.is_empty() {
        return Ok(MergeOutcome::NeedsRepair(wanted));
    }
    let done: Vec<(&Report, &ShardInfo)> = seen
        .iter()
        .map(|s| match s {
            Some(Seen::Done(r, i)) => (&**r, i),
            _ => unreachable!("every shard proven done"),
        })
        .collect();
    if concat.is_some() && done.iter().any(|(_, i)| i.part.ends_with(".parquet")) {
        return Err(Error::Config(
            "--concat cannot join Parquet parts (each has its own footer): read the folder as \
             one table instead"
                .into(),
        ));
    }
    merge_rejects(dir, &plan, &done)?;
    if let Some(path) = concat {
        concat_parts(dir, &done, path)?;
    }
    let mut report = sum_reports(&plan, &done);
    report.output = concat.map_or_else(|| dir.name().to_string(), |p| p.display().to_string());
    report.rejects = Some(dir.location(MERGED_REJECTS));
    report.merge = Some(MergeInfo {
        plan: plan.id.clone(),
        shards: count,
        repairs,
        concat: concat.map(|p| p.display().to_string()),
    });
    dir.write(MERGED_REPORT, &report_json(&report))?;
    if !dir.create_new(SUCCESS, b"")? {
        tracing::info!("another merge committed first");
        return Ok(MergeOutcome::AlreadyMerged);
    }
    dir.remove_leftovers();
    Ok(MergeOutcome::Merged(Box::new(report)))
}

/// The line breaks of the shards of `k`'s input before `k`.
fn lines_before(plan: &ShardPlan, seen: &[Option<Seen>], k: usize) -> u64 {
    let input = plan.shards[k].input;
    (0..k)
        .filter(|&j| plan.shards[j].input == input)
        .map(|j| match &seen[j] {
            Some(Seen::Done(_, i)) | Some(Seen::Failed(_, i)) => i.lines,
            None => 0,
        })
        .sum()
}

/// The shards' reports added up into the one a one-machine run would have written.
fn sum_reports(plan: &ShardPlan, done: &[(&Report, &ShardInfo)]) -> Report {
    let mut out = done[0].0.clone();
    out.shard = None;
    out.status = Status::Succeeded;
    out.error = None;
    out.input = plan.inputs[0].name.clone();
    out.records_read = 0;
    out.records_written = 0;
    out.records_filtered = 0;
    out.records_rejected = 0;
    out.rejects_by_error.clear();
    out.rejects_by_field.clear();
    out.first_rejects.clear();
    out.bytes_read = plan
        .inputs
        .iter()
        .filter(|i| i.splittable)
        .map(|i| i.data_start)
        .sum();
    out.compressed_bytes_read = None;
    out.bytes_written = 0;
    out.chunks = 0;
    out.per_worker.clear();
    out.stages = Default::default();
    out.peak_memory_bytes = None;
    let mut lines = vec![0u64; plan.inputs.len()];
    for (k, (r, info)) in done.iter().enumerate() {
        out.records_read += r.records_read;
        out.records_written += r.records_written;
        out.records_filtered += r.records_filtered;
        out.records_rejected += r.records_rejected;
        for (e, n) in &r.rejects_by_error {
            *out.rejects_by_error.entry(e.clone()).or_default() += n;
        }
        for (f, n) in &r.rejects_by_field {
            *out.rejects_by_field.entry(f.clone()).or_default() += n;
        }
        let base = if plan.inputs[info.input].splittable {
            lines[info.input]
        } else {
            0
        };
        for (e, first) in &r.first_rejects {
            out.first_rejects.entry(e.clone()).or_insert_with(|| {
                let mut f = first.clone();
                f.line += base;
                f
            });
        }
        lines[info.input] += info.lines;
        out.bytes_read += r.bytes_read;
        if let Some(c) = r.compressed_bytes_read {
            *out.compressed_bytes_read.get_or_insert(0) += c;
        }
        out.bytes_written += if k == 0 {
            r.bytes_written
        } else {
            r.bytes_written - info.header_bytes
        };
        out.chunks += r.chunks;
        out.workers = out.workers.max(r.workers);
        let s = &mut out.stages;
        s.splitter.read_seconds += r.stages.splitter.read_seconds;
        s.splitter.scan_seconds += r.stages.splitter.scan_seconds;
        s.workers.busy_seconds += r.stages.workers.busy_seconds;
        s.committer.write_seconds += r.stages.committer.write_seconds;
        out.peak_memory_bytes = match (out.peak_memory_bytes, r.peak_memory_bytes) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    let (last_report, last) = done[done.len() - 1];
    out.committed_offset = if plan.inputs[last.input].splittable {
        last.end
    } else {
        last_report.committed_offset
    };
    let first = done
        .iter()
        .map(|(_, i)| i.started_at)
        .fold(f64::MAX, f64::min);
    let end = done.iter().map(|(_, i)| i.finished_at).fold(0.0, f64::max);
    out.elapsed_seconds = (end - first).max(0.0);
    out.success_rate = if out.records_read == 0 {
        1.0
    } else {
        (out.records_read - out.records_rejected) as f64 / out.records_read as f64
    };
    out
}

/// Writes `rejects.csv`: every shard's rejects in order, the header once, each line number
/// made file-absolute.
fn merge_rejects(dir: &OutDir, plan: &ShardPlan, done: &[(&Report, &ShardInfo)]) -> Result<()> {
    let mut out = dir.sink(MERGED_REJECTS).open()?;
    out.write_all(crate::engine::REJECTS_HEADER)?;
    let mut lines = vec![0u64; plan.inputs.len()];
    let mut line_buf = Vec::new();
    for (_, info) in done {
        let base = if plan.inputs[info.input].splittable {
            lines[info.input]
        } else {
            0
        };
        lines[info.input] += info.lines;
        let name = format!(
            "{REJECTS_DIR}/{}.csv",
            part_stem(info.index, plan.shards.len())
        );
        let file = dir.open_at(&name, 0)?;
        let mut splitter = SplitterBuilder::new(Framing::Quoted {
            quote: b'"',
            delimiter: b',',
        })
        .build(io::BufReader::new(file), SourceName::new(&name));
        let mut chunk = Chunk::default();
        let mut header = true;
        while splitter.next_record(&mut chunk)? {
            if std::mem::take(&mut header) {
                continue;
            }
            let rec = &chunk.data;
            let (a, b) = line_field(rec).ok_or_else(|| {
                Error::Config(format!(
                    "{} line {}: not a rejects row",
                    dir.location(&name),
                    chunk.first_line
                ))
            })?;
            let line: u64 = std::str::from_utf8(&rec[a..b])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            line_buf.clear();
            line_buf.extend_from_slice(&rec[..a]);
            line_buf.extend_from_slice((line + base).to_string().as_bytes());
            line_buf.extend_from_slice(&rec[b..]);
            out.write_all(&line_buf)?;
        }
    }
    out.commit()
}

/// Where the `line` field (the second) of a rejects row is: after the `file` field, which may
/// be quoted.
fn line_field(rec: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    if rec.first() == Some(&b'"') {
        i = 1;
        loop {
            let q = i + memchr::memchr(b'"', &rec[i..])?;
            if rec.get(q + 1) == Some(&b'"') {
                i = q + 2;
            } else {
                i = q + 1;
                break;
            }
        }
    }
    let a = i + memchr::memchr(b',', &rec[i..])? + 1;
    let b = a + memchr::memchr(b',', &rec[a..])?;
    Some((a, b))
}

/// Writes the parts as one file: part 0 whole, the others without their header row.
fn concat_parts(dir: &OutDir, done: &[(&Report, &ShardInfo)], path: &Path) -> Result<()> {
    let mut out = Sink::from_arg(&path.display().to_string()).open()?;
    let mut buf = vec![0u8; 1 << 20];
    for (k, (_, info)) in done.iter().enumerate() {
        let skip = if k > 0 { info.header_bytes } else { 0 };
        let mut part = dir.open_at(&info.part, skip)?;
        loop {
            let n = part
                .read(&mut buf)
                .map_err(|e| Error::read(SourceName::new(&dir.location(&info.part)), e))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n])?;
        }
    }
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: Framing = Framing::Quoted {
        quote: b'"',
        delimiter: b',',
    };

    fn guess(input: &[u8], nominal: u64, fields: usize) -> (u64, String) {
        let at = nominal.saturating_sub(2);
        let (start, g) =
            guess_start(&input[at as usize..], at, nominal, true, CSV, Some(fields)).unwrap();
        (start, g.hypothesis)
    }

    #[test]
    fn a_start_inside_a_quoted_field_is_found_by_the_inside_hypothesis() {
        let input = b"a,b\n1,\"x\ny,z\nw\"\n2,q\n3,r\n";
        // Nominal start 9 is inside the quoted field (after `x\n`): the record starts at 16.
        let (start, h) = guess(input, 9, 2);
        assert_eq!(start, 16, "{h}");
        // Outside any quotes, both hypotheses agree or outside wins.
        let (start, _) = guess(input, 17, 2);
        assert_eq!(start, 20);
    }

    #[test]
    fn a_start_inside_more_fake_records_than_a_guess_reads_is_found_where_the_parses_meet() {
        // 150 well-formed lines inside quotes: "outside" sees 100 good records too, but its
        // parse meets the right one only after the closing quote opens a bogus quoted field.
        let mut input = b"a,b,c\n1,\"".to_vec();
        for _ in 0..150 {
            input.extend_from_slice(b"7,8,9\n");
        }
        input.extend_from_slice(b"\",c\n");
        let real = input.len() as u64;
        for i in 2..200 {
            input.extend_from_slice(format!("{i},b,\"c\nd\"\n").as_bytes());
        }
        let (start, h) = guess(&input, 400, 3);
        assert_eq!((start, h.as_str()), (real, "inside-quotes"));
    }

    #[test]
    fn newline_framing_takes_the_byte_after_the_first_newline() {
        let input = b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
        let (start, g) = guess_start(&input[3..], 3, 5, true, Framing::Lines, None).unwrap();
        assert_eq!((start, g.hypothesis.as_str()), (8, "newline"));
        // A record that starts exactly at the nominal start is the shard's.
        let (start, _) = guess_start(&input[6..], 6, 8, true, Framing::Lines, None).unwrap();
        assert_eq!(start, 8);
    }

    #[test]
    fn parse_record_counts_fields_and_stray_quotes() {
        assert_eq!(
            parse_record(b"a,\"b,c\",d\nx", b'"', b','),
            (Some(10), 3, 0)
        );
        assert_eq!(parse_record(b"a\"b,c\r\n", b'"', b','), (Some(7), 2, 1));
        assert_eq!(parse_record(b"\"ab\"c,d\n", b'"', b','), (Some(8), 2, 1));
        assert_eq!(parse_record(b"\"open", b'"', b','), (None, 1, 0));
    }

    #[test]
    fn line_field_skips_a_quoted_file_name() {
        let rec = b"\"a,\"\"b.csv\",12,34,f,e,m,r\n";
        let (a, b) = line_field(rec).unwrap();
        assert_eq!(&rec[a..b], b"12");
        let rec = b"in.csv,7,1,,parse-error,x,\"r\"\n";
        let (a, b) = line_field(rec).unwrap();
        assert_eq!(&rec[a..b], b"7");
    }

    #[test]
    fn part_names_are_padded_to_the_count() {
        assert_eq!(part_stem(7, 8), "part-00007");
        assert_eq!(part_stem(7, 200_000), "part-000007");
    }
}

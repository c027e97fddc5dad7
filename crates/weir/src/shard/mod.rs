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
//!
//! One module a step: `plan` (the cut), `guess` (a shard's first record start), `dir` (the
//! shard folder, local or `s3://`), `run` (one shard), `merge` (the proof and the join); and
//! `info`, what a sharded run adds to a report: the `shard` and `merge` sections, and the
//! envelope [`ShardReport`] that carries them around a [`Report`](crate::Report) (which knows nothing of
//! shards), the layout of every report the `weir` command writes.

mod dir;
mod guess;
mod info;
mod merge;
mod plan;
mod run;

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result, SourceName};

pub use dir::OutDir;
pub use guess::guess_start;
pub use info::{Candidate, MergeInfo, ShardInfo, ShardReport, StartGuess};
pub use merge::{merge, MergeOutcome, Repair, Repairer};
pub use plan::{load_or_make_plan, PlanInput, PlanShard, ShardPlan, Split};
pub use run::{is_data_error, run_shard, ShardJob, ShardOutcome};

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

/// A shard part's name: `part-00007`, zero-padded to at least five digits.
pub fn part_stem(index: usize, count: usize) -> String {
    let width = count.saturating_sub(1).to_string().len().max(5);
    format!("part-{index:0width$}")
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

/// The report file of shard `index` (`failed`: of a failed attempt).
pub fn report_name(index: usize, count: usize, failed: bool) -> String {
    let stem = part_stem(index, count);
    if failed {
        format!("{REPORTS_DIR}/{stem}.failed.json")
    } else {
        format!("{REPORTS_DIR}/{stem}.json")
    }
}

/// Reads a report written by a shard (or the merge).
fn read_report(dir: &OutDir, name: &str) -> Result<Option<ShardReport>> {
    let Some(bytes) = dir.read(name)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Config(format!("{} is not a weir report: {e}", dir.location(name))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_are_padded_to_the_count() {
        assert_eq!(part_stem(7, 8), "part-00007");
        assert_eq!(part_stem(7, 200_000), "part-000007");
    }
}

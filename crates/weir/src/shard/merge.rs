//! Merge: prove the chain of starts, repair wrong guesses, sum the reports, join the rejects
//! (and the parts, on request), commit with `_SUCCESS`.

use std::io::{self, Read};
use std::path::Path;

use super::{
    part_stem, read_report, report_name, MergeInfo, OutDir, ShardInfo, ShardPlan, ShardReport,
    MERGED_REJECTS, MERGED_REPORT, PLAN_FILE, REJECTS_DIR, SUCCESS,
};
use crate::error::{Error, Result, SourceName};
use crate::report::{Report, Status};
use crate::sink::Sink;
use crate::split::{Chunk, Framing, SplitterBuilder};

/// What a merge found.
#[derive(Debug)]
pub enum MergeOutcome {
    /// Merged and committed; the merged report (its `merge` section filled).
    Merged(Box<ShardReport>),
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
            (Some(ShardReport { report, shard, .. }), _) => match shard {
                Some(i) if i.plan == plan.id => Some(Seen::Done(Box::new(report), i)),
                Some(i) => {
                    missing.push((k, format!("its report is of another plan ({})", i.plan)));
                    None
                }
                None => {
                    missing.push((k, "its report has no shard section".into()));
                    None
                }
            },
            (None, Some(ShardReport { report, shard, .. })) => match shard {
                Some(i) if i.plan == plan.id => Some(Seen::Failed(Box::new(report), i)),
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
    match prove(dir, &plan, &mut seen, &mut repair)? {
        Proof::Proven { repairs } => write_merged(dir, &plan, &seen, concat, repairs),
        Proof::Stopped(outcome) => Ok(outcome),
    }
}

/// How proving the chain of starts ended.
enum Proof {
    /// Every shard is done and starts where the one before it ended; the shards re-run on the
    /// way.
    Proven { repairs: Vec<usize> },
    /// The shards cannot be merged as they are: what the merge answers.
    Stopped(MergeOutcome),
}

/// Proves the chain, input by input, left to right: each shard of a splittable input starts
/// where the one before it ended, the last ends at the input's end, and each done shard's files
/// are the ones it wrote. A wrong start or damaged files are re-run through `repair` when given.
fn prove(
    dir: &OutDir,
    plan: &ShardPlan,
    seen: &mut [Option<Seen>],
    repair: &mut Option<Repairer<'_>>,
) -> Result<Proof> {
    let count = plan.shards.len();
    let (mut repairs, mut wanted) = (Vec::new(), Vec::new());
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
        let info = shard_info(&seen[k]);
        if input.splittable && info.start != want {
            let r = repair_of(k, info, want);
            let Some(run) = repair.as_mut() else {
                wanted.push(r);
                expected = None;
                continue;
            };
            tracing::info!(
                shard = k,
                guessed = info.start,
                start = want,
                "re-running a shard whose start was guessed wrong"
            );
            rerun(dir, seen, &r, run)?;
            repairs.push(k);
            let now = match &seen[k] {
                Some(Seen::Done(_, i) | Seen::Failed(_, i)) => i.start,
                None => u64::MAX,
            };
            if now != want {
                return Err(Error::Shard(format!(
                    "shard {k} re-run from byte {want} reports start {now}: the repair did not \
                     take"
                )));
            }
        }
        if let Some(Seen::Failed(report, info)) = &seen[k] {
            return Ok(Proof::Stopped(failed(plan, seen, k, report, info)));
        }
        let end = shard_info(&seen[k]).end;
        let last_of_input = k + 1 == count || plan.shards[k + 1].input != shard.input;
        if last_of_input && input.splittable && end != input.size {
            return Err(Error::Shard(format!(
                "shard {k}, the last of {}, ended at byte {end} of {}: the input changed since \
                 the plan",
                input.name, input.size
            )));
        }
        if let Some(outcome) = check_files(dir, seen, k, repair, &mut repairs)? {
            return Ok(Proof::Stopped(outcome));
        }
        expected = Some(shard_info(&seen[k]).end);
    }
    if !wanted.is_empty() {
        return Ok(Proof::Stopped(MergeOutcome::NeedsRepair(wanted)));
    }
    Ok(Proof::Proven { repairs })
}

/// A shard's record in its report, done or failed.
fn shard_info(seen: &Option<Seen>) -> &ShardInfo {
    match seen {
        Some(Seen::Done(_, i)) | Some(Seen::Failed(_, i)) => i,
        None => unreachable!("missing shards are returned before the proof"),
    }
}

/// Re-runs shard `r.index` as `r` says and reads its report again.
fn rerun(dir: &OutDir, seen: &mut [Option<Seen>], r: &Repair, run: Repairer<'_>) -> Result<()> {
    run(r)?;
    let (_, again, _) = load_shards(dir)?;
    seen[r.index] = again.into_iter().nth(r.index).flatten();
    Ok(())
}

/// What the merge answers for a shard that started on a proven record start and failed: a
/// real error in the data, with its line in the whole input.
fn failed(
    plan: &ShardPlan,
    seen: &[Option<Seen>],
    k: usize,
    report: &Report,
    info: &ShardInfo,
) -> MergeOutcome {
    let error = report.error.as_deref().unwrap_or("unknown error");
    let message = match info.error_line {
        Some(line) => format!(
            "shard {k} failed at line {} of {}: {error}",
            line + lines_before(plan, seen, k),
            plan.inputs[plan.shards[k].input].name,
        ),
        None => format!("shard {k} failed: {error}"),
    };
    MergeOutcome::Failed { index: k, message }
}

/// Checks that done shard `k`'s files are the ones it wrote. Damaged files can only be made
/// again by re-running the shard, which only `repair` does here: without it the shard is
/// missing; with it, it is re-run (and counted in `repairs`) and checked again.
fn check_files(
    dir: &OutDir,
    seen: &mut [Option<Seen>],
    k: usize,
    repair: &mut Option<Repairer<'_>>,
    repairs: &mut Vec<usize>,
) -> Result<Option<MergeOutcome>> {
    let info = shard_info(&seen[k]);
    let Some(why) = damage(dir, info)? else {
        return Ok(None);
    };
    let Some(run) = repair.as_mut() else {
        return Ok(Some(MergeOutcome::Missing(vec![(k, why)])));
    };
    tracing::info!(shard = k, "re-running a shard whose files changed: {why}");
    eprintln!("weir: shard {k}: {why}: re-running it");
    let r = repair_of(k, info, info.start);
    rerun(dir, seen, &r, run)?;
    repairs.push(k);
    let Some(Seen::Done(_, info)) = &seen[k] else {
        return Err(Error::Shard(format!(
            "shard {k} re-run after its files changed did not succeed"
        )));
    };
    if let Some(why) = damage(dir, info)? {
        return Err(Error::Shard(format!(
            "shard {k} re-run after its files changed: {why}"
        )));
    }
    Ok(None)
}

/// Writes what the proven shards make: the merged rejects, the single file `concat` if
/// asked, the merged report, and last `_SUCCESS` (only if absent: the merge's commit).
fn write_merged(
    dir: &OutDir,
    plan: &ShardPlan,
    seen: &[Option<Seen>],
    concat: Option<&Path>,
    repairs: Vec<usize>,
) -> Result<MergeOutcome> {
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
    if let Some(path) = concat {
        check_concat(dir, plan, &done, path)?;
    }
    merge_rejects(dir, plan, &done)?;
    if let Some(path) = concat {
        concat_parts(dir, &done, path)?;
    }
    let mut report = sum_reports(plan, &done);
    report.output = concat.map_or_else(|| dir.name().to_string(), |p| p.display().to_string());
    report.rejects = Some(dir.location(MERGED_REJECTS));
    let merged = ShardReport {
        report,
        shard: None,
        merge: Some(MergeInfo {
            plan: plan.id.clone(),
            shards: plan.shards.len(),
            repairs,
            concat: concat.map(|p| p.display().to_string()),
        }),
    };
    dir.write(MERGED_REPORT, &merged.json())?;
    if !dir.create_new(SUCCESS, b"")? {
        tracing::info!("another merge committed first");
        return Ok(MergeOutcome::AlreadyMerged);
    }
    dir.remove_leftovers();
    Ok(MergeOutcome::Merged(Box::new(merged)))
}

/// What is wrong with a finished shard's part or rejects: missing, another size, or bytes
/// whose xxh64 is not the one its report recorded (read back whole: a part replaced by another
/// of the same size, or a few bytes edited, is found). `None` when both are as written.
pub(super) fn damage(dir: &OutDir, info: &ShardInfo) -> Result<Option<String>> {
    let files = [
        ("part", &info.part, info.part_bytes, &info.part_xxh64),
        (
            "rejects",
            &info.rejects,
            info.rejects_bytes,
            &info.rejects_xxh64,
        ),
    ];
    for (what, name, bytes, digest) in files {
        let Some(digest) = digest else {
            return Ok(Some(format!(
                "its report has no digest of its {what} (an older weir wrote it)"
            )));
        };
        let size = dir.size(name);
        if size != Some(bytes) {
            return Ok(Some(match size {
                None => format!("its {what} {name} is missing"),
                Some(size) => format!(
                    "its {what} {name} has {size} bytes, its report says {bytes}: it changed \
                     after the shard wrote it"
                ),
            }));
        }
        let got = digest_of(dir, name)?;
        if &got != digest {
            return Ok(Some(format!(
                "its {what} {name} has xxh64 {got}, its report says {digest}: its bytes \
                 changed after the shard wrote them"
            )));
        }
    }
    Ok(None)
}

/// The xxh64 of `name` in the shard folder, as 16 hex digits.
fn digest_of(dir: &OutDir, name: &str) -> Result<String> {
    use std::hash::Hasher;
    let mut file = dir.open_at(name, 0)?;
    let mut hasher = twox_hash::XxHash64::with_seed(0);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::read(SourceName::new(&dir.location(name)), e))?;
        if n == 0 {
            break;
        }
        hasher.write(&buf[..n]);
    }
    Ok(format!("{:016x}", hasher.finish()))
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
    out.status = Status::Succeeded;
    out.error = None;
    out.input = plan.inputs[0].name.clone();
    out.records_read = 0;
    out.records_written = 0;
    out.records_filtered = 0;
    out.records_rejected = 0;
    out.values_replaced = 0;
    out.reject_errors = 0;
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
        out.values_replaced += r.values_replaced;
        out.reject_errors += r.reject_errors;
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

/// Refuses a `--concat` file that is one of the parts, an input of the plan, or one of the
/// files merge writes (it would replace what it reads, or be replaced).
fn check_concat(
    dir: &OutDir,
    plan: &ShardPlan,
    done: &[(&Report, &ShardInfo)],
    path: &Path,
) -> Result<()> {
    use crate::sink::{check_places, Place};
    use crate::source::Source;
    let mut reads: Vec<Place> = done
        .iter()
        .map(|(_, i)| Place::input(&Source::from_arg(&dir.location(&i.part))))
        .collect();
    reads.extend(
        plan.inputs
            .iter()
            .map(|i| Place::input(&Source::from_arg(&i.name))),
    );
    let writes = [
        Place::output(
            "concatenated output",
            &Sink::from_arg(&path.display().to_string()),
        ),
        Place::output(
            "merged rejects",
            &Sink::from_arg(&dir.location(MERGED_REJECTS)),
        ),
        Place::output(
            "merged report",
            &Sink::from_arg(&dir.location(MERGED_REPORT)),
        ),
    ];
    check_places(&reads, &writes)
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

    #[test]
    fn line_field_skips_a_quoted_file_name() {
        let rec = b"\"a,\"\"b.csv\",12,34,f,e,m,r\n";
        let (a, b) = line_field(rec).unwrap();
        assert_eq!(&rec[a..b], b"12");
        let rec = b"in.csv,7,1,,parse-error,x,\"r\"\n";
        let (a, b) = line_field(rec).unwrap();
        assert_eq!(&rec[a..b], b"7");
    }
}

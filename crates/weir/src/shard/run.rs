//! One shard run: the records that start in its range, into its part, rejects and report.

use std::io::{self, Read};

use super::guess::find_start;
use super::{
    now_seconds, open_input, part_stem, read_report, report_name, stamp, OutDir, ShardInfo,
    ShardPlan, ShardReport, StartGuess, REJECTS_DIR,
};
use crate::engine::ShardRange;
use crate::error::{Error, Result, SourceName};
use crate::format::{Dialect, Format};
use crate::report::{Report, Status};
use crate::source::Source;
use crate::split::{csv::QuoteScanner, Cut, Framing};
use crate::PipelineBuilder;

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
    Done(Box<ShardReport>),
    /// A report of the same plan and start was there already: nothing was done.
    AlreadyDone(Box<ShardReport>),
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
            if info.plan == plan.id && same_start && done.report.status == Status::Succeeded {
                // Done only if its files are still the ones it wrote: a damaged part is
                // written again, not taken for done.
                match super::merge::damage(dir, info)? {
                    None => return Ok(ShardOutcome::AlreadyDone(Box::new(done))),
                    Some(why) => tracing::info!(shard = k, "running again: {why}"),
                }
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
        Ok(report) => {
            let done = ShardReport {
                report,
                shard: Some(info),
                merge: None,
            };
            dir.write(&ok_name, &done.json())?;
            // A failed attempt's report is out of date now.
            dir.remove(&report_name(k, count, true));
            Ok(ShardOutcome::Done(Box::new(done)))
        }
        Err((error, report)) => {
            // Only a data error says something about the shard's start (merge judges it); a
            // stop, a usage error or a transient one leaves the shard to be run again.
            if !is_data_error(&error) {
                return Err(error);
            }
            let mut report = report.map_or_else(|| Report::empty(input.name.clone()), |r| *r);
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
            let failed = ShardReport {
                report,
                shard: Some(info),
                merge: None,
            };
            dir.write(&report_name(k, count, true), &failed.json())?;
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
        out_format.extension()
    );
    let rejects = format!(
        "{REJECTS_DIR}/{}.csv",
        part_stem(job.index, plan.shards.len())
    );
    info.part = part.clone();
    info.rejects = rejects.clone();
    let builder = builder.keep_digests();
    let source = Source::from_arg(&input.name);
    let report = if !input.splittable {
        // A compressed input is one shard: the whole input, as a one-machine run reads it.
        info.start = shard.start;
        info.end = shard.end;
        info.start_guess.hypothesis = "whole-input".into();
        let b = builder.reroute(source, dir.sink(&part), dir.sink(&rejects));
        b.build().run().map_err(|f| (f.error, Some(f.report)))?
    } else {
        let framing = dialect.framing();
        let (start, guess) =
            shard_start(job, plan, framing, builder.record_limit()).map_err(|e| (e, None))?;
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
        let (report, ran) = b
            .build()
            .run_range()
            .map_err(|f| (f.error, Some(f.report)))?;
        // A run over a range always says what it read; without it the shard's end is unknown.
        let Some(ran) = ran else {
            let e = Error::Shard(format!(
                "shard {}: the run did not say where it ended",
                job.index
            ));
            return Err((e, Some(Box::new(report))));
        };
        info.end = ran.end;
        info.lines = ran.lines;
        report
    };
    check_stamp().map_err(|e| (e, Some(Box::new(report.clone()))))?;
    info.part_bytes = dir.size(&part).unwrap_or(0);
    info.part_xxh64 = report.output_digest.clone();
    info.rejects_bytes = dir.size(&rejects).unwrap_or(0);
    info.rejects_xxh64 = report.rejects_digest.clone();
    info.header_bytes = header_len(dir, &part, out_dialect).map_err(|e| (e, None))?;
    Ok(report)
}

/// Where shard `job` starts: where `--start-at` says, the input's data start for its first
/// shard, or else a guess near its nominal start (see [`super::guess_start`]).
fn shard_start(
    job: &ShardJob,
    plan: &ShardPlan,
    framing: Framing,
    record_limit: usize,
) -> Result<(u64, StartGuess)> {
    let shard = plan.shards[job.index];
    let input = &plan.inputs[shard.input];
    let (start, hypothesis) = match job.start_at {
        Some(s) => (s, "given"),
        None if shard.start <= input.data_start => (input.data_start, "data-start"),
        None => {
            return find_start(
                &input.name,
                &input.version,
                shard.start,
                input.size,
                framing,
                input.fields,
                record_limit,
            )
        }
    };
    let guess = StartGuess {
        hypothesis: hypothesis.into(),
        ..Default::default()
    };
    Ok((start, guess))
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

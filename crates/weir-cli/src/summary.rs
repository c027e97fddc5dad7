//! The end-of-run summary on stderr: the accounting, throughput, peak memory and the most
//! common reject reasons. Names and values from the data go through [`escape`] first.

use std::fmt::Write as _;

use weir::report::ResumeOutcome;
use weir::{Report, Status};

use crate::human::{escape, group, human_bytes, plural};

/// How many reject reasons the summary details (the most common first).
const TOP_REASONS: usize = 5;

/// The end-of-run summary: the accounting, throughput, peak memory, and the most common reject
/// reasons with their counts and first records.
pub fn summary(r: &Report) -> String {
    let mut s = String::new();
    let status = match r.status {
        Status::Succeeded => "done",
        Status::Failed => "FAILED (nothing committed)",
        Status::Interrupted => "INTERRUPTED (nothing committed)",
        Status::Terminated => "TERMINATED (nothing committed)",
        Status::TimedOut => "TIMED OUT (nothing committed)",
        Status::OutputClosed => "stopped: standard output was closed",
        Status::TooManyRejects => "FAILED: too many rejects (nothing committed)",
    };
    let secs = r.elapsed_seconds.max(1e-9);
    let resumable = match (&r.resume, r.status) {
        (Some(_), Status::Succeeded | Status::OutputClosed) | (None, _) => "",
        (Some(_), _) => "; --resume continues from the last checkpoint",
    };
    if matches!(r.status, Status::Succeeded | Status::OutputClosed) {
        let _ = writeln!(
            s,
            "weir: {status}{resumable}: {} read = {} written + {} filtered + {} rejected \
             ({:.2}% ok)",
            group(r.records_read),
            group(r.records_written),
            group(r.records_filtered),
            group(r.records_rejected),
            100.0 * r.success_rate
        );
    } else {
        // The report's `records_written` counts what passed the steps; none of it reached the
        // output, so the summary does not call it written.
        let _ = writeln!(
            s,
            "weir: {status}{resumable}: {} read before the stop ({} passed + {} filtered + {} \
             rejected); nothing was written",
            group(r.records_read),
            group(r.records_written),
            group(r.records_filtered),
            group(r.records_rejected),
        );
    }
    // What this run did (a resumed run did not read what the checkpoint had committed).
    let (mut bytes, mut records) = (r.bytes_read, r.records_read);
    if let Some(resume) = &r.resume {
        let checkpoint = escape(&resume.checkpoint);
        match resume.outcome {
            ResumeOutcome::Complete => {
                let _ = writeln!(
                    s,
                    "      the output was already complete ({checkpoint}): nothing was read"
                );
                return finish_rejects(s, r);
            }
            ResumeOutcome::Resumed => {
                let _ = writeln!(
                    s,
                    "      resumed at line {} (byte {}) of {} after {} ({checkpoint})",
                    group(resume.from_line),
                    group(resume.from_offset),
                    escape(&resume.from_input),
                    plural(resume.records_before, "record")
                );
                bytes = bytes.saturating_sub(resume.from_offset);
                records = records.saturating_sub(resume.records_before);
            }
            ResumeOutcome::Started => {
                let _ = writeln!(
                    s,
                    "      no checkpoint: started from the beginning (checkpoints in {checkpoint})"
                );
            }
        }
    }
    let memory = match r.peak_memory_bytes {
        Some(b) => format!(", peak memory {}", human_bytes(b)),
        None => String::new(),
    };
    let _ = writeln!(
        s,
        "      {} in {:.2} s ({}/s, {} records/s), {}, {}{memory}",
        human_bytes(bytes),
        r.elapsed_seconds,
        human_bytes((bytes as f64 / secs) as u64),
        group((records as f64 / secs) as u64),
        plural(r.workers as u64, "worker"),
        if r.ordered { "ordered" } else { "unordered" },
    );
    if let Some(early) = &r.stopped_early {
        let at = match early.line {
            Some(line) => format!("at line {} of {}", group(line), escape(&early.input)),
            None => format!("before the first record of {}", escape(&early.input)),
        };
        let _ = writeln!(
            s,
            "      stopped early {at}: head had all the records it keeps; the rest was not read"
        );
    }
    if r.values_replaced > 0 {
        let _ = writeln!(
            s,
            "      {} text values written with U+FFFD in place of invalid UTF-8 or lone \
             surrogates (--invalid-utf8 replace)",
            group(r.values_replaced)
        );
    }
    finish_rejects(s, r)
}

/// The summary's reject lines.
fn finish_rejects(mut s: String, r: &Report) -> String {
    if r.rejects_by_error.is_empty() {
        return s;
    }
    let parts: Vec<String> = r
        .rejects_by_error
        .iter()
        .map(|(e, n)| format!("{} {}", escape(e), group(*n)))
        .collect();
    let to = match &r.rejects {
        Some(p) if r.status == Status::Succeeded => format!(" -> {}", escape(p)),
        Some(_) => String::new(),
        None => " (not kept: use --rejects PATH)".to_string(),
    };
    let _ = writeln!(s, "      rejects: {}{to}", parts.join(", "));
    let mut reasons: Vec<(&String, &u64)> = r.rejects_by_error.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let width = reasons
        .iter()
        .take(TOP_REASONS)
        .map(|(e, _)| escape(e).chars().count())
        .max()
        .unwrap_or(0);
    let count_width = group(*reasons[0].1).len();
    for (error, n) in reasons.iter().take(TOP_REASONS) {
        let name = escape(error);
        let _ = write!(s, "        {name:<width$}  {:>count_width$}", group(**n));
        if let Some(first) = r.first_rejects.get(*error) {
            let _ = write!(s, "  first at line {}", first.line);
            if let Some(field) = &first.field {
                let _ = write!(s, " ({})", escape(field));
            }
            let _ = write!(s, ": {}", escape(&first.message));
        }
        s.push('\n');
    }
    if reasons.len() > TOP_REASONS {
        let more: u64 = reasons[TOP_REASONS..].iter().map(|(_, n)| **n).sum();
        let _ = writeln!(
            s,
            "        and {} more in {}",
            group(more),
            plural((reasons.len() - TOP_REASONS) as u64, "other kind")
        );
    }
    s
}

/// The summary's last line: where the run's files went, `output -> PATH, rejects -> PATH,
/// report -> PATH` (`-` is "standard output"). A run that did not succeed committed no output
/// or rejects, so only its report (written alone, its status saying so) is named; empty when
/// there is nothing to name.
pub fn places(status: Status, output: &str, rejects: Option<&str>, report: Option<&str>) -> String {
    let name = |p: &str| {
        if p == "-" {
            "standard output".to_string()
        } else {
            escape(p).into_owned()
        }
    };
    let mut parts = Vec::new();
    if status == Status::Succeeded {
        parts.push(format!("output -> {}", name(output)));
        if let Some(r) = rejects {
            parts.push(format!("rejects -> {}", name(r)));
        }
    }
    if let Some(r) = report {
        parts.push(format!("report -> {}", name(r)));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("      {}\n", parts.join(", "))
}

//! What a run shows on stderr while it goes: a live display on a terminal (indicatif), or a
//! plain log line every interval otherwise, or nothing.
//!
//! Both are driven by the engine's observer callback, which runs on the supervising thread and
//! only reads counters, so the display never sits in the data path. The bar is updated a few
//! times a second and indicatif redraws at most as often; the log line is one formatted string
//! per interval. Nothing here ever writes to stdout, which may carry the data.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use weir::Observer;
use weir::Snapshot;

use crate::args::ProgressMode;
use crate::human::{group, human_bytes};

/// How often the live display is refreshed: often enough to look live, rarely enough to cost
/// nothing measurable.
const BAR_EVERY: Duration = Duration::from_millis(200);

/// Whether colours and styles are off: `NO_COLOR` set to anything but the empty string
/// (<https://no-color.org>).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// The display of one run.
pub enum Live {
    /// The live display.
    Bar(ProgressBar),
    /// A line every interval.
    Log(Duration),
    /// Nothing.
    Off,
}

impl Live {
    /// The display for `mode`: `auto` is the bar when stderr is a terminal, log lines
    /// otherwise; `quiet` turns everything off. `data_on_stdout`: the output is standard
    /// output; when that is the same terminal, `auto` writes log lines, as a bar redrawing
    /// itself would erase the data scrolling past.
    pub fn new(mode: ProgressMode, quiet: bool, interval: Duration, data_on_stdout: bool) -> Live {
        let terminal = std::io::stderr().is_terminal();
        let shared = data_on_stdout && std::io::stdout().is_terminal();
        match mode {
            _ if quiet => Live::Off,
            ProgressMode::None => Live::Off,
            ProgressMode::Log => Live::Log(interval),
            ProgressMode::Auto if !terminal || shared => Live::Log(interval),
            ProgressMode::Auto | ProgressMode::Bar => Live::Bar(new_bar(no_color())),
        }
    }

    /// The observer to give the pipeline, with its interval; `None` when nothing is shown.
    pub fn observer(&self) -> Option<(Duration, Observer)> {
        match self {
            Live::Off => None,
            Live::Log(every) => Some((*every, Box::new(|s: &Snapshot| log_line(s)))),
            Live::Bar(bar) => {
                let bar = bar.clone();
                let mut sized = false;
                Some((
                    BAR_EVERY,
                    Box::new(move |s: &Snapshot| {
                        bar.set_position(stored_bytes(s));
                        if !sized {
                            sized = true;
                            if let Some(total) = s.bytes_total.filter(|t| *t > 0) {
                                bar.set_length(total);
                                bar.set_style(bar_style(true, no_color()));
                            }
                            // A resumed run starts past its checkpoint: the rate and ETA count
                            // from there, not from a jump over what an earlier run did.
                            if s.resumed_source_bytes > 0 {
                                bar.reset_eta();
                            }
                        }
                        bar.set_message(bar_message(s));
                    }),
                ))
            }
        }
    }

    /// Takes the live display off the screen, before the summary is printed.
    pub fn finish(&self) {
        if let Live::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

fn new_bar(plain: bool) -> ProgressBar {
    // Without a length until the first snapshot says whether the input size is known.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
    bar.set_style(bar_style(false, plain));
    bar
}

fn bar_style(sized: bool, plain: bool) -> ProgressStyle {
    let template = match (sized, plain) {
        (true, false) => {
            "{spinner:.green} [{elapsed_precise}] {bar:30.cyan/blue} {percent:>3}%  \
             {bytes}/{total_bytes}  {binary_bytes_per_sec}  ETA {eta}\n  {msg}"
        }
        (true, true) => {
            "{spinner} [{elapsed_precise}] {bar:30} {percent:>3}%  \
             {bytes}/{total_bytes}  {binary_bytes_per_sec}  ETA {eta}\n  {msg}"
        }
        (false, false) => {
            "{spinner:.green} [{elapsed_precise}] {bytes} read  {binary_bytes_per_sec}\n  {msg}"
        }
        (false, true) => {
            "{spinner} [{elapsed_precise}] {bytes} read  {binary_bytes_per_sec}\n  {msg}"
        }
    };
    ProgressStyle::with_template(template)
        .expect("the templates are valid")
        .progress_chars("=> ")
}

/// Bytes of the input as stored that are done: compressed bytes for a compressed input, which
/// is what `bytes_total` measures.
fn stored_bytes(s: &Snapshot) -> u64 {
    if s.source_bytes_read > 0 {
        s.source_bytes_read
    } else {
        s.bytes_read
    }
}

/// The second line of the live display. The rate counts the records this run read (a resumed
/// run's checkpoint had committed the others).
fn bar_message(s: &Snapshot) -> String {
    let secs = s.elapsed_seconds.max(1e-9);
    let records_now = s.records_read.saturating_sub(s.resumed_records);
    format!(
        "{} records ({}/s)  {} rejected  queue {}/{}  busy {}/{}",
        group(s.records_read),
        group((records_now as f64 / secs) as u64),
        group(s.records_rejected),
        s.queued_chunks,
        s.queue_capacity,
        s.busy_workers,
        s.workers,
    )
}

/// The plain status line (one per interval when stderr is not a terminal). Rates count only
/// what this run read: a resumed run skipped what its checkpoint had done.
pub fn status_line(s: &Snapshot) -> String {
    let secs = s.elapsed_seconds.max(1e-9);
    let stored = stored_bytes(s);
    let rate = stored.saturating_sub(s.resumed_source_bytes) as f64 / secs;
    let mut done = match s.bytes_total {
        Some(total) if total > 0 => {
            let left = total.saturating_sub(stored) as f64;
            let eta = if rate > 0.0 {
                format!("  ETA {}", eta(left / rate))
            } else {
                String::new()
            };
            format!(
                " of {} ({:.0}%){eta}",
                human_bytes(total),
                100.0 * stored as f64 / total as f64
            )
        }
        _ => String::new(),
    };
    if s.source_compressed {
        done.push_str(&format!(" ({} decompressed)", human_bytes(s.bytes_read)));
    }
    format!(
        "weir: {:>6.1}s  {}{}  {}/s  {}",
        s.elapsed_seconds,
        human_bytes(stored),
        done,
        human_bytes(rate as u64),
        bar_message(s),
    )
}

fn log_line(s: &Snapshot) {
    let mut line = status_line(s);
    line.push('\n');
    // One write per line, so lines from other writers do not interleave inside it.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `75` -> "1m15s"; `3700` -> "1h01m".
fn eta(seconds: f64) -> String {
    let s = seconds.round().max(0.0) as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            elapsed_seconds: 2.0,
            bytes_read: 1 << 20,
            source_bytes_read: 1 << 20,
            bytes_total: Some(4 << 20),
            source_compressed: false,
            resumed_source_bytes: 0,
            resumed_records: 0,
            records_read: 10_000,
            records_rejected: 7,
            queued_chunks: 3,
            queue_capacity: 6,
            busy_workers: 2,
            workers: 2,
        }
    }

    #[test]
    fn status_line_of_a_compressed_input_counts_stored_bytes() {
        let s = Snapshot {
            bytes_read: 4 << 20,
            source_compressed: true,
            ..snapshot()
        };
        assert!(
            status_line(&s).starts_with(
                "weir:    2.0s  1.0 MiB of 4.0 MiB (25%)  ETA 6s (4.0 MiB decompressed)  512.0 KiB/s"
            ),
            "{}",
            status_line(&s)
        );
    }

    #[test]
    fn status_line_has_progress_rates_and_eta() {
        let line = status_line(&snapshot());
        assert_eq!(
            line,
            "weir:    2.0s  1.0 MiB of 4.0 MiB (25%)  ETA 6s  512.0 KiB/s  10,000 records \
             (5,000/s)  7 rejected  queue 3/6  busy 2/2"
        );
    }

    /// Plain input read ahead of the splitter (stored bytes ahead of `bytes_read`) is not
    /// "decompressed".
    #[test]
    fn status_line_of_plain_input_says_nothing_of_decompression() {
        let s = Snapshot {
            bytes_read: (1 << 20) - 4096,
            ..snapshot()
        };
        let line = status_line(&s);
        assert!(!line.contains("decompressed"), "{line}");
    }

    /// After `--resume` the rate counts what this run read, not the skipped prefix; the
    /// position and percentage still count from the start of the input.
    #[test]
    fn status_line_of_a_resumed_run_counts_only_this_run() {
        let s = Snapshot {
            source_bytes_read: 3 << 20,
            bytes_read: 3 << 20,
            resumed_source_bytes: 2 << 20,
            records_read: 30_000,
            resumed_records: 20_000,
            ..snapshot()
        };
        assert_eq!(
            status_line(&s),
            "weir:    2.0s  3.0 MiB of 4.0 MiB (75%)  ETA 2s  512.0 KiB/s  30,000 records \
             (5,000/s)  7 rejected  queue 3/6  busy 2/2"
        );
    }

    #[test]
    fn status_line_without_a_known_size() {
        let s = Snapshot {
            bytes_total: None,
            ..snapshot()
        };
        assert!(status_line(&s).starts_with("weir:    2.0s  1.0 MiB  512.0 KiB/s  10,000"));
    }

    #[test]
    fn eta_units() {
        assert_eq!(eta(0.2), "0s");
        assert_eq!(eta(75.0), "1m15s");
        assert_eq!(eta(3700.0), "1h01m");
    }

    #[test]
    fn templates_parse() {
        for sized in [false, true] {
            for plain in [false, true] {
                bar_style(sized, plain);
            }
        }
    }
}

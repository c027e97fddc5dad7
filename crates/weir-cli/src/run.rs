//! `weir run`: resolve the arguments into a pipeline, run it, report, and pick the exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use weir::{
    Dialect, Error, Failure, Format, PipelineBuilder, Report, Select, Sink, Snapshot, Source,
    StopHandle, StopReason,
};

use crate::args::RunArgs;

/// Exit codes; documented in `weir run --help` and README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const TIMED_OUT: u8 = 124;
    pub const INTERRUPTED: u8 = 130;
    pub const TERMINATED: u8 = 143;
}

/// The resolved run: everything `weir run` and `weir demo` need to build a pipeline.
pub struct RunConfig {
    pub input: String,
    pub output: String,
    pub dialect: Dialect,
    pub select: Option<Vec<String>>,
    pub rejects: Option<String>,
    pub report: Option<String>,
    pub workers: usize,
    pub chunk_size: usize,
    pub max_record_size: usize,
    pub ordered: bool,
    pub flexible: bool,
    pub timeout: Option<Duration>,
    pub status_interval: Duration,
    pub quiet: bool,
}

impl RunConfig {
    pub fn from_args(a: RunArgs) -> RunConfig {
        let format = a
            .format
            .unwrap_or_else(|| Format::from_path(&a.input).unwrap_or(Format::Csv));
        let mut dialect = Dialect::new(format);
        if let Some(d) = a.delimiter {
            dialect.delimiter = d;
        }
        if let Some(q) = a.quote {
            dialect.quote = q;
        }
        dialect.header = !a.no_header;
        RunConfig {
            input: a.input,
            output: a.output,
            dialect,
            select: a.select,
            rejects: a.rejects.map(|p| p.display().to_string()),
            report: a.report.map(|p| p.display().to_string()),
            workers: a.workers.unwrap_or_else(default_workers),
            chunk_size: a.chunk_size,
            max_record_size: a.max_record_size,
            ordered: !a.unordered,
            flexible: a.flexible,
            timeout: a.timeout,
            status_interval: a.status_interval,
            quiet: a.quiet,
        }
    }
}

pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn run(args: RunArgs) -> u8 {
    execute(RunConfig::from_args(args))
}

/// Runs a resolved configuration: signals, status lines, summary, report, exit code.
pub fn execute(cfg: RunConfig) -> u8 {
    if cfg.dialect.delimiter == cfg.dialect.quote {
        eprintln!("weir: error: the delimiter and the quote must differ");
        return exit::USAGE;
    }
    if cfg.input != "-" && cfg.input == cfg.output {
        eprintln!(
            "weir: error: the output would replace the input ({})",
            cfg.input
        );
        return exit::USAGE;
    }
    let stop = StopHandle::new();
    if let Err(e) = install_signal_handlers(&stop) {
        eprintln!("weir: warning: cannot install signal handlers: {e}");
    }
    let mut builder =
        PipelineBuilder::new(Source::from_arg(&cfg.input), Sink::from_arg(&cfg.output))
            .dialect(cfg.dialect)
            .workers(cfg.workers)
            .chunk_size(cfg.chunk_size)
            .max_record_size(cfg.max_record_size)
            .ordered(cfg.ordered)
            .flexible(cfg.flexible)
            .stop_handle(stop);
    if let Some(cols) = &cfg.select {
        builder = builder.transform(Select::new(cols.iter().map(|c| c.trim().to_string())));
    }
    if let Some(r) = &cfg.rejects {
        builder = builder.rejects(Sink::from_arg(r));
    }
    if let Some(t) = cfg.timeout {
        builder = builder.timeout(t);
    }
    if !cfg.quiet {
        builder = builder.observer(cfg.status_interval, Box::new(status_line));
    }
    let result = builder.build().run();
    let (report, code) = match result {
        Ok(report) => (report, exit::OK),
        Err(Failure {
            error: Error::BrokenPipe,
            report,
        }) => (*report, exit::OK),
        Err(Failure { error, report }) => {
            eprintln!("weir: error: {error}");
            let code = match &error {
                e if e.is_usage() => exit::USAGE,
                Error::Stopped(StopReason::Interrupted) => exit::INTERRUPTED,
                Error::Stopped(StopReason::Terminated) => exit::TERMINATED,
                Error::Stopped(StopReason::TimedOut) => exit::TIMED_OUT,
                _ => exit::FAILED,
            };
            (*report, code)
        }
    };
    if code == exit::USAGE {
        return code;
    }
    // A closed stdout (`| head`) is the reader's choice: stay quiet, as other tools do.
    if !cfg.quiet && report.status != weir::Status::OutputClosed {
        eprint!("{}", summary(&report));
    }
    if let Some(path) = &cfg.report {
        if let Err(e) = write_report(Path::new(path), &report) {
            eprintln!("weir: error: cannot write report {path}: {e}");
            return if code == exit::OK { exit::FAILED } else { code };
        }
    }
    code
}

fn install_signal_handlers(stop: &StopHandle) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let stop = stop.clone();
    std::thread::Builder::new()
        .name("weir-signals".into())
        .spawn(move || {
            let mut interrupts = 0;
            for sig in signals.forever() {
                if sig == SIGINT {
                    interrupts += 1;
                    if interrupts > 1 {
                        eprintln!("\nweir: interrupted again; exiting at once");
                        std::process::exit(exit::INTERRUPTED as i32);
                    }
                    eprintln!("\nweir: interrupted; stopping (Ctrl-C again to exit at once)");
                    stop.stop(StopReason::Interrupted);
                } else {
                    stop.stop(StopReason::Terminated);
                }
            }
        })?;
    Ok(())
}

fn status_line(s: &Snapshot) {
    let secs = s.elapsed_seconds.max(1e-9);
    let done = match s.bytes_total {
        Some(total) if total > 0 => format!(
            " of {} ({:.0}%)",
            human_bytes(total),
            100.0 * s.bytes_read as f64 / total as f64
        ),
        _ => String::new(),
    };
    let line = format!(
        "weir: {:>6.1}s  {}{}  {} records ({}/s)  {} rejected  queue {}/{}  busy {}/{}",
        s.elapsed_seconds,
        human_bytes(s.bytes_read),
        done,
        group(s.records_read),
        group((s.records_read as f64 / secs) as u64),
        group(s.records_rejected),
        s.queued_chunks,
        s.queue_capacity,
        s.busy_workers,
        s.workers,
    );
    let mut err = std::io::stderr().lock();
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[2K{line}");
    } else {
        let _ = writeln!(err, "{line}");
    }
}

/// The end-of-run summary for stderr.
pub fn summary(r: &Report) -> String {
    let mut s = String::new();
    if std::io::stderr().is_terminal() {
        s.push_str("\r\x1b[2K");
    }
    let status = match r.status {
        weir::Status::Succeeded => "done",
        weir::Status::Failed => "FAILED (nothing committed)",
        weir::Status::Interrupted => "INTERRUPTED (nothing committed)",
        weir::Status::Terminated => "TERMINATED (nothing committed)",
        weir::Status::TimedOut => "TIMED OUT (nothing committed)",
        weir::Status::OutputClosed => "stopped: standard output was closed",
    };
    let secs = r.elapsed_seconds.max(1e-9);
    s.push_str(&format!(
        "weir: {status}: {} read = {} written + {} filtered + {} rejected ({:.2}% ok)\n",
        group(r.records_read),
        group(r.records_written),
        group(r.records_filtered),
        group(r.records_rejected),
        100.0 * r.success_rate
    ));
    s.push_str(&format!(
        "      {} in {:.2} s ({}/s, {} records/s), {} workers, {}\n",
        human_bytes(r.bytes_read),
        r.elapsed_seconds,
        human_bytes((r.bytes_read as f64 / secs) as u64),
        group((r.records_read as f64 / secs) as u64),
        r.workers,
        if r.ordered { "ordered" } else { "unordered" },
    ));
    if !r.rejects_by_error.is_empty() {
        let parts: Vec<String> = r
            .rejects_by_error
            .iter()
            .map(|(e, n)| format!("{e} {}", group(*n)))
            .collect();
        let to = match &r.rejects {
            Some(p) if r.status == weir::Status::Succeeded => format!(" -> {p}"),
            Some(_) => String::new(),
            None => " (not kept: use --rejects PATH)".to_string(),
        };
        s.push_str(&format!("      rejects: {}{to}\n", parts.join(", ")));
    }
    s
}

fn write_report(path: &Path, report: &Report) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    let mut w = Sink::Path(path.to_path_buf())
        .open()
        .map_err(std::io::Error::other)?;
    w.write_all(&json).map_err(std::io::Error::other)?;
    w.write_all(b"\n").map_err(std::io::Error::other)?;
    w.commit().map_err(std::io::Error::other)
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// 1234567 -> "1,234,567".
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_sizes() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}

//! `weir run`: resolve the arguments into a pipeline, run it, report, and pick the exit code.

use std::io::Write;
use std::path::Path;

use clap::ArgMatches;
use weir::schema::{Schema, Validate};
use weir::{
    Dialect, Error, Failure, Format, PipelineBuilder, Sink, Source, StopHandle, StopReason,
};

use crate::args::{InferArgs, RunArgs};
use crate::progress::Live;
pub use crate::spec::RunConfig;
use crate::spec::{self, ResolveError, SchemaSource};
use crate::summary::escape_lines;
use crate::summary::summary;

/// Exit codes; documented in `weir run --help` and README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const TIMED_OUT: u8 = 124;
    pub const INTERRUPTED: u8 = 130;
    pub const TERMINATED: u8 = 143;
}

pub fn run(args: RunArgs, matches: &ArgMatches) -> u8 {
    if args.shard.shard.is_some() || args.shard.shard_from_env {
        return crate::shard::run(args, matches);
    }
    if let Some(flag) = args.shard.misplaced() {
        eprintln!("weir: error: {flag} goes with --shard or --shard-from-env (or weir plan)");
        return exit::USAGE;
    }
    match spec::resolve(args, Some(matches)) {
        Ok(cfg) => execute(cfg),
        Err(e) => resolve_failed(&e),
    }
}

/// Says why the arguments could not be resolved; the exit code.
fn resolve_failed(e: &ResolveError) -> u8 {
    match e {
        ResolveError::Usage(message) => {
            eprintln!("weir: error: {message}");
            exit::USAGE
        }
        ResolveError::Transient(e) => {
            eprintln!("weir: error: {}", escape_lines(&e.to_string()));
            exit::FAILED
        }
    }
}

/// `weir schema infer`: a Table Schema from a bounded sample.
pub fn infer(a: InferArgs) -> u8 {
    let format = a
        .format
        .unwrap_or_else(|| Format::from_path(&a.input).unwrap_or(Format::Csv));
    let mut dialect = Dialect::new(format);
    if let Some(d) = a.delimiter {
        dialect.delimiter = d;
    }
    dialect.header = !a.no_header;
    let (columns, rows) = match weir::sample(Source::from_arg(&a.input), dialect, a.sample.max(1)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("weir: error: {e}");
            return exit::FAILED;
        }
    };
    let mut rows = rows.into_iter();
    let schema = weir::schema::infer(&mut rows, columns.names());
    let mut text = schema.to_json_pretty();
    text.push('\n');
    let written = match &a.output {
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string()),
        Some(p) => write_atomically(Path::new(p), text.as_bytes()),
    };
    match written {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("weir: error: cannot write the schema: {e}");
            exit::FAILED
        }
    }
}

/// `weir explain`: the compiled plan, step by step, with the columns after each.
pub fn explain(args: RunArgs, matches: &ArgMatches) -> u8 {
    let cfg = match spec::resolve(args, Some(matches)) {
        Ok(cfg) => cfg,
        Err(e) => return resolve_failed(&e),
    };
    let builder = match builder(&cfg, StopHandle::new()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("weir: error: {e}");
            return exit::USAGE;
        }
    };
    match builder.build().plan() {
        Ok(plan) => {
            print!("{}", render_plan(&plan, &cfg));
            exit::OK
        }
        Err(e) => {
            eprintln!("weir: error: {e}");
            if e.is_usage() {
                exit::USAGE
            } else {
                exit::FAILED
            }
        }
    }
}

fn render_plan(plan: &weir::Explain, cfg: &RunConfig) -> String {
    let mut s = format!(
        "input   {} ({}, {} columns): {}\n",
        plan.input,
        plan.format,
        plan.input_columns.len(),
        plan.input_columns.names().join(", ")
    );
    for (i, step) in plan.steps.iter().enumerate() {
        let gate = if step.ordered_gate {
            "  [decided in input order]"
        } else {
            ""
        };
        s.push_str(&format!(
            "step {}  {} {}{gate}\n",
            i + 1,
            step.name,
            step.detail
        ));
        s.push_str(&format!("        -> {}\n", step.columns.names().join(", ")));
    }
    s.push_str(&format!(
        "output  {} ({})\n",
        cfg.output, plan.output_format
    ));
    if let Some(r) = &cfg.rejects {
        s.push_str(&format!("rejects {r}\n"));
    }
    s.push_str(&format!(
        "run     {} workers, {} chunks, {}\n",
        plan.workers,
        human_bytes(cfg.chunk_size as u64),
        if plan.ordered { "ordered" } else { "unordered" }
    ));
    s
}

/// The pipeline a configuration describes (schema validation first, then the steps).
pub fn builder(cfg: &RunConfig, stop: StopHandle) -> Result<PipelineBuilder, String> {
    let mut b = PipelineBuilder::new(
        Source::from_arg(&cfg.inputs[0]),
        Sink::from_arg(&cfg.output),
    )
    .dialect(cfg.dialect)
    .output_dialect(cfg.output_dialect)
    .workers(cfg.workers)
    .chunk_size(cfg.chunk_size)
    .max_record_size(cfg.max_record_size)
    .oversized(cfg.oversized)
    .ordered(cfg.ordered)
    .ragged(cfg.ragged)
    .invalid_utf8(cfg.invalid_utf8)
    .durable(cfg.durable)
    .stop_handle(stop);
    if let Some(level) = cfg.compression_level {
        b = b.compression_level(level);
    }
    if let Some(source) = &cfg.schema {
        let schema = match source {
            SchemaSource::Path(p) => Schema::from_path(Path::new(p)),
            SchemaSource::Inline(v) => Schema::from_json(&v.to_string()),
        }
        .map_err(|e| format!("schema: {e}"))?;
        b = b.transform(Validate::new(schema));
    }
    for more in &cfg.inputs[1..] {
        b = b.input(Source::from_arg(more));
    }
    for step in &cfg.steps {
        b = b.boxed_transform(step.build());
    }
    if let Some(r) = &cfg.rejects {
        b = b.rejects(Sink::from_arg(r));
    }
    if let Some(r) = &cfg.report {
        b = b.report(Sink::from_arg(r));
    }
    if let Some(t) = cfg.timeout {
        b = b.timeout(t);
    }
    if cfg.resume {
        b = b.resumable(cfg.checkpoint_every, fingerprint(cfg)?);
    }
    Ok(b)
}

/// What identifies the pipeline of a resumable run beyond what the engine sees: the steps as
/// configured and the schema's text (a schema file edited between a crash and the resume is a
/// changed pipeline).
pub fn fingerprint(cfg: &RunConfig) -> Result<String, String> {
    let schema = match &cfg.schema {
        None => String::new(),
        Some(SchemaSource::Path(p)) => std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| format!("schema {p}: {e}"))?,
        Some(SchemaSource::Inline(v)) => v.to_string(),
    };
    Ok(format!("steps {:?}\nschema {schema}\n", cfg.steps))
}

/// Runs a resolved configuration: signals, status lines, summary, report, exit code.
pub fn execute(cfg: RunConfig) -> u8 {
    tracing::debug!(?cfg, "resolved run configuration");
    let stop = StopHandle::new();
    let mut builder = match builder(&cfg, stop.clone()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("weir: error: {e}");
            return exit::USAGE;
        }
    };
    // The report is committed with the outputs: its folder is checked before, like theirs.
    if let Some(e) = cfg
        .report
        .as_ref()
        .and_then(|r| Sink::from_arg(r).check_destination().err())
    {
        eprintln!("weir: error: report: {e}");
        return exit::USAGE;
    }
    if let Err(e) = install_signal_handlers(&stop) {
        eprintln!("weir: warning: cannot install signal handlers: {e}");
    }
    let live = Live::new(
        cfg.progress,
        cfg.quiet,
        cfg.status_interval,
        cfg.output == "-",
    );
    if let Some((every, observer)) = live.observer() {
        builder = builder.observer(every, observer);
    }
    let result = builder.build().run();
    let (report, code) = match result {
        Ok(report) => (report, exit::OK),
        Err(Failure {
            error: Error::BrokenPipe,
            report,
        }) => (*report, exit::OK),
        Err(Failure { error, report }) => {
            live.finish();
            // Errors can quote the data (a header's column names, a value).
            eprintln!("weir: error: {}", escape_lines(&error.to_string()));
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
    live.finish();
    if code == exit::USAGE {
        return code;
    }
    // A closed stdout (`| head`) is the reader's choice: stay quiet, as other tools do.
    if !cfg.quiet && report.status != weir::Status::OutputClosed {
        eprint!("{}", summary(&report));
    }
    if code != exit::OK {
        // A stopped run may have left a writer behind, blocked in a write (a pipe nobody
        // reads): its temporary files go now, as the process is about to end.
        weir::sink::remove_temp_files();
    }
    code
}

/// The first SIGINT or SIGTERM stops the run gracefully (partial summary, report, exit 130 or
/// 143). A second one of either while it stops exits at once, with the first one's code, after
/// removing the temporary output files: the run may be stuck (a transform that never returns,
/// a standard output nobody reads), and the user asked twice. The removal runs on this
/// watching thread, never in the signal handler (signal-hook's handler only wakes it), as
/// unlinking and locking are not async-signal-safe.
pub fn install_signal_handlers(stop: &StopHandle) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let stop = stop.clone();
    std::thread::Builder::new()
        .name("weir-signals".into())
        .spawn(move || {
            let mut first: Option<i32> = None;
            for sig in signals.forever() {
                let Some(first) = first else {
                    first = Some(sig);
                    if sig == SIGINT {
                        eprintln!("\nweir: interrupted; stopping (Ctrl-C again to exit at once)");
                        stop.stop(StopReason::Interrupted);
                    } else {
                        eprintln!("\nweir: terminated; stopping (a second signal exits at once)");
                        stop.stop(StopReason::Terminated);
                    }
                    continue;
                };
                let removed = weir::sink::remove_temp_files();
                eprintln!(
                    "weir: {} again; exiting at once ({removed} temporary file{} removed, \
                     nothing committed)",
                    if sig == SIGINT {
                        "interrupted"
                    } else {
                        "terminated"
                    },
                    if removed == 1 { "" } else { "s" }
                );
                let code = if first == SIGINT {
                    exit::INTERRUPTED
                } else {
                    exit::TERMINATED
                };
                std::process::exit(code as i32);
            }
        })?;
    Ok(())
}

/// Writes a whole small file through the atomic sink (temp file, fsync, rename), or an
/// `s3://` object (uploaded whole).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let sink = match path.to_str() {
        Some(url) if url.starts_with("s3://") => Sink::from_arg(url),
        _ => Sink::Path(path.to_path_buf()),
    };
    let mut w = sink.open().map_err(|e| e.to_string())?;
    w.write_all(bytes).map_err(|e| e.to_string())?;
    w.commit().map_err(|e| e.to_string())
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

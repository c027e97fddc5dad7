//! `weir run` on one machine: resolve the arguments into a pipeline, run it, report, and pick
//! the exit code; and the commands that share its configuration, `weir explain` and
//! `weir schema infer`. A run with `--shard` goes to `shard.rs` instead (main.rs picks).

use std::io::Write;
use std::path::Path;

use clap::ArgMatches;
use weir::{Dialect, Failure, Format, Sink, Source, StopHandle};

use crate::args::{InferArgs, RunArgs};
use crate::exit::{Exit, Scope};
use crate::human::{escape_lines, human_bytes, plural};
use crate::progress::Live;
use crate::signals;
use crate::spec::{self, RunConfig};
use crate::summary::{self, summary};

/// `weir run` without a shard selection.
pub fn run(mut args: RunArgs, matches: &ArgMatches) -> Exit {
    if let Some(flag) = args.shard.misplaced() {
        eprintln!("weir: error: {flag} goes with --shard or --shard-from-env (or weir plan)");
        return Exit::Usage;
    }
    args.stdin_when_piped = true;
    match spec::resolve(args, Some(matches)) {
        Ok(cfg) => execute(cfg),
        Err(e) => e.fail(Scope::Run),
    }
}

/// `weir schema infer`: a Table Schema from a bounded sample.
pub fn infer(a: InferArgs) -> Exit {
    let input = match &a.input {
        Some(i) => i.clone(),
        None if crate::inputs::stdin_has_data() => "-".to_string(),
        None => {
            eprintln!(
                "weir: error: no input: name a file (weir schema infer data.csv), `-` for \
                 standard input, or pipe the data in (cmd | weir schema infer)"
            );
            return Exit::Usage;
        }
    };
    let format = a
        .format
        .unwrap_or_else(|| Format::from_path(&input).unwrap_or(Format::Csv));
    let mut dialect = Dialect::new(format);
    if let Some(d) = a.delimiter {
        dialect.delimiter = d;
    }
    dialect.header = !a.no_header;
    let (columns, rows) = match weir::sample(Source::from_arg(&input), dialect, a.sample.max(1)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("weir: error: {}", escape_lines(&e.to_string()));
            return Exit::Failed;
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
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("weir: error: cannot write the schema: {e}");
            Exit::Failed
        }
    }
}

/// `weir explain`: the compiled plan, step by step, with the columns after each.
pub fn explain(mut args: RunArgs, matches: &ArgMatches) -> Exit {
    args.stdin_when_piped = true;
    let cfg = match spec::resolve(args, Some(matches)) {
        Ok(cfg) => cfg,
        Err(e) => return e.fail(Scope::Other),
    };
    let builder = match cfg.builder(StopHandle::new()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("weir: error: {e}");
            return Exit::Usage;
        }
    };
    match builder.build().plan() {
        Ok(plan) => {
            print!("{}", render_plan(&plan, &cfg));
            Exit::Ok
        }
        Err(e) => {
            // Errors can quote the data (a header's column names), as a run's do.
            eprintln!("weir: error: {}", escape_lines(&e.to_string()));
            Exit::of(&e, Scope::Other)
        }
    }
}

fn render_plan(plan: &weir::Explain, cfg: &RunConfig) -> String {
    let mut s = format!(
        "input   {} ({}, {}): {}\n",
        plan.input,
        plan.format,
        plural(plan.input_columns.len() as u64, "column"),
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
        let reasons = weir::io::reasons_beside(&Sink::from_arg(r));
        match reasons.filter(|_| cfg.rejects_format == weir::RejectsFormat::Input) {
            Some(reasons) => s.push_str(&format!(
                "rejects {r} (records as read; reasons in {})\n",
                reasons.name()
            )),
            None => s.push_str(&format!("rejects {r}\n")),
        }
    }
    s.push_str(&format!(
        "run     {}, {} chunks, {}\n",
        plural(plan.workers as u64, "worker"),
        human_bytes(cfg.chunk_size as u64),
        if plan.ordered { "ordered" } else { "unordered" }
    ));
    s
}

/// Runs a resolved configuration: signals, status lines, summary, report, exit code.
pub fn execute(cfg: RunConfig) -> Exit {
    tracing::debug!(?cfg, "resolved run configuration");
    let stop = StopHandle::new();
    let mut builder = match cfg.builder(stop.clone()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("weir: error: {e}");
            return Exit::Usage;
        }
    };
    // The report is committed with the outputs: its folder is checked before, like theirs.
    if let Some(e) = cfg
        .report
        .as_ref()
        .and_then(|r| Sink::from_arg(r).check_destination().err())
    {
        eprintln!("weir: error: report: {e}");
        return Exit::Usage;
    }
    if let Err(e) = signals::install(&stop) {
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
        Ok(report) => (report, Exit::Ok),
        Err(Failure { error, report }) => {
            let code = Exit::of(&error, Scope::Run);
            // A closed standard output ends the run quietly (its code is 0).
            if code != Exit::Ok {
                live.finish();
                // Errors can quote the data (a header's column names, a value).
                eprintln!("weir: error: {}", escape_lines(&error.to_string()));
            }
            (*report, code)
        }
    };
    live.finish();
    if code == Exit::Usage {
        return code;
    }
    // A closed stdout (`| head`) is the reader's choice: stay quiet, as other tools do.
    if !cfg.quiet && report.status != weir::Status::OutputClosed {
        eprint!("{}", summary(&report));
        eprint!(
            "{}",
            summary::places(
                report.status,
                &cfg.output,
                cfg.rejects.as_deref(),
                cfg.report.as_deref()
            )
        );
    }
    if code != Exit::Ok {
        // A stopped run may have left a writer behind, blocked in a write (a pipe nobody
        // reads): its temporary files go now, as the process is about to end.
        weir::io::remove_temp_files();
    }
    code
}

/// Writes a whole small file through the atomic sink (temp file, fsync, rename), or an
/// `s3://` object (uploaded whole).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let sink = match path.to_str() {
        Some(url) if weir::io::is_url(url) => Sink::from_arg(url),
        _ => Sink::Path(path.to_path_buf()),
    };
    let mut w = sink.open().map_err(|e| e.to_string())?;
    w.write_all(bytes).map_err(|e| e.to_string())?;
    w.commit().map_err(|e| e.to_string())
}

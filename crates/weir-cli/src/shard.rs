//! `weir plan`, `weir run --shard`, `weir merge`: a pipeline as N shards on machines an outside
//! engine schedules (docs/scale-out.md). The logic is the library's (`weir::shard`); here are
//! the arguments, the messages and the exit codes a driver acts on.

use std::path::Path;
use std::process::Command;

use clap::ArgMatches;
use weir::shard::{self, MergeOutcome, OutDir, Repair, ShardJob, ShardOutcome, ShardPlan, Split};
use weir::{Error, StopHandle};

use crate::args::{MergeArgs, RunArgs, ShardArgs};
use crate::exit::{Exit, Scope};
use crate::human::{escape_lines, human_bytes, plural};
use crate::signals;
use crate::spec::{self, RunConfig};
use crate::summary::summary;

/// The environment variables `--shard-from-env` reads the index from, in order.
pub const INDEX_VARS: [&str; 4] = [
    "WEIR_SHARD_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

/// What identifies the pipeline of a plan: everything that shapes the output, not where it
/// runs (workers, chunk size, time limit).
fn pipeline_hash(cfg: &RunConfig) -> Result<String, String> {
    let mut text = format!(
        "{}in {:?}\nout {:?}\nragged {:?}\noversized {:?}\nmax_record_size {}\n",
        cfg.fingerprint()?,
        cfg.dialect,
        cfg.output_dialect,
        cfg.ragged,
        cfg.oversized,
        cfg.max_record_size
    );
    // Only when not the default, so plans made before the option still match.
    if cfg.invalid_utf8 != weir::InvalidUtf8::default() {
        text.push_str(&format!("invalid_utf8 {}\n", cfg.invalid_utf8));
    }
    Ok(shard::hash_hex(text.as_bytes()))
}

/// Why a sharded run keeps its rejects as a table.
const SHARDED_REJECTS: &str = "--rejects-format input does not go with shards: each shard \
     writes its rejects as a table that weir merge concatenates (run on one machine for \
     rejects in the input's format)";

fn usage(message: impl std::fmt::Display) -> Exit {
    eprintln!("weir: error: {message}");
    Exit::Usage
}

/// `weir plan`: writes DIR/_plan.json and prints the shard count.
pub fn plan(args: RunArgs, matches: &ArgMatches) -> Exit {
    let s = args.shard.clone();
    if s.selects_a_shard() || s.start_at.is_some() || s.plan.is_some() {
        return usage("weir plan takes --out and --shards or --shard-size; --shard, --plan and --start-at are for weir run");
    }
    let Some(out) = s.out else {
        return usage("weir plan needs --out DIR, the shard folder");
    };
    let split = match (s.shards, s.shard_size) {
        (Some(0), _) => return usage("--shards must be at least 1"),
        (Some(n), None) => Split::Count(n),
        (None, Some(size)) => Split::Size(size as u64),
        _ => return usage("weir plan needs --shards N or --shard-size SIZE"),
    };
    let cfg = match spec::resolve(args, Some(matches)) {
        Ok(cfg) => cfg,
        Err(e) => return e.fail(Scope::Other),
    };
    if cfg.rejects_format == weir::RejectsFormat::Input {
        return usage(SHARDED_REJECTS);
    }
    let hash = match pipeline_hash(&cfg) {
        Ok(h) => h,
        Err(e) => return usage(e),
    };
    // Steps that decide over the whole input in order cannot run sharded: say so now, not in
    // every shard.
    let compiled = cfg.builder(StopHandle::new()).map(|b| b.build().plan());
    match compiled {
        Err(e) => return usage(e),
        Ok(Err(e)) => return fail(&e, Scope::Other),
        Ok(Ok(p)) => {
            if let Some(step) = p.steps.iter().find(|s| s.ordered_gate) {
                return usage(format!(
                    "{} decides over the whole input in order, so it cannot run sharded: run it \
                     on the merged output",
                    step.name
                ));
            }
        }
    }
    let plan = match ShardPlan::new(&cfg.inputs, cfg.dialect, cfg.max_record_size, &hash, split) {
        Ok(p) => p,
        Err(e) => return fail(&e, Scope::Other),
    };
    let dir = match OutDir::new(&out) {
        Ok(d) => d,
        Err(e) => return fail(&e, Scope::Other),
    };
    if let Err(e) = dir
        .prepare()
        .and_then(|()| dir.write(shard::PLAN_FILE, plan.to_json().as_bytes()))
    {
        return fail(&e, Scope::Other);
    }
    if !cfg.quiet {
        let bytes: u64 = plan.inputs.iter().map(|i| i.size).sum();
        eprintln!(
            "weir: planned {} over {} ({}) in {}",
            plural(plan.shards.len() as u64, "shard"),
            plural(plan.inputs.len() as u64, "input"),
            human_bytes(bytes),
            dir.location(shard::PLAN_FILE)
        );
    }
    println!("{}", plan.shards.len());
    Exit::Ok
}

/// How a shard's inputs differ from its plan's, or `None` when they are the same files or
/// objects in the same order: the names a pattern matches now and did not at plan time, and
/// the reverse, a few of each.
fn inputs_differ(planned: &[&str], given: &[String]) -> Option<String> {
    use std::collections::HashSet;
    // A path by the file it names (`./a.csv` is `a.csv`); a URL, or a path that names
    // nothing, as written.
    let canonical = |name: &str| {
        std::fs::canonicalize(name).map_or_else(|_| name.to_string(), |p| p.display().to_string())
    };
    let planned_c: Vec<String> = planned.iter().map(|p| canonical(p)).collect();
    let given_c: Vec<String> = given.iter().map(|g| canonical(g)).collect();
    if planned_c == given_c {
        return None;
    }
    let names = |list: Vec<&str>| {
        let mut s = list.iter().take(3).copied().collect::<Vec<_>>().join(", ");
        if list.len() > 3 {
            s.push_str(&format!(" and {} more", list.len() - 3));
        }
        s
    };
    let planned_set: HashSet<&String> = planned_c.iter().collect();
    let given_set: HashSet<&String> = given_c.iter().collect();
    let new: Vec<&str> = given
        .iter()
        .zip(&given_c)
        .filter(|(_, c)| !planned_set.contains(c))
        .map(|(g, _)| g.as_str())
        .collect();
    let gone: Vec<&str> = planned
        .iter()
        .zip(&planned_c)
        .filter(|(_, c)| !given_set.contains(c))
        .map(|(p, _)| *p)
        .collect();
    let mut parts = Vec::new();
    if !new.is_empty() {
        parts.push(format!("not in the plan: {}", names(new)));
    }
    if !gone.is_empty() {
        parts.push(format!("planned but not given: {}", names(gone)));
    }
    if parts.is_empty() {
        parts.push(format!(
            "the plan reads them in another order: {}",
            names(planned.to_vec())
        ));
    }
    Some(format!(
        "the inputs are not the plan's ({}): plan again, or run the shard without --input to \
         read the plan's",
        parts.join("; ")
    ))
}

/// Says what failed; the exit code `e` means in `scope`.
fn fail(e: &Error, scope: Scope) -> Exit {
    eprintln!("weir: error: {}", escape_lines(&e.to_string()));
    Exit::of(e, scope)
}

/// Which shard the arguments (or the environment) select: its index, and the count for
/// `K/N`.
fn selection(s: &ShardArgs, dir: &OutDir) -> Result<(usize, Option<usize>), String> {
    let parse = |what: &str, v: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| format!("{what} '{v}' is not a shard index"))
    };
    if let Some(sel) = &s.shard {
        return match sel.split_once('/') {
            Some((k, n)) => {
                let (k, n) = (parse("--shard", k)?, parse("--shard", n)?);
                if n == 0 || k >= n {
                    return Err(format!("--shard {sel}: K must be below N"));
                }
                Ok((k, Some(n)))
            }
            None => Ok((parse("--shard", sel)?, None)),
        };
    }
    let (var, value) = INDEX_VARS
        .iter()
        .find_map(|v| std::env::var(v).ok().map(|x| (*v, x)))
        .ok_or_else(|| format!("--shard-from-env: none of {} is set", INDEX_VARS.join(", ")))?;
    let k = parse(var, &value)?;
    let has_plan = s.plan.is_some() || matches!(dir.read(shard::PLAN_FILE), Ok(Some(_)));
    if has_plan {
        return Ok((k, None));
    }
    match std::env::var("WEIR_SHARD_COUNT") {
        Ok(n) => {
            let n = parse("WEIR_SHARD_COUNT", &n)?;
            if k >= n {
                return Err(format!("{var}={k} is not below WEIR_SHARD_COUNT={n}"));
            }
            Ok((k, Some(n)))
        }
        Err(_) => Err(format!(
            "--shard-from-env: no plan at {} and WEIR_SHARD_COUNT is not set",
            dir.location(shard::PLAN_FILE)
        )),
    }
}

/// The command line without its shard selection and `--start-at`: what a re-run from a
/// proven start repeats.
fn recorded_argv() -> Vec<String> {
    let mut out = Vec::new();
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--shard" | "--start-at" => {
                args.next();
            }
            "--shard-from-env" => {}
            _ if a.starts_with("--shard=") || a.starts_with("--start-at=") => {}
            _ => out.push(a),
        }
    }
    out
}

/// Asks Linux to stop this process when its parent dies: an engine's lost worker must not
/// leave a shard writing behind it. SIGTERM stops the run cleanly (nothing committed).
fn die_with_parent() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong);
    }
}

/// `weir run --shard ...`: one shard.
pub fn run(mut args: RunArgs, matches: &ArgMatches) -> Exit {
    die_with_parent();
    if let Err(e) = crate::inputs::place_files(&mut args, Some(matches)) {
        return usage(e);
    }
    let s = args.shard.clone();
    // Without --input, the plan says what to read (over a pipeline file's `input`, if any:
    // the plan is what the shards share).
    if args.io.input.is_empty() {
        if let Some(inputs) = planned_inputs(&s) {
            args.io.input = inputs;
        }
    }
    let Some(out) = s.out.clone() else {
        return usage("--shard needs --out DIR, the shard folder");
    };
    let cfg = match spec::resolve_placed(args, Some(matches)) {
        Ok(cfg) => cfg,
        // A listing that may pass on a retry: the driver's retry code (75), no report.
        Err(e) => return e.fail(Scope::Shard),
    };
    if cfg.rejects_format == weir::RejectsFormat::Input {
        return usage(SHARDED_REJECTS);
    }
    if cfg.resume {
        return usage("--resume does not go with --shard: a shard is re-run whole (it is one range of the input)");
    }
    let dir = match OutDir::new(&out) {
        Ok(d) => d,
        Err(e) => return fail(&e, Scope::Shard),
    };
    let (index, count) = match selection(&s, &dir) {
        Ok(sel) => sel,
        Err(e) => return usage(e),
    };
    let hash = match pipeline_hash(&cfg) {
        Ok(h) => h,
        Err(e) => return usage(e),
    };
    let plan = shard::load_or_make_plan(&dir, s.plan.as_deref(), count, |split| {
        ShardPlan::new(&cfg.inputs, cfg.dialect, cfg.max_record_size, &hash, split)
    });
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return fail(&e, Scope::Shard),
    };
    if plan.pipeline != hash {
        return usage(format!(
            "the plan in {} was made for another pipeline (steps, schema, dialect or record \
             rules differ): plan again or run the same pipeline",
            dir.name()
        ));
    }
    let planned: Vec<&str> = plan.inputs.iter().map(|i| i.name.as_str()).collect();
    if let Some(why) = inputs_differ(&planned, &cfg.inputs) {
        return usage(why);
    }
    let stop = StopHandle::new();
    let builder = match cfg.builder(stop.clone()) {
        Ok(b) => b,
        Err(e) => return usage(e),
    };
    if let Err(e) = signals::install(&stop) {
        eprintln!("weir: warning: cannot install signal handlers: {e}");
    }
    let job = ShardJob {
        index,
        count,
        start_at: s.start_at,
        argv: recorded_argv(),
    };
    let outcome = shard::run_shard(builder, &plan, &job, &dir);
    ended(outcome, index, &plan, &dir, cfg.quiet)
}

/// The inputs of the plan a shard's arguments name (`--plan`, else DIR/_plan.json), as names
/// to read, or `None` without a readable plan (the run then says what is missing).
fn planned_inputs(s: &ShardArgs) -> Option<Vec<String>> {
    let out = s.out.as_ref()?;
    let bytes = match &s.plan {
        Some(p) => std::fs::read(p).ok(),
        None => OutDir::new(out)
            .and_then(|d| d.read(shard::PLAN_FILE))
            .ok()
            .flatten(),
    }?;
    let plan = ShardPlan::from_json(&bytes, "plan").ok()?;
    // Names, not patterns: a planned `b[1].csv` must not become `b1.csv`.
    Some(
        plan.inputs
            .iter()
            .map(|i| glob::Pattern::escape(&i.name))
            .collect(),
    )
}

/// Says how shard `index` ended; the exit code its driver acts on.
fn ended(
    outcome: weir::Result<ShardOutcome>,
    index: usize,
    plan: &ShardPlan,
    dir: &OutDir,
    quiet: bool,
) -> Exit {
    match outcome {
        Ok(ShardOutcome::Done(done)) => {
            if !quiet {
                eprint!("{}", summary(&done.report));
                if let Some(i) = &done.shard {
                    eprintln!(
                        "shard {index}: bytes {}..{} (guess: {}), part {}",
                        i.start,
                        i.end,
                        i.start_guess.hypothesis,
                        dir.location(&i.part)
                    );
                }
            }
            Exit::Ok
        }
        Ok(ShardOutcome::AlreadyDone(_)) => {
            if !quiet {
                eprintln!(
                    "weir: shard {index} is done already ({}): nothing to do",
                    dir.location(&shard::report_name(index, plan.shards.len(), false))
                );
            }
            Exit::Ok
        }
        Err(e) => {
            eprintln!(
                "weir: error: shard {index}: {}",
                escape_lines(&e.to_string())
            );
            if matches!(
                e,
                Error::UnterminatedQuote { .. } | Error::RecordTooLarge { .. }
            ) {
                eprintln!(
                    "weir: (lines are counted from this shard's start as if it were the first \
                     data line; weir merge names the file's line)"
                );
            }
            weir::io::remove_temp_files();
            Exit::of(&e, Scope::Shard)
        }
    }
}

/// A command as a shell would need it typed.
fn shell_line(cwd: &str, argv: &[String]) -> String {
    let quote = |a: &str| {
        if !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_./=:,+-@%".contains(&b))
        {
            a.to_string()
        } else {
            format!("'{}'", a.replace('\'', "'\\''"))
        }
    };
    let cmd: Vec<String> = argv.iter().map(|a| quote(a)).collect();
    format!("cd {} && {}", quote(cwd), cmd.join(" "))
}

/// Re-runs a shard from its proven start with this weir, in the folder it first ran in.
fn rerun(r: &Repair) -> weir::Result<()> {
    let exe = std::env::current_exe().map_err(|e| {
        Error::Shard(format!(
            "cannot find this weir to re-run shard {}: {e}",
            r.index
        ))
    })?;
    eprintln!(
        "weir: shard {} started at byte {} but the shard before it ended at {}: re-running it from there",
        r.index, r.guessed, r.start
    );
    let status = Command::new(exe)
        .args(&r.argv[1..])
        .current_dir(&r.cwd)
        .status()
        .map_err(|e| Error::Shard(format!("cannot re-run shard {}: {e}", r.index)))?;
    match status.code() {
        // 65: the shard failed from a proven start; its report says why, and merge says it.
        Some(0) => Ok(()),
        Some(c) if c == i32::from(Exit::Data.code()) => Ok(()),
        _ => Err(Error::Shard(format!(
            "re-running shard {} from byte {} failed ({status}): {}",
            r.index,
            r.start,
            shell_line(&r.cwd, &r.argv)
        ))),
    }
}

/// `weir merge DIR`.
pub fn merge(a: MergeArgs) -> Exit {
    let dir = match OutDir::new(&a.dir) {
        Ok(d) => d,
        Err(e) => return fail(&e, Scope::Other),
    };
    let mut repairer = rerun;
    let repair: Option<shard::Repairer<'_>> = if a.repair { Some(&mut repairer) } else { None };
    match shard::merge(&dir, repair, a.concat.as_deref().map(Path::new)) {
        Ok(MergeOutcome::Merged(merged)) => {
            if !a.quiet {
                eprint!("{}", summary(&merged.report));
                if let Some(m) = &merged.merge {
                    eprintln!(
                        "merged {} ({} re-run from a proven start) into {}",
                        plural(m.shards as u64, "shard"),
                        m.repairs.len(),
                        merged.report.output
                    );
                }
            }
            Exit::Ok
        }
        Ok(MergeOutcome::AlreadyMerged) => {
            if !a.quiet {
                eprintln!(
                    "weir: {} is merged already ({} exists): nothing to do",
                    a.dir,
                    shard::SUCCESS
                );
            }
            Exit::Ok
        }
        Ok(MergeOutcome::Missing(missing)) => {
            for (k, why) in &missing {
                eprintln!("weir: shard {k} is missing: {why}");
                println!("{k}");
            }
            Exit::Missing
        }
        Ok(MergeOutcome::NeedsRepair(repairs)) => {
            for r in &repairs {
                eprintln!(
                    "weir: shard {} started at byte {}, but the shard before it ended at {}: re-run it from there",
                    r.index, r.guessed, r.start
                );
                println!("{}", shell_line(&r.cwd, &r.argv));
            }
            Exit::NeedsRepair
        }
        Ok(MergeOutcome::Failed { message, .. }) => {
            eprintln!("weir: error: {}", escape_lines(&message));
            Exit::Data
        }
        Err(e) => fail(&e, Scope::Other),
    }
}

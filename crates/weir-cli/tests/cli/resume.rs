//! Crash safety: a `--resume` run killed with SIGKILL at many points and resumed each time
//! ends with the output, rejects and report counters of an uninterrupted run, byte for byte;
//! a changed input or pipeline, or a damaged checkpoint, is refused.

use std::fs;
use std::time::{Duration, Instant};

use crate::support::*;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A CSV with quoted newlines and doubled quotes, values that fail the schema, repeated
/// primary keys, and repeated keys for the dedupe step.
fn customers(rows: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = b"id,name,email,age,city\n".to_vec();
    let cities = ["Berlin", "Paris", "Austin", "Lyon", "Oslo", "Kyiv"];
    for id in 0..rows {
        let name = match rng.below(10) {
            // Now and then a record too large for the tests' --max-record-size of 4 KiB.
            _ if rng.below(3000) == 0 => format!("\"{}\n{id}\"", "x".repeat(6000)),
            0 => format!("\"Smith,\nJane {id}\""),
            1 => format!("\"O\"\"Brien {id}\""),
            _ => format!("name {id}"),
        };
        let email = if rng.below(25) == 0 {
            String::new()
        } else {
            format!("u{id}@example.com")
        };
        let age = match rng.below(30) {
            0 => "old".to_string(),
            _ => rng.below(90).to_string(),
        };
        let city = cities[rng.below(cities.len() as u64) as usize];
        // Now and then an id seen long before: the schema's primary key rejects it, naming
        // the line of the first (which a resumed run must still know).
        let key = if id > 1000 && rng.below(40) == 0 {
            rng.below(id as u64 - 1000) as usize
        } else {
            id
        };
        out.extend_from_slice(format!("{key},{name},{email},{age},{city}\n").as_bytes());
    }
    out
}

const SCHEMA: &str = r#"{"fields": [
  {"name": "id", "type": "integer"},
  {"name": "name", "type": "string"},
  {"name": "email", "type": "string", "constraints": {"required": true}},
  {"name": "age", "type": "integer"},
  {"name": "city", "type": "string"}
], "primaryKey": ["id"]}"#;

const PIPELINE: &str = r#"
schema = "schema.json"
[[transform]]
derive = { name = "name", expr = "upper(name)" }
[[transform]]
filter = "age < 80"
[[transform]]
dedupe = { columns = ["email", "city"] }
"#;

/// Writes the test pipeline `p.toml` and its `schema.json` into the sandbox.
fn write_pipeline(sb: &Sandbox) {
    sb.write("schema.json", SCHEMA.as_bytes());
    sb.write("p.toml", PIPELINE.as_bytes());
}

/// A sandbox with the pipeline and `in.csv` of `rows` generated records; returns the input.
fn sandbox(rows: usize, seed: u64) -> (Sandbox, Vec<u8>) {
    let sb = Sandbox::new();
    let input = customers(rows, seed);
    sb.write("in.csv", &input);
    write_pipeline(&sb);
    (sb, input)
}

/// A resumable run of `p.toml` on `in.csv` into `out.csv` that checkpoints after every 4 KiB
/// chunk with one worker: slow enough to be caught part-way.
const SLOW_RESUMABLE: [&str; 15] = [
    "run",
    "p.toml",
    "--input",
    "in.csv",
    "--output",
    "out.csv",
    "--chunk-size",
    "4KiB",
    "--workers",
    "1",
    "--resume",
    "--checkpoint-every",
    "0s",
    "--progress",
    "none",
];

/// The report's counters: everything but times, memory, per-worker figures and the resume.
fn counters(report: &str) -> Vec<(String, serde_json::Value)> {
    let v = crate::support::report(report);
    [
        "status",
        "records_read",
        "records_written",
        "records_filtered",
        "records_rejected",
        "rejects_by_error",
        "rejects_by_field",
        "first_rejects",
        "bytes_read",
        "bytes_written",
        "committed_offset",
        "chunks",
    ]
    .iter()
    .map(|k| (k.to_string(), v[k].clone()))
    .collect()
}

/// The committed offset of the checkpoint of `out.csv` in the sandbox, if there is one.
fn checkpoint_offset(sb: &Sandbox) -> Option<u64> {
    checkpoint_offset_of(sb, "out.csv")
}

/// The committed offset of the checkpoint of output `out` in the sandbox, if there is one.
fn checkpoint_offset_of(sb: &Sandbox, out: &str) -> Option<u64> {
    let text = fs::read_to_string(sb.join(&format!(".{out}.weir-checkpoint"))).ok()?;
    let at = text.find("\"offset\": ")? + "\"offset\": ".len();
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Runs `args` uninterrupted into `ref.csv`, then again with `--resume`, killing it with
/// SIGKILL after random delays and resuming until it finishes; compares the two. Returns the
/// kills' positions as fractions of the input.
fn kill_and_resume(sb: &Sandbox, args: &[&str], input_len: u64, seed: u64) -> Vec<f64> {
    kill_and_resume_into(sb, args, input_len, seed, ("out.csv", "rejects.csv"))
}

/// A file of the sandbox, decompressed if its name says it is compressed (gzip members and
/// zstd frames read one after the other, as every reader of those formats does).
fn read_plain(sb: &Sandbox, name: &str) -> Vec<u8> {
    use std::io::Read;
    let bytes = sb.read(name);
    let mut plain = Vec::new();
    if name.ends_with(".gz") {
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut plain)
            .unwrap();
    } else if name.ends_with(".zst") {
        plain = zstd::decode_all(&bytes[..]).unwrap();
    } else {
        plain = bytes;
    }
    plain
}

/// [`kill_and_resume`] into the named output and rejects files.
fn kill_and_resume_into(
    sb: &Sandbox,
    args: &[&str],
    input_len: u64,
    seed: u64,
    (out, rejects): (&str, &str),
) -> Vec<f64> {
    let mut reference: Vec<&str> = args.to_vec();
    reference.extend([
        "--output",
        "ref.csv",
        "--rejects",
        "ref-rejects.csv",
        "--report",
        "ref.json",
    ]);
    assert_ok(&sb.weir(&reference));

    let mut resumable: Vec<&str> = args.to_vec();
    resumable.extend([
        "--output",
        out,
        "--rejects",
        rejects,
        "--report",
        "out.json",
        "--resume",
        "--checkpoint-every",
        "0s",
    ]);
    // How long an uninterrupted resumable run takes (its checkpoints sync to disk).
    let t = Instant::now();
    assert_ok(&sb.weir(&resumable));
    let full = t.elapsed();
    let checkpoint = format!(".{out}.weir-checkpoint");
    for name in [out, rejects, "out.json", &checkpoint] {
        fs::remove_file(sb.join(name)).unwrap();
    }
    let mut rng = Rng(seed);
    let mut kills = Vec::new();
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(
            attempts < 400,
            "the run never finished ({} kills)",
            kills.len()
        );
        let before = checkpoint_offset_of(sb, out);
        let mut child = sb.spawn(&resumable);
        if rng.below(5) == 0 {
            // A kill while the resumed run checks its checkpoint, seeks and truncates.
            std::thread::sleep(Duration::from_millis(rng.below(15)));
        } else {
            // Wait for a new checkpoint, then let it run on for up to 4% of a full run.
            let waited = Instant::now();
            while checkpoint_offset_of(sb, out) == before && child.try_wait().unwrap().is_none() {
                assert!(waited.elapsed() < Duration::from_secs(60), "no progress");
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(full.mul_f64(rng.below(40) as f64 / 1000.0));
        }
        if child.try_wait().expect("try_wait").is_some() {
            let (code, _) = wait_at_most(&mut child, Duration::from_secs(60));
            let err = read_stderr(&mut child);
            assert_eq!(code, Some(0), "{err}");
            break;
        }
        send_signal(&child, libc::SIGKILL);
        let _ = child.wait();
        if sb.exists(out) {
            // Killed after the rename that commits: then the output is whole already.
            assert_bytes(&read_plain(sb, out), &sb.read("ref.csv"));
        }
        if let Some(offset) = checkpoint_offset_of(sb, out) {
            kills.push(offset as f64 / input_len as f64);
        }
    }
    eprintln!("{} kills, at {kills:.3?} of the input", kills.len());
    assert_bytes(&read_plain(sb, out), &sb.read("ref.csv"));
    assert_bytes(&read_plain(sb, rejects), &sb.read("ref-rejects.csv"));
    let (want, got) = (sb.read_string("ref.json"), sb.read_string("out.json"));
    assert_eq!(counters(&got), counters(&want), "report counters");
    // Nothing of the resumable machinery is left but the finished run's checkpoint.
    let hidden: Vec<String> = sb
        .names()
        .into_iter()
        .filter(|n| n.contains(".weir-"))
        .collect();
    assert_eq!(hidden, std::slice::from_ref(&checkpoint));

    // Once more: the output is complete, nothing changes.
    let before = sb.read(out);
    let again = sb.weir(&resumable);
    assert_ok(&again);
    assert!(
        stderr(&again).contains("already complete"),
        "{}",
        stderr(&again)
    );
    assert_eq!(counters(&sb.read_string("out.json")), counters(&want));
    assert_eq!(sb.read(out), before);
    kills
}

fn assert_spread(kills: &[f64]) {
    assert!(kills.len() >= 20, "only {} kills: {kills:?}", kills.len());
    let early = kills.iter().filter(|&&f| f < 0.25).count();
    let late = kills.iter().filter(|&&f| f > 0.75).count();
    assert!(early >= 3 && late >= 3, "kills not spread: {kills:?}");
}

/// The arguments of the runs killed and resumed (output, rejects and report come after):
/// small chunks, two workers, oversized records rejected.
const KILLED: [&str; 14] = [
    "run",
    "p.toml",
    "--input",
    "in.csv",
    "--chunk-size",
    "8KiB",
    "--workers",
    "2",
    "--progress",
    "none",
    "--max-record-size",
    "4KiB",
    "--oversized",
    "reject",
];

#[test]
fn killed_at_many_points_a_resumed_run_equals_an_uninterrupted_one() {
    let (sb, input) = sandbox(60_000, 7);
    // A resumable run is ordered all the same (a checkpoint records an input prefix).
    let args = [&KILLED[..], &["--unordered"]].concat();
    let kills = kill_and_resume(&sb, &args, input.len() as u64, 1);
    assert_eq!(report_field(sb.read("out.json"), "ordered"), true);
    let rejects = sb.read_string("rejects.csv");
    for error in [
        "record-too-large",
        "unique-error",
        "type-error",
        "constraint-error",
    ] {
        assert!(rejects.contains(error), "no {error} in the test's rejects");
    }
    assert_spread(&kills);
}

#[test]
fn killed_and_resumed_input_format_rejects_and_their_reasons_are_exact() {
    let (sb, input) = sandbox(30_000, 11);
    let args = [&KILLED[..], &["--rejects-format", "input", "--all-errors"]].concat();
    let out = ("out.csv", "rejects.csv");
    let kills = kill_and_resume_into(&sb, &args, input.len() as u64, 3, out);
    assert!(kills.len() >= 5, "only {} kills: {kills:?}", kills.len());
    // The reasons, linked to the lines of the rejects file, are an uninterrupted run's.
    let reasons = sb.read("rejects.errors.csv");
    assert_bytes(&reasons, &sb.read("ref-rejects.errors.csv"));
    let text = String::from_utf8(reasons).unwrap();
    for error in ["record-too-large", "unique-error", "type-error"] {
        assert!(text.contains(error), "no {error} in the test's reasons");
    }
    assert!(sb
        .read("rejects.csv")
        .starts_with(b"id,name,email,age,city\n"));
}

#[test]
fn resuming_into_later_and_compressed_inputs_is_exact_too() {
    use std::io::Write;
    let sb = Sandbox::new();
    let (a, b) = (customers(15_000, 3), customers(15_000, 4));
    sb.write("a.csv", &a);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&b).unwrap();
    sb.write("b.csv.gz", &gz.finish().unwrap());
    write_pipeline(&sb);
    let args = [
        "run",
        "p.toml",
        "--input",
        "a.csv",
        "--input",
        "b.csv.gz",
        "--chunk-size",
        "8KiB",
        "--workers",
        "3",
        "--progress",
        "none",
    ];
    // Offsets past the first input are in the second: the fractions are of the first's size,
    // so only the count is checked here. The outputs are compressed: a resumed run ends a
    // gzip member or zstd frame at each checkpoint and appends new ones after it.
    let kills = kill_and_resume_into(&sb, &args, a.len() as u64, 2, ("out.csv.gz", "rejects.zst"));
    assert!(kills.len() >= 10, "{kills:?}");
}

/// A run killed part-way, leaving a checkpoint: its partial files and the checkpoint.
fn interrupted(sb: &Sandbox, args: &[&str]) {
    let mut child = sb.spawn(args);
    let start = Instant::now();
    while checkpoint_offset(sb).unwrap_or(0) < 100_000 {
        assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
        assert!(child.try_wait().unwrap().is_none(), "finished too soon");
        std::thread::sleep(Duration::from_millis(5));
    }
    send_signal(&child, libc::SIGKILL);
    let _ = child.wait();
}

#[test]
fn a_changed_input_or_pipeline_or_a_damaged_checkpoint_is_refused() {
    let (sb, _) = sandbox(60_000, 11);
    let args = SLOW_RESUMABLE;
    interrupted(&sb, &args);
    let partial = sb.read(".out.csv.weir-partial");
    let checkpoint = sb.read(".out.csv.weir-checkpoint");
    let refused = |args: &[&str], expect: &str| {
        let o = sb.weir(args);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("cannot resume from .out.csv.weir-checkpoint"),
            "{err}"
        );
        assert!(err.contains(expect), "{err}");
        assert!(err.contains("without --resume"), "{err}");
        assert!(!sb.exists("out.csv"));
        // What a later, corrected resume needs is untouched.
        assert_eq!(sb.read(".out.csv.weir-partial"), partial);
    };

    // The pipeline changed: another filter.
    sb.write(
        "p.toml",
        PIPELINE.replace("age < 80", "age < 81").as_bytes(),
    );
    refused(&args, "the pipeline changed");
    sb.write("p.toml", PIPELINE.as_bytes());
    // So did the schema file it names.
    sb.write(
        "schema.json",
        SCHEMA
            .replace("\"required\": true", "\"required\": false")
            .as_bytes(),
    );
    refused(&args, "the pipeline changed");
    sb.write("schema.json", SCHEMA.as_bytes());

    // The input changed: a byte appended, then one byte changed in place (same size).
    let original = sb.read("in.csv");
    let mut longer = original.clone();
    longer.extend_from_slice(b"1,x,y,2,z\n");
    sb.write("in.csv", &longer);
    refused(&args, "input in.csv changed since the checkpoint was taken");
    let mut edited = original.clone();
    edited[30] ^= 1;
    sb.write("in.csv", &edited);
    refused(&args, "input in.csv changed");
    // Same bytes rewritten: only the modification time differs.
    sb.write("in.csv", &original);
    let file = fs::File::options()
        .write(true)
        .open(sb.join("in.csv"))
        .unwrap();
    file.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    drop(file);
    refused(&args, "modification time");

    // Bring the modification time back by writing the checkpoint's view: remake from scratch.
    // A damaged checkpoint (one byte flipped, or cut short) is refused too.
    let mut damaged = checkpoint.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 0x20;
    sb.write(".out.csv.weir-checkpoint", &damaged);
    refused(&args, "damaged");
    sb.write(
        ".out.csv.weir-checkpoint",
        &checkpoint[..checkpoint.len() - 30],
    );
    refused(&args, "damaged");

    // Starting over is a run without --resume (and without --checkpoint-every, which needs
    // it): it replaces the resumable files.
    let mut fresh: Vec<&str> = Vec::new();
    let mut it = args.iter().copied();
    while let Some(a) = it.next() {
        match a {
            "--resume" => {}
            "--checkpoint-every" => {
                it.next();
            }
            a => fresh.push(a),
        }
    }
    let o = sb.weir(&fresh);
    assert_ok(&o);
    assert!(sb.exists("out.csv"));
    let leftovers: Vec<String> = sb
        .names()
        .into_iter()
        .filter(|n| n.contains(".weir-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn without_a_checkpoint_a_resumable_run_starts_from_the_beginning_and_says_so() {
    let (sb, _) = sandbox(500, 5);
    let o = sb.weir(&[
        "run", "p.toml", "--input", "in.csv", "--output", "out.csv", "--report", "r.json",
        "--resume",
    ]);
    assert_ok(&o);
    assert!(
        stderr(&o).contains("no checkpoint: started from the beginning"),
        "{}",
        stderr(&o)
    );
    let report = report(sb.read("r.json"));
    assert_eq!(report["resume"]["outcome"], "started", "{report:#}");
}

#[test]
fn a_stopped_resumable_run_continues_after_ctrl_c() {
    let (sb, _) = sandbox(60_000, 13);
    let common = [
        "run",
        "p.toml",
        "--input",
        "in.csv",
        "--chunk-size",
        "4KiB",
        "--workers",
        "1",
        "--progress",
        "none",
    ];
    let mut reference = common.to_vec();
    reference.extend(["--output", "ref.csv"]);
    assert_ok(&sb.weir(&reference));
    let resumable = |every: &'static str, report: &'static str| {
        let mut args = common.to_vec();
        args.extend([
            "--output",
            "out.csv",
            "--resume",
            "--checkpoint-every",
            every,
        ]);
        args.extend(["--report", report]);
        args
    };
    let mut child = sb.spawn(&resumable("0s", "stop.json"));
    let start = Instant::now();
    while checkpoint_offset(&sb).unwrap_or(0) < 100_000 {
        assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
        std::thread::sleep(Duration::from_millis(5));
    }
    send_signal(&child, libc::SIGINT);
    let (code, _) = wait_at_most(&mut child, Duration::from_secs(10));
    let err = read_stderr(&mut child);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("--resume continues"), "{err}");
    assert!(!sb.exists("out.csv"));
    let stopped_at = report_num(sb.read("stop.json"), "records_read");
    // Checkpoints every minute now: the one that matters was taken at the stop.
    let o = sb.weir(&resumable("1m", "resumed.json"));
    assert_ok(&o);
    assert!(stderr(&o).contains("resumed at line"), "{}", stderr(&o));
    assert_bytes(&sb.read("out.csv"), &sb.read("ref.csv"));
    // Nothing committed before the stop was done again.
    let report = report(sb.read("resumed.json"));
    assert_eq!(report["resume"]["records_before"], stopped_at);
}

#[test]
fn what_cannot_be_resumed_is_a_usage_error_before_anything_is_written() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"a,b\n1,2\n");
    for (args, expect) in [
        (
            vec!["run", "--input", "-", "--output", "o.csv", "--resume"],
            "cannot be read again",
        ),
        (
            vec![
                "run",
                "--input",
                "in.csv",
                "--output",
                "o.parquet",
                "--resume",
            ],
            "Parquet",
        ),
        (
            vec!["run", "--input", "in.csv", "--output", "-", "--resume"],
            "to be a file",
        ),
    ] {
        let o = sb.weir_stdin(&args, b"a,b\n1,2\n");
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
        assert_eq!(sb.names(), ["in.csv"], "{args:?}");
    }
}

/// Bytes the process has read (`rchar` of `/proc/PID/io`).
fn bytes_read_by(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/io"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_resumed_input_that_changes_while_it_is_read_fails_and_is_refused_after() {
    let (sb, input) = sandbox(60_000, 17);
    let args = SLOW_RESUMABLE;
    interrupted(&sb, &args);
    // The resumed run seeks past the checkpoint's offset: it must still notice a change.
    let mut child = sb.spawn(&args);
    let started = Instant::now();
    while bytes_read_by(child.id()) < 512 << 10 {
        assert!(started.elapsed() < Duration::from_secs(30), "nothing read");
        assert!(child.try_wait().unwrap().is_none(), "finished too soon");
        std::thread::sleep(Duration::from_micros(200));
    }
    send_signal(&child, libc::SIGSTOP);
    let mut longer = input.clone();
    longer.extend_from_slice(b"1,x,y,2,z\n");
    sb.write("in.csv", &longer);
    send_signal(&child, libc::SIGCONT);
    let (got, _) = wait_at_most(&mut child, Duration::from_secs(60));
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(1), "{err}");
    assert!(
        err.contains("input in.csv changed while it was read"),
        "{err}"
    );
    assert!(!sb.exists("out.csv"));
    let o = sb.weir(&args);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("input in.csv changed since the checkpoint was taken"),
        "{}",
        stderr(&o)
    );
}

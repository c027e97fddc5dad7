//! Wrong answers that looked right to a newcomer: a filter that is not a condition, text in
//! double quotes, a failed run's summary counting records as written, progress lines that said
//! "decompressed" of plain input or counted a resumed run's skipped prefix in its rate,
//! settings that were silently ignored or quietly changed, "1 fields", raw client text in
//! place of "no AWS credentials", and the checkpoint a finished resumable run keeps.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

const PEOPLE: &[u8] = b"id,name,country,active,signup\n\
                        1,ann,US,true,2024-01-02\n\
                        2,bob,DE,false,2024-02-03\n\
                        3,cy,US,true,2024-03-04\n";

fn people() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("in.csv", PEOPLE);
    sb
}

// ---- a filter must be a condition ------------------------------------------------------------

#[test]
fn a_filter_that_is_surely_not_boolean_is_a_usage_error_before_reading() {
    let sb = people();
    for (filter, named) in [
        (
            "upper(name)",
            "upper(name) is a VARCHAR value, not a condition (BOOLEAN)",
        ),
        ("'US'", "'US' is a VARCHAR value, not a condition (BOOLEAN)"),
        (
            "CAST(signup AS DATE)",
            "CAST(signup AS DATE) is a DATE value, not a condition (BOOLEAN)",
        ),
        (
            "upper(name) AND country = 'US'",
            "upper(name) is a VARCHAR value, not a condition",
        ),
    ] {
        let o = sb.weir(&["run", "-i", "in.csv", "-o", "out.csv", "--filter", filter]);
        let err = assert_fails_in(filter, &o, 2, named);
        assert!(err.starts_with("weir: error: filter: "), "{err}");
        assert_eq!(sb.names(), ["in.csv"], "{filter}: nothing written");
    }
    // The same in a pipeline file.
    let o = sb.run_pipeline("[[transform]]\nfilter = \"upper(name)\"\n");
    assert_fails(
        &o,
        2,
        "upper(name) is a VARCHAR value, not a condition (BOOLEAN)",
    );
    assert!(!sb.exists("out.csv"));
}

#[test]
fn a_filter_whose_truth_is_known_only_per_record_still_runs() {
    let sb = people();
    // A column of booleans, a number (true when not zero), a CASE that may give a column.
    for (filter, kept) in [
        ("active", "id\n1\n3\n"),
        ("id - 1", "id\n2\n3\n"),
        (
            "CASE WHEN country = 'US' THEN active ELSE 'false' END",
            "id\n1\n3\n",
        ),
    ] {
        let o = sb.weir(&[
            "run", "-i", "in.csv", "-o", "out.csv", "--filter", filter, "--select", "id",
        ]);
        assert_ok(&o);
        assert_bytes(&sb.read("out.csv"), kept.as_bytes());
    }
    // A column that does not read as a boolean rejects its records, naming the value.
    let o = sb.weir(&["run", "-i", "in.csv", "-o", "out.csv", "--filter", "name"]);
    assert_ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("cannot convert 'ann' (column name) to BOOLEAN"),
        "{err}"
    );
}

#[test]
fn a_double_quoted_word_that_is_no_column_says_text_takes_single_quotes() {
    let sb = people();
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--filter",
        "country = \"US\"",
    ]);
    let err = assert_fails(
        &o,
        2,
        "unknown column 'US' (did you mean 'id'?); double quotes name a column: for the text, \
         write 'US'",
    );
    assert!(err.contains("  country = \"US\"\n            ^"), "{err}");
    // A near column is still offered.
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--filter",
        "\"nme\" = 'x'",
    ]);
    assert_fails(
        &o,
        2,
        "unknown column 'nme' (did you mean 'name'?); double quotes name a column",
    );
    assert_eq!(sb.names(), ["in.csv"]);
}

// ---- a run that commits nothing says so ------------------------------------------------------

/// The first line of a failed or stopped run's summary.
fn stopped_line(err: &str, status: &str) -> String {
    let line = err
        .lines()
        .find(|l| l.starts_with(&format!("weir: {status} (nothing committed)")))
        .unwrap_or_else(|| panic!("no {status} summary line in:\n{err}"))
        .to_string();
    assert!(line.contains(" read before the stop ("), "{line}");
    assert!(line.ends_with("; nothing was written"), "{line}");
    assert!(
        !line.contains(" written +") && !line.contains("% ok"),
        "{line}"
    );
    line
}

#[test]
fn a_failed_or_timed_out_run_says_nothing_was_written() {
    let sb = Sandbox::new();
    sb.write("bad.csv", b"a\n1\n2\n\"never closed\n");
    let o = sb.weir(&["run", "-i", "bad.csv", "-o", "out.csv", "-j", "1"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let line = stopped_line(&stderr(&o), "FAILED");
    assert!(
        line.starts_with("weir: FAILED (nothing committed): "),
        "{line}"
    );
    assert!(!sb.exists("out.csv"));

    // Standard input held open past the time limit.
    let mut child = sb.spawn(&["run", "-i", "-", "-o", "out.csv", "--timeout", "1s"]);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"a\n1\n2\n").expect("write");
    let out = child.wait_with_output().expect("wait");
    drop(stdin);
    assert_eq!(code(&out), 124, "{}", stderr(&out));
    stopped_line(&stderr(&out), "TIMED OUT");
    assert!(!sb.exists("out.csv"));
}

// ---- progress lines ---------------------------------------------------------------------------

/// Runs `weir run -i - ...` fed `pieces` slowly, with a status line every 100 ms; the status
/// lines.
fn status_lines(sb: &Sandbox, output: &str, pieces: &[Vec<u8>]) -> Vec<String> {
    let mut child = sb.spawn(&[
        "run",
        "-i",
        "-",
        "-o",
        output,
        "--format",
        "csv",
        "--status-interval",
        "100ms",
        "--chunk-size",
        "4KiB",
    ]);
    let mut stdin = child.stdin.take().expect("stdin");
    for piece in pieces {
        stdin.write_all(piece).expect("feed");
        stdin.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(250));
    }
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    assert_ok(&out);
    stderr(&out)
        .lines()
        .filter(|l| l.contains(" records (") && l.contains("queue "))
        .map(str::to_string)
        .collect()
}

fn csv_pieces() -> Vec<Vec<u8>> {
    let mut pieces = vec![b"id,name\n".to_vec()];
    for p in 0..4 {
        let rows: String = (p * 5000..(p + 1) * 5000)
            .map(|i| format!("{i},name{i}\n"))
            .collect();
        pieces.push(rows.into_bytes());
    }
    pieces
}

#[test]
fn status_lines_say_decompressed_only_of_compressed_input() {
    let sb = Sandbox::new();
    let plain = status_lines(&sb, "out.csv", &csv_pieces());
    assert!(plain.len() >= 3, "{plain:?}");
    for line in &plain {
        assert!(!line.contains("decompressed"), "plain input: {line}");
    }
    // The same records gzip-compressed, cut into pieces of the compressed stream.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&csv_pieces().concat()).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let pieces: Vec<Vec<u8>> = gz.chunks(gz.len() / 4 + 1).map(<[u8]>::to_vec).collect();
    let compressed = status_lines(&sb, "out2.csv", &pieces);
    assert!(
        compressed.iter().any(|l| l.contains(" decompressed)")),
        "{compressed:?}"
    );
}

/// (elapsed seconds, stored bytes done, bytes per second) of a status line.
fn line_numbers(line: &str) -> (f64, f64, f64) {
    let bytes = |n: &str, unit: &str| -> f64 {
        let n: f64 = n.parse().expect("a number");
        n * match unit.trim_end_matches("/s") {
            "B" => 1.0,
            "KiB" => 1024.0,
            "MiB" => 1048576.0,
            "GiB" => 1073741824.0,
            other => panic!("unit {other} in {line}"),
        }
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let elapsed: f64 = words[1].trim_end_matches('s').parse().expect("elapsed");
    let done = bytes(words[2], words[3]);
    let at = words
        .iter()
        .position(|w| w.ends_with("/s") && !w.starts_with('('))
        .expect("a rate");
    (elapsed, done, bytes(words[at - 1], words[at]))
}

#[test]
fn after_resume_the_rate_counts_only_what_this_run_read() {
    let sb = Sandbox::new();
    let mut input = b"id,name,country\n".to_vec();
    for i in 0..1_500_000u32 {
        input.extend_from_slice(format!("{i},name{i},US\n").as_bytes());
    }
    sb.write("in.csv", &input);
    let args = [
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--resume",
        "--checkpoint-every",
        "0s",
        "-j",
        "1",
    ];
    // Cut short by a time limit, leaving a checkpoint well inside the input.
    let o = sb.weir_with(&args, &["--timeout", "400ms", "-q"]);
    assert_eq!(code(&o), 124, "{}", stderr(&o));
    let o = sb.weir_with(&args, &["--progress", "log", "--status-interval", "50ms"]);
    assert_ok(&o);
    let err = stderr(&o);
    let resumed_at: f64 = err
        .split("(byte ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .map(|s| s.replace(',', "").parse().expect("the byte"))
        .unwrap_or_else(|| panic!("no resume line in:\n{err}"));
    assert!(resumed_at > 0.0, "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains(" records (") && l.contains("queue "))
        .collect();
    assert!(!lines.is_empty(), "{err}");
    for line in lines {
        let (elapsed, done, rate) = line_numbers(line);
        // What this run read, allowing for the rounding of the shown numbers; counting the
        // skipped prefix would show about `done / elapsed`.
        let this_run = done - resumed_at;
        assert!(
            rate * (elapsed - 0.05) <= this_run * 1.1 + 262_144.0,
            "{line}: {rate} B/s over {elapsed} s is more than the {this_run} bytes this run \
             read (resumed at byte {resumed_at})"
        );
    }
}

// ---- settings refused rather than ignored ----------------------------------------------------

#[test]
fn zero_workers_is_a_usage_error() {
    let sb = people();
    let o = sb.weir(&["run", "-i", "in.csv", "-o", "out.csv", "-j", "0"]);
    assert_fails(&o, 2, "0 workers would run nothing: give at least 1");
    let o = sb.run_pipeline("[options]\nworkers = 0\n");
    assert_fails(
        &o,
        2,
        "options.workers: 0 workers would run nothing: give at least 1",
    );
    assert!(!sb.exists("out.csv"));
}

#[test]
fn checkpoint_every_without_resume_is_a_usage_error() {
    let sb = people();
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--checkpoint-every",
        "1s",
    ]);
    assert_fails(&o, 2, "--checkpoint-every needs --resume");
    let o = sb.run_pipeline("[options]\ncheckpoint_every = \"1s\"\n");
    assert_fails(
        &o,
        2,
        "options.checkpoint_every needs resume = true (or --resume)",
    );
    assert!(!sb.exists("out.csv"));
    // With --resume it is taken.
    let o = sb.weir(&["run", "p.toml", "--resume", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), PEOPLE);
}

#[test]
fn a_missing_input_a_folder_and_an_empty_pattern_are_all_usage_errors() {
    let sb = people();
    std::fs::create_dir(sb.join("logs")).expect("mkdir");
    for (inputs, said) in [
        (
            &["absent.csv"][..],
            "cannot open input absent.csv: no such file",
        ),
        (
            &["in.csv", "absent.csv"][..],
            "cannot open input absent.csv: no such file",
        ),
        (
            &["logs"][..],
            "cannot open input logs: it is a folder (name its files, or a pattern such as \
             'logs/*.csv')",
        ),
        (
            &["in.csv", "logs"][..],
            "cannot open input logs: it is a folder",
        ),
        (
            &["logs/*.csv"][..],
            "no file matches the input pattern 'logs/*.csv'",
        ),
    ] {
        let mut args = vec!["run", "-o", "out.csv", "--report", "r.json"];
        for i in inputs {
            args.extend(["-i", i]);
        }
        let o = sb.weir(&args);
        let err = assert_fails_in(&format!("{inputs:?}"), &o, 2, said);
        assert!(!err.contains("FAILED"), "found before reading: {err}");
        assert_eq!(
            sb.names(),
            ["in.csv", "logs"],
            "{inputs:?}: nothing written"
        );
    }
}

#[test]
fn counts_of_one_are_singular() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"a,b\n1,2\n3\n");
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "-j",
        "1",
        "--rejects",
        "rej.csv",
    ]);
    assert_ok(&o);
    let err = stderr(&o);
    assert!(err.contains(", 1 worker, ordered"), "{err}");
    assert!(
        err.contains("record has 1 field, the header has 2: 'b' is missing"),
        "{err}"
    );
    let rejects = sb.read_string("rej.csv");
    assert!(
        rejects.contains("record has 1 field, the header"),
        "{rejects}"
    );
    let o = sb.weir(&["explain", "-i", "in.csv", "-o", "out.csv", "-j", "1"]);
    assert_ok(&o);
    let plan = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
    assert!(plan.contains("(csv, 2 columns)"), "{plan}");
    assert!(plan.contains("run     1 worker, "), "{plan}");
    sb.write("one.csv", b"a\n1\n");
    let o = sb.weir(&["explain", "-i", "one.csv", "-o", "out.csv", "-j", "2"]);
    let plan = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
    assert!(plan.contains("(csv, 1 column)"), "{plan}");
    assert!(plan.contains("run     2 workers, "), "{plan}");
}

// ---- object storage without credentials ------------------------------------------------------

/// Runs weir with no AWS credentials anywhere and the metadata service disabled, the endpoint
/// a closed local port: nothing leaves the machine.
fn weir_without_credentials(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let home = sb.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let mut cmd = std::process::Command::new(WEIR);
    cmd.args(args).current_dir(sb.path()).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ALLOW_HTTP", "true");
    cmd.output().expect("run weir")
}

#[test]
fn s3_without_credentials_says_so_and_where_weir_looked() {
    let sb = people();
    for (args, url) in [
        (
            &["run", "-i", "in.csv", "-o", "s3://bkt/out.csv"][..],
            "s3://bkt/out.csv",
        ),
        (
            &["run", "-i", "s3://bkt/in.csv", "-o", "out.csv"][..],
            "s3://bkt/in.csv",
        ),
    ] {
        let o = weir_without_credentials(&sb, args);
        let err = assert_fails_in(url, &o, 2, &format!("{url}: no AWS credentials found\n"));
        for said in [
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            "the instance's role from its metadata service (169.254.169.254), which was not \
             asked (AWS_EC2_METADATA_DISABLED is set)",
            "it does not read AWS_PROFILE or ~/.aws/credentials",
        ] {
            assert!(err.contains(said), "{url}: {said}: {err}");
        }
        assert!(!err.contains("latest/api/token"), "{err}");
        assert!(!err.contains("FAILED"), "found before reading: {err}");
        assert!(!sb.exists("out.csv"));
    }
}

// ---- a finished resumable run keeps its checkpoint -------------------------------------------

#[test]
fn a_finished_resumable_run_keeps_its_checkpoint_to_answer_complete() {
    let sb = people();
    let args = ["run", "-i", "in.csv", "-o", "out.csv", "--resume"];
    assert_ok(&sb.weir(&args));
    assert_eq!(
        sb.names(),
        [".out.csv.weir-checkpoint", "in.csv", "out.csv"],
        "only the checkpoint stays beside the output"
    );
    // The retried command does nothing and says why.
    let o = sb.weir(&args);
    assert_ok(&o);
    assert!(
        stderr(&o).contains("the output was already complete (.out.csv.weir-checkpoint)"),
        "{}",
        stderr(&o)
    );
    // A run without --resume starts over and removes it, as README says.
    assert_ok(&sb.weir(&["run", "-i", "in.csv", "-o", "out.csv", "-q"]));
    assert_eq!(sb.names(), ["in.csv", "out.csv"]);
    assert_bytes(&sb.read("out.csv"), PEOPLE);
}

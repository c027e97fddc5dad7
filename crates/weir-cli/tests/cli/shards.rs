//! `weir plan`, `weir run --shard`, `weir merge` on real files: the merged result equals the
//! one-machine run byte for byte (output, rejects, report counters), whichever way the shard
//! index arrives, with wrong guesses, missing shards, duplicate attempts, data errors, a changed
//! input and two merges at once.

use std::process::Command;

use crate::support::*;

const PIPELINE: [&str; 4] = [
    "--derive",
    "n=CAST(id AS BIGINT)",
    "--filter",
    "note <> 'drop'",
];

/// A CSV with quoted line breaks, doubled quotes, CRLF, rejects (ids that are not integers) and
/// filtered rows; with `adversarial`, quoted notes whose lines look like records of the same
/// width, which make guessed starts wrong.
fn data(records: usize, adversarial: bool) -> Vec<u8> {
    let mut s = String::from("id,name,note\n");
    for i in 0..records {
        let id = if i % 17 == 5 {
            format!("x{i}")
        } else {
            i.to_string()
        };
        let note = match i % 7 {
            0 if adversarial => format!("\"{i},a,b\n{i},c,d\n\""),
            1 => "\"two\nlines\"".to_string(),
            2 => "\"say \"\"hi\"\"\"".to_string(),
            3 => "drop".to_string(),
            _ => format!("n{i}"),
        };
        let end = if i % 5 == 0 { "\r\n" } else { "\n" };
        s.push_str(&format!("{id},name {i},{note}{end}"));
    }
    s.into_bytes()
}

/// Runs the pipeline on one machine: (output, rejects, report).
fn one_machine(sb: &Sandbox, input: &str) -> (Vec<u8>, Vec<u8>, String) {
    let mut args = vec![
        "run",
        "-q",
        "-i",
        input,
        "-o",
        "one.csv",
        "--rejects",
        "one-rej.csv",
        "--report",
        "one.json",
    ];
    args.extend(PIPELINE);
    assert_ok(&sb.weir(&args));
    (
        sb.read("one.csv"),
        sb.read("one-rej.csv"),
        sb.read_string("one.json"),
    )
}

fn shard_args<'a>(input: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "-q", "-i", input, "--out", "out"];
    args.extend(PIPELINE);
    args.extend(extra);
    args
}

/// The merged result equals the one-machine run's.
#[track_caller]
fn assert_same(sb: &Sandbox, input: &str) {
    let (out, rej, report) = one_machine(sb, input);
    assert_bytes(&sb.read("cat.csv"), &out);
    assert_bytes(&sb.read("out/rejects.csv"), &rej);
    let merged = sb.read_string("out/_report.json");
    for key in [
        "records_read",
        "records_written",
        "records_filtered",
        "records_rejected",
        "bytes_read",
        "bytes_written",
        "committed_offset",
    ] {
        assert_eq!(report_num(&merged, key), report_num(&report, key), "{key}");
    }
    assert_eq!(
        report_rejects_by_error(&merged),
        report_rejects_by_error(&report)
    );
    assert_balanced(&merged);
}

fn plan(sb: &Sandbox, input: &str, n: usize) -> usize {
    let shards = n.to_string();
    let mut args = vec![
        "plan", "-q", "-i", input, "--out", "out", "--shards", &shards,
    ];
    args.extend(PIPELINE);
    let o = sb.weir(&args);
    assert_ok(&o);
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

#[test]
fn plan_run_every_shard_merge_equals_one_machine() {
    let sb = Sandbox::new();
    sb.write("in.csv", &data(3000, false));
    let n = plan(&sb, "in.csv", 6);
    assert_eq!(n, 6);
    for k in 0..n - 1 {
        assert_ok(&sb.weir(&shard_args("in.csv", &["--shard", &k.to_string()])));
    }
    // Without --input, the plan says what to read.
    let mut last = vec!["run", "-q", "--out", "out", "--shard", "5"];
    last.extend(PIPELINE);
    assert_ok(&sb.weir(&last));
    // What a killed attempt leaves behind goes at the merge.
    sb.write("out/.part-00002.csv.weir-999999-0.tmp", b"half a part");
    let o = sb.weir(&["merge", "out", "--concat", "cat.csv"]);
    assert_ok(&o);
    assert!(stderr(&o).contains("merged 6 shards"), "{}", stderr(&o));
    assert_same(&sb, "in.csv");
    for name in [
        "out/_SUCCESS",
        "out/_plan.json",
        "out/part-00005.csv",
        "out/_reports/part-00000.json",
    ] {
        assert!(sb.exists(name), "{name}");
    }
    // Every part has the header, so the folder reads as a table directly.
    assert!(sb
        .read_string("out/part-00003.csv")
        .starts_with("id,name,note,n\n"));
    assert!(!sb.exists("out/.part-00002.csv.weir-999999-0.tmp"));
    // A second merge does nothing.
    let again = sb.weir(&["merge", "out"]);
    assert_ok(&again);
    assert!(
        stderr(&again).contains("merged already"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn the_index_from_each_engine_variable_and_k_of_n_without_a_plan() {
    let sb = Sandbox::new();
    sb.write("in.csv", &data(2000, false));
    // No plan file: every shard computes the same plan of 5 (the first stores it).
    let vars = [
        "WEIR_SHARD_INDEX",
        "SLURM_ARRAY_TASK_ID",
        "JOB_COMPLETION_INDEX",
        "AWS_BATCH_JOB_ARRAY_INDEX",
    ];
    for k in 0..5 {
        let mut cmd = Command::new(WEIR);
        cmd.current_dir(sb.path())
            .args(shard_args("in.csv", &["--shard-from-env"]))
            .env("WEIR_SHARD_COUNT", "5");
        for v in vars {
            cmd.env_remove(v);
        }
        cmd.env(vars[k % vars.len()], k.to_string());
        assert_ok(&cmd.output().unwrap());
    }
    assert_ok(&sb.weir(&["merge", "out", "--concat", "cat.csv"]));
    assert_same(&sb, "in.csv");

    // K/N in another folder gives the same parts.
    let sb2 = Sandbox::new();
    sb2.write("in.csv", &data(2000, false));
    for k in 0..5 {
        let sel = format!("{k}/5");
        assert_ok(&sb2.weir(&shard_args("in.csv", &["--shard", &sel])));
    }
    assert_ok(&sb2.weir(&["merge", "out", "--concat", "cat.csv"]));
    assert_bytes(&sb2.read("cat.csv"), &sb.read("cat.csv"));

    let none = Command::new(WEIR)
        .current_dir(sb2.path())
        .args(shard_args("in.csv", &["--shard-from-env"]))
        .env_remove("WEIR_SHARD_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .output()
        .unwrap();
    // sb2 has a plan now, so only the index is missing.
    assert_fails(&none, 2, "none of WEIR_SHARD_INDEX");
}

/// The last two top-level keys of a report, in the order written.
fn last_keys(json: &str) -> Vec<String> {
    let keys: Vec<String> = json
        .lines()
        .filter_map(|l| l.strip_prefix("  \""))
        .filter_map(|l| l.split_once('"').map(|(k, _)| k.to_string()))
        .collect();
    keys[keys.len() - 2..].to_vec()
}

#[test]
fn every_report_has_the_shard_and_merge_sections_last_each_filled_where_it_applies() {
    let sb = Sandbox::new();
    sb.write("in.csv", &data(1500, false));
    assert_eq!(plan(&sb, "in.csv", 3), 3);
    for k in 0..3 {
        let k = k.to_string();
        assert_ok(&sb.weir(&shard_args(
            "in.csv",
            &["--shard", &k, "--report", &format!("own-{k}.json")],
        )));
    }
    assert_ok(&sb.weir(&["merge", "out"]));
    let sections = ["shard".to_string(), "merge".to_string()];
    // A shard's report in the folder: its section filled from what its run read.
    let shard = sb.read_string("out/_reports/part-00001.json");
    assert_eq!(last_keys(&shard), sections);
    let info = &report(&shard)["shard"];
    assert_eq!(info["index"], 1);
    // Not the first shard: its start was guessed, the evidence kept.
    let guess = &info["start_guess"];
    assert!(
        ["outside-quotes", "inside-quotes", "agree"]
            .contains(&guess["hypothesis"].as_str().unwrap()),
        "{guess:#}"
    );
    assert_eq!(
        guess["candidates"].as_array().unwrap().len(),
        2,
        "{guess:#}"
    );
    let (start, end) = (
        info["start"].as_u64().unwrap(),
        info["end"].as_u64().unwrap(),
    );
    assert!(
        start < end && info["lines"].as_u64().unwrap() > 0,
        "{info:#}"
    );
    assert_eq!(report_num(&shard, "bytes_read"), end - start);
    assert_eq!(report_field(&shard, "merge"), serde_json::Value::Null);
    // The report --report asks of a shard run is the run's own: no shard section (the shard
    // folder's report has it), the same counts.
    let own = sb.read_string("own-1.json");
    assert_eq!(last_keys(&own), sections);
    assert_eq!(report_field(&own, "shard"), serde_json::Value::Null);
    assert_eq!(report_field(&own, "merge"), serde_json::Value::Null);
    assert_eq!(
        report_num(&own, "records_read"),
        report_num(&shard, "records_read")
    );
    assert_balanced(&own);
    // The merged report: the merge section, no shard section.
    let merged = sb.read_string("out/_report.json");
    assert_eq!(last_keys(&merged), sections);
    assert_eq!(report_field(&merged, "shard"), serde_json::Value::Null);
    assert_eq!(report_field(&merged, "merge")["shards"], 3);
    assert_balanced(&merged);
}

/// Runs every shard of an 8-shard plan; shards 2 and 5 start where a wrong guess would (in
/// the middle of a record: the nominal start plus 3).
fn run_with_wrong_starts(sb: &Sandbox) {
    sb.write("in.csv", &data(3000, true));
    let n = plan(sb, "in.csv", 8);
    let plan: serde_json::Value = serde_json::from_slice(&sb.read("out/_plan.json")).unwrap();
    for k in 0..n {
        let mut extra = vec!["--shard".to_string(), k.to_string()];
        if k == 2 || k == 5 {
            let wrong = plan["shards"][k]["start"].as_u64().unwrap() + 3;
            extra.extend(["--start-at".to_string(), wrong.to_string()]);
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let o = sb.weir(&shard_args("in.csv", &extra));
        // A wrong start may also run into a quote that never closes: a data error (65).
        assert!(matches!(code(&o), 0 | 65), "{}", stderr(&o));
    }
}

#[test]
fn wrong_starts_are_printed_as_commands_then_repaired() {
    let sb = Sandbox::new();
    run_with_wrong_starts(&sb);
    // Without --repair: exit 3 and the commands, one per line (the first wrong shard: the ones
    // after it cannot be judged before it is proven); running them and merging again converges.
    let mut repaired = Vec::new();
    loop {
        let o = sb.weir(&["merge", "out", "--concat", "cat.csv"]);
        if code(&o) == 0 {
            break;
        }
        assert_fails(&o, 3, "re-run it from there");
        let commands = String::from_utf8_lossy(&o.stdout).to_string();
        for line in commands.lines() {
            assert!(line.contains("--start-at"), "{line}");
            let k = line
                .split("--shard ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            repaired.push(k.to_string());
            let run = Command::new("sh").arg("-c").arg(line).output().unwrap();
            assert!(matches!(run.status.code(), Some(0 | 65)), "{line}");
        }
        assert!(repaired.len() <= 8, "merge does not converge: {repaired:?}");
    }
    assert_eq!(repaired, ["2", "5"]);
    assert_same(&sb, "in.csv");

    // --repair does the same in one go.
    let sb2 = Sandbox::new();
    run_with_wrong_starts(&sb2);
    let o = sb2.weir(&["merge", "out", "--repair", "--concat", "cat.csv"]);
    assert_ok(&o);
    let report = report(sb2.read("out/_report.json"));
    assert_eq!(
        report["merge"]["repairs"],
        serde_json::json!([2, 5]),
        "{report}"
    );
    assert_bytes(&sb2.read("cat.csv"), &sb.read("cat.csv"));
}

#[test]
fn a_missing_shard_is_named_and_a_finished_one_is_not_redone() {
    let sb = Sandbox::new();
    sb.write("in.csv", &data(1000, false));
    plan(&sb, "in.csv", 4);
    for k in [0, 1, 3] {
        assert_ok(&sb.weir(&shard_args("in.csv", &["--shard", &k.to_string()])));
    }
    let o = sb.weir(&["merge", "out"]);
    assert_fails(&o, 4, "shard 2 is missing");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "2\n");
    assert!(!sb.exists("out/_SUCCESS"));

    let before = std::fs::metadata(sb.join("out/part-00001.csv"))
        .unwrap()
        .modified()
        .unwrap();
    let again = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "--out",
        "out",
        "--shard",
        "1",
        "--derive",
        "n=CAST(id AS BIGINT)",
        "--filter",
        "note <> 'drop'",
    ]);
    assert_ok(&again);
    assert!(
        stderr(&again).contains("done already"),
        "{}",
        stderr(&again)
    );
    let after = std::fs::metadata(sb.join("out/part-00001.csv"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "a finished shard is not rewritten");

    // Two attempts of shard 2 at once (a speculative duplicate): harmless.
    let a = sb.spawn(&shard_args("in.csv", &["--shard", "2"]));
    let b = sb.spawn(&shard_args("in.csv", &["--shard", "2"]));
    assert_ok(&a.wait_with_output().unwrap());
    assert_ok(&b.wait_with_output().unwrap());
    // Two merges at once: exactly one commits.
    let m1 = sb.spawn(&["merge", "out", "--concat", "cat.csv"]);
    let m2 = sb.spawn(&["merge", "out", "--concat", "cat.csv"]);
    let (m1, m2) = (
        m1.wait_with_output().unwrap(),
        m2.wait_with_output().unwrap(),
    );
    assert_ok(&m1);
    assert_ok(&m2);
    let committed = [&m1, &m2]
        .iter()
        .filter(|o| stderr(o).contains("merged 4 shards"))
        .count();
    assert_eq!(committed, 1, "{}\n{}", stderr(&m1), stderr(&m2));
    assert_same(&sb, "in.csv");
}

#[test]
fn a_real_data_error_fails_the_merge_at_the_one_machine_line() {
    let sb = Sandbox::new();
    // The quote opened on line 1,202 never closes: no quote follows it.
    let mut input = data(600, false);
    input.extend_from_slice(b"999,broken,\"never closed\n");
    for i in 0..600 {
        input.extend_from_slice(format!("{i},name,plain\n").as_bytes());
    }
    sb.write("in.csv", &input);
    let one = sb.weir(&["run", "-i", "in.csv", "-o", "one.csv"]);
    let err = assert_fails(&one, 1, "quoted field is never closed");
    let line = err
        .split("line ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    plan(&sb, "in.csv", 5);
    let mut codes = Vec::new();
    for k in 0..5 {
        codes.push(code(
            &sb.weir(&shard_args("in.csv", &["--shard", &k.to_string()])),
        ));
    }
    assert!(codes.contains(&65), "{codes:?}");
    let o = sb.weir(&["merge", "out", "--repair"]);
    let merged = assert_fails(&o, 65, "quoted field is never closed");
    assert!(
        merged.contains(&format!("line {line} of in.csv")),
        "{merged} / line {line}"
    );
    assert!(!sb.exists("out/_SUCCESS"));
}

#[test]
fn steps_that_need_the_whole_input_and_a_changed_input_are_refused() {
    let sb = Sandbox::new();
    sb.write("in.csv", &data(500, false));
    plan(&sb, "in.csv", 2);
    let o = sb.weir(&[
        "run", "-i", "in.csv", "--out", "out", "--shard", "0", "--dedupe", "id",
    ]);
    // Another pipeline than the plan's: refused before that.
    assert_fails(&o, 2, "another pipeline");
    let o = sb.weir(&[
        "run", "-i", "in.csv", "--out", "o2", "--shard", "0/2", "--dedupe", "id",
    ]);
    assert_fails(&o, 2, "cannot run sharded");
    let o = sb.weir(&["run", "-i", "in.csv", "--out", "out"]);
    assert_fails(&o, 2, "--out goes with --shard");
    let o = sb.weir(&[
        "plan", "-i", "in.csv", "--out", "o3", "--shards", "2", "--head", "5",
    ]);
    assert_fails(&o, 2, "cannot run sharded");
    assert!(!sb.exists("o3/_plan.json"));

    // The input changes after the plan: exit 65, nothing reported as done.
    let mut more = sb.read("in.csv");
    more.extend_from_slice(b"1,late,row\n");
    sb.write("in.csv", &more);
    let o = sb.weir(&shard_args("in.csv", &["--shard", "1"]));
    assert_fails(&o, 65, "changed");
    assert!(sb.exists("out/_reports/part-00001.failed.json"));
    assert!(!sb.exists("out/_reports/part-00001.json"));

    // An input that cannot be opened (a shared folder not mounted yet): transient, exit 75, and
    // no report, so merge counts the shard as missing until a retry runs it.
    std::fs::remove_file(sb.join("in.csv")).unwrap();
    let o = sb.weir(&shard_args("in.csv", &["--shard", "0"]));
    assert_fails(&o, 75, "in.csv");
    assert!(!sb.exists("out/_reports/part-00000.failed.json"));
    assert_fails(&sb.weir(&["merge", "out"]), 4, "shard 0 is missing");
}

#[test]
fn json_lines_and_a_compressed_input_shard_too() {
    let sb = Sandbox::new();
    let lines: String = (0..3000)
        .map(|i| {
            format!(
                "{{\"id\":\"{}\",\"name\":\"n{i}\",\"note\":\"{}\"}}\n",
                if i % 13 == 0 {
                    format!("x{i}")
                } else {
                    i.to_string()
                },
                if i % 4 == 0 { "drop" } else { "k" }
            )
        })
        .collect();
    sb.write("in.jsonl", lines.as_bytes());
    let mut args = vec![
        "run",
        "-q",
        "-i",
        "in.jsonl",
        "-o",
        "one.jsonl",
        "--rejects",
        "one-rej.csv",
    ];
    args.extend(PIPELINE);
    assert_ok(&sb.weir(&args));
    let mut plan_args = vec![
        "plan", "-q", "-i", "in.jsonl", "--out", "out", "--shards", "7",
    ];
    plan_args.extend(PIPELINE);
    assert_ok(&sb.weir(&plan_args));
    for k in 0..7 {
        assert_ok(&sb.weir(&shard_args("in.jsonl", &["--shard", &k.to_string()])));
    }
    assert_ok(&sb.weir(&["merge", "out", "--concat", "cat.jsonl"]));
    assert_bytes(&sb.read("cat.jsonl"), &sb.read("one.jsonl"));
    assert_bytes(&sb.read("out/rejects.csv"), &sb.read("one-rej.csv"));
    let shard_3 = report(sb.read("out/_reports/part-00003.json"));
    assert_eq!(
        shard_3["shard"]["start_guess"]["hypothesis"], "newline",
        "{shard_3:#}"
    );

    // A gzip input cannot be cut: one shard reads all of it.
    let sb = Sandbox::new();
    let plain = data(1500, false);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &plain).unwrap();
    sb.write("in.csv.gz", &gz.finish().unwrap());
    let n = plan(&sb, "in.csv.gz", 4);
    assert_eq!(n, 1, "a compressed input is one shard");
    assert_ok(&sb.weir(&shard_args("in.csv.gz", &["--shard", "0"])));
    assert_ok(&sb.weir(&["merge", "out", "--concat", "cat.csv"]));
    assert_same(&sb, "in.csv.gz");
}

#[test]
fn a_pipeline_file_without_an_input_runs_the_plans_input() {
    let sb = Sandbox::new();
    sb.write("in.csv", &data(1500, false));
    sb.write(
        "p.toml",
        b"[[transform]]\nderive = { name = \"n\", expr = \"CAST(id AS BIGINT)\" }\n\n\
          [[transform]]\nfilter = \"note <> 'drop'\"\n",
    );
    let o = sb.weir(&[
        "plan", "p.toml", "-q", "-i", "in.csv", "--out", "out", "--shards", "3",
    ]);
    assert_ok(&o);
    for k in 0..3 {
        let k = k.to_string();
        assert_ok(&sb.weir(&["run", "p.toml", "-q", "--out", "out", "--shard", &k]));
    }
    assert_ok(&sb.weir(&["merge", "out", "--concat", "cat.csv"]));
    assert_same(&sb, "in.csv");
}

#[test]
fn several_inputs_share_the_shards_and_keep_their_own_line_numbers() {
    let sb = Sandbox::new();
    sb.write("a.csv", &data(1200, false));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &data(900, false)).unwrap();
    sb.write("b.csv.gz", &gz.finish().unwrap());
    sb.write("c.csv", &data(700, false));
    let mut one = vec![
        "run",
        "-q",
        "-i",
        "a.csv",
        "-i",
        "b.csv.gz",
        "-i",
        "c.csv",
        "-o",
        "one.csv",
        "--rejects",
        "one-rej.csv",
    ];
    one.extend(PIPELINE);
    assert_ok(&sb.weir(&one));
    let mut plan = vec![
        "plan", "-q", "-i", "a.csv", "-i", "b.csv.gz", "-i", "c.csv", "--out", "out", "--shards",
        "7",
    ];
    plan.extend(PIPELINE);
    let o = sb.weir(&plan);
    assert_ok(&o);
    let n: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert!(n >= 3, "{n}");
    for k in 0..n {
        let mut run = vec!["run", "-q", "--out", "out"];
        let k = k.to_string();
        run.extend(["--shard", &k]);
        run.extend(PIPELINE);
        assert_ok(&sb.weir(&run));
    }
    assert_ok(&sb.weir(&["merge", "out", "--concat", "cat.csv"]));
    assert_bytes(&sb.read("cat.csv"), &sb.read("one.csv"));
    // Rejects name each file with its own lines, as the one-machine run's do.
    assert_bytes(&sb.read("out/rejects.csv"), &sb.read("one-rej.csv"));
}

#[test]
fn parquet_parts_merge_but_do_not_concatenate() {
    let sb = Sandbox::new();
    sb.write("in.csv", &data(800, false));
    let args = [
        "-q",
        "-i",
        "in.csv",
        "--out",
        "out",
        "--output-format",
        "parquet",
    ];
    let mut plan = vec!["plan"];
    plan.extend(args);
    plan.extend(["--shards", "2"]);
    assert_ok(&sb.weir(&plan));
    for k in ["0", "1"] {
        let mut run = vec!["run"];
        run.extend(args);
        run.extend(["--shard", k]);
        assert_ok(&sb.weir(&run));
    }
    assert!(sb.exists("out/part-00001.parquet"));
    assert_fails(
        &sb.weir(&["merge", "out", "--concat", "x.parquet"]),
        2,
        "Parquet parts",
    );
    assert_ok(&sb.weir(&["merge", "out"]));
}

#[test]
fn shards_read_the_planned_names_and_refuse_inputs_the_plan_does_not_have() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.join("in")).unwrap();
    sb.write("in/b[1].csv", &data(40, false));
    sb.write("in/c.csv", &data(30, false));
    let o = sb.weir(&[
        "plan", "-q", "-i", "in/*.csv", "--out", "out", "--shards", "4",
    ]);
    assert_ok(&o);
    let n: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert!(n >= 2, "{n}");
    assert_ok(&sb.weir(&["run", "-q", "-i", "in/*.csv", "-o", "one.csv"]));
    // Without --input a shard reads the plan's names as names: `b[1].csv`, not `b1.csv`, which
    // appears after the plan and which the name, read as a pattern, would match.
    sb.write("in/b1.csv", b"id,name,note\n999,decoy,x\n");
    for k in 0..n {
        let k = k.to_string();
        assert_ok(&sb.weir(&["run", "-q", "--out", "out", "--shard", &k]));
    }
    assert_ok(&sb.weir(&["merge", "out", "--repair", "--concat", "cat.csv"]));
    assert_bytes(&sb.read("cat.csv"), &sb.read("one.csv"));
    // Given the pattern again, a shard sees the added file and says which it is.
    let o = sb.weir(&[
        "run", "-q", "-i", "in/*.csv", "--out", "out", "--shard", "0",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the inputs are not the plan's (not in the plan: in/b1.csv)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_concatenated_output_on_a_part_or_an_input_is_refused() {
    let sb = Sandbox::new();
    sb.write("in.csv", &data(3_000, false));
    let n = plan(&sb, "in.csv", 3);
    for k in 0..n {
        assert_ok(&sb.weir(&shard_args("in.csv", &["--shard", &k.to_string()])));
    }
    let before: Vec<(String, Vec<u8>)> = ["in.csv", "out/part-00000.csv", "out/part-00001.csv"]
        .iter()
        .map(|n| (n.to_string(), sb.read(n)))
        .collect();
    for (concat, text) in [
        (
            "out/part-00000.csv",
            "the concatenated output would replace the input",
        ),
        (
            "./out/part-00001.csv",
            "the concatenated output would replace the input",
        ),
        (
            "in.csv",
            "the concatenated output would replace the input in.csv",
        ),
        (
            "out/rejects.csv",
            "the concatenated output and the merged rejects are the same file",
        ),
    ] {
        let o = sb.weir(&["merge", "out", "--concat", concat]);
        assert_fails_in(concat, &o, 2, text);
        for (name, bytes) in &before {
            assert_bytes(&sb.read(name), bytes);
        }
        assert!(!sb.exists("out/_SUCCESS"), "{concat}");
    }
    assert_ok(&sb.weir(&["merge", "out", "--concat", "cat.csv"]));
    assert_same(&sb, "in.csv");
}

/// The names in a folder of the sandbox, sorted.
fn names_in(sb: &Sandbox, dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sb.join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `bytes` with one digit in the middle changed: the same size, other content.
fn edited(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    let at = (v.len() / 2..v.len())
        .find(|&i| v[i].is_ascii_digit())
        .expect("a digit");
    v[at] = if v[at] == b'7' { b'3' } else { b'7' };
    v
}

#[test]
fn a_part_or_rejects_changed_after_its_shard_ran_fails_the_merge_until_re_run() {
    let sb = Sandbox::new();
    sb.write("in.csv", &data(2000, false));
    plan(&sb, "in.csv", 4);
    for k in 0..4 {
        assert_ok(&sb.weir(&shard_args("in.csv", &["--shard", &k.to_string()])));
    }
    let reports = sb.read_string("out/_reports/part-00001.json");
    for key in [
        "\"part_xxh64\": \"",
        "\"rejects_xxh64\": \"",
        "\"rejects\": \"rejects/part-00001.csv\"",
    ] {
        assert!(reports.contains(key), "{key}: {reports}");
    }
    let folder = names_in(&sb, "out");

    // A few bytes edited in a part, its size kept: merge refuses it, naming it (exit 4, the
    // index on stdout), and writes nothing.
    let part = sb.read("out/part-00001.csv");
    let bad = edited(&part);
    sb.write("out/part-00001.csv", &bad);
    let o = sb.weir(&["merge", "out", "--concat", "cat.csv"]);
    let err = assert_fails(
        &o,
        4,
        "weir: shard 1 is missing: its part part-00001.csv has xxh64 ",
    );
    assert!(
        err.contains("its bytes changed after the shard wrote them"),
        "{err}"
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "1\n");
    assert_eq!(names_in(&sb, "out"), folder, "nothing added to the folder");
    assert!(!sb.exists("cat.csv"));
    assert_bytes(&sb.read("out/part-00001.csv"), &bad);

    // Another shard's part in its place (another size): the same refusal.
    sb.write("out/part-00001.csv", &sb.read("out/part-00002.csv"));
    let o = sb.weir(&["merge", "out"]);
    assert_fails(
        &o,
        4,
        "weir: shard 1 is missing: its part part-00001.csv has ",
    );

    // Running the shard again writes it again (it is not "done already").
    let again = sb.weir(&shard_args("in.csv", &["--shard", "1"]));
    assert_ok(&again);
    assert_bytes(&sb.read("out/part-00001.csv"), &part);

    // Edited rejects: merge --repair re-runs the shard itself, then merges.
    let rejects = sb.read("out/rejects/part-00002.csv");
    sb.write("out/rejects/part-00002.csv", &edited(&rejects));
    let o = sb.weir(&["merge", "out", "--repair", "--concat", "cat.csv"]);
    assert_ok(&o);
    assert!(
        stderr(&o).contains("weir: shard 2: its rejects rejects/part-00002.csv has xxh64 "),
        "{}",
        stderr(&o)
    );
    assert_bytes(&sb.read("out/rejects/part-00002.csv"), &rejects);
    assert_same(&sb, "in.csv");
}

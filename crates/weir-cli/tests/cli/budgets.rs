//! Runs that end before their input does: `--head` stops reading once it has its records (the
//! run succeeds, the report and the summary say where it stopped), and `--max-rejects` fails a
//! run with too many rejects (exit 3, nothing committed, the report alone says so).

use crate::support::*;

/// `n` records `id,name`; those whose id is a multiple of `bad_every` (if any) lack the name.
fn records(n: usize, bad_every: Option<usize>) -> Vec<u8> {
    let mut s = String::from("id,name\n");
    for i in 1..=n {
        match bad_every {
            Some(k) if i % k == 0 => s.push_str(&format!("{i}\n")),
            _ => s.push_str(&format!("{i},n{i}\n")),
        }
    }
    s.into_bytes()
}

/// The arguments of a run of `in.csv` to `out.csv` with rejects and a report, plus `extra`.
fn run_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rejects.csv",
        "--report",
        "report.json",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn head_stops_reading_and_the_report_and_summary_say_where() {
    let sb = Sandbox::new();
    // 200 000 records (about 2.6 MB), a bad one every 1000: `head 3` meets none of them.
    sb.write("in.csv", &records(200_000, Some(1000)));
    let o = sb.weir(&run_args(&["--head", "3", "--chunk-size", "4096"]));
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), b"id,name\n1,n1\n2,n2\n3,n3\n");
    assert_bytes(
        &sb.read("rejects.csv"),
        b"file,line,byte_offset,field,error,message,record\n",
    );
    let json = sb.read("report.json");
    assert_balanced(&json);
    assert_eq!(report_num(&json, "records_read"), 3);
    assert_eq!(report_field(&json, "status"), "succeeded");
    let early = report_field(&json, "stopped_early");
    assert_eq!(early["input"], "in.csv", "{early}");
    assert_eq!(early["line"], 4, "{early}");
    assert_eq!(early["byte_offset"], 18, "{early}");
    // It read a few chunks, not the input.
    assert!(report_num(&json, "bytes_read") < 200_000, "{early}");
    let err = stderr(&o);
    assert!(
        err.contains("weir: done: 3 read = 3 written + 0 filtered + 0 rejected"),
        "{err}"
    );
    assert!(
        err.contains(
            "stopped early at line 4 of in.csv: head had all the records it keeps; the rest \
             was not read"
        ),
        "{err}"
    );
}

#[test]
fn head_after_a_filter_counts_the_records_up_to_the_deciding_one_only() {
    let sb = Sandbox::new();
    sb.write("in.csv", &records(1000, Some(4)));
    for workers in ["1", "2", "8"] {
        let o = sb.weir(&[
            "run",
            "-i",
            "in.csv",
            "-o",
            "out.csv",
            "--report",
            "report.json",
            "--filter",
            "TRY_CAST(id AS BIGINT) % 3 = 0",
            "--head",
            "2",
            "--unordered",
            "--chunk-size",
            "16",
            "-j",
            workers,
        ]);
        assert_ok(&o);
        // Kept: 3 and 6 (9 would be next). Read: 1..=6; rejected: 4 (ragged); filtered: the rest.
        assert_bytes(&sb.read("out.csv"), b"id,name\n3,n3\n6,n6\n");
        let json = sb.read("report.json");
        assert_balanced(&json);
        let counts = [
            "records_read",
            "records_written",
            "records_filtered",
            "records_rejected",
        ]
        .map(|k| report_num(&json, k));
        assert_eq!(counts, [6, 2, 3, 1], "workers {workers}");
        assert_eq!(report_field(&json, "stopped_early")["line"], 7);
        assert_eq!(report_field(&json, "ordered"), true);
    }
}

#[test]
fn a_run_that_reads_to_the_end_has_no_early_stop_in_its_report() {
    let sb = Sandbox::new();
    sb.write("in.csv", &records(10, None));
    let o = sb.weir(&[
        "run", "-i", "in.csv", "-o", "out.csv", "--report", "r.json", "--head", "11",
    ]);
    assert_ok(&o);
    let json = sb.read("r.json");
    assert_eq!(
        report_field(&json, "stopped_early"),
        serde_json::Value::Null
    );
    assert_eq!(report_num(&json, "records_read"), 10);
    assert!(!stderr(&o).contains("stopped early"), "{}", stderr(&o));
}

#[test]
fn ninety_five_percent_rejected_fails_a_ci_job_with_exit_3_and_commits_nothing() {
    let sb = Sandbox::new();
    // 1000 records of which 950 lack a field: 95% rejected.
    let mut s = String::from("id,name\n");
    for i in 1..=1000 {
        if i % 20 == 0 {
            s.push_str(&format!("{i},ok\n"));
        } else {
            s.push_str(&format!("{i}\n"));
        }
    }
    sb.write("in.csv", s.as_bytes());
    sb.write("out.csv", b"the last good output\n");
    sb.write("rejects.csv", b"the last rejects\n");
    let o = sb.weir(&run_args(&["--max-rejects", "5%"]));
    let err = assert_fails(
        &o,
        3,
        "weir: error: too many rejects: 950 of 1000 records read were rejected (95.00%), over \
         the rejects budget of 5%; nothing is committed; most common: missing-cell (950 \
         records), e.g. in.csv line 2: record has 1 field, the header has 2: 'name' is missing",
    );
    assert!(
        err.contains("weir: FAILED: too many rejects (nothing committed)"),
        "{err}"
    );
    assert_bytes(&sb.read("out.csv"), b"the last good output\n");
    assert_bytes(&sb.read("rejects.csv"), b"the last rejects\n");
    let json = sb.read("report.json");
    assert_eq!(report_field(&json, "status"), "too-many-rejects");
    assert_balanced(&json);
    assert_eq!(report_num(&json, "records_rejected"), 950);
    assert!(sb.temp_files().is_empty(), "{:?}", sb.temp_files());
    // Under a looser budget the same run succeeds.
    let o = sb.weir(&run_args(&["--max-rejects", "95%"]));
    assert_ok(&o);
    assert_eq!(report_field(sb.read("report.json"), "status"), "succeeded");
}

#[test]
fn a_count_budget_stops_as_soon_as_it_is_passed() {
    let sb = Sandbox::new();
    // A bad record every 10th: 100 in all, spread over the whole input.
    sb.write("in.csv", &records(1000, Some(10)));
    sb.write("out.csv", b"kept\n");
    let o = sb.weir(&run_args(&["--max-rejects", "5", "--chunk-size", "64"]));
    let err = assert_fails(&o, 3, "over the rejects budget of 5; nothing is committed");
    assert!(err.contains("most common: missing-cell ("), "{err}");
    assert!(
        err.contains("e.g. in.csv line 11: record has 1 field"),
        "{err}"
    );
    assert_bytes(&sb.read("out.csv"), b"kept\n");
    assert!(!sb.exists("rejects.csv"));
    let json = sb.read("report.json");
    assert_eq!(report_field(&json, "status"), "too-many-rejects");
    // It stopped well before the end: 64-byte chunks hold a few records each.
    let rejected = report_num(&json, "records_rejected");
    assert!((6..100).contains(&rejected), "{rejected}");
    // At the budget exactly, the run succeeds.
    let o = sb.weir(&run_args(&["--max-rejects", "100"]));
    assert_ok(&o);
}

#[test]
fn the_budget_can_be_set_in_the_pipeline_file_and_the_flag_wins() {
    let sb = Sandbox::new();
    sb.write("in.csv", &records(100, Some(2)));
    for (value, want) in [("\"10%\"", 3), ("49", 3), ("\"50%\"", 0), ("50", 0)] {
        let o = sb.run_pipeline(&format!("[options]\nmax_rejects = {value}\n"));
        assert_eq!(code(&o), want, "max_rejects = {value}: {}", stderr(&o));
    }
    // The flag overrides the file's 50.
    let o = sb.weir(&["run", "p.toml", "--max-rejects", "1"]);
    assert_fails(&o, 3, "over the rejects budget of 1;");
    let o = sb.run_pipeline("[options]\nmax_rejects = \"lots\"\n");
    assert_fails(
        &o,
        2,
        "options.max_rejects: 'lots' is not a rejects budget: give a count of records (100) or \
         a percentage of the records read (5%)",
    );
}

#[test]
fn a_bad_budget_is_a_usage_error() {
    let sb = Sandbox::new();
    sb.write("in.csv", &records(3, None));
    for (value, text) in [
        ("5 %x", "'5 %x' is not a rejects budget"),
        (
            "150%",
            "'150%' is not a rejects budget: a percentage is from 0% to 100%",
        ),
        ("-1", "'-1' is not a rejects budget"),
    ] {
        let o = sb.weir(&run_args(&[&format!("--max-rejects={value}")]));
        assert_fails_in(value, &o, 2, text);
        assert!(!sb.exists("out.csv"), "{value}");
    }
}

#[test]
fn exit_3_is_documented_in_the_help() {
    let sb = Sandbox::new();
    let o = sb.weir(&["run", "--help"]);
    assert_ok(&o);
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(
        help.contains("3    the rejects budget (--max-rejects) was exceeded"),
        "{help}"
    );
    assert!(help.contains("--max-rejects <N|P%>"), "{help}");
}

#[test]
fn a_resumable_run_that_ends_early_is_complete_and_says_so_again() {
    let sb = Sandbox::new();
    sb.write("in.csv", &records(50_000, Some(7)));
    let args = [
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--report",
        "report.json",
        "--head",
        "5",
        "--resume",
        "--chunk-size",
        "4096",
    ];
    let o = sb.weir(&args);
    assert_ok(&o);
    assert_bytes(
        &sb.read("out.csv"),
        b"id,name\n1,n1\n2,n2\n3,n3\n4,n4\n5,n5\n",
    );
    let json = sb.read("report.json");
    assert_eq!(report_num(&json, "records_read"), 5);
    assert_eq!(report_field(&json, "stopped_early")["line"], 6);
    // Again: the checkpoint says the output is complete, and where the run ended.
    let o = sb.weir(&args);
    assert_ok(&o);
    assert!(stderr(&o).contains("already complete"), "{}", stderr(&o));
    let json = sb.read("report.json");
    assert_balanced(&json);
    assert_eq!(report_num(&json, "records_read"), 5);
    assert_eq!(report_field(&json, "stopped_early")["line"], 6);
}

#[test]
fn schema_rejects_before_the_deciding_record_are_kept_and_those_after_never_made() {
    let sb = Sandbox::new();
    sb.write(
        "schema.json",
        br#"{"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]}"#,
    );
    sb.write("in.csv", b"id,name\n1,a\nx,b\n2,c\ny,d\n3,e\nz,f\n4,g\n");
    for chunk in ["1", "7", "1MiB"] {
        let o = sb.weir(&run_args(&[
            "--schema",
            "schema.json",
            "--head",
            "3",
            "--chunk-size",
            chunk,
        ]));
        assert_ok(&o);
        assert_bytes(&sb.read("out.csv"), b"id,name\n1,a\n2,c\n3,e\n");
        let rejects = parse_csv(&sb.read("rejects.csv"));
        let lines: Vec<&str> = rejects[1..].iter().map(|r| r[1].as_str()).collect();
        assert_eq!(
            lines,
            ["3", "5"],
            "chunk {chunk}: z (line 7) is after the end"
        );
        let json = sb.read("report.json");
        assert_balanced(&json);
        assert_eq!(report_num(&json, "records_read"), 5, "chunk {chunk}");
        assert_eq!(report_num(&json, "records_rejected"), 2, "chunk {chunk}");
        assert_eq!(report_field(&json, "stopped_early")["line"], 6);
    }
}

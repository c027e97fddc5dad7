//! Chunk sizes and worker counts change nothing in the output; --unordered changes only order.

use crate::support::*;

/// About 6 KB of CSV with a BOM, CRLF and LF terminators, quoted fields holding newlines,
/// commas and doubled quotes, literal quotes, text after a closing quote, ragged rows (which
/// are rejected), and a last record without a terminator.
fn mixed_csv() -> Vec<u8> {
    let mut s = b"\xEF\xBB\xBFid,name,note\r\n".to_vec();
    for i in 0..300 {
        let row = match i % 7 {
            0 => format!("{i},\"q \"\"{i}\"\"\",\"multi\nline {i}\"\n"),
            1 => format!("{i},5'10\",plain\r\n"),
            2 => format!("{i},\"ab\"cd,\"x,y\"\n"),
            3 => format!("{i},short\n"),
            4 => format!("{i},n{i},z,extra\n"),
            5 => format!("{i},n{i},\"crlf\r\ninside\"\r\n\n"),
            _ => format!("{i},,\"\"\n"),
        };
        s.extend_from_slice(row.as_bytes());
    }
    s.extend_from_slice(b"300,last,end");
    s
}

struct RunResult {
    out: Vec<u8>,
    rejects: Vec<u8>,
    counts: [u64; 4],
}

fn run_with(sb: &Sandbox, input: &str, settings: &[&str]) -> RunResult {
    for f in ["out", "rejects.csv", "report.json"] {
        let _ = std::fs::remove_file(sb.join(f));
    }
    let mut args = vec![
        "run",
        "-i",
        input,
        "-o",
        "out",
        "--rejects",
        "rejects.csv",
        "--report",
        "report.json",
        "-q",
    ];
    args.extend_from_slice(settings);
    let o = sb.weir(&args);
    assert_eq!(code(&o), 0, "{settings:?}: {}", stderr(&o));
    let report = sb.read_string("report.json");
    assert_balanced(&report);
    RunResult {
        out: sb.read("out"),
        rejects: sb.read("rejects.csv"),
        counts: [
            "records_read",
            "records_written",
            "records_filtered",
            "records_rejected",
        ]
        .map(|k| report_num(&report, k)),
    }
}

/// Every chunk size and worker count gives the default run's bytes exactly.
fn assert_same_everywhere(sb: &Sandbox, input: &str) -> RunResult {
    let base = run_with(sb, input, &[]);
    for chunk in ["1", "7", "64", "1MiB"] {
        for workers in ["1", "2", "8"] {
            let settings = ["--chunk-size", chunk, "--workers", workers];
            let r = run_with(sb, input, &settings);
            assert_eq!(r.counts, base.counts, "{settings:?}");
            if r.out != base.out {
                assert_bytes(&r.out, &base.out);
            }
            if r.rejects != base.rejects {
                assert_bytes(&r.rejects, &base.rejects);
            }
        }
    }
    base
}

#[test]
fn csv_output_is_identical_for_every_chunk_size_and_worker_count() {
    let sb = Sandbox::new();
    let input = mixed_csv();
    sb.write("mixed.csv", &input);
    let base = assert_same_everywhere(&sb, "mixed.csv");

    // The reference: csv-core's records with the header's width, in order.
    let records = parse_csv(&input);
    let width = records[0].len();
    let kept: Vec<Vec<String>> = records
        .iter()
        .filter(|r| r.len() == width)
        .cloned()
        .collect();
    assert_eq!(parse_csv(&base.out), kept);
    assert_eq!(base.counts, [301, 215, 0, 86]);
    assert!(!base.out.starts_with(b"\xEF\xBB\xBF"));
    // CRLF terminators became LF; the only CRs left are the 43 inside quoted fields.
    assert_eq!(base.out.iter().filter(|&&b| b == b'\r').count(), 43);
}

#[test]
fn jsonl_and_lines_are_identical_for_every_chunk_size_and_worker_count() {
    let sb = Sandbox::new();
    let mut jsonl = String::new();
    for i in 0..120 {
        match i % 5 {
            0 => jsonl.push_str(&format!("{{\"id\":{i},\"s\":\"a\\nb\"}}\n")),
            1 => jsonl.push_str(&format!(
                "{{ \"id\" : {i} , \"s\" : [1,{{\"k\":\"}}\"}}] }}\r\n"
            )),
            2 => jsonl.push_str(&format!("{{\"id\":{i}}}\n")),
            3 => jsonl.push_str("not json\n\n"),
            _ => jsonl.push_str(&format!("{{\"s\":\"x\",\"id\":{i},\"extra\":1}}\n")),
        }
    }
    sb.write("mixed.jsonl", jsonl.as_bytes());
    let base = assert_same_everywhere(&sb, "mixed.jsonl");
    assert_eq!(base.counts, [120, 48, 0, 72]);

    sb.write("mixed.txt", jsonl.as_bytes());
    let base = assert_same_everywhere(&sb, "mixed.txt");
    assert_eq!(base.counts, [144, 144, 0, 0]);
    assert_bytes(&base.out, jsonl.replace("\r\n", "\n").as_bytes());
}

#[test]
fn select_output_is_identical_for_every_chunk_size_and_worker_count() {
    let sb = Sandbox::new();
    sb.write("mixed.csv", &mixed_csv());
    let base = run_with(&sb, "mixed.csv", &["--select", "note,id"]);
    for (chunk, workers) in [("1", "8"), ("7", "2"), ("64", "1")] {
        let r = run_with(
            &sb,
            "mixed.csv",
            &["--select", "note,id", "--chunk-size", chunk, "-j", workers],
        );
        assert_bytes(&r.out, &base.out);
        assert_bytes(&r.rejects, &base.rejects);
    }
}

fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort();
    rows
}

#[test]
fn unordered_gives_the_same_records_in_any_order() {
    let sb = Sandbox::new();
    sb.write("mixed.csv", &mixed_csv());
    let base = run_with(&sb, "mixed.csv", &[]);
    for (chunk, workers) in [("7", "8"), ("1", "4"), ("64", "8"), ("1MiB", "2")] {
        let r = run_with(
            &sb,
            "mixed.csv",
            &["--unordered", "--chunk-size", chunk, "-j", workers],
        );
        assert_eq!(r.counts, base.counts);
        let (out, want) = (parse_csv(&r.out), parse_csv(&base.out));
        assert_eq!(out[0], want[0], "the header comes first");
        assert_eq!(sorted(out[1..].to_vec()), sorted(want[1..].to_vec()));
        let (rej, want) = (parse_csv(&r.rejects), parse_csv(&base.rejects));
        assert_eq!(rej[0], want[0]);
        assert_eq!(sorted(rej[1..].to_vec()), sorted(want[1..].to_vec()));
        assert_eq!(r.out.len(), base.out.len());
    }
    // Lines too: the same multiset of lines.
    sb.fixture("notes.txt");
    let base = run_with(&sb, "notes.txt", &[]);
    let r = run_with(
        &sb,
        "notes.txt",
        &["--unordered", "--chunk-size", "1", "-j", "8"],
    );
    let lines = |b: &[u8]| {
        let mut v: Vec<Vec<u8>> = b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
        v.sort();
        v
    };
    assert_eq!(lines(&r.out), lines(&base.out));
}

//! Hostile input (issue #5): nothing in the input, however broken, may crash weir, hang it or
//! make it eat memory. One test per kind of input; each checks the message, the exit code,
//! what is (not) committed and, where memory is the point, the peak RSS of the process.

use std::fs::File;
use std::io::Write;
use std::time::Duration;

use crate::support::*;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
const GIB5: u64 = 5 << 30;

/// The peak RSS a run over a hostile input may reach: the workers' chunks, the record limit and
/// the binary, far below the input's size.
const RSS_BOUND: u64 = 200 << 20;

/// Asserts a failed run left nothing but `inputs` in the sandbox (no output, rejects, report
/// or temporary file).
#[track_caller]
fn assert_nothing_left(sb: &Sandbox, inputs: &[&str]) {
    assert_eq!(
        sb.temp_files(),
        Vec::<String>::new(),
        "temporary files left"
    );
    assert_eq!(sb.names(), inputs, "only the inputs remain");
}

/// Asserts a run's peak RSS stayed below [`RSS_BOUND`].
#[track_caller]
fn assert_rss_bounded(m: &Measured) {
    assert!(m.peak_rss < RSS_BOUND, "peak RSS {} MiB", m.peak_rss >> 20);
}

/// Asserts a run's peak RSS stayed below [`RSS_BOUND`] and it took less than `limit`.
#[track_caller]
fn assert_bounded(m: &Measured, limit: Duration) {
    assert_rss_bounded(m);
    assert!(m.elapsed < limit, "{:?}", m.elapsed);
}

/// Where a test gets a multi-GiB input: a sparse file when the filesystem makes one (no disk
/// used), otherwise the same bytes streamed into standard input.
enum Big {
    File(&'static str),
    Stdin(Vec<u8>, u64),
}

impl Big {
    /// `prefix` followed by `zeros` NUL bytes (no newline after them).
    fn new(sb: &Sandbox, name: &'static str, prefix: &[u8], zeros: u64) -> Big {
        let path = sb.join(name);
        let sparse = (|| -> std::io::Result<bool> {
            use std::os::unix::fs::MetadataExt;
            let mut f = File::create(&path)?;
            f.write_all(prefix)?;
            f.set_len(prefix.len() as u64 + zeros)?;
            // A filesystem without holes would have written the zeros: check it made a hole.
            Ok(f.metadata()?.blocks() * 512 < 64 << 20)
        })();
        match sparse {
            Ok(true) => Big::File(name),
            _ => {
                let _ = std::fs::remove_file(&path);
                Big::Stdin(prefix.to_vec(), zeros)
            }
        }
    }

    fn input_arg(&self) -> &'static str {
        match self {
            Big::File(name) => name,
            Big::Stdin(..) => "-",
        }
    }

    /// What the messages call the input.
    fn shown(&self) -> &'static str {
        self.input_arg()
    }

    fn inputs(&self) -> Vec<&'static str> {
        match self {
            Big::File(name) => vec![name],
            Big::Stdin(..) => vec![],
        }
    }

    fn run(&self, sb: &Sandbox, args: &[&str]) -> Measured {
        let feed: Option<Box<dyn FnOnce(std::process::ChildStdin) + Send>> = match self {
            Big::File(_) => None,
            Big::Stdin(prefix, zeros) => {
                let (prefix, zeros) = (prefix.clone(), *zeros);
                Some(Box::new(move |mut stdin| {
                    // weir may stop reading early (the default stops at the limit): a broken
                    // pipe just ends the feed.
                    let block = vec![0u8; MIB];
                    if stdin.write_all(&prefix).is_err() {
                        return;
                    }
                    let mut left = zeros;
                    while left > 0 {
                        let n = left.min(block.len() as u64) as usize;
                        if stdin.write_all(&block[..n]).is_err() {
                            return;
                        }
                        left -= n as u64;
                    }
                }))
            }
        };
        let mut all = vec!["run", "-i", self.input_arg()];
        all.extend_from_slice(args);
        sb.weir_measured(&all, feed)
    }
}

/// `prefix` followed by `n` bytes of `fill`: the start of an input with one long field.
fn filled(prefix: &[u8], n: usize, fill: u8) -> Vec<u8> {
    let mut v = prefix.to_vec();
    v.resize(prefix.len() + n, fill);
    v
}

#[test]
fn peak_rss_helper_sees_the_memory_a_run_holds() {
    // A 64 MiB record is held whole: the measured peak must show it (and stay sane).
    let sb = Sandbox::new();
    let mut input = filled(b"id,v\n1,", 64 * MIB, b'x');
    input.push(b'\n');
    sb.write("big.csv", &input);
    let m = sb.weir_measured(
        &[
            "run",
            "-i",
            "big.csv",
            "-o",
            "out.csv",
            "-q",
            "--max-record-size",
            "128MiB",
        ],
        None,
    );
    assert_ok(&m.output);
    assert!(m.peak_rss > 64 << 20, "peak {} < 64 MiB", m.peak_rss);
    assert!(m.peak_rss < 600 << 20, "peak {}", m.peak_rss);
}

// ---- unterminated quotes ----

/// A quote opens on line 12 (byte 96) and is never closed; 100,000 lines (many chunks) follow.
fn unterminated_far_before_eof() -> Vec<u8> {
    let mut s = b"id,name\n".to_vec();
    for i in 1..=10 {
        s.extend_from_slice(format!("{i},n{i:05}\n").as_bytes());
    }
    assert_eq!(s.len(), 8 + 9 * 9 + 10);
    s.extend_from_slice(b"11,\"never closed\n");
    for i in 0..100_000 {
        s.extend_from_slice(format!("{i},tail\n").as_bytes());
    }
    s
}

#[test]
fn unterminated_quote_names_the_line_it_opened_on_many_chunks_before_eof() {
    let input = unterminated_far_before_eof();
    for extra in [
        &["--chunk-size", "4KiB"][..],
        &[],
        // Skipping oversized records must still find the open quote at the end.
        &["--oversized", "reject", "--max-record-size", "64KiB"],
        &[
            "--oversized",
            "reject",
            "--max-record-size",
            "100",
            "--chunk-size",
            "7",
        ],
    ] {
        let sb = Sandbox::new();
        sb.write("uq.csv", &input);
        let o = sb.weir_with(
            &[
                "run",
                "-i",
                "uq.csv",
                "-o",
                "out.csv",
                "--rejects",
                "rej.csv",
                "--report",
                "report.json",
            ],
            extra,
        );
        let err = assert_fails_in(
            &format!("{extra:?}"),
            &o,
            1,
            "weir: error: uq.csv: line 12 (byte 102): quoted field is never closed \
             (the input ends inside quotes)",
        );
        assert!(err.contains("FAILED (nothing committed)"), "{err}");
        // The report is written for a failed run too; nothing else is.
        assert_eq!(sb.temp_files(), Vec::<String>::new());
        assert_eq!(sb.names(), ["report.json", "uq.csv"], "{extra:?}");
        assert_eq!(report_field(sb.read("report.json"), "status"), "failed");
    }
}

// ---- one 5 GiB line ----

#[test]
fn five_gib_line_stops_at_the_record_limit_in_bounded_memory() {
    let sb = Sandbox::new();
    let big = Big::new(&sb, "big.csv", b"id,v\n", GIB5);
    let m = big.run(&sb, &["-o", "out.csv", "--rejects", "rej.csv"]);
    let err = assert_fails(
        &m.output,
        1,
        &format!(
            "weir: error: {}: line 2 (byte 5): record larger than the maximum record size of \
             67108864 bytes (raise --max-record-size, or check for an unbalanced quote)",
            big.shown()
        ),
    );
    assert!(err.contains("FAILED (nothing committed)"), "{err}");
    assert_bounded(&m, Duration::from_secs(30));
    assert_nothing_left(&sb, &big.inputs());
}

#[test]
fn five_gib_last_line_and_a_smaller_one_are_rejected_and_the_run_goes_on() {
    let sb = Sandbox::new();
    // Line 3 (byte 14) is 3 MiB; line 5 (byte 3145757) is 5 GiB of NUL bytes with no newline.
    let mut prefix = filled(b"id,v\n1,before\n2,", 3 * MIB, b'x');
    prefix.extend_from_slice(b"\n3,after\n");
    let last_at = prefix.len();
    let big = Big::new(&sb, "big.csv", &prefix, GIB5);
    let m = big.run(
        &sb,
        &[
            "-o",
            "out.csv",
            "--rejects",
            "rej.csv",
            "--report",
            "report.json",
            "--oversized",
            "reject",
            "--max-record-size",
            "1MiB",
        ],
    );
    assert_ok(&m.output);
    assert_bytes(&sb.read("out.csv"), b"id,v\n1,before\n3,after\n");
    let rows = parse_csv(&sb.read("rej.csv"));
    assert_eq!(rows.len(), 3, "header and two rejects");
    let name = big.shown();
    let mut first_kib = b"2,".to_vec();
    first_kib.resize(KIB, b'x');
    assert_eq!(
        rows[1],
        [
            name,
            "3",
            "14",
            "",
            "record-too-large",
            &format!(
                "record of {} bytes is larger than the maximum record size of 1048576 bytes \
                 (the rejects file keeps its first 1024 bytes)",
                3 * MIB + 3
            ),
            std::str::from_utf8(&first_kib).unwrap(),
        ]
    );
    assert_eq!(
        rows[2],
        [
            name,
            "5",
            &last_at.to_string(),
            "",
            "record-too-large",
            &format!(
                "record of {GIB5} bytes is larger than the maximum record size of 1048576 bytes \
                 (the rejects file keeps its first 1024 bytes)"
            ),
            "\0".repeat(KIB).as_str(),
        ]
    );
    let report = sb.read_string("report.json");
    assert_balanced(&report);
    assert_eq!(report_num(&report, "records_read"), 4);
    assert_eq!(report_num(&report, "records_rejected"), 2);
    assert_eq!(
        report_rejects_by_error(&report),
        [("record-too-large".to_string(), 2)]
    );
    assert_rss_bounded(&m);
    eprintln!(
        "5 GiB skipped in {:?}, peak RSS {} MiB ({})",
        m.elapsed,
        m.peak_rss >> 20,
        if big.inputs().is_empty() {
            "stdin"
        } else {
            "sparse file"
        }
    );
}

#[test]
fn oversized_lines_are_rejected_in_json_lines_and_lines_framing() {
    for (name, format, good) in [
        (
            "in.jsonl",
            "jsonl",
            &[&b"{\"a\":1}"[..], b"{\"a\":2}", b"{\"a\":3}"],
        ),
        ("in.txt", "lines", &[&b"one"[..], b"two", b"three"]),
    ] {
        for trailing_newline in [true, false] {
            let sb = Sandbox::new();
            // good, 2 MiB, good, good, 3 MiB (the last line).
            let big = |n: usize| {
                let mut v = b"{\"a\":\"".to_vec();
                v.resize(n, b'y');
                v
            };
            let mut input = Vec::new();
            for part in [good[0], &big(2 * MIB), good[1], good[2], &big(3 * MIB)] {
                input.extend_from_slice(part);
                input.push(b'\n');
            }
            if !trailing_newline {
                input.pop();
            }
            sb.write(name, &input);
            let m = sb.weir_measured(
                &[
                    "run",
                    "-i",
                    name,
                    "--format",
                    format,
                    "-o",
                    "out",
                    "--output-format",
                    format,
                    "--rejects",
                    "rej.csv",
                    "--oversized",
                    "reject",
                    "--max-record-size",
                    "1MiB",
                    "--chunk-size",
                    "64KiB",
                ],
                None,
            );
            assert_ok(&m.output);
            let mut want = Vec::new();
            for g in good {
                want.extend_from_slice(g);
                want.push(b'\n');
            }
            assert_bytes(&sb.read("out"), &want);
            let rows = parse_csv(&sb.read("rej.csv"));
            let at: Vec<(&str, &str, &str, usize)> = rows[1..]
                .iter()
                .map(|r| (r[1].as_str(), r[2].as_str(), r[4].as_str(), r[6].len()))
                .collect();
            let off2 = good[0].len() + 1;
            let off5 = off2 + 2 * MIB + 1 + good[1].len() + 1 + good[2].len() + 1;
            assert_eq!(
                at,
                [
                    ("2", off2.to_string().as_str(), "record-too-large", KIB),
                    ("5", off5.to_string().as_str(), "record-too-large", KIB),
                ],
                "{format}, trailing newline {trailing_newline}"
            );
            assert!(rows[2][5].starts_with(&format!(
                "record of {} bytes",
                3 * MIB + usize::from(trailing_newline)
            )));
            assert_rss_bounded(&m);
        }
    }
}

#[test]
fn oversized_can_be_set_in_the_pipeline_file_and_defaults_to_stop() {
    let sb = Sandbox::new();
    let mut input = filled(b"id,v\n1,a\n2,", 5000, b'z');
    input.extend_from_slice(b"\n3,c\n");
    sb.write("in.csv", &input);
    sb.write(
        "p.toml",
        b"input = \"in.csv\"\noutput = \"out.csv\"\n[options]\nmax_record_size = \"1KiB\"\noversized = \"reject\"\n",
    );
    let o = sb.weir(&["run", "p.toml", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), b"id,v\n1,a\n3,c\n");
    // The flag overrides the file.
    std::fs::remove_file(sb.join("out.csv")).unwrap();
    let o = sb.weir(&["run", "p.toml", "-q", "--oversized", "stop"]);
    assert_fails(&o, 1, "in.csv: line 3 (byte 9): record larger");
    assert!(!sb.exists("out.csv"));
    // A bad value is a usage error.
    let o = sb.weir(&["run", "p.toml", "--oversized", "skip"]);
    assert_fails(&o, 2, "'skip' is not stop or reject");
}

// ---- NUL bytes ----

#[test]
fn nul_bytes_in_fields_and_as_whole_lines_pass_through_unchanged() {
    let sb = Sandbox::new();
    let csv = b"id,v\n1,a\0b\n2,\0\0\0\n3,\"q\0\"\n";
    sb.write("nul.csv", csv);
    let o = sb.weir(&["run", "-i", "nul.csv", "-o", "out.csv", "-q"]);
    assert_ok(&o);
    // Unchanged but for the needless quotes of the last field, which are made canonical.
    assert_bytes(&sb.read("out.csv"), b"id,v\n1,a\0b\n2,\0\0\0\n3,q\0\n");
    let o = sb.weir(&[
        "run", "-i", "nul.csv", "-o", "sel.csv", "-q", "--select", "v,id",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("sel.csv"), b"v,id\na\0b,1\n\0\0\0,2\nq\0,3\n");
    let o = sb.weir(&["run", "-i", "nul.csv", "-o", "out.jsonl", "-q"]);
    assert_ok(&o);
    assert_bytes(
        &sb.read("out.jsonl"),
        b"{\"id\":\"1\",\"v\":\"a\\u0000b\"}\n{\"id\":\"2\",\"v\":\"\\u0000\\u0000\\u0000\"}\n\
          {\"id\":\"3\",\"v\":\"q\\u0000\"}\n",
    );
    let lines = b"\0\0\0\n\0\nplain\n\0x\0\n";
    sb.write("nul.txt", lines);
    let o = sb.weir(&["run", "-i", "nul.txt", "-o", "out.txt", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.txt"), lines);
}

// ---- invalid UTF-8 ----

/// Latin-1 `café` and two bytes that are never UTF-8, in `name`.
const LATIN1: &[u8] = b"id,name,age\n1,caf\xe9,31\n2,bob,25\n3,\xff\xfe,40\n";

#[test]
fn invalid_utf8_passes_through_where_no_rule_needs_text() {
    let sb = Sandbox::new();
    sb.write("u.csv", LATIN1);
    for (args, want) in [
        (&[][..], LATIN1),
        (
            &["--select", "name,id"][..],
            &b"name,id\ncaf\xe9,1\nbob,2\n\xff\xfe,3\n"[..],
        ),
        (
            &["--filter", "age >= 30"][..],
            &b"id,name,age\n1,caf\xe9,31\n3,\xff\xfe,40\n"[..],
        ),
    ] {
        let o = sb.weir_with(&["run", "-i", "u.csv", "-o", "out.csv", "-q"], args);
        assert_ok(&o);
        assert_bytes(&sb.read("out.csv"), want);
    }
}

#[test]
fn invalid_utf8_is_rejected_naming_the_field_where_a_rule_needs_text() {
    let sb = Sandbox::new();
    sb.write("u.csv", LATIN1);
    sb.write(
        "s.json",
        br#"{"fields":[{"name":"id","type":"integer"},{"name":"name","type":"string","constraints":{"pattern":"[a-z]+"}},{"name":"age","type":"integer"}]}"#,
    );
    for (args, message) in [
        (
            &["--derive", "name=upper(name)"][..],
            "invalid UTF-8 in column name",
        ),
        (
            &["--derive", "n=length(name)"][..],
            "invalid UTF-8 in column name",
        ),
        (
            &["--filter", "name = 'bob'"][..],
            "invalid UTF-8 in column name",
        ),
        (
            &["--filter", "name IN ('bob', 'eve')"][..],
            "invalid UTF-8 in column name",
        ),
        (
            &["--filter", "name LIKE 'b%'"][..],
            "invalid UTF-8 in column name",
        ),
        (&["--schema", "s.json"][..], "not valid UTF-8"),
    ] {
        let o = sb.weir_with(
            &[
                "run",
                "-i",
                "u.csv",
                "-o",
                "out.csv",
                "-q",
                "--rejects",
                "rej.csv",
            ],
            args,
        );
        assert_ok(&o);
        let rows = parse_csv(&sb.read("rej.csv"));
        let got: Vec<(&str, &str, &str)> = rows[1..]
            .iter()
            .map(|r| (r[1].as_str(), r[3].as_str(), r[4].as_str()))
            .collect();
        assert_eq!(
            got,
            [("2", "name", "type-error"), ("4", "name", "type-error")],
            "{args:?}"
        );
        assert!(rows[1][5].contains(message), "{args:?}: {}", rows[1][5]);
        // The raw record keeps the bytes as they were (read back lossily here).
        assert_eq!(rows[1][6], "1,caf\u{fffd},31");
    }
}

// ---- 100,000 columns ----

#[test]
fn hundred_thousand_columns_pass_through_and_select_in_bounded_time_and_memory() {
    let sb = Sandbox::new();
    let n = 100_000;
    let mut input = (0..n)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    input.push('\n');
    for r in 1..=3u64 {
        let row: Vec<String> = (0..n as u64).map(|i| (r * i).to_string()).collect();
        input.push_str(&row.join(","));
        input.push('\n');
    }
    sb.write("wide.csv", input.as_bytes());
    let m = sb.weir_measured(&["run", "-i", "wide.csv", "-o", "out.csv", "-q"], None);
    assert_ok(&m.output);
    assert_bytes(&sb.read("out.csv"), input.as_bytes());
    assert_bounded(&m, Duration::from_secs(20));
    let m = sb.weir_measured(
        &[
            "run",
            "-i",
            "wide.csv",
            "-o",
            "sel.csv",
            "-q",
            "--filter",
            "c7 > 0",
            "--select",
            "c99999,c5",
        ],
        None,
    );
    assert_ok(&m.output);
    assert_bytes(
        &sb.read("sel.csv"),
        b"c99999,c5\n99999,5\n199998,10\n299997,15\n",
    );
    assert_bounded(&m, Duration::from_secs(20));
}

// ---- ragged rows ----

/// Line 3 is short, line 4 long.
const RAGGED: &[u8] = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n";

fn ragged_run(sb: &Sandbox, args: &[&str]) -> (std::process::Output, Vec<(String, String)>) {
    let o = sb.weir_with(
        &[
            "run",
            "-i",
            "r.csv",
            "-o",
            "out.csv",
            "-q",
            "--rejects",
            "rej.csv",
        ],
        args,
    );
    let rejects = if sb.exists("rej.csv") {
        parse_csv(&sb.read("rej.csv"))[1..]
            .iter()
            .map(|r| (r[1].clone(), r[4].clone()))
            .collect()
    } else {
        Vec::new()
    };
    (o, rejects)
}

#[test]
fn ragged_rows_are_rejected_padded_truncated_or_kept() {
    let sb = Sandbox::new();
    sb.write("r.csv", RAGGED);
    let missing = ("3".to_string(), "missing-cell".to_string());
    let extra = ("4".to_string(), "extra-cell".to_string());
    for (args, out, rejects) in [
        (
            &[][..],
            &b"a,b,c\n1,2,3\n"[..],
            vec![missing.clone(), extra.clone()],
        ),
        (
            &["--ragged", "reject"],
            b"a,b,c\n1,2,3\n",
            vec![missing.clone(), extra.clone()],
        ),
        (
            &["--ragged", "pad"],
            b"a,b,c\n1,2,3\n4,5,\n",
            vec![extra.clone()],
        ),
        (
            &["--ragged", "truncate"],
            b"a,b,c\n1,2,3\n6,7,8\n",
            vec![missing.clone()],
        ),
        (
            &["--ragged", "pad-truncate"],
            b"a,b,c\n1,2,3\n4,5,\n6,7,8\n",
            vec![],
        ),
        (&["--ragged", "keep"], RAGGED, vec![]),
        (&["--flexible"], RAGGED, vec![]),
    ] {
        let (o, got) = ragged_run(&sb, args);
        assert_ok(&o);
        assert_bytes(&sb.read("out.csv"), out);
        assert_eq!(got, rejects, "{args:?}");
    }
    // A padded field is NULL to the steps: it is filled, a kept short row's is too.
    for (mode, want) in [("pad", &b"c\n3\nnone\n"[..]), ("keep", b"c\n3\nnone\n8\n")] {
        let (o, _) = ragged_run(
            &sb,
            &["--ragged", mode, "--fill", "c=none", "--select", "c"],
        );
        assert_ok(&o);
        assert_bytes(&sb.read("out.csv"), want);
    }
    // --flexible is --ragged keep: giving both is a usage error, as is an unknown mode.
    for args in [&["--flexible", "--ragged", "pad"][..], &["--ragged", "fit"]] {
        let (o, _) = ragged_run(&sb, args);
        assert_eq!(code(&o), 2, "{args:?}");
    }
    sb.write(
        "p.toml",
        b"input = \"r.csv\"\noutput = \"toml.csv\"\n[options]\nragged = \"pad-truncate\"\n",
    );
    assert_ok(&sb.weir(&["run", "p.toml", "-q"]));
    assert_bytes(&sb.read("toml.csv"), b"a,b,c\n1,2,3\n4,5,\n6,7,8\n");
}

#[test]
fn ragged_json_lines_pad_absent_keys_and_truncate_unknown_ones() {
    let sb = Sandbox::new();
    let input = b"{\"a\":1,\"b\":2}\n{\"a\":3}\n{\"b\":5,\"c\":6,\"a\":4}\n";
    sb.write("r.jsonl", input);
    for (mode, out, rejects) in [
        (
            "reject",
            &b"{\"a\":1,\"b\":2}\n"[..],
            &["missing-cell", "extra-cell"][..],
        ),
        (
            "pad",
            b"{\"a\":1,\"b\":2}\n{\"a\":3,\"b\":null}\n",
            &["extra-cell"],
        ),
        (
            "truncate",
            b"{\"a\":1,\"b\":2}\n{\"a\":4,\"b\":5}\n",
            &["missing-cell"],
        ),
        (
            "pad-truncate",
            b"{\"a\":1,\"b\":2}\n{\"a\":3,\"b\":null}\n{\"a\":4,\"b\":5}\n",
            &[],
        ),
        ("keep", input, &[]),
    ] {
        let o = sb.weir(&[
            "run",
            "-i",
            "r.jsonl",
            "-o",
            "out.jsonl",
            "-q",
            "--rejects",
            "rej.csv",
            "--ragged",
            mode,
        ]);
        assert_ok(&o);
        assert_bytes(&sb.read("out.jsonl"), out);
        let rows = parse_csv(&sb.read("rej.csv"));
        let got: Vec<&str> = rows[1..].iter().map(|r| r[4].as_str()).collect();
        assert_eq!(got, rejects, "{mode}");
    }
}

// ---- duplicate and empty header names ----

/// `a` at positions 1 and 3, two empty names at 4 and 5.
const DUPLICATED: &[u8] = b"a,b,a,,\n1,2,3,4,5\n";

#[test]
fn duplicate_and_empty_header_names_pass_through_but_are_never_picked_silently() {
    let sb = Sandbox::new();
    sb.write("d.csv", DUPLICATED);
    // Passthrough and steps on other columns keep the header as it is.
    let o = sb.weir(&["run", "-i", "d.csv", "-o", "out.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), DUPLICATED);
    let o = sb.weir(&["run", "-i", "d.csv", "-o", "b.csv", "-q", "--select", "b"]);
    assert_ok(&o);
    assert_bytes(&sb.read("b.csv"), b"b\n2\n");
    // A step naming the repeated column is a usage error naming its positions.
    for args in [
        &["--select", "a"][..],
        &["--drop", "a"],
        &["--rename", "a=z"],
        &["--filter", "a > 1"],
        &["--derive", "x=a"],
        &["--derive", "a=1"],
        &["--dedupe", "a"],
    ] {
        let sb = Sandbox::new();
        sb.write("d.csv", DUPLICATED);
        let o = sb.weir_with(
            &[
                "run",
                "-i",
                "d.csv",
                "-o",
                "out.csv",
                "--rejects",
                "rej.csv",
            ],
            args,
        );
        assert_fails_in(
            &format!("{args:?}"),
            &o,
            2,
            "column 'a' is ambiguous: the header has it at positions 1 and 3",
        );
        assert_nothing_left(&sb, &["d.csv"]);
    }
    // Keyed outputs cannot hold two columns of one name.
    let o = sb.weir(&["run", "-i", "d.csv", "-o", "out.jsonl"]);
    assert_fails(
        &o,
        2,
        "jsonl output needs distinct column names, and the header has 'a' at positions 1 and 3",
    );
    assert!(!sb.exists("out.jsonl"));
    // Schema validation reports what frictionless reports.
    sb.write(
        "s.json",
        br#"{"fields":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"},{"name":"e"}]}"#,
    );
    let o = sb.weir(&["run", "-i", "d.csv", "-o", "v.csv", "--schema", "s.json"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    for want in [
        "duplicate-label: column 3 'a' repeats column 1",
        "blank-label: column 4 has no name",
        "blank-label: column 5 has no name",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(!sb.exists("v.csv"));
}

// ---- JSON Lines that are not objects, or nested without end ----

#[test]
fn json_lines_that_are_not_objects_or_nest_10000_deep_are_rejected_and_the_run_goes_on() {
    let sb = Sandbox::new();
    let mut input = b"{\"a\":1}\n[1,2]\n42\n\"text\"\nnull\n".to_vec();
    input.extend("[".repeat(10_000).as_bytes());
    input.extend("]".repeat(10_000).as_bytes());
    input.push(b'\n');
    input.extend("{\"a\":".repeat(10_000).as_bytes());
    input.push(b'1');
    input.extend("}".repeat(10_000).as_bytes());
    input.push(b'\n');
    input.extend_from_slice(b"{\"a\":");
    input.extend("[".repeat(10_000).as_bytes());
    input.extend("]".repeat(10_000).as_bytes());
    input.extend_from_slice(b"}\n{\"a\":2}\n");
    sb.write("j.jsonl", &input);
    let o = sb.weir(&[
        "run",
        "-i",
        "j.jsonl",
        "-o",
        "out.jsonl",
        "-q",
        "--rejects",
        "rej.csv",
        "--report",
        "report.json",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.jsonl"), b"{\"a\":1}\n{\"a\":2}\n");
    let rows = parse_csv(&sb.read("rej.csv"));
    let got: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[1].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("2", "parse-error"),
            ("3", "parse-error"),
            ("4", "parse-error"),
            ("5", "parse-error"),
            ("6", "parse-error"),
            ("7", "parse-error"),
            ("8", "parse-error"),
        ]
    );
    assert!(
        rows[1][5].contains("expected a JSON object"),
        "{}",
        rows[1][5]
    );
    // An array is refused at its first byte, however deep it goes.
    assert!(
        rows[5][5].contains("expected a JSON object"),
        "{}",
        rows[5][5]
    );
    for row in &rows[6..] {
        assert!(
            row[5].contains("nesting deeper than 512 levels"),
            "{}",
            row[5]
        );
    }
    let report = sb.read_string("report.json");
    assert_balanced(&report);
    assert_eq!(report_num(&report, "records_read"), 9);
}

#[test]
fn an_oversized_first_json_line_does_not_decide_the_columns_at_any_chunk_size() {
    let sb = Sandbox::new();
    let mut input = b"{\"z\":\"".to_vec();
    input.resize(3000, b'x');
    input.extend_from_slice(b"\"}\n{\"a\":1,\"b\":2}\n{\"a\":3,\"b\":4}\n");
    sb.write("in.jsonl", &input);
    for chunk in ["7", "1KiB", "1MiB"] {
        let o = sb.weir(&[
            "run",
            "-i",
            "in.jsonl",
            "-o",
            "out.csv",
            "-q",
            "--rejects",
            "rej.csv",
            "--oversized",
            "reject",
            "--max-record-size",
            "1KiB",
            "--chunk-size",
            chunk,
        ]);
        assert_ok(&o);
        assert_bytes(&sb.read("out.csv"), b"a,b\n1,2\n3,4\n");
        let rows = parse_csv(&sb.read("rej.csv"));
        assert_eq!(rows.len(), 2, "chunk {chunk}");
        assert_eq!(
            (
                rows[1][1].as_str(),
                rows[1][2].as_str(),
                rows[1][4].as_str()
            ),
            ("1", "0", "record-too-large"),
            "chunk {chunk}"
        );
    }
}

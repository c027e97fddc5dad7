//! Compressed inputs and outputs: gzip and zstd detected by magic bytes on input, chosen by
//! extension on output; corrupt or truncated input fails the run naming the file and the
//! compressed byte offset, and commits nothing.

use std::io::{Read, Write};

use crate::support::*;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn unzstd(data: &[u8]) -> Vec<u8> {
    zstd::decode_all(data).unwrap()
}

/// A CSV with a header, quoted fields, a newline inside quotes, and enough rows for several
/// chunks at the chunk sizes used below.
fn customers() -> Vec<u8> {
    let mut data = b"id,name,age,note\n".to_vec();
    for i in 0..3000u32 {
        let note = match i % 5 {
            0 => "\"multi\nline\"".to_string(),
            1 => "\"has, comma\"".to_string(),
            _ => format!("n{i}"),
        };
        writeln!(data, "{i}, Name {i} ,{},{note}", 18 + i % 60).unwrap();
    }
    data
}

const STEPS: [&str; 6] = [
    "--derive",
    "name=upper(trim(name))",
    "--filter",
    "TRY_CAST(age AS BIGINT) >= 30",
    "--chunk-size",
    "4KiB",
];

/// The plain run's output of `STEPS` on `customers()`, the reference for every round trip.
fn plain_output(sb: &Sandbox) -> Vec<u8> {
    sb.write("plain.csv", &customers());
    let o = sb.weir(
        &[
            &["run", "-q", "-i", "plain.csv", "-o", "plain-out.csv"],
            &STEPS[..],
        ]
        .concat(),
    );
    assert_ok(&o);
    sb.read("plain-out.csv")
}

#[test]
fn gzip_input_reads_like_the_plain_file() {
    let sb = Sandbox::new();
    let expected = plain_output(&sb);
    sb.write("in.csv.gz", &gzip(&customers()));
    let o = sb.weir(
        &[
            &[
                "run",
                "-q",
                "-i",
                "in.csv.gz",
                "-o",
                "out.csv",
                "--report",
                "r.json",
            ],
            &STEPS[..],
        ]
        .concat(),
    );
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), &expected);
    let report = sb.read_string("r.json");
    assert_eq!(report_num(&report, "bytes_read"), customers().len() as u64);
    assert_eq!(
        report_num(&report, "compressed_bytes_read"),
        sb.read("in.csv.gz").len() as u64
    );
}

#[test]
fn csv_to_zst_output_round_trips() {
    let sb = Sandbox::new();
    let expected = plain_output(&sb);
    for name in ["out.csv.zst", "out.csv.zstd"] {
        let o = sb.weir(&[&["run", "-q", "-i", "plain.csv", "-o", name], &STEPS[..]].concat());
        assert_ok(&o);
        assert_bytes(&unzstd(&sb.read(name)), &expected);
    }
    // weir's frames carry a checksum, so any damaged byte is found when they are read back.
    let mut damaged = sb.read("out.csv.zst");
    for at in [damaged.len() / 3, damaged.len() / 2, damaged.len() - 5] {
        damaged[at] ^= 0x01;
        assert_fails_cleanly(
            &sb,
            "damaged.csv.zst",
            &damaged,
            &format!("bit flip at {at}"),
        );
        damaged[at] ^= 0x01;
    }
    let o = sb.weir(&[
        "run",
        "-q",
        "-i",
        "plain.csv",
        "-o",
        "plain.json",
        "--report",
        "r.json",
    ]);
    assert_ok(&o);
    assert_eq!(
        report_field(sb.read("r.json"), "compressed_bytes_read"),
        serde_json::Value::Null
    );
}

#[test]
fn zst_input_to_gz_output_and_a_level() {
    let sb = Sandbox::new();
    let expected = plain_output(&sb);
    // The magic decides, not the name: a zstd file called .dat is read as zstd.
    sb.write("in.dat", &zstd(&customers()));
    for level in [None, Some("9"), Some("0")] {
        let mut args = vec![
            "run",
            "-q",
            "-i",
            "in.dat",
            "--format",
            "csv",
            "-o",
            "out.csv.gz",
        ];
        if let Some(l) = level {
            args.extend(["--compression-level", l]);
        }
        let o = sb.weir(&[&args[..], &STEPS[..]].concat());
        assert_ok(&o);
        let stored = sb.read("out.csv.gz");
        assert_eq!(&stored[..2], &[0x1f, 0x8b]);
        assert_bytes(&gunzip(&stored), &expected);
    }
    let o = sb.weir(&[
        "run",
        "-q",
        "-i",
        "in.dat",
        "-o",
        "bad.gz",
        "--compression-level",
        "10",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("out of range"), "{}", stderr(&o));
    assert!(!sb.exists("bad.gz"));
    assert!(sb.temp_files().is_empty());
}

#[test]
fn gzip_on_stdin_and_rejects_compressed() {
    let sb = Sandbox::new();
    let expected = plain_output(&sb);
    // Two members, as `cat a.gz b.gz` makes: read as one stream.
    let data = customers();
    let cut = data.len() / 2;
    let mut gz = gzip(&data[..cut]);
    gz.extend(gzip(&data[cut..]));
    let o = sb.weir_stdin(
        &[
            &["run", "-q", "-i", "-", "--format", "csv", "-o", "-"],
            &STEPS[..],
        ]
        .concat(),
        &gz,
    );
    assert_ok(&o);
    assert_bytes(&o.stdout, &expected);

    let o = sb.weir_stdin(
        &[
            "run",
            "-q",
            "-i",
            "-",
            "--format",
            "csv",
            "-o",
            "o.csv",
            "--rejects",
            "rej.csv.gz",
        ]
        .iter()
        .chain(
            [
                "--filter",
                "CAST(age AS BIGINT) > 0",
                "--derive",
                "x=CAST(note AS INT)",
            ]
            .iter(),
        )
        .copied()
        .collect::<Vec<_>>(),
        &gz,
    );
    assert_ok(&o);
    let rejects = gunzip(&sb.read("rej.csv.gz"));
    assert!(rejects.starts_with(b"file,line,byte_offset"), "{rejects:?}");
    assert_eq!(
        parse_csv(&rejects).len(),
        3001,
        "every record rejected once"
    );
}

#[test]
fn jsonl_gz_round_trip() {
    let sb = Sandbox::new();
    let input = sb.fixture("events.jsonl");
    let o = sb.weir(&["run", "-q", "-i", "events.jsonl", "-o", "plain.jsonl"]);
    assert_ok(&o);
    let expected = sb.read("plain.jsonl");
    sb.write("events.jsonl.gz", &gzip(&input));
    let o = sb.weir(&["run", "-q", "-i", "events.jsonl.gz", "-o", "out.jsonl.gz"]);
    assert_ok(&o);
    assert_bytes(&gunzip(&sb.read("out.jsonl.gz")), &expected);
}

/// Runs weir on a broken compressed input: exit 1, the message names the file and an offset,
/// and neither the output nor a temporary file is left.
fn assert_fails_cleanly(sb: &Sandbox, name: &str, bytes: &[u8], what: &str) {
    sb.write(name, bytes);
    let o = sb.weir(&[
        "run",
        "-i",
        name,
        "--format",
        "csv",
        "-o",
        "out.csv",
        "--rejects",
        "rej.csv",
        "--chunk-size",
        "1KiB",
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{what}: {err}");
    assert!(err.contains(name), "{what}: no file name in {err}");
    assert!(
        err.contains("at compressed byte "),
        "{what}: no offset in {err}"
    );
    assert!(
        !sb.exists("out.csv") && !sb.exists("rej.csv"),
        "{what}: output left"
    );
    assert!(sb.temp_files().is_empty(), "{what}: {:?}", sb.temp_files());
}

#[test]
fn truncated_or_corrupt_input_fails_naming_file_and_offset() {
    let sb = Sandbox::new();
    let data = customers();
    for (kind, bytes) in [("gz", gzip(&data)), ("zst", zstd(&data))] {
        let name = format!("in.csv.{kind}");
        let len = bytes.len();
        for cut in [1, 3, 12, len / 4, len / 2, len - 8, len - 1] {
            assert_fails_cleanly(&sb, &name, &bytes[..cut], &format!("{kind} cut at {cut}"));
        }
        let mut flipped = bytes.clone();
        flipped[len / 2] ^= 0xff;
        assert_fails_cleanly(&sb, &name, &flipped, &format!("{kind} flipped byte"));
        let mut garbage = bytes.clone();
        garbage.extend_from_slice(b"trailing garbage\n");
        assert_fails_cleanly(&sb, &name, &garbage, &format!("{kind} trailing garbage"));
    }
    // A compression extension without the magic bytes.
    assert_fails_cleanly(&sb, "plain.csv.gz", &data, "gz name, plain content");
    assert_fails_cleanly(&sb, "plain.csv.zst", &data, "zst name, plain content");
}

#[test]
fn corrupt_stdin_fails_and_writes_nothing() {
    let sb = Sandbox::new();
    let gz = gzip(&customers());
    let o = sb.weir_stdin(
        &["run", "-i", "-", "--format", "csv", "-o", "out.csv"],
        &gz[..gz.len() / 2],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("gzip input is corrupt or truncated at compressed byte"));
    assert!(!sb.exists("out.csv"));
    assert!(sb.temp_files().is_empty());
}

#[test]
fn several_compressed_inputs_read_as_one_stream() {
    let sb = Sandbox::new();
    let data = customers();
    let header_end = data.iter().position(|&b| b == b'\n').unwrap() + 1;
    // Split on a record boundary that is not inside a quoted field: after a line whose note
    // is plain (i % 5 >= 2).
    let mid = data
        .windows(7)
        .position(|w| w == b"\n1500, ")
        .expect("record 1500")
        + 1;
    let mut second = data[..header_end].to_vec();
    second.extend_from_slice(&data[mid..]);
    sb.write("a.csv.gz", &gzip(&data[..mid]));
    sb.write("b.csv.zst", &zstd(&second));
    sb.write("all.csv", &data);
    let o = sb.weir(&["run", "-q", "-i", "all.csv", "-o", "expected.csv"]);
    assert_ok(&o);
    let o = sb.weir(&[
        "run",
        "-q",
        "-i",
        "a.csv.gz",
        "-i",
        "b.csv.zst",
        "-o",
        "out.csv",
        "--report",
        "r.json",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), &sb.read("expected.csv"));
    let stored = sb.read("a.csv.gz").len() + sb.read("b.csv.zst").len();
    assert_eq!(
        report_num(sb.read("r.json"), "compressed_bytes_read"),
        stored as u64
    );
}

#[test]
fn pipeline_file_sets_the_compression_level() {
    let sb = Sandbox::new();
    sb.write("in.csv", &customers());
    sb.write(
        "p.toml",
        b"input = \"in.csv\"\noutput = \"out.csv.zst\"\n[options]\ncompression_level = 19\n",
    );
    let o = sb.weir(&["run", "-q", "p.toml"]);
    assert_ok(&o);
    assert_bytes(&unzstd(&sb.read("out.csv.zst")), &customers());
    sb.write(
        "bad.toml",
        b"input = \"in.csv\"\noutput = \"bad.csv.zst\"\n[options]\ncompression_level = 30\n",
    );
    let o = sb.weir(&["run", "-q", "bad.toml"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(!sb.exists("bad.csv.zst"));
    assert!(sb.temp_files().is_empty());
}

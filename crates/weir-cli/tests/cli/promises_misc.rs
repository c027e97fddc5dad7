//! "Nothing overwritten, nothing lost, nothing silently changed": a stop that stops while an
//! input is being opened, inputs in formats weir cannot read refused by name (never read as
//! text), an output's file mode kept, a dedupe key limit that is a run failure within its
//! documented memory, and a resumed run that notices its partial output was edited.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::thread::sleep;
use std::time::Duration;

use crate::support::*;

/// `bytes` written out as hex.
fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Makes a named pipe `name` in the sandbox.
fn mkfifo(sb: &Sandbox, name: &str) {
    let path = CString::new(sb.join(name).as_os_str().as_bytes()).expect("no NUL");
    // SAFETY: mkfifo(3) with a valid NUL-terminated path and a mode.
    let rc = unsafe { libc::mkfifo(path.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

// ---- item 10: opening an input never blocks a stop ----------------------------------------

#[test]
fn a_fifo_with_no_writer_times_out_with_124_and_leaves_nothing() {
    let sb = Sandbox::new();
    mkfifo(&sb, "in.csv");
    let mut child = sb.spawn(&[
        "run",
        "--input",
        "in.csv",
        "--output",
        "out.csv",
        "--timeout",
        "1s",
    ]);
    let (got, waited) = wait_at_most(&mut child, Duration::from_secs(10));
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(124), "stderr: {err}");
    assert!(waited < Duration::from_millis(2500), "took {waited:?}");
    assert!(err.contains("timed out"), "{err}");
    assert_eq!(sb.names(), ["in.csv"], "nothing written");
}

#[test]
fn a_fifo_with_no_writer_stops_on_the_first_ctrl_c_with_130() {
    let sb = Sandbox::new();
    mkfifo(&sb, "in.csv");
    let mut child = sb.spawn(&["run", "--input", "in.csv", "--output", "out.csv"]);
    sleep(Duration::from_millis(500));
    send_signal(&child, libc::SIGINT);
    let (got, waited) = wait_at_most(&mut child, Duration::from_secs(10));
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(130), "stderr: {err}");
    assert!(waited < Duration::from_millis(1500), "took {waited:?}");
    assert!(err.contains("INTERRUPTED"), "{err}");
    assert_eq!(sb.names(), ["in.csv"], "nothing written");
}

#[test]
fn a_fifo_is_read_once_its_writer_comes() {
    let sb = Sandbox::new();
    mkfifo(&sb, "in.csv");
    let child = sb.spawn(&["run", "--input", "in.csv", "--output", "out.csv"]);
    sleep(Duration::from_millis(300));
    std::fs::write(sb.join("in.csv"), b"a,b\n1,2\n3,4\n").expect("write the pipe");
    let out = child.wait_with_output().expect("wait");
    assert_ok(&out);
    assert_bytes(&sb.read("out.csv"), b"a,b\n1,2\n3,4\n");
}

#[test]
fn resume_refuses_a_fifo_without_waiting_for_a_writer() {
    let sb = Sandbox::new();
    mkfifo(&sb, "in.csv");
    let mut child = sb.spawn(&[
        "run", "--input", "in.csv", "--output", "out.csv", "--resume",
    ]);
    let (got, _) = wait_at_most(&mut child, Duration::from_secs(10));
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(2), "stderr: {err}");
    assert!(
        err.contains("--resume needs input files: in.csv is not a regular file"),
        "{err}"
    );
    assert_eq!(sb.names(), ["in.csv"], "nothing written");
}

// ---- item 11: what weir cannot read is refused by name ------------------------------------

/// A zstd skippable frame (magic 0x184D2A53) holding `meta`.
fn skippable_frame(meta: &[u8]) -> Vec<u8> {
    let mut f = vec![0x53, 0x2a, 0x4d, 0x18];
    f.extend_from_slice(&u32::try_from(meta.len()).unwrap().to_le_bytes());
    f.extend_from_slice(meta);
    f
}

#[test]
fn zstd_that_begins_with_a_skippable_frame_is_read_whatever_its_name() {
    let data = b"a,b\n1,2\n3,4\n";
    let mut zst = skippable_frame(b"written by a tool that tags its frames");
    zst.extend(zstd::encode_all(&data[..], 3).unwrap());
    // A skippable frame between two frames, and one at the end.
    zst.extend(skippable_frame(b""));
    zst.extend(zstd::encode_all(&b"5,6\n"[..], 3).unwrap());
    zst.extend(skippable_frame(b"trailer"));
    for name in ["in.csv.zst", "in.csv"] {
        let sb = Sandbox::new();
        sb.write(name, &zst);
        let out = sb.weir(&["run", "--input", name, "--output", "out.csv"]);
        assert_ok(&out);
        assert_bytes(&sb.read("out.csv"), b"a,b\n1,2\n3,4\n5,6\n");
    }
    // Nothing but a skippable frame is an empty stream, as `zstd -dc` reads it.
    let sb = Sandbox::new();
    sb.write("in.csv.zst", &skippable_frame(b"x"));
    let out = sb.weir(&["run", "--input", "in.csv.zst", "--output", "out.csv"]);
    assert_ok(&out);
    assert_bytes(&sb.read("out.csv"), b"");
    // A skippable frame that ends early is corrupt input, said where.
    let sb = Sandbox::new();
    sb.write("in.csv", &skippable_frame(b"0123456789")[..12]);
    let out = sb.weir(&["run", "--input", "in.csv", "--output", "out.csv"]);
    assert_fails(
        &out,
        1,
        "error reading in.csv: zstd input is corrupt or truncated at compressed byte 0: a \
         skippable frame ends early",
    );
    assert_eq!(sb.names(), ["in.csv"]);
}

/// UTF-16 (or 32) text of `s`, little or big endian, with or without a byte order mark.
fn utf16(s: &str, big: bool, bom: bool) -> Vec<u8> {
    let units = (bom.then_some(0xfeff)).into_iter().chain(s.encode_utf16());
    units
        .flat_map(|u| {
            if big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn utf32(s: &str, big: bool, bom: bool) -> Vec<u8> {
    let chars = (bom.then_some(0xfeff))
        .into_iter()
        .chain(s.chars().map(u32::from));
    chars
        .flat_map(|c| {
            if big {
                c.to_be_bytes()
            } else {
                c.to_le_bytes()
            }
        })
        .collect()
}

#[test]
fn inputs_weir_cannot_read_are_refused_naming_the_format_never_read_as_text() {
    let text = "id,name,city\n1,Ada,London\n2,Grace,Arlington\n3,Linus,Helsinki\n\
                4,Margaret,Boston\n5,Edsger,Nuenen\n6,Barbara,Boston\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "xz",
            unhex("fd377a585a000004e6d6b4460200210116000000742fe5a3010007612c620a312c320a00be9cbd49b5122afe00012008bb19d9bb1fb6f37d010000000004595a"),
            "the content is xz-compressed data (magic FD 37 7A 58 5A 00), which weir cannot read; weir reads plain, gzip and zstd input: decompress it first",
        ),
        (
            "bzip2",
            unhex("425a6839314159265359bf87407f00000359000010000430003000200030c00869b28823278bb9229c28485fc3a03f80"),
            "the content is bzip2-compressed data (magic BZh), which weir cannot read",
        ),
        (
            "lz4",
            unhex("04224d186440a708000080612c620a312c320a000000000ed97998"),
            "the content is LZ4-compressed data (magic 04 22 4D 18), which weir cannot read",
        ),
        (
            "lz4 legacy",
            unhex("02214c180900000080612c620a312c320a"),
            "the content is LZ4-compressed data (legacy magic 02 21 4C 18)",
        ),
        (
            "zip",
            unhex("504b03041400000000000c79875d7b07970a080000000800000006000000696e2e637376612c620a312c320a504b010214031400000000000c79875d7b07970a0800000008000000060000000000000000000000800100000000696e2e637376504b05060000000001000100340000002c0000000000"),
            "the content is a zip archive (magic PK 03 04), which weir cannot read; extract it first",
        ),
        ("utf-16le bom", utf16(text, false, true), "the content is UTF-16LE text (byte order mark FF FE), which weir cannot read; weir reads UTF-8 text"),
        ("utf-16be bom", utf16(text, true, true), "the content is UTF-16BE text (byte order mark FE FF)"),
        ("utf-32le bom", utf32(text, false, true), "the content is UTF-32LE text (byte order mark FF FE 00 00)"),
        ("utf-32be bom", utf32(text, true, true), "the content is UTF-32BE text (byte order mark 00 00 FE FF)"),
        ("utf-16le", utf16(text, false, false), "the content is UTF-16LE text without a byte order mark (every second byte is NUL)"),
        ("utf-16be", utf16(text, true, false), "the content is UTF-16BE text without a byte order mark (every second byte is NUL)"),
        ("utf-32le", utf32(text, false, false), "the content is UTF-32LE text without a byte order mark"),
        // Compressed UTF-16: the decoded text is checked too.
        ("gzip of utf-16le", gzip(&utf16(text, false, false)), "the content is UTF-16LE text without a byte order mark"),
        ("zstd of utf-16le bom", zstd::encode_all(&utf16(text, false, true)[..], 3).unwrap(), "the content is UTF-16LE text (byte order mark FF FE)"),
    ];
    for (case, bytes, message) in &cases {
        for (name, format) in [
            ("in.csv", "csv"),
            ("in.jsonl", "jsonl"),
            ("in.txt", "lines"),
        ] {
            let sb = Sandbox::new();
            sb.write(name, bytes);
            let out = sb.weir(&[
                "run", "--input", name, "--format", format, "--output", "out.csv",
            ]);
            let case = format!("{case} as {name}");
            assert_fails_in(&case, &out, 1, &format!("error reading {name}: {message}"));
            assert_eq!(sb.names(), [name], "{case}: nothing written");
        }
    }
    // Text that merely starts like a magic number is text.
    let sb = Sandbox::new();
    sb.write("in.csv", b"PAR1,BZh9\n1,2\n");
    let out = sb.weir(&["run", "--input", "in.csv", "--output", "out.csv"]);
    assert_ok(&out);
    assert_bytes(&sb.read("out.csv"), b"PAR1,BZh9\n1,2\n");
}

#[test]
fn a_parquet_file_as_input_is_refused_naming_parquet() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"a,b\n1,2\n");
    assert_ok(&sb.weir(&["run", "--input", "in.csv", "--output", "t.parquet"]));
    let parquet = sb.read("t.parquet");
    for name in ["t.parquet", "t.csv"] {
        std::fs::write(sb.join(name), &parquet).unwrap();
        let out = sb.weir(&[
            "run", "--input", name, "--format", "csv", "--output", "out.csv",
        ]);
        assert_fails(
            &out,
            1,
            &format!(
                "error reading {name}: the content is a Parquet file (magic PAR1), which weir \
                 cannot read; weir reads CSV, TSV, JSON Lines and lines (Parquet only as output)"
            ),
        );
        assert!(!sb.exists("out.csv"));
    }
    assert_eq!(sb.names(), ["in.csv", "t.csv", "t.parquet"]);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

// ---- item 12: an output's mode kept; a key limit that is a run failure in bounded memory ---

fn mode(sb: &Sandbox, name: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(sb.join(name))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn set_mode(sb: &Sandbox, name: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sb.join(name), std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_replaced_output_keeps_its_file_mode_and_a_new_one_gets_the_umask_default() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"a,b\n1,x\n2,y\n");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--input", "in.csv", "--output", "out.csv"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--rejects", "rej.csv", "--filter", "a > 1"]);
        sb.weir(&args)
    };
    assert_ok(&run(&[]));
    let default = mode(&sb, "out.csv");
    assert_eq!(mode(&sb, "rej.csv"), default);
    for (out_mode, rej_mode) in [(0o600, 0o640), (0o640, 0o600), (0o444, 0o604)] {
        set_mode(&sb, "out.csv", out_mode);
        set_mode(&sb, "rej.csv", rej_mode);
        assert_ok(&run(&[]));
        assert_eq!(mode(&sb, "out.csv"), out_mode, "{out_mode:o}");
        assert_eq!(mode(&sb, "rej.csv"), rej_mode, "{rej_mode:o}");
        assert_bytes(&sb.read("out.csv"), b"a,b\n2,y\n");
        assert_bytes(
            &sb.read("rej.csv"),
            b"file,line,byte_offset,field,error,message,record\n",
        );
    }
    // A resumable run's commit (its partial renamed into place) keeps the mode too.
    set_mode(&sb, "out.csv", 0o600);
    assert_ok(&run(&["--resume"]));
    assert_eq!(mode(&sb, "out.csv"), 0o600);
    assert_bytes(&sb.read("out.csv"), b"a,b\n2,y\n");
    assert_eq!(sb.temp_files(), Vec::<String>::new());
}

/// `n` one-column records; `distinct` of them different.
fn keys(n: usize, distinct: usize) -> Vec<u8> {
    let mut v = b"id\n".to_vec();
    for i in 0..n {
        v.extend_from_slice(format!("{}\n", i % distinct).as_bytes());
    }
    v
}

#[test]
fn a_dedupe_past_its_key_limit_is_a_run_failure_exit_1_with_nothing_written() {
    let sb = Sandbox::new();
    sb.write("in.csv", &keys(5000, 5000));
    let out = sb.weir(&[
        "run",
        "--input",
        "in.csv",
        "--output",
        "out.csv",
        "--dedupe",
        "--dedupe-max-keys",
        "1000",
        "--report",
        "report.json",
    ]);
    assert_fails(
        &out,
        1,
        "weir: error: dedupe: more than 1000 distinct keys (at line 1002), its bound (raise it \
         with the step's max_keys or --dedupe-max-keys; about 28 bytes of memory per key)",
    );
    // A run failure writes its report (a usage error would not).
    assert_eq!(sb.names(), ["in.csv", "report.json"]);
    assert_eq!(report_field(sb.read("report.json"), "status"), "failed");
}

#[test]
fn a_dedupe_holds_at_most_32_bytes_per_distinct_key() {
    // The same records, once with 10 keys and once all distinct: the difference in peak RSS
    // is what the keys cost. Small chunks, so the batches in flight are a small constant.
    let n = 2_000_000;
    let per_key = |distinct: usize| {
        let sb = Sandbox::new();
        sb.write("in.csv", &keys(n, distinct));
        let m = sb.weir_measured(
            &[
                "run",
                "--input",
                "in.csv",
                "--output",
                "out.csv",
                "--dedupe",
                "--dedupe-max-keys",
                "3000000",
                "--chunk-size",
                "64KiB",
            ],
            None,
        );
        assert_ok(&m.output);
        let out = sb.read("out.csv");
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), distinct + 1);
        m.peak_rss
    };
    let (few, all) = (per_key(10), per_key(n));
    let bytes_per_key = all.saturating_sub(few) as f64 / n as f64;
    assert!(
        bytes_per_key <= 32.0,
        "{bytes_per_key:.1} bytes per key ({few} -> {all} bytes peak)"
    );
}

// ---- item 12: --resume notices a partial output edited since its checkpoint -----------------

#[test]
fn resume_refuses_a_partial_output_edited_since_the_checkpoint() {
    let sb = Sandbox::new();
    let mut input = b"id,v\n".to_vec();
    for i in 0..200_000 {
        input.extend_from_slice(format!("{i},{}\n", i % 97).as_bytes());
    }
    sb.write("in.csv", &input);
    let args = [
        "run",
        "-q",
        "--input",
        "in.csv",
        "--output",
        "out.csv",
        "--rejects",
        "rej.csv",
        "--resume",
        "--checkpoint-every",
        "0s",
        "--chunk-size",
        "4096",
        "--filter",
        "v > 0",
    ];
    // Stop it partway (a time limit), leaving partial files and a checkpoint.
    let mut stopped: Vec<&str> = args.to_vec();
    stopped.extend(["--timeout", "300ms"]);
    let o = sb.weir(&stopped);
    assert_eq!(code(&o), 124, "{}", stderr(&o));
    let partial = sb.read(".out.csv.weir-partial");
    assert!(partial.len() > 100, "some output committed");
    // One byte changed inside what the checkpoint counts.
    let mut bad = partial.clone();
    bad[50] = if bad[50] == b'7' { b'3' } else { b'7' };
    sb.write(".out.csv.weir-partial", &bad);
    let o = sb.weir(&args);
    let err = assert_fails(&o, 2, "cannot resume from .out.csv.weir-checkpoint: .out.csv.weir-partial was changed since the checkpoint was taken (its first ");
    assert!(err.contains("run without --resume to start over"), "{err}");
    assert!(!sb.exists("out.csv"));
    assert_bytes(&sb.read(".out.csv.weir-partial"), &bad);
    // Put back, it resumes and finishes as an uninterrupted run would.
    sb.write(".out.csv.weir-partial", &partial);
    assert_ok(&sb.weir(&args));
    let mut want = b"id,v\n".to_vec();
    for i in 0..200_000 {
        if i % 97 != 0 {
            want.extend_from_slice(format!("{i},{}\n", i % 97).as_bytes());
        }
    }
    assert_bytes(&sb.read("out.csv"), &want);
}

#[test]
fn an_output_fifo_with_no_reader_times_out_with_124_and_stops_on_ctrl_c_with_130() {
    for (extra, sig, want) in [
        (&["--timeout", "1s"][..], None, 124),
        (&[][..], Some(libc::SIGINT), 130),
    ] {
        let sb = Sandbox::new();
        sb.write("in.csv", b"a,b\n1,2\n");
        mkfifo(&sb, "out.csv");
        let mut args = vec!["run", "--input", "in.csv", "--output", "out.csv"];
        args.extend_from_slice(extra);
        let mut child = sb.spawn(&args);
        if let Some(sig) = sig {
            sleep(Duration::from_millis(500));
            send_signal(&child, sig);
        }
        let (got, waited) = wait_at_most(&mut child, Duration::from_secs(10));
        let err = read_stderr(&mut child);
        assert_eq!(got, Some(want), "stderr: {err}");
        assert!(waited < Duration::from_millis(2500), "took {waited:?}");
        assert_eq!(sb.names(), ["in.csv", "out.csv"], "nothing else written");
    }
}

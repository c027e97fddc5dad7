//! Nothing the user has is overwritten or lost: no path a run writes is one of its inputs or
//! another of its outputs, however it is spelled; the output, the rejects and the report
//! appear together or none changes; a killed run's commit is finished by the next run.

use std::process::Command;

use crate::support::*;

const INPUT: &[u8] = b"id,name\n1,a\nx,b\n20,c\n";
const SCHEMA: &[u8] = br#"{"fields":[{"name":"id","type":"integer"},{"name":"name"}]}"#;

/// A sandbox holding `in.csv`, a folder `sub`, a link to the folder (`sub/up`), a symbolic
/// link and a hard link to the input, and a schema.
fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("in.csv", INPUT);
    sb.write("schema.json", SCHEMA);
    std::fs::create_dir(sb.join("sub")).unwrap();
    std::os::unix::fs::symlink(sb.path(), sb.join("sub/up")).unwrap();
    std::os::unix::fs::symlink(sb.join("in.csv"), sb.join("link.csv")).unwrap();
    std::fs::hard_link(sb.join("in.csv"), sb.join("hard.csv")).unwrap();
    sb
}

/// The sandbox's files and their bytes (links read through).
fn snapshot(sb: &Sandbox) -> Vec<(String, Vec<u8>)> {
    sb.names()
        .into_iter()
        .filter(|n| sb.join(n).is_file())
        .map(|n| {
            let bytes = sb.read(&n);
            (n, bytes)
        })
        .collect()
}

#[test]
fn every_spelling_of_the_input_is_refused_as_output_rejects_and_report() {
    let sb = sandbox();
    let abs = sb.join("in.csv").display().to_string();
    let before = snapshot(&sb);
    for spelling in [
        "./in.csv",
        abs.as_str(),
        "sub/../in.csv",
        "sub/up/in.csv",
        ".//in.csv",
        "link.csv",
        "hard.csv",
    ] {
        for (flag, role) in [
            ("-o", "output"),
            ("--rejects", "rejects"),
            ("--report", "report"),
        ] {
            let mut args = vec!["run", "-i", "in.csv", "--filter", "id < 10"];
            if flag != "-o" {
                args.extend(["-o", "out.csv"]);
            }
            args.extend([flag, spelling]);
            let o = sb.weir(&args);
            let case = format!("{flag} {spelling}");
            assert_fails_in(&case, &o, 2, &format!("the {role} would replace the input"));
            assert!(o.stdout.is_empty(), "{case}");
            assert_eq!(snapshot(&sb), before, "{case}: every file as it was");
        }
    }
    // The input named through a link, the output as the file itself.
    let o = sb.weir(&["run", "-i", "link.csv", "-o", "in.csv"]);
    assert_fails(&o, 2, "the output would replace the input link.csv");
    assert_eq!(snapshot(&sb), before);
}

#[test]
fn a_file_on_standard_input_is_refused_as_the_output() {
    let sb = sandbox();
    let before = snapshot(&sb);
    let o = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "-i", "-", "--format", "csv", "-o", "in.csv"])
        .current_dir(sb.path())
        .stdin(std::fs::File::open(sb.join("in.csv")).unwrap())
        .output()
        .unwrap();
    assert_fails(&o, 2, "the output in.csv is the file standard input reads");
    assert_eq!(snapshot(&sb), before);
}

#[test]
fn two_outputs_on_one_file_are_refused() {
    let sb = sandbox();
    sb.write("o.csv", b"precious\n");
    let before = snapshot(&sb);
    for (args, text) in [
        (
            &["-o", "o.csv", "--report", "o.csv"][..],
            "the output and the report are the same file (o.csv)",
        ),
        (
            &["-o", "o.csv", "--rejects", "./o.csv"][..],
            "the output and the rejects are the same file (o.csv and ./o.csv)",
        ),
        (
            &[
                "-o",
                "new.csv",
                "--rejects",
                "r.csv",
                "--report",
                "sub/../r.csv",
            ][..],
            "the rejects and the report are the same file",
        ),
        (
            &["-o", "-", "--rejects", "-"][..],
            "the output and the rejects both go to standard output",
        ),
        (
            &["-o", "-", "--report", "-"][..],
            "the output and the report both go to standard output",
        ),
        (
            &["-o", "o2.csv", "--rejects", "-", "--report", "-"][..],
            "the rejects and the report both go to standard output",
        ),
    ] {
        let mut all = vec!["run", "-i", "in.csv", "--schema", "schema.json"];
        all.extend_from_slice(args);
        let o = sb.weir(&all);
        assert_fails_in(&args.join(" "), &o, 2, text);
        assert!(o.stdout.is_empty());
        assert_eq!(snapshot(&sb), before, "{args:?}");
    }
}

#[test]
fn the_report_can_go_to_standard_output() {
    let sb = sandbox();
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--schema",
        "schema.json",
        "--report",
        "-",
        "-q",
    ]);
    assert_ok(&o);
    let report = report(&o.stdout);
    assert_eq!(report["status"], "succeeded");
    assert_eq!(report["records_rejected"], 1);
    assert!(!sb.exists("-"), "no file named -");
    assert_bytes(&sb.read("out.csv"), b"id,name\n1,a\n20,c\n");
}

#[test]
fn an_input_pattern_never_reads_the_runs_own_outputs() {
    let sb = Sandbox::new();
    sb.write("a.csv", b"id\n1\n");
    sb.write("b.csv", b"id\n2\n");
    let args = [
        "run",
        "-i",
        "*.csv",
        "-o",
        "all.csv",
        "--rejects",
        "rej.csv",
        "-q",
    ];
    assert_ok(&sb.weir(&args));
    assert_bytes(&sb.read("all.csv"), b"id\n1\n2\n");
    // Again: all.csv and rej.csv now match the pattern, and are still not read.
    assert_ok(&sb.weir(&args));
    assert_bytes(&sb.read("all.csv"), b"id\n1\n2\n");
    assert_bytes(
        &sb.read("rej.csv"),
        b"file,line,byte_offset,field,error,message,record\n",
    );
    // Nor are weir's own hidden files beside an output (a dead run's temporary file).
    sb.write(".all.csv.weir-999999999-0.tmp", b"id\n3\n");
    let o = sb.weir(&["run", "-i", ".*", "-o", "x.csv", "-q"]);
    assert_fails(&o, 2, "no file matches the input pattern '.*'");
    // A pattern that matches only the output is no input at all.
    let o = sb.weir(&["run", "-i", "al*.csv", "-o", "all.csv"]);
    assert_fails(&o, 2, "no file matches the input pattern 'al*.csv'");
    assert_bytes(&sb.read("all.csv"), b"id\n1\n2\n");
}

/// Feeds a header and two records, waits, lets `mid` change the sandbox, then feeds a third:
/// the run is between its start and its commit while `mid` runs.
fn run_with_pause(sb: &Sandbox, args: &[&str], mid: impl FnOnce()) -> std::process::Output {
    sb.weir_paused(args, b"id,name\n1,a\nx,b\n", mid, b"3,c\n")
}

/// A run reading standard input to `out`, its rejects to `rej.csv`, then `extra`.
fn stdin_run<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "-i",
        "-",
        "--format",
        "csv",
        "-o",
        out,
        "--rejects",
        "rej.csv",
        "--schema",
        "schema.json",
    ];
    args.extend_from_slice(extra);
    args
}

/// Makes `name` a folder that is not empty, where a file was.
fn make_folder(sb: &Sandbox, name: &str) {
    std::fs::remove_file(sb.join(name)).unwrap();
    std::fs::create_dir_all(sb.join(name).join("x")).unwrap();
}

#[test]
fn an_output_that_cannot_be_committed_leaves_the_old_rejects_in_place() {
    let sb = sandbox();
    sb.write("rej.csv", b"old rejects\n");
    sb.write("out.csv", b"old output\n");
    // The output's path becomes a folder that is not empty while the run goes on.
    let o = run_with_pause(&sb, &stdin_run("out.csv", &[]), || {
        make_folder(&sb, "out.csv")
    });
    assert_fails(&o, 1, "cannot write out.csv");
    assert_bytes(&sb.read("rej.csv"), b"old rejects\n");
    assert!(sb.join("out.csv/x").is_dir());
    assert_eq!(sb.temp_files(), Vec::<String>::new());
    assert_eq!(
        sb.hidden(),
        Vec::<String>::new(),
        "no backup or journal left"
    );

    // The same with the output's folder removed: nothing of the run appears anywhere.
    let sb = sandbox();
    std::fs::create_dir(sb.join("d")).unwrap();
    sb.write("rej.csv", b"old rejects\n");
    let o = run_with_pause(&sb, &stdin_run("d/out.csv", &[]), || {
        std::fs::remove_dir_all(sb.join("d")).unwrap()
    });
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_bytes(&sb.read("rej.csv"), b"old rejects\n");
    assert_eq!(sb.temp_files(), Vec::<String>::new());
}

#[test]
fn a_failed_run_writes_its_report_alone_and_keeps_output_and_rejects() {
    let sb = sandbox();
    sb.write("rej.csv", b"old rejects\n");
    sb.write("out.csv", b"old output\n");
    sb.write("report.json", b"old report\n");
    let args = stdin_run("out.csv", &["--report", "report.json"]);
    let o = run_with_pause(&sb, &args, || make_folder(&sb, "out.csv"));
    assert_fails(&o, 1, "cannot write out.csv");
    assert_bytes(&sb.read("rej.csv"), b"old rejects\n");
    let report = report(sb.read("report.json"));
    assert_eq!(report["status"], "failed");
    assert!(report["error"]
        .as_str()
        .unwrap()
        .contains("cannot write out.csv"));
}

#[test]
fn a_commit_killed_between_its_renames_is_undone_by_the_next_run() {
    let sb = sandbox();
    let pid = dead_pid();
    // What a SIGKILL between the rejects' rename and the output's leaves: the new rejects in
    // place, the old ones as a backup, the output's finished temporary file, and the journal.
    sb.write("rej.csv", b"new rejects\n");
    sb.write(&format!(".rej.csv.weir-{pid}-0.old"), b"old rejects\n");
    sb.write("out.csv", b"old output\n");
    sb.write(&format!(".out.csv.weir-{pid}-1.tmp"), b"new output\n");
    sb.write_commit_journal(
        "out.csv",
        pid,
        &[
            (
                "rej.csv",
                &format!(".rej.csv.weir-{pid}-2.tmp"),
                Some(&format!(".rej.csv.weir-{pid}-0.old")),
                None,
            ),
            (
                "out.csv",
                &format!(".out.csv.weir-{pid}-1.tmp"),
                None,
                Some("file"),
            ),
        ],
    );
    // The next run to the same output puts the old rejects back before it reads; this one then
    // fails on its input (a usage error: the input is not there), so what it found is what
    // stays.
    let o = sb.weir(&[
        "run",
        "-i",
        "absent.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rej.csv",
    ]);
    assert_fails(&o, 2, "cannot open input absent.csv: no such file");
    assert_bytes(&sb.read("rej.csv"), b"old rejects\n");
    assert_bytes(&sb.read("out.csv"), b"old output\n");
    assert_eq!(
        sb.hidden(),
        Vec::<String>::new(),
        "backup, temporary file and journal gone"
    );
}

#[test]
fn dead_runs_temporary_files_are_swept_and_live_ones_kept() {
    let sb = sandbox();
    let dead = format!(".out.csv.weir-{}-0.tmp", dead_pid());
    let dead_rejects = format!(".rej.csv.weir-{}-4.tmp", dead_pid());
    // A live process's (this test's) temporary file: another run writing the same output.
    let live = format!(".out.csv.weir-{}-0.tmp", std::process::id());
    for n in [&dead, &dead_rejects, &live] {
        sb.write(n, b"partial\n");
    }
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rej.csv",
        "-q",
    ]);
    assert_ok(&o);
    assert!(!sb.exists(&dead) && !sb.exists(&dead_rejects));
    assert!(sb.exists(&live));
}

#[test]
fn a_private_output_is_never_readable_by_others_while_it_is_rewritten() {
    use std::os::unix::fs::PermissionsExt;
    let sb = sandbox();
    sb.write("out.csv", b"secret\n");
    std::fs::set_permissions(sb.join("out.csv"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let args = [
        "run",
        "-i",
        "-",
        "--format",
        "csv",
        "-o",
        "out.csv",
        "--schema",
        "schema.json",
    ];
    let mut seen = Vec::new();
    let o = run_with_pause(&sb, &args, || {
        for t in sb.temp_files() {
            seen.push(std::fs::metadata(sb.join(&t)).unwrap().permissions().mode() & 0o777);
        }
    });
    assert_ok(&o);
    assert_eq!(seen, [0o600], "the temporary file, while the run writes it");
    let mode = std::fs::metadata(sb.join("out.csv"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

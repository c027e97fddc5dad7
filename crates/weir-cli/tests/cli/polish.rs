//! The command line around the runs: help with examples, completions, the man page, logging.

use crate::support::*;

#[test]
fn every_subcommand_has_help_with_examples() {
    let sb = Sandbox::new();
    for sub in [
        &["run"][..],
        &["explain"],
        &["demo"],
        &["schema", "infer"],
        &["completions"],
        &["man"],
    ] {
        let mut args = sub.to_vec();
        args.push("--help");
        let o = sb.weir(&args);
        assert_ok(&o);
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(
            text.contains("Example"),
            "{sub:?} --help has no example:\n{text}"
        );
    }
}

#[test]
fn completions_and_man_page_come_from_the_same_definitions() {
    let sb = Sandbox::new();
    let o = sb.weir(&["completions", "bash"]);
    assert_ok(&o);
    let bash = String::from_utf8(o.stdout).unwrap();
    assert!(
        bash.contains("--max-record-size") && bash.contains("explain"),
        "bash completion"
    );
    let o = sb.weir(&["man"]);
    assert_ok(&o);
    let man = String::from_utf8(o.stdout).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH weir"),
        "roff: {}",
        &man[..man.len().min(200)]
    );
    assert!(man.contains("completions"));
}

#[test]
fn verbose_logs_go_to_stderr_and_data_stays_alone_on_stdout() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"a,b\n1,2\n");
    let o = sb.weir(&["-vv", "run", "-i", "in.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"a,b\n1,2\n");
    let err = stderr(&o);
    assert!(
        err.contains("run starts on in.csv") && err.contains("outputs committed"),
        "{err}"
    );
    let o = sb.weir(&["run", "-i", "in.csv", "-q"]);
    assert!(
        o.stderr.is_empty(),
        "quiet and not verbose: nothing on stderr"
    );
}

//! Inputs where users put them: data files as FILE arguments, several inputs after one `-i`
//! (what a shell's `logs/*.csv` expands to), standard input read when data is piped in and no
//! input is named, YAML pipeline files; the summary naming where things went; paths in a
//! pipeline file relative to it, paths on the command line relative to the current folder.

use std::fs::File;
use std::process::{Command, Output, Stdio};

use crate::support::*;

const A: &[u8] = b"id,v\n1,a\n2,b\n";
const B: &[u8] = b"id,v\n3,c\n";
const C: &[u8] = b"id,v\n4,d\n5,e\n";

fn abc() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("a.csv", A);
    sb.write("b.csv", B);
    sb.write("c.csv", C);
    sb
}

/// Runs `weir args...` in the sandbox with standard input from `stdin`.
fn weir_from(sb: &Sandbox, args: &[&str], stdin: Stdio) -> Output {
    Command::new(WEIR)
        .args(args)
        .current_dir(sb.path())
        .stdin(stdin)
        .output()
        .expect("run weir")
}

#[test]
fn a_data_file_given_as_an_argument_is_the_input_not_a_pipeline() {
    let sb = abc();
    // Was "TOML parse error at line 1": the CSV was read as a pipeline file.
    let o = sb.weir(&["run", "a.csv", "-o", "x.parquet", "--report", "r.json"]);
    assert_ok(&o);
    assert!(sb.read("x.parquet").starts_with(b"PAR1"));
    let report = sb.read_string("r.json");
    assert_eq!(report_num(&report, "records_written"), 2);
    assert_eq!(report_field(&report, "input"), "a.csv");
    let o = sb.weir(&["run", "a.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, A);
}

#[test]
fn several_inputs_after_one_flag_are_read_in_order_as_the_shell_expands_them() {
    let sb = abc();
    // `weir run -i *.csv -o all.csv`, unquoted: the shell passes every name after -i.
    let o = sb.weir(&[
        "run", "-i", "c.csv", "a.csv", "b.csv", "-o", "all.csv", "-q",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("all.csv"), b"id,v\n4,d\n5,e\n1,a\n2,b\n3,c\n");
    // The same as FILE arguments.
    let o = sb.weir(&["run", "b.csv", "a.csv", "-o", "all.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("all.csv"), b"id,v\n3,c\n1,a\n2,b\n");
}

#[test]
fn file_arguments_and_input_flags_keep_the_order_typed() {
    let sb = abc();
    let o = sb.weir(&[
        "run", "c.csv", "-i", "a.csv", "-o", "out.csv", "b.csv", "-q",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), b"id,v\n4,d\n5,e\n1,a\n2,b\n3,c\n");
    let o = sb.weir(&["run", "-i", "b.csv", "-q", "c.csv", "-i", "a.csv"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id,v\n3,c\n4,d\n5,e\n1,a\n2,b\n");
}

#[test]
fn a_pipeline_file_is_found_among_the_arguments_wherever_it_is() {
    let sb = abc();
    sb.write("p.toml", b"[[transform]]\nfilter = \"v <> 'c'\"\n");
    for args in [
        &["run", "a.csv", "p.toml", "b.csv", "-q"][..],
        &["run", "p.toml", "a.csv", "b.csv", "-q"][..],
        // Typed as a list after -i (`-i *.csv p.toml`): still the pipeline file.
        &["run", "-i", "a.csv", "b.csv", "p.toml", "-q"][..],
    ] {
        let o = sb.weir(args);
        assert_ok(&o);
        assert_bytes(&o.stdout, b"id,v\n1,a\n2,b\n");
    }
    // The value right after -i is an input whatever its name: a .toml file read as data.
    sb.write("data.toml", b"k\nx = 1\n");
    let o = sb.weir(&["run", "-i", "data.toml", "--format", "lines", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"k\nx = 1\n");
}

#[test]
fn two_pipeline_files_are_a_usage_error() {
    let sb = abc();
    sb.write("p.toml", b"");
    sb.write("q.yml", b"");
    let o = sb.weir(&["run", "p.toml", "a.csv", "q.yml", "-o", "out.csv"]);
    let err = assert_fails(
        &o,
        2,
        "two pipeline files, p.toml and q.yml: give at most one",
    );
    assert!(err.contains("read one as data with -i q.yml"), "{err}");
    assert!(!sb.exists("out.csv"));
    let o = sb.weir(&["explain", "p.toml", "q.yml", "a.csv"]);
    assert_fails(&o, 2, "two pipeline files, p.toml and q.yml");
    let o = sb.weir(&[
        "plan", "p.toml", "q.yml", "a.csv", "--out", "o", "--shards", "2",
    ]);
    assert_fails(&o, 2, "two pipeline files, p.toml and q.yml");
    let o = sb.weir(&[
        "run", "p.toml", "q.yml", "a.csv", "--out", "o", "--shard", "0/2",
    ]);
    assert_fails(&o, 2, "two pipeline files, p.toml and q.yml");
}

#[test]
fn piped_standard_input_is_read_when_no_input_is_named() {
    let sb = abc();
    // `weir run -o x.csv < a.csv`: a regular file on standard input.
    let o = weir_from(
        &sb,
        &["run", "-o", "x.csv", "--report", "r.json"],
        Stdio::from(File::open(sb.join("a.csv")).unwrap()),
    );
    assert_ok(&o);
    assert_bytes(&sb.read("x.csv"), A);
    assert_eq!(report_field(sb.read("r.json"), "input"), "-");
    // `cat a.csv | weir run --select v`: a pipe.
    let o = sb.weir_stdin(&["run", "--select", "v", "-q"], A);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"v\na\nb\n");
    // `-` as a FILE names it, as `-i -` does.
    let o = sb.weir_stdin(&["run", "b.csv", "-", "-q"], A);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id,v\n3,c\n1,a\n2,b\n");
    // explain reads the header from it too.
    let o = sb.weir_stdin(&["explain", "--select", "v"], A);
    assert_ok(&o);
    let plan = String::from_utf8(o.stdout).unwrap();
    assert!(
        plan.starts_with("input   - (csv, 2 columns): id, v\n"),
        "{plan}"
    );
    // A pipeline file without `input` takes standard input as well.
    sb.write("p.yaml", b"transform:\n  - select: [id]\n");
    let o = sb.weir_stdin(&["run", "p.yaml", "-q"], B);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id\n3\n");
}

#[test]
fn a_named_input_wins_over_piped_standard_input() {
    let sb = abc();
    let o = sb.weir_stdin(&["run", "b.csv", "-q"], A);
    assert_ok(&o);
    assert_bytes(&o.stdout, B);
    sb.write("p.toml", b"input = \"c.csv\"\n");
    let o = sb.weir_stdin(&["run", "p.toml", "-q"], A);
    assert_ok(&o);
    assert_bytes(&o.stdout, C);
}

#[test]
fn no_input_and_standard_input_not_piped_is_a_usage_error_saying_how_to_name_one() {
    let sb = abc();
    // /dev/null is a character device: not data to read (a cron job's or a service's stdin).
    let o = weir_from(
        &sb,
        &["run", "-o", "out.csv"],
        Stdio::from(File::open("/dev/null").unwrap()),
    );
    let err = assert_fails(
        &o,
        2,
        "weir: error: no input: name a file (weir run data.csv ...)",
    );
    assert!(err.contains("give --input PATH"), "{err}");
    assert!(err.contains("pipe the data in"), "{err}");
    assert!(!sb.exists("out.csv"));
    let o = sb.weir(&["explain", "--select", "v"]);
    assert_fails(&o, 2, "no input: name a file");
    // Shards and plans cut files into byte ranges: standard input is never their input.
    let o = sb.weir_stdin(&["plan", "--out", "out", "--shards", "2"], A);
    let err = assert_fails(&o, 2, "no input: name a file");
    assert!(!err.contains("pipe the data in"), "{err}");
}

#[test]
fn schema_infer_reads_piped_standard_input_when_no_input_is_named() {
    let sb = abc();
    let from_file = sb.weir(&["schema", "infer", "a.csv"]);
    assert_ok(&from_file);
    let o = sb.weir_stdin(&["schema", "infer"], A);
    assert_ok(&o);
    assert_bytes(&o.stdout, &from_file.stdout);
    let o = sb.weir(&["schema", "infer"]);
    assert_fails(&o, 2, "no input: name a file (weir schema infer data.csv)");
}

#[test]
fn a_yaml_pipeline_file_runs_as_its_toml_twin() {
    let sb = abc();
    sb.write(
        "p.toml",
        b"input = [\"a.csv\", \"c.csv\"]\noutput = \"t.csv\"\nreport = \"t.json\"\n\
          [[transform]]\nfilter = \"id <> '2'\"\n[[transform]]\nderive = { name = \"w\", expr = \"upper(v)\" }\n\
          [options]\nworkers = 2\nchunk_size = \"4\"\n",
    );
    sb.write(
        "p.yml",
        b"# the same pipeline\ninput: [a.csv, c.csv]\noutput: y.csv\nreport: y.json\n\
          transform:\n  - filter: \"id <> '2'\"\n  - derive: {name: w, expr: upper(v)}\n\
          options:\n  workers: 2\n  chunk_size: \"4\"\n",
    );
    assert_ok(&sb.weir(&["run", "p.toml", "-q"]));
    assert_ok(&sb.weir(&["run", "p.yml", "-q"]));
    assert_bytes(&sb.read("y.csv"), b"id,v,w\n1,a,A\n4,d,D\n5,e,E\n");
    assert_bytes(&sb.read("y.csv"), &sb.read("t.csv"));
    assert_balanced(sb.read("y.json"));
    // An error names the file and where in it.
    sb.write("bad.yaml", b"output: y.csv\ntransform:\n  - sort: [id]\n");
    let o = sb.weir(&["run", "bad.yaml", "a.csv"]);
    let err = assert_fails(&o, 2, "pipeline file bad.yaml: ");
    assert!(
        err.contains("unknown variant `sort`") && err.contains("line 3"),
        "{err}"
    );
    sb.write("typo.yaml", b"ouput: y.csv\n");
    let o = sb.weir(&["run", "typo.yaml", "a.csv"]);
    let err = assert_fails(&o, 2, "pipeline file typo.yaml: ");
    assert!(err.contains("unknown field `ouput`"), "{err}");
}

#[test]
fn inputs_on_the_command_line_replace_the_pipeline_files_input() {
    let sb = abc();
    sb.write("p.toml", b"input = [\"a.csv\", \"b.csv\"]\n");
    let o = sb.weir(&["run", "p.toml", "c.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, C);
    let o = sb.weir(&["run", "p.toml", "-i", "c.csv", "b.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id,v\n4,d\n5,e\n3,c\n");
}

#[test]
fn the_summary_names_where_the_output_rejects_and_report_went() {
    let sb = abc();
    sb.write("bad.csv", b"id,v\n1,a\n2\n");
    let o = sb.weir(&[
        "run",
        "bad.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rej.csv",
        "--report",
        "r.json",
    ]);
    assert_ok(&o);
    let err = stderr(&o);
    assert!(
        err.ends_with("      output -> out.csv, rejects -> rej.csv, report -> r.json\n"),
        "{err}"
    );
    let o = sb.weir(&["run", "a.csv", "--report", "r.json"]);
    assert_ok(&o);
    assert!(
        stderr(&o).ends_with("      output -> standard output, report -> r.json\n"),
        "{}",
        stderr(&o)
    );
    // A failed run commits no output: only its report, written alone, is named.
    sb.write("open.csv", b"id,v\n9,\"never closed\n");
    let o = sb.weir(&[
        "run", "a.csv", "open.csv", "-o", "out2.csv", "--report", "f.json",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains("output -> "), "{err}");
    assert!(err.ends_with("      report -> f.json\n"), "{err}");
    assert_eq!(report_field(sb.read("f.json"), "status"), "failed");
    assert!(!sb.exists("out2.csv"));
}

/// A pipeline file in `sub/` that names its input, output, rejects, report and schema.
fn pipeline_in_a_folder() -> Sandbox {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.join("sub")).unwrap();
    sb.write("sub/in.csv", b"id,v\n1,file\n2,x\n");
    sb.write("in.csv", b"id,v\n1,cwd\n");
    let schema = b"{\"fields\": [{\"name\": \"id\", \"type\": \"integer\"}, \
        {\"name\": \"v\", \"type\": \"string\", \"constraints\": {\"maxLength\": 4}}]}";
    sb.write("sub/s.json", schema);
    // The same name in the current folder, stricter: a length of at most 1.
    sb.write(
        "s.json",
        &String::from_utf8_lossy(schema)
            .replace("\"maxLength\": 4", "\"maxLength\": 1")
            .into_bytes(),
    );
    sb.write(
        "sub/p.toml",
        b"input = \"in.csv\"\noutput = \"out.csv\"\nrejects = \"rej.csv\"\n\
          report = \"r.json\"\nschema = \"s.json\"\n",
    );
    sb
}

#[test]
fn paths_written_in_a_pipeline_file_are_relative_to_its_folder() {
    let sb = pipeline_in_a_folder();
    let o = sb.weir(&["run", "sub/p.toml"]);
    assert_ok(&o);
    assert!(
        stderr(&o)
            .contains("output -> sub/out.csv, rejects -> sub/rej.csv, report -> sub/r.json\n"),
        "{}",
        stderr(&o)
    );
    assert_bytes(&sb.read("sub/out.csv"), b"id,v\n1,file\n2,x\n");
    assert_eq!(parse_csv(&sb.read("sub/rej.csv")).len(), 1, "no rejects");
    assert_balanced(sb.read("sub/r.json"));
    assert_eq!(sb.names(), ["in.csv", "s.json", "sub"]);
}

#[test]
fn paths_given_on_the_command_line_are_relative_to_the_current_folder() {
    let sb = pipeline_in_a_folder();
    // Every path from the command line: all in the current folder, none beside the file.
    let o = sb.weir(&[
        "run",
        "sub/p.toml",
        "in.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rej.csv",
        "--report",
        "r.json",
        "--schema",
        "s.json",
    ]);
    assert_ok(&o);
    assert!(
        stderr(&o).contains("output -> out.csv, rejects -> rej.csv, report -> r.json\n"),
        "{}",
        stderr(&o)
    );
    // The current folder's schema (maxLength 1) rejected "cwd" of the current folder's input.
    assert_bytes(&sb.read("out.csv"), b"id,v\n");
    let rejects = parse_csv(&sb.read("rej.csv"));
    assert_eq!(rejects[1][4], "constraint-error", "{rejects:?}");
    assert_eq!(rejects[1][0], "in.csv", "{rejects:?}");
    assert_balanced(sb.read("r.json"));
    let mut sub: Vec<String> = std::fs::read_dir(sb.join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    sub.sort();
    assert_eq!(
        sub,
        ["in.csv", "p.toml", "s.json"],
        "nothing written beside the file"
    );
    // Only the input from the command line: the file's outputs stay relative to it.
    let o = sb.weir(&["run", "sub/p.toml", "in.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("sub/out.csv"), b"id,v\n1,cwd\n");
}

//! Column selection in xan's notation for --select and --drop (names, 0-based indexes,
//! ranges, regexes), on the command line and in pipeline files, and its errors.

use crate::support::*;

const INPUT: &[u8] =
    b"id,name,email,addr_city,addr_zip\n1,ann,a@x,Paris,75001\n2,bob,b@y,Lyon,69001\n";

fn run_select(flag: &str, selection: &str) -> (std::process::Output, Vec<Vec<String>>) {
    let sb = Sandbox::new();
    sb.write("in.csv", INPUT);
    let o = sb.weir(&[
        "run", "-i", "in.csv", "-o", "out.csv", "--report", "r.json", "-q", flag, selection,
    ]);
    if code(&o) != 0 {
        assert!(!sb.exists("out.csv"), "a refused selection wrote output");
        return (o, Vec::new());
    }
    assert_balanced(sb.read("r.json"));
    let rows = parse_csv(&sb.read("out.csv"));
    (o, rows)
}

fn header(flag: &str, selection: &str) -> Vec<String> {
    let (o, rows) = run_select(flag, selection);
    assert_ok(&o);
    assert_eq!(rows.len(), 3, "{flag} {selection}: header and two rows");
    rows[0].clone()
}

#[test]
fn select_by_index_range_and_regex() {
    assert_eq!(header("--select", "0,2"), ["id", "email"]);
    assert_eq!(header("--select", "id:email"), ["id", "name", "email"]);
    assert_eq!(header("--select", "1:3"), ["name", "email", "addr_city"]);
    assert_eq!(header("--select", "3:"), ["addr_city", "addr_zip"]);
    assert_eq!(header("--select", ":name"), ["id", "name"]);
    assert_eq!(
        header("--select", "/^addr_/,id"),
        ["addr_city", "addr_zip", "id"]
    );
    assert_eq!(header("--select", "email,0,0"), ["email", "id", "id"]);
    // The values follow their columns.
    let (_, rows) = run_select("--select", "/_zip$/,1");
    assert_eq!(rows[1], ["75001", "ann"]);
}

#[test]
fn drop_takes_the_same_notation() {
    assert_eq!(header("--drop", "1:3"), ["id", "addr_zip"]);
    assert_eq!(header("--drop", "/^addr_/"), ["id", "name", "email"]);
    assert_eq!(
        header("--drop", "0,email"),
        ["name", "addr_city", "addr_zip"]
    );
}

#[test]
fn commas_inside_quotes_and_regexes_do_not_split_and_quotes_mean_names() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"2024,\"a,b\",c:d,x\n1,2,3,4\n");
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-q",
        "--select",
        "\"2024\",\"a,b\",c:d,/^x{1,2}$/",
    ]);
    assert_ok(&o);
    assert_eq!(
        parse_csv(&o.stdout),
        [["2024", "a,b", "c:d", "x"], ["1", "2", "3", "4"]]
    );
    // Unquoted, a number is an index (xan's rule), and the error says how to name it.
    let o = sb.weir(&["run", "-i", "in.csv", "-q", "--select", "2024"]);
    assert_fails(
        &o,
        2,
        "select: column index 2024 is out of range: the input has 4 columns (indexes 0 to 3; \
         indexes start at 0); to select the column named '2024', quote it: \"2024\"",
    );
}

#[test]
fn selection_errors_are_usage_errors_naming_what_was_asked() {
    for (flag, selection, message) in [
        (
            "--select",
            "7",
            "select: column index 7 is out of range: the input has 5 columns (indexes 0 to 4; indexes start at 0)",
        ),
        (
            "--select",
            "email:id",
            "select: range 'email:id' ends before it starts ('email' is column 2, 'id' is column 0)",
        ),
        (
            "--select",
            "/^zip/",
            "select: regex /^zip/ matches no column (columns: id, name, email, addr_city, addr_zip)",
        ),
        ("--select", "/(/", "select: invalid regex /(/:"),
        ("--select", "naem", "select: unknown column 'naem' (did you mean 'name'?)"),
        ("--select", "id:emial", "select: unknown column 'emial' (did you mean 'email'?)"),
        ("--drop", "2:9", "drop: column index 9 is out of range: the input has 5 columns"),
        ("--drop", "/nope/", "drop: regex /nope/ matches no column"),
        ("--select", "\"id", "select: selection '\"id': a quote is never closed"),
        ("--select", "", "--select '': no column given"),
        ("--drop", " , ", "--drop ',': no column given"),
    ] {
        let (o, _) = run_select(flag, selection);
        assert_fails_in(&format!("{flag} {selection}"), &o, 2, message);
    }
}

#[test]
fn pipeline_files_take_the_same_notation() {
    let sb = Sandbox::new();
    sb.write("in.csv", INPUT);
    sb.write(
        "p.toml",
        b"input = \"in.csv\"\noutput = \"out.csv\"\n\n[[transform]]\nselect = [\"/^addr_/\", \"0:1\"]\n\n[[transform]]\ndrop = [\"1\"]\n",
    );
    let o = sb.weir(&["run", "p.toml", "-q"]);
    assert_ok(&o);
    assert_eq!(
        parse_csv(&sb.read("out.csv")),
        [
            ["addr_city", "id", "name"],
            ["Paris", "1", "ann"],
            ["Lyon", "2", "bob"]
        ]
    );
    sb.write(
        "bad.toml",
        b"input = \"in.csv\"\noutput = \"out2.csv\"\n\n[[transform]]\nselect = [\"4:0\"]\n",
    );
    let o = sb.weir(&["run", "bad.toml", "-q"]);
    assert_fails(&o, 2, "range '4:0' ends before it starts");
    assert!(!sb.exists("out2.csv"));
}

#[test]
fn run_help_states_the_notation() {
    let sb = Sandbox::new();
    let o = sb.weir(&["run", "--help"]);
    let text = String::from_utf8(o.stdout).unwrap();
    for part in [
        "0-based index",
        "id:email",
        "/^addr_/",
        "'\"2024\"'",
        "as --select takes them",
    ] {
        assert!(text.contains(part), "run --help lacks {part}");
    }
}

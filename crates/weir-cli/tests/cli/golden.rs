//! T2, T3 and T4 of the standard benchmark tasks, from flags and from the pipeline files in
//! `pipelines/`, compared record for record with DuckDB's outputs on the same input. The golden
//! files in `tests/data/golden/` were produced by `tests/data/golden/produce.py` (DuckDB 2.0.1 on
//! a 3,000-row file from the benchmark generator, `--rows 3000 --seed 11`); its docstring has
//! the exact queries.

use std::path::Path;

use crate::support::*;

const PIPELINES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../pipelines");

fn golden(name: &str) -> Vec<Vec<String>> {
    parse_csv(&std::fs::read(Path::new(DATA).join("golden").join(name)).expect("golden file"))
}

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.fixture_as("golden/customers.csv", "customers.csv");
    sb
}

fn pipeline(name: &str) -> String {
    Path::new(PIPELINES).join(name).display().to_string()
}

const T2_FILTER: &str = "TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')";

#[test]
fn t2_from_flags_matches_duckdb() {
    let sb = sandbox();
    let o = sb.weir(&[
        "run",
        "-i",
        "customers.csv",
        "-o",
        "t2.csv",
        "-q",
        "--chunk-size",
        "4KiB",
        "--filter",
        T2_FILTER,
        "--select",
        "id,name,age,country",
    ]);
    assert_ok(&o);
    assert_eq!(parse_csv(&sb.read("t2.csv")), golden("t2.duckdb.csv"));
}

#[test]
fn t2_from_the_pipeline_file_matches_duckdb() {
    let sb = sandbox();
    let file = pipeline("t2-select-filter.toml");
    let o = sb.weir(&[
        "run",
        &file,
        "-i",
        "customers.csv",
        "-o",
        "t2.csv",
        "--report",
        "r.json",
        "-q",
    ]);
    assert_ok(&o);
    assert_eq!(parse_csv(&sb.read("t2.csv")), golden("t2.duckdb.csv"));
    let report = sb.read_string("r.json");
    assert_balanced(&report);
    assert_eq!(
        report_num(&report, "records_written") as usize,
        golden("t2.duckdb.csv").len() - 1
    );
}

#[test]
fn t3_from_flags_matches_duckdb() {
    let sb = sandbox();
    let o = sb.weir(&[
        "run",
        "-i",
        "customers.csv",
        "-o",
        "t3.csv",
        "-q",
        "--workers",
        "2",
        "--chunk-size",
        "3KiB",
        "--derive",
        "name=upper(trim(name))",
        "--derive",
        "email=lower(email)",
        "--derive",
        "score_pct=round(score * 100, 1)",
        "--rename",
        "signup_date=signup",
    ]);
    assert_ok(&o);
    assert_eq!(parse_csv(&sb.read("t3.csv")), golden("t3.duckdb.csv"));
    // Byte for byte, too: NULL is an empty field and the empty string `""`, as DuckDB writes.
    let duck = std::fs::read(Path::new(DATA).join("golden/t3.duckdb.csv")).unwrap();
    assert_bytes(&sb.read("t3.csv"), &duck);
}

#[test]
fn t3_from_the_pipeline_file_matches_duckdb() {
    let sb = sandbox();
    let file = pipeline("t3-transform.toml");
    let o = sb.weir(&[
        "run",
        &file,
        "-i",
        "customers.csv",
        "-o",
        "t3.csv",
        "--rejects",
        "rej.csv",
        "-q",
    ]);
    assert_ok(&o);
    assert_eq!(parse_csv(&sb.read("t3.csv")), golden("t3.duckdb.csv"));
    assert_eq!(
        parse_csv(&sb.read("rej.csv")).len(),
        1,
        "no rejects, only the header"
    );
}

fn check_t4(sb: &Sandbox) {
    assert_eq!(
        parse_csv(&sb.read("valid.csv")),
        golden("t4-valid.duckdb.csv")
    );
    let rejects = parse_csv(&sb.read("invalid.csv"));
    assert_eq!(
        rejects[0],
        [
            "file",
            "line",
            "byte_offset",
            "field",
            "error",
            "message",
            "record"
        ]
    );
    // The rejected records' ids, read back from the raw record text, are DuckDB's invalid ones.
    let ids: Vec<String> = rejects[1..]
        .iter()
        .map(|r| r[6].split(',').next().unwrap().to_string())
        .collect();
    let want: Vec<String> = golden("t4-invalid-ids.duckdb.csv")[1..]
        .iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(ids, want);
    for r in &rejects[1..] {
        assert!(
            ["type-error", "constraint-error"].contains(&r[4].as_str()),
            "Table Schema error names: {r:?}"
        );
        assert!(
            ["age", "email", "signup_date"].contains(&r[3].as_str()),
            "{r:?}"
        );
    }
}

#[test]
fn t4_from_flags_matches_duckdb() {
    let sb = sandbox();
    let schema = pipeline("customers.schema.json");
    let o = sb.weir(&[
        "run",
        "-i",
        "customers.csv",
        "-o",
        "valid.csv",
        "--rejects",
        "invalid.csv",
        "-q",
        "--schema",
        &schema,
        "--chunk-size",
        "2KiB",
        "--workers",
        "3",
    ]);
    assert_ok(&o);
    check_t4(&sb);
}

#[test]
fn t4_from_the_pipeline_file_matches_duckdb() {
    let sb = sandbox();
    let file = pipeline("t4-validate.toml");
    let o = sb.weir(&[
        "run",
        &file,
        "-i",
        "customers.csv",
        "-o",
        "valid.csv",
        "--rejects",
        "invalid.csv",
        "--report",
        "report.json",
        "-q",
    ]);
    assert_ok(&o);
    check_t4(&sb);
    // Every output of the file's was redirected into the sandbox: nothing lands beside it.
    assert!(!std::path::Path::new(PIPELINES)
        .join("t4-report.json")
        .exists());
}

#[test]
fn explain_prints_columns_in_and_out_of_each_step() {
    let sb = sandbox();
    let file = pipeline("t3-transform.toml");
    let o = sb.weir(&["explain", &file, "-i", "customers.csv", "--head", "5"]);
    assert_ok(&o);
    let text = String::from_utf8(o.stdout).unwrap();
    let want = "\
input   customers.csv (csv, 8 columns): id, name, email, age, country, signup_date, score, notes
step 1  derive name = upper(trim(name))
        -> id, name, email, age, country, signup_date, score, notes
step 2  derive email = lower(email)
        -> id, name, email, age, country, signup_date, score, notes
step 3  derive score_pct = round(score * 100, 1)
        -> id, name, email, age, country, signup_date, score, notes, score_pct
step 4  rename signup_date -> signup
        -> id, name, email, age, country, signup, score, notes, score_pct
step 5  head first 5 records  [decided in input order]
        -> id, name, email, age, country, signup, score, notes, score_pct
";
    assert!(text.starts_with(want), "{text}");
}

#[test]
fn a_bad_expression_is_a_usage_error_with_a_caret_and_writes_nothing() {
    let sb = sandbox();
    let o = sb.weir(&[
        "run",
        "-i",
        "customers.csv",
        "-o",
        "out.csv",
        "--filter",
        "agee >= 30",
    ]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("agee") && err.contains("did you mean 'age'"),
        "{err}"
    );
    assert!(err.contains("^"), "a caret under the position: {err}");
    assert!(!sb.exists("out.csv"));
    assert!(sb.temp_files().is_empty());
}

#[test]
fn a_bad_pipeline_file_names_the_file_and_line() {
    let sb = sandbox();
    sb.write(
        "p.toml",
        b"input = \"customers.csv\"\n[[transform]]\nsort = [\"id\"]\n",
    );
    let o = sb.weir(&["run", "p.toml"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("p.toml") && err.contains("line 3"), "{err}");
}

/// Validation agrees with frictionless-py, the reference implementation of Table Schema: the
/// same records are invalid, for the same first field and error type. The expected verdicts come
/// from `tests/data/golden/frictionless/produce.py` (frictionless 5.21.0); the file has no
/// embedded newlines, so a record's number is its line minus the header's.
#[test]
fn validation_agrees_with_frictionless_py() {
    let sb = Sandbox::new();
    sb.fixture_as("golden/frictionless/data.csv", "data.csv");
    sb.fixture_as("golden/frictionless/schema.json", "schema.json");
    let o = sb.weir(&[
        "run",
        "-i",
        "data.csv",
        "-o",
        "valid.csv",
        "--rejects",
        "rejects.csv",
        "--schema",
        "schema.json",
        "-q",
        "--chunk-size",
        "8KiB",
    ]);
    assert_ok(&o);
    let got: Vec<Vec<String>> = parse_csv(&sb.read("rejects.csv"))[1..]
        .iter()
        .map(|r| {
            let row = r[1].parse::<u64>().unwrap() - 1;
            vec![row.to_string(), r[3].clone(), r[4].clone()]
        })
        .collect();
    let want = golden("frictionless/expected.csv")[1..].to_vec();
    let diff: Vec<_> = want
        .iter()
        .filter(|w| !got.contains(w))
        .map(|w| format!("frictionless only: {w:?}"))
        .chain(
            got.iter()
                .filter(|g| !want.contains(g))
                .map(|g| format!("weir only: {g:?}")),
        )
        .collect();
    assert!(
        diff.is_empty(),
        "{} differences:\n{}",
        diff.len(),
        diff.join("\n")
    );
    let valid = parse_csv(&sb.read("valid.csv"));
    assert_eq!(valid.len() - 1 + want.len(), 1500);
}

//! The pipeline language end to end: steps from flags in the order typed, pipeline files with
//! inline schemas, YAML schemas, schema inference, and the record-level errors of expressions.

use crate::support::*;

const PEOPLE: &[u8] = b"id,name,age,country\n\
1,  ana ,34,US\n\
2,Ben,NA,DE\n\
3,ana,abc,FR\n\
4,Cy,,US\n\
5,ana,61,US\n";

fn people() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("people.csv", PEOPLE);
    sb
}

#[test]
fn steps_run_in_the_order_typed() {
    let sb = people();
    // head then dedupe: the first two records, deduped (nothing to dedupe among them).
    let o = sb.weir(&[
        "run",
        "-i",
        "people.csv",
        "-q",
        "--head",
        "2",
        "--dedupe",
        "country",
    ]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"id,name,age,country\n1,  ana ,34,US\n2,Ben,NA,DE\n",
    );
    // dedupe then head: the first two distinct countries... and the third.
    let o = sb.weir(&[
        "run",
        "-i",
        "people.csv",
        "-q",
        "--dedupe",
        "country",
        "--head",
        "3",
    ]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"id,name,age,country\n1,  ana ,34,US\n2,Ben,NA,DE\n3,ana,abc,FR\n",
    );
}

#[test]
fn null_markers_fill_derive_and_drop() {
    let sb = people();
    let o = sb.weir(&[
        "run",
        "-i",
        "people.csv",
        "-q",
        "--null-markers",
        "NA",
        "--fill",
        "age=0",
        "--derive",
        "name=upper(trim(name))",
        "--drop",
        "country",
    ]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"id,name,age\n1,ANA,34\n2,BEN,0\n3,ANA,abc\n4,CY,0\n5,ANA,61\n",
    );
}

#[test]
fn a_value_an_expression_cannot_convert_rejects_the_record_naming_column_value_and_line() {
    let sb = people();
    let o = sb.weir(&[
        "run",
        "-i",
        "people.csv",
        "-q",
        "--rejects",
        "rej.csv",
        "--null-markers",
        "NA",
        "--filter",
        "age >= 40",
    ]);
    assert_ok(&o);
    // NULL ages (NA, empty) filter quietly; 'abc' cannot be a number: rejected.
    assert_bytes(&o.stdout, b"id,name,age,country\n5,ana,61,US\n");
    let rejects = parse_csv(&sb.read("rej.csv"));
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(&rejects[1][1..5], ["4", "47", "age", "type-error"]);
    assert!(
        rejects[1][5].contains("'abc'") && rejects[1][5].contains("age"),
        "{:?}",
        rejects[1]
    );
    // TRY_CAST is the lenient form: nothing rejected.
    let o = sb.weir(&[
        "run",
        "-i",
        "people.csv",
        "-q",
        "--filter",
        "TRY_CAST(age AS INT) >= 40",
    ]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id,name,age,country\n5,ana,61,US\n");
}

#[test]
fn a_pipeline_file_with_an_inline_schema_and_options() {
    let sb = people();
    sb.write(
        "p.toml",
        br#"input = "people.csv"
output = "out.csv"
rejects = "rej.csv"

[schema]
missingValues = ["", "NA"]
fields = [
  { name = "id", type = "integer", constraints = { unique = true } },
  { name = "name", type = "string" },
  { name = "age", type = "integer", constraints = { required = true, maximum = 150 } },
  { name = "country", type = "string", constraints = { enum = ["US", "DE", "FR"] } },
]

[[transform]]
select = ["id", "age"]

[options]
workers = 1
chunk_size = "16"
"#,
    );
    let o = sb.weir(&["run", "p.toml", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), b"id,age\n1,34\n5,61\n");
    let rejects: Vec<Vec<String>> = parse_csv(&sb.read("rej.csv"))[1..]
        .iter()
        .map(|r| r[1..5].to_vec())
        .collect();
    assert_eq!(
        rejects,
        [
            ["3", "35", "age", "constraint-error"],
            ["4", "47", "age", "type-error"],
            ["5", "60", "age", "constraint-error"],
        ]
    );
}

#[test]
fn a_yaml_schema_and_a_header_that_does_not_match() {
    let sb = people();
    sb.write(
        "s.yaml",
        b"fields:\n  - name: id\n    type: integer\n  - name: name\n  - name: years\n  - name: country\n",
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "people.csv",
        "-o",
        "out.csv",
        "--schema",
        "s.yaml",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("incorrect-label") && err.contains("'years'"),
        "{err}"
    );
    assert!(!sb.exists("out.csv"));
}

#[test]
fn an_inferred_schema_validates_its_own_input() {
    let sb = Sandbox::new();
    sb.fixture_as("golden/customers.csv", "c.csv");
    let o = sb.weir(&[
        "schema",
        "infer",
        "c.csv",
        "--sample",
        "100",
        "-o",
        "c.schema.json",
    ]);
    assert_ok(&o);
    let schema = sb.read_string("c.schema.json");
    assert!(
        schema.contains("\"name\": \"id\"") && schema.contains("\"type\": \"integer\""),
        "{schema}"
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "c.csv",
        "-o",
        "v.csv",
        "--schema",
        "c.schema.json",
        "--rejects",
        "r.csv",
        "-q",
    ]);
    assert_ok(&o);
    // The first 100 records shaped the schema, so they all pass it.
    let rejected_lines: Vec<u64> = parse_csv(&sb.read("r.csv"))[1..]
        .iter()
        .map(|r| r[1].parse().unwrap())
        .collect();
    assert!(
        rejected_lines.iter().all(|&l| l > 101),
        "{rejected_lines:?}"
    );
}

#[test]
fn jsonl_derived_numbers_stay_numbers() {
    let sb = Sandbox::new();
    sb.write(
        "e.jsonl",
        b"{\"id\":1,\"ms\":1500,\"who\":\"ana\"}\n{\"id\":2,\"ms\":null,\"who\":\"ben\"}\n",
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "e.jsonl",
        "-q",
        "--derive",
        "secs=ms / 1000",
        "--derive",
        "who=upper(who)",
        "--select",
        "id,who,secs",
    ]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"{\"id\":1,\"who\":\"ANA\",\"secs\":1.5}\n{\"id\":2,\"who\":\"BEN\",\"secs\":null}\n",
    );
}

#[test]
fn explain_works_from_flags_alone_and_reports_usage_errors() {
    let sb = people();
    let o = sb.weir(&[
        "explain",
        "-i",
        "people.csv",
        "--filter",
        "age > 1",
        "--select",
        "id",
    ]);
    assert_ok(&o);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("step 1  filter age > 1\n")
            && text.contains("step 2  select id\n        -> id\n"),
        "{text}"
    );
    let o = sb.weir(&["explain", "-i", "people.csv", "--select", "idd"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("did you mean 'id'"));
}

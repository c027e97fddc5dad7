//! Validation as frictionless-py 5.21 does it. Expected outcomes were checked against
//! `frictionless validate` on the same schema and rows (see the module documentation).

use serde_json::json;

use super::*;
use crate::format::csv::CsvDecoder;
use crate::format::{Dialect, Format};
use crate::record::{Columns, Record, RecordBuf, ValueKind};
use crate::transform::{Outcome, Transform, Validate};

fn schema(descriptor: serde_json::Value) -> Schema {
    Schema::from_value(descriptor).unwrap_or_else(|e| panic!("schema: {e}"))
}

fn schema_error(descriptor: serde_json::Value) -> String {
    match Schema::from_value(descriptor) {
        Ok(_) => panic!("the schema should be refused"),
        Err(e) => e.message,
    }
}

/// A validator bound to the schema's own field names.
fn bound(s: Schema) -> Validate {
    let names: Vec<String> = s.field_names().iter().map(|n| n.to_string()).collect();
    let mut v = Validate::new(s);
    v.bind(&Columns::new(names)).expect("the header matches");
    v
}

/// Runs the validator on each record of a CSV body (no header line).
fn run_csv(v: &mut Validate, body: &str) -> Vec<Outcome> {
    let input = body.as_bytes();
    let dialect = Dialect::new(Format::Csv);
    let mut dec = CsvDecoder::new(input, &dialect, 1);
    let mut buf = RecordBuf::default();
    let mut out = Vec::new();
    while dec.next_record(&mut buf) {
        let mut rec = Record::new(input, &mut buf);
        out.push(v.apply(&mut rec));
    }
    out
}

/// Runs the validator on one record given as cells of any kind.
fn run_cells(v: &mut Validate, cells: &[(&str, ValueKind)]) -> Outcome {
    let mut input = Vec::new();
    let mut spans = Vec::new();
    for (text, kind) in cells {
        spans.push((input.len(), input.len() + text.len(), *kind));
        input.extend_from_slice(text.as_bytes());
    }
    let mut buf = RecordBuf::default();
    buf.reset(0);
    for (start, end, kind) in spans {
        buf.push_input(start, end, kind);
    }
    buf.set_raw(input.len(), 0);
    let mut rec = Record::new(&input, &mut buf);
    v.apply(&mut rec)
}

/// `(error, field)` of a reject, or `ok`.
fn verdict(o: &Outcome) -> String {
    match o {
        Outcome::Keep => "ok".into(),
        Outcome::Filter => "filtered".into(),
        Outcome::Reject(r) => format!("{} {}", r.error, r.field.as_deref().unwrap_or("-")),
    }
}

fn message(o: &Outcome) -> String {
    match o {
        Outcome::Reject(r) => r.message.clone(),
        _ => String::new(),
    }
}

/// Checks single values of one field: each `(cell, expected)` where expected is `ok`,
/// `type` or the name of the failing constraint. A cell is written as one quoted CSV field.
fn check_field(field: serde_json::Value, cases: &[(&str, &str)]) {
    let mut field = field;
    field["name"] = json!("x");
    let mut v = bound(schema(json!({ "fields": [field.clone()] })));
    for (cell, want) in cases {
        let line = format!("\"{}\"\n", cell.replace('"', "\"\""));
        let got = run_csv(&mut v, &line);
        assert_eq!(got.len(), 1, "{line:?}");
        let got = match &got[0] {
            Outcome::Keep => "ok".to_string(),
            Outcome::Reject(r) if r.error == "type-error" => "type".to_string(),
            Outcome::Reject(r) if r.error == "constraint-error" => {
                let rule = r.message.split('"').nth(3).unwrap_or_default();
                rule.to_string()
            }
            other => verdict(other),
        };
        assert_eq!(got, *want, "{field} with {cell:?}");
    }
}

#[test]
fn strings_and_their_formats() {
    check_field(
        json!({"type": "string"}),
        &[("anything", "ok"), (" ", "ok")],
    );
    check_field(
        json!({"type": "string", "format": "email"}),
        &[
            ("a@b.co", "ok"),
            ("a@b", "type"),
            ("a..b@c.com", "type"),
            ("ä@b.com", "ok"),
        ],
    );
    check_field(
        json!({"type": "string", "format": "uri"}),
        &[
            ("http://x", "ok"),
            ("mailto:a", "ok"),
            ("/path", "type"),
            ("1:2", "type"),
        ],
    );
    check_field(
        json!({"type": "string", "format": "uuid"}),
        &[
            ("2bc1c94f-0deb-43e9-92a1-4775189ec9f8", "ok"),
            ("{2bc1c94f-0deb-43e9-92a1-4775189ec9f8}", "ok"),
            ("2bc1c94f-0deb-43e9-92a1-4775189ec9f", "type"),
        ],
    );
    check_field(
        json!({"type": "string", "format": "binary"}),
        &[("aGVsbG8=", "ok"), ("aGVsbG8", "type"), ("ab!cd", "ok")],
    );
}

#[test]
fn integers_read_as_python_int() {
    check_field(
        json!({"type": "integer"}),
        &[
            ("1", "ok"),
            (" 2 ", "ok"),
            ("+3", "ok"),
            ("-4", "ok"),
            ("1_000", "ok"),
            ("00012", "ok"),
            ("1.0", "type"),
            ("1e3", "type"),
            ("0x10", "type"),
            ("1,000", "type"),
            ("abc", "type"),
        ],
    );
    check_field(
        json!({"type": "integer", "bareNumber": false}),
        &[
            ("$1", "ok"),
            ("1 USD", "ok"),
            ("-1%", "ok"),
            ("abc", "type"),
            ("1.5", "type"),
        ],
    );
    // Table Schema v2 gives integers a groupChar (frictionless-py 5 ignores it).
    check_field(
        json!({"type": "integer", "groupChar": ","}),
        &[("1,000", "ok"), ("1 000", "type")],
    );
}

#[test]
fn numbers_read_as_python_decimal() {
    check_field(
        json!({"type": "number"}),
        &[
            ("1", "ok"),
            ("1.5", "ok"),
            (".5", "ok"),
            ("5.", "ok"),
            ("1e3", "ok"),
            ("1_000.5", "ok"),
            ("NaN", "ok"),
            ("-Infinity", "ok"),
            ("1,5", "type"),
            ("1.2.3", "type"),
            ("- 1", "type"),
        ],
    );
    check_field(
        json!({"type": "number", "decimalChar": ",", "groupChar": "."}),
        &[
            ("1,5", "ok"),
            ("1.000,5", "ok"),
            ("1.5", "ok"),
            ("1,5,5", "type"),
        ],
    );
    check_field(
        json!({"type": "number", "decimalChar": ","}),
        &[("1,5", "ok"), ("1.5", "type")],
    );
    check_field(
        json!({"type": "number", "groupChar": ","}),
        &[("1,000.5", "ok"), ("1,,0", "ok")],
    );
    check_field(
        json!({"type": "number", "bareNumber": false}),
        &[
            ("$1.5", "ok"),
            ("1.5%", "ok"),
            ("EUR -1.5 x", "ok"),
            ("abc", "type"),
        ],
    );
    // Decimal compares exactly: 0.10000000000000001 is above 0.1.
    check_field(
        json!({"type": "number", "constraints": {"maximum": "0.1"}}),
        &[
            ("0.1", "ok"),
            ("0.100", "ok"),
            ("0.10000000000000001", "maximum"),
        ],
    );
}

#[test]
fn booleans_match_exactly() {
    check_field(
        json!({"type": "boolean"}),
        &[
            ("true", "ok"),
            ("TRUE", "ok"),
            ("0", "ok"),
            ("yes", "type"),
            ("tRue", "type"),
            (" true", "type"),
        ],
    );
    check_field(
        json!({"type": "boolean", "trueValues": ["Y"], "falseValues": ["N"]}),
        &[("Y", "ok"), ("N", "ok"), ("true", "type")],
    );
}

#[test]
fn dates_times_and_datetimes() {
    check_field(
        json!({"type": "date"}),
        &[
            ("2020-01-02", "ok"),
            ("2020-1-2", "ok"),
            ("2020-02-30", "type"),
            ("0000-01-01", "type"),
            ("2020/01/02", "type"),
            ("2020-01-02T00:00:00", "type"),
        ],
    );
    check_field(
        json!({"type": "date", "format": "%d/%m/%Y"}),
        &[
            ("02/01/2020", "ok"),
            ("2/1/2020", "ok"),
            ("2020-01-02", "type"),
        ],
    );
    check_field(
        json!({"type": "date", "format": "any"}),
        &[("Jan 2 2020", "ok"), ("2020-01-02", "ok"), ("junk", "type")],
    );
    check_field(
        json!({"type": "datetime"}),
        &[
            ("2020-01-02T10:20:30", "ok"),
            ("2020-01-02 10:20:30Z", "ok"),
            ("2020-01-02T10:20:30+01:00", "ok"),
            ("2020-01-02T10:20", "type"),
            ("2020-01-02T10:20:60", "type"),
        ],
    );
    check_field(
        json!({"type": "datetime", "format": "%d/%m/%Y %H:%M"}),
        &[("02/01/2020 10:20", "ok"), ("2020-01-02T10:20:30", "type")],
    );
    check_field(
        json!({"type": "time"}),
        &[
            ("10:20:30", "ok"),
            ("24:00:00", "ok"),
            ("10:20", "type"),
            ("1:20:30", "type"),
        ],
    );
    check_field(
        json!({"type": "time", "format": "%Hh%M"}),
        &[("10h20", "ok"), ("10:20", "type")],
    );
    check_field(
        json!({"type": "year"}),
        &[
            ("2020", "ok"),
            ("0000", "ok"),
            ("+123", "ok"),
            ("20", "type"),
            ("-001", "type"),
        ],
    );
    check_field(
        json!({"type": "yearmonth"}),
        &[
            ("2020-01", "ok"),
            ("2020-1", "ok"),
            ("2020-13", "type"),
            ("2020-01-01", "type"),
        ],
    );
}

#[test]
fn other_types() {
    check_field(
        json!({"type": "duration"}),
        &[
            ("P1D", "ok"),
            ("PT1H30M", "ok"),
            ("-P1Y2M", "ok"),
            ("P", "type"),
            ("1D", "type"),
        ],
    );
    check_field(
        json!({"type": "geopoint"}),
        &[
            ("1,2", "ok"),
            ("180, -90", "ok"),
            ("181,0", "type"),
            ("1", "type"),
        ],
    );
    check_field(
        json!({"type": "geopoint", "format": "array"}),
        &[("[1, 2]", "ok"), ("[1]", "type")],
    );
    check_field(
        json!({"type": "geopoint", "format": "object"}),
        &[(r#"{"lon": 1, "lat": 2}"#, "ok"), (r#"{"lon": 1}"#, "type")],
    );
    check_field(
        json!({"type": "object", "constraints": {"minLength": 1}}),
        &[(r#"{"a": 1}"#, "ok"), ("{}", "minLength"), ("[1]", "type")],
    );
    check_field(
        json!({"type": "array", "constraints": {"maxLength": 1}}),
        &[("[1]", "ok"), ("[1, 2]", "maxLength"), ("{}", "type")],
    );
    check_field(json!({"type": "any"}), &[("x", "ok"), ("1", "ok")]);
    // No type is a string, as frictionless reads a v1 descriptor.
    check_field(json!({}), &[("x", "ok")]);
}

#[test]
fn constraints_in_frictionless_order() {
    check_field(
        json!({"type": "string", "constraints": {"required": true, "minLength": 2, "maxLength": 3, "pattern": "a.*"}}),
        &[
            ("ab", "ok"),
            ("abc", "ok"),
            ("a", "minLength"),
            ("abcdef", "maxLength"),
            ("bc", "pattern"),
        ],
    );
    // Lengths count characters, as Python's len().
    check_field(
        json!({"type": "string", "constraints": {"maxLength": 2}}),
        &[("éé", "ok"), ("ééé", "maxLength")],
    );
    check_field(
        json!({"type": "integer", "constraints": {"minimum": 5, "maximum": "10"}}),
        &[
            ("5", "ok"),
            ("10", "ok"),
            ("4", "minimum"),
            ("11", "maximum"),
            ("x", "type"),
        ],
    );
    check_field(
        json!({"type": "integer", "constraints": {"exclusiveMinimum": 5, "exclusiveMaximum": 10}}),
        &[
            ("6", "ok"),
            ("5", "exclusiveMinimum"),
            ("10", "exclusiveMaximum"),
        ],
    );
    check_field(
        json!({"type": "number", "constraints": {"minimum": 1}}),
        &[
            ("1", "ok"),
            ("inf", "ok"),
            ("0.5", "minimum"),
            ("NaN", "minimum"),
            ("-inf", "minimum"),
        ],
    );
    check_field(
        json!({"type": "date", "constraints": {"minimum": "2020-01-01"}}),
        &[("2020-01-01", "ok"), ("2019-12-31", "minimum")],
    );
    check_field(
        json!({"type": "datetime", "constraints": {"maximum": "2020-01-01T10:00:00Z"}}),
        &[
            ("2020-01-01T11:00:00+01:00", "ok"),
            ("2020-01-01T10:00:01Z", "maximum"),
        ],
    );
    check_field(
        json!({"type": "time", "constraints": {"minimum": "08:00:00"}}),
        &[("08:00:00", "ok"), ("07:59:59", "minimum")],
    );
    check_field(
        json!({"type": "year", "constraints": {"maximum": 2000}}),
        &[("2000", "ok"), ("2001", "maximum")],
    );
    check_field(
        json!({"type": "yearmonth", "constraints": {"minimum": "2020-02"}}),
        &[("2020-2", "ok"), ("2020-01", "minimum")],
    );
}

#[test]
fn enums_compare_typed_values() {
    check_field(
        json!({"type": "integer", "constraints": {"enum": ["1", 2]}}),
        &[("1", "ok"), ("01", "ok"), (" 2", "ok"), ("3", "enum")],
    );
    check_field(
        json!({"type": "number", "constraints": {"enum": [1, 2.5]}}),
        &[("1.0", "ok"), ("2.50", "ok"), ("3", "enum")],
    );
    check_field(
        json!({"type": "boolean", "constraints": {"enum": [true]}}),
        &[("true", "ok"), ("1", "ok"), ("false", "enum")],
    );
    check_field(
        json!({"type": "date", "constraints": {"enum": ["2020-01-01"]}}),
        &[("2020-1-1", "ok"), ("2020-01-02", "enum")],
    );
    check_field(
        json!({"type": "string", "constraints": {"enum": ["a", "b"]}}),
        &[("a", "ok"), ("A", "enum")],
    );
}

#[test]
fn pattern_matches_the_whole_value() {
    // frictionless compiles `^a|b$`, so `axx` passes there; weir wants the whole value to be
    // `a` or `b`.
    check_field(
        json!({"type": "string", "constraints": {"pattern": "a|b"}}),
        &[
            ("a", "ok"),
            ("b", "ok"),
            ("axx", "pattern"),
            ("xxb", "pattern"),
        ],
    );
}

#[test]
fn missing_values_are_null() {
    let s = schema(json!({
        "fields": [
            {"name": "a", "type": "integer", "constraints": {"required": true}},
            {"name": "b", "type": "string"},
            {"name": "c", "type": "integer"},
        ],
        "missingValues": ["", "NA", "-"],
    }));
    let mut v = bound(s);
    let got: Vec<String> = run_csv(&mut v, "1,x,2\nNA,x,3\n1,NA,-\n,,\nNA,NA,NA\n")
        .iter()
        .map(verdict)
        .collect();
    assert_eq!(
        got,
        [
            "ok",
            "constraint-error a",
            "ok",
            "blank-row -",
            "blank-row -"
        ]
    );
}

#[test]
fn field_missing_values_override_the_schema_ones() {
    let s = schema(json!({
        "fields": [
            {"name": "a", "type": "integer"},
            {"name": "b", "type": "integer", "missingValues": ["x"]},
        ],
        "missingValues": ["", "NA"],
    }));
    let mut v = bound(s);
    let got: Vec<String> = run_csv(&mut v, "1,x\nNA,2\n1,NA\n1,\n")
        .iter()
        .map(verdict)
        .collect();
    assert_eq!(got, ["ok", "ok", "type-error b", "type-error b"]);
}

#[test]
fn first_error_per_record_in_field_order() {
    let s = schema(json!({"fields": [
        {"name": "a", "type": "integer", "constraints": {"minimum": 5}},
        {"name": "b", "type": "string", "constraints": {"required": true, "maxLength": 2}},
    ]}));
    let mut v = bound(s);
    let got = run_csv(&mut v, "x,\n3,bcd\n7,\n7,ok\n");
    let verdicts: Vec<String> = got.iter().map(verdict).collect();
    // frictionless lists for row 1: type-error a, constraint-error b (required); row 2:
    // constraint-error a (minimum), constraint-error b (maxLength). The first one is kept.
    assert_eq!(
        verdicts,
        [
            "type-error a",
            "constraint-error a",
            "constraint-error b",
            "ok"
        ]
    );
    assert_eq!(message(&got[0]), "cell \"x\": type is \"integer/default\"");
    assert_eq!(
        message(&got[1]),
        "cell \"3\": constraint \"minimum\" is \"5\""
    );
    assert_eq!(
        message(&got[2]),
        "cell \"\": constraint \"required\" is \"True\""
    );
}

/// Every error of each record, `(error, field)` each, as frictionless lists them.
fn all_verdicts(o: &Outcome) -> Vec<String> {
    match o {
        Outcome::Reject(r) => r
            .all()
            .map(|e| format!("{} {}", e.error, e.field.as_deref().unwrap_or("-")))
            .collect(),
        other => vec![verdict(other)],
    }
}

#[test]
fn all_errors_lists_every_error_of_a_record_in_frictionless_order() {
    let s = schema(json!({"fields": [
        {"name": "a", "type": "integer", "constraints": {"minimum": 5}},
        {"name": "b", "type": "string", "constraints": {"required": true, "maxLength": 2}},
        {"name": "c", "type": "integer"},
    ]}));
    let names: Vec<String> = s.field_names().iter().map(|n| n.to_string()).collect();
    let mut v = Validate::new(s).all_errors(true);
    v.bind(&Columns::new(names)).expect("the header matches");
    let got: Vec<Vec<String>> = run_csv(&mut v, "x,,y\n3,bcd,1\n7,ok,2\nx\n7,y,2,5,6\n,,\n")
        .iter()
        .map(all_verdicts)
        .collect();
    assert_eq!(
        got,
        [
            vec!["type-error a", "constraint-error b", "type-error c"],
            vec!["constraint-error a", "constraint-error b"],
            vec!["ok"],
            // frictionless: type-error a, constraint-error b, missing-cell b, missing-cell c
            vec![
                "type-error a",
                "constraint-error b",
                "missing-cell b",
                "missing-cell c"
            ],
            vec!["extra-cell 4", "extra-cell 5"],
            vec!["blank-row -"],
        ]
    );
    // Without it, the first of them.
    let s = schema(json!({"fields": [
        {"name": "a", "type": "integer", "constraints": {"minimum": 5}},
        {"name": "b", "type": "string", "constraints": {"required": true, "maxLength": 2}},
        {"name": "c", "type": "integer"},
    ]}));
    let mut v = bound(s);
    let got: Vec<Vec<String>> = run_csv(&mut v, "x,,y\nx\n7,y,2,5,6\n")
        .iter()
        .map(all_verdicts)
        .collect();
    assert_eq!(
        got,
        [
            vec!["type-error a"],
            vec!["type-error a"],
            vec!["extra-cell 4"]
        ]
    );
}

#[test]
fn constraint_notes_print_values_as_python() {
    let s = schema(json!({"fields": [
        {"name": "a", "type": "integer", "constraints": {"enum": ["1", 2]}},
        {"name": "b", "type": "number", "constraints": {"minimum": 1.0}},
    ]}));
    let mut v = bound(s);
    let got = run_csv(&mut v, "3,1\n1,0\n");
    assert_eq!(
        message(&got[0]),
        "cell \"3\": constraint \"enum\" is \"['1', 2]\""
    );
    assert_eq!(
        message(&got[1]),
        "cell \"0\": constraint \"minimum\" is \"1.0\""
    );
}

#[test]
fn short_and_long_records() {
    let s = schema(json!({"fields": [
        {"name": "a", "type": "integer"},
        {"name": "b", "type": "string", "constraints": {"required": true}},
        {"name": "c", "type": "integer"},
    ]}));
    let mut v = bound(s);
    let got: Vec<String> = run_csv(&mut v, "x\n1\n\"\"\n1,y\n1,y,2,5\n,,,\n")
        .iter()
        .map(verdict)
        .collect();
    assert_eq!(
        got,
        [
            // frictionless: type-error a, constraint-error b, missing-cell b, missing-cell c
            "type-error a",
            // frictionless: constraint-error b (required, past the end), missing-cell b, c
            "constraint-error b",
            // every cell missing or absent
            "blank-row -",
            "missing-cell c",
            "extra-cell 4",
            "blank-row -",
        ]
    );
}

#[test]
fn json_values_are_read_as_python_values() {
    let s = schema(json!({"fields": [
        {"name": "i", "type": "integer"},
        {"name": "n", "type": "number"},
        {"name": "s", "type": "string"},
        {"name": "b", "type": "boolean"},
        {"name": "y", "type": "year"},
    ]}));
    let mut v = bound(s);
    use ValueKind::{Json, Null, Text};
    let cases: [([(&str, ValueKind); 5], &str); 6] = [
        (
            [
                ("1", Json),
                ("1.5", Json),
                ("x", Text),
                ("true", Json),
                ("2020", Json),
            ],
            "ok",
        ),
        (
            [
                ("1.0", Json),
                ("1.5", Text),
                ("x", Text),
                ("true", Text),
                ("true", Json),
            ],
            "ok",
        ),
        (
            [
                ("1e3", Json),
                ("1", Json),
                ("", Null),
                ("", Null),
                ("", Null),
            ],
            "ok",
        ),
        (
            [
                ("true", Json),
                ("1", Json),
                ("x", Text),
                ("true", Json),
                ("2020", Json),
            ],
            "type-error i",
        ),
        (
            [
                ("1", Json),
                ("1", Json),
                ("12", Json),
                ("true", Json),
                ("2020", Json),
            ],
            "type-error s",
        ),
        (
            [
                ("1", Json),
                ("[1]", Json),
                ("x", Text),
                ("true", Json),
                ("2020", Json),
            ],
            "type-error n",
        ),
    ];
    for (cells, want) in cases {
        assert_eq!(verdict(&run_cells(&mut v, &cells)), want, "{cells:?}");
    }
    let all_null = [("", Null), ("", Null), ("", Null), ("", Null), ("", Null)];
    assert_eq!(verdict(&run_cells(&mut v, &all_null)), "blank-row -");
}

#[test]
fn invalid_utf8_is_a_type_error() {
    let mut v = bound(schema(
        json!({"fields": [{"name": "s", "type": "string"}, {"name": "x", "type": "any"}]}),
    ));
    let input = b"\xff,\xfe\n";
    let dialect = Dialect::new(Format::Csv);
    let mut dec = CsvDecoder::new(input, &dialect, 1);
    let mut buf = RecordBuf::default();
    assert!(dec.next_record(&mut buf));
    let mut rec = Record::new(input, &mut buf);
    let got = v.apply(&mut rec);
    assert_eq!(verdict(&got), "type-error s");
    assert_eq!(
        message(&got),
        "cell \"\u{fffd}\": type is \"string/default\" (the bytes are not valid UTF-8)"
    );
}

#[test]
fn header_must_match_exactly_by_default() {
    let s = || {
        schema(json!({"fields": [
            {"name": "a"}, {"name": "b"}, {"name": "c"},
        ]}))
    };
    let bind = |names: &[&str]| Validate::new(s()).bind(&Columns::new(names.iter().copied()));
    assert!(bind(&["a", "b", "c"]).is_ok());
    let cases: [(&[&str], &str); 6] = [
        (&["a", "c", "b"], "incorrect-label: column 2 is 'c', the schema expects 'b'; incorrect-label: column 3 is 'b', the schema expects 'c'"),
        (&["a", "b"], "missing-label: field 'c' has no column"),
        (&["a", "b", "c", "d"], "extra-label: column 4 'd' is not in the schema"),
        (&["a", "b", ""], "blank-label: column 3 has no name (the schema expects 'c')"),
        (&["a", "b", "a"], "duplicate-label: column 3 'a' repeats column 1 (the schema expects 'c')"),
        (&["A", "b", "c"], "incorrect-label: column 1 is 'A', the schema expects 'a'"),
    ];
    for (names, want) in cases {
        let err = bind(names).unwrap_err();
        assert_eq!(
            err.message,
            format!("the header does not match the schema (fieldsMatch 'exact'): {want}")
        );
    }
}

#[test]
fn fields_match_by_name() {
    let s = |mode: &str| {
        schema(json!({"fieldsMatch": mode, "fields": [
            {"name": "a", "type": "integer"},
            {"name": "b", "type": "integer", "constraints": {"required": true}},
        ]}))
    };
    // `equal`: any order; columns map by name.
    let mut v = Validate::new(s("equal"));
    v.bind(&Columns::new(["b", "a"])).unwrap();
    let got: Vec<String> = run_csv(&mut v, "1,x\n").iter().map(verdict).collect();
    assert_eq!(got, ["type-error a"]);
    assert!(Validate::new(s("equal"))
        .bind(&Columns::new(["a"]))
        .unwrap_err()
        .message
        .contains("missing-label: field 'b'"));
    // `subset`: other columns are allowed and not checked.
    let mut v = Validate::new(s("subset"));
    v.bind(&Columns::new(["z", "a", "b"])).unwrap();
    let got: Vec<String> = run_csv(&mut v, "x,1,2\n,,\n").iter().map(verdict).collect();
    assert_eq!(got, ["ok", "blank-row -"]);
    assert!(Validate::new(s("subset"))
        .bind(&Columns::new(["a"]))
        .is_err());
    // `superset`: fields may be absent, except required ones.
    assert!(Validate::new(s("superset"))
        .bind(&Columns::new(["b"]))
        .is_ok());
    let err = Validate::new(s("superset"))
        .bind(&Columns::new(["a", "z"]))
        .unwrap_err();
    assert!(
        err.message.contains("extra-label: column 2 'z'"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("missing-label: field 'b'"),
        "{}",
        err.message
    );
    // `partial`: at least one field.
    assert!(Validate::new(s("partial"))
        .bind(&Columns::new(["b", "z"]))
        .is_ok());
    let err = Validate::new(s("partial"))
        .bind(&Columns::new(["y", "z"]))
        .unwrap_err();
    assert!(err.message.contains("unmatched-header"), "{}", err.message);
    let err = Validate::new(s("equal"))
        .bind(&Columns::new(["a", "b", "a"]))
        .unwrap_err();
    assert!(err.message.contains("duplicate-label"), "{}", err.message);
}

#[test]
fn loads_json_and_yaml() {
    let yaml = "
fields:
  - name: id
    type: integer
    constraints:
      required: true
      minimum: 1
  - name: when
    type: date
    format: '%d/%m/%Y'
missingValues: ['', 'n/a']
";
    let from_yaml = Schema::from_yaml(yaml).unwrap();
    assert_eq!(from_yaml.field_names(), ["id", "when"]);
    let from_json = Schema::from_json(&from_yaml.to_json_pretty()).unwrap();
    assert_eq!(from_json.field_names(), ["id", "when"]);
    let mut v = bound(from_json);
    let got: Vec<String> = run_csv(&mut v, "1,02/01/2020\n0,n/a\nn/a,x\n")
        .iter()
        .map(verdict)
        .collect();
    assert_eq!(got, ["ok", "constraint-error id", "constraint-error id"]);

    let dir = tempfile::tempdir().unwrap();
    for (file, text) in [
        ("s.yaml", yaml.to_string()),
        ("s.yml", yaml.to_string()),
        ("s.json", from_yaml.to_json_pretty()),
    ] {
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        assert_eq!(
            Schema::from_path(&path).unwrap().field_names(),
            ["id", "when"]
        );
    }
    let err = Schema::from_path(&dir.path().join("absent.json")).unwrap_err();
    assert!(
        err.message.contains("cannot read the schema"),
        "{}",
        err.message
    );
    assert!(Schema::from_yaml("fields: [")
        .unwrap_err()
        .message
        .contains("not valid YAML"));
    assert!(Schema::from_json("{")
        .unwrap_err()
        .message
        .contains("not valid JSON"));
}

#[test]
fn pretty_json_puts_names_first() {
    let s = schema(
        json!({"fields": [{"type": "integer", "constraints": {"required": true}, "name": "a"}]}),
    );
    let pretty = s.to_json_pretty();
    let name = pretty.find("\"name\"").unwrap();
    let ty = pretty.find("\"type\"").unwrap();
    let constraints = pretty.find("\"constraints\"").unwrap();
    assert!(name < ty && ty < constraints, "{pretty}");
}

#[test]
fn bad_schemas_name_the_field_and_the_rule() {
    let cases = [
        (
            json!({"fields": [{"name": "a", "type": "foo"}]}),
            "field 'a': type 'foo' is not supported",
        ),
        (
            json!({"fields": [{"name": "age", "type": "integer", "constraints": {"minimum": "abc"}}]}),
            "field 'age': constraint 'minimum' must be an integer (got \"abc\")",
        ),
        (
            json!({"fields": [{"name": "d", "type": "date", "constraints": {"maximum": "2020-13-01"}}]}),
            "field 'd': constraint 'maximum' must be a date (got \"2020-13-01\")",
        ),
        (
            json!({"fields": [{"name": "a", "type": "integer", "constraints": {"pattern": "x"}}]}),
            "field 'a': constraint 'pattern' is not supported by type 'integer'",
        ),
        (
            json!({"fields": [{"name": "a", "constraints": {"minLength": "3"}}]}),
            "field 'a': constraint 'minLength' must be a non-negative integer (got \"3\")",
        ),
        (
            json!({"fields": [{"name": "a", "constraints": {"pattern": "("}}]}),
            "field 'a': constraint 'pattern' is not a valid regular expression",
        ),
        (
            json!({"fields": [{"name": "a", "constraints": {"pattern": "(?<=a)b"}}]}),
            "field 'a': constraint 'pattern' is not a valid regular expression",
        ),
        (
            json!({"fields": [{"name": "a", "type": "integer", "constraints": {"enum": [1, "x"]}}]}),
            "field 'a': constraint 'enum' member \"x\" is not an integer",
        ),
        (
            json!({"fields": [{"name": "a", "constraints": {"foo": 1}}]}),
            "field 'a': constraint 'foo' is not supported by type 'string'",
        ),
        (
            json!({"fields": [{"name": "a"}, {"name": "a"}]}),
            "field 'a': names of the fields are not unique",
        ),
        (
            json!({"fields": [{"type": "string"}]}),
            "field 1: 'name' is required",
        ),
        (
            json!({"fields": [{"name": "a", "required": true}]}),
            "field 'a': \"required\" should be set as \"constraints.required\"",
        ),
        (
            json!({"fields": [{"name": "a", "format": "foo"}]}),
            "field 'a': format 'foo' is not a string format",
        ),
        (
            json!({"fields": [{"name": "a", "type": "date", "format": "%Q"}]}),
            "field 'a': format '%Q' has a directive '%Q' that weir does not support",
        ),
        (
            json!({"fields": [{"name": "a", "type": "boolean", "trueValues": "yes"}]}),
            "field 'a': 'trueValues' must be a list of strings",
        ),
        (
            json!({"fields": [{"name": "id", "constraints": {"unique": "yes"}}]}),
            "field 'id': constraint 'unique' must be true or false",
        ),
        (
            json!({"fields": [{"name": "id"}], "primaryKey": "key"}),
            "'primaryKey' names 'key', which is not a field",
        ),
        (
            json!({"fields": [{"name": "id"}], "uniqueKeys": "id"}),
            "'uniqueKeys' must be a list of lists",
        ),
        (
            json!({"fields": [{"name": "id"}], "fieldsMatch": "loose"}),
            "'fieldsMatch' must be one of",
        ),
        (
            json!({"fields": [{"name": "a", "type": "geojson"}]}),
            "field 'a': type 'geojson' is not supported by weir",
        ),
        (
            json!({"fields": "a"}),
            "a schema must be an object with a 'fields' list",
        ),
        (json!([]), "a schema must be an object with a 'fields' list"),
    ];
    for (descriptor, want) in cases {
        let got = schema_error(descriptor.clone());
        assert!(
            got.starts_with(want),
            "{descriptor}\n got: {got}\nwant: {want}"
        );
    }
    // `unique: false` is no uniqueness at all.
    schema(json!({"fields": [{"name": "id", "constraints": {"unique": false}}]}));
}

#[test]
fn infers_types_as_frictionless_describe() {
    let rows = [
        [
            "1",
            "1.5",
            "true",
            "2020-01-01",
            "x",
            "",
            "2020-01-01T10:00:00",
            "10:00:00",
        ],
        [
            "2",
            "2",
            "false",
            "2020-01-02",
            "y",
            "",
            "2020-01-01T10:00:00Z",
            "10:00:00",
        ],
        ["", "3", "1", "", "z", "", "", ""],
    ];
    let names: Vec<String> = "a,b,c,d,e,f,g,h".split(',').map(String::from).collect();
    let mut sample = rows.iter().map(|r| {
        r.iter()
            .map(|c| Some(c.to_string()))
            .collect::<Vec<Option<String>>>()
    });
    let s = infer(&mut sample, &names);
    let d: serde_json::Value = serde_json::from_str(&s.to_json_pretty()).unwrap();
    let types: Vec<&str> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    // `frictionless describe` on the same CSV.
    assert_eq!(
        types,
        ["integer", "number", "boolean", "date", "string", "any", "datetime", "time"]
    );
    let required: Vec<bool> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["constraints"]["required"] == json!(true))
        .collect();
    assert_eq!(
        required,
        [false, true, true, false, true, false, false, false]
    );
}

#[test]
fn infer_needs_ninety_percent_and_tries_rarer_types_first() {
    let names: Vec<String> = vec!["a".into(), "b".into(), "".into(), "a".into()];
    let mut rows: Vec<Vec<Option<String>>> = (1..=10)
        .map(|i| {
            vec![
                Some(i.to_string()),
                Some(format!("2020-{i:02}")),
                Some(format!("\"{i},{i}\"").trim_matches('"').to_string()),
                Some(format!("P{i}D")),
            ]
        })
        .collect();
    // As the third row: frictionless decides as soon as a type reaches 90%, so a bad value
    // late in the sample would come too late to matter.
    rows.insert(
        2,
        vec![
            Some("x".into()),
            Some("2020-11".into()),
            None,
            Some("PT1H".into()),
        ],
    );
    let s = infer(&mut rows.into_iter(), &names);
    assert_eq!(s.field_names(), ["a", "b", "field3", "a2"]);
    let d: serde_json::Value = serde_json::from_str(&s.to_json_pretty()).unwrap();
    let types: Vec<&str> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    // `frictionless describe` on the same CSV: 10 integers of 11 values is below 90%.
    assert_eq!(types, ["string", "yearmonth", "geopoint", "duration"]);
}

#[test]
fn infer_on_nothing_is_any() {
    let s = infer(&mut std::iter::empty(), &["a".to_string()]);
    assert!(s.to_json_pretty().contains("\"any\""));
}

#[test]
fn typed_keys_equal_for_equal_values() {
    let s = schema(json!({"fields": [
        {"name": "n", "type": "number"},
        {"name": "d", "type": "datetime"},
    ]}));
    let key = |fi: usize, text: &str| {
        let f = &s.fields[fi];
        let mut scratch = f.scratch();
        let mut out = Vec::new();
        f.write_key(field::Cell::Text(text), &mut scratch, &mut out)
            .then_some(out)
    };
    assert_eq!(key(0, "1.0"), key(0, "01"));
    assert_ne!(key(0, "1.5"), key(0, "1"));
    assert_eq!(key(0, "NaN"), None);
    assert_eq!(key(0, "x"), None);
    assert_eq!(
        key(1, "2020-01-02T10:00:00Z"),
        key(1, "2020-01-02T11:00:00+01:00")
    );
    assert_ne!(
        key(1, "2020-01-02T10:00:00Z"),
        key(1, "2020-01-02T10:00:00")
    );
}

#[test]
fn json_null_is_missing_whatever_the_missing_values() {
    let s = schema(json!({
        "fields": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}],
        "missingValues": ["NA"],
    }));
    let mut v = bound(s);
    use ValueKind::{Null, Text};
    // A JSON `null` is missing; an empty span (an empty CSV field) is the text "", which this
    // schema does not count as missing: an integer type error, a valid string.
    assert_eq!(
        verdict(&run_cells(&mut v, &[("null", Null), ("", Null)])),
        "ok"
    );
    assert_eq!(
        verdict(&run_cells(&mut v, &[("", Null), ("x", Text)])),
        "type-error a"
    );
}

#[test]
fn valid_records_are_left_unchanged() {
    let mut v = bound(schema(
        json!({"fields": [{"name": "a", "type": "integer"}]}),
    ));
    let input = b" 7\n";
    let dialect = Dialect::new(Format::Csv);
    let mut dec = CsvDecoder::new(input, &dialect, 1);
    let mut buf = RecordBuf::default();
    assert!(dec.next_record(&mut buf));
    let mut rec = Record::new(input, &mut buf);
    assert_eq!(v.apply(&mut rec), Outcome::Keep);
    assert!(!rec.is_changed());
    assert_eq!(rec.get(0), Some(&b" 7"[..]));
}

#[test]
fn row_level_messages() {
    let mut v = bound(schema(json!({"fields": [{"name": "a"}, {"name": "b"}]})));
    let got = run_csv(&mut v, "x\nx,y,z\n,\n");
    assert_eq!(
        message(&got[0]),
        "record has 1 field, the header has 2: 'b' is missing"
    );
    assert_eq!(message(&got[1]), "record has 3 fields, the header has 2");
    assert_eq!(message(&got[2]), "record is completely blank");
    let long = "y".repeat(300);
    let mut v = bound(schema(
        json!({"fields": [{"name": "a", "constraints": {"maxLength": 1}}]}),
    ));
    let got = run_csv(&mut v, &format!("{long}\n"));
    assert_eq!(
        message(&got[0]),
        format!(
            "cell \"{}...\": constraint \"maxLength\" is \"1\"",
            &long[..120]
        )
    );
}

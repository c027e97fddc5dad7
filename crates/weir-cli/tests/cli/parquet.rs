//! Parquet output: types from the Table Schema, nulls, gates and parallel runs, read back with
//! the parquet crate's Arrow reader.

use std::fs::File;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::support::*;

/// A cell read back, typed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum V {
    Null,
    S(String),
    I(i64),
    F(f64),
    B(bool),
    D(i32),
    T(i64),
}

/// The Arrow types of the columns and the rows of a Parquet file.
pub(crate) fn read_parquet(sb: &Sandbox, name: &str) -> (Vec<(String, DataType)>, Vec<Vec<V>>) {
    let file = File::open(sb.join(name)).expect("the output exists");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file");
    let types = builder
        .schema()
        .fields()
        .iter()
        .map(|f| {
            assert!(f.is_nullable(), "{} is nullable", f.name());
            (f.name().clone(), f.data_type().clone())
        })
        .collect();
    let mut rows = Vec::new();
    for batch in builder.build().expect("reader") {
        let batch = batch.expect("a batch");
        for r in 0..batch.num_rows() {
            let row = batch
                .columns()
                .iter()
                .map(|c| {
                    if c.is_null(r) {
                        return V::Null;
                    }
                    match c.data_type() {
                        DataType::Utf8 => V::S(c.as_string::<i32>().value(r).to_string()),
                        DataType::Int64 => V::I(c.as_primitive::<Int64Type>().value(r)),
                        DataType::Float64 => V::F(c.as_primitive::<Float64Type>().value(r)),
                        DataType::Boolean => V::B(c.as_boolean().value(r)),
                        DataType::Date32 => V::D(c.as_primitive::<Date32Type>().value(r)),
                        DataType::Timestamp(TimeUnit::Microsecond, None) => {
                            V::T(c.as_primitive::<TimestampMicrosecondType>().value(r))
                        }
                        other => panic!("unexpected type {other}"),
                    }
                })
                .collect();
            rows.push(row);
        }
    }
    (types, rows)
}

fn s(text: &str) -> V {
    V::S(text.to_string())
}

const PEOPLE: &[u8] = "id,name,age,joined,seen,score,active,city\n\
1,Ann,30,2024-01-05,2024-01-05T10:20:30Z,1.5,true,Zürich 😀\n\
2,,,1970-01-01,,,false,\n\
3,\"\",41,,1969-12-31T23:59:59Z,-2.25e1,,\"\"\n\
4,Bob,x,2020-02-29,,3,true,Oslo\n\
5,Cy,7,1969-12-31,2024-01-05T12:20:30+02:00,0,false,\"a,b\"\n"
    .as_bytes();

const PEOPLE_SCHEMA: &str = r#"{"fields": [
  {"name": "id", "type": "integer"},
  {"name": "name", "type": "string"},
  {"name": "age", "type": "integer"},
  {"name": "joined", "type": "date"},
  {"name": "seen", "type": "datetime"},
  {"name": "score", "type": "number"},
  {"name": "active", "type": "boolean"},
  {"name": "city", "type": "string"}
]}"#;

#[test]
fn parquet_with_a_schema_has_its_types_and_nulls() {
    let sb = Sandbox::new();
    sb.write("people.csv", PEOPLE);
    sb.write("people.schema.json", PEOPLE_SCHEMA.as_bytes());
    let o = sb.weir(&[
        "run",
        "-i",
        "people.csv",
        "-o",
        "people.parquet",
        "--schema",
        "people.schema.json",
        "--rejects",
        "rejects.csv",
        "--report",
        "report.json",
        "-q",
    ]);
    assert_ok(&o);
    let (types, rows) = read_parquet(&sb, "people.parquet");
    let t = |n: &str, d: DataType| (n.to_string(), d);
    assert_eq!(
        types,
        vec![
            t("id", DataType::Int64),
            t("name", DataType::Utf8),
            t("age", DataType::Int64),
            t("joined", DataType::Date32),
            t("seen", DataType::Timestamp(TimeUnit::Microsecond, None)),
            t("score", DataType::Float64),
            t("active", DataType::Boolean),
            t("city", DataType::Utf8),
        ]
    );
    let ts = 1_704_450_030_000_000; // 2024-01-05T10:20:30Z
    assert_eq!(
        rows,
        vec![
            vec![
                V::I(1),
                s("Ann"),
                V::I(30),
                V::D(19727),
                V::T(ts),
                V::F(1.5),
                V::B(true),
                s("Zürich 😀")
            ],
            // NULL (an empty unquoted field) is null in every type.
            vec![
                V::I(2),
                V::Null,
                V::Null,
                V::D(0),
                V::Null,
                V::Null,
                V::B(false),
                V::Null
            ],
            // The empty string stays apart from NULL in a text column.
            vec![
                V::I(3),
                s(""),
                V::I(41),
                V::Null,
                V::T(-1_000_000),
                V::F(-22.5),
                V::Null,
                s("")
            ],
            // Record 4 is invalid (age 'x') and goes to the rejects.
            vec![
                V::I(5),
                s("Cy"),
                V::I(7),
                V::D(-1),
                V::T(ts),
                V::F(0.0),
                V::B(false),
                s("a,b")
            ],
        ]
    );
    let rejects = parse_csv(&sb.read("rejects.csv"));
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(
        rejects[1][3..5],
        ["age".to_string(), "type-error".to_string()]
    );
    let report = sb.read_string("report.json");
    assert_balanced(&report);
    assert_eq!(report_num(&report, "records_written"), 4);
    assert_eq!(report_num(&report, "records_rejected"), 1);
}

#[test]
fn parquet_without_a_schema_is_text() {
    let sb = Sandbox::new();
    sb.write("people.csv", PEOPLE);
    let o = sb.weir(&["run", "-i", "people.csv", "-o", "out.parquet", "-q"]);
    assert_ok(&o);
    let (types, rows) = read_parquet(&sb, "out.parquet");
    assert!(types.iter().all(|(_, t)| *t == DataType::Utf8), "{types:?}");
    assert_eq!(types.len(), 8);
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0][7], s("Zürich 😀"));
    assert_eq!(rows[1][1], V::Null);
    assert_eq!(rows[2][1], s(""));
    assert_eq!(rows[3][2], s("x"));
    assert_eq!(rows[4][7], s("a,b"));
}

#[test]
fn derived_and_unknown_columns_are_text_with_a_schema() {
    let sb = Sandbox::new();
    sb.write("people.csv", PEOPLE);
    sb.write("people.schema.json", PEOPLE_SCHEMA.as_bytes());
    let o = sb.weir(&[
        "run",
        "-i",
        "people.csv",
        "-o",
        "out.parquet",
        "--schema",
        "people.schema.json",
        "--select",
        "id,age,score",
        "--derive",
        "age=TRY_CAST(age AS BIGINT) + 1",
        "--derive",
        "extra=upper('a')",
        "-q",
    ]);
    assert_ok(&o);
    let (types, rows) = read_parquet(&sb, "out.parquet");
    let names: Vec<(&str, &DataType)> = types.iter().map(|(n, t)| (n.as_str(), t)).collect();
    assert_eq!(
        names,
        vec![
            ("id", &DataType::Int64),
            ("age", &DataType::Utf8),
            ("score", &DataType::Float64),
            ("extra", &DataType::Utf8),
        ]
    );
    assert_eq!(rows[0], vec![V::I(1), s("31"), V::F(1.5), s("A")]);
}

/// A CSV of `n` records with repeated keys.
fn keyed_csv(n: usize) -> Vec<u8> {
    let mut s = String::from("id,key,amount,day\n");
    for i in 0..n {
        s.push_str(&format!(
            "{i},k{},{}.{},2024-02-{:02}\n",
            i % 37,
            i * 3,
            i % 10,
            i % 28 + 1
        ));
    }
    s.into_bytes()
}

#[test]
fn parquet_gates_and_parallel_runs_give_the_serial_rows() {
    let sb = Sandbox::new();
    sb.write("keyed.csv", &keyed_csv(500));
    sb.write(
        "keyed.schema.json",
        br#"{"fields": [{"name": "id", "type": "integer"}, {"name": "key", "type": "string"},
            {"name": "amount", "type": "number"}, {"name": "day", "type": "date"}]}"#,
    );
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "run",
            "-i",
            "keyed.csv",
            "-o",
            out,
            "--schema",
            "keyed.schema.json",
            "--dedupe",
            "key",
            "--head",
            "20",
            "-q",
        ];
        args.extend_from_slice(extra);
        assert_ok(&sb.weir(&args));
        read_parquet(&sb, out)
    };
    let serial = run("serial.parquet", &["--workers", "1"]);
    let defaults = run("defaults.parquet", &[]);
    let small = run("small.parquet", &["--chunk-size", "7", "--workers", "3"]);
    assert_eq!(serial.1.len(), 20);
    // The first record of each of the first 20 keys, in input order.
    let ids: Vec<V> = serial.1.iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids, (0..20).map(V::I).collect::<Vec<_>>());
    assert_eq!(serial.1[3], vec![V::I(3), s("k3"), V::F(9.3), V::D(19757)]);
    assert_eq!(defaults, serial);
    assert_eq!(small, serial);
}

#[test]
fn parquet_row_groups_hold_many_batches() {
    // More rows than one row group (65,536), in tiny chunks: every row arrives, in order.
    let sb = Sandbox::new();
    sb.write("keyed.csv", &keyed_csv(70_000));
    let o = sb.weir(&[
        "run",
        "-i",
        "keyed.csv",
        "-o",
        "big.parquet",
        "--chunk-size",
        "4KiB",
        "--workers",
        "3",
        "-q",
    ]);
    assert_ok(&o);
    let file = File::open(sb.join("big.parquet")).expect("the output exists");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file");
    assert_eq!(builder.metadata().num_row_groups(), 2);
    let (_, rows) = read_parquet(&sb, "big.parquet");
    assert_eq!(rows.len(), 70_000);
    assert!(rows
        .iter()
        .enumerate()
        .all(|(i, r)| r[0] == V::S(i.to_string())));
}

#[test]
fn a_failed_parquet_run_leaves_no_file() {
    let sb = Sandbox::new();
    let mut data = keyed_csv(100);
    data.extend_from_slice(format!("1,{},1,2024-01-01\n", "x".repeat(5000)).as_bytes());
    sb.write("keyed.csv", &data);
    let o = sb.weir(&[
        "run",
        "-i",
        "keyed.csv",
        "-o",
        "out.parquet",
        "--max-record-size",
        "1KiB",
        "-q",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(!sb.exists("out.parquet"));
    assert!(sb.temp_files().is_empty(), "{:?}", sb.temp_files());
}

#[test]
fn parquet_is_not_an_input_format() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"a\n1\n");
    let o = sb.weir(&[
        "run", "-i", "in.csv", "--format", "parquet", "-o", "out.csv", "-q",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("does not read"), "{}", stderr(&o));
    assert!(!sb.exists("out.csv"));
    // `--output-format parquet` writes Parquet whatever the extension.
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "--output-format",
        "parquet",
        "-o",
        "out.bin",
    ]);
    assert_ok(&o);
    assert_eq!(read_parquet(&sb, "out.bin").1, vec![vec![s("1")]]);
}

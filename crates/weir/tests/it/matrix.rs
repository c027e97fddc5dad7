//! The matrix tester: one input and its expected output, over chunk sizes {1, 2, 7, 64,
//! default} x workers {1, 2, 8} x ordered/unordered, for every format (CSV has property tests
//! of its own in `equivalence.rs`).

use crate::common::{in_memory, Shared};

use weir::schema::Schema;
use weir::transform::{Dedupe, Head, Validate};
use weir::{Dialect, Format, Report, Select, Transform};

struct Case {
    dialect: Dialect,
    input: &'static str,
    chain: fn() -> Vec<Box<dyn Transform>>,
    output: &'static str,
    rejects: &'static str,
    counts: (u64, u64, u64),
}

fn run(case: &Case, chunk: usize, workers: usize, ordered: bool) -> (String, String, Report) {
    let (b, buffers) = in_memory("in", case.input.as_bytes());
    let mut b = b
        .dialect(case.dialect)
        .chunk_size(chunk)
        .workers(workers)
        .ordered(ordered);
    for step in (case.chain)() {
        b = b.boxed_transform(step);
    }
    let report = b
        .build()
        .run()
        .unwrap_or_else(|f| panic!("run failed: {}", f.error));
    let text = |s: &Shared| String::from_utf8(s.bytes()).unwrap();
    (text(&buffers.output), text(&buffers.rejects), report)
}

fn sorted_lines(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().collect();
    v.sort_unstable();
    v
}

fn check(case: &Case) {
    for chunk in [1, 2, 7, 64, 1 << 20] {
        for workers in [1, 2, 8] {
            for ordered in [true, false] {
                let (out, rejects, report) = run(case, chunk, workers, ordered);
                let at = format!("chunk {chunk}, workers {workers}, ordered {ordered}");
                if ordered {
                    assert_eq!(out, case.output, "{at}");
                    assert_eq!(rejects, case.rejects, "{at}");
                } else {
                    assert_eq!(sorted_lines(&out), sorted_lines(case.output), "{at}");
                    assert_eq!(sorted_lines(&rejects), sorted_lines(case.rejects), "{at}");
                }
                let (read, written, rejected) = case.counts;
                assert_eq!(
                    (
                        report.records_read,
                        report.records_written,
                        report.records_rejected
                    ),
                    (read, written, rejected),
                    "{at}"
                );
                assert!(report.balanced(), "{at}");
            }
        }
    }
}

#[test]
fn jsonl_passthrough_keeps_lines_and_rejects_bad_ones() {
    check(&Case {
        dialect: Dialect::new(Format::Jsonl),
        input: "{\"id\":1,\"name\":\"Ana\",\"tags\":[1,{\"k\":\"}\"}]}\r\n\n\
                {\"id\":2,\"name\":\"B\\\"en\",\"tags\":null}\n\
                not json\n\
                {\"id\":3,\"name\":\"Cy\"}\n\
                {\"id\":4,\"name\":\"Di\",\"tags\":[],\"extra\":true}",
        chain: Vec::new,
        output: "{\"id\":1,\"name\":\"Ana\",\"tags\":[1,{\"k\":\"}\"}]}\n\
                 {\"id\":2,\"name\":\"B\\\"en\",\"tags\":null}\n",
        rejects: "file,line,byte_offset,field,error,message,record\n\
                  in,4,81,,parse-error,not a JSON object: expected a JSON object at column 1,not json\n\
                  in,5,90,tags,missing-cell,key 'tags' is missing,\"{\"\"id\"\":3,\"\"name\"\":\"\"Cy\"\"}\"\n\
                  in,6,111,extra,extra-cell,key 'extra' is not a column of the first record,\"{\"\"id\"\":4,\"\"name\"\":\"\"Di\"\",\"\"tags\"\":[],\"\"extra\"\":true}\"\n",
        counts: (5, 2, 3),
    });
}

#[test]
fn jsonl_select_re_encodes_in_the_chosen_order() {
    check(&Case {
        dialect: Dialect::new(Format::Jsonl),
        input: "{\"a\":\"x\\ty\",\"b\":2.5,\"c\":{\"d\":[true]}}\n{\"c\":null,\"b\":-1e3,\"a\":\"\\u00e9\"}\n",
        chain: || vec![Box::new(Select::new(["c", "a"]))],
        output: "{\"c\":{\"d\":[true]},\"a\":\"x\\ty\"}\n{\"c\":null,\"a\":\"é\"}\n",
        rejects: "file,line,byte_offset,field,error,message,record\n",
        counts: (2, 2, 0),
    });
}

#[test]
fn lines_are_records_including_empty_ones() {
    check(&Case {
        dialect: Dialect::new(Format::Lines),
        input: "alpha\r\n\nbeta \"quoted\", with comma\ngamma",
        chain: Vec::new,
        output: "alpha\n\nbeta \"quoted\", with comma\ngamma\n",
        rejects: "file,line,byte_offset,field,error,message,record\n",
        counts: (4, 4, 0),
    });
}

#[test]
fn tsv_reads_quotes_and_rejects_ragged_rows() {
    check(&Case {
        dialect: Dialect::new(Format::Tsv),
        input: "\u{feff}id\tnote\n1\t\"tab\there\"\n2\tplain, with comma\n3\n4\t\"multi\nline\"\n",
        chain: || vec![Box::new(Select::new(["note", "id"]))],
        output: "note\tid\n\"tab\there\"\t1\nplain, with comma\t2\n\"multi\nline\"\t4\n",
        rejects: "file,line,byte_offset,field,error,message,record\n\
                  in,4,44,note,missing-cell,\"record has 1 field, the header has 2: 'note' is missing\",3\n",
        counts: (4, 3, 1),
    });
}

#[test]
fn head_keeps_the_first_records_in_input_order() {
    check(&Case {
        dialect: Dialect::new(Format::Csv),
        input: "id,v\n1,a\n2\n3,\"multi\nline\"\n4,d\n5,e\n6,f\n",
        chain: || vec![Box::new(Head::new(3))],
        output: "id,v\n1,a\n3,\"multi\nline\"\n4,d\n",
        rejects: "file,line,byte_offset,field,error,message,record\n\
                  in,3,9,v,missing-cell,\"record has 1 field, the header has 2: 'v' is missing\",2\n",
        // The run ends at line 5, the third record kept: the last two are never read.
        counts: (4, 3, 1),
    });
}

#[test]
fn dedupe_keeps_first_occurrences_exactly() {
    check(&Case {
        dialect: Dialect::new(Format::Csv),
        input: "k,v\nx,1\ny,2\nx,3\n,4\nz,5\n,6\ny,7\n\"\",8\n",
        chain: || vec![Box::new(Dedupe::new(["k"]))],
        // NULL (empty) and the quoted empty string are different keys; each NULL repeats.
        output: "k,v\nx,1\ny,2\n,4\nz,5\n\"\",8\n",
        rejects: "file,line,byte_offset,field,error,message,record\n",
        counts: (8, 5, 0),
    });
}

#[test]
fn head_after_dedupe_counts_only_what_passes_dedupe() {
    check(&Case {
        dialect: Dialect::new(Format::Csv),
        input: "k\na\na\nb\na\nc\nd\n",
        chain: || vec![Box::new(Dedupe::new(["k"])), Box::new(Head::new(2))],
        output: "k\na\nb\n",
        rejects: "file,line,byte_offset,field,error,message,record\n",
        // The run ends at `b`, the second record kept.
        counts: (3, 2, 0),
    });
}

#[test]
fn unique_constraint_rejects_later_duplicates_by_typed_value() {
    check(&Case {
        dialect: Dialect::new(Format::Csv),
        input: "id,v\n1,a\n2,b\n01,c\nx,d\n2,e\n,f\n,g\n3,h\n",
        chain: || {
            let schema = Schema::from_json(
                r#"{"fields": [{"name": "id", "type": "integer", "constraints": {"unique": true}},
                               {"name": "v", "type": "string"}]}"#,
            )
            .unwrap();
            vec![Box::new(Validate::new(schema))]
        },
        // `01` is the integer 1; a missing id is not checked for uniqueness.
        output: "id,v\n1,a\n2,b\n,f\n,g\n3,h\n",
        rejects: "file,line,byte_offset,field,error,message,record\n\
                  in,4,13,id,unique-error,the value of 'id' must be unique: it repeats the record at line 2,\"01,c\"\n\
                  in,5,18,id,type-error,\"cell \"\"x\"\": type is \"\"integer/default\"\"\",\"x,d\"\n\
                  in,6,22,id,unique-error,the value of 'id' must be unique: it repeats the record at line 3,\"2,e\"\n",
        counts: (8, 5, 3),
    });
}

#[test]
fn primary_key_spans_several_fields() {
    check(&Case {
        dialect: Dialect::new(Format::Csv),
        input: "a,b\nx,1\nx,2\ny,1\nx,1\n",
        chain: || {
            let schema = Schema::from_json(
                r#"{"fields": [{"name": "a"}, {"name": "b", "type": "integer"}], "primaryKey": ["a", "b"]}"#,
            )
            .unwrap();
            vec![Box::new(Validate::new(schema))]
        },
        output: "a,b\nx,1\nx,2\ny,1\n",
        rejects: "file,line,byte_offset,field,error,message,record\n\
                  in,5,16,\"a,b\",unique-error,\"the value of 'a,b' must be unique: it repeats the record at line 2\",\"x,1\"\n",
        counts: (4, 3, 1),
    });
}

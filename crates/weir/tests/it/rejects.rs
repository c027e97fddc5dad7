//! Rejects in the input's format (`RejectsFormat::Input`): the same rejects file and reasons
//! for every chunk size and worker count, with the ordered gates cutting and adding rejected
//! records; and the places the reasons cannot go.

use crate::common::{in_memory, Shared};

use weir::schema::Schema;
use weir::transform::{Head, Validate};
use weir::{Format, RejectsFormat, Sink};

// Record by record (line): 2 kept; 3 rejected (id not an integer); 4 a duplicate key, rejected
// by the committer's unique gate; 5 kept, and the head is full: 6 (which the schema would
// reject) and 7 are never read, neither rejected nor counted.
const INPUT: &str = "id,v\n1,a\nx,b\n1,c\n2,d\ny,e\n3,f\n";

const REASONS: &str = "file,line,byte_offset,field,error,message,rejects_line
in,3,9,id,type-error,\"cell \"\"x\"\": type is \"\"integer/default\"\"\",2
in,4,13,id,unique-error,the value of 'id' must be unique: it repeats the record at line 2,3
";

fn schema() -> Schema {
    Schema::from_json(
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "v"}], "primaryKey": ["id"]}"#,
    )
    .unwrap()
}

#[test]
fn input_rejects_and_reasons_are_a_serial_runs_for_any_chunk_and_worker_count() {
    for chunk in [1, 2, 7, 64, 1 << 20] {
        for workers in [1, 3] {
            let (b, buffers) = in_memory("in", INPUT.as_bytes());
            let reasons = Shared::default();
            let report = b
                .format(Format::Csv)
                .chunk_size(chunk)
                .workers(workers)
                .transform(Head::new(4))
                .transform(Validate::new(schema()))
                .rejects_format(RejectsFormat::Input)
                .rejects_reasons(Sink::Writer("reasons".into(), Box::new(reasons.clone())))
                .build()
                .run()
                .unwrap_or_else(|f| panic!("run failed: {}", f.error));
            let case = format!("chunk {chunk}, {workers} workers");
            let text = |s: &Shared| String::from_utf8(s.bytes()).unwrap();
            assert_eq!(text(&buffers.output), "id,v\n1,a\n2,d\n", "{case}");
            assert_eq!(text(&buffers.rejects), "id,v\nx,b\n1,c\n", "{case}");
            assert_eq!(text(&reasons), REASONS, "{case}");
            assert_eq!(
                (report.records_read, report.records_written),
                (4, 2),
                "{case}"
            );
            assert_eq!(
                (
                    report.records_filtered,
                    report.records_rejected,
                    report.reject_errors
                ),
                (0, 2, 2),
                "{case}"
            );
        }
    }
}

#[test]
fn input_rejects_to_a_writer_need_a_place_for_their_reasons() {
    let (b, _buffers) = in_memory("in", INPUT.as_bytes());
    let run = b
        .transform(Validate::new(schema()))
        .rejects_format(RejectsFormat::Input)
        .build()
        .run();
    let Err(failure) = run else {
        panic!("input rejects to a writer ran without a place for their reasons");
    };
    let err = failure.error;
    assert!(matches!(err, weir::Error::Config(_)), "{err}");
    assert!(err.to_string().contains("give --rejects a file"), "{err}");
}

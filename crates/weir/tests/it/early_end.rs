//! A run ends early once every record the output can take is decided (a `head` is full), and
//! budgets of rejects fail it: the result is exactly a serial run's that stops at the deciding
//! record, over chunk sizes {1, 2, 7, 64, default} x workers {1, 2, 8} x ordered/unordered.

use std::io::Cursor;

use crate::common::{in_memory, Shared};

use weir::report::EarlyStop;
use weir::transform::{Dedupe, Gate, Head};
use weir::{
    Error, Outcome, PipelineBuilder, Record, RejectBudget, Report, Sink, Source, Status, Transform,
};

const CHUNKS: [usize; 5] = [1, 2, 7, 64, 1 << 20];
const WORKERS: [usize; 3] = [1, 2, 8];

/// A run of `b` (given its steps) over the matrix; `check` sees each result.
fn matrix(
    input: &[u8],
    more: &[(&str, &[u8])],
    steps: impl Fn() -> Vec<Box<dyn Transform>>,
    check: impl Fn(&str, &str, &str, &Report),
) {
    for chunk in CHUNKS {
        for workers in WORKERS {
            for ordered in [true, false] {
                let (b, buffers) = in_memory("in", input);
                let mut b = b.chunk_size(chunk).workers(workers).ordered(ordered);
                for (name, bytes) in more {
                    b = b.input(Source::Reader(
                        (*name).into(),
                        Box::new(Cursor::new(bytes.to_vec())),
                    ));
                }
                for step in steps() {
                    b = b.boxed_transform(step);
                }
                let at = format!("chunk {chunk}, workers {workers}, ordered {ordered}");
                let report = b
                    .build()
                    .run()
                    .unwrap_or_else(|f| panic!("{at}: run failed: {}", f.error));
                let text = |s: &Shared| String::from_utf8(s.bytes()).unwrap();
                assert!(report.balanced(), "{at}");
                check(
                    &at,
                    &text(&buffers.output),
                    &text(&buffers.rejects),
                    &report,
                );
            }
        }
    }
}

/// The records of `k,v` CSV text as a serial run of `dedupe k` then `head n` that stops at the
/// record filling the head sees them: (output, rejects rows, read, written, filtered, rejected,
/// the deciding record's line).
fn serial_dedupe_head(input: &str, n: u64) -> (String, String, [u64; 4], Option<u64>) {
    let mut out = String::from("k,v\n");
    let mut rejects = String::new();
    let (mut counts, mut seen, mut passed) = ([0u64; 4], Vec::new(), 0);
    let mut offset = input.find('\n').unwrap() + 1;
    if n == 0 {
        return (out, rejects, counts, None);
    }
    for (i, line) in input.lines().enumerate().skip(1) {
        let line_no = i as u64 + 1;
        counts[0] += 1;
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 2 {
            counts[3] += 1;
            rejects.push_str(&format!(
                "in,{line_no},{offset},v,missing-cell,\"record has 1 field, the header has 2: 'v' is missing\",{line}\n"
            ));
        } else if seen.contains(&fields[0]) {
            counts[2] += 1;
        } else {
            seen.push(fields[0]);
            counts[1] += 1;
            out.push_str(line);
            out.push('\n');
            passed += 1;
            if passed == n {
                return (out, rejects, counts, Some(line_no));
            }
        }
        offset += line.len() + 1;
    }
    (out, rejects, counts, None)
}

/// Keys that repeat, ragged rows before and after the place the head fills.
fn dedupe_input() -> String {
    let mut s = String::from("k,v\n");
    for i in 0..60 {
        match i % 7 {
            3 => s.push_str(&format!("{i}\n")),
            5 => s.push_str(&format!("{},dup\n", i - 5)),
            _ => s.push_str(&format!("{i},v{i}\n")),
        }
    }
    s
}

#[test]
fn head_after_dedupe_ends_where_a_serial_run_does_for_every_n() {
    let input = dedupe_input();
    for n in [0, 1, 2, 5, 17, 39] {
        let (out, rejects, counts, line) = serial_dedupe_head(&input, n);
        let header = "file,line,byte_offset,field,error,message,record\n";
        let steps = || -> Vec<Box<dyn Transform>> {
            vec![Box::new(Dedupe::new(["k"])), Box::new(Head::new(n))]
        };
        matrix(input.as_bytes(), &[], steps, |at, o, r, report| {
            assert_eq!(o, out, "n {n}, {at}");
            assert_eq!(r, format!("{header}{rejects}"), "n {n}, {at}");
            let got = [
                report.records_read,
                report.records_written,
                report.records_filtered,
                report.records_rejected,
            ];
            assert_eq!(got, counts, "n {n}, {at}");
            assert_eq!(
                report.stopped_early.as_ref().and_then(|e| e.line),
                line,
                "n {n}, {at}"
            );
            assert!(
                report.stopped_early.is_some(),
                "n {n}, {at}: a head that fills ends the run"
            );
            assert_eq!(report.status, Status::Succeeded, "{at}");
            assert!(report.ordered, "a head orders the run: {at}");
        });
    }
}

#[test]
fn several_heads_end_at_the_first_that_fills() {
    // head 5 then head 2: the second fills at the second record (line 3).
    let input = "x\n1\n2\n3\n4\n5\n6\n";
    matrix(
        input.as_bytes(),
        &[],
        || vec![Box::new(Head::new(5)), Box::new(Head::new(2))],
        |at, out, _, report| {
            assert_eq!(out, "x\n1\n2\n", "{at}");
            assert_eq!(
                (report.records_read, report.records_written),
                (2, 2),
                "{at}"
            );
            let early = report.stopped_early.as_ref().expect("ended early");
            assert_eq!((early.line, early.byte_offset), (Some(3), Some(4)), "{at}");
        },
    );
}

#[test]
fn a_head_larger_than_the_input_reads_it_all_and_says_nothing_of_an_early_end() {
    let input = "x\n1\n2\n3\n";
    matrix(
        input.as_bytes(),
        &[],
        || vec![Box::new(Head::new(3))],
        |at, out, _, report| {
            // The third record fills the head: an end, even if nothing followed.
            assert_eq!(out, input, "{at}");
            assert_eq!(report.stopped_early.as_ref().and_then(|e| e.line), Some(4));
        },
    );
    matrix(
        input.as_bytes(),
        &[],
        || vec![Box::new(Head::new(4))],
        |at, out, _, report| {
            assert_eq!(out, input, "{at}");
            assert_eq!(report.records_read, 3, "{at}");
            assert_eq!(report.stopped_early, None, "{at}");
        },
    );
}

#[test]
fn the_early_end_names_the_input_it_is_in_and_later_inputs_are_not_read() {
    // The second input fills the head; the third has another header, which a run that read
    // it would refuse.
    let first = b"id,v\n1,a\n2,b\n";
    let more: [(&str, &[u8]); 2] = [
        ("second", b"id,v\n3,c\n4,d\n5,e\n"),
        ("third", b"other,header\n6,f\n"),
    ];
    matrix(
        first,
        &more,
        || vec![Box::new(Head::new(3))],
        |at, out, _, report| {
            assert_eq!(out, "id,v\n1,a\n2,b\n3,c\n", "{at}");
            assert_eq!(report.records_read, 3, "{at}");
            assert_eq!(
                report.stopped_early,
                Some(EarlyStop {
                    input: "second".into(),
                    line: Some(2),
                    byte_offset: Some(5),
                }),
                "{at}"
            );
        },
    );
}

#[test]
fn errors_after_the_deciding_record_are_never_met() {
    // A ragged row, an oversized record (stop), then an unterminated quote: all after the head
    // fills, so none of them is a reject or an error.
    let mut input = String::from("a,b\n1,x\n2,y\n3\n");
    input.push_str(&format!("4,{}\n", "z".repeat(200)));
    input.push_str("5,\"never closed\n");
    let run = |chunk: usize, workers: usize, n: u64| {
        let (b, buffers) = in_memory("in", input.as_bytes());
        let result = b
            .chunk_size(chunk)
            .workers(workers)
            .max_record_size(100)
            .transform(Head::new(n))
            .build()
            .run();
        (result, buffers)
    };
    for chunk in CHUNKS {
        for workers in WORKERS {
            let at = format!("chunk {chunk}, workers {workers}");
            let (result, buffers) = run(chunk, workers, 2);
            let report = result.unwrap_or_else(|f| panic!("{at}: {}", f.error));
            assert_eq!(buffers.output.bytes(), b"a,b\n1,x\n2,y\n", "{at}");
            assert_eq!(
                buffers.rejects.bytes(),
                b"file,line,byte_offset,field,error,message,record\n",
                "{at}"
            );
            assert_eq!((report.records_read, report.records_rejected), (2, 0));
            // A head past them meets them: the oversized record stops the run, in input order
            // (not the unterminated quote after it, which the splitter may find first).
            let (result, _) = run(chunk, workers, 3);
            let failure = result.expect_err(&at);
            assert!(
                matches!(failure.error, Error::RecordTooLarge { line: 5, .. }),
                "{at}: {}",
                failure.error
            );
        }
    }
}

/// A step that claims a head only for records whose first value is even: records it does not
/// claim pass it, so a full head does not close the output.
#[derive(Clone)]
struct EvenHead;

impl Transform for EvenHead {
    fn name(&self) -> &str {
        "even-head"
    }
    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        let even = record
            .get(0)
            .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok())
            .is_some_and(|n| n % 2 == 0);
        if even {
            record.claim(0, b"");
        }
        Outcome::Keep
    }
    fn gates(&self) -> Vec<Gate> {
        vec![Gate::Head(1)]
    }
}

#[test]
fn a_head_that_some_records_pass_around_does_not_end_the_run() {
    let input = "n\n1\n2\n3\n4\n5\n";
    matrix(
        input.as_bytes(),
        &[],
        || vec![Box::new(EvenHead)],
        |at, out, _, report| {
            assert_eq!(out, "n\n1\n2\n3\n5\n", "{at}");
            assert_eq!(report.records_read, 5, "{at}");
            assert_eq!(report.stopped_early, None, "{at}");
        },
    );
}

/// Ten records, of which `bad` (the first ones) have one field too few.
fn with_bad_rows(bad: usize) -> String {
    let mut s = String::from("a,b\n");
    for i in 0..10 {
        if i < bad {
            s.push_str(&format!("{i}\n"));
        } else {
            s.push_str(&format!("{i},ok\n"));
        }
    }
    s
}

fn budget_run(dir: &std::path::Path, input: &str, budget: RejectBudget) -> Result<Report, Error> {
    std::fs::write(dir.join("in.csv"), input).unwrap();
    PipelineBuilder::new(
        Source::Path(dir.join("in.csv")),
        Sink::Path(dir.join("out.csv")),
    )
    .rejects(Sink::Path(dir.join("rejects.csv")))
    .report(Sink::Path(dir.join("report.json")))
    .chunk_size(7)
    .workers(2)
    .max_rejects(budget)
    .build()
    .run()
    .map_err(|f| {
        assert_eq!(f.report.status, Status::TooManyRejects);
        assert!(f.report.balanced());
        f.error
    })
}

#[test]
fn a_percentage_budget_is_judged_over_the_whole_input_and_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("out.csv"), "an older output\n").unwrap();
    // 95% rejected in a CI job: it must fail.
    let mut input = String::from("a,b\n");
    for i in 0..100 {
        input.push_str(&if i % 20 == 7 {
            format!("{i},ok\n")
        } else {
            format!("{i}\n")
        });
    }
    let e = budget_run(dir.path(), &input, RejectBudget::Percent(5.0)).unwrap_err();
    let Error::TooManyRejects(over) = &e else {
        panic!("not a budget error: {e}");
    };
    assert_eq!((over.rejected, over.read), (95, 100));
    let common = over.most_common.as_ref().unwrap();
    assert_eq!(
        (common.error.as_str(), common.count, common.line),
        ("missing-cell", 95, 2)
    );
    assert!(
        e.to_string().starts_with(
            "too many rejects: 95 of 100 records read were rejected (95.00%), over the rejects \
             budget of 5%; nothing is committed; most common: missing-cell (95 records), e.g. "
        ),
        "{e}"
    );
    // Nothing committed: the older output stays, no rejects file, the report alone.
    let out = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert_eq!(out, "an older output\n");
    assert!(!dir.path().join("rejects.csv").exists());
    let report = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    assert!(
        report.contains("\"status\": \"too-many-rejects\""),
        "{report}"
    );
    // At the budget exactly (1 of 10 is 10%), and under it: the run succeeds.
    let report = budget_run(dir.path(), &with_bad_rows(1), RejectBudget::Percent(10.0)).unwrap();
    assert_eq!(
        (report.records_rejected, report.status),
        (1, Status::Succeeded)
    );
    assert!(budget_run(dir.path(), &with_bad_rows(2), RejectBudget::Percent(10.0)).is_err());
    assert!(budget_run(dir.path(), &with_bad_rows(0), RejectBudget::Percent(0.0)).is_ok());
}

#[test]
fn a_count_budget_stops_the_run_once_passed() {
    let dir = tempfile::tempdir().unwrap();
    let report = budget_run(dir.path(), &with_bad_rows(3), RejectBudget::Count(3)).unwrap();
    assert_eq!(report.records_rejected, 3);
    let committed = std::fs::read(dir.path().join("out.csv")).unwrap();
    // Four bad records, then a thousand good ones: the run stops at the batch that holds the
    // fourth reject (a 7-byte chunk holds a record or two), long before the end.
    let mut input = with_bad_rows(4);
    for i in 10..1010 {
        input.push_str(&format!("{i},ok\n"));
    }
    let e = budget_run(dir.path(), &input, RejectBudget::Count(3)).unwrap_err();
    let Error::TooManyRejects(over) = e else {
        panic!("not a budget error");
    };
    assert_eq!(over.budget, RejectBudget::Count(3));
    assert_eq!(over.rejected, 4, "{over:?}");
    assert!(over.read < 20, "read on past the fourth reject: {over:?}");
    // The output of the run before stays as it was.
    assert_eq!(
        std::fs::read(dir.path().join("out.csv")).unwrap(),
        committed
    );
}

#[test]
fn a_head_ends_the_run_before_rejects_after_it_count_against_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    // Three good records, then ten bad ones: `head 3` never meets them.
    let mut input = String::from("a,b\n1,x\n2,y\n3,z\n");
    for i in 0..10 {
        input.push_str(&format!("{i}\n"));
    }
    std::fs::write(dir.path().join("in.csv"), &input).unwrap();
    let report = PipelineBuilder::new(
        Source::Path(dir.path().join("in.csv")),
        Sink::Path(dir.path().join("out.csv")),
    )
    .chunk_size(1)
    .max_rejects(RejectBudget::Count(0))
    .transform(Head::new(3))
    .build()
    .run()
    .unwrap();
    assert_eq!((report.records_read, report.records_rejected), (3, 0));
}

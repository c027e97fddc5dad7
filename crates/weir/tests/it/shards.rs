//! Sharded runs against the one-machine run: plan, run every shard, merge (repairing wrong
//! guesses from the proven start), and compare the concatenated output, the rejects and the
//! report's counters byte for byte, on random CSV rich in quoted newlines and fields that look
//! like records, for every shard count from 1 to 64 (shards down to a few bytes).

use std::fs;
use std::path::Path;

use proptest::prelude::*;
use weir::shard::{self, MergeOutcome, OutDir, Repair, ShardJob, ShardPlan, Split};
use weir::{
    BindError, Columns, Format, Outcome, PipelineBuilder, Record, Reject, Report, Sink, Source,
    Transform,
};

/// Rejects records whose second field holds an `x` (naming the field), filters those whose
/// first field starts with `f`.
#[derive(Clone)]
struct Judge;

impl Transform for Judge {
    fn name(&self) -> &str {
        "judge"
    }
    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        Ok(input.clone())
    }
    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        if record.get(1).is_some_and(|v| v.contains(&b'x')) {
            return Outcome::Reject(Reject::new("has-x", Some("b".into()), "b holds an x"));
        }
        if record.get(0).is_some_and(|v| v.first() == Some(&b'f')) {
            return Outcome::Filter;
        }
        Outcome::Keep
    }
}

fn builder(
    input: &Path,
    out: &Path,
    format: Format,
    chunk: usize,
    workers: usize,
) -> PipelineBuilder {
    PipelineBuilder::new(
        Source::Path(input.to_path_buf()),
        Sink::Path(out.to_path_buf()),
    )
    .format(format)
    .chunk_size(chunk)
    .workers(workers)
    .transform(Judge)
}

/// What is compared: output, rejects, and the counters of the report.
#[derive(Debug, PartialEq)]
struct Result3 {
    output: Vec<u8>,
    rejects: Vec<u8>,
    counters: String,
}

fn counters(r: &Report) -> String {
    format!(
        "read {} written {} filtered {} rejected {} by_error {:?} by_field {:?} first {:?} \
         bytes_read {} bytes_written {} committed {}",
        r.records_read,
        r.records_written,
        r.records_filtered,
        r.records_rejected,
        r.rejects_by_error,
        r.rejects_by_field,
        r.first_rejects,
        r.bytes_read,
        r.bytes_written,
        r.committed_offset
    )
}

fn one_machine(dir: &Path, input: &Path, format: Format) -> Result<Result3, String> {
    let (out, rej) = (dir.join("one.out"), dir.join("one.rej"));
    let report = builder(input, &out, format, 1 << 20, 1)
        .output_format(format)
        .rejects(Sink::Path(rej.clone()))
        .build()
        .run();
    let report = match report {
        Ok(r) => r,
        Err(f) => return Err(f.error.to_string()),
    };
    Ok(Result3 {
        output: fs::read(&out).unwrap_or_default(),
        rejects: fs::read(&rej).unwrap(),
        counters: counters(&report),
    })
}

/// Plans `n` shards, runs them at `chunk`/`workers`, merges; the number of repairs.
fn sharded(
    dir: &Path,
    input: &Path,
    format: Format,
    n: usize,
    chunk: usize,
    workers: usize,
) -> Result<(Result3, usize), String> {
    let name = input.display().to_string();
    let plan = ShardPlan::new(
        std::slice::from_ref(&name),
        weir::Dialect::new(format),
        64 << 20,
        "test",
        Split::Count(n),
    )
    .map_err(|e| e.to_string())?;
    let out = OutDir::new(&dir.join("shards").display().to_string()).unwrap();
    out.prepare().unwrap();
    out.write(shard::PLAN_FILE, plan.to_json().as_bytes())
        .unwrap();
    let run = |k: usize, start_at: Option<u64>| {
        let job = ShardJob {
            index: k,
            count: None,
            start_at,
            argv: vec!["weir".into()],
        };
        let unused = dir.join("unused");
        shard::run_shard(
            builder(input, &unused, format, chunk, workers),
            &plan,
            &job,
            &out,
        )
    };
    for k in 0..plan.shards.len() {
        // A failure is written as a `.failed.json` report; merge decides what it means.
        let _ = run(k, None);
    }
    let mut repair = |r: &Repair| {
        let _ = run(r.index, Some(r.start));
        Ok(())
    };
    let concat = dir.join("concat.out");
    match shard::merge(&out, Some(&mut repair), Some(&concat)).map_err(|e| e.to_string())? {
        MergeOutcome::Merged(merged) => {
            let repairs = merged.merge.as_ref().unwrap().repairs.len();
            Ok((
                Result3 {
                    output: fs::read(&concat).unwrap(),
                    rejects: fs::read(out.location(shard::MERGED_REJECTS)).unwrap(),
                    counters: counters(&merged.report),
                },
                repairs,
            ))
        }
        MergeOutcome::Failed { message, .. } => Err(message),
        other => panic!("merge: {other:?}"),
    }
}

/// A CSV field: plain text (perhaps with a stray quote inside), or quoted text holding
/// delimiters, line breaks, doubled quotes and lines that look like records.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-fx ]{0,4}",
        1 => "[a-f]{1,2}\"[a-f]{0,2}",
        3 => proptest::collection::vec(
            prop_oneof![
                Just("a".to_string()),
                Just(",".to_string()),
                Just("\n".to_string()),
                Just("\r\n".to_string()),
                Just("\"\"".to_string()),
                Just("1,2,3\n".to_string()),
                Just("x,\"y\",z\n".to_string()),
                Just("\n\"".to_string()),
            ],
            0..6,
        )
        .prop_map(|parts| {
            let body: String = parts.concat();
            // A lone quote from the list is doubled: the field stays well quoted.
            format!("\"{}\"", body.replace("\n\"", "\n\"\""))
        }),
    ]
}

fn csv_input() -> impl Strategy<Value = Vec<u8>> {
    let record =
        (proptest::collection::vec(field(), 2..5), prop::bool::ANY).prop_map(|(fields, crlf)| {
            format!("{}{}", fields.join(","), if crlf { "\r\n" } else { "\n" })
        });
    (proptest::collection::vec(record, 0..40), prop::bool::ANY).prop_map(|(records, bom)| {
        let mut s = if bom {
            "\u{feff}".to_string()
        } else {
            String::new()
        };
        s.push_str("a,b,c\n");
        s.extend(records);
        s.into_bytes()
    })
}

fn check(input: &[u8], format: Format, n: usize, chunk: usize, workers: usize) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.data");
    fs::write(&path, input).unwrap();
    let want = one_machine(dir.path(), &path, format);
    let got = sharded(dir.path(), &path, format, n, chunk, workers);
    match (want, got) {
        (Ok(want), Ok((got, repairs))) => {
            assert_eq!(
                String::from_utf8_lossy(&got.output),
                String::from_utf8_lossy(&want.output),
                "output, {n} shards"
            );
            assert_eq!(
                String::from_utf8_lossy(&got.rejects),
                String::from_utf8_lossy(&want.rejects),
                "rejects, {n} shards"
            );
            assert_eq!(got.counters, want.counters, "counters, {n} shards");
            repairs
        }
        (Err(want), Err(got)) => {
            // The same error, named at the same file-absolute line.
            let line = |m: &str| {
                m.split("line ")
                    .nth(1)
                    .map(|s| s.split([' ', ':']).next().unwrap().to_string())
            };
            assert_eq!(line(&got), line(&want), "{got} / {want}");
            0
        }
        (want, got) => panic!("one machine: {want:?}\nsharded: {got:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sharded_csv_equals_one_machine(
        input in csv_input(),
        n in 1usize..=64,
        chunk in 1usize..64,
        workers in 1usize..3,
    ) {
        check(&input, Format::Csv, n, chunk, workers);
    }

    #[test]
    fn sharded_json_lines_equal_one_machine_without_repairs(
        lines in proptest::collection::vec(("[a-fx]{0,3}", "[a-fx]{0,3}"), 0..40),
        n in 1usize..=64,
    ) {
        let input: String = lines
            .iter()
            .map(|(a, b)| format!("{{\"a\":\"{a}\",\"b\":\"{b}\"}}\n"))
            .collect();
        prop_assert_eq!(check(input.as_bytes(), Format::Jsonl, n, 7, 2), 0);
    }
}

#[test]
fn every_shard_count_from_1_to_64_on_adversarial_csv() {
    // Quoted fields whose lines look like records of the same width: guesses go wrong, merge
    // repairs them, and the result is still exact.
    let mut input = String::from("a,b,c\n");
    for i in 0..60 {
        if i % 3 == 0 {
            input.push_str(&format!("{i},\"q\n1,2,3\n4,5,6\n7,\"\"8\"\",9\n\",z\n"));
        } else {
            input.push_str(&format!("{i},b{i},c\r\n"));
        }
    }
    let mut repairs = 0;
    for n in 1..=64 {
        repairs += check(input.as_bytes(), Format::Csv, n, 16, 2);
    }
    assert!(repairs > 0, "adversarial shards should need repairs");
}

#[test]
fn an_unterminated_quote_fails_the_sharded_run_at_the_same_line() {
    let input = b"a,b,c\n1,2,3\n4,\"open,6\n7,8,9\n10,11,12\n";
    for n in 1..=8 {
        check(input, Format::Csv, n, 8, 1);
    }
}

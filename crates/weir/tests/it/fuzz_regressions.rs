//! Inputs the fuzz targets in `fuzz/` (or the reasoning that set them up) found to break an
//! invariant, kept as bytes, each named after what it guards.

use crate::common::in_memory;

use weir::error::SourceName;
use weir::expr::Expr;
use weir::fuzzing::{Chunk, Framing, SplitterBuilder};
use weir::{Columns, Dialect, Format};

/// The first line of each chunk the splitter cuts from `input`.
fn first_lines(input: &[u8], framing: Framing, chunk_size: usize) -> Vec<u64> {
    let mut splitter = SplitterBuilder::new(framing)
        .chunk_size(chunk_size)
        .build(input, SourceName::new("fuzz"));
    let mut chunk = Chunk::default();
    let mut lines = Vec::new();
    while splitter.next_chunk(&mut chunk).unwrap() {
        lines.push(chunk.first_line);
    }
    lines
}

/// fuzz/split: `0a ca` chose lines framing and 3-byte chunks for `\r \x04 \n \x04 \0`. The
/// splitter counted the lone `\r` as a line break, as it is in CSV, so the second chunk started
/// on line 3; the JSON Lines and lines decoders number only `\n`, and read as one chunk the
/// same record is on line 2.
#[test]
fn a_lone_cr_does_not_shift_line_numbers_in_lines_framing() {
    let input = b"\r\x04\n\x04\x00";
    assert_eq!(first_lines(input, Framing::Lines, 3), vec![1, 2]);
    // In CSV a lone `\r` ends a record, and counts.
    let quoted = Dialect::new(Format::Csv).framing();
    assert_eq!(first_lines(b"a\rb\nc\n", quoted, 1), vec![1, 2, 3]);
}

/// The same, end to end: a rejected JSON Lines record has one line number whatever the chunk
/// size (it was 4 with one-byte chunks and 3 with the default).
#[test]
fn json_lines_rejects_name_the_same_line_for_every_chunk_size() {
    let input = b"{\"a\":1,\r\"b\":2}\n{\"a\":2,\"b\":3}\nnot json\n";
    let mut seen = Vec::new();
    for chunk in [1, 2, 7, 1 << 20] {
        let (b, buffers) = in_memory("in.jsonl", input);
        b.format(Format::Jsonl)
            .chunk_size(chunk)
            .workers(2)
            .build()
            .run()
            .map_err(|f| f.error)
            .unwrap();
        seen.push(String::from_utf8(buffers.rejects.bytes()).unwrap());
    }
    assert!(seen[0].contains("in.jsonl,3,29,"), "{}", seen[0]);
    assert!(seen.iter().all(|s| *s == seen[0]), "{seen:?}");
}

fn chain(terms: usize, op: &str) -> String {
    vec!["a"; terms].join(op)
}

/// Runs `f` on a thread with the stack of an engine worker (2 MiB).
fn on_worker_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// sqlparser builds `a + a + ... + a` in a loop, without its recursion limit; compiling it
/// recursed once per operator and overflowed the stack at about 5,000 operators in a release
/// build (700 in a debug one): `weir run --filter` aborted. Now nesting is bounded.
#[test]
fn a_long_operator_chain_is_refused_not_a_stack_overflow() {
    let columns = Columns::new(["a"]);
    for terms in [300, 10_000] {
        let sql = format!("{} > 0", chain(terms, "+"));
        let err = on_worker_stack(move || Expr::compile(&sql, &Columns::new(["a"])).unwrap_err());
        assert!(err.message.contains("nested too deeply"), "{}", err.message);
    }
    // Within the bound, it compiles and evaluates.
    let sql = format!("{} = 200", chain(200, " + "));
    let expr = Expr::compile(&sql, &columns).unwrap();
    let dialect = Dialect::new(Format::Csv);
    let mut results = Vec::new();
    weir::fuzzing::for_each_csv_record(b"1\n2\n", &dialect, 1, |rec| {
        results.push(expr.eval_truthy(rec).unwrap());
    });
    assert_eq!(results, [Some(true), Some(false)]);
}

/// Even refused, the parsed tree of a long chain is dropped by sqlparser one frame per
/// operator: 100,000 of them overflowed a worker's stack.
#[test]
fn a_very_long_operator_chain_is_dropped_without_overflowing() {
    let sql = chain(100_000, "+");
    let err = on_worker_stack(move || Expr::compile(&sql, &Columns::new(["a"])).unwrap_err());
    assert!(err.message.contains("nested too deeply"), "{}", err.message);
}

/// Chains of AND and OR (generated filters hold thousands) are compiled in a loop: they are
/// not refused for depth, and evaluate in order.
#[test]
fn long_and_or_chains_still_compile() {
    let ors: Vec<String> = (0..5_000).map(|i| format!("a = {i}")).collect();
    let sql = ors.join(" OR ");
    let expr = on_worker_stack(move || Expr::compile(&sql, &Columns::new(["a"])).unwrap());
    let ands = format!("{} <> 7", chain(3_000, " <> 7 AND "));
    let ands = Expr::compile(&ands, &Columns::new(["a"])).unwrap();
    let dialect = Dialect::new(Format::Csv);
    let mut results = Vec::new();
    weir::fuzzing::for_each_csv_record(b"4999\n5000\n7\n", &dialect, 1, |rec| {
        results.push((
            expr.eval_truthy(rec).unwrap(),
            ands.eval_truthy(rec).unwrap(),
        ));
    });
    assert_eq!(
        results,
        [
            (Some(true), Some(true)),
            (Some(false), Some(true)),
            (Some(true), Some(false))
        ]
    );
}

/// fuzz/jsonl: `\u+8dd` was read as U+08DD, since `u32::from_str_radix` takes a leading `+`;
/// serde_json (and JSON) want four hex digits. Now the line is not an object weir reads.
#[test]
fn a_unicode_escape_takes_four_hex_digits_and_no_sign() {
    use weir::fuzzing::JsonDecoder;
    let line = b"{\"s\":\"\\\"\\u+8dd0\"}";
    assert!(serde_json::from_slice::<serde_json::Value>(line).is_err());
    let err = JsonDecoder::keys(line).unwrap_err();
    assert_eq!(err.what, "invalid \\u escape");
    let columns = Columns::new(["s"]);
    assert!(weir::fuzzing::with_json_record(&columns, line, |_| {}).is_err());
    // As the low half of a pair too; four digits still read.
    assert!(JsonDecoder::keys(b"{\"s\":\"\\ud83d\\u+e00\"}").is_err());
    let mut value = String::new();
    weir::fuzzing::with_json_record(&columns, b"{\"s\":\"\\u00e9\\ud83d\\ude00\"}", |rec| {
        value = rec.get_str(0).unwrap().to_string();
    })
    .unwrap();
    assert_eq!(value, "\u{e9}\u{1f600}");
}

/// fuzz/schema: a `datetime` field with `format: any` read the cell
/// `    222222222222222222 10:00`, whose eighteen digits overflowed a `u32` (a panic in a debug
/// build, a wrapped and maybe valid number in a release one). Now it is not a datetime.
#[test]
fn a_long_run_of_digits_is_not_a_datetime() {
    use weir::schema::Schema;
    use weir::transform::Validate;
    use weir::{Outcome, Transform};
    let schema =
        Schema::from_json(r#"{"fields":[{"name":"x","type":"datetime","format":"any"}]}"#).unwrap();
    let mut validate = Validate::new(schema);
    validate.bind(&Columns::new(["x"])).unwrap();
    let csv = b"    222222222222222222 10:00\n2020-02-29 10:00\n";
    let mut errors = Vec::new();
    weir::fuzzing::for_each_csv_record(csv, &Dialect::new(Format::Csv), 1, |rec| {
        errors.push(match validate.apply(rec) {
            Outcome::Reject(r) => Some(r.error.to_string()),
            _ => None,
        });
    });
    assert_eq!(errors, [Some("type-error".to_string()), None]);
}

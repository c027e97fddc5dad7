//! Arbitrary text as a Table Schema (JSON or YAML), then, when it loads, records validated
//! against it: no panic, no hang. The input is `choice, schema text, NUL, cells`: the cells are
//! lines of comma-separated values (so seeds can pair a schema with values of its types), and
//! also feed schema inference.
//!
//! `choice` bit 0: YAML instead of JSON; bit 1: the first cells line is the header instead of
//! the schema's field names; bit 2: records are padded or cut to the header's length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weir::fuzzing::CsvEncoder;
use weir::schema::{infer, Schema};
use weir::transform::Validate;
use weir::{Columns, Dialect, Format, Transform};

/// Cells every loaded schema is also tried on: each type's edge cases.
const FIXED: [&str; 12] = [
    "",
    "1",
    "-0",
    " 1_000 ",
    "1.5e3",
    "NaN",
    "true",
    "2020-02-29",
    "2020-02-29T24:00:00+01:00",
    "P1Y2M3DT4H5M6.5S",
    "{\"a\":[1]}",
    "90,-180",
];

fuzz_target!(|data: &[u8]| {
    let [choice, rest @ ..] = data else {
        return;
    };
    let (text, cells) = match rest.iter().position(|&b| b == 0) {
        Some(nul) => (&rest[..nul], &rest[nul + 1..]),
        None => (rest, &[][..]),
    };
    let rows: Vec<Vec<&[u8]>> = cells
        .split(|&b| b == b'\n')
        .map(|line| line.split(|&b| b == b',').collect())
        .collect();

    // Inference takes any sample: here the cells, as text where they are UTF-8.
    let names: Vec<String> = (0..rows.iter().map(Vec::len).max().unwrap_or(0))
        .map(|i| format!("c{i}"))
        .collect();
    let mut sample = rows.iter().map(|row| {
        row.iter()
            .map(|c| std::str::from_utf8(c).ok().map(str::to_string))
            .collect::<Vec<_>>()
    });
    let inferred = infer(&mut sample, &names);
    let _ = Schema::from_json(&inferred.to_json_pretty()).expect("an inferred schema loads");

    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let loaded = if choice & 1 == 0 {
        Schema::from_json(text)
    } else {
        Schema::from_yaml(text)
    };
    let Ok(schema) = loaded else {
        return;
    };
    // What a schema prints is a schema that loads.
    let printed = schema.to_json_pretty();
    if let Err(e) = Schema::from_json(&printed) {
        panic!("the printed schema does not load: {e}\n{printed}");
    }

    let header: Vec<String> = if choice & 2 != 0 && !rows.is_empty() {
        rows[0]
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    } else {
        schema.field_names().iter().map(|s| s.to_string()).collect()
    };
    let columns = Columns::new(header);
    let mut validate = Validate::new(schema);
    let _ = validate.describe();
    if validate.bind(&columns).is_err() {
        return;
    }

    // The records, written as CSV and decoded as the engine would.
    let width = columns.len();
    let dialect = Dialect::new(Format::Csv);
    let encoder = CsvEncoder::new(&dialect);
    let mut csv = Vec::new();
    let fixed = FIXED.iter().map(|c| vec![c.as_bytes(); width.max(1)]);
    let given = rows.iter().skip(usize::from(choice & 2 != 0)).cloned();
    for mut row in fixed.chain(given) {
        if choice & 4 != 0 {
            row.resize(width, b"");
        }
        if row.is_empty() {
            continue;
        }
        encoder.record(&mut csv, row.iter().copied());
    }
    weir::fuzzing::for_each_csv_record(&csv, &dialect, 1, |rec| {
        let _ = validate.apply(rec);
    });
});

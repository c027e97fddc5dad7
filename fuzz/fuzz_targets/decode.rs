//! The CSV decoder against csv-core on arbitrary bytes read as one chunk: the same records,
//! fields, NULL/empty-string kinds, lines and byte offsets. Then the encoder: what it writes
//! for the decoded records decodes back to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weir::fuzzing::CsvEncoder;
use weir::ValueKind;
use weir_fuzz::{dialect, expected_records, weir_records};

fuzz_target!(|data: &[u8]| {
    let [choice, input @ ..] = data else {
        return;
    };
    let dialect = dialect(*choice);
    let first_line = 1 + u64::from(choice >> 3);
    let got = weir_records(input, &dialect, first_line);
    let want = expected_records(input, &dialect, first_line, 0);
    assert_eq!(got, want);

    let encoder = CsvEncoder::new(&dialect);
    let mut encoded = Vec::new();
    for (_, _, fields) in &got {
        encoder.record_values(&mut encoded, fields.iter().map(|(b, k)| (&b[..], *k)));
    }
    let again = weir_records(&encoded, &dialect, 1);
    assert_eq!(
        again.len(),
        got.len(),
        "{:?}",
        String::from_utf8_lossy(&encoded)
    );
    for ((_, _, before), (_, _, after)) in got.iter().zip(&again) {
        if before.len() == 1 && before[0].1 == ValueKind::Null {
            // A record of one NULL is written `""` (an empty line would be skipped).
            assert_eq!(after, &[(Vec::new(), ValueKind::Text)]);
        } else {
            assert_eq!(before, after, "{:?}", String::from_utf8_lossy(&encoded));
        }
    }
});

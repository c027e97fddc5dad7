//! The JSON Lines scanner against serde_json on one arbitrary line.
//!
//! - A line serde_json reads as an object is accepted, with the same keys in the same order
//!   (each once), and each column's value is serde_json's; a repeated key is reported as such
//!   (the engine rejects the record: duplicate-key).
//! - A line serde_json refuses is refused too, nested arrays and objects included, except
//!   where the scanner reads on and lets the engine decide: text that is not UTF-8 and lone
//!   surrogate escapes (reported as not text: encode-error), numbers beyond a double's range,
//!   nesting past serde_json's recursion limit (128; the scanner's is 512).
//! - Reading the keys and decoding agree on whether a line is an object.
//! - Writing a decoded record gives JSON that serde_json reads back as the same object.
#![no_main]

use std::fmt;

use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use weir::fuzzing::{JsonDecoder, JsonEncoder};
use weir::{Columns, ValueKind};

/// A JSON object's members in their order, duplicates kept.
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

fn lenient_here(line: &[u8], serde_error: &serde_json::Error) -> bool {
    // `\uD800` to `\uDFFF`: a surrogate, paired or not.
    let surrogate = line.windows(4).any(|w| {
        w[..2] == *b"\\u" && matches!(w[2], b'd' | b'D') && w[3].is_ascii_hexdigit() && w[3] >= b'8'
    });
    let message = serde_error.to_string();
    surrogate
        || std::str::from_utf8(line).is_err()
        || message.contains("out of range")
        || message.contains("recursion limit")
}

fuzz_target!(|line: &[u8]| {
    let keys = JsonDecoder::keys(line);
    let serde: Result<Members, _> = serde_json::from_slice(line);

    // Decoding against the line's own keys (or none) agrees with reading the keys.
    let names: Vec<String> = match &keys {
        Ok(k) => {
            let mut seen = Vec::new();
            for n in k {
                if !seen.contains(n) {
                    seen.push(n.clone());
                }
            }
            seen
        }
        Err(_) => Vec::new(),
    };
    let columns = Columns::new(names.clone());
    let mut fields: Vec<(Vec<u8>, ValueKind)> = Vec::new();
    let decoded = weir::fuzzing::with_json_record(&columns, line, |rec| {
        fields = rec.fields().map(|(b, k)| (b.to_vec(), k)).collect();
    });
    assert_eq!(keys.is_ok(), decoded.is_ok(), "{keys:?} {decoded:?}");

    match (&serde, &keys) {
        (Ok(Members(members)), Ok(keys)) => {
            let mut serde_keys: Vec<&String> = Vec::new();
            for (k, _) in members {
                if !serde_keys.contains(&k) {
                    serde_keys.push(k);
                }
            }
            assert_eq!(keys.iter().collect::<Vec<_>>(), serde_keys);
            let check = decoded.unwrap();
            assert_eq!(check.extra, None);
            assert_eq!(check.missing, None);
            assert_eq!(check.duplicate.is_some(), serde_keys.len() < members.len());
            assert_eq!(check.not_text, None, "serde_json read it as text");
            for (name, (bytes, kind)) in names.iter().zip(&fields) {
                let want = &members.iter().rev().find(|(k, _)| k == name).unwrap().1;
                match want {
                    Value::Null => assert_eq!(*kind, ValueKind::Null),
                    Value::String(s) => {
                        assert_eq!(*kind, ValueKind::Text);
                        assert_eq!(bytes[..], *s.as_bytes(), "{name}");
                    }
                    _ => {
                        assert_eq!(*kind, ValueKind::Json);
                        let got: Value = serde_json::from_slice(bytes).expect("a raw value");
                        assert_eq!(&got, want, "{name}");
                    }
                }
            }
            // Written back, it is the same object.
            let mut out = Vec::new();
            JsonEncoder::new(&columns)
                .record(&mut out, fields.iter().map(|(b, k)| (&b[..], *k)))
                .expect("strings serde_json read are UTF-8");
            let back: Value = serde_json::from_slice(&out).expect("weir writes JSON");
            let original: Value = serde_json::from_slice(line).unwrap();
            assert_eq!(back, original);
        }
        (Ok(_), Err(e)) => panic!("serde_json reads an object, weir refuses: {e:?}"),
        (Err(e), Ok(_)) => {
            assert!(
                lenient_here(line, e),
                "weir reads a line serde_json refuses: {e}"
            );
        }
        (Err(_), Err(_)) => {}
    }
});

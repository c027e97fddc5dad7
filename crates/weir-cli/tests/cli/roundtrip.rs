//! Every pair of formats and compressions: a file converted from any (format, compression) to
//! any other and back to CSV gives the original's records, byte for byte.

use crate::support::*;

/// Quotes, delimiters, a tab, a line break, the empty string, NULL and non-ASCII text.
const BASE: &[u8] = b"id,text,note\n\
1,\"a, b\",plain\n\
2,\"say \"\"hi\"\"\",\"tab\there\"\n\
3,\"two\nlines\",\"\"\n\
4,,Zo\xc3\xab\n";

const FORMATS: [&str; 3] = ["csv", "tsv", "jsonl"];
const COMPRESSIONS: [&str; 3] = ["", ".gz", ".zst"];

#[test]
fn every_format_and_compression_pair_round_trips() {
    let sb = Sandbox::new();
    sb.write("base.csv", BASE);
    let o = sb.weir(&["run", "-i", "base.csv", "-o", "canon.csv", "-q"]);
    assert_ok(&o);
    let canon = sb.read("canon.csv");
    // Inputs in every (format, compression), made by weir itself from the base.
    let mut inputs = Vec::new();
    for f in FORMATS {
        for c in COMPRESSIONS {
            let name = format!("in.{f}{c}");
            assert_ok(&sb.weir(&["run", "-i", "base.csv", "-o", &name, "-q"]));
            inputs.push(name);
        }
    }
    for input in &inputs {
        for f in FORMATS {
            for c in COMPRESSIONS {
                let out = format!("out-{}.{f}{c}", input.replace('.', "_"));
                let o = sb.weir(&[
                    "run",
                    "-i",
                    input,
                    "-o",
                    &out,
                    "-q",
                    "--chunk-size",
                    "7",
                    "-j",
                    "3",
                ]);
                assert_ok(&o);
                let back = format!("{out}.back.csv");
                assert_ok(&sb.weir(&["run", "-i", &out, "-o", &back, "-q"]));
                assert_eq!(
                    String::from_utf8_lossy(&sb.read(&back)),
                    String::from_utf8_lossy(&canon),
                    "{input} -> {out} -> csv"
                );
            }
        }
    }
}

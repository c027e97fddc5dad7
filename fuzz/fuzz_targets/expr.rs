//! Arbitrary text as an expression, compiled against a few columns and evaluated on CSV and
//! JSON Lines records: no panic, no hang, no stack overflow. Compiling and evaluating run on
//! a thread with the default 2 MiB stack, as the engine's workers have, so nesting deep
//! enough to overflow a worker overflows here.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weir::expr::Expr;
use weir::{Columns, Dialect, Format};

const COLUMNS: [&str; 5] = ["a", "b", "c", "name", "when"];

const CSV: &[u8] = b"1,2.5,x,Alice,2024-01-02\n\
-3,,\"\",bob,2020-02-29T10:00:00\n\
abc,1e308,NaN,\xC3\xA9t\xC3\xA9,10:00\n\
9223372036854775807,-0.0,true,\"a,\"\"b\",24:00:00\n\
\xFF,-9223372036854775808,  7 ,%_\\,0001-01-01\n";

const JSON: [&[u8]; 3] = [
    br#"{"a":1,"b":2.5,"c":"x","name":null,"when":"2024-01-02"}"#,
    br#"{"a":[1,{"k":2}],"b":true,"c":1e400,"name":"\u00e9\ud83d\ude00","when":-0}"#,
    br#"{"b":false,"zz":1}"#,
];

fn run(sql: &str) {
    let columns = Columns::new(COLUMNS);
    let expr = match Expr::compile(sql, &columns) {
        Ok(expr) => expr,
        Err(err) => {
            let _ = err.render(sql);
            return;
        }
    };
    let _ = expr.columns_used();
    let dialect = Dialect::new(Format::Csv);
    weir::fuzzing::for_each_csv_record(CSV, &dialect, 1, |rec| {
        if let Ok(value) = expr.eval(rec) {
            let _ = value.to_string();
            value.write_text(&mut Vec::new());
        }
        let _ = expr.eval_truthy(rec).map_err(|e| e.to_string());
    });
    for line in JSON {
        let _ = weir::fuzzing::with_json_record(&columns, line, |rec| {
            if let Ok(value) = expr.eval(rec) {
                let _ = value.to_string();
                value.write_text(&mut Vec::new());
            }
            let _ = expr.eval_truthy(rec).map_err(|e| e.to_string());
        });
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let sql = sql.to_string();
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || run(&sql))
        .expect("spawn");
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
});

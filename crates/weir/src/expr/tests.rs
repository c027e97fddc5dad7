//! End-to-end tests of the expression engine: SQL text compiled against a CSV header, evaluated
//! on a decoded CSV row. Expected values come from DuckDB 2.0.1 (the query is in the comment);
//! where DuckDB needs an explicit cast of a VARCHAR column, the comment shows the cast.

use std::borrow::Cow;

use super::{EvalError, Expr, ExprError, Value};
use crate::format::csv::CsvDecoder;
use crate::format::jsonl::JsonDecoder;
use crate::format::{Dialect, Format};
use crate::record::{Columns, Record, RecordBuf};

/// The columns of the CSV header and the first row after it (an empty record when none).
fn with_row<T>(csv: &str, f: impl FnOnce(&Columns, &Record<'_>) -> T) -> T {
    let input = csv.as_bytes();
    let dialect = Dialect::new(Format::Csv);
    let mut dec = CsvDecoder::new(input, &dialect, 1);
    let mut header = RecordBuf::default();
    assert!(dec.next_record(&mut header), "no header in {csv:?}");
    let names: Vec<String> = Record::new(input, &mut header)
        .fields()
        .map(|(b, _)| String::from_utf8_lossy(b).into_owned())
        .collect();
    let columns = Columns::new(names);
    let mut buf = RecordBuf::default();
    dec.next_record(&mut buf);
    let record = Record::new(input, &mut buf);
    f(&columns, &record)
}

fn compile(sql: &str, columns: &Columns) -> Expr {
    Expr::compile(sql, columns).unwrap_or_else(|e| panic!("{}", e.render(sql)))
}

/// The result of `sql` on the row, owned.
fn eval_on(sql: &str, csv: &str) -> Result<Value<'static>, EvalError> {
    with_row(csv, |columns, record| {
        compile(sql, columns).eval(record).map(Value::into_owned)
    })
}

/// The test table: one row of text columns (`empty` is an empty unquoted field: NULL).
const ROW: &str = "age,country,name,email,score,signup_date,note,empty,flag,signup date,big,neg\n\
                   42,US,  Ada Lovelace ,Ada@Example.com,0.4567,2024-01-31,abc,,true,2023-12-01,12345678901234567,-7\n";

fn v(sql: &str) -> Value<'static> {
    eval_on(sql, ROW).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The result as DuckDB writes it to CSV, or `NULL`.
fn t(sql: &str) -> String {
    let value = v(sql);
    let mut out = Vec::new();
    if !value.write_text(&mut out) {
        return "NULL".into();
    }
    String::from_utf8(out).unwrap()
}

fn err(sql: &str) -> EvalError {
    match eval_on(sql, ROW) {
        Ok(v) => panic!("{sql}: expected an error, got {v:?}"),
        Err(e) => e,
    }
}

fn compile_err(sql: &str) -> ExprError {
    with_row(ROW, |columns, _| match Expr::compile(sql, columns) {
        Ok(e) => panic!("{sql}: expected a compile error, got {e:?}"),
        Err(e) => e,
    })
}

fn s(text: &str) -> Value<'static> {
    Value::Str(Cow::Owned(text.to_string()))
}

const NULL: Value<'static> = Value::Null;

fn b(x: bool) -> Value<'static> {
    Value::Bool(x)
}

#[test]
fn benchmark_expressions() {
    // DuckDB: SELECT TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE'), upper(trim(name)),
    // lower(email), round(CAST(score AS DOUBLE) * 100, 1), regexp_matches(email,
    // '^[^@\s]+@[^@\s]+\.[a-z]+$'), TRY_CAST(signup_date AS DATE) IS NOT NULL,
    // TRY_CAST(age AS INTEGER) BETWEEN 0 AND 150 FROM t
    // -> (True, 'ADA LOVELACE', 'ada@example.com', 45.7, True, True, True)
    assert_eq!(
        v("TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')"),
        b(true)
    );
    assert_eq!(v("upper(trim(name))"), s("ADA LOVELACE"));
    assert_eq!(v("lower(email)"), s("ada@example.com"));
    assert_eq!(v("round(score * 100, 1)"), Value::Float(45.7));
    assert_eq!(
        v(r"regexp_matches(email, '^[^@\s]+@[^@\s]+\.[a-z]+$')"),
        b(true)
    );
    assert_eq!(v("TRY_CAST(signup_date AS DATE) IS NOT NULL"), b(true));
    assert_eq!(v("TRY_CAST(age AS INTEGER) BETWEEN 0 AND 150"), b(true));
    // The same on rows that fail the conditions or do not convert.
    let other = "age,country,email,signup_date\nabc,FR,not an email,31/01/2024\n";
    let on = |sql: &str| eval_on(sql, other).unwrap();
    assert_eq!(
        on("TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')"),
        b(false)
    );
    assert_eq!(
        on("TRY_CAST(age AS BIGINT) >= 30 OR country IN ('US','DE')"),
        NULL
    );
    assert_eq!(
        on(r"regexp_matches(email, '^[^@\s]+@[^@\s]+\.[a-z]+$')"),
        b(false)
    );
    assert_eq!(on("TRY_CAST(signup_date AS DATE) IS NOT NULL"), b(false));
    assert_eq!(on("TRY_CAST(age AS INTEGER) BETWEEN 0 AND 150"), NULL);
}

#[test]
fn columns_literals_and_quoted_identifiers() {
    assert_eq!(v("country"), s("US"));
    assert_eq!(v("empty"), NULL);
    assert_eq!(v("\"signup date\""), s("2023-12-01"));
    assert_eq!(v("\"country\""), s("US"));
    // Identifiers are case-insensitive in DuckDB.
    assert_eq!(v("COUNTRY"), s("US"));
    assert_eq!(v("'it''s'"), s("it's"));
    assert_eq!(v("42"), Value::Int(42));
    assert_eq!(v("-9223372036854775808"), Value::Int(i64::MIN));
    assert_eq!(v("1_000"), Value::Int(1000));
    assert_eq!(v("2.5"), Value::Float(2.5));
    assert_eq!(v("1e3"), Value::Float(1000.0));
    assert_eq!(v("TRUE"), b(true));
    assert_eq!(v("false"), b(false));
    assert_eq!(v("NULL"), NULL);
    assert_eq!(v("(((country)))"), s("US"));
    // DuckDB: SELECT DATE '2024-01-31', TIMESTAMP '2024-01-31 12:00:00', TIME '01:02:03.5'
    assert_eq!(t("DATE '2024-01-31'"), "2024-01-31");
    assert_eq!(t("TIMESTAMP '2024-01-31 12:00:00'"), "2024-01-31 12:00:00");
    assert_eq!(t("TIME '01:02:03.5'"), "01:02:03.5");
    // A field past the end of a short record is NULL.
    assert_eq!(eval_on("b", "a,b\n1\n").unwrap(), NULL);
    // A quoted empty field is the empty string, an unquoted one NULL (DuckDB's read_csv).
    assert_eq!(eval_on("a IS NULL", "a,b\n\"\",x\n").unwrap(), b(false));
    assert_eq!(eval_on("a IS NULL", "a,b\n,x\n").unwrap(), b(true));
}

#[test]
fn arithmetic() {
    // DuckDB: SELECT CAST(age AS DOUBLE) + 1, CAST(age AS BIGINT) + 1, CAST(score AS DOUBLE) / 0,
    // -CAST(age AS BIGINT), CAST(age AS BIGINT) // 5, CAST(age AS BIGINT) % 5,
    // CAST(age AS BIGINT) / 5 FROM t -> (43.0, 43, inf, -42, 8, 2, 8.4)
    assert_eq!(v("age + 1"), Value::Float(43.0));
    assert_eq!(v("CAST(age AS BIGINT) + 1"), Value::Int(43));
    assert_eq!(v("age::INT + 1"), Value::Int(43));
    assert_eq!(v("score / 0"), Value::Float(f64::INFINITY));
    assert_eq!(v("-age::BIGINT"), Value::Int(-42));
    assert_eq!(v("age::BIGINT // 5"), Value::Int(8));
    assert_eq!(v("age::BIGINT % 5"), Value::Int(2));
    assert_eq!(v("age::BIGINT / 5"), Value::Float(8.4));
    // DuckDB: SELECT 7/2, 7//2, 7%2, -7%2, -7//2 -> (3.5, 3, 1, -1, -3);
    // 5 - 7, 2 * 3.5::DOUBLE, 10 % -3, 10.5::DOUBLE % 3 -> (-2, 7.0, 1, 1.5)
    assert_eq!(v("7 / 2"), Value::Float(3.5));
    assert_eq!(v("7 // 2"), Value::Int(3));
    assert_eq!(v("7 % 2"), Value::Int(1));
    assert_eq!(v("-7 % 2"), Value::Int(-1));
    assert_eq!(v("-7 // 2"), Value::Int(-3));
    assert_eq!(v("5 - 7"), Value::Int(-2));
    assert_eq!(v("2 * 3.5"), Value::Float(7.0));
    assert_eq!(v("10 % -3"), Value::Int(1));
    assert_eq!(v("10.5 % 3"), Value::Float(1.5));
    // DuckDB: 2 ^ 10 -> 1024.0; 2::DOUBLE ^ 0.5 -> 1.4142135623730951 (`^` is power)
    assert_eq!(v("2 ^ 10"), Value::Float(1024.0));
    assert_eq!(v("age ^ 2"), Value::Float(1764.0));
    // DuckDB: 7.5::DOUBLE // 2 -> 3.75 (a plain division on doubles); 5::DOUBLE % 0 -> nan;
    // 1/0 -> inf; -1/0 -> -inf; 0::DOUBLE/0 -> nan
    assert_eq!(v("7.5 // 2"), Value::Float(3.75));
    assert!(matches!(v("5.0 % 0"), Value::Float(f) if f.is_nan()));
    assert_eq!(v("1 / 0"), Value::Float(f64::INFINITY));
    assert_eq!(v("-1 / 0"), Value::Float(f64::NEG_INFINITY));
    // NULL propagates: DuckDB 2 + NULL, NULL * 2, -NULL -> NULL
    assert_eq!(v("2 + NULL"), NULL);
    assert_eq!(v("NULL * 2"), NULL);
    assert_eq!(v("-NULL"), NULL);
    assert_eq!(v("empty + 1"), NULL);
    assert_eq!(v("age / empty"), NULL);
    // A column in arithmetic reads as DOUBLE; JSON numbers keep their type (see json test).
    assert_eq!(v("neg * 2"), Value::Float(-14.0));
    assert_eq!(v("-neg"), Value::Float(7.0));
    // Dates: DuckDB DATE '2024-01-31' + 1 -> 2024-02-01; DATE '2024-03-01' - DATE
    // '2024-01-01' -> 60; DATE '2024-01-31' - 1 -> 2024-01-30
    assert_eq!(t("DATE '2024-01-31' + 1"), "2024-02-01");
    assert_eq!(t("signup_date::DATE + 1"), "2024-02-01");
    assert_eq!(v("DATE '2024-03-01' - DATE '2024-01-01'"), Value::Int(60));
    assert_eq!(t("DATE '2024-01-31' - 1"), "2024-01-30");
}

#[test]
fn arithmetic_errors_name_the_value() {
    // DuckDB: 9223372036854775807 + 1 -> "Overflow in addition of INT64 (...)";
    // 1 // 0 and 1 % 0 -> "Division by zero"; abs(-9223372036854775808) -> overflow.
    let e = err("big::BIGINT * 1000");
    assert_eq!(e.column.as_deref(), Some("big"));
    assert_eq!(
        e.message,
        "Overflow in multiplication of BIGINT (12345678901234567 * 1000) (column big)"
    );
    assert_eq!(e.value, "12345678901234567");
    assert!(err("age::INT // 0").message.starts_with("division by zero"));
    assert!(err("age::INT % 0").message.starts_with("division by zero"));
    assert!(err("age // 0.0").message.starts_with("division by zero"));
    // Constant errors are found at compile time, as DuckDB's binder does.
    assert!(compile_err("9223372036854775807 + 1")
        .message
        .starts_with("Overflow in addition"));
    assert!(compile_err("abs(-9223372036854775808)")
        .message
        .starts_with("Overflow on abs"));
    // Text that is not a number.
    let e = err("note * 2");
    assert_eq!(e.message, "cannot convert 'abc' (column note) to DOUBLE");
    assert_eq!(
        (e.column.as_deref(), e.value.as_str()),
        (Some("note"), "abc")
    );
}

#[test]
fn comparisons() {
    // DuckDB: age = '42' -> true, age < '5' -> true (string comparison); 'a' < 'B' -> false,
    // 'B' < 'a' -> true ; 'é' > 'z' -> true (bytes); NULL = NULL -> NULL; 1 = 1.0 -> true
    assert_eq!(v("age = '42'"), b(true));
    assert_eq!(v("age < '5'"), b(true));
    assert_eq!(v("'a' < 'B'"), b(false));
    assert_eq!(v("'B' < 'a'"), b(true));
    assert_eq!(v("'é' > 'z'"), b(true));
    assert_eq!(v("NULL = NULL"), NULL);
    assert_eq!(v("1 = 1.0"), b(true));
    assert_eq!(v("country = note"), b(false));
    assert_eq!(v("country < note"), b(true));
    // A text column with a number compares numerically (DuckDB: CAST(age AS INT) >= 30).
    assert_eq!(v("age >= 30"), b(true));
    assert_eq!(v("age > 5"), b(true));
    assert_eq!(v("age = 42"), b(true));
    assert_eq!(v("age == 42"), b(true));
    assert_eq!(v("age <> 42"), b(false));
    assert_eq!(v("age != 41"), b(true));
    assert_eq!(v("age <= 41.5"), b(false));
    assert_eq!(v("score < 0.5"), b(true));
    assert_eq!(v("neg < 0"), b(true));
    // Integers compare exactly beyond 2^53.
    assert_eq!(v("big = 12345678901234567"), b(true));
    assert_eq!(v("big = 12345678901234568"), b(false));
    assert_eq!(v("empty = 1"), NULL);
    assert_eq!(v("empty = empty"), NULL);
    // Text with a date, boolean: converted to it. DuckDB: flag = true -> true.
    assert_eq!(v("signup_date = DATE '2024-01-31'"), b(true));
    assert_eq!(v("signup_date < TIMESTAMP '2024-01-31 00:00:01'"), b(true));
    assert_eq!(v("flag = true"), b(true));
    // DuckDB: date '2024-01-01' = timestamp '2024-01-01 00:00:00' -> true; true > false -> true
    assert_eq!(
        v("DATE '2024-01-01' = TIMESTAMP '2024-01-01 00:00:00'"),
        b(true)
    );
    assert_eq!(v("true > false"), b(true));
    // DuckDB: 'nan'::double = 'nan'::double -> true, > 1e308 -> true; -0.0 = 0.0 -> true
    assert_eq!(v("'nan'::DOUBLE = 'nan'::DOUBLE"), b(true));
    assert_eq!(v("'nan'::DOUBLE > 1e308"), b(true));
    assert_eq!(v("-0.0 = 0.0"), b(true));
    let e = err("note > 5");
    assert_eq!(e.message, "cannot convert 'abc' (column note) to DOUBLE");
    let e = err("note = DATE '2024-01-01'");
    assert_eq!(e.message, "cannot convert 'abc' (column note) to DATE");
    assert!(compile_err("DATE '2024-01-01' = 5")
        .message
        .contains("cannot compare DATE with BIGINT"));
}

#[test]
fn three_valued_logic_tables() {
    // DuckDB: SELECT a, b, a AND b, a OR b, NOT a FROM (VALUES (true),(false),(NULL)) x(a),
    // (VALUES (true),(false),(NULL)) y(b)
    let t3 = |x: Option<bool>| match x {
        Some(true) => "TRUE",
        Some(false) => "FALSE",
        None => "NULL",
    };
    let vals = [Some(true), Some(false), None];
    let expect_and = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    };
    let expect_or = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    };
    let val = |x: Option<bool>| x.map_or(NULL, Value::Bool);
    for a in vals {
        assert_eq!(v(&format!("NOT {}", t3(a))), val(a.map(|x| !x)));
        for c in vals {
            let (x, y) = (t3(a), t3(c));
            assert_eq!(
                v(&format!("{x} AND {y}")),
                val(expect_and(a, c)),
                "{x} AND {y}"
            );
            assert_eq!(
                v(&format!("{x} OR {y}")),
                val(expect_or(a, c)),
                "{x} OR {y}"
            );
        }
    }
    // The same through columns (empty is NULL) so nothing is folded at compile time.
    assert_eq!(v("empty::BOOLEAN AND false"), b(false));
    assert_eq!(v("empty::BOOLEAN AND true"), NULL);
    assert_eq!(v("empty::BOOLEAN OR true"), b(true));
    assert_eq!(v("empty::BOOLEAN OR false"), NULL);
    assert_eq!(v("NOT empty::BOOLEAN"), NULL);
    assert_eq!(v("flag AND age > 40"), b(true));
    // DuckDB: NOT 5 -> false; 5 AND true -> true; WHERE 'abc' -> Conversion Error.
    assert_eq!(v("NOT 5"), b(false));
    assert_eq!(v("5 AND true"), b(true));
    assert_eq!(
        err("note AND true").message,
        "cannot convert 'abc' (column note) to BOOLEAN"
    );
    assert!(compile_err("DATE '2024-01-01' AND true")
        .message
        .contains("condition"));
}

#[test]
fn is_null_is_true_and_distinct() {
    // DuckDB: NULL IS NULL, 1 IS NOT NULL, NULL IS TRUE, NULL IS NOT TRUE, false IS FALSE,
    // NULL IS NOT FALSE, true IS DISTINCT FROM NULL, NULL IS DISTINCT FROM NULL,
    // NULL IS NOT DISTINCT FROM NULL, 1 IS DISTINCT FROM 1.0
    // -> (True, True, False, True, True, True, True, False, True, False)
    assert_eq!(v("NULL IS NULL"), b(true));
    assert_eq!(v("1 IS NOT NULL"), b(true));
    assert_eq!(v("NULL IS TRUE"), b(false));
    assert_eq!(v("NULL IS NOT TRUE"), b(true));
    assert_eq!(v("false IS FALSE"), b(true));
    assert_eq!(v("NULL IS NOT FALSE"), b(true));
    assert_eq!(v("true IS DISTINCT FROM NULL"), b(true));
    assert_eq!(v("NULL IS DISTINCT FROM NULL"), b(false));
    assert_eq!(v("NULL IS NOT DISTINCT FROM NULL"), b(true));
    assert_eq!(v("1 IS DISTINCT FROM 1.0"), b(false));
    assert_eq!(v("empty IS NULL"), b(true));
    assert_eq!(v("country NOTNULL"), b(true));
    assert_eq!(v("flag IS TRUE"), b(true));
    assert_eq!(v("empty::BOOLEAN IS UNKNOWN"), b(true));
    assert_eq!(v("country IS DISTINCT FROM empty"), b(true));
    assert_eq!(v("age IS NOT DISTINCT FROM '42'"), b(true));
}

#[test]
fn in_and_between() {
    // DuckDB: 3 IN (1,2,3), 3 NOT IN (1,2), NULL NOT IN (1), 3 NOT IN (1, NULL),
    // 'US' IN ('US', NULL), 'FR' IN ('US', NULL), 'FR' NOT IN ('US', NULL)
    // -> (True, True, None, None, True, None, None); 1 IN (1.0, 2) -> True; '1' IN (1, 2) -> True
    assert_eq!(v("3 IN (1, 2, 3)"), b(true));
    assert_eq!(v("3 NOT IN (1, 2)"), b(true));
    assert_eq!(v("NULL NOT IN (1)"), NULL);
    assert_eq!(v("3 NOT IN (1, NULL)"), NULL);
    assert_eq!(v("1 IN (1.0, 2)"), b(true));
    assert_eq!(v("'1' IN (1, 2)"), b(true));
    assert_eq!(v("country IN ('US', NULL)"), b(true));
    assert_eq!(v("note IN ('US', NULL)"), NULL);
    assert_eq!(v("note NOT IN ('US', NULL)"), NULL);
    assert_eq!(v("note NOT IN ('US', 'DE')"), b(true));
    assert_eq!(v("empty IN ('US')"), NULL);
    // A long list is searched by binary search.
    let long: Vec<String> = (0..40).map(|i| format!("'C{i}'")).collect();
    assert_eq!(
        v(&format!("country IN ({}, 'US')", long.join(", "))),
        b(true)
    );
    assert_eq!(v(&format!("note IN ({})", long.join(", "))), b(false));
    // A text column with numbers: numeric comparison (DuckDB: a IN (42, 43) -> True).
    assert_eq!(v("age IN (41, 42)"), b(true));
    assert_eq!(v("age IN (41.5, 43)"), b(false));
    assert_eq!(
        err("note IN (1, 2)").message,
        "cannot convert 'abc' (column note) to DOUBLE"
    );
    // DuckDB: 5 BETWEEN 1 AND NULL -> NULL; 0 BETWEEN 1 AND NULL -> false; NULL BETWEEN 1
    // AND 2 -> NULL; 5 NOT BETWEEN 1 AND 3 -> true; 2 BETWEEN 3 AND 1 -> false; 'b' BETWEEN
    // 'a' AND 'c' -> true
    assert_eq!(v("5 BETWEEN 1 AND NULL"), NULL);
    assert_eq!(v("0 BETWEEN 1 AND NULL"), b(false));
    assert_eq!(v("NULL BETWEEN 1 AND 2"), NULL);
    assert_eq!(v("5 NOT BETWEEN 1 AND 3"), b(true));
    assert_eq!(v("2 BETWEEN 3 AND 1"), b(false));
    assert_eq!(v("'b' BETWEEN 'a' AND 'c'"), b(true));
    assert_eq!(v("age BETWEEN 40 AND 50"), b(true));
    assert_eq!(v("age NOT BETWEEN 40 AND 50"), b(false));
    assert_eq!(
        v("signup_date BETWEEN DATE '2024-01-01' AND DATE '2024-12-31'"),
        b(true)
    );
    assert_eq!(v("empty BETWEEN 1 AND 2"), NULL);
}

#[test]
fn like_ilike_and_regex_operators() {
    // DuckDB: name LIKE '%Love%', name ILIKE '%love%', name NOT LIKE 'Ada%',
    // email LIKE '%@%.com', trim(name) LIKE 'Ada _ovelace' FROM t -> all True;
    // 'abc' ~~ 'a%', 'abc' !~~ 'a%', 'ABC' ~~* 'a%' -> (True, False, True)
    assert_eq!(v("name LIKE '%Love%'"), b(true));
    assert_eq!(v("name ILIKE '%love%'"), b(true));
    assert_eq!(v("name NOT LIKE 'Ada%'"), b(true));
    assert_eq!(v("name NOT ILIKE '%LOVE%'"), b(false));
    assert_eq!(v("email LIKE '%@%.com'"), b(true));
    assert_eq!(v("trim(name) LIKE 'Ada _ovelace'"), b(true));
    assert_eq!(v("'abc' ~~ 'a%'"), b(true));
    assert_eq!(v("'abc' !~~ 'a%'"), b(false));
    assert_eq!(v("'ABC' ~~* 'a%'"), b(true));
    // DuckDB: 'a%c' LIKE 'a\%c' ESCAPE '\' -> true; 'abc' LIKE 'a%' ESCAPE '' -> true;
    // 'É' ILIKE 'é' -> true; NULL LIKE 'a' and 'a' LIKE NULL -> NULL
    assert_eq!(v(r"'a%c' LIKE 'a\%c' ESCAPE '\'"), b(true));
    assert_eq!(v(r"'abc' LIKE 'a\%c' ESCAPE '\'"), b(false));
    assert_eq!(v("'abc' LIKE 'a%' ESCAPE ''"), b(true));
    assert_eq!(v("'É' ILIKE 'é'"), b(true));
    assert_eq!(v("empty LIKE 'a'"), NULL);
    assert_eq!(v("country LIKE empty"), NULL);
    assert_eq!(v("empty NOT LIKE 'a'"), NULL);
    // A pattern from a column is compiled per record.
    assert_eq!(v("country LIKE note"), b(false));
    assert_eq!(v("'xabcx' LIKE '%' || note || '%'"), b(true));
    // DuckDB: 'abc' LIKE 'ab%' ESCAPE 'ab' -> error; 'ab' LIKE 'a_' ESCAPE '_' -> "Like
    // pattern must not end with escape character"
    assert!(compile_err("'abc' LIKE 'ab%' ESCAPE 'ab'")
        .message
        .contains("ESCAPE"));
    assert!(compile_err("country LIKE 'a_' ESCAPE '_'")
        .message
        .contains("escape"));
    // DuckDB: 'abc' SIMILAR TO 'a.*' -> true; regex operators ~ and !~.
    assert_eq!(v("'abc' SIMILAR TO 'a.*'"), b(true));
    assert_eq!(v("'abc' NOT SIMILAR TO 'b'"), b(true));
    assert_eq!(v("email ~ '@'"), b(true));
    assert_eq!(v("email !~ '@'"), b(false));
    assert_eq!(v("email ~* 'EXAMPLE'"), b(true));
}

#[test]
fn case_coalesce_nullif_if_greatest_least() {
    // DuckDB: CASE 'a' WHEN 'b' THEN 1 WHEN 'a' THEN 2 ELSE 3 END -> 2; CASE WHEN NULL THEN 1
    // ELSE 2 END -> 2; CASE WHEN 1=1 THEN NULL ELSE 2 END -> NULL; CASE NULL WHEN NULL THEN 'x'
    // ELSE 'y' END -> 'y'; CASE WHEN false THEN 1 END -> NULL;
    // typeof(CASE 1 WHEN 1 THEN 2.5::DOUBLE ELSE 3 END) -> DOUBLE
    assert_eq!(
        v("CASE 'a' WHEN 'b' THEN 1 WHEN 'a' THEN 2 ELSE 3 END"),
        Value::Int(2)
    );
    assert_eq!(v("CASE WHEN NULL THEN 1 ELSE 2 END"), Value::Int(2));
    assert_eq!(v("CASE WHEN 1=1 THEN NULL ELSE 2 END"), NULL);
    assert_eq!(v("CASE NULL WHEN NULL THEN 'x' ELSE 'y' END"), s("y"));
    assert_eq!(v("CASE WHEN false THEN 1 END"), NULL);
    assert_eq!(
        v("CASE WHEN age > 40 THEN 2.5 ELSE 3 END"),
        Value::Float(2.5)
    );
    assert_eq!(
        v("CASE WHEN age > 50 THEN 2.5 ELSE 3 END"),
        Value::Float(3.0)
    );
    // DuckDB (CAST(age AS INT)): CASE WHEN age < 18 THEN 'minor' WHEN age < 65 THEN 'adult'
    // ELSE 'senior' END -> 'adult'; if(age > 40, 'old', 'young') -> 'old'
    assert_eq!(
        v("CASE WHEN age < 18 THEN 'minor' WHEN age < 65 THEN 'adult' ELSE 'senior' END"),
        s("adult")
    );
    assert_eq!(
        v("CASE country WHEN 'US' THEN 'usa' ELSE country END"),
        s("usa")
    );
    assert_eq!(v("CASE age WHEN 42 THEN 'yes' END"), s("yes"));
    assert_eq!(v("CASE empty WHEN 'x' THEN 1 ELSE 0 END"), Value::Int(0));
    assert_eq!(v("if(age > 40, 'old', 'young')"), s("old"));
    assert_eq!(v("if(empty::BOOLEAN, 'a', 'b')"), s("b"));
    assert_eq!(v("if(true, 1, 2.5)"), Value::Float(1.0));
    // DuckDB: coalesce(empty, 'none') -> 'none'; coalesce(empty, note) -> 'abc';
    // nullif(country, 'US') -> NULL; coalesce(NULL, 2, 3) -> 2; coalesce(NULL, NULL) -> NULL;
    // nullif(1, 1) -> NULL; nullif(1, 2) -> 1; nullif(NULL, 1) -> NULL; ifnull(NULL, 2) -> 2
    assert_eq!(v("coalesce(empty, 'none')"), s("none"));
    assert_eq!(v("coalesce(empty, note)"), s("abc"));
    assert_eq!(v("coalesce(NULL, 2, 3)"), Value::Int(2));
    assert_eq!(v("coalesce(NULL, NULL)"), NULL);
    assert_eq!(v("coalesce(empty)"), NULL);
    assert_eq!(v("ifnull(empty, 2)"), Value::Float(2.0));
    assert_eq!(v("coalesce(TRY_CAST(note AS INT), 0)"), Value::Int(0));
    assert_eq!(v("coalesce(TRY_CAST(age AS INT), 0)"), Value::Int(42));
    assert_eq!(v("nullif(country, 'US')"), NULL);
    assert_eq!(v("nullif(country, 'DE')"), s("US"));
    assert_eq!(v("nullif(1, 1)"), NULL);
    assert_eq!(v("nullif(1, 2)"), Value::Int(1));
    assert_eq!(v("nullif(NULL, 1)"), NULL);
    assert_eq!(v("nullif(empty, 1)"), NULL);
    assert_eq!(v("nullif(age, 42)"), NULL);
    // DuckDB: greatest(1, 2, NULL) -> 2; least(3, NULL, 1) -> 1; greatest(NULL, NULL) -> NULL;
    // greatest('a', 'b') -> 'b'; greatest(1, 2.5::DOUBLE) -> 2.5; least(DATE '2024-01-01',
    // DATE '2023-01-01') -> 2023-01-01; greatest(country, note) -> 'abc';
    // least(CAST(age AS INT), 7) -> 7
    assert_eq!(v("greatest(1, 2, NULL)"), Value::Int(2));
    assert_eq!(v("least(3, NULL, 1)"), Value::Int(1));
    assert_eq!(v("greatest(NULL, NULL)"), NULL);
    assert_eq!(v("greatest('a', 'b')"), s("b"));
    assert_eq!(v("greatest(1, 2.5)"), Value::Float(2.5));
    assert_eq!(
        t("least(DATE '2024-01-01', DATE '2023-01-01')"),
        "2023-01-01"
    );
    assert_eq!(v("greatest(country, note)"), s("abc"));
    assert_eq!(v("least(age::INT, 7)"), Value::Int(7));
    assert_eq!(v("greatest(age, 7)"), Value::Float(42.0));
    assert_eq!(v("greatest(empty, empty)"), NULL);
    assert!(compile_err("coalesce(DATE '2024-01-01', 1)")
        .message
        .contains("cannot mix DATE and BIGINT"));
    assert!(
        compile_err("CASE WHEN true THEN true ELSE DATE '2024-01-01' END")
            .message
            .contains("CASE")
    );
}

#[test]
fn casts_and_try_casts() {
    // DuckDB: CAST('42' AS VARCHAR), CAST(42 AS VARCHAR), CAST(1.5::DOUBLE AS VARCHAR),
    // CAST(true AS VARCHAR), CAST(DATE '2024-01-31' AS VARCHAR), CAST(TIME '01:02:03.5' AS
    // VARCHAR) -> ('42', '42', '1.5', 'true', '2024-01-31', '01:02:03.5')
    assert_eq!(v("CAST('42' AS VARCHAR)"), s("42"));
    assert_eq!(v("CAST(42 AS VARCHAR)"), s("42"));
    assert_eq!(v("CAST(1.5 AS TEXT)"), s("1.5"));
    assert_eq!(v("CAST(1e20 AS STRING)"), s("1e+20"));
    assert_eq!(v("CAST(100.0 AS VARCHAR)"), s("100.0"));
    assert_eq!(v("CAST(true AS VARCHAR)"), s("true"));
    assert_eq!(v("CAST(DATE '2024-01-31' AS VARCHAR(20))"), s("2024-01-31"));
    assert_eq!(v("CAST(TIME '01:02:03.5' AS VARCHAR)"), s("01:02:03.5"));
    assert_eq!(v("age::VARCHAR"), s("42"));
    // Numbers. DuckDB: CAST('3.5' AS BIGINT) -> 4; CAST(2.5::DOUBLE AS INT) -> 2 (half even);
    // CAST(2.5 AS INT) (a DECIMAL) -> 3; CAST(true AS INT) -> 1; CAST(false AS DOUBLE) -> 0.0
    assert_eq!(v("CAST('3.5' AS BIGINT)"), Value::Int(4));
    assert_eq!(v("CAST(2.5::DOUBLE AS INT)"), Value::Int(2));
    assert_eq!(v("CAST(true AS INT)"), Value::Int(1));
    assert_eq!(v("CAST(false AS DOUBLE)"), Value::Float(0.0));
    assert_eq!(v("age::SMALLINT"), Value::Int(42));
    assert_eq!(v("age::TINYINT"), Value::Int(42));
    assert_eq!(v("age::INT8"), Value::Int(42));
    assert_eq!(v("score::DOUBLE"), Value::Float(0.4567));
    assert_eq!(v("score::FLOAT"), Value::Float(0.4567));
    assert_eq!(v("score::REAL"), Value::Float(0.4567));
    // DuckDB: CAST('1.235' AS DECIMAL(10,2)) -> 1.24, CAST('123.4567' AS DECIMAL) -> 123.457,
    // CAST('1.5' AS NUMERIC(5)) -> 2 (DECIMAL as DOUBLE here: 1.24, 123.457, 2.0)
    assert_eq!(v("CAST('1.235' AS DECIMAL(10,2))"), Value::Float(1.24));
    assert_eq!(v("CAST('123.4567' AS DECIMAL)"), Value::Float(123.457));
    assert_eq!(v("CAST('1.5' AS NUMERIC(5))"), Value::Float(2.0));
    assert_eq!(v("score::DECIMAL(4,2)"), Value::Float(0.46));
    // Booleans. DuckDB: CAST(2 AS BOOLEAN) -> true; CAST(0 AS BOOLEAN) -> false; flag -> true
    assert_eq!(v("CAST(2 AS BOOLEAN)"), b(true));
    assert_eq!(v("CAST(0 AS BOOL)"), b(false));
    assert_eq!(v("flag::BOOLEAN"), b(true));
    // Dates and times. DuckDB: CAST(DATE '2024-01-31' AS TIMESTAMP) -> 2024-01-31 00:00:00;
    // CAST(TIMESTAMP '2024-01-31 12:34:56' AS DATE) -> 2024-01-31; ... AS TIME -> 12:34:56
    assert_eq!(
        t("CAST(DATE '2024-01-31' AS TIMESTAMP)"),
        "2024-01-31 00:00:00"
    );
    assert_eq!(
        t("CAST(TIMESTAMP '2024-01-31 12:34:56' AS DATE)"),
        "2024-01-31"
    );
    assert_eq!(
        t("CAST(TIMESTAMP '2024-01-31 12:34:56' AS TIME)"),
        "12:34:56"
    );
    assert_eq!(t("signup_date::DATE"), "2024-01-31");
    assert_eq!(t("signup_date::TIMESTAMP"), "2024-01-31 00:00:00");
    assert_eq!(t("CAST('12:34' AS TIME)"), "12:34:00");
    assert_eq!(v("CAST(empty AS INT)"), NULL);
    // DuckDB: TRY_CAST(note AS INT|DATE|BOOLEAN|DOUBLE|TIMESTAMP|TIME), TRY_CAST(empty AS INT)
    // -> all NULL
    for ty in [
        "INT",
        "BIGINT",
        "DATE",
        "BOOLEAN",
        "DOUBLE",
        "TIMESTAMP",
        "TIME",
        "DECIMAL(5,2)",
    ] {
        assert_eq!(v(&format!("TRY_CAST(note AS {ty})")), NULL, "{ty}");
        let e = err(&format!("CAST(note AS {ty})"));
        assert_eq!(e.column.as_deref(), Some("note"));
        assert_eq!(e.value, "abc");
        let want = match ty {
            "INT" => "INTEGER",
            "BOOLEAN" | "DOUBLE" | "DATE" | "TIMESTAMP" | "TIME" | "BIGINT" => ty,
            _ => "DECIMAL(5,2)",
        };
        assert_eq!(
            e.message,
            format!("cannot convert 'abc' (column note) to {want}")
        );
        assert_eq!(err(&format!("note::{ty}")).message, e.message);
    }
    assert_eq!(v("TRY_CAST(empty AS INT)"), NULL);
    // Out of range. DuckDB: CAST('40000' AS SMALLINT) -> Conversion Error; TRY_ -> NULL
    assert_eq!(v("TRY_CAST(big AS INT)"), NULL);
    assert_eq!(
        err("big::INT").message,
        "cannot convert '12345678901234567' (column big) to INTEGER"
    );
    assert_eq!(v("TRY_CAST(age * 1000 AS SMALLINT)"), NULL);
    // Through an expression the error still names the one column it reads.
    let e = err("CAST(trim(note) AS INT)");
    assert_eq!(e.column.as_deref(), Some("note"));
    assert_eq!(err("CAST(note || country AS INT)").column, None);
    // A constant that does not convert is a compile error (DuckDB's binder folds it too).
    assert_eq!(
        compile_err("CAST('abc' AS INT)").message,
        "cannot convert 'abc' to INTEGER"
    );
    assert_eq!(v("TRY_CAST('abc' AS INT)"), NULL);
    assert!(compile_err("CAST(DATE '2024-01-01' AS INT)")
        .message
        .contains("cannot cast DATE to INTEGER"));
    assert!(compile_err("age::HUGEINT")
        .message
        .starts_with("unsupported type HUGEINT"));
}

#[test]
fn string_functions() {
    // DuckDB (FROM t): split_part(email, '@', 2), substr(email, 1, 3), length(name),
    // strpos(email, '@'), replace(email, '.com', '.org'), left(country, 1), right(note, 2),
    // lpad(country, 5, '*'), rpad(country, 5, '*'), reverse(note), repeat(country, 3),
    // starts_with(email, 'Ada'), ends_with(email, '.com'), contains(email, '@')
    // -> ('Example.com', 'Ada', 15, 4, 'Ada@Example.org', 'U', 'bc', '***US', 'US***', 'cba',
    //     'USUSUS', True, True, True)
    assert_eq!(v("split_part(email, '@', 2)"), s("Example.com"));
    assert_eq!(v("substr(email, 1, 3)"), s("Ada"));
    assert_eq!(v("length(name)"), Value::Int(15));
    assert_eq!(v("strpos(email, '@')"), Value::Int(4));
    assert_eq!(v("replace(email, '.com', '.org')"), s("Ada@Example.org"));
    assert_eq!(v("left(country, 1)"), s("U"));
    assert_eq!(v("right(note, 2)"), s("bc"));
    assert_eq!(v("lpad(country, 5, '*')"), s("***US"));
    assert_eq!(v("rpad(country, 5, '*')"), s("US***"));
    assert_eq!(v("reverse(note)"), s("cba"));
    assert_eq!(v("repeat(country, 3)"), s("USUSUS"));
    assert_eq!(v("starts_with(email, 'Ada')"), b(true));
    assert_eq!(v("ends_with(email, '.com')"), b(true));
    assert_eq!(v("contains(email, '@')"), b(true));
    // DuckDB: upper('héllo ß'), lower('HÉLLO İ'), length('héllo'), length('') ->
    // ('HÉLLO ẞ', 'héllo i', 5, 0); ucase/lcase are aliases
    assert_eq!(v("upper('héllo ß')"), s("HÉLLO ẞ"));
    assert_eq!(v("lower('HÉLLO İ')"), s("héllo i"));
    assert_eq!(v("ucase(note)"), s("ABC"));
    assert_eq!(v("lcase(country)"), s("us"));
    assert_eq!(v("length('héllo')"), Value::Int(5));
    assert_eq!(v("length('')"), Value::Int(0));
    assert_eq!(v("strlen('é')"), Value::Int(2));
    // DuckDB: trim('  a b  '), ltrim('  a  '), rtrim('  a  '), trim('xxaxx', 'x'),
    // trim('xyaxy', 'yx'), ltrim('xxa', 'x'), rtrim('axx','x'), trim(e'\ta\n'), trim('  '),
    // trim(' a ', '') -> ('a b', 'a  ', '  a', 'a', 'a', 'a', 'a', '\ta\n', '', ' a ');
    // trim(both 'x' from 'xxaxx'), trim(leading ...), trim(trailing ...) -> ('a', 'axx', 'xxa')
    assert_eq!(v("trim('  a b  ')"), s("a b"));
    assert_eq!(v("ltrim('  a  ')"), s("a  "));
    assert_eq!(v("rtrim('  a  ')"), s("  a"));
    assert_eq!(v("trim('xxaxx', 'x')"), s("a"));
    assert_eq!(v("trim('xyaxy', 'yx')"), s("a"));
    assert_eq!(v("ltrim('xxa', 'x')"), s("a"));
    assert_eq!(v("rtrim('axx', 'x')"), s("a"));
    assert_eq!(v("trim('\ta\n')"), s("\ta\n"));
    assert_eq!(v("trim('  ')"), s(""));
    assert_eq!(v("trim(' a ', '')"), s(" a "));
    assert_eq!(v("trim(both 'x' from 'xxaxx')"), s("a"));
    assert_eq!(v("trim(leading 'x' from 'xxaxx')"), s("axx"));
    assert_eq!(v("trim(trailing 'x' from 'xxaxx')"), s("xxa"));
    assert_eq!(v("trim(both from '  a  ')"), s("a"));
    // DuckDB substring: ('hello', 2), (2,3), (0,2), (-3), (-3,2), (10), (2,-1), (0), (-10,3),
    // (3,0), ('héllo',2,2), FROM 2 FOR 2, (1,100) -> 'ello','ell','h','llo','ll','','h',
    // 'hello','','','él','el','hello'; (-10,8), (5,-2), (6,-3), (0,-1), (4,-3) ->
    // 'hel','ll','llo','','hel'; (-10), (-5) -> 'hello','hello'
    let sub = [
        ("'hello', 2", "ello"),
        ("'hello', 2, 3", "ell"),
        ("'hello', 0, 2", "h"),
        ("'hello', -3", "llo"),
        ("'hello', -3, 2", "ll"),
        ("'hello', 10", ""),
        ("'hello', 2, -1", "h"),
        ("'hello', 0", "hello"),
        ("'hello', -10, 3", ""),
        ("'hello', 3, 0", ""),
        ("'héllo', 2, 2", "él"),
        ("'hello', 1, 100", "hello"),
        ("'hello', -10, 8", "hel"),
        ("'hello', 5, -2", "ll"),
        ("'hello', 6, -3", "llo"),
        ("'hello', 0, -1", ""),
        ("'hello', 4, -3", "hel"),
        ("'hello', -10", "hello"),
        ("'hello', -5", "hello"),
        ("'', 1", ""),
    ];
    for (args, want) in sub {
        assert_eq!(v(&format!("substr({args})")), s(want), "substr({args})");
    }
    assert_eq!(v("substring('hello' FROM 2 FOR 2)"), s("el"));
    assert_eq!(v("substring('hello' FROM 3)"), s("llo"));
    assert_eq!(v("substring(country, 2)"), s("S"));
    // DuckDB: replace('aaa','a','bb'), replace('abc','','x'), replace('abcabc','bc','')
    // -> ('bbbbbb', 'abc', 'aa')
    assert_eq!(v("replace('aaa', 'a', 'bb')"), s("bbbbbb"));
    assert_eq!(v("replace('abc', '', 'x')"), s("abc"));
    assert_eq!(v("replace('abcabc', 'bc', '')"), s("aa"));
    // DuckDB: concat('a', NULL, 'b'), concat(NULL, NULL), concat_ws(',', 'a', NULL, 'b'),
    // concat_ws(NULL, 'a'), concat_ws(',', NULL), concat(name, empty, country),
    // concat_ws('-', country, empty, note) -> ('ab', '', 'a,b', NULL, '', '  Ada Lovelace US',
    // 'US-abc'); 'a' || NULL -> NULL; 'a' || 1 -> 'a1'; 1 || 2 -> '12'; 'x' || 1e20::DOUBLE ->
    // 'x1e+20'; 'x' || true -> 'xtrue'; 'x' || DATE '2024-01-01' -> 'x2024-01-01'
    assert_eq!(v("concat('a', NULL, 'b')"), s("ab"));
    assert_eq!(v("concat(NULL, NULL)"), s(""));
    assert_eq!(v("concat(country)"), s("US"));
    assert_eq!(v("concat(name, empty, country)"), s("  Ada Lovelace US"));
    assert_eq!(v("concat(country, 1, 2.5)"), s("US12.5"));
    assert_eq!(v("concat_ws(',', 'a', NULL, 'b')"), s("a,b"));
    assert_eq!(v("concat_ws(NULL, 'a')"), NULL);
    assert_eq!(v("concat_ws(',', NULL)"), s(""));
    assert_eq!(v("concat_ws('-', country, empty, note)"), s("US-abc"));
    assert_eq!(v("'a' || NULL"), NULL);
    assert_eq!(v("country || empty"), NULL);
    assert_eq!(v("'a' || 1"), s("a1"));
    assert_eq!(v("1 || 2"), s("12"));
    assert_eq!(v("'x' || 1e20"), s("x1e+20"));
    assert_eq!(v("'x' || true"), s("xtrue"));
    assert_eq!(v("'x' || DATE '2024-01-01'"), s("x2024-01-01"));
    assert_eq!(v("age || country"), s("42US"));
    // DuckDB: split_part('a,b,c', ',', 2|0|4|-1), split_part('a,b,c', '', 1),
    // split_part('abc', '', 2), split_part('a,,b', ',', 2), split_part('a,b', ',', -3),
    // split_part('', ',', 1) -> 'b','','','c','a','b','','',''
    assert_eq!(v("split_part('a,b,c', ',', 2)"), s("b"));
    assert_eq!(v("split_part('a,b,c', ',', 0)"), s(""));
    assert_eq!(v("split_part('a,b,c', ',', 4)"), s(""));
    assert_eq!(v("split_part('a,b,c', ',', -1)"), s("c"));
    assert_eq!(v("split_part('a,b,c', '', 1)"), s("a"));
    assert_eq!(v("split_part('abc', '', 2)"), s("b"));
    assert_eq!(v("split_part('a,,b', ',', 2)"), s(""));
    assert_eq!(v("split_part('a,b', ',', -3)"), s(""));
    assert_eq!(v("split_part('', ',', 1)"), s(""));
    // DuckDB: lpad('abc', 5, 'xy'), lpad('abc', 2, 'x'), rpad('abc', 6, 'xy'), rpad('abc', 1,
    // 'x'), lpad('abc', -1, 'x'), lpad('é', 3, 'ü'), lpad('abc', 3, '') -> 'xyabc', 'ab',
    // 'abcxyx', 'a', '', 'üüé', 'abc'; lpad('abc', 5, '') -> "Insufficient padding in LPAD"
    assert_eq!(v("lpad('abc', 5, 'xy')"), s("xyabc"));
    assert_eq!(v("lpad('abc', 2, 'x')"), s("ab"));
    assert_eq!(v("rpad('abc', 6, 'xy')"), s("abcxyx"));
    assert_eq!(v("rpad('abc', 1, 'x')"), s("a"));
    assert_eq!(v("lpad('abc', -1, 'x')"), s(""));
    assert_eq!(v("lpad('é', 3, 'ü')"), s("üüé"));
    assert_eq!(v("lpad('abc', 3, '')"), s("abc"));
    assert_eq!(
        err("lpad(country, 5, '')").message,
        "Insufficient padding in LPAD"
    );
    // DuckDB: starts_with('abc', ''), contains('abc', '') -> true; strpos('hello', 'l'),
    // strpos('hello', 'z'), instr('hello', 'lo'), position('l' IN 'hello'), strpos('héllo',
    // 'l'), strpos('abc', '') -> 3, 0, 4, 3, 3, 1
    assert_eq!(v("starts_with('abc', '')"), b(true));
    assert_eq!(v("contains('abc', '')"), b(true));
    assert_eq!(v("prefix(country, 'U')"), b(true));
    assert_eq!(v("suffix(country, 'S')"), b(true));
    assert_eq!(v("strpos('hello', 'l')"), Value::Int(3));
    assert_eq!(v("strpos('hello', 'z')"), Value::Int(0));
    assert_eq!(v("instr('hello', 'lo')"), Value::Int(4));
    assert_eq!(v("position('l' IN 'hello')"), Value::Int(3));
    assert_eq!(v("strpos('héllo', 'l')"), Value::Int(3));
    assert_eq!(v("strpos('abc', '')"), Value::Int(1));
    // DuckDB: left('hello', -2), right('hello', -2), left('hello', 10), reverse('héllo'),
    // left('héllo', 2) -> 'hel', 'llo', 'hello', 'olléh', 'hé'; reverse('e' || chr(769) ||
    // 'x') -> 'xé' (the accent stays on its letter)
    assert_eq!(v("left('hello', -2)"), s("hel"));
    assert_eq!(v("right('hello', -2)"), s("llo"));
    assert_eq!(v("left('hello', 10)"), s("hello"));
    assert_eq!(v("reverse('héllo')"), s("olléh"));
    assert_eq!(v("left('héllo', 2)"), s("hé"));
    assert_eq!(v("reverse('e\u{301}x')"), s("xe\u{301}"));
    // DuckDB: repeat('ab', 0), repeat('ab', -1) -> '', ''
    assert_eq!(v("repeat('ab', 0)"), s(""));
    assert_eq!(v("repeat('ab', -1)"), s(""));
    // An integer argument that is not one.
    assert_eq!(
        err("left(country, note)").message,
        "cannot convert 'abc' (column note) to BIGINT"
    );
    assert_eq!(v("left(country, age)"), s("US"));
}

#[test]
fn string_functions_with_null_inputs() {
    // DuckDB: trim(NULL, 'x'), ltrim(NULL), upper(NULL), lower(NULL), length(NULL),
    // substr(NULL, 1, 2), replace('a', NULL, 'b'), split_part('a', NULL, 1), lpad(NULL, 2, 'x'),
    // starts_with(NULL, 'a'), strpos(NULL, 'a'), left(NULL, 1), reverse(NULL), repeat(NULL, 2),
    // regexp_replace(NULL, 'a', 'b'), regexp_extract('a', NULL) -> all NULL
    let calls = [
        "upper(empty)",
        "lower(empty)",
        "trim(empty)",
        "trim(empty, 'x')",
        "trim(country, empty)",
        "ltrim(empty)",
        "rtrim(empty)",
        "length(empty)",
        "strlen(empty)",
        "substr(empty, 1)",
        "substr(country, empty)",
        "substr(country, 1, empty)",
        "replace(empty, 'a', 'b')",
        "replace(country, empty, 'b')",
        "replace(country, 'U', empty)",
        "split_part(empty, ',', 1)",
        "split_part(country, empty, 1)",
        "split_part(country, ',', empty)",
        "lpad(empty, 2, 'x')",
        "rpad(country, empty, 'x')",
        "lpad(country, 5, empty)",
        "starts_with(empty, 'a')",
        "ends_with(country, empty)",
        "contains(empty, 'a')",
        "strpos(empty, 'a')",
        "left(empty, 1)",
        "right(country, empty)",
        "reverse(empty)",
        "repeat(empty, 2)",
        "repeat(country, empty)",
        "regexp_matches(empty, 'a')",
        "regexp_matches(country, empty)",
        "regexp_full_match(empty, 'a')",
        "regexp_replace(empty, 'a', 'b')",
        "regexp_replace(country, 'U', empty)",
        "regexp_extract(empty, 'a')",
        "regexp_extract(country, empty)",
        "regexp_extract(country, 'U', empty)",
    ];
    for call in calls {
        assert_eq!(v(call), NULL, "{call}");
    }
}

#[test]
fn regex_functions() {
    // DuckDB (FROM t): regexp_replace(email, '[aeiou]', '_', 'g'), regexp_replace(email,
    // '[aeiou]', '_'), regexp_extract(email, '([^@]+)@(.+)', 2), regexp_extract(email,
    // '([^@]+)@(.+)'), regexp_matches(email, 'EXAMPLE', 'i'), regexp_full_match(country,
    // '[A-Z]{2}') -> ('Ad_@Ex_mpl_.c_m', 'Ad_@Example.com', 'Example.com', 'Ada@Example.com',
    // True, True)
    assert_eq!(
        v("regexp_replace(email, '[aeiou]', '_', 'g')"),
        s("Ad_@Ex_mpl_.c_m")
    );
    assert_eq!(
        v("regexp_replace(email, '[aeiou]', '_')"),
        s("Ad_@Example.com")
    );
    assert_eq!(
        v("regexp_extract(email, '([^@]+)@(.+)', 2)"),
        s("Example.com")
    );
    assert_eq!(
        v("regexp_extract(email, '([^@]+)@(.+)')"),
        s("Ada@Example.com")
    );
    assert_eq!(v("regexp_matches(email, 'EXAMPLE', 'i')"), b(true));
    assert_eq!(v("regexp_full_match(country, '[A-Z]{2}')"), b(true));
    // DuckDB: regexp_matches('abc', 'b'), regexp_matches('abc', '^b'), regexp_full_match('abc',
    // 'b'), regexp_full_match('abc', 'a.c') -> True, False, False, True
    assert_eq!(v("regexp_matches('abc', 'b')"), b(true));
    assert_eq!(v("regexp_matches('abc', '^b')"), b(false));
    assert_eq!(v("regexp_full_match('abc', 'b')"), b(false));
    assert_eq!(v("regexp_full_match('abc', 'a.c')"), b(true));
    // DuckDB: regexp_replace('aaa','a','b'), (..., 'g'), ('abc','(b)','[\1]'), ('abc','(b)',
    // '[$1]'), ('abc','B','x','i'), ('abc','b','\0\0'), ('a.b','.','x','g')
    // -> 'baa', 'bbb', 'a[b]c', 'a[$1]c', 'axc', 'abbc', 'xxx'
    assert_eq!(v("regexp_replace('aaa', 'a', 'b')"), s("baa"));
    assert_eq!(v("regexp_replace('aaa', 'a', 'b', 'g')"), s("bbb"));
    assert_eq!(v(r"regexp_replace('abc', '(b)', '[\1]')"), s("a[b]c"));
    assert_eq!(v("regexp_replace('abc', '(b)', '[$1]')"), s("a[$1]c"));
    assert_eq!(v("regexp_replace('abc', 'B', 'x', 'i')"), s("axc"));
    assert_eq!(v(r"regexp_replace('abc', 'b', '\0\0')"), s("abbc"));
    assert_eq!(v("regexp_replace('a.b', '.', 'x', 'g')"), s("xxx"));
    // DuckDB: regexp_extract('abc123', '[0-9]+'), ('abc123', '([a-z]+)([0-9]+)', 2),
    // ('abc', '[0-9]+'), ('abc', '(x)?abc', 1), ('a', 'a', 5), ('ABC', 'b', 0, 'i')
    // -> '123', '123', '', '', '', 'B'
    assert_eq!(v("regexp_extract('abc123', '[0-9]+')"), s("123"));
    assert_eq!(
        v("regexp_extract('abc123', '([a-z]+)([0-9]+)', 2)"),
        s("123")
    );
    assert_eq!(v("regexp_extract('abc', '[0-9]+')"), s(""));
    assert_eq!(v("regexp_extract('abc', '(x)?abc', 1)"), s(""));
    assert_eq!(v("regexp_extract('a', 'a', 5)"), s(""));
    assert_eq!(v("regexp_extract('ABC', 'b', 0, 'i')"), s("B"));
    // DuckDB: regexp_matches(e'a\nb', 'a.b') -> False; with 's' -> True
    assert_eq!(v("regexp_matches('a\nb', 'a.b')"), b(false));
    assert_eq!(v("regexp_matches('a\nb', 'a.b', 's')"), b(true));
    assert_eq!(v("regexp_matches('a+b', 'a+b', 'l')"), b(true));
    // Patterns from a column are compiled per record through a cache.
    assert_eq!(v("regexp_matches('xabcx', note)"), b(true));
    assert_eq!(v("regexp_replace(note, country, 'z')"), s("abc"));
    assert_eq!(v("regexp_extract('zabcz', note)"), s("abc"));
    assert_eq!(
        eval_on("regexp_matches(a, p)", "a,p\nabc,(\n").unwrap_err().message,
        "invalid regular expression '(': regex parse error:\n    (\n    ^\nerror: unclosed group (column p)"
    );
    // DuckDB: regexp_matches('abc', '(') -> "missing ): (" at bind time.
    assert!(compile_err("regexp_matches(country, '(')")
        .message
        .starts_with("invalid regular expression '('"));
    assert_eq!(
        compile_err("regexp_matches(country, 'a', 'q')").message,
        "unrecognized regex option 'q'"
    );
}

#[test]
fn numeric_functions() {
    // DuckDB: round(-0.5::DOUBLE), round(0.5), round(1.5), round(2.5), round(-1.5),
    // round(5.55, 1), round(5.45, 1), round(-5.55, 1), round(123.456, -2), round(150, -2),
    // round(1e20, 2), round(2.5, 400), round(12345, -2), round(-12355, -1), round(12355, -1)
    // (doubles) -> -1.0, 1.0, 2.0, 3.0, -2.0, 5.5, 5.5, -5.5, 100.0, 200.0, 1e+20, 2.5, 12300,
    // -12360, 12360; round(2.5, -400) -> 0.0; round(7, 1) -> 7; round(55, -1) -> 60;
    // round(-55, -1) -> -60; round(2.675::DOUBLE, 2) -> 2.67; round(1.005, 2) -> 1.0;
    // round(0.125, 2) -> 0.13
    let r = [
        ("-0.5", -1.0),
        ("0.5", 1.0),
        ("1.5", 2.0),
        ("2.5", 3.0),
        ("-1.5", -2.0),
        ("5.55, 1", 5.5),
        ("5.45, 1", 5.5),
        ("-5.55, 1", -5.5),
        ("123.456, -2", 100.0),
        ("150.0, -2", 200.0),
        ("1e20, 2", 1e20),
        ("2.5, 400", 2.5),
        ("2.5, -400", 0.0),
        ("2.675, 2", 2.67),
        ("1.005, 2", 1.0),
        ("0.125, 2", 0.13),
        // DuckDB: round(0.15, 1), round(1.45, 1), round(-1.45, 1), round(-0.125, 2),
        // round(125, -1), round(35, -1), round(4.35, 1), round(45.65, 1), round(123456.785, 2),
        // round(1.255, 2) (doubles) -> 0.1, 1.4, -1.4, -0.13, 130.0, 40.0, 4.3, 45.6,
        // 123456.79, 1.25
        ("0.15, 1", 0.1),
        ("1.45, 1", 1.4),
        ("-1.45, 1", -1.4),
        ("-0.125, 2", -0.13),
        ("125.0, -1", 130.0),
        ("35.0, -1", 40.0),
        ("4.35, 1", 4.3),
        ("45.65, 1", 45.6),
        ("123456.785, 2", 123456.79),
        ("1.255, 2", 1.25),
    ];
    for (args, want) in r {
        assert_eq!(
            v(&format!("round({args})")),
            Value::Float(want),
            "round({args})"
        );
    }
    assert_eq!(v("round(12345, -2)"), Value::Int(12300));
    assert_eq!(v("round(-12355, -1)"), Value::Int(-12360));
    assert_eq!(v("round(12355, -1)"), Value::Int(12360));
    assert_eq!(v("round(7, 1)"), Value::Int(7));
    assert_eq!(v("round(55, -1)"), Value::Int(60));
    assert_eq!(v("round(-55, -1)"), Value::Int(-60));
    assert_eq!(t("round(score, 2)"), "0.46");
    assert!(compile_err("round(9223372036854775807, -1)")
        .message
        .contains("Overflow in ROUND"));
    // DuckDB: abs(-5), abs(-2.5::DOUBLE) -> 5, 2.5; floor(2.5), ceil(-2.5), floor(5) -> 2.0,
    // -2.0, 5.0 (DOUBLE); trunc(2.7), trunc(-2.7), trunc(5) -> 2.0, -2.0, 5; sign(-5), sign(0.0),
    // sign(2.5), sign('nan') -> -1, 0, 1, 0; sqrt(16) -> 4.0; power(2, 10) -> 1024.0;
    // pow(2.0, 0.5) -> 1.4142135623730951; ln(1) -> 0.0; log10(1000) -> 3.0; log(100) -> 2.0;
    // log(2, 8) -> 3.0; exp(0) -> 1.0; sqrt(-1) -> nan; ln(0) -> -inf
    assert_eq!(v("abs(-5)"), Value::Int(5));
    assert_eq!(v("abs(-2.5)"), Value::Float(2.5));
    assert_eq!(v("abs(neg)"), Value::Float(7.0));
    assert_eq!(v("abs(neg::INT)"), Value::Int(7));
    assert_eq!(v("floor(2.5)"), Value::Float(2.0));
    assert_eq!(v("ceil(-2.5)"), Value::Float(-2.0));
    assert_eq!(v("ceiling(2.1)"), Value::Float(3.0));
    assert_eq!(v("floor(5)"), Value::Float(5.0));
    assert_eq!(v("floor(score)"), Value::Float(0.0));
    assert_eq!(v("trunc(2.7)"), Value::Float(2.0));
    assert_eq!(v("trunc(-2.7)"), Value::Float(-2.0));
    assert_eq!(v("trunc(5)"), Value::Int(5));
    assert_eq!(v("sign(-5)"), Value::Int(-1));
    assert_eq!(v("sign(0.0)"), Value::Int(0));
    assert_eq!(v("sign(2.5)"), Value::Int(1));
    assert_eq!(v("sign('nan'::DOUBLE)"), Value::Int(0));
    assert_eq!(v("sqrt(16)"), Value::Float(4.0));
    assert_eq!(v("power(2, 10)"), Value::Float(1024.0));
    assert_eq!(v("pow(2.0, 0.5)"), Value::Float(std::f64::consts::SQRT_2));
    assert_eq!(v("ln(1)"), Value::Float(0.0));
    assert_eq!(v("log10(1000)"), Value::Float(3.0));
    assert_eq!(v("log(100)"), Value::Float(2.0));
    assert_eq!(v("log(2, 8)"), Value::Float(3.0));
    assert_eq!(v("exp(0)"), Value::Float(1.0));
    assert!(matches!(v("sqrt(-1)"), Value::Float(f) if f.is_nan()));
    assert_eq!(v("ln(0)"), Value::Float(f64::NEG_INFINITY));
    // NULL inputs. DuckDB: abs(NULL), round(NULL, 1), round(1.5::DOUBLE, NULL), floor(NULL) -> NULL
    for call in [
        "abs(empty)",
        "round(empty)",
        "round(empty, 1)",
        "round(score, empty)",
        "floor(empty)",
        "ceil(empty)",
        "trunc(empty)",
        "sign(empty)",
        "sqrt(empty)",
        "power(empty, 2)",
        "power(2, empty)",
        "ln(empty)",
        "log10(empty)",
        "log(empty)",
        "log(2, empty)",
        "exp(empty)",
    ] {
        assert_eq!(v(call), NULL, "{call}");
    }
    assert_eq!(
        err("round(note, 1)").message,
        "cannot convert 'abc' (column note) to DOUBLE"
    );
    assert_eq!(err("abs(note)").column.as_deref(), Some("note"));
}

#[test]
fn date_functions() {
    // DuckDB (CAST(signup_date AS DATE)): strftime(d, '%d/%m/%Y'), date_part('year', d),
    // date_diff('day', d, DATE '2024-03-01'), extract(dow FROM d), d + 1,
    // date_trunc('month', d) -> ('31/01/2024', 2024, 30, 3, 2024-02-01, 2024-01-01 00:00:00)
    assert_eq!(
        v("strftime(signup_date::DATE, '%d/%m/%Y')"),
        s("31/01/2024")
    );
    assert_eq!(v("strftime(signup_date, '%d/%m/%Y')"), s("31/01/2024"));
    assert_eq!(
        v("strftime('%d/%m/%Y', DATE '2024-01-31')"),
        s("31/01/2024")
    );
    assert_eq!(v("date_part('year', signup_date)"), Value::Int(2024));
    assert_eq!(v("datepart('month', signup_date)"), Value::Int(1));
    assert_eq!(
        v("date_diff('day', signup_date, DATE '2024-03-01')"),
        Value::Int(30)
    );
    assert_eq!(
        v("datediff('month', signup_date, '2024-03-01')"),
        Value::Int(2)
    );
    assert_eq!(v("extract(dow FROM signup_date)"), Value::Int(3));
    assert_eq!(v("extract(year FROM signup_date::DATE)"), Value::Int(2024));
    assert_eq!(v("extract('month' FROM signup_date)"), Value::Int(1));
    assert_eq!(
        t("date_trunc('month', signup_date::DATE)"),
        "2024-01-01 00:00:00"
    );
    // DuckDB: year(DATE '2024-03-15'), month(TIMESTAMP '2024-03-15 10:00:00'), day(...),
    // hour/minute/second(TIMESTAMP '2024-03-15 10:20:30.5'), dayofweek/dayofyear/week/quarter/
    // isodow/weekday/dayofmonth(DATE '2024-03-17'), epoch(TIMESTAMP '2024-03-15 10:20:30.5'),
    // millisecond(...) -> 2024, 3, 15, 10, 20, 30, 0, 77, 11, 1, 7, 0, 17, 1710498030.5, 30500
    assert_eq!(v("year(DATE '2024-03-15')"), Value::Int(2024));
    assert_eq!(v("month(TIMESTAMP '2024-03-15 10:00:00')"), Value::Int(3));
    assert_eq!(v("day(DATE '2024-03-15')"), Value::Int(15));
    assert_eq!(v("hour(TIMESTAMP '2024-03-15 10:20:30')"), Value::Int(10));
    assert_eq!(v("minute(TIMESTAMP '2024-03-15 10:20:30')"), Value::Int(20));
    assert_eq!(
        v("second(TIMESTAMP '2024-03-15 10:20:30.5')"),
        Value::Int(30)
    );
    assert_eq!(v("dayofweek(DATE '2024-03-17')"), Value::Int(0));
    assert_eq!(v("dayofyear(DATE '2024-03-17')"), Value::Int(77));
    assert_eq!(v("week(DATE '2024-03-17')"), Value::Int(11));
    assert_eq!(v("quarter(DATE '2024-03-17')"), Value::Int(1));
    assert_eq!(v("isodow(DATE '2024-03-17')"), Value::Int(7));
    assert_eq!(v("weekday(DATE '2024-03-17')"), Value::Int(0));
    assert_eq!(v("dayofmonth(DATE '2024-03-17')"), Value::Int(17));
    assert_eq!(
        v("epoch(TIMESTAMP '2024-03-15 10:20:30.5')"),
        Value::Float(1710498030.5)
    );
    assert_eq!(
        v("millisecond(TIMESTAMP '2024-03-15 10:20:30.5')"),
        Value::Int(30500)
    );
    assert_eq!(v("year(signup_date)"), Value::Int(2024));
    // DuckDB: strptime('2024-01-31 12:34:56', '%Y-%m-%d %H:%M:%S') -> 2024-01-31 12:34:56;
    // strptime('31/01/2024', '%d/%m/%Y') -> 2024-01-31 00:00:00; strptime('x', '%Y') -> error
    // 'Could not parse string "x" according to format specifier "%Y"'; try_strptime('x', '%Y')
    // -> NULL; strptime('2024-01-31', ['%d/%m/%Y', '%Y-%m-%d']) -> 2024-01-31 00:00:00
    assert_eq!(
        t("strptime('2024-01-31 12:34:56', '%Y-%m-%d %H:%M:%S')"),
        "2024-01-31 12:34:56"
    );
    assert_eq!(
        t("strptime('31/01/2024', '%d/%m/%Y')"),
        "2024-01-31 00:00:00"
    );
    assert_eq!(
        t("strptime(signup_date, '%Y-%m-%d')"),
        "2024-01-31 00:00:00"
    );
    assert_eq!(
        t("strptime(signup_date, ['%d/%m/%Y', '%Y-%m-%d'])"),
        "2024-01-31 00:00:00"
    );
    assert_eq!(v("try_strptime(note, '%Y')"), NULL);
    assert_eq!(
        err("strptime(note, '%Y-%m-%d')").message,
        "cannot convert 'abc' (column note) to TIMESTAMP with format '%Y-%m-%d'"
    );
    assert_eq!(
        err("strptime(note, ['%d/%m/%Y', '%Y-%m-%d'])").message,
        "cannot convert 'abc' (column note) to TIMESTAMP with format '%d/%m/%Y', '%Y-%m-%d'"
    );
    // A format from an expression is compiled per record.
    assert_eq!(
        t("strptime('US2024-01-31', country || '%Y-%m-%d')"),
        "2024-01-31 00:00:00"
    );
    // DuckDB: strftime('2024-01-31', ...) with a bare literal is ambiguous; a text column is
    // read as a TIMESTAMP here. make_date(2024, 2, 29) -> 2024-02-29.
    assert_eq!(t("make_date(2024, 2, 29)"), "2024-02-29");
    assert!(compile_err("make_date(2023, 2, 29)")
        .message
        .contains("date out of range"));
    assert_eq!(v("date_part('hour', '12:34:56')"), Value::Int(12));
    // NULL inputs. DuckDB: strptime(NULL, '%Y'), strftime(NULL::DATE, '%Y'),
    // date_part('year', NULL::DATE), date_diff('day', NULL, NULL), date_trunc('day', NULL),
    // make_date(NULL, 1, 1), date_part(NULL, DATE '2024-01-01') -> NULL
    for call in [
        "strptime(empty, '%Y')",
        "strptime(signup_date, empty)",
        "try_strptime(empty, '%Y')",
        "strftime(empty, '%Y')",
        "strftime(signup_date, empty)",
        "date_part('year', empty)",
        "date_part(empty, signup_date)",
        "extract(year FROM empty)",
        "date_diff('day', empty, signup_date)",
        "date_diff('day', signup_date, empty)",
        "date_trunc('day', empty)",
        "make_date(empty, 1, 1)",
        "year(empty)",
    ] {
        assert_eq!(v(call), NULL, "{call}");
    }
    // Conversions that fail.
    assert_eq!(
        err("year(note)").message,
        "cannot convert 'abc' (column note) to TIMESTAMP"
    );
    assert_eq!(
        err("date_diff('day', note, signup_date)").column.as_deref(),
        Some("note")
    );
    assert_eq!(
        err("date_part(note, signup_date)").message,
        "unknown date part 'abc' (column note)"
    );
    // Literal parts and formats are checked at compile time.
    assert_eq!(
        compile_err("date_part('bogus', signup_date)").message,
        "unknown date part 'bogus'"
    );
    assert_eq!(
        compile_err("strftime(signup_date, '%Q')").message,
        "unknown specifier %Q in format '%Q'"
    );
    assert_eq!(
        compile_err("strptime(signup_date, '%U')").message,
        "strptime cannot parse %U (in format '%U')"
    );
}

#[test]
fn json_values_keep_their_types() {
    let columns = Columns::new(["age", "score", "ok", "tags", "name", "gone"]);
    let line =
        r#"{"age": 42, "score": 0.5, "ok": true, "tags": [1, "a"], "name": "Ada", "gone": null}"#;
    let mut dec = JsonDecoder::new(&columns);
    let mut buf = RecordBuf::default();
    buf.reset(0);
    dec.decode(line.as_bytes(), 0, line.len(), &mut buf)
        .unwrap();
    let record = Record::new(line.as_bytes(), &mut buf);
    let ev = |sql: &str| {
        compile(sql, &columns)
            .eval(&record)
            .map(Value::into_owned)
            .unwrap()
    };
    assert_eq!(ev("age"), Value::Int(42));
    assert_eq!(ev("age + 1"), Value::Int(43));
    assert_eq!(ev("score * 2"), Value::Float(1.0));
    assert_eq!(ev("ok"), b(true));
    assert_eq!(ev("ok AND age > 40"), b(true));
    assert_eq!(ev("tags"), s(r#"[1, "a"]"#));
    assert_eq!(ev("name || '!'"), s("Ada!"));
    assert_eq!(ev("gone"), NULL);
    assert_eq!(ev("age = '42'"), b(true));
    assert_eq!(ev("age::VARCHAR"), s("42"));
    assert_eq!(ev("upper(age)"), s("42"));
    assert_eq!(ev("coalesce(gone, age)"), Value::Int(42));
    assert_eq!(ev("coalesce(gone, 0.5)"), Value::Float(0.5));
}

#[test]
fn write_text_of_results() {
    // DuckDB COPY ... TO csv of the same expressions: 43.0, 43, true, 45.7, 2024-02-01
    assert_eq!(t("age + 1"), "43.0");
    assert_eq!(t("age::INT + 1"), "43");
    assert_eq!(t("age > 1"), "true");
    assert_eq!(t("round(score * 100, 1)"), "45.7");
    assert_eq!(t("signup_date::DATE + 1"), "2024-02-01");
    assert_eq!(t("empty"), "NULL");
    assert_eq!(t("1e16"), "1e+16");
}

#[test]
fn truthy_and_eval_truthy() {
    with_row(ROW, |columns, record| {
        let truthy = |sql: &str| compile(sql, columns).eval_truthy(record);
        assert_eq!(truthy("age > 30").unwrap(), Some(true));
        assert_eq!(truthy("empty = 'x'").unwrap(), None);
        assert_eq!(truthy("flag").unwrap(), Some(true));
        assert_eq!(truthy("age::INT").unwrap(), Some(true));
        let e = truthy("note").unwrap_err();
        assert_eq!(e.column.as_deref(), Some("note"));
        assert_eq!(e.message, "cannot convert 'abc' (column note) to BOOLEAN");
        // The same through Value::truthy has no column.
        let expr = compile("note", columns);
        let e = expr.eval(record).unwrap().truthy().unwrap_err();
        assert_eq!(
            (e.column, e.message.as_str()),
            (None, "cannot convert 'abc' to BOOLEAN")
        );
    });
}

#[test]
fn invalid_utf8_is_an_error_where_text_is_needed() {
    let input: &[u8] = b"a,b\n\xff\xfe,1\n";
    let dialect = Dialect::new(Format::Csv);
    let mut dec = CsvDecoder::new(input, &dialect, 1);
    let mut header = RecordBuf::default();
    dec.next_record(&mut header);
    let columns = Columns::new(["a", "b"]);
    let mut buf = RecordBuf::default();
    dec.next_record(&mut buf);
    let record = Record::new(input, &mut buf);
    let e = compile("upper(a)", &columns).eval(&record).unwrap_err();
    assert_eq!(e.message, "invalid UTF-8 in column a");
    assert_eq!(e.column.as_deref(), Some("a"));
    // Not needed as text: fine.
    assert_eq!(
        compile("b::INT + 1", &columns).eval(&record).unwrap(),
        Value::Int(2)
    );
    assert_eq!(
        compile("a || 'x'", &columns)
            .eval(&record)
            .unwrap_err()
            .message,
        e.message
    );
    // Not needed as text either: NULL-ness.
    assert_eq!(
        compile("a IS NULL", &columns).eval(&record).unwrap(),
        b(false)
    );
    // A comparison with a string literal or list compares text: bytes that are not text are
    // an error (as LIKE and every function), not a silent false, whichever path evaluates it.
    for sql in [
        "a = 'x'",
        "a <> 'x'",
        "a < 'x'",
        "a IN ('x', 'y')",
        "a NOT IN ('x')",
    ] {
        let e = compile(sql, &columns).eval(&record).unwrap_err();
        assert_eq!(e.message, "invalid UTF-8 in column a", "{sql}");
    }
    assert_eq!(
        compile("TRY_CAST(a AS INT)", &columns)
            .eval(&record)
            .unwrap(),
        NULL
    );
}

#[test]
fn compile_errors_render_a_caret() {
    let e = compile_err("agee >= 30");
    assert_eq!(e.message, "unknown column 'agee' (did you mean 'age'?)");
    assert_eq!(e.offset, Some(0));
    assert_eq!(
        e.render("agee >= 30"),
        "unknown column 'agee' (did you mean 'age'?)\n  agee >= 30\n  ^"
    );
    let sql = "upper(trim(nmae)) || uper(country)";
    let e = compile_err(sql);
    assert_eq!(
        e.render(sql),
        "unknown column 'nmae' (did you mean 'name'?)\n  upper(trim(nmae)) || uper(country)\n             ^"
    );
    let sql = "upper(trim(name)) || uper(country)";
    assert_eq!(
        compile_err(sql).render(sql),
        "unknown function 'uper' (did you mean 'upper'?)\n  upper(trim(name)) || uper(country)\n                       ^"
    );
    // A syntax error at the position sqlparser reports; multi-line SQL shows the line.
    let sql = "age >= 30 AND\n  country IN ('US' 'DE')";
    let e = compile_err(sql);
    assert_eq!(
        e.render(sql),
        "syntax error: Expected: ), found: 'DE'\n    country IN ('US' 'DE')\n                     ^"
    );
    let sql = "age >=";
    assert_eq!(
        compile_err(sql).render(sql),
        "syntax error: Expected: an expression, found: EOF\n  age >=\n        ^"
    );
    let sql = "country = 'US";
    assert_eq!(
        compile_err(sql).render(sql),
        "syntax error: Unterminated string literal\n  country = 'US\n            ^"
    );
    let sql = "age > 1 age";
    assert_eq!(
        compile_err(sql).render(sql),
        "syntax error: unexpected age after the expression\n  age > 1 age\n          ^"
    );
    // Offsets are bytes: the caret lines up after multi-byte characters.
    let sql = "'é' || nope";
    let e = compile_err(sql);
    assert_eq!(e.offset, Some(8));
    assert_eq!(
        e.render(sql),
        "unknown column 'nope' (did you mean 'note'?)\n  'é' || nope\n         ^"
    );
    // Without a position, the expression is shown without a caret.
    let e = ExprError::new("oops", None);
    assert_eq!(e.render("a + b"), "oops\n  a + b");
}

#[test]
fn unknown_names_and_argument_counts() {
    assert_eq!(
        compile_err("lenght(name)").message,
        "unknown function 'lenght' (did you mean 'length'?)"
    );
    assert_eq!(
        compile_err("frobnicate(name)").message,
        "unknown function 'frobnicate'"
    );
    assert!(compile_err("sum(age)")
        .message
        .starts_with("sum() is an aggregate"));
    assert!(compile_err("max(age)").message.contains("greatest()"));
    assert_eq!(
        compile_err("zzz = 1").message,
        "unknown column 'zzz' (columns: age, country, name, email, score, signup_date, note, empty, flag, signup date, big, neg)"
    );
    assert_eq!(
        compile_err("upper(name, 1)").message,
        "upper() takes 1 argument, got 2"
    );
    assert_eq!(
        compile_err("substr(name)").message,
        "substr() takes 2 to 3 arguments, got 1"
    );
    assert_eq!(
        compile_err("concat_ws(',')").message,
        "concat_ws() takes at least 2 arguments, got 1"
    );
    assert_eq!(compile_err("upper(name, 1)").offset, Some(0));
    assert!(compile_err("t.age").message.contains("quote it"));
    assert!(compile_err("count(*)").message.contains("aggregate"));
    assert!(compile_err("upper(x => name)")
        .message
        .contains("plain arguments"));
    assert!(compile_err("row_number() OVER ()")
        .message
        .contains("window"));
    assert!(compile_err("age IN (SELECT 1)")
        .message
        .contains("subqueries"));
    assert!(compile_err("INTERVAL '1 day'")
        .message
        .starts_with("unsupported expression"));
    // Ambiguous case-insensitive names must be quoted exactly.
    let columns = Columns::new(["Name", "name"]);
    assert!(Expr::compile("NAME", &columns)
        .unwrap_err()
        .message
        .contains("ambiguous"));
    assert!(Expr::compile("\"Name\"", &columns).is_ok());
}

#[test]
fn plans_and_sharing() {
    with_row(ROW, |columns, record| {
        let expr = compile("upper(trim(name)) || country || name", columns);
        assert_eq!(expr.columns_used(), vec![1, 2]);
        assert_eq!(expr.sql(), "upper(trim(name)) || country || name");
        assert_eq!(
            compile("1 + 2", columns).columns_used(),
            Vec::<usize>::new()
        );
        // Constants are folded at compile time.
        assert!(matches!(
            compile("1 + 2", columns).eval(record).unwrap(),
            Value::Int(3)
        ));
        let copy = expr.clone();
        assert_eq!(copy.eval(record).unwrap(), expr.eval(record).unwrap());
    });
    fn shared<T: Clone + Send + Sync + 'static>() {}
    shared::<Expr>();
    // Text results borrow from the record where they can.
    with_row(ROW, |columns, record| {
        for sql in [
            "country",
            "trim(name)",
            "substr(email, 5)",
            "upper(country)",
            "coalesce(empty, note)",
            "'lit'",
        ] {
            let expr = compile(sql, columns);
            assert!(
                matches!(expr.eval(record).unwrap(), Value::Str(Cow::Borrowed(_))),
                "{sql}"
            );
        }
    });
}

/// Timing of the benchmark expressions; run with
/// `cargo test --release -p weir --lib expr::tests::eval_cost -- --ignored --nocapture`.
#[test]
#[ignore]
fn eval_cost() {
    let csv = "age,country,name,email,score,signup_date\n\
               42,US,  Ada Lovelace ,ada.lovelace@example.com,0.4567,2024-01-31\n";
    let exprs = [
        "TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')",
        "upper(trim(name))",
        "lower(email)",
        "round(score * 100, 1)",
        r"regexp_matches(email, '^[^@\s]+@[^@\s]+\.[a-z]+$')",
        "TRY_CAST(signup_date AS DATE) IS NOT NULL",
        "TRY_CAST(age AS INTEGER) BETWEEN 0 AND 150",
        "age >= 30 AND country = 'US'",
        "age",
    ];
    let n = 2_000_000;
    let mut out = Vec::with_capacity(64);
    let start = std::time::Instant::now();
    for i in 0..n {
        out.clear();
        Value::Int(std::hint::black_box(i64::from(i))).write_text(&mut out);
    }
    println!(
        "{:7.1} ns/record  (baseline: write an integer)",
        start.elapsed().as_nanos() as f64 / f64::from(n)
    );
    let start = std::time::Instant::now();
    for i in 0..n {
        out.clear();
        Value::Float(std::hint::black_box(f64::from(i) * 0.37)).write_text(&mut out);
    }
    println!(
        "{:7.1} ns/record  (baseline: write a double)",
        start.elapsed().as_nanos() as f64 / f64::from(n)
    );
    with_row(csv, |columns, record| {
        for sql in exprs {
            let expr = compile(sql, columns);
            let n = 2_000_000;
            let mut out = Vec::with_capacity(64);
            let start = std::time::Instant::now();
            for _ in 0..n {
                out.clear();
                let v = expr.eval(std::hint::black_box(record)).unwrap();
                v.write_text(&mut out);
            }
            let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
            println!("{ns:7.1} ns/record  {sql}");
        }
    });
}

/// A filter that is surely not a boolean is refused when it compiles, naming it and its
/// type; what may be one at run time (a column, NULL, numbers, a CASE that may give a column)
/// is left to each record.
#[test]
fn conditions_refuse_what_is_surely_not_boolean() {
    let condition = |sql: &str| {
        with_row(ROW, |columns, _| {
            Expr::compile_condition(sql, columns)
                .map(|_| ())
                .map_err(|e| e.message)
        })
    };
    for (sql, ty) in [
        ("upper(name)", "VARCHAR"),
        ("'US'", "VARCHAR"),
        ("name || 'x'", "VARCHAR"),
        ("CASE WHEN age > 3 THEN 'a' ELSE 'b' END", "VARCHAR"),
        ("signup_date::DATE", "DATE"),
        ("upper(name) AND age > 3", "VARCHAR"),
        ("NOT lower(flag)", "VARCHAR"),
    ] {
        let message = condition(sql).expect_err(sql);
        assert!(
            message.contains(&format!("is a {ty} value, not a condition (BOOLEAN)")),
            "{sql}: {message}"
        );
    }
    for sql in [
        "flag",
        "NULL",
        "age::INT",
        "'true'",
        "coalesce(flag, 'false')",
        "CASE WHEN age > 3 THEN flag ELSE NULL END",
        "if(age > 3, flag, 'no')",
        "age > 30 AND flag",
    ] {
        assert_eq!(condition(sql), Ok(()), "{sql}");
    }
    // The same expressions are values anywhere else.
    compile_err_free("upper(name)");
}

fn compile_err_free(sql: &str) {
    with_row(ROW, |columns, _| compile(sql, columns));
}

/// `country = "US"`: a double-quoted word that is not a column says that text takes single
/// quotes, keeping the nearest column when there is one.
#[test]
fn double_quoted_text_says_single_quotes() {
    let e = compile_err("country = \"US\"");
    assert!(
        e.message.starts_with("unknown column 'US'")
            && e.message
                .ends_with("double quotes name a column: for the text, write 'US'"),
        "{}",
        e.message
    );
    let e = compile_err("\"nme\" = 'x'");
    assert_eq!(
        e.message,
        "unknown column 'nme' (did you mean 'name'?); double quotes name a column: for the \
         text, write 'nme'"
    );
    // Unquoted, no hint about quotes.
    assert!(!compile_err("nme = 'x'").message.contains("quotes"));
}

/// A value as the SQL literal the function docs state results in.
fn sql_literal(v: &Value<'_>) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::Str(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Date(_) => format!("DATE '{v}'"),
        Value::Timestamp(_) => format!("TIMESTAMP '{v}'"),
        Value::Time(_) => format!("TIME '{v}'"),
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => v.to_string(),
    }
}

#[test]
fn function_table_has_each_name_once_and_every_entry_documented() {
    let docs = super::functions();
    let mut names: Vec<&str> = super::func::names().map(|d| d.name).collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "a name is in the table twice");
    // year(), month(), ... take their part from the name they are called by: an alias is
    // the same part.
    let part = |name: &str| super::datetime::Part::parse(name);
    for d in docs {
        if d.func == super::func::Func::PartOf {
            assert!(part(d.name).is_some(), "{} is not a part", d.name);
            for alias in d.aliases {
                assert_eq!(part(alias), part(d.name), "{alias} is not {}", d.name);
            }
        }
        assert!(
            super::function_families()
                .iter()
                .any(|(f, _)| *f == d.family),
            "{}: unknown family {}",
            d.name,
            d.family
        );
        assert!(
            d.signature.starts_with(&format!("{}(", d.name)),
            "{}",
            d.signature
        );
        assert!(
            d.example.starts_with(&format!("{}(", d.name)),
            "{}",
            d.example
        );
    }
    assert_eq!(super::function("UCASE").map(|d| d.name), Some("upper"));
    assert_eq!(super::function("nope"), None);
}

#[test]
fn function_doc_examples_evaluate_to_their_stated_results() {
    let columns = Columns::new(Vec::<String>::new());
    let mut wrong = Vec::new();
    for d in super::functions() {
        let expr = Expr::compile(d.example, &columns)
            .unwrap_or_else(|e| panic!("{}: {}", d.name, e.render(d.example)));
        let mut buf = RecordBuf::default();
        let record = Record::new(b"", &mut buf);
        let got = match expr.eval(&record) {
            Ok(v) => sql_literal(&v),
            Err(e) => format!("error: {e}"),
        };
        if got != d.result {
            wrong.push(format!(
                "{} -> {got} (the doc says {})",
                d.example, d.result
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "examples that disagree:\n{}",
        wrong.join("\n")
    );
}

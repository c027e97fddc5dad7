//! The function table: one entry a function, with its other names as aliases, what the
//! compiler resolves them to and how many arguments it takes, and its documentation. The
//! compiler looks names up here ([`super::lookup`]), `weir help functions` prints it, and the
//! expression tests check every name is in it once and run every example, comparing its value
//! with the stated result.

use super::Func;

/// One expression function's documentation: how to call it, what it does, and an example with
/// its result (both SQL text; the result is the literal the example evaluates to). Inside the
/// crate it is also the compiler's entry for the function's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionDoc {
    /// The name, lower case (names are case-insensitive).
    pub name: &'static str,
    /// Other names of the same function.
    pub aliases: &'static [&'static str],
    /// What the names resolve to.
    pub(crate) func: Func,
    /// The fewest arguments it takes.
    pub(crate) min: usize,
    /// The most arguments it takes (`usize::MAX`: no limit).
    pub(crate) max: usize,
    /// The family: `text`, `regex`, `math`, `null` (NULLs and choices) or `dates`.
    pub family: &'static str,
    /// The call with its arguments, optional ones in brackets, e.g. `substr(text, start[, length])`.
    pub signature: &'static str,
    /// What it returns, in one line.
    pub description: &'static str,
    /// A call, e.g. `upper('abc')`.
    pub example: &'static str,
    /// What the example evaluates to, as a SQL literal, e.g. `'ABC'`.
    pub result: &'static str,
}

impl FunctionDoc {
    /// Whether `name` (any case) is this function's name or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.name == name || self.aliases.contains(&name.as_str())
    }
}

/// The families of [`FUNCTIONS`] in the order they are listed, with a heading for each.
pub const FAMILIES: &[(&str, &str)] = &[
    ("text", "Text"),
    ("regex", "Regular expressions (RE2 syntax, the regex crate)"),
    ("math", "Numbers"),
    ("null", "NULLs and choices"),
    ("dates", "Dates and times"),
];

/// No limit to the number of arguments.
const MANY: usize = usize::MAX;

#[allow(clippy::too_many_arguments)]
const fn doc(
    name: &'static str,
    aliases: &'static [&'static str],
    func: Func,
    min: usize,
    max: usize,
    family: &'static str,
    signature: &'static str,
    description: &'static str,
    example: &'static str,
    result: &'static str,
) -> FunctionDoc {
    FunctionDoc {
        name,
        aliases,
        func,
        min,
        max,
        family,
        signature,
        description,
        example,
        result,
    }
}

/// Every function, by family (the compiler's suggestions for a misspelt name prefer the first
/// of equally near names in this order).
#[rustfmt::skip]
pub const FUNCTIONS: &[FunctionDoc] = &[
    doc("upper", &["ucase"], Func::Upper, 1, 1, "text", "upper(text)", "the text in upper case", "upper('abc')", "'ABC'"),
    doc("lower", &["lcase"], Func::Lower, 1, 1, "text", "lower(text)", "the text in lower case", "lower('ABC')", "'abc'"),
    doc("trim", &[], Func::Trim, 1, 2, "text", "trim(text[, chars])", "the text without leading and trailing spaces (or any of chars)", "trim('  a b  ')", "'a b'"),
    doc("ltrim", &[], Func::LTrim, 1, 2, "text", "ltrim(text[, chars])", "the text without leading spaces (or any of chars)", "ltrim('xxaxx', 'x')", "'axx'"),
    doc("rtrim", &[], Func::RTrim, 1, 2, "text", "rtrim(text[, chars])", "the text without trailing spaces (or any of chars)", "rtrim('xxaxx', 'x')", "'xxa'"),
    doc("length", &["len", "char_length", "character_length"], Func::Length, 1, 1, "text", "length(text)", "the number of characters", "length('héllo')", "5"),
    doc("strlen", &["octet_length"], Func::StrLen, 1, 1, "text", "strlen(text)", "the number of bytes (UTF-8)", "strlen('héllo')", "6"),
    doc("substr", &["substring"], Func::Substr, 2, 3, "text", "substr(text, start[, length])", "the characters from start (1-based), length of them or all the rest", "substr('weir', 2, 2)", "'ei'"),
    doc("replace", &[], Func::Replace, 3, 3, "text", "replace(text, from, to)", "the text with every occurrence of from replaced by to", "replace('a-b-c', '-', '+')", "'a+b+c'"),
    doc("concat", &[], Func::Concat, 1, MANY, "text", "concat(value, ...)", "the values as text, joined; NULLs are skipped", "concat('a', NULL, 'b', 1)", "'ab1'"),
    doc("concat_ws", &[], Func::ConcatWs, 2, MANY, "text", "concat_ws(separator, value, ...)", "the values joined by separator; NULLs are skipped", "concat_ws('-', 'a', NULL, 'b')", "'a-b'"),
    doc("split_part", &[], Func::SplitPart, 3, 3, "text", "split_part(text, separator, n)", "the n-th part (1-based) of text split on separator; '' past the end", "split_part('a,b,c', ',', 2)", "'b'"),
    doc("lpad", &[], Func::Lpad, 3, 3, "text", "lpad(text, length, fill)", "the text padded on the left with fill to length characters (cut to it when longer)", "lpad('7', 3, '0')", "'007'"),
    doc("rpad", &[], Func::Rpad, 3, 3, "text", "rpad(text, length, fill)", "the text padded on the right with fill to length characters (cut to it when longer)", "rpad('ab', 4, '.')", "'ab..'"),
    doc("starts_with", &["prefix"], Func::StartsWith, 2, 2, "text", "starts_with(text, prefix)", "whether the text starts with prefix", "starts_with('weir', 'we')", "true"),
    doc("ends_with", &["suffix"], Func::EndsWith, 2, 2, "text", "ends_with(text, suffix)", "whether the text ends with suffix", "ends_with('data.csv', '.csv')", "true"),
    doc("contains", &[], Func::Contains, 2, 2, "text", "contains(text, search)", "whether search occurs in the text", "contains('hello', 'ell')", "true"),
    doc("strpos", &["instr", "position"], Func::Strpos, 2, 2, "text", "strpos(text, search)", "the position (1-based) of the first occurrence of search, 0 when none", "strpos('hello', 'l')", "3"),
    doc("left", &[], Func::Left, 2, 2, "text", "left(text, n)", "the first n characters (all but the last -n when n < 0)", "left('hello', 2)", "'he'"),
    doc("right", &[], Func::Right, 2, 2, "text", "right(text, n)", "the last n characters (all but the first -n when n < 0)", "right('hello', 3)", "'llo'"),
    doc("reverse", &[], Func::Reverse, 1, 1, "text", "reverse(text)", "the characters in reverse order", "reverse('abc')", "'cba'"),
    doc("repeat", &[], Func::Repeat, 2, 2, "text", "repeat(text, n)", "the text n times", "repeat('ab', 3)", "'ababab'"),
    doc("regexp_matches", &[], Func::RegexpMatches, 2, 3, "regex", "regexp_matches(text, pattern[, options])", "whether pattern matches somewhere in the text (options: 'i' any case, 's' . matches newlines, 'l' literal pattern)", "regexp_matches('abc123', '[0-9]+')", "true"),
    doc("regexp_full_match", &[], Func::RegexpFullMatch, 2, 3, "regex", "regexp_full_match(text, pattern[, options])", "whether pattern matches the whole text", "regexp_full_match('abc', 'a.c')", "true"),
    doc("regexp_replace", &[], Func::RegexpReplace, 3, 4, "regex", "regexp_replace(text, pattern, replacement[, options])", "the text with the first match replaced (every match with option 'g'); \\1 is group 1", "regexp_replace('a1b2', '[0-9]', '#', 'g')", "'a#b#'"),
    doc("regexp_extract", &[], Func::RegexpExtract, 2, 4, "regex", "regexp_extract(text, pattern[, group[, options]])", "the first match (or its group), '' when none", "regexp_extract('id=42', 'id=([0-9]+)', 1)", "'42'"),
    doc("abs", &[], Func::Abs, 1, 1, "math", "abs(x)", "the absolute value", "abs(-3)", "3"),
    doc("round", &[], Func::Round, 1, 2, "math", "round(x[, digits])", "x rounded half away from zero to digits decimals (default 0)", "round(2.567, 2)", "2.57"),
    doc("floor", &[], Func::Floor, 1, 1, "math", "floor(x)", "the largest integer not above x, as a DOUBLE", "floor(2.7)", "2.0"),
    doc("ceil", &["ceiling"], Func::Ceil, 1, 1, "math", "ceil(x)", "the smallest integer not below x, as a DOUBLE", "ceil(2.1)", "3.0"),
    doc("trunc", &[], Func::Trunc, 1, 1, "math", "trunc(x)", "x rounded toward zero", "trunc(-2.7)", "-2.0"),
    doc("sign", &[], Func::Sign, 1, 1, "math", "sign(x)", "-1, 0 or 1 by the sign of x", "sign(-5)", "-1"),
    doc("sqrt", &[], Func::Sqrt, 1, 1, "math", "sqrt(x)", "the square root", "sqrt(16)", "4.0"),
    doc("power", &["pow"], Func::Power, 2, 2, "math", "power(x, y)", "x to the power y (also x ^ y)", "power(2, 10)", "1024.0"),
    doc("ln", &[], Func::Ln, 1, 1, "math", "ln(x)", "the natural logarithm", "ln(1)", "0.0"),
    doc("log10", &[], Func::Log10, 1, 1, "math", "log10(x)", "the base-10 logarithm", "log10(1000)", "3.0"),
    doc("log", &[], Func::Log, 1, 2, "math", "log(x) | log(base, x)", "the base-10 logarithm of x, or its logarithm in base", "log(2, 8)", "3.0"),
    doc("exp", &[], Func::Exp, 1, 1, "math", "exp(x)", "e to the power x", "exp(0)", "1.0"),
    doc("coalesce", &[], Func::Coalesce, 1, MANY, "null", "coalesce(value, ...)", "the first value that is not NULL (later ones are not evaluated)", "coalesce(NULL, 'x', 'y')", "'x'"),
    doc("ifnull", &[], Func::Coalesce, 2, 2, "null", "ifnull(value, fallback)", "value, or fallback when value is NULL", "ifnull(NULL, 0)", "0"),
    doc("nullif", &[], Func::NullIf, 2, 2, "null", "nullif(a, b)", "NULL when a = b, else a", "nullif('n/a', 'n/a')", "NULL"),
    doc("if", &[], Func::If, 3, 3, "null", "if(condition, then, else)", "then when the condition is true, else otherwise (NULL counts as false)", "if(2 > 1, 'yes', 'no')", "'yes'"),
    doc("greatest", &[], Func::Greatest, 1, MANY, "null", "greatest(value, ...)", "the largest value; NULLs are skipped", "greatest(3, 7, NULL, 5)", "7"),
    doc("least", &[], Func::Least, 1, MANY, "null", "least(value, ...)", "the smallest value; NULLs are skipped", "least(3, 7, NULL, 5)", "3"),
    doc("strptime", &[], Func::Strptime, 2, 2, "dates", "strptime(text, format | [format, ...])", "the TIMESTAMP the text holds in the format (strftime codes; a list is tried in order); an error when it does not match", "strptime('31/01/2024', '%d/%m/%Y')", "TIMESTAMP '2024-01-31 00:00:00'"),
    doc("try_strptime", &[], Func::TryStrptime, 2, 2, "dates", "try_strptime(text, format | [format, ...])", "as strptime, but NULL when the text does not match", "try_strptime('soon', '%Y-%m-%d')", "NULL"),
    doc("strftime", &[], Func::Strftime, 2, 2, "dates", "strftime(timestamp, format)", "the date or timestamp as text in the format (%Y, %m, %d, %H, %M, %S, %j, %a, %b, ...)", "strftime(DATE '2024-01-31', '%d.%m.%Y')", "'31.01.2024'"),
    doc("date_part", &["datepart"], Func::DatePart, 2, 2, "dates", "date_part(part, timestamp)", "a part of a date, timestamp or time: 'year', 'month', 'day', 'hour', 'dow', 'week', 'epoch', ... (also EXTRACT(part FROM t))", "date_part('month', DATE '2024-03-15')", "3"),
    doc("date_diff", &["datediff"], Func::DateDiff, 3, 3, "dates", "date_diff(part, start, end)", "the number of part boundaries (days, months, ...) between start and end", "date_diff('day', DATE '2024-01-01', DATE '2024-03-01')", "60"),
    doc("date_trunc", &["datetrunc"], Func::DateTrunc, 2, 2, "dates", "date_trunc(part, timestamp)", "the timestamp truncated to the part ('year', 'month', 'day', 'hour', ...)", "date_trunc('month', TIMESTAMP '2024-03-15 10:30:00')", "TIMESTAMP '2024-03-01 00:00:00'"),
    doc("make_date", &[], Func::MakeDate, 3, 3, "dates", "make_date(year, month, day)", "the DATE of these numbers", "make_date(2024, 2, 29)", "DATE '2024-02-29'"),
    doc("year", &[], Func::PartOf, 1, 1, "dates", "year(timestamp)", "the year", "year(DATE '2024-03-15')", "2024"),
    doc("month", &[], Func::PartOf, 1, 1, "dates", "month(timestamp)", "the month, 1-12", "month(DATE '2024-03-15')", "3"),
    doc("day", &["dayofmonth"], Func::PartOf, 1, 1, "dates", "day(timestamp)", "the day of the month, 1-31", "day(DATE '2024-03-15')", "15"),
    doc("hour", &[], Func::PartOf, 1, 1, "dates", "hour(timestamp)", "the hour, 0-23", "hour(TIMESTAMP '2024-03-15 10:30:45')", "10"),
    doc("minute", &[], Func::PartOf, 1, 1, "dates", "minute(timestamp)", "the minute, 0-59", "minute(TIMESTAMP '2024-03-15 10:30:45')", "30"),
    doc("second", &[], Func::PartOf, 1, 1, "dates", "second(timestamp)", "the second, 0-59", "second(TIMESTAMP '2024-03-15 10:30:45.250')", "45"),
    doc("millisecond", &[], Func::PartOf, 1, 1, "dates", "millisecond(timestamp)", "the seconds in milliseconds, 0-59999", "millisecond(TIMESTAMP '2024-03-15 10:30:45.250')", "45250"),
    doc("microsecond", &[], Func::PartOf, 1, 1, "dates", "microsecond(timestamp)", "the seconds in microseconds, 0-59999999", "microsecond(TIMESTAMP '2024-03-15 10:30:45.250')", "45250000"),
    doc("dayofweek", &["weekday"], Func::PartOf, 1, 1, "dates", "dayofweek(timestamp)", "the day of the week, Sunday 0 to Saturday 6", "dayofweek(DATE '2024-03-17')", "0"),
    doc("isodow", &[], Func::PartOf, 1, 1, "dates", "isodow(timestamp)", "the ISO day of the week, Monday 1 to Sunday 7", "isodow(DATE '2024-03-17')", "7"),
    doc("dayofyear", &[], Func::PartOf, 1, 1, "dates", "dayofyear(timestamp)", "the day of the year, 1-366", "dayofyear(DATE '2024-03-15')", "75"),
    doc("week", &["weekofyear"], Func::PartOf, 1, 1, "dates", "week(timestamp)", "the ISO week number, 1-53", "week(DATE '2024-03-15')", "11"),
    doc("quarter", &[], Func::PartOf, 1, 1, "dates", "quarter(timestamp)", "the quarter, 1-4", "quarter(DATE '2024-03-15')", "1"),
    doc("epoch", &[], Func::PartOf, 1, 1, "dates", "epoch(timestamp)", "the seconds since 1970-01-01 00:00:00, as a DOUBLE", "epoch(TIMESTAMP '1970-01-02 00:00:00')", "86400.0"),
    doc("isoyear", &[], Func::PartOf, 1, 1, "dates", "isoyear(timestamp)", "the ISO year (of the ISO week)", "isoyear(DATE '2021-01-01')", "2020"),
    doc("yearweek", &[], Func::PartOf, 1, 1, "dates", "yearweek(timestamp)", "the ISO year and week as one number, YYYYWW", "yearweek(DATE '2024-03-15')", "202411"),
    doc("decade", &[], Func::PartOf, 1, 1, "dates", "decade(timestamp)", "the year divided by 10", "decade(DATE '2024-03-15')", "202"),
    doc("century", &[], Func::PartOf, 1, 1, "dates", "century(timestamp)", "the century (2001-2100 is the 21st)", "century(DATE '2024-03-15')", "21"),
    doc("millennium", &[], Func::PartOf, 1, 1, "dates", "millennium(timestamp)", "the millennium (2001-3000 is the 3rd)", "millennium(DATE '2024-03-15')", "3"),
];

//! Numbers as Python reads them (`int(text)`, `decimal.Decimal(text)`), without allocating.
//!
//! A number is kept as a view of its digits in the cell ([`Dec`]): exact, whatever its size, and
//! compared digit by digit, as `Decimal` compares. Integers that fit an `i64` take a fast path.

use std::cmp::Ordering;

/// Whether `c` is whitespace for Python's `str.strip()` (one more range than Rust's
/// `char::is_whitespace`: the information separators `\x1c`..`\x1f`).
pub(crate) fn is_py_space(c: char) -> bool {
    matches!(c,
        '\t'..='\r' | '\x1c'..='\x1f' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}'
        | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// Python's `str.strip()`.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// What kind of value a number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    Finite,
    Inf,
    NaN,
}

/// A decimal number as a view of its text: `[-]int.frac × 10^exp`. `int` and `frac` may hold
/// separators (`_`, a group char) between digits; only ASCII digits count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dec<'a> {
    pub neg: bool,
    pub int: &'a [u8],
    pub frac: &'a [u8],
    pub exp: i64,
    pub special: Special,
}

/// A number read from a cell: small integers on a fast path, everything else exact.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num<'a> {
    Int(i64),
    Dec(Dec<'a>),
}

fn split_sign(s: &[u8]) -> (bool, &[u8]) {
    match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// `int(text)` in Python, base 10: surrounding whitespace, a sign, digits grouped by single
/// underscores. (Python also takes non-ASCII decimal digits; weir does not.)
pub(crate) fn parse_int(text: &str) -> Option<Num<'_>> {
    let (neg, digits) = split_sign(py_strip(text).as_bytes());
    // One pass: single underscores only between digits; the value while it fits an i64.
    let (mut v, mut n, mut after_underscore) = (0i64, 0usize, true);
    for &b in digits {
        if b.is_ascii_digit() {
            if n < 18 {
                v = v * 10 + i64::from(b - b'0');
            }
            n += 1;
            after_underscore = false;
        } else if b == b'_' && !after_underscore {
            after_underscore = true;
        } else {
            return None;
        }
    }
    if n == 0 || after_underscore {
        return None;
    }
    if n <= 18 {
        return Some(Num::Int(if neg { -v } else { v }));
    }
    Some(Num::Dec(Dec {
        neg,
        int: digits,
        frac: b"",
        exp: 0,
        special: Special::Finite,
    }))
}

/// `int(text, 16)` in Python succeeds (used by the uuid check).
pub(crate) fn is_py_hex_int(text: &str) -> bool {
    let (_, mut s) = split_sign(py_strip(text).as_bytes());
    if s.len() >= 2 && s[0] == b'0' && (s[1] | 0x20) == b'x' {
        s = &s[2..];
        // `0x_ff` is allowed: an underscore may follow the prefix.
        if s.first() == Some(&b'_') {
            s = &s[1..];
        }
    }
    !s.is_empty()
        && s[0].is_ascii_hexdigit()
        && s[s.len() - 1].is_ascii_hexdigit()
        && s.iter().all(|&b| b.is_ascii_hexdigit() || b == b'_')
        && !s.windows(2).any(|w| w == b"__")
}

/// `decimal.Decimal(text)` in Python, for text without underscores (Python strips whitespace,
/// then drops every `_`; the caller does that when there are any, and then calls
/// [`parse_decimal_stripped`]): `[sign] digits [. digits] [e [sign] digits]`, `Inf`,
/// `Infinity`, `NaN`, `sNaN` (any case, NaN with an optional digit payload).
pub(crate) fn parse_decimal(text: &str) -> Option<Dec<'_>> {
    parse_decimal_stripped(py_strip(text))
}

/// [`parse_decimal`] of text already stripped (no whitespace is skipped).
pub(crate) fn parse_decimal_stripped(text: &str) -> Option<Dec<'_>> {
    let (neg, s) = split_sign(text.as_bytes());
    let all_digits = |t: &[u8]| t.iter().all(u8::is_ascii_digit);
    let special = |special| {
        Some(Dec {
            neg,
            int: b"",
            frac: b"",
            exp: 0,
            special,
        })
    };
    if let Some(&first) = s.first() {
        if !(first.is_ascii_digit() || first == b'.') {
            let is = |t: &[u8], w: &[u8]| t.eq_ignore_ascii_case(w);
            if is(s, b"inf") || is(s, b"infinity") {
                return special(Special::Inf);
            }
            let payload = if s.len() >= 3 && is(&s[..3], b"nan") {
                &s[3..]
            } else if s.len() >= 4 && is(&s[..4], b"snan") {
                &s[4..]
            } else {
                return None;
            };
            return if all_digits(payload) {
                special(Special::NaN)
            } else {
                None
            };
        }
    }
    let (mantissa, exp) = match s.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, &b""[..]),
    };
    if !all_digits(int) || !all_digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let exp = match exp {
        None => 0,
        Some(e) => {
            let (eneg, digits) = split_sign(e);
            if digits.is_empty() || !all_digits(digits) {
                return None;
            }
            let mut v: i64 = 0;
            for &b in digits {
                // Saturate: an exponent this large puts the number out of any range anyway.
                v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
            }
            v = v.min(i64::MAX / 4);
            if eneg {
                -v
            } else {
                v
            }
        }
    };
    Some(Dec {
        neg,
        int,
        frac,
        exp,
        special: Special::Finite,
    })
}

/// A number normalised for comparison: `0.d1d2d3… × 10^exp10`, no leading zero digits.
struct Norm<I> {
    neg: bool,
    special: Special,
    zero: bool,
    exp10: i64,
    digits: I,
}

impl<'a> Dec<'a> {
    fn digits(&self) -> impl Iterator<Item = u8> + Clone + 'a {
        self.int
            .iter()
            .chain(self.frac.iter())
            .copied()
            .filter(u8::is_ascii_digit)
    }

    fn norm(&self) -> Norm<impl Iterator<Item = u8> + Clone + 'a> {
        let int_digits = self.int.iter().filter(|b| b.is_ascii_digit()).count() as i64;
        let leading = self.digits().take_while(|&b| b == b'0').count() as i64;
        let total = self.digits().count() as i64;
        let zero = self.special == Special::Finite && leading == total;
        Norm {
            neg: self.neg,
            special: self.special,
            zero,
            exp10: int_digits - leading + self.exp,
            digits: self.digits().skip(leading as usize),
        }
    }

    /// The number as an `i64`, when it is integral and in the `i64` range (exactly, whatever
    /// its leading zeros, sign or exponent: `-9223372036854775808`, `+007`, `12e2`).
    pub(crate) fn to_i64(self) -> Option<i64> {
        if !self.is_integral() {
            return None;
        }
        let n = self.norm();
        if n.zero {
            return Some(0);
        }
        // `0.d1d2... × 10^exp10` with d1 != 0: past 19 integer digits it is beyond an i64.
        if !(1..=19).contains(&n.exp10) {
            return None;
        }
        let mut digits = n.digits;
        let mut v: i128 = 0;
        for _ in 0..n.exp10 {
            v = v * 10 + i128::from(digits.next().unwrap_or(b'0') - b'0');
        }
        i64::try_from(if n.neg { -v } else { v }).ok()
    }

    /// Whether the number has no fractional part (and is finite).
    pub(crate) fn is_integral(&self) -> bool {
        if self.special != Special::Finite {
            return false;
        }
        let n = self.norm();
        if n.zero {
            return true;
        }
        // Digits past position exp10 are the fraction; they must all be zero.
        let keep = n.exp10.max(0) as usize;
        n.digits.skip(keep).all(|b| b == b'0')
    }
}

fn cmp_norm<A, B>(a: Norm<A>, b: Norm<B>) -> Option<Ordering>
where
    A: Iterator<Item = u8>,
    B: Iterator<Item = u8>,
{
    if a.special == Special::NaN || b.special == Special::NaN {
        return None;
    }
    // Signed rank: -inf < negatives < zero < positives < inf.
    fn rank(special: Special, zero: bool, neg: bool) -> i8 {
        match (special, zero, neg) {
            (Special::Inf, _, true) => -2,
            (Special::Inf, _, false) => 2,
            (_, true, _) => 0,
            (_, false, true) => -1,
            (_, false, false) => 1,
        }
    }
    let ra = rank(a.special, a.zero, a.neg);
    let rb = rank(b.special, b.zero, b.neg);
    if ra != rb || ra.abs() != 1 {
        return Some(ra.cmp(&rb));
    }
    let magnitude = a.exp10.cmp(&b.exp10).then_with(|| {
        let (mut da, mut db) = (a.digits, b.digits);
        loop {
            match (da.next(), db.next()) {
                (None, None) => return Ordering::Equal,
                (x, y) => {
                    let o = x.unwrap_or(b'0').cmp(&y.unwrap_or(b'0'));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
            }
        }
    });
    Some(if ra < 0 {
        magnitude.reverse()
    } else {
        magnitude
    })
}

/// Writes the decimal digits of `v`'s magnitude into `buf`, returning them.
fn int_digits(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut m = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            return &buf[i..];
        }
    }
}

impl Num<'_> {
    /// Compares two numbers exactly; `None` when either is NaN.
    pub(crate) fn compare(&self, other: &Num<'_>) -> Option<Ordering> {
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            return Some(a.cmp(b));
        }
        // Most numbers are a few digits: compare them as scaled integers.
        if let (Some((ma, sa)), Some((mb, sb))) = (self.scaled(), other.scaled()) {
            let ten = |e: u32| 10i128.checked_pow(e);
            let aligned = if sa >= sb {
                ten(sa - sb)
                    .and_then(|p| mb.checked_mul(p))
                    .map(|mb| (ma, mb))
            } else {
                ten(sb - sa)
                    .and_then(|p| ma.checked_mul(p))
                    .map(|ma| (ma, mb))
            };
            if let Some((a, b)) = aligned {
                return Some(a.cmp(&b));
            }
        }
        let (mut ba, mut bb) = ([0u8; 20], [0u8; 20]);
        let a = self.as_dec(&mut ba);
        let b = other.as_dec(&mut bb);
        cmp_norm(a.norm(), b.norm())
    }

    /// The number as `m / 10^s` when it is finite and has at most 30 digits.
    fn scaled(&self) -> Option<(i128, u32)> {
        let d = match self {
            Num::Int(v) => return Some((i128::from(*v), 0)),
            Num::Dec(d) if d.special == Special::Finite => d,
            Num::Dec(_) => return None,
        };
        let (mut m, mut n) = (0i128, 0u32);
        for b in d.digits() {
            if n == 30 {
                return None;
            }
            m = m * 10 + i128::from(b - b'0');
            n += 1;
        }
        let frac = d.frac.iter().filter(|b| b.is_ascii_digit()).count() as i64;
        let scale = frac - d.exp;
        if scale < 0 {
            m = m.checked_mul(10i128.checked_pow(u32::try_from(-scale).ok()?)?)?;
        }
        Some((
            if d.neg { -m } else { m },
            u32::try_from(scale.max(0)).ok()?,
        ))
    }

    fn as_dec<'b>(&'b self, buf: &'b mut [u8; 20]) -> Dec<'b> {
        match *self {
            Num::Int(v) => Dec {
                neg: v < 0,
                int: int_digits(v, buf),
                frac: b"",
                exp: 0,
                special: Special::Finite,
            },
            Num::Dec(d) => d,
        }
    }

    /// Appends a canonical key: equal numbers (`1`, `1.0`, `01`, `-0`/`0`) give equal keys.
    /// NaN has no key (it equals nothing).
    pub(crate) fn write_key(&self, out: &mut Vec<u8>) -> bool {
        let mut buf = [0u8; 20];
        let n = self.as_dec(&mut buf).norm();
        match (n.special, n.zero) {
            (Special::NaN, _) => return false,
            (Special::Inf, _) => out.extend_from_slice(if n.neg { b"-inf" } else { b"inf" }),
            (_, true) => out.push(b'0'),
            _ => {
                if n.neg {
                    out.push(b'-');
                }
                let start = out.len();
                out.extend(n.digits);
                while out.len() > start + 1 && out.last() == Some(&b'0') {
                    out.pop();
                }
                out.push(b'e');
                out.extend_from_slice(n.exp10.to_string().as_bytes());
            }
        }
        true
    }

    /// An owned copy, for a schema constraint.
    pub(crate) fn to_owned(self) -> OwnedNum {
        match self {
            Num::Int(v) => OwnedNum::Int(v),
            Num::Dec(d) => {
                let n = d.norm();
                OwnedNum::Dec {
                    neg: n.neg,
                    digits: if n.zero {
                        Vec::new()
                    } else {
                        n.digits.collect()
                    },
                    exp10: n.exp10,
                    special: n.special,
                }
            }
        }
    }
}

/// A number owned by the schema (a bound or an enum member).
#[derive(Debug, Clone)]
pub(crate) enum OwnedNum {
    Int(i64),
    Dec {
        neg: bool,
        digits: Vec<u8>,
        exp10: i64,
        special: Special,
    },
}

impl OwnedNum {
    /// A view to compare against.
    pub(crate) fn as_num(&self) -> Num<'_> {
        match self {
            OwnedNum::Int(v) => Num::Int(*v),
            OwnedNum::Dec {
                neg,
                digits,
                exp10,
                special,
            } => Num::Dec(Dec {
                neg: *neg,
                int: b"",
                frac: digits,
                exp: *exp10,
                special: *special,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Num<'_> {
        Num::Dec(parse_decimal(s).unwrap_or_else(|| panic!("{s:?} is a decimal")))
    }

    #[test]
    fn python_int_grammar() {
        for ok in ["1", " 2 ", "+3", "-4", "1_000", "00012", "\u{a0}7\u{3000}"] {
            assert!(parse_int(ok).is_some(), "{ok:?}");
        }
        for bad in [
            "", "1.0", "1e3", "0x10", "1,000", "_1", "1_", "1__0", "- 1", "+",
        ] {
            assert!(parse_int(bad).is_none(), "{bad:?}");
        }
        assert!(matches!(parse_int("-0042"), Some(Num::Int(-42))));
        // Too long for the fast path, still exact.
        let big = parse_int("123456789012345678901234567890").unwrap();
        assert!(matches!(big, Num::Dec(_)));
        assert_eq!(big.compare(&Num::Int(i64::MAX)), Some(Ordering::Greater));
    }

    #[test]
    fn python_decimal_grammar() {
        for ok in [
            "1",
            "1.5",
            " 2.5 ",
            "+3",
            ".5",
            "5.",
            "1e3",
            "1E-2",
            "NaN",
            "inf",
            "-Infinity",
            "sNaN",
            "nan12",
            "1e+5",
        ] {
            assert!(parse_decimal(ok).is_some(), "{ok:?}");
        }
        for bad in [
            "1,5", "abc", "0x1", "1.2.3", "- 1", ".", "e5", "1e", "infinit", "", "nan_",
        ] {
            assert!(parse_decimal(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn exact_comparison() {
        let cases = [
            ("1", "1.0", Ordering::Equal),
            ("0.1", "0.10000000000000001", Ordering::Less),
            ("-0", "0", Ordering::Equal),
            ("1e3", "999.99", Ordering::Greater),
            ("-2", "-10", Ordering::Greater),
            ("-inf", "-1e999", Ordering::Less),
            ("inf", "1e999", Ordering::Greater),
            ("0.005", "5e-3", Ordering::Equal),
            ("1000", "1000.000", Ordering::Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(dec(a).compare(&dec(b)), Some(want), "{a} vs {b}");
            assert_eq!(dec(b).compare(&dec(a)), Some(want.reverse()), "{b} vs {a}");
        }
        assert_eq!(dec("NaN").compare(&dec("1")), None);
        assert_eq!(Num::Int(-5).compare(&dec("-5.0")), Some(Ordering::Equal));
        assert_eq!(
            dec("2.5").to_owned().as_num().compare(&dec("2.50")),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn keys_of_equal_numbers_are_equal() {
        let key = |n: Num<'_>| {
            let mut k = Vec::new();
            n.write_key(&mut k).then_some(k)
        };
        assert_eq!(key(dec("1.0")), key(Num::Int(1)));
        assert_eq!(key(dec("-0.0")), key(Num::Int(0)));
        assert_eq!(key(dec("100")), key(dec("1e2")));
        assert_ne!(key(dec("100")), key(dec("10")));
        assert_eq!(key(dec("NaN")), None);
    }

    #[test]
    fn integral_decimals() {
        for (s, want) in [
            ("1.0", true),
            ("1e3", true),
            ("1.5", false),
            ("0", true),
            ("1e-1", false),
        ] {
            assert_eq!(parse_decimal(s).unwrap().is_integral(), want, "{s}");
        }
    }

    #[test]
    fn hex_ints_as_python() {
        assert!(is_py_hex_int("deadBEEF"));
        assert!(is_py_hex_int("0x_ff"));
        assert!(is_py_hex_int("+ff"));
        assert!(!is_py_hex_int("fg"));
        assert!(!is_py_hex_int("f__f"));
    }
}

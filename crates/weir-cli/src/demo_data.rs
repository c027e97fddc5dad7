//! Deterministic, deliberately dirty "customers" CSV for demos, tests and benchmarks.
//!
//! This is a native port of `bench/gen_customers.py`: same columns, same word
//! lists and names, and the same kinds and proportions of dirt, so that `weir`
//! can produce realistic sample input (of any size, quickly) without Python.
//! The output is not byte-identical to the Python script (different PRNG), but
//! it is fully determined by `seed`.
//!
//! Columns: `id,name,email,age,country,signup_date,score,notes`, LF line endings.
//!
//! Dirt, on purpose (per row, independently):
//! - ~2% of names hold a comma and are quoted (`"García, Ana"`);
//! - ~5% of names carry surrounding spaces (`  Ana García `);
//! - ~3% of emails are malformed (`Ana.García`, `Ana@`, empty, `Ana García@x.com`);
//! - ~1% of ages are not valid integers or are out of range (`""`, `abc`, `-3`, `200`, `4.5`);
//! - ~1% of dates are not calendar dates or are empty (`""`, `2023-02-30`, `2021-13-01`, `yesterday`);
//! - ~1% of notes hold an escaped double quote (`"words said ""hello"" words"`);
//! - ~0.5% of notes hold a newline inside quotes.
//!
//! Names include non-ASCII characters (Chloé, Zoë, García, Müller) and an
//! apostrophe inside an unquoted field (O'Brien). Every row is exactly 8 fields
//! under RFC 4180.

use std::io::{self, Write};

const FIRST: [&str; 26] = [
    "Ana", "Ben", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kofi",
    "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vik",
    "Wen", "Xavier", "Yara", "Zoë",
];
const LAST: [&str; 16] = [
    "Smith",
    "García",
    "Müller",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Tanaka",
    "Okafor",
    "Silva",
    "Nguyen",
    "Johansson",
    "Novak",
    "O'Brien",
    "Haddad",
    "Kim",
    "Ivanova",
];
const COUNTRIES: [&str; 12] = [
    "US", "DE", "FR", "GB", "JP", "BR", "IN", "NG", "SE", "PL", "CA", "MX",
];
const DOMAINS: [&str; 4] = ["example.com", "mail.org", "corp.net", "uni.edu"];
const WORDS: [&str; 16] = [
    "order",
    "late",
    "refund",
    "vip",
    "called",
    "email",
    "prefers",
    "phone",
    "weekend",
    "delivery",
    "damaged",
    "happy",
    "returning",
    "discount",
    "survey",
    "promo",
];
const BAD_AGES: [&str; 5] = ["", "abc", "-3", "200", "4.5"];
const BAD_DATES: [&str; 4] = ["", "2023-02-30", "2021-13-01", "yesterday"];

const HEADER: &str = "id,name,email,age,country,signup_date,score,notes\n";

/// Size of the block accumulated in memory before each `write_all`.
const BLOCK: usize = 64 * 1024;

/// SplitMix64 (Steele, Lea & Flood): tiny, fast, and statistically good enough
/// for synthetic data. Each output is a bijective mix of a Weyl sequence.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; bias is < n / 2^64, negligible here).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Appends the decimal representation of `n`.
fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `n` as exactly two digits (`n < 100`).
fn push_2digits(buf: &mut Vec<u8>, n: u64) {
    buf.push(b'0' + (n / 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

/// Appends one data row (with its trailing LF) for row number `id`.
fn push_row(
    buf: &mut Vec<u8>,
    words: &mut Vec<u8>,
    rng: &mut SplitMix64,
    id: u64,
    lower: &([String; 26], [String; 16]),
) {
    let fi = rng.below(FIRST.len() as u64) as usize;
    let li = rng.below(LAST.len() as u64) as usize;
    let (first, last) = (FIRST[fi], LAST[li]);

    // id
    push_u64(buf, id);
    buf.push(b',');

    // name: 2% "Last, First" (quoted), 5% padded with spaces.
    let r = rng.below(1000);
    if r < 20 {
        buf.push(b'"');
        buf.extend_from_slice(last.as_bytes());
        buf.extend_from_slice(b", ");
        buf.extend_from_slice(first.as_bytes());
        buf.push(b'"');
    } else if r < 70 {
        buf.extend_from_slice(b"  ");
        buf.extend_from_slice(first.as_bytes());
        buf.push(b' ');
        buf.extend_from_slice(last.as_bytes());
        buf.push(b' ');
    } else {
        buf.extend_from_slice(first.as_bytes());
        buf.push(b' ');
        buf.extend_from_slice(last.as_bytes());
    }
    buf.push(b',');

    // email: 3% malformed (four variants), otherwise lowercase first.last{id%997}@domain.
    let r = rng.below(1000);
    if r < 30 {
        match rng.below(4) {
            0 => {
                buf.extend_from_slice(first.as_bytes());
                buf.push(b'.');
                buf.extend_from_slice(last.as_bytes());
            }
            1 => {
                buf.extend_from_slice(first.as_bytes());
                buf.push(b'@');
            }
            2 => {}
            _ => {
                buf.extend_from_slice(first.as_bytes());
                buf.push(b' ');
                buf.extend_from_slice(last.as_bytes());
                buf.extend_from_slice(b"@x.com");
            }
        }
    } else {
        buf.extend_from_slice(lower.0[fi].as_bytes());
        buf.push(b'.');
        buf.extend_from_slice(lower.1[li].as_bytes());
        push_u64(buf, id % 997);
        buf.push(b'@');
        buf.extend_from_slice(rng.pick(&DOMAINS).as_bytes());
    }
    buf.push(b',');

    // age: 1% bad.
    if rng.below(1000) < 10 {
        buf.extend_from_slice(rng.pick(&BAD_AGES).as_bytes());
    } else {
        push_u64(buf, rng.range(16, 95));
    }
    buf.push(b',');

    // country
    buf.extend_from_slice(rng.pick(&COUNTRIES).as_bytes());
    buf.push(b',');

    // signup_date: 1% bad.
    if rng.below(1000) < 10 {
        buf.extend_from_slice(rng.pick(&BAD_DATES).as_bytes());
    } else {
        push_u64(buf, rng.range(2015, 2024));
        buf.push(b'-');
        push_2digits(buf, rng.range(1, 12));
        buf.push(b'-');
        push_2digits(buf, rng.range(1, 28));
    }
    buf.push(b',');

    // score: uniform in [0, 100) with 3 decimals.
    let s = rng.below(100_000);
    push_u64(buf, s / 1000);
    buf.push(b'.');
    let frac = s % 1000;
    buf.push(b'0' + (frac / 100) as u8);
    push_2digits(buf, frac % 100);
    buf.push(b',');

    // notes: 0..=12 words; 1% with an escaped quote, 0.5% with an embedded newline.
    words.clear();
    for k in 0..rng.range(0, 12) {
        if k > 0 {
            words.push(b' ');
        }
        words.extend_from_slice(rng.pick(&WORDS).as_bytes());
    }
    let r = rng.below(1000);
    if r < 10 {
        buf.push(b'"');
        buf.extend_from_slice(words);
        buf.extend_from_slice(b" said \"\"hello\"\" ");
        buf.extend_from_slice(words);
        buf.push(b'"');
    } else if r < 15 {
        buf.push(b'"');
        buf.extend_from_slice(words);
        buf.push(b'\n');
        buf.extend_from_slice(words);
        buf.push(b'"');
    } else {
        buf.extend_from_slice(words);
    }
    buf.push(b'\n');
}

/// Writes the header and rows until at least `target_bytes` bytes (header included) are written, then stops at the end of a row. Returns the number of data rows written.
///
/// The output depends only on `target_bytes` and `seed`; for a fixed seed, a
/// smaller target yields a prefix (in whole rows) of a larger one. Data is
/// written in blocks of about 64 KiB.
pub fn write_customers<W: Write>(out: &mut W, target_bytes: u64, seed: u64) -> io::Result<u64> {
    let lower: ([String; 26], [String; 16]) =
        (FIRST.map(str::to_lowercase), LAST.map(str::to_lowercase));
    let mut rng = SplitMix64(seed);
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + 1024);
    let mut words: Vec<u8> = Vec::with_capacity(256);

    buf.extend_from_slice(HEADER.as_bytes());
    let mut written = HEADER.len() as u64;
    let mut rows = 0u64;
    while written < target_bytes {
        let before = buf.len();
        rows += 1;
        push_row(&mut buf, &mut words, &mut rng, rows, &lower);
        written += (buf.len() - before) as u64;
        if buf.len() >= BLOCK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        out.write_all(&buf)?;
    }
    out.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generous upper bound on one row's length in bytes (the real maximum is ~330).
    const MAX_ROW: u64 = 512;

    fn generate(target: u64, seed: u64) -> (Vec<u8>, u64) {
        let mut out = Vec::new();
        let rows = write_customers(&mut out, target, seed).unwrap();
        (out, rows)
    }

    /// Minimal RFC 4180 parser: records of fields, quoted fields may contain
    /// commas, doubled quotes and newlines. Panics on malformed input.
    fn parse_csv(data: &[u8]) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = Vec::new();
        let mut i = 0;
        let mut at_field_start = true;
        while i < data.len() {
            let c = data[i];
            if at_field_start && c == b'"' {
                // Quoted field.
                i += 1;
                loop {
                    assert!(i < data.len(), "unterminated quoted field");
                    if data[i] == b'"' {
                        if data.get(i + 1) == Some(&b'"') {
                            field.push(b'"');
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    } else {
                        field.push(data[i]);
                        i += 1;
                    }
                }
                assert!(
                    i >= data.len() || data[i] == b',' || data[i] == b'\n',
                    "garbage after closing quote at byte {i}"
                );
                at_field_start = false;
                continue;
            }
            match c {
                b',' => {
                    record.push(String::from_utf8(std::mem::take(&mut field)).unwrap());
                    at_field_start = true;
                }
                b'\n' => {
                    record.push(String::from_utf8(std::mem::take(&mut field)).unwrap());
                    records.push(std::mem::take(&mut record));
                    at_field_start = true;
                }
                b'"' => panic!("bare quote inside unquoted field at byte {i}"),
                b'\r' => panic!("CR found at byte {i}, expected LF line endings"),
                _ => {
                    field.push(c);
                    at_field_start = false;
                }
            }
            i += 1;
        }
        assert!(
            record.is_empty() && field.is_empty() && at_field_start,
            "input does not end with a newline"
        );
        records
    }

    #[test]
    fn parser_handles_rfc4180() {
        let recs = parse_csv(b"a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\",\n1,,O'Brien,  z ,\"\"\n");
        assert_eq!(
            recs,
            vec![
                vec!["a", "b,c", "say \"hi\"", "x\ny", ""],
                vec!["1", "", "O'Brien", "  z ", ""],
            ]
        );
    }

    #[test]
    fn deterministic_per_seed() {
        let (a, ra) = generate(200_000, 7);
        let (b, rb) = generate(200_000, 7);
        let (c, _) = generate(200_000, 8);
        assert_eq!(a, b);
        assert_eq!(ra, rb);
        assert_ne!(a, c);
        // Headers agree, data differs.
        assert!(c.starts_with(HEADER.as_bytes()));
        assert_ne!(a[HEADER.len()..], c[HEADER.len()..]);
    }

    #[test]
    fn smaller_target_is_prefix() {
        let (small, _) = generate(10_000, 3);
        let (big, _) = generate(300_000, 3);
        assert!(big.starts_with(&small));
    }

    #[test]
    fn size_is_target_plus_less_than_one_row() {
        for &(target, seed) in &[
            (0u64, 1u64),
            (1, 1),
            (HEADER.len() as u64, 1),
            (HEADER.len() as u64 + 1, 1),
            (1_000, 2),
            (65_535, 3),
            (65_536, 3),
            (65_537, 3),
            (1_000_000, 4),
            (3_333_333, 5),
        ] {
            let (out, rows) = generate(target, seed);
            let len = out.len() as u64;
            assert!(len >= target, "target {target}: got {len}");
            assert!(len >= HEADER.len() as u64);
            if target <= HEADER.len() as u64 {
                assert_eq!(out, HEADER.as_bytes());
                assert_eq!(rows, 0);
                continue;
            }
            assert!(len < target + MAX_ROW, "target {target}: got {len}");
            // Stopped at the first row that reached the target.
            let recs = parse_csv(&out);
            assert_eq!(recs.len() as u64, rows + 1);
            let last_id = recs.last().unwrap()[0].clone();
            let last_row_start = {
                // Notes never start with a digit, so "\n{id}," marks the row start.
                let needle = format!("\n{last_id},");
                out.windows(needle.len())
                    .rposition(|w| w == needle.as_bytes())
                    .unwrap() as u64
                    + 1
            };
            assert!(last_row_start < target, "target {target}: row too many");
        }
    }

    #[test]
    fn every_row_has_eight_fields() {
        let (out, rows) = generate(3_000_000, 11);
        let recs = parse_csv(&out);
        assert_eq!(
            recs[0],
            vec![
                "id",
                "name",
                "email",
                "age",
                "country",
                "signup_date",
                "score",
                "notes"
            ]
        );
        assert_eq!(recs.len() as u64, rows + 1);
        for (n, rec) in recs.iter().enumerate().skip(1) {
            assert_eq!(rec.len(), 8, "record {n}: {rec:?}");
            assert_eq!(rec[0], n.to_string(), "ids are 1..=rows");
        }
        // The non-ASCII and apostrophe names show up (in unquoted fields too).
        let text = String::from_utf8(out).unwrap();
        for needle in [
            "Chloé",
            "Zoë",
            "García",
            "Müller",
            ",Ana O'Brien,",
            "müller",
        ] {
            assert!(text.contains(needle), "missing {needle}");
        }
    }

    fn words_ok(s: &str) -> bool {
        s.is_empty() || s.split(' ').all(|w| WORDS.contains(&w))
    }

    #[test]
    fn dirt_proportions() {
        let mut out = Vec::new();
        // ~20,000+ rows (average row is ~110 bytes).
        let rows = write_customers(&mut out, 2_500_000, 42).unwrap();
        assert!(rows >= 20_000, "only {rows} rows");
        let recs = parse_csv(&out);
        let n = rows as f64;

        let mut comma_names = 0;
        let mut padded_names = 0;
        let mut bad_emails = 0;
        let mut bad_ages = 0;
        let mut bad_dates = 0;
        let mut quote_notes = 0;
        let mut newline_notes = 0;
        let mut note_words = [0u32; 13];

        for rec in &recs[1..] {
            let (name, email, age, country, date, score, notes) = (
                &rec[1], &rec[2], &rec[3], &rec[4], &rec[5], &rec[6], &rec[7],
            );

            // name
            if name.contains(", ") {
                comma_names += 1;
                let (l, f) = name.split_once(", ").unwrap();
                assert!(LAST.contains(&l) && FIRST.contains(&f), "{name}");
            } else if name.starts_with("  ") && name.ends_with(' ') {
                padded_names += 1;
                assert_eq!(name.trim(), &name[2..name.len() - 1]);
            } else {
                let (f, l) = name.split_once(' ').unwrap();
                assert!(FIRST.contains(&f) && LAST.contains(&l), "{name}");
            }

            // email
            let good_email = email.split_once('@').is_some_and(|(local, dom)| {
                DOMAINS.contains(&dom)
                    && local.contains('.')
                    && !local.contains(' ')
                    && local == local.to_lowercase()
                    && local.ends_with(|c: char| c.is_ascii_digit())
            });
            if !good_email {
                bad_emails += 1;
                let ok = email.is_empty()
                    || (email.ends_with('@') && FIRST.contains(&&email[..email.len() - 1]))
                    || email.ends_with("@x.com")
                    || email
                        .split_once('.')
                        .is_some_and(|(f, l)| FIRST.contains(&f) && LAST.contains(&l));
                assert!(ok, "unexpected malformed email {email:?}");
            }

            // age
            match age.parse::<u32>() {
                Ok(a) if (16..=95).contains(&a) => {}
                _ => {
                    bad_ages += 1;
                    assert!(BAD_AGES.contains(&age.as_str()), "{age:?}");
                }
            }

            assert!(COUNTRIES.contains(&country.as_str()));

            // date
            let valid_date = date.len() == 10 && {
                let y: u32 = date[0..4].parse().unwrap_or(0);
                let m: u32 = date[5..7].parse().unwrap_or(0);
                let d: u32 = date[8..10].parse().unwrap_or(0);
                (2015..=2024).contains(&y) && (1..=12).contains(&m) && (1..=28).contains(&d)
            };
            if !valid_date {
                bad_dates += 1;
                assert!(BAD_DATES.contains(&date.as_str()), "{date:?}");
            }

            // score: three decimals, in [0, 100)
            let (int, frac) = score.split_once('.').unwrap();
            assert_eq!(frac.len(), 3, "{score}");
            let v: f64 = score.parse().unwrap();
            assert!((0.0..100.0).contains(&v), "{score}");
            assert!(!int.is_empty());

            // notes
            if let Some((a, b)) = notes.split_once(" said \"hello\" ") {
                quote_notes += 1;
                assert_eq!(a, b);
                assert!(words_ok(a), "{notes:?}");
            } else if let Some((a, b)) = notes.split_once('\n') {
                newline_notes += 1;
                assert_eq!(a, b);
                assert!(words_ok(a), "{notes:?}");
            } else {
                assert!(words_ok(notes), "{notes:?}");
                let count = if notes.is_empty() {
                    0
                } else {
                    notes.split(' ').count()
                };
                note_words[count] += 1;
            }
        }

        let pct = |k: i32| 100.0 * f64::from(k) / n;
        let check = |what: &str, k: i32, lo: f64, hi: f64| {
            let p = pct(k);
            assert!(
                (lo..=hi).contains(&p),
                "{what}: {p:.3}% not in [{lo}, {hi}]"
            );
        };
        check("quoted-comma names", comma_names, 1.0, 3.0);
        check("padded names", padded_names, 4.0, 6.0);
        check("malformed emails", bad_emails, 2.0, 4.0);
        check("bad ages", bad_ages, 0.5, 1.5);
        check("bad dates", bad_dates, 0.5, 1.5);
        check("notes with escaped quote", quote_notes, 0.5, 1.5);
        check("notes with newline", newline_notes, 0.2, 0.8);
        // Word counts 0..=12 all occur, roughly uniformly (~7.7% each).
        for (k, &c) in note_words.iter().enumerate() {
            check(&format!("notes with {k} words"), c as i32, 6.0, 9.5);
        }
    }
}

//! Where a shard's first record starts: exactly for newline-framed formats, speculatively for
//! CSV (two hypotheses about the quote state, judged by the records that follow and by where
//! their parses meet). Merge proves the guess.

use std::io::Read;

use super::{open_input, Candidate, StartGuess};
use crate::error::{Error, Result, SourceName};
use crate::split::{csv::QuoteScanner, Cut, Framing};

/// How far past a guessed start the records are parsed to judge the guess.
const GUESS_WINDOW: usize = 64 << 10;
/// How many records after a guessed start are judged at most.
const GUESS_RECORDS: usize = 100;

/// The number of fields of the record at the start of `bytes`, and its stray quotes.
pub(super) fn field_count(bytes: &[u8], framing: Framing) -> (usize, u64) {
    match framing {
        Framing::Quoted { quote, delimiter } => {
            let (_, fields, stray) = parse_record(bytes, quote, delimiter);
            (fields, stray)
        }
        Framing::Lines => (1, 0),
    }
}

/// Parses the record at the start of `bytes` under the splitter's quote model: its length
/// with its terminator (`None` if `bytes` ends first), its field count, and its stray quotes
/// (a quote inside an unquoted field, text straight after a closing quote): legal, but what a
/// parse that started in the wrong quote state typically meets.
fn parse_record(bytes: &[u8], quote: u8, delimiter: u8) -> (Option<usize>, usize, u64) {
    let (mut fields, mut stray) = (1usize, 0u64);
    let mut i = 0;
    let mut field_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if b == quote && field_start {
            // A quoted field: to its closing quote (`""` is a quote inside).
            let mut j = i + 1;
            loop {
                match memchr::memchr(quote, &bytes[j.min(bytes.len())..]) {
                    None => return (None, fields, stray),
                    Some(q) => {
                        let at = j + q;
                        if bytes.get(at + 1) == Some(&quote) {
                            j = at + 2;
                            continue;
                        }
                        i = at + 1;
                        break;
                    }
                }
            }
            if let Some(&next) = bytes.get(i) {
                if next != delimiter && next != b'\n' && next != b'\r' {
                    stray += 1;
                }
            }
            field_start = false;
            continue;
        }
        field_start = false;
        if b == delimiter {
            fields += 1;
            field_start = true;
        } else if b == b'\n' {
            return (Some(i + 1), fields, stray);
        } else if b == b'\r' {
            return match bytes.get(i + 1) {
                Some(b'\n') => (Some(i + 2), fields, stray),
                Some(_) => (Some(i + 1), fields, stray),
                None => (None, fields, stray),
            };
        } else if b == quote {
            stray += 1;
        }
        i += 1;
    }
    (None, fields, stray)
}

/// Where the first record starting at or after `nominal` begins, judged from `window`: the
/// input's bytes from `window_at` (at most `nominal - 2`, so that the byte before the nominal
/// start and the one before that are in view) on; `eof` says the window reaches the input's
/// end. For newline-framed formats the answer is exact (the byte after the first `\n` at or
/// after `nominal - 1`); for CSV it is the better of two hypotheses about the quote state
/// before `nominal - 1`, judged by the records that follow (the header's field count, no stray
/// quotes), "outside quotes" on a tie. `None`: the window holds no answer (read a longer one).
pub fn guess_start(
    window: &[u8],
    window_at: u64,
    nominal: u64,
    eof: bool,
    framing: Framing,
    fields: Option<usize>,
) -> Option<(u64, StartGuess)> {
    let from = (nominal - 1 - window_at) as usize;
    match framing {
        Framing::Lines => {
            let at = match memchr::memchr(b'\n', &window[from..]) {
                Some(i) => from + i + 1,
                None if eof => window.len(),
                None => return None,
            };
            Some((
                window_at + at as u64,
                StartGuess {
                    hypothesis: "newline".into(),
                    ..Default::default()
                },
            ))
        }
        Framing::Quoted { quote, delimiter } => {
            let w = CsvWindow {
                bytes: window,
                at: window_at,
                eof,
                quote,
                delimiter,
                fields,
            };
            let out = w.candidate(from, false)?;
            let inside = w.candidate(from, true)?;
            Some(w.choose(vec![out, inside]))
        }
    }
}

/// A window of CSV input judged for where a record starts: its bytes from `at` (`eof`: they
/// reach the input's end), the dialect's quote and delimiter, and the header's field count.
struct CsvWindow<'a> {
    bytes: &'a [u8],
    at: u64,
    eof: bool,
    quote: u8,
    delimiter: u8,
    fields: Option<usize>,
}

impl CsvWindow<'_> {
    /// What the hypothesis that the byte before `from` is `quoted` (or not) finds: the first
    /// record start it leads to and how the records after it parse. `None`: not decided yet
    /// (read a longer window).
    fn candidate(&self, from: usize, quoted: bool) -> Option<Candidate> {
        let (window, eof) = (self.bytes, self.eof);
        let (quote, delimiter) = (self.quote, self.delimiter);
        let mut scanner = QuoteScanner::starting_at(from, quoted);
        let at = match scanner.scan(window, quote, delimiter, eof, Cut::First) {
            Some(at) => Some(at),
            None if eof && scanner.unterminated_quote().is_none() => Some(window.len()),
            None if eof => None,
            None => {
                if window.len() - from < GUESS_WINDOW * 4 {
                    return None; // not decided yet: read on
                }
                None // no record end within the window on this hypothesis
            }
        };
        let mut c = Candidate {
            hypothesis: if quoted {
                "inside-quotes"
            } else {
                "outside-quotes"
            }
            .into(),
            start: at.map(|a| self.at + a as u64),
            ..Default::default()
        };
        if let Some(mut pos) = at {
            let limit = (pos + GUESS_WINDOW).min(window.len());
            while c.records < GUESS_RECORDS as u64 && pos < limit {
                let (len, n, stray) = parse_record(&window[pos..], quote, delimiter);
                let len = match len {
                    Some(len) => len,
                    // The last record of the input, or one the window cuts.
                    None if eof && window.len() - pos < GUESS_WINDOW => window.len() - pos,
                    None => break,
                };
                c.records += 1;
                c.stray_quotes += stray;
                if stray == 0 && self.fields.is_none_or(|f| f == n) {
                    c.well_formed += 1;
                }
                pos += len;
            }
        }
        Some(c)
    }

    /// The start kept of the two hypotheses' `candidates` (outside quotes, then inside), and
    /// why.
    fn choose(&self, mut candidates: Vec<Candidate>) -> (u64, StartGuess) {
        let (window, window_at) = (self.bytes, self.at);
        let (quote, delimiter, fields) = (self.quote, self.delimiter, self.fields);
        let score = |c: &Candidate| {
            // Well-formed share (in thousandths), then fewer stray quotes.
            let share = (c.well_formed * 1000).checked_div(c.records).unwrap_or(500);
            (c.start.is_some(), share, u64::MAX - c.stray_quotes)
        };
        // Two different starts: follow both parses until they reach the same record
        // boundary (from there on they are one parse). The right one met only the data's own
        // bad records on the way; the wrong one usually also the garbage of its resync.
        let met = match (candidates[0].start, candidates[1].start) {
            (Some(a), Some(b)) if a != b => {
                let at = |x: u64| (x - window_at) as usize;
                meet(window, at(a), at(b), quote, delimiter, fields)
            }
            _ => None,
        };
        if let Some((_, bad_out, bad_in)) = met {
            candidates[0].bad_before_meeting = Some(bad_out);
            candidates[1].bad_before_meeting = Some(bad_in);
        }
        let (out, inside) = (&candidates[0], &candidates[1]);
        let (start, hypothesis) = if out.start == inside.start {
            (out.start, "agree")
        } else if let Some((_, bad_out, bad_in)) = met {
            if bad_in < bad_out {
                (inside.start, "inside-quotes")
            } else {
                (out.start, "outside-quotes")
            }
        } else if score(inside) > score(out) {
            (inside.start, "inside-quotes")
        } else {
            (out.start, "outside-quotes")
        };
        // Neither hypothesis ends a record before the input ends: the shard starts at the
        // end and owns nothing (the shard before it reads to the end).
        let start = start.unwrap_or(window_at + window.len() as u64);
        (
            start,
            StartGuess {
                hypothesis: hypothesis.into(),
                candidates,
                met_at: met.map(|(at, _, _)| window_at + at as u64),
            },
        )
    }
}

/// Follows the record boundaries of two parses of `window`, from `a` and from `b`, until they
/// reach the same boundary: where, and how many bad records (another field count than the
/// header's, stray quotes) each met before. `None` if they do not meet within the window.
fn meet(
    window: &[u8],
    mut a: usize,
    mut b: usize,
    quote: u8,
    delimiter: u8,
    fields: Option<usize>,
) -> Option<(usize, u64, u64)> {
    let (mut bad_a, mut bad_b) = (0u64, 0u64);
    while a != b {
        let (pos, bad) = if a < b {
            (&mut a, &mut bad_a)
        } else {
            (&mut b, &mut bad_b)
        };
        let (len, n, stray) = parse_record(&window[*pos..], quote, delimiter);
        if stray > 0 || fields.is_some_and(|f| f != n) {
            *bad += 1;
        }
        *pos += len?;
    }
    Some((a, bad_a, bad_b))
}

/// Reads the bytes of `path` from `at` until `guess_start` can answer.
pub(super) fn find_start(
    name: &str,
    version: &str,
    nominal: u64,
    size: u64,
    framing: Framing,
    fields: Option<usize>,
    max_record_size: usize,
) -> Result<(u64, StartGuess)> {
    let at = nominal.saturating_sub(2);
    let mut file = open_input(name, at, version)?;
    let read_err = |source| Error::read(SourceName::new(name), source);
    let mut window = Vec::new();
    let mut want = (4 * GUESS_WINDOW) as u64;
    loop {
        let have = window.len() as u64;
        (&mut file)
            .take(want - have)
            .read_to_end(&mut window)
            .map_err(read_err)?;
        let eof = at + window.len() as u64 >= size || (window.len() as u64) < want;
        if let Some(found) = guess_start(&window, at, nominal, eof, framing, fields) {
            return Ok(found);
        }
        if window.len() > max_record_size + 8 * GUESS_WINDOW {
            // No hypothesis ends a record within the longest record allowed: the record that
            // holds the nominal start is too large, as a one-machine run would say.
            return Err(Error::RecordTooLarge {
                source_name: SourceName::new(name),
                line: 0,
                byte_offset: nominal,
                limit: max_record_size,
            });
        }
        want *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: Framing = Framing::Quoted {
        quote: b'"',
        delimiter: b',',
    };

    fn guess(input: &[u8], nominal: u64, fields: usize) -> (u64, String) {
        let at = nominal.saturating_sub(2);
        let (start, g) =
            guess_start(&input[at as usize..], at, nominal, true, CSV, Some(fields)).unwrap();
        (start, g.hypothesis)
    }

    #[test]
    fn a_start_inside_a_quoted_field_is_found_by_the_inside_hypothesis() {
        let input = b"a,b\n1,\"x\ny,z\nw\"\n2,q\n3,r\n";
        // Nominal start 9 is inside the quoted field (after `x\n`): the record starts at 16.
        let (start, h) = guess(input, 9, 2);
        assert_eq!(start, 16, "{h}");
        // Outside any quotes, both hypotheses agree or outside wins.
        let (start, _) = guess(input, 17, 2);
        assert_eq!(start, 20);
    }

    #[test]
    fn a_start_inside_more_fake_records_than_a_guess_reads_is_found_where_the_parses_meet() {
        // 150 well-formed lines inside quotes: "outside" sees 100 good records too, but its
        // parse meets the right one only after the closing quote opens a bogus quoted field.
        let mut input = b"a,b,c\n1,\"".to_vec();
        for _ in 0..150 {
            input.extend_from_slice(b"7,8,9\n");
        }
        input.extend_from_slice(b"\",c\n");
        let real = input.len() as u64;
        for i in 2..200 {
            input.extend_from_slice(format!("{i},b,\"c\nd\"\n").as_bytes());
        }
        let (start, h) = guess(&input, 400, 3);
        assert_eq!((start, h.as_str()), (real, "inside-quotes"));
    }

    #[test]
    fn newline_framing_takes_the_byte_after_the_first_newline() {
        let input = b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
        let (start, g) = guess_start(&input[3..], 3, 5, true, Framing::Lines, None).unwrap();
        assert_eq!((start, g.hypothesis.as_str()), (8, "newline"));
        // A record that starts exactly at the nominal start is the shard's.
        let (start, _) = guess_start(&input[6..], 6, 8, true, Framing::Lines, None).unwrap();
        assert_eq!(start, 8);
    }

    #[test]
    fn parse_record_counts_fields_and_stray_quotes() {
        assert_eq!(
            parse_record(b"a,\"b,c\",d\nx", b'"', b','),
            (Some(10), 3, 0)
        );
        assert_eq!(parse_record(b"a\"b,c\r\n", b'"', b','), (Some(7), 2, 1));
        assert_eq!(parse_record(b"\"ab\"c,d\n", b'"', b','), (Some(8), 2, 1));
        assert_eq!(parse_record(b"\"open", b'"', b','), (None, 1, 0));
    }
}

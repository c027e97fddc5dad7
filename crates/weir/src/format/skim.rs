//! Skimming CSV records: where each record starts and ends, how many fields it has, and whether
//! its raw bytes are already canonical output, without building field spans.
//!
//! This is the passthrough fast path: when no transform looks at fields, a record only needs
//! its boundaries (to copy it), its field count (to check it against the header) and whether it
//! holds a quote (then it is decoded fully and re-encoded). It reads the same quote model as
//! [`super::csv::CsvDecoder`] — the property tests compare both with csv-core — but on a 64-byte
//! block without quotes or CRs it counts a record's fields with one `popcount` instead of
//! visiting each delimiter.

/// One skimmed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skimmed {
    /// First byte.
    pub start: usize,
    /// End of its bytes, before the terminator.
    pub end: usize,
    /// Terminator length: 1 (`\n` or `\r`), 2 (`\r\n`) or 0 (end of input).
    pub term_len: usize,
    /// Field count.
    pub fields: usize,
    /// Physical line of its first byte.
    pub line: u64,
    /// Whether it holds no quote at all, so its raw bytes are what the writer would produce.
    pub canonical: bool,
}

/// Bitmasks of the delimiter, quote, `\n` and `\r` bytes of a 64-byte block (bits past the
/// input's end are clear).
#[inline]
fn masks(input: &[u8], base: usize, delimiter: u8, quote: u8) -> [u64; 4] {
    let rest = &input[base..];
    let mut block = [0u8; 64];
    let bytes: &[u8; 64] = if rest.len() >= 64 {
        rest[..64].try_into().expect("64 bytes")
    } else {
        block[..rest.len()].copy_from_slice(rest);
        &block
    };
    let valid = if rest.len() >= 64 {
        !0
    } else {
        (1u64 << rest.len()) - 1
    };
    let m = masks64(bytes, [delimiter, quote, b'\n', b'\r']);
    [m[0] & valid, m[1] & valid, m[2] & valid, m[3] & valid]
}

#[inline]
fn masks64(block: &[u8; 64], needles: [u8; 4]) -> [u64; 4] {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline; every load stays inside `block`.
        unsafe { masks64_sse2(block, needles) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut m = [0u64; 4];
        for (i, &b) in block.iter().enumerate() {
            for (k, &n) in needles.iter().enumerate() {
                m[k] |= ((b == n) as u64) << i;
            }
        }
        m
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn masks64_sse2(block: &[u8; 64], needles: [u8; 4]) -> [u64; 4] {
    use std::arch::x86_64::*;
    // SAFETY (for the whole body): SSE2 is always present on x86_64; loads are unaligned and
    // stay within `block`.
    unsafe {
        let mut out = [0u64; 4];
        let v = [0, 1, 2, 3].map(|k| _mm_loadu_si128(block.as_ptr().add(16 * k) as *const __m128i));
        for (m, &n) in out.iter_mut().zip(needles.iter()) {
            let needle = _mm_set1_epi8(n as i8);
            for (k, lane) in v.iter().enumerate() {
                let bits = _mm_movemask_epi8(_mm_cmpeq_epi8(*lane, needle)) as u32 as u64;
                *m |= bits << (16 * k);
            }
        }
        out
    }
}

/// The skimmer's state between structural bytes.
struct State {
    rec_start: usize,
    rec_line: u64,
    line: u64,
    fields: usize,
    field_start: usize,
    in_quotes: bool,
    canonical: bool,
    /// A structural byte to ignore: the second quote of `""`, or the `\n` of a `\r\n`.
    skip: usize,
}

impl State {
    #[inline]
    fn end_record<F: FnMut(&Skimmed)>(&mut self, end: usize, term_len: usize, f: &mut F) {
        f(&Skimmed {
            start: self.rec_start,
            end,
            term_len,
            fields: self.fields,
            line: self.rec_line,
            canonical: self.canonical,
        });
        self.line += 1;
        self.next_record(end + term_len);
    }

    #[inline]
    fn next_record(&mut self, at: usize) {
        self.rec_start = at;
        self.field_start = at;
        self.rec_line = self.line;
        self.fields = 1;
        self.canonical = true;
    }
}

/// Calls `f` for every record of `input` (a whole number of records; empty lines skipped, as
/// csv-core does), in order.
pub fn skim<F: FnMut(&Skimmed)>(input: &[u8], delimiter: u8, quote: u8, first_line: u64, mut f: F) {
    let len = input.len();
    let mut st = State {
        rec_start: 0,
        rec_line: first_line,
        line: first_line,
        fields: 1,
        field_start: 0,
        in_quotes: false,
        canonical: true,
        skip: usize::MAX,
    };
    let mut base = 0;
    while base < len {
        let [mut d, q, mut n, r] = masks(input, base, delimiter, quote);
        if st.skip >= base && st.skip < base + 64 {
            n &= !(1u64 << (st.skip - base)); // only a `\n` can be pending in a quote-free block
        }
        if !st.in_quotes && (q | r) == 0 {
            // Fast path: every delimiter and `\n` is structural.
            while n != 0 {
                let i = n.trailing_zeros();
                let p = base + i as usize;
                let below = (1u64 << i) - 1;
                st.fields += (d & below).count_ones() as usize;
                d &= !below;
                if p == st.rec_start {
                    st.line += 1;
                    st.next_record(p + 1);
                } else {
                    st.end_record(p, 1, &mut f);
                }
                n &= n - 1;
            }
            st.fields += d.count_ones() as usize;
            if d != 0 {
                st.field_start = base + 64 - d.leading_zeros() as usize;
            }
        } else {
            let mut bits = d | q | n | r;
            while bits != 0 {
                let p = base + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if p == st.skip {
                    continue;
                }
                let b = input[p];
                if st.in_quotes {
                    if b == quote {
                        if input.get(p + 1) == Some(&quote) {
                            st.skip = p + 1;
                        } else {
                            st.in_quotes = false;
                        }
                    } else if b == b'\n' || (b == b'\r' && input.get(p + 1) != Some(&b'\n')) {
                        st.line += 1;
                    }
                    continue;
                }
                if b == delimiter {
                    st.fields += 1;
                    st.field_start = p + 1;
                } else if b == b'\n' || b == b'\r' {
                    let crlf = b == b'\r' && input.get(p + 1) == Some(&b'\n');
                    if crlf {
                        st.skip = p + 1;
                    }
                    let term = 1 + crlf as usize;
                    if p == st.rec_start {
                        st.line += 1;
                        st.next_record(p + term);
                    } else {
                        st.end_record(p, term, &mut f);
                    }
                } else {
                    // A quote: it opens a quoted field at a field start, else it is literal.
                    st.in_quotes = p == st.field_start;
                    st.canonical = false;
                }
            }
        }
        base += 64;
    }
    if st.rec_start < len {
        st.canonical &= !st.in_quotes;
        st.end_record(len, 0, &mut f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<(usize, usize, usize, usize, u64, bool)> {
        let mut v = Vec::new();
        skim(input, b',', b'"', 1, |s| {
            v.push((s.start, s.end, s.term_len, s.fields, s.line, s.canonical))
        });
        v
    }

    #[test]
    fn boundaries_counts_lines_and_canonical_flags() {
        let input = b"a,b\n\n\"x\ny\",c\r\nd\re,f,g";
        assert_eq!(
            all(input),
            vec![
                (0, 3, 1, 2, 1, true),
                (5, 12, 2, 2, 3, false),
                (14, 15, 1, 1, 5, true),
                (16, 21, 0, 3, 6, true),
            ]
        );
    }

    #[test]
    fn long_records_cross_blocks_on_the_fast_path() {
        let field = "x".repeat(70);
        let input = format!("{field},{field},{field}\n{field}\n");
        let got = all(input.as_bytes());
        assert_eq!(
            got,
            vec![(0, 212, 1, 3, 1, true), (213, 283, 1, 1, 2, true)]
        );
    }

    #[test]
    fn a_literal_quote_makes_the_record_non_canonical() {
        assert_eq!(all(b"5'10\",x\n"), vec![(0, 7, 1, 2, 1, false)]);
    }
}

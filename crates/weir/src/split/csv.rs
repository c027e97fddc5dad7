//! Quote-aware record boundary scanning.
//!
//! Under the RFC 4180 reader model (csv-core's and Python's), quote state changes only at quote
//! bytes, and each quote byte's meaning follows from its neighbours alone:
//!
//! - outside quotes, a quote opens a quoted field only when it starts a field, that is when it is
//!   the first byte of the record or follows a delimiter, `\n` or `\r` (each of which, outside
//!   quotes, ends a field); anywhere else it is a literal (`5'10"`);
//! - inside quotes, a quote followed by a quote is an escaped quote; any other quote closes the
//!   quoted part, and what follows continues the field unquoted (`"ab"cd` is `abcd`).
//!
//! So the scanner jumps from quote to quote with `memchr` and looks for terminators only in the
//! unquoted runs between quoted parts. It holds back the last byte of the buffer until the input
//! ends, so that every decision above has the byte after it in view.

use memchr::{memchr, memchr2, memrchr2};

use super::Cut;

/// Resumable scanner state for quoted framing; see the module documentation.
#[derive(Debug, Default, Clone)]
pub struct QuoteScanner {
    /// Bytes of the current buffer already scanned.
    pos: usize,
    /// Whether `pos` lies inside a quoted field.
    quoted: bool,
    /// Where the quote that opened the current quoted field is, counted from the start of the
    /// first buffer scanned (bytes dropped with [`QuoteScanner::discard`] included).
    open_at: usize,
    /// Bytes dropped from the front of the buffer since the scan started.
    dropped: usize,
}

impl QuoteScanner {
    /// A scanner that starts at `pos` of the buffer it is given, inside quotes or not: for
    /// guessing where a record starts in the middle of an input (see [`crate::shard`]). A quote
    /// at `pos` is judged by the byte before it.
    pub fn starting_at(pos: usize, quoted: bool) -> QuoteScanner {
        QuoteScanner {
            pos,
            quoted,
            ..QuoteScanner::default()
        }
    }

    /// If the input ended inside quotes, the position of the opening quote (counted from the
    /// start of the first buffer scanned, including bytes dropped since).
    pub fn unterminated_quote(&self) -> Option<usize> {
        self.quoted.then_some(self.open_at)
    }

    /// How far into the current buffer the scan has got.
    pub fn scanned(&self) -> usize {
        self.pos
    }

    /// Forgets the first `n` bytes of the buffer, which the caller is about to drop, so that
    /// a record longer than memory can be scanned through a bounded window. `n` must leave the
    /// byte before [`QuoteScanner::scanned`] in the buffer (a quote's meaning depends on it).
    pub fn discard(&mut self, n: usize) {
        debug_assert!(n < self.pos.max(1));
        self.pos -= n;
        self.dropped += n;
    }

    /// Scans `buf` (which starts at a record boundary) from where the last call stopped and
    /// returns the first or last record boundary found in the newly scanned bytes: the position
    /// just after a terminator outside quotes. `eof` says no bytes follow `buf`.
    pub fn scan(
        &mut self,
        buf: &[u8],
        quote: u8,
        delimiter: u8,
        eof: bool,
        cut: Cut,
    ) -> Option<usize> {
        // Hold back the last byte until the input ends: its meaning may depend on the next one.
        let limit = if eof {
            buf.len()
        } else {
            buf.len().saturating_sub(1)
        };
        let mut pos = self.pos;
        let mut found = None;
        while pos < limit {
            if self.quoted {
                match memchr(quote, &buf[pos..limit]) {
                    None => pos = limit,
                    Some(i) => {
                        let p = pos + i;
                        if buf.get(p + 1) == Some(&quote) {
                            pos = p + 2; // an escaped quote, still inside
                        } else {
                            self.quoted = false;
                            pos = p + 1;
                        }
                    }
                }
                continue;
            }
            // Outside quotes: find the next quote that starts a field.
            let mut q = pos;
            let open = loop {
                match memchr(quote, &buf[q..limit]) {
                    None => break None,
                    Some(i) => {
                        let p = q + i;
                        if p == 0 || matches!(buf[p - 1], b'\n' | b'\r') || buf[p - 1] == delimiter
                        {
                            break Some(p);
                        }
                        q = p + 1;
                    }
                }
            };
            let run_end = open.unwrap_or(limit);
            match cut {
                Cut::First => {
                    if let Some(b) = memchr2(b'\n', b'\r', &buf[pos..run_end]) {
                        self.pos = run_end;
                        return Some(boundary_after(buf, pos + b));
                    }
                }
                Cut::Last => {
                    if let Some(b) = memrchr2(b'\n', b'\r', &buf[pos..run_end]) {
                        found = Some(boundary_after(buf, pos + b));
                    }
                }
            }
            match open {
                None => pos = limit,
                Some(p) => {
                    self.quoted = true;
                    self.open_at = self.dropped + p;
                    pos = p + 1;
                }
            }
        }
        self.pos = pos;
        found
    }
}

/// The record boundary after the terminator byte at `i` (`\r\n` is one terminator).
fn boundary_after(buf: &[u8], i: usize) -> usize {
    if buf[i] == b'\r' && buf.get(i + 1) == Some(&b'\n') {
        i + 2
    } else {
        i + 1
    }
}

/// The first or last position just after a `\n` in `buf[from..]`, for line framing.
pub fn line_boundary(buf: &[u8], from: usize, cut: Cut) -> Option<usize> {
    let tail = &buf[from.min(buf.len())..];
    let i = match cut {
        Cut::First => memchr(b'\n', tail),
        Cut::Last => memchr::memrchr(b'\n', tail),
    }?;
    Some(from + i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boundaries(input: &[u8]) -> Vec<usize> {
        // Feed the scanner one growing prefix at a time, as the splitter does with small reads,
        // and collect every first boundary by cutting there.
        let mut out = Vec::new();
        let mut start = 0;
        while start < input.len() {
            let mut s = QuoteScanner::default();
            let mut got = None;
            for end in start + 1..=input.len() {
                let eof = end == input.len();
                if let Some(b) = s.scan(&input[start..end], b'"', b',', eof, Cut::First) {
                    got = Some(b);
                    break;
                }
            }
            match got {
                Some(b) => {
                    out.push(start + b);
                    start += b;
                }
                None => break,
            }
        }
        out
    }

    #[test]
    fn newline_inside_quotes_is_not_a_boundary() {
        assert_eq!(boundaries(b"a,\"x\ny\"\nb\n"), vec![8, 10]);
    }

    #[test]
    fn quote_inside_unquoted_field_is_literal() {
        // 5'10" opens nothing, so the newline after it ends the record.
        assert_eq!(boundaries(b"a,5'10\",b\nc\n"), vec![10, 12]);
    }

    #[test]
    fn text_after_closing_quote_continues_unquoted() {
        assert_eq!(boundaries(b"\"ab\"cd\"\nx\n"), vec![8, 10]);
    }

    #[test]
    fn doubled_quotes_stay_inside() {
        assert_eq!(boundaries(b"\"a\"\"\n\"\nz"), vec![7]);
    }

    #[test]
    fn crlf_and_lone_cr_end_records() {
        assert_eq!(boundaries(b"a\r\nb\rc\n"), vec![3, 5, 7]);
    }

    #[test]
    fn unterminated_quote_is_reported() {
        let mut s = QuoteScanner::default();
        assert_eq!(s.scan(b"a\n\"open\n", b'"', b',', true, Cut::Last), Some(2));
        assert_eq!(s.unterminated_quote(), Some(2));
    }
}

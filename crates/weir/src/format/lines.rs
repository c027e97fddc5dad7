//! Line framing, shared by JSON Lines and plain lines: the lines of a chunk, each with its
//! terminator (`\n`, `\r\n`, or none at the end of the input) and its line number.

/// Iterates over the lines of a chunk: `(start, end, terminator length, line number)`.
pub struct Lines<'a> {
    input: &'a [u8],
    pos: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    /// Lines of `input`, the first numbered `first_line`.
    pub fn new(input: &'a [u8], first_line: u64) -> Lines<'a> {
        Lines {
            input,
            pos: 0,
            line: first_line,
        }
    }
}

impl Iterator for Lines<'_> {
    type Item = (usize, usize, usize, u64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.input.len() {
            return None;
        }
        let start = self.pos;
        let line = self.line;
        self.line += 1;
        match memchr::memchr(b'\n', &self.input[start..]) {
            Some(i) => {
                let nl = start + i;
                self.pos = nl + 1;
                if nl > start && self.input[nl - 1] == b'\r' {
                    Some((start, nl - 1, 2, line))
                } else {
                    Some((start, nl, 1, line))
                }
            }
            None => {
                self.pos = self.input.len();
                Some((start, self.input.len(), 0, line))
            }
        }
    }
}

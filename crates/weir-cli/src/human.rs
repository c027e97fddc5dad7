//! How numbers and data are shown to a person: sizes, grouped counts, and text made safe
//! for a terminal. Every command's messages use these, so they sit below all of them.
//!
//! Reject messages quote values from the input and field names come from its header: a value
//! holding an escape sequence must not be able to recolour, move the cursor in or retitle the
//! user's terminal, so every such value goes through [`escape`] before it is printed.

use std::borrow::Cow;
use std::fmt::Write as _;

/// 1536 -> "1.5 KiB": binary units, one decimal.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// 1234567 -> "1,234,567".
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n`, grouped, and the noun, singular for 1: "1 worker", "1,234 records" (the nouns weir
/// counts take an `s`). Every message that counts something says it this way.
pub fn plural(n: u64, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", group(n))
}

/// `s` made safe to print on a terminal: control characters (C0, DEL, C1 — so ESC and with it
/// every ANSI sequence) and the bidirectional overrides are written as visible escapes
/// (`\n`, `\t`, `\x1b`, `\u{202e}`); everything else is kept, so ordinary text is unchanged.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1 (U+0080..U+009F, which include CSI)
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// [`escape`], keeping line breaks: for multi-line messages (an expression error shows the
/// expression and a caret on lines of their own).
pub fn escape_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| escape(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_sizes() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(escape("hello, wörld 5'10\""), Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_are_visible() {
        assert_eq!(escape("a\nb\tc\rd"), "a\\nb\\tc\\rd");
        assert_eq!(escape("nul\0bell\x07del\x7f"), "nul\\x00bell\\x07del\\x7f");
    }

    #[test]
    fn ansi_sequences_lose_their_escape() {
        assert_eq!(escape("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
        // An OSC title change ended by BEL, and the one-character CSI of C1.
        assert_eq!(escape("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
        assert_eq!(escape("\u{9b}2J"), "\\x9b2J");
    }

    #[test]
    fn bidi_overrides_are_visible() {
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
    }

    #[test]
    fn lines_keep_their_breaks() {
        assert_eq!(escape_lines("one\x1b\n  two"), "one\\x1b\n  two");
    }
}

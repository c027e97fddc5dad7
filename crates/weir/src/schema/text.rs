//! String formats (`email`, `uri`, `uuid`, `binary`), checked as frictionless-py checks them
//! (with the `validators`, `rfc3986` and `base64` modules).

use std::sync::OnceLock;

use regex::Regex;

use super::number::is_py_hex_int;

/// `validators.email(text)`: one `@`; a local part of at most 64 characters matching Django's
/// dot-atom or quoted-string rules; a domain of at most 253 characters that `validators.domain`
/// accepts (labels of letters, digits and inner hyphens, a TLD ending with a letter).
pub(crate) fn is_email(text: &str) -> bool {
    if text.bytes().filter(|&b| b == b'@').count() != 1 {
        return false;
    }
    let (user, domain) = text.rsplit_once('@').expect("one '@'");
    if user.chars().count() > 64 || domain.chars().count() > 253 {
        return false;
    }
    static LOCAL: OnceLock<Regex> = OnceLock::new();
    let local = LOCAL.get_or_init(|| {
        // The pattern of validators 0.2x, translated; Python's `$` also matches before a final
        // newline, hence `\n?\z`.
        const EXT: &str = r"\x{100}-\x{17F}\x{180}-\x{24F}\x{A0}-\x{FF}";
        let atom = format!(r"[{EXT}0-9a-z!#$%&'*+/=?^_`{{}}|~\-]+");
        let quoted = format!(r#""(?:[{EXT}\x01-\x08\x0B\x0C\x0E-\x1F!#-\[\]-\x7F]|\\[\t.])*""#);
        Regex::new(&format!(
            r"(?i)\A(?:[{EXT}]|{atom}(?:\.{atom})*|{quoted})\n?\z"
        ))
        .expect("email local-part pattern")
    });
    local.is_match(user) && is_domain(domain)
}

/// `validators.domain(text)` with its defaults, after Python's `idna` encoding.
fn is_domain(text: &str) -> bool {
    if text.is_empty() || text.chars().any(char::is_whitespace) || text.contains("__") {
        return false;
    }
    if text.is_ascii() {
        return is_ascii_domain(text);
    }
    // Python's idna codec: each non-ASCII label becomes `xn--` + punycode. Its nameprep step
    // is approximated by lowercasing.
    let mut encoded = String::with_capacity(text.len() + 16);
    for (i, label) in text.split('.').enumerate() {
        if i > 0 {
            encoded.push('.');
        }
        if label.is_ascii() {
            encoded.push_str(label);
        } else {
            let lower: String = label.chars().flat_map(char::to_lowercase).collect();
            encoded.push_str("xn--");
            punycode(&lower, &mut encoded);
        }
    }
    encoded.split('.').all(|l| l.len() < 64) && is_ascii_domain(&encoded)
}

fn is_ascii_domain(s: &str) -> bool {
    if s.trim_end_matches('.').len() > 253 {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let Some((tld, subs)) = labels.split_last() else {
        return false;
    };
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    let sub_ok = |l: &str| {
        let b = l.as_bytes();
        (1..=63).contains(&b.len())
            && alnum(b[0])
            && alnum(b[b.len() - 1])
            && b.iter().all(|&c| alnum(c) || c == b'-')
    };
    let t = tld.as_bytes();
    let tld_ok = (2..=63).contains(&t.len())
        && alnum(t[0])
        && t[t.len() - 1].is_ascii_alphabetic()
        && t.iter().all(|&c| alnum(c) || c == b'-');
    !subs.is_empty() && subs.iter().all(|l| sub_ok(l)) && tld_ok
}

/// RFC 3492 punycode of `label`, appended to `out`.
fn punycode(label: &str, out: &mut String) {
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    let input: Vec<u32> = label.chars().map(u32::from).collect();
    let digit = |d: u32| {
        char::from(if d < 26 {
            b'a' + d as u8
        } else {
            b'0' + (d - 26) as u8
        })
    };
    let adapt = |mut delta: u32, points: u32, first: bool| {
        delta /= if first { 700 } else { 2 };
        delta += delta / points;
        let mut k = 0;
        while delta > ((BASE - TMIN) * TMAX) / 2 {
            delta /= BASE - TMIN;
            k += BASE;
        }
        k + (BASE - TMIN + 1) * delta / (delta + 38)
    };
    let basic = input.iter().filter(|&&c| c < 0x80).count() as u32;
    out.extend(
        input
            .iter()
            .filter(|&&c| c < 0x80)
            .map(|&c| c as u8 as char),
    );
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias, mut h) = (128u32, 0u32, 72u32, basic);
    while (h as usize) < input.len() {
        let m = input
            .iter()
            .copied()
            .filter(|&c| c >= n)
            .min()
            .expect("a code point left");
        delta = delta.saturating_add((m - n).saturating_mul(h + 1));
        n = m;
        for &c in &input {
            if c < n {
                delta = delta.saturating_add(1);
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        TMIN
                    } else if k >= bias + TMAX {
                        TMAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, h + 1, h == basic);
                delta = 0;
                h += 1;
            }
        }
        delta = delta.saturating_add(1);
        n += 1;
    }
}

/// `rfc3986` with a required scheme: the text starts with `[A-Za-z][A-Za-z0-9+.-]*:`. Nothing
/// else is validated (frictionless asks for the scheme only).
pub(crate) fn is_uri(text: &str) -> bool {
    let b = text.as_bytes();
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return false;
    };
    colon > 0
        && b[0].is_ascii_alphabetic()
        && b[1..colon]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
}

/// `validators.uuid(text)`, that is Python's `uuid.UUID(text)`: drop `urn:`, `uuid:`, braces at
/// the ends and every hyphen; 32 characters that `int(_, 16)` reads must remain.
pub(crate) fn is_uuid(text: &str) -> bool {
    if text.is_empty() {
        return false;
    }
    let owned;
    let mut s = text;
    if s.contains("urn:") || s.contains("uuid:") {
        owned = s.replace("urn:", "").replace("uuid:", "");
        s = &owned;
    }
    // 32 characters take at most 128 bytes: more than that cannot be a uuid.
    let mut buf = [0u8; 128];
    let mut n = 0;
    for &b in s.trim_matches(['{', '}']).as_bytes() {
        if b != b'-' {
            if n == buf.len() {
                return false;
            }
            buf[n] = b;
            n += 1;
        }
    }
    std::str::from_utf8(&buf[..n]).is_ok_and(|hex| hex.chars().count() == 32 && is_py_hex_int(hex))
}

/// Python's `base64.b64decode(text)` (non-validating): ASCII only; characters outside the
/// alphabet are skipped; padding completes a quantum (and ends the data) only after two or
/// three data characters; a final partial quantum is an error.
pub(crate) fn is_base64(text: &str) -> bool {
    if !text.is_ascii() {
        return false;
    }
    let mut quad = 0u8;
    let mut pads = 0u8;
    for &c in text.as_bytes() {
        if c == b'=' {
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    return true;
                }
            }
            continue;
        }
        if !(c.is_ascii_alphanumeric() || c == b'+' || c == b'/') {
            continue;
        }
        pads = 0;
        quad = (quad + 1) % 4;
    }
    quad == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_as_validators_reads_them() {
        for ok in [
            "a@b.co",
            "a.b@c.com",
            "ä@b.com",
            "a@bücher.de",
            "a@1.com",
            "A@B.COM",
            "a+b@x.io",
            "x@xn--bcher-kva.de",
        ] {
            assert!(is_email(ok), "{ok:?}");
        }
        for bad in [
            "a@b",
            "a@b.c",
            "a..b@c.com",
            "a@b..com",
            "\"a b\"@c.com",
            "a@-b.com",
            "a@b-.com",
            "a@b.c1",
            "a@b.com.",
            "a@b_c.com",
            "a@@b.com",
            " a@b.com",
            "",
            "@b.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn punycode_matches_python_idna() {
        let mut out = String::new();
        punycode("bücher", &mut out);
        assert_eq!(out, "bcher-kva");
        out.clear();
        punycode("münchen", &mut out);
        assert_eq!(out, "mnchen-3ya");
    }

    #[test]
    fn uris_need_a_scheme() {
        for ok in [
            "http://x",
            "x:y",
            "mailto:a",
            "HTTP:x",
            "a+b.c-d:x",
            "x:",
            "http://exa mple.com",
        ] {
            assert!(is_uri(ok), "{ok:?}");
        }
        for bad in [
            "/path",
            "a/b:c",
            "1:2",
            ":x",
            "http ://x",
            "ht#tp:x",
            "a b:c",
            "hé:x",
            "",
        ] {
            assert!(!is_uri(bad), "{bad:?}");
        }
    }

    #[test]
    fn uuids_as_python_reads_them() {
        for ok in [
            "2bc1c94f-0deb-43e9-92a1-4775189ec9f8",
            "2BC1C94F-0DEB-43E9-92A1-4775189EC9F8",
            "2bc1c94f0deb43e992a14775189ec9f8",
            "{2bc1c94f-0deb-43e9-92a1-4775189ec9f8}",
            "urn:uuid:2bc1c94f-0deb-43e9-92a1-4775189ec9f8",
            "2bc1-c94f0deb43e992a14775189ec9f8",
        ] {
            assert!(is_uuid(ok), "{ok:?}");
        }
        for bad in [
            "2bc1c94f-0deb-43e9-92a1-4775189ec9f",
            "x",
            "",
            "2bc1c94g0deb43e992a14775189ec9f8",
        ] {
            assert!(!is_uuid(bad), "{bad:?}");
        }
    }

    #[test]
    fn base64_as_python_reads_it() {
        for ok in [
            "aGVsbG8=",
            "abcd",
            "ab!cd",
            "ab==",
            "ab=cd",
            "",
            "ab==garbage",
        ] {
            assert!(is_base64(ok), "{ok:?}");
        }
        for bad in ["aGVsbG8", "a", "ab=", "a===", "ä"] {
            assert!(!is_base64(bad), "{bad:?}");
        }
    }
}

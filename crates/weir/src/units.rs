//! Parsing sizes (`64KiB`, `1MiB`, `4096`) and durations (`90s`, `10m`) given as text.

use std::time::Duration;

/// Parses a byte size: a number with an optional unit `B`, `K`/`KB`/`KiB`, `M`/`MB`/`MiB`,
/// `G`/`GB`/`GiB` (all binary multiples; case-insensitive).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let (value, unit) = number_and_unit(text)
        .ok_or_else(|| format!("invalid size '{text}' (examples: 4096, 64KiB, 1MiB)"))?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "invalid size unit in '{text}' (use B, KiB, MiB or GiB)"
            ))
        }
    };
    let bytes = value * mult as f64;
    if bytes.is_nan() || bytes < 1.0 || bytes > usize::MAX as f64 {
        return Err(format!("size '{text}' must be at least 1 byte"));
    }
    Ok(bytes as usize)
}

/// Parses a duration: a number with a unit `ms`, `s`, `m`, `h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (value, unit) = number_and_unit(text)
        .ok_or_else(|| format!("invalid duration '{text}' (examples: 90s, 10m, 1h)"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "invalid duration unit in '{text}' (use ms, s, m or h)"
            ))
        }
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("duration '{text}' must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// [`parse_duration`], also accepting zero (`0s`: as often as possible), for intervals.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    match number_and_unit(text) {
        Some((0.0, _)) => Ok(Duration::ZERO),
        _ => parse_duration(text),
    }
}

/// Splits `12.5 MiB` into the number and the unit after it (trimmed).
fn number_and_unit(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    Some((num.parse().ok()?, unit.trim()))
}

/// `n` and the noun, singular for 1: `1 field`, `3 fields` (the nouns weir counts take an
/// `s`). Every message that counts something says it this way.
pub(crate) fn plural<N: std::fmt::Display + PartialEq + From<u8>>(n: N, noun: &str) -> String {
    let s = if n == N::from(1) { "" } else { "s" };
    format!("{n} {noun}{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size(" 2 MiB "), Ok(2 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12 parsecs").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn plural_is_singular_for_one() {
        assert_eq!(plural(1usize, "field"), "1 field");
        assert_eq!(plural(0u64, "field"), "0 fields");
        assert_eq!(plural(2usize, "worker"), "2 workers");
    }
}

//! Parsing of the text forms values take in SQL and from users: dates,
//! datetimes, and decimals normalized to a column's scale. Shared by encoding
//! and decoding.

use chrono::{NaiveDate, NaiveDateTime};

/// Parses a datetime as users and servers write it (`YYYY-MM-DD HH:MM[:SS[.f]]`,
/// with a space or `T`, RFC 3339 with an offset, or a bare date at midnight).
pub(super) fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt);
        }
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.naive_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// Parses `YYYY-MM-DD` (the stored form) without chrono's general parser.
pub(super) fn parse_canonical_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// Normalizes decimal text to `scale` digits after the point; None if it does not fit.
pub(super) fn normalize_decimal(text: &str, precision: u32, scale: u32) -> Option<String> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int_part = int_part.trim_start_matches('0');
    if int_part.len() > (precision - scale) as usize {
        return None;
    }
    let mut frac: String = frac_part.chars().take(scale as usize).collect();
    while frac.len() < scale as usize {
        frac.push('0');
    }
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let sign = if neg && (int_part != "0" || frac.chars().any(|c| c != '0')) {
        "-"
    } else {
        ""
    };
    Some(if scale == 0 {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_normalize() {
        assert_eq!(normalize_decimal("12.5", 5, 2).as_deref(), Some("12.50"));
        assert_eq!(normalize_decimal("-0.001", 5, 2).as_deref(), Some("0.00"));
        assert_eq!(normalize_decimal("1234", 5, 2), None);
        assert_eq!(normalize_decimal("abc", 5, 2), None);
        assert_eq!(normalize_decimal("7", 3, 0).as_deref(), Some("7"));
    }
}

//! The value forms nwbinspector's DANDI checks accept: ISO-8601 durations (ages),
//! species (Latin binomial or NCBITaxon IRI), weights (`<number> <unit>`) and
//! datetimes with a timezone.

use chrono::DateTime;

fn duration_parts(mut s: &str, order: &[char]) -> Option<usize> {
    let mut next = 0;
    let mut count = 0;
    while !s.is_empty() {
        let int_len = s.chars().take_while(char::is_ascii_digit).count();
        if int_len == 0 {
            break;
        }
        let mut len = int_len;
        if s[len..].starts_with('.') {
            let frac = s[len + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .count();
            if frac == 0 {
                return None;
            }
            len += 1 + frac;
        }
        let d = s[len..].chars().next()?;
        let pos = order[next..].iter().position(|&c| c == d)? + next;
        next = pos + 1;
        count += 1;
        s = &s[len + d.len_utf8()..];
    }
    if s.is_empty() {
        Some(count)
    } else {
        None
    }
}

/// True for an ISO-8601 duration as nwbinspector's `duration_regex` accepts it (`P90D`, `PT1H30M`).
pub fn is_iso_duration(s: &str) -> bool {
    let Some(body) = s.strip_prefix('P') else {
        return false;
    };
    if body.is_empty() {
        return false;
    }
    let (date, time) = match body.find('T') {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if duration_parts(date, &['Y', 'M', 'W', 'D']).is_none() {
        return false;
    }
    match time {
        None => true,
        Some(t) => {
            t.starts_with(|c: char| c.is_ascii_digit())
                && duration_parts(t, &['H', 'M', 'S']).is_some()
        }
    }
}

/// Approximate length of an ISO-8601 duration in seconds (years and months averaged).
pub(super) fn duration_seconds(s: &str) -> Option<f64> {
    let body = s.strip_prefix('P')?;
    let mut total = 0.0;
    let mut in_time = false;
    let mut num = String::new();
    for c in body.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        if c == 'T' {
            in_time = true;
            continue;
        }
        let v: f64 = num.parse().ok()?;
        num.clear();
        let unit = match (c, in_time) {
            ('Y', false) => 365.2425 * 86400.0,
            ('M', false) => 30.436875 * 86400.0,
            ('W', false) => 7.0 * 86400.0,
            ('D', false) => 86400.0,
            ('H', true) => 3600.0,
            ('M', true) => 60.0,
            ('S', true) => 1.0,
            _ => return None,
        };
        total += v * unit;
    }
    Some(total)
}

/// nwbinspector's `species_form_regex`: a Latin binomial or an NCBITaxon term IRI.
pub fn is_species_form(s: &str) -> bool {
    let binomial = || {
        let (genus, rest) = s.split_once(' ')?;
        let mut g = genus.chars();
        let ok = g.next()?.is_ascii_uppercase()
            && g.all(|c| c.is_ascii_lowercase())
            && !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_lowercase());
        Some(ok)
    };
    let taxon = || {
        // `.` in the regex matches any character
        let pattern = "http://purl.obolibrary.org/obo/NCBITaxon_";
        let head: Vec<char> = s.chars().take(pattern.chars().count()).collect();
        let fits = head.len() == pattern.chars().count()
            && head
                .iter()
                .zip(pattern.chars())
                .all(|(&c, p)| p == '.' || c == p);
        let tail: String = s.chars().skip(pattern.chars().count()).collect();
        fits && !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit())
    };
    binomial().unwrap_or(false) || taxon()
}

/// nwbinspector's `weight_form_regex`: `<number> <unit>` (kg, g, mg, ug, μg, ng, pg; any case).
pub fn is_weight_form(s: &str) -> bool {
    let Some((num, unit)) = s.split_once(' ') else {
        return false;
    };
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (num, None),
    };
    let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
    digits(int)
        && frac.is_none_or(digits)
        && ["kg", "g", "mg", "ug", "μg", "ng", "pg"]
            .iter()
            .any(|u| u.to_lowercase() == unit.to_lowercase())
}

/// True when a stored NWB datetime text carries a timezone (`Z` or `±HH:MM`).
pub(super) fn has_timezone(s: &str) -> bool {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s).is_ok()
        || ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"]
            .iter()
            .any(|f| DateTime::parse_from_str(s, f).is_ok())
}

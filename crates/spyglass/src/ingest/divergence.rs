//! The divergence policy, in one place: what happens when a shared row from the
//! file (a subject, a lab member, a probe type, a camera; values the session's
//! `<stem>_spyglass_config.yaml` sets are merged in first) differs from the row
//! already stored. Every ingest step writes shared rows through
//! `Ctx::put` ([`steps`](super::steps)) with `Mode::Shared`, which calls `check`; no step
//! compares rows itself.
//!
//! Attributes that change between sessions of the same entity (a subject's age,
//! weight and description; a recalibrated camera) keep the stored row and are
//! reported; real conflicts (a subject's sex, species or genotype; a probe's
//! geometry) refuse the file with [`Error::Divergence`], naming both values and how
//! to resolve it, unless divergence is accepted (`--accept-divergence`: the
//! database's row is kept with a warning). Values compare as Spyglass compares them
//! (`same_value`).

use super::steps::Rec;
use crate::common::common_device as dev;
use crate::common::common_subject as subj;
use crate::error::{Error, Result};
use spyglass_db::Value;

/// How a difference between a shared row in the file and the stored row is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Divergence {
    /// The attribute changes between sessions of the same entity: keep the stored row, report.
    PerSession,
    /// A real conflict: refuse the file (unless divergence is accepted).
    Conflict,
}

/// Which attributes of shared rows may differ between sessions.
pub(crate) fn divergence(table: &str, attr: &str) -> Divergence {
    let per_session = match table {
        // an animal ages, gains weight, gets a new description; its sex, species and genotype stay
        subj::SUBJECT => matches!(attr, "age" | "description" | "weight"),
        // cameras are recalibrated, get new lenses and firmware between sessions
        dev::CAMERA_DEVICE => true,
        _ => false,
    };
    if per_session {
        Divergence::PerSession
    } else {
        Divergence::Conflict
    }
}

/// Compares the file's shared row `new` of `table` (primary key `pk`, shown as
/// `key`) with the stored row `old`: the first conflicting attribute is an
/// [`Error::Divergence`] unless `accept`; otherwise the stored row is kept and the
/// returned messages (one per differing attribute) are the warnings to report.
pub(crate) fn check(
    table: &str,
    key: &str,
    new: &Rec,
    old: &Rec,
    pk: &[String],
    accept: bool,
) -> Result<Vec<String>> {
    let diffs = differences(new, old, pk);
    if let Some((attr, new, existing)) = diffs
        .iter()
        .find(|(a, _, _)| divergence(table, a) == Divergence::Conflict)
    {
        if !accept {
            return Err(Error::Divergence {
                table: table.to_string(),
                key: key.to_string(),
                attribute: attr.clone(),
                new: new.clone(),
                existing: existing.clone(),
            });
        }
    }
    Ok(diffs
        .into_iter()
        .map(|(attr, new, existing)| match divergence(table, &attr) {
            Divergence::PerSession => {
                format!("{key}: this session's `{attr}` is {new}; the stored row keeps {existing}")
            }
            Divergence::Conflict => {
                format!("{key}: kept the database's `{attr}` = {existing} over the file's {new}")
            }
        })
        .collect())
}

/// Spyglass's comparison: NULL equals "", text compares case-insensitively, numbers
/// as 32-bit floats (the `float` columns).
pub(crate) fn same_value(a: &Value, b: &Value) -> bool {
    let blank = |v: &Value| v.is_null() || matches!(v, Value::Str(s) if s.is_empty());
    if blank(a) || blank(b) {
        return blank(a) && blank(b);
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.to_lowercase() == y.to_lowercase(),
        (Value::Bool(x), Value::Str(y)) | (Value::Str(y), Value::Bool(x)) => {
            y.eq_ignore_ascii_case(if *x { "true" } else { "false" })
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y || (x as f32) == (y as f32),
            _ => a == b || a.python_str() == b.python_str(),
        },
    }
}

/// The first secondary attribute where `new` differs from `old`: (attribute, new, old).
pub(crate) fn first_difference(
    new: &Rec,
    old: &Rec,
    pk: &[String],
) -> Option<(String, String, String)> {
    differences(new, old, pk).into_iter().next()
}

/// Every secondary attribute where `new` differs from `old`: (attribute, new, old).
fn differences(new: &Rec, old: &Rec, pk: &[String]) -> Vec<(String, String, String)> {
    let mut out = vec![];
    for (k, v) in new {
        if pk.contains(k) {
            continue;
        }
        let o = old.get(k).cloned().unwrap_or(Value::Null);
        if !same_value(v, &o) {
            out.push((k.clone(), v.python_str(), o.python_str()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_treats_null_as_empty_and_ignores_case() {
        assert!(same_value(&Value::Null, &Value::from("")));
        assert!(same_value(&Value::from("Intan"), &Value::from("intan")));
        assert!(same_value(
            &Value::from(0.002f64),
            &Value::from(0.002f32 as f64)
        ));
        assert!(!same_value(&Value::from(0.002f64), &Value::from(0.003f64)));
        assert!(!same_value(&Value::Null, &Value::from("x")));
        assert!(same_value(&Value::Bool(true), &Value::from("True")));
    }
}

//! DANDI's metadata rules (nwbinspector 0.7.2, `dandi` configuration) on the metadata
//! of one file: [`metadata_problems`] lists every rule broken, with the value and a fix.

use chrono::{DateTime, Utc};
use spyglass_nwb::Subject;

use super::forms::{
    duration_seconds, has_timezone, is_iso_duration, is_species_form, is_weight_form,
};
use super::Rule;

/// The metadata DANDI's rules look at, as stored in the file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DandiMetadata {
    /// `/identifier`.
    pub identifier: Option<String>,
    /// `/session_description`.
    pub session_description: Option<String>,
    /// `/session_start_time`, the stored text.
    pub session_start_time: Option<String>,
    /// `/general/session_id`.
    pub session_id: Option<String>,
    /// `/general/subject`.
    pub subject: Option<Subject>,
}

/// Every DANDI metadata rule `m` breaks, judged at time `now`: `(rule, value, message)`.
pub fn metadata_problems(
    m: &DandiMetadata,
    now: DateTime<Utc>,
) -> Vec<(Rule, Option<String>, String)> {
    let mut out = vec![];
    let mut add = |rule, value: Option<&str>, message: String| {
        out.push((rule, value.map(str::to_string), message));
    };
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    if blank(&m.identifier) {
        add(
            Rule::Identifier,
            m.identifier.as_deref(),
            "the file has no identifier".into(),
        );
    }
    if blank(&m.session_description) {
        add(
            Rule::SessionDescription,
            m.session_description.as_deref(),
            "the file has no session_description".into(),
        );
    }
    match &m.session_start_time {
        None => add(
            Rule::SessionStartTime,
            None,
            "the file has no session_start_time".into(),
        ),
        Some(t) => match spyglass_nwb::parse_datetime(t) {
            None => add(
                Rule::SessionStartTime,
                Some(t),
                "session_start_time is not an ISO-8601 datetime".into(),
            ),
            Some(_) if !has_timezone(t) => add(
                Rule::SessionStartTime,
                Some(t),
                "session_start_time has no timezone (add an offset such as +00:00)".into(),
            ),
            Some(d) if d >= now => add(
                Rule::SessionStartFuture,
                Some(t),
                "session_start_time is in the future".into(),
            ),
            Some(_) => {}
        },
    }
    if let Some(s) = &m.session_id {
        if s.contains('/') {
            add(
                Rule::SessionIdSlash,
                Some(s),
                "session_id contains `/`; replace it with `-` or `_`".into(),
            );
        }
    }
    let Some(sub) = &m.subject else {
        add(
            Rule::SubjectExists,
            None,
            "the file has no subject (/general/subject)".into(),
        );
        return out;
    };
    match sub.subject_id.as_deref() {
        None => add(Rule::SubjectId, None, "subject_id is missing".into()),
        Some(id) if id.trim().is_empty() => {
            add(Rule::SubjectId, Some(id), "subject_id is empty".into())
        }
        Some(id) if id.contains('/') => add(
            Rule::SubjectIdSlash,
            Some(id),
            "subject_id contains `/`; replace it with `-` or `_`".into(),
        ),
        Some(_) => {}
    }
    let c_elegans = matches!(
        sub.species.as_deref(),
        Some("Caenorhabditis elegans" | "C. elegans")
    );
    match sub.sex.as_deref() {
        None | Some("") => add(Rule::Sex, sub.sex.as_deref(), "sex is missing".into()),
        Some(s) if c_elegans && !matches!(s, "XO" | "XX") => add(
            Rule::Sex,
            Some(s),
            "for C. elegans sex must be XO (male) or XX (hermaphrodite)".into(),
        ),
        Some(s) if !c_elegans && !matches!(s, "M" | "F" | "O" | "U") => add(
            Rule::Sex,
            Some(s),
            "sex must be M (male), F (female), O (other) or U (unknown)".into(),
        ),
        Some(_) => {}
    }
    match sub.species.as_deref() {
        None | Some("") => add(
            Rule::SpeciesExists,
            sub.species.as_deref(),
            "species is missing".into(),
        ),
        Some(s) if !is_species_form(s) => add(
            Rule::SpeciesForm,
            Some(s),
            "species must be a Latin binomial (e.g. `Rattus norvegicus`) or an NCBITaxon URL \
             (e.g. `http://purl.obolibrary.org/obo/NCBITaxon_10116`)"
                .into(),
        ),
        Some(_) => {}
    }
    match sub.age.as_deref() {
        None if sub.date_of_birth.is_none() => add(
            Rule::Age,
            None,
            "neither age nor date_of_birth is given".into(),
        ),
        None => {}
        Some(a) => {
            let bounds: Vec<&str> = a.split('/').collect();
            let valid = is_iso_duration(a)
                || (bounds.len() == 2 && bounds.iter().all(|b| b.is_empty() || is_iso_duration(b)));
            if !valid {
                add(
                    Rule::Age,
                    Some(a),
                    "age must be an ISO-8601 duration such as `P90D`, or a range such as \
                     `P1D/P3D` or `P90D/`"
                        .into(),
                );
            } else if bounds.len() == 2 && bounds.iter().all(|b| is_iso_duration(b)) {
                if let (Some(lo), Some(hi)) =
                    (duration_seconds(bounds[0]), duration_seconds(bounds[1]))
                {
                    if lo >= hi {
                        add(
                            Rule::AgeRange,
                            Some(a),
                            "the age range's upper bound must be longer than its lower bound"
                                .into(),
                        );
                    }
                }
            }
        }
    }
    if let Some(w) = sub.weight.as_deref() {
        if !is_weight_form(w) {
            add(
                Rule::Weight,
                Some(w),
                "weight must read `<number> <unit>`, e.g. `0.35 kg`".into(),
            );
        }
    }
    out
}

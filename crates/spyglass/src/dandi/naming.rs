//! DANDI file names of a set of files (`dandi/organize.py`, `dandi/consts.py`): value
//! sanitising, session ids from start times, `_obj-` labels, and
//! [`assign_dandi_paths`], which disambiguates clashing names by `desc`, `probe`, `obj`.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, FixedOffset, Timelike};

/// DANDI's value sanitising: `_ * \ / < > : | " ' ? % @ ; ,` and whitespace become `-`,
/// and so does `.` unless `field` is `extension`.
pub fn sanitize_value(value: &str, field: &str) -> String {
    value
        .chars()
        .map(|c| {
            let bad = matches!(
                c,
                '_' | '*'
                    | '\\'
                    | '/'
                    | '<'
                    | '>'
                    | ':'
                    | '|'
                    | '"'
                    | '\''
                    | '?'
                    | '%'
                    | '@'
                    | ';'
                    | ','
            ) || is_python_space(c)
                || (c == '.' && field != "extension");
            if bad {
                '-'
            } else {
                c
            }
        })
        .collect()
}

/// Python's `\s` on text: Unicode white space plus the separators U+001C–U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A session id from a start time as `dandi organize` makes it: `YYYYMMDD`, with
/// `THHMMSS` appended unless every start time of the set is at midnight.
pub fn session_id_from_time(start: &DateTime<FixedOffset>, all_at_midnight: bool) -> String {
    let date = start.format("%Y%m%d").to_string();
    if all_at_midnight {
        date
    } else {
        format!(
            "{date}T{:02}{:02}{:02}",
            start.hour(),
            start.minute(),
            start.second()
        )
    }
}

/// What DANDI's naming needs to know about one file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NamingRecord {
    /// `subject/subject_id`.
    pub subject_id: Option<String>,
    /// `general/session_id`.
    pub session_id: Option<String>,
    /// `session_start_time` (used when some file lacks a session id).
    pub session_start_time: Option<DateTime<FixedOffset>>,
    /// Modalities, sorted (see [`modalities`](super::modalities)).
    pub modalities: Vec<String>,
    /// Label for `_desc-` disambiguation.
    pub description: Option<String>,
    /// `probe_id`s of the devices, for `_probe-` disambiguation.
    pub probe_ids: Vec<String>,
    /// The file-level `object_id`, for `_obj-` disambiguation.
    pub object_id: Option<String>,
}

/// CRC-32 (IEEE) of `bytes`, as Python's `binascii.crc32`.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// DANDI's short `_obj-` label of an object id: its CRC-32 in base 36, lower case.
pub fn obj_id(object_id: &str) -> String {
    let mut n = crc32(object_id.as_bytes());
    if n == 0 {
        return "0".into();
    }
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![];
    while n > 0 {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Layout fields in DANDI's order (`dandi_layout_fields` without tis/slice/cell, which
/// only the icephys extension metadata fills).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Subject,
    Session,
    Desc,
    Probe,
    Obj,
    Modalities,
}

const FIELDS: [Field; 6] = [
    Field::Subject,
    Field::Session,
    Field::Desc,
    Field::Probe,
    Field::Obj,
    Field::Modalities,
];

struct Naming {
    subject: Option<String>,
    session: Option<String>,
    desc: Option<String>,
    probe: Vec<String>,
    obj: Option<String>,
    modalities: Vec<String>,
    object_id: Option<String>,
    required: Vec<Field>,
    path: String,
}

impl Naming {
    /// The joined value of a field (`None` when undefined or empty, as `is_undefined`).
    fn value(&self, f: Field) -> Option<String> {
        let v = match f {
            Field::Subject => self.subject.clone(),
            Field::Session => self.session.clone(),
            Field::Desc => self.desc.clone(),
            Field::Probe => Some(self.probe.join("+")),
            Field::Obj => self.obj.clone(),
            Field::Modalities => Some(self.modalities.join("+")),
        };
        v.filter(|s| !s.is_empty())
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.clone().filter(|v| !v.is_empty())
}

fn assign_names(recs: &mut [Naming]) {
    let distinct_sessions: HashSet<Option<String>> =
        recs.iter().map(|r| r.session.clone()).collect();
    for r in recs.iter_mut() {
        let mut name = String::new();
        for f in FIELDS {
            let include = match f {
                Field::Subject | Field::Modalities => true,
                Field::Session => distinct_sessions.len() > 1 || r.required.contains(&f),
                _ => r.required.contains(&f),
            };
            if !include {
                continue;
            }
            let Some(v) = r.value(f) else { continue };
            let v = sanitize_value(&v, "");
            let piece = match f {
                Field::Subject => format!("sub-{v}"),
                Field::Session => format!("_ses-{v}"),
                Field::Desc => format!("_desc-{v}"),
                Field::Probe => format!("_probe-{v}"),
                Field::Obj => format!("_obj-{v}"),
                Field::Modalities => format!("_{v}"),
            };
            name.push_str(&piece);
        }
        name.push_str(".nwb");
        r.path = format!("sub-{}/{name}", r.subject.clone().unwrap_or_default());
    }
}

/// Paths used by more than one record, with the indices of those records.
fn non_unique(recs: &[Naming]) -> BTreeMap<String, Vec<usize>> {
    let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in recs.iter().enumerate() {
        by_path.entry(r.path.clone()).or_default().push(i);
    }
    by_path.retain(|_, v| v.len() > 1);
    by_path
}

/// DANDI paths (`sub-x/sub-x_ses-y_ecephys.nwb`) of a set of files, following
/// `dandi.organize.create_unique_filenames_from_metadata`: session ids derived from
/// start times where missing, `_ses-` when several sessions (or `always_session`),
/// then `_desc-`, `_probe-` and `_obj-` added only to names that collide. A name that
/// stays ambiguous is an `Err` naming the clash.
pub fn assign_dandi_paths(
    records: &[NamingRecord],
    always_session: bool,
) -> Vec<std::result::Result<String, String>> {
    let mut recs: Vec<Naming> = records
        .iter()
        .map(|r| Naming {
            subject: non_empty(&r.subject_id),
            session: non_empty(&r.session_id),
            desc: non_empty(&r.description),
            probe: r.probe_ids.clone(),
            obj: None,
            modalities: r.modalities.clone(),
            object_id: non_empty(&r.object_id),
            required: if always_session {
                vec![Field::Session]
            } else {
                vec![]
            },
            path: String::new(),
        })
        .collect();

    if recs.iter().any(|r| r.session.is_none()) {
        let midnight = records
            .iter()
            .filter_map(|r| r.session_start_time.as_ref())
            .all(|t| (t.hour(), t.minute(), t.second()) == (0, 0, 0));
        for (r, src) in recs.iter_mut().zip(records) {
            if r.session.is_none() {
                r.session = src
                    .session_start_time
                    .as_ref()
                    .map(|t| session_id_from_time(t, midnight));
            }
        }
    }
    for r in recs.iter_mut() {
        r.subject = r
            .subject
            .as_deref()
            .map(|v| sanitize_value(v, "subject_id"));
        r.session = r
            .session
            .as_deref()
            .map(|v| sanitize_value(v, "session_id"));
    }
    assign_names(&mut recs);

    let mut clashes = non_unique(&recs);
    if !clashes.is_empty() {
        for field in [Field::Desc, Field::Probe, Field::Obj] {
            if field == Field::Obj {
                let members: BTreeSet<usize> = clashes.values().flatten().copied().collect();
                for i in members {
                    recs[i].obj = recs[i].object_id.as_deref().map(obj_id);
                }
            }
            for (path, members) in &clashes {
                let has_value = members.iter().any(|&i| recs[i].value(field).is_some());
                if has_value {
                    for r in recs.iter_mut().filter(|r| &r.path == path) {
                        r.required.push(field);
                    }
                }
                assign_names(&mut recs);
            }
            clashes = non_unique(&recs);
            if clashes.is_empty() {
                break;
            }
        }
    }
    let clash_of: BTreeMap<usize, String> = clashes
        .iter()
        .flat_map(|(p, v)| v.iter().map(move |&i| (i, p.clone())))
        .collect();
    recs.into_iter()
        .enumerate()
        .map(|(i, r)| match clash_of.get(&i) {
            Some(p) => Err(format!(
                "{} files would be named `{p}` even with desc, probe and obj labels",
                clashes.get(p).map(Vec::len).unwrap_or(0)
            )),
            None => Ok(r.path),
        })
        .collect()
}

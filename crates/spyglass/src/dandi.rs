//! DANDI organisation for paper export: turns a set of local NWB files (raw
//! sessions and analysis files) into a dandiset folder that `dandi validate`
//! accepts: `dandiset.yaml` plus
//! `sub-<subject>/sub-<subject>_ses-<session>[_desc-<x>]_<modality>.nwb`, named by
//! DANDI's own rules (`dandi/organize.py`: value sanitising, session ids from the
//! start time, modalities from the contained neurodata types, disambiguation by
//! `desc`, `probe`, `obj`). Files holding external links are replaced by their link
//! target; files are hard-linked or copied, never symlinked or modified. DANDI's
//! metadata rules (nwbinspector's `dandi` configuration) are checked on every file
//! and every problem is listed in the [`DandiReport`]. [`dandi_validate`] runs the
//! `dandi` tool itself when present.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, FixedOffset, Timelike, Utc};
use spyglass_nwb::{NwbError, NwbFile, ObjectKind, Subject};

use crate::error::{Error, Result};

/// Where a file to organise comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// A session's raw file or its Spyglass `_` copy (replaced by its link target).
    Raw,
    /// An analysis file made from a session.
    Analysis,
}

/// One local NWB file to put into the dandiset.
#[derive(Clone, Debug, PartialEq)]
pub struct DandiSource {
    /// The file on disk.
    pub path: PathBuf,
    /// Raw session file or analysis file.
    pub kind: SourceKind,
    /// The session's `nwb_file_name` (e.g. `rat120230622_.nwb`).
    pub nwb_file_name: String,
    /// Label used as `_desc-<x>` when names must be disambiguated (default for analysis
    /// files: the part of the file name after the session stem, e.g. `ABCDE12345`).
    pub description: Option<String>,
}

impl DandiSource {
    /// A raw session file (or its `_` copy).
    pub fn raw(path: impl Into<PathBuf>, nwb_file_name: &str) -> DandiSource {
        DandiSource {
            path: path.into(),
            kind: SourceKind::Raw,
            nwb_file_name: nwb_file_name.to_string(),
            description: None,
        }
    }

    /// An analysis file of session `nwb_file_name`, described by its random name suffix.
    pub fn analysis(path: impl Into<PathBuf>, nwb_file_name: &str) -> DandiSource {
        let path = path.into();
        let description = Some(analysis_label(&path, nwb_file_name));
        DandiSource {
            path,
            kind: SourceKind::Analysis,
            nwb_file_name: nwb_file_name.to_string(),
            description,
        }
    }
}

/// The part of an analysis file's stem after its session's stem (`lfp2023_ABC12.nwb` → `ABC12`).
fn analysis_label(path: &Path, nwb_file_name: &str) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let session = nwb_file_name.trim_end_matches(".nwb").trim_end_matches('_');
    let rest = if session.is_empty() {
        stem.as_str()
    } else {
        stem.strip_prefix(session)
            .map(|r| r.trim_start_matches('_'))
            .unwrap_or(&stem)
    };
    if rest.is_empty() {
        stem.clone()
    } else {
        rest.to_string()
    }
}

/// How organised files are placed in the dandiset folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// Hard-link when source and folder share a filesystem, else copy (a hard link shares
    /// the bytes: never edit the organised file in place).
    HardLinkOrCopy,
    /// Always copy.
    Copy,
}

/// Options of [`organise_dandiset`]; identifier, name and description are written to
/// `dandiset.yaml` when the folder has none (an existing one is kept and checked).
#[derive(Clone, Debug, PartialEq)]
pub struct DandiOptions {
    /// `identifier` of `dandiset.yaml` (`DANDI:<6 digits>`).
    pub identifier: String,
    /// `name` of `dandiset.yaml`.
    pub name: String,
    /// `description` of `dandiset.yaml`.
    pub description: String,
    /// Always name the session (`_ses-`), as `dandi organize --required-field session_id`
    /// does; when false, `_ses-` appears only if the files hold several sessions.
    pub always_session: bool,
    /// Hard link or copy.
    pub transfer: Transfer,
    /// Plan names and check metadata without writing anything.
    pub dry_run: bool,
}

impl Default for DandiOptions {
    fn default() -> Self {
        DandiOptions {
            identifier: "DANDI:000000".into(),
            name: "Spyglass export".into(),
            description: "NWB files exported by spyglass-rs".into(),
            always_session: true,
            transfer: Transfer::HardLinkOrCopy,
            dry_run: false,
        }
    }
}

/// A DANDI rule a file can break (ids follow nwbinspector's check names where one exists).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// The file cannot be opened as NWB.
    Readable,
    /// External links that cannot be replaced by one self-contained target file.
    SelfContained,
    /// `/identifier` missing or empty.
    Identifier,
    /// The same identifier is used by several files of the set.
    UniqueIdentifier,
    /// `/session_description` missing or empty.
    SessionDescription,
    /// `session_start_time` missing, unparsable or without a timezone.
    SessionStartTime,
    /// `session_start_time` lies in the future.
    SessionStartFuture,
    /// `session_id` contains a slash.
    SessionIdSlash,
    /// No `/general/subject`.
    SubjectExists,
    /// `subject_id` missing or empty.
    SubjectId,
    /// `subject_id` contains a slash.
    SubjectIdSlash,
    /// `sex` missing or not one of M, F, O, U (XO, XX for C. elegans).
    Sex,
    /// `species` missing.
    SpeciesExists,
    /// `species` neither a Latin binomial nor an NCBITaxon URL.
    SpeciesForm,
    /// Neither an ISO-8601 `age` nor a `date_of_birth`.
    Age,
    /// An `age` range whose bounds do not increase.
    AgeRange,
    /// `weight` not of the form `<number> <unit>`.
    Weight,
    /// An ImageSeries `external_file` that will not be found next to the organised file.
    ExternalFile,
    /// Two files would get the same DANDI path.
    UniquePath,
    /// The destination already holds a different file.
    Destination,
    /// `dandiset.yaml` lacks a required field or has a malformed identifier.
    DandisetYaml,
}

impl Rule {
    /// The rule's id: nwbinspector's check name where `dandi validate` has one.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Readable => "nwb_readable",
            Rule::SelfContained => "self_contained",
            Rule::Identifier => "identifier",
            Rule::UniqueIdentifier => "check_unique_identifiers",
            Rule::SessionDescription => "session_description",
            Rule::SessionStartTime => "session_start_time",
            Rule::SessionStartFuture => "check_session_start_time_future_date",
            Rule::SessionIdSlash => "check_session_id_no_slashes",
            Rule::SubjectExists => "check_subject_exists",
            Rule::SubjectId => "check_subject_id_exists",
            Rule::SubjectIdSlash => "check_subject_id_no_slashes",
            Rule::Sex => "check_subject_sex",
            Rule::SpeciesExists => "check_subject_species_exists",
            Rule::SpeciesForm => "check_subject_species_form",
            Rule::Age => "check_subject_age",
            Rule::AgeRange => "check_subject_proper_age_range",
            Rule::Weight => "check_subject_weight",
            Rule::ExternalFile => "check_image_series_external_file_valid",
            Rule::UniquePath => "unique_dandi_path",
            Rule::Destination => "destination",
            Rule::DandisetYaml => "dandiset_yaml",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One broken rule: the file, the rule, the offending value and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The source file (or `dandiset.yaml`).
    pub file: PathBuf,
    /// The rule broken.
    pub rule: Rule,
    /// The offending value, when there is one.
    pub value: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.rule)?;
        if let Some(v) = &self.value {
            write!(f, " (value {v:?})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// How a file got into the dandiset folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placed {
    /// Hard link to the file.
    HardLink,
    /// Byte copy of the file.
    Copy,
    /// The destination already held the same file.
    AlreadyPresent,
    /// Dry run: nothing written.
    Planned,
}

/// A source file and where it went.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganisedFile {
    /// The source as given.
    pub source: PathBuf,
    /// The file actually placed (the link target when the source had external links).
    pub file: PathBuf,
    /// Path inside the dandiset, `/`-separated (`sub-x/sub-x_ses-y_ecephys.nwb`).
    pub dandi_path: String,
    /// Raw session file or analysis file.
    pub kind: SourceKind,
    /// The session's `nwb_file_name`.
    pub nwb_file_name: String,
    /// Hard link, copy, already present or planned.
    pub placed: Placed,
}

/// What [`organise_dandiset`] did: the files placed and every problem found.
#[derive(Clone, Debug, PartialEq)]
pub struct DandiReport {
    /// The dandiset folder.
    pub dandiset_dir: PathBuf,
    /// True when `dandiset.yaml` was written by this call.
    pub wrote_dandiset_yaml: bool,
    /// Organised files, in source order.
    pub files: Vec<OrganisedFile>,
    /// Problems, in source order then rule order.
    pub problems: Vec<Problem>,
}

impl DandiReport {
    /// True when no rule is broken.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The dandi path a source went to, if it was organised.
    pub fn dandi_path_of(&self, source: &Path) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.source == source)
            .map(|f| f.dandi_path.as_str())
    }

    /// Problems of one source file.
    pub fn problems_of(&self, source: &Path) -> Vec<&Problem> {
        self.problems.iter().filter(|p| p.file == source).collect()
    }
}

impl fmt::Display for DandiReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "DANDI organisation into {}: {} file(s){}",
            self.dandiset_dir.display(),
            self.files.len(),
            if self.wrote_dandiset_yaml {
                ", dandiset.yaml written"
            } else {
                ""
            }
        )?;
        for o in &self.files {
            let via = if o.file != o.source {
                format!(" (link target {})", o.file.display())
            } else {
                String::new()
            };
            let how = match o.placed {
                Placed::HardLink => "hard link",
                Placed::Copy => "copy",
                Placed::AlreadyPresent => "already present",
                Placed::Planned => "planned",
            };
            writeln!(
                f,
                "  {}{} -> {} [{}]",
                o.source.display(),
                via,
                o.dandi_path,
                how
            )?;
        }
        if self.problems.is_empty() {
            writeln!(f, "no problems found")
        } else {
            writeln!(f, "{} problem(s):", self.problems.len())?;
            for p in &self.problems {
                writeln!(f, "  {p}")?;
            }
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------
// Naming (dandi/organize.py, dandi/consts.py)
// ---------------------------------------------------------------------------

/// Neurodata types pynwb defines and the module (DANDI "modality") defining them,
/// as `dandi.pynwb_utils.get_neurodata_types_to_modalities_map()` returns them for
/// pynwb 4.2. Extension types and hdmf tables have none.
const MODALITIES: &[(&str, &str)] = &[
    ("AbstractFeatureSeries", "misc"),
    ("AnnotationSeries", "misc"),
    ("BaseImage", "base"),
    ("BehavioralEpochs", "behavior"),
    ("BehavioralEvents", "behavior"),
    ("BehavioralTimeSeries", "behavior"),
    ("ClusterWaveforms", "ecephys"),
    ("Clustering", "ecephys"),
    ("CompassDirection", "behavior"),
    ("CorrectedImageStack", "ophys"),
    ("CurrentClampSeries", "icephys"),
    ("CurrentClampStimulusSeries", "icephys"),
    ("DecompositionSeries", "misc"),
    ("Device", "device"),
    ("DeviceModel", "device"),
    ("DfOverF", "ophys"),
    ("ElectricalSeries", "ecephys"),
    ("ElectrodeGroup", "ecephys"),
    ("EventDetection", "ecephys"),
    ("EventWaveform", "ecephys"),
    ("ExternalImage", "base"),
    ("EyeTracking", "behavior"),
    ("FeatureExtraction", "ecephys"),
    ("FilteredEphys", "ecephys"),
    ("Fluorescence", "ophys"),
    ("GrayscaleImage", "image"),
    ("IZeroClampSeries", "icephys"),
    ("Image", "base"),
    ("ImageMaskSeries", "image"),
    ("ImageReferences", "base"),
    ("ImageSegmentation", "ophys"),
    ("ImageSeries", "image"),
    ("Images", "base"),
    ("ImagingPlane", "ophys"),
    ("IndexSeries", "image"),
    ("IntervalSeries", "misc"),
    ("IntracellularElectrode", "icephys"),
    ("LFP", "ecephys"),
    ("LabMetaData", "file"),
    ("MotionCorrection", "ophys"),
    ("MultiContainerInterface", "core"),
    ("NWBContainer", "core"),
    ("NWBData", "core"),
    ("NWBDataInterface", "core"),
    ("NWBFile", "file"),
    ("NWBMixin", "core"),
    ("OnePhotonSeries", "ophys"),
    ("OpticalChannel", "ophys"),
    ("OpticalSeries", "image"),
    ("OptogeneticSeries", "ogen"),
    ("OptogeneticStimulusSite", "ogen"),
    ("PatchClampSeries", "icephys"),
    ("Position", "behavior"),
    ("ProcessingModule", "base"),
    ("PupilTracking", "behavior"),
    ("RGBAImage", "image"),
    ("RGBImage", "image"),
    ("RoiResponseSeries", "ophys"),
    ("ScratchData", "core"),
    ("SpatialSeries", "behavior"),
    ("SpikeEventSeries", "ecephys"),
    ("Subject", "file"),
    ("TimeSeries", "base"),
    ("TwoPhotonSeries", "ophys"),
    ("VoltageClampSeries", "icephys"),
    ("VoltageClampStimulusSeries", "icephys"),
];

/// Modalities DANDI leaves out of file names as trivial.
const TRIVIAL_MODALITIES: [&str; 4] = ["base", "device", "file", "misc"];

/// The pynwb module (DANDI modality) defining a neurodata type, if pynwb defines it.
pub fn modality_of(neurodata_type: &str) -> Option<&'static str> {
    MODALITIES
        .binary_search_by(|(t, _)| (*t).cmp(neurodata_type))
        .ok()
        .map(|i| MODALITIES[i].1)
}

/// The sorted modalities of a file holding groups of these types, trivial ones left out
/// (`ElectricalSeries`, `Position`, `Subject` → `behavior`, `ecephys`).
pub fn modalities<'a>(types: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let set: BTreeSet<&str> = types
        .into_iter()
        .filter_map(modality_of)
        .filter(|m| !TRIVIAL_MODALITIES.contains(m))
        .collect();
    set.into_iter().map(str::to_string).collect()
}

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
    /// Modalities, sorted (see [`modalities`]).
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

/// True for a character DANDI allows in a label (`[^_*\\/<>:|"'?%@;.]`).
fn label_char(c: char) -> bool {
    !matches!(
        c,
        '_' | '*' | '\\' | '/' | '<' | '>' | ':' | '|' | '"' | '\'' | '?' | '%' | '@' | ';' | '.'
    )
}

fn is_label(s: &str) -> bool {
    !s.is_empty() && s.chars().all(label_char)
}

/// True when `name` matches DANDI's `ORGANIZED_FILENAME_REGEX`
/// (`sub-L(_ses-L)?(_(tis|slice|cell|desc|probe|obj)-L)*(_[a-z]+(\+[a-z]+)*)?\.nwb`).
pub fn is_dandi_filename(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".nwb") else {
        return false;
    };
    let mut tokens = stem.split('_').peekable();
    match tokens.next().and_then(|t| t.strip_prefix("sub-")) {
        Some(l) if is_label(l) => {}
        _ => return false,
    }
    if let Some(l) = tokens.peek().and_then(|t| t.strip_prefix("ses-")) {
        if !is_label(l) {
            return false;
        }
        tokens.next();
    }
    let rest: Vec<&str> = tokens.collect();
    for (i, t) in rest.iter().enumerate() {
        let entity = ["tis-", "slice-", "cell-", "desc-", "probe-", "obj-"]
            .iter()
            .find_map(|k| t.strip_prefix(k));
        match entity {
            Some(l) if is_label(l) => continue,
            _ => {}
        }
        let modality = i + 1 == rest.len()
            && t.split('+')
                .all(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_lowercase()));
        if !modality {
            return false;
        }
    }
    true
}

/// True when a `/`-separated path inside a dandiset passes DANDI's layout checks: a
/// `sub-<label>` folder at the root holding a DANDI file name of the same subject.
pub fn is_dandi_path(path: &str) -> bool {
    let Some((folder, name)) = path.split_once('/') else {
        return false;
    };
    if name.contains('/') || !is_dandi_filename(name) {
        return false;
    }
    // the subject of the name as DANDI's folder regex matches it: `sub-` and label characters
    let label_len: usize = name[4..]
        .chars()
        .take_while(|&c| label_char(c))
        .map(char::len_utf8)
        .sum();
    folder.strip_prefix("sub-").is_some_and(is_label) && folder == &name[..4 + label_len]
}

// ---------------------------------------------------------------------------
// Metadata rules (nwbinspector 0.7.2, `dandi` configuration)
// ---------------------------------------------------------------------------

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

/// A number then a designator, repeated with designators in `order` (ISO-8601 parts).
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
fn duration_seconds(s: &str) -> Option<f64> {
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
fn has_timezone(s: &str) -> bool {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s).is_ok()
        || ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"]
            .iter()
            .any(|f| DateTime::parse_from_str(s, f).is_ok())
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

// ---------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------

/// What a walk over a file's groups found.
#[derive(Default)]
struct Scan {
    /// Neurodata types of every group.
    types: BTreeSet<String>,
    /// Files that external links point into.
    external: BTreeSet<PathBuf>,
    /// Members whose link cannot be resolved.
    broken: Vec<String>,
    /// `external_file` entries of image series: (series path, entry).
    media: Vec<(String, String)>,
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Walks every group reachable by hard links; objects living in another file are
/// recorded as external link targets and not entered.
fn scan(nwb: &NwbFile) -> std::result::Result<Scan, String> {
    let root = nwb.hdf5();
    let root_fileno = root.loc_info().map_err(|e| e.to_string())?.fileno;
    let mut out = Scan::default();
    let mut seen = HashSet::new();
    let mut stack = vec![("/".to_string(), 0usize)];
    while let Some((path, depth)) = stack.pop() {
        let g = root.group(&path).map_err(|e| format!("`{path}`: {e}"))?;
        let names = g.member_names().map_err(|e| format!("`{path}`: {e}"))?;
        for name in names {
            let full = join(&path, &name);
            let info = match g.loc_info_by_name(&name) {
                Ok(i) => i,
                Err(_) => {
                    out.broken.push(full);
                    continue;
                }
            };
            if info.fileno != root_fileno {
                let file = g
                    .group(&name)
                    .map(|o| o.filename())
                    .or_else(|_| g.dataset(&name).map(|o| o.filename()));
                match file {
                    Ok(f) if !f.is_empty() => {
                        let p = PathBuf::from(&f);
                        out.external.insert(std::fs::canonicalize(&p).unwrap_or(p));
                    }
                    _ => out.broken.push(full),
                }
                continue;
            }
            if !seen.insert(format!("{:?}", info.token)) {
                continue;
            }
            let Ok(obj) = nwb.object(&full) else {
                out.broken.push(full);
                continue;
            };
            if obj.kind != ObjectKind::Group {
                continue;
            }
            let ty = obj.neurodata_type.clone();
            if ty.ends_with("ImageSeries") || ty == "OpticalSeries" {
                let ef = join(&full, "external_file");
                if nwb.exists(&ef) {
                    if let Some(files) = nwb.read_data(&ef).ok().and_then(|d| d.texts()) {
                        out.media
                            .extend(files.into_iter().map(|f| (full.clone(), f)));
                    }
                }
            }
            if !ty.is_empty() {
                out.types.insert(ty);
            }
            if depth < 64 {
                stack.push((full, depth + 1));
            }
        }
    }
    Ok(out)
}

fn text(nwb: &NwbFile, path: &str) -> Option<String> {
    if !nwb.exists(path) {
        return None;
    }
    nwb.read_data(path)
        .ok()
        .and_then(|d| d.texts())
        .and_then(|t| t.into_iter().next())
}

/// Everything organising needs from one file.
struct Inspected {
    metadata: DandiMetadata,
    start: Option<DateTime<FixedOffset>>,
    object_id: Option<String>,
    probe_ids: Vec<String>,
    scan: Scan,
}

fn inspect(nwb: &NwbFile, scan: Scan) -> std::result::Result<Inspected, String> {
    let session_start_time = text(nwb, "/session_start_time");
    let metadata = DandiMetadata {
        identifier: text(nwb, "/identifier"),
        session_description: text(nwb, "/session_description"),
        session_start_time: session_start_time.clone(),
        session_id: text(nwb, "/general/session_id"),
        subject: nwb.subject().map_err(|e| e.to_string())?,
    };
    let object_id = nwb.attributes("/").ok().and_then(|a| {
        a.get("object_id")
            .and_then(|d| d.as_str().map(str::to_string))
    });
    let probe_ids = nwb
        .devices()
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.attributes.get("probe_id"))
        .filter_map(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_i64().map(|i| i.to_string()))
                .or_else(|| v.as_f64().map(|x| format!("{x:?}")))
        })
        .collect();
    Ok(Inspected {
        start: session_start_time
            .as_deref()
            .and_then(spyglass_nwb::parse_datetime),
        metadata,
        object_id,
        probe_ids,
        scan,
    })
}

// ---------------------------------------------------------------------------
// Organising
// ---------------------------------------------------------------------------

/// A problem of source `index` (`usize::MAX` for the dandiset itself), for sorting.
type Indexed = (usize, Problem);

fn problem(file: &Path, rule: Rule, value: Option<String>, message: impl Into<String>) -> Problem {
    Problem {
        file: file.to_path_buf(),
        rule,
        value,
        message: message.into(),
    }
}

/// The rule an error of `NwbFile::open` breaks (a missing required dataset has its own).
fn open_problem(path: &Path, e: &NwbError) -> Problem {
    let rule = match e {
        NwbError::Missing { object, .. } => match object.as_str() {
            "/identifier" => Rule::Identifier,
            "/session_description" => Rule::SessionDescription,
            "/session_start_time" => Rule::SessionStartTime,
            _ => Rule::Readable,
        },
        _ => Rule::Readable,
    };
    problem(path, rule, None, e.to_string())
}

/// The file to organise for `source` (itself, or the one file its external links point
/// into) with what it holds.
fn resolve(source: &Path) -> std::result::Result<(PathBuf, Inspected), Problem> {
    let nwb = NwbFile::open(source).map_err(|e| open_problem(source, &e))?;
    let unreadable = |m: String| problem(source, Rule::Readable, None, m);
    let found = scan(&nwb).map_err(unreadable)?;
    if found.external.is_empty() && found.broken.is_empty() {
        let inspected = inspect(&nwb, found).map_err(unreadable)?;
        return Ok((source.to_path_buf(), inspected));
    }
    let self_contained = |m: String, v: Option<String>| problem(source, Rule::SelfContained, v, m);
    if !found.broken.is_empty() {
        return Err(self_contained(
            format!(
                "links that cannot be followed (target missing?) at {}; DANDI needs a \
                 self-contained file",
                found.broken.join(", ")
            ),
            None,
        ));
    }
    let targets: Vec<String> = found
        .external
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if found.external.len() > 1 {
        return Err(self_contained(
            format!(
                "external links into {} files ({}); DANDI needs a self-contained file",
                targets.len(),
                targets.join(", ")
            ),
            None,
        ));
    }
    let target = found.external.into_iter().next().unwrap_or_default();
    let own_id = text(&nwb, "/identifier");
    drop(nwb);
    let t = NwbFile::open(&target).map_err(|e| {
        self_contained(
            format!("its external links point into a file that cannot be read: {e}"),
            Some(target.display().to_string()),
        )
    })?;
    let t_scan = scan(&t).map_err(|m| {
        self_contained(
            format!("cannot read link target: {m}"),
            Some(target.display().to_string()),
        )
    })?;
    if !t_scan.external.is_empty() || !t_scan.broken.is_empty() {
        return Err(self_contained(
            "the link target holds external links itself".into(),
            Some(target.display().to_string()),
        ));
    }
    let t_id = text(&t, "/identifier");
    if t_id != own_id {
        return Err(self_contained(
            format!(
                "external links point into a different NWB file (identifier {:?}, this file's \
                 is {:?}); DANDI needs a self-contained file",
                t_id.unwrap_or_default(),
                own_id.unwrap_or_default()
            ),
            Some(target.display().to_string()),
        ));
    }
    let inspected = inspect(&t, t_scan).map_err(|m| {
        self_contained(
            format!("cannot read link target: {m}"),
            Some(target.display().to_string()),
        )
    })?;
    Ok((target, inspected))
}

/// True when two files hold the same bytes (same inode, or equal size and content).
fn same_file(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (ma, mb) = (std::fs::metadata(a)?, std::fs::metadata(b)?);
    if ma.dev() == mb.dev() && ma.ino() == mb.ino() {
        return Ok(true);
    }
    if ma.len() != mb.len() {
        return Ok(false);
    }
    let (mut fa, mut fb) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

/// Puts `src` at `dest` (hard link or copy through a temporary name); a different file
/// already at `dest` is a problem, not overwritten.
fn place(
    src: &Path,
    dest: &Path,
    transfer: Transfer,
) -> Result<std::result::Result<Placed, String>> {
    if let Ok(m) = std::fs::symlink_metadata(dest) {
        if m.file_type().is_symlink() {
            return Ok(Err(format!(
                "{} is a symbolic link; remove it (DANDI needs real files)",
                dest.display()
            )));
        }
        return Ok(match same_file(src, dest) {
            Ok(true) => Ok(Placed::AlreadyPresent),
            Ok(false) => Err(format!(
                "{} already holds a different file; remove it or organise into an empty folder",
                dest.display()
            )),
            Err(e) => Err(format!("cannot compare with {}: {e}", dest.display())),
        });
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    if transfer == Transfer::HardLinkOrCopy && std::fs::hard_link(src, dest).is_ok() {
        return Ok(Ok(Placed::HardLink));
    }
    let tmp = dest.with_extension(format!("partial-{}", std::process::id()));
    let copied = std::fs::copy(src, &tmp).and_then(|_| std::fs::rename(&tmp, dest));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(dest, e));
    }
    Ok(Ok(Placed::Copy))
}

/// The `dandiset.yaml` fields `dandi validate` requires.
#[derive(serde::Serialize, serde::Deserialize)]
struct DandisetYaml {
    identifier: String,
    name: String,
    description: String,
}

/// True for `DANDI:` followed by six digits.
fn is_dandiset_identifier(s: &str) -> bool {
    s.strip_prefix("DANDI:")
        .is_some_and(|d| d.len() == 6 && d.chars().all(|c| c.is_ascii_digit()))
}

/// Writes `dandiset.yaml` unless one with the required fields exists; returns whether
/// it wrote, and the problems of an existing one.
fn dandiset_yaml(out_dir: &Path, opts: &DandiOptions, problems: &mut Vec<Indexed>) -> Result<bool> {
    let path = out_dir.join("dandiset.yaml");
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let parsed: std::result::Result<BTreeMap<String, serde_json::Value>, _> =
            serde_saphyr::from_str(&text);
        match parsed {
            Ok(map) => {
                for field in ["identifier", "name", "description"] {
                    let ok = map.get(field).is_some_and(|v| match v {
                        serde_json::Value::String(s) => !s.trim().is_empty(),
                        serde_json::Value::Null => false,
                        _ => true,
                    });
                    if !ok {
                        problems.push((
                            usize::MAX,
                            problem(
                                &path,
                                Rule::DandisetYaml,
                                None,
                                format!("the existing dandiset.yaml lacks `{field}`"),
                            ),
                        ));
                    }
                }
            }
            Err(e) => problems.push((
                usize::MAX,
                problem(
                    &path,
                    Rule::DandisetYaml,
                    None,
                    format!("the existing dandiset.yaml is not valid YAML: {e}"),
                ),
            )),
        }
        return Ok(false);
    }
    let yaml = serde_saphyr::to_string(&DandisetYaml {
        identifier: opts.identifier.clone(),
        name: opts.name.clone(),
        description: opts.description.clone(),
    })
    .map_err(|e| Error::Invalid(format!("dandiset.yaml: {e}")))?;
    std::fs::write(&path, yaml).map_err(|e| Error::io(&path, e))?;
    Ok(true)
}

/// A resolved file with the sources that lead to it.
struct Entry {
    /// Index of the first source.
    first: usize,
    /// Indices of every source resolving to this file.
    sources: Vec<usize>,
    file: PathBuf,
    inspected: Inspected,
}

/// Organises `files` into the dandiset folder `out_dir` (created if needed): writes
/// `dandiset.yaml` and places every file that can be named under its DANDI path.
/// Broken rules never stop the run; they are listed in the report. Errors are for
/// the folder itself (cannot create, cannot write).
pub fn organise_dandiset(
    files: &[DandiSource],
    out_dir: &Path,
    opts: &DandiOptions,
) -> Result<DandiReport> {
    let mut problems: Vec<Indexed> = vec![];
    let mut entries: Vec<Entry> = vec![];
    for (i, src) in files.iter().enumerate() {
        match resolve(&src.path) {
            Err(p) => problems.push((i, p)),
            Ok((file, inspected)) => {
                let key = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
                let existing = entries.iter_mut().find(|e| {
                    std::fs::canonicalize(&e.file).unwrap_or_else(|_| e.file.clone()) == key
                });
                match existing {
                    Some(e) => e.sources.push(i),
                    None => entries.push(Entry {
                        first: i,
                        sources: vec![i],
                        file,
                        inspected,
                    }),
                }
            }
        }
    }

    // metadata rules, per file
    let now = Utc::now();
    for e in &entries {
        let src = &files[e.first].path;
        for (rule, value, message) in metadata_problems(&e.inspected.metadata, now) {
            let message = if e.file != *src {
                format!("{message} (in link target {})", e.file.display())
            } else {
                message
            };
            problems.push((e.first, problem(src, rule, value, message)));
        }
    }

    // identifiers unique across the set
    let mut by_id: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, e) in entries.iter().enumerate() {
        if let Some(id) = e.inspected.metadata.identifier.as_deref() {
            if !id.trim().is_empty() {
                by_id.entry(id).or_default().push(k);
            }
        }
    }
    for (id, ks) in by_id.iter().filter(|(_, ks)| ks.len() > 1) {
        for &k in ks {
            let others: Vec<String> = ks
                .iter()
                .filter(|&&o| o != k)
                .map(|&o| files[entries[o].first].path.display().to_string())
                .collect();
            let e = &entries[k];
            problems.push((
                e.first,
                problem(
                    &files[e.first].path,
                    Rule::UniqueIdentifier,
                    Some(id.to_string()),
                    format!("the identifier is also used by {}", others.join(", ")),
                ),
            ));
        }
    }

    // names, for files with a subject id
    let named: Vec<usize> = (0..entries.len())
        .filter(|&k| {
            entries[k]
                .inspected
                .metadata
                .subject
                .as_ref()
                .and_then(|s| s.subject_id.as_deref())
                .is_some_and(|id| !id.trim().is_empty())
        })
        .collect();
    let records: Vec<NamingRecord> = named
        .iter()
        .map(|&k| {
            let e = &entries[k];
            let m = &e.inspected.metadata;
            NamingRecord {
                subject_id: m.subject.as_ref().and_then(|s| s.subject_id.clone()),
                session_id: m.session_id.clone(),
                session_start_time: e.inspected.start,
                modalities: modalities(e.inspected.scan.types.iter().map(String::as_str)),
                description: files[e.first].description.clone(),
                probe_ids: e.inspected.probe_ids.clone(),
                object_id: e.inspected.object_id.clone(),
            }
        })
        .collect();
    let paths = assign_dandi_paths(&records, opts.always_session);

    if !is_dandiset_identifier(&opts.identifier) {
        problems.push((
            usize::MAX,
            problem(
                &out_dir.join("dandiset.yaml"),
                Rule::DandisetYaml,
                Some(opts.identifier.clone()),
                "the dandiset identifier must read `DANDI:` and six digits",
            ),
        ));
    }
    let wrote_yaml = if opts.dry_run {
        false
    } else {
        std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
        dandiset_yaml(out_dir, opts, &mut problems)?
    };

    let mut organised: Vec<(usize, OrganisedFile)> = vec![];
    for (&k, path) in named.iter().zip(paths) {
        let e = &entries[k];
        let src = &files[e.first].path;
        let dandi_path = match path {
            Ok(p) => p,
            Err(m) => {
                problems.push((e.first, problem(src, Rule::UniquePath, None, m)));
                continue;
            }
        };
        let dest = out_dir.join(&dandi_path);
        // image series media must be found relative to the organised file
        let dest_dir = dest.parent().unwrap_or(out_dir);
        for (series, f) in &e.inspected.scan.media {
            if f.contains("://") {
                continue;
            }
            let p = Path::new(f);
            let found = if p.is_absolute() {
                p.exists()
            } else {
                dest_dir.join(p).exists()
            };
            if !found {
                problems.push((
                    e.first,
                    problem(
                        src,
                        Rule::ExternalFile,
                        Some(f.clone()),
                        format!(
                            "{series} refers to this media file, which will not be found from \
                             {}; copy it there",
                            dest_dir.display()
                        ),
                    ),
                ));
            }
        }
        let placed = if opts.dry_run {
            Placed::Planned
        } else {
            match place(&e.file, &dest, opts.transfer)? {
                Ok(p) => p,
                Err(m) => {
                    problems.push((
                        e.first,
                        problem(src, Rule::Destination, Some(dandi_path.clone()), m),
                    ));
                    continue;
                }
            }
        };
        for &i in &e.sources {
            organised.push((
                i,
                OrganisedFile {
                    source: files[i].path.clone(),
                    file: e.file.clone(),
                    dandi_path: dandi_path.clone(),
                    kind: files[i].kind,
                    nwb_file_name: files[i].nwb_file_name.clone(),
                    placed,
                },
            ));
        }
    }
    organised.sort_by_key(|(i, _)| *i);
    problems.sort_by_key(|(i, p)| (*i, p.rule));
    Ok(DandiReport {
        dandiset_dir: out_dir.to_path_buf(),
        wrote_dandiset_yaml: wrote_yaml,
        files: organised.into_iter().map(|(_, o)| o).collect(),
        problems: problems.into_iter().map(|(_, p)| p).collect(),
    })
}

// ---------------------------------------------------------------------------
// dandi validate
// ---------------------------------------------------------------------------

/// The outcome of `dandi validate` on a dandiset folder.
#[derive(Clone, Debug, PartialEq)]
pub struct DandiValidation {
    /// Exit status 0 and "No errors found".
    pub passed: bool,
    /// The exit code (`None` when killed by a signal).
    pub exit_code: Option<i32>,
    /// The ids of reported issues (`NWBI.check_subject_sex`, `DANDI.NON_DANDI_FILENAME`,
    /// `pynwb.<object>: <message>`, ...), sorted.
    pub ids: Vec<String>,
    /// Standard output and error, as printed.
    pub output: String,
}

/// The `dandi` executable: `$SPYGLASS_DANDI` if set, else `dandi` on `PATH`.
pub fn find_dandi() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SPYGLASS_DANDI").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("dandi"))
        .find(|p| p.is_file())
}

/// Runs `dandi validate DIR` offline (`DANDI_NO_ET=1`) with the given executable.
pub fn dandi_validate(dandi: &Path, dir: &Path) -> Result<DandiValidation> {
    let out = Command::new(dandi)
        .arg("validate")
        .arg(dir)
        .env("DANDI_NO_ET", "1")
        .output()
        .map_err(|e| Error::io(dandi, e))?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    // issue lines read `[<id>] <path> — <message>`; ids may hold spaces (pynwb's do)
    let mut ids: Vec<String> = output
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('[')?;
            let head = rest.split(" — ").next().unwrap_or(rest);
            let end = head.rfind("] ")?;
            Some(head[..end].to_string())
        })
        .collect();
    ids.sort();
    ids.dedup();
    Ok(DandiValidation {
        passed: out.status.success() && output.contains("No errors found"),
        exit_code: out.status.code(),
        ids,
        output,
    })
}

//! What an organisation run reports: the DANDI rules a file can break ([`Rule`]), each
//! broken rule ([`Problem`]), where each file went ([`OrganisedFile`], [`Placed`]) and the
//! whole [`DandiReport`], printable for the user.

use std::fmt;
use std::path::{Path, PathBuf};

use super::SourceKind;

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

/// What [`organise_dandiset`](super::organise_dandiset) did: the files placed and every
/// problem found.
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

/// A [`Problem`] of `file`.
pub(super) fn problem(
    file: &Path,
    rule: Rule,
    value: Option<String>,
    message: impl Into<String>,
) -> Problem {
    Problem {
        file: file.to_path_buf(),
        rule,
        value,
        message: message.into(),
    }
}

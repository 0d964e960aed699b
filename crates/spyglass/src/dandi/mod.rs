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
//!
//! One concept per module: `source` (what goes in), `modality`, `naming` and `layout`
//! (DANDI's names), `forms` and `rules` (DANDI's metadata rules), `inspect` (reading a
//! file through spyglass-nwb's walk), `place` and `dandiset_yaml` (writing the folder),
//! `organise` (the run), `report` (its outcome) and `validate` (the `dandi` tool).

mod dandiset_yaml;
mod forms;
mod inspect;
mod layout;
mod modality;
mod naming;
mod organise;
mod place;
mod report;
mod rules;
mod source;
mod validate;

pub use forms::{is_iso_duration, is_species_form, is_weight_form};
pub use layout::{is_dandi_filename, is_dandi_path};
pub use modality::{modalities, modality_of};
pub use naming::{assign_dandi_paths, obj_id, sanitize_value, session_id_from_time, NamingRecord};
pub use organise::organise_dandiset;
pub use report::{DandiReport, OrganisedFile, Placed, Problem, Rule};
pub use rules::{metadata_problems, DandiMetadata};
pub use source::{DandiOptions, DandiSource, SourceKind, Transfer};
pub use validate::{dandi_validate, find_dandi, DandiValidation};

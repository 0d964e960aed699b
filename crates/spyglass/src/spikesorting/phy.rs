//! phy both ways for CurationV1: `spyglass sorting to-phy` and `spyglass sorting from-phy`.
//!
//! - [`to_phy`] writes a phy template-gui folder (spyglass-kilosort's
//!   [`write_phy_folder`]: the files SpikeInterface's `export_to_phy` writes) for a
//!   curation: its units (as [`cv::get_sorting`] returns them) on its
//!   SpikeSortingRecording, recomputed from the raw file (checked against the stored
//!   hash, as the metric curation reads it). Spike times become samples as Spyglass's
//!   `spike_times_to_valid_samples` makes them (`searchsorted` on the recording's
//!   timestamps); a spike past the recording's end is an error. The folder also holds
//!   `spyglass.json` (the curation's key, the exported unit ids by cluster index, the
//!   channels' electrode ids, the sampling rate) and `cluster_unit_id.tsv` (phy shows
//!   each cluster's unit id as a column).
//! - [`from_phy`] reads the folder back after phy: it recomputes the parent curation's
//!   spike vector and refuses a folder whose `spike_times.npy` / `spike_templates.npy`
//!   differ from it; phy's rewritten `spike_clusters.npy` must group whole units (a
//!   merge: a cluster of several units; a split is refused — a CurationV1 only labels
//!   and merges the sorting's units, it cannot hold a part of one); then it inserts a
//!   child CurationV1 (parent = the exported curation) with the labels of
//!   `cluster_group.tsv` and the merge groups (the parent's recorded merge groups kept,
//!   united with phy's), recorded or applied. Clusters `cluster_group.tsv` lists
//!   without spikes (phy may keep ids it merged away) are ignored; clusters it does not
//!   list are `unsorted`.
//!
//! Labels: Spyglass's curation labels (noise, artifact, reject, mua, accept) onto phy's
//! groups and back ([`phy_group_of`], [`labels_of_group`]):
//!
//! | Spyglass labels of a unit                  | phy group  | back to Spyglass    |
//! |--------------------------------------------|------------|---------------------|
//! | any of `noise`, `artifact`, `reject`       | `noise`    | `["noise", "reject"]` (Spyglass's default metric curation label) |
//! | else `mua`                                 | `mua`      | `["mua"]`           |
//! | else `accept`                              | `good`     | `["accept"]`        |
//! | none (or only other labels)                | `unsorted` | no label            |
//!
//! A unit phy left alone (same cluster, same group as exported) keeps the parent's
//! labels verbatim (an `artifact` unit stays `artifact`, not `noise, reject`).
//! A parent curation whose merges were applied holds units the sorting does not have; a
//! child curation is always written from the sorting's units (as Spyglass writes it), so
//! such a folder is refused.

use super::curation_v1::{self as cv, CurationInput, CurationKey, CurationRow, CURATION};
use super::metric_curation_v1::samples_of;
use super::recompute::FilteredRecording;
use super::recording_v1 as rec;
use super::sorting_v1::{self as ss, SortingKey, SortingRow, SortingSelection};
use crate::kit::prelude::*;
use spyglass_kilosort::phy::{
    clusters_as_units, read_phy_edits, spike_vector, write_phy_folder, PhyExport, PhyExportParams,
    PhyGroup, PhyUnit,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use uuid::Uuid;

/// The file in a phy folder naming the curation it came from.
pub const SPYGLASS_JSON: &str = "spyglass.json";

/// What `spyglass.json` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhyOrigin {
    /// The sorting.
    pub sorting_id: Uuid,
    /// The exported curation.
    pub curation_id: i64,
    /// The unit id of each cluster index (phy's template / original cluster ids).
    pub unit_ids: Vec<i64>,
    /// The phy group each unit was exported with.
    pub groups: Vec<String>,
    /// Electrode id of each channel (`channel_map.npy` indexes them).
    pub channel_ids: Vec<i64>,
    /// Sampling rate, Hz.
    pub sampling_rate: f64,
    /// Spikes exported.
    pub n_spikes: usize,
}

/// The phy group of a unit with these Spyglass curation labels (see the module doc).
pub fn phy_group_of(labels: &[String]) -> PhyGroup {
    let has = |l: &str| labels.iter().any(|x| x.trim().eq_ignore_ascii_case(l));
    if has("noise") || has("artifact") || has("reject") {
        PhyGroup::Noise
    } else if has("mua") {
        PhyGroup::Mua
    } else if has("accept") {
        PhyGroup::Good
    } else {
        PhyGroup::Unsorted
    }
}

/// The Spyglass curation labels of a phy group (see the module doc).
pub fn labels_of_group(group: PhyGroup) -> Vec<String> {
    let v: &[&str] = match group {
        PhyGroup::Noise => &["noise", "reject"],
        PhyGroup::Mua => &["mua"],
        PhyGroup::Good => &["accept"],
        PhyGroup::Unsorted => &[],
    };
    v.iter().map(|s| s.to_string()).collect()
}

fn kilo(dir: &Path) -> impl Fn(spyglass_kilosort::KilosortError) -> Error + '_ {
    move |e| Error::bad(format!("phy folder {}", dir.display()), e.to_string())
}

/// The recording of a sorting, opened for recomputing.
fn open_recording(db: &Db, sorting_id: Uuid) -> Result<(FilteredRecording, Option<String>)> {
    let sel: SortingSelection = db.row(ss::SELECTION, &SortingKey { sorting_id })?;
    let source = rec::recording_source(db, sel.key.recording_id)?;
    let recording = FilteredRecording::open(&source.raw_file, source.recipe.clone())?;
    Ok((recording, source.hash))
}

/// Spike samples of each unit (times ascending); a spike past the recording is an error.
fn unit_samples(recording: &FilteredRecording, units: &[cv::CuratedUnit]) -> Result<Vec<Vec<i64>>> {
    units
        .iter()
        .map(|u| {
            let mut t = u.spike_times.clone();
            t.sort_by(f64::total_cmp);
            let s = samples_of(recording, &t)?;
            if s.len() != t.len() {
                return Err(Error::bad(
                    format!("{CURATION} unit {}", u.id),
                    format!(
                        "{} of its {} spikes are past the end of the recording",
                        t.len() - s.len(),
                        t.len()
                    ),
                ));
            }
            Ok(s)
        })
        .collect()
}

/// Writes the phy folder `dest` (which must not exist) for the curation `key`; see
/// the module doc.
pub fn to_phy(
    db: &Db,
    key: &CurationKey,
    dest: &Path,
    params: &PhyExportParams,
) -> Result<PhyExport> {
    let what = |s: &str| format!("{CURATION} {} / {}: {s}", key.sorting_id, key.curation_id);
    if dest.exists() {
        return Err(Error::bad(
            format!("phy folder {}", dest.display()),
            "already exists; phy folders are not overwritten",
        ));
    }
    let units = cv::get_sorting(db, key)?;
    let (recording, hash) = open_recording(db, key.sorting_id)?;
    let locations = recording.recipe().locations.clone().ok_or_else(|| {
        Error::bad(
            what("channel locations"),
            format!(
                "no contact positions for electrodes {:?}; phy needs them",
                recording.recipe().channel_ids
            ),
        )
    })?;
    let samples = unit_samples(&recording, &units)?;
    // the recomputed samples must be the stored ones
    recording.stream(hash.as_deref(), |_, _| Ok(()))?;
    let src = ss::Source::new(&recording, vec![])?;
    let phy_units: Vec<PhyUnit> = units
        .iter()
        .zip(samples)
        .map(|(u, s)| PhyUnit {
            id: u.id,
            samples: s,
            group: phy_group_of(&u.labels),
        })
        .collect();
    let exported: Vec<&PhyUnit> = phy_units.iter().filter(|u| !u.samples.is_empty()).collect();
    let origin = PhyOrigin {
        sorting_id: key.sorting_id,
        curation_id: key.curation_id,
        unit_ids: exported.iter().map(|u| u.id).collect(),
        groups: exported
            .iter()
            .map(|u| u.group.as_str().to_string())
            .collect(),
        channel_ids: recording.recipe().channel_ids.clone(),
        sampling_rate: recording.sampling_rate(),
        n_spikes: exported.iter().map(|u| u.samples.len()).sum(),
    };
    let json = serde_json::to_vec_pretty(&origin)
        .map_err(|e| Error::internal(SPYGLASS_JSON, e.to_string()))?;
    let mut ids_tsv = String::from("cluster_id\tunit_id\n");
    for (k, id) in origin.unit_ids.iter().enumerate() {
        ids_tsv.push_str(&format!("{k}\t{id}\n"));
    }
    let out = write_phy_folder(
        &src,
        &phy_units,
        &locations,
        params,
        &[
            (SPYGLASS_JSON, json),
            ("cluster_unit_id.tsv", ids_tsv.into_bytes()),
        ],
        dest,
    )
    .map_err(kilo(dest));
    if let Some(e) = src.error() {
        return Err(e);
    }
    out
}

/// How [`from_phy`] inserts the child curation.
#[derive(Debug, Clone, Default)]
pub struct FromPhyOptions {
    /// Apply the merges to the units (else record them).
    pub apply_merge: bool,
    /// Description (empty: "phy curation of" and the parent curation id).
    pub description: String,
}

/// Reads the edited phy folder `dir` and inserts its child CurationV1; see the module
/// doc. Returns the new row.
pub fn from_phy(
    db: &Db,
    settings: &Settings,
    dir: &Path,
    opts: &FromPhyOptions,
) -> Result<CurationRow> {
    let folder = || format!("phy folder {}", dir.display());
    let json_path = dir.join(SPYGLASS_JSON);
    let text = std::fs::read_to_string(&json_path).map_err(|e| {
        Error::bad(
            folder(),
            format!(
                "no readable {SPYGLASS_JSON} ({e}): not a folder `spyglass sorting to-phy` wrote"
            ),
        )
    })?;
    let origin: PhyOrigin = serde_json::from_str(&text)
        .map_err(|e| Error::bad(json_path.display().to_string(), e.to_string()))?;
    if origin.groups.len() != origin.unit_ids.len() {
        return Err(Error::bad(
            json_path.display().to_string(),
            "unit_ids and groups differ in length",
        ));
    }
    let key = CurationKey {
        sorting_id: origin.sorting_id,
        curation_id: origin.curation_id,
    };
    let parent: CurationRow = db.row(CURATION, &key)?;
    let parent_units = cv::get_sorting(db, &key)?;
    let sorting: SortingRow = db.row(
        ss::SORTING,
        &SortingKey {
            sorting_id: key.sorting_id,
        },
    )?;
    let sorted_ids: BTreeSet<i64> =
        cv::read_units(db, &sorting.analysis_file_name, &sorting.object_id)?
            .iter()
            .map(|u| u.id)
            .collect();
    if let Some(u) = parent_units.iter().find(|u| !sorted_ids.contains(&u.id)) {
        return Err(Error::bad(
            folder(),
            format!(
                "its parent curation {} / {} has unit {} (merges applied), which the sorting does not have; a child curation is written from the sorting's units",
                key.sorting_id, key.curation_id, u.id
            ),
        ));
    }

    // the folder's spikes must be the parent's
    let by_id: BTreeMap<i64, &cv::CuratedUnit> = parent_units.iter().map(|u| (u.id, u)).collect();
    let mut exported = Vec::with_capacity(origin.unit_ids.len());
    for id in &origin.unit_ids {
        exported.push(
            (*by_id.get(id).ok_or_else(|| {
                Error::bad(
                    json_path.display().to_string(),
                    format!(
                        "unit {id} is not a unit of curation {} / {}",
                        key.sorting_id, key.curation_id
                    ),
                )
            })?)
            .clone(),
        );
    }
    let (recording, _) = open_recording(db, key.sorting_id)?;
    let trains = unit_samples(&recording, &exported)?;
    let expected = spike_vector(&trains);
    let edits = read_phy_edits(dir).map_err(kilo(dir))?;
    let same_times = edits.spike_times.len() == expected.len()
        && edits
            .spike_times
            .iter()
            .zip(&expected)
            .all(|(a, b)| *a == b.0);
    if !same_times {
        return Err(Error::bad(
            dir.join("spike_times.npy").display().to_string(),
            format!(
                "{} spikes that are not the {} spikes of curation {} / {} (the folder was not exported from it, or was changed)",
                edits.spike_times.len(),
                expected.len(),
                key.sorting_id,
                key.curation_id
            ),
        ));
    }
    if !edits
        .spike_templates
        .iter()
        .zip(&expected)
        .all(|(a, b)| *a == b.1 as i64)
    {
        return Err(Error::bad(
            dir.join("spike_templates.npy").display().to_string(),
            format!(
                "the spikes' units differ from curation {} / {}",
                key.sorting_id, key.curation_id
            ),
        ));
    }
    let clusters = clusters_as_units(&edits, exported.len(), dir).map_err(kilo(dir))?;

    // labels per unit id, and phy's merges as unit ids
    let mut labels: BTreeMap<i64, Vec<String>> = parent_units
        .iter()
        .filter(|u| !u.labels.is_empty())
        .map(|u| (u.id, u.labels.clone()))
        .collect();
    let mut groups: Vec<Vec<i64>> = vec![];
    for cl in &clusters {
        let ids: Vec<i64> = cl.units.iter().map(|&k| origin.unit_ids[k]).collect();
        let unchanged = cl.units.len() == 1
            && cl.cluster_id == cl.units[0] as i64
            && PhyGroup::parse(&origin.groups[cl.units[0]]) == Some(cl.group);
        if !unchanged {
            let l = labels_of_group(cl.group);
            for id in &ids {
                if l.is_empty() {
                    labels.remove(id);
                } else {
                    labels.insert(*id, l.clone());
                }
            }
        }
        if ids.len() > 1 {
            groups.push(ids);
        }
    }
    // the parent's recorded merge groups, united with phy's
    if !parent.merges_applied {
        for u in &parent_units {
            let others: Vec<i64> = u
                .merge_group
                .iter()
                .filter_map(|s| s.trim().parse::<i64>().ok())
                .collect();
            if !others.is_empty() {
                let mut g = vec![u.id];
                g.extend(others);
                groups.push(g);
            }
        }
    }
    let groups = cv::union_intersecting(&groups);
    if opts.apply_merge {
        // the merged unit k is `max id + 1 + k` and carries its members' labels
        let max_id = sorted_ids.iter().max().copied().unwrap_or(-1);
        for (k, g) in groups.iter().enumerate() {
            let mut merged: Vec<String> = vec![];
            for id in g {
                for l in labels.remove(id).unwrap_or_default() {
                    if !merged.contains(&l) {
                        merged.push(l);
                    }
                }
            }
            if !merged.is_empty() {
                labels.insert(max_id + 1 + k as i64, merged);
            }
        }
    }
    let description = if opts.description.is_empty() {
        format!("phy curation of {}", key.curation_id)
    } else {
        opts.description.clone()
    };
    let input = CurationInput {
        parent_curation_id: key.curation_id,
        labels: (!labels.is_empty()).then_some(labels),
        merge_groups: (!groups.is_empty()).then_some(groups),
        apply_merge: opts.apply_merge,
        metrics: None,
        description,
    };
    cv::insert_curation(db, settings, key.sorting_id, &input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_to_phy_groups_and_back() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(phy_group_of(&l(&["noise", "reject"])), PhyGroup::Noise);
        assert_eq!(phy_group_of(&l(&["artifact"])), PhyGroup::Noise);
        assert_eq!(phy_group_of(&l(&["mua", "accept"])), PhyGroup::Mua);
        assert_eq!(phy_group_of(&l(&["accept"])), PhyGroup::Good);
        assert_eq!(phy_group_of(&[]), PhyGroup::Unsorted);
        for g in [
            PhyGroup::Noise,
            PhyGroup::Mua,
            PhyGroup::Good,
            PhyGroup::Unsorted,
        ] {
            assert_eq!(phy_group_of(&labels_of_group(g)), g);
        }
    }
}

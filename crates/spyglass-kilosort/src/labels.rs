//! Cluster quality labels of a Kilosort / phy folder: the first `cluster_group.*` file,
//! else the first `cluster_KSLabel.*` (columns `cluster_id` and `group` / `KSLabel`), and
//! element-array-ephys's label vocabulary (good, ok, mua, noise, plus 0.4's `n.a.`), onto
//! which phy's `unsorted` (what SpikeInterface's `export_to_phy` writes) is mapped.

use std::path::{Path, PathBuf};

use crate::error::KilosortError;

/// A cluster quality label in element-array-ephys's `ClusterQualityLabel` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QualityLabel {
    /// `good`: a single unit.
    Good,
    /// `ok`: probably a single unit, possibly contaminated.
    Ok,
    /// `mua`: multi-unit activity.
    Mua,
    /// `noise`: a bad unit.
    Noise,
    /// `n.a.`: no label (phy's `unsorted`, an empty cell); element-array-ephys 0.4's
    /// "not available".
    NotAvailable,
}

impl QualityLabel {
    /// The `cluster_quality_label` value.
    pub fn as_str(self) -> &'static str {
        match self {
            QualityLabel::Good => "good",
            QualityLabel::Ok => "ok",
            QualityLabel::Mua => "mua",
            QualityLabel::Noise => "noise",
            QualityLabel::NotAvailable => "n.a.",
        }
    }

    /// element-array-ephys's description of the label.
    pub fn description(self) -> &'static str {
        match self {
            QualityLabel::Good => "single unit",
            QualityLabel::Ok => "probably a single unit, but could be contaminated",
            QualityLabel::Mua => "multi-unit activity",
            QualityLabel::Noise => "bad unit",
            QualityLabel::NotAvailable => "not available",
        }
    }

    /// Maps a label as written by phy / Kilosort (any letter case); `None` if unknown.
    pub fn from_phy(s: &str) -> Option<QualityLabel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "good" => Some(QualityLabel::Good),
            "ok" => Some(QualityLabel::Ok),
            "mua" => Some(QualityLabel::Mua),
            "noise" => Some(QualityLabel::Noise),
            "unsorted" | "n.a." | "" | "nan" => Some(QualityLabel::NotAvailable),
            _ => None,
        }
    }
}

/// The labels of a folder.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterLabels {
    /// The file they came from.
    pub file: PathBuf,
    /// Cluster ids, in file order.
    pub cluster_ids: Vec<i64>,
    /// The label of each cluster.
    pub labels: Vec<QualityLabel>,
}

/// Finds and reads the label file of `dir`.
pub fn read_labels(dir: &Path) -> Result<ClusterLabels, KilosortError> {
    let io = |e| KilosortError::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    for (stem, column) in [("cluster_group.", "group"), ("cluster_KSLabel.", "KSLabel")] {
        let found: Vec<&String> = names.iter().filter(|n| n.starts_with(stem)).collect();
        let pick = found
            .iter()
            .find(|n| n.ends_with(".tsv"))
            .or_else(|| found.first());
        if let Some(name) = pick {
            let path = dir.join(name);
            if name.ends_with(".tsv") {
                return read_tsv(&path, column);
            }
            return Err(KilosortError::Invalid {
                what: path.display().to_string(),
                detail: if name.ends_with(".xlsx") {
                    "Excel label files are not read; save it as a tab-separated .tsv".into()
                } else {
                    "a label file must be .tsv (or .xlsx)".into()
                },
            });
        }
    }
    Err(KilosortError::MissingFiles {
        dir: dir.to_path_buf(),
        missing: vec!["cluster_group.tsv or cluster_KSLabel.tsv (cluster labels)".into()],
    })
}

/// Reads a tab-separated table with a header row holding `cluster_id` and `column`:
/// each cluster (listed once) with its value of `column`, turned by `parse` (`None`
/// is refused, naming the values `expected`).
pub(crate) fn read_cluster_column<T>(
    path: &Path,
    column: &str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<(i64, T)>, KilosortError> {
    let text = std::fs::read_to_string(path).map_err(|e| KilosortError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let err = |line: usize, detail: String| KilosortError::Text {
        path: path.to_path_buf(),
        line,
        detail,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| err(1, "empty label file".into()))?;
    let cols: Vec<&str> = header.split('\t').map(str::trim).collect();
    let find = |name: &str| {
        cols.iter()
            .position(|c| *c == name)
            .ok_or_else(|| err(1, format!("no column {name:?} (columns: {cols:?})")))
    };
    let id_col = find("cluster_id")?;
    let value_col = find(column)?;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in lines {
        let cells: Vec<&str> = line.split('\t').collect();
        let id_text = cells.get(id_col).map(|s| s.trim()).unwrap_or_default();
        let id: i64 = id_text
            .parse()
            .map_err(|_| err(i + 1, format!("cluster_id {id_text:?} is not an integer")))?;
        if !seen.insert(id) {
            return Err(err(i + 1, format!("cluster {id} is listed twice")));
        }
        let raw = cells.get(value_col).copied().unwrap_or_default();
        let value = parse(raw).ok_or_else(|| {
            err(
                i + 1,
                format!("cluster {id} has {column} {raw:?}, not one of {expected}"),
            )
        })?;
        out.push((id, value));
    }
    Ok(out)
}

/// Reads a tab-separated label table with a header row holding `cluster_id` and `column`.
pub fn read_tsv(path: &Path, column: &str) -> Result<ClusterLabels, KilosortError> {
    let rows = read_cluster_column(
        path,
        column,
        "good, ok, mua, noise, unsorted, n.a.",
        QualityLabel::from_phy,
    )?;
    let (cluster_ids, labels) = rows.into_iter().unzip();
    Ok(ClusterLabels {
        file: path.to_path_buf(),
        cluster_ids,
        labels,
    })
}

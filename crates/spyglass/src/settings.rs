//! Where Spyglass keeps its files, as Spyglass's `settings.py` lays them out: a
//! base directory (`$SPYGLASS_BASE_DIR`, default `~/spyglass_data`) with the
//! sub-directories `raw`, `analysis`, `recording`, `spikesorting`, `waveforms`,
//! `tmp`, `video` and `export`, each overridable by `$SPYGLASS_<NAME>_DIR`; and the
//! two DataJoint stores `raw` and `analysis` (`protocol: file`, location = stage =
//! the directory, checksums verified up to 1 GiB).

use crate::error::{Error, Result};
use spyglass_db::stores::StoreConfig;
use spyglass_db::Db;
use std::path::{Path, PathBuf};

/// Files larger than this are not checksummed on fetch (Spyglass's 1 GiB limit).
pub const CHECKSUM_SIZE_LIMIT: u64 = 1 << 30;

/// The sub-directory names Spyglass defines, in its order.
pub const SUBDIRS: [&str; 8] = [
    "raw",
    "analysis",
    "recording",
    "spikesorting",
    "waveforms",
    "tmp",
    "video",
    "export",
];

/// The directories of one Spyglass installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The base directory (holds `entries.yaml`).
    pub base_dir: PathBuf,
    /// Raw NWB files and their `_` copies (store `raw`).
    pub raw_dir: PathBuf,
    /// Analysis NWB files (store `analysis`).
    pub analysis_dir: PathBuf,
    /// Spike-sorting recordings.
    pub recording_dir: PathBuf,
    /// Spike-sorting outputs.
    pub spikesorting_dir: PathBuf,
    /// Waveform extracts.
    pub waveforms_dir: PathBuf,
    /// Scratch files.
    pub tmp_dir: PathBuf,
    /// Video files.
    pub video_dir: PathBuf,
    /// Export bundles.
    pub export_dir: PathBuf,
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var(name)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(PathBuf::from)
}

impl Settings {
    /// The standard layout under `base` (environment overrides are not consulted).
    pub fn new(base: impl Into<PathBuf>) -> Settings {
        let base: PathBuf = base.into();
        let sub = |n: &str| base.join(n);
        Settings {
            raw_dir: sub("raw"),
            analysis_dir: sub("analysis"),
            recording_dir: sub("recording"),
            spikesorting_dir: sub("spikesorting"),
            waveforms_dir: sub("waveforms"),
            tmp_dir: sub("tmp"),
            video_dir: sub("video"),
            export_dir: sub("export"),
            base_dir: base,
        }
    }

    /// The layout from `$SPYGLASS_BASE_DIR` (default `~/spyglass_data`) and the
    /// `$SPYGLASS_<NAME>_DIR` overrides.
    pub fn from_env() -> Settings {
        let base = env_dir("SPYGLASS_BASE_DIR").unwrap_or_else(|| {
            let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
            Path::new(&home).join("spyglass_data")
        });
        let mut s = Settings::new(base);
        for name in SUBDIRS {
            if let Some(p) = env_dir(&format!("SPYGLASS_{}_DIR", name.to_ascii_uppercase())) {
                *s.dir_mut(name) = p;
            }
        }
        s
    }

    fn dir_mut(&mut self, name: &str) -> &mut PathBuf {
        match name {
            "raw" => &mut self.raw_dir,
            "analysis" => &mut self.analysis_dir,
            "recording" => &mut self.recording_dir,
            "spikesorting" => &mut self.spikesorting_dir,
            "waveforms" => &mut self.waveforms_dir,
            "tmp" => &mut self.tmp_dir,
            "video" => &mut self.video_dir,
            _ => &mut self.export_dir,
        }
    }

    /// The directory of a sub-directory name (`raw`, `analysis`, ...).
    pub fn dir(&self, name: &str) -> Option<&Path> {
        Some(match name {
            "base" => &self.base_dir,
            "raw" => &self.raw_dir,
            "analysis" => &self.analysis_dir,
            "recording" => &self.recording_dir,
            "spikesorting" => &self.spikesorting_dir,
            "waveforms" => &self.waveforms_dir,
            "tmp" => &self.tmp_dir,
            "video" => &self.video_dir,
            "export" => &self.export_dir,
            _ => return None,
        })
    }

    /// `entries.yaml` in the base directory.
    pub fn entries_yaml(&self) -> PathBuf {
        self.base_dir.join("entries.yaml")
    }

    /// Creates the base directory and every sub-directory.
    pub fn ensure_dirs(&self) -> Result<()> {
        for d in std::iter::once("base").chain(SUBDIRS) {
            if let Some(p) = self.dir(d) {
                std::fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
            }
        }
        Ok(())
    }

    /// Configures the `raw` and `analysis` stores of `db` on these directories.
    pub fn configure_stores(&self, db: &Db) {
        for (name, dir) in [("raw", &self.raw_dir), ("analysis", &self.analysis_dir)] {
            let mut cfg = StoreConfig::local(absolute(dir));
            cfg.checksum_size_limit = Some(CHECKSUM_SIZE_LIMIT);
            db.set_store(name, cfg);
        }
    }
}

/// `p` made absolute against the working directory (without resolving links).
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    }
}

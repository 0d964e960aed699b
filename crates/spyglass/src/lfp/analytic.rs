//! The analytic signal of a band-limited LFP: an LFPBandV1 row's series read back
//! in volts with its amplitude, phase and power per channel (Spyglass's
//! `compute_analytic_signal`, `compute_signal_phase`, `compute_signal_power`).

use super::band_v1::LFP_BAND_V1;
use crate::error::{Error, Result};
use spyglass_db::{Db, Row};
use spyglass_dsp::HilbertFeatures;

/// A band-limited LFP read back, with its analytic features.
#[derive(Debug, Clone)]
pub struct BandSignal {
    /// Electrode ids, one per channel.
    pub electrode_ids: Vec<i64>,
    /// Timestamps, seconds.
    pub timestamps: Vec<f64>,
    /// The filtered signal per channel, volts.
    pub volts: Vec<Vec<f64>>,
    /// Amplitude (volts), phase (radians, `[0, 2π]`) and power (volts²) per channel.
    pub features: Vec<HilbertFeatures>,
}

/// Reads the LFPBandV1 row matching `restriction` and computes the analytic
/// amplitude, phase and power of each channel (Hilbert transform over the whole
/// series, on values in volts).
pub fn band_features(db: &Db, restriction: &Row) -> Result<BandSignal> {
    let super::Volts {
        electrode_ids,
        volts,
        timestamps,
    } = super::fetch_volts(db, LFP_BAND_V1, restriction, "lfp_band")?;
    let flat: Vec<f64> = volts.iter().flatten().copied().collect();
    let features = if flat.is_empty() {
        vec![]
    } else {
        spyglass_dsp::hilbert_features_channels(&flat, volts.len())
            .map_err(|e| Error::bad(LFP_BAND_V1, e.to_string()))?
    };
    Ok(BandSignal {
        electrode_ids,
        timestamps,
        volts,
        features,
    })
}

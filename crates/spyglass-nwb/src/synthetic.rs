//! Synthetic Spyglass-style sessions with known ground truth, for tests and demos:
//! a ndx-franklab-novela probe with shanks and electrode groups, raw int16 data at
//! 30 kHz with explicit timestamps (optionally a gap) holding spikes of known units,
//! theta and ripple oscillations of known amplitude and Gaussian noise; two-LED
//! position per epoch (the animal runs round a circular track and stands still
//! around each ripple, as ripples come during immobility); epochs tagged `01_s1`,
//! `02_r1`, ...; tasks; DANDI-valid subject. Everything is deterministic given the seed.

use std::f64::consts::PI;
use std::path::Path;

use chrono::{DateTime, FixedOffset, TimeZone};
use hdf5::Group;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::data::Values;
use crate::error::{NwbError, Result};
use crate::model::{FileMetadata, Subject};
use crate::spec;
use crate::write::{
    ColumnSpec, Compression, ElectricalSeriesSpec, Placement, SeriesData, TimeIntervalsSpec,
    TimeSeriesSpec, TimingSpec, W,
};

/// Parameters of a synthetic session.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticParams {
    /// Recording duration, seconds (excluding the gap).
    pub duration_s: f64,
    /// Sampling rate of the raw data, Hz.
    pub sampling_rate: f64,
    /// Number of channels.
    pub n_channels: usize,
    /// Number of shanks / electrode groups (must divide `n_channels`).
    pub n_groups: usize,
    /// Seed of every random draw.
    pub seed: u64,
    /// Storage of the raw data.
    pub compression: Compression,
    /// Optional gap in the timestamps: `(after this many seconds, gap length in seconds)`.
    pub gap: Option<(f64, f64)>,
    /// Number of units with embedded spikes.
    pub n_units: usize,
    /// Extra spikes every unit fires around each ripple (a population burst:
    /// evenly spread over the ripple's centre ± 1.5 σ, Poisson spikes within 3 ms
    /// of them removed); 0 for none.
    pub ripple_burst_spikes: usize,
    /// Mean firing rate of each unit, Hz.
    pub firing_rate_hz: f64,
    /// Peak (trough) amplitude of the largest unit on its home channel, µV.
    pub spike_amplitude_uv: f64,
    /// Theta frequency, Hz.
    pub theta_hz: f64,
    /// Theta amplitude, µV.
    pub theta_amplitude_uv: f64,
    /// Ripple frequency, Hz.
    pub ripple_hz: f64,
    /// Ripple peak amplitude, µV.
    pub ripple_amplitude_uv: f64,
    /// Ripple events per second.
    pub ripple_rate_hz: f64,
    /// Ripple envelope standard deviation, seconds.
    pub ripple_sd_s: f64,
    /// How long the animal stands still around each ripple, seconds (centred on the
    /// ripple; 0: it never stops). Ripples come during immobility, and detectors
    /// drop events where the animal moves (Spyglass's `speed_threshold`).
    pub ripple_stillness_s: f64,
    /// Standard deviation of the white noise, µV.
    pub noise_uv: f64,
    /// Volts per stored integer step.
    pub conversion: f64,
    /// Number of epochs (alternating sleep `s` and run `r`).
    pub n_epochs: usize,
    /// Position sampling rate, Hz.
    pub position_rate: f64,
    /// Camera scale, meters per pixel.
    pub meters_per_pixel: f64,
    /// Session start time.
    pub session_start: DateTime<FixedOffset>,
    /// Subject id.
    pub subject_id: String,
    /// Deterministic clock jitter of the raw timestamps, ± seconds (0 for exactly regular).
    pub timestamp_jitter_s: f64,
    /// Deterministic jitter of the video frame times, ± seconds.
    pub frame_jitter_s: f64,
}

impl Default for SyntheticParams {
    fn default() -> Self {
        SyntheticParams {
            duration_s: 10.0,
            sampling_rate: 30000.0,
            n_channels: 8,
            n_groups: 2,
            seed: 1,
            compression: Compression::Gzip {
                rows: 30000,
                level: 4,
                shuffle: false,
            },
            gap: None,
            n_units: 4,
            ripple_burst_spikes: 0,
            firing_rate_hz: 8.0,
            spike_amplitude_uv: 200.0,
            theta_hz: 8.0,
            theta_amplitude_uv: 100.0,
            ripple_hz: 180.0,
            ripple_amplitude_uv: 60.0,
            ripple_rate_hz: 0.5,
            ripple_sd_s: 0.015,
            ripple_stillness_s: 1.0,
            noise_uv: 10.0,
            conversion: 0.195e-6,
            n_epochs: 2,
            position_rate: 30.0,
            meters_per_pixel: 0.001,
            session_start: FixedOffset::east_opt(0)
                .and_then(|z| z.with_ymd_and_hms(2023, 6, 22, 9, 0, 0).single())
                .unwrap_or_else(|| chrono::Utc::now().fixed_offset()),
            subject_id: "synth01".into(),
            timestamp_jitter_s: 1e-6,
            frame_jitter_s: 0.002,
        }
    }
}

impl SyntheticParams {
    /// The session `spyglass demo` writes and its tests check: 20 s of 4 channels
    /// on one shank at 30 kHz with 2 units, theta, 10 ripples and two epochs of
    /// two-LED position.
    pub fn demo() -> SyntheticParams {
        SyntheticParams {
            duration_s: 20.0,
            n_channels: 4,
            n_groups: 1,
            n_units: 2,
            ..SyntheticParams::default()
        }
    }
}

/// A unit's embedded spikes.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitTruth {
    /// Unit number.
    pub id: usize,
    /// Channel with the largest waveform.
    pub channel: usize,
    /// Electrode group (shank) of that channel.
    pub group: usize,
    /// Trough amplitude on the home channel, µV (negative-going).
    pub amplitude_uv: f64,
    /// Sample index of each spike's trough.
    pub spike_samples: Vec<usize>,
    /// Time (from the timestamps) of each spike's trough, seconds.
    pub spike_times: Vec<f64>,
}

/// An oscillation present on every channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Oscillation {
    /// Frequency, Hz.
    pub freq_hz: f64,
    /// Peak amplitude, µV.
    pub amplitude_uv: f64,
}

/// Ripple bursts: Gaussian-enveloped sinusoids.
#[derive(Clone, Debug, PartialEq)]
pub struct RippleTruth {
    /// Carrier frequency, Hz.
    pub freq_hz: f64,
    /// Peak amplitude, µV.
    pub amplitude_uv: f64,
    /// Envelope standard deviation, seconds.
    pub sd_s: f64,
    /// Burst centres, seconds (file time base): the injected ripples, the truth a
    /// detector is checked against.
    pub times: Vec<f64>,
    /// When the animal stands still, `[start, stop]` seconds (merged, sorted): a
    /// window of `ripple_stillness_s` centred on each ripple.
    pub still: Vec<[f64; 2]>,
}

impl RippleTruth {
    /// Each injected ripple's extent, `[centre − k·sd, centre + k·sd]` seconds (its
    /// envelope is above `exp(−k²/2)` of the peak inside).
    pub fn extents(&self, k: f64) -> Vec<[f64; 2]> {
        let half = k * self.sd_s;
        self.times.iter().map(|&c| [c - half, c + half]).collect()
    }
}

/// Position of one epoch (both LEDs), in meters.
#[derive(Clone, Debug, PartialEq)]
pub struct PositionTruth {
    /// Epoch tag.
    pub epoch: String,
    /// Sample times, seconds.
    pub timestamps: Vec<f64>,
    /// LED 0 `[x, y]` per sample, meters.
    pub led0: Vec<[f64; 2]>,
    /// LED 1 `[x, y]` per sample, meters.
    pub led1: Vec<[f64; 2]>,
}

/// What the synthetic file contains, for checking pipelines against it.
#[derive(Clone, Debug, PartialEq)]
pub struct GroundTruth {
    /// Path of the raw ElectricalSeries.
    pub raw_series: String,
    /// Object id of the raw ElectricalSeries.
    pub raw_object_id: String,
    /// Raw sampling rate, Hz.
    pub sampling_rate: f64,
    /// Number of raw samples.
    pub n_samples: usize,
    /// Number of channels.
    pub n_channels: usize,
    /// Volts per stored step.
    pub conversion: f64,
    /// White noise standard deviation, µV.
    pub noise_uv: f64,
    /// `(first sample after the gap, gap length in seconds)`.
    pub gap: Option<(usize, f64)>,
    /// Seed (the timestamp jitter derives from it).
    pub seed: u64,
    /// Timestamp jitter amplitude, seconds.
    pub timestamp_jitter_s: f64,
    /// The units.
    pub units: Vec<UnitTruth>,
    /// Theta.
    pub theta: Oscillation,
    /// Ripples.
    pub ripples: RippleTruth,
    /// `(tag, start, stop)` of each epoch.
    pub epochs: Vec<(String, f64, f64)>,
    /// Position per epoch.
    pub position: Vec<PositionTruth>,
}

impl GroundTruth {
    /// Timestamp of sample `i` (as stored in the file).
    pub fn time_of(&self, i: usize) -> f64 {
        sample_time(
            self.sampling_rate,
            self.gap,
            self.seed,
            self.timestamp_jitter_s,
            i,
        )
    }
}

/// Timestamp of sample `i`: `i / fs`, plus the gap after it, plus a deterministic jitter.
fn sample_time(fs: f64, gap: Option<(usize, f64)>, seed: u64, jitter: f64, i: usize) -> f64 {
    let mut t = i as f64 / fs;
    if let Some((g, d)) = gap {
        if i >= g {
            t += d;
        }
    }
    if jitter > 0.0 {
        let u = (mix(seed, 7, i as u64) % 2_000_001) as f64 / 1_000_000.0 - 1.0;
        t += jitter * u;
    }
    t
}

/// Deterministic 64-bit mix of the seed with stream numbers (splitmix64).
fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn gauss(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// Spike waveform (µV per µV of amplitude) at `dt` seconds from the trough.
fn waveform(dt: f64) -> f64 {
    let trough = -(-(dt * dt) / (2.0 * 0.00015f64.powi(2))).exp();
    let d2 = dt - 0.0005;
    let rebound = 0.35 * (-(d2 * d2) / (2.0 * 0.0003f64.powi(2))).exp();
    trough + rebound
}

struct Model<'a> {
    p: &'a SyntheticParams,
    units: Vec<UnitTruth>,
    ripples: Vec<f64>,
    per_group: usize,
    n_samples: usize,
    gap: Option<(usize, f64)>,
}

impl Model<'_> {
    fn time_of(&self, i: usize) -> f64 {
        sample_time(
            self.p.sampling_rate,
            self.gap,
            self.p.seed,
            self.p.timestamp_jitter_s,
            i,
        )
    }

    /// µV contribution of unit `u` on channel `c` relative to its home amplitude.
    fn spatial_gain(&self, u: &UnitTruth, c: usize) -> f64 {
        if c / self.per_group != u.group {
            return 0.0;
        }
        let d = c.abs_diff(u.channel) as f64;
        (-d / 1.2).exp()
    }

    /// One second (`sec`) of channel `c`, in µV, samples `[sec*fs, (sec+1)*fs) ∩ [0, n)`.
    fn second(&self, c: usize, sec: usize) -> Vec<f64> {
        let fs = self.p.sampling_rate;
        let per_sec = fs.round() as usize;
        let i0 = sec * per_sec;
        let i1 = ((sec + 1) * per_sec).min(self.n_samples);
        let mut rng = rand::rngs::StdRng::seed_from_u64(mix(self.p.seed, 1 + c as u64, sec as u64));
        let mut out = Vec::with_capacity(i1.saturating_sub(i0));
        for i in i0..i1 {
            let t = self.time_of(i);
            let mut v = self.p.theta_amplitude_uv * (2.0 * PI * self.p.theta_hz * t).sin();
            v += self.p.noise_uv * gauss(&mut rng);
            out.push(v);
        }
        // Ripples (limited to ±5 sd around each centre).
        let t0 = self.time_of(i0);
        let t1 = self.time_of(i1.saturating_sub(1).max(i0));
        let sd = self.p.ripple_sd_s;
        for &rc in &self.ripples {
            if rc + 5.0 * sd < t0 || rc - 5.0 * sd > t1 {
                continue;
            }
            for (k, v) in out.iter_mut().enumerate() {
                let dt = self.time_of(i0 + k) - rc;
                if dt.abs() <= 5.0 * sd {
                    *v += self.p.ripple_amplitude_uv
                        * (-(dt * dt) / (2.0 * sd * sd)).exp()
                        * (2.0 * PI * self.p.ripple_hz * dt).sin();
                }
            }
        }
        // Spikes: ±2 ms windows around each trough.
        let half = (0.002 * fs).ceil() as usize;
        for u in &self.units {
            let gain = self.spatial_gain(u, c);
            if gain == 0.0 {
                continue;
            }
            let a = u.amplitude_uv * gain;
            let lo = u.spike_samples.partition_point(|&s| s + half < i0);
            for &s in &u.spike_samples[lo..] {
                if s >= i1 + half {
                    break;
                }
                let from = s.saturating_sub(half).max(i0);
                let to = (s + half + 1).min(i1);
                for i in from..to {
                    let dt = (i as f64 - s as f64) / fs;
                    out[i - i0] += a * waveform(dt);
                }
            }
        }
        out
    }

    /// Time-major int16 block of rows `[r0, r1)`.
    fn block(&self, r0: usize, r1: usize) -> Vec<i16> {
        let c_n = self.p.n_channels;
        let per_sec = self.p.sampling_rate.round() as usize;
        let to_bits = 1e-6 / self.p.conversion;
        let cols: Vec<Vec<i16>> = (0..c_n)
            .into_par_iter()
            .map(|c| {
                let mut col = Vec::with_capacity(r1 - r0);
                let mut sec = r0 / per_sec;
                while sec * per_sec < r1 {
                    let s = self.second(c, sec);
                    let base = sec * per_sec;
                    for (k, v) in s.iter().enumerate() {
                        let i = base + k;
                        if i >= r0 && i < r1 {
                            col.push(
                                (v * to_bits)
                                    .round()
                                    .clamp(i16::MIN as f64, i16::MAX as f64)
                                    as i16,
                            );
                        }
                    }
                    sec += 1;
                }
                col
            })
            .collect();
        let mut out = vec![0i16; (r1 - r0) * c_n];
        for (c, col) in cols.iter().enumerate() {
            for (t, &x) in col.iter().enumerate() {
                out[t * c_n + c] = x;
            }
        }
        out
    }
}

fn check(p: &SyntheticParams) -> Result<()> {
    let bad = |m: &str| Err(NwbError::InvalidArgument(format!("synthetic session: {m}")));
    if !(p.duration_s > 0.0 && p.duration_s.is_finite()) {
        return bad("duration must be positive");
    }
    if !(p.sampling_rate >= 1.0 && p.sampling_rate.fract() == 0.0) {
        return bad("sampling rate must be a positive whole number of Hz");
    }
    if p.n_channels == 0 || p.n_groups == 0 || p.n_channels % p.n_groups != 0 {
        return bad("n_groups must divide n_channels (and both be > 0)");
    }
    if p.n_epochs == 0 {
        return bad("at least one epoch is needed");
    }
    if !(p.ripple_stillness_s >= 0.0 && p.ripple_stillness_s.is_finite()) {
        return bad("the stillness around ripples must be zero or a positive duration");
    }
    if !(p.timestamp_jitter_s >= 0.0 && p.timestamp_jitter_s < 0.4 / p.sampling_rate) {
        return bad("timestamp jitter must be below 0.4 sample periods");
    }
    if !(p.conversion > 0.0 && p.position_rate > 0.0 && p.meters_per_pixel > 0.0) {
        return bad("conversion, position rate and meters per pixel must be positive");
    }
    if let Some((at, len)) = p.gap {
        if !(at > 0.0 && at < p.duration_s && len > 0.0) {
            return bad("the gap must start inside the recording and have positive length");
        }
    }
    Ok(())
}

/// The sample index of each ripple's centre: evenly spaced slots over the recording.
fn ripple_samples(p: &SyntheticParams, n_samples: usize) -> Vec<usize> {
    let n_ripples = (p.ripple_rate_hz * p.duration_s).floor() as usize;
    (0..n_ripples)
        .map(|k| {
            let slot = (k as f64 + 0.5) / n_ripples as f64;
            ((slot * n_samples as f64) as usize).min(n_samples.saturating_sub(1))
        })
        .collect()
}

/// Writes a synthetic session to `path` and returns its ground truth.
pub fn write_session(path: impl AsRef<Path>, p: &SyntheticParams) -> Result<GroundTruth> {
    check(p)?;
    let path = path.as_ref();
    let fs = p.sampling_rate;
    let n_samples = (p.duration_s * fs).round() as usize;
    let gap = p
        .gap
        .map(|(at, len)| (((at * fs).round() as usize).min(n_samples), len));
    let per_group = p.n_channels / p.n_groups;
    let mut rng = rand::rngs::StdRng::seed_from_u64(mix(p.seed, 0, 0));

    // Units: home channels spread over the channels; Poisson trains with a 3 ms refractory period.
    let mut units = Vec::with_capacity(p.n_units);
    for u in 0..p.n_units {
        let channel = (u * p.n_channels / p.n_units.max(1) + u % per_group.max(1)) % p.n_channels;
        let amplitude = p.spike_amplitude_uv * (1.0 - 0.1 * (u % 5) as f64);
        let mut samples = vec![];
        let mut t = 0.0f64;
        loop {
            let u01: f64 = rng.random::<f64>().max(1e-12);
            t += 0.003 + (-u01.ln()) / p.firing_rate_hz.max(1e-9);
            let s = (t * fs).round() as usize;
            if s + (0.003 * fs) as usize >= n_samples {
                break;
            }
            samples.push(s);
        }
        if p.ripple_burst_spikes > 0 {
            let k = p.ripple_burst_spikes;
            let refractory = (0.003 * fs) as usize;
            let mut burst = vec![];
            for c in ripple_samples(p, n_samples) {
                for j in 0..k {
                    // spread over ±1.5 σ, units shifted by 0.7 ms from each other
                    let frac = if k == 1 {
                        0.0
                    } else {
                        j as f64 / (k - 1) as f64 - 0.5
                    };
                    let dt = 3.0 * p.ripple_sd_s * frac + 0.0007 * u as f64;
                    let s = c as f64 + dt * fs;
                    if s >= 0.0 && (s as usize) + refractory < n_samples {
                        burst.push(s.round() as usize);
                    }
                }
            }
            samples.retain(|s| burst.iter().all(|b| s.abs_diff(*b) > refractory));
            samples.extend(burst);
            samples.sort_unstable();
            samples.dedup();
        }
        units.push(UnitTruth {
            id: u,
            channel,
            group: channel / per_group,
            amplitude_uv: amplitude,
            spike_samples: samples,
            spike_times: vec![],
        });
    }
    let time_of = |i: usize| -> f64 { sample_time(fs, gap, p.seed, p.timestamp_jitter_s, i) };
    for u in &mut units {
        u.spike_times = u.spike_samples.iter().map(|&s| time_of(s)).collect();
    }
    let t_end = time_of(n_samples.saturating_sub(1)) + 1.0 / fs;
    let ripples: Vec<f64> = ripple_samples(p, n_samples)
        .into_iter()
        .map(time_of)
        .collect();
    let still = stillness(&ripples, p.ripple_stillness_s);
    let model = Model {
        p,
        units,
        ripples,
        per_group,
        n_samples,
        gap,
    };

    let file = crate::h5::create(path)?;
    let w = W {
        file,
        path: path.to_path_buf(),
    };
    let meta = FileMetadata {
        identifier: format!("synthetic-{}-{}", p.subject_id, p.seed),
        session_description: "synthetic session with known ground truth".into(),
        session_start_time: p.session_start,
        timestamps_reference_time: p.session_start,
        file_create_date: vec![p
            .session_start
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)],
        experimenter: vec!["Synthetic, Sam".into()],
        institution: Some("Spyglass-rs Test Institute".into()),
        lab: Some("Synthetic Lab".into()),
        experiment_description: Some("spikes, theta and ripples of known amplitude".into()),
        session_id: Some(format!("{}_{}", p.subject_id, p.seed)),
        keywords: vec!["synthetic".into(), "hippocampus".into()],
        related_publications: vec![],
        notes: None,
        source_script: None,
        nwb_version: spec::NWB_VERSION.into(),
        object_id: String::new(),
    };
    w.root_metadata(&meta)?;
    w.subject(&Subject {
        subject_id: Some(p.subject_id.clone()),
        species: Some("Rattus norvegicus".into()),
        sex: Some("M".into()),
        age: Some("P90D".into()),
        age_reference: Some("birth".into()),
        description: Some("synthetic rat".into()),
        genotype: Some("wild type".into()),
        weight: Some("0.45 kg".into()),
        ..Subject::default()
    })?;
    write_hardware(&w, p, per_group)?;

    // Raw data.
    let ts: Vec<f64> = (0..n_samples).map(time_of).collect();
    let acq = w.ensure_group("/acquisition")?;
    let raw_object_id = write_raw(&w, &acq, p, &model, n_samples, ts)?;

    // Epochs, position, tasks, associated files.
    let mut epochs = vec![];
    let mut position = vec![];
    let (mut s_k, mut r_k) = (0, 0);
    let ep_len = t_end / p.n_epochs as f64;
    for e in 0..p.n_epochs {
        let tag = if e % 2 == 0 {
            s_k += 1;
            format!("{:02}_s{}", e + 1, s_k)
        } else {
            r_k += 1;
            format!("{:02}_r{}", e + 1, r_k)
        };
        epochs.push((tag, e as f64 * ep_len, (e + 1) as f64 * ep_len));
    }
    w.time_intervals(&TimeIntervalsSpec {
        name: "epochs".into(),
        description: "experimental epochs".into(),
        start_time: epochs.iter().map(|e| e.1).collect(),
        stop_time: epochs.iter().map(|e| e.2).collect(),
        tags: Some(epochs.iter().map(|e| vec![e.0.clone()]).collect()),
        columns: vec![],
    })?;
    let pos_group = w.placement_group(&Placement::container(
        "behavior", "behavior", "Position", "position",
    ))?;
    for (e, (tag, t0, t1)) in epochs.iter().enumerate() {
        let n = (((t1 - t0) * p.position_rate).floor() as usize).max(2);
        let stamps: Vec<f64> = (0..n)
            .map(|k| {
                let u =
                    (mix(p.seed, 8 + e as u64, k as u64) % 2_000_001) as f64 / 1_000_000.0 - 1.0;
                let jitter = if k == 0 {
                    0.0
                } else {
                    p.frame_jitter_s.min(0.4 / p.position_rate) * u
                };
                t0 + k as f64 / p.position_rate + jitter
            })
            .collect();
        let (mut led0, mut led1) = (vec![], vec![]);
        for &t in &stamps {
            // A circular track of radius 0.3 m around (0.5, 0.5) m, one lap in 20 s of
            // running (9.4 cm/s); the animal stops while `still`. LED 1 leads LED 0 by 4 cm.
            let stopped: f64 = still
                .iter()
                .map(|w| (t - w[0]).clamp(0.0, w[1] - w[0]))
                .sum();
            let a = 2.0 * PI * 0.05 * (t - stopped) + e as f64;
            let (x, y) = (0.5 + 0.3 * a.cos(), 0.5 + 0.3 * a.sin());
            let (hx, hy) = (-a.sin(), a.cos());
            led0.push([x, y]);
            led1.push([x + 0.04 * hx, y + 0.04 * hy]);
        }
        for (l, led) in [&led0, &led1].into_iter().enumerate() {
            let px: Vec<f64> = led
                .iter()
                .flat_map(|xy| [xy[0] / p.meters_per_pixel, xy[1] / p.meters_per_pixel])
                .collect();
            w.time_series(
                &pos_group,
                &TimeSeriesSpec {
                    name: format!("led_{l}_series_{}", e + 1),
                    neurodata_type: "SpatialSeries".into(),
                    description: "xloc, yloc".into(),
                    shape: vec![n, 2],
                    data: SeriesData::F64(px),
                    unit: "meters".into(),
                    conversion: p.meters_per_pixel,
                    timing: TimingSpec::Timestamps(stamps.clone()),
                    reference_frame: Some("upper left corner of video frame".into()),
                    ..TimeSeriesSpec::default()
                },
                "SpatialSeries",
            )?;
        }
        position.push(PositionTruth {
            epoch: tag.clone(),
            timestamps: stamps,
            led0,
            led1,
        });
    }
    let tasks = w.placement_group(&Placement::module(
        "tasks",
        "Contains all tasks information",
    ))?;
    for (k, (name, env, letter)) in [("sleep", "sleep box", 's'), ("run", "linear track", 'r')]
        .iter()
        .enumerate()
    {
        let eps: Vec<i64> = epochs
            .iter()
            .enumerate()
            .filter(|(_, e)| e.0.chars().nth(3) == Some(*letter))
            .map(|(i, _)| i as i64 + 1)
            .collect();
        if eps.is_empty() {
            continue;
        }
        w.table(
            &tasks,
            &format!("task_{k}"),
            "hdmf-common",
            "DynamicTable",
            "task",
            &[0],
            &[
                ColumnSpec::text("task_name", "the name of the task", vec![(*name).into()]),
                ColumnSpec::text(
                    "task_description",
                    "a description of the task",
                    vec![format!("{name} task")],
                ),
                ColumnSpec::ragged_i64(
                    "camera_id",
                    "the ID number of the camera used for video",
                    vec![vec![0]],
                ),
                ColumnSpec::ragged_i64(
                    "task_epochs",
                    "the temporal epochs where the animal was exposed to this task",
                    vec![eps],
                ),
                ColumnSpec::text(
                    "task_environment",
                    "the environment the animal was in",
                    vec![(*env).into()],
                ),
            ],
        )?;
    }
    let af = w.placement_group(&Placement::module(
        "associated_files",
        "files associated with the session",
    ))?;
    let (afg, _) = w.typed_group(
        &af,
        "statescript_r1",
        "ndx-franklab-novela",
        "AssociatedFiles",
    )?;
    w.attr_str(&afg, "description", "statescript log of the run epoch")?;
    w.attr_str(&afg, "content", "# synthetic statescript\n0 UP 1\n")?;
    w.attr_str(&afg, "task_epochs", "2")?;

    let mut namespaces: Vec<&str> = spec::BASE_NAMESPACES.to_vec();
    namespaces.extend_from_slice(spec::NOVELA_NAMESPACES);
    spec::cache_specs(&w.file, &namespaces)?;
    w.file.flush().map_err(w.e("/"))?;

    Ok(GroundTruth {
        raw_series: "/acquisition/e-series".into(),
        raw_object_id,
        sampling_rate: fs,
        n_samples,
        n_channels: p.n_channels,
        conversion: p.conversion,
        noise_uv: p.noise_uv,
        gap,
        seed: p.seed,
        timestamp_jitter_s: p.timestamp_jitter_s,
        units: model.units,
        theta: Oscillation {
            freq_hz: p.theta_hz,
            amplitude_uv: p.theta_amplitude_uv,
        },
        ripples: RippleTruth {
            freq_hz: p.ripple_hz,
            amplitude_uv: p.ripple_amplitude_uv,
            sd_s: p.ripple_sd_s,
            times: model.ripples,
            still,
        },
        epochs,
        position,
    })
}

/// The windows of `length` seconds centred on each of `times` (sorted), merged
/// where they overlap.
fn stillness(times: &[f64], length: f64) -> Vec<[f64; 2]> {
    let mut out: Vec<[f64; 2]> = vec![];
    if length <= 0.0 {
        return out;
    }
    for &c in times {
        let w = [c - length / 2.0, c + length / 2.0];
        match out.last_mut() {
            Some(last) if w[0] <= last[1] => last[1] = last[1].max(w[1]),
            _ => out.push(w),
        }
    }
    out
}

fn write_hardware(w: &W, p: &SyntheticParams, per_group: usize) -> Result<()> {
    let devices = w.ensure_group("/general/devices")?;
    let (daq, _) = w.typed_group(
        &devices,
        "dataacq_device0",
        "ndx-franklab-novela",
        "DataAcqDevice",
    )?;
    w.attr_str(&daq, "description", "synthetic acquisition system")?;
    w.attr_str(&daq, "system", "SpikeGadgets")?;
    w.attr_str(&daq, "amplifier", "Intan")?;
    w.attr_str(&daq, "adc_circuit", "Intan")?;
    let (cam, _) = w.typed_group(
        &devices,
        "camera_device 0",
        "ndx-franklab-novela",
        "CameraDevice",
    )?;
    w.attr_str(&cam, "description", "overhead camera")?;
    // NWB 2.9: the camera's make is a DeviceModel the camera links as `model` (the
    // form Spyglass 0.6 requires; a `manufacturer` attribute alone it refuses)
    let models = w.ensure_group("/general/devices/models")?;
    let (model, _) = w.typed_group(&models, "overhead camera model", "core", "DeviceModel")?;
    w.attr_str(&model, "description", "the overhead camera's model")?;
    w.attr_str(&model, "manufacturer", "Allied Vision")?;
    cam.link_soft("/general/devices/models/overhead camera model", "model")
        .map_err(w.e("/general/devices/camera_device 0/model"))?;
    w.attr_f64(&cam, "meters_per_pixel", p.meters_per_pixel)?;
    w.attr_str(&cam, "camera_name", "overhead")?;
    w.attr_str(&cam, "lens", "fisheye")?;
    w.attr_f64(&cam, "frame_rate", p.position_rate)?;
    let probe_type = format!("synthetic_{}shank_{}ch", p.n_groups, p.n_channels);
    let (probe, _) = w.typed_group(&devices, "probe 0", "ndx-franklab-novela", "Probe")?;
    w.attr_str(&probe, "description", "synthetic silicon probe")?;
    w.attr_str(&probe, "manufacturer", "synthetic")?;
    w.attr_i64(&probe, "id", 0)?;
    w.attr_str(&probe, "probe_type", &probe_type)?;
    w.attr_str(&probe, "units", "um")?;
    w.attr_str(
        &probe,
        "probe_description",
        "a synthetic probe with one shank per electrode group",
    )?;
    w.attr_f64(&probe, "contact_size", 15.0)?;
    w.attr_bool(&probe, "contact_side_numbering", true)?;
    for s in 0..p.n_groups {
        let (shank, _) = w.typed_group(&probe, &s.to_string(), "ndx-franklab-novela", "Shank")?;
        w.attr_str(&shank, "name", &s.to_string())?;
        for k in 0..per_group {
            let e = s * per_group + k;
            let (el, _) = w.typed_group(
                &shank,
                &e.to_string(),
                "ndx-franklab-novela",
                "ShanksElectrode",
            )?;
            w.attr_str(&el, "name", &e.to_string())?;
            w.attr_f64(&el, "rel_x", 250.0 * s as f64)?;
            w.attr_f64(&el, "rel_y", 20.0 * k as f64)?;
            w.attr_f64(&el, "rel_z", 0.0)?;
        }
    }
    let ecephys = w.ensure_group("/general/extracellular_ephys")?;
    for s in 0..p.n_groups {
        let (g, _) = w.typed_group(
            &ecephys,
            &s.to_string(),
            "ndx-franklab-novela",
            "NwbElectrodeGroup",
        )?;
        w.attr_str(&g, "description", &format!("shank {s}"))?;
        w.attr_str(&g, "location", "CA1")?;
        w.attr_str(&g, "targeted_location", "CA1")?;
        w.attr_f64(&g, "targeted_x", if s % 2 == 0 { 2.6 } else { -2.6 })?;
        w.attr_f64(&g, "targeted_y", -3.8)?;
        w.attr_f64(&g, "targeted_z", 2.2)?;
        w.attr_str(&g, "units", "mm")?;
        g.link_soft("/general/devices/probe 0", "device")
            .map_err(w.e("device"))?;
    }
    let n = p.n_channels;
    let group_of = |c: usize| c / per_group;
    let cols = vec![
        ColumnSpec::text(
            "location",
            "Location of the electrode (channel).",
            vec!["CA1".into(); n],
        ),
        ColumnSpec::references(
            "group",
            "Reference to the ElectrodeGroup.",
            (0..n)
                .map(|c| format!("/general/extracellular_ephys/{}", group_of(c)))
                .collect(),
        ),
        ColumnSpec::text(
            "group_name",
            "Name of the ElectrodeGroup.",
            (0..n).map(|c| group_of(c).to_string()).collect(),
        ),
        ColumnSpec::f64(
            "x",
            "x coordinate of the channel location in the brain.",
            (0..n).map(|c| 250.0 * group_of(c) as f64).collect(),
        ),
        ColumnSpec::f64(
            "y",
            "y coordinate of the channel location in the brain.",
            (0..n).map(|c| 20.0 * (c % per_group) as f64).collect(),
        ),
        ColumnSpec::f64(
            "z",
            "z coordinate of the channel location in the brain.",
            vec![0.0; n],
        ),
        ColumnSpec::f64("imp", "Impedance of the channel, in ohms.", vec![1.0e6; n]),
        ColumnSpec::text(
            "filtering",
            "Description of hardware filtering.",
            vec!["none".into(); n],
        ),
        ColumnSpec::i64(
            "probe_shank",
            "shank of the probe",
            (0..n).map(|c| group_of(c) as i64).collect(),
        ),
        ColumnSpec::i64(
            "probe_electrode",
            "electrode on the probe",
            (0..n as i64).collect(),
        ),
        ColumnSpec {
            values: Values::Bool(vec![false; n]),
            ..ColumnSpec::bool("bad_channel", "whether the channel is bad", vec![])
        },
        ColumnSpec::i64("ref_elect_id", "reference electrode id", vec![-1; n]),
    ];
    w.table(
        &ecephys,
        "electrodes",
        "core",
        "ElectrodesTable",
        "metadata about extracellular electrodes",
        &(0..n as i64).collect::<Vec<_>>(),
        &cols,
    )?;
    Ok(())
}

fn write_raw(
    w: &W,
    acq: &Group,
    p: &SyntheticParams,
    model: &Model,
    n: usize,
    ts: Vec<f64>,
) -> Result<String> {
    let c = p.n_channels;
    // Metadata and timestamps through the shared writer, with a placeholder data block.
    let placeholder_rows = n.min(1);
    let spec = ElectricalSeriesSpec {
        series: TimeSeriesSpec {
            name: "e-series".into(),
            description: "synthetic raw recording".into(),
            comments: "spikes, theta and ripples with known amplitudes".into(),
            data: SeriesData::I16(vec![0; placeholder_rows * c]),
            shape: vec![placeholder_rows, c],
            conversion: p.conversion,
            timing: TimingSpec::Timestamps(ts[..placeholder_rows].to_vec()),
            ..TimeSeriesSpec::default()
        },
        electrodes: (0..c as i64).collect(),
        electrodes_description: "all electrodes".into(),
        filtering: Some("none".into()),
        channel_conversion: None,
    };
    let id = w.electrical_series(acq, &spec)?;
    let g = acq
        .group("e-series")
        .map_err(w.e("/acquisition/e-series"))?;
    // Replace data and timestamps by the full-size datasets.
    for name in ["data", "timestamps"] {
        g.unlink(name).map_err(w.e(name))?;
    }
    let t = w.numeric(
        &g,
        "timestamps",
        &ts,
        &[n],
        match p.compression {
            Compression::Contiguous => Compression::Contiguous,
            Compression::Chunked { rows } | Compression::Gzip { rows, .. } => {
                Compression::Chunked { rows }
            }
        },
    )?;
    w.attr_i64(&t, "interval", 1)?;
    w.attr_str(&t, "unit", "seconds")?;
    let obj = "/acquisition/e-series/data";
    let rows = match p.compression {
        Compression::Contiguous => p.sampling_rate.round() as usize,
        Compression::Chunked { rows } | Compression::Gzip { rows, .. } => rows.clamp(1, n.max(1)),
    };
    let mut b = g.new_dataset::<i16>().shape(vec![n, c]);
    if !matches!(p.compression, Compression::Contiguous) {
        b = b.chunk(vec![rows, c]);
    }
    if let Compression::Gzip { level, shuffle, .. } = p.compression {
        if shuffle {
            b = b.shuffle();
        }
        b = b.deflate(level.min(9));
    }
    let d = b.create("data").map_err(w.e(obj))?;
    w.attr_f64(&d, "conversion", p.conversion)?;
    w.attr_f64(&d, "offset", 0.0)?;
    w.attr_f64(&d, "resolution", -1.0)?;
    w.attr_str(&d, "unit", "volts")?;
    let n_blocks = n.div_ceil(rows);
    match p.compression {
        Compression::Gzip { level, shuffle, .. } => {
            // Compress chunks in parallel, write them with direct chunk writes in order.
            let batch = rayon::current_num_threads().max(1) * 2;
            let mut b0 = 0;
            while b0 < n_blocks {
                let b1 = (b0 + batch).min(n_blocks);
                let compressed: Vec<(usize, Vec<u8>)> = (b0..b1)
                    .into_par_iter()
                    .map(|blk| {
                        let r0 = blk * rows;
                        let r1 = ((blk + 1) * rows).min(n);
                        let mut vals = model.block(r0, r1);
                        vals.resize(rows * c, 0); // edge chunks are stored full size
                        let mut bytes: Vec<u8> =
                            vals.iter().flat_map(|v| v.to_le_bytes()).collect();
                        if shuffle {
                            bytes = shuffle_bytes(&bytes, 2);
                        }
                        let mut enc = flate2::write::ZlibEncoder::new(
                            Vec::new(),
                            flate2::Compression::new(level.min(9) as u32),
                        );
                        use std::io::Write;
                        let out = enc
                            .write_all(&bytes)
                            .and_then(|_| enc.finish())
                            .unwrap_or_default();
                        (r0, out)
                    })
                    .collect();
                for (r0, bytes) in compressed {
                    if bytes.is_empty() {
                        return Err(NwbError::invalid(&w.path, obj, "chunk compression failed"));
                    }
                    write_chunk(w, &d, [r0 as u64, 0], &bytes, obj)?;
                }
                b0 = b1;
            }
        }
        _ => {
            for blk in 0..n_blocks {
                let r0 = blk * rows;
                let r1 = ((blk + 1) * rows).min(n);
                let vals = model.block(r0, r1);
                let arr = ndarray::Array2::from_shape_vec((r1 - r0, c), vals)
                    .map_err(|e| NwbError::invalid(&w.path, obj, e.to_string()))?;
                d.write_slice(&arr, ndarray::s![r0..r1, ..])
                    .map_err(w.e(obj))?;
            }
        }
    }
    Ok(id)
}

fn shuffle_bytes(input: &[u8], size: usize) -> Vec<u8> {
    let n = input.len() / size;
    let mut out = vec![0u8; input.len()];
    for i in 0..n {
        for b in 0..size {
            out[b * n + i] = input[i * size + b];
        }
    }
    out[n * size..].copy_from_slice(&input[n * size..]);
    out
}

fn write_chunk(w: &W, d: &hdf5::Dataset, offset: [u64; 2], bytes: &[u8], obj: &str) -> Result<()> {
    use hdf5_sys::{h5d, h5p};
    let status = hdf5::sync::sync(|| unsafe {
        h5d::H5Dwrite_chunk(
            d.id(),
            h5p::H5P_DEFAULT,
            0,
            offset.as_ptr(),
            bytes.len(),
            bytes.as_ptr().cast(),
        )
    });
    if status < 0 {
        return Err(NwbError::invalid(
            &w.path,
            obj,
            format!("direct chunk write at {offset:?} failed"),
        ));
    }
    Ok(())
}

//! FIR filter design as Spyglass's `FirFilterParameters` does it.
//!
//! Spyglass designs every FIR filter with ghostipy's `firdesign`: a Type-I
//! (odd length, symmetric) linear-phase filter that is the least-squares (L2)
//! optimum for an ideal response whose transition bands are spline functions
//! (Burrus, Soewito & Gopinath 1992). Each transition `(f1, f2)` gives a
//! low-pass prototype
//!
//! ```text
//! h[0]  = wc / pi
//! h[±k] = sin(wc·k) / (pi·k) · (sin(dw·k/p) / (dw·k/p))^p      k = 1 … (N-1)/2
//! ```
//!
//! with `wc = pi·(f1+f2)/fs`, `dw = pi·(f2-f1)/fs` and spline power `p`
//! (Spyglass uses `p = 2`). High-pass, band-pass and band-stop responses are
//! sums and differences of prototypes and the unit impulse. The tap count comes
//! from [`estimate_taps`]. This module also carries Spyglass's standard filters
//! as data ([`STANDARD_FILTERS`], [`BAND_FILTERS`]).

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use crate::error::{DspError, Result};

/// Passband deviation δp used by Spyglass's tap estimate (0.1 %).
pub const DEFAULT_PASSBAND_DEVIATION: f64 = 1e-3;
/// Stopband deviation δs used by Spyglass's tap estimate (−120 dB amplitude, 1e-6).
pub const DEFAULT_STOPBAND_DEVIATION: f64 = 1e-6;
/// Spline power of the transition bands in Spyglass filters (quadratic).
pub const SPYGLASS_SPLINE_POWER: f64 = 2.0;

/// Estimates the odd number of taps for a transition width, with Spyglass's deviations.
///
/// `ceil(2/3 · log10(1 / (10·δp·δs)) · fs / tw)`, bumped to the next odd number;
/// e.g. 6401 taps for fs = 30 000 Hz and tw = 25 Hz.
pub fn estimate_taps(fs: f64, transition_width: f64) -> Result<usize> {
    estimate_taps_with(
        fs,
        transition_width,
        DEFAULT_PASSBAND_DEVIATION,
        DEFAULT_STOPBAND_DEVIATION,
    )
}

/// Estimates the odd number of taps with explicit pass/stop-band deviations.
pub fn estimate_taps_with(
    fs: f64,
    transition_width: f64,
    passband_deviation: f64,
    stopband_deviation: f64,
) -> Result<usize> {
    check_rate(fs)?;
    if !(transition_width.is_finite() && transition_width > 0.0) {
        return Err(DspError::InvalidTransitionWidth(transition_width));
    }
    for (name, d) in [
        ("passband_deviation", passband_deviation),
        ("stopband_deviation", stopband_deviation),
    ] {
        if !(d.is_finite() && d > 0.0) {
            return Err(DspError::InvalidParameter {
                name,
                reason: format!("{d} must be finite and > 0"),
            });
        }
    }
    // Same operation order as the reference so the ceiling lands identically.
    let estimate =
        2.0 / 3.0 * (1.0 / (10.0 * passband_deviation * stopband_deviation)).log10() * fs
            / transition_width;
    if !(estimate.is_finite() && estimate >= 1.0) {
        return Err(DspError::InvalidParameter {
            name: "passband_deviation",
            reason: format!("deviations give a tap estimate of {estimate}, below 1"),
        });
    }
    if estimate > (usize::MAX / 2) as f64 {
        return Err(DspError::InvalidParameter {
            name: "transition_width",
            reason: format!("tap estimate {estimate} is too large"),
        });
    }
    let mut n = estimate.ceil() as usize;
    if n % 2 == 0 {
        n += 1;
    }
    Ok(n)
}

/// Group delay in samples of a linear-phase filter with `ntaps` taps: `(ntaps - 1) / 2`.
pub fn group_delay(ntaps: usize) -> usize {
    ntaps.saturating_sub(1) / 2
}

fn check_rate(fs: f64) -> Result<()> {
    if fs.is_finite() && fs > 0.0 {
        Ok(())
    } else {
        Err(DspError::InvalidSamplingRate(fs))
    }
}

/// Low-pass spline-transition prototype with unit gain below `f1` and zero above `f2`.
fn spline_lowpass(numtaps: usize, f1: f64, f2: f64, fs: f64, p: Option<f64>) -> Vec<f64> {
    let nyq = fs / 2.0;
    let p = p.unwrap_or(0.312 * numtaps as f64 * (f2 - f1) / nyq);
    let to_rad = 1.0 / nyq * PI;
    let wo = (f1 + f2) / 2.0 * to_rad;
    let dw = (f2 - f1) / 2.0 * to_rad;
    let half = (numtaps - 1) / 2;
    let mut b = vec![0.0; numtaps];
    b[half] = wo / PI;
    for k in 1..=half {
        let n = k as f64;
        let mut h = (wo * n).sin() / (PI * n);
        let x = dw * n / p;
        let s = x.sin() / x;
        h *= if p == 2.0 { s * s } else { s.powf(p) };
        b[half + k] = h;
        b[half - k] = h;
    }
    b
}

/// Designs a Type-I FIR filter with spline transition bands, as ghostipy's `firdesign`.
///
/// `band_edges` (Hz, strictly increasing, inside (0, fs/2)) come in transition
/// pairs; `desired` gives the gain (0 or 1) at each edge, changing inside each
/// pair and constant between pairs. `spline_power = None` uses the Burrus et al.
/// estimate `0.312·N·(f2−f1)/nyq` per transition; Spyglass passes `Some(2.0)`.
pub fn firdesign(
    numtaps: usize,
    band_edges: &[f64],
    desired: &[f64],
    fs: f64,
    spline_power: Option<f64>,
) -> Result<Vec<f64>> {
    check_rate(fs)?;
    if numtaps == 0 || numtaps % 2 == 0 {
        return Err(DspError::InvalidTapCount(numtaps));
    }
    if let Some(p) = spline_power {
        if !(p.is_finite() && p > 0.0) {
            return Err(DspError::InvalidParameter {
                name: "spline_power",
                reason: format!("{p} must be finite and > 0"),
            });
        }
    }
    validate_edges(band_edges, desired, fs)?;

    let prototypes: Vec<Vec<f64>> = band_edges
        .chunks_exact(2)
        .map(|e| spline_lowpass(numtaps, e[0], e[1], fs, spline_power))
        .collect();
    let k = prototypes.len();
    let centre = (numtaps - 1) / 2;
    let impulse_minus = |v: &mut Vec<f64>| {
        for x in v.iter_mut() {
            *x = -*x;
        }
        v[centre] += 1.0;
    };
    // Adds pairwise differences (upper prototype − lower prototype) to `acc`.
    let add_pairs = |acc: &mut Vec<f64>, protos: &[Vec<f64>]| {
        for pair in protos.chunks_exact(2) {
            for ((a, hi), lo) in acc.iter_mut().zip(&pair[1]).zip(&pair[0]) {
                *a += hi - lo;
            }
        }
    };
    let first = desired[0] == 1.0;
    let last = desired[desired.len() - 1] == 1.0;
    let b = if k == 1 {
        let mut b = prototypes[0].clone();
        if last {
            impulse_minus(&mut b);
        }
        b
    } else if first == last {
        // Band-pass family (0 … 0) or band-stop family (1 … 1).
        let mut b = vec![0.0; numtaps];
        add_pairs(&mut b, &prototypes);
        if last {
            impulse_minus(&mut b);
        }
        b
    } else if !first {
        // Starts at 0, ends at 1: high-pass from the last transition plus band-passes.
        let mut special = prototypes[k - 1].clone();
        impulse_minus(&mut special);
        let mut b = vec![0.0; numtaps];
        add_pairs(&mut b, &prototypes[..k - 1]);
        for (a, s) in b.iter_mut().zip(&special) {
            *a += s;
        }
        b
    } else {
        // Starts at 1, ends at 0: low-pass from the first transition plus band-passes.
        let mut b = vec![0.0; numtaps];
        add_pairs(&mut b, &prototypes[1..]);
        for (a, s) in b.iter_mut().zip(&prototypes[0]) {
            *a += s;
        }
        b
    };
    Ok(b)
}

fn validate_edges(band_edges: &[f64], desired: &[f64], fs: f64) -> Result<()> {
    let bad = |msg: String| Err(DspError::InvalidBandEdges(msg));
    if band_edges.len() < 2 || band_edges.len() % 2 != 0 {
        return bad(format!(
            "need a positive even number of band edges, got {}",
            band_edges.len()
        ));
    }
    if band_edges.len() != desired.len() {
        return bad(format!(
            "{} band edges but {} desired gains",
            band_edges.len(),
            desired.len()
        ));
    }
    if let Some(i) = band_edges.iter().position(|e| !e.is_finite()) {
        return bad(format!("band edge {i} is not finite"));
    }
    if let Some(i) = desired.iter().position(|&d| d != 0.0 && d != 1.0) {
        return bad(format!(
            "desired gain {i} is {}, must be 0 or 1",
            desired[i]
        ));
    }
    if band_edges[0] <= 0.0 {
        return bad(format!("first band edge {} must be > 0", band_edges[0]));
    }
    let last = band_edges[band_edges.len() - 1];
    if last >= fs / 2.0 {
        return bad(format!(
            "last band edge {last} must be below the Nyquist frequency {}",
            fs / 2.0
        ));
    }
    if let Some(i) = band_edges.windows(2).position(|w| w[0] >= w[1]) {
        return bad(format!(
            "band edges must increase strictly: {} then {}",
            band_edges[i],
            band_edges[i + 1]
        ));
    }
    for (i, w) in desired.windows(2).enumerate() {
        let transition = i % 2 == 0;
        if transition && w[0] == w[1] {
            return bad(format!(
                "gain must change between {} Hz and {} Hz",
                band_edges[i],
                band_edges[i + 1]
            ));
        }
        if !transition && w[0] != w[1] {
            return bad(format!(
                "gain must stay constant between {} Hz and {} Hz",
                band_edges[i],
                band_edges[i + 1]
            ));
        }
    }
    Ok(())
}

/// Kind of frequency response, as Spyglass's `filter_type` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterType {
    /// Pass below the edge pair `[pass, stop]`.
    Lowpass,
    /// Pass above the edge pair `[stop, pass]`.
    Highpass,
    /// Pass between `[low_stop, low_pass, high_pass, high_stop]`.
    Bandpass,
    /// Stop between the inner edges of `[e0, e1, e2, e3]` (gains 1, 0, 0, 1).
    Bandstop,
}

impl FilterType {
    /// The name stored in Spyglass's `filter_type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterType::Lowpass => "lowpass",
            FilterType::Highpass => "highpass",
            FilterType::Bandpass => "bandpass",
            FilterType::Bandstop => "bandstop",
        }
    }

    /// Number of band edges this type takes (2 or 4).
    pub fn n_edges(self) -> usize {
        match self {
            FilterType::Lowpass | FilterType::Highpass => 2,
            FilterType::Bandpass | FilterType::Bandstop => 4,
        }
    }

    /// Desired gain at each band edge.
    pub fn desired(self) -> &'static [f64] {
        match self {
            FilterType::Lowpass => &[1.0, 0.0],
            FilterType::Highpass => &[0.0, 1.0],
            FilterType::Bandpass => &[0.0, 1.0, 1.0, 0.0],
            FilterType::Bandstop => &[1.0, 0.0, 0.0, 1.0],
        }
    }
}

impl fmt::Display for FilterType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FilterType {
    type Err = DspError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "lowpass" => Ok(FilterType::Lowpass),
            "highpass" => Ok(FilterType::Highpass),
            "bandpass" => Ok(FilterType::Bandpass),
            "bandstop" => Ok(FilterType::Bandstop),
            other => Err(DspError::InvalidParameter {
                name: "filter_type",
                reason: format!("`{other}` is not lowpass, highpass, bandpass or bandstop"),
            }),
        }
    }
}

/// A designed filter with the fields of a Spyglass `FirFilterParameters` row.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterDesign {
    /// Response type.
    pub filter_type: FilterType,
    /// Sampling rate the filter was designed for, Hz.
    pub sampling_rate: f64,
    /// Band edges as given, Hz.
    pub band_edges: Vec<f64>,
    /// `filter_low_stop` column (0 when unused).
    pub low_stop: f64,
    /// `filter_low_pass` column (0 when unused).
    pub low_pass: f64,
    /// `filter_high_pass` column (0 when unused).
    pub high_pass: f64,
    /// `filter_high_stop` column (0 when unused).
    pub high_stop: f64,
    /// Filter coefficients (`filter_coeff`), odd length, symmetric.
    pub coefficients: Vec<f64>,
}

impl FilterDesign {
    /// Number of taps.
    pub fn numtaps(&self) -> usize {
        self.coefficients.len()
    }

    /// Group delay in samples, `(numtaps - 1) / 2`.
    pub fn delay(&self) -> usize {
        group_delay(self.coefficients.len())
    }
}

/// Designs a filter exactly as `FirFilterParameters.add_filter` does.
///
/// Edges: lowpass `[pass, stop]`, highpass `[stop, pass]`, bandpass and bandstop
/// `[e0, e1, e2, e3]`. Transition width = `e1 − e0`, except bandpass where it is
/// the mean of both transitions (Spyglass's rule; bandstop uses only the first).
/// Taps from [`estimate_taps`], spline power 2.
pub fn design_filter(
    filter_type: FilterType,
    sampling_rate: f64,
    band_edges: &[f64],
) -> Result<FilterDesign> {
    check_rate(sampling_rate)?;
    if band_edges.len() != filter_type.n_edges() {
        return Err(DspError::InvalidBandEdges(format!(
            "a {filter_type} filter takes {} band edges, got {}",
            filter_type.n_edges(),
            band_edges.len()
        )));
    }
    if let Some(i) = band_edges.iter().position(|e| !e.is_finite()) {
        return Err(DspError::InvalidBandEdges(format!(
            "band edge {i} is not finite"
        )));
    }
    let e = band_edges;
    let transition_width = match filter_type {
        FilterType::Bandpass => ((e[1] - e[0]) + (e[3] - e[2])) / 2.0,
        _ => e[1] - e[0],
    };
    let numtaps = estimate_taps(sampling_rate, transition_width)?;
    let coefficients = firdesign(
        numtaps,
        band_edges,
        filter_type.desired(),
        sampling_rate,
        Some(SPYGLASS_SPLINE_POWER),
    )?;
    let (mut low_stop, mut low_pass, mut high_pass, mut high_stop) = (0.0, 0.0, 0.0, 0.0);
    match filter_type {
        FilterType::Lowpass => {
            high_pass = e[0];
            high_stop = e[1];
        }
        FilterType::Highpass => {
            low_stop = e[0];
            low_pass = e[1];
        }
        FilterType::Bandpass | FilterType::Bandstop => {
            low_stop = e[0];
            low_pass = e[1];
            high_pass = e[2];
            high_stop = e[3];
        }
    }
    Ok(FilterDesign {
        filter_type,
        sampling_rate,
        band_edges: band_edges.to_vec(),
        low_stop,
        low_pass,
        high_pass,
        high_stop,
        coefficients,
    })
}

/// A named filter definition (a `FirFilterParameters` row before design).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StandardFilter {
    /// `filter_name`.
    pub name: &'static str,
    /// `filter_sampling_rate`, Hz.
    pub sampling_rate: u32,
    /// `filter_type`.
    pub filter_type: FilterType,
    /// `filter_band_edges`, Hz.
    pub band_edges: &'static [f64],
    /// `filter_comments`.
    pub comments: &'static str,
}

impl StandardFilter {
    /// Designs the coefficients for this definition with [`design_filter`].
    pub fn design(&self) -> Result<FilterDesign> {
        design_filter(self.filter_type, self.sampling_rate as f64, self.band_edges)
    }
}

/// The filters Spyglass's `FirFilterParameters.create_standard_filters()` inserts.
pub const STANDARD_FILTERS: &[StandardFilter] = &[
    StandardFilter {
        name: "LFP 0-400 Hz",
        sampling_rate: 20_000,
        filter_type: FilterType::Lowpass,
        band_edges: &[400.0, 425.0],
        comments: "standard LFP filter for 20 KHz data",
    },
    StandardFilter {
        name: "LFP 0-400 Hz",
        sampling_rate: 30_000,
        filter_type: FilterType::Lowpass,
        band_edges: &[400.0, 425.0],
        comments: "standard LFP filter for 30 KHz data",
    },
];

/// Band filters for 1 kHz LFP that Spyglass's tutorials and test fixtures add (theta, ripple).
pub const BAND_FILTERS: &[StandardFilter] = &[
    StandardFilter {
        name: "Theta 5-11 Hz",
        sampling_rate: 1_000,
        filter_type: FilterType::Bandpass,
        band_edges: &[4.0, 5.0, 11.0, 12.0],
        comments: "theta filter for 1 Khz data",
    },
    StandardFilter {
        name: "Ripple 150-250 Hz",
        sampling_rate: 1_000,
        filter_type: FilterType::Bandpass,
        band_edges: &[140.0, 150.0, 250.0, 260.0],
        comments: "ripple band filter for 1 kHz data",
    },
];

/// All default filter definitions: [`STANDARD_FILTERS`] then [`BAND_FILTERS`].
pub fn default_filters() -> impl Iterator<Item = &'static StandardFilter> {
    STANDARD_FILTERS.iter().chain(BAND_FILTERS.iter())
}

/// Looks up a default filter definition by name and sampling rate.
pub fn find_default_filter(name: &str, sampling_rate: u32) -> Option<&'static StandardFilter> {
    default_filters().find(|f| f.name == name && f.sampling_rate == sampling_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_counts_of_spyglass_filters() {
        // Hand-derived: 2/3·8·fs/tw, ceiling, next odd.
        assert_eq!(estimate_taps(30_000.0, 25.0).unwrap(), 6401); // 6400 -> 6401
        assert_eq!(estimate_taps(20_000.0, 25.0).unwrap(), 4267); // 4266.67 -> 4267
        assert_eq!(estimate_taps(1_000.0, 1.0).unwrap(), 5335); // 5333.3 -> 5334 -> 5335
        assert_eq!(estimate_taps(1_000.0, 10.0).unwrap(), 535); // 533.3 -> 534 -> 535
        assert_eq!(estimate_taps(10.0, 1.0).unwrap(), 55); // Spyglass test: 53.3 -> 54 -> 55
        assert_eq!(group_delay(55), 27);
        assert_eq!(group_delay(6401), 3200);
    }

    #[test]
    fn design_matches_spyglass_row_fields() {
        let d = find_default_filter("LFP 0-400 Hz", 30_000)
            .unwrap()
            .design()
            .unwrap();
        assert_eq!(d.numtaps(), 6401);
        assert_eq!(d.delay(), 3200);
        assert_eq!(
            (d.high_pass, d.high_stop, d.low_stop, d.low_pass),
            (400.0, 425.0, 0.0, 0.0)
        );
        let t = find_default_filter("Theta 5-11 Hz", 1000)
            .unwrap()
            .design()
            .unwrap();
        assert_eq!(t.numtaps(), 5335);
        assert_eq!(
            (t.low_stop, t.low_pass, t.high_pass, t.high_stop),
            (4.0, 5.0, 11.0, 12.0)
        );
        let r = find_default_filter("Ripple 150-250 Hz", 1000)
            .unwrap()
            .design()
            .unwrap();
        assert_eq!(r.numtaps(), 535);
    }

    #[test]
    fn spyglass_test_filter_sum() {
        // tests/common/test_fir_filter.py: fs=10, lowpass [1, 2] -> 55 taps, sum 0.999134.
        let d = design_filter(FilterType::Lowpass, 10.0, &[1.0, 2.0]).unwrap();
        assert_eq!(d.numtaps(), 55);
        let s: f64 = d.coefficients.iter().sum();
        assert!((s - 0.999134).abs() < 1e-6, "sum {s}");
    }

    #[test]
    fn prototype_by_hand() {
        // 5 taps, fs = 8, edges [1, 3], p = 2: wo = pi/2, dw = pi/4.
        // h[0] = 1/2; h[1] = sin(pi/2)/pi · (sin(pi/8)/(pi/8))^2; h[2] = 0 (sin(pi) ~ 0).
        let b = firdesign(5, &[1.0, 3.0], &[1.0, 0.0], 8.0, Some(2.0)).unwrap();
        let s = (PI / 8.0).sin() / (PI / 8.0);
        let h1 = 1.0 / PI * s * s;
        let expect = [0.0, h1, 0.5, h1, 0.0];
        for (a, e) in b.iter().zip(expect) {
            assert!((a - e).abs() < 1e-15, "{b:?}");
        }
        // High-pass is impulse minus the low-pass.
        let hp = firdesign(5, &[1.0, 3.0], &[0.0, 1.0], 8.0, Some(2.0)).unwrap();
        let expect = [0.0, -h1, 0.5, -h1, 0.0];
        for (a, e) in hp.iter().zip(expect) {
            assert!((a - e).abs() < 1e-15, "{hp:?}");
        }
    }

    #[test]
    fn symmetric_and_gains() {
        for f in default_filters() {
            let d = f.design().unwrap();
            let c = &d.coefficients;
            assert!(
                c.iter().zip(c.iter().rev()).all(|(a, b)| a == b),
                "{}",
                f.name
            );
        }
        // Band-pass: DC gain ~0, bandstop: DC gain ~1, bandpass + bandstop = impulse.
        let bp = firdesign(
            101,
            &[0.1, 0.15, 0.3, 0.35],
            &[0.0, 1.0, 1.0, 0.0],
            1.0,
            Some(2.0),
        )
        .unwrap();
        let bs = firdesign(
            101,
            &[0.1, 0.15, 0.3, 0.35],
            &[1.0, 0.0, 0.0, 1.0],
            1.0,
            Some(2.0),
        )
        .unwrap();
        for i in 0..101 {
            let want = if i == 50 { 1.0 } else { 0.0 };
            assert!((bp[i] + bs[i] - want).abs() < 1e-15);
        }
    }

    #[test]
    fn rejects_bad_designs() {
        assert_eq!(
            estimate_taps(0.0, 1.0),
            Err(DspError::InvalidSamplingRate(0.0))
        );
        assert!(matches!(
            estimate_taps(1000.0, 0.0),
            Err(DspError::InvalidTransitionWidth(_))
        ));
        assert!(estimate_taps(f64::NAN, 1.0).is_err());
        assert_eq!(
            firdesign(4, &[1.0, 2.0], &[1.0, 0.0], 10.0, Some(2.0)),
            Err(DspError::InvalidTapCount(4))
        );
        let bad = |edges: &[f64], desired: &[f64]| {
            matches!(
                firdesign(11, edges, desired, 10.0, Some(2.0)),
                Err(DspError::InvalidBandEdges(_))
            )
        };
        assert!(bad(&[0.0, 2.0], &[1.0, 0.0])); // first edge at 0
        assert!(bad(&[1.0, 5.0], &[1.0, 0.0])); // last edge at Nyquist
        assert!(bad(&[2.0, 1.0], &[1.0, 0.0])); // decreasing
        assert!(bad(&[1.0, f64::NAN], &[1.0, 0.0])); // NaN edge
        assert!(bad(&[1.0, 2.0], &[1.0, 1.0])); // no change in transition
        assert!(bad(&[1.0, 2.0, 3.0, 4.0], &[1.0, 0.0, 1.0, 0.0])); // jump between bands
        assert!(bad(&[1.0, 2.0, 3.0], &[1.0, 0.0, 0.0])); // odd count
        assert!(bad(&[1.0, 2.0], &[1.0, 0.5])); // non-binary gain
        assert!(firdesign(11, &[1.0, 2.0], &[1.0, 0.0], 10.0, Some(0.0)).is_err());
        assert!(design_filter(FilterType::Bandpass, 1000.0, &[1.0, 2.0]).is_err());
        assert!(design_filter(FilterType::Lowpass, 1000.0, &[10.0, f64::NAN]).is_err());
        assert!(design_filter(FilterType::Lowpass, 1000.0, &[20.0, 10.0]).is_err());
        assert!("notch".parse::<FilterType>().is_err());
        assert_eq!(
            "bandstop".parse::<FilterType>().unwrap(),
            FilterType::Bandstop
        );
    }
}

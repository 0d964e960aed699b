//! Oracle test: the Butterworth band-pass as second-order sections and its
//! zero-phase filtering (blocked, vectorised) against `scipy.signal.iirfilter` and
//! `scipy.signal.sosfiltfilt(axis=0)` on time-major data of 1 to 131 channels (both
//! block widths, full and partial blocks), and the chunked filtering with margins
//! as long as the series against the same whole-series pass.

use spyglass_dsp::{butter_sos, filtfilt_chunks, Band, DspError};
use spyglass_testkit::{run_python, scratch_dir};

const SOSFILTFILT_PY: &str = r#"
import sys
import numpy as np, scipy.signal
n, out = int(sys.argv[1]), sys.argv[2]
sos = scipy.signal.iirfilter(5, [300, 6000], fs=30000, btype="bandpass", ftype="butter", output="sos")
parts = [sos.ravel()]
for nc in [int(v) for v in sys.argv[3].split(",")]:
    x = np.fromfile(f"{out}.x{nc}", dtype="<f8").reshape(n, nc)
    parts.append(scipy.signal.sosfiltfilt(sos, x, axis=0).ravel())
np.concatenate(parts).astype("<f8").tofile(out)
"#;

fn signal(n: usize, nc: usize) -> Vec<f64> {
    let mut s = 0x2545_F491_4F6C_DD1Du64 ^ nc as u64;
    (0..n * nc)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let t = (i / nc) as f64 / 30000.0;
            ((s >> 33) % 4001) as f64 - 2000.0
                + 500.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()
        })
        .collect()
}

#[test]
fn bandpass_filtfilt_matches_scipy_for_any_channel_count() {
    let n = 3000;
    let counts = [1usize, 4, 7, 16, 21, 131];
    let dir = scratch_dir();
    let out = dir.path().join("y.f64");
    let out_s = out.to_str().expect("utf-8 temp path").to_string();
    for &nc in &counts {
        let bytes: Vec<u8> = signal(n, nc).iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(format!("{out_s}.x{nc}"), bytes).expect("write input");
    }
    let list: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
    run_python(SOSFILTFILT_PY, &[&n.to_string(), &out_s, &list.join(",")]);
    let want: Vec<f64> = std::fs::read(&out)
        .expect("read scipy output")
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    let sos = butter_sos(5, Band::Bandpass(300.0, 6000.0), 30000.0).expect("design");
    let flat: Vec<f64> = sos.sections.iter().flatten().copied().collect();
    for (g, w) in flat.iter().zip(&want[..30]) {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1.0),
            "sections {g} vs {w}"
        );
    }
    let mut o = 30;
    for &nc in &counts {
        let x = signal(n, nc);
        let got = sos.filtfilt(&x, nc).expect("filter");
        let w = &want[o..o + n * nc];
        let scale = w.iter().map(|v| v * v).sum::<f64>().sqrt();
        let err = got
            .iter()
            .zip(w)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        assert!(
            err <= 1e-12 * scale,
            "{nc} channels: relative error {}",
            err / scale
        );
        // chunks of 700 rows with margins covering the series: the same values
        let mut chunked = vec![];
        filtfilt_chunks(
            &sos,
            n,
            nc,
            (700, n),
            |r, buf: &mut [f64]| {
                buf.copy_from_slice(&x[r.start * nc..r.end * nc]);
                Ok::<(), DspError>(())
            },
            |_, b| {
                chunked.extend_from_slice(b);
                Ok(())
            },
        )
        .expect("chunks");
        assert_eq!(chunked, got, "{nc} channels, chunked");
        o += n * nc;
    }
    assert_eq!(o, want.len());
}

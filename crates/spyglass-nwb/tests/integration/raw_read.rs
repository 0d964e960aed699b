//! Raw reads (channel-major, by sample or time range) agree with h5py on every layout
//! — contiguous, chunked with partial edge chunks, gzip with and without shuffle, a
//! file with a user block (hyperslab fallback) — and with any thread count.

use crate::common;

use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use spyglass_nwb::{Compression, NwbFile, SampleSpan};

const READ: &str = r#"
import sys, json, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["acquisition/e-series/data"]
    s0, s1 = int(sys.argv[2]), int(sys.argv[3])
    ch = [int(c) for c in sys.argv[4].split(",")]
    print(json.dumps([d[s0:s1, c].tolist() for c in ch]))
"#;

fn oracle(path: &std::path::Path, s: std::ops::Range<usize>, ch: &[usize]) -> Vec<Vec<i16>> {
    let chs: Vec<String> = ch.iter().map(|c| c.to_string()).collect();
    let out = spyglass_testkit::run_python(
        READ,
        &[
            path.to_str().unwrap(),
            &s.start.to_string(),
            &s.end.to_string(),
            &chs.join(","),
        ],
    );
    serde_json::from_str(out.trim()).unwrap()
}

#[test]
fn all_layouts_match_h5py() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let layouts = [
        ("contiguous", Compression::Contiguous, "direct-contiguous"),
        (
            "chunked",
            Compression::Chunked { rows: 7001 },
            "direct-chunks",
        ),
        (
            "gzip",
            Compression::Gzip {
                rows: 4096,
                level: 6,
                shuffle: false,
            },
            "direct-chunks",
        ),
        (
            "gzip_shuffle",
            Compression::Gzip {
                rows: 30000,
                level: 1,
                shuffle: true,
            },
            "direct-chunks",
        ),
    ];
    for (name, compression, strategy) in layouts {
        let path = dir.path().join(format!("{name}.nwb"));
        let gt = write_session(
            &path,
            &SyntheticParams {
                duration_s: 1.5,
                n_channels: 12,
                n_groups: 3,
                compression,
                gap: Some((0.7, 2.0)),
                ..Default::default()
            },
        )
        .unwrap();
        let f = NwbFile::open(&path).unwrap();
        let r1 = f
            .raw_reader(&gt.raw_series)
            .unwrap()
            .with_threads(1)
            .unwrap();
        let r2 = f
            .raw_reader(&gt.raw_series)
            .unwrap()
            .with_threads(2)
            .unwrap();
        assert_eq!(r1.strategy(), strategy, "{name}");
        for (span, ch) in [
            (0..45000usize, vec![0usize, 11, 5]),
            (4095..4097, vec![3]),
            (12345..33333, (0..12).rev().collect()),
        ] {
            let want = oracle(&path, span.clone(), &ch);
            let a = r1.read::<i16>(span.clone(), &ch).unwrap();
            let b = r2.read::<i16>(span.clone(), &ch).unwrap();
            assert_eq!(a, want, "{name} {span:?}");
            assert_eq!(b, want, "{name} {span:?} (2 threads)");
            let f64s = r2.read::<f64>(span.clone(), &ch).unwrap();
            assert!(f64s
                .iter()
                .flatten()
                .zip(want.iter().flatten())
                .all(|(x, y)| *x == *y as f64));
        }
        // Time spans across the gap: [0.69, 2.72) covers samples up to the gap and just after it.
        let s = r2
            .samples(&SampleSpan::Time {
                start: 0.69,
                stop: 2.72,
            })
            .unwrap();
        let gap = gt.gap.unwrap().0;
        assert_eq!(
            s.start,
            (0..gt.n_samples).find(|&i| gt.time_of(i) >= 0.69).unwrap()
        );
        assert_eq!(
            s.end,
            (0..gt.n_samples).find(|&i| gt.time_of(i) >= 2.72).unwrap()
        );
        assert!(s.start < gap && s.end > gap);
        let ts = r2.timestamps(s.clone()).unwrap();
        assert!(ts
            .iter()
            .enumerate()
            .all(|(k, &t)| t == gt.time_of(s.start + k)));
    }
}

#[test]
fn user_block_file_uses_hyperslab_fallback() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let src = dir.path().join("src.nwb");
    write_session(
        &src,
        &SyntheticParams {
            duration_s: 0.5,
            n_channels: 4,
            ..Default::default()
        },
    )
    .unwrap();
    let dst = dir.path().join("userblock.nwb");
    spyglass_testkit::run_python(
        r#"
import sys, h5py
with h5py.File(sys.argv[1], "r") as s, h5py.File(sys.argv[2], "w", userblock_size=1024) as d:
    for k in s:
        s.copy(k, d)
    for a in s.attrs:
        if a != ".specloc":
            d.attrs[a] = s.attrs[a]
"#,
        &[src.to_str().unwrap(), dst.to_str().unwrap()],
    );
    let f = NwbFile::open(&dst).unwrap();
    let r = f.raw_reader("/acquisition/e-series").unwrap();
    assert_eq!(r.strategy(), "hyperslab");
    let want = oracle(&dst, 100..9000, &[2, 0]);
    assert_eq!(r.read::<i16>(100..9000, &[2, 0]).unwrap(), want);
    let direct = NwbFile::open(&src)
        .unwrap()
        .read_raw_i16(
            "/acquisition/e-series",
            SampleSpan::Samples(100..9000),
            &[2, 0],
        )
        .unwrap();
    assert_eq!(direct, want);
}

#[test]
fn dataset_level_external_link_and_moved_target() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let raw = dir.path().join("raw.nwb");
    write_session(
        &raw,
        &SyntheticParams {
            duration_s: 0.5,
            n_channels: 4,
            ..Default::default()
        },
    )
    .unwrap();
    let copy = dir.path().join("linked_data.nwb");
    spyglass_testkit::run_python(
        r#"
import sys, shutil, h5py
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    del f["acquisition/e-series/data"]
    f["acquisition/e-series/data"] = h5py.ExternalLink("raw.nwb", "/acquisition/e-series/data")
"#,
        &[raw.to_str().unwrap(), copy.to_str().unwrap()],
    );
    let f = NwbFile::open(&copy).unwrap();
    let want = NwbFile::open(&raw)
        .unwrap()
        .read_raw_i16("/acquisition/e-series", SampleSpan::All, &[0, 3])
        .unwrap();
    assert_eq!(
        f.read_raw_i16("/acquisition/e-series", SampleSpan::All, &[0, 3])
            .unwrap(),
        want
    );
    drop(f);
    std::fs::rename(&raw, dir.path().join("moved.nwb")).unwrap();
    let f = NwbFile::open(&copy).unwrap();
    let e = f.raw_reader("/acquisition/e-series").unwrap_err();
    match e {
        spyglass_nwb::NwbError::BrokenExternalLink { object, target, .. } => {
            assert_eq!(object, "/acquisition/e-series/data");
            assert_eq!(target, dir.path().join("raw.nwb"));
        }
        other => panic!("expected BrokenExternalLink, got {other}"),
    }
}

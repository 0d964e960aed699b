//! Bad input gets a clear error and never a panic: truncated files, non-HDF5 files,
//! files missing required groups, datasets of the wrong shape or type, and many
//! randomly corrupted variants of a valid file (each read in a child process, so a
//! crash inside the C library is reported separately from a Rust panic).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use spyglass_nwb::{Compression, NwbError, NwbFile, SampleSpan};

fn small_session(dir: &Path) -> PathBuf {
    let p = dir.join("valid.nwb");
    write_session(
        &p,
        &SyntheticParams {
            duration_s: 0.2,
            n_channels: 4,
            n_groups: 2,
            n_units: 2,
            compression: Compression::Gzip {
                rows: 1000,
                level: 4,
                shuffle: true,
            },
            ..Default::default()
        },
    )
    .unwrap();
    p
}

/// Copies `src` to `dst` and applies `edit` with h5py.
fn h5py_edit(src: &Path, dst: &Path, edit: &str) {
    std::fs::copy(src, dst).unwrap();
    let code = format!(
        "import sys, h5py, numpy as np\nf = h5py.File(sys.argv[1], 'r+')\n{edit}\nf.close()\n"
    );
    spyglass_testkit::run_python(&code, &[dst.to_str().unwrap()]);
}

#[test]
fn not_hdf5_and_missing_files() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let txt = dir.path().join("notes.nwb");
    std::fs::write(&txt, "this is not an HDF5 file\n".repeat(100)).unwrap();
    match NwbFile::open(&txt) {
        Err(NwbError::NotHdf5 { path }) => assert_eq!(path, txt),
        other => panic!("expected NotHdf5, got {other:?}"),
    }
    let empty = dir.path().join("empty.nwb");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        NwbFile::open(&empty),
        Err(NwbError::NotHdf5 { .. })
    ));
    let missing = dir.path().join("missing.nwb");
    let e = NwbFile::open(&missing).unwrap_err();
    assert!(matches!(e, NwbError::Io { .. }));
    assert!(e.to_string().contains("missing.nwb"), "{e}");
}

#[test]
fn truncated_file() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let valid = small_session(dir.path());
    let bytes = std::fs::read(&valid).unwrap();
    for frac in [0.9, 0.5, 0.1] {
        let t = dir.path().join(format!("trunc{frac}.nwb"));
        std::fs::write(&t, &bytes[..(bytes.len() as f64 * frac) as usize]).unwrap();
        let e = NwbFile::open(&t)
            .and_then(|f| f.walk().map(|_| ()))
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&t.display().to_string()),
            "error names the file: {msg}"
        );
        assert!(msg.contains("truncated"), "error says truncated: {msg}");
    }
}

#[test]
fn missing_required_groups_and_attributes() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let valid = small_session(dir.path());
    let no_general = dir.path().join("no_general.nwb");
    h5py_edit(&valid, &no_general, "del f['general']");
    match NwbFile::open(&no_general) {
        Err(NwbError::Missing { object, .. }) => assert_eq!(object, "/general"),
        other => panic!("expected Missing /general, got {other:?}"),
    }
    let no_id = dir.path().join("no_identifier.nwb");
    h5py_edit(&valid, &no_id, "del f['identifier']");
    let e = NwbFile::open(&no_id).unwrap_err();
    assert!(e.to_string().contains("/identifier"), "{e}");
    let not_nwb = dir.path().join("plain.h5");
    spyglass_testkit::run_python(
        "import sys, h5py\nh5py.File(sys.argv[1], 'w').create_dataset('x', data=[1, 2])",
        &[not_nwb.to_str().unwrap()],
    );
    assert!(matches!(
        NwbFile::open(&not_nwb),
        Err(NwbError::NotNwb { .. })
    ));
}

#[test]
fn wrong_shapes_and_types() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let valid = small_session(dir.path());
    let el = "general/extracellular_ephys/electrodes";
    let es = "acquisition/e-series";

    let p = dir.path().join("text_x.nwb");
    h5py_edit(&valid, &p, &format!("del f['{el}/x']\nf['{el}'].create_dataset('x', data=np.array(['a','b','c','d'], dtype=object), dtype=h5py.string_dtype())"));
    let f = NwbFile::open(&p).unwrap();
    let e = f
        .electrodes()
        .unwrap()
        .unwrap()
        .f64_column("x")
        .unwrap_err();
    assert!(
        matches!(&e, NwbError::Invalid { object, .. } if object == "/general/extracellular_ephys/electrodes/x"),
        "{e}"
    );

    let p = dir.path().join("short_column.nwb");
    h5py_edit(
        &valid,
        &p,
        &format!("del f['{el}/imp']\nf['{el}'].create_dataset('imp', data=np.zeros(2))"),
    );
    let e = NwbFile::open(&p).unwrap().electrodes().unwrap_err();
    assert!(
        e.to_string()
            .contains("column has 2 rows but the table has 4 ids"),
        "{e}"
    );

    let p = dir.path().join("bad_index.nwb");
    h5py_edit(
        &valid,
        &p,
        "d = f['intervals/epochs/tags_index']; d[...] = np.array([1, 9], dtype=d.dtype)",
    );
    let e = NwbFile::open(&p).unwrap().epochs().unwrap_err();
    assert!(e.to_string().contains("ragged index ends at 9"), "{e}");

    let p = dir.path().join("data_3d.nwb");
    h5py_edit(&valid, &p, &format!("del f['{es}/data']\nf['{es}'].create_dataset('data', data=np.zeros((6000, 4, 2), dtype='i2'))"));
    let f = NwbFile::open(&p).unwrap();
    let e = f.raw_reader("/acquisition/e-series").unwrap_err();
    assert!(
        e.to_string().contains("timestamps") || e.to_string().contains("1-D or 2-D"),
        "{e}"
    );

    let p = dir.path().join("ts_len.nwb");
    h5py_edit(&valid, &p, &format!("del f['{es}/timestamps']\nf['{es}'].create_dataset('timestamps', data=np.arange(10.0))"));
    let e = NwbFile::open(&p)
        .unwrap()
        .time_series("/acquisition/e-series")
        .unwrap_err();
    assert!(
        e.to_string().contains("10 timestamps for 6000 samples"),
        "{e}"
    );

    let p = dir.path().join("float_data.nwb");
    h5py_edit(&valid, &p, &format!("d = f['{es}/data'][:]\ndel f['{es}/data']\nf['{es}'].create_dataset('data', data=d.astype('f8'))"));
    let f = NwbFile::open(&p).unwrap();
    let e = f
        .read_raw_i16("/acquisition/e-series", SampleSpan::Samples(0..10), &[0])
        .unwrap_err();
    assert!(e.to_string().contains("does not fit i16"), "{e}");
    assert_eq!(
        f.read_raw_f64("/acquisition/e-series", SampleSpan::Samples(0..10), &[0])
            .unwrap()[0]
            .len(),
        10
    );

    let p = dir.path().join("int_identifier.nwb");
    h5py_edit(&valid, &p, "del f['identifier']\nf['identifier'] = 5");
    let e = NwbFile::open(&p).unwrap().metadata().unwrap_err();
    assert!(
        e.to_string().contains("/identifier") && e.to_string().contains("expected one text value"),
        "{e}"
    );

    let p = dir.path().join("bad_date.nwb");
    h5py_edit(
        &valid,
        &p,
        "del f['session_start_time']\nf['session_start_time'] = 'yesterday'",
    );
    let e = NwbFile::open(&p).unwrap().metadata().unwrap_err();
    assert!(
        e.to_string()
            .contains("not an ISO-8601 datetime: `yesterday`"),
        "{e}"
    );

    let p = dir.path().join("corrupt_chunk.nwb");
    // Overwrite the first compressed chunk's bytes in place (the file stays structurally valid).
    spyglass_testkit::run_python(
        &format!(
            "import sys, shutil, h5py\nshutil.copy(sys.argv[1], sys.argv[2])\nf = h5py.File(sys.argv[2], 'r')\ni = f['{es}/data'].id.get_chunk_info(0)\nf.close()\nb = open(sys.argv[2], 'r+b'); b.seek(i.byte_offset + 2); b.write(b'\\xff' * 64); b.close()"
        ),
        &[valid.to_str().unwrap(), p.to_str().unwrap()],
    );
    let f = NwbFile::open(&p).unwrap();
    let e = f
        .read_raw_i16(
            "/acquisition/e-series",
            SampleSpan::Samples(0..100),
            &[0, 1],
        )
        .unwrap_err();
    assert!(e.to_string().contains("acquisition/e-series/data"), "{e}");

    // Caller errors are named too.
    let f = NwbFile::open(&valid).unwrap();
    let e = f
        .read_raw_i16("/acquisition/e-series", SampleSpan::Samples(0..10), &[9])
        .unwrap_err();
    assert!(e.to_string().contains("channel 9 out of range"), "{e}");
    let e = f
        .read_raw_i16(
            "/acquisition/e-series",
            SampleSpan::Samples(5..100000),
            &[0],
        )
        .unwrap_err();
    assert!(matches!(e, NwbError::InvalidArgument(_)));
    let e = f.time_series("/acquisition/nothing").unwrap_err();
    assert!(
        matches!(&e, NwbError::Missing { object, .. } if object == "/acquisition/nothing"),
        "{e}"
    );
}

/// Reads everything the API offers; errors are fine, panics are not.
fn exercise(path: &Path) {
    let Ok(f) = NwbFile::open(path) else { return };
    let _ = f.metadata();
    let _ = f.subject();
    let _ = f.devices();
    let _ = f.electrode_groups();
    let _ = f.electrodes();
    let _ = f.processing_modules();
    let _ = f.intervals();
    let _ = f.epochs();
    let _ = f.units();
    let _ = f.tasks();
    let _ = f.image_series();
    let _ = f.probes();
    let _ = f.camera_devices();
    let _ = f.associated_files();
    let _ = f.object_ids();
    let _ = f.walk();
    if let Ok(r) = f.raw_reader("/acquisition/e-series") {
        let n = r.num_samples().min(3000);
        let ch: Vec<usize> = (0..r.num_channels().min(8)).collect();
        let _ = r.read::<i16>(0..n, &ch);
        let _ = r.read_scaled(0..n, &ch);
        let _ = r.samples(&SampleSpan::Time {
            start: 0.01,
            stop: 0.05,
        });
    }
}

/// Child side of `corrupted_variants_never_panic`: exercises one file.
#[test]
#[ignore = "run by corrupted_variants_never_panic in a child process"]
fn corruption_child() {
    common::init();
    let Ok(path) = std::env::var("SPYGLASS_CORRUPT_FILE") else {
        return;
    };
    let result = std::panic::catch_unwind(|| exercise(Path::new(&path)));
    println!(
        "{}",
        if result.is_ok() {
            "CHILD-OK"
        } else {
            "CHILD-PANIC"
        }
    );
}

#[test]
fn corrupted_variants_never_panic() {
    common::init();
    use rand::{Rng, SeedableRng};
    let dir = spyglass_testkit::scratch_dir();
    let valid = small_session(dir.path());
    let bytes = std::fs::read(&valid).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2024);
    let mut variants: Vec<(String, Vec<u8>)> = vec![];
    let keep = std::env::var("SPYGLASS_KEEP_VARIANTS").ok();
    for k in 0..40 {
        let mut b = bytes.clone();
        let pos = rng.random_range(0..b.len());
        b[pos] ^= 1 << rng.random_range(0..8);
        variants.push((format!("flip{k}@{pos}"), b));
    }
    for k in 0..40 {
        // Flips in the first 8 KiB: superblock, root group, object headers, B-trees.
        let mut b = bytes.clone();
        for _ in 0..3 {
            let pos = rng.random_range(0..8192.min(b.len()));
            b[pos] ^= 1 << rng.random_range(0..8);
        }
        variants.push((format!("headflip{k}"), b));
    }
    for k in 0..20 {
        let len = rng.random_range(0..bytes.len());
        variants.push((format!("trunc{k}@{len}"), bytes[..len].to_vec()));
    }
    for k in 0..20 {
        let mut b = bytes.clone();
        let pos = rng.random_range(0..b.len().saturating_sub(512));
        b[pos..pos + 512].iter_mut().for_each(|x| *x = 0);
        variants.push((format!("zero{k}@{pos}"), b));
    }
    let exe = std::env::current_exe().unwrap();
    let child_test = spyglass_testkit::libtest_name(module_path!(), "corruption_child");
    let (mut ok, mut panics, mut crashes, mut hangs) = (0, vec![], vec![], vec![]);
    for (name, b) in &variants {
        let p = dir.path().join("variant.nwb");
        std::fs::write(&p, b).unwrap();
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                &child_test,
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SPYGLASS_CORRUPT_FILE", &p)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut out = String::new();
        use std::io::Read;
        if let Some(mut so) = child.stdout.take() {
            let _ = so.read_to_string(&mut out);
        }
        match status {
            None => hangs.push(name.clone()),
            Some(_) if out.contains("CHILD-PANIC") => panics.push(name.clone()),
            Some(s) if out.contains("CHILD-OK") && s.success() => ok += 1,
            Some(s) => {
                if let Some(k) = &keep {
                    std::fs::write(Path::new(k).join(format!("{name}.nwb")), b).unwrap();
                }
                crashes.push(format!("{name} ({s})"))
            }
        }
    }
    println!(
        "{} corrupted variants: {ok} handled, {} Rust panics, {} libhdf5 crashes {:?}, {} hangs {:?}",
        variants.len(),
        panics.len(),
        crashes.len(),
        crashes,
        hangs.len(),
        hangs
    );
    assert!(
        panics.is_empty(),
        "Rust panics on corrupted input: {panics:?}"
    );
}

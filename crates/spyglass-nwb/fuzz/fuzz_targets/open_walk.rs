//! Fuzz target: the bytes are written to a file, opened as NWB and walked through the
//! whole read API (metadata, tables, series, object ids, a raw block).
//!
//! Robustness limit: libhdf5 1.10.8 (C) itself segfaults or loops on some corrupted
//! files (global-heap reads of vlen strings, B-tree cycles). Those are crashes in the C
//! library, not in this crate; the in-tree test `corrupted_variants_never_panic`
//! isolates them in child processes and reports them separately from Rust panics.
//! Run: `cargo +nightly fuzz run open_walk -- -max_len=200000` from this directory,
//! seeding `corpus/open_walk/` with small NWB files (e.g. from the synthetic writer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use spyglass_nwb::{NwbFile, SampleSpan};

fuzz_target!(|data: &[u8]| {
    std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    let path = std::env::temp_dir().join(format!("spyglass-nwb-fuzz-{}.nwb", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(f) = NwbFile::open(&path) {
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
        let _ = f.object_ids();
        let _ = f.walk();
        if let Ok(acq) = f.acquisition() {
            for o in acq {
                if let Ok(r) = f.raw_reader(&o.path) {
                    let n = r.num_samples().min(1000);
                    let ch: Vec<usize> = (0..r.num_channels().min(4)).collect();
                    let _ = r.read::<i16>(0..n, &ch);
                    let _ = r.read_scaled(0..n, &ch);
                    let _ = f.read_raw_f64(
                        &o.path,
                        SampleSpan::Time {
                            start: 0.0,
                            stop: 0.01,
                        },
                        &ch,
                    );
                }
            }
        }
    }
    let _ = std::fs::remove_file(&path);
});

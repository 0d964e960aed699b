//! The NWB file hash equals Spyglass 0.6's own `NwbfileHasher(...).hash`, run in the
//! test (`.venv-spyglass`): on h5py files holding every value kind the hasher treats
//! specially (floats needing scientific notation, float32, big-endian numbers,
//! strings of varying widths across batches, fixed-length strings, booleans, enums,
//! references, scalars, soft / dangling / external / repeated hard links, creation
//! order, a namespace cache with several versions, rounding of a
//! ProcessedElectricalSeries over several batches), and on pynwb-written sessions.
//! Files Spyglass's hasher cannot hash (compound, empty 2-D) are errors here.

use crate::common;
use spyglass_nwb::{nwbfile_hash, SPYGLASS_PRECISION};
use std::path::Path;

const MAKE_CASES: &str = include_str!("../py/make_hash_cases.py");
const MAKE_PYNWB: &str = include_str!("../py/make_pynwb_session.py");

/// Spyglass's hasher on each file (argv: precision JSON, then paths): one hash per
/// line, or `error <type>` when it raises.
const ORACLE: &str = r#"
import json, sys
from spyglass.utils.nwb_hash import NwbfileHasher
lookup = json.loads(sys.argv[1])
for p in sys.argv[2:]:
    try:
        print(NwbfileHasher(p, precision_lookup=lookup).hash)
    except Exception as e:
        print("error", type(e).__name__)
"#;

fn spyglass_hashes(lookup: &str, paths: &[&Path]) -> Vec<String> {
    let mut args = vec![lookup];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = spyglass_testkit::run_spyglass_python(ORACLE, &args);
    out.lines().map(str::to_string).collect()
}

#[test]
fn h5py_value_kinds_hash_as_spyglass_hashes_them() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let p = |n: &str| dir.path().join(n);
    let files = [
        p("main.h5"),
        p("other.h5"),
        p("compound.h5"),
        p("zero_cols.h5"),
        p("empty_2d.h5"),
    ];
    let args: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    spyglass_testkit::run_spyglass_python(
        MAKE_CASES,
        &[args[0], args[1], args[2], args[3], args[4]],
    );
    let refused = [&files[2], &files[3], &files[4]];
    let want = spyglass_hashes(
        r#"{"ProcessedElectricalSeries": 4}"#,
        &[&files[0], refused[0], refused[1], refused[2]],
    );
    assert_eq!(
        nwbfile_hash(&files[0], &SPYGLASS_PRECISION).unwrap(),
        want[0]
    );
    // another lookup: a second group rounded to 2 decimals
    let want2 = spyglass_hashes(
        r#"{"ProcessedElectricalSeries": 4, "unrounded": 2}"#,
        &[&files[0]],
    );
    assert_ne!(want2[0], want[0]);
    let lookup = [("ProcessedElectricalSeries", 4), ("unrounded", 2)];
    assert_eq!(nwbfile_hash(&files[0], &lookup).unwrap(), want2[0]);
    // no rounding at all
    let want0 = spyglass_hashes(r#"{"ProcessedElectricalSeries": 0}"#, &[&files[0]]);
    assert_eq!(nwbfile_hash(&files[0], &[]).unwrap(), want0[0]);
    // what Spyglass's hasher cannot hash is an error naming the object
    for (file, (object, py)) in refused.iter().zip([
        ("/table", &want[1]),
        ("/zero_cols", &want[2]),
        ("/g@empty_2d", &want[3]),
    ]) {
        assert!(
            py.starts_with("error"),
            "Spyglass hashed {}: {py}",
            file.display()
        );
        let err = nwbfile_hash(file, &SPYGLASS_PRECISION)
            .unwrap_err()
            .to_string();
        assert!(err.contains(object), "{err}");
    }
}

#[test]
fn pynwb_sessions_hash_as_spyglass_hashes_them() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let mut files = vec![];
    for (layout, timing) in [("gzip", "timestamps"), ("chunked", "rate")] {
        let path = dir.path().join(format!("{layout}_{timing}.nwb"));
        spyglass_testkit::run_python(MAKE_PYNWB, &[path.to_str().unwrap(), layout, timing]);
        files.push(path);
    }
    let paths: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let want = spyglass_hashes(r#"{"ProcessedElectricalSeries": 4}"#, &paths);
    for (f, w) in files.iter().zip(&want) {
        assert_eq!(
            &nwbfile_hash(f, &SPYGLASS_PRECISION).unwrap(),
            w,
            "{}",
            f.display()
        );
    }
}

"""Smoke test of an installed spyglass_rs wheel (scripts/python-release.sh runs it in
the build environment and in a fresh Debian root): writes the demo session, inserts
it into a new SQLite database, populates LFPV1 and fetches its NWB series into numpy;
prints a JSON summary of the values (shape, dtype, samples, a digest of the arrays)
and of the shared libraries the process mapped. With --expect FILE the summary must
equal the one in FILE (the same calls in the build environment), and the process
must have mapped no HDF5 library outside the wheel. With --h5py the fetched arrays
must equal h5py's reading of the same NWB object. Last, a Rust panic (the testing-only
``_native._panic_for_tests``, in a child interpreter so that an abort is reported, not
suffered) must reach Python as pyo3's PanicException, with and without the GIL held.

    python python-smoke.py WORK_DIR [--out FILE] [--expect FILE] [--h5py]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import sys

import numpy as np

import spyglass_rs as sg

NWB = "demo20230622_.nwb"


def mapped_libraries():
    """The shared objects this process has mapped (from /proc/self/maps)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and ".so" in parts[5]:
                libs.add(parts[5])
    return sorted(libs)


PANIC_CHILD = """
import sys
from spyglass_rs import _native
for detached in (False, True):
    try:
        _native._panic_for_tests(detached)
    except BaseException as e:
        print(type(e).__module__ + "." + type(e).__name__, flush=True)
    else:
        print("no exception", flush=True)
"""


def panic_outcome():
    """What a Rust panic does to the interpreter: the exception each call of
    ``_panic_for_tests`` raised (held GIL, released GIL), or how the child died."""
    import subprocess

    p = subprocess.run([sys.executable, "-c", PANIC_CHILD], capture_output=True, text=True)
    if p.returncode != 0:
        return [f"the interpreter exited with {p.returncode} "
                f"({p.stderr.strip().splitlines()[-1:] or 'no message'})"]
    return p.stdout.split()


def run(work, check_h5py=False):
    work.mkdir(parents=True, exist_ok=True)
    base = work / "base"
    src = work / "incoming" / "demo20230622.nwb"
    src.parent.mkdir(parents=True, exist_ok=True)
    params = sg.write_demo_session(src)
    db = sg.connect(f"sqlite:///{base / 'spyglass.db'}", base_dir=str(base))
    reports = db.insert_sessions([str(src)])
    assert reports[0]["status"] == "inserted", reports
    db.insert_defaults()
    db.table("common_filter.FirFilterParameters").create_standard_filters()
    # connect() made db the default connection of the Spyglass-like modules
    from spyglass_rs.common import Session
    from spyglass_rs.lfp import LFPElectrodeGroup
    from spyglass_rs.lfp.v1 import LFPSelection, LFPV1

    LFPElectrodeGroup.create_lfp_electrode_group(NWB, "all", list(range(params["n_channels"])))
    key = {
        "nwb_file_name": NWB,
        "lfp_electrode_group_name": "all",
        "target_interval_list_name": "raw data valid times",
        "filter_name": "LFP 0-400 Hz",
        "filter_sampling_rate": 30000,
    }
    LFPSelection.insert1({**key, "target_sampling_rate": 1000.0})
    report = LFPV1.populate(key)
    assert report["success_count"] == 1, report
    (row,) = (LFPV1 & key).fetch_nwb()
    lfp = row["lfp"]
    data, ts = np.asarray(lfp.data), np.asarray(lfp.timestamps)
    frame = (LFPV1 & key).fetch1_dataframe()
    # before h5py (which maps its own HDF5) is imported
    libs = mapped_libraries()
    if check_h5py:
        # an outside reader: h5py (its own HDF5) finds the object by its NWB object_id
        import h5py

        with h5py.File(lfp.file, "r") as f:
            found = []
            f.visititems(
                lambda name, obj: found.append(obj)
                if obj.attrs.get("object_id") == lfp.object_id
                else None
            )
            assert len(found) == 1, f"object {lfp.object_id} in {lfp.file}: {found}"
            np.testing.assert_array_equal(data, found[0]["data"][:])
            np.testing.assert_array_equal(ts, found[0]["timestamps"][:])
            print(f"python-smoke: fetch_nwb equals h5py's {found[0].name}", file=sys.stderr)
    return libs, {
        "demo_params": {k: params[k] for k in sorted(params) if isinstance(params[k], (int, float, str))},
        "sessions": len(Session & {"nwb_file_name": NWB}),
        "lfp_sampling_rate": float((LFPV1 & key).fetch1("lfp_sampling_rate")),
        "lfp_shape": list(data.shape),
        "lfp_dtype": str(data.dtype),
        # repr keeps every bit of a float64
        "lfp_samples": [repr(float(v)) for v in data[1000, :]],
        "lfp_sha256": hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest(),
        "timestamps_first_last": [repr(float(ts[0])), repr(float(ts[-1]))],
        "timestamps_sha256": hashlib.sha256(np.ascontiguousarray(ts).tobytes()).hexdigest(),
        "frame_shape": list(frame.shape),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work", type=pathlib.Path)
    ap.add_argument("--out", type=pathlib.Path)
    ap.add_argument("--expect", type=pathlib.Path)
    ap.add_argument("--h5py", action="store_true", help="check fetch_nwb's arrays against h5py")
    args = ap.parse_args()
    libs, values = run(args.work, args.h5py)
    panics = panic_outcome()
    native = pathlib.Path(sg._native.__file__).resolve()
    # an HDF5 library mapped from anywhere is the system's: the wheel links it in
    hdf5 = [lib for lib in libs if "hdf5" in os.path.basename(lib)]
    summary = {
        "values": values,
        "python": sys.version.split()[0],
        "native_module": str(native),
        "hdf5_libraries_mapped": hdf5,
        "panic_raises": panics,
    }
    text = json.dumps(summary, indent=1, sort_keys=True)
    print(text)
    if args.out:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, args.out)
    failed = []
    if hdf5:
        failed.append(f"the process mapped HDF5 libraries outside the wheel: {hdf5}")
    if panics != ["pyo3_runtime.PanicException"] * 2:
        failed.append(f"a Rust panic must raise pyo3's PanicException (twice), got {panics}")
    if args.expect:
        want = json.loads(args.expect.read_text())["values"]
        for k in sorted(set(want) | set(values)):
            if want.get(k) != values.get(k):
                failed.append(f"{k}: expected {want.get(k)!r}, got {values.get(k)!r}")
    for f in failed:
        print(f"python-smoke: FAILED: {f}", file=sys.stderr)
    if failed:
        sys.exit(1)
    print("python-smoke: ok" + (f" (values equal {args.expect})" if args.expect else ""), file=sys.stderr)


if __name__ == "__main__":
    main()

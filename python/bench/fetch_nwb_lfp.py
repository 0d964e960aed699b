"""Benchmark: fetch_nwb of 60 s x 128 channels of LFP (1 kHz) into numpy,
spyglass_rs next to the Spyglass way on the same MariaDB tables and analysis
file, each side in its own process (wall time, best of 3, and the process's
peak RSS).

    SPYGLASS_TEST_MYSQL_URL=mysql://root@127.0.0.1:PORT .venv-python/bin/python python/bench/fetch_nwb_lfp.py [DIR]

The Spyglass way is what its ``fetch_nwb`` does, with datajoint-python and
pynwb: fetch the LFPV1 row joined with AnalysisNwbfile's
``analysis_file_abs_path`` (datajoint-python checks the file against its stored
checksum), open the analysis file with pynwb, take the ElectricalSeries by object
id and read ``data[:]`` and ``timestamps[:]`` into numpy. spyglass_rs:
``(LFPV1 & key).fetch_nwb()[0]["lfp"]``, whose arrays are already numpy.

The session (60 s x 128 channels at 30 kHz, written by spyglass-rs's synthetic
writer) is ingested and its LFP populated once by spyglass_rs, under the schema
prefix ``bench_nwb_`` and the base dir DIR (default ``$TMPDIR/spyglass-bench-nwb``);
later runs reuse them."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

URL = os.environ.get("SPYGLASS_TEST_MYSQL_URL", "")
PREFIX = "bench_nwb_"
DURATION_S, N_CHANNELS = 60.0, 128
NWB_FILE_NAME = "bench20240101_.nwb"
KEY = {
    "nwb_file_name": NWB_FILE_NAME,
    "lfp_electrode_group_name": "all",
    "target_interval_list_name": "raw data valid times",
    "filter_name": "LFP 0-400 Hz",
    "filter_sampling_rate": 30000,
}


def base_dir():
    if len(sys.argv) > 1:
        return os.path.abspath(sys.argv[1])
    return os.environ.get("SPYGLASS_BENCH_DIR") or os.path.join(
        tempfile.gettempdir(), "spyglass-bench-nwb"
    )


def prepare(base):
    """The session and its LFP, made once (spyglass_rs)."""
    import spyglass_rs

    os.makedirs(base, exist_ok=True)
    db = spyglass_rs.connect(URL, prefix=PREFIX, base_dir=base)
    lfp = db.table("lfp_v1.LFPV1")
    if len(lfp & KEY) == 1:
        return
    src = os.path.join(base, "incoming", "bench20240101.nwb")
    os.makedirs(os.path.dirname(src), exist_ok=True)
    spyglass_rs.write_demo_session(src, duration_s=DURATION_S, n_channels=N_CHANNELS)
    db.insert_sessions([src])
    db.insert_defaults()
    db.table("common_filter.FirFilterParameters").create_standard_filters()
    db.table("lfp_electrode.LFPElectrodeGroup").create_lfp_electrode_group(
        NWB_FILE_NAME, "all", list(range(N_CHANNELS))
    )
    db.table("lfp_v1.LFPSelection").insert1(
        {**KEY, "target_sampling_rate": 1000.0}, skip_duplicates=True
    )
    t0 = time.perf_counter()
    report = db.table("lfp_v1.LFPV1").populate(KEY)
    assert report["success_count"] == 1, report
    print(f"(LFP of {N_CHANNELS} channels x {DURATION_S:.0f} s populated in "
          f"{time.perf_counter() - t0:.0f} s)", file=sys.stderr)


def dj_connection(base):
    # Spyglass's settings turn datajoint's filepath attributes on this way
    os.environ["DJ_SUPPORT_FILEPATH_MANAGEMENT"] = "TRUE"
    import datajoint as dj

    u = urllib.parse.urlparse(URL)
    store = lambda name: {  # noqa: E731
        "protocol": "file",
        "location": os.path.join(base, name),
        "stage": os.path.join(base, name),
    }
    dj.config["safemode"] = False
    dj.config["stores"] = {"raw": store("raw"), "analysis": store("analysis")}
    dj.config["filepath_checksum_size_limit"] = 1 << 30
    return dj.Connection(
        host=f"{u.hostname}:{u.port or 3306}",
        user=urllib.parse.unquote(u.username or "root"),
        password=urllib.parse.unquote(u.password or ""),
        use_tls=False,
    )


def fetch_ours(base):
    import spyglass_rs

    db = spyglass_rs.connect(URL, prefix=PREFIX, base_dir=base, set_default=False)
    (row,) = (db.table("lfp_v1.LFPV1") & KEY).fetch_nwb()
    lfp = row["lfp"]
    return lfp.data, lfp.timestamps


def fetch_theirs(base):
    import datajoint as dj
    import pynwb

    conn = dj_connection(base)
    # the filepath attribute's external table belongs to its (activated) schema
    dj.Schema(f"{PREFIX}common_nwbfile", connection=conn, create_schema=False, create_tables=False)
    lfp = dj.FreeTable(conn, f"`{PREFIX}lfp_v1`.`__l_f_p_v1`")
    files = dj.FreeTable(conn, f"`{PREFIX}common_nwbfile`.`analysis_nwbfile`")
    q = lfp * files.proj(nwb2load_filepath="analysis_file_abs_path") & KEY
    (rec,) = q.fetch(as_dict=True)
    io = pynwb.NWBHDF5IO(rec["nwb2load_filepath"], "r", load_namespaces=True)
    series = io.read().objects[rec["lfp_object_id"]]
    data, ts = series.data[:], series.timestamps[:]
    io.close()
    return data, ts


def run_side(side, base):
    import resource

    import numpy as np

    fetch = fetch_ours if side == "spyglass_rs" else fetch_theirs
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        data, ts = fetch(base)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    assert data.shape == (int(DURATION_S * 1000), N_CHANNELS), data.shape
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    digest = [str(data.dtype), list(data.shape), float(np.asarray(data, dtype=np.float64).sum()),
              float(ts.sum())]
    print(json.dumps([best, peak_mb, digest]))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--side":
        run_side(sys.argv[2], sys.argv[3])
        return
    if not URL:
        sys.exit("set SPYGLASS_TEST_MYSQL_URL (a MariaDB server; scripts/test.sh starts one)")
    base = base_dir()
    prepare(base)
    out = {}
    for side in ("spyglass_rs", "datajoint-python + pynwb"):
        res = subprocess.run(
            [sys.executable, __file__, "--side", side, base],
            check=True, capture_output=True, text=True,
        )
        out[side] = json.loads(res.stdout.strip().splitlines()[-1])
    ours, theirs = out["spyglass_rs"], out["datajoint-python + pynwb"]
    assert ours[2] == theirs[2], (ours[2], theirs[2])
    print(f"fetch_nwb of {DURATION_S:.0f} s x {N_CHANNELS} ch LFP into numpy "
          f"({ours[2][0]}, MariaDB, best of 3):")
    print(f"  spyglass_rs               {ours[0]:7.3f} s   peak RSS {ours[1]:6.0f} MB")
    print(f"  datajoint-python + pynwb  {theirs[0]:7.3f} s   peak RSS {theirs[1]:6.0f} MB")
    print(f"  ratio                     {theirs[0] / ours[0]:7.1f}x faster")


if __name__ == "__main__":
    main()

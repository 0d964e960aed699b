//! TrodesPosV1 end to end on 1 h of two-LED position at 30 Hz (108 000 samples;
//! `SPYGLASS_BENCH_POS_SECONDS=N` to change): ours (`populate` of TrodesPosV1 on
//! SQLite and on a private MariaDB: read the raw position, compute, write the
//! analysis NWB, insert the row and its PositionOutput entry) next to Python
//! Spyglass 0.6's `TrodesPosV1.populate(key)` on its own private MariaDB, measured in
//! the same run on the same session file. Each side runs in its own process (peak
//! RSS by getrusage is its own); only the populate call is timed (the session insert,
//! the defaults and the selection come before). The speed sums of the three results
//! (ours read back through the library, Spyglass's through its `fetch1_dataframe`)
//! must agree to 1e-9 relative. Each side runs `SPYGLASS_BENCH_REPEATS` times
//! (default 2, interleaved, fresh databases); the best run of each is printed,
//! with the populating process's CPU time (user + system; the database server's is
//! not counted, on either side), the figure a loaded machine disturbs least.
//!
//! The session file (written with the Spyglass environment's pynwb, laid out as
//! Spyglass's own tests build one) is cached in the system temp directory
//! (`spyglass-bench-data`). Needs `.venv-spyglass` and `mariadb-install-db`
//! (scripts/setup.sh).

use spyglass_testkit::bench::{cpu_seconds, peak_rss_mb};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The RawPosition epoch both sides compute (epoch 0, the 1-h two-LED one).
const INTERVAL: &str = "pos 0 valid times";

/// Largest allowed |a − b| / |b| between speed sums.
const SUM_TOL: f64 = 1e-9;

/// Writes OUT.nwb: a Spyglass-shaped session (novela devices, probes, electrodes
/// with probe columns, 2 s of 8-channel 30 kHz raw data, a `tasks` module, epochs
/// 01_s1 and 02_r1) whose epoch 0 has SECONDS of two tracked LEDs at 30 Hz (xloc,
/// yloc, xloc2, yloc2 in 0.2-cm pixels, with a too-far LED run, a one-frame jump and
/// NaN runs), epoch 1 60 s of the same. Usage: OUT SECONDS.
const WRITE_SESSION: &str = r#"
import sys, datetime
import numpy as np
from pynwb import NWBFile, NWBHDF5IO
from pynwb.file import Subject
from pynwb.ecephys import ElectricalSeries
from pynwb.behavior import Position, SpatialSeries
from pynwb.device import DeviceModel
from hdmf.common import DynamicTable
import ndx_franklab_novela as nov

out, seconds = sys.argv[1], float(sys.argv[2])
rng = np.random.default_rng(5)
start = datetime.datetime(2023, 6, 22, 9, 30, 0, tzinfo=datetime.timezone.utc)
nwb = NWBFile(session_description="position bench session", identifier="posbench-1", session_start_time=start,
              experimenter=["Doe, Jane"], institution="UCSF", lab="Loren Frank",
              experiment_description="TrodesPosV1 bench", session_id="posbench_s1")
nwb.subject = Subject(subject_id="rat7", species="Rattus norvegicus", sex="F", age="P120D",
                      description="a rat", genotype="wt", weight="0.4 kg")
nwb.add_device(nov.DataAcqDevice(name="dataacq_device0", system="SpikeGadgets", amplifier="Intan",
                                 adc_circuit="Intan"))
model = DeviceModel(name="M1", manufacturer="Allied", description="camera model")
nwb.add_device_model(model)
nwb.add_device(nov.CameraDevice(name="camera_device 0", meters_per_pixel=0.002, camera_name="cam_a",
                                lens="lens_a", model=model, frame_rate=30.0))
per, locations = 4, ["CA1", "CA3"]
groups = []
for g in range(2):
    els = [nov.ShanksElectrode(name=str(i), rel_x=float(i), rel_y=2.0 * i, rel_z=0.5) for i in range(per)]
    probe = nov.Probe(name=f"probe {g}", id=g, probe_type="tetrode_12.5", units="um", probe_description="tetrode",
                      contact_size=12.5, contact_side_numbering=True, shanks=[nov.Shank(name="0", shanks_electrodes=els)])
    nwb.add_device(probe)
    eg = nov.NwbElectrodeGroup(name=str(g), description=f"group {g}", location=locations[g], device=probe,
                               targeted_location=locations[g], targeted_x=1.5, targeted_y=2.0, targeted_z=3.0,
                               units="mm")
    nwb.add_electrode_group(eg)
    groups.append(eg)
for name, desc in [("probe_shank", "shank"), ("probe_electrode", "electrode"), ("bad_channel", "bad"),
                   ("ref_elect_id", "reference")]:
    nwb.add_electrode_column(name=name, description=desc)
for i in range(2 * per):
    nwb.add_electrode(x=float(i), y=float(2 * i), z=float(3 * i), imp=float(100 + i), location=locations[i // per],
                      filtering="0.3-6000 Hz", group=groups[i // per], probe_shank=0, probe_electrode=i % per,
                      bad_channel=False, ref_elect_id=-1)
region = nwb.create_electrode_table_region(list(range(2 * per)), "all electrodes")
fs = 30000.0
n_t = int(2 * fs)
data = rng.normal(0, 200, size=(n_t, 2 * per)).astype(np.int16)
nwb.add_acquisition(ElectricalSeries(name="e-series", data=data, electrodes=region, timestamps=np.arange(n_t) / fs + 10.0,
                                     conversion=1.95e-7, filtering="0.3-6000 Hz", description="raw recording",
                                     comments="bench raw"))

def leds(t0, n, seed):
    r = np.random.default_rng(seed)
    t = np.arange(n) / 30.0
    cx, cy = 300 + 200 * np.sin(0.11 * t), 250 + 150 * np.cos(0.07 * t + 1)
    heading = np.arctan2(-10.5 * np.sin(0.07 * t + 1), 22 * np.cos(0.11 * t)) + 0.3 * np.sin(1.3 * t)
    hx, hy = 7.5 * np.cos(heading), 7.5 * np.sin(heading)
    tt = t0 + t + r.uniform(-0.002, 0.002, n)
    led1 = np.stack([cx + hx, cy + hy], 1) + r.uniform(-0.5, 0.5, (n, 2))
    led2 = np.stack([cx - hx, cy - hy], 1) + r.uniform(-0.5, 0.5, (n, 2))
    for k in range(0, n - 400, 9000):
        led2[k + 100:k + 104, 0] += 80.0
        led1[k + 200, 1] += 150.0
        led1[k + 300:k + 306] = np.nan
    led2[-3:] = np.nan
    return np.concatenate([led1, led2], 1), tt

e0 = 10.0 + seconds + 1.0
epochs = [(10.0, e0, "01_s1"), (e0 + 1.0, e0 + 61.0, "02_r1")]
for a, b, tag in epochs:
    nwb.add_epoch(a, b, [tag])
beh = nwb.create_processing_module("behavior", "behavior")
pos = Position(name="position")
for e, (a, b, tag) in enumerate(epochs):
    d, tt = leds(a + 0.5, int(round((seconds if e == 0 else 60.0) * 30)), 20 + e)
    pos.add_spatial_series(SpatialSeries(name=f"led_{e}", data=d, timestamps=tt, reference_frame="corner",
                                         conversion=0.002, unit="meters", description="xloc, yloc, xloc2, yloc2"))
beh.add(pos)
tasks = nwb.create_processing_module("tasks", "tasks")
for k, (tn, env, ep) in enumerate([("sleep", "sleep box", [1]), ("lineartrack", "linear track", [2])]):
    tab = DynamicTable(name=f"task_{k}", description="task")
    tab.add_column("task_name", "name")
    tab.add_column("task_description", "description")
    tab.add_column("camera_id", "camera", index=True)
    tab.add_column("task_epochs", "epochs", index=True)
    tab.add_column("task_environment", "environment")
    tab.add_row(task_name=tn, task_description=f"{tn} task", camera_id=[0], task_epochs=ep, task_environment=env)
    tasks.add(tab)
with NWBHDF5IO(out, "w") as io:
    io.write(nwb)
"#;

/// Python Spyglass, run from a directory holding dj_local_conf.json: inserts the
/// session RAW (in its raw dir), the default TrodesPosParams and the selection of
/// INTERVAL, times `TrodesPosV1.populate(key)`, and prints `populate_s peak_mb
/// base_mb speed_sum n cpu_s`.
const SPYGLASS: &str = r#"
import sys, time, resource
import numpy as np
import datajoint as dj
dj.config["safemode"] = False
from spyglass.data_import import insert_sessions
from spyglass.position.v1 import TrodesPosParams, TrodesPosSelection, TrodesPosV1
from spyglass.position import PositionOutput
raw, interval = sys.argv[1], sys.argv[2]
insert_sessions(raw, raise_err=True)
nwb = raw.replace(".nwb", "_.nwb")
TrodesPosParams().insert_default(skip_duplicates=True)
TrodesPosSelection.insert_with_default({"nwb_file_name": nwb, "interval_list_name": interval}, skip_duplicates=True)
key = {"nwb_file_name": nwb, "interval_list_name": interval, "trodes_pos_params_name": "default"}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t, c = time.perf_counter(), time.process_time()
TrodesPosV1.populate(key)
dt, cpu = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
assert len(TrodesPosV1 & key) == 1 and len(PositionOutput.TrodesPosV1 & key) == 1
df = (TrodesPosV1 & key).fetch1_dataframe()
print(dt, peak, base, repr(float(np.nansum(df["speed"].to_numpy()))), len(df), cpu)
"#;

/// The session file with `seconds` of two-LED position in epoch 0, cached.
fn source(seconds: f64) -> PathBuf {
    let dir = std::env::temp_dir().join("spyglass-bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("posbench{seconds}s20230622.nwb"));
    let tag = dir.join(format!("posbench{seconds}s20230622.nwb.done"));
    if path.exists() && tag.exists() {
        return path;
    }
    let t = Instant::now();
    spyglass_testkit::run_spyglass_python(
        WRITE_SESSION,
        &[path.to_str().unwrap(), &seconds.to_string()],
    );
    std::fs::write(&tag, b"").unwrap();
    eprintln!(
        "  (wrote {} in {:.0} s)",
        path.display(),
        t.elapsed().as_secs_f64()
    );
    path
}

/// Child: open on `url` ("sqlite" for a scratch SQLite file), insert the session,
/// the defaults and the selection of INTERVAL, time TrodesPosV1's populate; prints
/// `populate_s peak_mb base_mb speed_sum n cpu_s`.
fn child_ours(file: &Path, url: &str) {
    std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    let dir = tempfile::tempdir().unwrap();
    let settings = spyglass::Settings::new(dir.path().join("base"));
    let url = if url == "sqlite" {
        format!("sqlite:///{}", dir.path().join("bench.db").display())
    } else {
        url.to_string()
    };
    let db = spyglass::Spyglass::open(&url, settings.clone()).unwrap();
    let r = spyglass::ingest::insert_sessions(
        &db,
        &settings,
        &[file.to_path_buf()],
        &Default::default(),
        &spyglass::ingest::NoProgress,
    )
    .unwrap();
    assert!(r[0].is_ok(), "{:?}", r[0].status);
    let nwb = r[0].nwb_file_name.clone();
    spyglass::defaults::insert_defaults(&db, &[]).unwrap();
    // every pipeline's tables exist before the clock starts, as Spyglass's are
    // declared by its imports
    spyglass::pipelines::declare_all(&db).unwrap();
    use spyglass::position::{merge, trodes_v1};
    let keys = trodes_v1::select(&db, &nwb, Some(INTERVAL), "default").unwrap();
    assert_eq!(keys.len(), 1);
    let cond = spyglass_db::Cond::from(spyglass::kit::row_of("key", &keys[0]).unwrap());
    let base = peak_rss_mb();
    let (t, c) = (Instant::now(), cpu_seconds());
    let rep = db.populate(trodes_v1::TRODES_POS_V1, cond).unwrap();
    let (dt, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    let peak = peak_rss_mb();
    assert_eq!(rep.success_count, 1, "{rep:?}");
    let ids = merge::position_merge_ids(&db, &nwb, Some(INTERVAL)).unwrap();
    assert_eq!(ids.len(), 1);
    let p = merge::fetch_position(&db, &ids[0].0).unwrap();
    let sum: f64 = p.speed.iter().filter(|x| !x.is_nan()).sum();
    println!("{dt} {peak} {base} {sum:?} {} {cpu}", p.speed.len());
}

/// A private MariaDB for Python Spyglass with its base dir, DataJoint config file and
/// a stand-in `conda` (Spyglass records `conda env export` in analysis files); runs
/// [`SPYGLASS`] there on a copy of `file`.
fn run_spyglass(file: &Path) -> Vec<String> {
    let dir = tempfile::Builder::new()
        .prefix("spyglass-bench-")
        .tempdir()
        .unwrap();
    let url = spyglass_testkit::fresh_mariadb();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let base = dir.path().join("base");
    for sub in [
        "raw",
        "analysis",
        "recording",
        "spikesorting",
        "waveforms",
        "tmp",
        "video",
        "export",
    ] {
        std::fs::create_dir_all(base.join(sub)).unwrap();
    }
    let raw_name = file.file_name().unwrap().to_str().unwrap();
    std::fs::copy(file, base.join("raw").join(raw_name)).unwrap();
    let store = |name: &str| {
        let p = base.join(name).display().to_string();
        serde_json::json!({"protocol": "file", "location": p, "stage": p})
    };
    let conf = serde_json::json!({
        "database.host": "127.0.0.1",
        "database.port": port,
        "database.user": "root",
        "database.password": "",
        "database.use_tls": false,
        "safemode": false,
        "filepath_checksum_size_limit": 1073741824u64,
        "stores": {"raw": store("raw"), "analysis": store("analysis")},
        "custom": {"spyglass_dirs": {"base": base.display().to_string()}},
    });
    std::fs::write(dir.path().join("dj_local_conf.json"), conf.to_string()).unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let conda = bin.join("conda");
    std::fs::write(
        &conda,
        "#!/bin/sh\necho 'name: spyglass-bench'\necho 'dependencies: []'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&conda, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(spyglass_testkit::spyglass_python())
        .arg("-c")
        .arg(SPYGLASS)
        .args([raw_name, INTERVAL])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .env("DJ_SUPPORT_FILEPATH_MANAGEMENT", "TRUE")
        .env("SPYGLASS_BASE_DIR", &base)
        .env_remove("DJ_HOST")
        .env_remove("DJ_USER")
        .env_remove("DJ_PASS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "Spyglass: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    last_line(&out.stdout)
}

fn last_line(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn run_ours(file: &Path, url: &str) -> Vec<String> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--phase", "ours", file.to_str().unwrap(), url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ours on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    last_line(&out.stdout)
}

/// One side's figures: populate seconds (wall, CPU), peak and pre-populate RSS (MB),
/// speed sum, samples.
struct Run {
    label: &'static str,
    secs: f64,
    peak_mb: f64,
    base_mb: f64,
    speed_sum: f64,
    n: usize,
    cpu: f64,
}

fn parse(label: &'static str, f: &[String]) -> Run {
    let num = |i: usize| -> f64 {
        f.get(i)
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("{label}: unexpected output {f:?}"))
    };
    Run {
        label,
        secs: num(0),
        peak_mb: num(1),
        base_mb: num(2),
        speed_sum: num(3),
        n: num(4) as usize,
        cpu: num(5),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        match args[i + 1].as_str() {
            "ours" => child_ours(Path::new(&args[i + 2]), &args[i + 3]),
            other => panic!("unknown phase {other}"),
        }
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let seconds: f64 = std::env::var("SPYGLASS_BENCH_POS_SECONDS")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(3600.0);
    let file = source(seconds);
    println!(
        "TrodesPosV1 populate, end to end: two LEDs, {seconds} s at 30 Hz ({} samples), default parameters",
        (seconds * 30.0).round()
    );
    // best of `repeats` runs of each side, interleaved, each run on a fresh database,
    // so that other load on the machine lowers neither figure more than the other
    let repeats: usize = std::env::var("SPYGLASS_BENCH_REPEATS")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(2)
        .max(1);
    let best = |a: Option<Run>, b: Run| match a {
        Some(a) if a.secs <= b.secs => Some(a),
        _ => Some(b),
    };
    let (mut ours_sqlite, mut ours_maria, mut theirs) = (None, None, None);
    for _ in 0..repeats {
        let r = parse("spyglass-rs, SQLite", &run_ours(&file, "sqlite"));
        ours_sqlite = best(ours_sqlite, r);
        let url = spyglass_testkit::fresh_mariadb();
        let r = parse("spyglass-rs, MariaDB", &run_ours(&file, &url));
        ours_maria = best(ours_maria, r);
        let r = parse("Spyglass 0.6 (Python), MariaDB", &run_spyglass(&file));
        theirs = best(theirs, r);
    }
    let (ours_sqlite, ours_maria, theirs) = (
        ours_sqlite.expect("a run"),
        ours_maria.expect("a run"),
        theirs.expect("a run"),
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "best of {repeats} runs each, interleaved; {} cores, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    println!("| populate of TrodesPosV1 | time | Spyglass / this | CPU time | Spyglass / this | peak RSS (before populate) | speed sum (cm/s) |");
    println!("|---|---|---|---|---|---|---|");
    for r in [&ours_sqlite, &ours_maria, &theirs] {
        println!(
            "| {} | {:.3} s | {:.1}× | {:.3} s | {:.1}× | {:.0} MB ({:.0} MB) | {:.12e} over {} samples |",
            r.label,
            r.secs,
            theirs.secs / r.secs,
            r.cpu,
            theirs.cpu / r.cpu,
            r.peak_mb,
            r.base_mb,
            r.speed_sum,
            r.n
        );
    }
    for r in [&ours_sqlite, &ours_maria] {
        assert_eq!(r.n, theirs.n, "{}: sample count", r.label);
        let rel = (r.speed_sum - theirs.speed_sum).abs() / theirs.speed_sum.abs();
        println!(
            "{}: speed sum relative difference to Spyglass's {rel:.1e} (≤ {SUM_TOL:e} asserted)",
            r.label
        );
        assert!(
            rel <= SUM_TOL,
            "{}: speed sum {} vs Spyglass's {}",
            r.label,
            r.speed_sum,
            theirs.speed_sum
        );
    }
    println!(
        "Spyglass / ours, wall time: {:.1}× (SQLite), {:.1}× (MariaDB); CPU time of the populating process: {:.1}×, {:.1}×; target ≥ 50×",
        theirs.secs / ours_sqlite.secs,
        theirs.secs / ours_maria.secs,
        theirs.cpu / ours_sqlite.cpu,
        theirs.cpu / ours_maria.cpu
    );
}

//! Interop with Python Spyglass 0.6.0 on one private MariaDB and one base dir.
//!
//! Spyglass first: Python Spyglass declares its schemas, ingests a session (a file
//! written with pynwb + ndx-franklab-novela as Spyglass's tests build one) and runs
//! LFPV1. Then spyglass-rs, through its CLI, on the same server and base dir:
//! `check`, `defaults`, `filter add` twice, `insert` of a second file, LFPV1 on
//! it, `export start/stop/run` with `fetch-nwb` logged, and a cascading delete with
//! its files. After each step Python Spyglass reads the result (fetch, fetch_nwb,
//! merge_get_part, Export rows), and the new session's common tables hold as many
//! rows as Spyglass made for its own session. The other way: spyglass-rs declares
//! first, then Python Spyglass imports and ingests into those tables.
//!
//! Slow (Spyglass imports for ~20 s and ingests for ~50 s): set
//! `SPYGLASS_SKIP_SPYGLASS_INTEROP=1` to skip it. Needs `.venv-spyglass`
//! (scripts/setup.sh) or `$SPYGLASS_SPYGLASS_PYTHON`.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

fn skipped() -> bool {
    if std::env::var("SPYGLASS_SKIP_SPYGLASS_INTEROP").is_ok_and(|v| !v.is_empty() && v != "0") {
        eprintln!("skipped: SPYGLASS_SKIP_SPYGLASS_INTEROP is set");
        return true;
    }
    false
}

fn spyglass_python() -> PathBuf {
    if let Ok(p) = std::env::var("SPYGLASS_SPYGLASS_PYTHON") {
        return PathBuf::from(p);
    }
    let p = spyglass_testkit::workspace_root().join(".venv-spyglass/bin/python");
    assert!(
        p.exists(),
        "Python Spyglass is missing ({}); run scripts/setup.sh (or set SPYGLASS_SKIP_SPYGLASS_INTEROP=1)",
        p.display()
    );
    p
}

fn py_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py")
}

/// A lab installation: a private MariaDB, a base dir, DataJoint's config file and a
/// stand-in `conda` (Spyglass records `conda env export` in analysis files).
struct Lab {
    dir: tempfile::TempDir,
    url: String,
}

impl Lab {
    fn new() -> Lab {
        let dir = spyglass_testkit::scratch_dir();
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
        let store = |name: &str| {
            let p = base.join(name).display().to_string();
            json!({"protocol": "file", "location": p, "stage": p})
        };
        let conf = json!({
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
        std::fs::write(
            dir.path().join("dj_local_conf.json"),
            serde_json::to_string_pretty(&conf).unwrap(),
        )
        .unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let conda = bin.join("conda");
        std::fs::write(
            &conda,
            "#!/bin/sh\necho 'name: spyglass-interop'\necho 'dependencies: []'\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&conda, std::fs::Permissions::from_mode(0o755)).unwrap();
        Lab { dir, url }
    }

    fn base(&self) -> PathBuf {
        self.dir.path().join("base")
    }

    fn path_env(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// Runs the spyglass CLI on the lab's server and base dir; (success, stdout+stderr).
    fn rs(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_spyglass"))
            .arg("--db")
            .arg(&self.url)
            .args(args)
            .current_dir(self.dir.path())
            .env("SPYGLASS_BASE_DIR", self.base())
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .env_remove("SPYGLASS_DB")
            .env_remove("DJ_HOST")
            .env_remove("DJ_USER")
            .env_remove("DJ_PASS")
            .stdin(Stdio::null())
            .output()
            .expect("run spyglass");
        let text = crate::common::text(&out);
        (out.status.success(), text)
    }

    /// Like [`Lab::rs`], failing the test with the output when the command fails.
    fn rs_ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.rs(args);
        assert!(ok, "spyglass {args:?} failed:\n{text}");
        text
    }

    /// Writes a session with the Spyglass environment's pynwb into `raw/`.
    fn write_session(&self, name: &str, seed: u32) -> PathBuf {
        self.write_session_with(name, seed, &["6"])
    }

    /// Like [`Lab::write_session`], with lab_session.py's SECONDS [CONVERSION NOISE SPIKES].
    fn write_session_with(&self, name: &str, seed: u32, args: &[&str]) -> PathBuf {
        let path = self.base().join("raw").join(name);
        let out = Command::new(spyglass_python())
            .arg(py_dir().join("lab_session.py"))
            .arg(&path)
            .arg(seed.to_string())
            .args(args)
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .output()
            .expect("run lab_session.py");
        assert!(
            out.status.success(),
            "lab_session.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    }

    fn oracle(&self) -> Oracle {
        let mut child = Command::new(spyglass_python())
            .arg(py_dir().join("spyglass_oracle.py"))
            .current_dir(self.dir.path())
            .env("PATH", self.path_env())
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .env("DJ_SUPPORT_FILEPATH_MANAGEMENT", "TRUE")
            .env("SPYGLASS_BASE_DIR", self.base())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Spyglass oracle");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut o = Oracle {
            child,
            stdin,
            stdout,
        };
        let ready = o.answer();
        assert_eq!(ready["ready"], true, "{ready}");
        o
    }
}

/// Python Spyglass, running, answering one JSON command at a time.
struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Oracle {
    fn answer(&mut self) -> Value {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stdout.read_line(&mut line).expect("read the oracle");
            assert!(n > 0, "the Spyglass oracle exited");
            if let Some(j) = line.strip_prefix("@@ORACLE@@ ") {
                return serde_json::from_str(j).expect("oracle JSON");
            }
        }
    }

    /// Runs one operation; panics with Spyglass's traceback when it raised.
    fn call(&mut self, op: &str, args: Value) -> Value {
        let cmd = json!({"op": op, "args": args});
        writeln!(self.stdin, "{cmd}").expect("write to the oracle");
        self.stdin.flush().unwrap();
        let a = self.answer();
        if let Some(e) = a.get("error") {
            panic!(
                "Spyglass {op}{args}: {e}\n{}",
                a["trace"].as_str().unwrap_or(""),
                args = cmd["args"]
            );
        }
        a["ok"].clone()
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `spyglass check --format json`, asserting that no table is incompatible.
fn check_json(lab: &Lab) -> Value {
    let (ok, text) = lab.rs(&["check", "--format", "json"]);
    let json_end = text.rfind('}').map(|i| i + 1).unwrap_or(0);
    let j: Value =
        serde_json::from_str(&text[..json_end]).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(
        j["incompatible"],
        json!([]),
        "incompatible tables: {}",
        serde_json::to_string_pretty(&j["incompatible"]).unwrap()
    );
    assert!(ok, "{text}");
    j
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_string(v).unwrap()).unwrap();
}

#[test]
fn spyglass_and_spyglass_rs_share_a_lab_database() {
    if skipped() {
        return;
    }
    let t0 = Instant::now();
    let lab = Lab::new();
    let py_raw = "pyrat20230622.nwb";
    let rs_raw = "rsrat20230623.nwb";
    let (py_nwb, rs_nwb) = ("pyrat20230622_.nwb", "rsrat20230623_.nwb");
    lab.write_session(py_raw, 1);
    let rs_src = lab.write_session(rs_raw, 2);

    // Spyglass declares its schemas, ingests its session and runs LFPV1
    let mut py = lab.oracle();
    py.call("ingest", json!([py_raw]));
    let py_counts = py.call("counts", json!([py_nwb]));
    assert_eq!(py_counts["Electrode"], 8, "{py_counts}");
    assert_eq!(py.call("lfp", json!([py_nwb, "lab"]))["lfpv1"], 1);
    let py_session = py.call("read_session", json!([py_nwb]));
    eprintln!(
        "Spyglass made its session in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    // check: every table spyglass-rs uses is compatible; comment differences listed
    let (_, check) = lab.rs(&["check"]);
    eprintln!("spyglass check on Spyglass's database:\n{check}");
    assert!(
        check.contains("common_nwbfile.nwbfile") && check.contains("table comment"),
        "{check}"
    );
    let j = check_json(&lab);
    assert!(j["differing"].as_array().unwrap().len() > 5, "{j}");
    assert_eq!(j["orphans"]["files_without_rows"], json!([]), "{j}");
    // the differences Spyglass's own tables show are comments only
    for d in j["differing"].as_array().unwrap() {
        for what in d["differences"].as_array().unwrap() {
            let w = what.as_str().unwrap();
            assert!(w.contains("comment"), "{}: {w}", d["table"]);
        }
    }

    // defaults: Spyglass's standard filters are there already, nothing is added
    let text = lab.rs_ok(&["defaults"]);
    assert!(
        text.contains("common_filter.FirFilterParameters: 0 default rows inserted"),
        "{text}"
    );
    // filter add twice: the second keeps the stored row
    let theta = [
        "filter",
        "add",
        "Theta 5-11 Hz",
        "--rate",
        "1000",
        "--type",
        "bandpass",
        "--edges",
        "4,5,11,12",
        "--comment",
        "theta",
    ];
    assert!(lab.rs_ok(&theta).contains("added filter"));
    let again = lab.rs_ok(&theta);
    assert!(again.contains("already stored with this design"), "{again}");
    let mut other = theta.to_vec();
    other[10] = "another comment";
    assert!(lab.rs_ok(&other).contains("kept the stored row"));
    // replacing the filter LFPV1 rows were computed with is refused
    let (ok, text) = lab.rs(&[
        "filter",
        "add",
        "LFP 0-400 Hz",
        "--rate",
        "30000",
        "--type",
        "lowpass",
        "--edges",
        "400,450",
        "--replace",
    ]);
    assert!(!ok && text.contains("rows were computed with it"), "{text}");
    // Spyglass reads our filter as it reads its own design of the same filter
    py.call(
        "add_filter",
        json!(["Theta py", 1000, "bandpass", [4, 5, 11, 12], "theta"]),
    );
    let filters = py.call("filters", json!([]));
    let f = |name: &str, rate: i64| {
        filters
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name && x["rate"] == rate)
            .unwrap_or_else(|| panic!("{name} missing: {filters}"))
            .clone()
    };
    let (ours, theirs) = (f("Theta 5-11 Hz", 1000), f("Theta py", 1000));
    assert_eq!(ours["edges"], theirs["edges"], "{ours} vs {theirs}");
    assert_eq!(ours["edges"]["dtype"], "int64");
    assert_eq!(
        (ours["ntaps"].clone(), ours["comments"].clone()),
        (json!(5335), json!("theta"))
    );
    let dsum = (ours["coeff_sum"].as_f64().unwrap() - theirs["coeff_sum"].as_f64().unwrap()).abs();
    assert!(dsum < 1e-9, "coefficient sums differ by {dsum}");
    assert_eq!(f("LFP 0-400 Hz", 30000)["ntaps"], 6401);
    assert_eq!(
        f("LFP 0-400 Hz", 30000)["comments"],
        "standard LFP filter for 30 KHz data"
    );
    assert_eq!(filters.as_array().unwrap().len(), 4, "{filters}");

    // insert a second file: its common rows count as Spyglass's for its own session
    // the camera's make is a DeviceModel (NWB 2.9), read as Spyglass 0.6 reads it, so
    // the CameraDevice row agrees with the one Spyglass inserted
    lab.rs_ok(&["insert", rs_src.to_str().unwrap()]);
    assert_eq!(py.call("counts", json!([rs_nwb])), py_counts);

    // LFPV1 on it, through spyglass-rs
    let group: Vec<Value> = (0..8)
        .map(|e| {
            json!({"nwb_file_name": rs_nwb, "lfp_electrode_group_name": "lab",
                        "electrode_group_name": (e / 4).to_string(), "electrode_id": e})
        })
        .collect();
    let staging = lab.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    write_json(
        &staging.join("group.json"),
        &json!([{"nwb_file_name": rs_nwb, "lfp_electrode_group_name": "lab"}]),
    );
    write_json(&staging.join("electrodes.json"), &Value::Array(group));
    write_json(
        &staging.join("selection.json"),
        &json!([{"nwb_file_name": rs_nwb, "lfp_electrode_group_name": "lab",
                 "target_interval_list_name": "raw data valid times", "filter_name": "LFP 0-400 Hz",
                 "filter_sampling_rate": 30000, "target_sampling_rate": 1000.0}]),
    );
    for (table, file) in [
        ("lfp_electrode.LFPElectrodeGroup", "group.json"),
        (
            "lfp_electrode.LFPElectrodeGroup.LFPElectrode",
            "electrodes.json",
        ),
        ("lfp_v1.LFPSelection", "selection.json"),
    ] {
        lab.rs_ok(&["load", table, staging.join(file).to_str().unwrap()]);
    }
    lab.rs_ok(&[
        "populate",
        "lfp_v1.LFPV1",
        "--key",
        &format!("nwb_file_name={rs_nwb}"),
    ]);
    let rs_session = py.call("read_session", json!([rs_nwb]));
    assert_eq!(rs_session["lfpv1_rows"], 1, "{rs_session}");
    assert_eq!(rs_session["merge_parts"], 1, "{rs_session}");
    assert_eq!(rs_session["lfp_dtype"], "int16");
    // same duration and timing as Spyglass's own session: the same LFP shape and valid times
    assert_eq!(
        rs_session["lfp_shape"], py_session["lfp_shape"],
        "{rs_session} vs {py_session}"
    );
    assert_eq!(rs_session["merge_lfp_shape"], rs_session["lfp_shape"]);
    assert_eq!(
        rs_session["lfp_valid_times"]["shape"],
        py_session["lfp_valid_times"]["shape"]
    );
    let rs_files = py.call("analysis_files", json!([rs_nwb]));
    assert_eq!(rs_files.as_array().unwrap().len(), 1, "{rs_files}");
    let rs_file = rs_files[0].as_str().unwrap().to_string();

    // TrodesPosV1 on Spyglass's session, by each tool: Spyglass with its `default`
    // parameters, spyglass-rs with the same values stored as `rs_default`; Spyglass
    // reads both through PositionOutput's fetch1_dataframe
    assert_eq!(py.call("trodes", json!([py_nwb]))["trodes"], 2);
    lab.rs_ok(&["position", "params", "add", "rs_default"]);
    lab.rs_ok(&["position", "select", py_nwb, "--params", "rs_default"]);
    let text = lab.rs_ok(&["populate", "position_v1_trodes_position.TrodesPosV1"]);
    assert!(text.contains("made 2 keys, 0 errors"), "{text}");
    let read = py.call("read_position", json!([py_nwb]));
    let read = read.as_object().unwrap();
    assert_eq!(read.len(), 4, "{read:?}");
    for (name, theirs) in read.iter().filter(|(k, _)| k.ends_with("|default")) {
        let ours = &read[&name.replace("|default", "|rs_default")];
        assert_eq!(ours["shape"], theirs["shape"], "{name}");
        assert_eq!(ours["columns"], theirs["columns"], "{name}");
        let sums = theirs["sums"].as_object().unwrap();
        let pairs = sums.iter().map(|(c, v)| (c.as_str(), v, &ours["sums"][c]));
        for (column, a, b) in pairs.chain([("time", &theirs["time_sum"], &ours["time_sum"])]) {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(
                (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                "{name} {column}: Spyglass {a}, spyglass-rs {b}"
            );
        }
    }

    // an export logs fetch-nwb's file; Spyglass reads the ExportSelection and Export rows
    lab.rs_ok(&["export", "start", "--paper", "lab", "--analysis", "lfp"]);
    lab.rs_ok(&[
        "show",
        "common_session.Session",
        "--key",
        &format!("nwb_file_name={rs_nwb}"),
    ]);
    let out_dir = lab.dir.path().join("fetched");
    let text = lab.rs_ok(&[
        "fetch-nwb",
        "lfp_merge.LFPOutput",
        "--key",
        &format!("nwb_file_name={rs_nwb}"),
        "--format",
        "json",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    // stdout's JSON, then stderr's "wrote N files"
    let end = text.rfind(']').map(|i| i + 1).unwrap_or(0);
    let fetched: Value =
        serde_json::from_str(&text[..end]).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(fetched.as_array().unwrap().len(), 1, "{fetched}");
    let obj = &fetched[0]["objects"][0];
    assert_eq!(obj["name"], "lfp");
    assert_eq!(obj["neurodata_type"], "ElectricalSeries");
    let npy: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with("_data.npy"))
        .collect();
    assert_eq!(npy.len(), 1, "{npy:?}");
    let arr = py.call("npy", json!([npy[0].display().to_string()]));
    assert_eq!(
        (arr["dtype"].clone(), arr["shape"].clone()),
        (json!("int16"), rs_session["lfp_shape"].clone())
    );
    lab.rs_ok(&["export", "stop"]);
    let exp_dir = lab.dir.path().join("exports");
    lab.rs_ok(&[
        "export",
        "run",
        "--paper",
        "lab",
        "-o",
        exp_dir.to_str().unwrap(),
    ]);
    let ex = py.call("exports", json!(["lab"]));
    assert_eq!(ex["selections"], 1, "{ex}");
    assert_eq!(ex["selection_files"], json!([rs_file.clone()]), "{ex}");
    assert_eq!(ex["exports"], 1, "{ex}");
    assert!(
        ex["export_files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().ends_with(&rs_file)),
        "{ex}"
    );

    // a cascading delete takes the external rows and files with it
    let copy = lab.base().join("raw").join(rs_nwb);
    let analysis = lab
        .base()
        .join("analysis")
        .join(rs_file.rsplit_once('_').unwrap().0)
        .join(&rs_file);
    assert!(copy.exists() && analysis.exists());
    let text = lab.rs_ok(&[
        "delete",
        "common_nwbfile.Nwbfile",
        "--key",
        &format!("nwb_file_name={rs_nwb}"),
        "--yes",
    ]);
    assert!(text.contains("deleted"), "{text}");
    assert!(!copy.exists(), "{} is left", copy.display());
    assert!(!analysis.exists(), "{} is left", analysis.display());
    assert!(rs_src.exists(), "the original recording must stay");
    let ext = py.call("externals", json!([]));
    assert_eq!(
        (ext["unused_raw"].clone(), ext["unused_analysis"].clone()),
        (json!(0), json!(0)),
        "{ext}"
    );
    assert!(!ext.to_string().contains("rsrat"), "{ext}");
    let gone = py.call("counts", json!([rs_nwb]));
    assert!(gone.as_object().unwrap().values().all(|v| v == 0), "{gone}");
    // Spyglass's own session is untouched
    assert_eq!(py.call("read_session", json!([py_nwb])), py_session);
    let after = check_json(&lab);
    assert_eq!(
        after["orphans"]["merge_rows_without_part"],
        json!([]),
        "{after}"
    );
    assert_eq!(
        after["orphans"]["external_rows_without_rows"],
        json!([]),
        "{after}"
    );
    assert_eq!(after["orphans"]["files_without_rows"], json!([]), "{after}");
    drop(py);
    eprintln!(
        "Spyglass first, then spyglass-rs: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

#[test]
fn spyglass_ingests_into_tables_spyglass_rs_declared() {
    if skipped() {
        return;
    }
    let t0 = Instant::now();
    let lab = Lab::new();
    // spyglass-rs declares the common, filter and LFP tables (and inserts the standard filters)
    let text = lab.rs_ok(&["defaults"]);
    assert!(text.contains("2 default rows inserted"), "{text}");
    let raw = "pyrat20230622.nwb";
    lab.write_session(raw, 1);
    let mut py = lab.oracle();
    py.call("ingest", json!([raw]));
    assert_eq!(
        py.call("lfp", json!(["pyrat20230622_.nwb", "lab"]))["lfpv1"],
        1
    );
    let counts = py.call("counts", json!(["pyrat20230622_.nwb"]));
    assert_eq!(
        (counts["Electrode"].clone(), counts["IntervalList"].clone()),
        (json!(8), json!(6)),
        "{counts}"
    );
    let s = py.call("read_session", json!(["pyrat20230622_.nwb"]));
    assert_eq!(s["merge_parts"], 1, "{s}");
    // and spyglass-rs reads what Spyglass wrote
    let shown = lab.rs_ok(&["show", "lfp_v1.LFPV1", "--format", "json"]);
    assert!(shown.contains("pyrat20230622_.nwb"), "{shown}");
    check_json(&lab);
    eprintln!(
        "spyglass-rs first, then Spyglass: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// The second word of a selection command's first line (`Table <id>: …`).
fn id_of(out: &str) -> String {
    out.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches(':')
        .to_string()
}

/// Two lists of spike times agree to 1e-9 s (JSON carries float64 to the last bit
/// or one off); returns the largest difference.
fn same_times(a: &[f64], b: &[f64], what: &str) -> f64 {
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: {} vs {} spikes",
        a.len(),
        b.len()
    );
    let d = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(d < 1e-9, "{what}: spike times differ by up to {d} s");
    d
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Spike sorting v1 on a database Python Spyglass declared: its schemas and parameter
/// rows are used as they are (`check`: comments differ only); spyglass-rs sorts one
/// tetrode with `clusterless_thresholder` / `default_clusterless` and curates it;
/// Python Spyglass reads our rows (fetch_nwb, CurationV1.get_sorting on our
/// materialized recording, SpikeSortingOutput.get_spike_times), then runs its own
/// chain on the same sort group and parameters, and the two agree: the recording's
/// samples, the artifact intervals and the spike times. The session's gain is
/// 1 µV per unit, so that Spyglass 0.6 applying `detect_threshold` in stored units
/// (issue 17) and spyglass-rs applying it in µV are the same threshold.
#[test]
fn spyglass_rs_sorts_in_spikesorting_tables_spyglass_declared() {
    if skipped() {
        return;
    }
    let t0 = Instant::now();
    let lab = Lab::new();
    let raw = "ssrat20230622.nwb";
    let nwb = "ssrat20230622_.nwb";
    // 6 s, 1 µV per unit, noise of 10 µV, 20 spikes/s on tetrode 0 and an artifact at 2 s
    lab.write_session_with(raw, 3, &["6", "1e-6", "10", "20"]);
    let mut py = lab.oracle();
    py.call("ingest", json!([raw]));
    let declared = py.call("sorting_declare", json!(["interop"]));
    eprintln!("Spyglass declared spike sorting v1: {declared}");
    let spyglass_sorter_rows = declared["sorter"].as_i64().unwrap();

    // check: the v1 tables are used as Spyglass declared them (comment differences only)
    let j = check_json(&lab);
    let sorting_schemas = [
        "spikesorting_v1_recording.",
        "spikesorting_v1_artifact.",
        "spikesorting_v1_sorting.",
        "spikesorting_v1_curation.",
        "spikesorting_merge.",
    ];
    let is_sorting = |t: &str| sorting_schemas.iter().any(|s| t.starts_with(s));
    let mut used: Vec<String> = j["identical"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .filter(|t| is_sorting(t))
        .collect();
    for d in j["differing"].as_array().unwrap() {
        let t = d["table"].as_str().unwrap();
        if !is_sorting(t) {
            continue;
        }
        used.push(t.to_string());
        for what in d["differences"].as_array().unwrap() {
            let w = what.as_str().unwrap();
            assert!(w.contains("comment"), "{t}: {w}");
        }
    }
    used.sort();
    eprintln!("spike-sorting tables used as Spyglass declared them: {used:?}");
    for t in [
        "spikesorting_v1_recording.sort_group",
        "spikesorting_v1_recording.sort_group__sort_group_electrode",
        "spikesorting_v1_recording.#spike_sorting_preprocessing_parameters",
        "spikesorting_v1_recording.spike_sorting_recording_selection",
        "spikesorting_v1_recording.__spike_sorting_recording",
        "spikesorting_v1_artifact.#artifact_detection_parameters",
        "spikesorting_v1_artifact.artifact_detection_selection",
        "spikesorting_v1_artifact.__artifact_detection",
        "spikesorting_v1_sorting.#spike_sorter_parameters",
        "spikesorting_v1_sorting.spike_sorting_selection",
        "spikesorting_v1_sorting.__spike_sorting",
        "spikesorting_v1_curation.curation_v1",
        "spikesorting_merge.spike_sorting_output",
        "spikesorting_merge.spike_sorting_output__curation_v1",
    ] {
        assert!(used.iter().any(|u| u == t), "{t} not checked: {used:?}");
    }
    assert!(
        !j["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| is_sorting(t.as_str().unwrap())),
        "{}",
        j["missing"]
    );

    // spyglass-rs: sort groups by shank, recording, artifacts, clusterless sorting, curation
    let text = lab.rs_ok(&["sorting", "group-by-shank", nwb]);
    assert!(text.contains("2 sort groups"), "{text}");
    // Spyglass's parameter rows, as Python stored them, are read as they are
    let listed = lab.rs_ok(&["sorting", "sorter", "params", "list"]);
    assert_eq!(
        listed.lines().count() as i64,
        spyglass_sorter_rows,
        "{listed}"
    );
    assert!(
        listed.contains("clusterless_thresholder / default_clusterless: "),
        "{listed}"
    );
    let rec = id_of(&lab.rs_ok(&[
        "sorting",
        "recording",
        "select",
        nwb,
        "--sort-group",
        "0",
        "--interval",
        "raw data valid times",
        "--params",
        "default",
        "--team",
        "interop",
    ]));
    let text = lab.rs_ok(&[
        "populate",
        "spikesorting_v1_recording.SpikeSortingRecording",
    ]);
    assert!(text.contains("made 1 keys, 0 errors"), "{text}");
    lab.rs_ok(&["sorting", "recording", "materialize", &rec]);
    let artifact =
        id_of(&lab.rs_ok(&["sorting", "artifact", "select", &rec, "--params", "default"]));
    lab.rs_ok(&["populate", "spikesorting_v1_artifact.ArtifactDetection"]);
    let sorting = id_of(&lab.rs_ok(&["sorting", "select", &rec, "--interval", &artifact]));
    let text = lab.rs_ok(&["populate", "spikesorting_v1_sorting.SpikeSorting"]);
    assert!(text.contains("made 1 keys, 0 errors"), "{text}");
    let text = lab.rs_ok(&["sorting", "curation", "insert", &sorting]);
    assert!(text.contains("SpikeSortingOutput"), "{text}");
    eprintln!(
        "spyglass-rs sorted: recording {rec}, artifact {artifact}, sorting {sorting} ({:.1} s)",
        t0.elapsed().as_secs_f64()
    );

    // what we stored, through the library
    let db = spyglass_db::Db::open(&lab.url).unwrap();
    spyglass::Settings::new(lab.base()).configure_stores(&db);
    let ours = spyglass::spikesorting::curation_v1::get_sorting(
        &db,
        &spyglass::spikesorting::curation_v1::CurationKey {
            sorting_id: sorting.parse().unwrap(),
            curation_id: 0,
        },
    )
    .unwrap();
    assert_eq!(ours.len(), 1, "one clusterless unit");
    let our_times = ours[0].spike_times.clone();
    assert!(our_times.len() > 60, "{} spikes", our_times.len());

    // Spyglass reads our rows
    let read = py.call("sorting_read", json!([sorting]));
    let cur = &read["curations"]["0"];
    for (what, theirs) in [
        ("SpikeSorting.fetch_nwb", &read["sorting_units"]["0"]),
        ("CurationV1.get_sorting", &cur["units"]["0"]),
        (
            "SpikeSortingOutput.get_spike_times",
            &cur["merge_spike_times"][0],
        ),
    ] {
        let d = same_times(&floats(theirs), &our_times, what);
        eprintln!(
            "{what} on our rows: {} spikes, largest difference {d:e} s",
            our_times.len()
        );
    }
    assert_eq!(cur["merge_sorting_units"], 1);
    // SpikeInterface estimates the rate from the timestamps (as for Spyglass's own files)
    assert!(
        (cur["rate"].as_f64().unwrap() - 30000.0).abs() < 1e-3,
        "{}",
        cur["rate"]
    );
    let samples: Vec<i64> = cur["samples"]["0"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(samples.len(), our_times.len());
    // the raw clock starts at 10 s, 30 kHz: get_sorting's samples are the spike times'
    for (s, t) in samples.iter().zip(&our_times) {
        assert!(
            ((*s as f64) / 30000.0 + 10.0 - t).abs() < 0.5 / 30000.0,
            "{s} vs {t}"
        );
    }
    let ours_rec = py.call("recording_read", json!([rec]));
    assert_eq!(ours_rec["channel_ids"], json!([0, 1, 2, 3]), "{ours_rec}");
    assert_eq!(
        ours_rec["electrode_rows"],
        json!([0, 1, 2, 3]),
        "{ours_rec}"
    );
    assert_eq!(ours_rec["times"][0], 10.0, "{ours_rec}");

    // Spyglass's own chain on the same sort group and parameters
    let theirs = py.call(
        "sorting_python",
        json!([nwb, 0, "raw data valid times", "interop"]),
    );
    eprintln!(
        "Spyglass sorted: {theirs} ({:.1} s)",
        t0.elapsed().as_secs_f64()
    );
    let their_rec = theirs["recording_id"].as_str().unwrap();
    let spy_rec = py.call("recording_read", json!([their_rec]));
    for k in [
        "shape",
        "channel_ids",
        "electrode_rows",
        "times",
        "locations",
        "gains",
        "conversion",
    ] {
        assert_eq!(ours_rec[k], spy_rec[k], "{k}: {ours_rec} vs {spy_rec}");
    }
    let diff = py.call("recording_diff", json!([rec, their_rec]));
    eprintln!("recordings, ours vs Spyglass's: {diff}");
    assert_eq!(diff["times_equal"], true, "{diff}");
    // Spyglass filters in 1 s chunks with 5 ms margins; ours is the whole-series filter
    assert!(diff["rel_rms"].as_f64().unwrap() < 2e-3, "{diff}");
    let (a_ours, a_theirs) = (
        py.call("intervals", json!([nwb, artifact])),
        py.call("intervals", json!([nwb, theirs["artifact_id"]])),
    );
    eprintln!("artifact-free times: ours {a_ours}, Spyglass's {a_theirs}");
    assert_eq!(a_ours, a_theirs);
    assert!(
        a_ours.as_array().unwrap().len() >= 2,
        "the artifact at 2 s is removed: {a_ours}"
    );
    let spy = py.call("sorting_read", json!([theirs["sorting_id"]]));
    let spy_times = floats(&spy["sorting_units"]["0"]);
    eprintln!(
        "clusterless spikes: ours {}, Spyglass's {}",
        our_times.len(),
        spy_times.len()
    );
    let d = same_times(
        &our_times,
        &spy_times,
        "ours vs Spyglass's clusterless_thresholder",
    );
    eprintln!("ours vs Spyglass's spike times: largest difference {d:e} s");
    drop(py);
    let after = check_json(&lab);
    assert_eq!(after["orphans"]["files_without_rows"], json!([]), "{after}");
    eprintln!(
        "spike sorting on Spyglass's tables: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// The other way: spyglass-rs declares the spike-sorting v1 schemas and stores the
/// parameter rows (`defaults`); Python Spyglass ingests a session, makes its sort
/// groups and runs its own recording, artifact detection and clusterless sorting in
/// those tables, with the parameter rows as spyglass-rs stored them; spyglass-rs
/// then reads Spyglass's sorting (a curation of it, through its units file) and
/// Spyglass reads that curation back.
#[test]
fn spyglass_sorts_in_tables_spyglass_rs_declared() {
    if skipped() {
        return;
    }
    let t0 = Instant::now();
    let lab = Lab::new();
    lab.rs_ok(&["defaults"]);
    let raw = "rsdecl20230622.nwb";
    let nwb = "rsdecl20230622_.nwb";
    lab.write_session_with(raw, 4, &["6", "1e-6", "10", "20"]);
    let mut py = lab.oracle();
    py.call("ingest", json!([raw]));
    let declared = py.call("sorting_declare", json!(["interop"]));
    // Spyglass's 22 sorter rows (as spyglass-rs stored them) and spyglass_sorter's
    assert!(declared["sorter"].as_i64().unwrap() > 22, "{declared}");
    let groups = py.call("sort_groups", json!([nwb]));
    assert_eq!(groups, json!({"groups": 2, "electrodes": 8}));
    let theirs = py.call(
        "sorting_python",
        json!([nwb, 0, "raw data valid times", "interop"]),
    );
    let sorting = theirs["sorting_id"].as_str().unwrap();
    let read = py.call("sorting_read", json!([sorting]));
    let spy_times = floats(&read["sorting_units"]["0"]);
    assert!(spy_times.len() > 60, "{} spikes", spy_times.len());
    // spyglass-rs reads Spyglass's rows: a curation of its sorting, from its units file
    let shown = lab.rs_ok(&[
        "show",
        "spikesorting_v1_recording.SpikeSortingRecording",
        "--format",
        "json",
    ]);
    assert!(
        shown.contains(theirs["recording_id"].as_str().unwrap()),
        "{shown}"
    );
    let text = lab.rs_ok(&["sorting", "curation", "insert", sorting]);
    assert!(text.contains("SpikeSortingOutput"), "{text}");
    let listed = lab.rs_ok(&["sorting", "curation", "list", sorting]);
    assert!(
        listed.starts_with("0\tparent -1\tmerges_applied false\t1 units"),
        "{listed}"
    );
    let read = py.call("sorting_read", json!([sorting]));
    let cur = &read["curations"]["0"];
    same_times(
        &floats(&cur["units"]["0"]),
        &spy_times,
        "our curation of Spyglass's sorting",
    );
    same_times(
        &floats(&cur["merge_spike_times"][0]),
        &spy_times,
        "SpikeSortingOutput.get_spike_times of our curation",
    );
    drop(py);
    check_json(&lab);
    eprintln!(
        "spyglass-rs declared, Spyglass sorted {} spikes: {:.1} s",
        spy_times.len(),
        t0.elapsed().as_secs_f64()
    );
}

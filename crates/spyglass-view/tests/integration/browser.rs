//! `spyglass view` on the demo session in a real headless Chromium: every view loads
//! without console errors (screenshots written as artifacts); the traces view plots
//! the samples stored in the NWB files (read independently with h5py) and the theta
//! band shows the demo's theta frequency; zooming halves the window; a request without
//! the token is refused (401) and the read-only server refuses curation (403). The
//! timing of the first paint and of a zoom step (performance marks) is printed.

use crate::common::{self, Browser};
use serde_json::{json, Value as J};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The demo (`spyglass demo`) written once per test process.
fn demo() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        spyglass_testkit::disable_hdf5_file_locking();
        let tmp = spyglass_testkit::scratch_dir();
        let out = std::process::Command::new(common::spyglass_bin())
            .args(["demo", "--dir"])
            .arg(tmp.path().join("demo"))
            .env("SPYGLASS_BASE_DIR", tmp.path().join("demo/base"))
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .output()
            .expect("run spyglass demo");
        assert!(
            out.status.success(),
            "spyglass demo failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmp
    })
    .path()
}

/// The file named `name` under `dir` (recursively).
pub(crate) fn find_file(dir: &Path, name: &str) -> PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                return p;
            }
        }
    }
    panic!("{name} not found under {}", dir.display())
}

/// h5py's opening of the series with object id `oid` (argv 2) in the file (argv 1):
/// `d` its data, `ts` its timestamps, `conv`, `off`, `cc` and `k` what makes stored
/// values µV (conversion, offset, channel_conversion as NWB defines them; 1e6 for volts).
const H5PY_SERIES: &str = r#"
import sys, json, h5py, numpy as np
path, oid = sys.argv[1], sys.argv[2]
f = h5py.File(path, 'r')
def find(g, depth=0):
    # follows soft and external links too (the `_` copy links its raw data)
    for k in g.keys():
        try:
            o = g[k]
        except Exception:
            continue
        v = o.attrs.get('object_id')
        if isinstance(v, bytes): v = v.decode()
        if v == oid: return o
        if isinstance(o, h5py.Group) and depth < 8:
            r = find(o, depth + 1)
            if r is not None: return r
    return None
g = find(f)
assert g is not None, 'object ' + oid + ' not in ' + path
d = g['data']
n = d.shape[0]
if 'timestamps' in g:
    ts = g['timestamps'][:]
else:
    st = g['starting_time']
    ts = st[()] + np.arange(n) / st.attrs['rate']
conv = float(d.attrs.get('conversion', 1.0)); off = float(d.attrs.get('offset', 0.0))
cc = g['channel_conversion'][:] if 'channel_conversion' in g else np.ones(d.shape[1] if d.ndim > 1 else 1)
unit = d.attrs.get('unit', 'volts'); unit = unit.decode() if isinstance(unit, bytes) else unit
k = 1e6 if unit == 'volts' else 1.0
"#;

/// [`H5PY_SERIES`], then the timestamps and the channels' µV values over `[t0, t1)`
/// (argv 3–5).
const H5PY_WINDOW: &str = r#"
t0, t1, chans = float(sys.argv[3]), float(sys.argv[4]), [int(c) for c in sys.argv[5].split(',')]
i0, i1 = np.searchsorted(ts, t0, 'left'), np.searchsorted(ts, t1, 'left')
block = d[i0:i1] if d.ndim > 1 else d[i0:i1][:, None]
ys = [((block[:, c].astype(np.float64) * conv * cc[c] + off) * k).tolist() for c in chans]
print(json.dumps({'t': ts[i0:i1].tolist(), 'y': ys}))
"#;

/// [`H5PY_SERIES`], then the envelope (min and max over every channel) of each run of
/// `per_bin` samples (argv 3) from the first.
const H5PY_ENVELOPE: &str = r#"
per = int(sys.argv[3])
lo, hi = [], []
for a in range(0, n, per):
    block = d[a:a + per].astype(np.float64)
    y = (block * conv * cc[None, :] + off) * k
    lo.append(float(y.min())); hi.append(float(y.max()))
print(json.dumps({'min': lo, 'max': hi}))
"#;

fn h5py_envelope(file: &Path, oid: &str, per_bin: usize) -> J {
    let out = spyglass_testkit::run_python(
        &format!("{H5PY_SERIES}{H5PY_ENVELOPE}"),
        &[
            file.to_str().expect("utf-8 path"),
            oid,
            &per_bin.to_string(),
        ],
    );
    serde_json::from_str(&out).expect("oracle JSON")
}

fn h5py_window(file: &Path, oid: &str, t0: f64, t1: f64, chans: &[usize]) -> J {
    let ch = chans
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let out = spyglass_testkit::run_python(
        &format!("{H5PY_SERIES}{H5PY_WINDOW}"),
        &[
            file.to_str().expect("utf-8 path"),
            oid,
            &t0.to_string(),
            &t1.to_string(),
            &ch,
        ],
    );
    serde_json::from_str(&out).expect("oracle JSON")
}

/// Waits for the view to finish and checks that it logged no error.
pub(crate) fn loaded(b: &Browser, what: &str) {
    b.wait_for("return document.body.dataset.ready === '1'", 120);
    let errors = b.eval("return window.__errors", json!([]));
    assert_eq!(errors, json!([]), "{what}: page errors");
    let shown = b.eval(
        "const e = document.querySelector('#app .error'); return e ? e.textContent : null",
        json!([]),
    );
    assert!(shown.is_null(), "{what}: the view shows an error: {shown}");
    let severe: Vec<_> = b
        .console()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .collect();
    assert!(severe.is_empty(), "{what}: console errors {severe:?}");
}

pub(crate) fn snap(b: &Browser, name: &str) {
    let dir = common::screenshot_dir();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = b.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    println!("screenshot: {}", path.display());
}

/// The id and file of the single row's object `attr` of `table` in the demo.
fn object_of(dir: &Path, table: &str, attr: &str) -> (String, PathBuf) {
    let rows: J =
        serde_json::from_str(&common::spyglass(dir, &["show", table, "--format", "json"]))
            .expect("show JSON");
    let row = &rows[0];
    let id = row[attr].as_str().expect("object id").to_string();
    let file = match row.get("analysis_file_name").and_then(J::as_str) {
        Some(a) => find_file(&dir.join("demo/base/analysis"), a),
        None => find_file(
            &dir.join("demo/base/raw"),
            row["nwb_file_name"].as_str().expect("nwb_file_name"),
        ),
    };
    (id, file)
}

pub(crate) fn f64s(v: &J) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

#[test]
fn views_load_and_plot_the_stored_data() {
    let dir = demo();
    let server = common::start_server(dir, &[]);
    let b = Browser::start();
    let nwb = "demo20230622_.nwb";
    // the token once in the URL, then the cookie
    b.goto(&format!("{}/?token={}#/db", server.base, server.token));
    loaded(&b, "database");
    let text = b.eval("return document.body.innerText", json!([]));
    assert!(
        text.as_str().unwrap_or("").contains("Session"),
        "the schemas list names the tables: {text}"
    );
    snap(&b, "database");

    let views = [
        ("table", "#/table/common_ephys.Electrode".to_string()),
        (
            "row",
            format!(
                "#/row/common_session.Session?key={}",
                urlencode(&json!({ "nwb_file_name": nwb }).to_string())
            ),
        ),
        ("diagram", "#/diagram".to_string()),
        ("sessions", "#/sessions".to_string()),
        ("session", format!("#/session/{nwb}")),
    ];
    for (name, hash) in &views {
        b.goto(&format!("{}/{hash}", server.base));
        loaded(&b, name);
        snap(&b, name);
    }
    // the table view pages through the 4 electrodes; the row view finds its lineage
    b.goto(&format!("{}/#/table/common_ephys.Electrode", server.base));
    loaded(&b, "table");
    let info = b.eval(
        "return document.getElementById('page-info').textContent",
        json!([]),
    );
    assert_eq!(info, json!("rows 1–4 of 4"));
    b.goto(&format!("{}/{}", server.base, views[1].1));
    loaded(&b, "row");
    let down = b.eval("return document.body.innerText", json!([]));
    assert!(
        down.as_str().unwrap_or("").contains("lfp_v1.LFPV1"),
        "the session's downstream lists LFPV1: {down}"
    );
    b.goto(&format!("{}/#/session/{nwb}", server.base));
    loaded(&b, "session");
    let groups = b.eval(
        "return [document.querySelectorAll('#electrode-groups tbody tr').length, \
         document.querySelectorAll('#probe-layout circle').length]",
        json!([]),
    );
    assert_eq!(
        groups,
        json!([1, 5]),
        "one electrode group; 4 electrodes and its legend"
    );

    // traces: raw points equal the stored samples (µV)
    let (raw_id, raw_file) = object_of(dir, "common_ephys.Raw", "raw_object_id");
    let (t0, t1) = (5.0, 5.03);
    b.goto(&format!(
        "{}/#/traces/{nwb}?src={raw_id}&ch=0,2&t0={t0}&t1={t1}",
        server.base
    ));
    loaded(&b, "traces (raw)");
    let plotted = b.eval("return window.__traces", json!([]));
    assert_eq!(plotted["mode"], json!("points"), "{plotted}");
    let truth = h5py_window(&raw_file, &raw_id, t0, t1, &[0, 2]);
    compare(&plotted, &truth, "raw");
    snap(&b, "traces-raw");

    // the theta band: the plotted line equals the stored band and oscillates at theta
    let (band_id, band_file) = object_of(dir, "lfp_band_v1.LFPBandV1", "lfp_band_object_id");
    let (t0, t1) = (4.0, 8.0);
    b.goto(&format!(
        "{}/#/traces/{nwb}?src={band_id}&ch=0,1&t0={t0}&t1={t1}",
        server.base
    ));
    loaded(&b, "traces (theta band)");
    let plotted = b.eval("return window.__traces", json!([]));
    assert_eq!(plotted["mode"], json!("points"), "{plotted}");
    let truth = h5py_window(&band_file, &band_id, t0, t1, &[0, 1]);
    compare(&plotted, &truth, "theta band");
    let y = f64s(&plotted["y"][0]);
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let crossings = y
        .windows(2)
        .filter(|w| (w[0] - mean).signum() != (w[1] - mean).signum())
        .count();
    let hz = crossings as f64 / 2.0 / (t1 - t0);
    let theta = spyglass_nwb::synthetic::SyntheticParams::demo().theta_hz;
    assert!(
        (hz - theta).abs() < 1.0,
        "the plotted band oscillates at {hz:.2} Hz, the demo's theta is {theta} Hz"
    );
    println!("theta band plotted: {hz:.2} Hz (demo theta {theta} Hz)");
    snap(&b, "traces-theta");

    // raw position (a SpatialSeries): the plotted x and y equal the stored columns
    let (pos_id, pos_file) = object_of(
        dir,
        "common_behav.RawPosition.PosObject",
        "raw_position_object_id",
    );
    b.goto(&format!(
        "{}/#/traces/{nwb}?src={pos_id}&ch=0,1",
        server.base
    ));
    loaded(&b, "traces (position)");
    let plotted = b.eval("return window.__traces", json!([]));
    assert_eq!(plotted["mode"], json!("points"), "{plotted}");
    let (p0, p1) = (
        plotted["t0"].as_f64().expect("t0"),
        plotted["t1"].as_f64().expect("t1"),
    );
    compare(
        &plotted,
        &h5py_window(&pos_file, &pos_id, p0, p1, &[0, 1]),
        "position",
    );
    snap(&b, "traces-position");

    // LFP: first paint of a 10 s window (min/max), then a zoom step halves it
    let (lfp_id, _) = object_of(dir, "lfp_v1.LFPV1", "lfp_object_id");
    b.goto(&format!(
        "{}/#/traces/{nwb}?src={lfp_id}&t0=2&t1=12",
        server.base
    ));
    loaded(&b, "traces (LFP)");
    let w = b.eval("return window.__traces", json!([]));
    assert!((w["t1"].as_f64().unwrap() - w["t0"].as_f64().unwrap() - 10.0).abs() < 1e-9);
    let before = b.eval("return window.__timings.length", json!([]));
    b.click("#zoom-in");
    b.wait_for(&format!("return window.__timings.length > {before}"), 60);
    let w = b.eval("return window.__traces", json!([]));
    let (z0, z1) = (w["t0"].as_f64().unwrap(), w["t1"].as_f64().unwrap());
    assert!((z1 - z0 - 5.0).abs() < 1e-9, "zoom in: {z0}..{z1}");
    assert!((z0 - 4.5).abs() < 1e-9, "zoom about the centre: {z0}");
    let hash = b.eval("return location.hash", json!([]));
    assert!(
        hash.as_str().unwrap_or("").contains("t0=4.500000"),
        "the URL follows the window: {hash}"
    );
    loaded(&b, "traces (LFP zoomed)");
    snap(&b, "traces-lfp");
    let timings = b.eval("return window.__timings", json!([]));
    for t in timings.as_array().into_iter().flatten() {
        print_timing("demo LFP", t);
    }
}

/// The plotted points equal the oracle's samples (times exactly, values to f32).
fn compare(plotted: &J, truth: &J, what: &str) {
    let (pt, tt) = (f64s(&plotted["t"]), f64s(&truth["t"]));
    assert_eq!(pt.len(), tt.len(), "{what}: sample count");
    assert!(!pt.is_empty(), "{what}: no samples");
    for (a, b) in pt.iter().zip(&tt) {
        assert!((a - b).abs() < 1e-9, "{what}: time {a} vs {b}");
    }
    for c in 0..2 {
        let (py, ty) = (f64s(&plotted["y"][c]), f64s(&truth["y"][c]));
        assert_eq!(py.len(), ty.len());
        let scale = ty.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-9);
        for (i, (a, b)) in py.iter().zip(&ty).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * scale,
                "{what}: channel {c} sample {i}: plotted {a}, stored {b}"
            );
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn requests_need_the_token_and_curation_is_refused() {
    let dir = demo();
    let server = common::start_server(dir, &[]);
    for path in [
        "/api/schemas",
        "/",
        "/assets/app.js",
        "/api/traces/sources?nwb=x",
    ] {
        let (status, _, _) = common::http(&server.addr, "GET", path, &[], None);
        assert_eq!(status, 401, "{path} without the token");
    }
    let (status, _, _) = common::http(
        &server.addr,
        "GET",
        "/api/schemas",
        &[("Cookie", "spyglass_view_token=wrong")],
        None,
    );
    assert_eq!(status, 401, "a wrong token");
    // the token in the URL gives the cookie; the cookie alone then works
    let (status, headers, _) = common::http(
        &server.addr,
        "GET",
        &format!("/?token={}", server.token),
        &[],
        None,
    );
    assert_eq!(status, 200);
    let cookie = headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap_or("").to_string())
        .expect("a cookie");
    let (status, _, body) = common::http(
        &server.addr,
        "GET",
        "/api/sessions",
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(status, 200);
    let sessions: J = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(sessions[0]["nwb_file_name"], json!("demo20230622_.nwb"));
    // read-only: curation is refused
    let (status, _, _) = common::http(
        &server.addr,
        "POST",
        "/api/curation",
        &[("Cookie", &cookie), ("Content-Type", "application/json")],
        Some("{}"),
    );
    assert_eq!(status, 403, "a read-only server refuses curation");
}

#[test]
fn an_export_opens_without_a_server() {
    let dir = demo();
    let nwb = "demo20230622_.nwb";
    let (band_id, band_file) = object_of(dir, "lfp_band_v1.LFPBandV1", "lfp_band_object_id");
    let out = dir.join("export-views");
    let traces = format!("traces/{nwb}?src={band_id}&ch=0,1&t0=4&t1=8");
    let printed = common::spyglass(
        dir,
        &[
            "view",
            "--export",
            out.to_str().expect("utf-8 path"),
            &format!("session/{nwb}"),
            &traces,
            "db",
        ],
    );
    assert!(printed.contains("wrote 3 views"), "{printed}");
    let b = Browser::start();
    let index = format!("file://{}", out.join("index.html").display());
    b.goto(&format!("{index}#/session/{nwb}"));
    loaded(&b, "exported session");
    b.goto(&format!("{index}#/db"));
    loaded(&b, "exported database");
    b.goto(&format!("{index}#/{traces}"));
    loaded(&b, "exported traces");
    let plotted = b.eval("return window.__traces", json!([]));
    assert_eq!(plotted["mode"], json!("points"), "{plotted}");
    compare(
        &plotted,
        &h5py_window(&band_file, &band_id, 4.0, 8.0, &[0, 1]),
        "exported band",
    );
    snap(&b, "export-traces");
    // a view left out of the export says so
    b.goto(&format!("{index}#/sessions"));
    b.wait_for("return document.body.dataset.ready === '1'", 60);
    let shown = b.eval(
        "const e = document.querySelector('#app .error'); return e ? e.textContent : null",
        json!([]),
    );
    assert!(
        shown.as_str().unwrap_or("").contains("not in the export"),
        "{shown}"
    );
}

/// Prints one `window.__timings` entry: the whole time from the request to the paint,
/// and its parts (before the request; the request: the server's handler, the bytes'
/// transfer, reading the answer; drawing; the server handler's own parts).
fn print_timing(what: &str, t: &J) {
    let ms = |k: &str| t[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "timing ({what}): {} of {:.3} s x {} ch ({}, {} samples/ch, {} columns, {:.0} kB): {:.1} ms to the paint \
         (before the request {:.1}, request {:.1} [network {:.1}, reading the answer {:.1}], drawing {:.1}, to the frame {:.1}; \
         server handler {:.1}, of which opening and search {:.1}; server parts: {}; \
         the request in the browser: queued {:.1}, sent to first byte {:.1}, body {:.1}, to the script {:.1})",
        t["kind"].as_str().unwrap_or(""),
        ms("window_s"),
        t["channels"],
        t["mode"].as_str().unwrap_or(""),
        t["samples"],
        t["columns"],
        ms("bytes") / 1e3,
        ms("ms"),
        ms("before_ms"),
        ms("fetch_ms"),
        ms("net_ms"),
        ms("parse_ms"),
        ms("draw_ms"),
        ms("paint_ms"),
        ms("server_ms"),
        ms("search_ms"),
        t["server_timing"].as_str().unwrap_or(""),
        ms("queued_ms"),
        ms("waiting_ms"),
        ms("body_ms"),
        ms("handed_ms"),
    );
}

/// On a 32-channel session (40 s, or `$SPYGLASS_VIEW_TIMING_S` seconds): the min/max
/// columns of a 10 s raw window equal numpy's over the stored samples, and so does the
/// whole-session overview once filled; prints (does not assert) the browser's timing
/// of the first paint and of zoom steps.
#[test]
fn timing_of_a_32_channel_window() {
    spyglass_testkit::disable_hdf5_file_locking();
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let duration_s: f64 = std::env::var("SPYGLASS_VIEW_TIMING_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40.0);
    let params = spyglass_nwb::synthetic::SyntheticParams {
        duration_s,
        n_channels: 32,
        n_groups: 4,
        ..Default::default()
    };
    let src = dir.join("wide32.nwb");
    // `$SPYGLASS_VIEW_TIMING_CACHE`: a folder keeping the written session between runs
    // (a 1 h recording takes minutes to write), linked into place
    match std::env::var_os("SPYGLASS_VIEW_TIMING_CACHE") {
        Some(cache) => {
            let kept = Path::new(&cache).join(format!("wide32-{duration_s}s.nwb"));
            if !kept.exists() {
                std::fs::create_dir_all(&cache).expect("cache dir");
                let part = kept.with_extension("part");
                spyglass_nwb::synthetic::write_session(&part, &params).expect("write the session");
                std::fs::rename(&part, &kept).expect("rename the session");
            }
            if std::fs::hard_link(&kept, &src).is_err() {
                std::fs::copy(&kept, &src).expect("copy the session");
            }
        }
        None => {
            spyglass_nwb::synthetic::write_session(&src, &params).expect("write the session");
        }
    }
    std::fs::create_dir_all(dir.join("demo")).expect("dir");
    common::spyglass(dir, &["insert", src.to_str().expect("utf-8 path")]);
    let (raw_id, raw_file) = object_of(dir, "common_ephys.Raw", "raw_object_id");
    let server = common::start_server(dir, &[]);
    let b = Browser::start();
    let ch: Vec<String> = (0..32).map(|c| c.to_string()).collect();
    b.goto(&format!(
        "{}/?token={}#/traces/wide32_.nwb?src={raw_id}&ch={}&t0=10&t1=20",
        server.base,
        server.token,
        ch.join(",")
    ));
    loaded(&b, "32-channel traces");
    // the min/max columns equal those of the stored samples (h5py, numpy)
    let plotted = b.eval("return window.__traces", json!([]));
    assert_eq!(plotted["mode"], json!("minmax"), "{}", plotted["mode"]);
    let per_bin = plotted["per_bin"].as_u64().expect("per_bin") as usize;
    let truth = h5py_window(&raw_file, &raw_id, 10.0, 20.0, &[0, 31]);
    for (j, c) in [(0usize, 0usize), (1, 31)] {
        let y = f64s(&truth["y"][j]);
        let (lo, hi) = (f64s(&plotted["min"][c]), f64s(&plotted["max"][c]));
        assert_eq!(lo.len(), y.len().div_ceil(per_bin), "bins of channel {c}");
        for (i, chunk) in y.chunks(per_bin).enumerate() {
            let (a, z) = chunk
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), v| {
                    (a.min(*v), z.max(*v))
                });
            assert!(
                (lo[i] - a).abs() < 1e-3 && (hi[i] - z).abs() < 1e-3,
                "channel {c} column {i}: plotted {}..{}, stored {a}..{z}",
                lo[i],
                hi[i]
            );
        }
    }
    // the overview: once filled, each column's envelope over the 32 channels equals
    // numpy's over the same samples (columns of `per_bin` samples from the first); a
    // long recording's is left filling while the zoom steps are timed
    if duration_s <= 60.0 {
        b.wait_for(
            "return window.__overview && window.__overview.filled >= 1 \
             && window.__overview.min.every((v) => v !== null)",
            120,
        );
        let ov = b.eval("return window.__overview", json!([]));
        let per_bin = ov["per_bin"].as_u64().expect("per_bin") as usize;
        let truth = h5py_envelope(&raw_file, &raw_id, per_bin);
        let (lo, hi) = (f64s(&ov["min"]), f64s(&ov["max"]));
        let (tlo, thi) = (f64s(&truth["min"]), f64s(&truth["max"]));
        assert_eq!(lo.len(), tlo.len(), "overview columns");
        for i in 0..lo.len() {
            assert!(
                (lo[i] - tlo[i]).abs() < 1e-3 && (hi[i] - thi[i]).abs() < 1e-3,
                "overview column {i}: {}..{} vs {}..{}",
                lo[i],
                hi[i],
                tlo[i],
                thi[i]
            );
        }
        println!(
            "overview: {} columns of {per_bin} samples equal numpy's",
            lo.len()
        );
    }
    if duration_s <= 60.0 {
        // a whole-session overview at 100 columns comes from the block summaries
        // (1024-sample blocks, whole blocks per column): equal to numpy's over the same blocks
        let (status, _, body) = common::http(
            &server.addr,
            "GET",
            &format!("/api/traces/data?nwb=wide32_.nwb&src={raw_id}&ch=5&t0=0&t1=100&px=100"),
            &[("Authorization", &format!("token {}", server.token))],
            None,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let over: J = serde_json::from_slice(&body).expect("JSON");
        let per_bin = over["per_bin"].as_u64().expect("per_bin") as usize;
        assert!(
            per_bin >= 4096,
            "{per_bin} samples per column: the block path"
        );
        let all = h5py_window(&raw_file, &raw_id, 0.0, 100.0, &[5]);
        let y = f64s(&all["y"][0]);
        let k = per_bin / 1024;
        let (lo, hi) = (f64s(&over["min"][0]), f64s(&over["max"][0]));
        assert_eq!(lo.len(), y.len().div_ceil(1024).div_ceil(k));
        for (i, chunk) in y.chunks(k * 1024).enumerate() {
            let (a, z) = chunk
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), v| {
                    (a.min(*v), z.max(*v))
                });
            assert!(
                (lo[i] - a).abs() < 1e-3 && (hi[i] - z).abs() < 1e-3,
                "overview column {i}: {}..{} vs {a}..{z}",
                lo[i],
                hi[i]
            );
        }
    }
    // (the whole session of a long recording waits for its pyramid: not a step)
    let steps = [
        "#zoom-in",
        "#zoom-in",
        "#zoom-out",
        "#pan-right",
        "#zoom-all",
    ];
    let steps = if duration_s <= 60.0 {
        &steps[..]
    } else {
        &steps[..4]
    };
    for (k, button) in steps.iter().enumerate() {
        b.click(button);
        b.wait_for(&format!("return window.__timings.length >= {}", k + 2), 120);
    }
    loaded(&b, "32-channel traces after zooming");
    snap(&b, "traces-32ch");
    let timings = b.eval("return window.__timings", json!([]));
    let what = format!("32 ch raw, 30 kHz, {duration_s} s recording");
    for t in timings.as_array().into_iter().flatten() {
        print_timing(&what, t);
    }
}

//! DLC post-processing against Spyglass's own functions (`nan_inds`,
//! `get_good_spans`, `interp_pos`, `smooth_moving_avg`, `Centroid`, the
//! orientation functions, `interp_orientation`), compiled from the installed
//! Spyglass 0.6.0, chained as its `make` methods chain them.

use spyglass_position::dlc::{
    centroid, centroid_position, good_spans, orientation, smooth_interp, BodyPartPose,
    CentroidMethod, CentroidParams, OrientationMethod, OrientationParams, SmoothInterpParams,
};
use spyglass_position::Xy;
use spyglass_testkit::scratch_dir;

use crate::common::{assert_close, flat, oracle, p, read_f64, write_f64, Rng};

const DLC_PRELUDE: &str = r#"
import sys, json
from functools import reduce
from itertools import combinations, groupby
from operator import itemgetter
from typing import Tuple, Union
import numpy as np
import pandas as pd
from position_tools import get_distance, get_velocity
from position_tools.core import gaussian_smooth
ns = dict(np=np, pd=pd, get_distance=get_distance, reduce=reduce, combinations=combinations,
          groupby=groupby, itemgetter=itemgetter, logger=logger, test_mode=True, Tuple=Tuple, Union=Union)
load_defs('position/v1/dlc_utils.py', ['get_span_start_stop', 'interp_pos', 'interp_orientation',
          'smooth_moving_avg', '_key_to_smooth_func_dict', 'two_pt_head_orientation', 'no_orientation',
          'red_led_bisector_orientation', '_key_to_func_dict', 'Centroid'], ns)
load_defs('position/v1/position_dlc_position.py', ['nan_inds', 'get_good_spans', 'span_length',
          'get_subthresh_inds'], ns)
g = ns
"#;

/// n samples of `parts` body parts around a moving head, in cm, with low-likelihood
/// runs, jumps, NaN runs (also at the ends) and parts going missing.
fn poses(n: usize, parts: usize, seed: u64) -> (Vec<f64>, Vec<Vec<Xy>>, Vec<Vec<f64>>) {
    let mut rng = Rng::new(seed);
    let time: Vec<f64> = (0..n)
        .map(|i| 1_700_000_000.0 + i as f64 / 30.0 + rng.symmetric(0.001))
        .collect();
    let mut pts = vec![Vec::with_capacity(n); parts];
    let mut lik = vec![Vec::with_capacity(n); parts];
    for i in 0..n {
        let t = i as f64 / 30.0;
        let (cx, cy) = (
            60.0 + 40.0 * (0.2 * t).sin(),
            50.0 + 30.0 * (0.13 * t).cos(),
        );
        for k in 0..parts {
            let a = k as f64 * 1.7 + 0.4 * (0.9 * t).sin();
            let r = if k == 0 { 2.0 } else { 3.0 };
            pts[k].push([
                cx + r * a.cos() + rng.symmetric(0.2),
                cy + r * a.sin() + rng.symmetric(0.2),
            ]);
            lik[k].push(if rng.uniform() < 0.06 {
                rng.uniform() * 0.9
            } else {
                0.96 + rng.uniform() * 0.04
            });
        }
    }
    for k in 0..parts {
        let o = 37 * k + 50;
        lik[k][o..o + 8].fill(0.1); // a low-likelihood run
        pts[k][o + 100][0] += 45.0; // jumps
        pts[k][o + 230][1] -= 60.0;
        for q in &mut pts[k][o + 300..o + 340] {
            q[0] += 25.0; // a long excursion
        }
        lik[k][..3 + k].fill(0.0); // missing at the start
        lik[k][n - 1] = 0.2;
        lik[k][600 + 40 * k..640 + 40 * k].fill(0.01); // each part missing for a while
        pts[k][700 + 17 * k] = [f64::NAN, f64::NAN];
    }
    (time, pts, lik)
}

const SMOOTH_PY: &str = r#"
n, parts, params, d = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
t = read_f64(d + '/t'); xy = read_f64(d + '/xy', (parts, n, 2)); lik = read_f64(d + '/lik', (parts, n))
outs = []
for k in range(parts):
    # DLCSmoothInterp._logged_make
    dlc_df = pd.DataFrame({'video_frame_ind': np.arange(n), 'x': xy[k, :, 0], 'y': xy[k, :, 1], 'likelihood': lik[k]},
                          index=pd.Index(t, name='time'))
    dt = np.median(np.diff(dlc_df.index.to_numpy()))
    df_w_nans, bad_inds = g['nan_inds'](dlc_df.copy(), max_dist_between=params['max_cm_between_pts'],
                                       likelihood_thresh=params['likelihood_thresh'], inds_to_span=params['num_inds_to_span'])
    nan_mask = df_w_nans[['x', 'y']].isna().any(axis=1).to_numpy()
    nan_spans = g['get_span_start_stop'](np.where(nan_mask)[0])
    if params.get('interpolate'):
        interp_df = g['interp_pos'](df_w_nans.copy(), nan_spans, **params.get('interp_params', dict()))
    else:
        interp_df = df_w_nans.copy()
    if params.get('smooth'):
        sp = params['smoothing_params']
        smooth_df = g['_key_to_smooth_func_dict'][sp['smooth_method']](interp_df, smoothing_duration=sp['smoothing_duration'], sampling_rate=1 / dt)
    else:
        smooth_df = interp_df.copy()
    outs.append(smooth_df[['x', 'y']].to_numpy())
write_f64(d + '/out', *outs)
"#;

fn smooth_json(p: &SmoothInterpParams) -> String {
    format!(
        "{{\"smooth\": {}, \"smoothing_params\": {{\"smoothing_duration\": {:?}, \"smooth_method\": \"moving_avg\"}}, \
         \"interpolate\": {}, \"likelihood_thresh\": {:?}, \"interp_params\": {{\"max_cm_to_interp\": {:?}}}, \
         \"max_cm_between_pts\": {:?}, \"num_inds_to_span\": {}}}",
        if p.smooth { "true" } else { "false" },
        p.smoothing_duration,
        if p.interpolate { "true" } else { "false" },
        p.likelihood_thresh,
        p.max_cm_to_interp,
        p.max_cm_between_pts,
        p.num_inds_to_span
    )
}

#[test]
fn smooth_interp_matches_spyglass() {
    let (n, parts) = (1500, 3);
    let (time, pts, lik) = poses(n, parts, 21);
    for params in [
        SmoothInterpParams::default(),
        SmoothInterpParams::just_nan(),
    ] {
        let dir = scratch_dir();
        let d = dir.path();
        write_f64(&d.join("t"), &time);
        write_f64(
            &d.join("xy"),
            &pts.iter().flat_map(|v| flat(v)).collect::<Vec<_>>(),
        );
        write_f64(&d.join("lik"), &lik.concat());
        oracle(
            &format!("{DLC_PRELUDE}{SMOOTH_PY}"),
            &[
                &n.to_string(),
                &parts.to_string(),
                &smooth_json(&params),
                p(d),
            ],
        );
        let want = read_f64(&d.join("out"));
        for k in 0..parts {
            let pose = BodyPartPose {
                time: time.clone(),
                x: pts[k].iter().map(|v| v[0]).collect(),
                y: pts[k].iter().map(|v| v[1]).collect(),
                likelihood: lik[k].clone(),
            };
            let ours = smooth_interp(&pose, &params).expect("smooth_interp");
            let label = format!("smooth_interp part {k} interpolate={}", params.interpolate);
            assert_close(
                &label,
                &flat(&ours),
                &want[2 * n * k..2 * n * (k + 1)],
                1e-9,
            );
        }
    }
}

const SPANS_PY: &str = r#"
masks = json.loads(sys.argv[1])
for m in masks:
    _, spans = g['get_good_spans'](np.array(m['bad'], dtype=bool), inds_to_span=m['span'])
    print(';'.join(f'{a},{b}' for a, b in spans))
"#;

#[test]
fn good_spans_match_spyglass() {
    let mut rng = Rng::new(5);
    let mut cases = Vec::new();
    for c in 0..40 {
        let n = 20 + c * 7;
        let density = 0.05 + 0.6 * rng.uniform();
        let bad: Vec<bool> = (0..n).map(|_| rng.uniform() < density).collect();
        cases.push((bad, 1 + c % 6));
    }
    let json: Vec<String> = cases
        .iter()
        .map(|(b, s)| {
            let bits: Vec<&str> = b
                .iter()
                .map(|&v| if v { "true" } else { "false" })
                .collect();
            format!("{{\"bad\": [{}], \"span\": {s}}}", bits.join(","))
        })
        .collect();
    let out = oracle(
        &format!("{DLC_PRELUDE}{SPANS_PY}"),
        &[&format!("[{}]", json.join(","))],
    );
    for ((bad, span), line) in cases.iter().zip(out.lines()) {
        let ours: Vec<String> = good_spans(bad, *span)
            .iter()
            .map(|(a, b)| format!("{a},{b}"))
            .collect();
        assert_eq!(
            ours.join(";"),
            line,
            "spans of {bad:?} (inds_to_span {span})"
        );
    }
}

const CENTROID_PY: &str = r#"
n, method, points, params, d = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
t = read_f64(d + '/t'); xy = read_f64(d + '/xy', (len(points), n, 2))
names = list(points.values())
pos_df = pd.concat({name: pd.DataFrame({'video_frame_ind': np.arange(n), 'x': xy[k, :, 0], 'y': xy[k, :, 1]},
                    index=pd.Index(t, name='time')) for k, name in enumerate(names)}, axis=1)
centroid = g['Centroid'](pos_df=pos_df, points=points, max_LED_separation=params['max_LED_separation']).centroid
# Rows no rule of Spyglass covers keep the array's initial (0, 0); spyglass-rs makes them NaN.
raw = centroid.copy()
unassigned = (centroid == 0).all(axis=1)
centroid[unassigned] = np.nan
# DLCCentroid._logged_make from here on
idx = pd.IndexSlice
centroid_df = pd.DataFrame(centroid, columns=['x', 'y'], index=pos_df.index.to_numpy())
if params.get('interpolate') and np.any(np.isnan(centroid)):
    nan_inds = pd.isnull(centroid_df.loc[:, idx[('x', 'y')]]).any(axis=1).to_numpy().nonzero()[0]
    interp_df = g['interp_pos'](centroid_df.copy(), g['get_span_start_stop'](nan_inds), **params['interp_params'])
else:
    interp_df = centroid_df.copy()
sampling_rate = 1 / np.median(np.diff(pos_df.index.to_numpy()))
if params.get('smooth'):
    sp = params['smoothing_params']
    final_df = g['_key_to_smooth_func_dict'][sp['smooth_method']](interp_df, sampling_rate=sampling_rate, **sp)
else:
    final_df = interp_df.copy()
velocity = get_velocity(final_df.loc[:, idx[('x', 'y')]].to_numpy(), time=pos_df.index.to_numpy(),
                        sigma=params['speed_smoothing_std_dev'], sampling_frequency=sampling_rate)
speed = np.sqrt(np.sum(velocity ** 2, axis=1))
print(int(unassigned.sum()))
write_f64(d + '/out', centroid, final_df[['x', 'y']].to_numpy(), velocity, speed)
"#;

fn centroid_json(p: &CentroidParams) -> String {
    format!(
        "{{\"max_LED_separation\": {:?}, \"interpolate\": true, \"interp_params\": {{\"max_cm_to_interp\": {:?}}}, \
         \"smooth\": true, \"smoothing_params\": {{\"smoothing_duration\": {:?}, \"smooth_method\": \"moving_avg\"}}, \
         \"speed_smoothing_std_dev\": {:?}}}",
        p.max_led_separation, p.max_cm_to_interp, p.smoothing_duration, p.speed_smoothing_std_dev
    )
}

#[test]
fn centroids_match_spyglass() {
    let n = 1500;
    let (time, pts, _) = poses(n, 4, 31);
    // NaN some samples of each part so every rule of the four-LED method is hit
    let mut rng = Rng::new(77);
    let pts: Vec<Vec<Xy>> = pts
        .into_iter()
        .map(|v| {
            v.into_iter()
                .map(|q| {
                    if rng.uniform() < 0.25 {
                        [f64::NAN; 2]
                    } else {
                        q
                    }
                })
                .collect()
        })
        .collect();
    let methods = [
        (
            CentroidMethod::OnePt { point1: "a".into() },
            "{\"point1\": \"a\"}",
            1,
        ),
        (
            CentroidMethod::TwoPt {
                point1: "a".into(),
                point2: "b".into(),
            },
            "{\"point1\": \"a\", \"point2\": \"b\"}",
            2,
        ),
        (
            CentroidMethod::FourLed {
                green: "g".into(),
                red_left: "l".into(),
                red_center: "c".into(),
                red_right: "r".into(),
            },
            "{\"greenLED\": \"g\", \"redLED_L\": \"l\", \"redLED_C\": \"c\", \"redLED_R\": \"r\"}",
            4,
        ),
    ];
    for (method, points_json, k) in methods {
        // 5 cm: some point pairs are farther apart, so "too separated" rows occur
        let params = CentroidParams {
            method: method.clone(),
            max_led_separation: 5.0,
            ..Default::default()
        };
        let dir = scratch_dir();
        let d = dir.path();
        write_f64(&d.join("t"), &time);
        write_f64(
            &d.join("xy"),
            &pts[..k].iter().flat_map(|v| flat(v)).collect::<Vec<_>>(),
        );
        let out = oracle(
            &format!("{DLC_PRELUDE}{CENTROID_PY}"),
            &[
                &n.to_string(),
                method.name(),
                points_json,
                &centroid_json(&params),
                p(d),
            ],
        );
        let unassigned: usize = out.trim().parse().expect("count");
        eprintln!(
            "{}: {unassigned} samples no Spyglass rule covers",
            method.name()
        );
        let want = read_f64(&d.join("out"));
        let refs: Vec<&[Xy]> = pts[..k].iter().map(|v| v.as_slice()).collect();
        let c = centroid(&method, &refs, params.max_led_separation).expect("centroid");
        assert_close(
            &format!("{} centroid", method.name()),
            &flat(&c),
            &want[..2 * n],
            1e-12,
        );
        let full = centroid_position(&time, &refs, &params).expect("centroid_position");
        assert_close(
            &format!("{} position", method.name()),
            &flat(&full.position),
            &want[2 * n..4 * n],
            1e-9,
        );
        assert_close(
            &format!("{} velocity", method.name()),
            &flat(&full.velocity),
            &want[4 * n..6 * n],
            1e-9,
        );
        assert_close(
            &format!("{} speed", method.name()),
            &full.speed,
            &want[6 * n..7 * n],
            1e-9,
        );
    }
}

const ORIENT_PY: &str = r#"
n, method, bps, sigma, d = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
t = read_f64(d + '/t'); xy = read_f64(d + '/xy', (len(bps), n, 2))
names = list(bps.values())
pos_df = pd.concat({name: pd.DataFrame({'x': xy[k, :, 0], 'y': xy[k, :, 1]}, index=pd.Index(t, name='time'))
                    for k, name in enumerate(names)}, axis=1) if names else pd.DataFrame(index=pd.Index(t, name='time'))
params = dict(orient_method=method, **bps)
# DLCOrientation.make
sampling_rate = 1 / np.median(np.diff(pos_df.index.to_numpy()))
orientation = g['_key_to_func_dict'][params['orient_method']](pos_df, **params)
if not params['orient_method'] == 'none':
    is_nan = np.isnan(orientation)
    unwrap_orientation = orientation.copy()
    unwrap_orientation[~is_nan] = np.unwrap(orientation[~is_nan])
    unwrap_df = pd.DataFrame(unwrap_orientation, columns=['orientation'], index=pos_df.index)
    nan_spans = g['get_span_start_stop'](np.where(is_nan)[0])
    orient_df = g['interp_orientation'](unwrap_df, nan_spans)
    orientation = gaussian_smooth(orient_df['orientation'].to_numpy(), sigma, sampling_rate, axis=0, truncate=8)
    orientation = np.angle(np.exp(1j * orientation))
write_f64(d + '/out', np.asarray(orientation, dtype=np.float64))
"#;

#[test]
fn orientations_match_spyglass() {
    let n = 1200;
    let (time, pts, _) = poses(n, 3, 41);
    let mut rng = Rng::new(9);
    let pts: Vec<Vec<Xy>> = pts
        .into_iter()
        .map(|v| {
            v.into_iter()
                .map(|q| {
                    if rng.uniform() < 0.08 {
                        [f64::NAN; 2]
                    } else {
                        q
                    }
                })
                .collect()
        })
        .collect();
    let methods = [
        (
            OrientationMethod::RedGreen {
                bodypart1: "a".into(),
                bodypart2: "b".into(),
            },
            "red_green_orientation",
            "{\"bodypart1\": \"a\", \"bodypart2\": \"b\"}",
            2,
        ),
        (
            OrientationMethod::RedLedBisector {
                led1: "a".into(),
                led2: "b".into(),
                led3: "c".into(),
            },
            "red_led_bisector",
            "{\"led1\": \"a\", \"led2\": \"b\", \"led3\": \"c\"}",
            3,
        ),
        (OrientationMethod::None, "none", "{}", 0),
    ];
    for sigma in [0.001, 0.05] {
        for (method, name, bps, k) in &methods {
            let dir = scratch_dir();
            let d = dir.path();
            write_f64(&d.join("t"), &time);
            write_f64(
                &d.join("xy"),
                &pts[..*k].iter().flat_map(|v| flat(v)).collect::<Vec<_>>(),
            );
            oracle(
                &format!("{DLC_PRELUDE}{ORIENT_PY}"),
                &[&n.to_string(), name, bps, &format!("{sigma:?}"), p(d)],
            );
            let want = read_f64(&d.join("out"));
            let refs: Vec<&[Xy]> = pts[..*k].iter().map(|v| v.as_slice()).collect();
            let params = OrientationParams {
                method: method.clone(),
                orientation_smoothing_std_dev: sigma,
            };
            let ours = orientation(&time, &refs, &params).expect("orientation");
            assert_close(&format!("{name} sigma {sigma}"), &ours, &want, 1e-9);
        }
    }
}

const POSE_PY: &str = r#"
n, m, mpp, t0, d = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
ns2 = dict(np=np, pd=pd)
load_defs('position/v1/position_dlc_pose_estimation.py', ['convert_to_cm', 'add_timestamps'], ns2)
raw = read_f64(d + '/raw', (3, n)); video_time = read_f64(d + '/vt')
# DLCPoseEstimation._logged_make for one body part
part_df = pd.DataFrame.from_dict({'x': raw[0], 'y': raw[1], 'likelihood': raw[2]})
part_df = ns2['convert_to_cm'](part_df, mpp)
part_df = ns2['add_timestamps'](part_df, pos_time=np.array([t0]), video_time=video_time)
write_f64(d + '/out', part_df['video_frame_ind'].to_numpy(), part_df['time'].to_numpy(), part_df['x'].to_numpy(),
          part_df['y'].to_numpy(), part_df['likelihood'].to_numpy())
print(len(part_df))
"#;

#[test]
fn pose_from_dlc_table_matches_spyglass() {
    use spyglass_position::dlc_io::DlcBodyPart;
    let (n, m) = (500, 480); // more DLC rows than video frames: the extra rows are dropped
    let mut rng = Rng::new(3);
    let part = DlcBodyPart {
        name: "nose".into(),
        x: (0..n).map(|_| rng.uniform() * 640.0).collect(),
        y: (0..n).map(|_| rng.uniform() * 480.0).collect(),
        likelihood: (0..n).map(|_| rng.uniform()).collect(),
    };
    let video_time: Vec<f64> = (0..m).map(|i| 1000.0 + i as f64 / 30.0).collect();
    let (mpp, t0) = (0.0021, 1000.2);
    let dir = scratch_dir();
    let d = dir.path();
    write_f64(
        &d.join("raw"),
        &[part.x.clone(), part.y.clone(), part.likelihood.clone()].concat(),
    );
    write_f64(&d.join("vt"), &video_time);
    let out = oracle(
        &format!("{DLC_PRELUDE}{POSE_PY}"),
        &[
            &n.to_string(),
            &m.to_string(),
            &format!("{mpp:?}"),
            &format!("{t0:?}"),
            p(d),
        ],
    );
    let k: usize = out.trim().parse().expect("rows");
    let want = read_f64(&d.join("out"));
    let (pose, frames) = BodyPartPose::from_dlc(&part, mpp, t0, &video_time).expect("from_dlc");
    let frames: Vec<f64> = frames.iter().map(|&f| f as f64).collect();
    let ours = [frames, pose.time, pose.x, pose.y, pose.likelihood].concat();
    assert_eq!(ours.len(), 5 * k);
    assert_close("pose from DLC table", &ours, &want, 1e-15);
}

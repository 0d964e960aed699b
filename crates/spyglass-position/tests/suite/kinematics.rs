//! The building blocks against numpy and `position_tools` (the package Spyglass calls).

use spyglass_position::kinematics::{
    angle, centroid, get_speed, gradient, interpolate_nan, unwrap, velocity, wrap_angle,
};
use spyglass_testkit::scratch_dir;

use crate::common::{assert_close, flat, leds, oracle, p, read_f64, write_f64};

const STEPS_PY: &str = r#"
import sys
import numpy as np
from position_tools import get_angle, get_centroid, get_speed, get_velocity, interpolate_nan
n, d = int(sys.argv[1]), sys.argv[2]
t = read_f64(d + '/t'); a = read_f64(d + '/a', (n, 2)); b = read_f64(d + '/b', (n, 2)); ph = read_f64(d + '/ph')
fs = 1 / np.median(np.diff(t))
out = [
    np.gradient(a[:, 0], t), np.gradient(a[:, 1], np.arange(n) / 30.0),
    get_velocity(a, time=t, sigma=0.1, sampling_frequency=fs),
    get_speed(b, t, sigma=0.25, sampling_frequency=fs),
    interpolate_nan(a), get_centroid(a, b), get_centroid(np.zeros_like(a), b),
    get_angle(a, b), np.unwrap(ph), np.angle(np.exp(1j * ph)),
]
write_f64(d + '/out', *out)
"#;

#[test]
fn step_functions_match_position_tools() {
    let n = 900;
    let data = leds(n, 30.0, 1_700_000_000.0, 3, true);
    let mut time = data.time.clone();
    time[400] = time[399] + 0.0333; // the step functions need finite time
    let (a, b) = (data.led1, data.led2);
    let phase: Vec<f64> = (0..n)
        .map(|i| (i as f64 * 0.37).sin() * 9.0 + i as f64 * 0.05)
        .collect();
    let dir = scratch_dir();
    let d = dir.path();
    write_f64(&d.join("t"), &time);
    write_f64(&d.join("a"), &flat(&a));
    write_f64(&d.join("b"), &flat(&b));
    write_f64(&d.join("ph"), &phase);
    oracle(STEPS_PY, &[&n.to_string(), p(d)]);
    let want = read_f64(&d.join("out"));
    let fs = spyglass_position::kinematics::sampling_rate(&time).unwrap();
    let ax: Vec<f64> = a.iter().map(|v| v[0]).collect();
    let ay: Vec<f64> = a.iter().map(|v| v[1]).collect();
    let uniform: Vec<f64> = (0..n).map(|i| i as f64 / 30.0).collect();
    let mut ours = Vec::new();
    ours.extend(gradient(&ax, &time).unwrap());
    ours.extend(gradient(&ay, &uniform).unwrap());
    ours.extend(flat(&velocity(&a, &time, 0.1, fs).unwrap()));
    ours.extend(get_speed(&b, &time, 0.25, fs).unwrap());
    ours.extend(flat(&interpolate_nan(&a).unwrap()));
    ours.extend(flat(&centroid(&a, &b)));
    ours.extend(flat(&centroid(&vec![[0.0; 2]; n], &b)));
    ours.extend(angle(&a, &b));
    ours.extend(unwrap(&phase));
    ours.extend(phase.iter().map(|&v| wrap_angle(v)));
    assert_close("position_tools step functions", &ours, &want, 1e-9);
}

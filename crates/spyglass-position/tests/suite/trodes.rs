//! TrodesPosV1's computation against Spyglass's own `calculate_position_info`
//! (common_position.py, compiled from the installed Spyglass 0.6.0), including
//! the configuration of Spyglass's golden-sum test (single LED as a 4-column
//! series with a zero second LED, upsampled to 50 Hz).

use spyglass_position::trodes::{
    calculate_position_info, RawLeds, TrodesPosParams, UpsamplingMethod,
};
use spyglass_position::{PositionError, Xy};
use spyglass_testkit::scratch_dir;

use crate::common::{assert_close, flat, leds, oracle, p, read_f64, write_f64, Leds};

const TRODES_PY: &str = r#"
import sys, json
import numpy as np
import pandas as pd
n, k, conversion, params, d = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
ns = interval_position_info()
t = read_f64(d + '/t'); data = read_f64(d + '/data', (n, k))
if k == 4:
    cols = ['xloc', 'yloc', 'xloc2', 'yloc2']
else:
    # Spyglass 0.6.0 cannot rename a 2-column series (it asks at the keyboard, then
    # fails); this is its computation had the renaming succeeded.
    cols = ['xloc', 'yloc']
    ns['_fix_col_names'] = lambda df: df
df = pd.DataFrame(data, index=pd.Index(t, name='time'), columns=cols)
info = ns['IntervalPositionInfo']().calculate_position_info(spatial_df=df, meters_to_pixels=conversion, **params)
print(len(info['time']))
write_f64(d + '/out', info['time'], info['position'], info['orientation'], info['velocity'], info['speed'])
"#;

/// Spyglass's params blob for `params`, as JSON.
fn params_json(p: &TrodesPosParams) -> String {
    let rate = p
        .upsampling_sampling_rate
        .map_or("null".to_string(), |r| format!("{r:?}"));
    format!(
        "{{\"max_LED_separation\": {:?}, \"max_plausible_speed\": {:?}, \"position_smoothing_duration\": {:?}, \
         \"speed_smoothing_std_dev\": {:?}, \"orient_smoothing_std_dev\": {:?}, \"led1_is_front\": {}, \
         \"is_upsampled\": {}, \"upsampling_sampling_rate\": {rate}, \"upsampling_interpolation_method\": \"{}\"}}",
        p.max_led_separation,
        p.max_plausible_speed,
        p.position_smoothing_duration,
        p.speed_smoothing_std_dev,
        p.orient_smoothing_std_dev,
        p.led1_is_front as i32,
        p.is_upsampled as i32,
        p.upsampling_interpolation_method.as_str()
    )
}

/// Runs both and compares every output at 1e-9 relative.
fn check(label: &str, time: &[f64], leds: &RawLeds, conversion: f64, params: &TrodesPosParams) {
    let (rows, k): (Vec<f64>, usize) = match leds {
        RawLeds::Single(p) => (flat(p), 2),
        RawLeds::Pair { led1, led2 } => (
            led1.iter()
                .zip(led2)
                .flat_map(|(a, b)| [a[0], a[1], b[0], b[1]])
                .collect(),
            4,
        ),
    };
    let dir = scratch_dir();
    let d = dir.path();
    write_f64(&d.join("t"), time);
    write_f64(&d.join("data"), &rows);
    let out = oracle(
        TRODES_PY,
        &[
            &time.len().to_string(),
            &k.to_string(),
            &format!("{conversion:?}"),
            &params_json(params),
            p(d),
        ],
    );
    let m: usize = out.trim().parse().expect("row count");
    let want = read_f64(&d.join("out"));
    let ours =
        calculate_position_info(time, leds, conversion, params).expect("calculate_position_info");
    assert_eq!(ours.time.len(), m, "{label}: rows");
    assert_close(&format!("{label} time"), &ours.time, &want[..m], 1e-12);
    assert_close(
        &format!("{label} position"),
        &flat(&ours.position),
        &want[m..3 * m],
        1e-9,
    );
    assert_close(
        &format!("{label} orientation"),
        &ours.orientation,
        &want[3 * m..4 * m],
        1e-9,
    );
    assert_close(
        &format!("{label} velocity"),
        &flat(&ours.velocity),
        &want[4 * m..6 * m],
        1e-9,
    );
    assert_close(
        &format!("{label} speed"),
        &ours.speed,
        &want[6 * m..7 * m],
        1e-9,
    );
}

fn pair(d: &Leds) -> RawLeds {
    RawLeds::Pair {
        led1: d.led1.clone(),
        led2: d.led2.clone(),
    }
}

#[test]
fn two_leds_default_params_match_spyglass() {
    let d = leds(3000, 30.0, 1_700_000_000.0, 11, true);
    check(
        "default",
        &d.time,
        &pair(&d),
        0.002,
        &TrodesPosParams::default(),
    );
    let back_first = TrodesPosParams {
        led1_is_front: false,
        ..Default::default()
    };
    check("led1 is back", &d.time, &pair(&d), 0.002, &back_first);
}

#[test]
fn upsampling_matches_spyglass() {
    let d = leds(1500, 30.0, 5000.0, 12, true);
    for (rate, method) in [
        (50.0, UpsamplingMethod::Linear),
        (500.0, UpsamplingMethod::Linear),
        (60.0, UpsamplingMethod::Index),
    ] {
        let params = TrodesPosParams {
            is_upsampled: true,
            upsampling_sampling_rate: Some(rate),
            upsampling_interpolation_method: method,
            ..Default::default()
        };
        check(
            &format!("upsampled {rate} Hz {}", method.as_str()),
            &d.time,
            &pair(&d),
            0.002,
            &params,
        );
    }
}

/// The parameters of Spyglass's test `single_led_upsampled` (tests/conftest.py).
fn spyglass_test_params() -> TrodesPosParams {
    TrodesPosParams {
        max_led_separation: 10000.0,
        is_upsampled: true,
        upsampling_sampling_rate: Some(50.0),
        ..Default::default()
    }
}

#[test]
fn single_led_as_spyglass_test_data_matches_spyglass() {
    // Spyglass's test file carries one LED in a 4-column series whose second LED is zeros.
    let d = leds(2400, 30.0, 1_687_474_800.0, 13, false);
    let zeros: Vec<Xy> = vec![[0.0; 2]; d.led1.len()];
    let raw = RawLeds::Pair {
        led1: d.led1.clone(),
        led2: zeros,
    };
    check(
        "single LED, 4 columns, 50 Hz",
        &d.time,
        &raw,
        0.002,
        &spyglass_test_params(),
    );
    let ours = calculate_position_info(&d.time, &raw, 0.002, &spyglass_test_params()).unwrap();
    assert!(
        ours.orientation.iter().all(|o| o.is_nan()),
        "orientation of a zero LED is NaN"
    );
}

#[test]
fn single_led_two_columns_matches_spyglass_computation() {
    let d = leds(2400, 30.0, 1_687_474_800.0, 14, true);
    let raw = RawLeds::Single(d.led1.clone());
    check(
        "single LED, 2 columns",
        &d.time,
        &raw,
        0.002,
        &TrodesPosParams::default(),
    );
    check(
        "single LED, 2 columns, 50 Hz",
        &d.time,
        &raw,
        0.002,
        &spyglass_test_params(),
    );
}

#[test]
fn bad_input_is_an_error() {
    let d = leds(300, 30.0, 0.0, 15, false);
    let far: Vec<Xy> = d.led1.iter().map(|p| [p[0] + 1000.0, p[1]]).collect();
    let raw = RawLeds::Pair {
        led1: d.led1.clone(),
        led2: far,
    };
    let e = calculate_position_info(&d.time, &raw, 0.002, &TrodesPosParams::default()).unwrap_err();
    assert!(
        matches!(e, PositionError::AllTooSeparated { n: 300, .. }),
        "{e}"
    );
    let mut t = d.time.clone();
    t.swap(10, 11);
    let e = calculate_position_info(&t, &pair(&d), 0.002, &TrodesPosParams::default()).unwrap_err();
    assert!(matches!(e, PositionError::InvalidTime(_)), "{e}");
    let slow: Vec<f64> = (0..300).map(|i| i as f64 * 0.5).collect(); // 2 Hz: 0.125 s window is 0 samples
    let e =
        calculate_position_info(&slow, &pair(&d), 0.002, &TrodesPosParams::default()).unwrap_err();
    assert!(
        matches!(
            e,
            PositionError::InvalidParameter {
                name: "position_smoothing_duration",
                ..
            }
        ),
        "{e}"
    );
    let up = TrodesPosParams {
        is_upsampled: true,
        ..Default::default()
    };
    assert!(calculate_position_info(&d.time, &pair(&d), 0.002, &up).is_err());
    assert!(RawLeds::from_rows(&[1.0; 9], 3).is_err());
    assert!(
        calculate_position_info(&d.time[..10], &pair(&d), 0.002, &TrodesPosParams::default())
            .is_err()
    );
}

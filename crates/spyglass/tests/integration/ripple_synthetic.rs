//! Ripple detection against ground truth: the demo session written by
//! `spyglass_nwb::synthetic` (`SyntheticParams::demo()`: 20 s at 30 kHz, 10
//! ripples of 60 µV at 180 Hz over theta, spikes and noise; the animal runs round
//! a track and stands still around each ripple) goes through the whole chain —
//! ingest, LFPV1 (1 kHz), the `Ripple 150-250 Hz` LFPBandV1, TrodesPosV1 of both
//! epochs, RippleTimesV1 with Spyglass's `default_trodes` parameters — and the
//! detected events are compared with the ripple times the generator injected:
//! every injected ripple (centre ± 2 σ of its envelope) overlaps a detected event,
//! and at most 5 % of the detected events overlap no injected ripple.

use crate::common::*;
use spyglass::common::common_interval::RAW_VALID_TIMES;
use spyglass::lfp::{band_v1, lfp_electrode, v1};
use spyglass::position::{merge, trodes_v1};
use spyglass::ripple::v1 as ripple;
use spyglass_db::Cond;
use spyglass_nwb::synthetic::{write_session, SyntheticParams};

fn overlaps(a: [f64; 2], b: [f64; 2]) -> bool {
    a[0] <= b[1] && b[0] <= a[1]
}

#[test]
fn every_injected_ripple_is_found_with_few_false_events() {
    let env = Env::new();
    let src = env.staging().join("demo20230622.nwb");
    let truth = write_session(&src, &SyntheticParams::demo()).unwrap();
    assert_eq!(truth.ripples.times.len(), 10);
    let r = &env.insert(&[src])[0];
    assert!(r.is_ok(), "{:?}", r.status);
    let nwb = r.nwb_file_name.clone();
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    spyglass::filter::insert_band_filters(&env.db).unwrap();
    let pop = |table: &str, n: usize| {
        let rep = spyglass::populate(&env.db, &env.settings, table, Cond::Bool(true)).unwrap();
        assert_eq!(rep.success_count, n, "{table}: {:?}", rep.error_list);
    };

    let ids: Vec<i64> = (0..truth.n_channels as i64).collect();
    lfp_electrode::create_group(&env.db, &nwb, "ca1", &ids).unwrap();
    let lfp_key = select_lfp(&env, &nwb, "ca1", RAW_VALID_TIMES, 30000);
    pop(v1::LFPV1, 1);
    let band = band_v1::BandKey {
        lfp_merge_id: spyglass_db::merge::merge_id(&lfp_key, "LFPV1"),
        filter_name: "Ripple 150-250 Hz".to_string(),
        filter_sampling_rate: 1000,
        nwb_file_name: nwb.clone(),
        target_interval_list_name: RAW_VALID_TIMES.to_string(),
        lfp_band_sampling_rate: 1000,
    };
    let electrodes: Vec<band_v1::BandElectrode> = ids
        .iter()
        .map(|&electrode_id| band_v1::BandElectrode {
            electrode_id,
            reference_elect_id: -1,
        })
        .collect();
    let selection = band_v1::BandSelection {
        key: band.clone(),
        min_interval_len: 1.0,
    };
    band_v1::insert_selection(&env.db, &selection, "ca1", &electrodes).unwrap();
    pop(band_v1::LFP_BAND_V1, 1);
    trodes_v1::select(&env.db, &nwb, None, trodes_v1::DEFAULT_PARAMS_NAME).unwrap();
    pop(trodes_v1::TRODES_POS_V1, 2);
    ripple::set_lfp_electrodes(&env.db, &band, None, "CA1").unwrap();
    let rep = spyglass::populate(
        &env.db,
        &env.settings,
        ripple::RIPPLE_TIMES_V1,
        Cond::map([("ripple_param_name", "default_trodes")]),
    )
    .unwrap();
    assert_eq!(rep.success_count, 2, "{:?}", rep.error_list);

    // the events of both epochs' positions
    let mut events = vec![];
    for (pos_merge_id, _) in merge::position_merge_ids(&env.db, &nwb, None).unwrap() {
        let key = ripple::RippleTimesKey {
            selection: ripple::RippleLfpKey {
                band: band.clone(),
                group_name: "CA1".into(),
            },
            ripple_param_name: "default_trodes".into(),
            pos_merge_id,
        };
        events.extend(ripple::fetch_ripple_times(&env.db, &key).unwrap());
    }
    let injected = truth.ripples.extents(2.0);
    let missed: Vec<&[f64; 2]> = injected
        .iter()
        .filter(|r| !events.iter().any(|e| overlaps(**r, *e)))
        .collect();
    let false_events: Vec<&[f64; 2]> = events
        .iter()
        .filter(|e| !injected.iter().any(|r| overlaps(*r, **e)))
        .collect();
    eprintln!(
        "{} injected ripples, {} detected events, {} missed, {} false",
        injected.len(),
        events.len(),
        missed.len(),
        false_events.len()
    );
    assert!(
        missed.is_empty(),
        "injected ripples not found: {missed:?}\nevents: {events:?}"
    );
    assert!(
        20 * false_events.len() <= events.len(),
        "false events {false_events:?} among {} events",
        events.len()
    );
}

//! `spyglass demo`: a synthetic session ingested, LFP and a theta band computed, a
//! summary printed and an SVG picture of raw vs LFP traces and band power drawn,
//! then exported as a paper bundle.

use anyhow::{bail, Context, Result};
use spyglass::lfp::{self, analytic, band_v1, v1};
use spyglass::{filter, Settings};
use spyglass_db::Value;
use std::path::Path;
use std::time::Instant;

/// `spyglass demo [--dir DIR]`.
pub fn demo(dir: &Path) -> Result<()> {
    let t0 = Instant::now();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = std::fs::canonicalize(dir)?;
    let settings = Settings::new(dir.join("base"));
    let url = format!("sqlite:///{}", dir.join("spyglass.db").display());
    let db = spyglass::Spyglass::open(&url, settings.clone())?;

    // 1. a synthetic session with known theta
    let params = spyglass_nwb::synthetic::SyntheticParams::demo();
    let (theta_hz, theta_uv) = (params.theta_hz, params.theta_amplitude_uv);
    let nwb = "demo20230622_.nwb".to_string();
    let nwbfile = spyglass::common::common_nwbfile::NWBFILE;
    let present = db.exists(
        &db.table(nwbfile)?
            .restrict(spyglass_db::Cond::map([("nwb_file_name", nwb.as_str())]))?,
    )?;
    if present {
        // rewriting the source would give its objects new ids under the existing rows
        println!(
            "1-2. {nwb} is already ingested in {}; reusing it",
            dir.display()
        );
    } else {
        let incoming = dir.join("incoming");
        std::fs::create_dir_all(&incoming)?;
        let src = incoming.join("demo20230622.nwb");
        spyglass_nwb::synthetic::write_session(&src, &params)?;
        println!(
            "1. wrote {} ({} s, {} channels at {} Hz; theta {theta_hz} Hz, {theta_uv} µV)",
            src.display(),
            params.duration_s,
            params.n_channels,
            params.sampling_rate,
        );

        // 2. ingest
        let reports = spyglass::ingest::insert_sessions(
            &db,
            &settings,
            std::slice::from_ref(&src),
            &Default::default(),
            &spyglass::ingest::NoProgress,
        )?;
        let r = &reports[0];
        if let spyglass::ingest::FileStatus::Failed { message, .. } = &r.status {
            bail!("ingesting {}: {message}", src.display());
        }
        println!(
            "2. ingested {}: {} rows",
            r.nwb_file_name,
            r.rows_inserted()
        );
    }

    // 3. LFP and theta band
    spyglass::defaults::insert_defaults(&db, &[])?;
    filter::insert_band_filters(&db)?;
    let ids: Vec<i64> = (0..params.n_channels as i64).collect();
    lfp::lfp_electrode::create_group(&db, &nwb, "demo", &ids)?;
    let target = spyglass::common::common_interval::RAW_VALID_TIMES;
    let lfp = v1::LfpKey {
        nwb_file_name: nwb.clone(),
        lfp_electrode_group_name: "demo".into(),
        target_interval_list_name: target.into(),
        filter_name: "LFP 0-400 Hz".into(),
        filter_sampling_rate: 30_000,
    };
    let selection = v1::LfpSelection {
        key: lfp,
        target_sampling_rate: 1000.0,
    };
    let key = v1::insert_selection(&db, &selection)?;
    let rep = db.populate(v1::LFPV1, spyglass_db::Cond::from(&key))?;
    println!("3. LFPV1: {} made", rep.success_count);
    let band = band_v1::BandSelection {
        key: band_v1::BandKey {
            lfp_merge_id: spyglass_db::merge::merge_id(&key, "LFPV1"),
            filter_name: "Theta 5-11 Hz".into(),
            filter_sampling_rate: 1000,
            nwb_file_name: nwb.clone(),
            target_interval_list_name: target.into(),
            lfp_band_sampling_rate: 100,
        },
        min_interval_len: 1.0,
    };
    let electrodes: Vec<band_v1::BandElectrode> = ids
        .iter()
        .map(|&electrode_id| band_v1::BandElectrode {
            electrode_id,
            reference_elect_id: -1,
        })
        .collect();
    let band_key = band_v1::insert_selection(&db, &band, "demo", &electrodes)?;
    let rep = db.populate(band_v1::LFP_BAND_V1, spyglass_db::Cond::from(&band_key))?;
    println!("   LFPBandV1 (theta): {} made", rep.success_count);

    // 4. what was made
    println!("4. tables:");
    for t in [
        filter::FIR_FILTER_PARAMETERS,
        lfp::lfp_electrode::LFP_ELECTRODE_GROUP,
        v1::LFP_SELECTION,
        v1::LFPV1,
        lfp::merge::LFP_OUTPUT,
        band_v1::LFP_BAND_SELECTION,
        band_v1::LFP_BAND_V1,
        spyglass::common::common_nwbfile::ANALYSIS_NWBFILE,
    ] {
        let info = db.table_info(t)?;
        let n = db.count(&db.table(t)?)?;
        println!(
            "   {t:<44} {:<40} {n} rows",
            format!("{}.{}", info.name.schema, info.name.table)
        );
    }
    // the analysis below (what the picture shows) is logged for a paper export
    spyglass::export::stop_export(&db);
    spyglass::export::start_export(&db, "demo", "theta")?;
    db.fetch(
        &db.table(spyglass::common::common_session::SESSION)?
            .restrict(spyglass_db::Cond::map([("nwb_file_name", nwb.as_str())]))?,
    )?;
    let (lfp_volts, lfp_ts) = v1::fetch_lfp_volts(&db, &key)?;
    let band = analytic::band_features(&db, &band_key)?;
    let amp = &band.features[0].amplitude;
    let mid = &amp[amp.len() / 4..3 * amp.len() / 4];
    let mut sorted = mid.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median_uv = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0) * 1e6;
    println!(
        "   LFP: {} samples x {} channels at 1000 Hz; theta amplitude (median, electrode 0): {median_uv:.1} µV (truth {} µV)",
        lfp_ts.len(),
        lfp_volts.len(),
        theta_uv
    );

    // 5. picture
    let file = spyglass_nwb::NwbFile::open(spyglass::analysis::nwb_file_path(&db, &nwb)?)?;
    let raw_row = db.fetch1(
        &db.table(spyglass::common::common_ephys::RAW)?
            .restrict(spyglass_db::Cond::map([("nwb_file_name", nwb.as_str())]))?,
    )?;
    let raw_id = raw_row
        .get("raw_object_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let reader = file.raw_reader(&file.path_of_id(&raw_id)?)?;
    let (w0, w1) = (5.0, 7.0);
    let span = reader.samples(&spyglass_nwb::SampleSpan::Time {
        start: w0,
        stop: w1,
    })?;
    let raw_ts = reader.timestamps(span.clone())?;
    let raw = reader.read_scaled(span, &[0])?;
    let win = |ts: &[f64], x: &[f64]| -> Vec<(f64, f64)> {
        ts.iter()
            .zip(x)
            .filter(|(t, _)| **t >= w0 && **t < w1)
            .map(|(t, v)| (*t, v * 1e6))
            .collect()
    };
    let svg_path = dir.join("lfp_demo.svg");
    let panels = vec![
        Panel {
            title: "raw, electrode 0 (µV)".into(),
            series: vec![(win(&raw_ts, &raw[0]), "#888888")],
            from_zero: false,
        },
        Panel {
            title: "LFP 0-400 Hz, 1 kHz (µV)".into(),
            series: vec![(win(&lfp_ts, &lfp_volts[0]), "#1f77b4")],
            from_zero: false,
        },
        Panel {
            title: "theta 5-11 Hz band and its amplitude (µV)".into(),
            series: vec![
                (win(&band.timestamps, &band.volts[0]), "#2ca02c"),
                (win(&band.timestamps, amp), "#d62728"),
            ],
            from_zero: false,
        },
        Panel {
            title: "theta band power (µV²)".into(),
            series: vec![(
                band.timestamps
                    .iter()
                    .zip(&band.features[0].power)
                    .filter(|(t, _)| **t >= w0 && **t < w1)
                    .map(|(t, p)| (*t, p * 1e12))
                    .collect(),
                "#9467bd",
            )],
            from_zero: true,
        },
    ];
    std::fs::write(&svg_path, draw_svg(&panels, w0, w1))
        .with_context(|| format!("writing {}", svg_path.display()))?;
    println!("5. picture: {}", svg_path.display());

    // 6. the paper export: every row and file the analysis above used
    spyglass::export::stop_export(&db);
    let done = spyglass::export::paper::populate_paper(
        &db,
        &settings,
        "demo",
        &spyglass::export::ExportOptions {
            out_dir: Some(dir.join("export")),
            dandi_dir: Some(dir.join("export").join("dandiset")),
        },
    )?;
    println!(
        "6. export: {} rows in {} tables and {} files -> {}",
        done.total_rows(),
        done.tables.iter().filter(|(_, n)| *n > 0).count(),
        done.files.len(),
        done.bundle.display()
    );
    if let Some(d) = &done.dandi {
        println!(
            "   dandiset: {} files, {} problems -> {}",
            d.files.len(),
            d.problems.len(),
            dir.join("export").join("dandiset").display()
        );
    }
    println!(
        "   open it: spyglass --db sqlite:///{} tables",
        done.bundle
            .join(spyglass::export::paper::BUNDLE_DB)
            .display()
    );
    println!("done in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

struct Panel {
    title: String,
    series: Vec<(Vec<(f64, f64)>, &'static str)>,
    /// Start the y axis at zero (for power).
    from_zero: bool,
}

/// Stacked panels of line plots sharing the time axis `[t0, t1]`, as SVG text.
fn draw_svg(panels: &[Panel], t0: f64, t1: f64) -> String {
    let (w, ph, left, right, top) = (900.0, 170.0, 70.0, 20.0, 30.0);
    let h = top + ph * panels.len() as f64 + 30.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"18\" font-size=\"14\">spyglass demo: raw vs LFP and theta band power, {t0}-{t1} s</text>\n"
    );
    for (i, p) in panels.iter().enumerate() {
        let y0 = top + ph * i as f64 + 20.0;
        let hh = ph - 35.0;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (pts, _) in &p.series {
            for &(_, v) in pts {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        if p.from_zero {
            lo = lo.min(0.0);
        }
        if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
            lo = -1.0;
            hi = 1.0;
        }
        let x = |t: f64| left + (t - t0) / (t1 - t0) * (w - left - right);
        let y = |v: f64| y0 + hh - (v - lo) / (hi - lo) * hh;
        s.push_str(&format!(
            "<text x=\"{left}\" y=\"{:.1}\">{}</text>\n<rect x=\"{left}\" y=\"{y0}\" width=\"{:.1}\" height=\"{hh}\" fill=\"none\" stroke=\"#cccccc\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{hi:.0}</text>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{lo:.0}</text>\n",
            y0 - 4.0,
            p.title,
            w - left - right,
            left - 4.0,
            y0 + 10.0,
            left - 4.0,
            y0 + hh
        ));
        for (pts, color) in &p.series {
            let step = (pts.len() / 3000).max(1);
            let coords: Vec<String> = pts
                .iter()
                .step_by(step)
                .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
                .collect();
            s.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1\" points=\"{}\"/>\n",
                coords.join(" ")
            ));
        }
    }
    let axis_y = top + ph * panels.len() as f64 + 2.0;
    for k in 0..=4 {
        let t = t0 + (t1 - t0) * k as f64 / 4.0;
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{axis_y:.1}\" text-anchor=\"middle\">{t:.1}</text>\n",
            left + (w - left - right) * k as f64 / 4.0
        ));
    }
    s.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">time (s)</text>\n</svg>\n",
        left + (w - left - right) / 2.0,
        h - 8.0
    ));
    s
}

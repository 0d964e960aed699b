//! The LFP pipeline's subcommands: `lfp group add` (an LFP electrode group by ids,
//! electrode groups, regions or all), `lfp select` (an LFPSelection), `lfp band
//! select` (an LFPBandSelection with its electrodes and references), `defaults`
//! (default rows of the Parameters tables), `filter add` / `filter list`
//! (FirFilterParameters), and `demo` (a
//! synthetic session ingested, LFP and a theta band computed, a summary printed
//! and an SVG picture of raw vs LFP traces and band power drawn). Also the makers
//! this build registers for `populate` and `worker`.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use spyglass::lfp::{self, band_v1, v1};
use spyglass::{filter, Settings};
use spyglass_db::populate::{Registry, Tripartite};
use spyglass_db::{Db, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// `spyglass filter ...`.
#[derive(Subcommand)]
pub enum FilterCommand {
    /// Design a FIR filter and store it (FirFilterParameters.add_filter).
    Add {
        /// Filter name, e.g. "Theta 5-11 Hz".
        name: String,
        /// Sampling rate the filter is for, Hz.
        #[arg(long)]
        rate: u32,
        /// lowpass, highpass, bandpass or bandstop.
        #[arg(long = "type")]
        filter_type: String,
        /// Band edges in Hz: pass,stop (lowpass), stop,pass (highpass) or four edges.
        #[arg(long, value_delimiter = ',', required = true)]
        edges: Vec<f64>,
        /// A comment stored with the filter.
        #[arg(long, default_value = "")]
        comment: String,
        /// Replace a stored filter of this name and rate (refused while rows computed
        /// with it exist); without it a stored filter is kept, as Spyglass does.
        #[arg(long)]
        replace: bool,
    },
    /// Add the theta (5-11 Hz) and ripple (150-250 Hz) band filters for 1 kHz LFP.
    AddBands,
    /// List the stored filters.
    List,
}

/// `spyglass lfp ...`.
#[derive(Subcommand)]
pub enum LfpCommand {
    /// LFP electrode groups (LFPElectrodeGroup).
    #[command(subcommand)]
    Group(LfpGroupCommand),
    /// Select an LFP electrode group, interval and filter for LFPV1 (LFPSelection).
    Select {
        /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
        file: String,
        /// The LFP electrode group.
        group: String,
        /// Target interval (an IntervalList name of the session, e.g. "raw data valid times").
        #[arg(long)]
        interval: String,
        /// A FirFilterParameters filter at the raw rate (e.g. "LFP 0-400 Hz").
        #[arg(long)]
        filter: String,
        /// Output sampling rate, Hz.
        #[arg(long, default_value_t = 1000.0)]
        rate: f64,
        /// The filter's sampling rate (default: the raw data's rate, rounded).
        #[arg(long)]
        filter_rate: Option<u32>,
    },
    /// LFP bands (LFPBandSelection).
    #[command(subcommand)]
    Band(LfpBandCommand),
}

/// `spyglass lfp group ...`.
#[derive(Subcommand)]
pub enum LfpGroupCommand {
    /// Make an LFP electrode group of a session's electrodes.
    Add {
        /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
        file: String,
        /// Name of the new group.
        name: String,
        /// Electrode ids: `0,1,2` or ranges `0-15,32`.
        #[arg(long, value_name = "IDS", conflicts_with_all = ["electrode_group", "region", "all"])]
        electrodes: Option<String>,
        /// Every electrode of these electrode groups (repeatable).
        #[arg(long = "electrode-group", value_name = "G", conflicts_with_all = ["region", "all"])]
        electrode_group: Vec<String>,
        /// Every electrode in these brain regions (repeatable).
        #[arg(long, value_name = "R", conflicts_with = "all")]
        region: Vec<String>,
        /// Every electrode of the session.
        #[arg(long)]
        all: bool,
    },
}

/// `spyglass lfp band ...`.
#[derive(Subcommand)]
pub enum LfpBandCommand {
    /// Select an LFP, electrodes, a band filter, an interval and a rate for LFPBandV1.
    Select {
        /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
        file: String,
        /// The LFP electrode group whose LFP is filtered.
        #[arg(long = "lfp-group")]
        lfp_group: String,
        /// Which LFP of the group, by its target interval (when it has several).
        #[arg(long = "lfp-interval")]
        lfp_interval: Option<String>,
        /// Which LFP of the group, by its filter (when it has several).
        #[arg(long = "lfp-filter")]
        lfp_filter: Option<String>,
        /// Band filter (FirFilterParameters at the LFP's rate, e.g. "Theta 5-11 Hz").
        #[arg(long)]
        filter: String,
        /// Target interval of the band.
        #[arg(long)]
        interval: String,
        /// Output sampling rate, Hz.
        #[arg(long)]
        rate: u32,
        /// Electrode ids to filter (default: the whole LFP group).
        #[arg(long, value_name = "IDS")]
        electrodes: Option<String>,
        /// One reference electrode for all, or one per electrode (`-1` for none).
        #[arg(long, value_name = "IDS", allow_hyphen_values = true)]
        reference: Option<String>,
        /// Shortest valid piece to filter, seconds.
        #[arg(long, default_value_t = 1.0)]
        min_interval_len: f64,
    },
}

/// The session's `nwb_file_name`: as given when it exists, else the copy name of a raw name.
fn session_name(db: &Db, file: &str) -> Result<String> {
    let sessions = spyglass::common::common_session::SESSION;
    for name in [file.to_string(), spyglass::ingest::copy_file_name(file)] {
        let q = db
            .table(sessions)?
            .restrict(spyglass_db::Cond::map([("nwb_file_name", name.as_str())]))?;
        if db.exists(&q)? {
            return Ok(name);
        }
    }
    bail!("no session `{file}` (list them with `spyglass show {sessions}`)")
}

/// Parses `0,1,2` and ranges `0-15,32` (negative ids allowed, e.g. `-1`).
pub fn parse_ids(text: &str) -> Result<Vec<i64>> {
    let mut out = vec![];
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let range = part
            .char_indices()
            .skip(1)
            .find(|&(_, c)| c == '-')
            .map(|(i, _)| (&part[..i], &part[i + 1..]));
        match range {
            Some((a, b)) => {
                let (a, b): (i64, i64) = (
                    a.trim()
                        .parse()
                        .with_context(|| format!("`{part}` is not a range of ids"))?,
                    b.trim()
                        .parse()
                        .with_context(|| format!("`{part}` is not a range of ids"))?,
                );
                if b < a || b - a > 100_000 {
                    bail!("`{part}`: a range goes up, at most 100000 ids");
                }
                out.extend(a..=b);
            }
            None => out.push(
                part.parse()
                    .with_context(|| format!("`{part}` is not an electrode id"))?,
            ),
        }
    }
    if out.is_empty() {
        bail!("no electrode ids in `{text}`");
    }
    Ok(out)
}

/// `spyglass lfp ...`.
pub fn lfp_cmd(db: &Db, cmd: LfpCommand) -> Result<()> {
    match cmd {
        LfpCommand::Group(LfpGroupCommand::Add {
            file,
            name,
            electrodes,
            electrode_group,
            region,
            all,
        }) => {
            use lfp::lfp_electrode::{choose_electrodes, create_group, ElectrodeChoice};
            let nwb = session_name(db, &file)?;
            let choice = match (electrodes, electrode_group.is_empty(), region.is_empty(), all) {
                (Some(ids), true, true, false) => ElectrodeChoice::Ids(parse_ids(&ids)?),
                (None, false, true, false) => ElectrodeChoice::Groups(electrode_group),
                (None, true, false, false) => ElectrodeChoice::Regions(region),
                (None, true, true, true) => ElectrodeChoice::All,
                _ => bail!("name the electrodes with one of --electrodes, --electrode-group, --region or --all"),
            };
            let ids = choose_electrodes(db, &nwb, &choice)?;
            create_group(db, &nwb, &name, &ids)?;
            println!(
                "LFP electrode group `{name}` of {nwb}: {} electrodes ({})",
                ids.len(),
                ids.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        LfpCommand::Select {
            file,
            group,
            interval,
            filter,
            rate,
            filter_rate,
        } => {
            let nwb = session_name(db, &file)?;
            let filter_rate = match filter_rate {
                Some(r) => r,
                None => v1::raw_rate_for_group(db, &nwb, &group)?,
            };
            v1::insert_selection(db, &nwb, &group, &interval, &filter, filter_rate, rate)?;
            println!(
                "LFPSelection: {nwb}, group `{group}`, interval `{interval}`, filter `{filter}` at {filter_rate} Hz, output {rate} Hz"
            );
            println!(
                "next: spyglass populate {} --key nwb_file_name={nwb} --key lfp_electrode_group_name={group}",
                v1::LFPV1
            );
        }
        LfpCommand::Band(LfpBandCommand::Select {
            file,
            lfp_group,
            lfp_interval,
            lfp_filter,
            filter,
            interval,
            rate,
            electrodes,
            reference,
            min_interval_len,
        }) => {
            let nwb = session_name(db, &file)?;
            let lfps = lfp::merge::lfps_of_group(
                db,
                &nwb,
                &lfp_group,
                lfp_interval.as_deref(),
                lfp_filter.as_deref(),
            )?;
            let (merge_id, src) = match lfps.len() {
                1 => lfps.into_iter().next().context("one LFP")?,
                0 => bail!("LFP electrode group `{lfp_group}` of {nwb} has no LFP yet (run `spyglass lfp select` and `spyglass populate lfp_v1.LFPV1`)"),
                n => bail!("LFP electrode group `{lfp_group}` of {nwb} has {n} LFPs; choose one with --lfp-interval or --lfp-filter"),
            };
            let group_ids = lfp::lfp_electrode::electrode_ids(db, &nwb, &lfp_group)?;
            let ids = match electrodes {
                Some(t) => parse_ids(&t)?,
                None => group_ids,
            };
            let refs = match reference {
                None => vec![-1; ids.len()],
                Some(t) => {
                    let r = parse_ids(&t)?;
                    match r.len() {
                        1 => vec![r[0]; ids.len()],
                        n if n == ids.len() => r,
                        n => bail!("--reference: {n} ids for {} electrodes (give one, or one per electrode)", ids.len()),
                    }
                }
            };
            let band: Vec<band_v1::BandElectrode> = ids
                .iter()
                .zip(&refs)
                .map(
                    |(&electrode_id, &reference_elect_id)| band_v1::BandElectrode {
                        electrode_id,
                        reference_elect_id,
                    },
                )
                .collect();
            let lfp_rate = src.lfp_sampling_rate.round() as u32;
            band_v1::insert_selection(
                db,
                &merge_id,
                &nwb,
                &lfp_group,
                &band,
                &filter,
                lfp_rate,
                &interval,
                rate,
                min_interval_len,
            )?;
            println!(
                "LFPBandSelection: {nwb}, LFP {} ({} of group `{lfp_group}`), {} electrodes, filter `{filter}` at {lfp_rate} Hz, interval `{interval}`, output {rate} Hz",
                merge_id.python_str(),
                src.source,
                band.len()
            );
            println!(
                "next: spyglass populate {} --key nwb_file_name={nwb}",
                band_v1::LFP_BAND_V1
            );
        }
    }
    Ok(())
}

/// Registers the LFP makers (LFPV1, LFPBandV1), writing under `settings`.
pub fn register(reg: &mut Registry, settings: &Settings) {
    reg.add(
        v1::LFPV1,
        Arc::new(Tripartite(v1::LfpV1Maker::new(settings.clone()))),
        None,
    );
    reg.add(
        band_v1::LFP_BAND_V1,
        Arc::new(Tripartite(band_v1::LfpBandV1Maker::new(settings.clone()))),
        None,
    );
}

/// `spyglass defaults [TABLE...]`.
pub fn defaults(db: &Db, tables: &[String]) -> Result<()> {
    for (t, n) in spyglass::defaults::insert_defaults(db, tables)? {
        println!("{t}: {n} default rows inserted");
    }
    Ok(())
}

/// `spyglass filter ...`.
pub fn filter_cmd(db: &Db, cmd: FilterCommand) -> Result<()> {
    match cmd {
        FilterCommand::Add {
            name,
            rate,
            filter_type,
            edges,
            comment,
            replace,
        } => {
            let ty: filter::FilterType = filter_type
                .parse()
                .map_err(|e| anyhow::anyhow!("--type: {e}"))?;
            let (d, added) = filter::add_filter(db, &name, rate, ty, &edges, &comment, replace)?;
            let what = format!(
                "`{name}` at {rate} Hz: {} {:?} Hz, {} taps",
                d.filter_type,
                d.band_edges,
                d.numtaps()
            );
            match added {
                filter::Added::Inserted => println!("added filter {what}"),
                filter::Added::Replaced => println!("replaced filter {what}"),
                filter::Added::Kept { same: true } => {
                    println!("filter `{name}` at {rate} Hz is already stored with this design")
                }
                filter::Added::Kept { same: false } => println!(
                    "filter `{name}` at {rate} Hz is already stored with another design or comment; kept the stored row (use --replace to replace it)"
                ),
            }
        }
        FilterCommand::AddBands => {
            let n = filter::insert_band_filters(db)?;
            println!(
                "{}: {n} band filters inserted",
                filter::FIR_FILTER_PARAMETERS
            );
        }
        FilterCommand::List => {
            for f in filter::list(db)? {
                println!(
                    "{:<24} {:>6} Hz  {:<9} edges {:?}  {} taps  {}",
                    f.name, f.sampling_rate, f.filter_type, f.band_edges, f.numtaps, f.comments
                );
            }
        }
    }
    Ok(())
}

/// `spyglass demo [--dir DIR]`.
pub fn demo(dir: &Path) -> Result<()> {
    let t0 = Instant::now();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = std::fs::canonicalize(dir)?;
    let settings = Settings::new(dir.join("base"));
    let url = format!("sqlite:///{}", dir.join("spyglass.db").display());
    let db = spyglass::open(&url, &settings)?;

    // 1. a synthetic session with known theta
    let params = spyglass_nwb::synthetic::SyntheticParams {
        duration_s: 20.0,
        n_channels: 4,
        n_groups: 1,
        n_units: 2,
        ..Default::default()
    };
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
    let key = v1::insert_selection(&db, &nwb, "demo", target, "LFP 0-400 Hz", 30_000, 1000.0)?;
    let rep = v1::populate(&db, &settings, spyglass_db::Cond::from(&key))?;
    println!("3. LFPV1: {} made", rep.success_count);
    let merge_id = Value::Uuid(spyglass_db::merge::merge_id(&key, "LFPV1"));
    let band_key = band_v1::insert_selection(
        &db,
        &merge_id,
        &nwb,
        "demo",
        &ids.iter()
            .map(|&e| band_v1::BandElectrode {
                electrode_id: e,
                reference_elect_id: -1,
            })
            .collect::<Vec<_>>(),
        "Theta 5-11 Hz",
        1000,
        target,
        100,
        1.0,
    )?;
    let rep = band_v1::populate(&db, &settings, spyglass_db::Cond::from(&band_key))?;
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
    let band = band_v1::band_features(&db, &band_key)?;
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

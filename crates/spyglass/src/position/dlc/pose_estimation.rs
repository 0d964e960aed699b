//! `position_v1_dlc_pose_estimation`: DLCPoseEstimationSelection and
//! DLCPoseEstimation (+ BodyPart) with Spyglass's definitions, filled by importing a
//! DeepLabCut output (`spyglass position dlc import`), as Spyglass's `task_mode =
//! 'load'` loads results it did not compute.
//!
//! The import enters the output's network as a model "FromImport" (DLCProject,
//! BodyPart, DLCModelInput, DLCModelSource + FromImport, DLCModelParams `default`,
//! DLCModelSelection, DLCModel + BodyPart; the model is named after the scorer
//! unless named), the selection (`task_mode = 'load'`, the output's folder), and then,
//! as DLCPoseEstimation's make does: each body part converted to cm with the
//! camera's `meters_per_pixel` and timed by the video's frame times from the first
//! frame at or after the epoch's first position time on
//! ([`spyglass_position::dlc::BodyPartPose::from_dlc`]); one analysis file per body
//! part with a Position (`position`, cm, conversion 0.01) and a
//! BehavioralTimeSeries (`likelihood`, `video_frame_ind`).

use super::model::{self, DlcModelKey};
use super::project;
use super::{read_series, row_with, write_container, Series, METERS_PER_CM};
use crate::analysis::nwb_file_path;
use crate::common::{common_behav, common_device, common_lab, common_session};
use crate::kit::prelude::*;
use spyglass_position::dlc::BodyPartPose;
use spyglass_position::dlc_io::{read_dlc_csv, read_dlc_h5, DlcTable};
use std::path::{Path, PathBuf};

/// Schema name.
pub const SCHEMA: &str = "position_v1_dlc_pose_estimation";
/// `DLCPoseEstimationSelection` (Manual).
pub const SELECTION: &str = "position_v1_dlc_pose_estimation.DLCPoseEstimationSelection";
/// `DLCPoseEstimation` (Computed).
pub const POSE_ESTIMATION: &str = "position_v1_dlc_pose_estimation.DLCPoseEstimation";
/// `DLCPoseEstimation.BodyPart` (Part).
pub const POSE_BODY_PART: &str = "position_v1_dlc_pose_estimation.DLCPoseEstimation.BodyPart";

/// The key of DLCPoseEstimationSelection and DLCPoseEstimation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoseKey {
    /// The session.
    pub nwb_file_name: String,
    /// The epoch (TaskEpoch).
    pub epoch: i64,
    /// The video of the epoch (VideoFile).
    pub video_file_num: i64,
    /// The model.
    #[serde(flatten)]
    pub model: DlcModelKey,
}

/// The key of DLCPoseEstimation.BodyPart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoseBodyPartKey {
    /// The pose estimation.
    #[serde(flatten)]
    pub pose: PoseKey,
    /// The body part.
    pub bodypart: String,
}

/// A DLCPoseEstimation.BodyPart row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoseBodyPart {
    /// Its key.
    #[serde(flatten)]
    pub key: PoseBodyPartKey,
    /// The analysis file.
    pub analysis_file_name: String,
    /// Object id of the Position container.
    pub dlc_pose_estimation_position_object_id: String,
    /// Object id of the BehavioralTimeSeries container (likelihood, video_frame_ind).
    pub dlc_pose_estimation_likelihood_object_id: String,
}

/// The `position_v1_dlc_pose_estimation` pipeline.
pub struct DlcPoseEstimation;

impl Pipeline for DlcPoseEstimation {
    identity!(SCHEMA, family "position", requires [model::SCHEMA]);
    provides! {
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let selection = "-> common_behav.VideoFile                           # Session -> Recording + File part table
-> position_v1_dlc_model.DLCModel                                    # Must specify a DLC project_path
---
task_mode='load' : enum('load', 'trigger')  # load results or trigger computation
video_path : varchar(120)                   # path to video file
pose_estimation_output_dir='': varchar(255) # output dir relative to the root dir
pose_estimation_params=null  : longblob     # analyze_videos params, if not default";
        let pose = "-> DLCPoseEstimationSelection
---
pose_estimation_time: datetime  # time of generation of this set of DLC results
meters_per_pixel : double       # conversion of meters per pixel for analyzed video";
        let part = "# uses DeepLabCut h5 output for body part position
-> DLCPoseEstimation
-> position_v1_dlc_model.DLCModel.BodyPart
---
-> common_nwbfile.AnalysisNwbfile
dlc_pose_estimation_position_object_id : varchar(80)
dlc_pose_estimation_likelihood_object_id : varchar(80)";
        vec![
            TableSpec::new("DLCPoseEstimationSelection", Tier::Manual, selection),
            TableSpec::new("DLCPoseEstimation", Tier::Computed, pose).part("BodyPart", part),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        match args::parse(m)? {
            Command::Dlc(DlcCommand::Import(a)) => run_import(sg, a),
            Command::Dlc(DlcCommand::Select(a)) => run_select(sg, a),
        }
    }
}

fn run_import(sg: &Spyglass, a: ImportArgs) -> Result<()> {
    let nwb = args::session_name(sg, &a.file)?;
    let spec = ImportSpec {
        nwb_file_name: nwb.clone(),
        epoch: a.epoch,
        video_file_num: a.video_file_num,
        output: a.output.clone(),
        project_name: a.project,
        dlc_model_name: a.model,
        team_name: a.team,
    };
    let (key, parts) = import(sg, sg.settings(), &spec)?;
    println!(
        "DLCPoseEstimation: {nwb}, epoch {}, model `{}` of project `{}`: {} body parts ({})",
        key.epoch,
        key.model.dlc_model_name,
        key.model.project_name,
        parts.len(),
        parts.join(", ")
    );
    println!(
        "next: spyglass defaults; spyglass position dlc select {nwb} --epoch {}",
        key.epoch
    );
    Ok(())
}

fn run_select(sg: &Spyglass, a: SelectArgs) -> Result<()> {
    let nwb = args::session_name(sg, &a.file)?;
    let pose = find_pose(sg, &nwb, a.epoch, a.model.as_deref())?;
    let names = ChainNames {
        si_params: a.si_params,
        cohort: a.cohort,
        centroid_params: a.centroid_params,
        orientation_params: a.orientation_params,
    };
    let (key, pos_selected) = select_chain(sg, &pose, &names)?;
    println!(
        "selected DLCSmoothInterp (`{}`) for every body part, cohort `{}`, DLCCentroid (`{}`), DLCOrientation (`{}`)",
        names.si_params, key.dlc_si_cohort_centroid, key.dlc_centroid_params_name, key.dlc_orientation_params_name
    );
    if pos_selected {
        println!(
            "selected DLCPosSelection; next: spyglass populate {}",
            super::selection::DLC_POS_V1
        );
    } else {
        println!(
            "next: spyglass populate {} and {} (or {} and {}), then this command again",
            super::position::SMOOTH_INTERP,
            super::cohort::COHORT,
            super::centroid::CENTROID,
            super::orient::ORIENTATION
        );
    }
    Ok(())
}

/// `spyglass position …` commands of this pipeline.
#[derive(clap::Subcommand)]
enum Command {
    /// DeepLabCut outputs and their post-processing.
    #[command(subcommand)]
    Dlc(DlcCommand),
}

/// `spyglass position dlc …`.
#[derive(clap::Subcommand)]
enum DlcCommand {
    /// Import a DLC output (.h5 or .csv) of an epoch's video into DLCPoseEstimation.
    Import(ImportArgs),
    /// Select the post-processing of an imported output: DLCSmoothInterp of every
    /// body part, a cohort of them all, DLCCentroid, DLCOrientation and DLCPosV1.
    Select(SelectArgs),
}

/// `spyglass position dlc select`.
#[derive(clap::Args)]
struct SelectArgs {
    /// The session.
    file: String,
    /// The epoch.
    #[arg(long)]
    epoch: i64,
    /// The model (when the epoch has outputs of several).
    #[arg(long)]
    model: Option<String>,
    /// DLCSmoothInterpParams for every body part.
    #[arg(long, default_value = "default")]
    si_params: String,
    /// The cohort's name.
    #[arg(long, default_value = "all")]
    cohort: String,
    /// DLCCentroidParams.
    #[arg(long, default_value = "default")]
    centroid_params: String,
    /// DLCOrientationParams.
    #[arg(long, default_value = "default")]
    orientation_params: String,
}

/// `spyglass position dlc import`.
#[derive(clap::Args)]
struct ImportArgs {
    /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
    file: String,
    /// The DLC output file (`.h5` as DLC writes it, or `.csv`).
    output: PathBuf,
    /// The epoch whose video was analysed.
    #[arg(long)]
    epoch: i64,
    /// The video of the epoch (VideoFile's video_file_num).
    #[arg(long, default_value_t = 0)]
    video_file_num: i64,
    /// The DLC project (default: the scorer).
    #[arg(long)]
    project: Option<String>,
    /// The model's name (default: the scorer).
    #[arg(long)]
    model: Option<String>,
    /// The project's LabTeam (default: the personal team of the session's first experimenter).
    #[arg(long)]
    team: Option<String>,
}

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportSpec {
    /// The session.
    pub nwb_file_name: String,
    /// The epoch.
    pub epoch: i64,
    /// The VideoFile of the epoch.
    pub video_file_num: i64,
    /// The DLC output (`.h5` or `.csv`).
    pub output: PathBuf,
    /// The DLC project (default: the scorer).
    pub project_name: Option<String>,
    /// The model (default: the scorer).
    pub dlc_model_name: Option<String>,
    /// The project's LabTeam (default: the first experimenter's).
    pub team_name: Option<String>,
}

/// Reads a DLC output by its extension.
pub fn read_output(path: &Path) -> Result<DlcTable> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let t = match ext.to_ascii_lowercase().as_str() {
        "h5" | "hdf5" => read_dlc_h5(path, "df_with_missing"),
        "csv" => read_dlc_csv(path),
        _ => {
            return Err(Error::bad(
                "DLC output",
                format!("{}: expected a .h5 or .csv DLC output", path.display()),
            ))
        }
    };
    t.map_err(|e| Error::bad("DLC output", e.to_string()))
}

#[derive(Deserialize)]
struct VideoRow {
    camera_name: String,
    video_file_object_id: String,
}

#[derive(Deserialize)]
struct CameraRow {
    meters_per_pixel: f64,
}

#[derive(Deserialize)]
struct ExperimenterRow {
    lab_member_name: String,
}

fn skip() -> InsertOptions {
    InsertOptions {
        skip_duplicates: true,
        ..Default::default()
    }
}

fn blob(json: serde_json::Value) -> Value {
    Value::from(spyglass_blob::from_json(&json))
}

/// The team of the project: given, or the personal team of the first experimenter.
fn team(db: &Db, spec: &ImportSpec) -> Result<String> {
    if let Some(t) = &spec.team_name {
        return Ok(t.clone());
    }
    let session = crate::kit::Session {
        nwb_file_name: &spec.nwb_file_name,
    };
    let ex: Vec<ExperimenterRow> = db.rows(common_session::SESSION_EXPERIMENTER, &session)?;
    for e in ex {
        let q = serde_json::json!({"team_name": e.lab_member_name});
        if !db
            .rows::<serde_json::Value>(common_lab::LAB_TEAM, &q)?
            .is_empty()
        {
            return Ok(e.lab_member_name);
        }
    }
    Err(Error::bad(
        "DLC import",
        format!(
            "{} has no experimenter with a LabTeam; name the project's team with --team",
            spec.nwb_file_name
        ),
    ))
}

/// Enters the model an imported output comes from ("FromImport"), with its body parts.
fn enter_model(db: &Db, spec: &ImportSpec, table: &DlcTable, dir: &Path) -> Result<DlcModelKey> {
    let project_name = spec
        .project_name
        .clone()
        .unwrap_or_else(|| table.scorer.clone());
    let dlc_model_name = spec
        .dlc_model_name
        .clone()
        .unwrap_or_else(|| table.scorer.clone());
    let key = DlcModelKey {
        project_name: project_name.clone(),
        dlc_model_name: dlc_model_name.clone(),
        dlc_model_params_name: "default".into(),
    };
    let parts: Vec<String> = table.body_parts.iter().map(|b| b.name.clone()).collect();
    let dir_text = dir.display().to_string();
    let team = team(db, spec)?;
    let s = |v: &str| Value::from(v);
    for bp in &parts {
        let row = Row::from_pairs([("bodypart", s(bp)), ("bodypart_description", s(bp))]);
        db.insert1(project::BODY_PART, row, skip())?;
    }
    let project = Row::from_pairs([
        ("project_name", s(&project_name)),
        ("team_name", s(&team)),
        ("bodyparts", blob(serde_json::json!(parts))),
        ("frames_per_video", Value::from(0i64)),
        ("config_path", s("")),
    ]);
    db.insert1(project::DLC_PROJECT, project, skip())?;
    for bp in &parts {
        let row = Row::from_pairs([("project_name", s(&project_name)), ("bodypart", s(bp))]);
        db.insert1(project::DLC_PROJECT_BODY_PART, row, skip())?;
    }
    let pm = |extra: Vec<(&str, Value)>| {
        let mut v = vec![
            ("project_name", s(&project_name)),
            ("dlc_model_name", s(&dlc_model_name)),
        ];
        v.extend(extra);
        Row::from_pairs(v)
    };
    db.insert1(
        model::DLC_MODEL_INPUT,
        pm(vec![("project_path", s(&dir_text))]),
        skip(),
    )?;
    db.insert1(
        model::DLC_MODEL_SOURCE,
        pm(vec![("source", s("FromImport"))]),
        skip(),
    )?;
    db.insert1(
        model::DLC_MODEL_SOURCE_FROM_IMPORT,
        pm(vec![("project_path", s(&dir_text))]),
        skip(),
    )?;
    let params: serde_json::Value = serde_json::from_str(model::DEFAULT_MODEL_PARAMS)
        .map_err(|e| Error::internal(model::DLC_MODEL_PARAMS, e.to_string()))?;
    let prow = Row::from_pairs([
        ("dlc_model_params_name", s("default")),
        ("params", blob(params)),
    ]);
    db.insert1(model::DLC_MODEL_PARAMS, prow, skip())?;
    db.insert1(
        model::DLC_MODEL_SELECTION,
        pm(vec![("dlc_model_params_name", s("default"))]),
        skip(),
    )?;
    let existing: Vec<serde_json::Value> = db.rows(model::DLC_MODEL, &key)?;
    if existing.is_empty() {
        let config =
            serde_json::json!({"Task": project_name, "scorer": table.scorer, "bodyparts": parts});
        let row = pm(vec![
            ("dlc_model_params_name", s("default")),
            (
                "task",
                s(&table.scorer.chars().take(32).collect::<String>()),
            ),
            ("date", s("imported")),
            ("iteration", Value::from(0i64)),
            ("snapshotindex", Value::from(-1i64)),
            ("shuffle", Value::from(1i64)),
            ("trainingsetindex", Value::from(0i64)),
            ("scorer", s(&table.scorer)),
            ("config_template", blob(config)),
            ("project_path", s(&dir_text)),
            (
                "model_description",
                s("imported DeepLabCut output (not trained in Spyglass)"),
            ),
        ]);
        let direct = InsertOptions {
            allow_direct_insert: true,
            ..Default::default()
        };
        db.insert1(model::DLC_MODEL, row, direct)?;
    }
    for bp in &parts {
        let row = pm(vec![
            ("dlc_model_params_name", s("default")),
            ("bodypart", s(bp)),
        ]);
        let direct = InsertOptions {
            skip_duplicates: true,
            allow_direct_insert: true,
            ..Default::default()
        };
        db.insert1(model::DLC_MODEL_BODY_PART, row, direct)?;
    }
    Ok(key)
}

/// The epoch's first position time (Spyglass's `add_timestamps` `pos_time[0]`): the
/// first timestamp of the RawPosition of the epoch's position interval, or `None`
/// when the epoch has no position (the video's own times are then used).
fn first_position_time(db: &Db, nwb_file_name: &str, epoch: i64) -> Result<Option<f64>> {
    #[derive(Deserialize)]
    struct Epoch {
        interval_list_name: String,
    }
    #[derive(Deserialize)]
    struct Map {
        position_interval_name: String,
    }
    #[derive(Deserialize)]
    struct PosObject {
        raw_position_object_id: String,
    }
    let key = serde_json::json!({"nwb_file_name": nwb_file_name, "epoch": epoch});
    let Some(ep) = db
        .rows::<Epoch>(crate::common::common_task::TASK_EPOCH, &key)?
        .pop()
    else {
        return Ok(None);
    };
    let q = serde_json::json!({"nwb_file_name": nwb_file_name, "interval_list_name": ep.interval_list_name});
    let Some(pos_interval) = db
        .rows::<Map>(common_behav::POSITION_INTERVAL_MAP, &q)?
        .pop()
        .map(|m| m.position_interval_name)
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    let q = serde_json::json!({"nwb_file_name": nwb_file_name, "interval_list_name": pos_interval});
    let Some(obj) = db
        .rows::<PosObject>(common_behav::RAW_POSITION_POS_OBJECT, &q)?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let file = spyglass_nwb::NwbFile::open(nwb_file_path(db, nwb_file_name)?)?;
    let ts = file.timestamps(&file.path_of_id(&obj.raw_position_object_id)?)?;
    Ok(ts.first().copied())
}

/// Imports a DLC output as DLCPoseEstimation (with the model, selection and body
/// parts it needs); returns the key and the body parts imported.
pub fn import(db: &Db, settings: &Settings, spec: &ImportSpec) -> Result<(PoseKey, Vec<String>)> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let table = read_output(&spec.output)?;
    let output = spec
        .output
        .canonicalize()
        .map_err(|e| Error::bad("DLC output", format!("{}: {e}", spec.output.display())))?;
    let dir = output.parent().unwrap_or(Path::new("/")).to_path_buf();
    let vkey = serde_json::json!({
        "nwb_file_name": spec.nwb_file_name, "epoch": spec.epoch, "video_file_num": spec.video_file_num
    });
    let video: VideoRow = db
        .rows(common_behav::VIDEO_FILE, &vkey)?
        .pop()
        .ok_or_else(|| Error::missing(common_behav::VIDEO_FILE, vkey.to_string()))?;
    let ckey = serde_json::json!({"camera_name": video.camera_name});
    let camera: CameraRow = db.row(common_device::CAMERA_DEVICE, &ckey)?;
    let session_path = nwb_file_path(db, &spec.nwb_file_name)?;
    let (video_time, video_path) = {
        let f = spyglass_nwb::NwbFile::open(&session_path)?;
        let p = f.path_of_id(&video.video_file_object_id)?;
        let ext = format!("{p}/external_file");
        let vp = if f.exists(&ext) {
            f.read_data(&ext)?
                .texts()
                .and_then(|t| t.into_iter().next())
                .unwrap_or_default()
        } else {
            String::new()
        };
        (f.timestamps(&p)?, vp)
    };
    let first = first_position_time(db, &spec.nwb_file_name, spec.epoch)?
        .or_else(|| video_time.first().copied())
        .ok_or_else(|| Error::bad("DLC import", "the video has no frame times"))?;
    let model = enter_model(db, spec, &table, &dir)?;
    let key = PoseKey {
        nwb_file_name: spec.nwb_file_name.clone(),
        epoch: spec.epoch,
        video_file_num: spec.video_file_num,
        model,
    };
    if !db
        .rows::<serde_json::Value>(POSE_ESTIMATION, &key)?
        .is_empty()
    {
        return Err(Error::conflict(
            POSE_ESTIMATION,
            format!("{} is imported already", crate::kit::key_text(&key)),
        ));
    }
    let sel = row_with(
        SELECTION,
        &key,
        vec![
            ("task_mode", Value::from("load")),
            (
                "video_path",
                Value::from(video_path.chars().take(120).collect::<String>()),
            ),
            (
                "pose_estimation_output_dir",
                Value::from(dir.display().to_string()),
            ),
        ],
    )?;
    db.insert1(SELECTION, sel, skip())?;
    let mpp = camera.meters_per_pixel;
    // write the files before the transaction; registered inside it
    let mut files = vec![];
    for part in &table.body_parts {
        let (pose, rows) = BodyPartPose::from_dlc(part, mpp, first, &video_time).map_err(
            super::position_err(format!("{POSE_ESTIMATION} {}", part.name)),
        )?;
        let frames: Vec<f64> = rows.iter().map(|&r| r as f64).collect();
        let parent = session_path.clone();
        let (pending, ids) = crate::kit::analysis_file(
            settings,
            &key.nwb_file_name,
            &parent,
            "DLCPoseEstimation",
            |w| {
                let pos = write_container(
                    w,
                    "Position",
                    &pose.time,
                    &[Series {
                        name: "position",
                        columns: vec![pose.x.clone(), pose.y.clone()],
                        unit: "meters",
                        conversion: METERS_PER_CM,
                        description: "x_position, y_position",
                    }],
                )?;
                let lik = write_container(
                    w,
                    "BehavioralTimeSeries",
                    &pose.time,
                    &[
                        Series {
                            name: "likelihood",
                            columns: vec![pose.likelihood.clone()],
                            unit: "likelihood",
                            conversion: 1.0,
                            description: "likelihood",
                        },
                        Series {
                            name: "video_frame_ind",
                            columns: vec![frames.clone()],
                            unit: "index",
                            conversion: 1.0,
                            description: "video_frame_ind",
                        },
                    ],
                )?;
                Ok((pos, lik))
            },
        )?;
        files.push((part.name.clone(), pending, ids));
    }
    let created = std::fs::metadata(&output)
        .and_then(|m| m.modified())
        .map(chrono::DateTime::<chrono::Local>::from)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string());
    let names: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    db.transaction_with(|| {
        let row = row_with(
            POSE_ESTIMATION,
            &key,
            vec![
                ("pose_estimation_time", Value::from(created.as_str())),
                ("meters_per_pixel", Value::from(mpp)),
            ],
        )?;
        let direct = InsertOptions {
            allow_direct_insert: true,
            ..Default::default()
        };
        db.insert1(POSE_ESTIMATION, row, direct)?;
        for (bodypart, pending, (pos, lik)) in files {
            let part = PoseBodyPart {
                key: PoseBodyPartKey {
                    pose: key.clone(),
                    bodypart,
                },
                analysis_file_name: db.register(pending)?,
                dlc_pose_estimation_position_object_id: pos,
                dlc_pose_estimation_likelihood_object_id: lik,
            };
            db.insert1(
                POSE_BODY_PART,
                crate::kit::row_of(POSE_BODY_PART, &part)?,
                direct,
            )?;
        }
        Ok::<_, Error>(())
    })?;
    Ok((key, names))
}

/// One body part of DLCPoseEstimation as `fetch1_dataframe` gives it: time, video
/// frame index, x, y (cm) and likelihood.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoseData {
    /// Timestamps, s.
    pub time: Vec<f64>,
    /// Video frame of each row.
    pub video_frame_ind: Vec<f64>,
    /// x, cm.
    pub x: Vec<f64>,
    /// y, cm.
    pub y: Vec<f64>,
    /// DLC likelihood.
    pub likelihood: Vec<f64>,
}

/// Reads one DLCPoseEstimation.BodyPart.
pub fn fetch_body_part(db: &Db, key: &PoseBodyPartKey) -> Result<PoseData> {
    let row: PoseBodyPart = db.row(POSE_BODY_PART, key)?;
    let path = crate::analysis::analysis_file_path(db, &row.analysis_file_name)?;
    let f = spyglass_nwb::NwbFile::open(path)?;
    let pos = read_series(&f, &row.dlc_pose_estimation_position_object_id, "position")?;
    let lik = read_series(
        &f,
        &row.dlc_pose_estimation_likelihood_object_id,
        "likelihood",
    )?;
    let fr = read_series(
        &f,
        &row.dlc_pose_estimation_likelihood_object_id,
        "video_frame_ind",
    )?;
    let mut c = pos.columns.into_iter();
    Ok(PoseData {
        time: pos.time,
        x: c.next().unwrap_or_default(),
        y: c.next().unwrap_or_default(),
        likelihood: lik.columns.into_iter().next().unwrap_or_default(),
        video_frame_ind: fr.columns.into_iter().next().unwrap_or_default(),
    })
}

/// The names [`select_chain`] selects with.
#[derive(Debug, Clone)]
pub struct ChainNames {
    /// DLCSmoothInterpParams for every body part.
    pub si_params: String,
    /// The cohort's name (one cohort for centroid and orientation).
    pub cohort: String,
    /// DLCCentroidParams.
    pub centroid_params: String,
    /// DLCOrientationParams.
    pub orientation_params: String,
}

/// The one DLCPoseEstimation of a session's epoch (of `model` when given).
pub fn find_pose(db: &Db, nwb_file_name: &str, epoch: i64, model: Option<&str>) -> Result<PoseKey> {
    let mut q = serde_json::json!({"nwb_file_name": nwb_file_name, "epoch": epoch});
    if let Some(m) = model {
        q["dlc_model_name"] = serde_json::json!(m);
    }
    let mut keys: Vec<PoseKey> = db.rows(POSE_ESTIMATION, &q)?;
    match keys.len() {
        1 => Ok(keys.remove(0)),
        0 => Err(Error::missing(POSE_ESTIMATION, q.to_string())),
        n => Err(Error::bad(
            POSE_ESTIMATION,
            format!("{n} pose estimations match {q}; name the model"),
        )),
    }
}

/// Selects the post-processing of a pose estimation as far as the computed rows
/// allow (each selection refers to the computed rows of the step before):
/// DLCSmoothInterp of every body part with one parameter set and a cohort of them
/// all; once the cohort is computed, DLCCentroid and DLCOrientation of it; once
/// both are computed, DLCPosSelection. Returns the DLCPosV1 key and whether
/// DLCPosSelection is selected (run it again after each populate). Skips what
/// exists; the parameter sets must exist (`spyglass defaults` inserts Spyglass's).
pub fn select_chain(
    db: &Db,
    pose: &PoseKey,
    names: &ChainNames,
) -> Result<(super::selection::DlcPosKey, bool)> {
    use super::{centroid, cohort, orient, position, selection};
    crate::pipelines::declare(db, &[selection::SCHEMA])?;
    position::params(db, &names.si_params)?;
    let parts: Vec<PoseBodyPartKey> = db.rows(POSE_BODY_PART, pose)?;
    if parts.is_empty() {
        return Err(Error::missing(POSE_BODY_PART, key_text(pose)));
    }
    let mut dict = std::collections::BTreeMap::new();
    for part in parts {
        dict.insert(part.bodypart.clone(), names.si_params.clone());
        let k = position::SmoothInterpKey {
            part,
            dlc_si_params_name: names.si_params.clone(),
        };
        position::insert_selection(db, &k)?;
    }
    let ck = cohort::CohortKey {
        dlc_si_cohort_selection_name: names.cohort.clone(),
        pose: pose.clone(),
    };
    cohort::insert_selection(db, &ck, &dict)?;
    let cent = centroid::CentroidKey {
        cohort: ck.clone(),
        dlc_centroid_params_name: names.centroid_params.clone(),
    };
    let ori = orient::OrientationKey {
        cohort: ck.clone(),
        dlc_orientation_params_name: names.orientation_params.clone(),
    };
    let key = selection::DlcPosKey {
        pose: pose.clone(),
        dlc_si_cohort_centroid: names.cohort.clone(),
        dlc_centroid_params_name: names.centroid_params.clone(),
        dlc_si_cohort_orientation: names.cohort.clone(),
        dlc_orientation_params_name: names.orientation_params.clone(),
    };
    let exists = |table: &str, k: &dyn erased::Key| -> Result<bool> {
        Ok(!db.rows::<serde_json::Value>(table, &k.json())?.is_empty())
    };
    // each selection refers to the computed rows of the step before
    if !exists(cohort::COHORT, &ck)? {
        return Ok((key, false));
    }
    centroid::insert_selection(db, &cent)?;
    orient::insert_selection(db, &ori)?;
    if !(exists(centroid::CENTROID, &cent)? && exists(orient::ORIENTATION, &ori)?) {
        return Ok((key, false));
    }
    selection::insert_selection(db, &key)?;
    Ok((key, true))
}

mod erased {
    /// A key struct as a JSON restriction.
    pub trait Key {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Key for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

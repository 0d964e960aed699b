//! `position_linearization_v1`: position projected onto a track graph, as
//! Spyglass's LinearizedPositionV1 computes it through `track_linearization`.
//!
//! `TrackGraph` stores a graph as Spyglass does (node positions, edges, linear
//! edge order and spacing, optional edge map, as blobs); `LinearizationParameters`
//! (a Lookup without rows in Spyglass: users insert theirs, the attributes'
//! defaults are no HMM, scaling 1.0, sensor σ 5 cm, bias 0.5);
//! `LinearizationSelection` pairs a PositionOutput entry (`pos_merge_id`) with a
//! graph and a parameter set. The make reads the entry's `position` SpatialSeries
//! (data as stored, with its timestamps, as Spyglass's make does), linearizes it
//! with [`spyglass_linearize::linearize`] (tested against
//! `track_linearization.get_linearized_position`), and stores the result as
//! Spyglass's `add_nwb_object(DataFrame)` does: a DynamicTable `pandas_table` in
//! `/scratch` with columns linear_position, track_segment_id,
//! projected_x_position, projected_y_position, time. Where there is no segment (a
//! NaN position), track_linearization reports segment 0 (or its label under the
//! edge map) with a NaN linear position, and so does the file; the projection is
//! NaN there. With the HMM, samples it cannot use have NaN projections here where
//! track_linearization projects them onto segment 0.

use super::merge::LINEARIZED_POSITION_OUTPUT;
use crate::kit::prelude::*;
use crate::position::merge::POSITION_OUTPUT;
use spyglass_linearize::{EdgeSpacing, LinearizationParameters};
use spyglass_nwb::{ColumnSpec, Placement};
use std::path::PathBuf;

/// Schema name.
pub const SCHEMA: &str = "position_linearization_v1";
/// `LinearizationParameters` (Lookup).
pub const PARAMETERS: &str = "position_linearization_v1.LinearizationParameters";
/// `TrackGraph` (Manual).
pub const TRACK_GRAPH: &str = "position_linearization_v1.TrackGraph";
/// `LinearizationSelection` (Lookup).
pub const SELECTION: &str = "position_linearization_v1.LinearizationSelection";
/// `LinearizedPositionV1` (Computed).
pub const LINEARIZED_POSITION_V1: &str = "position_linearization_v1.LinearizedPositionV1";

/// The key of LinearizationSelection and LinearizedPositionV1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearizationKey {
    /// The PositionOutput entry.
    pub pos_merge_id: uuid::Uuid,
    /// The track graph.
    pub track_graph_name: String,
    /// The parameter set.
    pub linearization_param_name: String,
}

/// A LinearizationParameters row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamsRow {
    /// Its name.
    pub linearization_param_name: String,
    /// Use the HMM (1) or the nearest segment (0).
    pub use_hmm: i64,
    /// HMM: scale of |route − Euclidean| distance.
    pub route_euclidean_distance_scaling: f64,
    /// HMM: σ of the position sensor, cm.
    pub sensor_std_dev: f64,
    /// HMM: bias toward staying on a segment.
    pub diagonal_bias: f64,
}

impl ParamsRow {
    /// A parameter set with Spyglass's attribute defaults.
    pub fn defaults(name: &str) -> ParamsRow {
        let d = LinearizationParameters::default();
        ParamsRow {
            linearization_param_name: name.into(),
            use_hmm: i64::from(d.use_hmm),
            route_euclidean_distance_scaling: d.route_euclidean_distance_scaling,
            sensor_std_dev: d.sensor_std_dev,
            diagonal_bias: d.diagonal_bias,
        }
    }

    fn parameters(&self) -> LinearizationParameters {
        LinearizationParameters {
            use_hmm: self.use_hmm != 0,
            route_euclidean_distance_scaling: self.route_euclidean_distance_scaling,
            sensor_std_dev: self.sensor_std_dev,
            diagonal_bias: self.diagonal_bias,
        }
    }
}

/// A track graph as a TrackGraph row holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackGraphRow {
    /// Its name.
    pub track_graph_name: String,
    /// The environment it describes.
    pub environment: String,
    /// `[x, y]` per node.
    pub node_positions: Vec<[f64; 2]>,
    /// Node index pairs.
    pub edges: Vec<[i64; 2]>,
    /// The edges in linear order.
    pub linear_edge_order: Vec<[i64; 2]>,
    /// Gap between consecutive edges: one number, or one per gap.
    pub linear_edge_spacing: serde_json::Value,
    /// Edge id → label, or null.
    pub edge_map: Option<serde_json::Value>,
}

impl TrackGraphRow {
    /// The validated graph.
    pub fn graph(&self) -> Result<spyglass_linearize::TrackGraph> {
        let what = format!("{TRACK_GRAPH} `{}`", self.track_graph_name);
        let bad = |e: spyglass_linearize::LinearizeError| Error::bad(&what, e.to_string());
        let spacing = match &self.linear_edge_spacing {
            serde_json::Value::Number(n) => EdgeSpacing::Uniform(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::Array(a) if a.len() == 1 => {
                EdgeSpacing::Uniform(a[0].as_f64().unwrap_or(f64::NAN))
            }
            serde_json::Value::Array(a) => {
                EdgeSpacing::PerGap(a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect())
            }
            other => {
                return Err(Error::bad(
                    &what,
                    format!("linear_edge_spacing {other} is not a number or a list"),
                ))
            }
        };
        let graph = spyglass_linearize::TrackGraph::new(self.node_positions.clone(), &self.edges)
            .and_then(|g| g.with_linear_order(&self.linear_edge_order, spacing))
            .map_err(bad)?;
        match self.edge_map_pairs()? {
            Some(map) => graph.with_edge_map(&map).map_err(bad),
            None => Ok(graph),
        }
    }

    /// The edge map as (edge, label) pairs: a dict's JSON view is an object (string
    /// keys) or a list of `[key, value]` pairs.
    fn edge_map_pairs(&self) -> Result<Option<Vec<(i64, i64)>>> {
        let what = || format!("{TRACK_GRAPH} `{}` edge_map", self.track_graph_name);
        let int = |v: &serde_json::Value| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        };
        let pairs = match &self.edge_map {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(serde_json::Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (k.parse().ok(), int(v)))
                .collect::<Vec<_>>(),
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .map(|p| (p.get(0).and_then(int), p.get(1).and_then(int)))
                .collect(),
            Some(other) => return Err(Error::bad(what(), format!("{other} is not a dict"))),
        };
        pairs
            .into_iter()
            .map(|(a, b)| {
                a.zip(b)
                    .ok_or_else(|| Error::bad(what(), "keys and values must be integers"))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// The row with its arrays as the blobs Spyglass stores (numpy arrays: float
    /// node positions, int64 edges and order; spacing a float or a float array;
    /// the edge map a dict of ints or NULL).
    fn to_row(&self) -> Result<Row> {
        use spyglass_blob::{Array, Value as B};
        let blob_err = |e: spyglass_blob::BlobError| Error::bad(TRACK_GRAPH, e.to_string());
        let ints = |v: &[[i64; 2]]| -> Result<Value> {
            let a = Array::from_row_major(vec![v.len(), 2], v.concat()).map_err(blob_err)?;
            Ok(Value::from(B::Array(a)))
        };
        let spacing = match &self.linear_edge_spacing {
            serde_json::Value::Array(a) => B::f64_array(
                vec![a.len()],
                a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect(),
            )
            .map_err(blob_err)?,
            v => B::Float(v.as_f64().ok_or_else(|| {
                Error::bad(
                    TRACK_GRAPH,
                    "linear_edge_spacing is not a number or a list of numbers",
                )
            })?),
        };
        let edge_map = match self.edge_map_pairs()? {
            None => Value::Null,
            Some(pairs) => Value::from(B::Dict(
                pairs
                    .into_iter()
                    .map(|(a, b)| (B::Int(a.into()), B::Int(b.into())))
                    .collect(),
            )),
        };
        let nodes = B::f64_array(
            vec![self.node_positions.len(), 2],
            self.node_positions.concat(),
        )
        .map_err(blob_err)?;
        Ok(Row::from_pairs([
            (
                "track_graph_name",
                Value::from(self.track_graph_name.as_str()),
            ),
            ("environment", Value::from(self.environment.as_str())),
            ("node_positions", Value::from(nodes)),
            ("edges", ints(&self.edges)?),
            ("linear_edge_order", ints(&self.linear_edge_order)?),
            ("linear_edge_spacing", Value::from(spacing)),
            ("edge_map", edge_map),
        ]))
    }
}

/// A LinearizedPositionV1 row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearizedPositionV1Row {
    /// Its key.
    #[serde(flatten)]
    pub key: LinearizationKey,
    /// The analysis file.
    pub analysis_file_name: String,
    /// Object id of the `pandas_table` DynamicTable.
    pub linearized_position_object_id: String,
}

/// The `position_linearization_v1` pipeline.
pub struct LinearizationV1;

impl Pipeline for LinearizationV1 {
    identity!(SCHEMA, family "linearization", requires ["position_merge"]);
    provides! {
        makers: LINEARIZED_POSITION_V1 => LinearizeMake;
        merge: LINEARIZED_POSITION_OUTPUT => LINEARIZED_POSITION_V1;
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let params = "# Choose whether to use an HMM to linearize position.
linearization_param_name : varchar(80)   # name for this set of parameters
---
use_hmm = 0 : int   # use HMM to determine linearization
# How much to prefer route distances between successive time points that are closer to the euclidean distance. Smaller numbers mean the route distance is more likely to be close to the euclidean distance.
route_euclidean_distance_scaling = 1.0 : float
sensor_std_dev = 5.0 : float   # Uncertainty of position sensor (in cm).
# Biases the transition matrix to prefer the current track segment.
diagonal_bias = 0.5 : float";
        let graph = "# Graph representation of track representing the spatial environment.
track_graph_name : varchar(80)
----
environment : varchar(80)  # Type of Environment
node_positions : blob      # 2D position of nodes, (n_nodes, 2)
edges: blob                # shape (n_edges, 2)
linear_edge_order : blob   # order of edges in linear space, (n_edges, 2)
linear_edge_spacing : blob # space btwn edges in linear space, (n_edges,)
edge_map = NULL : blob     # Maps one edge to another before linearization";
        let selection = "-> position_merge.PositionOutput.proj(pos_merge_id='merge_id')
-> TrackGraph
-> LinearizationParameters
---";
        let v1 = "# Linearized position for a given interval
-> LinearizationSelection
---
-> common_nwbfile.AnalysisNwbfile
linearized_position_object_id : varchar(40)";
        let t = TableSpec::new;
        vec![
            t("LinearizationParameters", Tier::Lookup, params),
            t("TrackGraph", Tier::Manual, graph),
            t("LinearizationSelection", Tier::Lookup, selection),
            t("LinearizedPositionV1", Tier::Computed, v1),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        match args::parse(m)? {
            Command::Params(ParamsCommand::Add(a)) => {
                let d = ParamsRow::defaults(&a.name);
                let row = ParamsRow {
                    use_hmm: i64::from(a.use_hmm),
                    route_euclidean_distance_scaling: a
                        .route_euclidean_distance_scaling
                        .unwrap_or(d.route_euclidean_distance_scaling),
                    sensor_std_dev: a.sensor_std_dev.unwrap_or(d.sensor_std_dev),
                    diagonal_bias: a.diagonal_bias.unwrap_or(d.diagonal_bias),
                    ..d
                };
                insert_params(sg, &row)?;
                println!(
                    "LinearizationParameters `{}`: {}",
                    a.name,
                    serde_json::json!(row)
                );
            }
            Command::TrackGraph(TrackGraphCommand::Add(a)) => {
                let text = std::fs::read_to_string(&a.file).map_err(|e| Error::io(&a.file, e))?;
                let mut doc: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| Error::bad(a.file.display().to_string(), e.to_string()))?;
                doc["track_graph_name"] = a.name.clone().into();
                doc["environment"] = a.environment.clone().into();
                if doc.get("linear_edge_order").is_none() {
                    doc["linear_edge_order"] = doc["edges"].clone();
                }
                if doc.get("linear_edge_spacing").is_none() {
                    doc["linear_edge_spacing"] = 0.0.into();
                }
                let graph: TrackGraphRow = serde_json::from_value(doc)
                    .map_err(|e| Error::bad(a.file.display().to_string(), e.to_string()))?;
                insert_track_graph(sg, &graph)?;
                println!(
                    "TrackGraph `{}`: {} nodes, {} edges",
                    a.name,
                    graph.node_positions.len(),
                    graph.edges.len()
                );
            }
            Command::Plot(a) => super::plot::run(sg, &a)?,
            Command::Select(a) => {
                let nwb = a.session.name(sg)?;
                let key = crate::position::trodes_v1::TrodesPosKey {
                    nwb_file_name: nwb.clone(),
                    interval_list_name: a.interval.clone(),
                    trodes_pos_params_name: a.position_params.clone(),
                };
                let source = crate::kit::row_of(crate::position::trodes_v1::TRODES_POS_V1, &key)?;
                crate::position::trodes_v1::fetch_row(sg, &key)?;
                let key = LinearizationKey {
                    pos_merge_id: spyglass_db::merge::merge_id(&source, "TrodesPosV1"),
                    track_graph_name: a.track_graph.clone(),
                    linearization_param_name: a.params.clone(),
                };
                if a.params == "default"
                    && sg
                        .rows::<ParamsRow>(
                            PARAMETERS,
                            &serde_json::json!({"linearization_param_name": "default"}),
                        )?
                        .is_empty()
                {
                    insert_params(sg, &ParamsRow::defaults("default"))?;
                }
                insert_selection(sg, &key)?;
                println!("LinearizationSelection: {nwb}, `{}` (TrodesPosV1 `{}`, merge id {}), track graph `{}`, parameters `{}`", a.interval, a.position_params, key.pos_merge_id, a.track_graph, a.params);
                args::next_populate::<&str>(LINEARIZED_POSITION_V1, &[]);
            }
        }
        Ok(())
    }
}

/// `spyglass linearization …` commands.
#[derive(clap::Subcommand)]
enum Command {
    /// LinearizationParameters: add a parameter set.
    #[command(subcommand)]
    Params(ParamsCommand),
    /// TrackGraph: add a graph from a JSON file.
    #[command(subcommand)]
    TrackGraph(TrackGraphCommand),
    /// Select a TrodesPosV1 position, a track graph and parameters (LinearizationSelection).
    Select(SelectArgs),
    /// Pictures of a session's linearized positions: the track graph with the projected
    /// positions coloured by segment, linear position over time (SVG).
    Plot(super::plot::PlotArgs),
}

#[derive(clap::Subcommand)]
enum ParamsCommand {
    /// Add a parameter set (Spyglass's attribute defaults for what is not given).
    Add(ParamsArgs),
}

#[derive(clap::Args)]
struct ParamsArgs {
    /// The parameter set's name.
    name: String,
    /// Classify track segments with the HMM.
    #[arg(long)]
    use_hmm: bool,
    /// HMM: scale of |route − Euclidean| distance.
    #[arg(long)]
    route_euclidean_distance_scaling: Option<f64>,
    /// HMM: σ of the position sensor, cm.
    #[arg(long)]
    sensor_std_dev: Option<f64>,
    /// HMM: bias toward staying on a segment.
    #[arg(long)]
    diagonal_bias: Option<f64>,
}

#[derive(clap::Subcommand)]
enum TrackGraphCommand {
    /// Add a track graph: a JSON file with node_positions ([[x, y], …], cm), edges
    /// ([[a, b], …]) and optionally linear_edge_order (default: the edges),
    /// linear_edge_spacing (a number or one per gap; default 0) and edge_map
    /// ({"edge": label}).
    Add(TrackGraphArgs),
}

#[derive(clap::Args)]
struct TrackGraphArgs {
    /// The graph's name.
    name: String,
    /// The environment it describes.
    #[arg(long)]
    environment: String,
    /// The JSON file.
    #[arg(long)]
    file: PathBuf,
}

#[derive(clap::Args)]
struct SelectArgs {
    /// The session.
    #[command(flatten)]
    session: args::SessionArg,
    /// The position epoch (`pos 0 valid times`).
    #[arg(long)]
    interval: String,
    /// The TrodesPosV1 parameter set of the position.
    #[arg(long, default_value = "default")]
    position_params: String,
    /// The track graph.
    #[arg(long)]
    track_graph: String,
    /// The LinearizationParameters set (`default`, Spyglass's attribute defaults, is added when missing).
    #[arg(long, default_value = "default")]
    params: String,
}

/// Inserts a track graph (validated first; an existing name is a conflict).
pub fn insert_track_graph(db: &Db, graph: &TrackGraphRow) -> Result<()> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    graph.graph()?;
    db.insert1(TRACK_GRAPH, graph.to_row()?, InsertOptions::default())?;
    Ok(())
}

/// Inserts a parameter set (skipped when its name exists).
pub fn insert_params(db: &Db, params: &ParamsRow) -> Result<()> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    check_params(&params.parameters())?;
    db.put_new(PARAMETERS, std::slice::from_ref(params))?;
    Ok(())
}

/// Checks the HMM parameters when the HMM is used (linearizing nothing checks them).
fn check_params(p: &LinearizationParameters) -> Result<()> {
    spyglass_linearize::linearize(&[], &trivial_graph()?, p)
        .map(|_| ())
        .map_err(|e| Error::bad(PARAMETERS, e.to_string()))
}

fn trivial_graph() -> Result<spyglass_linearize::TrackGraph> {
    spyglass_linearize::TrackGraph::new(vec![[0.0, 0.0], [1.0, 0.0]], &[[0, 1]])
        .map_err(|e| Error::internal(TRACK_GRAPH, e.to_string()))
}

/// Inserts a LinearizationSelection row (skipped when present); the position entry,
/// graph and parameters must exist.
pub fn insert_selection(db: &Db, key: &LinearizationKey) -> Result<()> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    crate::position::merge::position_source(db, &key.pos_merge_id)?;
    db.put_new(SELECTION, std::slice::from_ref(key))?;
    Ok(())
}

/// What the make reads from the database.
#[derive(Debug, Clone, Serialize)]
pub struct LinearizeInputs {
    /// The session's `_` copy (the analysis file's parent).
    pub parent: PathBuf,
    /// The session.
    pub nwb_file_name: String,
    /// The analysis file holding the position.
    pub position_file: PathBuf,
    /// Object id of its Position container.
    pub position_object_id: String,
    /// The graph.
    pub graph: TrackGraphRow,
    /// The parameters.
    pub params: ParamsRow,
}

struct LinearizeMake;

impl Make for LinearizeMake {
    const TABLE: &'static str = LINEARIZED_POSITION_V1;
    type Key = LinearizationKey;
    type Inputs = LinearizeInputs;
    type Output = Written;

    fn fetch(&self, cx: &Cx, key: &LinearizationKey) -> Result<LinearizeInputs> {
        let (source, row) = crate::position::merge::position_source(cx.db, &key.pos_merge_id)?;
        let text = |k: &str| -> Result<String> {
            row.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::internal(POSITION_OUTPUT, format!("{source} row has no `{k}`"))
                })
        };
        if source != "TrodesPosV1" {
            return Err(Error::bad(
                POSITION_OUTPUT,
                format!("linearizing position from `{source}` is not implemented"),
            ));
        }
        let nwb_file_name = text("nwb_file_name")?;
        let graph = serde_json::json!({ "track_graph_name": key.track_graph_name });
        let params =
            serde_json::json!({ "linearization_param_name": key.linearization_param_name });
        Ok(LinearizeInputs {
            parent: crate::analysis::nwb_file_path(cx.db, &nwb_file_name)?,
            position_file: crate::analysis::analysis_file_path(
                cx.db,
                &text("analysis_file_name")?,
            )?,
            position_object_id: text("position_object_id")?,
            nwb_file_name,
            graph: cx.db.row(TRACK_GRAPH, &graph)?,
            params: cx.db.row(PARAMETERS, &params)?,
        })
    }

    fn compute(
        &self,
        settings: &Settings,
        _: &LinearizationKey,
        i: LinearizeInputs,
    ) -> Result<Written> {
        let graph = i.graph.graph()?;
        let (time, position) = read_position(&i.position_file, &i.position_object_id)?;
        let lin = spyglass_linearize::linearize(&position, &graph, &i.params.parameters())
            .map_err(|e| Error::bad(LINEARIZED_POSITION_V1, e.to_string()))?;
        let no_segment = graph.segment_label(0);
        let segments: Vec<i64> = lin
            .track_segment_id
            .iter()
            .map(|s| s.unwrap_or(no_segment))
            .collect();
        let d = "no description";
        let table = spyglass_nwb::TableSpec {
            name: "pandas_table".into(),
            description: String::new(),
            ids: None,
            columns: vec![
                ColumnSpec::f64("linear_position", d, lin.linear_position),
                ColumnSpec::i64("track_segment_id", d, segments),
                ColumnSpec::f64("projected_x_position", d, lin.projected_x_position),
                ColumnSpec::f64("projected_y_position", d, lin.projected_y_position),
                ColumnSpec::f64("time", d, time),
            ],
        };
        crate::kit::analysis_file(settings, &i.nwb_file_name, &i.parent, "", |w| {
            Ok(w.add_dynamic_table(&Placement::Scratch, &table)?)
        })
    }

    fn insert(&self, cx: &Cx, key: &LinearizationKey, out: Written) -> Result<()> {
        cx.db
            .put_written(LINEARIZED_POSITION_V1, out, |analysis_file_name, id| {
                LinearizedPositionV1Row {
                    key: key.clone(),
                    analysis_file_name,
                    linearized_position_object_id: id,
                }
            })?;
        cx.db.merge_add(LINEARIZED_POSITION_OUTPUT, key)?;
        Ok(())
    }
}

/// A LinearizedPositionV1 entry's table (Spyglass's `fetch1_dataframe()`).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearizedData {
    /// Timestamps, seconds.
    pub time: Vec<f64>,
    /// Position along the linearized track, cm (NaN where there is none).
    pub linear_position: Vec<f64>,
    /// Track segment (edge index, or its label under the graph's edge map).
    pub track_segment_id: Vec<i64>,
    /// The position projected onto the segment, `[x, y]` cm.
    pub projected: Vec<[f64; 2]>,
}

/// The linearized position of entry `key`, read from its analysis file.
pub fn fetch_linearized(db: &Db, key: &LinearizationKey) -> Result<LinearizedData> {
    let row: LinearizedPositionV1Row = db.row(LINEARIZED_POSITION_V1, key)?;
    let path = crate::analysis::analysis_file_path(db, &row.analysis_file_name)?;
    let file = spyglass_nwb::NwbFile::open(&path)?;
    let table = file.table(&file.path_of_id(&row.linearized_position_object_id)?)?;
    let x = table.f64_column("projected_x_position")?;
    let y = table.f64_column("projected_y_position")?;
    Ok(LinearizedData {
        time: table.f64_column("time")?,
        linear_position: table.f64_column("linear_position")?,
        track_segment_id: table.i64_column("track_segment_id")?,
        projected: x.into_iter().zip(y).map(|(x, y)| [x, y]).collect(),
    })
}

/// The `position` SpatialSeries of a Position container: timestamps and `[x, y]`
/// as stored (what Spyglass's make passes track_linearization).
fn read_position(path: &std::path::Path, container_id: &str) -> Result<(Vec<f64>, Vec<[f64; 2]>)> {
    let file = spyglass_nwb::NwbFile::open(path)?;
    let series = format!("{}/position", file.path_of_id(container_id)?);
    let time = file.timestamps(&series)?;
    let d = file.read_data(&format!("{series}/data"))?;
    let here = || path.display().to_string();
    if d.shape != [time.len(), 2] {
        return Err(Error::bad(
            here(),
            format!(
                "{series}/data has shape {:?}, ({}, 2) expected",
                d.shape,
                time.len()
            ),
        ));
    }
    let v = d
        .values
        .to_f64()
        .ok_or_else(|| Error::bad(here(), format!("{series}/data is not numeric")))?;
    Ok((time, v.chunks_exact(2).map(|c| [c[0], c[1]]).collect()))
}

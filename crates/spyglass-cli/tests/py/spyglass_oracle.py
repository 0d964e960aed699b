"""Python Spyglass 0.6.0 as an oracle, kept running: imports Spyglass once, then
reads one JSON command per line on stdin and answers each with one line
`@@ORACLE@@ <json>` on stdout (Spyglass's own logging may print other lines).
Run from a directory holding dj_local_conf.json (database, stores, base dir)."""
import json
import sys
import traceback

import datajoint as dj

dj.config["safemode"] = False
import numpy as np  # noqa: E402

import spyglass.common as sgc  # noqa: E402
from spyglass.data_import import insert_sessions  # noqa: E402
from spyglass.lfp import LFPElectrodeGroup, LFPOutput  # noqa: E402
from spyglass.lfp.v1 import LFPSelection, LFPV1  # noqa: E402
from spyglass.position import PositionOutput  # noqa: E402
from spyglass.position.v1 import TrodesPosParams, TrodesPosSelection, TrodesPosV1  # noqa: E402

# the common tables whose rows a session makes, by class
SESSION_TABLES = {
    "Nwbfile": sgc.Nwbfile, "Session": sgc.Session, "Session.Experimenter": sgc.Session.Experimenter,
    "Session.DataAcquisitionDevice": sgc.Session.DataAcquisitionDevice, "ElectrodeGroup": sgc.ElectrodeGroup,
    "Electrode": sgc.Electrode, "Raw": sgc.Raw, "IntervalList": sgc.IntervalList, "TaskEpoch": sgc.TaskEpoch,
    "PositionSource": sgc.PositionSource, "PositionSource.SpatialSeries": sgc.PositionSource.SpatialSeries,
    "RawPosition": sgc.RawPosition, "RawPosition.PosObject": sgc.RawPosition.PosObject,
    "PositionIntervalMap": sgc.PositionIntervalMap,
}


def plain(v):
    if isinstance(v, np.ndarray):
        return {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.tolist() if v.size <= 16 else None}
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (bytes,)):
        return v.hex()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def ingest(file):
    insert_sessions(file, raise_err=True)
    return {"sessions": len(sgc.Session & {"nwb_file_name": file.replace(".nwb", "_.nwb")})}


def lfp(nwb, group):
    sgc.FirFilterParameters().create_standard_filters()
    LFPElectrodeGroup.create_lfp_electrode_group(nwb_file_name=nwb, group_name=group, electrode_list=list(range(8)))
    LFPSelection.insert1(dict(nwb_file_name=nwb, lfp_electrode_group_name=group,
                              target_interval_list_name="raw data valid times", filter_name="LFP 0-400 Hz",
                              filter_sampling_rate=30000, target_sampling_rate=1000), skip_duplicates=True)
    LFPV1.populate({"nwb_file_name": nwb})
    return {"lfpv1": len(LFPV1 & {"nwb_file_name": nwb})}


def trodes(nwb):
    """TrodesPosV1 with the `default` parameters on every raw position epoch."""
    TrodesPosParams().insert_default()
    for key in (sgc.RawPosition & {"nwb_file_name": nwb}).fetch("KEY"):
        TrodesPosSelection.insert1({**key, "trodes_pos_params_name": "default"}, skip_duplicates=True)
    TrodesPosV1.populate({"nwb_file_name": nwb})
    return {"trodes": len(TrodesPosV1 & {"nwb_file_name": nwb})}


def read_position(nwb):
    """Every TrodesPosV1 entry of a session as a lab member reads it: through
    PositionOutput's fetch1_dataframe, summed per column."""
    out = {}
    for key in (TrodesPosV1 & {"nwb_file_name": nwb}).fetch("KEY"):
        merge_id = (PositionOutput.TrodesPosV1 & key).fetch1("merge_id")
        df = (PositionOutput & {"merge_id": merge_id}).fetch1_dataframe()
        name = f'{key["interval_list_name"]}|{key["trodes_pos_params_name"]}'
        out[name] = {"shape": list(df.shape), "columns": list(df.columns),
                     "sums": {c: float(np.nansum(df[c])) for c in df.columns},
                     "time_sum": float(np.sum(df.index.to_numpy()))}
    return out


def counts(nwb):
    key = {"nwb_file_name": nwb}
    return {name: len(t & key) for name, t in SESSION_TABLES.items()}


def read_session(nwb):
    """What a lab member does with a session: fetch rows, fetch_nwb, merge_get_part."""
    key = {"nwb_file_name": nwb}
    out = {"session": plain((sgc.Session & key).fetch1("session_description"))}
    raw = (sgc.Raw & key).fetch_nwb()[0]["raw"]
    out["raw_shape"] = list(raw.data.shape)
    lfp_rows = (LFPV1 & key).fetch(as_dict=True)
    out["lfpv1_rows"] = len(lfp_rows)
    if lfp_rows:
        nwb_rows = (LFPV1 & key).fetch_nwb()
        lfp = nwb_rows[0]["lfp"]
        out["lfp_shape"] = list(lfp.data.shape)
        out["lfp_dtype"] = str(lfp.data.dtype)
        out["lfp_first"] = [int(x) for x in np.asarray(lfp.data[:3, 0])]
        out["lfp_rate"] = float(lfp_rows[0]["lfp_sampling_rate"])
        part = LFPOutput.merge_get_part(key).fetch(as_dict=True)
        out["merge_parts"] = len(part)
        out["merge_ids"] = sorted(str(p["merge_id"]) for p in part)
        via_merge = (LFPOutput & {"merge_id": part[0]["merge_id"]}).fetch_nwb()
        out["merge_lfp_shape"] = list(via_merge[0]["lfp"].data.shape)
        out["lfp_valid_times"] = plain((sgc.IntervalList & {"nwb_file_name": nwb, "interval_list_name": lfp_rows[0]["interval_list_name"]}).fetch1("valid_times"))
    return out


def filters():
    rows = sgc.FirFilterParameters().fetch(as_dict=True, order_by="KEY")
    return [{"name": r["filter_name"], "rate": int(r["filter_sampling_rate"]), "type": r["filter_type"],
             "edges": plain(np.asarray(r["filter_band_edges"])), "ntaps": int(np.asarray(r["filter_coeff"]).size),
             "coeff_sum": float(np.sum(r["filter_coeff"])), "comments": r["filter_comments"],
             "high_stop": float(r["filter_high_stop"]), "low_stop": float(r["filter_low_stop"])} for r in rows]


def add_filter(name, rate, ftype, edges, comments):
    sgc.FirFilterParameters().add_filter(name, rate, ftype, edges, comments)
    return {"ok": True}


def exports(paper):
    from spyglass.common.common_usage import Export, ExportSelection
    sel = (ExportSelection & {"paper_id": paper}).fetch(as_dict=True)
    ids = [s["export_id"] for s in sel]
    restr = [{"export_id": i} for i in ids]
    files = (ExportSelection.File & restr).fetch("analysis_file_name").tolist() if ids else []
    tables = (ExportSelection.Table & restr).fetch("table_name").tolist() if ids else []
    exp = (Export & restr).fetch(as_dict=True) if ids else []
    exp_files = (Export.File & restr).fetch("file_path").tolist() if ids else []
    exp_tables = (Export.Table & restr).fetch("table_name").tolist() if ids else []
    return {"selections": len(sel), "selection_files": sorted(files), "selection_tables": sorted(set(tables)),
            "exports": len(exp), "export_files": sorted(exp_files), "export_tables": len(exp_tables)}


def externals():
    out = {}
    for schema, table in [("common_nwbfile", "~external_raw"), ("common_nwbfile", "~external_analysis")]:
        rows = dj.conn().query(f"SELECT filepath FROM `{schema}`.`{table}`").fetchall()
        out[table] = sorted(r[0] for r in rows)
    out["unused_analysis"] = len(sgc.common_nwbfile.schema.external["analysis"].unused())
    out["unused_raw"] = len(sgc.common_nwbfile.schema.external["raw"].unused())
    return out


def registry():
    return [plain(r) for r in sgc.AnalysisRegistry().fetch(as_dict=True)]


def analysis_files(nwb):
    return sorted((sgc.AnalysisNwbfile & {"nwb_file_name": nwb}).fetch("analysis_file_name").tolist())


def npy(path):
    a = np.load(path)
    return {"dtype": str(a.dtype), "shape": list(a.shape)}


OPS = {"npy": npy, "ingest": ingest, "lfp": lfp, "counts": counts, "read_session": read_session, "filters": filters,
       "add_filter": add_filter, "exports": exports, "externals": externals, "registry": registry,
       "analysis_files": analysis_files, "trodes": trodes, "read_position": read_position}

print("@@ORACLE@@ " + json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    cmd = json.loads(line)
    try:
        result = {"ok": OPS[cmd["op"]](*cmd.get("args", []))}
    except Exception as e:  # reported to the test, which fails with it
        result = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
    print("@@ORACLE@@ " + json.dumps(result, default=str), flush=True)

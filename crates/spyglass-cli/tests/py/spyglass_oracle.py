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


def _v1():
    import spyglass.spikesorting.v1 as v1
    import spyglass.spikesorting.spikesorting_merge  # noqa: F401 (declares spikesorting_merge)
    return v1


def sorting_declare(team):
    """Declares the spike-sorting v1 schemas as importing them does, stores Spyglass's
    default parameter rows and a LabTeam of every lab member."""
    v1 = _v1()
    v1.SpikeSortingPreprocessingParameters().insert_default()
    v1.ArtifactDetectionParameters().insert_default()
    v1.SpikeSorterParameters().insert_default()
    members = sgc.LabMember().fetch("lab_member_name").tolist()
    sgc.LabTeam().create_new_team(team_name=team, team_members=members, team_description="interop")
    return {"preproc": len(v1.SpikeSortingPreprocessingParameters()), "artifact": len(v1.ArtifactDetectionParameters()),
            "sorter": len(v1.SpikeSorterParameters()), "members": members}


def _units(df):
    return {str(i): [float(t) for t in np.asarray(df.loc[i, "spike_times"])] for i in df.index}


def sorting_read(sorting_id):
    """What a lab member reads of a sorting: SpikeSorting's fetch_nwb, every curation's
    get_sorting (samples on its recording) and SpikeSortingOutput's get_spike_times."""
    from spyglass.spikesorting.spikesorting_merge import SpikeSortingOutput
    v1 = _v1()
    key = {"sorting_id": sorting_id}
    row = (v1.SpikeSorting & key).fetch1()
    out = {"time_of_sort": int(row["time_of_sort"]), "analysis_file_name": row["analysis_file_name"],
           "sorting_units": _units((v1.SpikeSorting & key).fetch_nwb()[0]["object_id"]), "curations": {}}
    for ck in (v1.CurationV1 & key).fetch("KEY", as_dict=True):
        df = v1.CurationV1.get_sorting(ck, as_dataframe=True)
        sorting = v1.CurationV1.get_sorting(ck)
        rec = v1.CurationV1.get_recording(ck)
        merge_id = (SpikeSortingOutput.CurationV1 & ck).fetch1("merge_id")
        via_merge = SpikeSortingOutput().get_spike_times({"merge_id": merge_id})
        out["curations"][str(ck["curation_id"])] = {
            "units": _units(df), "labels": {str(i): list(df.loc[i, "curation_label"]) if "curation_label" in df else []
                                            for i in df.index},
            "samples": {str(u): [int(x) for x in sorting.get_unit_spike_train(u)] for u in sorting.get_unit_ids()},
            "rate": float(sorting.get_sampling_frequency()), "recording_shape": [rec.get_num_samples(), rec.get_num_channels()],
            "merge_spike_times": [[float(t) for t in np.asarray(x)] for x in via_merge],
            "merge_sorting_units": len(SpikeSortingOutput.get_sorting({"merge_id": merge_id}).get_unit_ids())}
    return out


def sorting_python(nwb, sort_group_id, interval, team):
    """Spyglass's own chain on one sort group: SpikeSortingRecording (`default`),
    ArtifactDetection (`default`) and clusterless_thresholder `default_clusterless`."""
    import uuid
    v1 = _v1()
    rid = uuid.uuid4()
    v1.SpikeSortingRecordingSelection.insert1(dict(
        recording_id=rid, nwb_file_name=nwb, sort_group_id=sort_group_id, interval_list_name=interval,
        preproc_param_name="default", team_name=team))
    v1.SpikeSortingRecording.populate({"recording_id": rid})
    akey = v1.ArtifactDetectionSelection.insert_selection({"recording_id": rid, "artifact_param_name": "default"})
    v1.ArtifactDetection.populate(akey)
    skey = v1.SpikeSortingSelection.insert_selection(dict(
        recording_id=rid, sorter="clusterless_thresholder", sorter_param_name="default_clusterless",
        nwb_file_name=nwb, interval_list_name=str(akey["artifact_id"])))
    v1.SpikeSorting.populate(skey)
    return {"recording_id": str(rid), "artifact_id": str(akey["artifact_id"]), "sorting_id": str(skey["sorting_id"])}


def _locations(rec):
    try:
        return rec.get_channel_locations().tolist()
    except Exception as e:  # SpikeInterface finds none in the file
        return f"none: {e}"


def recording_read(recording_id):
    """A SpikeSortingRecording as Spyglass reads it: get_recording (µV), its row."""
    v1 = _v1()
    key = {"recording_id": recording_id}
    row = (v1.SpikeSortingRecording & key).fetch1()
    rec = v1.SpikeSortingRecording.get_recording(key)
    traces = rec.get_traces(return_scaled=True).astype(np.float64)
    path = sgc.AnalysisNwbfile.get_abs_path(row["analysis_file_name"])
    import pynwb
    with pynwb.NWBHDF5IO(path, "r", load_namespaces=True) as io:
        f = io.read()
        es = f.acquisition["ProcessedElectricalSeries"]
        ids = (f.objects[row["object_id"]].object_id, f.objects[row["electrodes_id"]].object_id
               if row["electrodes_id"] else None)
        electrodes = [int(x) for x in es.electrodes.data[:]]
        info = {"dtype": str(es.data.dtype), "conversion": float(es.conversion), "electrode_rows": electrodes}
    return {"row": {k: (str(v) if v is not None else None) for k, v in row.items()}, "ids": list(ids),
            "shape": list(traces.shape), "times": [float(x) for x in rec.get_times()[[0, -1]]],
            "channel_ids": [int(c) for c in rec.get_channel_ids()], "gains": [float(g) for g in rec.get_channel_gains()],
            "locations": _locations(rec), "rms": float(np.sqrt(np.mean(traces ** 2))), **info}


def recording_diff(a, b):
    """Two SpikeSortingRecordings' samples (µV, through get_recording) compared: the
    relative RMS of their difference, the largest difference and equal timestamps."""
    v1 = _v1()
    ra, rb = (v1.SpikeSortingRecording.get_recording({"recording_id": r}) for r in (a, b))
    ta, tb = (r.get_traces(return_scaled=True).astype(np.float64) for r in (ra, rb))
    if ta.shape != tb.shape:
        return {"shapes": [list(ta.shape), list(tb.shape)]}
    d = ta - tb
    return {"shapes": [list(ta.shape)], "rel_rms": float(np.sqrt(np.mean(d ** 2)) / np.sqrt(np.mean(tb ** 2))),
            "max_abs": float(np.max(np.abs(d))), "rms": float(np.sqrt(np.mean(tb ** 2))),
            "times_equal": bool(np.array_equal(ra.get_times(), rb.get_times()))}


def sort_groups(nwb):
    """SortGroup.set_group_by_shank, as a lab member runs it."""
    v1 = _v1()
    v1.SortGroup().set_group_by_shank(nwb_file_name=nwb)
    return {"groups": len(v1.SortGroup & {"nwb_file_name": nwb}),
            "electrodes": len(v1.SortGroup.SortGroupElectrode & {"nwb_file_name": nwb})}


def intervals(nwb, name):
    return np.asarray((sgc.IntervalList & {"nwb_file_name": nwb, "interval_list_name": name}).fetch1("valid_times")).tolist()


OPS = {"npy": npy, "ingest": ingest, "lfp": lfp, "counts": counts, "read_session": read_session, "filters": filters,
       "add_filter": add_filter, "exports": exports, "externals": externals, "registry": registry,
       "analysis_files": analysis_files, "trodes": trodes, "read_position": read_position,
       "sorting_declare": sorting_declare, "sorting_read": sorting_read, "sorting_python": sorting_python,
       "recording_read": recording_read, "sort_groups": sort_groups, "recording_diff": recording_diff, "intervals": intervals}

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

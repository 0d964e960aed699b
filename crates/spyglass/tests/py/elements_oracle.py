"""element-array-ephys's ephys_chronic on a private MariaDB (run with .venv-elements, in a
folder holding dj_local_conf.json). argv: url mode [args]. Modes:
  declare                       activate the pipeline (declares the prefixed schemas)
  populate FOLDER JSON          our session is in JSON["ours"]; populate JSON["theirs"]
                                from the same folder the way a lab does with
                                element-array-ephys, then print both as JSON."""
import json
import os
import sys
import urllib.parse

import datajoint as dj
import numpy as np

url = urllib.parse.urlparse(sys.argv[1])
dj.config["database.host"] = url.hostname
dj.config["database.port"] = url.port or 3306
dj.config["database.user"] = url.username or "root"
dj.config["database.password"] = url.password or ""
dj.config["safemode"] = False
dj.config["database.use_tls"] = False
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
mode = sys.argv[2]
if mode == "declare":
    import elements_pipeline  # noqa: F401

    print("declared")
    sys.exit(0)

folder = sys.argv[3]
cfg = json.loads(sys.argv[4])
os.environ["KS_ROOT"] = cfg["root"]
import elements_pipeline as pl  # noqa: E402
from element_array_ephys import ephys_chronic as ephys  # noqa: E402
from element_array_ephys import probe  # noqa: E402
from element_array_ephys.readers import kilosort  # noqa: E402
from element_interface.utils import dict_to_uuid  # noqa: E402

if cfg.get("core046"):
    # element-array-ephys 0.4.6 (PR #228): the Kilosort-2 files are optional
    kilosort.Kilosort._kilosort_core_files = [
        f
        for f in kilosort.Kilosort._kilosort_core_files
        if f not in ("template_features.npy", "template_feature_ind.npy", "templates_ind.npy",
                     "whitening_mat.npy", "whitening_mat_inv.npy")
    ]
# phy's label as element-array-ephys would need it to load the folder unchanged
ephys.ClusterQualityLabel.insert1(("unsorted", "phy: not yet sorted"), skip_duplicates=True)

ours, theirs = cfg["ours"], cfg["theirs"]
pt = cfg["probe_type"]
rec_key = {k: theirs[k] for k in ("subject", "session_datetime", "insertion_number")}
pl.Session.insert1({k: theirs[k] for k in ("subject", "session_datetime")}, skip_duplicates=True)
ephys.ProbeInsertion.insert1(
    {"subject": theirs["subject"], "insertion_number": theirs["insertion_number"], "probe": cfg["probe"]},
    skip_duplicates=True,
)
ks = kilosort.Kilosort(__import__("pathlib").Path(folder))
channels = [int(c) for c in ks.data["channel_map"]]
electrodes = (probe.ProbeType.Electrode & {"probe_type": pt}).fetch("KEY")
by_e = {k["electrode"]: k for k in electrodes}
members = [by_e[c] for c in channels]
config_key = ephys.generate_electrode_config(pt, members)
ephys.EphysRecording.insert1(
    {
        **rec_key,
        **config_key,
        "acq_software": cfg["acq_software"],
        "sampling_rate": ks.data["params"]["sample_rate"],
        "recording_datetime": theirs["session_datetime"],
        "recording_duration": cfg["duration"],
    },
    allow_direct_insert=True,
)
params = ks.data["params"]
# the parameter set: equal params give the same hash, so this finds ours ("job done")
ephys.ClusteringParamSet.insert_new_params(
    cfg["method"], "params.py", params, paramset_idx=ours["paramset_idx"]
)
py_hash = dict_to_uuid({**params, "clustering_method": cfg["method"]})
task = {**rec_key, "paramset_idx": ours["paramset_idx"]}
ephys.ClusteringTask.insert1(
    {**task, "clustering_output_dir": cfg["output_dir"], "task_mode": "load"}
)


def channel2electrode(key, acq_software):
    # the identity map of the channels (element-array-ephys maps only SpikeGLX/Open Ephys)
    q = probe.ElectrodeConfig.Electrode * ephys.EphysRecording & key
    return {k["electrode"]: k for k in q.fetch("electrode_config_hash", "probe_type", "electrode", as_dict=True)}


ephys.get_neuropixels_channel2electrode_map = channel2electrode
ephys.Clustering.populate(task)
ephys.Curation().create1_from_clustering_task(task)
ephys.CuratedClustering.populate(task)


def bits(a):
    return None if a is None else np.asarray(a, dtype="<f8").view("<u8").tolist()


def dump(key):
    key = {k: key[k] for k in ("subject", "session_datetime", "insertion_number")}
    out = {}
    out["recording"] = [
        {k: str(v) for k, v in r.items()} for r in (ephys.EphysRecording & key).fetch(as_dict=True)
    ]
    out["clustering"] = [
        {k: str(v) for k, v in r.items() if k not in key} for r in (ephys.Clustering & key).fetch(as_dict=True)
    ]
    out["curation"] = [
        {k: str(v) for k, v in r.items() if k not in key} for r in (ephys.Curation & key).fetch(as_dict=True)
    ]
    units = []
    for r in (ephys.CuratedClustering.Unit & key).fetch(as_dict=True, order_by="unit"):
        units.append({
            "unit": int(r["unit"]),
            "electrode": int(r["electrode"]),
            "electrode_config_hash": str(r["electrode_config_hash"]),
            "label": r["cluster_quality_label"],
            "spike_count": int(r["spike_count"]),
            "spike_times": bits(r["spike_times"]),
            "spike_times_dtype": str(np.asarray(r["spike_times"]).dtype),
            "spike_sites": np.asarray(r["spike_sites"]).astype(int).tolist(),
            "spike_depths": bits(r["spike_depths"]),
        })
    out["units"] = units
    return out


print(json.dumps({"ours": dump(ours), "theirs": dump(theirs), "param_set_hash": str(py_hash),
                  "stored_hashes": [str(h) for h in ephys.ClusteringParamSet.fetch("param_set_hash")]}))

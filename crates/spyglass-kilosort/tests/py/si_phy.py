# SpikeInterface 0.105's export_to_phy as the oracle of spyglass-kilosort's phy writer, and
# phylib's TemplateModel loading our folder. argv: data_dir (gen.py's traces.f32,
# locations.f8, units.json), our folder, a folder for SpikeInterface's export.
# Prints one JSON object of comparisons.
import sys, json, os
import numpy as np
import spikeinterface.core as sc
from spikeinterface.exporters import export_to_phy
from phylib.io.model import load_model

d, ours, si_dir = sys.argv[1:4]
meta = json.load(open(os.path.join(d, "units.json")))
fs, nc = meta["fs"], meta["n_channels"]
traces = np.fromfile(os.path.join(d, "traces.f32"), dtype="<f4").reshape(-1, nc)
locs = np.fromfile(os.path.join(d, "locations.f8"), dtype="<f8").reshape(nc, 2)
rec = sc.NumpyRecording([traces], sampling_frequency=fs)
rec.set_channel_locations(locs)
rec.annotate(is_filtered=True)
units = {int(k): np.asarray(v, dtype=np.int64) for k, v in meta["units"].items()}
sorting = sc.NumpySorting.from_unit_dict([units], sampling_frequency=fs)
an = sc.create_sorting_analyzer(sorting, rec, sparse=False, format="memory")
an.compute("random_spikes", method="all")
an.compute("waveforms", ms_before=1.0, ms_after=2.0)
an.compute("templates")
export_to_phy(an, si_dir, copy_binary=False, verbose=False, n_jobs=1)

L = lambda p, f: np.load(os.path.join(p, f))
res = {}
for f in ["spike_times.npy", "spike_templates.npy", "spike_clusters.npy", "channel_map.npy",
          "pc_feature_ind.npy"]:
    res[f] = bool(np.array_equal(L(ours, f).squeeze(), L(si_dir, f).squeeze()))
res["channel_positions"] = float(np.abs(L(ours, "channel_positions.npy") - L(si_dir, "channel_positions.npy")).max())
t_o, t_s = L(ours, "templates.npy"), L(si_dir, "templates.npy")
res["templates_shape"] = [list(t_o.shape), list(t_s.shape)]
res["templates_rel"] = float(np.abs(t_o - t_s).max() / np.abs(t_s).max())
a_o, a_s = L(ours, "amplitudes.npy").squeeze(), L(si_dir, "amplitudes.npy").squeeze()
res["amplitudes_rel"] = float(np.abs(a_o - a_s).max() / np.abs(a_s).max())
p_o, p_s = L(ours, "pc_features.npy"), L(si_dir, "pc_features.npy")
res["pc_shape"] = [list(p_o.shape), list(p_s.shape)]
# component signs are arbitrary: aligned per (component, channel)
sign = np.sign(np.sum(p_o.astype(np.float64) * p_s, axis=0))
sign[sign == 0] = 1
res["pc_rel"] = float(np.abs(p_o * sign - p_s).max() / np.abs(p_s).max())
res["pc_zero_rows_equal"] = bool(np.array_equal(np.all(p_o == 0, axis=(1, 2)), np.all(p_s == 0, axis=(1, 2))))
res["similar_abs"] = float(np.abs(L(ours, "similar_templates.npy") - L(si_dir, "similar_templates.npy")).max())

m = load_model(os.path.join(ours, "params.py"))
st = L(si_dir, "spike_times.npy").squeeze()
res["model"] = dict(
    n_spikes=int(m.n_spikes),
    times_equal=bool(np.array_equal(m.spike_times, st / fs)),
    clusters_equal=bool(np.array_equal(m.spike_clusters, L(si_dir, "spike_clusters.npy").squeeze())),
    cluster_ids=[int(x) for x in m.cluster_ids],
    channel_map=[int(x) for x in m.channel_mapping],
    positions_abs=float(np.abs(m.channel_positions - locs).max()),
    templates_shape=list(m.sparse_templates.data.shape),
    features_shape=list(m.features.shape),
    amplitudes_equal=bool(np.array_equal(m.amplitudes, a_o)),
    groups={str(k): v for k, v in m.metadata.get("group", {}).items()},
    traces_equal=bool(m.traces is not None and np.array_equal(np.asarray(m.traces[:traces.shape[0]]), traces)),
    sample_rate=float(m.sample_rate),
)
m.close()
print(json.dumps(res))

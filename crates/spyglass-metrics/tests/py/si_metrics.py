# Oracle of spyglass-metrics: SpikeInterface computes waveforms, templates, noise levels,
# principal components and quality metrics on a ground-truth recording; the Rust test
# reads the same recording and compares.
# argv: out_dir num_channels num_units duration_s seed [max_spikes_per_unit]
# Writes to out_dir: traces.f32 (samples x channels), locations.f8 (channels x 2), si.json.
import sys, json, os, warnings
import numpy as np
import spikeinterface.core as sc
from spikeinterface.core.time_series_tools import get_random_sample_slices
from spikeinterface.core.template_tools import _get_main_channel_from_template_array
from spikeinterface.metrics.quality import compute_quality_metrics
from spikeinterface.metrics.quality.pca_metrics import (
    nearest_neighbors_isolation,
    nearest_neighbors_noise_overlap,
)
from spikeinterface.preprocessing import whiten

warnings.simplefilter("ignore")
out, nc, nu, dur, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
fs = 30000.0
gen, gt = sc.generate_ground_truth_recording(
    durations=[dur], sampling_frequency=fs, num_channels=nc, num_units=nu, seed=seed,
    generate_sorting_kwargs=dict(firing_rates=8.0, refractory_period_ms=1.0))
traces = gen.get_traces(segment_index=0).astype("<f4")
locations = gen.get_channel_locations().astype("<f8")
traces.tofile(os.path.join(out, "traces.f32"))
locations.tofile(os.path.join(out, "locations.f8"))
rec = sc.NumpyRecording([traces], sampling_frequency=fs)
rec.set_channel_locations(locations)
n = traces.shape[0]

# an equal spike count per unit (< max_spikes), away from the edges: the nearest-neighbour
# metrics then draw no random spike subset (a permutation of all spikes at most)
rng = np.random.default_rng(seed + 1)
trains = {u: gt.get_unit_spike_train(u, segment_index=0) for u in gt.unit_ids}
trains = {u: t[(t >= 30) & (t < n - 30)] for u, t in trains.items()}
n_eq = min(min(len(t) for t in trains.values()), 999)
units = {}
for i, u in enumerate(gt.unit_ids):
    t = trains[u]
    units[i] = np.sort(t[rng.choice(len(t), n_eq, replace=False)]).astype("int64")
sorting = sc.NumpySorting.from_unit_dict([units], sampling_frequency=fs)

def analyzer(main=None):
    a = sc.create_sorting_analyzer(sorting, rec, sparse=False, peak_sign="neg",
                                   main_channel_indices=main, seed=0)
    a.compute("random_spikes", method="all")
    a.compute("waveforms", ms_before=0.5, ms_after=0.5)
    a.compute("templates", operators=["average", "median"])
    return a

# main channels: the extremum (neg) channel of each average template
a0 = analyzer()
t0 = a0.get_extension("templates").get_data(operator="average")
nbefore = a0.get_extension("waveforms").nbefore
main = _get_main_channel_from_template_array(t0, "extremum", "neg", nbefore)
a = analyzer(np.asarray(main))
noise_kw = dict(num_chunks_per_segment=20, chunk_size=10000, seed=0)
a.compute("noise_levels", random_slices_kwargs=noise_kw)
a.compute("spike_amplitudes")
a.compute("principal_components", n_components=5, mode="by_channel_local", whiten=True)
names = ["num_spikes", "firing_rate", "presence_ratio", "snr", "isi_violation", "amplitude_cutoff", "silhouette"]
q = compute_quality_metrics(a, metric_names=names)
nn = dict(max_spikes=1000, min_spikes=10, n_neighbors=5, n_components=7, radius_um=100, seed=0)
iso = {}
noise_ov = {}
for u in sorting.unit_ids:
    iso[int(u)] = float(nearest_neighbors_isolation(a, u, **nn)[0])
    noise_ov[int(u)] = float(nearest_neighbors_noise_overlap(a, u, **nn))
wext = a.get_extension("waveforms")
nsamples = wext.nbefore + wext.nafter
noise_slices = get_random_sample_slices(rec, **noise_kw)
nn_slices = get_random_sample_slices(rec, num_chunks_per_segment=1000, chunk_size=nsamples, seed=0)
# the noise snippets nearest_neighbors_noise_overlap keeps (its first draw of default_rng(0))
noise_choice = np.random.default_rng(0).choice(1000, n_eq, replace=False).tolist()

# whitening matrix on known chunks
wkw = dict(num_chunks_per_segment=20, chunk_size=10000, seed=0)
rw = whiten(rec, dtype="float32", **wkw)
wslices = get_random_sample_slices(rec, **wkw)

tp = a.get_extension("templates")
res = dict(
    fs=fs, n_samples=int(n), n_channels=int(traces.shape[1]), nbefore=int(wext.nbefore), nafter=int(wext.nafter),
    units={str(u): units[u].tolist() for u in units},
    main=[int(m) for m in main],
    template_average=tp.get_data(operator="average").astype(float).tolist(),
    template_median=tp.get_data(operator="median").astype(float).tolist(),
    noise_levels=a.get_extension("noise_levels").get_data().astype(float).tolist(),
    noise_starts=[int(s[1]) for s in noise_slices],
    nn_noise_starts=[int(s[1]) for s in nn_slices],
    noise_choice=noise_choice,
    whiten_starts=[int(s[1]) for s in wslices],
    whiten_w=np.asarray(rw._kwargs["W"], dtype=float).tolist(),
    metrics={c: [None if (isinstance(v, float) and np.isnan(v)) else float(v) for v in q[c].values] for c in q.columns},
    nn_isolation=[iso[int(u)] for u in sorting.unit_ids],
    nn_noise_overlap=[noise_ov[int(u)] for u in sorting.unit_ids],
)
json.dump(res, open(os.path.join(out, "si.json"), "w"))

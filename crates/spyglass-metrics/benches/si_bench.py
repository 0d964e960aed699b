# Peer of the metrics bench: SpikeInterface 0.105 on the same traces (read_binary of the raw
# float32 file, n_jobs=2, its default chunking; dense, see below).
# argv: dir max_spikes_per_unit. Reads dir/traces.f32, locations.f8, units.json; prints JSON
# {seconds, cpu_seconds, peak_rss_mb} of analyzer + extensions + quality metrics (Spyglass's
# franklab_default set plus firing_rate, presence_ratio, amplitude_cutoff, silhouette).
import sys, json, os, time, resource, warnings
import numpy as np
import spikeinterface.core as sc
from spikeinterface.metrics.quality import compute_quality_metrics
from spikeinterface.metrics.quality.pca_metrics import nearest_neighbors_isolation, nearest_neighbors_noise_overlap

warnings.simplefilter("ignore")
d, max_spikes = sys.argv[1], int(sys.argv[2])
meta = json.load(open(os.path.join(d, "units.json")))
nc = meta["n_channels"]
sc.set_global_job_kwargs(n_jobs=2)
locs = np.fromfile(os.path.join(d, "locations.f8"), dtype="<f8").reshape(-1, 2)
rec = sc.read_binary(os.path.join(d, "traces.f32"), sampling_frequency=meta["fs"], dtype="<f4", num_channels=nc, is_filtered=True)
rec.set_channel_locations(locs)
units = {int(k): np.asarray(v, dtype="int64") for k, v in meta["units"].items()}
sorting = sc.NumpySorting.from_unit_dict([units], sampling_frequency=meta["fs"])
# CPU seconds of this process and its joined workers (SpikeInterface's pools end with each step)
cpu = lambda: sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
cpu0 = cpu()
t0 = time.perf_counter()
# dense: with the default sparsity (radius 100 um) SpikeInterface 0.105.3's
# nearest_neighbors_noise_overlap fails (IndexError: the template's peak channel indexes
# the sparse noise clips)
a = sc.create_sorting_analyzer(sorting, rec, sparse=False, peak_sign="neg", seed=0)
a.compute("random_spikes", method="uniform", max_spikes_per_unit=max_spikes, seed=0)
a.compute("waveforms", ms_before=0.5, ms_after=0.5)
a.compute("templates", operators=["average", "median"])
a.compute("noise_levels", random_slices_kwargs=dict(num_chunks_per_segment=20, chunk_size=10000, seed=0))
a.compute("spike_amplitudes")
a.compute("principal_components", n_components=5, mode="by_channel_local", whiten=True)
compute_quality_metrics(a, metric_names=["num_spikes", "firing_rate", "presence_ratio", "snr", "isi_violation", "amplitude_cutoff", "silhouette"])
nn = dict(max_spikes=1000, min_spikes=10, n_neighbors=5, n_components=7, radius_um=100, seed=0)
for u in sorting.unit_ids:
    nearest_neighbors_isolation(a, u, **nn)
    nearest_neighbors_noise_overlap(a, u, **nn)
secs = time.perf_counter() - t0
cpu_secs = cpu() - cpu0
rss = lambda who: resource.getrusage(who).ru_maxrss / 1024.0
print(json.dumps(dict(seconds=secs, cpu_seconds=cpu_secs, peak_rss_mb=rss(resource.RUSAGE_SELF), worker_peak_rss_mb=rss(resource.RUSAGE_CHILDREN))))

# Peer of the to_phy bench: SpikeInterface 0.105's export_to_phy on the same traces and
# spike trains (read_binary of the raw float32 file, n_jobs=2, its default chunking).
# argv: dir max_spikes_per_unit out_folder. Reads dir/traces.f32,
# locations.f8, units.json; prints JSON {seconds, cpu_seconds, pc_spikes, peak_rss_mb} of the analyzer, its
# random_spikes / waveforms / templates extensions and export_to_phy (dense, amplitudes
# and pc_features of every spike, no recording.dat), 1 / 2 ms windows as ours.
import sys, json, os, time, resource, warnings
import numpy as np
import spikeinterface.core as sc
from spikeinterface.exporters import export_to_phy

warnings.simplefilter("ignore")
d, max_spikes, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
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
a = sc.create_sorting_analyzer(sorting, rec, sparse=False, format="memory")
a.compute("random_spikes", method="uniform", max_spikes_per_unit=max_spikes, seed=0)
a.compute("waveforms", ms_before=1.0, ms_after=2.0)
a.compute("templates")
export_to_phy(a, out, copy_binary=False, verbose=False)
secs = time.perf_counter() - t0
cpu_secs = cpu() - cpu0
rss = lambda who: resource.getrusage(who).ru_maxrss / 1024.0
pc_spikes = int(np.load(os.path.join(out, "pc_features.npy"), mmap_mode="r").shape[0])
print(json.dumps(dict(seconds=secs, cpu_seconds=cpu_secs, pc_spikes=pc_spikes, peak_rss_mb=rss(resource.RUSAGE_SELF), worker_peak_rss_mb=rss(resource.RUSAGE_CHILDREN))))

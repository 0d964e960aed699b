# MountainSort5 scheme 2 on the same traces as ours (whitening + sort timed), for the
# ground-truth bench. argv: dir ; writes dir/ms5.json, prints {"seconds", "peak_mb", "base_mb"}.
import sys, json, time, resource, warnings, os
import numpy as np
import spikeinterface.full as si
import spikeinterface.preprocessing as spre
import mountainsort5 as ms5
d = sys.argv[1]
meta = json.load(open(os.path.join(d, 'gt.json')))
nc = meta['n_channels']
tr = np.fromfile(os.path.join(d, 'traces.f32'), '<f4').reshape(-1, nc)
locs = np.fromfile(os.path.join(d, 'locations.f8'), '<f8').reshape(nc, 2)
rec = si.NumpyRecording(tr, sampling_frequency=meta['fs'])
rec.set_channel_locations(locs)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    white = spre.whiten(rec, dtype='float32')
    sorting = ms5.sorting_scheme2(
        recording=white,
        sorting_parameters=ms5.Scheme2SortingParameters(
            phase1_detect_channel_radius=150, detect_channel_radius=50))
secs = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
units = {'m' + str(u): sorting.get_unit_spike_train(u, segment_index=0).astype(int).tolist() for u in sorting.unit_ids}
json.dump(units, open(os.path.join(d, 'ms5.json'), 'w'))
print(json.dumps(dict(seconds=secs, peak_mb=peak, base_mb=base, units=len(units))))

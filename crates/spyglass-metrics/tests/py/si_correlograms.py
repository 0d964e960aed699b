"""SpikeInterface 0.105's compute_correlograms (numpy and numba methods) on random spike
trains with added lags of exactly the window, one bin, one sample and zero, at three
rates / windows / bins; prints per case the bin sizes, the trains and the
autocorrelograms."""
import json, sys
import numpy as np
import spikeinterface.core as sc
from spikeinterface.postprocessing import compute_correlograms
from spikeinterface.postprocessing import correlograms as cg
out = []
for fs, window_ms, bin_ms, seed in [(30000.0, 100.0, 1.0, 1), (1000.0, 7.0, 2.0, 2), (20000.0, 50.0, 0.5, 3)]:
    rng = np.random.default_rng(seed)
    bins, w, b = cg._make_bins(sc.NumpySorting.from_samples_and_labels([np.array([0])], [np.array([0])], fs), window_ms, bin_ms)
    trains = []
    for u in range(4):
        n = 400
        t = np.sort(rng.integers(0, int(fs * 5), n))
        # bursts: lags of exactly the window edges, one bin, zero
        base = t[:20]
        extra = np.concatenate([base + w, base + b, base + w - 1, base + 1, base[:3]])
        t = np.sort(np.concatenate([t, extra]))
        trains.append(t.astype(np.int64))
    times = np.concatenate(trains)
    labels = np.concatenate([np.full(len(t), u) for u, t in enumerate(trains)])
    order = np.argsort(times, kind="stable")
    sorting = sc.NumpySorting.from_samples_and_labels([times[order]], [labels[order]], fs)
    res = {}
    for method in ["numpy", "numba"]:
        try:
            ccg, edges = compute_correlograms(sorting, window_ms=window_ms, bin_ms=bin_ms, method=method)
        except Exception as e:
            print(method, "unavailable:", e, file=sys.stderr)
            continue
        res[method] = [ccg[u, u].tolist() for u in range(len(trains))]
        res[method + "_edges"] = edges.tolist()
    out.append(dict(fs=fs, window_ms=window_ms, bin_ms=bin_ms, window_size=int(w), bin_size=int(b),
                    trains=[t.tolist() for t in trains], **res))
print(json.dumps(out))

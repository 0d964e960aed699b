"""element-array-ephys's own Kilosort reader and CuratedClustering unit logic on a folder
(run with the .venv-elements oracle); prints JSON units. argv: folder [core=046]."""
import json
import sys
from pathlib import Path

import numpy as np


def bits(a):
    """float64 values as their IEEE bit patterns (JSON floats may not round-trip)."""
    return np.asarray(a, dtype="<f8").view("<u8").tolist()

from element_array_ephys.readers import kilosort

d = Path(sys.argv[1])
if len(sys.argv) > 2 and sys.argv[2] == "046":
    # element-array-ephys 0.4.6 (PR #228): the Kilosort-2 files are optional
    kilosort.Kilosort._kilosort_core_files = [
        f
        for f in kilosort.Kilosort._kilosort_core_files
        if f not in ("template_features.npy", "template_feature_ind.npy", "templates_ind.npy",
                     "whitening_mat.npy", "whitening_mat_inv.npy")
    ]
ks = kilosort.Kilosort(d)
data = ks.data
sample_rate = data["params"]["sample_rate"]
# the CuratedClustering.make body of ephys_chronic (0.2.11 = 0.3.8), channel -> electrode
# being the identity
valid = [i for i, u in enumerate(data["cluster_ids"]) if (data["spike_clusters"] == u).any()]
key = "spike_times_sec_adj" if "spike_times_sec_adj" in data else (
    "spike_times_sec" if "spike_times_sec" in data else "spike_times")
spike_times = data[key]
ks.extract_spike_depths()
units = []
for u, lab in zip(data["cluster_ids"][valid], data["cluster_groups"][valid]):
    m = data["spike_clusters"] == u
    ch, _ = ks.get_best_channel(u)
    units.append({
        "unit": int(u),
        "label": str(lab),
        "channel": int(ch),
        "spike_times": bits(spike_times[m] / sample_rate),
        "spike_sites": data["spike_sites"][m].astype(int).tolist(),
        "spike_depths": bits(data["spike_depths"][m]),
    })
print(json.dumps({"source": key, "sample_rate": sample_rate, "units": units}))

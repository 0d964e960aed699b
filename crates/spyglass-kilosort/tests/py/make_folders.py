"""Makes Kilosort / phy folders for the spyglass-kilosort tests (run with the .venv oracle).

argv: out_dir seed. Writes out_dir/si (SpikeInterface export_to_phy with pc features and
amplitudes) and out_dir/ks25 (the same spikes with a Kilosort 2.5-style file set:
template_features, template_feature_ind, templates_ind, whitening matrices, uint64 (n, 1)
spike times, cluster_KSLabel.tsv instead of cluster_group.tsv)."""
import shutil
import sys
from pathlib import Path

import numpy as np
import spikeinterface.full as si

out, seed = Path(sys.argv[1]), int(sys.argv[2])
rec, sorting = si.generate_ground_truth_recording(
    durations=[8.0], num_channels=8, num_units=5, seed=seed, sampling_frequency=30000.0
)
analyzer = si.create_sorting_analyzer(sorting, rec, sparse=False, format="memory")
analyzer.compute(["random_spikes", "waveforms", "templates", "noise_levels"], verbose=False)
si.export_to_phy(
    analyzer,
    out / "si",
    compute_pc_features=True,
    compute_amplitudes=True,
    copy_binary=False,
    verbose=False,
)
ks = out / "ks25"
shutil.copytree(out / "si", ks)
st = np.load(ks / "spike_times.npy").astype(np.uint64).reshape(-1, 1)
np.save(ks / "spike_times.npy", st)
templates = np.load(ks / "templates.npy").astype(np.float32)
np.save(ks / "templates.npy", templates)
nt, ns, nc = templates.shape
rng = np.random.default_rng(seed)
n = st.shape[0]
np.save(ks / "template_features.npy", rng.normal(size=(n, 3)).astype(np.float32))
np.save(ks / "template_feature_ind.npy", np.tile(np.arange(3, dtype=np.uint32), (nt, 1)))
np.save(ks / "templates_ind.npy", np.tile(np.arange(nc, dtype=np.float64), (nt, 1)))
np.save(ks / "whitening_mat.npy", np.eye(nc) * 2.0)
np.save(ks / "whitening_mat_inv.npy", np.eye(nc) * 0.5)
clusters = np.unique(np.load(ks / "spike_clusters.npy"))
(ks / "cluster_group.tsv").unlink()
labels = ["good", "mua"] * len(clusters)
with open(ks / "cluster_KSLabel.tsv", "w") as f:
    f.write("cluster_id\tKSLabel\n")
    for c, lab in zip(clusters, labels):
        f.write(f"{c}\t{lab}\n")
# a labelled cluster without spikes (dropped by CuratedClustering)
with open(ks / "cluster_KSLabel.tsv", "a") as f:
    f.write(f"{clusters.max() + 100}\tgood\n")
print(n)

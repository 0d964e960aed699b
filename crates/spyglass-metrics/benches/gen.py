# Generates the bench recording: SpikeInterface's generate_ground_truth_recording written
# as dir/traces.f32 (samples x channels), locations.f8, units.json. argv: dir channels units seconds
import sys, json, os
import numpy as np
import spikeinterface.core as sc
d, nc, nu, dur = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
fs = 30000.0
rec, gt = sc.generate_ground_truth_recording(durations=[dur], sampling_frequency=fs, num_channels=nc,
    num_units=nu, seed=42, generate_sorting_kwargs=dict(firing_rates=5.0, refractory_period_ms=1.5),
    generate_probe_kwargs=dict(num_columns=2, xpitch=20, ypitch=20, contact_shapes="circle", contact_shape_params={"radius": 6}))
n = rec.get_num_samples(0)
with open(os.path.join(d, "traces.f32"), "wb") as f:
    step = int(fs * 60)
    for s in range(0, n, step):
        rec.get_traces(start_frame=s, end_frame=min(n, s + step)).astype("<f4").tofile(f)
rec.get_channel_locations().astype("<f8").tofile(os.path.join(d, "locations.f8"))
units = {str(i): gt.get_unit_spike_train(u).astype(int).tolist() for i, u in enumerate(gt.unit_ids)}
json.dump(dict(fs=fs, n_channels=nc, units=units), open(os.path.join(d, "units.json"), "w"))

# Writes a SpikeInterface ground-truth recording as raw files for the Rust side:
#   traces.f32 (samples x channels, little-endian f32), locations.f64 (channels x 2),
#   gt.json (fs, n_samples, n_channels, units: {id: [sample, ...]}, snr: {id: snr}).
# argv: out_dir num_channels num_units duration_s seed
import sys, json, os
import numpy as np
import spikeinterface.full as si

out, nc, nu, dur, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rec, sorting = si.generate_ground_truth_recording(
    durations=[dur], num_channels=nc, num_units=nu, seed=seed)
tr = rec.get_traces(segment_index=0).astype('<f4')
tr.tofile(os.path.join(out, 'traces.f32'))
rec.get_channel_locations().astype('<f8').tofile(os.path.join(out, 'locations.f8'))
units = {str(u): sorting.get_unit_spike_train(u, segment_index=0).astype(int).tolist() for u in sorting.unit_ids}
snr = {}
if len(sys.argv) > 6 and sys.argv[6] == 'snr':
    an = si.create_sorting_analyzer(sorting, rec, sparse=False)
    an.compute(['random_spikes', 'templates', 'noise_levels'])
    q = si.compute_quality_metrics(an, metric_names=['snr'])
    snr = {str(u): float(q.loc[u, 'snr']) for u in sorting.unit_ids}
json.dump(dict(fs=rec.get_sampling_frequency(), n_samples=int(tr.shape[0]), n_channels=int(tr.shape[1]),
               units=units, snr=snr), open(os.path.join(out, 'gt.json'), 'w'))

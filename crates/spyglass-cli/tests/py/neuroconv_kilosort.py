"""A session written by neuroconv and a Kilosort / phy folder sorted from it, for the
`insert --kilosort` test. Usage: neuroconv_kilosort.py OUT.nwb FOLDER

SpikeInterface's generate_ground_truth_recording (8 channels, 30 kHz, 10 s, 4 units,
int16 with per-channel gains) written by neuroconv's add_recording_to_nwbfile (a
rate-based ElectricalSeries, no timestamps), then export_to_phy of an analyzer of the
same recording and its ground-truth sorting (pc features, amplitudes, no binary copy).
Prints JSON: the ground truth (unit id -> spike samples) and the rate."""
import sys, json, datetime
import numpy as np
import spikeinterface.core as sc
from spikeinterface.exporters import export_to_phy
from neuroconv.tools.spikeinterface import add_recording_to_nwbfile
from pynwb import NWBFile, NWBHDF5IO
from pynwb.file import Subject

out, folder = sys.argv[1], sys.argv[2]
fs = 30000.0
rec, gt = sc.generate_ground_truth_recording(durations=[10.0], sampling_frequency=fs, num_channels=8,
                                             num_units=4, seed=3)
gains = np.array([0.1 + 0.02 * k for k in range(8)])
counts = np.round(rec.get_traces() / gains).astype("int16")
raw = sc.NumpyRecording([counts], sampling_frequency=fs, channel_ids=[f"ch{k}" for k in range(8)])
raw.set_channel_gains(gains)
raw.set_channel_offsets([0.0] * 8)
raw.set_channel_locations(rec.get_channel_locations())
raw.set_channel_groups([0] * 8)
raw.set_property("brain_area", ["CA1"] * 8)
nwb = NWBFile(session_description="neuroconv with kilosort", identifier="nck",
              session_start_time=datetime.datetime(2024, 3, 1, 10, tzinfo=datetime.timezone.utc),
              experimenter=["Doe, Jane"], institution="UCSF", lab="Frank",
              subject=Subject(subject_id="m2", species="Mus musculus", sex="F", age="P90D",
                              description="a mouse"))
add_recording_to_nwbfile(raw, nwb)
with NWBHDF5IO(out, "w") as io:
    io.write(nwb)
gt = sc.NumpySorting.from_unit_dict([{int(i): gt.get_unit_spike_train(u) for i, u in enumerate(gt.unit_ids)}],
                                    sampling_frequency=fs)
analyzer = sc.create_sorting_analyzer(gt, raw, sparse=False, format="memory")
analyzer.compute(["random_spikes", "waveforms", "templates", "noise_levels"], verbose=False)
export_to_phy(analyzer, folder, compute_pc_features=True, compute_amplitudes=True, copy_binary=False,
              verbose=False)
print(json.dumps(dict(fs=fs, units={str(u): [int(s) for s in gt.get_unit_spike_train(u)] for u in gt.unit_ids})))

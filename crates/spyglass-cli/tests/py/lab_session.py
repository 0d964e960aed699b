"""Writes a session the way Spyglass's own tests build one (pynwb + ndx-franklab-novela:
a DataAcqDevice, a camera, a probe per electrode group with shanks and electrodes, the
electrodes table's probe columns, a 30 kHz int16 ElectricalSeries with timestamps, epochs
tagged 01_s1 / 02_r1, a `tasks` module and one SpatialSeries per epoch).
Usage: lab_session.py OUT.nwb SEED SECONDS [CONVERSION NOISE SPIKES]
CONVERSION (V per unit, default 1.95e-7) and NOISE (std, units, default 200) set the raw
series' gain and noise; SPIKES > 0 adds that many spikes per second on tetrode 0 (a
−400-unit biphasic waveform, different amplitudes per channel) and one +20000-unit, 3 ms
artifact on every channel at 2 s, for the spike-sorting interop."""
import sys, datetime
import numpy as np
from pynwb import NWBFile, NWBHDF5IO
from pynwb.file import Subject
from pynwb.ecephys import ElectricalSeries
from pynwb.behavior import Position, SpatialSeries
from hdmf.common import DynamicTable
import ndx_franklab_novela as nov

out, seed, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
conversion = float(sys.argv[4]) if len(sys.argv) > 4 else 1.95e-7
noise = float(sys.argv[5]) if len(sys.argv) > 5 else 200.0
spike_rate = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
rng = np.random.default_rng(seed)
start = datetime.datetime(2023, 6, 22, 9, 30, seed, tzinfo=datetime.timezone.utc)
nwb = NWBFile(session_description="lab interop session", identifier=f"lab-{seed}", session_start_time=start,
              experimenter=["Doe, Jane"], institution="UCSF", lab="Loren Frank",
              experiment_description="spyglass interop", session_id=f"lab_s{seed}")
nwb.subject = Subject(subject_id="rat7", species="Rattus norvegicus", sex="F", age="P120D",
                      description="a rat", genotype="wt", weight="0.4 kg")
nwb.add_device(nov.DataAcqDevice(name="dataacq_device0", system="SpikeGadgets", amplifier="Intan",
                                 adc_circuit="Intan"))
# NWB 2.9: the camera's make is a DeviceModel the device links to (Spyglass 0.6 reads it)
from pynwb.device import DeviceModel
model = DeviceModel(name="M1", manufacturer="Allied", description="camera model")
nwb.add_device_model(model)
nwb.add_device(nov.CameraDevice(name="camera_device 0", meters_per_pixel=0.002, camera_name="cam_a",
                                lens="lens_a", model=model, frame_rate=30.0))
per, locations = 4, ["CA1", "CA3"]
groups = []
for g in range(2):
    els = [nov.ShanksElectrode(name=str(i), rel_x=float(i), rel_y=2.0 * i, rel_z=0.5) for i in range(per)]
    probe = nov.Probe(name=f"probe {g}", id=g, probe_type="tetrode_12.5", units="um", probe_description="tetrode",
                      contact_size=12.5, contact_side_numbering=True, shanks=[nov.Shank(name="0", shanks_electrodes=els)])
    nwb.add_device(probe)
    eg = nov.NwbElectrodeGroup(name=str(g), description=f"group {g}", location=locations[g], device=probe,
                               targeted_location=locations[g], targeted_x=1.5 if g == 0 else -1.5,
                               targeted_y=2.0, targeted_z=3.0, units="mm")
    nwb.add_electrode_group(eg)
    groups.append(eg)
for name, desc in [("probe_shank", "shank"), ("probe_electrode", "electrode"), ("bad_channel", "bad"),
                   ("ref_elect_id", "reference")]:
    nwb.add_electrode_column(name=name, description=desc)
if spike_rate > 0:
    # contact positions in the electrodes table, as Frank-lab files carry them (SpikeInterface
    # reads channel locations from rel_x / rel_y; Spyglass's sorting needs them)
    for name in ["rel_x", "rel_y", "rel_z"]:
        nwb.add_electrode_column(name=name, description=f"{name} of the contact, um")
n_ch = 2 * per
for i in range(n_ch):
    g = i // per
    rel = dict(rel_x=float(i % per), rel_y=2.0 * (i % per), rel_z=0.5) if spike_rate > 0 else {}
    nwb.add_electrode(x=float(i), y=float(2 * i), z=float(3 * i), imp=float(100 + i), location=locations[g],
                      filtering="0.3-6000 Hz", group=groups[g], probe_shank=0, probe_electrode=i % per,
                      bad_channel=False, ref_elect_id=-1, **rel)
region = nwb.create_electrode_table_region(list(range(n_ch)), "all electrodes")
fs = 30000.0
n_t = int(seconds * fs)
t = np.arange(n_t) / fs
theta = 800 * np.sin(2 * np.pi * 8 * t)[:, None]
signal = theta + rng.normal(0, noise, size=(n_t, n_ch))
if spike_rate > 0:
    # spikes 1.5 ms long, at least 5 ms apart, on tetrode 0's channels
    n_sp = int(spike_rate * seconds)
    starts = np.sort(rng.choice(np.arange(100, n_t - 100, 150), size=n_sp, replace=False))
    wave = -400 * np.exp(-((np.arange(45) - 12) / 4.0) ** 2) + 150 * np.exp(-((np.arange(45) - 28) / 7.0) ** 2)
    scale = np.array([1.0, 0.7, 0.5, 0.3])
    for s0 in starts:
        signal[s0:s0 + 45, :per] += wave[:, None] * scale[None, :]
    a0 = int(2.0 * fs)
    signal[a0:a0 + 90, :] += 20000
data = np.clip(signal, -32768, 32767).astype(np.int16)
ts = t + 10.0
nwb.add_acquisition(ElectricalSeries(name="e-series", data=data, electrodes=region, timestamps=ts,
                                     conversion=conversion, filtering="0.3-6000 Hz", description="raw recording",
                                     comments="interop raw"))
half = 10.0 + seconds / 2
epochs = [(10.0, half, "01_s1"), (half, 10.0 + seconds, "02_r1")]
for a, b, tag in epochs:
    nwb.add_epoch(a, b, [tag])
beh = nwb.create_processing_module("behavior", "behavior")
pos = Position(name="position")
for e, (a, b, tag) in enumerate(epochs):
    tt = a + np.arange(int((b - a) * 30)) / 30.0
    # two LEDs 10 px (2 cm) apart on a smooth path, in pixels of 2 mm
    x = 250 + 150 * np.sin(2 * np.pi * tt / 20) + rng.normal(0, 1, len(tt))
    y = 250 + 100 * np.cos(2 * np.pi * tt / 15) + rng.normal(0, 1, len(tt))
    leds = np.column_stack([x + 5, y, x - 5, y])
    pos.add_spatial_series(SpatialSeries(name=f"led_{e}", data=leds,
                                         timestamps=tt, reference_frame="corner", conversion=0.002,
                                         unit="meters", description="xloc, yloc, xloc2, yloc2"))
beh.add(pos)
tasks = nwb.create_processing_module("tasks", "tasks")
for k, (tn, env, ep) in enumerate([("sleep", "sleep box", [1]), ("lineartrack", "linear track", [2])]):
    tab = DynamicTable(name=f"task_{k}", description="task")
    tab.add_column("task_name", "name")
    tab.add_column("task_description", "description")
    tab.add_column("camera_id", "camera", index=True)
    tab.add_column("task_epochs", "epochs", index=True)
    tab.add_column("task_environment", "environment")
    tab.add_row(task_name=tn, task_description=f"{tn} task", camera_id=[0], task_epochs=ep, task_environment=env)
    tasks.add(tab)
with NWBHDF5IO(out, "w") as io:
    io.write(nwb)

"""Writes a Spyglass-style NWB file with pynwb (the oracle) and prints, as JSON,
the values it wrote. Usage: make_pynwb_session.py OUT.nwb LAYOUT TIMING
LAYOUT: gzip | chunked | contiguous    TIMING: timestamps | rate"""
import sys, json, datetime
import numpy as np
import pynwb
from pynwb import NWBFile, NWBHDF5IO
from pynwb.file import Subject
from pynwb.ecephys import ElectricalSeries, LFP
from pynwb.behavior import Position, SpatialSeries, CompassDirection, BehavioralEvents, BehavioralTimeSeries
from pynwb.image import ImageSeries
from hdmf.common import DynamicTable, VectorData
from hdmf.backends.hdf5 import H5DataIO
import ndx_franklab_novela as nov

out, layout, timing = sys.argv[1], sys.argv[2], sys.argv[3]
rng = np.random.default_rng(7)
start = datetime.datetime(2023, 6, 22, 9, 30, 0, tzinfo=datetime.timezone.utc)
nwb = NWBFile(session_description="pynwb fixture", identifier="fixture-0001", session_start_time=start,
              experimenter=["Doe, Jane", "Roe, Richard"], institution="UCSF", lab="Frank Lab",
              experiment_description="interop fixture", session_id="s1", keywords=["hippocampus", "test"])
nwb.subject = Subject(subject_id="rat7", species="Rattus norvegicus", sex="F", age="P120D",
                      description="a rat", genotype="wt", weight="0.4 kg")
daq = nov.DataAcqDevice(name="dataacq_device0", system="SpikeGadgets", amplifier="Intan", adc_circuit="Intan")
nwb.add_device(daq)
cam = nov.CameraDevice(name="camera_device 0", meters_per_pixel=0.002, camera_name="cam_a", lens="lens_a",
                       manufacturer="Allied", model_name="M1", frame_rate=30.0)
nwb.add_device(cam)
n_ch, per = 8, 4
probes, groups = [], []
for g in range(2):
    els = [nov.ShanksElectrode(name=str(i), rel_x=float(i), rel_y=2.0 * i, rel_z=0.0) for i in range(per)]
    shank = nov.Shank(name="0", shanks_electrodes=els)
    p = nov.Probe(name=f"probe {g}", id=g, probe_type="tetrode_12.5", units="um",
                  probe_description="tetrode", contact_size=12.5, contact_side_numbering=True, shanks=[shank])
    nwb.add_device(p)
    eg = nov.NwbElectrodeGroup(name=str(g), description=f"group {g}", location="CA1", device=p,
                               targeted_location="CA1", targeted_x=1.5 if g == 0 else -1.5, targeted_y=2.0,
                               targeted_z=3.0, units="mm")
    nwb.add_electrode_group(eg)
    groups.append(eg)
for name, desc in [("probe_shank", "shank"), ("probe_electrode", "electrode"), ("bad_channel", "bad"),
                   ("ref_elect_id", "reference")]:
    nwb.add_electrode_column(name=name, description=desc)
rows = []
for i in range(n_ch):
    g = i // per
    r = dict(x=float(i), y=float(2 * i), z=float(3 * i), imp=float(100 + i), location="CA1", filtering="none",
             group=groups[g], probe_shank=0, probe_electrode=i % per, bad_channel=(i == 3), ref_elect_id=-1 if i else 0)
    nwb.add_electrode(**r)
    rows.append(r)
region = nwb.create_electrode_table_region(list(range(n_ch)), "all electrodes")
fs, n_t = 30000.0, 6000
data = rng.integers(-2000, 2000, size=(n_t, n_ch), dtype=np.int16)
ts = np.arange(n_t) / fs + 10.0
ts[n_t // 2:] += 0.5  # a gap
def wrap(a):
    if layout == "gzip":
        return H5DataIO(a, compression="gzip", compression_opts=4, chunks=(1000, n_ch), shuffle=True)
    if layout == "chunked":
        return H5DataIO(a, chunks=(1000, 4))
    return a
kw = dict(timestamps=ts) if timing == "timestamps" else dict(rate=fs, starting_time=10.0)
es = ElectricalSeries(name="e-series", data=wrap(data), electrodes=region, conversion=1.95e-7, offset=0.001,
                      resolution=1e-7, filtering="0.3-6000 Hz", channel_conversion=np.linspace(1.0, 1.7, n_ch),
                      description="raw", comments="fixture", **kw)
nwb.add_acquisition(es)
# LFP in processing/ecephys, rate based, electrodes region over a subset
ecephys = nwb.create_processing_module("ecephys", "lfp")
lfp_data = rng.normal(size=(300, 3))
lfp_region = nwb.create_electrode_table_region([0, 4, 7], "lfp electrodes")
lfp = LFP(electrical_series=ElectricalSeries(name="lfp", data=lfp_data, electrodes=lfp_region, rate=1000.0,
                                             starting_time=10.0, description="lfp"))
ecephys.add(lfp)
# behavior
beh = nwb.create_processing_module("behavior", "behavior")
pos = Position(name="position")
pos_vals = {}
for e, (t0, t1) in enumerate([(10.0, 10.1), (10.1, 10.2)]):
    tt = np.arange(t0, t1, 1 / 30.0)
    d = rng.uniform(0, 500, size=(len(tt), 2))
    pos.add_spatial_series(SpatialSeries(name=f"led_{e}", data=d, timestamps=tt, reference_frame="corner",
                                         conversion=0.002, unit="meters", description="xloc, yloc"))
    pos_vals[f"led_{e}"] = dict(data=d.tolist(), timestamps=tt.tolist())
beh.add(pos)
head = rng.uniform(-np.pi, np.pi, size=20)
beh.add(CompassDirection(name="head_dir", spatial_series=SpatialSeries(
    name="orientation", data=head, rate=30.0, reference_frame="north", unit="radians")))
dio_ts = np.array([10.01, 10.05, 10.09])
beh.add(BehavioralEvents(name="behavioral_events", time_series=pynwb.TimeSeries(
    name="Poke1", data=np.array([1, 0, 1], dtype=np.uint8), timestamps=dio_ts, unit="n.a.", description="dio")))
speed = rng.uniform(0, 30, size=12)
beh.add(BehavioralTimeSeries(name="speed", time_series=pynwb.TimeSeries(
    name="speed", data=speed, rate=30.0, starting_time=10.0, unit="cm/s")))
# epochs, trials, custom intervals
nwb.add_epoch(10.0, 10.1, ["01_s1", "sleep"])
nwb.add_epoch(10.1, 10.2, ["02_r1"])
nwb.add_trial_column("correct", "was it correct")
for k in range(3):
    nwb.add_trial(start_time=10.0 + 0.05 * k, stop_time=10.03 + 0.05 * k, correct=bool(k % 2))
from pynwb.epoch import TimeIntervals
sl = TimeIntervals(name="sleep_times", description="sleep")
sl.add_interval(10.0, 10.05)
nwb.add_time_intervals(sl)
# units
nwb.add_unit_column("quality", "quality label")
spikes = [np.sort(rng.uniform(10, 10.2, size=k + 2)) for k in range(3)]
for k, st in enumerate(spikes):
    nwb.add_unit(spike_times=st, electrodes=[k, k + 1], quality=["good", "mua", "noise"][k])
# tasks
tasks = nwb.create_processing_module("tasks", "tasks")
for k, (tn, ep) in enumerate([("sleep", [1]), ("lineartrack", [2])]):
    t = DynamicTable(name=f"task_{k}", description="task")
    t.add_column("task_name", "name")
    t.add_column("task_description", "description")
    t.add_column("camera_id", "camera", index=True)
    t.add_column("task_epochs", "epochs", index=True)
    t.add_column("task_environment", "environment")
    t.add_row(task_name=tn, task_description=f"{tn} task", camera_id=[0], task_epochs=ep, task_environment="box")
    tasks.add(t)
# video and associated files
vid = nwb.create_processing_module("video_files", "videos")
from pynwb.behavior import BehavioralEvents as BE
vcont = BE(name="video")
vcont.add_timeseries(ImageSeries(name="01_s1_video", external_file=["rat7_01_s1.h264"], format="external",
                                 starting_frame=[0], timestamps=np.array([10.0, 10.033, 10.066]),
                                 device=cam, description="video"))
vid.add(vcont)
af = nwb.create_processing_module("associated_files", "files")
af.add(nov.AssociatedFiles(name="statescript r1", description="statescript", content="line1\nline2",
                           task_epochs="2"))
analog = nwb.create_processing_module("analog", "analog inputs")
analog.add(BehavioralTimeSeries(name="analog", time_series=pynwb.TimeSeries(
    name="analog", data=np.arange(24, dtype=np.int16).reshape(12, 2), timestamps=np.linspace(10, 10.2, 12),
    unit="-1", description="headstage analog channels")))
with NWBHDF5IO(out, "w") as io:
    io.write(nwb)
print(json.dumps(dict(
    data=data.tolist() if n_t * n_ch < 100000 else None, timestamps=ts.tolist(), rate=fs,
    channel_conversion=np.linspace(1.0, 1.7, n_ch).tolist(), lfp=lfp_data.tolist(), position=pos_vals,
    head=head.tolist(), speed=speed.tolist(), spikes=[s.tolist() for s in spikes], rows=[
        {k: (v if k != "group" else v.name) for k, v in r.items()} for r in rows],
    object_ids={o.object_id: o.name for o in nwb.objects.values()},
    es_object_id=es.object_id, file_object_id=nwb.object_id)))

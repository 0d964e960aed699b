"""Writes an NWB file laid out the way Spyglass expects (ndx-franklab-novela devices,
probe columns in the electrodes table, a `tasks` module, one SpatialSeries per
epoch, epochs tagged 01_s1, 02_r1) with pynwb, and prints as JSON the values it
wrote. Usage: make_spyglass_file.py OUT.nwb VARIANT

VARIANT: appendix            2 groups x 4 channels, 2 epochs, position (the Appendix file)
         extras              appendix + DIO, video, StateScript, sample count, sensors, compass
         minimal             no position, no probe metadata, no tasks, no camera, no subject
         bad_probe_electrode appendix, but electrode 5 names probe electrode 7 (the probe has 0-3)
         no_description      appendix, then /session_description is deleted with h5py
         leds                appendix, but position is tracked LEDs over 60 s per epoch: epoch 0 two
                             LEDs in 4 columns (xloc, yloc, xloc2, yloc2) with tracking defects,
                             epoch 1 one LED in 2 columns (xloc, yloc)
         leds_long           leds, but 2 x 5 s of raw data (epochs 10-15 s and 15.5-20.5 s), long
                             enough for LFPV1's 1 s minimum piece (the ripple pipeline's test)"""
import sys, json, datetime
import numpy as np
import pynwb
from pynwb import NWBFile, NWBHDF5IO, TimeSeries
from pynwb.file import Subject
from pynwb.ecephys import ElectricalSeries
from pynwb.behavior import Position, SpatialSeries, BehavioralEvents, CompassDirection
from pynwb.image import ImageSeries
from pynwb.device import Device
from hdmf.common import DynamicTable
import ndx_franklab_novela as nov

def led_track(t0, two, seed, n=1800, fs=30.0):
    """LEDs (pixels of 0.2 cm) of a head moving on a smooth path for n samples at fs Hz
    from t0, timestamps jittered; with two LEDs: 3 cm apart along the heading, with a
    run of too-separated LEDs, a one-frame jump and NaN runs (what the gates remove)."""
    r = np.random.default_rng(seed)
    t = np.arange(n) / fs
    cx, cy = 300 + 200 * np.sin(0.11 * t), 250 + 150 * np.cos(0.07 * t + 1)
    heading = np.arctan2(-10.5 * np.sin(0.07 * t + 1), 22 * np.cos(0.11 * t)) + 0.3 * np.sin(1.3 * t)
    hx, hy = 7.5 * np.cos(heading), 7.5 * np.sin(heading)
    tt = t0 + t + r.uniform(-0.002, 0.002, n)
    led1 = np.stack([cx + hx, cy + hy], 1) + r.uniform(-0.5, 0.5, (n, 2))
    if not two:
        return led1, tt, "xloc, yloc"
    led2 = np.stack([cx - hx, cy - hy], 1) + r.uniform(-0.5, 0.5, (n, 2))
    led2[100:104, 0] += 80.0
    led1[200, 1] += 150.0
    led1[300:306] = np.nan
    led2[-3:] = np.nan
    return np.concatenate([led1, led2], 1), tt, "xloc, yloc, xloc2, yloc2"


out, variant = sys.argv[1], sys.argv[2]
full = variant != "minimal"
rng = np.random.default_rng(11)
start = datetime.datetime(2023, 6, 22, 9, 30, 0, tzinfo=datetime.timezone.utc)
nwb = NWBFile(session_description="parity fixture", identifier="parity-0001", session_start_time=start,
              experimenter=["Doe, Jane"], institution="UCSF", lab="Loren Frank",
              experiment_description="spyglass parity", session_id="parity_s1")
report = dict(variant=variant)
if full:
    nwb.subject = Subject(subject_id="rat7", species="Rattus norvegicus", sex="female", age="P120D",
                          description="a rat", genotype="wt", weight="0.4 kg")
    daq = nov.DataAcqDevice(name="dataacq_device0", system="SpikeGadgets", amplifier="Intan", adc_circuit="Intan")
    nwb.add_device(daq)
    cam = nov.CameraDevice(name="camera_device 0", meters_per_pixel=0.002, camera_name="cam_a", lens="lens_a",
                           manufacturer="Allied", model_name="M1", frame_rate=30.0)
    nwb.add_device(cam)
n_ch, per = 8, 4
groups = []
locations = ["CA1", "CA3"]
for g in range(2):
    if full:
        els = [nov.ShanksElectrode(name=str(i), rel_x=float(i), rel_y=2.0 * i, rel_z=0.5) for i in range(per)]
        shank = nov.Shank(name="0", shanks_electrodes=els)
        dev = nov.Probe(name=f"probe {g}", id=g, probe_type="tetrode_12.5", units="um",
                        probe_description="tetrode", contact_size=12.5, contact_side_numbering=True,
                        shanks=[shank])
        nwb.add_device(dev)
        eg = nov.NwbElectrodeGroup(name=str(g), description=f"group {g}", location=locations[g], device=dev,
                                   targeted_location=locations[g], targeted_x=1.5 if g == 0 else -1.5,
                                   targeted_y=2.0, targeted_z=3.0, units="mm")
    else:
        dev = Device(name=f"plain probe {g}", description="a probe without novela metadata")
        nwb.add_device(dev)
        eg = nwb.create_electrode_group(name=str(g), description=f"group {g}", location=locations[g], device=dev)
    if full:
        nwb.add_electrode_group(eg)
    groups.append(eg)
if full:
    for name, desc in [("probe_shank", "shank"), ("probe_electrode", "electrode"), ("bad_channel", "bad"),
                       ("ref_elect_id", "reference")]:
        nwb.add_electrode_column(name=name, description=desc)
rows = []
for i in range(n_ch):
    g = i // per
    r = dict(x=float(i), y=float(2 * i), z=float(3 * i), imp=float(100 + i), location=locations[g],
             filtering="0.3-6000 Hz", group=groups[g])
    if full:
        pe = i % per
        if variant == "bad_probe_electrode" and i == 5:
            pe = 7
        r.update(probe_shank=0, probe_electrode=pe, bad_channel=(i == 3), ref_elect_id=-1 if i else 2)
    nwb.add_electrode(**r)
    rows.append({k: (v if k != "group" else v.name) for k, v in r.items()})
report["electrodes"] = rows
region = nwb.create_electrode_table_region(list(range(n_ch)), "all electrodes")
fs, n_t = 30000.0, (300000 if variant == "leds_long" else 60000)
data = rng.integers(-2000, 2000, size=(n_t, n_ch), dtype=np.int16)
ts = np.arange(n_t) / fs + 10.0
ts[n_t // 2:] += 0.5  # a gap of half a second
es = ElectricalSeries(name="e-series", data=data, electrodes=region, timestamps=ts, conversion=1.95e-7,
                      filtering="0.3-6000 Hz", description="raw recording", comments="parity raw")
nwb.add_acquisition(es)
report.update(raw_object_id=es.object_id, gap_index=n_t // 2, ts_first=ts[0], ts_last=ts[-1],
              ts_before_gap=ts[n_t // 2 - 1], ts_after_gap=ts[n_t // 2])
epochs = [(10.0, 11.0, "01_s1"), (11.5, 12.5, "02_r1")]
if variant == "leds_long":
    epochs = [(10.0, 15.0, "01_s1"), (15.5, 20.5, "02_r1")]
for a, b, tag in epochs:
    nwb.add_epoch(a, b, [tag])
report["epochs"] = epochs
if full:
    beh = nwb.create_processing_module("behavior", "behavior")
    pos = Position(name="position")
    pos_report = []
    for e, (a, b, tag) in enumerate(epochs):
        if variant in ("leds", "leds_long"):
            d, tt, desc = led_track(a, two=(e == 0), seed=20 + e)
        else:
            tt = a + np.arange(30) / 30.0
            d = rng.uniform(0, 500, size=(len(tt), 2))
            desc = "xloc, yloc"
        ss = SpatialSeries(name=f"led_{e}", data=d, timestamps=tt, reference_frame="corner", conversion=0.002,
                           unit="meters", description=desc)
        pos.add_spatial_series(ss)
        pos_report.append(dict(name=ss.name, object_id=ss.object_id, first=tt[0], last=tt[-1]))
    beh.add(pos)
    report["position"] = pos_report
    tasks = nwb.create_processing_module("tasks", "tasks")
    for k, (tn, env, ep) in enumerate([("sleep", "sleep box", [1]), ("lineartrack", "linear track", [2])]):
        t = DynamicTable(name=f"task_{k}", description="task")
        t.add_column("task_name", "name")
        t.add_column("task_description", "description")
        t.add_column("camera_id", "camera", index=True)
        t.add_column("task_epochs", "epochs", index=True)
        t.add_column("task_environment", "environment")
        t.add_row(task_name=tn, task_description=f"{tn} task", camera_id=[0], task_epochs=ep, task_environment=env)
        tasks.add(t)
if variant == "extras":
    dio_ts = np.array([10.2, 10.4, 11.6])
    poke = TimeSeries(name="Poke1", data=np.array([1, 0, 1], dtype=np.uint8), timestamps=dio_ts, unit="n.a.",
                      description="dio")
    beh.add(BehavioralEvents(name="behavioral_events", time_series=poke))
    head_ts = 10.0 + np.arange(60) / 30.0
    compass = SpatialSeries(name="head_orientation", data=rng.uniform(-3, 3, size=60), timestamps=head_ts,
                            reference_frame="north", unit="radians")
    beh.add(CompassDirection(name="head_dir", spatial_series=compass))
    sc = TimeSeries(name="sample_count", data=np.arange(100), timestamps=10.0 + np.arange(100) / 100.0,
                    unit="samples", description="sample counts")
    beh.add(sc)
    analog = TimeSeries(name="analog", data=rng.normal(size=(50, 3)), timestamps=10.0 + np.arange(50) / 50.0,
                        unit="V", description="timestamps accel_x accel_y accel_z")
    sensor_mod = nwb.create_processing_module("sensors", "sensors")
    sensor_mod.add(BehavioralEvents(name="analog", time_series=analog))
    vid = nwb.create_processing_module("video_files", "videos")
    vcont = BehavioralEvents(name="video")
    video = ImageSeries(name="01_s1_video", external_file=["rat7_01_s1.h264"], format="external",
                        starting_frame=[0], timestamps=10.0 + np.arange(30) / 30.0, device=cam, description="video")
    vcont.add_timeseries(video)
    vid.add(vcont)
    af = nwb.create_processing_module("associated_files", "files")
    script = nov.AssociatedFiles(name="statescript r1", description="statescript log", content="line1\nline2",
                                 task_epochs="2")
    af.add(script)
    report.update(dio_object_id=poke.object_id, compass_object_id=compass.object_id,
                  sample_count_object_id=sc.object_id, analog_object_id=analog.object_id,
                  video_object_id=video.object_id, statescript_object_id=script.object_id,
                  compass_first=head_ts[0], compass_last=head_ts[-1])
with NWBHDF5IO(out, "w") as io:
    io.write(nwb)
if variant == "no_description":
    import h5py
    with h5py.File(out, "a") as f:
        del f["session_description"]
print(json.dumps(report))

"""Writes an NWB file the way labs write them, with known sines on known electrodes,
and prints as JSON what it wrote. Usage: make_lab_file.py OUT.nwb VARIANT

Every variant: 16 electrodes in 2 groups (CA1, PFC), a subject m1, 30 kHz raw data
for 4 s in which electrode k carries a sine of FREQS[k] Hz and AMPS[k] uV on a known
mean, plus noise. The JSON gives, per electrode id, its frequency, amplitude and mean
in volts, as written.

VARIANT:
  neuroconv_gains   SpikeInterface recording (int16, a different gain per channel) written
                    by neuroconv: conversion 1e-6, channel_conversion = the gains
  neuroconv_intan   an Intan-like recording (uint16, gain 0.195 uV, offset -6389.76 uV)
                    written by neuroconv: uint16 data, offset -6.38976e-3 V
  neuroconv_spikeglx two neuroconv recordings named as SpikeGLX: ElectricalSeriesAP
                    (30 kHz, electrodes 0-7), ElectricalSeriesAPimec1 (30 kHz, 8-15) and
                    ElectricalSeriesLF (2.5 kHz, 0-7)
  ids_1based        pynwb, electrode ids 1-16 (MatNWB style), region rows reversed
  ids_101           pynwb, electrode ids 101-116, region rows reversed
  extras            pynwb: empty session description, a units table, LFP in
                    processing/ecephys, trials, a TTL TimeSeries, two Position objects
  age2              pynwb, the same animal as the others at age P95D, weight changed
  sex_conflict      pynwb, the same subject id with sex M
  plain             pynwb, int16 with one conversion (Spyglass's layout)
  camera_model      plain + an ndx-franklab-novela CameraDevice linking an NWB 2.9 DeviceModel
  filter_<name>     pynwb, raw data and timestamps compressed with hdf5plugin's <name>
                    (lzf, zstd, blosc, bitshuffle, bitshuffle_lz4, lz4, bzip2)
"""
import sys, json, datetime
import numpy as np
from pynwb import NWBFile, NWBHDF5IO, TimeSeries
from pynwb.file import Subject
from pynwb.ecephys import ElectricalSeries, LFP
from pynwb.behavior import Position, SpatialSeries

out, variant = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(5)
FS, DUR, N = 30000.0, 4.0, 16
FREQS = [6.0 + 1.5 * k for k in range(N)]
AMPS = [100.0 + 20.0 * k for k in range(N)]  # uV
MEANS = [0.0] * N
start = datetime.datetime(2024, 3, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
report = dict(variant=variant)


def subject():
    sex, age, weight = "F", "P90D", "25 g"
    if variant == "age2":
        age, weight = "P95D", "26 g"
    if variant == "sex_conflict":
        sex = "M"
    return Subject(subject_id="m1", species="Mus musculus", sex=sex, age=age, weight=weight,
                   description="a mouse", genotype="wt")


def new_file(description="lab fixture"):
    return NWBFile(session_description=description, identifier=f"lab-{variant}", session_start_time=start,
                   experimenter=["Doe, Jane"], institution="UCSF", lab="Frank", subject=subject())


def signal_uv(k, t):
    return AMPS[k] * np.sin(2 * np.pi * FREQS[k] * t) + MEANS[k] + rng.normal(0, 2.0, size=t.size)


def truth(ids, kinds):
    report["truth"] = [dict(id=int(i), freq=FREQS[k], amp=AMPS[k] * 1e-6, mean=MEANS[k] * 1e-6)
                       for i, k in zip(ids, kinds)]


t = np.arange(int(FS * DUR)) / FS

if variant.startswith("neuroconv"):
    import spikeinterface.core as si
    from neuroconv.tools.spikeinterface import add_recording_to_nwbfile

    def recording(kinds, fs, dtype, gains, offsets):
        tt = np.arange(int(fs * DUR)) / fs
        uv = np.stack([signal_uv(k, tt) for k in kinds], axis=1)
        counts = np.round((uv - np.asarray(offsets)) / np.asarray(gains))
        rec = si.NumpyRecording([counts.astype(dtype)], sampling_frequency=fs,
                                channel_ids=[f"ch{k}" for k in kinds])
        rec.set_channel_gains(gains)
        rec.set_channel_offsets(offsets)
        rec.set_channel_groups([0 if k < 8 else 1 for k in kinds])
        rec.set_property("brain_area", ["CA1" if k < 8 else "PFC" for k in kinds])
        return rec

    nwb = new_file()
    if variant == "neuroconv_gains":
        gains = [0.1 + 0.02 * k for k in range(N)]
        rec = recording(range(N), FS, "int16", gains, [0.0] * N)
        add_recording_to_nwbfile(rec, nwb)
    elif variant == "neuroconv_intan":
        rec = recording(range(N), FS, "uint16", [0.195] * N, [-6389.76] * N)
        add_recording_to_nwbfile(rec, nwb)
    elif variant == "neuroconv_spikeglx":
        meta = {"Ecephys": {
            "ElectricalSeriesAP": {"name": "ElectricalSeriesAP", "description": "AP band"},
            "ElectricalSeriesAPimec1": {"name": "ElectricalSeriesAPimec1", "description": "AP band, probe 1"},
            "ElectricalSeriesLF": {"name": "ElectricalSeriesLF", "description": "LF band"}}}
        ap0 = recording(range(8), FS, "int16", [2.34] * 8, [0.0] * 8)
        ap1 = recording(range(8, 16), FS, "int16", [2.34] * 8, [0.0] * 8)
        lf0 = recording(range(8), 2500.0, "int16", [4.68] * 8, [0.0] * 8)
        add_recording_to_nwbfile(ap0, nwb, metadata=meta, es_key="ElectricalSeriesAP")
        add_recording_to_nwbfile(ap1, nwb, metadata=meta, es_key="ElectricalSeriesAPimec1")
        add_recording_to_nwbfile(lf0, nwb, metadata=meta, es_key="ElectricalSeriesLF")
    with NWBHDF5IO(out, "w") as io:
        io.write(nwb)
    # ids as pynwb reads them back: channel name -> electrodes-table id
    with NWBHDF5IO(out, "r") as io:
        f = io.read()
        df = f.electrodes.to_dataframe()
        name_col = "channel_name" if "channel_name" in df.columns else None
        ids = {}
        for i, row in df.iterrows():
            name = row[name_col] if name_col else f"ch{i}"
            ids[str(name)] = int(i)
        report["series"] = {k: dict(conversion=float(v.conversion), offset=float(v.offset),
                                    channel_conversion=None if v.channel_conversion is None
                                    else [float(x) for x in v.channel_conversion[:]],
                                    dtype=str(v.data.dtype))
                            for k, v in f.acquisition.items()}
    kinds = range(N)
    truth([ids[f"ch{k}"] for k in kinds], kinds)
    print(json.dumps(report))
    sys.exit(0)

# ---------------------------------------------------------------- pynwb variants
description = "" if variant == "extras" else "lab fixture"
nwb = new_file(description)
dev = nwb.create_device("probe", description="a 16-channel probe")
groups = [nwb.create_electrode_group(name, "shank", loc, dev) for name, loc in [("shank0", "CA1"), ("shank1", "PFC")]]
first = {"ids_1based": 1, "ids_101": 101}.get(variant, 0)
ids = [first + k for k in range(N)]
for k in range(N):
    nwb.add_electrode(id=ids[k], group=groups[k // 8], location=groups[k // 8].location)
# channel j of the series is electrode table row rows[j]
rows = list(range(N))[::-1] if variant in ("ids_1based", "ids_101") else list(range(N))
region = nwb.create_electrode_table_region(rows, "all electrodes")
conversion = 0.195e-6
uv = np.stack([signal_uv(r, t) for r in rows], axis=1)
data = np.round(uv * 1e-6 / conversion).astype(np.int16)
timestamps = t + 5.0
data_io, ts_io = data, timestamps
if variant.startswith("filter_"):
    import hdf5plugin
    from hdmf.backends.hdf5 import H5DataIO
    name = variant[len("filter_"):]
    opts = {"lzf": dict(compression="lzf"),
            "zstd": hdf5plugin.Zstd(),
            "blosc": hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE),
            "bitshuffle": hdf5plugin.Bitshuffle(cname="none"),
            "bitshuffle_lz4": hdf5plugin.Bitshuffle(cname="lz4"),
            "lz4": hdf5plugin.LZ4(),
            "bzip2": hdf5plugin.BZip2()}[name]
    opts = dict(opts)
    data_io = H5DataIO(data, chunks=(7000, N), allow_plugin_filters=True, **opts)
    ts_io = H5DataIO(timestamps, chunks=(7000,), allow_plugin_filters=True, **opts)
es = ElectricalSeries(name="e-series", data=data_io, electrodes=region, timestamps=ts_io,
                      conversion=conversion, description="raw")
nwb.add_acquisition(es)
if variant == "camera_model":
    import ndx_franklab_novela as nov
    from pynwb.device import DeviceModel
    model = DeviceModel(name="Blackfly S BFS-U3", manufacturer="Teledyne FLIR", model_number="BFS-U3-16S2M",
                        description="overhead camera")
    nwb.add_device_model(model)
    nwb.add_device(nov.CameraDevice(name="camera_device 1", meters_per_pixel=0.001, camera_name="overhead",
                                    lens="2.8mm", model=model))
    report["camera"] = dict(model=model.name, manufacturer=model.manufacturer)
if variant == "extras":
    ecephys = nwb.create_processing_module("ecephys", "processed ephys")
    lt = np.arange(int(1000 * DUR)) / 1000.0 + 5.0
    lfp_data = np.stack([signal_uv(r, lt - 5.0) for r in rows[:4]], axis=1).astype(np.float32) * 1e-6
    lfp_es = ElectricalSeries(name="lfp", data=lfp_data, electrodes=nwb.create_electrode_table_region(rows[:4], "four"),
                              starting_time=5.0, rate=1000.0, description="LFP from the amplifier")
    ecephys.add(LFP(electrical_series=lfp_es))
    nwb.add_unit(spike_times=[5.1, 5.5, 6.0], electrodes=[0])
    nwb.add_unit(spike_times=[5.2, 7.0], electrodes=[1])
    nwb.add_trial(start_time=5.0, stop_time=6.0)
    nwb.add_trial(start_time=6.5, stop_time=8.0)
    nwb.add_acquisition(TimeSeries(name="TTL", data=np.array([0, 1, 0, 1], dtype=np.uint8),
                                   timestamps=[5.0, 5.5, 6.0, 6.5], unit="n.a.", description="sync pulses"))
    behavior = nwb.create_processing_module("behavior", "behaviour")
    pt = np.arange(0, DUR, 1 / 30.0) + 5.0
    for cname in ["position_led1", "position_led2"]:
        pos = Position(name=cname)
        pos.add_spatial_series(SpatialSeries(name=f"{cname}_xy", data=rng.normal(size=(pt.size, 2)),
                                             timestamps=pt, reference_frame="corner", conversion=0.01))
        behavior.add(pos)
    report["units_object_id"] = nwb.units.object_id
    report["lfp_object_id"] = lfp_es.object_id
with NWBHDF5IO(out, "w") as io:
    io.write(nwb)
truth(ids, range(N))
report["raw_object_id"] = es.object_id
print(json.dumps(report))

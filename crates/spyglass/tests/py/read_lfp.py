"""The oracle for LFP outputs: reads an ElectricalSeries with pynwb, converts it to
volts by NWB's formula (data x conversion x channel_conversion + offset), maps its
channels to electrode ids through the electrodes table (pynwb's region), and fits a
sine of the given frequency plus a constant to each electrode's middle part.
Usage: read_lfp.py FILE OBJECT_ID '{"<electrode id>": <freq>, ...}'
Prints JSON: {"<id>": {"amp": volts, "mean": volts}, ...} and the series' dtype,
conversion, offset and channel_conversion."""
import sys, json
import numpy as np
from pynwb import NWBHDF5IO

path, oid, freqs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with NWBHDF5IO(path, "r", load_namespaces=True) as io:
    f = io.read()
    es = f.objects[oid]
    data = np.asarray(es.data[:], dtype=float)
    if data.ndim == 1:
        data = data[:, None]
    cc = np.ones(data.shape[1]) if es.channel_conversion is None else np.asarray(es.channel_conversion[:], dtype=float)
    volts = data * es.conversion * cc[None, :] + es.offset
    if es.timestamps is not None:
        ts = np.asarray(es.timestamps[:])
    else:
        ts = es.starting_time + np.arange(data.shape[0]) / es.rate
    ids = [int(i) for i in es.electrodes.to_dataframe().index]
    out = {"dtype": str(es.data.dtype), "conversion": float(es.conversion), "offset": float(es.offset),
           "channel_conversion": None if es.channel_conversion is None else [float(x) for x in cc],
           "ids": ids, "fits": {}}
    mid = (ts > ts[0] + 0.5) & (ts < ts[-1] - 0.5)
    for c, i in enumerate(ids):
        if str(i) not in freqs:
            continue
        w = 2 * np.pi * freqs[str(i)]
        x = ts[mid]
        a = np.stack([np.sin(w * x), np.cos(w * x), np.ones_like(x)], axis=1)
        coef, *_ = np.linalg.lstsq(a, volts[mid, c], rcond=None)
        out["fits"][str(i)] = {"amp": float(np.hypot(coef[0], coef[1])), "mean": float(coef[2])}
print(json.dumps(out))

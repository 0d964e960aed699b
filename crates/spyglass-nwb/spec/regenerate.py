"""Regenerates the vendored schema files in this directory.

Writes a small NWB file with pynwb (with ndx-franklab-novela loaded, so its
dependencies ndx-optogenetics and ndx-ophys-devices are cached too) and copies
every dataset under /specifications/<namespace>/<version>/<name> to
<namespace>/<version>/<name>.json, byte for byte as pynwb caches it.
Run with the interop venv: .venv/bin/python crates/spyglass-nwb/spec/regenerate.py
"""
import os, sys, tempfile, datetime
import h5py
import pynwb
import ndx_franklab_novela  # noqa: F401  (registers the extension namespaces)

here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "spec.nwb")
    nwb = pynwb.NWBFile("spec", "spec", datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    nwb.add_device(ndx_franklab_novela.DataAcqDevice(name="dev", system="s", amplifier="a", adc_circuit="c"))
    with pynwb.NWBHDF5IO(path, "w") as io:
        io.write(nwb)
    with h5py.File(path, "r") as f:
        for ns in f["specifications"]:
            for ver in f["specifications"][ns]:
                out = os.path.join(here, ns, ver)
                os.makedirs(out, exist_ok=True)
                for name in f["specifications"][ns][ver]:
                    text = f["specifications"][ns][ver][name][()]
                    if isinstance(text, bytes):
                        text = text.decode("utf-8")
                    with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as fh:
                        fh.write(text)
                    print(ns, ver, name, len(text))

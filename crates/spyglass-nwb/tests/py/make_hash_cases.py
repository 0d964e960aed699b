"""HDF5 files with the value kinds Spyglass's NwbfileHasher treats specially, written
with h5py: argv[1] is the main file, argv[2] the target of its external link,
argv[3:6] files our hasher refuses: a compound dataset (not reproduced here), and
a numeric dataset and attribute of 2 dimensions with no elements (Spyglass's hasher
fails on them: Python cannot cast an empty 2-D view to bytes)."""
import json
import sys

import h5py
import numpy as np

main, other, compound, zero_cols, empty_attr = sys.argv[1:6]
rng = np.random.default_rng(17)

with h5py.File(other, "w") as f:
    f.create_group("target").create_dataset("x", data=np.arange(3, dtype="<i4"))

with h5py.File(main, "w") as f:
    # a namespace cache as hdmf writes it: versions, the `None` group passed over
    spec = f.create_group("specifications")
    for name, versions in [("fake-ns", ["0.9.0", "1.2.3", "None"]), ("other-ns", ["2.0"])]:
        for v in versions:
            src = [{"source": f"{name}.types"}]
            ns = {"namespaces": [{"name": name, "version": v, "schema": src, "doc": "x"}]}
            g = spec.require_group(name).create_group(v)
            g.create_dataset("namespace", data=json.dumps(ns), dtype=h5py.string_dtype())
            g.create_dataset(f"{name}.types", data=json.dumps({"groups": []}), dtype=h5py.string_dtype())
    f.attrs[".specloc"] = spec.ref

    g = f.create_group("kinds")
    a = g.attrs
    a["f64_sci"] = np.float64(1e-5)
    a["f64_small"] = np.float64(1.5e-7)
    a["f64_big"] = np.float64(1e16)
    a["f64_pos"] = np.float64(123456789.123)
    a["f64_tenth"] = np.float64(0.1)
    a["f64_nan"] = np.float64(np.nan)
    a["f64_neginf"] = np.float64(-np.inf)
    a["f64_negzero"] = np.float64(-0.0)
    a["f64_denorm"] = np.float64(5e-324)
    a["f32_1e-4"] = np.float32(1e-4)
    a["f32_big"] = np.float32(3.4e38)
    a["f32_odd"] = np.float32(123456789.0)
    a["f32_third"] = np.float32(1 / 3)
    a["i8"] = np.int8(-5)
    a["u64"] = np.uint64(2**64 - 1)
    a["bool"] = np.bool_(True)
    a["text"] = "héllo wörld"
    a.create("fixed", data=np.bytes_(b"abc"), dtype="S5")
    a["ref"] = f["kinds"].ref
    a["arr_f64"] = np.array([1e-5, 0.5, 1e20, -3.25])
    a["arr_f32"] = np.array([0.1, 1e-30], dtype="f4")
    a["arr_i16_be"] = np.array([1, -2, 300], dtype=">i2")
    a["arr_2d"] = np.arange(6, dtype="u2").reshape(2, 3)
    a["arr_text"] = np.array(["a", "longer one", "ü€😀", ""], dtype=h5py.string_dtype())
    a["arr_fixed"] = np.array([b"ab", b"abcd"], dtype="S4")
    a["arr_bool"] = np.array([True, False, True])
    a["arr_empty_text"] = np.array([], dtype=h5py.string_dtype())
    a["arr_empty_f32"] = np.array([], dtype="f4")
    a["arr_ref"] = np.array([f["kinds"].ref, h5py.Reference()], dtype=h5py.ref_dtype)
    a["version"] = "ignored"

    g["scalar_f64"] = np.float64(1e-7)
    g["scalar_f32"] = np.float32(2.5)
    g["scalar_i64"] = np.int64(-12)
    g["scalar_text"] = "scalar ü"
    g.create_dataset("scalar_fixed", data=np.bytes_(b"xy"), dtype="S3")
    g["scalar_bool"] = np.bool_(False)
    g["scalar_ref"] = f["kinds"].ref
    g["version"] = "ignored content"
    g["source_script"] = "ignored too"
    # strings whose widest member differs between 32768-row batches
    words = np.array(["x" * int(k) for k in rng.integers(0, 5, 70000)], dtype=object)
    words[40000] = "a much longer string in the second batch, ü"
    g.create_dataset("text_batches", data=words, dtype=h5py.string_dtype())
    g.create_dataset("text_2d", data=np.array([["a", "bb"], ["", "dddd"]], dtype=object),
                     dtype=h5py.string_dtype())
    g.create_dataset("fixed_1d", data=np.array([b"a", b"abc", b""], dtype="S3"))
    g.create_dataset("bools", data=rng.integers(0, 2, 100).astype(bool))
    g.create_dataset("refs", data=np.array([f["kinds"].ref, h5py.Reference(), f["specifications"].ref],
                                           dtype=h5py.ref_dtype))
    g.create_dataset("be_f64", data=rng.normal(size=10).astype(">f8"))
    g.create_dataset("empty", shape=(0,), dtype="f8")
    g.create_dataset("enum", data=np.array([0, 2, 1], dtype="u1"),
                     dtype=h5py.enum_dtype({"A": 0, "B": 1, "C": 2}, basetype="u1"))
    g.create_dataset("long_u8", data=rng.integers(0, 255, (70000, 3)).astype("u1"), chunks=(1000, 3),
                     compression="gzip")

    # rounding: ties, negative ties, float32, integers, several batches
    pes = f.create_group("acquisition").create_group("ProcessedElectricalSeries")
    x = rng.normal(scale=200.0, size=(70000, 2))
    x[:8, 0] = [0.00005, 0.00015, 0.00025, -0.00005, 1.23455, -1.23465, 2.5e-5, 1e-9]
    pes.create_dataset("data", data=x, chunks=(5000, 2))
    pes.create_dataset("data_f32", data=x[:1000].astype("f4"))
    pes.create_dataset("electrodes", data=np.arange(2, dtype="i8"))
    pes["timestamps"] = 1.0 + np.arange(70000) / 30000.0
    other_pes = f.create_group("unrounded")
    other_pes["data"] = x[:100]

    # links: soft, dangling soft, external, a second hard link, creation order
    links = f.create_group("links")
    links["soft"] = h5py.SoftLink("/kinds")
    links["soft_ds"] = h5py.SoftLink("/kinds/scalar_f64")
    links["dangling"] = h5py.SoftLink("/nowhere")
    links["external"] = h5py.ExternalLink(other.split("/")[-1], "/target")
    links["hard_again"] = f["kinds/be_f64"]
    ordered = f.create_group("ordered", track_order=True)
    for name in ["zeta", "alpha", "mid"]:
        ordered.create_group(name)
    f.create_group("general").create_group("not_specifications_either")["v"] = 1

with h5py.File(compound, "w") as f:
    f.create_dataset("table", data=np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]))

with h5py.File(zero_cols, "w") as f:
    f.create_dataset("zero_cols", shape=(3, 0), dtype="i4")

with h5py.File(empty_attr, "w") as f:
    f.create_group("g").attrs["empty_2d"] = np.zeros((0, 2))

"""NWB objects ``fetch_nwb`` returns: ``NwbObject`` mirrors the pynwb attributes
Spyglass's notebooks read (``data``, ``timestamps``, ``rate``, ``starting_time``,
``conversion``, ``offset``, ``unit``, ``electrodes``, ``object_id``); its arrays
are numpy arrays over the buffers the Rust readers filled. ``to_pynwb()`` opens
the same object with pynwb when it is installed."""

from __future__ import annotations

import numpy as np

from ._native import SpyglassError


class NwbObject:
    """One NWB object a fetched row points to (a time series, a table or a dataset)."""

    def __init__(self, fields):
        self._fields = fields
        for k, v in fields.items():
            setattr(self, k, v)

    @property
    def fields(self):
        """Everything read, as a dict."""
        return dict(self._fields)

    def to_dataframe(self):
        """A table's columns as a DataFrame indexed by ``id`` (pynwb's
        ``to_dataframe``); a series' data with its timestamps as the index."""
        import pandas

        if self.kind == "table":
            cols = {}
            for name in self.colnames:
                col = self.columns[name]
                cols[name] = list(col) if isinstance(col, list) else (
                    list(col) if getattr(col, "ndim", 1) > 1 else col
                )
            return pandas.DataFrame(cols, index=pandas.Index(self.id, name="id"))
        if self.kind == "series":
            return _series_frame(self)
        raise SpyglassError(f"{self.path}: a {self.kind} has no DataFrame form")

    def to_pynwb(self):
        """The object read by pynwb from the same file (needs pynwb); the file stays
        open as long as the object is used."""
        import pynwb

        io = pynwb.NWBHDF5IO(self.file, "r", load_namespaces=True)
        nwbfile = io.read()
        obj = nwbfile.objects[self.object_id]
        obj._spyglass_rs_io = io
        return obj

    def __repr__(self):
        shape = getattr(getattr(self, "data", None), "shape", None)
        return (
            f"NwbObject({self.neurodata_type} {self.path!r}"
            + (f", data {shape} {self.data.dtype}" if shape is not None else "")
            + ")"
        )


def wrap_rows(rows):
    """Replaces the object dicts of native fetch_nwb rows by ``NwbObject``s."""
    for r in rows:
        for k, v in list(r.items()):
            if isinstance(v, dict) and "object_id" in v and "kind" in v:
                r[k] = NwbObject(v)
    return rows


def _series_frame(obj):
    import pandas

    if obj.timestamps is not None:
        times = obj.timestamps
    elif obj.rate:
        times = obj.starting_time + np.arange(obj.data.shape[0]) / obj.rate
    else:
        raise SpyglassError(f"{obj.path}: the series has neither timestamps nor a rate")
    return pandas.DataFrame(obj.data, index=pandas.Index(times, name="time"))


def lfp_dataframe(row, label):
    """Spyglass's LFP ``fetch1_dataframe``: ``pd.DataFrame(nwb["lfp"].data,
    index=pd.Index(nwb["lfp"].timestamps, name="time"))``."""
    series = [k for k, v in row.items() if isinstance(v, NwbObject) and v.kind == "series"]
    for name in ("lfp", "lfp_band"):
        if name in series:
            return _series_frame(row[name])
    raise SpyglassError(
        f"fetch1_dataframe of {label}: spyglass_rs builds it for LFP tables (an `lfp` or "
        f"`lfp_band` series); this row has {series or 'no series'}"
    )

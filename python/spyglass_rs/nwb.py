"""NWB objects ``fetch_nwb`` returns: ``NwbObject`` mirrors the pynwb attributes
Spyglass's notebooks read (``data``, ``timestamps``, ``rate``, ``starting_time``,
``conversion``, ``offset``, ``unit``, ``electrodes``, ``object_id``; a container's
``spatial_series`` / ``time_series`` and ``get_spatial_series()``); its arrays
are numpy arrays over the buffers the Rust readers filled. Tables (DynamicTable,
Units) come as pandas DataFrames, as Spyglass's ``fetch_nwb`` gives them.
``to_pynwb()`` opens the same object with pynwb when it is installed.

``fetch1_dataframe`` builds Spyglass's frames from these objects: LFP (and LFP
bands), position (TrodesPosV1 / PositionOutput: ``video_frame_ind``,
``position_x``, ``position_y``, ``orientation``, ``velocity_x``, ``velocity_y``,
``speed`` indexed by ``time``) and linearized position (indexed by ``time``)."""

from __future__ import annotations

import numpy as np

from ._native import SpyglassError


class NwbObject:
    """One NWB object a fetched row points to (a time series, a table or a dataset)."""

    def __init__(self, fields):
        self._fields = fields
        for k, v in fields.items():
            setattr(self, k, v)
        if fields.get("kind") == "group":
            self.children = {k: NwbObject(v) for k, v in fields.get("children", {}).items()}

    # -- pynwb's container accessors (Position, CompassDirection, BehavioralTimeSeries)
    @property
    def spatial_series(self):
        """A container's SpatialSeries by name (pynwb's ``Position.spatial_series``)."""
        return {k: v for k, v in self._children().items() if v.neurodata_type == "SpatialSeries"}

    @property
    def time_series(self):
        """A container's series by name (pynwb's ``BehavioralTimeSeries.time_series``)."""
        return dict(self._children())

    def get_spatial_series(self, name=None):
        """The container's SpatialSeries ``name``, or its only one (pynwb's)."""
        return self._get(self.spatial_series, name, "SpatialSeries")

    def get_timeseries(self, name=None):
        """The container's series ``name``, or its only one (pynwb's)."""
        return self._get(self.time_series, name, "series")

    def __getitem__(self, name):
        return self._get(self._children(), name, "series")

    def _children(self):
        if self.kind != "group":
            raise SpyglassError(f"{self.path}: a {self.kind}, not a container of series")
        return self.children

    def _get(self, series, name, what):
        if name is None:
            if len(series) != 1:
                raise SpyglassError(
                    f"{self.path}: {len(series)} {what} ({sorted(series)}); name one"
                )
            return next(iter(series.values()))
        if name not in series:
            raise SpyglassError(f"{self.path}: no {what} {name!r} (has {sorted(series)})")
        return series[name]

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
    """Replaces the object dicts of native fetch_nwb rows by ``NwbObject``s, tables
    by DataFrames (Spyglass's ``fetch_nwb`` calls ``to_dataframe()`` on objects that
    have it; the frame's ``attrs`` keep the object's identity)."""
    for r in rows:
        for k, v in list(r.items()):
            if isinstance(v, dict) and "object_id" in v and "kind" in v:
                obj = NwbObject(v)
                if obj.kind == "table":
                    df = obj.to_dataframe()
                    df.attrs.update(
                        object_id=obj.object_id, neurodata_type=obj.neurodata_type,
                        path=obj.path, file=obj.file,
                    )
                    r[k] = df
                else:
                    r[k] = obj
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


def fetch1_dataframe(rows, label, params_of=None):
    """Spyglass's ``fetch1_dataframe`` of the one fetched row, by what it holds:
    LFP (``lfp`` / ``lfp_band``), position (``position``, ``orientation``,
    ``velocity``: TrodesPosV1, or through PositionOutput) or linearized position
    (``linearized_position``). ``params_of(name)`` gives TrodesPosParams' dict
    (frame indices are left out of upsampled position, as Spyglass does)."""
    if len(rows) != 1:
        raise SpyglassError(f"fetch1_dataframe requires exactly one row in {label}, got {len(rows)}")
    (row,) = rows
    for name in ("lfp", "lfp_band"):
        if isinstance(row.get(name), NwbObject) and row[name].kind == "series":
            return _series_frame(row[name])
    if all(isinstance(row.get(n), NwbObject) for n in ("position", "orientation", "velocity")):
        add_frame_ind = True
        if params_of is not None and "trodes_pos_params_name" in row:
            if params_of(row["trodes_pos_params_name"]).get("is_upsampled"):
                add_frame_ind = False
        return position_dataframe(row, prefix="", add_frame_ind=add_frame_ind)
    lin = row.get("linearized_position")
    if lin is not None and hasattr(lin, "set_index"):
        return lin.set_index("time")
    objects = [k for k, v in row.items() if isinstance(v, NwbObject) or hasattr(v, "attrs")]
    raise SpyglassError(
        f"fetch1_dataframe of {label}: spyglass_rs builds it for LFP, position and "
        f"linearized position rows; this row has {objects or 'no NWB objects'}"
    )


def position_dataframe(row, prefix="", add_frame_ind=False):
    """Spyglass's ``IntervalPositionInfo._data_to_df``: position x/y, orientation,
    velocity x/y and speed as stored, indexed by the position's timestamps, with
    ``video_frame_ind`` first when asked."""
    import pandas

    pos, ori, vel = (prefix + c for c in ("position", "orientation", "velocity"))
    p = row[pos].get_spatial_series()
    o = row[ori].get_spatial_series()
    v = row[vel].time_series[vel]
    for name, s in ((ori, o), (vel, v)):
        if s.data.shape[0] != p.data.shape[0]:
            raise SpyglassError(
                f"{s.file}: {name} has {s.data.shape[0]} samples, position {p.data.shape[0]}"
            )
    values = np.concatenate(
        (np.asarray(p.data), np.asarray(o.data).reshape(-1, 1), np.asarray(v.data)), axis=1
    )
    columns = [f"{pos}_x", f"{pos}_y", ori, f"{vel}_x", f"{vel}_y", f"{prefix}speed"]
    df = pandas.DataFrame(values, columns=columns, index=pandas.Index(p.timestamps, name="time"))
    if add_frame_ind:
        frames = row[vel].time_series["video_frame_ind"]
        df.insert(0, "video_frame_ind", np.asarray(frames.data, dtype=int))
    return df

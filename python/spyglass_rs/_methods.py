"""Spyglass's table methods beyond DataJoint's, attached to the Spyglass-like
classes by ``_modules``: the spike-sorting selections (``insert_selection``, the
id derived from the selection's content as spyglass-rs does it), sort groups
(``SortGroup.set_group_by_shank``), curations (``CurationV1.insert_curation``,
``insert_metric_curation``), the SpikeSortingOutput entry of a curation and its
spike times (``get_spike_times``, over ``fetch_nwb`` as Spyglass reads them).
The work is the Rust functions the CLI runs (``_native.call``)."""

from __future__ import annotations

import json
import uuid


def _call(cls, method, **kwargs):
    from . import _native
    from ._connection import conn

    def default(o):
        if isinstance(o, uuid.UUID):
            return str(o)
        if hasattr(o, "tolist"):
            return o.tolist()
        raise TypeError(f"{type(o).__name__} is not JSON serializable")

    return json.loads(_native.call(conn()._native, method, json.dumps(kwargs, default=default)))


def _selection(method, id_name):
    def insert_selection(cls, key):
        """Spyglass's ``insert_selection``: the selection row of ``key`` (the
        existing one, or a new one whose id is derived from its content), as a dict
        with its id."""
        key = dict(key)
        if method == "artifact_selection":
            args = {k: key[k] for k in ("recording_id", "artifact_param_name")}
        else:
            args = key
        out = {**key, id_name: uuid.UUID(_call(cls, method, **args))}
        return out

    return classmethod(insert_selection)


def _set_group_by_shank(
    cls,
    nwb_file_name,
    references=None,
    omit_ref_electrode_group=False,
    omit_unitrode=True,
):
    """``SortGroup.set_group_by_shank``: one sort group per shank (``references``:
    electrode group name → reference electrode id); returns the number of groups."""
    return _call(
        cls,
        "set_group_by_shank",
        nwb_file_name=nwb_file_name,
        references=references,
        omit_ref_electrode_group=omit_ref_electrode_group,
        omit_unitrode=omit_unitrode,
    )


def _curation_key(d):
    return {"sorting_id": uuid.UUID(d["sorting_id"]), "curation_id": d["curation_id"]}


def _insert_curation(
    cls,
    sorting_id,
    parent_curation_id=-1,
    labels=None,
    merge_groups=None,
    apply_merge=False,
    metrics=None,
    description="",
):
    """``CurationV1.insert_curation``: a new curation of the sorting (its own
    analysis file); returns its key."""
    return _curation_key(
        _call(
            cls,
            "insert_curation",
            sorting_id=sorting_id,
            parent_curation_id=parent_curation_id,
            labels=labels,
            merge_groups=merge_groups,
            apply_merge=apply_merge,
            metrics=metrics,
            description=description,
        )
    )


def _insert_metric_curation(cls, key, apply_merge=False):
    """``CurationV1.insert_metric_curation``: the MetricCuration's labels and merge
    groups as a child curation; returns its key."""
    return _curation_key(
        _call(
            cls,
            "insert_metric_curation",
            metric_curation_id=key["metric_curation_id"],
            apply_merge=apply_merge,
        )
    )


def _merge_insert(cls, rows, part_name=None, skip_duplicates=False, **kwargs):
    """``SpikeSortingOutput.insert([curation_key], part_name="CurationV1")``: the
    merge entries of curations (existing ones kept)."""
    if part_name not in (None, "CurationV1"):
        from ._native import SpyglassError

        raise SpyglassError(f"SpikeSortingOutput.insert: part {part_name!r} is entered at ingest")
    if isinstance(rows, dict):
        rows = [rows]
    return [
        uuid.UUID(
            _call(
                cls,
                "spikesorting_merge_insert",
                sorting_id=r["sorting_id"],
                curation_id=r["curation_id"],
            )
        )
        for r in rows
    ]


def _get_spike_times(self, key=None):
    """``SpikeSortingOutput().get_spike_times(key)``: per unit, its spike times
    (the ``spike_times`` column of each entry's units table, through fetch_nwb)."""
    q = self & key if key is not None else self
    out = []
    for row in q.fetch_nwb():
        units = row["object_id"] if "object_id" in row else row["units"]
        out.extend(units["spike_times"].to_list())
    return out


def _metric_curation(method, convert):
    def get(cls, key):
        return convert(_call(cls, method, metric_curation_id=key["metric_curation_id"]))

    get.__doc__ = f"``MetricCuration.{method.replace('metric_curation', 'get')}(key)``."
    return classmethod(get)


def _int_keys(d):
    return {int(k): v for k, v in d.items()}


#: ``schema.Class`` → {method name: function}
METHODS = {
    "spikesorting_v1_recording.SortGroup": {
        "set_group_by_shank": classmethod(_set_group_by_shank),
    },
    "spikesorting_v1_recording.SpikeSortingRecordingSelection": {
        "insert_selection": _selection("recording_selection", "recording_id"),
    },
    "spikesorting_v1_artifact.ArtifactDetectionSelection": {
        "insert_selection": _selection("artifact_selection", "artifact_id"),
    },
    "spikesorting_v1_sorting.SpikeSortingSelection": {
        "insert_selection": _selection("sorting_selection", "sorting_id"),
    },
    "spikesorting_v1_metric_curation.MetricCurationSelection": {
        "insert_selection": _selection("metric_curation_selection", "metric_curation_id"),
    },
    "spikesorting_v1_metric_curation.MetricCuration": {
        "get_labels": _metric_curation("metric_curation_labels", _int_keys),
        "get_merge_groups": _metric_curation("metric_curation_merge_groups", list),
        "get_metrics": _metric_curation(
            "metric_curation_metrics", lambda m: {k: _int_keys(v) for k, v in m.items()}
        ),
    },
    "spikesorting_v1_curation.CurationV1": {
        "insert_curation": classmethod(_insert_curation),
        "insert_metric_curation": classmethod(_insert_metric_curation),
    },
    "spikesorting_merge.SpikeSortingOutput": {
        "insert": classmethod(_merge_insert),
        "get_spike_times": _get_spike_times,
    },
}

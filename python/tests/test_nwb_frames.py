"""fetch1_dataframe of position (TrodesPosV1, PositionOutput), linearized position
(LinearizedPositionV1, LinearizedPositionOutput) and spike times (CurationV1's
units through fetch_nwb, SpikeSortingOutput.get_spike_times), each against
Spyglass's own recipe applied to pynwb reading the same analysis file; the
pipelines run through the Spyglass-like methods (insert_selection,
set_group_by_shank, insert_curation, ...) on the demo session."""

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import spyglass_rs

_made = {}


def circle_track():
    """An octagon around the demo session's circular track (radius 30 cm at
    (50, 50) cm)."""
    a = np.arange(8) * 2 * np.pi / 8
    nodes = np.stack([50 + 30 * np.cos(a), 50 + 30 * np.sin(a)], axis=1)
    edges = np.array([[i, (i + 1) % 8] for i in range(8)], dtype=np.int64)
    return nodes, edges


def make_pipelines(ctx):
    """Position, linearization and a curated sorting of the demo session (once per
    backend); returns their keys."""
    if ctx.backend in _made:
        return _made[ctx.backend]
    from spyglass_rs.common import LabTeam
    from spyglass_rs.linearization.v1 import (
        LinearizationParameters,
        LinearizationSelection,
        LinearizedPositionV1,
        TrackGraph,
    )
    from spyglass_rs.position import PositionOutput
    from spyglass_rs.position.v1 import TrodesPosSelection, TrodesPosV1
    from spyglass_rs.spikesorting import SpikeSortingOutput
    from spyglass_rs.spikesorting.v1 import (
        ArtifactDetection,
        ArtifactDetectionSelection,
        CurationV1,
        SortGroup,
        SpikeSorting,
        SpikeSortingRecording,
        SpikeSortingRecordingSelection,
        SpikeSortingSelection,
    )

    nwb = ctx.nwb_file_name
    pos_key = {
        "nwb_file_name": nwb,
        "interval_list_name": "pos 0 valid times",
        "trodes_pos_params_name": "default",
    }
    TrodesPosSelection.insert1(pos_key, skip_duplicates=True)
    assert TrodesPosV1.populate(pos_key)["error_list"] == []
    part = spyglass_rs.conn().table("position_merge.PositionOutput.TrodesPosV1")
    pos_merge_id = (part & pos_key).fetch1("merge_id")

    nodes, edges = circle_track()
    TrackGraph.insert1(
        {
            "track_graph_name": "circle",
            "environment": "demo",
            "node_positions": nodes,
            "edges": edges,
            "linear_edge_order": edges,
            "linear_edge_spacing": 0.0,
        },
        skip_duplicates=True,
    )
    LinearizationParameters.insert1({"linearization_param_name": "default"}, skip_duplicates=True)
    lin_key = {
        "pos_merge_id": pos_merge_id,
        "track_graph_name": "circle",
        "linearization_param_name": "default",
    }
    LinearizationSelection.insert1(lin_key, skip_duplicates=True)
    assert LinearizedPositionV1.populate(lin_key)["error_list"] == []

    SortGroup.set_group_by_shank(nwb)
    team = LabTeam.fetch("team_name")[0]
    rec = SpikeSortingRecordingSelection.insert_selection(
        {
            "nwb_file_name": nwb,
            "sort_group_id": 0,
            "interval_list_name": "raw data valid times",
            "preproc_param_name": "default",
            "team_name": team,
        }
    )
    assert SpikeSortingRecording.populate(rec)["error_list"] == []
    art = ArtifactDetectionSelection.insert_selection(
        {"recording_id": rec["recording_id"], "artifact_param_name": "default"}
    )
    assert ArtifactDetection.populate(art)["error_list"] == []
    sort = SpikeSortingSelection.insert_selection(
        {
            "recording_id": rec["recording_id"],
            "sorter": "spyglass_sorter",
            "sorter_param_name": "default",
            "nwb_file_name": nwb,
            "interval_list_name": str(art["artifact_id"]),
        }
    )
    assert SpikeSorting.populate(sort)["error_list"] == []
    cur = CurationV1.insert_curation(sorting_id=sort["sorting_id"], description="test")
    (merge_id,) = SpikeSortingOutput.insert([cur], part_name="CurationV1")
    _made[ctx.backend] = dict(
        pos_key=pos_key, pos_merge_id=pos_merge_id, lin_key=lin_key, curation=cur,
        spikes_merge_id=merge_id,
    )
    return _made[ctx.backend]


def pynwb_objects(path):
    import pynwb

    io = pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True)
    return io, io.read().objects


def spyglass_position_frame(objects, row, add_frame_ind=True):
    """Spyglass's ``IntervalPositionInfo._data_to_df(prefix="")`` on pynwb's objects."""
    pos = objects[row["position_object_id"]].get_spatial_series()
    ori = objects[row["orientation_object_id"]].get_spatial_series()
    vel = objects[row["velocity_object_id"]].time_series["velocity"]
    df = pd.DataFrame(
        np.concatenate(
            (np.asarray(pos.data), np.asarray(ori.data)[:, np.newaxis], np.asarray(vel.data)),
            axis=1,
        ),
        columns=["position_x", "position_y", "orientation", "velocity_x", "velocity_y", "speed"],
        index=pd.Index(np.asarray(pos.timestamps), name="time"),
    )
    if add_frame_ind:
        frames = objects[row["velocity_object_id"]].time_series["video_frame_ind"]
        df.insert(0, "video_frame_ind", np.asarray(frames.data, dtype=int))
    return df


def test_position_fetch1_dataframe(ctx):
    from spyglass_rs.position import PositionOutput
    from spyglass_rs.position.v1 import TrodesPosV1

    keys = make_pipelines(ctx)
    q = TrodesPosV1 & keys["pos_key"]
    ours = q.fetch1_dataframe()
    (row,) = q.fetch_nwb()
    io, objects = pynwb_objects(row["position"].file)
    with io:
        theirs = spyglass_position_frame(objects, row)
    assert list(ours.columns) == [
        "video_frame_ind", "position_x", "position_y", "orientation", "velocity_x",
        "velocity_y", "speed",
    ]
    pdt.assert_frame_equal(ours, theirs, check_exact=True)
    # through the merge table: the same frame
    merged = (PositionOutput & {"merge_id": keys["pos_merge_id"]}).fetch1_dataframe()
    pdt.assert_frame_equal(merged, theirs, check_exact=True)
    # hand-derived: the animal runs round a 30 cm circle at (50, 50) cm
    r = np.hypot(ours["position_x"] - 50, ours["position_y"] - 50)
    assert np.median(r) == pytest.approx(30, abs=3)


def test_container_objects_mirror_pynwb(ctx):
    from spyglass_rs.position.v1 import TrodesPosV1

    keys = make_pipelines(ctx)
    (row,) = (TrodesPosV1 & keys["pos_key"]).fetch_nwb()
    vel = row["velocity"]
    io, objects = pynwb_objects(vel.file)
    with io:
        theirs = objects[vel.object_id]
        assert vel.neurodata_type == type(theirs).__name__
        assert sorted(vel.time_series) == sorted(theirs.time_series)
        for name, series in vel.time_series.items():
            np.testing.assert_array_equal(series.data, theirs.time_series[name].data[:])
            np.testing.assert_array_equal(series.timestamps, theirs.time_series[name].timestamps[:])
        pos = row["position"].get_spatial_series()
        assert pos.unit == objects[row["position_object_id"]].get_spatial_series().unit
    with pytest.raises(spyglass_rs.SpyglassError):
        vel.get_spatial_series("no such series")


def test_linearized_fetch1_dataframe(ctx):
    from spyglass_rs.linearization import LinearizedPositionOutput
    from spyglass_rs.linearization.v1 import LinearizedPositionV1

    keys = make_pipelines(ctx)
    q = LinearizedPositionV1 & keys["lin_key"]
    ours = q.fetch1_dataframe()
    (row,) = q.fetch_nwb()
    lin = row["linearized_position"]
    assert isinstance(lin, pd.DataFrame)
    io, objects = pynwb_objects(lin.attrs["file"])
    with io:
        # Spyglass: fetch_nwb()[0]["linearized_position"].set_index("time"), where
        # fetch_nwb gives the table's to_dataframe()
        theirs = objects[row["linearized_position_object_id"]].to_dataframe().set_index("time")
    pdt.assert_frame_equal(ours, theirs, check_exact=True)
    merge_id = (
        spyglass_rs.conn().table("position_linearization_merge.LinearizedPositionOutput.LinearizedPositionV1")
        & keys["lin_key"]
    ).fetch1("merge_id")
    merged = (LinearizedPositionOutput & {"merge_id": merge_id}).fetch1_dataframe()
    pdt.assert_frame_equal(merged, theirs, check_exact=True)
    # hand-derived: an octagon of circumradius 30 is 8 * 2 * 30 * sin(pi / 8) long
    assert ours["linear_position"].max() <= 16 * 30 * np.sin(np.pi / 8) + 1e-6
    assert set(ours["track_segment_id"].unique()) <= set(range(8))


def test_spike_times(ctx):
    from spyglass_rs.spikesorting import SpikeSortingOutput
    from spyglass_rs.spikesorting.v1 import CurationV1

    keys = make_pipelines(ctx)
    (row,) = (CurationV1 & keys["curation"]).fetch_nwb()
    units = row["object_id"]
    assert isinstance(units, pd.DataFrame) and units.index.name == "id"
    io, objects = pynwb_objects(units.attrs["file"])
    with io:
        theirs = objects[units.attrs["object_id"]].to_dataframe()
    assert list(units.index) == list(theirs.index)
    for a, b in zip(units["spike_times"], theirs["spike_times"]):
        np.testing.assert_array_equal(a, b)
    spikes = SpikeSortingOutput().get_spike_times({"merge_id": keys["spikes_merge_id"]})
    assert len(spikes) == len(theirs) >= 1
    for a, b in zip(spikes, theirs["spike_times"]):
        np.testing.assert_array_equal(a, b)


def test_fetch1_dataframe_refuses_other_rows(ctx):
    from spyglass_rs.common import Session

    with pytest.raises(spyglass_rs.SpyglassError, match="fetch1_dataframe"):
        (Session & {"nwb_file_name": ctx.nwb_file_name}).fetch1_dataframe()

"""fetch_nwb and fetch1_dataframe against pynwb reading the same analysis file;
insert, populate (GIL released) and the Spyglass-like modules."""

import threading
import time

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import spyglass_rs


def pynwb_object(path, object_id):
    import pynwb

    io = pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True)
    return io, io.read().objects[object_id]


def buffer_owner(a):
    """The type of the object owning an array's memory (numpy's views chain to it)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return type(a.base).__name__


def test_fetch_nwb_arrays_equal_pynwbs(ctx):
    from spyglass_rs.lfp.v1 import LFPV1

    (row,) = (LFPV1 & ctx.lfp_key).fetch_nwb()
    lfp = row["lfp"]
    assert row["lfp_object_id"] == lfp.object_id
    assert lfp.neurodata_type == "ElectricalSeries"
    io, theirs = pynwb_object(lfp.file, lfp.object_id)
    with io:
        data, ts = theirs.data[:], theirs.timestamps[:]
        assert lfp.data.dtype == data.dtype and lfp.data.shape == data.shape
        np.testing.assert_array_equal(lfp.data, data)
        assert lfp.timestamps.dtype == ts.dtype
        np.testing.assert_array_equal(lfp.timestamps, ts)
        assert lfp.conversion == theirs.conversion
        assert lfp.unit == theirs.unit
        np.testing.assert_array_equal(lfp.electrodes, theirs.electrodes.data[:])
    # hand-derived: 1 kHz LFP of every channel over the session
    n = ctx.params["n_channels"]
    assert lfp.data.shape[1] == n
    assert lfp.data.shape[0] == pytest.approx(ctx.params["duration_s"] * 1000, abs=2)
    # the arrays are the Rust buffers, not copies through Python
    assert buffer_owner(lfp.data) == "PySliceContainer"
    assert buffer_owner(lfp.timestamps) == "PySliceContainer"


def test_fetch1_dataframe_equals_spyglass_recipe(ctx):
    from spyglass_rs.lfp.v1 import LFPV1

    ours = (LFPV1 & ctx.lfp_key).fetch1_dataframe()
    lfp = (LFPV1 & ctx.lfp_key).fetch_nwb()[0]["lfp"]
    io, theirs = pynwb_object(lfp.file, lfp.object_id)
    with io:
        # Spyglass's LFPV1.fetch1_dataframe, on pynwb's object
        expected = pd.DataFrame(
            theirs.data[:], index=pd.Index(theirs.timestamps[:], name="time")
        )
    pdt.assert_frame_equal(ours, expected, check_exact=True)


def test_fetch_nwb_through_the_merge_table(ctx):
    from spyglass_rs.lfp import LFPOutput

    part = spyglass_rs.conn().table("lfp_merge.LFPOutput.LFPV1")
    merge_id = (part & ctx.lfp_key).fetch1("merge_id")
    rows = (LFPOutput & {"merge_id": merge_id}).fetch_nwb()
    assert len(rows) == 1
    direct = spyglass_rs.conn().table("lfp_v1.LFPV1") & ctx.lfp_key
    np.testing.assert_array_equal(rows[0]["lfp"].data, direct.fetch_nwb()[0]["lfp"].data)


def test_session_raw_objects(ctx):
    """fetch_nwb of a row of the session's own file (Raw): pynwb's data."""
    from spyglass_rs.common import Raw

    (row,) = (Raw & {"nwb_file_name": ctx.nwb_file_name}).fetch_nwb()
    raw = row["raw"]
    io, theirs = pynwb_object(raw.file, raw.object_id)
    with io:
        assert raw.data.dtype == theirs.data.dtype
        np.testing.assert_array_equal(raw.data[:1000], theirs.data[:1000])
        np.testing.assert_array_equal(raw.data[-5:], theirs.data[-5:])
    assert raw.data.shape == (
        int(ctx.params["duration_s"] * ctx.params["sampling_rate"]),
        ctx.params["n_channels"],
    )


def test_insert_and_skip_duplicates(ctx):
    from spyglass_rs.common import LabMember

    row = {"lab_member_name": f"Ada Lovelace {ctx.backend}", "first_name": "Ada", "last_name": "Lovelace"}
    n = len(LabMember)
    LabMember.insert1(row)
    assert len(LabMember) == n + 1
    with pytest.raises(spyglass_rs.SpyglassError):
        LabMember.insert1(row)
    LabMember.insert1(row, skip_duplicates=True)
    LabMember.insert(
        [(f"Alan Turing {ctx.backend}", "Alan", "Turing"), row], skip_duplicates=True
    )
    assert len(LabMember) == n + 2
    assert (LabMember & {"first_name": "Alan"}).fetch1("last_name") == "Turing"
    with pytest.raises(spyglass_rs.SpyglassError):
        LabMember.insert1({"lab_member_name": "x", "no_such_attribute": 1})
    # a DataFrame is rows
    LabMember.insert(pd.DataFrame([{"lab_member_name": f"Grace Hopper {ctx.backend}",
                                    "first_name": "Grace", "last_name": "Hopper"}]))
    assert len(LabMember & "last_name = 'Hopper'") == 1


def test_insert_is_read_by_datajoint(mysql_ctx, dj_table):
    mysql_ctx.use()
    from spyglass_rs.common import LabMember

    LabMember.insert1({"lab_member_name": "Rosalind Franklin", "first_name": "Rosalind",
                       "last_name": "Franklin"})
    theirs = dj_table(LabMember()) & {"lab_member_name": "Rosalind Franklin"}
    assert theirs.fetch1() == {"lab_member_name": "Rosalind Franklin", "first_name": "Rosalind",
                               "last_name": "Franklin"}
    # and a row datajoint inserts is one we read
    dj_table(LabMember()).insert1({"lab_member_name": "Marie Curie", "first_name": "Marie",
                                   "last_name": "Curie"})
    assert (LabMember & {"lab_member_name": "Marie Curie"}).fetch1("last_name") == "Curie"


def test_populate_releases_the_gil(ctx):
    from spyglass_rs.lfp import LFPElectrodeGroup
    from spyglass_rs.lfp.v1 import LFPSelection, LFPV1

    LFPElectrodeGroup.create_lfp_electrode_group(ctx.nwb_file_name, "gil", [0, 1])
    key = {**ctx.lfp_key, "lfp_electrode_group_name": "gil"}
    LFPSelection.insert1({**key, "target_sampling_rate": 1000.0})
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    t0 = time.perf_counter()
    report = LFPV1.populate(key)
    t1 = time.perf_counter()
    stop.set()
    t.join()
    assert report["success_count"] == 1 and report["error_list"] == []
    assert len(LFPV1 & key) == 1
    inside = [x for x in ticks if t0 <= x <= t1]
    # the Python thread ran all along the make (the GIL was free)
    assert len(inside) >= max(3, int((t1 - t0) / 0.001 * 0.2)), (len(inside), t1 - t0)
    again = LFPV1.populate(key)
    assert again["success_count"] == 0


def test_modules_mirror_spyglass(ctx):
    from spyglass_rs.common import Electrode, IntervalList, Nwbfile, Session
    from spyglass_rs.lfp import LFPElectrodeGroup, LFPOutput
    from spyglass_rs.lfp.v1 import LFPSelection, LFPV1

    assert Session().table_name.endswith("common_session.Session")
    assert LFPV1().table_name.endswith("lfp_v1.LFPV1")
    assert len(Nwbfile) == 1 and len(Session) == 1
    assert len(Session * Electrode) == ctx.params["n_channels"]
    assert len(LFPElectrodeGroup.LFPElectrode & {"lfp_electrode_group_name": "demo"}) == ctx.params["n_channels"]
    assert "LFPV1" in dir(__import__("spyglass_rs.lfp.v1", fromlist=["x"]))
    with pytest.raises(ImportError):
        from spyglass_rs.common import NoSuchTable  # noqa: F401
    assert isinstance(IntervalList.fetch(format="frame"), pd.DataFrame)
    assert LFPOutput.full_table_name.startswith("`")


def test_insert_sessions_reports(ctx):
    from spyglass_rs.common import Nwbfile, Session
    from spyglass_rs.data_import import insert_sessions

    (again,) = insert_sessions(str(ctx.demo_nwb))
    assert again["nwb_file_name"] == ctx.nwb_file_name
    assert again["status"] == "already present"
    assert len(Session) == 1 and len(Nwbfile) == 1
    assert (Nwbfile & {"nwb_file_name": ctx.nwb_file_name}).fetch1("nwb_file_name") == ctx.nwb_file_name

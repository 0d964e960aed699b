"""Queries and fetches against datajoint-python reading the same MariaDB tables
(the same frames, arrays, dicts and counts), and the same calls on SQLite giving
what MySQL gives."""

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import spyglass_rs
from spyglass_rs import AndList, Not


def same_frame(ours, theirs):
    pdt.assert_frame_equal(ours.sort_index(), theirs.sort_index(), check_exact=True)


def dicts_by_key(rows, key):
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in key))


# -- against datajoint-python on MariaDB -----------------------------------------


@pytest.mark.parametrize(
    "table",
    ["common_session.Session", "common_ephys.Electrode", "common_device.Probe",
     "common_lab.LabMember", "lfp_v1.LFPSelection", "lfp_v1.LFPV1",
     "common_filter.FirFilterParameters"],
)
def test_frames_equal_datajoints(mysql_ctx, dj_table, table):
    ours = mysql_ctx.conn.table(table)
    theirs = dj_table(ours)
    if table == "common_filter.FirFilterParameters":
        # blob columns: compared value by value below
        ours_f = ours.proj().fetch(format="frame")
        theirs_f = theirs.proj().fetch(format="frame")
        same_frame(ours_f, theirs_f)
        for o, t in zip(
            dicts_by_key(ours.fetch(as_dict=True), ours.primary_key),
            dicts_by_key(theirs.fetch(as_dict=True), theirs.primary_key),
        ):
            for k in t:
                if isinstance(t[k], np.ndarray):
                    assert o[k].dtype == t[k].dtype and o[k].shape == t[k].shape, k
                    np.testing.assert_array_equal(o[k], t[k])
                elif isinstance(t[k], dict):
                    assert o[k].keys() == t[k].keys()
                else:
                    assert o[k] == t[k], k
        return
    assert len(ours) == len(theirs) > 0
    same_frame(ours.fetch(format="frame"), theirs.fetch(format="frame"))
    assert ours.primary_key == theirs.primary_key
    assert ours.heading.names == theirs.heading.names


def test_blob_column_equals_datajoints(mysql_ctx, dj_table):
    ours = mysql_ctx.conn.table("common_interval.IntervalList")
    theirs = dj_table(ours)
    o = dicts_by_key(ours.fetch(as_dict=True), ours.primary_key)
    t = dicts_by_key(theirs.fetch(as_dict=True), theirs.primary_key)
    assert [r["interval_list_name"] for r in o] == [r["interval_list_name"] for r in t]
    for a, b in zip(o, t):
        assert a["valid_times"].dtype == b["valid_times"].dtype
        assert a["valid_times"].shape == b["valid_times"].shape
        np.testing.assert_array_equal(a["valid_times"], b["valid_times"])
        assert a["pipeline"] == b["pipeline"]


def _restrictions(nwb):
    return [
        {"electrode_id": 1},
        "electrode_id > 1",
        [{"electrode_id": 0}, {"electrode_id": 3}],
        [],
        {"electrode_id": 2, "not_an_attribute": 5},
    ]


def test_restrictions_equal_datajoints(mysql_ctx, dj_table):
    import datajoint as dj

    e = mysql_ctx.conn.table("common_ephys.Electrode")
    de = dj_table(e)
    for r in _restrictions(mysql_ctx.nwb_file_name):
        same_frame((e & r).fetch(format="frame"), (de & r).fetch(format="frame"))
        assert len(e & r) == len(de & r)
        same_frame((e - r).fetch(format="frame"), (de - r).fetch(format="frame"))
    ours = e & AndList(["electrode_id > 0", {"bad_channel": "False"}, "electrode_id < 3"])
    theirs = de & dj.AndList(["electrode_id > 0", {"bad_channel": "False"}, "electrode_id < 3"])
    same_frame(ours.fetch(format="frame"), theirs.fetch(format="frame"))
    same_frame(
        (e & Not({"electrode_id": 2})).fetch(format="frame"),
        (de & dj.Not({"electrode_id": 2})).fetch(format="frame"),
    )
    # restriction by another query (semijoin) and by a DataFrame of keys
    keys = (e & "electrode_id < 2").fetch("KEY")
    same_frame((e & keys).fetch(format="frame"), (de & keys).fetch(format="frame"))
    frame = (e & "electrode_id >= 2").proj().fetch(format="frame")
    assert len(e & frame) == 2


def test_join_proj_aggr_equal_datajoints(mysql_ctx, dj_table):
    import datajoint as dj

    s = mysql_ctx.conn.table("common_session.Session")
    e = mysql_ctx.conn.table("common_ephys.Electrode")
    g = mysql_ctx.conn.table("common_ephys.ElectrodeGroup")
    ds, de, dg = dj_table(s), dj_table(e), dj_table(g)
    same_frame(
        (s.proj("subject_id") * e.proj("x", "y")).fetch(format="frame"),
        (ds.proj("subject_id") * de.proj("x", "y")).fetch(format="frame"),
    )
    same_frame(
        e.proj(eid="electrode_id", twice="electrode_id * 2").fetch(format="frame"),
        de.proj(eid="electrode_id", twice="electrode_id * 2").fetch(format="frame"),
    )
    same_frame(
        e.proj(..., "-x").fetch(format="frame"), de.proj(..., "-x").fetch(format="frame")
    )
    ours = g.proj().aggr(e, n="count(*)", top="max(electrode_id)").fetch(format="frame")
    theirs = dg.proj().aggr(de, n="count(*)", top="max(electrode_id)").fetch(format="frame")
    same_frame(ours, theirs)
    assert list(ours["n"]) == list(theirs["n"]) == [mysql_ctx.params["n_channels"]]
    assert list(ours["top"]) == list(theirs["top"])
    u = spyglass_rs.U("bad_channel") & e
    du = dj.U("bad_channel") & de
    assert sorted(u.fetch("bad_channel")) == sorted(du.fetch("bad_channel"))


def test_fetch_forms_equal_datajoints(mysql_ctx, dj_table):
    e = mysql_ctx.conn.table("common_ephys.Electrode")
    de = dj_table(e)
    ids = e.fetch("electrode_id", order_by="electrode_id")
    dids = de.fetch("electrode_id", order_by="electrode_id")
    assert ids.dtype == dids.dtype and np.array_equal(ids, dids)
    x, name = e.fetch("x", "electrode_group_name", order_by="electrode_id")
    dx, dname = de.fetch("x", "electrode_group_name", order_by="electrode_id")
    assert x.dtype == dx.dtype and np.array_equal(x, dx)
    assert list(name) == list(dname)
    assert dicts_by_key(e.fetch("KEY"), e.primary_key) == dicts_by_key(
        de.fetch("KEY"), de.primary_key
    )
    assert e.fetch(as_dict=True, order_by="electrode_id", limit=2, offset=1) == de.fetch(
        as_dict=True, order_by="electrode_id", limit=2, offset=1
    )
    one = {"electrode_id": 1}
    assert (e & one).fetch1() == (de & one).fetch1()
    assert (e & one).fetch1("x", "y") == (de & one).fetch1("x", "y")
    assert (e & one).fetch1("KEY") == (de & one).fetch1("KEY")
    rec, drec = e.fetch(order_by="electrode_id"), de.fetch(order_by="electrode_id")
    assert rec.dtype.names == drec.dtype.names
    for n in drec.dtype.names:
        assert rec[n].dtype == drec[n].dtype, n
        assert list(rec[n]) == list(drec[n]), n
    with pytest.raises(spyglass_rs.SpyglassError):
        e.fetch1()


def test_describe_and_previews(mysql_ctx, dj_table):
    from spyglass_rs.common import Session

    e = mysql_ctx.conn.table("common_ephys.Electrode")
    text = e.describe()
    # the table's own attributes are written out, the inherited ones through their parent
    for name in ["electrode_id", "x", "y", "z", "filtering", "impedance", "contacts"]:
        assert f"\n{name}" in "\n" + text, name
    assert "-> ElectrodeGroup" in text or "-> common_ephys.ElectrodeGroup" in text
    html = e._repr_html_()
    assert f"Total: {len(dj_table(e))}" in html
    for name in e.heading.names:
        assert f">{name}<" in html
    assert mysql_ctx.nwb_file_name in repr(Session())
    assert Session._repr_html_().count("<tr>") == 1 + len(Session)


# -- the same calls on SQLite -----------------------------------------------------


def test_sqlite_gives_what_mysql_gives(sqlite_ctx, mysql_ctx):
    for table in ["common_session.Session", "common_ephys.Electrode",
                  "common_device.Probe", "lfp_v1.LFPSelection"]:
        a = sqlite_ctx.conn.table(table).fetch(format="frame")
        b = mysql_ctx.conn.table(table).fetch(format="frame")
        same_frame(a, b)


def test_sqlite_facts(sqlite_ctx):
    """Hand-derived facts of the demo session on the embedded database."""
    ctx = sqlite_ctx.use()
    from spyglass_rs.common import Electrode, IntervalList, Session

    n = ctx.params["n_channels"]
    assert len(Session) == 1
    assert len(Electrode) == n
    assert len(Electrode & [{"electrode_id": 0}, {"electrode_id": n - 1}]) == 2
    assert len(Electrode - {"electrode_id": 0}) == n - 1
    assert len(Electrode & "electrode_id >= 2") == n - 2
    raw = (IntervalList & {"interval_list_name": "raw data valid times"}).fetch1("valid_times")
    assert raw.shape[1] == 2
    assert raw[0, 0] >= 0 and raw[-1, 1] - raw[0, 0] == pytest.approx(
        ctx.params["duration_s"], abs=1e-3
    )
    frame = (Session * Electrode).proj("subject_id").fetch(format="frame")
    assert list(frame.index.names) == ["nwb_file_name", "electrode_group_name", "electrode_id"]
    assert isinstance(frame, pd.DataFrame) and len(frame) == n

"""delete() (Spyglass's cautious delete), its safemode prompt, dry runs,
delete_quick, and the merge tables' merge_delete / merge_delete_parent, on a
database of this module's own (the tests run in file order; the session's delete
comes last). On MariaDB datajoint-python reads the same tables: the rows it counts
before are the rows the delete reports, it sees them gone after, and it reads the
CautiousDelete log row. The lab (members, teams, the session's experimenter) is
set up by hand."""

import builtins

import numpy as np
import pytest

import spyglass_rs
from spyglass_rs.common import (
    AnalysisNwbfile,
    IntervalList,
    LabMember,
    LabTeam,
    Session,
)
from spyglass_rs.lfp import LFPOutput
from spyglass_rs.lfp.v1 import LFPV1

ADMIN = "ada"  # a SQLite user name made an admin below


def lab(ctx, experimenter="Erin Exp"):
    """Members Erin Exp (the session's experimenter), Alice Able (alice, in Erin's
    team), Olga Outsider (olga, alone), Ada Admin (ada, admin)."""
    members = [
        ("Erin Exp", "Erin", "Exp"),
        ("Alice Able", "Alice", "Able"),
        ("Olga Outsider", "Olga", "Outsider"),
        ("Ada Admin", "Ada", "Admin"),
    ]
    LabMember.insert(
        [{"lab_member_name": n, "first_name": f, "last_name": l} for n, f, l in members],
        skip_duplicates=True,
    )
    info = [("Alice Able", "alice", 0), ("Olga Outsider", "olga", 0), ("Ada Admin", ADMIN, 1)]
    LabTeam.insert(
        [{"team_name": "erin lab", "team_description": ""},
         {"team_name": "olga lab", "team_description": ""}],
        skip_duplicates=True,
    )
    LabTeam.LabTeamMember.insert(
        [{"team_name": "erin lab", "lab_member_name": "Erin Exp"},
         {"team_name": "erin lab", "lab_member_name": "Alice Able"},
         {"team_name": "olga lab", "lab_member_name": "Olga Outsider"}],
        skip_duplicates=True,
    )
    # the admin last: from then on the lab tables are admin-only
    LabMember.LabMemberInfo.insert(
        [{"lab_member_name": n, "google_user_name": f"{u}@x.org",
          "datajoint_user_name": u, "admin": a} for n, u, a in info],
        skip_duplicates=True,
    )
    experimenters = Session.Experimenter & {"nwb_file_name": ctx.nwb_file_name}
    experimenters.delete_quick()
    Session.Experimenter.insert1(
        {"nwb_file_name": ctx.nwb_file_name, "lab_member_name": experimenter}
    )


def user_kw(ctx, sqlite_user):
    """The user of a delete: named on SQLite; on MySQL the account (root, an admin)."""
    return {"user": sqlite_user} if ctx.backend == "sqlite" else {}


@pytest.fixture
def labbed(scratch):
    """The module's database with the lab set up (once)."""
    if not getattr(scratch, "lab_ready", False):
        lab(scratch)
        scratch.lab_ready = True
    return scratch


def read(ctx, request, name):
    """Table ``name`` as datajoint-python reads it on MariaDB, ours on SQLite."""
    t = ctx.conn.table(name)
    return request.getfixturevalue("dj_table")(t) if ctx.backend == "mysql" else t


def new_interval(ctx, name):
    """A new IntervalList row nothing depends on; the table restricted to it."""
    key = {"nwb_file_name": ctx.nwb_file_name, "interval_list_name": name}
    IntervalList.insert1({**key, "valid_times": np.array([[0.0, 1.0]]), "pipeline": ""})
    return IntervalList & key


def test_delete_needs_a_table(ctx):
    with pytest.raises(AttributeError):
        (Session * LabMember).delete


def test_safemode_asks_and_no_keeps_the_rows(labbed, request, monkeypatch, capsys):
    ctx = labbed
    target = new_interval(ctx, "pyapi asked")
    answers = iter(["no", "yes"])
    monkeypatch.setattr(builtins, "input", lambda prompt: next(answers))
    assert target.delete(safemode=True, **user_kw(ctx, "alice")) == 0
    out = capsys.readouterr().out
    assert f"Deleting 1 rows from {IntervalList.full_table_name}" in out
    assert "Delete cancelled" in out
    assert len(read(ctx, request, "common_interval.IntervalList")
               & {"interval_list_name": "pyapi asked"}) == 1
    assert target.delete(**user_kw(ctx, "alice")) == 1
    assert "Delete committed." in capsys.readouterr().out
    assert len(read(ctx, request, "common_interval.IntervalList")
               & {"interval_list_name": "pyapi asked"}) == 0
    # config["safemode"] = False: no question, nothing printed
    target = new_interval(ctx, "pyapi unasked")
    monkeypatch.setitem(spyglass_rs.config, "safemode", False)
    monkeypatch.setattr(builtins, "input", None)
    assert target.delete(**user_kw(ctx, "alice")) == 1
    assert capsys.readouterr().out == ""
    assert len(target) == 0


def test_delete_refused_outside_the_team(labbed):
    ctx = labbed
    if ctx.backend == "mysql":
        pytest.skip("on MySQL the user is the database account (root, an admin)")
    restricted = Session & {"nwb_file_name": ctx.nwb_file_name}
    with pytest.raises(spyglass_rs.SpyglassError, match="(?i)permission|team"):
        restricted.delete(safemode=False, user="olga")
    assert len(restricted) == 1
    assert len(ctx.conn.table("common_usage.CautiousDelete") & {"dj_user": "olga"}) == 0
    # super_delete skips the check and is logged as such
    target = new_interval(ctx, "pyapi super")
    with pytest.raises(spyglass_rs.SpyglassError):
        target.delete(safemode=False, user="olga")
    assert target.super_delete(safemode=False, user="olga") == 1
    assert len(target) == 0
    (log,) = (ctx.conn.table("common_usage.CautiousDelete") & {"dj_user": "olga"}).fetch(
        as_dict=True)
    assert log["restriction"].startswith("Super delete: ")
    assert "pyapi super" in log["restriction"]


def test_delete_quick_does_not_cascade(labbed, request):
    ctx = labbed
    referenced = AnalysisNwbfile & "TRUE"
    assert len(referenced) > 0
    with pytest.raises(spyglass_rs.SpyglassError):
        referenced.delete_quick()
    assert len(referenced) > 0
    target = new_interval(ctx, "pyapi quick")
    assert target.delete_quick(get_count=True) == 1
    assert len(read(ctx, request, "common_interval.IntervalList")
               & {"interval_list_name": "pyapi quick"}) == 0


def test_merge_delete_and_delete_parent(labbed, request):
    ctx = labbed
    user = user_kw(ctx, "alice")
    part = read(ctx, request, "lfp_merge.LFPOutput.LFPV1")
    master = read(ctx, request, "lfp_merge.LFPOutput")
    lfpv1 = read(ctx, request, "lfp_v1.LFPV1")
    (entry,) = (part & ctx.lfp_key).fetch(as_dict=True)
    assert [p.fetch1("KEY") for p in LFPOutput.merge_delete_parent(ctx.lfp_key)] == [
        ctx.lfp_key]
    LFPOutput.merge_delete(ctx.lfp_key, safemode=False, **user)
    assert len(part & ctx.lfp_key) == 0
    assert len(master & {"merge_id": entry["merge_id"]}) == 0
    assert len(lfpv1 & ctx.lfp_key) == 1  # the upstream row stays
    # again through the parent: the entry back in, then deleted with its parent
    assert LFPOutput.insert1(ctx.lfp_key) == entry["merge_id"]
    assert len(master & {"merge_id": entry["merge_id"]}) == 1
    LFPOutput.merge_delete_parent(ctx.lfp_key, dry_run=False, safemode=False, **user)
    assert len(master & {"merge_id": entry["merge_id"]}) == 0
    assert len(lfpv1 & ctx.lfp_key) == 0
    # made again for the session's delete below
    assert LFPV1.populate(ctx.lfp_key)["success_count"] == 1
    assert len(master & {"merge_id": entry["merge_id"]}) == 1


SESSION_TABLES = [
    "common_session.Session", "common_session.Session.Experimenter",
    "common_ephys.Electrode", "common_ephys.Raw", "common_interval.IntervalList",
    "lfp_v1.LFPSelection", "lfp_v1.LFPV1", "lfp_merge.LFPOutput.LFPV1",
]


def session_rows(ctx, request):
    """Rows of the demo session per table (full name), counted by plain restriction
    on nwb_file_name — by datajoint-python on MariaDB — not by the delete's cascade."""
    key = {"nwb_file_name": ctx.nwb_file_name}
    return {ctx.conn.table(name).full_table_name: len(read(ctx, request, name) & key)
            for name in SESSION_TABLES}


def test_delete_cascades_and_datajoint_sees_it(labbed, request):
    ctx = labbed
    before = session_rows(ctx, request)
    assert all(n > 0 for n in before.values()), before
    lfp_output = ctx.conn.table("lfp_merge.LFPOutput")
    restricted = Session & {"nwb_file_name": ctx.nwb_file_name}
    planned = restricted.delete(dry_run=True, **user_kw(ctx, "alice"))
    for full, n in before.items():
        assert planned[full] == n, full
    # the master of the merge goes with its part
    assert planned[lfp_output.full_table_name] == 1

    assert restricted.delete(safemode=False, **user_kw(ctx, "alice")) == 1
    assert all(v == 0 for v in session_rows(ctx, request).values())
    assert len(read(ctx, request, "lfp_merge.LFPOutput")) == 0
    (row,) = (read(ctx, request, "common_usage.CautiousDelete")
              & {"origin": Session().full_table_name}).fetch(as_dict=True)
    assert row["dj_user"] == ("alice" if ctx.backend == "sqlite" else "root")
    assert ctx.nwb_file_name in row["restriction"]
    # the rows removed per table: a blob datajoint-python unpacks as a dict
    for full, n in before.items():
        assert row["merge_deletes"][full] == n, full
    assert row["merge_deletes"][lfp_output.full_table_name] == 1

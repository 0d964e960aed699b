"""Merge tables' methods (LFPOutput with the demo session's LFPV1 entry): parts,
parents, the merged view and merge_fetch against datajoint-python reading the part
and master tables on MariaDB, the class and restricted-table forms agreeing
(merge_delete and merge_delete_parent are in test_delete.py)."""

import uuid

import pytest

import spyglass_rs
from spyglass_rs.lfp import LFPOutput
from spyglass_rs.lfp.v1 import LFPV1


def part_rows_by_datajoint(request, ctx, restriction):
    """datajoint-python's fetch of the LFPV1 part (as_dict), or ours on SQLite."""
    part = ctx.conn.table("lfp_merge.LFPOutput.LFPV1")
    if ctx.backend == "mysql":
        part = request.getfixturevalue("dj_table")(part)
    return (part & restriction).fetch(as_dict=True)


def test_merge_fetch_equals_the_part_fetch(ctx, request):
    theirs = part_rows_by_datajoint(request, ctx, ctx.lfp_key)
    assert len(theirs) == 1
    ours = LFPOutput.merge_fetch(restriction=ctx.lfp_key, as_dict=True)
    assert ours == theirs[0]  # one result alone comes back as itself (Spyglass's)
    assert LFPOutput.merge_fetch("merge_id", restriction=ctx.lfp_key) == theirs[0]["merge_id"]
    assert (LFPOutput & {"merge_id": theirs[0]["merge_id"]}).merge_fetch(
        "nwb_file_name") == ctx.nwb_file_name
    assert LFPOutput.merge_fetch(restriction={"nwb_file_name": "nope_.nwb"}) == []


def test_merge_get_part_and_parent(ctx, request):
    merge_id = part_rows_by_datajoint(request, ctx, ctx.lfp_key)[0]["merge_id"]
    part = LFPOutput.merge_get_part(ctx.lfp_key)
    assert isinstance(part, LFPOutput.LFPV1)
    assert part.fetch1("merge_id") == merge_id
    assert part.full_table_name == ctx.conn.table("lfp_merge.LFPOutput.LFPV1").full_table_name
    # the restricted table's form gives the same
    assert (LFPOutput & {"merge_id": merge_id}).merge_get_part().fetch1("KEY") == part.fetch1("KEY")
    joined = LFPOutput.merge_get_part(ctx.lfp_key, join_master=True)
    assert joined.fetch1("source") == "LFPV1"
    assert LFPOutput.merge_get_part({"source": "ImportedLFP"}) is None
    assert LFPOutput.merge_get_part(ctx.lfp_key, multi_source=True)[0].fetch1("merge_id") == merge_id

    parent = LFPOutput.merge_get_parent({"merge_id": merge_id})
    assert isinstance(parent, LFPV1)
    lfpv1 = ctx.conn.table("lfp_v1.LFPV1")
    if ctx.backend == "mysql":
        lfpv1 = request.getfixturevalue("dj_table")(lfpv1)
    assert parent.fetch("KEY") == (lfpv1 & ctx.lfp_key).fetch("KEY")
    # Spyglass's class methods reach the parent's: its NWB object through the merge
    assert parent.fetch1("analysis_file_name") == (LFPV1 & ctx.lfp_key).fetch1(
        "analysis_file_name")
    with pytest.raises(ValueError, match="0 potential parents"):
        LFPOutput.merge_get_parent({"nwb_file_name": "nope_.nwb"})


def test_merge_restrict_and_view(ctx, request, capsys):
    view = LFPOutput.merge_restrict(ctx.lfp_key)
    (row,) = view.fetch(as_dict=True)
    (theirs,) = part_rows_by_datajoint(request, ctx, ctx.lfp_key)
    assert row["source"] == "LFPV1"
    for k, v in theirs.items():
        assert row[k] == v, k
    # as Spyglass's view: the parts without rows (ImportedLFP, CommonLFP) add no columns
    assert set(row) == {*theirs, "source"}
    assert len(LFPOutput.merge_restrict()) == len(LFPOutput())
    assert len(LFPOutput.merge_restrict("filter_sampling_rate > 1e9")) == 0
    LFPOutput.merge_view(ctx.lfp_key)
    assert str(theirs["merge_id"]) in capsys.readouterr().out


def test_merge_id_is_spyglass_key_hash(ctx):
    # DataJoint's key_hash of the upstream key plus the source, as Spyglass computes it
    import datajoint as dj

    key = (LFPV1 & ctx.lfp_key).fetch1("KEY")
    expected = uuid.UUID(dj.hash.key_hash({**key, "source": "LFPV1"}))
    assert LFPOutput.merge_fetch("merge_id", restriction=ctx.lfp_key) == expected


def test_merge_methods_only_on_merge_tables(ctx):
    from spyglass_rs.common import Session

    assert not hasattr(Session, "merge_get_part")
    with pytest.raises(spyglass_rs.SpyglassError):
        LFPOutput.merge_restrict("no_such_attribute = 1").fetch()

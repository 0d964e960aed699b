"""Paper export with Spyglass's methods: ExportSelection().start_export logs every
fetch, fetch1 and fetch_nwb made through the connection (previews and fetches after
stop_export are not), datajoint-python reading the log rows on MariaDB, and
Export().populate_paper writing what `spyglass export run` writes."""

import os
import subprocess

import pytest

import spyglass_rs
from spyglass_rs.common import (
    AnalysisNwbfile,
    Electrode,
    Export,
    ExportSelection,
    IntervalList,
    Session,
)
from spyglass_rs.lfp.v1 import LFPV1


def read(ctx, request, name):
    """Table ``name`` as datajoint-python reads it on MariaDB, ours on SQLite."""
    t = ctx.conn.table(name)
    return request.getfixturevalue("dj_table")(t) if ctx.backend == "mysql" else t


def test_fetches_are_logged_and_the_paper_exported(ctx, request, tmp_path):
    key = {"nwb_file_name": ctx.nwb_file_name}
    sel = ExportSelection()
    export_id = sel.start_export("paper1", "analysis1")
    assert sel.export_id == export_id
    try:
        sessions = (Session & key).fetch(as_dict=True)
        lfp = (LFPV1 & ctx.lfp_key).fetch1()
        nwb = (LFPV1 & ctx.lfp_key).fetch_nwb()
        repr(Electrode & key)  # a preview: not logged
    finally:
        stopped = sel.stop_export()
    assert stopped == export_id
    assert sel.export_id == 0
    IntervalList.fetch()  # after the stop: not logged
    assert len(sessions) == 1 and len(nwb) == 1

    logged = (read(ctx, request, "common_usage.ExportSelection.Table")
              & {"export_id": export_id}).fetch("table_name")
    logged = set(logged)
    assert Session.full_table_name in logged
    assert LFPV1.full_table_name in logged
    assert AnalysisNwbfile.full_table_name in logged  # the file fetch_nwb opened
    assert Electrode.full_table_name not in logged
    assert IntervalList.full_table_name not in logged
    files = (read(ctx, request, "common_usage.ExportSelection.File")
             & {"export_id": export_id}).fetch("analysis_file_name")
    assert list(files) == [lfp["analysis_file_name"]]
    assert [os.path.basename(p) for p in sel.list_file_paths({"paper_id": "paper1"}, as_dict=False)
            if p.endswith(lfp["analysis_file_name"])] == [lfp["analysis_file_name"]]

    out = Export().populate_paper("paper1", out_dir=tmp_path / "py")
    assert out["export_id"] == export_id
    (row,) = (read(ctx, request, "common_usage.Export") & {"export_id": export_id}).fetch(
        as_dict=True)
    assert row["paper_id"] == "paper1"
    exported = set((read(ctx, request, "common_usage.Export.Table")
                    & {"export_id": export_id}).fetch("table_name"))
    assert {Session.full_table_name, LFPV1.full_table_name} <= exported
    script = open(out["script"]).read()
    assert "mysqldump" in script and "_Populate_paper1.sql" in script
    assert any(os.fspath(f["relative"]).endswith(lfp["analysis_file_name"])
               for f in out["files"])
    # the bundle opens as a database of its own holding the session (its schemas
    # keep the source's prefix)
    bundle_dir = os.fspath(out["bundle"])
    bundle = spyglass_rs.connect(
        f"sqlite:///{os.path.join(bundle_dir, 'spyglass.db')}", prefix=ctx.prefix,
        base_dir=bundle_dir, set_default=False,
    )
    assert bundle.table("common_session.Session").fetch("nwb_file_name").tolist() == [
        ctx.nwb_file_name]

    cli = os.environ.get("SPYGLASS_TEST_CLI", "")
    if ctx.backend == "sqlite" and os.path.exists(cli):
        # what `spyglass export run` writes for the same paper
        subprocess.run(
            [cli, "--db", ctx.conn.url, "export", "run", "--paper", "paper1",
             "-o", str(tmp_path / "cli")],
            check=True, capture_output=True, env={**os.environ, "SPYGLASS_BASE_DIR": str(ctx.base_dir)},
        )
        theirs = tmp_path / "cli" / "paper1"
        assert open(theirs / "_ExportSQL_paper1.sh").read() == script
        assert sorted(os.listdir(theirs)) == sorted(os.listdir(out["dir"]))
        assert open(theirs / "paper1.sql").read() == open(out["sql_file"]).read()


def test_one_export_at_a_time(ctx):
    sel = ExportSelection()
    sel.start_export("paper2", "a")
    try:
        assert sel.start_export("paper2", "a") == sel.export_id  # resuming is fine
        with pytest.raises(spyglass_rs.SpyglassError, match="active"):
            sel.start_export("paper2", "b")
    finally:
        sel.stop_export()
    with pytest.raises(spyglass_rs.SpyglassError, match="paper3"):
        Export().populate_paper("paper3")

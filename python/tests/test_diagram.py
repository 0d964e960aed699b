"""spyglass_rs.Diagram: the tables it shows against datajoint-python's
``dj.Diagram`` over the same MariaDB schemas (grown with ``+ n`` / ``- n``), and
its SVG (well-formed, one labelled node per table) for notebooks."""

import xml.etree.ElementTree as ET

import pytest

import spyglass_rs


def svg_texts(svg):
    root = ET.fromstring(svg)
    return {"".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")}


def test_diagram_svg_of_a_schema_and_a_table(ctx):
    from spyglass_rs.lfp.v1 import LFPV1

    d = spyglass_rs.Diagram("lfp_v1")
    svg = d._repr_svg_()
    assert svg.lstrip().startswith("<svg") or svg.lstrip().startswith("<?xml")
    names = {t.split(".", 1)[1] for t in d.tables()}
    assert {"LFPSelection", "LFPV1"} <= names
    for n in names:
        assert any(n.split(".")[-1] in t for t in svg_texts(svg)), n
    # a table, then grown upstream by one step: its parents
    t = spyglass_rs.Diagram(LFPV1)
    assert [x.split(".", 1)[1] for x in t.tables()] == ["LFPV1"]
    up = (t - 1).tables()
    assert any(x.endswith("LFPSelection") for x in up)
    assert "LFPV1" in "".join(svg_texts((t - 1).make_svg()))
    assert "digraph" in t.make_dot()


def test_diagram_of_a_module_and_a_union(ctx):
    import spyglass_rs.lfp.v1 as lfp_v1
    from spyglass_rs.common import Session

    d = spyglass_rs.Diagram(lfp_v1) + spyglass_rs.Diagram(Session)
    names = {t.split(".", 1)[1] for t in d.tables()}
    assert {"LFPV1", "LFPSelection", "Session"} <= names
    with pytest.raises(spyglass_rs.SpyglassError):
        spyglass_rs.Diagram("no_such_schema").make_svg()


@pytest.mark.parametrize("steps", [1, -1, 2, -2])
def test_diagram_growth_equals_datajoints(mysql_ctx, dj_conn, steps):
    import datajoint as dj

    mysql_ctx.use()
    from spyglass_rs.lfp.v1 import LFPV1

    ours = spyglass_rs.Diagram(LFPV1)
    ours = ours + steps if steps > 0 else ours - (-steps)
    # datajoint's graph holds the schemas the connection has activated
    for (schema,) in mysql_ctx.conn.query(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?",
        [mysql_ctx.prefix + "%"],
    ):
        dj.Schema(schema, connection=dj_conn, create_schema=False, create_tables=False)
    dj_conn.dependencies.load(force=True)
    theirs = dj.Diagram(dj.FreeTable(dj_conn, LFPV1.full_table_name))
    theirs = theirs + steps if steps > 0 else theirs - (-steps)
    # datajoint's nodes are full table names; renamed foreign keys add numbered nodes
    their_nodes = {n for n in theirs.nodes_to_show if not n.isdigit()}
    our_nodes = {spyglass_rs.conn().table(t).full_table_name for t in ours.tables()}
    assert len(their_nodes) > 1
    assert our_nodes == their_nodes

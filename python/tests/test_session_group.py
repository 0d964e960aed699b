"""SessionGroup's methods (Spyglass's static methods, called on the class), with
datajoint-python reading SessionGroup and SessionGroupSession on MariaDB."""

import uuid

import pytest

import spyglass_rs
from spyglass_rs.common import SessionGroup


def read(ctx, request, name):
    t = ctx.conn.table(name)
    return request.getfixturevalue("dj_table")(t) if ctx.backend == "mysql" else t


def test_session_group_methods(ctx, request):
    name = f"group-{uuid.uuid4().hex[:8]}"
    groups = read(ctx, request, "common_session.SessionGroup")
    members = read(ctx, request, "common_session.SessionGroupSession")
    SessionGroup.add_group(name, "first description")
    assert (groups & {"session_group_name": name}).fetch1("session_group_description") == \
        "first description"
    SessionGroup.add_group(name, "ignored", skip_duplicates=True)
    with pytest.raises(spyglass_rs.SpyglassError):
        SessionGroup.add_group(name, "again")
    SessionGroup.update_session_group_description(name, "second description")
    assert (groups & {"session_group_name": name}).fetch1("session_group_description") == \
        "second description"

    SessionGroup.add_session_to_group(ctx.nwb_file_name, name)
    assert (members & {"session_group_name": name}).fetch("nwb_file_name").tolist() == [
        ctx.nwb_file_name]
    with pytest.raises(spyglass_rs.SpyglassError, match="already"):
        SessionGroup.add_session_to_group(ctx.nwb_file_name, name)
    SessionGroup.add_session_to_group(ctx.nwb_file_name, name, skip_duplicates=True)
    assert SessionGroup.get_group_sessions(name) == [{"nwb_file_name": ctx.nwb_file_name}]
    with pytest.raises(spyglass_rs.SpyglassError):
        SessionGroup.add_session_to_group("not_a_session_.nwb", name)

    assert SessionGroup().remove_session_from_group(ctx.nwb_file_name, name) is True
    assert len(members & {"session_group_name": name}) == 0
    SessionGroup.add_session_to_group(ctx.nwb_file_name, name)
    SessionGroup.delete_group(name)
    assert len(groups & {"session_group_name": name}) == 0
    assert len(members & {"session_group_name": name}) == 0
    with pytest.raises(spyglass_rs.SpyglassError, match=name):
        SessionGroup.get_group_sessions(name)

"""``SessionGroup`` with Spyglass's methods (``add_group``,
``update_session_group_description``, ``add_session_to_group``,
``remove_session_from_group``, ``delete_group``, ``get_group_sessions``), callable
on the class as Spyglass's static methods are, over spyglass-rs's session groups."""

from __future__ import annotations

from . import _native
from ._merge import hybridmethod
from ._query import Table


class SessionGroup(Table):
    """``common_session.SessionGroup``: named sets of sessions."""

    def _op(self, op, group, arg=""):
        return _native.session_group(self._conn._native, op, group, arg)

    @hybridmethod
    def add_group(self, session_group_name, session_group_description, *, skip_duplicates=False):
        """Adds a group (an existing one is an error unless ``skip_duplicates``)."""
        if skip_duplicates and len(self._plain() & {"session_group_name": session_group_name}):
            return
        self._op("add", session_group_name, session_group_description)

    @hybridmethod
    def update_session_group_description(self, session_group_name, session_group_description):
        """Replaces a group's description."""
        self._op("describe", session_group_name, session_group_description)

    @hybridmethod
    def add_session_to_group(self, nwb_file_name, session_group_name, *, skip_duplicates=False):
        """Adds session ``nwb_file_name`` to a group (already a member: an error
        unless ``skip_duplicates``)."""
        if not skip_duplicates and nwb_file_name in self._op("sessions", session_group_name):
            raise _native.SpyglassError(
                f"common_session.SessionGroupSession: `{nwb_file_name}` is already in "
                f"group `{session_group_name}` (pass skip_duplicates=True)"
            )
        self._op("add_session", session_group_name, nwb_file_name)

    @hybridmethod
    def remove_session_from_group(self, nwb_file_name, session_group_name, *args, **kwargs):
        """Removes a session from a group; returns whether it was a member."""
        return self._op("remove_session", session_group_name, nwb_file_name)

    @hybridmethod
    def delete_group(self, session_group_name, *args, **kwargs):
        """Deletes a group with its memberships."""
        self._op("delete", session_group_name)

    @hybridmethod
    def get_group_sessions(self, session_group_name):
        """The sessions of a group as ``[{"nwb_file_name": ...}]``, ordered."""
        return [{"nwb_file_name": n} for n in self._op("sessions", session_group_name)]

    def _plain(self):
        return type(self)(self._conn)

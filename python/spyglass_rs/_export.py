"""Paper export with Spyglass's methods: ``ExportSelection().start_export(paper_id,
analysis_id)`` starts logging every fetch, ``fetch1`` and ``fetch_nwb`` made
through the connection (spyglass-rs's export log: restrictions into
``ExportSelection.Table``, NWB files into ``ExportSelection.File``),
``stop_export()`` ends it, and ``Export().populate_paper(paper_id)`` writes what
``spyglass export run`` writes (the mysqldump script, the SQL file, the bundle)
and fills ``Export``."""

from __future__ import annotations

import os

from . import _native
from ._native import SpyglassError
from ._query import Table


def _paper_of(key):
    if isinstance(key, dict):
        if "paper_id" not in key:
            raise SpyglassError(f"a paper is named by a dict with `paper_id`, not {key!r}")
        return key["paper_id"]
    return key


class ExportSelection(Table):
    """``common_usage.ExportSelection`` with Spyglass's export methods."""

    @property
    def export_id(self):
        """The export the connection's fetches are logged into (0 when none, as
        Spyglass's)."""
        return _native.active_export(self._conn._native) or 0

    def start_export(self, paper_id, analysis_id):
        """Starts (or resumes) logging for ``(paper_id, analysis_id)``; returns the
        export id. Refused while another export is active for the user."""
        return self._conn.start_export(paper_id, analysis_id)

    def stop_export(self, **kwargs):
        """Stops logging; returns the export id that was active, if any."""
        del kwargs
        return self._conn.stop_export()

    def preview_tables(self, paper_id):
        """The restrictions logged for a paper: ``[(export_id, table, restriction)]``
        with tables as full names (`` `schema`.`table` ``)."""
        return _native.logged_restrictions(self._conn._native, _paper_of(paper_id))

    def list_file_paths(self, key, as_dict=True):
        """The files a paper's export holds (``key``: a paper id or a dict with
        ``paper_id``), as ``{"file_path": path}`` dicts, or paths."""
        paths = [
            os.fspath(p)
            for p in _native.export_file_paths(self._conn._native, _paper_of(key))
        ]
        return [{"file_path": p} for p in paths] if as_dict else paths


class Export(Table):
    """``common_usage.Export`` with Spyglass's ``populate_paper``."""

    def populate_paper(self, paper_id, included_nwb_files=None, n_processes=1, out_dir=None):
        """Exports a paper: cascades the restrictions logged for it, writes under
        ``<out_dir>/<paper_id>/`` (default: the export dir of the base dir) the
        mysqldump script, the SQL file and the bundle, and fills ``Export`` for the
        paper's newest export id. Returns what was written (dict: ``dir``,
        ``script``, ``sql_file``, ``bundle``, ``tables``, ``files``, ...)."""
        del n_processes
        if included_nwb_files:
            raise SpyglassError(
                "populate_paper: included_nwb_files is not supported by spyglass_rs"
            )
        return _native.populate_paper(
            self._conn._native,
            _paper_of(paper_id),
            None if out_dir is None else os.fspath(out_dir),
            None,
        )

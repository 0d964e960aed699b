"""Spyglass's ``spyglass.data_import``: ``insert_sessions(nwb_file_names)``."""

from __future__ import annotations

import os

from ._connection import conn


def insert_sessions(nwb_file_names, rollback_on_fail=False, raise_err=False, reinsert=False):
    """Ingests NWB files into the default connection's database (Spyglass's
    ``insert_sessions``: a path, or a list; files are copied into the raw dir as
    ``<stem>_.nwb``). Returns one report per file; a failed file raises when
    ``raise_err`` is true."""
    if isinstance(nwb_file_names, (str, os.PathLike)):
        nwb_file_names = [nwb_file_names]
    return conn().insert_sessions(nwb_file_names, reinsert=reinsert, raise_errors=raise_err)

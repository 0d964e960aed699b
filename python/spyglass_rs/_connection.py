"""The connection: ``connect(url=None)`` opens the database as the ``spyglass``
command does (argument, ``$SPYGLASS_DB``, ``spyglass.toml``, DataJoint's
``DJ_*`` / ``dj_local_conf.json``, else ``$SPYGLASS_BASE_DIR/spyglass.db``) and
makes it the default of the Spyglass-like modules, as ``dj.conn()`` is."""

from __future__ import annotations

import os
import threading

from . import _native

_default = None
_lock = threading.Lock()


class Connection:
    """An open spyglass-rs database (``connect()`` makes one)."""

    def __init__(self, url=None, prefix=None, base_dir=None):
        if base_dir is not None:
            base_dir = os.fspath(base_dir)
        self._native = _native.Connection(url, prefix, base_dir)

    # -- identity -------------------------------------------------------------
    @property
    def url(self):
        """The database URL, password removed."""
        return self._native.url

    @property
    def backend(self):
        """``"sqlite"`` or ``"mysql"``."""
        return self._native.backend

    @property
    def prefix(self):
        """The schema prefix (DataJoint's ``database.prefix``)."""
        return self._native.prefix

    @property
    def base_dir(self):
        """The base directory of data files."""
        return self._native.base_dir

    def __repr__(self):
        return f"spyglass_rs.Connection({self.url})"

    # -- tables ---------------------------------------------------------------
    def table(self, name):
        """The table ``name`` (``"common_session.Session"``,
        ``"common_session.session"``, ``"lfp_v1.LFPV1"``) as a query."""
        from ._query import Table

        return Table._of(self, self._native.table(name))

    __getitem__ = table

    def schemas(self):
        """The schemas (databases) of the server or file."""
        return self._native.schemas()

    def require(self, pipeline):
        """Declares the pipeline ``pipeline`` (e.g. ``"lfp_v1"``) and what it needs."""
        self._native.require(pipeline)

    def require_all(self):
        """Declares every pipeline."""
        self._native.require_all()

    def query(self, sql, params=()):
        """Runs an SQL statement with bound parameters; returns its rows as tuples
        (``dj.conn().query(...).fetchall()``)."""
        return self._native.query_sql(sql, list(params))

    def execute(self, sql, params=()):
        """Runs a statement that returns no rows; returns the rows affected."""
        return self._native.execute_sql(sql, list(params))

    # -- Spyglass's helpers ---------------------------------------------------
    def insert_sessions(self, files, reinsert=False, raise_errors=True):
        """Spyglass's ``insert_sessions``: ingests NWB files; returns a report per file."""
        if isinstance(files, (str, os.PathLike)):
            files = [files]
        return self._native.insert_sessions(
            [os.fspath(f) for f in files], reinsert, raise_errors
        )

    def insert_defaults(self, tables=()):
        """Inserts the default rows of parameter tables (all when empty)."""
        return self._native.insert_defaults(list(tables))

    def start_export(self, paper_id, analysis_id):
        """Starts (or resumes) the export ``(paper_id, analysis_id)``: every fetch
        through this connection is logged into it; returns the export id."""
        return self._native.start_export(paper_id, analysis_id)

    def stop_export(self):
        """Stops the active export; returns its id."""
        return self._native.stop_export()


def connect(url=None, *, prefix=None, base_dir=None, set_default=True):
    """Opens the database and makes it the default connection of the
    Spyglass-like modules (``from spyglass_rs.common import Session``)."""
    global _default
    c = Connection(url, prefix=prefix, base_dir=base_dir)
    if set_default:
        with _lock:
            _default = c
    return c


def conn():
    """The default connection, opened with ``connect()`` the first time."""
    global _default
    with _lock:
        if _default is None:
            _default = Connection()
        return _default

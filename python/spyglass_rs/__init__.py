"""spyglass_rs: Spyglass's tables in Python, over the spyglass-rs crates.

A notebook written for Spyglass needs few changes::

    import spyglass_rs as sg
    db = sg.connect()                      # the CLI's config rules
    from spyglass_rs.common import Session, Electrode
    from spyglass_rs.lfp.v1 import LFPV1

    (Session & {"nwb_file_name": "demo20230622_.nwb"}).fetch1()
    Electrode.fetch(format="frame")
    LFPV1.populate()
    df = (LFPV1 & key).fetch1_dataframe()

Queries compose lazily in Rust (spyglass-db's algebra) and run with the GIL
released; numeric columns and NWB data arrive as numpy arrays made from Rust
buffers without going through Python lists.
"""

from __future__ import annotations

from . import _native
from ._native import SpyglassError, database_url, registry
from ._query import AndList, Not, QueryExpression, Table, U
from ._connection import Connection, conn, connect
from ._delete import config
from ._diagram import Diagram

__all__ = [
    "AndList",
    "Connection",
    "Diagram",
    "Not",
    "QueryExpression",
    "SpyglassError",
    "Table",
    "U",
    "config",
    "conn",
    "connect",
    "database_url",
    "registry",
    "write_demo_session",
]


def write_demo_session(path, duration_s=None, n_channels=None):
    """Writes the synthetic session ``spyglass demo`` ingests to ``path`` (an NWB
    file: 20 s of 4 channels at 30 kHz with theta, ripples, two units and
    position); returns its parameters as a dict."""
    return _native.write_demo_session(str(path), duration_s, n_channels)

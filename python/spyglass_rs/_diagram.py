"""``spyglass_rs.Diagram``: DataJoint's ``dj.Diagram`` over spyglass-rs — a
schema, a module of tables, a table or a union of them, grown along foreign keys
with ``+ n`` (children) and ``- n`` (parents), drawn by the engine's renderer (the
one of ``spyglass diagram`` and spyglass-view) and shown as SVG in a notebook."""

from __future__ import annotations

import types

from . import _native
from ._native import SpyglassError


class Diagram:
    """The dependency diagram of ``source``: a schema name (``"lfp_v1"``), a table
    name (``"lfp_v1.LFPV1"``), a table class or query, a Spyglass-like module
    (``spyglass_rs.lfp.v1``), a list of these, or another Diagram; ``None``: the
    whole database."""

    def __init__(self, source=None, connection=None):
        from ._connection import conn

        self._conn = connection or conn()
        self._schemas = []
        self._tables = []
        if isinstance(source, Diagram):
            self._conn = source._conn
            self._schemas, self._tables = list(source._schemas), list(source._tables)
            return
        for s in source if isinstance(source, (list, tuple)) else ([] if source is None else [source]):
            self._add(s)

    def _add(self, s):
        from ._query import QueryExpression, Table

        if isinstance(s, type) and issubclass(s, Table):
            s = s()
        if isinstance(s, QueryExpression):
            self._tables.append(s._native.label)
        elif isinstance(s, types.ModuleType):
            names = [getattr(s, n) for n in dir(s)]
            tables = [t for t in names if isinstance(t, type) and issubclass(t, Table)]
            if not tables:
                raise SpyglassError(f"Diagram: module {s.__name__} has no tables")
            for t in tables:
                self._add(t)
        elif isinstance(s, str):
            if "." in s:
                self._tables.append(self._conn.table(s)._native.label)
            else:
                self._schemas.append(s)
        else:
            raise SpyglassError(f"Diagram of a {type(s).__name__}: give a schema, table or module")

    def tables(self):
        """Every table the diagram shows, as ``schema.Class``, in dependency order."""
        return _native.diagram_expand(self._conn._native, self._schemas, self._tables, 0)

    def _grown(self, steps):
        d = Diagram(connection=self._conn)
        d._tables = _native.diagram_expand(self._conn._native, self._schemas, self._tables, steps)
        return d

    def __add__(self, other):
        """``+ n``: the tables ``n`` foreign keys downstream too; ``+ diagram``: the union."""
        if isinstance(other, int):
            return self._grown(other)
        other = other if isinstance(other, Diagram) else Diagram(other, self._conn)
        d = Diagram(self)
        d._schemas += other._schemas
        d._tables += other._tables
        return d

    def __sub__(self, other):
        """``- n``: the tables ``n`` foreign keys upstream too."""
        if isinstance(other, int):
            return self._grown(-other)
        raise SpyglassError("Diagram - x: x must be a number of steps upstream")

    def _text(self, fmt):
        return _native.diagram(self._conn._native, self._schemas, self._tables, fmt)

    def make_svg(self):
        """The diagram as SVG text."""
        return self._text("svg")

    def make_dot(self):
        """The diagram as Graphviz DOT text."""
        return self._text("dot")

    def make_mermaid(self):
        """The diagram as a Mermaid flowchart."""
        return self._text("mermaid")

    def _repr_svg_(self):
        return self.make_svg()

    def save(self, filename):
        """Writes the diagram to ``filename`` (``.svg``, ``.dot`` or ``.mmd``)."""
        ext = str(filename).rsplit(".", 1)[-1]
        with open(filename, "w", encoding="utf-8") as f:
            f.write(self._text(ext))

    def __repr__(self):
        return f"Diagram(schemas={self._schemas}, tables={self._tables})"


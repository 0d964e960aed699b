"""Merge tables (``LFPOutput``, ``PositionOutput``, ``SpikeSortingOutput``, ...)
with Spyglass's methods: ``merge_view``, ``merge_html``, ``merge_restrict``,
``merge_get_part``, ``merge_get_parent``, ``merge_fetch``, ``merge_delete`` and
``merge_delete_parent``, callable on the class (``LFPOutput.merge_get_part(key)``)
or on a restricted table (``(LFPOutput & key).merge_fetch("merge_id")``; the
table's restriction and the argument both apply). The parts, parents and merged
view come from spyglass-rs's merge operations."""

from __future__ import annotations

from . import _native
from ._delete import logger, unlogged
from ._query import QueryExpression, Table, _restriction_arg


class hybridmethod:
    """A method callable on the class (bound to an instance on the default
    connection) or on an instance, as DataJoint's class-level table calls."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, obj, cls):
        target = obj if obj is not None else cls()
        return self.fn.__get__(target, cls)


def _restrictions(table, restriction):
    out = list(table._restrictions)
    if restriction is not True and restriction is not None:
        out.append(_restriction_arg(restriction))
    return out


def _class_of(conn, table_name):
    """The Spyglass-like class of ``schema.Class`` (schema prefix ignored), or None."""
    from ._modules import class_of

    prefix = conn.prefix
    if prefix and table_name.startswith(prefix):
        table_name = table_name[len(prefix):]
    return class_of(table_name)


class Merge(Table):
    """A merge table: master ``(merge_id | source)`` with one part per source."""

    def _parts(self, restriction, return_empties):
        """``[(source, part schema.Class, parent schema.Class, master ⋈ part)]`` of
        the sources the restriction applies to."""
        out = []
        for source, part, parent, q in _native.merge_parts(
            self._conn._native, self.table_name, _restrictions(self, restriction)
        ):
            if q is None:
                continue
            q = QueryExpression(self._conn, q)
            if return_empties or len(q):
                out.append((source, part, parent, q))
        return out

    def _part_table(self, source, part_name):
        cls = getattr(type(self), source, None)
        if isinstance(cls, type) and issubclass(cls, Table) and cls._table:
            return cls(self._conn)
        return self._conn.table(part_name)

    def _one(self, found, what, multi_source, none_ok):
        """The one table found (or the list, with ``multi_source``); none found is
        None where Spyglass allows it (``none_ok``), else an error as more than one."""
        if multi_source:
            return found
        if not found and none_ok:
            return None
        if len(found) != 1:
            raise ValueError(
                f"{self.table_name}: found {len(found)} potential {what}s; "
                "restrict further or pass multi_source=True"
            )
        return found[0]

    def insert(self, rows, mutual_exclusvity=True, **kwargs):
        """Spyglass's merge insert: each row (a dict with an upstream table's key)
        goes in through the one source whose upstream table holds it (an error when
        none or several do), master and part rows together; returns the merge ids.
        ``kwargs`` (DataJoint's insert options) are accepted: an entry already
        present is skipped."""
        del mutual_exclusvity, kwargs  # always exclusive; present entries skipped
        from ._query import _rows_arg

        return _native.merge_insert(self._conn._native, self.table_name, _rows_arg(rows))

    def insert1(self, row, **kwargs):
        """Inserts one entry (see ``insert``); returns its merge id."""
        return self.insert([row], **kwargs)[0]

    @hybridmethod
    def merge_restrict(self, restriction=True):
        """The merged view, restricted, as Spyglass's: every part holding restricted
        rows joined with the master (parts without rows add no columns); where a part
        lacks an attribute it is 0 when numeric (int, float, decimal, bool) and NULL
        otherwise; every attribute is in the view's primary key."""
        return QueryExpression(
            self._conn,
            _native.merge_view(
                self._conn._native, self.table_name, _restrictions(self, restriction)
            ),
        )

    @hybridmethod
    def merge_view(self, restriction=True):
        """Prints the merged view, restricted (Spyglass's ``merge_view``)."""
        print(repr(self.merge_restrict(restriction)))

    @hybridmethod
    def merge_html(self, restriction=True):
        """The merged view as HTML for a notebook."""
        from IPython.display import HTML

        return HTML(self.merge_restrict(restriction)._repr_html_())

    @hybridmethod
    def merge_get_part(
        self,
        restriction=True,
        join_master=False,
        restrict_part=True,
        multi_source=False,
        return_empties=False,
    ):
        """The part table holding the restricted entries (a list of them with
        ``multi_source``): restricted to them unless ``restrict_part=False``,
        joined with the master (``source``) with ``join_master``."""
        found = []
        for source, part_name, _parent, q in self._parts(restriction, return_empties):
            part = self._part_table(source, part_name)
            if restrict_part:
                part = part & q.proj()
            if join_master:
                part = type(self)(self._conn) * part
            found.append(part)
        return self._one(found, "part", multi_source, none_ok=True)

    @hybridmethod
    def merge_get_parent(
        self,
        restriction=True,
        join_master=False,
        multi_source=False,
        return_empties=False,
        add_invalid_restrict=True,
    ):
        """The upstream table(s) holding the rows behind the restricted entries,
        restricted to those rows' keys (a list with ``multi_source``); tables
        without such rows are left out (``return_empties`` is accepted for
        Spyglass's signature)."""
        del return_empties
        found = []
        for source, parent_name, q in _native.merge_parents(
            self._conn._native,
            self.table_name,
            _restrictions(self, restriction),
            add_invalid_restrict,
        ):
            cls = _class_of(self._conn, parent_name)
            parent = cls(self._conn) if cls is not None else self._conn.table(parent_name)
            keys = QueryExpression(self._conn, q).fetch("KEY")
            parent = parent & keys
            if join_master:
                part = self._part_table(source, f"{self.table_name}.{source}")
                parent = type(self)(self._conn) * part * parent
            found.append(parent)
        return self._one(found, "parent", multi_source, none_ok=False)

    @hybridmethod
    def merge_fetch(self, *attrs, restriction=True, log_export=True, **kwargs):
        """Fetches across the parts holding the restricted entries, as each part's
        ``fetch(*attrs, **kwargs)``, the results concatenated; one result alone is
        returned as itself."""

        def run():
            results = []
            parts = self.merge_get_part(restriction, multi_source=True)
            for part in parts:
                results.extend(part.fetch(*attrs, **kwargs))
            return results

        results = run() if log_export else unlogged(self._conn, run)
        if not results:
            logger.info("No merge_fetch results.")
        return results[0] if len(results) == 1 else results

    @hybridmethod
    def merge_delete(self, restriction=True, **kwargs):
        """Deletes the restricted entries (master, part and everything downstream)
        with the cautious delete (``kwargs`` as ``delete``'s)."""
        ids = unlogged(self._conn, lambda: self.merge_restrict(restriction).fetch("KEY"))
        keys = [{"merge_id": k["merge_id"]} for k in ids]
        return (type(self)(self._conn) & keys).delete(**kwargs)

    @hybridmethod
    def merge_delete_parent(self, restriction=True, dry_run=True, **kwargs):
        """The upstream tables of the restricted entries (``dry_run``), or deletes
        their rows — and so the entries and everything below them — with the
        cautious delete."""
        parents = self.merge_get_parent(restriction, multi_source=True)
        if dry_run:
            return parents
        self.merge_delete(restriction, **kwargs)
        if len(self.merge_restrict(restriction)):
            return None  # the delete of the entries was cancelled
        for parent in parents:
            parent.delete(**kwargs)

"""DataJoint-shaped queries over spyglass-rs: ``&`` (dicts, SQL strings, lists as
OR, ``AndList``, ``Not``, other queries, DataFrames), ``-``, ``*``, ``+``,
``.proj()``, ``.aggr()``, ``len()``, ``fetch`` in DataJoint's formats, ``fetch1``,
``insert`` / ``insert1``, ``populate``, ``describe``, a ``_repr_html_`` preview,
and Spyglass's ``fetch_nwb`` / ``fetch1_dataframe``."""

from __future__ import annotations

import copy
import html

import numpy as np

from . import _native
from ._delete import DeleteMixin
from ._native import SpyglassError

#: rows a preview shows (DataJoint's ``display.limit``)
DISPLAY_LIMIT = 12


class AndList(list):
    """All of the restrictions (DataJoint's ``dj.AndList``)."""

    _spyglass_and = True


class Not:
    """The negation of a restriction (DataJoint's ``dj.Not``)."""

    def __init__(self, restriction):
        self._spyglass_not = _restriction_arg(restriction)


def _restriction_arg(r):
    """A restriction as the native layer takes it (DataFrames and record arrays
    become lists of row dicts; queries their native query)."""
    if isinstance(r, QueryExpression):
        return r._native
    if isinstance(r, type) and issubclass(r, Table):
        return r()._native
    if isinstance(r, AndList):
        return AndList(_restriction_arg(x) for x in r)
    if isinstance(r, (list, tuple)):
        return [_restriction_arg(x) for x in r]
    if isinstance(r, np.ndarray) and r.dtype.names:
        return [dict(zip(r.dtype.names, row.tolist())) for row in r]
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas is a dependency
        pandas = None
    if pandas is not None and isinstance(r, pandas.DataFrame):
        frame = r.reset_index() if any(n is not None for n in r.index.names) else r
        return frame.to_dict("records")
    return r


class QueryExpression:
    """A lazily composed query; operators return new queries."""

    def __init__(self, connection, native):
        self._conn = connection
        self._native = native

    # -- algebra --------------------------------------------------------------
    def _derived(self, native):
        return QueryExpression(self._conn, native)

    def _restricted(self, native, restriction):
        """The result of ``self & restriction`` (a table keeps its class)."""
        return self._derived(native)

    def restrict(self, restriction):
        """``self & restriction``."""
        r = _restriction_arg(restriction)
        return self._restricted(self._native.restrict(r), r)

    def __and__(self, restriction):
        return self.restrict(restriction)

    def __sub__(self, restriction):
        r = _restriction_arg(restriction)
        return self._restricted(self._native.exclude(r), Not(restriction))

    def __mul__(self, other):
        return self._derived(self._native.join(_native_of(other)))

    def __add__(self, other):
        return self._derived(self._native.union(_native_of(other)))

    def proj(self, *attributes, **named_attributes):
        """DataJoint's ``proj``: ``'attr'`` keeps, ``...`` keeps all, ``'-attr'``
        drops, ``new='old'`` renames, ``new='SQL expression'`` computes."""
        keep, exclude = [], []
        keep_all = False
        for a in attributes:
            if a is Ellipsis:
                keep_all = True
            elif isinstance(a, str) and a.startswith("-"):
                exclude.append(a[1:].strip())
            else:
                keep.append(a)
        names = set(self.heading.names)
        rename, compute = [], []
        for new, expr in named_attributes.items():
            if isinstance(expr, str) and expr.strip("` ") in names:
                rename.append((new, expr.strip("` ")))
            else:
                compute.append((new, str(expr)))
        return self._derived(
            self._native.proj(keep, keep_all, exclude, rename, compute)
        )

    def aggr(self, group, *attributes, keep_all_rows=False, **named_attributes):
        """DataJoint's ``aggr``: per row of ``self``, SQL aggregates over the
        matching rows of ``group`` (``n="count(*)"``)."""
        return self._derived(
            self._native.aggr(
                _native_of(group),
                list(attributes),
                [(k, str(v)) for k, v in named_attributes.items()],
                keep_all_rows,
            )
        )

    # -- size -----------------------------------------------------------------
    def __len__(self):
        return self._native.count()

    def __bool__(self):
        return self._native.exists()

    def __iter__(self):
        return iter(self.fetch(as_dict=True))

    # -- heading --------------------------------------------------------------
    @property
    def heading(self):
        """The heading: ``.names``, ``.primary_key``, ``.secondary_attributes``,
        ``.attributes`` (a dict of attribute dicts)."""
        return Heading(self._native.heading())

    @property
    def primary_key(self):
        """Primary-key attribute names."""
        return self._native.primary_key

    @property
    def table_name(self):
        """``schema.Class`` of a table, None for a derived query."""
        return self._native.table_name

    # -- fetch ----------------------------------------------------------------
    def fetch(
        self,
        *attrs,
        offset=None,
        limit=None,
        order_by=None,
        format=None,
        as_dict=None,
        squeeze=False,
    ):
        """DataJoint's ``fetch``: a record array (default), a DataFrame indexed by
        the primary key (``format="frame"``), dicts (``as_dict=True``), the arrays
        of the attributes named (``fetch("a", "b")``), or keys (``fetch("KEY")``)."""
        if isinstance(order_by, str):
            order_by = [order_by]
        order_by = list(order_by or [])
        if limit is None and offset is not None:
            raise SpyglassError("fetch: offset needs a limit")
        if format not in (None, "array", "frame"):
            raise SpyglassError(f'fetch format must be "array" or "frame", not {format!r}')
        if format is not None and (as_dict or attrs):
            raise SpyglassError(
                "Cannot specify output format when as_dict=True or when attributes are selected"
            )
        if attrs:
            if as_dict:
                return self._native.fetch_rows(list(attrs), order_by, limit, offset)
            out = []
            for a in attrs:
                if a == "KEY":
                    out.append(self._native.fetch_rows(["KEY"], order_by, limit, offset))
                else:
                    _, cols = self._native.fetch_columns([a], order_by, limit, offset)
                    out.append(_squeeze(cols[0]) if squeeze else cols[0])
            return out[0] if len(attrs) == 1 else tuple(out)
        if as_dict:
            return self._native.fetch_rows([], order_by, limit, offset)
        names, cols = self._native.fetch_columns([], order_by, limit, offset)
        if format == "frame":
            import pandas

            frame = pandas.DataFrame(dict(zip(names, cols)), columns=names)
            pk = [n for n in self.primary_key if n in names]
            return frame.set_index(pk) if pk else frame
        return _record_array(names, cols)

    def fetch1(self, *attrs, squeeze=False):
        """DataJoint's ``fetch1``: the one row as a dict, or the values of the
        attributes named (a tuple for several); an error unless exactly one row."""
        rows = self._native.fetch_rows(
            [a for a in attrs if a != "KEY"] + (["KEY"] if "KEY" in attrs else []),
            [],
            2,
            None,
        ) if attrs else self._native.fetch_rows([], [], 2, None)
        if len(rows) != 1:
            n = len(rows) if not rows else len(self)
            raise SpyglassError(
                f"fetch1 requires exactly one row in {self._native.label}, got {n}"
            )
        row = rows[0]
        if not attrs:
            return row
        pk = self.primary_key
        vals = [({k: row[k] for k in pk} if a == "KEY" else row[a]) for a in attrs]
        return vals[0] if len(attrs) == 1 else tuple(vals)

    def keys(self, **kwargs):
        """The primary keys as dicts."""
        return self.fetch("KEY", **kwargs)

    def head(self, limit=25, **kwargs):
        """The first ``limit`` rows (by primary key) as dicts."""
        return self.fetch(order_by="KEY", limit=limit, as_dict=True, **kwargs)

    # -- Spyglass ----------------------------------------------------------------
    def fetch_nwb(self, *attrs):
        """Spyglass's ``fetch_nwb``: per row, a dict of its values and, for each
        ``*_object_id`` attribute, the NWB object (an ``NwbObject`` whose ``data``
        and ``timestamps`` are numpy arrays) under the name without ``_object_id``."""
        from .nwb import wrap_rows

        rows = wrap_rows(self._native.fetch_nwb())
        if attrs:
            return [{k: r[k] for k in attrs} for r in rows]
        return rows

    def fetch1_dataframe(self):
        """Spyglass's ``fetch1_dataframe`` of the one row: LFP (channels by
        ``time``), position (TrodesPosV1, PositionOutput) and linearized position
        as Spyglass builds them (see ``spyglass_rs.nwb.fetch1_dataframe``)."""
        from .nwb import fetch1_dataframe

        def params_of(name):
            t = self._conn.table("position_v1_trodes_position.TrodesPosParams")
            return (t & {"trodes_pos_params_name": name}).fetch1("params")

        return fetch1_dataframe(self.fetch_nwb(), self._native.label, params_of)

    # -- display --------------------------------------------------------------
    def _preview(self):
        # previews are not logged into an active export (as Spyglass's)
        rows = _native.without_export_logging(
            self._conn._native,
            lambda: self.fetch(as_dict=True, limit=DISPLAY_LIMIT + 1, order_by="KEY"),
        )
        return rows[:DISPLAY_LIMIT], len(rows) > DISPLAY_LIMIT

    def __repr__(self):
        names = self.heading.names
        rows, more = self._preview()
        pk = set(self.primary_key)
        head = ["*" + n if n in pk else n for n in names]
        cells = [[_cell(r[n]) for n in names] for r in rows]
        widths = [
            max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(head)
        ]
        lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
        if more:
            lines.append("   ...")
        lines.append(f" (Total: {len(self)})")
        return "\n".join(lines)

    def _repr_html_(self):
        heading = self.heading
        rows, more = self._preview()
        pk = set(self.primary_key)
        th = "".join(
            '<th><div class="djtooltip" title="{c}"><p id="{k}">{n}</p></div></th>'.format(
                c=html.escape(a.get("comment") or ""),
                k="primary" if a["name"] in pk else "nonprimary",
                n=html.escape(a["name"]),
            )
            for a in heading.attributes.values()
        )
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(_cell(r[n]))}</td>" for n in heading.names)
            + "</tr>"
            for r in rows
        )
        style = (
            "<style>.Table{border-collapse:collapse}.Table th{background:#A0A0A0;"
            "color:#fff;padding:4px;border:#f0e0e0 1px solid;font-weight:normal}"
            ".Table td{padding:4px;border:#f0e0e0 1px solid;font-size:100%}"
            ".Table tr:nth-child(odd){background:#fff}.Table tr:nth-child(even)"
            "{background:#f3f1ff}#primary{font-weight:bold;color:black}"
            "#nonprimary{font-weight:normal;color:white}</style>"
        )
        label = html.escape(self.table_name or self._native.label)
        return (
            f'{style}<div style="max-height:1000px;max-width:1500px;overflow:auto;">'
            f"<b>{label}</b>"
            f'<table border="1" class="Table"><thead><tr>{th}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
            + ("<p>...</p>" if more else "")
            + f"<p>Total: {len(self)}</p></div>"
        )


def _cell(v):
    if isinstance(v, np.ndarray):
        return "=BLOB="
    if isinstance(v, (dict, list, tuple, bytes)):
        return "=BLOB="
    return "" if v is None else str(v)


def _squeeze(col):
    return np.array([np.squeeze(v) if isinstance(v, np.ndarray) else v for v in col], dtype=col.dtype)


def _native_of(q):
    if isinstance(q, QueryExpression):
        return q._native
    if isinstance(q, type) and issubclass(q, Table):
        return q()._native
    raise TypeError(f"expected a query, got {type(q).__name__}")


def _record_array(names, cols):
    """DataJoint's default fetch: a record array, one field per attribute."""
    n = len(cols[0]) if cols else 0
    dtype = np.dtype([(name, col.dtype) for name, col in zip(names, cols)])
    out = np.empty(n, dtype=dtype)
    for name, col in zip(names, cols):
        out[name] = col
    return out.view(np.recarray)


class Heading:
    """A query's heading (names, keys, attribute details)."""

    def __init__(self, attributes):
        self.attributes = {a["name"]: a for a in attributes}

    @property
    def names(self):
        return list(self.attributes)

    @property
    def primary_key(self):
        return [n for n, a in self.attributes.items() if a["in_key"]]

    @property
    def secondary_attributes(self):
        return [n for n, a in self.attributes.items() if not a["in_key"]]

    def __getitem__(self, name):
        return self.attributes[name]

    def __iter__(self):
        return iter(self.attributes)

    def __repr__(self):
        def line(n, a):
            comment = a.get("comment") or ""
            return f"{n} : {a['type']}" + (f"  # {comment}" if comment else "")

        key = [line(n, a) for n, a in self.attributes.items() if a["in_key"]]
        rest = [line(n, a) for n, a in self.attributes.items() if not a["in_key"]]
        return "\n".join(key + ["---"] + rest)


class TableMeta(type):
    """Lets a table class act as its instance, as DataJoint's classes do
    (``Session & key``, ``Session.fetch()``, ``len(Session)``)."""

    _forwarded = {
        "fetch",
        "fetch1",
        "insert",
        "insert1",
        "populate",
        "describe",
        "heading",
        "primary_key",
        "proj",
        "aggr",
        "keys",
        "head",
        "fetch_nwb",
        "fetch1_dataframe",
        "restrict",
        "delete",
        "delete_quick",
        "cautious_delete",
        "super_delete",
        "full_table_name",
        "create_lfp_electrode_group",
        "create_standard_filters",
        "_repr_html_",
    }

    def __getattribute__(cls, name):
        if name in TableMeta._forwarded and type.__getattribute__(cls, "_table") is not None:
            return getattr(cls(), name)
        return type.__getattribute__(cls, name)

    def __and__(cls, r):
        return cls() & r

    def __sub__(cls, r):
        return cls() - r

    def __mul__(cls, other):
        return cls() * other

    def __add__(cls, other):
        return cls() + other

    def __len__(cls):
        return len(cls())

    def __iter__(cls):
        return iter(cls())

    def __repr__(cls):
        if type.__getattribute__(cls, "_table") is None:
            return type.__repr__(cls)
        return repr(cls())

    def _repr_html_(cls):
        return cls()._repr_html_()


class Table(DeleteMixin, QueryExpression, metaclass=TableMeta):
    """A table, whole or restricted (``Table & r`` keeps the class, as DataJoint's).
    Subclasses made by the Spyglass-like modules name theirs in ``_table``
    (``"common_session.Session"``) and bind to the default connection."""

    _table = None
    #: the restrictions applied (ANDed), in the form the native layer takes
    _restrictions = ()

    def __init__(self, connection=None, _native_query=None):
        from ._connection import conn

        if _native_query is None:
            if type(self)._table is None:
                raise SpyglassError("Table() needs a table: use connection.table(name)")
            connection = connection or conn()
            _native_query = connection._native.table(type(self)._table)
        super().__init__(connection, _native_query)
        self._whole = _native_query

    @classmethod
    def _of(cls, connection, native):
        t = Table.__new__(Table)
        QueryExpression.__init__(t, connection, native)
        t._whole = native
        return t

    def _restricted(self, native, restriction):
        t = copy.copy(self)
        t._native = native
        t._restrictions = (*self._restrictions, restriction)
        return t

    @property
    def table_name(self):
        """``schema.Class``."""
        return self._whole.table_name

    @property
    def full_table_name(self):
        """The stored name as DataJoint writes it: `` `schema`.`table` ``."""
        return self._whole.sql_table_name

    def insert(
        self,
        rows,
        replace=False,
        skip_duplicates=False,
        ignore_extra_fields=False,
        allow_direct_insert=None,
    ):
        """Inserts rows: dicts, sequences in heading order, a DataFrame, a record
        array or another query's rows."""
        if isinstance(rows, QueryExpression):
            rows = rows.fetch(as_dict=True)
        else:
            rows = _rows_arg(rows)
        return self._whole.insert(
            rows,
            skip_duplicates,
            replace,
            ignore_extra_fields,
            bool(allow_direct_insert),
        )

    def insert1(self, row, **kwargs):
        """Inserts one row (a dict or a sequence in heading order)."""
        return self.insert([row], **kwargs)

    def populate(
        self,
        *restrictions,
        suppress_errors=False,
        return_exception_objects=False,
        reserve_jobs=False,
        order="original",
        limit=None,
        max_calls=None,
        display_progress=False,
        processes=1,
        make_kwargs=None,
    ):
        """Runs the table's make for the keys of its key source not yet made
        (restricted by ``restrictions``), with the GIL released; returns
        ``{"success_count": n, "error_list": [...]}`` as DataJoint 0.14 does."""
        if make_kwargs:
            raise SpyglassError("populate: make_kwargs is not supported by spyglass_rs")
        progress = _tqdm_progress(self.full_table_name) if display_progress else None
        report = self._whole.populate(
            [_restriction_arg(r) for r in restrictions],
            reserve_jobs,
            suppress_errors,
            order,
            max_calls,
            limit,
            progress,
        )
        return report

    def describe(self, printout=False):
        """The table's definition in DataJoint's language."""
        text = self._whole.describe()
        if printout:
            print(text)
        return text

    # -- Spyglass's table methods the modules expose -----------------------------
    def create_lfp_electrode_group(self, nwb_file_name, group_name, electrode_list):
        """``LFPElectrodeGroup.create_lfp_electrode_group``."""
        self._conn._native.create_lfp_electrode_group(
            nwb_file_name, group_name, [int(e) for e in electrode_list]
        )

    def create_standard_filters(self):
        """``FirFilterParameters().create_standard_filters()``."""
        return self._conn._native.create_standard_filters()


class U:
    """DataJoint's universal set ``dj.U(attrs...)``: ``U("a") & q`` (distinct
    values) and ``U("a").aggr(q, n="count(*)")``."""

    def __init__(self, *attrs):
        self.attrs = list(attrs)

    def __and__(self, q):
        q = _as_query(q)
        return q._derived(q._native.universal(self.attrs))

    def aggr(self, q, **named_attributes):
        q = _as_query(q)
        return q._derived(
            q._native.group_by(self.attrs, [(k, str(v)) for k, v in named_attributes.items()])
        )


def _as_query(q):
    if isinstance(q, type) and issubclass(q, Table):
        return q()
    return q


def _rows_arg(rows):
    try:
        import pandas
    except ImportError:  # pragma: no cover
        pandas = None
    if pandas is not None and isinstance(rows, pandas.DataFrame):
        frame = rows.reset_index() if any(n is not None for n in rows.index.names) else rows
        return frame.to_dict("records")
    if isinstance(rows, np.ndarray) and rows.dtype.names:
        return [dict(zip(rows.dtype.names, r.tolist())) for r in rows]
    return list(rows)


def _tqdm_progress(label):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    bar = {}

    def progress(event, a, b):
        if event == "start":
            bar["bar"] = tqdm(total=a, desc=label)
        elif event == "tick" and "bar" in bar:
            bar["bar"].n = a + b
            bar["bar"].refresh()
        elif event == "finish" and "bar" in bar:
            bar["bar"].close()

    return progress

"""The Spyglass-like modules (``spyglass_rs.common``, ``spyglass_rs.lfp.v1``, ...),
generated from the pipeline registry: each schema's tables appear as classes in
the module Spyglass keeps them in, with their part tables as nested classes, bound
to the default connection (``spyglass_rs.connect``) on first use."""

from __future__ import annotations

from . import _native

# schema -> the Spyglass modules that export its tables
_SPECIAL = {
    "lfp_electrode": ["lfp", "lfp.v1"],
    "lfp_merge": ["lfp", "lfp.lfp_merge"],
    "lfp_v1": ["lfp.v1"],
    "lfp_imported": ["lfp", "lfp.lfp_imported"],
    "lfp_band_v1": ["lfp.analysis.v1"],
    "position_merge": ["position", "position.position_merge"],
    "position_linearization_merge": ["linearization", "linearization.merge"],
    "position_linearization_v1": ["linearization.v1"],
    "ripple_v1": ["ripple.v1"],
    "spikesorting_merge": ["spikesorting", "spikesorting.spikesorting_merge"],
    "spikesorting_imported": ["spikesorting.imported"],
}


def modules_of(schema):
    """The Spyglass module paths (below the package) of a schema's tables."""
    if schema.startswith("common_"):
        return ["common"]
    if schema in _SPECIAL:
        return _SPECIAL[schema]
    for family in ("position", "spikesorting"):
        if schema.startswith(family + "_v1_"):
            return [family + ".v1"]
    return []


_classes = None
_by_table = {}


def _base_of(table, merge_masters):
    """The class a table's class derives from: Spyglass's methods of that table
    (merge tables, ExportSelection, Export, SessionGroup), else ``Table``."""
    from ._export import Export, ExportSelection
    from ._merge import Merge
    from ._query import Table
    from ._session_group import SessionGroup

    if table in merge_masters:
        return Merge
    special = {
        "common_usage.ExportSelection": ExportSelection,
        "common_usage.Export": Export,
        "common_session.SessionGroup": SessionGroup,
    }
    return special.get(table, Table)


def class_of(table):
    """The class of table ``schema.Class`` (masters), or None."""
    _build()
    return _by_table.get(table)


def _build():
    """Module path -> {class name: table class}, from the registry (once)."""
    global _classes
    if _classes is not None:
        return _classes
    from ._methods import METHODS
    from ._query import Table

    out = {}
    masters = {}
    merge_masters = {master for master, _, _ in _native.merge_registry()}
    # masters before parts: a merge table's parts come from the pipelines feeding it
    registry = sorted(_native.registry(), key=lambda r: "." in r[2])
    for _pipeline, schema, class_name in registry:
        if "." in class_name:
            master, part = class_name.split(".", 1)
            cls = type(part, (Table,), {"_table": f"{schema}.{class_name}", "__module__": __name__})
            owner = masters.get((schema, master))
            if owner is not None:
                type.__setattr__(owner, part, cls)
            continue
        table = f"{schema}.{class_name}"
        cls = type(
            class_name,
            (_base_of(table, merge_masters),),
            {"_table": table, "__doc__": f"The table {table}.", **METHODS.get(table, {})},
        )
        masters[(schema, class_name)] = cls
        _by_table[table] = cls
        for module in modules_of(schema):
            out.setdefault(module, {}).setdefault(class_name, cls)
    _classes = out
    return out


def module_getattr(module_name):
    """``__getattr__`` and ``__dir__`` for the module ``module_name``."""
    rel = module_name.split(".", 1)[1] if "." in module_name else ""

    def __getattr__(name):
        classes = _build().get(rel, {})
        if name in classes:
            cls = classes[name]
            type.__setattr__(cls, "__module__", module_name)
            return cls
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    def __dir__():
        return sorted(_build().get(rel, {}))

    return __getattr__, __dir__

# Loads functions and classes from the installed Python Spyglass's own source files
# without importing their modules: those modules declare DataJoint schemas at import,
# which needs a database server. The named top-level definitions (or methods of a named
# class) are compiled from the installed file into a namespace the caller provides
# with the module's imports. The code that runs is Spyglass's, unmodified.
import ast
import importlib.util
import logging
import pathlib

import numpy as np
import pandas as pd

SPYGLASS_ROOT = pathlib.Path(importlib.util.find_spec("spyglass").submodule_search_locations[0])
logger = logging.getLogger("spyglass-oracle")


def _compile(relpath, nodes, namespace):
    path = SPYGLASS_ROOT / relpath
    module = ast.Module(body=nodes, type_ignores=[])
    exec(compile(module, str(path), "exec"), namespace)
    return namespace


def load_defs(relpath, names, namespace):
    """Top-level functions, classes and assignments called `names` from a Spyglass file."""
    tree = ast.parse((SPYGLASS_ROOT / relpath).read_text())
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
            found.append(node)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in names for t in node.targets
        ):
            found.append(node)
    missing = set(names) - {getattr(n, "name", None) or n.targets[0].id for n in found}
    if missing:
        raise LookupError(f"{relpath}: not found: {sorted(missing)}")
    return _compile(relpath, found, namespace)


def load_methods(relpath, class_name, methods, namespace, extra_base=object):
    """A plain class `class_name` holding only `methods` of that Spyglass class."""
    tree = ast.parse((SPYGLASS_ROOT / relpath).read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    body = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name in methods]
    if len(body) != len(methods):
        raise LookupError(f"{relpath}: {class_name} lacks some of {methods}")
    namespace["_ExtraBase"] = extra_base
    plain = ast.ClassDef(
        name=class_name, bases=[ast.Name("_ExtraBase", ast.Load())], keywords=[],
        body=body, decorator_list=[], type_params=[],
    )
    ast.fix_missing_locations(plain)
    return _compile(relpath, [plain], namespace)


def read_f64(path, shape=None):
    a = np.fromfile(path, dtype="<f8")
    return a if shape is None else a.reshape(shape)


def write_f64(path, *arrays):
    np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays]).astype("<f8").tofile(path)


def position_namespace():
    """common_position.py's imports."""
    import bottleneck
    import datajoint as dj
    from position_tools import get_angle, get_centroid, get_distance, get_speed, get_velocity, interpolate_nan
    from position_tools.core import gaussian_smooth

    return dict(
        bottleneck=bottleneck, dj=dj, np=np, pd=pd, get_angle=get_angle, get_centroid=get_centroid,
        get_distance=get_distance, get_speed=get_speed, get_velocity=get_velocity,
        interpolate_nan=interpolate_nan, gaussian_smooth=gaussian_smooth, logger=logger,
    )


class _Messages:
    def _warn_msg(self, msg):
        logger.warning(msg)

    def _info_msg(self, msg):
        logger.info(msg)


def interval_position_info():
    """Spyglass's IntervalPositionInfo with the methods TrodesPosV1.make calls."""
    ns = position_namespace()
    load_defs("common/common_position.py", ["_fix_col_names"], ns)
    load_methods(
        "common/common_position.py", "IntervalPositionInfo",
        ["_fix_kwargs", "_upsample", "calculate_position_info"], ns, _Messages,
    )
    return ns

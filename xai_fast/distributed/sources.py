"""The rows to explain: what kind of input they are, their columns, and the units actors load.

A unit is what one actor loads whole: an object-store chunk of an array or DataFrame, a block of
a Ray Dataset, a Parquet row group or a CSV file. Its size is known before the job starts, so
every row is handed out exactly once.
"""

from __future__ import annotations

import os

import numpy as np

from .._validation import check_data
from ..explainers import LimeTabularExplainer
from .files import read_csv, read_row_group, scan_file


def data_kind(ray, data) -> str:
    """``"array"``, ``"frame"``, ``"files"`` or ``"dataset"``; raise for anything else."""
    if isinstance(data, ray.data.Dataset):
        return "dataset"
    if type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        return "frame"
    if isinstance(data, np.ndarray):
        return "array"
    if isinstance(data, (str, os.PathLike)) or (
        isinstance(data, (list, tuple))
        and data
        and all(isinstance(p, (str, os.PathLike)) for p in data)
    ):
        return "files"
    raise TypeError(
        "data must be a numpy array, a pandas DataFrame, a path (or list of paths, or a glob) "
        f"to Parquet or CSV files, or a ray.data.Dataset; got {type(data).__name__}. Convert "
        "other array-likes with numpy.asarray."
    )


def n_features(explainer) -> int:
    """Columns the explainer takes, ``d``."""
    if isinstance(explainer, LimeTabularExplainer):
        return explainer.neighbourhood.kinds.shape[0]
    return explainer.background.data.shape[1]


def input_columns(ray, kind, data, files):
    """Column names of the data (``None`` for an array) and, for ``files`` ``(paths, format)``,
    their scan: ``(paths, format, [(columns, rows per unit)])``."""
    if kind == "array":
        return None, None
    if kind == "frame":
        columns = [str(c) for c in data.columns]
        if len(set(columns)) != len(columns):
            raise ValueError("data has duplicate column names (as strings); make them unique.")
        return columns, None
    if kind == "dataset":
        return list(data.schema().names), None
    paths, fmt = files
    scans = ray.get([ray.remote(scan_file).remote(p, fmt) for p in paths])
    columns = scans[0][0]
    for path, (cols, _) in zip(paths, scans, strict=True):
        if cols != columns:
            raise ValueError(
                f"file {path!r} has columns {cols[:5]}... but {paths[0]!r} has "
                f"{columns[:5]}...; every file must have the same columns."
            )
    return columns, (paths, fmt, scans)


def feature_columns(columns, id_column, explainer, lime):
    """Columns of the data to explain, in the explainer's order; ``None`` for arrays."""
    if columns is None:
        if id_column is not None:
            raise ValueError(
                f"id_column={id_column!r} needs data with named columns (a DataFrame, files or "
                "a Dataset); a numpy array has none. Pass the ids as a DataFrame column."
            )
        return None
    if id_column is not None and id_column not in columns:
        raise ValueError(
            f"id_column {id_column!r} is not a column of data; its columns are "
            f"{columns[:8]}{'...' if len(columns) > 8 else ''}."
        )
    names = explainer.feature_names
    if names and all(n in columns for n in names):
        return list(names)
    d = n_features(explainer)
    rest = [c for c in columns if c != id_column]
    strict = not lime and explainer.background.feature_names is not None
    if strict:
        missing = [n for n in names if n not in columns]
        raise ValueError(
            f"data lacks the background's feature columns {missing[:5]}"
            f"{'...' if len(missing) > 5 else ''}; its columns are {rest[:5]}... Rename or "
            "select the data's columns to match the background's."
        )
    if len(rest) != d:
        raise ValueError(
            f"data has {len(rest)} feature columns {rest[:5]}{'...' if len(rest) > 5 else ''} "
            f"(id_column excluded) but the explainer expects {d}; select the feature columns "
            "(and pass id_column for an id column)."
        )
    return rest


def cut_units(ray, kind, data, scan, features, id_column, d, batch_size):
    """Cut the data into units an actor loads whole (an object-store chunk of ``batch_size``
    rows, a Dataset block, a Parquet row group, a CSV file).

    Returns
    -------
    units : list of tuple
        ``("ref", ObjectRef, base)``, ``("parquet", path, row group, base)`` or
        ``("csv", path, base)``; ``base`` is the id of the unit's first row.
    lengths : list of int
        Rows per unit.
    n_rows : int
    """
    if kind in ("array", "frame"):
        ids = None
        if kind == "frame":
            frame = data.set_axis([str(c) for c in data.columns], axis=1)
            if id_column is not None:
                if not frame[id_column].is_unique:
                    raise ValueError(
                        f"id_column {id_column!r} has duplicate values; ids must be unique."
                    )
                ids = frame[id_column].to_numpy()
            data = frame[features]
        X, _, _ = check_data(data, name="data")
        if X.shape[1] != d:
            raise ValueError(
                f"data has {X.shape[1]} features but the explainer expects {d}; pass rows with "
                "the explainer's columns."
            )
        n = len(X)
        units, lengths = [], []
        for s in range(0, n, batch_size):
            e = min(s + batch_size, n)
            piece_ids = np.arange(s, e, dtype=np.int64) if ids is None else ids[s:e]
            units.append(("ref", ray.put((piece_ids, X[s:e])), s))
            lengths.append(e - s)
        return units, lengths, n
    if kind == "dataset":
        refs = data.to_pandas_refs()
        lengths = ray.get([ray.remote(_num_rows).remote(r) for r in refs])
        units, base = [], 0
        for r, n in zip(refs, lengths, strict=True):
            units.append(("ref", r, base))
            base += n
        if base == 0:
            raise ValueError("data (a ray.data.Dataset) has no rows.")
        return units, lengths, base
    paths, fmt, scans = scan
    units, lengths, base = [], [], 0
    for path, (_, sizes) in zip(paths, scans, strict=True):
        for g, n in enumerate(sizes):
            if n:
                unit = ("parquet", path, g, base) if fmt == "parquet" else ("csv", path, base)
                units.append(unit)
                lengths.append(n)
                base += n
    if base == 0:
        raise ValueError(f"the {fmt} files {paths[:3]}... hold no rows.")
    return units, lengths, base


def _num_rows(frame) -> int:
    return len(frame)


def load_unit(unit, features, id_column):
    """The ids and rows of one unit (in an actor): ``(ids (m,), X (m, d))``."""
    import ray

    if unit[0] == "ref":
        obj = ray.get(unit[1])
        if isinstance(obj, tuple):  # a chunk of an array or DataFrame: (ids, rows)
            return obj
        frame = obj.set_axis([str(c) for c in obj.columns], axis=1)  # a Dataset block
    elif unit[0] == "parquet":
        cols = list(features) + ([id_column] if id_column else [])
        frame = read_row_group(unit[1], unit[2], cols)
    else:
        frame = read_csv(unit[1]).to_pandas()
    base = unit[-1]
    if id_column is None:
        ids = np.arange(base, base + len(frame), dtype=np.int64)
    else:
        ids = frame[id_column].to_numpy()
    X, _, _ = check_data(frame[features], name="data")
    return ids, X

"""The result's columns: names from the probe row, one arrow table per piece, one DataFrame.

Columns, in :func:`xai_fast.cli.io.write_values_csv`'s order: ``row_id``, then ``base_value``
and one per feature (per output with ``k`` outputs), then ``error_std[<column>]`` when the explainer
gives error bars, then ``error``.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..explanation.convert import flat_columns

ROW_ID = "row_id"
ERROR = "error"


class Schema:
    """Names of the value columns, in :func:`xai_fast.cli.io.write_values_csv`'s order."""

    def __init__(self, value_columns, std_columns, k):
        self.value_columns = value_columns
        self.std_columns = std_columns
        self.k = k  # 0 for a single output without an output axis

    @classmethod
    def from_probe(cls, exp, names):
        """The columns of explanations shaped like ``exp`` (one row explained on the driver)."""
        shape = np.asarray(exp.values).shape
        cols, value_names, k = flat_columns(shape, names, exp.output_names)
        std = None if exp.error_std is None else [f"error_std[{c}]" for c in value_names]
        every = [ROW_ID, *cols, *(std or []), ERROR]
        if len(set(every)) != len(every):
            clash = sorted({c for c in every if every.count(c) > 1})
            raise ValueError(
                f"feature names {clash} clash with the result's own columns; rename those "
                "features (feature_names=...)."
            )
        return cls(cols, std, k)

    def tables(self, exp):
        """``(values (n, c), error_std (n, c_std) or None)`` of an Explanation of n rows."""
        values = np.asarray(exp.values, dtype=np.float64)
        base = np.asarray(exp.base_values, dtype=np.float64)
        std = None if exp.error_std is None else np.asarray(exp.error_std, dtype=np.float64)
        n = values.shape[0]
        if values.ndim == 2:
            return np.column_stack([base.reshape(n), values]), std
        k = values.shape[2]
        base = base.reshape(n, k)
        table = np.hstack([np.column_stack([base[:, o], values[:, :, o]]) for o in range(k)])
        if std is not None:
            std = np.hstack([std[:, :, o] for o in range(k)])
        return table, std


def to_arrow(ids, values, std, errors, schema):
    """One piece's result as a pyarrow Table.

    Parameters
    ----------
    ids : ndarray, shape (n,)
    values : ndarray of float64, shape (n, len(schema.value_columns))
    std : ndarray of float64, shape (n, len(schema.std_columns)), or None
    errors : list of str or None, length n
    schema : Schema
    """
    import pyarrow as pa

    arrays = [pa.array(ids)] + [
        pa.array(values[:, j], pa.float64()) for j in range(values.shape[1])
    ]
    names = [ROW_ID, *schema.value_columns]
    if std is not None:
        arrays += [pa.array(std[:, j], pa.float64()) for j in range(std.shape[1])]
        names += schema.std_columns
    arrays.append(pa.array(errors, pa.string()))
    names.append(ERROR)
    return pa.Table.from_arrays(arrays, names=names)


def collect(ray, ds, n_rows, id_column):
    """Every piece's table from ``ds`` as one DataFrame sorted by row id; warn of failed rows."""
    import pyarrow as pa

    table = pa.concat_tables(ray.get(ds.to_arrow_refs()), promote_options="default")
    df = table.to_pandas().sort_values(ROW_ID, kind="stable").reset_index(drop=True)
    if len(df) != n_rows or (id_column is None and not df[ROW_ID].is_unique):
        raise RuntimeError(  # pragma: no cover - guards "every row exactly once"
            f"the cluster returned {len(df)} rows ({df[ROW_ID].nunique()} distinct ids) for "
            f"{n_rows} input rows; please report this with the Ray version."
        )
    failed = int(df[ERROR].notna().sum())
    if failed:
        first = df.loc[df[ERROR].notna(), ROW_ID].head(5).tolist()
        warnings.warn(
            f"{failed} of {n_rows} rows could not be explained (row ids {first}...); their "
            "values are NaN and the 'error' column holds each message.",
            RuntimeWarning,
            stacklevel=3,  # the caller of explain
        )
    return df

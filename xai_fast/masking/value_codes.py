"""Columns that are not numbers (strings, categories, any Python objects), passed through.

Masking only copies values from the explained row or a background row; it never does
arithmetic on them. So non-numeric data is replaced by float64 codes (one code per distinct
value, exact in float64), the engine masks the codes as it masks numbers, and the model gets
the values back: :class:`DecodedModel` turns a chunk of codes into the values with one
indexing of a table, no loop over rows or columns.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DecodedModel", "ValueCodes", "is_non_numeric"]

_NAN = object()  # one key for every NaN: NaN is not equal to itself, but it is one value here


def is_non_numeric(data) -> bool:
    """Whether ``data`` (array-like or DataFrame) holds values that are not numbers or bools."""
    dtypes = getattr(data, "dtypes", None)
    if dtypes is not None and hasattr(data, "columns"):  # a DataFrame: any non-numeric column
        return any(getattr(t, "kind", "O") not in "biuf" for t in dtypes)
    if isinstance(data, np.ndarray):
        return not _numeric_kind(data.dtype)
    if not isinstance(data, (list, tuple)):
        return False  # tensors, sparse matrices, summaries of a background: numeric
    try:
        return not _numeric_kind(np.asarray(data).dtype)
    except (TypeError, ValueError):
        return False  # check_data explains what is wrong


def _numeric_kind(dtype: np.dtype) -> bool:
    return dtype.kind in "biuf"  # bools, integers, floats


def _key(v):
    return _NAN if isinstance(v, float) and v != v else v


class ValueCodes:
    """A code for each distinct value seen, shared by all columns (a code stands for the same
    value wherever it appears, so equal codes in a column are equal values)."""

    def __init__(self):
        self.values: list = []
        self.index: dict = {}
        self.dtype = None  # what the model gets: the data's string dtype, or object
        self._table = None

    def encode(self, arr: np.ndarray) -> np.ndarray:
        """Codes ``(n, d)`` float64 of the values ``arr`` ``(n, d)``; new values get new codes.

        Raises
        ------
        TypeError
            For a value that cannot be hashed (a list, an array).
        """
        kind = arr.dtype if arr.dtype.kind in "US" else np.dtype(object)
        self.dtype = kind if self.dtype is None else np.result_type(self.dtype, kind)
        flat = arr.ravel()
        codes = np.empty(flat.size, dtype=np.float64)
        values, index = self.values, self.index
        for k, v in enumerate(flat.tolist()):  # once per row explained, not per coalition
            key = _key(v)
            try:
                c = index.get(key)
            except TypeError:
                raise TypeError(
                    f"data holds a value of type {type(v).__name__}, which cannot be compared "
                    "by hashing; pass numbers, strings or other hashable values per cell."
                ) from None
            if c is None:
                c = index[key] = len(values)
                values.append(v)
            codes[k] = c
        self._table = None
        return codes.reshape(arr.shape)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """The values of ``codes`` (any shape), in the data's dtype."""
        if self._table is None:
            table = np.empty(len(self.values), dtype=object)
            table[:] = self.values
            self._table = table if self.dtype == object else table.astype(self.dtype)
        return self._table[np.asarray(codes).astype(np.intp)]


class DecodedModel:
    """``model`` on the values of coded rows: ``model(codes.decode(rows))``."""

    def __init__(self, model, codes: ValueCodes):
        self.model, self.codes = model, codes

    def __call__(self, rows):
        return self.model(self.codes.decode(rows))

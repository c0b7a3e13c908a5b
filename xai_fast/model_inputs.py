"""The form a model gets its rows in, and the names of its outputs.

A scikit-learn estimator fitted on a DataFrame warns on every call that gets a plain array
("X does not have valid feature names"), so when the user's data is a DataFrame and the model
is such an estimator's bound method, it gets DataFrames with the original columns and dtypes
(:class:`AsFittedFrame`). Output names come from the user, a DataFrame the model returns, or a
classifier's ``classes_`` (:func:`output_names_of`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["AsFittedFrame", "fitted_on_frame", "frame_columns", "output_names_of"]

_PER_CLASS = ("predict_proba", "predict_log_proba", "decision_function")


def _estimator(model):
    """The object behind a bound method (``clf.predict``), else ``None``."""
    return getattr(model, "__self__", None)


def frame_columns(data):
    """The column names of ``data``: a DataFrame's, or a :class:`~xai_fast.Background`'s
    feature names (e.g. of ``kmeans`` on a DataFrame); ``None`` for plain arrays."""
    columns = getattr(data, "columns", None)
    if columns is None:
        columns = getattr(data, "feature_names", None)
    return None if columns is None else list(columns)


def fitted_on_frame(model, columns) -> bool:
    """Whether ``model`` is the bound method of an estimator fitted on a DataFrame with the
    columns ``columns`` (names, or ``None``)."""
    names = getattr(_estimator(model), "feature_names_in_", None)
    if names is None or columns is None:
        return False
    return [str(c) for c in names] == [str(c) for c in columns]


class AsFittedFrame:
    """``model`` on DataFrames with the columns ``columns`` (and the dtypes of ``frame``, a
    DataFrame, when given), built from rows ``(n, d)`` (numbers, or the values of
    non-numeric columns)."""

    def __init__(self, model, columns, frame=None):
        self.model = model
        self.columns = list(columns)
        dtypes = None if frame is None or not hasattr(frame, "dtypes") else frame.dtypes
        plain = dtypes is None or all(getattr(t, "kind", "O") == "f" for t in dtypes)
        self.dtypes = None if plain else dtypes.to_dict()  # float columns need no cast

    def __call__(self, rows):
        import pandas as pd

        out = pd.DataFrame(rows, columns=self.columns)
        return self.model(out if self.dtypes is None else out.astype(self.dtypes))


def output_names_of(model, output_names, k: int, returned_columns=None):
    """The names of the model's ``k`` outputs: ``output_names`` if given (checked), else the
    columns of a DataFrame it returned, else a classifier's ``classes_`` for its per-class
    methods; ``None`` when none applies."""
    if output_names is not None:
        names = [str(n) for n in np.ravel(np.asarray(output_names, dtype=object))]
        if len(names) != k:
            raise ValueError(
                f"output_names has {len(names)} names but the model returns {k} output(s); pass "
                "one name per output column."
            )
        return names
    if returned_columns is not None and len(returned_columns) == k:
        return [str(c) for c in returned_columns]
    classes = getattr(_estimator(model), "classes_", None)
    method = getattr(model, "__name__", "")
    if classes is not None and method in _PER_CLASS and len(classes) == k and k > 1:
        return [str(c) for c in classes]
    return None

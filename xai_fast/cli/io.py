"""Files in and out for the command line: saved models, CSV data and CSV values."""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import numpy as np

from ..explanation.convert import flat_columns

__all__ = ["load_model", "read_csv", "write_values_csv"]

_PICKLE = {".pkl", ".pickle", ".joblib"}
_TORCH = {".pt", ".pth", ".ts", ".torchscript"}


def read_csv(path, what: str):
    """A numeric CSV with a header line: ``(column names, (n, d) float64 array)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {str(path)!r} does not exist.")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    rows = [r for r in rows if r]
    if len(rows) < 2:
        raise ValueError(f"{what} file {str(path)!r} needs a header line and at least one row.")
    names = [c.strip() for c in rows[0]]
    d = len(names)
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != d:
            raise ValueError(
                f"{what} file {str(path)!r}: line {i} has {len(r)} fields; the header has {d}."
            )
    try:
        X = np.array([[float(v) for v in r] for r in rows[1:]], dtype=np.float64)
    except ValueError as err:
        raise ValueError(
            f"{what} file {str(path)!r} must hold numbers only below its header ({err}); encode "
            "categorical columns as numbers first."
        ) from None
    return names, X


def load_model(path, output: str = "auto"):
    """Load a saved model and pick the function to explain.

    Parameters
    ----------
    path : str or Path
        A pickled scikit-learn model or callable (``.pkl``, ``.pickle``, ``.joblib``), a
        TorchScript file or a ``torch.save``-d module (``.pt``, ``.pth``).
    output : {"auto", "predict_proba", "predict"}
        Which method of a scikit-learn style model to explain; ``"auto"`` prefers
        ``predict_proba``.

    Returns
    -------
    model : callable or torch.nn.Module
    output_names : list of str or None
        Class labels of a classifier's ``predict_proba``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist.")
    obj = _load_torch(path) if path.suffix in _TORCH else _load_pickle(path)
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return obj, None
    if isinstance(obj, dict):
        raise TypeError(
            f"{str(path)!r} holds a dict (a state_dict?), not a model; save the whole module "
            "(torch.save(model, path) or torch.jit.save(torch.jit.script(model), path))."
        )
    if output in ("auto", "predict_proba") and hasattr(obj, "predict_proba"):
        classes = getattr(obj, "classes_", None)
        return obj.predict_proba, None if classes is None else [str(c) for c in classes]
    if output == "predict_proba":
        raise TypeError(f"the model in {str(path)!r} has no predict_proba; use --output predict.")
    if hasattr(obj, "predict"):
        return obj.predict, None
    if callable(obj):
        return obj, None
    raise TypeError(
        f"{str(path)!r} holds a {type(obj).__name__}, which is neither callable nor has "
        "predict/predict_proba."
    )


def _load_pickle(path):
    try:
        if path.suffix == ".joblib":
            import joblib

            return joblib.load(path)
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError) as err:
        raise ValueError(f"could not unpickle the model in {str(path)!r}: {err}") from None


def _load_torch(path):
    import warnings

    import torch

    try:
        with warnings.catch_warnings():  # TorchScript's deprecation notice is not the user's
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location="cpu")
    except RuntimeError:
        pass  # not TorchScript: a pickled module
    try:
        return torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises many types for a bad file
        raise ValueError(f"could not load a torch model from {str(path)!r}: {err}") from None


def write_values_csv(path, exp) -> None:
    """Write an explanation's values as CSV, one line per row.

    Columns: ``base_value`` then one per feature; with several outputs, ``base_value[<o>]`` and
    ``<feature>[<o>]`` for each output ``o`` in turn.
    """
    values = np.asarray(exp.values)
    base = np.asarray(exp.base_values)
    if values.ndim == 1:  # a single row
        values, base = values[None], base[None]
    n = values.shape[0]
    header, _, k = flat_columns(values.shape, exp.feature_names, exp.output_names)
    if k == 0:
        table = np.column_stack([base.reshape(n), values])
    else:
        cols = []
        for o in range(k):
            cols += [base.reshape(n, k)[:, o : o + 1], values[:, :, o]]
        table = np.hstack(cols)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([[repr(float(v)) for v in row] for row in table])

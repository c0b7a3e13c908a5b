"""Every check of user input, sklearn style: return the converted value or raise a helpful error."""

from __future__ import annotations

import numpy as np

__all__ = ["check_data", "check_link", "check_no_kwargs", "check_nsamples", "check_feature_names"]


def _is_pandas(obj) -> bool:
    return type(obj).__module__.startswith("pandas")


def check_data(data, *, name: str, allow_1d: bool = False):
    """Convert ``data`` to a 2-D numeric numpy array.

    Parameters
    ----------
    data : array-like or pandas.DataFrame or pandas.Series
    name : str
        What the argument is called, for error messages.
    allow_1d : bool
        Accept a single row of shape ``(d,)`` (returned as ``(1, d)``).

    Returns
    -------
    array : ndarray, shape (n, d)
        Floating arrays keep their dtype; other numeric arrays become float64.
    columns : list of str or None
        Column names of a DataFrame (or index of a Series).
    was_1d : bool
    """
    columns = None
    if _is_pandas(data):
        if hasattr(data, "columns"):
            columns = [str(c) for c in data.columns]
        elif hasattr(data, "index"):
            columns = [str(c) for c in data.index]
        try:
            data = data.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must hold numeric values only; a column could not be converted to "
                "float. Encode categorical columns as numbers first."
            ) from None
    elif hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu().numpy()
    elif hasattr(data, "toarray") and hasattr(data, "nnz"):
        raise TypeError(f"{name} is a sparse matrix; pass a dense array (e.g. {name}.toarray()).")
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a numeric array-like; could not convert it ({err})."
        ) from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(
            f"{name} must be numeric; got an array of dtype {arr.dtype}. Encode categorical or "
            "text columns as numbers first."
        )
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued numeric; got complex dtype {arr.dtype}.")
    was_1d = arr.ndim == 1
    if was_1d and allow_1d:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        expected = "(n, d) or a single row (d,)" if allow_1d else "(n, d)"
        raise ValueError(f"{name} must have shape {expected}; got an array of shape {arr.shape}.")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"{name} is empty (shape {arr.shape}); it needs at least one row and one feature."
        )
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr, columns, was_1d


def check_feature_names(feature_names, d: int):
    """Return ``feature_names`` as a list of ``d`` strings, or ``None``."""
    if feature_names is None:
        return None
    names = [str(f) for f in feature_names]
    if len(names) != d:
        raise ValueError(
            f"feature_names has {len(names)} names but the data has {d} features; pass one name "
            "per column."
        )
    return names


def check_link(link) -> str:
    """``"identity"`` or ``"logit"``."""
    if link in ("identity", "logit"):
        return link
    raise ValueError(f"link must be 'identity' or 'logit'; got {link!r}.")


def check_nsamples(nsamples):
    """``"auto"`` or a positive int."""
    if isinstance(nsamples, str) and nsamples == "auto":
        return nsamples
    if isinstance(nsamples, (int, np.integer)) and not isinstance(nsamples, bool) and nsamples >= 1:
        return int(nsamples)
    raise ValueError(f"nsamples must be 'auto' or a positive int; got {nsamples!r}.")


def check_no_kwargs(kwargs: dict, where: str, accepted) -> None:
    """Reject unknown keyword arguments instead of ignoring them."""
    if kwargs:
        raise TypeError(
            f"{where} got unexpected keyword argument(s) {sorted(kwargs)}; accepted: "
            f"{sorted(accepted)}."
        )

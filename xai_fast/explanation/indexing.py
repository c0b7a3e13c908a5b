"""Outer indexing of an :class:`~xai_fast.Explanation`: each axis of ``values`` indexed on its
own by an int, a slice, a boolean mask, an array of ints or (feature and output axes) names."""

from __future__ import annotations

import numpy as np

from .._validation import is_int

#: Names of the axes of ``values``; ``dim2`` ... ``dim5`` are further axes of each example's
#: input (an image ``(N, C, H, W)`` explained has axes row, feature, dim2, dim3).
INPUT_AXES = ("dim2", "dim3", "dim4", "dim5")
AXES = ("row", "feature", "feature2", "output") + INPUT_AXES
# Which axes of ``values`` the other arrays have.
BASE_AXES = ("row", "output")
DATA_AXES = ("row", "feature") + INPUT_AXES
# How many names a KeyError lists.
_SHOWN_NAMES = 8


def _expand_key(key, axes: tuple, shape: tuple) -> list:
    """Expand ``key`` to one entry per axis of values of ``shape`` (axes named ``axes``)."""
    key = key if isinstance(key, tuple) else (key,)
    nd = len(shape)
    n_ellipsis = sum(k is Ellipsis for k in key)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...').")
    if n_ellipsis:
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = nd - (len(key) - 1)
        key = key[:at] + (slice(None),) * fill + key[at + 1 :]
    if len(key) > nd:
        raise IndexError(
            f"too many indices: the explanation has {nd} axes {axes} of shape {shape}."
        )
    return list(key) + [slice(None)] * (nd - len(key))


def _resolve(axis: str, k, size: int, names):
    """Turn one axis's key into an int, a slice or a 1-D array of ints.

    ``size`` is the axis's length and ``names`` the names that can index it (or ``None``).
    """
    if k is None or isinstance(k, (bool, np.bool_)):
        raise IndexError(f"cannot index the {axis!r} axis with {k!r}; new axes are not supported.")
    if is_int(k) or isinstance(k, slice):
        return k
    if isinstance(k, str):
        return _name_index(axis, k, names, size)
    if hasattr(k, "detach") and hasattr(k, "cpu"):  # a torch tensor
        k = k.detach().cpu().numpy()
    arr = np.asarray(k)
    if arr.ndim == 0:
        return _resolve(axis, arr.item(), size, names)
    if arr.ndim != 1:
        raise IndexError(f"the {axis!r} axis takes a 1-D index; got an array of shape {arr.shape}.")
    if arr.dtype == bool:
        if len(arr) != size:
            raise IndexError(
                f"boolean mask of length {len(arr)} for the {axis!r} axis of length {size}."
            )
        return np.flatnonzero(arr)
    if arr.dtype.kind in "US" or (arr.dtype == object and all(isinstance(s, str) for s in arr)):
        return np.array([_name_index(axis, str(s), names, size) for s in arr], dtype=np.intp)
    if arr.size == 0:
        return arr.astype(np.intp)
    if arr.dtype.kind not in "iu":
        raise IndexError(
            f"the {axis!r} axis takes ints, a boolean mask or names; got dtype {arr.dtype}."
        )
    return arr


def _name_index(axis: str, name: str, names, size: int) -> int:
    """Position of ``name`` among the ``size`` ``names`` of ``axis`` (the first, if names
    repeat)."""
    if axis == "row":
        raise KeyError(f"rows have no names; index rows by position or boolean mask, not {name!r}.")
    kind = "output" if axis == "output" else "feature"
    if names is None or len(names) != size:
        raise KeyError(
            f"cannot look up {name!r}: the {axis!r} axis has no {kind} names. Index it by "
            f"position, or pass {kind}_names when creating the explanation."
        )
    try:
        return [str(s) for s in names].index(name)
    except ValueError:
        shown = ", ".join(repr(str(s)) for s in names[:_SHOWN_NAMES])
        more = f", ... ({len(names)} in all)" if len(names) > _SHOWN_NAMES else ""
        article = "an" if kind == "output" else "a"
        raise KeyError(
            f"{name!r} is not {article} {kind} name; valid names: {shown}{more}."
        ) from None


def _take(arr, arr_axes, keys):
    """Index ``arr`` (whose axes are named ``arr_axes``) by ``keys[axis]``, one axis at a time."""
    for pos in reversed(range(len(arr_axes))):  # last first: earlier positions do not move
        k = keys[arr_axes[pos]]
        if not (isinstance(k, slice) and k == slice(None)):
            arr = arr[(slice(None),) * pos + (k,)]
    return arr


def _pick(names, k):
    """Names selected by index ``k``: a list, or the one name itself for an int ``k`` (the
    axis is gone), as shap's slicing gives."""
    if names is None or k is None or np.ndim(names) == 0:
        return names
    picked = np.asarray(names, dtype=object)[k]
    return picked if is_int(k) else list(picked)


def name_list(names):
    """``names`` as a list: one name (the name of a sliced-away axis) becomes a list of one."""
    if names is None:
        return None
    return [names] if np.ndim(names) == 0 else list(names)


def as_names(names, axis, size):
    """Names given to :class:`~xai_fast.Explanation`: a list, or one name (a str, say) for an
    axis sliced away. One name for a present ``axis`` of ``size`` 1 becomes a list of one."""
    if names is None or np.ndim(names) != 0:
        return None if names is None else list(names)
    if axis is None:
        return names
    if size == 1:
        return [names]
    raise ValueError(
        f"one name ({names!r}) for the {axis!r} axis of length {size}; pass a list of {size} names."
    )

"""Every check of user input, sklearn style: return the converted value or raise a helpful error."""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import sys
import types

import numpy as np

__all__ = [
    "DimensionError",
    "check_batch_size",
    "check_data",
    "check_feature_names",
    "check_flag",
    "check_int",
    "check_link",
    "check_model",
    "check_no_kwargs",
    "check_nsamples",
    "check_positive_int",
    "check_real",
    "check_seed",
    "check_target",
    "check_workers",
    "draw_lime_seed",
    "warn_ignored_kwargs",
    "is_int",
    "is_real",
]


def _is_pandas(obj) -> bool:
    return type(obj).__module__.startswith("pandas")


def check_data(data, *, name: str, allow_1d: bool = False, numeric: bool = True):
    """Convert ``data`` to a 2-D numeric numpy array (with ``numeric=False``, any values:
    non-numeric arrays and DataFrames come back as they are, or as object arrays).

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
            data = data.to_numpy(dtype=np.float64 if numeric else object)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must hold numeric values only; a column could not be converted to "
                "float. Encode categorical columns as numbers first."
            ) from None
    elif hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu().numpy()
    elif hasattr(data, "toarray") and hasattr(data, "nnz"):  # scipy.sparse: rows made dense
        data = data.toarray()
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a numeric array-like; could not convert it ({err})."
        ) from None
    numbers = np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    if numeric and (arr.dtype == object or not numbers):
        raise TypeError(
            f"{name} must be numeric; got an array of dtype {arr.dtype}. Encode categorical or "
            "text columns as numbers first."
        )
    if numbers and np.iscomplexobj(arr):
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
    if numbers and not np.issubdtype(arr.dtype, np.floating):
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


def check_same_columns(columns, names, what: str = "the background") -> None:
    """Refuse DataFrame rows whose columns ``columns`` are not ``names`` in the same order,
    naming the first position that differs and the missing and extra columns."""
    if columns is None or names is None or list(columns) == list(names):
        return
    columns, names = list(columns), list(names)
    missing = [c for c in names if c not in columns]
    extra = [c for c in columns if c not in names]
    at = next((i for i, (a, b) in enumerate(zip(columns, names)) if a != b), None)  # noqa: B905
    parts = []
    if at is not None:
        parts.append(f"at position {at}, X has {columns[at]!r} where {what} has {names[at]!r}")
    if missing:
        parts.append(f"missing: {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    if extra:
        parts.append(f"extra: {extra[:5]}{' ...' if len(extra) > 5 else ''}")
    raise ValueError(
        f"X's columns do not match {what} ({'; '.join(parts)}); select and order them like "
        f"{what}'s: {names[:5]}{' ...' if len(names) > 5 else ''}."
    )


def explained_init(cls):
    """Class decorator: a call of ``cls(...)`` with arguments its ``__init__`` does not take
    raises a ``TypeError`` listing the ones it takes (Python's own names only the stray one).
    ``__init__`` methods with ``**kwargs`` check their keywords themselves and are left alone."""
    init = cls.__dict__.get("__init__")
    if not isinstance(init, types.FunctionType) or getattr(init, "_explained", False):
        return cls
    sig = inspect.signature(init)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return cls
    takes = [n for n in list(sig.parameters)[1:]]

    @functools.wraps(init)
    def checked(self, *args, **kwargs):
        try:
            sig.bind(self, *args, **kwargs)
        except TypeError as err:
            raise TypeError(
                f"{type(self).__name__}(): {err}. It takes {', '.join(takes) or 'no arguments'}."
            ) from None
        return init(self, *args, **kwargs)

    checked._explained = True
    cls.__init__ = checked
    return cls


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


# ---------------------------------------------------------------------------- scalars
def is_int(value) -> bool:
    """An integer that is not a bool (numpy integers included)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    """A real number that is not a bool (numpy scalars included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(value, name: str, minimum: int = 1, *, hint: str = "") -> int:
    """``value`` as an int ``>= minimum``; ValueError otherwise (``hint`` says what it means)."""
    if not is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}{hint}; got {value!r}.")
    return int(value)


def check_positive_int(value, name: str, *, or_none: bool = False):
    """``value`` as an int ``>= 1`` (or ``None`` when ``or_none``); ValueError otherwise."""
    if value is None and or_none:
        return None
    if not is_int(value) or value < 1:
        alt = " or None" if or_none else ""
        raise ValueError(f"{name} must be a positive int{alt}; got {value!r}.")
    return int(value)


def check_real(value, name: str, *, minimum: float = -math.inf, positive: bool = False) -> float:
    """``value`` as a finite float, ``> 0`` when ``positive`` and ``>= minimum``."""
    ok = is_real(value) and math.isfinite(value) and value >= minimum
    if ok and positive:
        ok = value > 0
    if not ok:
        want = "a positive float" if positive else f"a float >= {minimum:g}"
        if not positive and minimum == -math.inf:
            want = "a finite float"
        raise ValueError(f"{name} must be {want}; got {value!r}.")
    return float(value)


def check_flag(value, name: str) -> bool:
    """``True`` or ``False`` (numpy bools included); TypeError otherwise."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_optional_flag(value, name: str):
    """``None``, ``True`` or ``False`` (numpy bools included); TypeError otherwise."""
    if value is None:
        return None
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True, False or None; got {value!r}.")
    return bool(value)


def check_seed(seed, *, torch_generator: bool = False):
    """``None``, an int or a numpy Generator (and a torch Generator when ``torch_generator``);
    returned unchanged. TypeError otherwise."""
    if seed is None or is_int(seed) or isinstance(seed, np.random.Generator):
        return seed
    torch = sys.modules.get("torch")
    if torch_generator and torch is not None and isinstance(seed, torch.Generator):
        return seed
    kinds = (
        "None, an int, a numpy.random.Generator or a torch.Generator"
        if torch_generator
        else "None, an int or a numpy.random.Generator"
    )
    raise TypeError(
        f"seed must be {kinds}; got {type(seed).__name__}. Pass an integer such as seed=0 for "
        "reproducible results."
    )


def check_batch_size(batch_size):
    """Rows per model call: a positive int or ``None`` (the default)."""
    return check_positive_int(batch_size, "batch_size", or_none=True)


def check_workers(workers):
    """Chunks evaluated side by side: a positive int or ``None`` (the default)."""
    return check_positive_int(workers, "workers", or_none=True)


def check_model(model, *, accepts: str):
    """A ``torch.nn.Module`` or a callable; TypeError naming what it must map otherwise."""
    torch = sys.modules.get("torch")
    if (torch is not None and isinstance(model, torch.nn.Module)) or callable(model):
        return model
    raise TypeError(
        f"model must be a torch.nn.Module or a callable mapping {accepts} to (n,) or (n, k) "
        f"outputs; got {type(model).__name__}."
    )


# ---------------------------------------------------------------------------- targets
def check_target(target, N: int, device=None):
    """``target`` as an int64 tensor ``(N, m)``: ``m`` indices into the output axes after the
    batch axis, for each of ``N`` examples; ``None`` stays ``None``.

    Accepts an int, a tuple of ints (one index per output axis), a list of ``N`` ints or of
    ``N`` equal-length tuples, or an integer tensor / array of one or ``N`` elements.
    """
    import torch

    if target is None:
        return None
    if is_int(target):
        T = torch.tensor([[int(target)]])
    elif isinstance(target, tuple) and target and all(is_int(v) for v in target):
        T = torch.tensor([[int(v) for v in target]])
    elif isinstance(target, (torch.Tensor, np.ndarray)):
        t = torch.as_tensor(target)
        if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
            raise TypeError(
                f"target must hold integer output indices; got a tensor of dtype {t.dtype}. "
                "Pass e.g. target.long()."
            )
        if t.numel() == 1:
            T = t.reshape(1, 1)
        elif t.dim() == 1 and t.shape[0] == N:
            T = t.reshape(N, 1)
        else:
            raise ValueError(
                f"target has shape {tuple(t.shape)} but the inputs hold {N} examples; pass one "
                f"int for all examples or {N} ints (one per example)."
            )
    elif isinstance(target, list):
        if len(target) != N:
            raise ValueError(
                f"target is a list of {len(target)} but the inputs hold {N} examples; pass one "
                "int (or tuple of ints) per example, or a single int for all."
            )
        if all(is_int(v) for v in target):
            T = torch.tensor([[int(v)] for v in target], dtype=torch.int64).reshape(N, 1)
        elif all(isinstance(v, tuple) and v and all(is_int(u) for u in v) for v in target) and (
            len({len(v) for v in target}) == 1
        ):
            T = torch.tensor([[int(u) for u in v] for v in target])
        else:
            raise TypeError(
                "a target list must hold ints, or tuples of ints of one length, one per example."
            )
    else:
        raise TypeError(
            "target must be None, an int, a tuple of ints, or a list / 1-D tensor with one int "
            f"(or tuple of ints) per example; got {type(target).__name__}."
        )
    return T.to(device=device, dtype=torch.int64).expand(N, -1)


def draw_lime_seed(random_state) -> np.uint64:
    """One call's 64-bit seed from a lime-style ``random_state``.

    ``None`` draws it from numpy's global generator (as lime does, so ``np.random.seed(0)``
    makes a script reproducible; the global state is read, never seeded); a ``RandomState`` or
    ``Generator`` contributes one draw (and advances); an int is the seed itself (the same
    every call). TypeError otherwise.
    """
    if random_state is None:  # lime's behaviour: a draw from the global generator
        from ._rng import numpy_global_seed

        return numpy_global_seed()
    if isinstance(random_state, np.random.RandomState):
        return np.uint64(random_state.randint(0, 2**63, dtype=np.int64))
    if isinstance(random_state, np.random.Generator):
        return np.uint64(random_state.integers(0, 2**63, dtype=np.int64))
    if not is_int(random_state):
        raise TypeError(
            "random_state must be None, an int, a numpy RandomState or Generator; got "
            f"{type(random_state).__name__}. Pass an integer such as random_state=0."
        )
    return np.uint64(int(random_state) & (2**64 - 1))


def warn_ignored_kwargs(kwargs: dict, where: str, ignored, hint: str) -> None:
    """Remove from ``kwargs`` the keywords shap accepts and ignores, with a ``UserWarning``."""
    import warnings

    found = sorted(k for k in ignored if k in kwargs)
    for k in found:
        del kwargs[k]
    if found:
        warnings.warn(f"{where} ignores {found}, as shap does; {hint}.", UserWarning, stacklevel=3)


class CaptumArgumentError(ValueError, AssertionError):
    """A wrong argument of a captum-style method.

    A ``ValueError``; also an ``AssertionError``, since captum checks these arguments with
    ``assert`` (code that catches captum's errors keeps working).
    """


class CaptumTypeError(TypeError, AssertionError):
    """An argument of a captum-style method of the wrong type.

    A ``TypeError``; also an ``AssertionError``, as :class:`CaptumArgumentError` is.
    """


class DimensionError(ValueError, AssertionError):
    """Arrays whose shapes do not fit together (shap's ``DimensionError``).

    A ``ValueError``; also an ``AssertionError``, since shap signals some of these mismatches
    (stacking explanations with different row counts) with ``assert``.
    """

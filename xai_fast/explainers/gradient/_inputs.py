"""Inputs and baselines of the gradient methods: their checks, and how rows of them are taken.

``_check_inputs`` turns ``attribute``'s inputs into a tuple of detached tensors ``(N, ...)``;
``_check_baselines`` gives one baseline per example and ``_check_distribution`` background rows
to draw baselines from; ``_take`` and ``_column`` gather and scale their rows.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch

from ..._validation import CaptumTypeError, is_real


def _check_inputs(inputs, *, floating: bool = True) -> tuple[tuple[torch.Tensor, ...], bool]:
    """The input tensors as a tuple, detached from any graph, and whether a tuple was given.

    Raises
    ------
    TypeError, ValueError
        For anything but a tensor or a non-empty tuple of tensors ``(N, ...)`` sharing ``N``;
        with ``floating``, for non-floating tensors (gradients need them).
    """
    if isinstance(inputs, list):
        raise TypeError(
            "inputs is a list; pass a tensor, or a tuple of tensors when the model takes several."
        )
    is_tuple = isinstance(inputs, tuple)
    xs = inputs if is_tuple else (inputs,)
    if not xs:
        raise ValueError("inputs is an empty tuple; pass at least one tensor (N, ...).")
    out = []
    for k, x in enumerate(xs):
        name = f"inputs[{k}]" if is_tuple else "inputs"
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor of shape (N, ...); got {type(x).__name__}. "
                "Convert with torch.as_tensor(...)."
            )
        if x.dim() == 0 or x.shape[0] == 0:
            raise ValueError(
                f"{name} must have shape (N, ...) with N >= 1 examples on axis 0; got shape "
                f"{tuple(x.shape)}. Add a batch axis with {name}.unsqueeze(0)."
            )
        if x.is_complex() or (floating and not x.is_floating_point()):
            raise TypeError(
                f"{name} has dtype {x.dtype}; gradients need real floating-point inputs. Convert "
                f"with {name}.float() (for token ids, attribute to the embedding layer instead)."
            )
        if x.shape[0] != xs[0].shape[0]:
            raise ValueError(
                f"{name} holds {x.shape[0]} examples but inputs[0] holds {xs[0].shape[0]}; every "
                "input tensor needs the same examples on axis 0."
            )
        x = x.detach()
        out.append(x.clone() if x.is_inference() else x)  # inference tensors cannot get grads
    return tuple(out), is_tuple


def _as_tuple(baselines, xs, name: str) -> tuple:
    bs = baselines if isinstance(baselines, tuple) else (baselines,)
    if len(bs) != len(xs):
        raise ValueError(
            f"{name} has {len(bs)} entries but inputs has {len(xs)} tensor(s); pass one baseline "
            "per input tensor, as a tuple in the same order."
        )
    return bs


def _baseline_tensor(b, x: torch.Tensor, name: str) -> torch.Tensor:
    """``b`` as a tensor of ``x``'s dtype and device with ``x.dim()`` axes."""
    if is_real(b):
        if not math.isfinite(float(b)):
            raise ValueError(f"{name} is {float(b)}; use a finite baseline.")
        return torch.full((1,) * x.dim(), float(b), dtype=x.dtype, device=x.device)
    if not isinstance(b, (torch.Tensor, np.ndarray)):
        raise CaptumTypeError(
            f"{name} must be a number or a tensor; got {type(b).__name__}. Convert it with "
            "torch.tensor(...)."
        )
    t = torch.as_tensor(b, device=x.device).detach()
    if t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must be real numbers; got dtype {t.dtype}.")
    if t.dim() > x.dim():
        raise ValueError(
            f"{name} has shape {tuple(t.shape)}, more axes than the inputs {tuple(x.shape)}."
        )
    t = t.reshape((1,) * (x.dim() - t.dim()) + tuple(t.shape)).to(x.dtype)
    finite = torch.isfinite(t.reshape(t.shape[0], -1)).all(dim=1)
    if not bool(finite.all()):
        rows = torch.nonzero(~finite)[:, 0].tolist()
        raise ValueError(
            f"{name} contains NaN or inf in {len(rows)} of {t.shape[0]} rows (first: "
            f"{rows[:5]}); attributions against them would be NaN. Use finite baselines."
        )
    return t


def _check_baselines(
    baselines, xs, is_tuple: bool, names: tuple[str, str] = ("baselines", "the inputs'")
) -> tuple[torch.Tensor, ...]:
    """One baseline per example: tensors broadcastable to each input, batch axis 1 or ``N``.
    ``names``: what the caller calls the baselines and the inputs (for the messages)."""
    if baselines is None:
        return tuple(torch.zeros((1,) * x.dim(), dtype=x.dtype, device=x.device) for x in xs)
    out = []
    for k, (b, x) in enumerate(zip(_as_tuple(baselines, xs, names[0]), xs, strict=True)):
        name = f"{names[0]}[{k}]" if is_tuple else names[0]
        t = _baseline_tensor(b, x, name)
        if any(s not in (1, n) for s, n in zip(t.shape, x.shape, strict=True)):
            raise ValueError(
                f"{name} of shape {tuple(b.shape)} does not match {names[1]} shape "
                f"{tuple(x.shape)}; pass a scalar, one example {tuple(x.shape[1:])}, a batch of "
                f"one (1, ...) or one baseline per example {tuple(x.shape)} (size-1 axes "
                "broadcast)."
            )
        out.append(t)
    return tuple(out)


def _check_distribution(baselines, inputs, xs, is_tuple: bool, owner: str):
    """Background rows to draw baselines from: tensors ``(M, ...)`` sharing ``M``, or scalars."""
    if callable(baselines) and not isinstance(baselines, torch.Tensor):
        takes_inputs = len(inspect.signature(baselines).parameters) > 0
        baselines = baselines(inputs) if takes_inputs else baselines()
    if baselines is None:
        raise TypeError(
            f"{owner} needs baselines: a tensor (M, ...) of background examples (or a tuple of "
            "them, one per input tensor) to draw baselines from."
        )
    out = []
    for k, (b, x) in enumerate(zip(_as_tuple(baselines, xs, "baselines"), xs, strict=True)):
        name = f"baselines[{k}]" if is_tuple else "baselines"
        if is_real(b):
            out.append(_baseline_tensor(b, x, name))
            continue
        t = _baseline_tensor(b, x, name)
        if tuple(b.shape[1:]) != tuple(x.shape[1:]) or b.shape[0] == 0:
            raise ValueError(
                f"{name} of shape {tuple(b.shape)} must be background examples of the inputs' "
                f"shape: (M, {', '.join(map(str, x.shape[1:]))}) with M >= 1 rows."
            )
        out.append(t)
    rows = {t.shape[0] for t in out if t.shape[0] > 1}
    if len(rows) > 1:
        raise ValueError(
            f"the baseline tensors hold {sorted(rows)} background rows; a background example "
            "spans every input tensor, so all must hold the same number of rows."
        )
    return tuple(out)


def _check_stdevs(stdevs, n_inputs: int) -> tuple[float, ...]:
    """One non-negative standard deviation per input tensor: floats and numpy floating
    scalars as given (captum's noise takes a numpy scalar's precision), other reals as floats."""
    values = stdevs if isinstance(stdevs, tuple) else (stdevs,) * n_inputs
    if len(values) != n_inputs or not all(is_real(v) and v >= 0 for v in values):
        raise ValueError(
            f"stdevs must be a number >= 0 or a tuple of {n_inputs} such numbers (one per input "
            f"tensor); got {stdevs!r}."
        )
    return tuple(v if isinstance(v, (float, np.floating)) else float(v) for v in values)


def _take(b: torch.Tensor, ex: torch.Tensor) -> torch.Tensor:
    """Rows ``ex`` of a baseline ``(1 or N, ...)``; a shared one stays broadcastable."""
    return b if b.shape[0] == 1 else b.index_select(0, ex)


def _column(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``v`` ``(R,)`` shaped ``(R, 1, ...)`` to scale the rows of ``like``, in its dtype."""
    return v.to(like.dtype).reshape((-1,) + (1,) * (like.dim() - 1))

"""A model restricted to one output column, ``(n, d) -> (n,)``, for every method of
:func:`~xai_fast.evaluation.compare.compare` to explain (torch imported only for a module)."""

from __future__ import annotations

import functools

import numpy as np

from .._validation import is_int
from ..models import ModelAdapter

__all__ = ["single_output"]


def single_output(model, adapter: ModelAdapter, B: np.ndarray, target):
    """``model`` restricted to the output ``target``.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps ``(n, d)`` to ``(n,)`` or ``(n, k)``.
    adapter : ModelAdapter
        ``ModelAdapter(model)``, used to call the model once.
    B : ndarray of shape (N, d)
        Background rows; the first is fed to the model to count its outputs ``k``.
    target : int or None
        Output column in ``[-k, k)``; ``None`` when the model has one output.

    Returns
    -------
    torch.nn.Module or callable
        Maps ``(n, d)`` to ``(n,)``: ``model`` itself when it returns ``(n,)``, else a module
        (keeping ``model``'s train/eval mode) or a callable selecting column ``target``.

    Raises
    ------
    ValueError
        For a missing ``target`` with ``k > 1``, one that is not an int, or one out of range.
    """
    dtype = adapter.input_dtype or np.float64
    out = adapter.raw_call(np.ascontiguousarray(B[:1], dtype=dtype))
    k = 1 if out.ndim == 1 else out.shape[1]
    if target is None:
        if k > 1:
            raise ValueError(
                f"the model returns {k} outputs per row; pass target=<output index> in "
                f"[0, {k}) to choose the one to explain."
            )
        target = 0
    elif not is_int(target):
        raise ValueError(f"target must be an int output index or None; got {target!r}.")
    elif not -k <= target < k:
        raise ValueError(f"target {target} is out of range for a model with {k} output(s).")
    if out.ndim == 1:
        return model
    if adapter.is_module:
        column = _column_module()(model, int(target) % k)
        return column.train(model.training)  # so eval/train round trips keep the model's mode
    return _Column(model, int(target) % k)


class _Column:
    """A callable's output column ``t``, ``(n, d) -> (n,)``."""

    def __init__(self, model, t: int):
        self.model = ModelAdapter(model, check_finite=False)
        self.t = t

    def __call__(self, X):
        return self.model.raw_call(X, check=False)[:, self.t]


@functools.cache
def _column_module():
    """A ``torch.nn.Module`` class selecting one output column (torch imported on first use)."""
    import torch

    class Column(torch.nn.Module):
        def __init__(self, inner, t: int):
            super().__init__()
            self.inner = inner
            self.t = t

        def forward(self, x):
            return self.inner(x).reshape(x.shape[0], -1)[:, self.t]

    return Column

"""Rows per model call when the user gives no ``batch_size``.

On the CPU a call should keep the model's activations near the cache: rows times the values
each row makes. For an MLP (linear layers with parameter-free or per-feature layers between
them) those values are known from the module, ``d`` inputs plus each linear layer's outputs,
and the call gets about ``2**20`` of them (4 MiB in float32), rounded to a power of two
between 256 and 4096 rows. Measured on 65,536 rows, 2 threads: a 10-64-64-1 MLP takes 8.2 ms
in calls of 4096 rows against 9.8 ms in calls of 2048; a 30-256-256-1 MLP 54 ms at 2048
against 60 ms at 4096 and 112 ms at 8192; a 10-512-512-1 MLP 211 ms at 1024 against 218 ms
at 2048. (8192-row calls, faster for the small MLP on its own, were slower inside Kernel
SHAP, between freshly filled chunks.) Other modules and callables keep the rule for
unknown activations: about 2048 rows (at most ``2**20`` input values); rows wider than 1024
values on the CPU (images, whose activations are many times their input) get about
``2**16`` values per call, at least 16 rows.
"""

from __future__ import annotations

import math
import weakref

__all__ = ["default_batch_rows", "mlp_values_per_row"]

_CACHE_VALUES = 2**20


def default_batch_rows(d: int, on_cpu: bool = True, per_row: int | None = None) -> int:
    """Rows per call for inputs of ``d`` values.

    Parameters
    ----------
    d : int
        Input values per row.
    on_cpu : bool, default True
    per_row : int, optional
        Values a row makes through the model (:func:`mlp_values_per_row`); ``None`` when
        not known.
    """
    d = max(d, 1)
    if on_cpu and d > 1024:
        return int(max(16, 2**16 // d))
    if on_cpu and per_row:
        rows = 2 ** round(math.log2(_CACHE_VALUES / per_row))
        return int(min(4096, max(256, rows)))
    return int(min(2048, max(256, _CACHE_VALUES // d)))


def mlp_values_per_row(module, d: int) -> int | None:
    """``d`` plus the output width of every ``nn.Linear`` in ``module`` when its only other
    parameters are one-dimensional (biases, norms' scales); ``None`` for anything else
    (convolutions, embeddings, recurrent layers), whose activations the parameters do not
    tell. Read once per module (a batch size changes speed, never values)."""
    try:
        width = _WIDTHS[module]
    except (KeyError, TypeError):
        width = _linear_widths(module)
        try:
            _WIDTHS[module] = width
        except TypeError:  # not weakly referenceable
            pass
    return None if width is None else d + width


_WIDTHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _linear_widths(module) -> int | None:
    import torch

    width = 0
    for m in module.modules():
        if isinstance(m, torch.nn.Linear):
            width += m.out_features
        elif any(p.dim() > 1 for p in m.parameters(recurse=False)):
            return None
    return width or None

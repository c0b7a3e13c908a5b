"""Integrated gradients: :class:`IntegratedGradients`, its quadrature rules (``METHODS``) and
``_quadrature``, the points and weights of each rule on the path from baseline to input.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..._validation import check_flag, check_int
from ._base import _BaselineAttribution
from ._call import _delta, _gradients
from ._inputs import _column, _take
from ._pass_rows import add_steps, path_pass_rows

__all__ = ["IntegratedGradients"]

#: Quadrature rules of ``IntegratedGradients.attribute(method=...)``.
METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


# ---------------------------------------------------------------------------- quadrature
@functools.lru_cache(maxsize=64)
def _quadrature(method: str, n_steps: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Points ``alpha`` in [0, 1] and weights of the integral over the path, as captum's.

    The Riemann rules use weights ``1 / n``; ``riemann_trapezoid`` takes ``n`` equally spaced
    points including both ends and halves the end weights, so its weights sum to ``1 - 1/n``
    (captum's rule). Gauss-Legendre maps numpy's nodes and weights from [-1, 1] to [0, 1].
    """
    n = n_steps
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return tuple((nodes + 1) / 2), tuple(weights / 2)
    weights = np.full(n, 1.0 / n)
    # captum's Riemann points are float32 ``torch.linspace`` values; taking the same ones
    # keeps ties (a max-pooling window of equal values) broken the same way
    lo, hi = {
        "riemann_left": (0.0, 1 - 1 / n),
        "riemann_right": (1 / n, 1.0),
        "riemann_middle": (1 / (2 * n), 1 - 1 / (2 * n)),
    }.get(method, (0.0, 1.0))
    alphas = torch.linspace(lo, hi, n, dtype=torch.float32).tolist()
    if method == "riemann_trapezoid":  # n >= 2
        weights[[0, -1]] /= 2
    return tuple(alphas), tuple(weights)


class IntegratedGradients(_BaselineAttribution):
    """Integrated gradients: ``(x - b) * integral_0^1 grad f(b + alpha (x - b)) d alpha``.

    The path points of every step and example are stacked into one batch of
    ``n_steps * N`` rows (step-major, as captum) and evaluated in chunks of
    ``internal_batch_size`` rows; the weighted gradients are summed back per example.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Takes the input tensors (then ``additional_forward_args``) with the examples on axis 0
        and returns ``(n,)``, ``(n, k)`` or ``(n, k1, k2, ...)`` outputs; must be
        differentiable. A module keeps the training mode it has.
    multiply_by_inputs : bool, default True
        ``False`` returns the integrated gradients without the factor ``x - b``.
    """

    _BASELINES = "per_example"

    def __init__(self, forward_func, multiply_by_inputs=True):
        super().__init__(forward_func, multiply_by_inputs)

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        additional_forward_args=None,
        n_steps=50,
        method="gausslegendre",
        internal_batch_size=None,
        return_convergence_delta=False,
    ):
        """Integrated gradients of the targeted output with respect to every input element.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating-point examples; a tuple when the model takes several tensors.
        baselines : None, scalar, tensor or tuple of them
            Start of the path, per input tensor: ``None`` (zeros), a scalar, one example
            ``(...)``, a batch of one ``(1, ...)`` or one per example ``(N, ...)``.
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
            Output index to explain (a tuple indexes several output axes); ``None`` needs one
            output value per example.
        additional_forward_args : any or tuple, optional
            Passed to ``forward_func`` after the inputs; tensors with a batch axis must hold the
            ``N`` examples on axis 0 (they are gathered per path point).
        n_steps : int, default 50
            Points on the path (``>= 2`` for ``"riemann_trapezoid"``).
        method : str, default "gausslegendre"
            ``"gausslegendre"``, ``"riemann_left"``, ``"riemann_right"``, ``"riemann_middle"``
            or ``"riemann_trapezoid"`` (captum's points and weights).
        internal_batch_size : int, optional
            Rows (path points) per model call; default all ``n_steps * N`` at once on an
            accelerator, chunks of about ``2**19`` input values on the CPU.
        return_convergence_delta : bool, default False
            Also return ``sum(attributions) - (f(x) - f(baseline))`` per example.

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            Shapes and dtypes of ``inputs``, on their devices.
        delta : torch.Tensor, shape (N,)
            Only with ``return_convergence_delta=True``.
        """
        options = self._options(n_steps, method, internal_batch_size)
        with_delta = check_flag(return_convergence_delta, "return_convergence_delta")
        return self._attribute(
            inputs, baselines, target, additional_forward_args, options, with_delta
        )

    def _options(self, n_steps=50, method="gausslegendre", internal_batch_size=None) -> dict:
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}; got {method!r}.")
        n_steps = check_int(
            n_steps, "n_steps", 1, hint=" (points on the path between baseline and input)"
        )
        if method == "riemann_trapezoid" and n_steps < 2:
            raise ValueError(
                "method='riemann_trapezoid' needs n_steps >= 2 (it evaluates both ends of the "
                f"path); got n_steps={n_steps}."
            )
        ibs = internal_batch_size
        if ibs is not None:
            ibs = check_int(ibs, "internal_batch_size", 1, hint=" (rows per call)")
        return dict(n_steps=n_steps, method=method, internal_batch_size=ibs)

    def _run(self, xs, bs, call, delta, rngs, n_steps, method, internal_batch_size):
        N, device = xs[0].shape[0], xs[0].device
        dtype = torch.promote_types(xs[0].dtype, torch.float32)  # float64 only where it is
        alphas, weights = (
            torch.tensor(v, dtype=torch.float64).to(device, dtype)
            for v in _quadrature(method, n_steps)
        )
        R = n_steps * N
        step = path_pass_rows(xs, R, internal_batch_size)
        diffs = tuple(x - b for x, b in zip(xs, bs, strict=True))
        totals = tuple(torch.zeros_like(x) for x in xs)
        for start in range(0, R, step):
            r = torch.arange(start, min(start + step, R), device=device)
            s, i = r // N, r % N  # step and example of each row
            rows = tuple(
                _take(b, i) + _column(alphas[s], d) * d.index_select(0, i)
                for b, d in zip(bs, diffs, strict=True)
            )
            grads, _ = _gradients(call.expand(i), rows)
            for total, g in zip(totals, grads, strict=True):
                add_steps(total, g * _column(weights[s], g), start, N)
        attrs = (
            tuple(t * d for t, d in zip(totals, diffs, strict=True))
            if self._multiply_by_inputs
            else totals
        )
        return attrs, (_delta(call, attrs, xs, bs, internal_batch_size) if delta else None)

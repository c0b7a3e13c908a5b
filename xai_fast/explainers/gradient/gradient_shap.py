"""GradientShap (expected gradients): :class:`GradientShap` and ``_InputBaselineXGradient``, the
single-sample attribution it averages over noisy copies with drawn baselines.
"""

from __future__ import annotations

from ..._validation import check_flag, check_int, check_seed, is_real
from ._base import _BaselineAttribution, _GradientAttribution
from ._call import _delta, _gradients
from ._inputs import _check_stdevs, _column
from ._noisy_copies import _noise_tunnel
from ._random import _path_points, _rng

__all__ = ["GradientShap"]


class _InputBaselineXGradient(_GradientAttribution):
    """One GradientShap sample per row: ``(x - b) * grad f(b + u (x - b))``, ``u ~ U(0, 1)``."""

    _BASELINES = "per_example"

    def __init__(self, forward_func, multiply_by_inputs):
        super().__init__(forward_func)
        self._multiply_by_inputs = multiply_by_inputs

    def has_convergence_delta(self) -> bool:
        return True

    def _run(self, xs, bs, call, delta, rngs, generator):
        x0 = xs[0]
        u = _path_points(generator, x0.shape[0], x0)
        rows = tuple(
            _column(u, x) * x + (1 - _column(u, x)) * b for x, b in zip(xs, bs, strict=True)
        )
        grads, _ = _gradients(call, rows)
        if self._multiply_by_inputs:
            grads = tuple((x - b) * g for x, b, g in zip(xs, bs, grads, strict=True))
        return grads, (_delta(call, grads, xs, bs) if delta else None)


class GradientShap(_BaselineAttribution):
    """Expected gradients: SHAP values approximated with gradients along random paths.

    Each of ``n_samples`` copies of an example adds Gaussian noise (``stdevs``) to it, draws a
    baseline row from the background and a point ``u ~ U(0, 1)`` on the path, and contributes
    ``(x_noisy - b) * grad f(b + u (x_noisy - b))``; the copies are averaged. All copies of all
    examples are one batch.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable; see :class:`IntegratedGradients`.
    multiply_by_inputs : bool, default True
        ``False`` averages the gradients without the factor ``x_noisy - b``.
    seed : int, numpy Generator, torch.Generator or None, keyword-only
        An int makes every call reproducible and leaves the global generators alone; a
        ``torch.Generator`` is used as is (its state advances). ``None`` takes captum's very
        draws: the noise from torch's global generator (``torch.normal``, also for ``stdevs``
        0), the baseline rows (``np.random.choice``, one draw per input tensor) and the path
        points (``np.random.uniform``) from numpy's, so after the same ``torch.manual_seed``
        and ``np.random.seed`` the values are captum's and both generators end where captum
        leaves them.
    """

    _BASELINES = "distribution"

    def __init__(self, forward_func, multiply_by_inputs=True, *, seed=None):
        super().__init__(forward_func, multiply_by_inputs)
        self.seed = check_seed(seed, torch_generator=True)
        self._sample = _InputBaselineXGradient(forward_func, self._multiply_by_inputs)

    def attribute(
        self,
        inputs,
        baselines,
        n_samples=5,
        stdevs=0.0,
        target=None,
        additional_forward_args=None,
        return_convergence_delta=False,
    ):
        """GradientShap values of every input element.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        baselines : torch.Tensor, tuple of them, or callable
            Background examples ``(M, ...)`` (the same ``M`` for every input tensor; a scalar
            is a constant baseline), or a callable returning them (called with ``inputs`` if it
            takes an argument).
        n_samples : int, default 5
            Random copies per example.
        stdevs : float or tuple of float, default 0.0
            Standard deviation of the noise, per input tensor.
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
            Tensors with a batch axis must hold the ``N`` examples on axis 0.
        return_convergence_delta : bool, default False
            Also return, per copy, ``sum(attributions) - (f(x_noisy) - f(b))``.

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            Shapes and dtypes of ``inputs``.
        delta : torch.Tensor, shape (N * n_samples,)
            Example-major; only with ``return_convergence_delta=True``.
        """
        options = self._options(n_samples, stdevs)
        with_delta = check_flag(return_convergence_delta, "return_convergence_delta")
        return self._attribute(
            inputs, baselines, target, additional_forward_args, options, with_delta
        )

    def _options(self, n_samples=5, stdevs=0.0) -> dict:
        n_samples = check_int(n_samples, "n_samples", 1, hint=" (random copies per example)")
        if not (is_real(stdevs) or isinstance(stdevs, tuple)):
            raise ValueError(f"stdevs must be a number >= 0 or a tuple of them; got {stdevs!r}.")
        return dict(n_samples=n_samples, stdevs=stdevs)

    def _run(self, xs, bs, call, delta, rngs, n_samples, stdevs):
        g = _rng(self, rngs, xs[0].device)
        stdevs = _check_stdevs(stdevs, len(xs))
        mean, _, d = _noise_tunnel(
            self._sample,
            xs,
            bs,
            call,
            delta,
            rngs,
            dict(generator=g),
            n=n_samples,
            batch=n_samples,
            stdevs=stdevs,
            draw=True,
            g=g,
        )
        return mean, d

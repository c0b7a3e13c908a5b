"""GradientShap at a layer: :class:`LayerGradientShap` and ``_LayerInputBaselineXGradient``,
the single-sample attribution it averages over noisy copies with drawn baselines.

All copies of all examples are one batch: a forward and backward of the random path points
for the layer gradients, and one forward of the copies and of their baselines for the layer's
values there.
"""

from __future__ import annotations

from ..._validation import check_flag, check_seed
from ..gradient._base import _InputMultiplier
from ..gradient._call import _delta
from ..gradient._inputs import _check_stdevs, _column
from ..gradient._noisy_copies import _noise_tunnel
from ..gradient._random import _path_points, _rng
from ..gradient.gradient_shap import GradientShap
from ._base import _layer_gradients, _layer_values, _LayerAttribution, _to_input

__all__ = ["LayerGradientShap"]


class _LayerInputBaselineXGradient(_LayerAttribution):
    """One sample per row: ``(l(x) - l(b)) * dF/dl (b + u (x - b))``, ``u ~ U(0, 1)``."""

    _BASELINES = "per_example"

    def __init__(self, owner):
        # the owner's checked model and layers, shared (nothing to check again)
        self.forward_func, self._layers, self._is_list = (
            owner.forward_func,
            owner._layers,
            owner._is_list,
        )
        self._multiply_by_inputs = owner._multiply_by_inputs

    def _run(self, xs, bs, call, delta, rngs, generator, to_input):
        x0 = xs[0]
        u = _path_points(generator, x0.shape[0], x0)
        b_rows = tuple(b.expand_as(x).contiguous() for x, b in zip(xs, bs, strict=True))
        rows = tuple(
            _column(u, x) * x + (1 - _column(u, x)) * b for x, b in zip(xs, b_rows, strict=True)
        )
        grads, _ = _layer_gradients(self, call, rows, to_input)
        grads = grads[0]
        if self._multiply_by_inputs:
            at_x = _layer_values(self, call, xs, to_input)[0]
            at_b = _layer_values(self, call, b_rows, to_input)[0]
            grads = tuple((a - b) * g for a, b, g in zip(at_x, at_b, grads, strict=True))
        return grads, (_delta(call, grads, xs, bs) if delta else None)


class LayerGradientShap(_InputMultiplier, _LayerAttribution):
    """GradientShap of a layer's neurons (captum's ``LayerGradientShap``).

    Each of ``n_samples`` copies of an example adds Gaussian noise (``stdevs``) to it, draws a
    baseline row from the background and a point ``u ~ U(0, 1)`` between them, and
    contributes ``(l(x_noisy) - l(b)) * dF/dl (b + u (x_noisy - b))`` with ``l`` the layer's
    tensors; the copies are averaged. Randomness as in :class:`~xai_fast.GradientShap`.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable from ``layer`` on.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    multiply_by_inputs : bool, default True
        ``False`` averages the layer gradients without the factor ``l(x_noisy) - l(b)``.
    seed : int, numpy Generator, torch.Generator or None, keyword-only
        An int makes every call reproducible; ``None`` takes captum's very draws from torch's
        and numpy's global generators (the same values as captum after the same seeds).
    """

    _BASELINES = "distribution"

    def __init__(self, forward_func, layer, device_ids=None, multiply_by_inputs=True, *, seed=None):
        super().__init__(forward_func, layer, device_ids)
        self._set_multiply_by_inputs(multiply_by_inputs)
        self.seed = check_seed(seed, torch_generator=True)
        self._sample = _LayerInputBaselineXGradient(self)

    def has_convergence_delta(self) -> bool:
        return True

    def attribute(
        self,
        inputs,
        baselines,
        n_samples=5,
        stdevs=0.0,
        target=None,
        additional_forward_args=None,
        return_convergence_delta=False,
        attribute_to_layer_input=False,
    ):
        """GradientShap values of the layer's neurons.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating-point examples.
        baselines : torch.Tensor, tuple of them, or callable
            Background examples ``(M, ...)``, as in :meth:`GradientShap.attribute`.
        n_samples : int, default 5
            Random copies per example.
        stdevs : float or tuple of float, default 0.0
            Standard deviation of the noise, per input tensor.
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
        return_convergence_delta : bool, default False
            Also return, per copy, ``sum(attributions) - (f(x_noisy) - f(b))``.
        attribute_to_layer_input : bool, default False

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            The layer tensors' shapes ``(N, ...)``.
        delta : torch.Tensor, shape (N * n_samples,)
            Example-major; only with ``return_convergence_delta=True``.
        """
        options = GradientShap._options(self, n_samples, stdevs)
        options["to_input"] = _to_input(attribute_to_layer_input)
        with_delta = check_flag(return_convergence_delta, "return_convergence_delta")
        return self._attribute(
            inputs, baselines, target, additional_forward_args, options, with_delta
        )

    def _run(self, xs, bs, call, delta, rngs, n_samples, stdevs, to_input):
        g = _rng(self, rngs, xs[0].device)
        mean, _, d = _noise_tunnel(
            self._sample,
            xs,
            bs,
            call,
            delta,
            rngs,
            dict(generator=g, to_input=to_input),
            n=n_samples,
            batch=n_samples,
            stdevs=_check_stdevs(stdevs, len(xs)),
            draw=True,
            g=g,
        )
        return [mean], d

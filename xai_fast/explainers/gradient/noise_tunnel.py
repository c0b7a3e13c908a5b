"""Smoothing over noisy copies of the inputs: :class:`NoiseTunnel` (SmoothGrad, SmoothGrad-squared
and VarGrad around any of the other methods) and its aggregations ``NT_TYPES``.
"""

from __future__ import annotations

from ..._validation import check_flag, check_int, check_no_kwargs, check_seed, explained_init
from ._base import _format, _GradientAttribution
from ._call import _autograd, _Call
from ._foreign import _Foreign
from ._inputs import _check_inputs, _check_stdevs
from ._noisy_copies import _noise_tunnel
from ._random import _rng

__all__ = ["NoiseTunnel"]

#: Aggregations of ``NoiseTunnel.attribute(nt_type=...)``.
NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


@explained_init
class NoiseTunnel:
    """SmoothGrad, SmoothGrad-squared and VarGrad around one of this package's methods.

    Every example gets ``nt_samples`` copies with Gaussian noise of standard deviation
    ``stdevs``; the wrapped method runs on all copies as one batch (or ``nt_samples_batch_size``
    copies per example at a time) and the attributions are averaged per example.

    Parameters
    ----------
    attribution_method : IntegratedGradients, Saliency, InputXGradient, GradientShap or
        LayerGradCam
    seed : int, numpy Generator, torch.Generator or None, keyword-only
        Seed of the noise (and of drawn baselines); ``None`` takes captum's draws from
        torch's (noise) and numpy's (baselines) global generators; see :class:`GradientShap`.
    """

    def __init__(self, attribution_method, *, seed=None):
        method = attribution_method
        if isinstance(method, type):
            raise TypeError(
                f"attribution_method must be an instance, e.g. NoiseTunnel({method.__name__}"
                f"(model)); got the class {method.__name__} itself."
            )
        if not isinstance(method, _GradientAttribution):
            if not callable(getattr(method, "attribute", None)):
                raise TypeError(
                    "attribution_method must be an IntegratedGradients, Saliency, "
                    "InputXGradient, GradientShap or LayerGradCam of this module, or another "
                    "method with captum's attribute(inputs, target=..., ...); got "
                    f"{type(method).__name__}."
                )
            method = _Foreign(method)  # e.g. captum's DeepLift, run on all copies at once
        self.attribution_method = attribution_method
        self._method = method
        self.seed = check_seed(seed, torch_generator=True)

    def has_convergence_delta(self) -> bool:
        return self._method.has_convergence_delta()

    @property
    def multiplies_by_inputs(self) -> bool:
        return self._method.multiplies_by_inputs

    def attribute(
        self,
        inputs,
        nt_type="smoothgrad",
        nt_samples=5,
        nt_samples_batch_size=None,
        stdevs=1.0,
        draw_baseline_from_distrib=False,
        **kwargs,
    ):
        """Attributions of the wrapped method, smoothed over noisy copies of the inputs.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        nt_type : {"smoothgrad", "smoothgrad_sq", "vargrad"}, default "smoothgrad"
            Mean of the attributions, mean of their squares, or their variance.
        nt_samples : int, default 5
            Noisy copies per example.
        nt_samples_batch_size : int, optional
            Copies per example in one run of the wrapped method; default all.
        stdevs : float or tuple of float, default 1.0
            Standard deviation of the noise, per input tensor.
        draw_baseline_from_distrib : bool, default False
            Treat ``baselines`` as background rows and draw one per copy (methods with
            baselines only).
        **kwargs
            Arguments of the wrapped method's ``attribute`` (``target``, ``baselines``,
            ``n_steps``, ...); anything else is an error.

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            The wrapped method's shapes.
        delta : torch.Tensor, shape (N * nt_samples,)
            Per copy, when the method supports ``return_convergence_delta=True`` and it is set.
        """
        method = self._method
        accepted = method._argument_names()
        unknown = {k: v for k, v in kwargs.items() if k not in accepted}
        check_no_kwargs(unknown, f"NoiseTunnel.attribute() of {type(method).__name__}", accepted)
        if nt_type not in NT_TYPES:
            raise ValueError(f"nt_type must be one of {list(NT_TYPES)}; got {nt_type!r}.")
        nt_samples = check_int(nt_samples, "nt_samples", 1, hint=" (noisy copies per example)")
        batch = nt_samples
        if nt_samples_batch_size is not None:
            hint = " (copies per example per run)"
            size = check_int(nt_samples_batch_size, "nt_samples_batch_size", 1, hint=hint)
            batch = min(size, nt_samples)
        draw = check_flag(draw_baseline_from_distrib, "draw_baseline_from_distrib")
        if draw and method._BASELINES == "none":
            raise ValueError(
                f"draw_baseline_from_distrib=True needs a method with baselines; "
                f"{type(method).__name__} has none."
            )
        rest = dict(kwargs)
        target = rest.pop("target", None)
        extra_args = rest.pop("additional_forward_args", None)
        with_delta = check_flag(
            rest.pop("return_convergence_delta", False), "return_convergence_delta"
        )
        baselines = rest.pop("baselines", None)
        options = method._options(**rest)
        with _autograd():
            xs, is_tuple = _check_inputs(inputs)
            stdevs = _check_stdevs(stdevs, len(xs))
            bs = method._checked_baselines(baselines, inputs, xs, is_tuple, draw)
            call = _Call(method.forward_func, extra_args, target, len(xs[0]), xs[0].device)
            rngs = {}
            mean, mean_sq, delta = _noise_tunnel(
                method,
                xs,
                bs,
                call,
                with_delta,
                rngs,
                options,
                n=nt_samples,
                batch=batch,
                stdevs=stdevs,
                draw=draw,
                g=_rng(self, rngs, xs[0].device),
            )
        if nt_type == "smoothgrad":
            attrs = mean
        elif nt_type == "smoothgrad_sq":
            attrs = mean_sq
        else:
            attrs = tuple(q - m * m for m, q in zip(mean, mean_sq, strict=True))
        return _format(attrs, method._output_is_tuple(is_tuple, attrs), delta, with_delta)

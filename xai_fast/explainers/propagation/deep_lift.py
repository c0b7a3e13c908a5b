"""DeepLIFT with the rescale rule: :class:`DeepLift` (one baseline per example) and
:class:`DeepLiftShap` (averaged over a distribution of baselines), captum's API and numbers.

The rules follow the computation: they are attached to the torch operations the forward runs
(see :mod:`._mode`), not to ``nn.Module`` types, so functional activations, reused modules and
residual additions are handled like any other call.
"""

from __future__ import annotations

import inspect

import torch

from ..._validation import CaptumArgumentError, check_flag, check_int, is_real
from ..gradient._base import _BaselineAttribution
from ..gradient._call import _delta_apart
from ._passes import _check_completeness, _multipliers

__all__ = ["DeepLift", "DeepLiftShap"]


def _check_eps(eps) -> float:
    if not is_real(eps) or not eps >= 0:
        raise ValueError(
            f"eps must be a number >= 0 (below it, |x - x_baseline| counts as no change); got "
            f"{eps!r}."
        )
    return float(eps)


def _check_custom(func):
    if func is None:
        return None
    if not callable(func):
        raise TypeError(
            "custom_attribution_func must be a callable taking (multipliers), (multipliers, "
            f"inputs) or (multipliers, inputs, baselines); got {type(func).__name__}."
        )
    n = len(inspect.signature(func).parameters)
    if not 1 <= n <= 3:
        raise ValueError(
            f"custom_attribution_func takes {n} arguments; it must take 1 to 3: (multipliers), "
            "(multipliers, inputs) or (multipliers, inputs, baselines), each a tuple of tensors."
        )
    return func, n


def _one_baseline(xs, bs):
    """``shared`` for :func:`_multipliers` when every example has the same baseline (a
    baseline of one row, or equal rows): its pass then runs on one row. ``None`` otherwise."""
    if not all(b.shape[0] == 1 or torch.equal(b, b[:1].expand_as(b)) for b in bs):
        return None
    one = tuple(
        b[:1].expand((1,) + tuple(x.shape[1:])).contiguous() for x, b in zip(xs, bs, strict=True)
    )
    return one, torch.zeros(xs[0].shape[0], dtype=torch.long, device=xs[0].device)


def _attributions(mults, xs, bs, custom, multiply: bool):
    """``custom(multipliers, inputs, baselines)``, ``m * (x - b)`` or the multipliers."""
    if custom is None:
        if not multiply:
            return mults
        return tuple(m * (x - b) for m, x, b in zip(mults, xs, bs, strict=True))
    func, n = custom
    out = func(*(mults, xs, bs)[:n])
    out = out if isinstance(out, tuple) else (out,)
    if len(out) != len(xs) or any(
        not isinstance(a, torch.Tensor) or a.shape != x.shape for a, x in zip(out, xs, strict=False)
    ):
        got = [tuple(a.shape) if isinstance(a, torch.Tensor) else type(a).__name__ for a in out]
        raise ValueError(
            "custom_attribution_func must return a tuple with one tensor per input, shaped as "
            f"the inputs {[tuple(x.shape) for x in xs]}; got {got}."
        )
    return out


class DeepLift(_BaselineAttribution):
    """DeepLIFT (rescale rule) attributions against one baseline per example.

    The model runs on the baselines, then on the inputs; every elementwise nonlinearity the
    forward executes (module or functional, reused or not) passes back the multiplier
    ``(y - y_b) / (x - x_b)`` of its own input and baseline values, max pooling, softmax,
    log-softmax, layer norm and products of two input-dependent tensors have rules that keep
    the sum exact, and linear operations use the chain rule. The attributions then add up to
    ``f(x) - f(baseline)`` for every example. An operation without a rule raises
    ``NotImplementedError`` naming it.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Takes the input tensors (then ``additional_forward_args``) with the examples on axis 0;
        batch norm and dropout must be in eval mode.
    multiply_by_inputs : bool, default True
        ``False`` returns the multipliers without the factor ``x - b``.
    eps : float, default 1e-10
        Where ``|x - x_b| < eps`` at a nonlinearity, its derivative replaces the ratio.
    """

    # its rules' mode starts inside the model call, after the rows' layout would change: rows
    # handed over channels-last would reach it untracked
    _FAST_LAYOUT = False

    _BASELINES = "per_example"

    def __init__(self, model, multiply_by_inputs=True, eps=1e-10):
        super().__init__(model, multiply_by_inputs)
        self.model = model
        self.eps = _check_eps(eps)

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        additional_forward_args=None,
        return_convergence_delta=False,
        custom_attribution_func=None,
        *,
        internal_batch_size=None,
    ):
        """DeepLIFT attributions of the targeted output.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        baselines : None, scalar, tensor or tuple of them
            Per input tensor: ``None`` (zeros), a scalar, one example ``(...)``, a batch of one
            ``(1, ...)`` or one per example ``(N, ...)``.
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
            Tensors with a batch axis must hold the ``N`` examples on axis 0.
        return_convergence_delta : bool, default False
            Also return ``sum(attributions) - (f(x) - f(baseline))`` per example.
        custom_attribution_func : callable, optional
            ``f(multipliers)``, ``f(multipliers, inputs)`` or ``f(multipliers, inputs,
            baselines)`` (tuples of ``(N, ...)`` tensors) returning the attributions.
        internal_batch_size : int, optional, keyword-only
            Examples per pass; default about ``2**20`` input values per pass.

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``.
        delta : torch.Tensor, shape (N,)
            Only with ``return_convergence_delta=True``.
        """
        options = self._options(custom_attribution_func, internal_batch_size)
        with_delta = check_flag(return_convergence_delta, "return_convergence_delta")
        return self._attribute(
            inputs, baselines, target, additional_forward_args, options, with_delta
        )

    def _options(self, custom_attribution_func=None, internal_batch_size=None) -> dict:
        ibs = internal_batch_size
        if ibs is not None:
            ibs = check_int(ibs, "internal_batch_size", 1, hint=" (example pairs per pass)")
        return dict(custom=_check_custom(custom_attribution_func), chunk=ibs)

    def _run(self, xs, bs, call, delta, rngs, custom, chunk):
        # contiguous copies: the model may change them in place (an expanded view refuses)
        b_rows = tuple(b.expand_as(x).contiguous() for x, b in zip(xs, bs, strict=True))
        mults, y, y_b = _multipliers(call, xs, b_rows, self.eps, chunk, _one_baseline(xs, bs))
        _check_completeness(mults, xs, b_rows, y, y_b, type(self).__name__)
        attrs = _attributions(mults, xs, b_rows, custom, self._multiply_by_inputs)
        return attrs, (self._convergence(call, attrs, xs, bs, chunk) if delta else None)

    def _convergence(self, call, attrs, xs, bs, chunk):
        return _delta_apart(call, attrs, xs, bs, chunk)


class DeepLiftShap(DeepLift):
    """DeepLIFT against every row of a baseline distribution, averaged (captum's DeepLiftShap).

    All ``N * M`` (example, baseline) pairs are stacked, example-major, and run in chunks.

    Parameters
    ----------
    model : torch.nn.Module or callable
    multiply_by_inputs : bool, default True
    eps : float, default 1e-10, keyword-only
        As in :class:`DeepLift`.
    """

    _BASELINES = "distribution"

    def _checked_baselines(self, baselines, inputs, xs, is_tuple: bool, draw: bool = False):
        """Background rows, as every distribution method takes them, but no scalars: a
        constant is one baseline, not a distribution (captum refuses it too)."""
        if callable(baselines) and not isinstance(baselines, torch.Tensor):
            takes_inputs = len(inspect.signature(baselines).parameters) > 0
            baselines = baselines(inputs) if takes_inputs else baselines()
        given = baselines if isinstance(baselines, tuple) else (baselines,)
        if any(is_real(b) for b in given):
            raise CaptumArgumentError(
                "DeepLiftShap averages over a distribution of baselines: pass background "
                "examples, a tensor (M, ...) of the inputs' shape (or a tuple of them, or a "
                "callable returning them); got a scalar. For one constant baseline use DeepLift."
            )
        return super()._checked_baselines(baselines, inputs, xs, is_tuple, draw)

    def __init__(self, model, multiply_by_inputs=True, *, eps=1e-10):
        super().__init__(model, multiply_by_inputs, eps)

    def attribute(
        self,
        inputs,
        baselines,
        target=None,
        additional_forward_args=None,
        return_convergence_delta=False,
        custom_attribution_func=None,
        *,
        internal_batch_size=None,
    ):
        """DeepLiftShap values: DeepLift against each baseline row, averaged over the rows.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        baselines : torch.Tensor, tuple of them, or callable
            Background examples ``(M, ...)`` (the same ``M`` for every input tensor), or a
            callable returning them (called with ``inputs`` if it takes an argument). A scalar
            is refused, as captum refuses it: for one constant baseline use :class:`DeepLift`.
        target, additional_forward_args, custom_attribution_func
            As in :meth:`DeepLift.attribute`; ``custom_attribution_func`` gets the pairs'
            tuples ``(N * M, ...)`` before the average.
        return_convergence_delta : bool, default False
            Also return, per pair, ``sum(attributions) - (f(x) - f(b))``.
        internal_batch_size : int, optional, keyword-only
            Pairs per pass, rounded down to whole multiples of ``M`` (at least ``M``) when the
            baseline pass is shared.

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``.
        delta : torch.Tensor, shape (N * M,)
            Example-major; only with ``return_convergence_delta=True``.
        """
        return super().attribute(
            inputs,
            baselines,
            target,
            additional_forward_args,
            return_convergence_delta,
            custom_attribution_func,
            internal_batch_size=internal_batch_size,
        )

    def _run(self, xs, bs, call, delta, rngs, custom, chunk):
        N, device = xs[0].shape[0], xs[0].device
        M = max(b.shape[0] for b in bs)
        r = torch.arange(N * M, device=device)
        i, j = r // M, r % M  # example and baseline row of each pair
        x_rows = tuple(x.index_select(0, i) for x in xs)
        b_rows = tuple(
            (b.index_select(0, j) if b.shape[0] > 1 else b).expand_as(x).contiguous()
            for x, b in zip(x_rows, bs, strict=True)
        )
        pairs = call.expand(i)
        distinct = tuple(
            b.expand((M,) + tuple(x.shape[1:])).contiguous() for x, b in zip(xs, bs, strict=True)
        )
        mults, y, y_b = _multipliers(pairs, x_rows, b_rows, self.eps, chunk, (distinct, j))
        _check_completeness(mults, x_rows, b_rows, y, y_b, type(self).__name__)
        attrs = _attributions(mults, x_rows, b_rows, custom, self._multiply_by_inputs)
        d = None
        if delta:
            d = sum(a.reshape(N * M, -1).sum(1) for a in attrs) - (y - y_b)
        means = tuple(a.reshape((N, M) + tuple(a.shape[1:])).mean(1) for a in attrs)
        return means, d

"""Base classes of the gradient methods: ``attribute`` checks, binds the call and runs ``_run``."""

from __future__ import annotations

import inspect

import torch

from ..._runtime.heap_warmup import warm_heap
from ..._validation import check_flag
from .._captum_surface import CaptumSurface
from ._call import _autograd, _Call, _check_forward_func, _delta
from ._inputs import _check_baselines, _check_distribution, _check_inputs


def _format(attrs, as_tuple: bool, delta, with_delta: bool):
    """The attributions as a tuple or their one tensor, with the deltas when ``with_delta``."""
    out = attrs if as_tuple else attrs[0]
    return (out, delta) if with_delta else out


def _default_layout(t):
    """``t`` in torch's default (contiguous) layout: attributions come back as users expect
    them, whatever layout the model ran in."""
    return t.contiguous() if isinstance(t, torch.Tensor) else t


class _GradientAttribution(CaptumSurface):
    """An attribution method: ``attribute`` validates, ``_run`` computes on validated rows.

    ``_run(xs, bs, call, delta, rngs, **options)`` returns the attributions of the rows ``xs``
    (a tuple) and, when ``delta``, the convergence deltas. ``_BASELINES`` says what ``bs`` is:
    ``"none"``, ``"per_example"`` (one baseline per row, broadcastable) or ``"distribution"``
    (background rows to draw from).
    """

    _BASELINES = "none"
    # image rows channels-last for a conv module where that gives the same outputs; off for
    # DeepLift's family, whose rules' mode starts inside the model call
    _FAST_LAYOUT = True

    def __init__(self, forward_func):
        _check_forward_func(forward_func)
        self.forward_func = forward_func

    @property
    def multiplies_by_inputs(self) -> bool:
        return False

    def _argument_names(self) -> list[str]:
        """Arguments of ``attribute`` besides ``inputs`` (those a NoiseTunnel forwards)."""
        return list(inspect.signature(self.attribute).parameters)[1:]

    def _options(self) -> dict:
        return {}

    def _output_is_tuple(self, inputs_tuple: bool, attrs) -> bool:
        return inputs_tuple

    def _checked_baselines(self, baselines, inputs, xs, is_tuple: bool, draw: bool = False):
        """``baselines`` checked as ``_BASELINES`` says.

        Background rows for ``"distribution"`` methods, and for ``"per_example"`` ones when
        ``draw`` (there ``None`` stands for zeros); one baseline per example for
        ``"per_example"``; ``None`` for methods without baselines.
        """
        if self._BASELINES == "distribution" or draw:
            if baselines is None and self._BASELINES == "per_example":
                baselines = 0.0  # zeros, as without drawing
            return _check_distribution(baselines, inputs, xs, is_tuple, type(self).__name__)
        if self._BASELINES == "per_example":
            return _check_baselines(baselines, xs, is_tuple)
        return None

    def _attribute(
        self,
        inputs,
        baselines,
        target,
        additional_forward_args,
        options: dict,
        with_delta: bool = False,
        *,
        floating: bool = True,
    ):
        """The shared body of ``attribute``, after its own options are checked.

        Checks the inputs (floating-point ones unless ``floating`` is False) and the baselines,
        binds the model call, runs ``_run`` with ``options`` and returns the attributions shaped
        as ``_output_is_tuple`` says, with the deltas when ``with_delta``.
        """
        warm_heap()
        with _autograd():
            xs, is_tuple = _check_inputs(inputs, floating=floating)
            bs = self._checked_baselines(baselines, inputs, xs, is_tuple)
            call = _Call(
                self.forward_func, additional_forward_args, target, len(xs[0]), xs[0].device
            )
            if self._FAST_LAYOUT:
                call.use_fast_layout(xs)
            attrs, delta = self._run(xs, bs, call, with_delta, {}, **options)
        attrs = tuple(_default_layout(a) for a in attrs)
        return _format(attrs, self._output_is_tuple(is_tuple, attrs), delta, with_delta)

    def _run(self, xs, bs, call, delta, rngs, **options):  # pragma: no cover - abstract
        raise NotImplementedError


class _InputMultiplier:
    """captum's ``multiply_by_inputs`` flag, checked once, and the ``multiplies_by_inputs``
    property captum reads; listed first among a method's bases."""

    def _set_multiply_by_inputs(self, multiply_by_inputs) -> None:
        self._multiply_by_inputs = check_flag(multiply_by_inputs, "multiply_by_inputs")

    @property
    def multiplies_by_inputs(self) -> bool:
        return self._multiply_by_inputs


class _BaselineAttribution(_InputMultiplier, _GradientAttribution):
    """A method that compares inputs with baselines: it can multiply by ``x - b`` and report
    convergence deltas (IntegratedGradients, GradientShap)."""

    def __init__(self, forward_func, multiply_by_inputs=True):
        super().__init__(forward_func)
        self._set_multiply_by_inputs(multiply_by_inputs)

    def has_convergence_delta(self) -> bool:
        return True

    def compute_convergence_delta(
        self, attributions, start_point, end_point, target=None, additional_forward_args=None
    ):
        """Completeness error of given attributions: ``sum(a) - (f(end) - f(start))``.

        Parameters
        ----------
        attributions : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Attributions with the shapes of ``end_point``.
        start_point : None, scalar, tensor or tuple of them
            Per input tensor: ``None`` (zeros), a scalar, one example ``(...)``, a batch of one
            ``(1, ...)`` or one per example ``(N, ...)``.
        end_point : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            The inputs the attributions explain.
        target, additional_forward_args
            As in ``attribute``.

        Returns
        -------
        torch.Tensor, shape (N,)
        """
        with _autograd():
            xs, is_tuple = _check_inputs(end_point)
            bs = _check_baselines(start_point, xs, is_tuple, ("start_point", "end_point's"))
            attrs = attributions if isinstance(attributions, tuple) else (attributions,)
            if len(attrs) != len(xs) or any(
                not isinstance(a, torch.Tensor) or a.shape != x.shape
                for a, x in zip(attrs, xs, strict=False)
            ):
                got = [tuple(a.shape) if isinstance(a, torch.Tensor) else a for a in attrs]
                raise ValueError(
                    f"attributions must have the shapes of end_point {[tuple(x.shape) for x in xs]}"
                    f"; got {got}."
                )
            call = _Call(
                self.forward_func, additional_forward_args, target, len(xs[0]), xs[0].device
            )
            return self._convergence(call, tuple(a.detach() for a in attrs), xs, bs, None)

    def _convergence(self, call, attrs, xs, bs, chunk):
        """Per example ``sum(attrs) - (f(x) - f(b))``, shape ``(N,)``."""
        return _delta(call, attrs, xs, bs, chunk)

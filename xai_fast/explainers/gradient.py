"""Gradient attributions of differentiable torch models, with captum's API and numbers.

Data flow: inputs (a tensor or a tuple of tensors, examples on axis 0) -> every point to
differentiate (path points of all steps and examples, noisy copies, ...) stacked into one batch of
rows, each row tagged with the example it belongs to -> the rows evaluated in chunks, with the
extra forward arguments and targets gathered per row -> ``torch.autograd.grad`` of the targeted
outputs with respect to the rows (never the parameters) -> weighted sums back per example.

The module's training mode is left as the caller set it (as captum does), and no gradient is
accumulated on its parameters.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import numbers

import numpy as np
import torch

from .._rng import normalize_seed
from .._validation import check_no_kwargs

__all__ = [
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "LayerGradCam",
    "NoiseTunnel",
    "Saliency",
]

#: Quadrature rules of ``IntegratedGradients.attribute(method=...)``.
METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
#: Aggregations of ``NoiseTunnel.attribute(nt_type=...)``.
NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


# ---------------------------------------------------------------------------- validation
def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _check_int(value, name: str, minimum: int, hint: str = "") -> int:
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}{hint}; got {value!r}.")
    return int(value)


def _check_optional_int(value, name: str, hint: str) -> int | None:
    return None if value is None else _check_int(value, name, 1, hint)


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def _check_seed(seed):
    """``None``, an int, a numpy Generator or a torch Generator."""
    if seed is None or isinstance(seed, (torch.Generator, np.random.Generator)) or _is_int(seed):
        return seed
    raise TypeError(
        f"seed must be None, an int, a numpy.random.Generator or a torch.Generator; got "
        f"{type(seed).__name__}. Pass an integer such as seed=0 for reproducible results."
    )


def _check_forward_func(forward_func) -> None:
    if not callable(forward_func):
        raise TypeError(
            "forward_func must be a torch.nn.Module or a callable taking the input tensors (and "
            f"additional_forward_args) and returning a tensor; got {type(forward_func).__name__}."
        )


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
    if _is_real(b):
        return torch.full((1,) * x.dim(), float(b), dtype=x.dtype, device=x.device)
    if not isinstance(b, (torch.Tensor, np.ndarray)):
        raise TypeError(f"{name} must be a number or a tensor; got {type(b).__name__}.")
    t = torch.as_tensor(b, device=x.device).detach()
    if t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must be real numbers; got dtype {t.dtype}.")
    if t.dim() > x.dim():
        raise ValueError(
            f"{name} has shape {tuple(t.shape)}, more axes than the inputs {tuple(x.shape)}."
        )
    return t.reshape((1,) * (x.dim() - t.dim()) + tuple(t.shape)).to(x.dtype)


def _check_baselines(baselines, xs, is_tuple: bool) -> tuple[torch.Tensor, ...]:
    """One baseline per example: tensors broadcastable to each input, batch axis 1 or ``N``."""
    if baselines is None:
        return tuple(torch.zeros((1,) * x.dim(), dtype=x.dtype, device=x.device) for x in xs)
    out = []
    for k, (b, x) in enumerate(zip(_as_tuple(baselines, xs, "baselines"), xs, strict=True)):
        name = f"baselines[{k}]" if is_tuple else "baselines"
        t = _baseline_tensor(b, x, name)
        if any(s not in (1, n) for s, n in zip(t.shape, x.shape, strict=True)):
            raise ValueError(
                f"{name} of shape {tuple(b.shape)} does not match the inputs' shape "
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
        if _is_real(b):
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
    """One non-negative standard deviation per input tensor."""
    values = stdevs if isinstance(stdevs, tuple) else (stdevs,) * n_inputs
    if len(values) != n_inputs or not all(_is_real(v) and v >= 0 for v in values):
        raise ValueError(
            f"stdevs must be a number >= 0 or a tuple of {n_inputs} such numbers (one per input "
            f"tensor); got {stdevs!r}."
        )
    return tuple(float(v) for v in values)


# ---------------------------------------------------------------------------- randomness
def _generator(seed, device: torch.device) -> torch.Generator:
    """A torch Generator for one ``attribute`` call: ``seed`` itself when it is one, else a new
    one seeded from it (on ``device`` where torch has generators there)."""
    if isinstance(seed, torch.Generator):
        return seed
    try:
        g = torch.Generator(device=device)
    except RuntimeError:  # no generator for this device type: draw on the CPU
        g = torch.Generator()
    return g.manual_seed(int(normalize_seed(seed)))


def _draw(fn, g: torch.Generator, *args, dtype, device) -> torch.Tensor:
    """``fn(*args)`` drawn from ``g`` on its device, moved to ``device``."""
    return fn(*args, generator=g, dtype=dtype, device=g.device).to(device)


def _rng(owner, rngs: dict, device) -> torch.Generator:
    """The generator of explainer ``owner`` for the current call, created on first use."""
    if id(owner) not in rngs:
        rngs[id(owner)] = _generator(owner.seed, device)
    return rngs[id(owner)]


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
    k = np.arange(n, dtype=np.float64)
    weights = np.full(n, 1.0 / n)
    if method == "riemann_left":
        alphas = k / n
    elif method == "riemann_right":
        alphas = (k + 1) / n
    elif method == "riemann_middle":
        alphas = (k + 0.5) / n
    else:  # riemann_trapezoid, n >= 2
        alphas = k / (n - 1)
        weights[[0, -1]] /= 2
    return tuple(alphas), tuple(weights)


# ---------------------------------------------------------------------------- the model call
def _check_target(target, N: int, device) -> torch.Tensor | None:
    """``target`` as an int64 tensor ``(N, m)``: ``m`` indices into the output axes after the
    batch axis, per example; ``None`` stays ``None``."""
    if target is None:
        return None
    if _is_int(target):
        T = torch.tensor([[int(target)]])
    elif isinstance(target, tuple) and target and all(_is_int(v) for v in target):
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
        if all(_is_int(v) for v in target):
            T = torch.tensor([[int(v)] for v in target])
        elif all(isinstance(v, tuple) and v and all(_is_int(u) for u in v) for v in target) and (
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


class _Call:
    """``forward_func`` with its extra arguments and targets, on rows that each belong to one of
    the ``N`` examples.

    ``index`` maps the rows to their examples; ``None`` means the rows are the examples, and the
    extra arguments are then passed unchanged. Otherwise every tensor among them with a batch
    axis is gathered per row, as captum expands them.
    """

    def __init__(self, forward_func, additional_forward_args, target, N: int, device):
        self.forward_func = forward_func
        if additional_forward_args is None:
            self.args = ()
        elif isinstance(additional_forward_args, tuple):
            self.args = additional_forward_args
        else:
            self.args = (additional_forward_args,)
        self.N = N
        self.target = _check_target(target, N, device)
        # range of each target column, checked against the output's shape on every call
        self.bounds = (
            None
            if self.target is None
            else list(
                zip(
                    self.target.min(0).values.tolist(),
                    self.target.max(0).values.tolist(),
                    strict=True,
                )
            )
        )
        self.index = None

    def expand(self, ex: torch.Tensor) -> _Call:
        """The call for new rows, row ``r`` belonging to (current) example ``ex[r]``."""
        new = copy.copy(self)
        new.index = ex if self.index is None else self.index.index_select(0, ex)
        return new

    def _row_args(self) -> tuple:
        if self.index is None:
            return self.args
        out = []
        for k, a in enumerate(self.args):
            if isinstance(a, torch.Tensor) and a.dim() > 0:
                if a.shape[0] != self.N:
                    raise ValueError(
                        f"additional_forward_args[{k}] has shape {tuple(a.shape)}; tensors among "
                        f"them are expanded with the inputs and need the {self.N} examples on "
                        "axis 0. Pass a tensor shared by all examples through a closure instead, "
                        "e.g. lambda x: model(x, shared)."
                    )
                a = a.index_select(0, self.index.to(a.device))
            out.append(a)
        return tuple(out)

    def __call__(self, rows: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The targeted output of every row, shape ``(R,)``; differentiable when the rows are."""
        R = rows[0].shape[0]
        out = self.forward_func(*rows, *self._row_args())
        if not isinstance(out, torch.Tensor):
            raise TypeError(
                f"forward_func returned {type(out).__name__}; expected a tensor of shape ({R},) "
                f"or ({R}, k)."
            )
        if out.dim() == 0 or out.shape[0] != R:
            raise ValueError(
                f"forward_func returned an output of shape {tuple(out.shape)} for {R} input "
                f"rows; expected the rows on axis 0, e.g. ({R},) or ({R}, k)."
            )
        y = self._select(out)
        finite = torch.isfinite(y.detach())
        if not bool(finite.all()):
            bad = torch.nonzero(~finite)[:, 0]
            if self.index is not None:
                bad = self.index.index_select(0, bad.to(self.index.device))
            examples = sorted(set(bad.tolist()))
            raise ValueError(
                f"forward_func returned NaN or inf at the target for example(s) {examples[:10]}"
                f"{' ...' if len(examples) > 10 else ''} (at the inputs, baselines or points "
                "between them); gradients of non-finite outputs are meaningless. Check those "
                "inputs and the model."
            )
        return y

    def _select(self, out: torch.Tensor) -> torch.Tensor:
        R, per = out.shape[0], tuple(out.shape[1:])
        if self.target is None:
            if out[0].numel() != 1:
                raise ValueError(
                    f"the model returns outputs of shape {per} per example and target is None; "
                    "gradients need one value per example. Pass target=<output index>: an int "
                    "for all examples, or one int per example (list or 1-D tensor)."
                )
            return out.reshape(R)
        m = self.target.shape[1]
        if len(per) < m:
            raise ValueError(
                f"target indexes {m} output axis/axes but the model returns outputs of shape "
                f"{per} per example; pass target=None for one value per example, or one index "
                "per output axis."
            )
        T = self.target if self.index is None else self.target.index_select(0, self.index)
        T = T.to(out.device)
        cols = []
        for j, (lo, hi) in enumerate(self.bounds):
            size = per[j]
            if lo < -size or hi >= size:
                bad = lo if lo < -size else hi
                raise ValueError(
                    f"target {bad} is out of range for output axis {j + 1} of size {size} (the "
                    f"model returns {per} per example); targets must lie in 0..{size - 1}."
                )
            cols.append(torch.remainder(T[:, j], size))
        y = out[(torch.arange(R, device=out.device), *cols)]
        if y[0].numel() != 1:
            raise ValueError(
                f"the targeted output still has shape {tuple(y.shape[1:])} per example; "
                "gradients need one value per example. Pass a tuple target with one index per "
                f"output axis (the model returns {per} per example)."
            )
        return y.reshape(R)


def _differentiable(y: torch.Tensor) -> None:
    if not y.requires_grad:
        raise TypeError(
            "the targeted output does not depend differentiably on what is attributed (it "
            "carries no gradient); forward_func must compute it with torch operations, without "
            "torch.no_grad(), .detach() or conversions to numpy."
        )


def _gradients(call: _Call, rows) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """Gradients of the targeted outputs with respect to ``rows`` (same shapes) and the outputs
    ``(R,)``. Inputs the output does not use get zero gradients."""
    rows = tuple(r.detach().requires_grad_() for r in rows)
    y = call(rows)
    _differentiable(y)
    grads = torch.autograd.grad(y.sum(), rows, allow_unused=True)
    grads = tuple(torch.zeros_like(r) if g is None else g for r, g in zip(rows, grads, strict=True))
    return grads, y.detach()


def _values(call: _Call, rows, chunk: int | None = None) -> torch.Tensor:
    """Targeted outputs ``(R,)`` of ``rows``, without gradients, in chunks of ``chunk`` rows."""
    R = rows[0].shape[0]
    step = R if chunk is None else chunk
    parts = []
    with torch.no_grad():
        for a in range(0, R, step):
            b = min(a + step, R)
            sub = call if b - a == R else call.expand(torch.arange(a, b, device=rows[0].device))
            parts.append(sub(tuple(r[a:b] for r in rows)))
    return torch.cat(parts)


def _delta(call: _Call, attrs, xs, bs, chunk: int | None = None) -> torch.Tensor:
    """Per example: sum of attributions - (f(x) - f(baseline)), shape ``(N,)``."""
    N = xs[0].shape[0]
    ends = tuple(torch.cat([x, b.expand_as(x)]) for x, b in zip(xs, bs, strict=True))
    ex = torch.arange(N, device=xs[0].device).repeat(2)
    f = _values(call.expand(ex), ends, chunk)
    total = sum(a.reshape(N, -1).sum(1) for a in attrs)
    return total - (f[:N] - f[N:])


def _take(b: torch.Tensor, ex: torch.Tensor) -> torch.Tensor:
    """Rows ``ex`` of a baseline ``(1 or N, ...)``; a shared one stays broadcastable."""
    return b if b.shape[0] == 1 else b.index_select(0, ex)


def _column(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``v`` ``(R,)`` shaped ``(R, 1, ...)`` to scale the rows of ``like``, in its dtype."""
    return v.to(like.dtype).reshape((-1,) + (1,) * (like.dim() - 1))


def _format(attrs, as_tuple: bool, delta, with_delta: bool):
    out = attrs if as_tuple else attrs[0]
    return (out, delta) if with_delta else out


@contextlib.contextmanager
def _autograd():
    """Gradients on, also inside the caller's ``torch.no_grad()`` or ``inference_mode()``."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


# ---------------------------------------------------------------------------- base
class _GradientAttribution:
    """An attribution method: ``attribute`` validates, ``_run`` computes on validated rows.

    ``_run(xs, bs, call, delta, rngs, **options)`` returns the attributions of the rows ``xs``
    (a tuple) and, when ``delta``, the convergence deltas. ``_BASELINES`` says what ``bs`` is:
    ``"none"``, ``"per_example"`` (one baseline per row, broadcastable) or ``"distribution"``
    (background rows to draw from).
    """

    _BASELINES = "none"

    def __init__(self, forward_func):
        _check_forward_func(forward_func)
        self.forward_func = forward_func

    def has_convergence_delta(self) -> bool:
        """Whether ``attribute`` can return convergence deltas."""
        return False

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

    def _run(self, xs, bs, call, delta, rngs, **options):  # pragma: no cover - abstract
        raise NotImplementedError


# ---------------------------------------------------------------------------- methods
class IntegratedGradients(_GradientAttribution):
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
        super().__init__(forward_func)
        self._multiply_by_inputs = _check_flag(multiply_by_inputs, "multiply_by_inputs")

    def has_convergence_delta(self) -> bool:
        return True

    @property
    def multiplies_by_inputs(self) -> bool:
        return self._multiply_by_inputs

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
            Rows (path points) per model call; default all ``n_steps * N`` at once.
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
        with_delta = _check_flag(return_convergence_delta, "return_convergence_delta")
        with _autograd():
            xs, is_tuple = _check_inputs(inputs)
            bs = _check_baselines(baselines, xs, is_tuple)
            call = _Call(
                self.forward_func, additional_forward_args, target, len(xs[0]), xs[0].device
            )
            attrs, delta = self._run(xs, bs, call, with_delta, {}, **options)
        return _format(attrs, is_tuple, delta, with_delta)

    def _options(self, n_steps=50, method="gausslegendre", internal_batch_size=None) -> dict:
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}; got {method!r}.")
        n_steps = _check_int(
            n_steps, "n_steps", 1, " (points on the path between baseline and input)"
        )
        if method == "riemann_trapezoid" and n_steps < 2:
            raise ValueError(
                "method='riemann_trapezoid' needs n_steps >= 2 (it evaluates both ends of the "
                f"path); got n_steps={n_steps}."
            )
        ibs = _check_optional_int(internal_batch_size, "internal_batch_size", " (rows per call)")
        return dict(n_steps=n_steps, method=method, internal_batch_size=ibs)

    def _run(self, xs, bs, call, delta, rngs, n_steps, method, internal_batch_size):
        N, device = xs[0].shape[0], xs[0].device
        dtype = torch.promote_types(xs[0].dtype, torch.float32)  # float64 only where it is
        alphas, weights = (
            torch.tensor(v, dtype=torch.float64).to(device, dtype)
            for v in _quadrature(method, n_steps)
        )
        R = n_steps * N
        step = R if internal_batch_size is None else internal_batch_size
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
                total.index_add_(0, i, g * _column(weights[s], g))
        attrs = (
            tuple(t * d for t, d in zip(totals, diffs, strict=True))
            if self._multiply_by_inputs
            else totals
        )
        return attrs, (_delta(call, attrs, xs, bs, internal_batch_size) if delta else None)


class Saliency(_GradientAttribution):
    """Gradients of the targeted output with respect to the inputs (absolute by default).

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable; see :class:`IntegratedGradients`.
    """

    def attribute(self, inputs, target=None, abs=True, additional_forward_args=None):
        """Gradient, or its absolute value, at every input element.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        abs : bool, default True
            Return ``|gradient|``.
        additional_forward_args : any or tuple, optional
            Passed to ``forward_func`` after the inputs, unchanged.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes and dtypes of ``inputs``.
        """
        options = self._options(abs)
        with _autograd():
            xs, is_tuple = _check_inputs(inputs)
            call = _Call(
                self.forward_func, additional_forward_args, target, len(xs[0]), xs[0].device
            )
            attrs, _ = self._run(xs, None, call, False, {}, **options)
        return _format(attrs, is_tuple, None, False)

    def _options(self, abs=True) -> dict:
        return dict(absolute=_check_flag(abs, "abs"))

    def _run(self, xs, bs, call, delta, rngs, absolute):
        grads, _ = _gradients(call, xs)
        return (tuple(g.abs() for g in grads) if absolute else grads), None


class InputXGradient(_GradientAttribution):
    """Input times the gradient of the targeted output.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable; see :class:`IntegratedGradients`.
    """

    @property
    def multiplies_by_inputs(self) -> bool:
        return True

    def attribute(self, inputs, target=None, additional_forward_args=None):
        """``x * grad f(x)`` at every input element.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes and dtypes of ``inputs``.
        """
        with _autograd():
            xs, is_tuple = _check_inputs(inputs)
            call = _Call(
                self.forward_func, additional_forward_args, target, len(xs[0]), xs[0].device
            )
            attrs, _ = self._run(xs, None, call, False, {})
        return _format(attrs, is_tuple, None, False)

    def _run(self, xs, bs, call, delta, rngs):
        grads, _ = _gradients(call, xs)
        return tuple(x * g for x, g in zip(xs, grads, strict=True)), None


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
        u = _draw(torch.rand, generator, x0.shape[0], dtype=x0.dtype, device=x0.device)
        rows = tuple(
            _column(u, x) * x + (1 - _column(u, x)) * b for x, b in zip(xs, bs, strict=True)
        )
        grads, _ = _gradients(call, rows)
        if self._multiply_by_inputs:
            grads = tuple((x - b) * g for x, b, g in zip(xs, bs, grads, strict=True))
        return grads, (_delta(call, grads, xs, bs) if delta else None)


def _noise_tunnel(method, xs, bs, call, delta, rngs, options, *, n, batch, stdevs, draw, g):
    """Run ``method`` on ``n`` noisy copies of every example, ``batch`` copies per call.

    Copies are example-major (row ``i * batch + j`` is copy ``j`` of example ``i``, as captum).
    With ``draw``, each copy gets a baseline drawn from the background rows ``bs``.

    Returns
    -------
    mean, mean_sq : tuple of torch.Tensor
        Mean of the attributions and of their squares over the copies, per example.
    delta : torch.Tensor of shape (N * n,) or None
    """
    N, device = xs[0].shape[0], xs[0].device
    sums = squares = None
    deltas = []
    for start in range(0, n, batch):
        b = min(batch, n - start)
        ex = torch.arange(N, device=device).repeat_interleave(b)  # copy -> example
        noisy = []
        for x, sd in zip(xs, stdevs, strict=True):
            x = x.index_select(0, ex)
            if sd > 0:
                x = x + sd * _draw(torch.randn, g, x.shape, dtype=x.dtype, device=device)
            noisy.append(x)
        if method._BASELINES != "per_example":  # none, or background rows drawn from inside
            inner = bs
        elif draw:
            M = max(t.shape[0] for t in bs)
            pick = _draw(torch.randint, g, M, (len(ex),), dtype=torch.int64, device=device)
            inner = tuple(t if t.shape[0] == 1 else t.index_select(0, pick) for t in bs)
        else:
            inner = tuple(_take(t, ex) for t in bs)
        attrs, d = method._run(tuple(noisy), inner, call.expand(ex), delta, rngs, **options)
        attrs = tuple(a.reshape((N, b) + tuple(a.shape[1:])) for a in attrs)
        s, q = tuple(a.sum(1) for a in attrs), tuple((a * a).sum(1) for a in attrs)
        if sums is None:
            sums, squares = s, q
        else:
            sums = tuple(u + v for u, v in zip(sums, s, strict=True))
            squares = tuple(u + v for u, v in zip(squares, q, strict=True))
        if d is not None:
            deltas.append(d)
    mean = tuple(s / n for s in sums)
    mean_sq = tuple(q / n for q in squares)
    return mean, mean_sq, (torch.cat(deltas) if delta else None)


class GradientShap(_GradientAttribution):
    """Expected gradients: SHAP values approximated with gradients along random paths.

    Each of ``n_samples`` copies of an example adds Gaussian noise (``stdevs``) to it, draws a
    baseline row from the background and a point ``u ~ U(0, 1)`` on the path, and contributes
    ``(x_noisy - b) * grad f(b + u (x_noisy - b))``; the copies are averaged. All copies of all
    examples are one batch. Randomness comes from ``seed`` only.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable; see :class:`IntegratedGradients`.
    multiply_by_inputs : bool, default True
        ``False`` averages the gradients without the factor ``x_noisy - b``.
    seed : int, numpy Generator, torch.Generator or None, keyword-only
        An int makes every call reproducible; a ``torch.Generator`` is used as is (its state
        advances); ``None`` draws fresh entropy on every call. Never global random state.
    """

    _BASELINES = "distribution"

    def __init__(self, forward_func, multiply_by_inputs=True, *, seed=None):
        super().__init__(forward_func)
        self._multiply_by_inputs = _check_flag(multiply_by_inputs, "multiply_by_inputs")
        self.seed = _check_seed(seed)
        self._sample = _InputBaselineXGradient(forward_func, self._multiply_by_inputs)

    def has_convergence_delta(self) -> bool:
        return True

    @property
    def multiplies_by_inputs(self) -> bool:
        return self._multiply_by_inputs

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
        with_delta = _check_flag(return_convergence_delta, "return_convergence_delta")
        with _autograd():
            xs, is_tuple = _check_inputs(inputs)
            bs = _check_distribution(baselines, inputs, xs, is_tuple, "GradientShap")
            call = _Call(
                self.forward_func, additional_forward_args, target, len(xs[0]), xs[0].device
            )
            attrs, delta = self._run(xs, bs, call, with_delta, {}, **options)
        return _format(attrs, is_tuple, delta, with_delta)

    def _options(self, n_samples=5, stdevs=0.0) -> dict:
        n_samples = _check_int(n_samples, "n_samples", 1, " (random copies per example)")
        if not (_is_real(stdevs) or isinstance(stdevs, tuple)):
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


class LayerGradCam(_GradientAttribution):
    """GradCAM of a layer: channel weights = gradients averaged over the spatial axes.

    A forward hook on ``layer`` keeps its output (or input) and hands a clone to the rest of the
    model, so in-place operations downstream cannot change it; the result is
    ``sum_c mean_{spatial}(dy/dA_c) * A_c`` with a channel axis of size 1, per layer tensor.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable from ``layer`` on; see :class:`IntegratedGradients`.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    """

    def __init__(self, forward_func, layer):
        super().__init__(forward_func)
        if not isinstance(layer, torch.nn.Module):
            raise TypeError(
                f"layer must be a torch.nn.Module of the model (e.g. model.conv2); got "
                f"{type(layer).__name__}."
            )
        self.layer = layer

    def attribute(
        self,
        inputs,
        target=None,
        additional_forward_args=None,
        attribute_to_layer_input=False,
        relu_attributions=False,
        attr_dim_summation=True,
    ):
        """GradCAM maps of the layer's output (or input).

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Any dtype (gradients are taken at the layer only).
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
        attribute_to_layer_input : bool, default False
            Use the layer's positional inputs instead of its output.
        relu_attributions : bool, default False
            Clip the maps at 0.
        attr_dim_summation : bool, default True
            Sum over the channel axis; ``False`` keeps one map per channel.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            ``(N, 1, ...)`` per layer tensor ``(N, C, ...)`` (``(N, C, ...)`` without summation),
            in the layer's dtype; a tuple when the layer has several output tensors.
        """
        options = self._options(attribute_to_layer_input, relu_attributions, attr_dim_summation)
        with _autograd():
            xs, is_tuple = _check_inputs(inputs, floating=False)
            call = _Call(
                self.forward_func, additional_forward_args, target, len(xs[0]), xs[0].device
            )
            attrs, _ = self._run(xs, None, call, False, {}, **options)
        return _format(attrs, self._output_is_tuple(is_tuple, attrs), None, False)

    def _options(
        self, attribute_to_layer_input=False, relu_attributions=False, attr_dim_summation=True
    ) -> dict:
        return dict(
            to_input=_check_flag(attribute_to_layer_input, "attribute_to_layer_input"),
            relu=_check_flag(relu_attributions, "relu_attributions"),
            summation=_check_flag(attr_dim_summation, "attr_dim_summation"),
        )

    def _output_is_tuple(self, inputs_tuple: bool, attrs) -> bool:
        return len(attrs) > 1

    def _run(self, xs, bs, call, delta, rngs, to_input, relu, summation):
        saved = []
        what = "input" if to_input else "output"

        def keep(tensors):
            for t in tensors:
                if not isinstance(t, torch.Tensor) or not t.is_floating_point():
                    kind = t.dtype if isinstance(t, torch.Tensor) else type(t).__name__
                    raise TypeError(
                        f"GradCAM needs floating-point tensors at the layer's {what}; got {kind}. "
                        "Pick a layer whose positional inputs / outputs are float tensors."
                    )
                if not t.requires_grad:  # e.g. frozen parameters and constant inputs
                    t.requires_grad_()
            saved.append(tuple(tensors))
            return tuple(t.clone() for t in tensors)

        if to_input:
            handle = self.layer.register_forward_pre_hook(lambda module, args: keep(args))
        else:

            def hook(module, args, out):
                if isinstance(out, torch.Tensor):
                    return keep((out,))[0]
                if isinstance(out, (tuple, list)):
                    return type(out)(keep(out))
                raise TypeError(
                    f"the layer returned {type(out).__name__}; GradCAM needs a tensor or a tuple "
                    "of tensors."
                )

            handle = self.layer.register_forward_hook(hook)
        try:
            y = call(xs)
        finally:
            handle.remove()
        if len(saved) != 1:
            raise ValueError(
                f"layer ran {len(saved)} times in one call of forward_func; GradCAM needs a "
                "submodule that runs exactly once (pass a layer the forward pass uses, and a "
                "separate module instance for each use)."
            )
        _differentiable(y)
        acts = saved[0]
        grads = torch.autograd.grad(y.sum(), acts, allow_unused=True)
        maps = []
        for a, g in zip(acts, grads, strict=True):
            if a.dim() < 2:
                raise ValueError(
                    f"the layer's {what} has shape {tuple(a.shape)}; GradCAM needs a channel axis "
                    "after the batch axis, (N, C, ...)."
                )
            g = torch.zeros_like(a) if g is None else g
            if g.dim() > 2:
                g = g.mean(dim=tuple(range(2, g.dim())), keepdim=True)
            cam = g * a.detach()
            if summation:
                cam = cam.sum(1, keepdim=True)
            maps.append(torch.relu(cam) if relu else cam)
        return tuple(maps), None


class NoiseTunnel:
    """SmoothGrad, SmoothGrad-squared and VarGrad around one of this module's methods.

    Every example gets ``nt_samples`` copies with Gaussian noise of standard deviation
    ``stdevs``; the wrapped method runs on all copies as one batch (or ``nt_samples_batch_size``
    copies per example at a time) and the attributions are averaged per example.

    Parameters
    ----------
    attribution_method : IntegratedGradients, Saliency, InputXGradient, GradientShap or
        LayerGradCam
    seed : int, numpy Generator, torch.Generator or None, keyword-only
        Seed of the noise (and of drawn baselines); see :class:`GradientShap`.
    """

    def __init__(self, attribution_method, *, seed=None):
        if not isinstance(attribution_method, _GradientAttribution):
            raise TypeError(
                "attribution_method must be an IntegratedGradients, Saliency, InputXGradient, "
                f"GradientShap or LayerGradCam of this module; got "
                f"{type(attribution_method).__name__}."
            )
        self.attribution_method = attribution_method
        self.seed = _check_seed(seed)

    def has_convergence_delta(self) -> bool:
        return self.attribution_method.has_convergence_delta()

    @property
    def multiplies_by_inputs(self) -> bool:
        return self.attribution_method.multiplies_by_inputs

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
        method = self.attribution_method
        accepted = method._argument_names()
        unknown = {k: v for k, v in kwargs.items() if k not in accepted}
        check_no_kwargs(unknown, f"NoiseTunnel.attribute() of {type(method).__name__}", accepted)
        if nt_type not in NT_TYPES:
            raise ValueError(f"nt_type must be one of {list(NT_TYPES)}; got {nt_type!r}.")
        nt_samples = _check_int(nt_samples, "nt_samples", 1, " (noisy copies per example)")
        batch = _check_optional_int(
            nt_samples_batch_size, "nt_samples_batch_size", " (copies per example per run)"
        )
        batch = nt_samples if batch is None else min(batch, nt_samples)
        draw = _check_flag(draw_baseline_from_distrib, "draw_baseline_from_distrib")
        if draw and method._BASELINES == "none":
            raise ValueError(
                f"draw_baseline_from_distrib=True needs a method with baselines; "
                f"{type(method).__name__} has none."
            )
        rest = dict(kwargs)
        target = rest.pop("target", None)
        extra_args = rest.pop("additional_forward_args", None)
        with_delta = _check_flag(
            rest.pop("return_convergence_delta", False), "return_convergence_delta"
        )
        baselines = rest.pop("baselines", None)
        options = method._options(**rest)
        with _autograd():
            xs, is_tuple = _check_inputs(inputs)
            stdevs = _check_stdevs(stdevs, len(xs))
            owner = type(method).__name__
            if method._BASELINES == "distribution" or draw:
                if baselines is None and method._BASELINES == "per_example":
                    baselines = 0.0  # zeros, as without drawing
                bs = _check_distribution(baselines, inputs, xs, is_tuple, owner)
            elif method._BASELINES == "per_example":
                bs = _check_baselines(baselines, xs, is_tuple)
            else:
                bs = None
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

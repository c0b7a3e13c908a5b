"""What the gradient explainers share: argument checks, randomness and the model call.

The checks turn ``attribute`` arguments into validated tensors; :class:`_Call` evaluates
``forward_func`` on a batch of rows, each row tagged with the example it belongs to, with the
extra forward arguments and targets gathered per row; ``_gradients`` takes
``torch.autograd.grad`` of the targeted outputs with respect to the rows (never the
parameters); :class:`_GradientAttribution` is the base class of the methods, and
``_noise_tunnel`` runs one of them on noisy copies of every example (for ``NoiseTunnel`` and
``GradientShap``).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import numbers

import numpy as np
import torch

from ..._rng import normalize_seed


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
        with _autograd():
            xs, is_tuple = _check_inputs(inputs, floating=floating)
            bs = self._checked_baselines(baselines, inputs, xs, is_tuple)
            call = _Call(
                self.forward_func, additional_forward_args, target, len(xs[0]), xs[0].device
            )
            attrs, delta = self._run(xs, bs, call, with_delta, {}, **options)
        return _format(attrs, self._output_is_tuple(is_tuple, attrs), delta, with_delta)

    def _run(self, xs, bs, call, delta, rngs, **options):  # pragma: no cover - abstract
        raise NotImplementedError


class _BaselineAttribution(_GradientAttribution):
    """A method that compares inputs with baselines: it can multiply by ``x - b`` and report
    convergence deltas (IntegratedGradients, GradientShap)."""

    def __init__(self, forward_func, multiply_by_inputs=True):
        super().__init__(forward_func)
        self._multiply_by_inputs = _check_flag(multiply_by_inputs, "multiply_by_inputs")

    def has_convergence_delta(self) -> bool:
        return True

    @property
    def multiplies_by_inputs(self) -> bool:
        return self._multiply_by_inputs


# ---------------------------------------------------------------------------- noisy copies
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

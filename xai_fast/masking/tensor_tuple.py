"""captum's input and output forms: tuples of input tensors as one flat row per example, the
forward that splits them back, and forwards that return one number per call.

captum's perturbation methods take a tuple of tensors ``(N, ...)`` with one baseline and one
feature mask per tensor; a feature id used in several tensors is one feature. Here the tuple
becomes one ``(N, D_total)`` tensor (the tensors' elements side by side), with baselines and
masks flattened alike, so one masker and one engine serve both forms; :class:`SplitForward`
cuts each perturbed row back into the tuple before the model call. A tuple whose tensors have
different first dimensions (sparse inputs: an index list next to the examples) is explained as
captum explains it, the whole batch as one example: one row, each tensor flattened whole, a
tensor's feature ids those of one of its rows, shared by all of them. :class:`ScalarForward`
serves a forward that returns one number for the whole batch it gets, evaluating it one
perturbed row at a time.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "ExtraArgs",
    "ScalarForward",
    "SplitForward",
    "WholeBatchForward",
    "flatten_tuple",
    "forward_args",
    "is_scalar",
]


def _per_tensor(value, k: int, name: str) -> tuple:
    """``value`` as one entry per input tensor: a tuple of ``k``, or one entry for all."""
    if isinstance(value, tuple):
        if len(value) != k:
            raise ValueError(
                f"{name} has {len(value)} entries but inputs has {k} tensors; pass one per input "
                "tensor, as a tuple in the same order."
            )
        return value
    if isinstance(value, torch.Tensor) and k > 1:
        raise TypeError(
            f"{name} is one tensor but inputs is a tuple of {k} tensors; pass a tuple with one "
            f"{name.rstrip('s')} per input tensor."
        )
    return (value,) * k


def flatten_tuple(inputs: tuple, baselines, feature_mask, check, baseline_rows, mask_rows):
    """One flat row per example from a tuple of tensors, with its baselines and feature ids.

    Parameters
    ----------
    inputs : tuple of torch.Tensor, each (N, ...) or, sparse, (N_k, ...)
        With first dimensions that differ, the batch is one row: each tensor flattened whole.
    baselines : None, scalar, tensor or a tuple of them (one per input tensor)
    feature_mask : None, integer tensor or a tuple of them (one per input tensor)
    check : callable
        ``check(x)`` validates one input tensor and returns it detached.
    baseline_rows, mask_rows : callable
        ``(value, x) -> (1 or N, D_k)``: one tensor's baselines and feature ids, flattened;
        ``mask_rows(None, x)`` is the default mask of ``x``.

    Returns
    -------
    X : torch.Tensor, shape (N, D_total), or (1, sum of N_k * D_k) for sparse inputs
        In the promoted dtype of the tensors.
    B : torch.Tensor, shape (1 or N, D_total), or as ``X`` for sparse inputs
    mask : torch.Tensor of int64, shape as ``B``
        Without a mask, every tensor's default ids, numbered after the previous tensors' ones
        (a tensor without elements or rows takes none).
    forward : SplitForward
        Cuts rows back into the tuple.
    """
    if not inputs:
        raise ValueError("inputs is an empty tuple; pass at least one tensor (N, ...).")
    xs = tuple(check(x) for x in inputs)
    rows = [x.shape[0] for x in xs]
    sparse = len(set(rows)) > 1  # captum's form for a forward of the whole batch
    if rows[0] == 0 and not sparse:
        raise ValueError(
            f"inputs must have shape (N, ...) with N >= 1 examples; every tensor has 0 rows "
            f"(shapes {[tuple(x.shape) for x in xs]}). Pass at least one example on axis 0."
        )
    per = _per_tensor(baselines, len(xs), "baselines")
    bs = [baseline_rows(b, x) for b, x in zip(per, xs, strict=True)]
    # an integer tensor with a float baseline is ablated to a float, as captum's
    xs = tuple(
        x.to(b.dtype) if b.is_floating_point() and not x.is_floating_point() else x
        for x, b in zip(xs, bs, strict=True)
    )
    dtype = xs[0].dtype
    for x in xs[1:]:
        dtype = torch.promote_types(dtype, x.dtype)
    if feature_mask is None:
        ms, offset = [], 0
        for x in xs:  # default ids of each tensor, after the previous tensors' ones
            m = mask_rows(None, x)
            if m.numel() == 0 or x.shape[0] == 0:  # a tensor without elements has no features
                ms.append(m)
                continue
            ms.append(m - m.min() + offset)
            offset = int(ms[-1].max()) + 1
    else:
        masks = _per_tensor(feature_mask, len(xs), "feature_mask")
        ms = [mask_rows(m, x) for m, x in zip(masks, xs, strict=True)]

    def joined(parts):  # (1 or N, D_k) each -> (1 or N, D_total); sparse: (1, N_k * D_k) each
        if sparse:
            parts = [p.expand(n, -1).reshape(1, -1) for p, n in zip(parts, rows, strict=True)]
        n = max(p.shape[0] for p in parts)
        return torch.cat([p.expand(n, -1) for p in parts], dim=1)

    X = torch.cat([x.reshape(1 if sparse else rows[0], -1).to(dtype) for x in xs], dim=1)
    if X.shape[1] == 0:
        raise ValueError("every tensor of inputs is empty; there is nothing to attribute.")
    B = joined([b.to(dtype) for b in bs])
    return X, B, joined(ms), SplitForward(xs, sparse)


class SplitForward:
    """Cuts flat rows ``(P, D_total)`` into the input tuple, each tensor in its own shape and
    dtype, and calls ``model(*tensors)``.

    Parameters
    ----------
    xs : tuple of torch.Tensor, each (N, ...)
        The inputs (their shapes and dtypes; floating ones take ``floating_dtype`` when set).
    sparse : bool, default False
        Whether a row is the whole batch (tensors with different first dimensions ``N_k``):
        ``P`` rows are then each tensor's ``N_k`` rows ``P`` times over, ``(P * N_k, ...)``,
        captum's batch of ``P`` perturbations.
    """

    def __init__(self, xs, sparse: bool = False):
        self.shapes = [tuple(x.shape[1:]) for x in xs]
        self.rows = tuple(x.shape[0] for x in xs) if sparse else None  # N_k of sparse inputs
        self.batch = xs[0].shape[0]  # the forward's batch, as captum counts it: inputs[0]'s N
        reps = self.rows or (1,) * len(xs)
        self.sizes = [r * math.prod(s) for r, s in zip(reps, self.shapes, strict=True)]
        self.dtypes = [x.dtype for x in xs]
        self.model = None

    def bind(self, model, floating_dtype=None) -> SplitForward:
        """This splitter calling ``model``; floating tensors cast to ``floating_dtype``."""
        self.model = model
        if floating_dtype is not None:
            self.dtypes = [floating_dtype if d.is_floating_point else d for d in self.dtypes]
        return self

    def tensors(self, rows: torch.Tensor) -> tuple:
        """Flat rows ``(P, D_total)`` as the tuple of tensors ``(P, ...)`` (dtype kept); for
        sparse inputs ``(P * N_k, ...)``."""
        parts = torch.split(rows, self.sizes, dim=1)
        reps = self.rows or (1,) * len(parts)
        return tuple(
            p.reshape((rows.shape[0] * r, *s))
            for p, s, r in zip(parts, self.shapes, reps, strict=True)
        )

    def examples(self, values: torch.Tensor) -> tuple:
        """Values ``(n, D_total)`` of the elements as the tuple of tensors ``(n, ...)``; for
        sparse inputs (the batch one row) each tensor's first row, zeros for a tensor without
        rows: captum's attributions of a batch explained as a whole."""
        if self.rows is None:
            return self.tensors(values)
        n = values.shape[0]
        parts = torch.split(values, self.sizes, dim=1)
        return tuple(
            (p[:, : math.prod(s)] if r else p.new_zeros((n, math.prod(s)))).reshape((n, *s))
            for p, s, r in zip(parts, self.shapes, self.rows, strict=True)
        )

    def __call__(self, rows: torch.Tensor):
        tensors = self.tensors(rows)
        return self.model(*(t.to(d) for t, d in zip(tensors, self.dtypes, strict=True)))


def is_scalar(out, P: int) -> bool:
    """One number for ``P`` rows: a Python number, a 0-d array, or one element for P > 1."""
    if isinstance(out, (int, float)):
        return True
    size = getattr(out, "numel", None)
    n = size() if callable(size) else getattr(out, "size", None)
    return hasattr(out, "ndim") and (out.ndim == 0 or (P > 1 and n == 1))


class ScalarForward:
    """``model`` returning ``(n,)`` / ``(n, k)`` per call, also when it returns one number for
    the whole batch (captum's form for one example): then each row is evaluated on its own.

    Parameters
    ----------
    model : callable
    N : int
        Examples of the call; the one-number form needs ``N == 1`` (with several examples the
        number mixes them, and perturbations explain single examples).
    """

    def __init__(self, model, N: int):
        self.model, self.N = model, N
        self.per_row = False

    def _check(self, out, P: int) -> None:
        if self.N > 1:
            shape = tuple(getattr(out, "shape", ()))
            raise ValueError(
                f"the model returned an output of shape {shape} for {P} input rows: one number for "
                f"the whole batch. With {self.N} examples that number mixes them; return one "
                f"output per row, ({P},) or ({P}, k), or explain the examples one at a time."
            )

    def __call__(self, rows: torch.Tensor):
        P = rows.shape[0]
        if not self.per_row:
            out = self.model(rows)
            if not is_scalar(out, P):
                return out
            self._check(out, P)
            if P == 1:
                return torch.as_tensor(out, dtype=torch.float64, device=rows.device).reshape(1)
            self.per_row = True
        self._check((), P)
        values = [float(self.model(rows[j : j + 1])) for j in range(P)]  # one number per call
        return torch.tensor(values, dtype=torch.float64, device=rows.device)


class WholeBatchForward:
    """A forward returning one output of fixed size per batch (one number, a loss, or e.g.
    ``(1, k)`` whatever the batch), over perturbed batches ``(P, N, D)``: one call per
    perturbed batch of ``N`` flat rows, its output flattened to the perturbation's values.

    Parameters
    ----------
    rows : callable
        Flat rows ``(N, D)`` of the batch -> one output (a Python number or a tensor).
    size : int, default 1
        Elements of that output, the same on every call.
    """

    def __init__(self, rows, size: int = 1):
        self.rows, self.size = rows, size

    def __call__(self, batches: torch.Tensor) -> torch.Tensor:
        values = []
        for b in batches:  # the forward takes one whole batch per call
            out = torch.as_tensor(self.rows(b), dtype=torch.float64, device=batches.device)
            if out.numel() != self.size:
                raise ValueError(
                    f"the model returned an output of {self.size} element(s) for the batch on "
                    f"the inputs but of shape {tuple(out.shape)} on a perturbed batch; return an "
                    "output of the same size every time."
                )
            values.append(out.reshape(-1))
        out = torch.stack(values)
        return out[:, 0] if self.size == 1 else out


def forward_args(additional_forward_args, N: int | None) -> tuple[tuple, list | None]:
    """captum's ``additional_forward_args`` as a tuple, and, when tensors among them hold the
    ``N > 1`` examples on axis 0, each example's arguments (those tensors cut to one row).

    Tensors with one row (and everything else) are shared by all examples; with ``N=None``
    (sparse inputs: the batch explained as a whole) every argument is passed as given.
    """
    a = additional_forward_args
    args = () if a is None else a if isinstance(a, tuple) else (a,)
    if N is None:
        return args, None

    def batched(v):
        return isinstance(v, torch.Tensor) and v.dim() > 0 and v.shape[0] != 1

    for k, v in enumerate(args):
        if batched(v) and v.shape[0] != N:
            raise ValueError(
                f"additional_forward_args[{k}] has shape {tuple(v.shape)}; a tensor among them "
                f"needs the {N} examples (or one row) on axis 0. Pass other tensors through a "
                "closure, e.g. lambda x: model(x, shared)."
            )
    if N == 1 or not any(batched(v) for v in args):
        return args, None
    return args, [tuple(v[i : i + 1] if batched(v) else v for v in args) for i in range(N)]


class ExtraArgs:
    """``model(*tensors, *args)``, tensors of one row among ``args`` repeated for every row
    (captum's expansion of ``additional_forward_args`` over the perturbations)."""

    def __init__(self, model, args: tuple):
        self.model, self.args = model, args

    def __call__(self, *tensors):
        P = tensors[0].shape[0]
        args = (
            a.expand(P, *a.shape[1:]) if isinstance(a, torch.Tensor) and a.dim() > 0 else a
            for a in self.args
        )
        return self.model(*tensors, *args)

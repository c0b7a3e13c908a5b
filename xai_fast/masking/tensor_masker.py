"""The tensor masker: absent features take the baseline's elements.

Inputs ``(N, ...)``, baselines and a feature mask are checked and flattened once to ``(rows, D)``
on the model's device; coalition ``z`` of example ``i`` is ``where(z[mask_i], x_i, baseline_i)``,
and its value is the model's output at example ``i``'s target.
"""

from __future__ import annotations

import copy
import math
import numbers
import threading

import numpy as np
import torch

from .._validation import check_target
from ..models import ModelAdapter
from .feature_masks import compact_ids, grid_feature_mask, per_example, rows_of
from .tensor_tuple import flatten_tuple

__all__ = ["TensorMasker", "TensorTarget"]


class TensorTarget:
    """The output column of every example; checked against the model's outputs once.

    A tuple target (one index per output axis, for outputs ``(n, k1, k2, ...)``) becomes a
    column of the flattened outputs: :meth:`flat_outputs` wraps the forward.

    Parameters
    ----------
    target : None, int, tuple of ints, or a list / 1-D tensor of ``N`` ints (or tuples)
    N : int
    device : torch.device
    """

    def __init__(self, target, N: int, device):
        self.checked = False
        self.all_outputs = False  # every output column kept (captum's outputs of fixed size)
        T = check_target(target, N, device)
        self.multi = T if T is not None and T.shape[1] > 1 else None  # (N, m) until flattened
        self.t = None if T is None or self.multi is not None else T[:, 0].contiguous()
        if self.t is not None:
            self.lo, self.hi = int(self.t.min()), int(self.t.max())

    def take(self, i: int) -> TensorTarget:
        """The target of example ``i`` alone."""
        new = copy.copy(self)
        if self.t is not None:
            new.t = self.t[i : i + 1]
        if self.multi is not None:
            new.multi = self.multi[i : i + 1]
        return new

    def flat_outputs(self, fn):
        """``fn`` with outputs ``(P, k1, k2, ...)`` flattened to ``(P, k1 * k2 * ...)``; on the
        first call the tuple targets become columns of the flattened outputs."""

        def call(rows):
            out = fn(rows)
            per = tuple(out.shape[1:])
            if self.t is None:
                self._flatten(per)
            return out.reshape(out.shape[0], -1)

        return call

    def _flatten(self, per: tuple) -> None:
        m = self.multi.shape[1]
        if len(per) != m:
            raise ValueError(
                f"target holds {m} indices per example but the model returns outputs of shape "
                f"{per} per example; pass one index per output axis after the batch axis."
            )
        for j, size in enumerate(per):
            lo, hi = int(self.multi[:, j].min()), int(self.multi[:, j].max())
            if lo < 0 or hi >= size:
                raise ValueError(
                    f"target index {lo if lo < 0 else hi} is out of range for output axis "
                    f"{j + 1} of size {size} (outputs {per} per example)."
                )
        strides = torch.tensor(
            [math.prod(per[j + 1 :]) for j in range(m)], device=self.multi.device
        )
        self.t = (self.multi * strides).sum(1).contiguous()
        self.lo, self.hi = int(self.t.min()), int(self.t.max())

    def every_output(self) -> TensorTarget:
        """A target keeping every output column (no target given)."""
        new = copy.copy(self)
        new.all_outputs = True
        return new

    def select(self, out: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        """The targeted column of ``out`` ``(P, k)`` for examples ``i`` ``(P,)``, as float64
        ``(P,)``; every column ``(P, k)`` with :meth:`every_output`."""
        k = out.shape[1]
        if self.all_outputs:
            return out.to(torch.float64)
        if not self.checked:
            if self.t is None and k != 1:
                raise ValueError(
                    f"the model returns {k} outputs per example and target is None; pass "
                    "target=<output column> (an int, or one int per example)."
                )
            if self.t is not None and (self.lo < 0 or self.hi >= k):
                bad = self.lo if self.lo < 0 else self.hi
                raise ValueError(
                    f"target {bad} is out of range for a model with {k} output(s) per example; "
                    f"targets must lie in 0..{k - 1}."
                )
            self.checked = True
        col = out[:, 0] if self.t is None else out.gather(1, self.t[i][:, None])[:, 0]
        return col.to(torch.float64)


class TensorMasker:
    """Examples, baselines and feature ids of one call, flattened to ``(rows, D)``.

    Build with :meth:`from_inputs`. ``X`` is ``(N, D)``; ``B`` and ``mask`` are ``(1, D)`` when
    shared by every example, else ``(N, D)``; ``mask`` holds ids ``0..M[i]-1``; ``M`` is
    ``(N,)``.
    """

    def __init__(
        self, X, B, mask, M, target, example_shape, out_dtype, out_device, split=None, given=None
    ):
        self.X, self.B, self.mask, self.M = X, B, mask, M
        # the ids as given less the smallest (captum's ids), and captum's count of features
        self.given = mask - mask.min() if given is None else given
        self.n_ids = int(self.given.max()) + 1
        self.id_offset = 0  # the smallest id as given (set by from_inputs)
        self.target = target
        self.example_shape = example_shape
        self.out_dtype, self.out_device = out_dtype, out_device
        self.split = split  # a SplitForward for tuple inputs (rows are the tensors side by side)
        self.model_dtype = None  # the dtype of the model's outputs, once a chunk has come back

    @classmethod
    def from_inputs(
        cls, model: ModelAdapter, inputs, baselines, target, feature_mask, patch_size, scalars=False
    ) -> TensorMasker:
        """Check captum-style arguments (see :meth:`xai_fast.KernelShap.attribute`).

        Floating inputs are cast to a module's floating dtype and everything is moved to its
        device (a callable's: the inputs' device). A tuple of tensors becomes one flat row per
        example (see :func:`~xai_fast.masking.tensor_tuple.flatten_tuple`); ``split`` then cuts
        the perturbed rows back into the tuple. With ``scalars``, inputs ``(N,)`` are ``N``
        examples of one number each (captum's ablation methods take them so).
        """
        split = None
        if isinstance(inputs, tuple):
            x, B, mask, split = flatten_tuple(
                inputs,
                baselines,
                feature_mask,
                lambda t: _check_inputs(t, empty=True, scalars=scalars),
                _baselines,
                lambda m, t: _feature_mask(m, patch_size, t),
            )
        else:
            x = _check_inputs(inputs, scalars=scalars)
            baselines, feature_mask = (  # captum's one-tensor tuples of a single input
                v[0] if isinstance(v, tuple) and len(v) == 1 else v
                for v in (baselines, feature_mask)
            )
            B = _baselines(baselines, x)
            x = _promoted(x, B)
            mask = _feature_mask(feature_mask, patch_size, x)
        device = model.param_device if model.param_device is not None else x.device
        floating = model.param_dtype is not None and x.is_floating_point()
        dtype = model.param_dtype if floating else x.dtype
        N = x.shape[0]  # 1 for sparse inputs: the batch is one row
        B = B.to(device, dtype)
        mask = mask.to(device)
        ids, M = compact_ids(mask)
        out_dtype = (
            torch.promote_types(x.dtype, torch.float32) if x.is_floating_point() else torch.float32
        )
        made = cls(
            X=x.reshape(N, -1).to(device, dtype),
            B=B,
            mask=ids,
            M=np.broadcast_to(M, (N,)),
            target=TensorTarget(target, N if split is None else split.batch, device),
            example_shape=tuple(x.shape[1:]),
            out_dtype=out_dtype,
            out_device=x.device,
            split=split,
            given=mask - mask.min(),
        )
        made.id_offset = int(mask.min())
        return made

    def whole_batch(self) -> TensorMasker:
        """The batch as one example ``(1, N * D)``, for a forward returning one number per
        batch (captum's form): a feature is an id of the mask as given, across all examples,
        and a perturbed batch is one row, shaped ``(N, D)`` for the forward."""
        N, D = self.X.shape
        ids, M = compact_ids(self.given.expand(N, D).reshape(1, N * D))
        whole = TensorMasker(
            self.X.reshape(1, N * D),
            self.B.expand(N, D).reshape(1, N * D),
            ids,
            M,
            TensorTarget(None, 1, self.X.device),
            (N, D),
            self.out_dtype,
            self.out_device,
            given=self.given.expand(N, D).reshape(1, N * D),
        )
        whole.id_offset = self.id_offset
        return whole

    def given_ids(self, rows: np.ndarray) -> torch.Tensor:
        """The id as given of each numbered feature of examples ``rows`` (all with the same
        ``M``): ``(n, M)`` int64, increasing along each row."""
        M = int(self.M[rows[0]])
        rows_t = torch.as_tensor(rows, device=self.mask.device)
        cols = rows_of(self.mask, rows_t)
        out = torch.empty((len(rows), M), dtype=torch.int64, device=self.mask.device)
        return out.scatter_(1, cols, rows_of(self.given, rows_t))

    def example(self, i: int) -> TensorMasker:
        """The masker of example ``i`` alone."""

        def row(T):
            return T if T.shape[0] == 1 else T[i : i + 1]

        one = TensorMasker(
            self.X[i : i + 1],
            row(self.B),
            row(self.mask),
            self.M[i : i + 1],
            self.target.take(i),
            self.example_shape,
            self.out_dtype,
            self.out_device,
            self.split,
            row(self.given),
        )
        one.n_ids, one.id_offset = self.n_ids, self.id_offset  # captum counts the batch's ids
        return one

    def groups(self) -> list[tuple[int, np.ndarray]]:
        """Examples grouped by their number of features: ``[(M, rows)]``."""
        return [(int(M), np.nonzero(self.M == M)[0]) for M in np.unique(self.M)]

    def spread(self, coef: torch.Tensor, rows: np.ndarray, attr: torch.Tensor) -> None:
        """Give every element of examples ``rows`` its feature's value from ``coef`` ``(n, M)``
        (into ``attr`` ``(N, D)``)."""
        rows_t = torch.as_tensor(rows, device=attr.device)
        attr[rows_t] = torch.gather(coef, 1, rows_of(self.mask, rows_t))

    def pairs(self, model: ModelAdapter, Z, rows) -> _TensorPairs:
        """The pairs of examples ``rows`` ``(n,)`` and coalitions ``Z`` ``(S, M)``."""
        return _TensorPairs(self, model, Z, rows)


class _TensorPairs:
    """One call's (example, coalition) pairs: one model row per pair."""

    rows_per_pair = 1

    def __init__(self, masker: TensorMasker, model: ModelAdapter, Z, rows):
        dev = masker.X.device
        self.masker = masker
        self.rows = np.asarray(rows)
        self.rows_t = torch.as_tensor(self.rows, device=dev)
        self.Z = torch.as_tensor(Z, device=dev)
        self.S = self.Z.shape[0]
        self.pairs = len(self.rows) * self.S
        self.values_per_row = masker.X.shape[1]
        self.workers = model.chunk_workers()
        self.values = None  # (pairs,) or (pairs, k), made by the first chunk to finish
        self.lock = threading.Lock()
        self.examples: dict[int, torch.Tensor] = {}  # worker -> examples of its current chunk

    def _examples(self, start: int, P: int):
        """Example of each pair ``start .. start + P - 1`` ``(P,)``, its coalition ``(P,)``, and
        the one example they all belong to (``None`` when they span several)."""
        p = torch.arange(start, start + P, device=self.rows_t.device)
        stop = start + P
        r = int(self.rows[start // self.S]) if start // self.S == (stop - 1) // self.S else None
        return self.rows_t[p // self.S], p % self.S, r

    def fill(self, start: int, P: int, worker: int) -> torch.Tensor:
        m = self.masker
        i, s, r = self._examples(start, P)
        self.examples[worker] = i
        # most chunks lie within one example: its row is broadcast instead of copied
        keep = torch.gather(self.Z[s], 1, rows_of(m.mask, i, r))  # (P, D)
        batch = torch.where(keep, rows_of(m.X, i, r), rows_of(m.B, i, r))
        return batch.reshape((P,) + m.example_shape)

    def reduce(self, out: torch.Tensor, start: int, P: int, worker: int) -> None:
        i = self.examples.pop(worker)
        self.masker.model_dtype = out.dtype
        got = self.masker.target.select(out, i)
        with self.lock:
            if self.values is None:
                self.values = torch.empty(
                    (self.pairs,) + tuple(got.shape[1:]), dtype=torch.float64, device=got.device
                )
        if got.shape[1:] != self.values.shape[1:]:
            raise ValueError(
                f"the model returned {got.shape[1]} outputs on some perturbed batches and "
                f"{self.values.shape[1]} on others; return an output of the same size every time."
            )
        self.values[start : start + P] = got

    def result(self) -> torch.Tensor:
        """``(n, S, k)`` (``k = 1`` but for every output kept); raises on NaN or inf."""
        values = self.values.reshape(len(self.rows), self.S, -1)
        finite = torch.isfinite(values).flatten(1).all(dim=1)
        if not bool(finite.all()):
            bad = self.rows[~finite.cpu().numpy()]
            raise ValueError(
                f"the model returned non-finite values (NaN or inf) on perturbed inputs of "
                f"{len(bad)} example(s) (first: {bad[:5].tolist()}). Check the model on the "
                "baselines and on mixtures of inputs and baselines."
            )
        return values


# ---------------------------------------------------------------------------- input checks
def _check_inputs(inputs, empty: bool = False, scalars: bool = False) -> torch.Tensor:
    """``inputs`` detached; ``empty`` allows no elements (one tensor of a tuple: examples
    without elements, or no rows), ``scalars`` inputs ``(N,)`` (examples of one number)."""
    if isinstance(inputs, list):
        raise TypeError(
            "inputs must be a tensor (N, ...) or a tuple of them; got a list. Pass "
            "tuple(inputs) when the model takes several tensors."
        )
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(
            f"inputs must be a torch.Tensor of shape (N, ...); got {type(inputs).__name__}. "
            "Convert with torch.as_tensor(inputs)."
        )
    if inputs.dim() < (1 if scalars else 2) or (
        not empty and (inputs.shape[0] == 0 or inputs[0].numel() == 0)
    ):
        raise ValueError(
            f"inputs must have shape (N, ...) with N >= 1 examples of at least one element; "
            f"got shape {tuple(inputs.shape)}. Add a batch axis with inputs.unsqueeze(0)."
        )
    if inputs.is_complex():
        raise TypeError(f"inputs must be real-valued; got dtype {inputs.dtype}.")
    return inputs.detach()


def _promoted(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """An integer input as its float baseline's dtype (captum ablates it to a float)."""
    if b.is_floating_point() and not (x.is_floating_point() or x.is_complex()):
        return x.to(b.dtype)
    return x


def _baselines(baselines, x: torch.Tensor) -> torch.Tensor:
    """The value of an element whose feature is absent, ``(1 or N, D)``."""
    allowed = (
        f"a scalar, one example {tuple(x.shape[1:])}, or one baseline per example {tuple(x.shape)}"
    )
    if baselines is None:
        b = torch.zeros((), dtype=x.dtype, device=x.device)
    elif isinstance(baselines, numbers.Number) and not isinstance(baselines, complex):
        # captum's promotion: a float baseline of an integer input ablates it to a float
        b = torch.tensor(baselines, dtype=torch.result_type(x, baselines), device=x.device)
    elif isinstance(baselines, (torch.Tensor, np.ndarray)):
        b = torch.as_tensor(baselines, device=x.device).detach()
    else:
        raise TypeError(f"baselines must be None, {allowed}; got {type(baselines).__name__}.")
    return per_example(b, x, "baselines", allowed)


def _feature_mask(feature_mask, patch_size, x: torch.Tensor) -> torch.Tensor:
    """Integer feature ids ``(1 or N, D)``: the given mask, or the default grid."""
    if feature_mask is None:
        m = grid_feature_mask(x.shape, patch_size)
    else:
        if patch_size is not None:
            raise ValueError(
                "patch_size shapes the default feature mask; pass either feature_mask or "
                "patch_size, not both."
            )
        if not isinstance(feature_mask, (torch.Tensor, np.ndarray)):
            raise TypeError(
                "feature_mask must be an integer tensor broadcastable to the inputs; got "
                f"{type(feature_mask).__name__}."
            )
        m = torch.as_tensor(feature_mask)
        if m.is_floating_point() or m.is_complex() or m.dtype == torch.bool:
            raise TypeError(
                f"feature_mask must hold integer feature ids; got dtype {m.dtype}. Convert "
                "with feature_mask.long()."
            )
    return per_example(
        m.to(x.device, torch.int64),
        x,
        "feature_mask",
        f"integer ids of shape {tuple(x.shape[1:])}, {tuple(x.shape)} or broadcastable to "
        "them (e.g. (1, 1, H, W) for all channels of (N, C, H, W) images)",
    )

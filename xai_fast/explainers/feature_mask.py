"""Kernel SHAP and LIME on torch tensors with a feature mask, with captum's ``attribute`` API.

Data flow: inputs ``(N, ...)`` + baselines + feature mask -> each example's feature ids mapped to
``0..M-1`` -> one binary design per distinct ``M``, shared by every example with that ``M`` ->
perturbed inputs ``where(z[mask], x, baseline)`` built on the model's device in chunks of
``batch_size`` rows and evaluated under ``torch.inference_mode`` -> one solve per design for all
its examples (constrained weighted least squares for Kernel SHAP, weighted ridge for LIME) ->
every element of an example carries its feature's attribution.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from .._chunk_workers import default_workers, map_chunks
from .._progress import Progress
from .._rng import normalize_seed, stream_keys, uniforms
from .._validation import check_no_kwargs
from ..backends import get_backend
from ..models import is_torch_module
from ..sampling import shap_design
from ..solvers.kernel_wls_ref import constrained_lstsq
from .kernel import single_threaded_blas

__all__ = ["KernelShap", "Lime", "grid_feature_mask", "weighted_ridge"]

#: The default image segmentation has at most ``MAX_GRID x MAX_GRID`` patches.
MAX_GRID = 8
#: Input elements per chunk of perturbed inputs when ``batch_size`` is not given.
CHUNK_ELEMENTS = 2**24
#: Rows per model call at most when ``batch_size`` is not given (as ``KernelExplainer``).
MAX_CHUNK_ROWS = 2048
#: Stream id of LIME's Bernoulli draws ("MASK"): apart from the coalition design's pair streams
#: (0, 1, ...) and from the tabular LIME sampler's streams.
LIME_STREAM = 0x4D41534B_00000001

# captum arguments without an equivalent here, and what to do instead
_CAPTUM_ONLY = {
    "additional_forward_args": "wrap the model instead, e.g. lambda x: model(x, *args)",
    "perturbations_per_eval": "pass batch_size=... to the constructor (rows per model call)",
    "return_input_shape": "attributions always have the inputs' shape",
}


# ---------------------------------------------------------------------------- segmentation
def _check_patch_size(patch_size, H: int, W: int) -> tuple[int, int]:
    """``(ph, pw)`` from an int, a pair or ``None`` (the smallest square patch giving at most
    ``MAX_GRID`` patches along each side)."""
    if patch_size is None:
        p = max(1, math.ceil(H / MAX_GRID), math.ceil(W / MAX_GRID))
        return p, p
    pair = (patch_size, patch_size) if not isinstance(patch_size, (tuple, list)) else patch_size
    ok = len(pair) == 2 and all(
        isinstance(p, (int, np.integer)) and not isinstance(p, bool) and p >= 1 for p in pair
    )
    if not ok:
        raise ValueError(
            f"patch_size must be a positive int or a pair (height, width) of positive ints; "
            f"got {patch_size!r}."
        )
    return int(pair[0]), int(pair[1])


def grid_feature_mask(shape, patch_size=None) -> torch.Tensor:
    """The default feature mask for inputs of shape ``shape``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the inputs, batch first: ``(N, d)``, ``(N, L, E)`` or ``(N, C, H, W)``.
    patch_size : int or (int, int), optional
        Patch height and width for ``(N, C, H, W)`` inputs. Default: the smallest square patch
        that gives at most 8 x 8 = 64 patches (patches at the right and bottom edges may be
        smaller).

    Returns
    -------
    torch.Tensor of int64
        Broadcastable to ``shape`` and shared by every example:

        - ``(N, d)``: ``(1, d)``, one feature per column;
        - ``(N, L, E)``: ``(1, L, 1)``, one feature per position (token) ``L``;
        - ``(N, C, H, W)``: ``(1, 1, H, W)``, square patches numbered row by row and shared
          across channels.

    Raises
    ------
    ValueError
        For other ranks, or ``patch_size`` with inputs that are not images.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 4:
        H, W = shape[2], shape[3]
        ph, pw = _check_patch_size(patch_size, H, W)
        rows = torch.arange(H) // ph
        cols = torch.arange(W) // pw
        per_row = -(-W // pw)
        return (rows[:, None] * per_row + cols[None, :]).reshape(1, 1, H, W)
    if patch_size is not None:
        raise ValueError(
            f"patch_size applies to images (N, C, H, W) only; got inputs of shape {shape}. "
            "Drop patch_size or pass a feature_mask."
        )
    if len(shape) == 2:
        return torch.arange(shape[1]).reshape(1, shape[1])
    if len(shape) == 3:
        return torch.arange(shape[1]).reshape(1, shape[1], 1)
    raise ValueError(
        f"there is no default feature mask for inputs of shape {shape}; the default covers "
        "(N, d), (N, L, E) and (N, C, H, W). Pass feature_mask=... (integer ids broadcastable "
        "to the inputs)."
    )


# ---------------------------------------------------------------------------- ridge
def weighted_ridge(Z, y, w, alpha=1.0):
    """Weighted ridge regression with an unpenalised intercept, for many outputs at once.

    Minimises ``sum_s w[s] * (y[s, r] - Z[s] @ coef[:, r] - intercept[r])**2 +
    alpha * ||coef[:, r]||**2`` for every column ``r`` (``sklearn.linear_model.Ridge(alpha)``
    fitted with ``sample_weight=w``). The normal equations of the weighted, centred data are
    solved once for all columns.

    Parameters
    ----------
    Z : torch.Tensor or ndarray, shape (S, M)
        Regressors (LIME's binary perturbations).
    y : torch.Tensor or ndarray, shape (S,) or (S, R)
    w : torch.Tensor or ndarray, shape (S,)
        Non-negative sample weights, not all zero.
    alpha : float, default 1.0
        Penalty on the coefficients, ``>= 0``.

    Returns
    -------
    coef : torch.Tensor of float64, shape (M,) or (M, R)
    intercept : torch.Tensor of float64, shape () or (R,)
        On the device of ``y`` (of ``Z`` when ``y`` is not a tensor).
    """
    ref = y if isinstance(y, torch.Tensor) else Z
    device = ref.device if isinstance(ref, torch.Tensor) else None
    Z, y, w = (torch.as_tensor(a, dtype=torch.float64, device=device) for a in (Z, y, w))
    vector = y.dim() == 1
    y = y[:, None] if vector else y
    sw = w.sum()
    z_mean = (w @ Z) / sw  # (M,)
    y_mean = (w @ y) / sw  # (R,)
    Zc = Z - z_mean
    WZ = Zc * w[:, None]
    A = Zc.T @ WZ + alpha * torch.eye(Z.shape[1], dtype=torch.float64, device=Z.device)
    b = WZ.T @ (y - y_mean)
    try:
        coef = torch.linalg.solve(A, b)  # (M, R)
    except torch.linalg.LinAlgError:
        warnings.warn(
            "The ridge regression is singular (alpha=0 with collinear perturbations); using "
            "the minimum-norm solution. Use alpha > 0 or more samples.",
            RuntimeWarning,
            stacklevel=2,
        )
        coef = torch.linalg.pinv(A, hermitian=True) @ b
    intercept = y_mean - z_mean @ coef
    return (coef[:, 0], intercept[0]) if vector else (coef, intercept)


# ---------------------------------------------------------------------------- the problem
class _Target:
    """The output column of every example; checked against the model's outputs once."""

    def __init__(self, target, N: int, device):
        self.t = None
        self.checked = False
        if target is None:
            return
        if isinstance(target, (torch.Tensor, np.ndarray)):
            arr = torch.as_tensor(target)
            if arr.is_floating_point() or arr.is_complex() or arr.dtype == torch.bool:
                raise TypeError(
                    f"target must hold integers (output columns); got a tensor of dtype "
                    f"{arr.dtype}. Pass e.g. target.long()."
                )
        elif isinstance(target, (int, np.integer)) and not isinstance(target, bool):
            arr = torch.tensor(int(target))
        elif isinstance(target, (list, tuple)) and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in target
        ):
            arr = torch.tensor([int(v) for v in target], dtype=torch.int64)
        else:
            raise TypeError(
                "target must be None, an int, or a list / 1-D tensor of ints (one per example); "
                f"got {type(target).__name__}."
            )
        if arr.dim() == 0:
            arr = arr.reshape(1).expand(N)
        if arr.dim() != 1 or arr.shape[0] != N:
            raise ValueError(
                f"target has shape {tuple(arr.shape)} but the inputs hold {N} examples; pass "
                f"one int for all examples or {N} ints (one per example)."
            )
        self.t = arr.to(device=device, dtype=torch.int64)
        self.lo, self.hi = int(self.t.min()), int(self.t.max())

    def select(self, out: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        """The targeted column of ``out`` ``(P, k)`` for examples ``i`` ``(P,)``, as float64."""
        k = out.shape[1]
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


@dataclass
class _Problem:
    """Validated inputs of one ``attribute`` call, flattened to ``(rows, D)`` on the device.

    ``X`` is ``(N, D)``; ``B`` and ``mask`` are ``(1, D)`` when shared by every example, else
    ``(N, D)``; ``mask`` holds ids ``0..M[i]-1``; ``M`` is ``(N,)``.
    """

    X: torch.Tensor
    B: torch.Tensor
    mask: torch.Tensor
    M: np.ndarray
    target: _Target
    example_shape: tuple
    out_dtype: torch.dtype
    out_device: torch.device


def _rows(T: torch.Tensor, i: torch.Tensor, r: int | None = None) -> torch.Tensor:
    """Rows ``i`` of ``T`` ``(1 or N, D)``; a shared row, or the row ``r`` when every ``i`` is
    ``r``, is broadcast without a copy."""
    if T.shape[0] == 1:
        return T.expand(len(i), -1)
    if r is not None:
        return T[r : r + 1].expand(len(i), -1)
    return T.index_select(0, i)


def _per_example(t: torch.Tensor, inputs: torch.Tensor, name: str, allowed: str) -> torch.Tensor:
    """``t`` broadcast to ``inputs`` as ``(1, D)`` when it has no batch axis, else ``(N, D)``."""
    try:
        ok = torch.broadcast_shapes(t.shape, inputs.shape) == inputs.shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name} of shape {tuple(t.shape)} does not broadcast to the inputs' shape "
            f"{tuple(inputs.shape)}; pass {allowed}."
        )
    N, example = inputs.shape[0], inputs.shape[1:]
    shared = t.dim() < inputs.dim() or t.shape[0] == 1
    if shared:
        t = t[0] if t.dim() == inputs.dim() else t
        return t.expand(example).reshape(1, -1)
    return t.expand(inputs.shape).reshape(N, -1)


def _compact_ids(mask: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
    """Map each row's feature ids to ``0..M-1`` in increasing order.

    Parameters
    ----------
    mask : torch.Tensor of int64, shape (R, D)

    Returns
    -------
    ids : torch.Tensor of int64, shape (R, D)
    M : ndarray of int64, shape (R,)
    """
    ordered, order = torch.sort(mask, dim=1)
    new = torch.ones_like(ordered, dtype=torch.int64)
    new[:, 1:] = (ordered[:, 1:] != ordered[:, :-1]).to(torch.int64)
    rank = torch.cumsum(new, dim=1) - 1
    ids = torch.empty_like(rank).scatter_(1, order, rank)
    return ids, (rank[:, -1] + 1).cpu().numpy()


# ---------------------------------------------------------------------------- base
class _FeatureMaskExplainer:
    """Model handling, input validation and the batched evaluation of binary designs."""

    _INIT_OPTIONS: tuple = ("model", "seed", "batch_size", "workers")
    _CALL_OPTIONS = (
        "inputs",
        "baselines",
        "target",
        "feature_mask",
        "n_samples",
        "show_progress",
        "patch_size",
    )

    def __init__(self, model, seed, batch_size, workers, kwargs):
        check_no_kwargs(kwargs, f"{type(self).__name__}()", self._INIT_OPTIONS)
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1
        ):
            raise ValueError(f"workers must be a positive int or None; got {workers!r}.")
        self.workers = None if workers is None else int(workers)
        self.is_module = is_torch_module(model)
        if not self.is_module and not callable(model):
            raise TypeError(
                "model must be a torch.nn.Module or a callable mapping a tensor (N, ...) to "
                f"(N,) or (N, k) outputs; got {type(model).__name__}."
            )
        normalize_seed(0 if seed is None else seed)  # validate the type now
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise ValueError(f"batch_size must be a positive int or None; got {batch_size!r}.")
        self.model = model
        self.seed = seed
        self.batch_size = None if batch_size is None else int(batch_size)
        self.device, self.dtype = None, None  # a module's device and floating dtype
        if self.is_module:
            tensors = list(model.parameters()) + list(model.buffers())
            floating = [t for t in tensors if t.is_floating_point()]
            self.device = tensors[0].device if tensors else None
            self.dtype = floating[0].dtype if floating else None

    # ------------------------------------------------------------------ validation
    @classmethod
    def _check_call_kwargs(cls, kwargs):
        for name, hint in _CAPTUM_ONLY.items():
            if name in kwargs:
                raise TypeError(f"{name} is captum's argument and is not supported here; {hint}.")
        check_no_kwargs(kwargs, f"{cls.__name__}.attribute()", cls._CALL_OPTIONS)

    @staticmethod
    def _check_n_samples(n_samples):
        if isinstance(n_samples, str) and n_samples == "auto":
            return n_samples
        if (
            isinstance(n_samples, (int, np.integer))
            and not isinstance(n_samples, bool)
            and n_samples >= 2
        ):
            return int(n_samples)
        raise ValueError(f"n_samples must be 'auto' or an int >= 2; got {n_samples!r}.")

    def _problem(self, inputs, baselines, target, feature_mask, patch_size) -> _Problem:
        if isinstance(inputs, (tuple, list)):
            raise TypeError(
                "inputs must be one tensor (N, ...); several input tensors are not supported. "
                "Concatenate them, or wrap the model so that it takes one tensor."
            )
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(
                f"inputs must be a torch.Tensor of shape (N, ...); got {type(inputs).__name__}. "
                "Convert with torch.as_tensor(inputs)."
            )
        if inputs.dim() < 2 or inputs.shape[0] == 0 or inputs[0].numel() == 0:
            raise ValueError(
                f"inputs must have shape (N, ...) with N >= 1 examples of at least one element; "
                f"got shape {tuple(inputs.shape)}. Add a batch axis with inputs.unsqueeze(0)."
            )
        if inputs.is_complex():
            raise TypeError(f"inputs must be real-valued; got dtype {inputs.dtype}.")
        x = inputs.detach()
        device = self.device if self.device is not None else x.device
        dtype = self.dtype if self.dtype is not None and x.is_floating_point() else x.dtype
        N = x.shape[0]

        # baselines: the value of an element whose feature is absent
        allowed = (
            f"a scalar, one example {tuple(x.shape[1:])}, or one baseline per example "
            f"{tuple(x.shape)}"
        )
        if baselines is None:
            b = torch.zeros((), dtype=x.dtype, device=x.device)
        elif isinstance(baselines, numbers.Number) and not isinstance(baselines, complex):
            b = torch.tensor(baselines, dtype=x.dtype, device=x.device)
        elif isinstance(baselines, (torch.Tensor, np.ndarray)):
            b = torch.as_tensor(baselines, device=x.device).detach()
        else:
            raise TypeError(f"baselines must be None, {allowed}; got {type(baselines).__name__}.")
        B = _per_example(b, x, "baselines", allowed).to(device, dtype)

        # feature mask: integer ids grouping elements into features
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
        m = _per_example(
            m.to(x.device, torch.int64),
            x,
            "feature_mask",
            f"integer ids of shape {tuple(x.shape[1:])}, {tuple(x.shape)} or broadcastable to "
            "them (e.g. (1, 1, H, W) for all channels of (N, C, H, W) images)",
        )
        ids, M = _compact_ids(m)
        M = np.broadcast_to(M, (N,))
        return _Problem(
            X=x.reshape(N, -1).to(device, dtype),
            B=B,
            mask=ids.to(device),
            M=M,
            target=_Target(target, N, device),
            example_shape=tuple(x.shape[1:]),
            out_dtype=torch.promote_types(x.dtype, torch.float32)
            if x.is_floating_point()
            else torch.float32,
            out_device=x.device,
        )

    # ------------------------------------------------------------------ evaluation
    def _chunk_workers(self, device) -> int:
        """Chunks evaluated at once: several for a module on the CPU (see ``workers``)."""
        return default_workers(self.is_module, device, self.workers)

    def _rows_per_call(self, D: int) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return min(MAX_CHUNK_ROWS, max(1, CHUNK_ELEMENTS // D))

    def _call(self, batch: torch.Tensor) -> torch.Tensor:
        """One model call on ``batch`` ``(P, ...)``; returns ``(P, k)``."""
        P = batch.shape[0]
        with torch.inference_mode():
            out = self.model(batch)
        if not isinstance(out, torch.Tensor):
            try:
                out = torch.as_tensor(np.asarray(out, dtype=np.float64), device=batch.device)
            except (TypeError, ValueError):
                raise TypeError(
                    f"the model returned {type(out).__name__}; expected a tensor of shape "
                    f"({P},) or ({P}, k)."
                ) from None
        if out.dim() == 0 or out.dim() > 2 or out.shape[0] != P:
            raise ValueError(
                f"the model returned an output of shape {tuple(out.shape)} for {P} inputs; "
                f"expected ({P},) or ({P}, k): one value or one row of outputs per example."
            )
        return out.reshape(P, -1)

    def _values(self, prob: _Problem, rows: np.ndarray, Z: np.ndarray, bar) -> torch.Tensor:
        """Model output at every (example, coalition) pair.

        Parameters
        ----------
        prob : _Problem
        rows : ndarray of int64, shape (n,)
            Examples to evaluate (all with ``Z.shape[1]`` features).
        Z : ndarray of bool, shape (S, M)
            ``True``: the feature keeps the example's values; ``False``: the baseline's.
        bar : Progress

        Returns
        -------
        torch.Tensor of float64, shape (n, S), on the model's device
        """
        dev = prob.X.device
        Zt = torch.as_tensor(Z, device=dev)
        rows_t = torch.as_tensor(rows, device=dev)
        n, S, D = len(rows), Z.shape[0], prob.X.shape[1]
        pairs = n * S
        step = self._rows_per_call(D)
        values = torch.empty(pairs, dtype=torch.float64, device=dev)

        def chunk(c, w):
            start = c * step
            stop = min(start + step, pairs)
            p = torch.arange(start, stop, device=dev)
            i, s = rows_t[p // S], p % S
            # most chunks lie within one example: broadcast its row instead of copying it
            r = int(rows[start // S]) if start // S == (stop - 1) // S else None
            keep = torch.gather(Zt[s], 1, _rows(prob.mask, i, r))  # (P, D)
            batch = torch.where(keep, _rows(prob.X, i, r), _rows(prob.B, i, r))
            out = self._call(batch.reshape((len(p),) + prob.example_shape))
            values[start:stop] = prob.target.select(out, i)

        n_chunks = -(-pairs // step)
        map_chunks(
            chunk,
            n_chunks,
            self._chunk_workers(dev),
            on_done=lambda c: bar.update(min(step, pairs - c * step)),
        )
        values = values.reshape(n, S)
        finite = torch.isfinite(values).all(dim=1)
        if not bool(finite.all()):
            bad = rows[~finite.cpu().numpy()]
            raise ValueError(
                f"the model returned non-finite values (NaN or inf) on perturbed inputs of "
                f"{len(bad)} example(s) (first: {bad[:5].tolist()}). Check the model on the "
                "baselines and on mixtures of inputs and baselines."
            )
        return values

    def _run(self, prob: _Problem, designs, solve, show_progress) -> torch.Tensor:
        """Evaluate each ``(rows, Z, extra)`` design, ``solve`` it to ``(n, M)`` attributions and
        give every element its feature's value."""
        N, D = prob.X.shape
        attr = torch.zeros((N, D), dtype=torch.float64, device=prob.X.device)
        total = sum(len(rows) * len(Z) for rows, Z, _ in designs)
        bar = Progress(total, f"xai_fast: {type(self).__name__}", enabled=show_progress)
        was_training = self.model.training if self.is_module else None
        try:
            if self.is_module:
                self.model.eval()
            for rows, Z, extra in designs:
                coef = solve(self._values(prob, rows, Z, bar), Z, extra)  # (n, M)
                rows_t = torch.as_tensor(rows, device=attr.device)
                attr[rows_t] = torch.gather(coef, 1, _rows(prob.mask, rows_t))
        finally:
            bar.close()
            if self.is_module:
                self.model.train(was_training)
        return attr.reshape((N,) + prob.example_shape).to(prob.out_device, prob.out_dtype)

    @staticmethod
    def _groups(prob: _Problem):
        """Examples grouped by their number of features: ``[(M, rows)]``."""
        return [(int(M), np.nonzero(prob.M == M)[0]) for M in np.unique(prob.M)]


# ---------------------------------------------------------------------------- Kernel SHAP
class KernelShap(_FeatureMaskExplainer):
    """Kernel SHAP values of groups of input elements (superpixels, tokens), captum style.

    The players are the features of ``feature_mask``; coalition ``z`` of example ``i`` is worth
    ``f(where(z[mask], x_i, baseline_i))[target_i]``. The coalitions and their weights are
    :class:`~xai_fast.KernelExplainer`'s design (whole subset sizes enumerated while the budget
    covers them, the rest sampled in complementary pairs), and the values solve the weighted
    regression under the efficiency constraint, so they add up to ``f(x) - f(baseline)``
    exactly and are the exact Shapley values once every coalition fits in ``n_samples``.

    Differences from ``captum.attr.KernelShap``: captum draws ``n_samples`` (default 25)
    coalitions at random, weights the empty and full ones by 1e6 instead of constraining the
    fit, and without a feature mask makes every scalar a feature; here the default mask is
    :func:`grid_feature_mask`, ``n_samples`` counts the coalitions besides the empty and full
    ones and defaults to ``"auto"``, and a batch shares one design and one solve instead of
    fitting one model per example.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps a tensor ``(n, ...)`` to ``(n,)`` or ``(n, k)`` outputs. A module runs in eval mode
        (its previous mode is restored) on its own device; floating inputs are cast to its
        floating dtype. A callable receives tensors on the inputs' device.
    seed : int, numpy Generator or None, keyword-only
        Seed of the coalition sampler. The design depends only on the seed, the number of
        features and ``n_samples``, so an example gets the same values alone or in a batch.
        ``None`` draws fresh entropy on every call.
    batch_size : int, optional, keyword-only
        Perturbed inputs per model call; default 2048, fewer for large examples (at most
        ``2**24`` elements per call).
    backend : {"auto", "numpy", "numba", "torch"}, keyword-only
        Kernels of the design and the solve (see :func:`xai_fast.backends.get_backend`).
    workers : int, optional, keyword-only
        Chunks a module on the CPU evaluates at once, each on its own thread (default: torch's
        thread count, at most 8; see :class:`xai_fast.ModelAdapter`). Pass 1 for a module whose
        ``forward`` is not safe to run from several threads.
    """

    _INIT_OPTIONS = ("model", "seed", "batch_size", "backend", "workers")

    def __init__(
        self, model, *, seed=None, batch_size=None, backend="auto", workers=None, **kwargs
    ):
        super().__init__(model, seed, batch_size, workers, kwargs)
        self.backend = get_backend(backend, model_is_module=self.is_module)

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        *,
        feature_mask=None,
        n_samples="auto",
        show_progress=False,
        patch_size=None,
        **kwargs,
    ) -> torch.Tensor:
        """Kernel SHAP value of every feature, spread over the feature's elements.

        Parameters
        ----------
        inputs : torch.Tensor, shape (N, ...)
            Examples to explain, e.g. images ``(N, C, H, W)``, embeddings ``(N, L, E)`` or
            tabular rows ``(N, d)``.
        baselines : None, scalar or torch.Tensor
            Value of an element whose feature is absent: ``None`` (zeros), a scalar, or a tensor
            broadcastable to one example ``(...)`` or to the batch ``(N, ...)``.
        target : None, int, or sequence / 1-D tensor of N ints
            Output column to explain; ``None`` needs a model with one output per example
            (``(N,)`` or ``(N, 1)``).
        feature_mask : integer torch.Tensor, optional, keyword-only
            Broadcastable to ``inputs``; elements with the same id form one feature. Ids need
            not be contiguous: each example's ids are numbered ``0..M-1`` in increasing order.
            Default: :func:`grid_feature_mask`.
        n_samples : int >= 2 or "auto", keyword-only
            Coalitions per example besides the empty and full ones: ``"auto"`` is
            ``2 * M + 2048``; both are capped at ``2**M - 2`` (full enumeration).
        show_progress : bool, default False, keyword-only
            Show a progress bar on stderr for evaluations longer than two seconds.
        patch_size : int or (int, int), optional, keyword-only
            Patch size of the default mask for ``(N, C, H, W)`` inputs.

        Returns
        -------
        torch.Tensor, shape of ``inputs``
            Each element carries its feature's value; per example, the features' values add up
            to ``f(x) - f(baseline)``. On the inputs' device; float64 for float64 inputs,
            float32 otherwise.
        """
        self._check_call_kwargs(kwargs)
        n_samples = self._check_n_samples(n_samples)
        prob = self._problem(inputs, baselines, target, feature_mask, patch_size)
        seed = normalize_seed(self.seed)
        designs = []
        for M, rows in self._groups(prob):
            if M == 1:  # one player gets the whole difference
                designs.append((rows, np.array([[True], [False]]), None))
                continue
            Z, w, _ = shap_design(self.backend, M, n_samples, seed)
            ends = np.array([[True] * M, [False] * M])  # full, then empty
            designs.append((rows, np.concatenate([ends, Z]), w))
        return self._run(prob, designs, self._solve, show_progress)

    def _solve(self, values: torch.Tensor, Z: np.ndarray, w) -> torch.Tensor:
        """Shapley values ``(n, M)`` from the values ``(n, S + 2)`` of [full, empty, Z...]."""
        total = values[:, 0] - values[:, 1]  # (n,)
        if w is None:
            return total[:, None]
        Zf = Z[2:].astype(np.float64)
        Y = (values[:, 2:] - values[:, 1:2]).T  # (S, n)
        dev = values.device
        if self.backend.name == "torch":  # solved where the values are
            args = (torch.as_tensor(Zf, device=dev), torch.as_tensor(w, device=dev), Y, total)
        else:
            args = (Zf, w, np.ascontiguousarray(Y.cpu().numpy()), total.cpu().numpy())
        try:
            with single_threaded_blas():
                phi = self.backend.constrained_wls(*args)
        except np.linalg.LinAlgError:
            warnings.warn(
                "The Kernel SHAP regression is singular; using a least-squares solution. "
                "Raise n_samples or use fewer features.",
                RuntimeWarning,
                stacklevel=4,
            )
            phi = constrained_lstsq(*[a.cpu().numpy() if hasattr(a, "cpu") else a for a in args])
        return torch.as_tensor(phi, dtype=torch.float64, device=dev).T


# ---------------------------------------------------------------------------- LIME
def _lime_design(M: int, S: int, seed, kernel_width: float):
    """LIME's binary perturbations and their similarity weights.

    Row 0 is all ones (the example itself); every other entry is ``u < 0.5`` for draw
    ``s * M + j`` of stream :data:`LIME_STREAM`, so the design depends only on the seed, ``M``
    and ``S`` (and a smaller ``S`` gives a prefix of a larger one).

    Returns
    -------
    Z : ndarray of bool, shape (S, M)
    w : ndarray of float64, shape (S,)
        ``exp(-d**2 / (2 * kernel_width**2))`` with ``d = 1 - sqrt(|z| / M)`` the cosine
        distance between ``z`` and all ones.
    """
    key = stream_keys(seed, np.array([LIME_STREAM], dtype=np.uint64))[0]
    counters = np.arange((S - 1) * M, dtype=np.uint64).reshape(S - 1, M)
    Z = np.ones((S, M), dtype=bool)
    Z[1:] = uniforms(key, counters) < 0.5
    d = 1.0 - np.sqrt(Z.sum(axis=1) / M)
    return Z, np.exp(-(d**2) / (2.0 * kernel_width**2))


class Lime(_FeatureMaskExplainer):
    """LIME attributions of groups of input elements (superpixels, tokens), captum style.

    Each example is perturbed ``n_samples`` times: the example itself, then every feature kept
    with probability 1/2 (elements of dropped features take the baseline). A weighted ridge
    regression with intercept of the model's outputs on the binary vectors gives the
    coefficients, which are the attributions.

    Defaults, as the ``lime`` package's image explainer: the similarity of a perturbation
    ``z`` is ``exp(-d**2 / (2 * kernel_width**2))`` with ``d`` the cosine distance between
    ``z`` and all ones in the binary (interpretable) space and ``kernel_width=0.25``; the
    surrogate is ``Ridge(alpha=1.0)`` on all features (no feature selection).

    Differences from ``captum.attr.Lime``: captum's default surrogate is ``Lasso(alpha=0.01)``,
    its similarity is the same kernel with width 1.0 on the cosine distance between the original
    and perturbed *inputs* (so it depends on the scale of the inputs and baselines), its
    default ``n_samples`` is 25 with no guaranteed unperturbed sample, and without a feature mask
    every scalar is a feature. Here the default mask is :func:`grid_feature_mask`, and a batch
    shares one design and one factorisation instead of fitting one model per example.

    Parameters
    ----------
    model : torch.nn.Module or callable
        As for :class:`KernelShap`.
    seed : int, numpy Generator or None, keyword-only
        Seed of the perturbations; the design depends only on the seed, the number of features
        and ``n_samples``, so an example gets the same values alone or in a batch.
    batch_size : int, optional, keyword-only
        Perturbed inputs per model call (as for :class:`KernelShap`).
    kernel_width : float, default 0.25, keyword-only
        Width of the similarity kernel; larger widths weight the perturbations more evenly.
    alpha : float, default 1.0, keyword-only
        Ridge penalty (``>= 0``) on the coefficients; the intercept is not penalised.
    workers : int, optional, keyword-only
        As for :class:`KernelShap`.
    """

    _INIT_OPTIONS = ("model", "seed", "batch_size", "kernel_width", "alpha", "workers")

    def __init__(
        self,
        model,
        *,
        seed=None,
        batch_size=None,
        kernel_width=0.25,
        alpha=1.0,
        workers=None,
        **kwargs,
    ):
        super().__init__(model, seed, batch_size, workers, kwargs)
        if not _is_real(kernel_width) or not (0 < kernel_width < math.inf):
            raise ValueError(f"kernel_width must be a positive float; got {kernel_width!r}.")
        if not _is_real(alpha) or not (0 <= alpha < math.inf):
            raise ValueError(f"alpha must be a float >= 0; got {alpha!r}.")
        self.kernel_width = float(kernel_width)
        self.alpha = float(alpha)

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        *,
        feature_mask=None,
        n_samples="auto",
        show_progress=False,
        patch_size=None,
        **kwargs,
    ) -> torch.Tensor:
        """LIME coefficient of every feature, spread over the feature's elements.

        Parameters
        ----------
        inputs, baselines, target, feature_mask, show_progress, patch_size
            As for :meth:`KernelShap.attribute`.
        n_samples : int >= 2 or "auto", keyword-only
            Perturbations per example, the unperturbed example included: ``"auto"`` is
            ``2 * M + 2048``.

        Returns
        -------
        torch.Tensor, shape of ``inputs``
            Each element carries its feature's coefficient. On the inputs' device; float64 for
            float64 inputs, float32 otherwise.
        """
        self._check_call_kwargs(kwargs)
        n_samples = self._check_n_samples(n_samples)
        prob = self._problem(inputs, baselines, target, feature_mask, patch_size)
        seed = normalize_seed(self.seed)
        designs = []
        for M, rows in self._groups(prob):
            S = 2 * M + 2048 if n_samples == "auto" else n_samples
            Z, w = _lime_design(M, S, seed, self.kernel_width)
            designs.append((rows, Z, w))
        return self._run(prob, designs, self._solve, show_progress)

    def _solve(self, values: torch.Tensor, Z: np.ndarray, w: np.ndarray) -> torch.Tensor:
        """Ridge coefficients ``(n, M)`` from the values ``(n, S)``."""
        coef, _ = weighted_ridge(Z, values.T, w, self.alpha)
        return coef.T


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

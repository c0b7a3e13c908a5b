"""captum's ``FeaturePermutation`` on the engine: each feature shuffled across the batch in turn.

Composition only: the permutations are drawn first, in captum's order and from torch's global
generator as captum draws them, and written into one baseline per example (feature ``j`` of
example ``e`` takes its value from example ``perm_j[e]``); the rest is
:class:`~xai_fast.FeatureAblation` with that baseline, since an ablation changes one feature at a
time. Every permuted batch goes through batched model calls, where captum makes one call per
feature (``perturbations_per_eval`` features per call).
"""

from __future__ import annotations

import logging

import torch

from .._validation import CaptumArgumentError, check_int
from ._captum_perturbation import elementwise_mask
from ._whole_batch import output_dtype
from .feature_ablation import FeatureAblation

__all__ = ["FeaturePermutation", "permute_feature"]

logger = logging.getLogger(__name__)
MIN_EXAMPLES = 2  # a permutation needs two examples to move anything


def permute_feature(x: torch.Tensor, feature_mask: torch.Tensor) -> torch.Tensor:
    """``x`` ``(N, ...)`` with the elements under ``feature_mask`` (broadcastable to one
    example) taken from a random other order of the examples, as captum's default ``perm_func``:
    one ``torch.randperm(N)`` from the global generator, drawn again while it is the identity."""
    n = x.shape[0]
    _check_permutable(n)
    perm = _randperm(n, x.device)
    mask = feature_mask.to(x.device, torch.bool)
    return torch.where(mask, x[perm], x)


def _check_permutable(n: int) -> None:
    """A ``ValueError`` (also an ``AssertionError``, as captum's) for fewer than 2 examples."""
    if n < MIN_EXAMPLES:
        raise CaptumArgumentError(
            f"permuting a feature needs at least 2 examples; got a batch of {n}. Pass more "
            "examples, or keep _min_examples_per_batch_grouped at 2 or more (then such a batch "
            "gives attributions of 0)."
        )


def _randperm(n: int, device) -> torch.Tensor:
    """``torch.randperm(n)`` (global generator, on the CPU as captum's), drawn again while it is
    the identity."""
    identity = torch.arange(n)
    perm = torch.randperm(n)
    while torch.equal(perm, identity):
        perm = torch.randperm(n)
    return perm.to(device)


class FeaturePermutation(FeatureAblation):
    """Permutation feature importance, as ``captum.attr.FeaturePermutation``: the change of the
    model's output on each example when one feature is shuffled across the batch.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Maps inputs ``(N, ...)`` (or a tuple of them) to ``(N,)`` or ``(N, k)`` outputs, or to
        one number for the whole batch (a loss or a metric: the attributions then have first
        dimension 1).
    perm_func : callable ``(x, mask) -> tensor``, default :func:`permute_feature`
        Permutes the elements of ``x`` ``(N, ...)`` under the boolean ``mask`` (broadcastable
        to one example) across the batch; called once per feature and input tensor, in
        captum's order.
    batch_size, workers : keyword-only
        As :class:`~xai_fast.FeatureAblation`.

    Attributes
    ----------
    _min_examples_per_batch_grouped : int or None, default 2
        captum's attribute: an input tensor with fewer examples is not permuted, and its
        features get attributions of 0 (a permutation of one example moves nothing). ``None``
        or 1 permutes any batch; ``perm_func`` then refuses a batch of one.
    """

    _INIT_OPTIONS = ("forward_func", "perm_func", "batch_size", "workers")
    _CALL_OPTIONS = tuple(o for o in FeatureAblation._CALL_OPTIONS if o != "baselines")
    _PROGRESS = "Feature Permutation"

    def __init__(self, forward_func, perm_func=permute_feature, *, batch_size=None,
                 workers=None, **kwargs):  # fmt: skip
        super().__init__(forward_func, batch_size=batch_size, workers=workers, **kwargs)
        if not callable(perm_func):
            raise TypeError(
                f"perm_func must be a callable (x, mask) -> permuted x; got "
                f"{type(perm_func).__name__}."
            )
        self.perm_func = perm_func
        self._min_examples_per_batch_grouped = MIN_EXAMPLES

    def attribute(
        self,
        inputs,
        target=None,
        additional_forward_args=None,
        feature_mask=None,
        perturbations_per_eval=1,
        show_progress=None,
        **kwargs,
    ):
        """Attributions of the inputs' shape: ``f(x) - f(x with the feature shuffled)``.

        Parameters
        ----------
        inputs : torch.Tensor (N, ...) or tuple of them
            At least ``_min_examples_per_batch_grouped`` (2) examples; with fewer, or none,
            every attribution is 0, as captum's (shape ``(1, ...)`` where the forward returns
            one number for an empty batch).
        target, additional_forward_args, show_progress
            As :meth:`FeatureAblation.attribute`.
        feature_mask : integer tensor or tuple of them, optional
            Broadcastable to one example (first dimension 1 or absent, or one row per example
            with the same ids in every row); elements with the same id are shuffled together.
            Default: every scalar alone.
        perturbations_per_eval : int >= 1
            Changes only the order in which the permutations are drawn, as in captum (so the
            same torch seed gives captum's numbers); batching is ``batch_size``'s.

        Returns
        -------
        torch.Tensor or tuple, the inputs' shape
        """
        kwargs.pop("baselines", None)  # captum drops it too: the permutation is the baseline
        ppe = check_int(perturbations_per_eval, "perturbations_per_eval", 1)
        if not isinstance(inputs, (torch.Tensor, tuple)):
            raise TypeError(
                f"inputs must be a tensor (N, ...) or a tuple of them; got {type(inputs).__name__}."
            )
        xs = inputs if isinstance(inputs, tuple) else (inputs,)
        if not all(isinstance(x, torch.Tensor) for x in xs):
            raise TypeError("inputs must be tensors (N, ...) or a tuple of tensors.")
        if self._skipped(xs):
            zeros = self._zeros(xs, additional_forward_args)
            return zeros if isinstance(inputs, tuple) else zeros[0]
        if feature_mask is None:
            feature_mask = elementwise_mask(inputs)
        masks = feature_mask if isinstance(feature_mask, tuple) else (feature_mask,)
        if not all(isinstance(m, torch.Tensor) for m in masks):
            raise TypeError(
                "feature_mask must be an integer tensor (or a tuple of them, one per input "
                f"tensor) of feature ids; got {type(feature_mask).__name__}."
            )
        if len(masks) != len(xs):
            raise ValueError(
                f"feature_mask has {len(masks)} tensors for {len(xs)} input tensors; pass one "
                "per input tensor."
            )
        masks = tuple(_example_mask(m, x, k) for k, (m, x) in enumerate(zip(masks, xs)))  # noqa: B905
        baselines, skipped = self._permuted(xs, masks, ppe)
        baselines = baselines if isinstance(inputs, tuple) else baselines[0]
        mask = masks if isinstance(inputs, tuple) else masks[0]
        out = self._run(inputs, baselines, target, additional_forward_args, mask, "auto", ppe,
                        show_progress, kwargs)  # fmt: skip
        if skipped and isinstance(out, tuple):  # sparse inputs: as captum, 0 for those
            logger.warning(
                f"FeaturePermutation: features {sorted(skipped)} skipped (attributions 0), since "
                f"they lie in an input tensor with fewer than {self._low()} examples "
                "(_min_examples_per_batch_grouped)."
            )
            out = tuple(_zeroed(a, m, skipped) for a, m in zip(out, masks, strict=True))
        return out

    def _low(self) -> int | None:
        """``_min_examples_per_batch_grouped``, checked."""
        low = self._min_examples_per_batch_grouped
        return None if low is None else check_int(low, "_min_examples_per_batch_grouped", 1)

    def _skipped(self, xs: tuple) -> bool:
        """Whether every feature is skipped: 0-d or empty inputs, or every input tensor with
        elements has fewer than ``_min_examples_per_batch_grouped`` examples (logged, as captum
        logs it)."""
        low = self._low()
        if any(x.dim() == 0 for x in xs) or all(x.numel() == 0 for x in xs):
            logger.info("FeaturePermutation: every feature skipped, the inputs are empty.")
            return True
        if low is not None and all(x.shape[0] < low for x in xs if x.numel() > 0):
            logger.warning(
                f"FeaturePermutation: every feature skipped, since an input tensor has fewer "
                f"than {low} examples (_min_examples_per_batch_grouped; a permutation needs "
                "two); the attributions are 0."
            )
            return True
        return False

    def _zeros(self, xs: tuple, additional_forward_args) -> tuple:
        """The attributions of skipped features: zeros of the inputs' shapes, or ``(1, ...)``
        when the forward returns one number for a batch that is not one example (captum's
        form for a loss); for sparse inputs (tensors with different first dimensions) one row
        per output element, in the output's dtype, as captum's."""
        a = additional_forward_args
        args = () if a is None else a if isinstance(a, tuple) else (a,)
        with torch.no_grad():
            out = self.model(*xs, *args)
        if len({x.shape[0] for x in xs}) > 1:
            n, dtype = torch.as_tensor(out).numel(), output_dtype(out)
            return tuple(x.new_zeros((n, *x.shape[1:]), dtype=dtype) for x in xs)
        if isinstance(out, torch.Tensor) and out.dim() == 0 and xs[0].dim() and len(xs[0]) != 1:
            return tuple(x.new_zeros((1,) + tuple(x.shape[1:])) for x in xs)
        return tuple(torch.zeros_like(x) for x in xs)

    def _permuted(self, xs: tuple, masks: tuple, ppe: int) -> tuple[tuple, set]:
        """Each input with every feature taken from its permutation: ``perm_func`` called in
        captum's order (features ``ppe`` at a time; in each group, tensor by tensor, feature by
        feature), and the ids of the groups skipped as captum skips them (a group holding a
        tensor with fewer than ``_min_examples_per_batch_grouped`` rows: sparse inputs), which
        keep their values."""
        order: dict[int, list[int]] = {}  # feature id -> tensors holding it, in captum's order
        for k, m in enumerate(masks):
            for f in torch.unique(m).tolist():
                order.setdefault(f, []).append(k)
        ids = list(order)
        low, skipped = self._low(), set()
        default = self.perm_func is permute_feature
        perms: list[dict[int, torch.Tensor]] = [{} for _ in xs]  # default: tensor -> id -> perm
        out = list(xs) if default else [x.clone() for x in xs]
        with torch.no_grad():
            for g in range(0, len(ids), ppe):
                group = ids[g : g + ppe]
                tensors = sorted({t for f in group for t in order[f]})
                if low is not None and any(xs[k].shape[0] < low for k in tensors):
                    skipped.update(group)
                    continue
                for k in tensors:
                    for f in group:
                        if default:  # only the draws here; one gather per tensor below
                            _check_permutable(xs[k].shape[0])
                            perms[k][f] = _randperm(xs[k].shape[0], xs[k].device)
                            continue
                        where = masks[k] == f
                        permuted = self.perm_func(xs[k], where)
                        if not isinstance(permuted, torch.Tensor) or permuted.shape != xs[k].shape:
                            got = getattr(permuted, "shape", None)
                            got = type(permuted).__name__ if got is None else tuple(got)
                            raise ValueError(
                                f"perm_func returned {got} "
                                f"for an input of shape {tuple(xs[k].shape)}; it must return the "
                                "input with the masked elements permuted, of the input's shape."
                            )
                        out[k] = torch.where(where, permuted, out[k])
        if default:
            out = [_gather(x, m, p) for x, m, p in zip(xs, masks, perms, strict=True)]
        return tuple(out), skipped


def _gather(x: torch.Tensor, mask: torch.Tensor, perms: dict) -> torch.Tensor:
    """``x`` with element ``d`` of example ``e`` taken from example ``perms[mask[d]][e]`` (from
    itself for an id without a permutation)."""
    if not perms:
        return x
    N = x.shape[0]
    flat = x.reshape(N, -1)
    ids, inverse = torch.unique(mask.reshape(-1), return_inverse=True)
    same = torch.arange(N, device=x.device)
    table = torch.stack([perms.get(int(f), same) for f in ids.tolist()])  # (n_ids, N)
    return flat.gather(0, table[inverse].T).reshape(x.shape)


def _zeroed(attr: torch.Tensor, mask: torch.Tensor, ids: set) -> torch.Tensor:
    """``attr`` ``(n, ...)`` with 0 where ``mask`` (one example's ids) holds one of ``ids``."""
    if mask.numel() == 0:
        return attr  # a tensor without rows: zeros already
    drop = torch.isin(mask, torch.tensor(sorted(ids), device=mask.device))
    return torch.where(drop, torch.zeros((), dtype=attr.dtype, device=attr.device), attr)


def _example_mask(mask, x: torch.Tensor, k: int) -> torch.Tensor:
    """``mask`` as one example's ids, ``x.shape[1:]``; a leading dimension must be 1."""
    m = torch.as_tensor(mask, device=x.device)
    if m.dtype == torch.bool or (m.dtype.is_floating_point and not bool((m == m.round()).all())):
        raise TypeError(
            f"feature_mask[{k}] must hold integer ids; got dtype {m.dtype}"
            + (" with non-integer values." if m.dtype.is_floating_point else ".")
        )
    m = m.long()
    if m.dim() == x.dim() and m.shape[0] == 0 == x.shape[0]:
        return m  # a tensor without rows (sparse inputs' empty index list): no features
    if m.dim() == x.dim():
        # one row per example is accepted when the rows agree: the same features in each
        if m.shape[0] != 1 and not (m.shape[0] == x.shape[0] and bool((m == m[:1]).all())):
            raise ValueError(
                f"feature_mask[{k}] has shape {tuple(m.shape)}; FeaturePermutation shuffles "
                "the same features in every example, so its first dimension must be 1 (or "
                f"absent), e.g. shape {(1,) + tuple(x.shape[1:])}, or the examples' with the "
                "same ids in every row."
            )
        m = m[0]
    try:
        return m.broadcast_to(x.shape[1:])
    except RuntimeError:
        raise ValueError(
            f"feature_mask[{k}] of shape {tuple(m.shape)} does not broadcast to one example "
            f"of the inputs, {tuple(x.shape[1:])}."
        ) from None

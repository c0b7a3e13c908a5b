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

from .._validation import check_int
from ._captum_perturbation import elementwise_mask
from .feature_ablation import FeatureAblation

__all__ = ["FeaturePermutation", "permute_feature"]

logger = logging.getLogger(__name__)
MIN_EXAMPLES = 2  # a permutation needs two examples to move anything


def permute_feature(x: torch.Tensor, feature_mask: torch.Tensor) -> torch.Tensor:
    """``x`` ``(N, ...)`` with the elements under ``feature_mask`` (broadcastable to one
    example) taken from a random other order of the examples, as captum's default ``perm_func``:
    one ``torch.randperm(N)`` from the global generator, drawn again while it is the identity."""
    n = x.shape[0]
    if n < MIN_EXAMPLES:
        raise ValueError(f"permuting a feature needs at least 2 examples; got a batch of {n}.")
    perm = _randperm(n, x.device)
    mask = feature_mask.to(x.device, torch.bool)
    return torch.where(mask, x[perm], x)


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
            At least 2 examples (with fewer, every attribution is 0, as captum's).
        target, additional_forward_args, show_progress
            As :meth:`FeatureAblation.attribute`.
        feature_mask : integer tensor or tuple of them, optional
            Broadcastable to one example (first dimension 1 or absent); elements with the
            same id are shuffled together. Default: every scalar alone.
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
        if any(x.shape[0] < MIN_EXAMPLES for x in xs) if xs[0].dim() else True:
            logger.warning(
                "FeaturePermutation: every feature skipped, since an input tensor has fewer "
                "than 2 examples (a permutation needs two); the attributions are 0."
            )
            zeros = tuple(torch.zeros_like(x) for x in xs)
            return zeros if isinstance(inputs, tuple) else zeros[0]
        if feature_mask is None:
            feature_mask = elementwise_mask(inputs)
        masks = feature_mask if isinstance(feature_mask, tuple) else (feature_mask,)
        if len(masks) != len(xs):
            raise ValueError(
                f"feature_mask has {len(masks)} tensors for {len(xs)} input tensors; pass one "
                "per input tensor."
            )
        masks = tuple(_example_mask(m, x, k) for k, (m, x) in enumerate(zip(masks, xs)))  # noqa: B905
        baselines = self._permuted(xs, masks, ppe)
        baselines = baselines if isinstance(inputs, tuple) else baselines[0]
        mask = masks if isinstance(inputs, tuple) else masks[0]
        return self._run(inputs, baselines, target, additional_forward_args, mask, "auto", ppe,
                         show_progress, kwargs)  # fmt: skip

    def _permuted(self, xs: tuple, masks: tuple, ppe: int) -> tuple:
        """Each input with every feature taken from its permutation: ``perm_func`` called in
        captum's order (features ``ppe`` at a time; in each group, tensor by tensor, feature by
        feature)."""
        order: dict[int, list[int]] = {}  # feature id -> tensors holding it, in captum's order
        for k, m in enumerate(masks):
            for f in torch.unique(m).tolist():
                order.setdefault(f, []).append(k)
        ids = list(order)
        default = self.perm_func is permute_feature
        perms: list[dict[int, torch.Tensor]] = [{} for _ in xs]  # default: tensor -> id -> perm
        out = list(xs) if default else [x.clone() for x in xs]
        with torch.no_grad():
            for g in range(0, len(ids), ppe):
                group = ids[g : g + ppe]
                for k in sorted({t for f in group for t in order[f]}):
                    for f in group:
                        if default:  # only the draws here; one gather per tensor below
                            perms[k][f] = _randperm(xs[k].shape[0], xs[k].device)
                            continue
                        where = masks[k] == f
                        out[k] = torch.where(where, self.perm_func(xs[k], where), out[k])
        if default:
            out = [_gather(x, m, p) for x, m, p in zip(xs, masks, perms, strict=True)]
        return tuple(out)


def _gather(x: torch.Tensor, mask: torch.Tensor, perms: dict) -> torch.Tensor:
    """``x`` with element ``d`` of example ``e`` taken from example ``perms[mask[d]][e]``."""
    N = x.shape[0]
    flat = x.reshape(N, -1)
    ids, inverse = torch.unique(mask.reshape(-1), return_inverse=True)
    table = torch.stack([perms[int(f)] for f in ids.tolist()])  # (n_ids, N)
    return flat.gather(0, table[inverse].T).reshape(x.shape)


def _example_mask(mask, x: torch.Tensor, k: int) -> torch.Tensor:
    """``mask`` as one example's ids, ``x.shape[1:]``; a leading dimension must be 1."""
    m = torch.as_tensor(mask, device=x.device)
    if m.dtype == torch.bool or (m.dtype.is_floating_point and not bool((m == m.round()).all())):
        raise TypeError(
            f"feature_mask[{k}] must hold integer ids; got dtype {m.dtype}"
            + (" with non-integer values." if m.dtype.is_floating_point else ".")
        )
    m = m.long()
    if m.dim() == x.dim():
        if m.shape[0] != 1:
            raise ValueError(
                f"feature_mask[{k}] has shape {tuple(m.shape)}; FeaturePermutation shuffles "
                "the same features in every example, so its first dimension must be 1 (or "
                f"absent), e.g. shape {(1,) + tuple(x.shape[1:])}."
            )
        m = m[0]
    try:
        return m.broadcast_to(x.shape[1:])
    except RuntimeError:
        raise ValueError(
            f"feature_mask[{k}] of shape {tuple(m.shape)} does not broadcast to one example "
            f"of the inputs, {tuple(x.shape[1:])}."
        ) from None

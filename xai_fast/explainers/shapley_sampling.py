"""captum's ``ShapleyValueSampling`` and ``ShapleyValues`` on the engine.

For each permutation of captum's features (ids ``0..max id``), features join the baseline one
by one and each gets the change of the output when it joins; the attribution is the mean over
the permutations. The design is every prefix of every permutation (plus the baseline), one
batched evaluation for all of them and all examples, where captum makes one model call per
feature and permutation. ``ShapleyValueSampling`` draws ``n_samples`` permutations as captum
draws them (``torch.randperm``, from torch's global generator with ``seed=None``), so after the
same ``torch.manual_seed`` its values equal captum's; ``ShapleyValues`` takes all ``F!``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from .._rng import normalize_seed
from .._validation import check_int
from ._captum_perturbation import CaptumPerturbation
from ._tensor_base import TensorPerturbationExplainer

__all__ = ["ShapleyValueSampling", "ShapleyValues"]

MAX_DESIGN = 2**27  # prefix x feature entries of one design (bools)


def prefix_design(perms: np.ndarray) -> np.ndarray:
    """``(1 + P * F, F)`` bool: the empty coalition, then the ``F`` prefixes of each of the
    ``P`` permutations ``perms`` ``(P, F)``, in order."""
    P, F = perms.shape
    rank = np.empty_like(perms)
    rank[np.arange(P)[:, None], perms] = np.arange(F)[None, :]  # position of each feature
    steps = np.arange(F)[None, :, None]
    prefixes = rank[:, None, :] <= steps  # (P, F steps, F features)
    return np.vstack([np.zeros((1, F), dtype=bool), prefixes.reshape(P * F, F)])


def permutation_values(values: torch.Tensor, perms: np.ndarray) -> torch.Tensor:
    """Mean marginal contributions ``(n, F)`` from the values ``(n, 1 + P * F)`` of
    :func:`prefix_design`."""
    P, F = perms.shape
    n = values.shape[0]
    prefix = values[:, 1:].reshape(n, P, F)
    before = torch.cat([values[:, :1, None].expand(n, P, 1), prefix[:, :, :-1]], dim=2)
    steps = prefix - before  # (n, P, F): the change at each step of each permutation
    rank = np.empty_like(perms)
    rank[np.arange(P)[:, None], perms] = np.arange(F)[None, :]
    at = torch.as_tensor(rank, device=values.device)[None].expand(n, P, F)
    return steps.gather(2, at).mean(dim=1)


class _PermutationExplainer(CaptumPerturbation):
    """The shared pipeline: captum's feature ids, a permutation design, float32 results."""

    _CALL_OPTIONS = CaptumPerturbation._CALL_OPTIONS + ("n_samples",)
    _KEEP_OUTPUT_SHAPE = True  # captum's: attributions (*output shape, *example shape)
    _BATCHES_PERMUTATIONS = True  # captum's check of perturbations_per_eval: any one number

    def _permutations(self, F: int, n_samples, seed) -> np.ndarray:
        raise NotImplementedError

    def _result_dtype(self, batch, args, seen) -> torch.dtype:
        return torch.float32  # captum accumulates in float32

    def _seeds(self, N: int) -> list:
        """One set of permutations per call, shared by the batch, as captum's."""
        return [None if self.seed is None else normalize_seed(self.seed)] * N

    def _designs(self, masker, groups, n_samples, seeds) -> list:
        """One permutation set over captum's ids ``0..max id``; examples with the same ids
        share the prefix design."""
        # captum counts ids from 0, absent ones too (at least one, so that a mask of only
        # negative ids, which captum never perturbs, still makes a design)
        F = max(masker.id_offset + masker.n_ids, 1)
        perms = self._permutations(F, n_samples, seeds[0])
        if perms.shape[0] * (F + 1) * F > MAX_DESIGN:
            raise ValueError(
                f"{perms.shape[0]} permutations of {F} features make a design of "
                f"{perms.shape[0] * F * F:,} entries (at most {MAX_DESIGN:,}); group the "
                "elements into fewer features with feature_mask, or use fewer samples."
            )
        Z_all = prefix_design(perms)
        out = []
        for _, rows in groups:
            ids = masker.given_ids(rows).cpu().numpy() + masker.id_offset  # (n, M) captum ids
            for key in np.unique(ids, axis=0):
                same = rows[(ids == key).all(axis=1)]
                # a negative id is in no permutation (captum's ids start at 0): its elements
                # stay at the baseline and get 0
                Z = Z_all[:, np.maximum(key, 0)] & (key >= 0)[None, :]
                out.append((same, Z, (perms, key)))
        return out

    def _solve_rows(self, values, Z, extra, masker, rows) -> torch.Tensor:
        perms, key = extra
        per_feature = permutation_values(values, perms)  # (n, F) over captum's ids
        at = torch.as_tensor(np.maximum(key, 0), device=values.device)
        kept = torch.as_tensor(key >= 0, device=values.device)
        return torch.where(kept, per_feature[:, at], torch.zeros((), dtype=per_feature.dtype))


class ShapleyValueSampling(_PermutationExplainer):
    """Shapley values estimated from random permutations, as ``captum.attr.ShapleyValueSampling``.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        As for :class:`FeatureAblation`.
    seed : int or None, keyword-only
        Seed of the permutations; ``None`` draws them from torch's global generator exactly as
        captum does, so after the same ``torch.manual_seed`` the values are captum's.
    batch_size, workers : optional, keyword-only
        As for :class:`FeatureAblation`.
    """

    _INIT_OPTIONS = ("forward_func", "seed", "batch_size", "workers")
    _PROGRESS = "Shapley Value Sampling"

    def __init__(self, forward_func, *, seed=None, batch_size=None, workers=None, **kwargs):
        # the one method of the family with a seed: past CaptumPerturbation's seedless init
        TensorPerturbationExplainer.__init__(self, forward_func, seed, batch_size, workers, kwargs)

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        additional_forward_args=None,
        feature_mask=None,
        n_samples=25,
        perturbations_per_eval=1,
        show_progress=None,
        **kwargs,
    ):
        """Mean marginal contribution of each feature over ``n_samples`` permutations.

        Parameters
        ----------
        inputs, baselines, target, additional_forward_args, feature_mask
            As for :meth:`CaptumPerturbation.attribute` (default mask: every scalar).
        n_samples : int >= 1, default 25
            Permutations, shared by the batch.
        perturbations_per_eval, show_progress
            As for :meth:`CaptumPerturbation.attribute`.

        Returns
        -------
        torch.Tensor or tuple, the inputs' shape, float32
        """
        check_int(n_samples, "n_samples", 1)
        return self._run(inputs, baselines, target, additional_forward_args, feature_mask,
                         n_samples, perturbations_per_eval, show_progress, kwargs)  # fmt: skip

    def _permutations(self, F: int, n_samples, seed) -> np.ndarray:
        gen = None if seed is None else torch.Generator().manual_seed(int(seed))
        return np.stack([torch.randperm(F, generator=gen).numpy() for _ in range(n_samples)])


class ShapleyValues(_PermutationExplainer):
    """Exact Shapley values from all ``F!`` permutations, as ``captum.attr.ShapleyValues``
    (for a handful of features); arguments as
    :class:`~xai_fast.explainers._captum_perturbation.CaptumPerturbation`."""

    _CALL_OPTIONS = CaptumPerturbation._CALL_OPTIONS

    _PROGRESS = "Shapley Values"
    MAX_FEATURES = 9  # 9! = 362,880 permutations

    def _permutations(self, F: int, n_samples, seed) -> np.ndarray:
        if F > self.MAX_FEATURES:
            raise ValueError(
                f"ShapleyValues enumerates all {F}! = {math.factorial(F):,} permutations; use "
                f"at most {self.MAX_FEATURES} features, or ShapleyValueSampling / KernelShap."
            )
        return np.array(list(itertools.permutations(range(F))), dtype=np.int64).reshape(-1, F)

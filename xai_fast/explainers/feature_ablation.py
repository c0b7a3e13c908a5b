"""captum's ``FeatureAblation`` on the engine: each feature replaced by its baseline in turn.

Composition only: TensorMasker -> the design ``[all kept; all kept but feature j, j < M]``
(one per number of features, shared by every example with it) -> Game.evaluate -> the
difference ``f(x) - f(x with feature j ablated)`` given to each element of feature ``j``.
Every ablation of every example goes through batched model calls, where captum makes one call
per feature (``perturbations_per_eval`` features per call).
"""

from __future__ import annotations

import numpy as np
import torch

from ._captum_perturbation import CaptumPerturbation
from ._whole_batch import output_dtype

__all__ = ["FeatureAblation"]


class FeatureAblation(CaptumPerturbation):
    """Attribution of each feature: the change of the model's output when the feature alone
    takes its baseline, as ``captum.attr.FeatureAblation``; arguments as
    :class:`~xai_fast.explainers._captum_perturbation.CaptumPerturbation`.

    ``attribute`` returns ``f(x) - f(x with the feature ablated)`` at the target, in the dtype
    of the model's output, as captum's.
    """

    _PROGRESS = "Feature Ablation"

    def _result_dtype(self, batch, args, seen) -> torch.dtype:
        """captum's: the dtype of the model's output on the inputs (a Python float is
        float64, an int int64); ``seen`` when the call has already shown it, else found by one
        call on the inputs, as captum's first evaluation."""
        if seen is not None:
            return seen
        with torch.no_grad(), self.adapter.evaluating():
            return output_dtype(self._row_forward(batch, args)(batch.X))

    def _design(self, M: int, n_samples, seed):
        """All kept, then each feature dropped alone: ``(M + 1, M)``."""
        return np.vstack([np.ones((1, M), dtype=bool), ~np.eye(M, dtype=bool)]), None

    def _solve(self, values: torch.Tensor, Z: np.ndarray, extra) -> torch.Tensor:
        """``f(x) - f(x without feature j)``: ``(n, M)``."""
        return values[:, :1] - values[:, 1:]

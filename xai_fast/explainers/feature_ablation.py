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

from ._tensor_base import TensorPerturbationExplainer

__all__ = ["FeatureAblation"]


def _elementwise_mask(inputs):
    """captum's default mask: every scalar of an example is its own feature (ids continuing
    from one input tensor to the next)."""
    if not isinstance(inputs, tuple):
        return torch.arange(inputs[0].numel(), device=inputs.device).reshape(inputs.shape[1:])
    masks, offset = [], 0
    for x in inputs:
        n = x[0].numel() if x.shape[0] else 0
        masks.append(torch.arange(offset, offset + n, device=x.device).reshape(x.shape[1:]))
        offset += n
    return tuple(masks)


class FeatureAblation(TensorPerturbationExplainer):
    """Attribution of each feature: the change of the model's output when the feature alone
    takes its baseline, as ``captum.attr.FeatureAblation``.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Maps inputs ``(n, ...)`` (or a tuple of them) to ``(n,)`` or ``(n, k)`` outputs; one
        number for the whole batch ablates each feature in every example at once (captum's
        form for a loss).
    batch_size : int, optional, keyword-only
        Ablated inputs per model call (default: :class:`~xai_fast.ModelAdapter`'s rule).
    workers : int, optional, keyword-only
        Chunks a module on the CPU evaluates at once.
    """

    _INIT_OPTIONS = ("forward_func", "batch_size", "workers")
    multiplies_by_inputs = True  # as captum's: a difference of outputs, in the inputs' units
    _PROGRESS = "Feature Ablation"

    def __init__(self, forward_func, *, batch_size=None, workers=None, **kwargs):
        super().__init__(forward_func, 0, batch_size, workers, kwargs)

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        additional_forward_args=None,
        feature_mask=None,
        perturbations_per_eval=1,
        show_progress=None,
        **kwargs,
    ):
        """Ablation attributions, each element carrying its feature's value.

        Parameters
        ----------
        inputs : torch.Tensor (N, ...) or tuple of them
        baselines : None, scalar, tensor or tuple of them
            The value an ablated element takes (default zeros), broadcastable to one example
            or to the batch.
        target : None, int, tuple, list or tensor
            The output to explain, as captum takes it.
        additional_forward_args : object or tuple, optional
            Passed to the model after the inputs, as captum passes them.
        feature_mask : integer tensor or tuple of them, optional
            Elements with the same id are ablated together (an id used in several input tensors
            is one feature). Default: every scalar is its own feature, as in captum.
        perturbations_per_eval : int >= 1
            captum's argument, checked and ignored: ``batch_size`` sets the rows per call, and
            batching never changes the values.
        show_progress : bool or None
            A progress bar labelled as captum's: ``None`` once the call has taken 2 s.

        Returns
        -------
        torch.Tensor or tuple, the inputs' shape
            ``f(x) - f(x with the feature ablated)`` at the target; ``(1, ...)`` for a
            forward returning one number per batch. float64 for float64 inputs, else float32.
        """
        from .._validation import check_int

        check_int(perturbations_per_eval, "perturbations_per_eval", 1)
        if feature_mask is None and isinstance(inputs, (torch.Tensor, tuple)):
            feature_mask = _elementwise_mask(inputs)
        options = dict(
            feature_mask=feature_mask,
            n_samples="auto",
            show_progress=show_progress,
            patch_size=None,
            shaped=True,
            additional_forward_args=additional_forward_args,
        )
        return self._attribute(inputs, baselines, target, options, kwargs)

    _CALL_OPTIONS = (
        "inputs",
        "baselines",
        "target",
        "additional_forward_args",
        "feature_mask",
        "perturbations_per_eval",
        "show_progress",
    )

    def _result_dtype(self, batch, args) -> torch.dtype:
        """captum's: the dtype of the model's output on the inputs (a Python float is
        float64, an int int64), found by one call on them, as captum's first evaluation."""
        with torch.no_grad(), self.adapter.evaluating():
            out = self._row_forward(batch, args)(batch.X)
        if isinstance(out, bool) or not isinstance(out, (int, float)):
            return torch.as_tensor(out).dtype
        return torch.int64 if isinstance(out, int) else torch.float64

    def _seed_free(self, M: int, n_samples) -> bool:
        return True  # the design has no randomness

    def _seeds(self, N: int) -> list:
        return [0] * N

    def _design(self, M: int, n_samples, seed):
        """All kept, then each feature dropped alone: ``(M + 1, M)``."""
        return np.vstack([np.ones((1, M), dtype=bool), ~np.eye(M, dtype=bool)]), None

    def _solve(self, values: torch.Tensor, Z: np.ndarray, extra) -> torch.Tensor:
        """``f(x) - f(x without feature j)``: ``(n, M)``."""
        return values[:, :1] - values[:, 1:]

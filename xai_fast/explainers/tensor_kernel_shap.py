"""Kernel SHAP on torch tensors with a feature mask, with captum's ``attribute`` API.

Composition only: TensorMasker -> shap's coalition design (one per distinct number of features,
shared by every example with it) -> Game.evaluate -> the constrained weighted least squares.
"""

from __future__ import annotations

import numpy as np
import torch

from ..backends import get_backend
from ..sampling import shap_design
from ..sampling.plan import plan_design
from ..solvers.constrained_wls import solve_constrained_wls
from ._tensor_base import TensorPerturbationExplainer, attribute_method

__all__ = ["KernelShap"]


class KernelShap(TensorPerturbationExplainer):
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
        ``None`` draws one seed per example, in order, from torch's global generator (as
        captum's randomness), so ``torch.manual_seed`` makes calls reproducible and a batch
        equals its examples explained one call at a time.
    batch_size : int, optional, keyword-only
        Perturbed inputs per model call; default as :class:`~xai_fast.ModelAdapter` (2048,
        fewer for examples of more than 512 values: about ``2**20`` values per call, at least
        256 examples; on the CPU, images of more than 1024 values about ``2**16``, at least
        16).
    backend : {"auto", "numpy", "numba", "torch"}, keyword-only
        Kernels of the design and the solve (see :func:`xai_fast.backends.get_backend`).
    workers : int, optional, keyword-only
        Chunks a module on the CPU evaluates at once, each on its own thread (default: torch's
        thread count, at most 8; see :class:`xai_fast.ModelAdapter`). Pass 1 for a module whose
        ``forward`` is not safe to run from several threads.
    """

    _INIT_OPTIONS = ("model", "seed", "batch_size", "backend", "workers")
    _PROGRESS = "Kernel Shap"

    def __init__(
        self, model, *, seed=None, batch_size=None, backend="auto", workers=None, **kwargs
    ):
        super().__init__(model, seed, batch_size, workers, kwargs)
        self.backend = get_backend(backend, model_is_module=self.is_module)

    attribute = attribute_method(
        """Kernel SHAP value of every feature, given to each of the feature's elements.

        Parameters
        ----------
        inputs : torch.Tensor (N, ...) or tuple of them
            Examples to explain, e.g. images ``(N, C, H, W)``, embeddings ``(N, L, E)`` or
            tabular rows ``(N, d)``; a tuple of tensors sharing ``N`` for a model taking
            several (``baselines`` and ``feature_mask`` are then tuples too, and an id used in
            several tensors is one feature).
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
        additional_forward_args : object or tuple, optional, keyword-only
            Passed to the model after the inputs, as captum: shared values unchanged, tensors
            of one row repeated per perturbation, tensors with the ``N`` examples on axis 0
            given per example.
        perturbations_per_eval : int >= 1, keyword-only
            captum's argument, checked and ignored: ``batch_size`` sets the rows per call.
        return_input_shape : bool, default True, keyword-only
            ``False`` returns the feature values ``(N, M)`` (every example needs the same
            ``M``).
        show_progress : bool or None, default None, keyword-only
            A progress bar on stderr, labelled as captum's: ``None`` shows it once the call
            has taken 2 s, ``True`` at once (captum's ``True``), ``False`` never.
        patch_size : int or (int, int), optional, keyword-only
            Patch size of the default mask for ``(N, C, H, W)`` inputs.

        Returns
        -------
        torch.Tensor (or tuple), shape of ``inputs``
            Each element carries its feature's value; per example, the features' values add up
            to ``f(x) - f(baseline)``. On the inputs' device; float64 for float64 inputs,
            float32 otherwise.
        """
    )

    def _seed_free(self, M: int, n_samples) -> bool:
        """One player, or every coalition enumerated: the design does not use the seed."""
        return M == 1 or plan_design(M, n_samples).fully_enumerated

    def _design(self, M: int, n_samples, seed):
        """[full, empty, shap's design...] and the design's weights (``None`` for one player,
        who gets the whole difference)."""
        if M == 1:
            return np.array([[True], [False]]), None
        Z, w, _ = shap_design(self.backend, M, n_samples, seed)
        ends = np.array([[True] * M, [False] * M])  # full, then empty
        return np.concatenate([ends, Z]), w

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
        phi = solve_constrained_wls(
            self.backend.constrained_wls, *args, hint="Raise n_samples or use fewer features."
        )
        return torch.as_tensor(phi, dtype=torch.float64, device=dev).T

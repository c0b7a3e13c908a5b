"""One method's attributions ``(n, d)`` of a single-output model: construct its explainer and
call it, as :func:`~xai_fast.evaluation.compare.compare` times them."""

from __future__ import annotations

import numpy as np

__all__ = ["GRADIENT_SHAP_SAMPLES", "IG_STEPS", "LIME_SAMPLES", "PERMUTATION_EVALS", "run_method"]

#: Points on the integrated-gradients path.
IG_STEPS = 50
#: Random (baseline, path point) draws per row for GradientShap.
GRADIENT_SHAP_SAMPLES = 100
#: ``max_evals`` per row of the permutation method with ``nsamples="auto"`` (shap's default).
PERMUTATION_EVALS = 500
#: Neighbourhood size per row for LIME.
LIME_SAMPLES = 5000


def run_method(method, fn, adapter, X, bg, nsamples, seed, silent) -> np.ndarray:
    """Attributions of ``fn`` at ``X`` by ``method``.

    Parameters
    ----------
    method : str
        One of :data:`~xai_fast.evaluation.compare.METHODS`.
    fn : torch.nn.Module or callable
        The model restricted to one output, ``(n, d) -> (n,)``.
    adapter : ModelAdapter
        The adapter of the user's model (device and dtype of the gradient methods).
    X : ndarray of shape (n, d)
    bg : Background
        ``N`` rows ``(N, d)`` and their weights ``(N,)``.
    nsamples : int or "auto"
        Coalitions per row of the Kernel SHAP methods; ``max_evals`` of the permutation method.
    seed : int
    silent : bool

    Returns
    -------
    ndarray
        ``n * d`` values, ``(n, d)`` or the explainer's ``(n, d, 1)`` (the caller reshapes).
    """
    from ..explainers import (
        ExactExplainer,
        KernelExplainer,
        LimeTabularExplainer,
        PermutationExplainer,
    )
    from ..explainers.exact import DEFAULT_MAX_EVALS

    if method in ("kernel", "kernel_auto"):
        sampler = "auto" if method == "kernel_auto" else "shap"
        explainer = KernelExplainer(fn, bg, seed=seed, sampler=sampler)
        return explainer.shap_values(X, nsamples=nsamples, l1_reg=False, silent=silent)
    if method == "exact":
        # max_exact_features is the limit that counts; allow the evaluations it implies
        need = 2 ** X.shape[1] * bg.data.shape[0]
        explainer = ExactExplainer(fn, bg, max_evals=max(DEFAULT_MAX_EVALS, need))
        return explainer.shap_values(X, silent=silent)
    if method == "permutation":
        explainer = PermutationExplainer(fn, bg, seed=seed)
        max_evals = PERMUTATION_EVALS if nsamples == "auto" else nsamples
        return explainer(X, max_evals=max_evals, silent=silent).values
    if method == "lime":
        explainer = LimeTabularExplainer(
            bg.data,
            mode="regression",
            discretize_continuous=False,
            feature_selection="none",
            random_state=seed,
        )
        exp = explainer(X, fn, num_features=X.shape[1], num_samples=LIME_SAMPLES, silent=silent)
        return exp.values
    return _gradient(method, fn, adapter, X, bg, seed)


def _gradient(method, fn, adapter, X, bg, seed) -> np.ndarray:
    """Integrated gradients (from the background mean) or GradientShap (baselines drawn from
    the background) of a module, as float64 ``(n, d)``."""
    import torch

    from ..explainers.gradient import GradientShap, IntegratedGradients

    def tensor(a):
        return torch.as_tensor(np.asarray(a)).to(adapter.device, adapter.torch_dtype)

    xs = tensor(X)
    if method == "ig":
        baseline = tensor((bg.weights @ bg.data)[None, :])  # (1, d)
        rows = adapter.batch_rows(X.shape[1])  # path points per model call
        attr = IntegratedGradients(fn).attribute(
            xs, baselines=baseline, n_steps=IG_STEPS, internal_batch_size=rows
        )
    else:
        attr = GradientShap(fn, seed=seed).attribute(
            xs, baselines=tensor(bg.data), n_samples=GRADIENT_SHAP_SAMPLES
        )
    return attr.detach().to("cpu", torch.float64).numpy()

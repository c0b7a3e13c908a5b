"""One layer method's attributions ``(n, u)`` of a single-output module, over the ``u`` units
of a hidden layer's output, as :func:`~xai_fast.evaluation.compare.compare` times them with
``layer=``; and the reference, the exact Shapley values of those units.

The units' game for a row ``x``: ``v(S) = E_b g_x(h_S)``, where ``h_S`` takes the units in
``S`` from the layer's output at ``x`` and the others from its output at the background row
``b`` (weighted as the background), and ``g_x(h)`` is the model run on ``x`` with the layer's
output replaced by ``h``. For a model whose input reaches the output only through the layer
(a ``Sequential`` cut at the layer) its values add up to ``f(x) - E_b f(b)``.

torch is imported by the functions, so that :func:`~xai_fast.compare` can name the methods
without it.
"""

from __future__ import annotations

import numpy as np

from ..sampling.enumeration import all_coalitions
from ..solvers.exact_shapley import shapley_from_values
from .method_runs import GRADIENT_SHAP_SAMPLES, IG_STEPS

__all__ = ["LAYER_ADDITIVE", "LAYER_METHODS", "LAYER_NOTES", "layer_units", "run_layer_method"]

#: Names ``compare(..., layer=...)`` accepts, in the default order.
LAYER_METHODS = (
    "exact",
    "layer_ig",
    "layer_conductance",
    "layer_gradient_shap",
    "layer_deeplift_shap",
    "layer_gradient_x_activation",
    "layer_feature_ablation",
)
#: Layer methods whose values should add up to ``f(x) - E_background f`` (or ``- f(mean)``).
LAYER_ADDITIVE = (
    "exact",
    "layer_ig",
    "layer_conductance",
    "layer_gradient_shap",
    "layer_deeplift_shap",
)
LAYER_NOTES = {
    "exact": "reference: the units' Shapley values over the background's activations",
    "layer_ig": "straight path in the layer from the background mean's activations: "
    "sums to f(x) - f(mean)",
    "layer_conductance": "input path from the background mean: sums to f(x) - f(mean)",
    "layer_gradient_shap": f"{GRADIENT_SHAP_SAMPLES} random draws per row",
    "layer_deeplift_shap": "DeepLift rules, averaged over the background rows as baselines",
    "layer_gradient_x_activation": "gradient times activation: no baseline, not meant to add up",
    "layer_feature_ablation": "each unit set to the background mean's activation: "
    "not meant to add up",
}
#: Rows per model call of the exact game.
_EXACT_CHUNK = 2**14


def layer_units(fn, adapter, layer, X: np.ndarray, B: np.ndarray) -> int:
    """How many units the layer's output has per row (its size without the batch axis),
    from a forward of two rows (the first of ``X`` and of the background ``B``).

    Raises
    ------
    ValueError
        For a layer whose output does not hold the rows on axis 0.
    """
    probe = _tensor(adapter, np.concatenate([X[:1], B[:1]]))  # (2, d)
    out = _activations(fn, layer, probe)
    if out.dim() == 0 or out.shape[0] != 2:
        raise ValueError(
            f"the layer's output has shape {tuple(out.shape)} for 2 input rows; compare(layer="
            "...) needs a layer whose output holds the rows on axis 0, shape (n, ...). Pick a "
            "submodule that keeps the batch axis first."
        )
    return int(out[0].numel())


def run_layer_method(method, fn, adapter, layer, X, bg, seed, silent=True) -> np.ndarray:
    """Attributions of ``fn`` at ``X`` to the units of ``layer``'s output by ``method``.

    Parameters
    ----------
    method : str
        One of :data:`LAYER_METHODS`.
    fn : torch.nn.Module
        The model restricted to one output, ``(n, d) -> (n,)``.
    adapter : ModelAdapter
        The adapter of the user's model (device and dtype of the rows).
    layer : torch.nn.Module
        A submodule of ``fn`` that runs once per forward and returns one tensor.
    X : ndarray of shape (n, d)
    bg : Background
        ``N`` rows ``(N, d)`` and their weights ``(N,)``.
    seed : int
        Seed of ``"layer_gradient_shap"``.
    silent : bool, default True
        Hide the progress bar of ``"exact"`` (shown after 2 s of work).

    Returns
    -------
    ndarray of float64, shape (n, u)
    """
    import torch

    from ..explainers import layer as ex

    X = _tensor(adapter, X)  # (n, d)
    B = _tensor(adapter, bg.data)  # (N, d)
    w = _tensor(adapter, bg.weights)  # (N,)
    mean = (w @ B)[None, :]  # (1, d)
    n = X.shape[0]
    if method == "exact":
        return _exact(fn, layer, X, B, bg.weights, silent)
    if method == "layer_ig":
        attr = ex.LayerIntegratedGradients(fn, layer).attribute(X, mean, n_steps=IG_STEPS)
    elif method == "layer_conductance":
        attr = ex.LayerConductance(fn, layer).attribute(X, mean, n_steps=IG_STEPS)
    elif method == "layer_gradient_shap":
        attr = ex.LayerGradientShap(fn, layer, seed=seed).attribute(
            X, B, n_samples=GRADIENT_SHAP_SAMPLES
        )
    elif method == "layer_deeplift_shap":
        attr = ex.LayerDeepLiftShap(fn, layer).attribute(X, B)
    elif method == "layer_gradient_x_activation":
        attr = ex.LayerGradientXActivation(fn, layer).attribute(X)
    else:  # layer_feature_ablation
        base = _activations(fn, layer, mean)  # (1, ...)
        unit_ids = torch.arange(base[0].numel(), device=X.device).reshape(base.shape)
        attr = ex.LayerFeatureAblation(fn, layer).attribute(
            X, layer_baselines=base, layer_mask=unit_ids
        )
    return attr.detach().reshape(n, -1).to("cpu", torch.float64).numpy()


def _tensor(adapter, a):
    import torch

    return torch.as_tensor(np.asarray(a)).to(adapter.device, adapter.torch_dtype)


def _activations(fn, layer, X):
    """The layer's output at the tensor ``X``, ``(n, ...)``, without gradients."""
    import torch

    from ..explainers.layer.activation import LayerActivation

    with torch.no_grad():
        out = LayerActivation(fn, layer).attribute(X)
    if not isinstance(out, torch.Tensor):
        raise TypeError(
            f"compare(layer=...) needs a layer that returns one tensor; {type(layer).__name__} "
            f"returns {type(out).__name__}. Pick a submodule with a single tensor output."
        )
    return out


def _exact(fn, layer, X, B, weights: np.ndarray, silent: bool = True) -> np.ndarray:
    """Exact Shapley values ``(n, u)`` of the units' game (module docstring) at the rows
    ``X`` ``(n, d)``, background rows ``B`` ``(N, d)`` (tensors) and ``weights`` ``(N,)``.

    Every row ``x``, coalition ``S`` and background row ``b`` is one model row, ``n * 2**u * N``
    in all, evaluated in chunks of :data:`_EXACT_CHUNK` rows with the layer's output replaced.
    """
    import torch

    from .._runtime.progress import Progress
    from ..explainers.layer._hooks import _LayerHooks

    hx = _activations(fn, layer, X)  # (n, ...)
    hb = _activations(fn, layer, B)  # (N, ...)
    shape = hx.shape[1:]
    n, N = hx.shape[0], hb.shape[0]
    hx, hb = hx.reshape(n, -1), hb.reshape(N, -1)
    u = hx.shape[1]
    Z = torch.as_tensor(all_coalitions(u), device=X.device)  # (C, u), binary-code order
    C = Z.shape[0]
    total = n * C * N
    values = torch.empty(total, dtype=torch.float64)
    bar = Progress(total, "xai_fast: exact layer units", enabled=not silent)
    try:
        with torch.no_grad():
            for start in range(0, total, _EXACT_CHUNK):  # chunks of (row, coalition, bg)
                flat = torch.arange(start, min(start + _EXACT_CHUNK, total), device=X.device)
                i, c, b = flat // (C * N), (flat // N) % C, flat % N
                h = torch.where(Z[c], hx[i], hb[b]).reshape(-1, *shape)
                with _LayerHooks((layer,), False, "replace", replacements=[(h,)], model=fn):
                    out = fn(X[i])
                values[start : start + flat.shape[0]] = out.reshape(-1).to("cpu", torch.float64)
                bar.update(flat.shape[0])
    finally:
        bar.close()
    v = values.numpy().reshape(n, C, N) @ np.asarray(weights, dtype=np.float64)  # (n, C)
    return shapley_from_values(v[:, :, None])[:, :, 0]

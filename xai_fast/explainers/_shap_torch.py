"""What shap's PyTorch explainers (``DeepExplainer``, ``GradientExplainer``) share: the
``(model, layer)`` form, list inputs, ranked outputs and shap's output shapes.

shap's conventions, kept here so both front doors follow them:

- ``data`` and ``X`` are one tensor, or a list of tensors for a model with several inputs
  (``model(*X)``); each holds the examples on axis 0.
- The model returns ``(N, K)``; every output is explained unless ``ranked_outputs`` picks the
  ``k`` largest (``"max"``), smallest (``"min"``) or largest in magnitude (``"max_abs"``) per
  example.
- The values of one input are an array ``(N, ..., T)`` with the explained outputs last (``T``
  is ``K``, or ``k`` when ranked); several inputs give a list of such arrays.
"""

from __future__ import annotations

import numpy as np
import torch

from .._runtime.model_errors import USER_ERRORS, reraise

__all__ = [
    "RANK_ORDERS",
    "as_explanation",
    "background",
    "check_rank_order",
    "forward",
    "layer_inputs",
    "model_and_layer",
    "output_ranks",
    "outputs_2d",
    "shap_shaped",
    "torch_inputs",
]

RANK_ORDERS = ("max", "min", "max_abs")


def model_and_layer(model, owner: str):
    """``(model, layer)`` from shap's ``model`` or ``(model, layer)`` argument."""
    layer = None
    if isinstance(model, tuple):
        if len(model) != 2 or not all(isinstance(m, torch.nn.Module) for m in model):
            raise TypeError(
                f"{owner} takes a torch.nn.Module or a pair (model, layer) of modules, the "
                "layer a submodule whose inputs are explained; got a tuple of "
                f"{[type(m).__name__ for m in model]}."
            )
        model, layer = model
    if not callable(model):
        raise TypeError(
            f"{owner} takes a torch.nn.Module (or a pair (model, layer)); got "
            f"{type(model).__name__}. For a TensorFlow model use shap's own {owner}."
        )
    return model, layer


def torch_inputs(X, multi_input: bool, like, name: str) -> list:
    """``X`` as a list of tensors shaped like ``like`` (the background) after axis 0, on
    ``like``'s device; ``multi_input`` says whether a list is expected."""
    if multi_input != isinstance(X, (list, tuple)):
        want = f"a list of {len(like)} tensors" if multi_input else "one tensor"
        raise TypeError(
            f"{name} must be {want}, as the background data was given; got {type(X).__name__}."
        )
    xs = list(X) if multi_input else [X]
    if len(xs) != len(like):
        raise ValueError(
            f"{name} holds {len(xs)} tensors but the model takes {len(like)} (one per tensor of "
            "the background data)."
        )
    out = []
    for k, (x, b) in enumerate(zip(xs, like, strict=True)):
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"{name}[{k}] must be a torch.Tensor (or numpy array); got {type(x).__name__}."
            )
        if x.dim() == 0 or tuple(x.shape[1:]) != tuple(b.shape[1:]):
            raise ValueError(
                f"{name}[{k}] has shape {tuple(x.shape)}; the background has "
                f"{tuple(b.shape)}, so each example must have shape {tuple(b.shape[1:])}."
            )
        if x.shape[0] == 0:
            raise ValueError(f"{name}[{k}] holds no examples (shape {tuple(x.shape)}).")
        if x.is_floating_point() and b.is_floating_point():
            x = x.to(dtype=b.dtype)
        _check_finite(x, f"{name}[{k}]" if multi_input else name)
        out.append(x.detach().to(b.device))
    return out


def _check_finite(x: torch.Tensor, name: str) -> None:
    """Refuse NaN or inf in examples ``x`` ``(N, ...)``: their gradients would be NaN."""
    if not x.is_floating_point():
        return
    bad = ~torch.isfinite(x.reshape(x.shape[0], -1)).all(dim=1)
    if bool(bad.any()):
        rows = torch.nonzero(bad)[:, 0].tolist()
        raise ValueError(
            f"{name} contains NaN or inf in {len(rows)} of {x.shape[0]} examples (first: "
            f"{rows[:5]}); their values would be NaN. Impute or drop those examples."
        )


def background(data, owner: str) -> tuple[list, bool]:
    """shap's ``data``: a tensor or a list of tensors (several model inputs)."""
    multi = isinstance(data, list)
    ds = data if multi else [data]
    if not ds:
        raise ValueError(f"{owner} needs background data: a tensor or a list of tensors.")
    out = []
    for k, d in enumerate(ds):
        if isinstance(d, np.ndarray):
            d = torch.from_numpy(d)
        if not isinstance(d, torch.Tensor):
            raise TypeError(
                f"{owner}'s data must be a torch.Tensor or a list of them (one per model "
                f"input); item {k} is a {type(d).__name__}."
            )
        if d.dim() == 0 or d.shape[0] == 0:
            raise ValueError(
                f"{owner}'s data[{k}] has shape {tuple(d.shape)}; it must hold background "
                "examples on axis 0."
            )
        _check_finite(d, f"{owner}'s data[{k}]" if multi else f"{owner}'s data")
        out.append(d.detach())
    if len({d.shape[0] for d in out}) != 1:
        raise ValueError(
            f"{owner}'s data tensors hold different numbers of examples "
            f"{[d.shape[0] for d in out]}; every model input needs the same background rows."
        )
    return out, multi


def outputs_2d(out, owner: str) -> torch.Tensor:
    """The model's outputs as ``(N, K)``: ``(N,)`` is one output. Non-finite outputs are not
    refused here: an output masked to -inf is fine while it is not explained."""
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the model returned {type(out).__name__}; {owner} needs a tensor.")
    if out.dim() == 1:
        out = out.unsqueeze(1)
    if out.dim() != 2:
        raise ValueError(
            f"the model returns outputs of shape {tuple(out.shape)}; {owner} explains models "
            "with outputs (N, K) or (N,). Wrap the model to flatten or select its outputs."
        )
    return out


def check_rank_order(output_rank_order) -> str:
    if output_rank_order not in RANK_ORDERS:
        raise ValueError(
            f"output_rank_order must be one of {RANK_ORDERS}; got {output_rank_order!r}."
        )
    return output_rank_order


def output_ranks(out: torch.Tensor, ranked_outputs, order: str) -> torch.Tensor:
    """Which output each example explains at each rank, ``(N, T)`` int64.

    All ``K`` outputs in order without ``ranked_outputs`` (or for a single-output model);
    otherwise the ``ranked_outputs`` first of each example's outputs sorted by ``order``.
    """
    N, K = out.shape
    if ranked_outputs is None or K == 1:
        return torch.arange(K, device=out.device).expand(N, K)
    if isinstance(ranked_outputs, bool) or not isinstance(ranked_outputs, (int, np.integer)):
        raise TypeError(f"ranked_outputs must be None or an int >= 1; got {ranked_outputs!r}.")
    if ranked_outputs < 1:
        raise ValueError(f"ranked_outputs must be at least 1; got {ranked_outputs}.")
    key = out.abs() if order == "max_abs" else out
    ranks = torch.sort(key, descending=order != "min", stable=True).indices
    return ranks[:, : int(ranked_outputs)]


def shap_shaped(phis: list, multi_input: bool):
    """shap's return value from ``phis[t][k]`` (rank ``t``, input ``k``, each ``(N, ...)``):
    per input an array ``(N, ..., T)``; a list of them for several inputs."""
    per_input = [np.stack([p[k] for p in phis], axis=-1) for k in range(len(phis[0]))]
    return per_input if multi_input else per_input[0]


def forward(model, xs, on: str):
    """``model(*xs)`` without gradients; the model's own errors name ``on`` (``"X"`` or
    ``"data"``) and say what arrived and how to fix it."""
    try:
        with torch.no_grad():
            return model(*xs)
    except USER_ERRORS as err:
        reraise(err, tuple(xs), f"the model (on {on})")


def layer_inputs(model, layer, data) -> tuple:
    """The tensors ``layer`` gets as positional inputs when ``model`` runs on ``data``."""
    seen = []

    def keep(module, args):
        seen.append(tuple(a.detach() for a in args if isinstance(a, torch.Tensor)))

    handle = layer.register_forward_pre_hook(keep)
    try:
        forward(model, data, "data")
    finally:
        handle.remove()
    if len(seen) != 1 or not seen[0]:
        raise ValueError(
            f"the layer {type(layer).__name__} ran {len(seen)} times on tensors in one forward; "
            "explaining a layer's inputs needs a submodule that runs exactly once."
        )
    return seen[0]


def as_explanation(values, X, base, multi_input: bool):
    """shap's ``explainer(X)``: an Explanation of the values (one per input when several)."""
    from ..explanation import Explanation

    def one(v, x):
        extra = tuple(f"dim{d}" for d in range(2, v.ndim - 1))
        axes = ("row", "feature") + extra + ("output",) if v.ndim > 2 else ("row", "output")
        data = x.detach().cpu().numpy()
        if data.shape != v.shape[:-1]:  # values of a layer's inputs: not the data's shape
            data = None
        return Explanation(v, base_values=base, data=data, axes=axes[: v.ndim])

    if multi_input:
        return [one(v, x) for v, x in zip(values, X, strict=True)]
    return one(values, X[0])

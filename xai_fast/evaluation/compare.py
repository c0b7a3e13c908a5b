"""Run several explainers on the same rows and background, and compare time and accuracy.

Data flow: model -> one output (``target``, :mod:`~xai_fast.evaluation.output_column`) -> each
method's explainer (:mod:`~xai_fast.evaluation.method_runs`), timed around its construction and
call -> ``(n, d)`` attributions per method -> efficiency gaps against ``f(x) - E_background f``
and, when the exact Shapley values could be computed, agreement with them
(:mod:`~xai_fast.evaluation.agreement`) -> a :class:`~xai_fast.evaluation.comparison.Comparison`.
With ``layer=``, the methods are layer attributions ``(n, u)`` to the ``u`` units of a hidden
layer's output, and the reference is the units' exact Shapley values
(:mod:`~xai_fast.evaluation.layer_runs`).

torch is imported only for the gradient methods of a module and for ``layer=``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._validation import check_data, check_feature_names, check_flag, check_int, check_nsamples
from ..background import Background, as_background
from ..models import ModelAdapter
from .agreement import agreement
from .comparison import COLUMNS, Comparison
from .layer_runs import LAYER_ADDITIVE, LAYER_METHODS, LAYER_NOTES, layer_units, run_layer_method
from .method_runs import (
    GRADIENT_SHAP_SAMPLES,
    IG_STEPS,
    LIME_SAMPLES,
    PERMUTATION_EVALS,
    run_method,
)
from .output_column import single_output

__all__ = [
    "DEFAULT_METHODS",
    "LAYER_METHODS",
    "GRADIENT_SHAP_SAMPLES",
    "IG_STEPS",
    "LIME_SAMPLES",
    "METHODS",
    "Comparison",
    "compare",
]

#: Names ``compare`` accepts, in the default order.
METHODS = ("kernel", "kernel_auto", "exact", "permutation", "lime", "ig", "gradient_shap")
DEFAULT_METHODS = ("kernel", "exact", "lime", "ig", "gradient_shap")
#: Methods whose values should add up to ``f(x) - E_background f``.
_ADDITIVE = ("kernel", "kernel_auto", "exact", "permutation", "ig", "gradient_shap")
_GRADIENT = ("ig", "gradient_shap")
_NOTES = {
    "exact": "reference",
    "lime": "surrogate weights in standardised units, not Shapley values",
    "ig": "one baseline (background mean): sums to f(x) - f(mean), not f(x) - E f",
    "gradient_shap": f"{GRADIENT_SHAP_SAMPLES} random draws per row",
}


def compare(
    model,
    X,
    background,
    methods=None,
    *,
    layer=None,
    feature_names=None,
    target=None,
    nsamples="auto",
    seed=0,
    top_k=5,
    max_exact_features=16,
    silent=True,
    warmup=True,
) -> Comparison:
    """Explain the same rows with several methods and compare their cost and accuracy.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps ``(n, d)`` to ``(n,)`` or ``(n, k)``. A module runs in eval mode for every method
        (its mode is restored afterwards).
    X : array-like, DataFrame or tensor, shape (n, d) or (d,)
        Rows to explain, or one row.
    background : array-like, DataFrame or Background, shape (N, d)
        Rows standing for "feature absent" (the baselines of the gradient methods).
    methods : sequence of str, optional
        Any of ``"kernel"`` (:class:`~xai_fast.KernelExplainer`), ``"kernel_auto"`` (the same
        with ``sampler="auto"``), ``"exact"`` (:class:`~xai_fast.ExactExplainer`),
        ``"permutation"`` (:class:`~xai_fast.PermutationExplainer`, ``max_evals=nsamples``, 500
        for ``"auto"``), ``"lime"`` (:class:`~xai_fast.LimeTabularExplainer`), ``"ig"``
        (integrated gradients from the background mean) and ``"gradient_shap"`` (baselines drawn
        from the background). Default: :data:`DEFAULT_METHODS`. With ``layer``: names from
        :data:`LAYER_METHODS`, all of them by default.
    layer : torch.nn.Module, optional, keyword-only
        A submodule of ``model`` (which must be a module) that runs once per forward and
        returns one tensor. The methods then attribute the output to the ``u`` units of the
        layer's output (its size per row, flattened), and ``"exact"`` is their Shapley values
        over the background's activations (``2**u * N`` model rows per row).
    feature_names : list of str, optional, keyword-only
        Defaults to the columns of a DataFrame ``X`` or of the background (without ``layer``).
    target : int, optional, keyword-only
        Output column to explain; required when the model returns several.
    nsamples : int or "auto", keyword-only
        Coalitions per row of the Kernel SHAP methods.
    seed : int, keyword-only
        Seed of every sampling method (Kernel SHAP, LIME, GradientShap).
    top_k : int, default 5, keyword-only
        ``k`` of the top-k overlap (capped at ``d``).
    max_exact_features : int, default 16, keyword-only
        ``"exact"`` runs only up to this many features, or layer units (it needs ``2**d * N``
        model evaluations per row); beyond it the method is skipped with a note.
    silent : bool, default True, keyword-only
        Hide progress bars.
    warmup : bool, default True, keyword-only
        Run each method once on the first row, untimed, before the timed call, so that the
        times do not include loading compiled kernels on first use in the process.

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        For unknown or repeated method names, empty or non-finite ``X``, ``X`` and background
        with different columns, or a multi-output model without a valid ``target``.
    TypeError
        For ``methods`` that is not a sequence, ``silent`` / ``warmup`` that are not bools, a
        ``layer`` that is not a module, or ``layer`` with a model that is not a module.

    Notes
    -----
    Times are wall seconds around each explainer's construction and its call on all rows. The
    efficiency gap of a row is ``|sum_j a_j - (f(x) - E_background f)|``; the reported number
    is the largest over rows (NaN for LIME, whose weights are not meant to add up to anything).
    """
    methods = _check_methods(methods, LAYER_METHODS if layer is not None else METHODS)
    Xc, columns, _ = check_data(X, name="X", allow_1d=True)
    if not np.isfinite(Xc).all():
        raise ValueError("X contains NaN or infinity; impute or drop those rows first.")
    Xc = Xc.astype(np.float64)
    bg = _check_background(background)
    n, d = Xc.shape
    if bg.data.shape[1] != d:
        raise ValueError(
            f"X has {d} features but the background has {bg.data.shape[1]}; pass rows with the "
            "background's columns."
        )
    top_k = check_int(top_k, "top_k", 1)
    max_exact_features = check_int(max_exact_features, "max_exact_features", 0)
    silent = check_flag(silent, "silent")
    warmup = check_flag(warmup, "warmup")
    nsamples = check_nsamples(nsamples)

    adapter = ModelAdapter(model)
    if layer is not None:
        _check_layer(layer, adapter)
    with adapter.evaluating():
        fn = single_output(model, adapter, bg.data, target)
        f = ModelAdapter(fn)
        fx = f(Xc)[:, 0]  # (n,)
        expected = float(bg.weights @ f(bg.data)[:, 0])
        if layer is None:
            width = d
            names = check_feature_names(feature_names, d) or columns or bg.feature_names

            def run(m, rows, quiet):
                return run_method(m, fn, adapter, rows, bg, nsamples, seed, quiet)

        else:
            width = layer_units(fn, adapter, layer, Xc, bg.data)
            names = check_feature_names(feature_names, width)

            def run(m, rows, quiet):
                return run_layer_method(m, fn, adapter, layer, rows, bg, seed, quiet)

        attributions, notes, seconds = {}, {}, {}
        for m in methods:
            what = "features" if layer is None else "units"
            skip = _skip_reason(m, width, max_exact_features, adapter.is_module, nsamples, what)
            if skip:
                notes[m] = skip
                continue
            if warmup:
                run(m, Xc[:1], True)
            start = time.perf_counter()
            values = run(m, Xc, silent)
            seconds[m] = time.perf_counter() - start
            attributions[m] = np.asarray(values, dtype=np.float64).reshape(n, width)
            notes[m] = LAYER_NOTES[m] if layer is not None else _note(m, d, nsamples)

    exact = attributions.get("exact")
    gap_target = fx - expected
    additive = _ADDITIVE if layer is None else LAYER_ADDITIVE
    k = min(top_k, width)
    records = []
    for m in methods:
        a = attributions.get(m)
        rec = dict.fromkeys(COLUMNS[1:-1], math.nan)
        rec = {"method": m, **rec, "note": notes[m]}
        if a is not None:
            rec["seconds"] = seconds[m]
            if m in additive:
                rec["efficiency_gap"] = float(np.max(np.abs(a.sum(1) - gap_target)))
            if exact is not None:
                rec.update(agreement(a, exact, k))
        records.append(rec)
    return Comparison(records, attributions, exact, names, k, expected)


# ---------------------------------------------------------------------------- checks
def _check_methods(methods, valid: tuple) -> tuple:
    if methods is None:
        return DEFAULT_METHODS if valid is METHODS else valid
    if isinstance(methods, str):
        methods = (methods,)
    try:
        methods = tuple(methods)
    except TypeError:
        raise TypeError(
            f"methods must be a sequence of names from {list(valid)}; got {methods!r}."
        ) from None
    if not methods:
        raise ValueError(f"methods is empty; pass at least one of {list(valid)}.")
    unknown = [m for m in methods if not isinstance(m, str) or m not in valid]
    if unknown:
        mode = " with layer=" if valid is LAYER_METHODS else ""
        raise ValueError(f"unknown method(s) {unknown}{mode}; valid methods: {list(valid)}.")
    repeated = sorted({m for m in methods if methods.count(m) > 1})
    if repeated:
        raise ValueError(f"method(s) {repeated} are listed more than once; list each once.")
    return methods


def _check_layer(layer, adapter: ModelAdapter) -> None:
    import torch

    if not isinstance(layer, torch.nn.Module):
        raise TypeError(
            f"layer must be a torch.nn.Module of the model (e.g. model[2]); got "
            f"{type(layer).__name__}."
        )
    if not adapter.is_module:
        raise TypeError(
            "layer= needs the model to be a torch.nn.Module (layer methods hook its submodules); "
            "got a plain callable."
        )


def _check_background(background) -> Background:
    if isinstance(background, Background) or (
        hasattr(background, "weights") and hasattr(background, "data")
    ):
        bg = as_background(background)
    else:
        arr, columns, _ = check_data(background, name="background")
        bg = Background(arr, np.full(arr.shape[0], 1.0 / arr.shape[0]), columns)
    if not np.isfinite(bg.data).all():
        raise ValueError("the background contains NaN or infinity; impute or drop those rows.")
    return Background(bg.data.astype(np.float64), bg.weights, bg.feature_names)


def _note(method: str, d: int, nsamples) -> str:
    """What a reader of the table should know about ``method``'s numbers."""
    if method == "permutation":
        evals = PERMUTATION_EVALS if nsamples == "auto" else nsamples
        pairs = evals // (2 * d + 1)
        return (
            f"max_evals={evals} per row: {pairs} antithetic pairs of orders (more in rows where "
            "some features do not vary)"
        )
    if method not in ("kernel", "kernel_auto"):
        return _NOTES.get(method, "")
    if d < 2:
        return "one feature: its value is f(x) - E f"
    if method == "kernel":
        from ..sampling.plan import plan_design as plan
    else:
        from ..sampling.leverage_plan import plan_leverage as plan
    p = plan(d, nsamples)
    return f"{p.nsamples} coalitions per row" + (" (all: exact)" if p.fully_enumerated else "")


def _skip_reason(
    method: str, d: int, max_exact_features: int, is_module: bool, nsamples, what: str
) -> str:
    """Why ``method`` cannot run here (empty when it can); ``d`` features or layer units
    (``what``)."""
    if method == "exact" and d > max_exact_features:
        return (
            f"skipped: {d} {what} > max_exact_features={max_exact_features} (exact needs "
            f"2**{d} coalitions per row)"
        )
    evals = PERMUTATION_EVALS if nsamples == "auto" else nsamples
    if method == "permutation" and evals < 2 * d + 1:
        return (
            f"skipped: max_evals={evals} is below 2 * {d} features + 1 = {2 * d + 1}, the "
            f"least one pair of orders needs; pass nsamples >= {2 * d + 1}"
        )
    if method in _GRADIENT and not is_module:
        return "skipped: gradients need a torch.nn.Module, not a plain callable"
    return ""

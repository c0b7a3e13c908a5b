"""Run several explainers on the same rows and background, and compare time and accuracy.

Data flow: model -> one output (``target``) -> each method's explainer, timed around its
construction and call -> ``(n, d)`` attributions per method -> efficiency gaps against
``f(x) - E_background f`` and, when the exact Shapley values could be computed, agreement
with them (relative error, rank correlation, top-k overlap), vectorised over rows.

pandas and matplotlib are imported by :meth:`Comparison.to_pandas` and
:meth:`Comparison.plot` only; torch only for the gradient methods of a module.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import numpy as np

from ._validation import check_data, check_feature_names, check_nsamples
from .background import Background, as_background
from .models import ModelAdapter

__all__ = ["Comparison", "compare", "METHODS"]

#: Names ``compare`` accepts, in the default order.
METHODS = ("kernel", "kernel_auto", "exact", "lime", "ig", "gradient_shap")
DEFAULT_METHODS = ("kernel", "exact", "lime", "ig", "gradient_shap")
#: Points on the integrated-gradients path.
IG_STEPS = 50
#: Random (baseline, path point) draws per row for GradientShap.
GRADIENT_SHAP_SAMPLES = 100
#: Neighbourhood size per row for LIME.
LIME_SAMPLES = 5000
#: Methods whose values should add up to ``f(x) - E_background f``.
_ADDITIVE = ("kernel", "kernel_auto", "exact", "ig", "gradient_shap")
_GRADIENT = ("ig", "gradient_shap")
_NOTES = {
    "exact": "reference",
    "lime": "surrogate weights in standardised units, not Shapley values",
    "ig": "one baseline (background mean): sums to f(x) - f(mean), not f(x) - E f",
    "gradient_shap": f"{GRADIENT_SHAP_SAMPLES} random draws per row",
}
_COLUMNS = ("method", "seconds", "efficiency_gap", "rel_error", "rank_corr", "topk_overlap", "note")


@dataclass
class Comparison:
    """What :func:`compare` measured.

    Attributes
    ----------
    records : list of dict
        One per requested method, in the order asked, with keys ``method``, ``seconds``,
        ``efficiency_gap``, ``rel_error``, ``rank_corr``, ``topk_overlap`` and ``note``. Numbers
        that do not apply (a skipped method, agreement without exact values, LIME's efficiency
        gap) are NaN; ``note`` says why.
    attributions : dict[str, ndarray of shape (n, d)]
        Values of every method that ran.
    exact : ndarray of shape (n, d) or None
        Exact Shapley values, when ``"exact"`` ran.
    feature_names : list of str or None
    top_k : int
        ``k`` of the top-k overlap.
    expected_value : float
        ``E_background f`` of the explained output.
    """

    records: list
    attributions: dict
    exact: np.ndarray | None = None
    feature_names: list | None = None
    top_k: int = 5
    expected_value: float = math.nan

    def to_pandas(self):
        """The records as a ``pandas.DataFrame``, one row per method.

        Returns
        -------
        pandas.DataFrame
            Columns ``method``, ``seconds``, ``efficiency_gap``, ``rel_error``, ``rank_corr``,
            ``topk_overlap``, ``note``.
        """
        import pandas as pd

        return pd.DataFrame(self.records, columns=list(_COLUMNS))

    def to_markdown(self) -> str:
        """The records as a Markdown table (numbers to three significant digits, ``n/a`` where
        a number does not apply)."""
        header = (
            "method",
            "seconds",
            "efficiency gap",
            "rel. error vs exact",
            "rank corr. vs exact",
            f"top-{self.top_k} overlap",
            "note",
        )
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        for r in self.records:
            cells = [f"`{r['method']}`"]
            cells += [_fmt(r[key]) for key in _COLUMNS[1:-1]]
            cells.append(str(r["note"]).replace("|", "\\|"))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Comparison(methods={[r['method'] for r in self.records]})"

    def plot(self, show=False):
        """Two panels: wall time per method (log scale) and relative error against the exact
        values per method (log scale; exact itself, at 0, is marked as the reference).

        Parameters
        ----------
        show : bool
            Call ``plt.show()``.

        Returns
        -------
        fig : matplotlib.figure.Figure
        axes : ndarray of 2 matplotlib.axes.Axes
        """
        from .plots._common import BLUE, GREY, fmt, pyplot

        plt = pyplot()
        names = [r["method"] for r in self.records]
        y = np.arange(len(names))[::-1]  # first method at the top
        fig, axes = plt.subplots(
            1, 2, figsize=(11, 1.2 + 0.45 * len(names)), sharey=True, squeeze=False
        )
        axes = axes[0]
        panels = (
            ("seconds", "wall time (s)"),
            ("rel_error", "relative L2 error vs exact"),
        )
        for ax, (key, label) in zip(axes, panels, strict=True):
            vals = np.array([r[key] for r in self.records], dtype=float)
            positive = vals[np.isfinite(vals) & (vals > 0)]
            floor = positive.min() / 10 if positive.size else 1e-16
            shown = np.where(np.isfinite(vals), np.maximum(vals, floor), np.nan)
            ax.barh(y, shown, height=0.6, color=BLUE, left=floor / 10)
            ax.set_xscale("log")
            for yi, m, v, s in zip(y, names, vals, shown, strict=True):
                if m not in self.attributions:
                    text = "skipped"
                else:
                    text = "n/a" if not np.isfinite(v) else ("0 (reference)" if v == 0 else fmt(v))
                at = s if np.isfinite(s) else floor
                ax.text(at, yi, " " + text, va="center", ha="left", fontsize=9, color=GREY)
            ax.set_xlabel(label)
            ax.set_xlim(floor / 10, (np.nanmax(shown) if np.isfinite(shown).any() else 1) * 30)
            if key == "rel_error" and self.exact is None:
                ax.text(
                    0.5, 0.5, "exact values not computed", transform=ax.transAxes,
                    ha="center", va="center", color=GREY,
                )  # fmt: skip
        axes[0].set_yticks(y, names)
        axes[0].set_ylim(-0.6, len(names) - 0.4)
        fig.tight_layout()
        if show:
            plt.show()
        return fig, axes


def compare(
    model,
    X,
    background,
    methods=DEFAULT_METHODS,
    *,
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
    methods : sequence of str, default ("kernel", "exact", "lime", "ig", "gradient_shap")
        Any of ``"kernel"`` (:class:`~xai_fast.KernelExplainer`), ``"kernel_auto"`` (the same
        with ``sampler="auto"``), ``"exact"`` (:class:`~xai_fast.ExactExplainer`), ``"lime"``
        (:class:`~xai_fast.LimeTabularExplainer`), ``"ig"`` (integrated gradients from the
        background mean) and ``"gradient_shap"`` (baselines drawn from the background).
    feature_names : list of str, optional, keyword-only
        Defaults to the columns of a DataFrame ``X`` or of the background.
    target : int, optional, keyword-only
        Output column to explain; required when the model returns several.
    nsamples : int or "auto", keyword-only
        Coalitions per row of the Kernel SHAP methods.
    seed : int, keyword-only
        Seed of every sampling method (Kernel SHAP, LIME, GradientShap).
    top_k : int, default 5, keyword-only
        ``k`` of the top-k overlap (capped at ``d``).
    max_exact_features : int, default 16, keyword-only
        ``"exact"`` runs only up to this many features (it needs ``2**d * N`` model evaluations
        per row); beyond it the method is skipped with a note.
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

    Notes
    -----
    Times are wall seconds around each explainer's construction and its call on all rows. The
    efficiency gap of a row is ``|sum_j a_j - (f(x) - E_background f)|``; the reported number
    is the largest over rows (NaN for LIME, whose weights are not meant to add up to anything).
    """
    methods = _check_methods(methods)
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
    names = check_feature_names(feature_names, d) or columns or bg.feature_names
    top_k = _check_int(top_k, "top_k", 1)
    max_exact_features = _check_int(max_exact_features, "max_exact_features", 0)
    nsamples = check_nsamples(nsamples)

    adapter = ModelAdapter(model)
    with adapter.evaluating():
        fn = _single_output(model, adapter, bg.data, target)
        f = ModelAdapter(fn)
        fx = f(Xc)[:, 0]  # (n,)
        expected = float(bg.weights @ f(bg.data)[:, 0])
        attributions, notes, seconds = {}, {}, {}
        for m in methods:
            skip = _skip_reason(m, d, max_exact_features, adapter.is_module)
            if skip:
                notes[m] = skip
                continue
            if warmup:
                _run(m, fn, adapter, Xc[:1], bg, nsamples, seed, True)
            start = time.perf_counter()
            values = _run(m, fn, adapter, Xc, bg, nsamples, seed, silent)
            seconds[m] = time.perf_counter() - start
            attributions[m] = np.asarray(values, dtype=np.float64).reshape(n, d)
            notes[m] = _note(m, d, nsamples)

    exact = attributions.get("exact")
    gap_target = fx - expected
    k = min(top_k, d)
    records = []
    for m in methods:
        a = attributions.get(m)
        rec = dict.fromkeys(_COLUMNS[1:-1], math.nan)
        rec = {"method": m, **rec, "note": notes[m]}
        if a is not None:
            rec["seconds"] = seconds[m]
            if m in _ADDITIVE:
                rec["efficiency_gap"] = float(np.max(np.abs(a.sum(1) - gap_target)))
            if exact is not None:
                rec.update(_agreement(a, exact, k))
        records.append(rec)
    return Comparison(records, attributions, exact, names, k, expected)


# ---------------------------------------------------------------------------- checks
def _check_methods(methods) -> tuple:
    if isinstance(methods, str):
        methods = (methods,)
    try:
        methods = tuple(methods)
    except TypeError:
        raise TypeError(
            f"methods must be a sequence of names from {list(METHODS)}; got {methods!r}."
        ) from None
    if not methods:
        raise ValueError(f"methods is empty; pass at least one of {list(METHODS)}.")
    unknown = [m for m in methods if not isinstance(m, str) or m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; valid methods: {list(METHODS)}.")
    repeated = sorted({m for m in methods if methods.count(m) > 1})
    if repeated:
        raise ValueError(f"method(s) {repeated} are listed more than once; list each once.")
    return methods


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


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum:
        return int(value)
    raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}.")


def _note(method: str, d: int, nsamples) -> str:
    """What a reader of the table should know about ``method``'s numbers."""
    if method not in ("kernel", "kernel_auto"):
        return _NOTES.get(method, "")
    if d < 2:
        return "one feature: its value is f(x) - E f"
    if method == "kernel":
        from .sampling.plan import plan_design as plan
    else:
        from .sampling.leverage_plan import plan_leverage as plan
    p = plan(d, nsamples)
    return f"{p.nsamples} coalitions per row" + (" (all: exact)" if p.fully_enumerated else "")


def _skip_reason(method: str, d: int, max_exact_features: int, is_module: bool) -> str:
    """Why ``method`` cannot run here (empty when it can)."""
    if method == "exact" and d > max_exact_features:
        return (
            f"skipped: {d} features > max_exact_features={max_exact_features} (exact needs "
            f"2**{d} coalitions per row)"
        )
    if method in _GRADIENT and not is_module:
        return "skipped: gradients need a torch.nn.Module, not a plain callable"
    return ""


# ---------------------------------------------------------------------------- the model
def _single_output(model, adapter: ModelAdapter, B: np.ndarray, target):
    """``model`` restricted to the output ``target``: maps ``(n, d)`` to ``(n,)``."""
    dtype = adapter.input_dtype or np.float64
    out = adapter.raw_call(np.ascontiguousarray(B[:1], dtype=dtype))
    k = 1 if out.ndim == 1 else out.shape[1]
    if target is None:
        if k > 1:
            raise ValueError(
                f"the model returns {k} outputs per row; pass target=<output index> in "
                f"[0, {k}) to choose the one to explain."
            )
        target = 0
    elif isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise ValueError(f"target must be an int output index or None; got {target!r}.")
    elif not -k <= target < k:
        raise ValueError(f"target {target} is out of range for a model with {k} output(s).")
    if out.ndim == 1:
        return model
    if adapter.is_module:
        column = _column_module()(model, int(target) % k)
        return column.train(model.training)  # so eval/train round trips keep the model's mode
    return _Column(model, int(target) % k)


class _Column:
    """A callable's output column ``t``, ``(n, d) -> (n,)``."""

    def __init__(self, model, t: int):
        self.model = ModelAdapter(model, check_finite=False)
        self.t = t

    def __call__(self, X):
        return self.model.raw_call(X, check=False)[:, self.t]


@functools.cache
def _column_module():
    """A ``torch.nn.Module`` class selecting one output column (torch imported on first use)."""
    import torch

    class Column(torch.nn.Module):
        def __init__(self, inner, t: int):
            super().__init__()
            self.inner = inner
            self.t = t

        def forward(self, x):
            return self.inner(x).reshape(x.shape[0], -1)[:, self.t]

    return Column


# ---------------------------------------------------------------------------- the methods
def _run(method, fn, adapter, X, bg, nsamples, seed, silent) -> np.ndarray:
    """Attributions ``(n, d)`` of ``fn`` at ``X`` by ``method``."""
    from .explainers import ExactExplainer, KernelExplainer, LimeTabularExplainer
    from .explainers.exact import DEFAULT_MAX_EVALS

    if method in ("kernel", "kernel_auto"):
        sampler = "auto" if method == "kernel_auto" else "shap"
        explainer = KernelExplainer(fn, bg, seed=seed, sampler=sampler)
        return explainer.shap_values(X, nsamples=nsamples, l1_reg=False, silent=silent)
    if method == "exact":
        # max_exact_features is the limit that counts; allow the evaluations it implies
        need = 2 ** X.shape[1] * bg.data.shape[0]
        explainer = ExactExplainer(fn, bg, max_evals=max(DEFAULT_MAX_EVALS, need))
        return explainer.shap_values(X, silent=silent)
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
    """Integrated gradients or GradientShap of a module, as float64 ``(n, d)``."""
    import torch

    from .explainers.gradient import GradientShap, IntegratedGradients

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


# ---------------------------------------------------------------------------- metrics
def _agreement(a: np.ndarray, exact: np.ndarray, k: int) -> dict:
    """Mean over rows of the relative L2 error, the Spearman correlation of ``|values|`` and
    the top-``k`` overlap of ``a`` ``(n, d)`` with ``exact`` ``(n, d)``.

    Rows where a number is undefined (exact values all 0, or all ``|values|`` tied) are left
    out of its mean.
    """
    from scipy.stats import rankdata

    norm = np.linalg.norm(exact, axis=1)
    err = np.linalg.norm(a - exact, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(norm > 0, err / np.where(norm > 0, norm, 1.0), np.nan)
        # Spearman = Pearson correlation of the (average) ranks, per row
        ra = rankdata(np.abs(a), axis=1)
        re = rankdata(np.abs(exact), axis=1)
        ra -= ra.mean(1, keepdims=True)
        re -= re.mean(1, keepdims=True)
        denom = np.sqrt((ra * ra).sum(1) * (re * re).sum(1))
        rho = np.where(denom > 0, (ra * re).sum(1) / np.where(denom > 0, denom, 1.0), np.nan)
    overlap = (_top_mask(a, k) & _top_mask(exact, k)).sum(1) / k
    return {
        "rel_error": _nanmean(rel),
        "rank_corr": _nanmean(rho),
        "topk_overlap": float(overlap.mean()),
    }


def _top_mask(v: np.ndarray, k: int) -> np.ndarray:
    """``(n, d)`` mask of each row's ``k`` largest ``|values|`` (earlier features win ties)."""
    top = np.argsort(-np.abs(v), axis=1, kind="stable")[:, :k]
    mask = np.zeros(v.shape, dtype=bool)
    np.put_along_axis(mask, top, True, axis=1)
    return mask


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.3g}"

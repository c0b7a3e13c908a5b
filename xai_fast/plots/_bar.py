"""Bar chart of feature importance, for one explanation or several cohorts."""

from __future__ import annotations

import numpy as np

from .._validation import DimensionError
from ..explanation import Cohorts, Explanation
from ._common import (
    BLUE,
    GREY,
    RED,
    ROW_INCHES,
    as_explanation,
    check_axes,
    check_max_display,
    check_not_empty,
    feature_labels,
    figure_axes,
    figure_width,
    finish,
    fmt,
    shared_doc,
    tidy,
    top_and_rest,
    wrap,
)

__all__ = ["bar"]


@shared_doc
def bar(exp, max_display=10, show=False, *, clustering=None, ax=None):
    """Horizontal bar chart of feature importance.

    Parameters
    ----------
    exp : Explanation, Cohorts or dict of {str: Explanation}
        Axes ``("row", "feature")``: each bar is a feature's mean ``|value|`` over the rows.
        Axes ``("feature",)`` (one row, or an already reduced explanation such as
        ``exp.abs.mean(0)``): each bar is the value itself, red when positive, blue when
        negative. Several cohorts (a :class:`~xai_fast.Cohorts` or a dict, as in shap) give
        one bar per cohort and feature, with a legend.
    max_display : int
        Most features drawn; beyond it the least important are summed into one
        ``"Sum of N other features"``.
    %(show)s
    clustering : ndarray of shape (M - 1, 4), optional, keyword-only
        A scipy linkage matrix over the features (``shap.utils.hclust``): the drawn features
        are put in its leaf order, so that similar features are adjacent.
    %(ax)s

    %(returns)s

    Raises
    ------
    TypeError
        For anything but an explanation, cohorts or a dict of explanations, or a clustering
        that is not a linkage matrix.
    DimensionError
        For cohorts with different numbers of features.
    ValueError
        For an empty explanation, one with an output axis (pick one with ``exp[..., k]``) or
        interaction values.
    """
    cohorts = _cohorts(exp)
    max_display = check_max_display(max_display)
    per_row = cohorts[0][1].axes == ("row", "feature")
    table = np.stack([_importance(e, per_row) for _, e in cohorts])  # (c, M)
    M = table.shape[1]
    labels = feature_labels(cohorts[0][1], M)
    top, rest = top_and_rest(np.abs(table).mean(0), max_display)
    if clustering is not None:
        top = _cluster_order(clustering, M, top)
    shown = np.concatenate([table[:, top], table[:, rest].sum(1, keepdims=True)], axis=1)
    shown = shown if len(rest) else shown[:, :-1]
    names = [labels[j] for j in top] + ([f"Sum of {len(rest)} other features"] if len(rest) else [])
    names = [wrap(s) for s in names]

    size = (figure_width(names), ROW_INCHES * len(names) * max(1, len(cohorts) / 2) + 1.4)
    fig, ax = figure_axes(ax, size)
    y = np.arange(shown.shape[1])[::-1]  # the most important at the top
    height = 0.7 / len(cohorts)
    lo, hi = min(0.0, shown.min()), max(0.0, shown.max())
    span = (hi - lo) or 1.0
    for c, (name, _) in enumerate(cohorts):
        yc = y + (len(cohorts) - 1) / 2 * height - c * height
        v = shown[c]
        if len(cohorts) == 1:
            colors = [BLUE] * len(v) if per_row else [RED if x >= 0 else BLUE for x in v]
            ax.barh(yc, v, height=height, color=colors)
        else:
            ax.barh(yc, v, height=height, label=name)
        for yi, x in zip(yc, v, strict=True):  # the value at the end of each bar
            right = x >= 0
            ax.text(
                x + (0.01 if right else -0.01) * span,
                yi,
                fmt(x, signed=not per_row),
                va="center",
                ha="left" if right else "right",
                fontsize=9 if len(cohorts) == 1 else 7,
                color=RED if (right and not per_row) else BLUE,
            )
    if len(cohorts) > 1:
        ax.legend(frameon=False, loc="lower right")
    ax.set_xlim(lo - (0.18 * span if lo < 0 else 0), hi + (0.18 * span if hi > 0 else 0))
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_yticks(y, names)
    ax.axvline(0, color=GREY, lw=0.8)
    ax.set_xlabel("mean(|value|)" if per_row else "value")
    tidy(ax)
    finish(show)
    return fig, ax


def _cohorts(exp) -> list:
    """``[(name, Explanation)]`` of one explanation or of each cohort, checked."""
    if isinstance(exp, Cohorts):
        exp = exp.cohorts
    if isinstance(exp, dict):
        items = list(exp.items())
    elif isinstance(exp, Explanation) or type(exp).__module__.startswith("shap"):
        items = [("", exp)]
    else:
        items = None
    if not items or any(
        not isinstance(e, Explanation) and not type(e).__module__.startswith("shap")
        for _, e in items
    ):
        raise TypeError(
            "The shap_values argument must be an Explanation object, Cohorts object, or "
            f"dictionary of Explanation objects! Got {type(exp).__name__}."
        )
    out = []
    for name, e in items:
        e = as_explanation(e, "bar")
        check_axes(e, "bar", (("row", "feature"), ("feature",)), "rows and features, or features")
        check_not_empty(e)
        out.append((str(name), e))
    if len({e.axes for _, e in out}) > 1 or len({e.shape[-1] for _, e in out}) > 1:
        raise DimensionError(
            "When passing several Explanation objects, they must all have the same number of "
            f"feature columns! Got shapes {[e.shape for _, e in out]}."
        )
    if len(out) > 1:  # shap's legend: the name and the number of rows of each cohort
        out = [(f"{n} [{e.shape[0]}]" if e.axes[0] == "row" else n, e) for n, e in out]
    return out


def _importance(exp, per_row: bool) -> np.ndarray:
    """Mean ``|value|`` per feature over rows, or one row's values: ``(M,)``."""
    return np.abs(exp.values).mean(0) if per_row else np.asarray(exp.values, dtype=float)


def _cluster_order(clustering, M: int, top) -> np.ndarray:
    """``top`` in the leaf order of the linkage matrix ``clustering``."""
    Z = np.asarray(clustering) if not isinstance(clustering, bool) else None
    if Z is None or Z.ndim != 2 or Z.shape != (M - 1, 4):
        raise TypeError(
            "The clustering provided does not seem to be a partition tree (a scipy linkage "
            f"matrix of shape ({M - 1}, 4) for {M} features, as shap.utils.hclust returns); got "
            f"{getattr(Z, 'shape', type(clustering).__name__)}."
        )
    from scipy.cluster.hierarchy import leaves_list

    leaves = leaves_list(Z.astype(np.float64))  # (M,)
    rank = np.empty(M, dtype=np.int64)
    rank[leaves] = np.arange(M)
    return np.asarray(top)[np.argsort(rank[top], kind="stable")]

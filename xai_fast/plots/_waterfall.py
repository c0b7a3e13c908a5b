"""Waterfall plot: how one row's output builds up from the base value."""

from __future__ import annotations

import numpy as np

from ._common import (
    BLUE,
    GREY,
    RED,
    ROW_INCHES,
    as_explanation,
    check_axes,
    check_max_display,
    feature_labels,
    figure_axes,
    figure_width,
    finish,
    fmt,
    fmt_data,
    shared_doc,
    tidy,
    top_and_rest,
    wrap,
)

__all__ = ["waterfall"]


@shared_doc
def waterfall(exp_row, max_display=10, show=False, *, ax=None):
    """How one row's output builds up from the base value, one feature at a time.

    Bars start at the base value ``E[f(X)]`` at the bottom and end at the output
    ``f(x) = base + sum(values)`` at the top; the features with the largest ``|value|`` are at
    the top, red when they raise the output and blue when they lower it.

    Parameters
    ----------
    exp_row : Explanation
        One row: axes ``("feature",)`` (e.g. ``exp[0]``), with a scalar base value. Labels read
        ``name = data value`` when the row's data is known.
    max_display : int
        Most bars drawn; the other features are summed into one bar ``"N other features"``.
    %(show)s
    %(ax)s

    %(returns)s
    """
    exp = as_explanation(exp_row, "waterfall")
    if "row" in exp.axes and "output" not in exp.axes:
        raise ValueError(
            "waterfall plot can currently only plot a single explanation: it needs one row "
            f"(pass exp[i]); got axes {exp.axes} of shape {exp.shape}."
        )
    check_axes(exp, "waterfall", (("feature",),), "one row (pass exp[i])")
    max_display = check_max_display(max_display)
    if exp.base_values is None or np.size(exp.base_values) != 1:
        raise ValueError("waterfall needs one base value for the row; pass exp[i].")
    values = np.asarray(exp.values, dtype=float)
    base = float(np.asarray(exp.base_values).reshape(()))
    labels = [wrap(s) for s in feature_labels(exp, len(values))]
    data = exp.data if exp.data is not None and exp.data.shape == values.shape else None
    if data is not None:
        labels = [f"{s} = {fmt_data(x)}" for s, x in zip(labels, data, strict=True)]
    top, rest = top_and_rest(np.abs(values), max_display)
    shown = list(values[top]) + ([values[rest].sum()] if len(rest) else [])
    names = [labels[j] for j in top] + ([f"{len(rest)} other features"] if len(rest) else [])
    shown = np.asarray(shown, dtype=float)
    fx = base + values.sum()

    # Bottom to top: the aggregated rest first, then features in increasing importance.
    n = len(shown)
    rows = names + [""]  # a row's height more for the legend
    fig, ax = figure_axes(ax, (figure_width(rows), ROW_INCHES * len(rows) + 1.4))
    y = np.arange(n)[::-1]
    starts = base + np.concatenate([[0.0], np.cumsum(shown[::-1])[:-1]])[::-1]
    colors = [RED if v >= 0 else BLUE for v in shown]
    ax.barh(y, shown, left=starts, height=0.7, color=colors)
    ends = starts + shown
    for i in range(n - 1):  # connectors: each bar starts where the one below ends
        ax.plot([starts[i]] * 2, [y[i] - 0.35, y[i + 1] + 0.35], color=GREY, lw=0.8)
    points = np.concatenate([[base, fx], starts, ends])
    lo, hi = points.min(), points.max()
    span = (hi - lo) or 1.0
    for yi, s, v in zip(y, starts, shown, strict=True):
        right = v >= 0
        ax.text(
            s + v + (0.01 if right else -0.01) * span,
            yi,
            fmt(v, signed=True),
            va="center",
            ha="left" if right else "right",
            fontsize=9,
            color=RED if right else BLUE,
        )
    base_line = ax.axvline(base, color=GREY, ls="--", lw=1, zorder=0)
    out_line = ax.axvline(fx, color="black", ls=":", lw=1, zorder=0)
    ax.set_xlim(lo - 0.2 * span, hi + 0.2 * span)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks(y, names)
    ax.set_xlabel("model output")
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    outside = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    (fig if outside else ax).legend(
        [out_line, base_line],
        [f"f(x) = {fmt(fx)}", f"E[f(X)] = {fmt(base)}"],
        loc="outside upper center" if outside else "lower right",
        ncols=2,
        frameon=False,
    )
    tidy(ax)
    finish(show)
    return fig, ax

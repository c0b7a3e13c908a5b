"""Plots of tabular explanations: bar, waterfall, beeswarm and scatter."""

from __future__ import annotations

import numpy as np

from ._common import (
    BLUE,
    GREY,
    RED,
    as_explanation,
    check_axes,
    check_max_display,
    diverging_cmap,
    feature_labels,
    figure_width,
    finish,
    fmt,
    fmt_data,
    pyplot,
    top_and_rest,
    wrap,
)

__all__ = ["bar", "beeswarm", "scatter", "waterfall"]

ROW_INCHES = 0.4  # height of one feature's row


def _tidy(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _rows_figure(ax_labels):
    """A figure with one row per label, wide enough for the longest."""
    plt = pyplot()
    size = (figure_width(ax_labels), ROW_INCHES * len(ax_labels) + 1.4)
    return plt.subplots(figsize=size, layout="constrained")


def bar(exp, max_display=10, show=False):
    """Horizontal bar chart of feature importance.

    Parameters
    ----------
    exp : Explanation
        Axes ``("row", "feature")``: each bar is a feature's mean ``|value|`` over the rows.
        Axes ``("feature",)`` (one row, or an already reduced explanation such as
        ``exp.abs.mean(0)``): each bar is the value itself, red when positive, blue when
        negative.
    max_display : int
        Most bars drawn; beyond it the least important features are summed into one bar
        ``"Sum of N other features"``.
    show : bool
        Call ``plt.show()``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For an explanation with an output axis (pick one with ``exp[..., k]``) or interaction
        values.
    """
    exp = as_explanation(exp, "bar")
    check_axes(exp, "bar", (("row", "feature"), ("feature",)), "rows and features, or features")
    max_display = check_max_display(max_display)
    per_row = exp.axes == ("row", "feature")
    values = np.abs(exp.values).mean(0) if per_row else np.asarray(exp.values, dtype=float)
    labels = feature_labels(exp, len(values))
    top, rest = top_and_rest(np.abs(values), max_display)
    shown = list(values[top]) + ([values[rest].sum()] if len(rest) else [])
    names = [labels[j] for j in top] + ([f"Sum of {len(rest)} other features"] if len(rest) else [])
    names = [wrap(s) for s in names]
    shown = np.asarray(shown, dtype=float)

    fig, ax = _rows_figure(names)
    y = np.arange(len(shown))[::-1]  # the most important at the top
    colors = [BLUE] * len(shown) if per_row else [RED if v >= 0 else BLUE for v in shown]
    ax.barh(y, shown, height=0.7, color=colors)
    lo, hi = min(0.0, shown.min()), max(0.0, shown.max())
    span = (hi - lo) or 1.0
    for yi, v in zip(y, shown, strict=True):  # the value at the end of each bar
        right = v >= 0
        ax.text(
            v + (0.01 if right else -0.01) * span,
            yi,
            fmt(v, signed=not per_row),
            va="center",
            ha="left" if right else "right",
            fontsize=9,
            color=RED if (right and not per_row) else BLUE,
        )
    ax.set_xlim(lo - (0.18 * span if lo < 0 else 0), hi + (0.18 * span if hi > 0 else 0))
    ax.set_ylim(-0.6, len(shown) - 0.4)
    ax.set_yticks(y, names)
    ax.axvline(0, color=GREY, lw=0.8)
    ax.set_xlabel("mean(|value|)" if per_row else "value")
    _tidy(ax)
    finish(show)
    return fig, ax


def waterfall(exp_row, max_display=10, show=False):
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
    show : bool
        Call ``plt.show()``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
    """
    exp = as_explanation(exp_row, "waterfall")
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
    fig, ax = _rows_figure(names + [""])  # a row's height more for the legend
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
    fig.legend(
        [out_line, base_line],
        [f"f(x) = {fmt(fx)}", f"E[f(X)] = {fmt(base)}"],
        loc="outside upper center",
        ncols=2,
        frameon=False,
    )
    _tidy(ax)
    finish(show)
    return fig, ax


def _swarm_offsets(x, half_width=0.4, nbins=100, spacing=0.04):
    """Vertical offsets that stack points with close values: 0, +1, -1, +2, ... layers within
    each of ``nbins`` bins of ``x``, scaled to stay within ``half_width``."""
    n = len(x)
    finite = np.isfinite(x)
    span = np.ptp(x[finite]) if finite.any() else 0.0
    q = np.zeros(n, dtype=np.int64)
    if span > 0:
        q[finite] = np.round(nbins * (x[finite] - x[finite].min()) / span)
    order = np.argsort(q, kind="stable")
    sq = q[order]
    first = np.searchsorted(sq, sq, side="left")  # where each point's bin starts
    layer = np.empty(n, dtype=np.int64)
    layer[order] = np.arange(n) - first
    off = ((layer + 1) // 2) * np.where(layer % 2 == 1, 1.0, -1.0)
    top = np.abs(off).max() if n else 0.0
    return off * (min(spacing, half_width / top) if top else 0.0)


def _unit_colors(c):
    """Feature values scaled to [0, 1] between their 5th and 95th percentiles (min and max when
    those coincide); non-numeric or NaN values give NaN."""
    try:
        c = np.asarray(c, dtype=float)
    except (TypeError, ValueError):
        return np.full(len(c), np.nan)
    finite = np.isfinite(c)
    if not finite.any():
        return np.full(len(c), np.nan)
    lo, hi = np.percentile(c[finite], [5, 95])
    if hi <= lo:
        lo, hi = c[finite].min(), c[finite].max()
    if hi <= lo:
        return np.where(finite, 0.5, np.nan)
    return np.clip((c - lo) / (hi - lo), 0, 1)


def beeswarm(exp, max_display=10, show=False):
    """One row of dots per feature: each dot is one explained row's value, coloured by the
    feature's data value (blue low, red high; grey when unknown).

    Parameters
    ----------
    exp : Explanation
        Axes ``("row", "feature")``. Without ``data`` every dot is grey and there is no colour
        bar.
    max_display : int
        Most rows of dots, by mean ``|value|``; the other features are summed per explained
        row into one grey row ``"Sum of N other features"``.
    show : bool
        Call ``plt.show()``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        One ``PathCollection`` per drawn feature, top to bottom. The colour bar is ``fig.axes[1]``.
    """
    exp = as_explanation(exp, "beeswarm")
    check_axes(exp, "beeswarm", (("row", "feature"),), "several rows (axes ('row', 'feature'))")
    max_display = check_max_display(max_display)
    values = np.asarray(exp.values, dtype=float)
    n, M = values.shape
    data = exp.data if exp.data is not None and exp.data.shape == values.shape else None
    labels = feature_labels(exp, M)
    top, rest = top_and_rest(np.abs(values).mean(0), max_display)
    rows = [(wrap(labels[j]), values[:, j], None if data is None else data[:, j]) for j in top]
    if len(rest):
        rows.append((f"Sum of {len(rest)} other features", values[:, rest].sum(1), None))

    plt = pyplot()
    cmap = diverging_cmap()
    fig, ax = _rows_figure([r[0] for r in rows])
    y = np.arange(len(rows))[::-1]
    ax.axvline(0, color=GREY, lw=0.8, zorder=0)
    for yi, (_, x, c) in zip(y, rows, strict=True):
        unit = np.full(n, np.nan) if c is None else _unit_colors(c)
        colors = np.where(np.isnan(unit)[:, None], (0.6, 0.6, 0.6, 1.0), cmap(np.nan_to_num(unit)))
        ax.scatter(
            x,
            yi + _swarm_offsets(x),
            s=14,
            color=colors,
            linewidths=0,
            alpha=0.85,
            rasterized=n > 500,
        )
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(y, [r[0] for r in rows])
    ax.set_xlabel("value (impact on model output)")
    _tidy(ax)
    if data is not None:
        mappable = plt.cm.ScalarMappable(norm=plt.Normalize(0, 1), cmap=cmap)
        cb = fig.colorbar(mappable, ax=ax, ticks=[0, 1], aspect=40, pad=0.02)
        cb.set_ticklabels(["Low", "High"])
        cb.set_label("Feature value", labelpad=-8)
        cb.outline.set_visible(False)
    finish(show)
    return fig, ax


def scatter(exp, feature, color=None, show=False):
    """Dependence plot: a feature's data value (x) against its value (y), one dot per row.

    Parameters
    ----------
    exp : Explanation
        Axes ``("row", "feature")``, with ``data``.
    feature : int or str
        The feature, by position or name.
    color : int, str, array-like of shape (n,), optional
        Colour the dots by another feature's data value (by position or name) or by the given
        numbers, with a colour bar. One colour when omitted.
    show : bool
        Call ``plt.show()``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        The dots are ``ax.collections[0]``; the colour bar, if any, is ``fig.axes[1]``.
    """
    exp = as_explanation(exp, "scatter")
    check_axes(exp, "scatter", (("row", "feature"),), "several rows (axes ('row', 'feature'))")
    if exp.data is None or exp.data.shape != exp.values.shape:
        raise ValueError("scatter needs the explained rows' data (Explanation.data).")
    labels = feature_labels(exp, exp.shape[1])
    j = _feature_index(exp, feature)
    x = np.asarray(exp.data[:, j], dtype=float)
    values = np.asarray(exp.values[:, j], dtype=float)
    c, c_label = None, None
    if color is not None:
        if isinstance(color, (str, int, np.integer)):
            jc = _feature_index(exp, color)
            c, c_label = np.asarray(exp.data[:, jc], dtype=float), labels[jc]
        else:
            c, c_label = np.asarray(color, dtype=float).ravel(), None
            if len(c) != len(x):
                raise ValueError(f"color has {len(c)} values for {len(x)} rows.")

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    ax.axhline(0, color=GREY, lw=0.8, zorder=0)
    if c is None:
        ax.scatter(x, values, s=16, color=BLUE, linewidths=0, alpha=0.85)
    else:
        finite = c[np.isfinite(c)]
        lo, hi = np.percentile(finite, [5, 95]) if len(finite) else (0.0, 1.0)
        if hi <= lo:
            lo, hi = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
        dots = ax.scatter(
            x, values, s=16, c=c, cmap=diverging_cmap(), vmin=lo, vmax=hi, linewidths=0
        )
        cb = fig.colorbar(dots, ax=ax, aspect=40, pad=0.02)
        cb.outline.set_visible(False)
        if c_label is not None:
            cb.set_label(wrap(c_label, 40))
    ax.set_xlabel(wrap(labels[j], 70))
    ax.set_ylabel(wrap(f"value for {labels[j]}", 40))
    _tidy(ax)
    finish(show)
    return fig, ax


def _feature_index(exp, feature) -> int:
    j = exp._resolve("feature", feature)
    if not isinstance(j, (int, np.integer)):
        raise TypeError(f"feature must be one feature's position or name; got {feature!r}.")
    M = exp.shape[1]
    if not -M <= j < M:
        raise IndexError(f"feature {j} is out of range for {M} features.")
    return int(j) % M

"""Beeswarm plot: every row's value of each feature, coloured by the feature's value."""

from __future__ import annotations

import numpy as np

from ._common import (
    GREY,
    ROW_INCHES,
    as_explanation,
    check_axes,
    check_max_display,
    check_not_empty,
    diverging_cmap,
    feature_labels,
    figure_axes,
    figure_width,
    finish,
    pyplot,
    shared_doc,
    tidy,
    top_and_rest,
    wrap,
)

__all__ = ["beeswarm"]


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


@shared_doc
def beeswarm(
    exp,
    max_display=10,
    show=False,
    *,
    color=None,
    color_bar=True,
    group_remaining_features=True,
    alpha=0.85,
    s=14,
    color_bar_label="Feature value",
    ax=None,
):
    """One row of dots per feature: each dot is one explained row's value, coloured by the
    feature's data value (blue low, red high; grey when unknown).

    Parameters
    ----------
    exp : Explanation
        Axes ``("row", "feature")``. Without numeric ``data`` every dot is grey and there is no
        colour bar.
    max_display : int
        Most rows of dots, by mean ``|value|``; the other features are summed per explained
        row into one grey row ``"Sum of N other features"``.
    %(show)s
    color : matplotlib colormap or colour, optional, keyword-only
        A colormap colours the dots by the feature's value (default: blue to red); a single
        colour (a name, ``"#rrggbb"`` or an RGB(A) sequence) paints every dot, with no colour
        bar (shap's meaning).
    color_bar : bool, default True, keyword-only
        Draw the colour bar (when dots are coloured by value).
    group_remaining_features : bool, default True, keyword-only
        ``False`` drops the ``"Sum of N other features"`` row.
    alpha, s : float, keyword-only
        Opacity and size of the dots.
    color_bar_label : str, keyword-only
    %(ax)s

    %(returns)s
        One ``PathCollection`` per drawn feature, top to bottom. The colour bar is ``fig.axes[1]``.
    """
    exp = as_explanation(exp, "beeswarm")
    check_axes(exp, "beeswarm", (("row", "feature"),), "several rows (axes ('row', 'feature'))")
    check_not_empty(exp)
    max_display = check_max_display(max_display)
    values = np.asarray(exp.values, dtype=float)
    n, M = values.shape
    data = exp.data if exp.data is not None and exp.data.shape == values.shape else None
    labels = feature_labels(exp, M)
    importance = np.abs(values).mean(0)
    top, rest = top_and_rest(importance, max_display)
    if not group_remaining_features:  # the max_display most important, nothing summed
        top, rest = np.argsort(-importance, kind="stable")[:max_display], []
    rows = [(wrap(labels[j]), values[:, j], None if data is None else data[:, j]) for j in top]
    if len(rest):
        rows.append((f"Sum of {len(rest)} other features", values[:, rest].sum(1), None))

    plt = pyplot()
    cmap, fixed = _colouring(color)
    fig, ax = figure_axes(
        ax, (figure_width([r[0] for r in rows]), ROW_INCHES * len(rows) + 1.4), layout=None
    )
    y = np.arange(len(rows))[::-1]
    ax.axvline(0, color=GREY, lw=0.8, zorder=0)
    coloured = False
    for yi, (_, x, c) in zip(y, rows, strict=True):
        unit = np.full(n, np.nan) if (c is None or fixed is not None) else _unit_colors(c)
        coloured |= bool(np.isfinite(unit).any())
        grey = (0.6, 0.6, 0.6, 1.0) if fixed is None else fixed
        colors = np.where(np.isnan(unit)[:, None], grey, cmap(np.nan_to_num(unit)))
        ax.scatter(
            x,
            yi + _swarm_offsets(x),
            s=s,
            color=colors,
            linewidths=0,
            alpha=alpha,
            rasterized=n > 500,
        )
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(y, [r[0] for r in rows])
    ax.set_xlabel("value (impact on model output)")
    tidy(ax)
    if coloured and color_bar:
        mappable = plt.cm.ScalarMappable(norm=plt.Normalize(0, 1), cmap=cmap)
        cb = fig.colorbar(mappable, ax=ax, ticks=[0, 1], aspect=40, pad=0.02)
        cb.set_ticklabels(["Low", "High"])
        cb.set_label(color_bar_label, labelpad=-8)
        cb.outline.set_visible(False)
    finish(show, fig)
    return fig, ax


def _colouring(color):
    """``(colormap, fixed RGBA or None)`` for beeswarm's ``color``."""
    from matplotlib.colors import Colormap, to_rgba

    if color is None:
        return diverging_cmap(), None
    if isinstance(color, Colormap):
        return color, None
    try:
        return diverging_cmap(), to_rgba(np.asarray(color) if not isinstance(color, str) else color)
    except (TypeError, ValueError):
        raise ValueError(
            f"color must be a matplotlib colormap or a colour; got {color!r}."
        ) from None

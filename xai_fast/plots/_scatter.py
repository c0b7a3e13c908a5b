"""Dependence (scatter) plot: a feature's data value against its value, one dot per row."""

from __future__ import annotations

import re

import numpy as np

from ..explanation import Explanation
from ._common import (
    BLUE,
    GREY,
    as_explanation,
    check_axes,
    check_not_empty,
    diverging_cmap,
    feature_labels,
    figure_axes,
    finish,
    numeric_or_codes,
    pyplot,
    shared_doc,
    tidy,
    wrap,
)

__all__ = ["scatter"]

_PERCENTILE = re.compile(r"^percentile\(([-+0-9.eE]+)\)$")


@shared_doc
def scatter(
    exp,
    feature=None,
    color=None,
    show=False,
    *,
    alpha=0.85,
    cmap=None,
    dot_size=16,
    xmin=None,
    xmax=None,
    ymin=None,
    ymax=None,
    overlay=None,
    title=None,
    ylabel=None,
    ax=None,
):
    """Dependence plot: a feature's data value (x) against its value (y), one dot per row.

    Parameters
    ----------
    exp : Explanation
        One feature's column (``exp[:, "age"]``, axes ``("row",)``, shap's form), or rows x
        features (axes ``("row", "feature")``) with ``feature`` naming the column; without
        ``feature`` every column gets its own panel. Needs ``data``; non-numeric data
        (strings, categories) is drawn at the positions of its sorted distinct values.
    feature : int or str, optional
        The feature, by position or name.
    color : Explanation, int, str or array-like of shape (n,), optional
        Colour the dots by another feature's data value: its column (``exp[:, "bmi"]``, shap's
        form), position or name; or by the given numbers; with a colour bar. A string that is
        not a feature name is a matplotlib colour for every dot. One colour when omitted.
    %(show)s
    alpha, dot_size : float, keyword-only
        Opacity and size of the dots.
    cmap : matplotlib colormap, optional, keyword-only
        For ``color`` by value (default: blue to red).
    xmin, xmax, ymin, ymax : float, str or Explanation, optional, keyword-only
        Axis limits: a number, ``"percentile(q)"`` of the drawn data (x) or values (y), or an
        explanation (``col.percentile(20)``) whose ``data`` (x) or ``values`` (y) is the limit.
    overlay : dict of {str: list of (xs, ys)}, optional, keyword-only
        Lines drawn over the dots, labelled by name; the ``i``-th pair goes to the ``i``-th
        panel.
    title, ylabel : str, optional, keyword-only
    ax : matplotlib.axes.Axes, optional, keyword-only
        Draw here (one panel only) instead of on a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes, or ndarray of Axes for several panels
        The dots are ``ax.collections[0]``; the colour bar, if any, is ``fig.axes[-1]``.
    """
    exp = as_explanation(exp, "scatter")
    allowed = (("row",), ("row", "feature"))
    check_axes(exp, "scatter", allowed, "a column (exp[:, 'name']) or rows x features")
    check_not_empty(exp)
    if exp.data is None or exp.data.shape != exp.values.shape:
        raise ValueError("scatter needs the explained rows' data (Explanation.data).")
    if exp.axes == ("row",):  # one column: back to rows x 1 feature
        names = exp.feature_names
        names = [names] if isinstance(names, str) else names
        exp = Explanation(exp.values[:, None], exp.base_values, exp.data[:, None], names)
    labels = feature_labels(exp, exp.shape[1])
    columns = [_feature_index(exp, feature)] if feature is not None else range(exp.shape[1])
    c, c_label, fixed = _colour_values(exp, color)

    plt = pyplot()
    if ax is not None and len(columns) > 1:
        raise ValueError(f"ax= takes one panel; pass feature= to pick one of {len(columns)}.")
    if ax is None and len(columns) > 1:
        fig, axes = plt.subplots(1, len(columns), figsize=(5 * len(columns), 4.5), sharey=True)
    else:
        fig, one = figure_axes(ax, (6.5, 4.5), layout=None)
        axes = np.array([one])
    dots = None
    for i, (j, a) in enumerate(zip(columns, axes, strict=True)):
        x, cats = numeric_or_codes(exp.data[:, j])
        values = np.asarray(exp.values[:, j], dtype=float)
        a.axhline(0, color=GREY, lw=0.8, zorder=0)
        if c is None:
            a.scatter(x, values, s=dot_size, color=fixed or BLUE, linewidths=0, alpha=alpha)
        else:
            lo, hi = _colour_range(c)
            dots = a.scatter(
                x, values, s=dot_size, c=c, cmap=cmap or diverging_cmap(), vmin=lo, vmax=hi,
                linewidths=0, alpha=alpha,
            )  # fmt: skip
        if cats is not None:
            a.set_xticks(np.arange(len(cats)), cats)
        for name, pairs in (overlay or {}).items():
            if i < len(pairs):
                a.plot(*pairs[i], label=name)
        if overlay:
            a.legend(frameon=False)
        a.set_xlim(_limit(xmin, x, "data"), _limit(xmax, x, "data"))
        a.set_ylim(_limit(ymin, values, "values"), _limit(ymax, values, "values"))
        a.set_xlabel(wrap(labels[j], 70))
        if i == 0:
            a.set_ylabel(wrap(ylabel or f"value for {labels[j]}", 40))
        tidy(a)
    if title is not None:
        axes[0].set_title(title)
    if dots is not None:
        cb = fig.colorbar(dots, ax=list(axes), aspect=40, pad=0.02)
        cb.outline.set_visible(False)
        if c_label is not None:
            cb.set_label(wrap(c_label, 40))
    finish(show, fig)
    return fig, (axes[0] if len(axes) == 1 else axes)


def _colour_values(exp, color):
    """``(numbers (n,) or None, colour-bar label or None, fixed colour or None)``."""
    if color is None:
        return None, None, None
    n = exp.shape[0]
    if isinstance(color, Explanation) or type(color).__module__.startswith("shap"):
        col = as_explanation(color, "scatter")
        if col.data is None or np.shape(col.data) != (n,):
            raise ValueError(
                f"color must be one feature's column with data for the {n} rows (exp[:, 'name'])."
            )
        names = col.feature_names
        label = names if isinstance(names, str) else (names[0] if names else None)
        return numeric_or_codes(col.data)[0], label, None
    names = exp.feature_names or []
    if isinstance(color, str) and color not in names:
        from matplotlib.colors import to_rgba

        try:
            return None, None, to_rgba(color)
        except ValueError:
            raise KeyError(
                f"color {color!r} is neither a feature name nor a matplotlib colour."
            ) from None
    if isinstance(color, (str, int, np.integer)):
        jc = _feature_index(exp, color)
        return numeric_or_codes(exp.data[:, jc])[0], feature_labels(exp, exp.shape[1])[jc], None
    c = np.asarray(color, dtype=float).ravel()
    if len(c) != n:
        raise ValueError(f"color has {len(c)} values for {n} rows.")
    return c, None, None


def _colour_range(c):
    """The 5th and 95th percentiles of the finite ``c`` (min and max when they coincide)."""
    finite = c[np.isfinite(c)]
    if not len(finite):
        return 0.0, 1.0
    lo, hi = np.percentile(finite, [5, 95])
    return (finite.min(), finite.max()) if hi <= lo else (lo, hi)


def _limit(spec, drawn, field: str):
    """An axis limit from a number, ``"percentile(q)"`` or an explanation's ``field``."""
    if spec is None:
        return None
    if isinstance(spec, str):
        m = _PERCENTILE.match(spec)
        if not m:
            raise ValueError(f"a limit string must read 'percentile(q)'; got {spec!r}.")
        return float(np.nanpercentile(drawn, float(m[1])))
    if hasattr(spec, field) and hasattr(spec, "values"):
        return float(np.asarray(getattr(spec, field), dtype=float).reshape(-1)[0])
    return float(spec)


def _feature_index(exp, feature) -> int:
    j = exp._resolve("feature", feature)
    if not isinstance(j, (int, np.integer)):
        raise TypeError(f"feature must be one feature's position or name; got {feature!r}.")
    M = exp.shape[1]
    if not -M <= j < M:
        raise IndexError(f"feature {j} is out of range for {M} features.")
    return int(j) % M

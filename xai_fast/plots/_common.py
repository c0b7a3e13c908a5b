"""Helpers shared by the plots: lazy pyplot, input checks, colours and number formatting."""

from __future__ import annotations

import textwrap

import numpy as np

from ..explanation import Explanation
from ..explanation.indexing import name_list

# Positive values are red and negative ones blue, in every plot (shap's colours).
RED = "#ff0051"
BLUE = "#008bfb"
GREY = "#999999"


def pyplot():
    """``matplotlib.pyplot``, imported on first use so that importing the package stays light."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "xai_fast.plots needs matplotlib; install it with `pip install matplotlib`."
        ) from err
    return plt


def diverging_cmap():
    """Blue (low) to red (high) through purple, for colouring by feature value."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("xai_fast_blue_red", [BLUE, RED])


def as_explanation(exp, where: str) -> Explanation:
    """``exp`` as an :class:`~xai_fast.Explanation` (a ``shap.Explanation`` is converted)."""
    if isinstance(exp, Explanation):
        return exp
    if type(exp).__module__.startswith("shap") and hasattr(exp, "values"):
        return Explanation.from_shap(exp)
    raise TypeError(
        f"{where} plot requires an `Explanation` object (xai_fast's or shap's); got "
        f"{type(exp).__name__}."
    )


def check_not_empty(exp: Explanation) -> None:
    if exp.values.size == 0:
        raise ValueError(
            f"The passed Explanation is empty (values of shape {exp.values.shape}); there is "
            "nothing to plot."
        )


def figure_axes(ax, size, *, layout="constrained"):
    """``(fig, ax)``: the given axes and their figure, or a new figure of ``size`` inches.

    Figures that get a colour bar pass ``layout=None`` (tight layout is applied by
    :func:`finish`), so that ``plt.tight_layout()`` afterwards stays valid.
    """
    if ax is not None:
        return ax.figure, ax
    return pyplot().subplots(figsize=size, layout=layout)


def numeric_or_codes(x):
    """``(floats, category names or None)``: numbers as they are; other values (strings,
    categories) as the positions of their sorted distinct values."""
    try:
        return np.asarray(x, dtype=float), None
    except (TypeError, ValueError):
        cats, codes = np.unique(np.asarray(x).astype(str), return_inverse=True)
        return codes.astype(float), [str(c) for c in cats]


def check_axes(exp: Explanation, where: str, allowed: tuple, hint: str) -> None:
    """Raise a ValueError unless ``exp.axes`` is one of ``allowed``; outputs and interaction
    values get their own advice."""
    if "output" in exp.axes:
        k = exp.shape[exp.axes.index("output")]
        names = f" ({', '.join(map(str, exp.output_names))})" if exp.output_names else ""
        raise ValueError(
            f"{where} draws one output, and this explanation has {k} outputs{names}; pick one "
            "with exp[..., k] (or exp[..., 'name'])."
        )
    if "feature2" in exp.axes:
        raise ValueError(
            f"{where} does not draw interaction values; take one feature first (exp[:, j]) or "
            "sum the second feature axis (exp.sum('feature2'))."
        )
    if exp.axes not in allowed:
        raise ValueError(f"{where} needs {hint}; got an explanation with axes {exp.axes}.")


def check_max_display(max_display) -> int:
    if not isinstance(max_display, (int, np.integer)) or max_display < 1:
        raise ValueError(f"max_display must be a positive int; got {max_display!r}.")
    return int(max_display)


def feature_labels(exp: Explanation, M: int) -> list:
    """The feature names, or ``Feature j`` when there are none."""
    names = name_list(exp.feature_names)
    if names is not None and len(names) == M:
        return [str(s) for s in names]
    return [f"Feature {j}" for j in range(M)]


def wrap(label: str, width: int = 60, lines: int = 2) -> str:
    """``label`` on at most ``lines`` lines of ``width`` characters; longer labels end in an
    ellipsis."""
    parts = textwrap.wrap(label, width) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 1] + "\u2026"
    return "\n".join(parts)


def figure_width(labels, base: float = 8.0) -> float:
    """Inches: ``base``, widened for long tick labels (up to 14)."""
    longest = max((len(line) for s in labels for line in s.split("\n")), default=0)
    return float(np.clip(5.0 + 0.075 * longest, base, 14.0))


def top_and_rest(importance, max_display: int):
    """Indices of the features to draw, most important first, and of the rest (aggregated
    into one row when there are more than ``max_display`` features)."""
    order = np.argsort(-np.asarray(importance), kind="stable")
    if len(order) <= max_display:
        return order, order[:0]
    return order[: max_display - 1], order[max_display - 1 :]


def fmt(v, signed: bool = False) -> str:
    """A value to three significant digits."""
    return f"{v:+.3g}" if signed else f"{v:.3g}"


def fmt_data(x) -> str:
    """A data value: numbers to four significant digits, anything else as text."""
    if isinstance(x, (float, np.floating)):
        return f"{x:.4g}"
    return str(x)


def to_numpy(a) -> np.ndarray:
    """A numpy array from numpy, a torch tensor (on any device) or an Explanation."""
    if isinstance(a, Explanation):
        a = a.values
    if hasattr(a, "detach") and hasattr(a, "cpu"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def finish(show: bool, fig=None) -> None:
    """Lay out ``fig`` once when it has no layout engine, then show it if asked."""
    if fig is not None and fig.get_layout_engine() is None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tight layout warns on crowded figures
            fig.tight_layout()
    if show:
        pyplot().show()


ROW_INCHES = 0.4  # height of one feature's row


def tidy(ax) -> None:
    """Hide the top and right spines."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


#: Docstring sections the plots share; a plot's docstring names them as ``%(show)s`` etc.
DOC_SECTIONS = {
    "show": "show : bool\n        Call ``plt.show()``.",
    "ax": "ax : matplotlib.axes.Axes, optional, keyword-only\n"
    "        Draw here instead of on a new figure.",
    "returns": "Returns\n    -------\n"
    "    fig : matplotlib.figure.Figure\n    ax : matplotlib.axes.Axes",
}


def shared_doc(fn):
    """Fill the shared sections (:data:`DOC_SECTIONS`) into ``fn``'s docstring."""
    if fn.__doc__:  # None under python -OO
        fn.__doc__ = fn.__doc__ % DOC_SECTIONS
    return fn

"""What :func:`~xai_fast.evaluation.compare.compare` measured: the records, the attributions and
their views (pandas, Markdown, a two-panel plot).

pandas and matplotlib are imported by :meth:`Comparison.to_pandas` and :meth:`Comparison.plot`
only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["COLUMNS", "Comparison"]

#: Keys of every record, in order.
COLUMNS = ("method", "seconds", "efficiency_gap", "rel_error", "rank_corr", "topk_overlap", "note")


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

        return pd.DataFrame(self.records, columns=list(COLUMNS))

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
            cells += [_fmt(r[key]) for key in COLUMNS[1:-1]]
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
        from ..plots._common import BLUE, GREY, fmt, pyplot

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


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.3g}"

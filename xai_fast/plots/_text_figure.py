"""Tokens highlighted by their attribution, drawn with matplotlib (for PNG files)."""

from __future__ import annotations

import numpy as np

from ._common import BLUE, RED, finish, pyplot

__all__ = ["text_figure"]


def text_figure(tokens, values, show=False, width=8.0):
    """The tokens laid out in lines of ``width`` inches, each on a box coloured by its value.

    Parameters
    ----------
    tokens : list of str, length T
    values : ndarray, shape (T,)
    show : bool
    width : float
        Inches per line.

    Returns
    -------
    fig, ax
    """
    from matplotlib.colors import to_rgb

    if len(tokens) != len(values):
        raise ValueError(f"{len(tokens)} tokens but {len(values)} values; pass one per token.")
    plt = pyplot()
    finite = np.abs(values[np.isfinite(values)])
    m = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    fig, ax = plt.subplots(figsize=(width, 1.0))
    ax.set_axis_off()
    renderer = fig.canvas.get_renderer()
    x, line, dpi = 0.0, 0, fig.dpi
    placed = []
    for tok, v in zip(tokens, values, strict=True):  # layout: each token's width is measured
        if tok.strip() == "" and x == 0.0:
            continue
        colour = to_rgb(RED if v >= 0 else BLUE)
        strength = 0.0 if not np.isfinite(v) else 0.75 * min(abs(v) / m, 1.0)
        t = ax.text(0, 0, tok.replace("\n", " "), fontsize=12, family="monospace",
                    bbox=dict(boxstyle="round,pad=0.15", lw=0,
                              fc=(*colour, strength)))  # fmt: skip
        w = t.get_window_extent(renderer).width / dpi
        if x + w > width - 0.2 and x > 0:
            x, line = 0.0, line + 1
        placed.append((t, x, line))
        x += w
    lines = line + 1
    height = 0.45 * lines + 0.6  # the tokens' lines, then 0.4 in for the caption above them
    fig.set_size_inches(width, height)
    for t, x0, ln in placed:
        t.set_transform(fig.dpi_scale_trans)
        t.set_position((x0 + 0.1, 0.45 * (lines - ln) + 0.05))
    fig.text(0.1 / width, 1 - 0.2 / height,
             f"red raises the output, blue lowers it; strongest |value| = {m:.3g}",
             fontsize=9, color="#555", va="center")  # fmt: skip
    finish(show)
    return fig, ax

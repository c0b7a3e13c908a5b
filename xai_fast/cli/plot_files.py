"""An explanation's bar, beeswarm and waterfall plots written as PNG files (matplotlib, Agg)."""

from __future__ import annotations

__all__ = ["write_plots"]


def write_plots(exp, out_dir) -> list:
    """Write bar, beeswarm and waterfall (first row) PNGs of ``exp`` to ``out_dir``.

    Parameters
    ----------
    exp : Explanation
        Values of shape ``(n, d)``, or ``(n, d, k)``: several outputs are plotted for the last
        one (the positive class of a binary classifier).
    out_dir : str or Path
        Created if missing; ``bar.png``, ``beeswarm.png`` and ``waterfall.png`` go here.

    Returns
    -------
    list of Path
        The files written.
    """
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if exp.values.ndim == 3:
        exp = exp[..., exp.values.shape[2] - 1]
    paths = []
    for name, draw in (("bar", plots.bar), ("beeswarm", plots.beeswarm)):
        paths.append(_save(draw(exp, show=False), out / f"{name}.png", plt))
    paths.append(_save(plots.waterfall(exp[0], show=False), out / "waterfall.png", plt))
    return paths


def _save(drawn, path, plt):
    fig = drawn[0] if isinstance(drawn, tuple) else drawn
    fig = getattr(fig, "figure", fig)  # an Axes knows its figure
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path

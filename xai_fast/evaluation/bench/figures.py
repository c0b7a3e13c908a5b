"""The benchmark plots: time against features and error against budget (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

from .records import record_key

__all__ = ["write_plots"]


def write_plots(result: dict, out_dir) -> list:
    """Write ``time_vs_features.png`` (tabular MLPs with a 10-row background, or the smallest
    background run) and ``error_vs_budget.png``; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    mlp = [r for r in result["records"] if r["problem"].startswith("mlp-") and r["seconds"]]
    sizes = sorted({_mlp_sizes(r["problem"])[1] for r in mlp})
    bg = 10 if 10 in sizes else (sizes[0] if sizes else None)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key in dict.fromkeys(record_key(r) for r in mlp):
        pts = sorted(
            (_mlp_sizes(r["problem"])[0], r["seconds"])
            for r in mlp
            if record_key(r) == key and _mlp_sizes(r["problem"])[1] == bg
        )
        if pts:
            style = "-" if key.startswith("xai_fast") else "--"
            ax.plot(*zip(*pts, strict=True), style, marker="o", label=key)
    ax.set(xlabel="features", ylabel="seconds (median)", yscale="log")
    ax.set_title(f"Torch MLP, {bg}-row background: time against features")
    if ax.lines:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    paths.append(_save(fig, out / "time_vs_features.png", plt))

    fig, ax = plt.subplots(figsize=(6, 4.5))
    curve = [c for c in result["error_vs_budget"] if c["budget"] is not None]
    for key in dict.fromkeys(record_key(c) for c in curve):
        pts = [(c["budget"], c["rel_error"]) for c in curve if record_key(c) == key]
        ax.plot(*zip(*pts, strict=True), marker="o", label=key)
    ax.set(xlabel="coalitions per row", ylabel="relative L2 error", xscale="log", yscale="log")
    budgets = sorted({c["budget"] for c in curve})
    ax.set_xticks(budgets, [str(b) for b in budgets])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    problem = curve[0]["problem"] if curve else "no curve measured"
    ax.set_title(f"Error against budget ({problem})")
    if curve:
        ax.legend(fontsize=8)
    paths.append(_save(fig, out / "error_vs_budget.png", plt))
    return paths


def _mlp_sizes(name: str) -> tuple[int, int]:
    _, f, b = name.split("-")
    return int(f[:-1]), int(b[:-2])


def _save(fig, path, plt):
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path

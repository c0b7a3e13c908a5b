"""The benchmark loop: every method on every problem, side by side with the references.

Per problem, every method runs once on the first row (warm-up: compilation, imports), then
``repeats`` rounds in which every method runs once, each run followed by the model alone on as
many pre-built rows as the method passed to the model (fed 4096 rows a call): methods compared
with each other see the same state of the machine. Reported: median times, the model rows of
the last run (counted by wrapping the model), the relative L2 error and the Spearman rank
correlation of ``|values|`` against exact Shapley values, and the speed-up over the matching
reference (median of the per-round ratios).

Exact values: :class:`~xai_fast.ExactExplainer` (every coalition) up to 16 features; above
that the Shapley-value methods are scored on :func:`xai_fast.testing.pairwise_game` with the
same sizes and budget, whose values are known in closed form. LIME weights and integrated
gradients are not Shapley values: they are scored by their rank correlation with the
reference library's.

matplotlib is imported only to write plots (Agg backend).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .problems import build, specs
from .runners import ImageWork, TabularWork, methods, missing_reference

__all__ = [
    "FIELDS",
    "add_arguments",
    "main",
    "run_from_args",
    "run_suite",
    "to_markdown",
    "write_json",
    "write_plots",
]

#: Keys of every record, in order.
FIELDS = (
    "problem",
    "method",
    "library",
    "seconds",
    "model_seconds",
    "evaluations",
    "rel_error",
    "rank_corr",
    "speedup",
    "note",
)
#: Rows per model call of the model-alone timing.
MODEL_CHUNK = 4096
#: Largest number of features scored by enumeration.
MAX_EXACT_FEATURES = 16
#: The error-against-budget curve: problem, budgets and seeds per mode.
BUDGET_CURVE = {
    "full": ("mlp-16f-10bg", (256, 1024, 4096, 16384), 3),
    "quick": ("mlp-16f-10bg", (256, 1024, 4096), 2),
    "smoke": ("mlp-6f-2bg", (8, 16, 32), 1),
}
#: Kernel SHAP variants on the curve: (method key, runner options).
CURVE_METHODS = (
    ("xai_fast KernelExplainer(sampler=shap)", {"sampler": "shap"}),
    ("xai_fast KernelExplainer(sampler=auto)", {"sampler": "auto"}),
    ("shap KernelExplainer", None),
)


# ---------------------------------------------------------------------------- counting
def _counting_module(net):
    import torch

    class CountingModule(torch.nn.Module):
        """``net`` that counts the rows it is given."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            self.rows = 0

        def forward(self, x):
            self.rows += int(x.shape[0])
            return self.inner(x)

    return CountingModule(net).eval()


class _CountingCallable:
    """A numpy callable that counts the rows it is given."""

    def __init__(self, fn):
        self.fn = fn
        self.rows = 0

    def __call__(self, X):
        self.rows += len(X)
        return self.fn(X)


def _numpy_fn(module):
    """A float32 module ``(n, d) -> (n, 1)`` as a numpy callable ``(n, d) -> (n,)``."""
    import torch

    def f(X):
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
            return module(x).numpy()[:, 0].astype(np.float64)

    return f


@dataclass
class _Setup:
    """A built problem with its counting model, the work of its runs and its exact values."""

    problem: object
    counter: object
    work: object
    exact: np.ndarray | None
    exact_note: str


def _setup(problem, seed: int) -> _Setup:
    if problem.kind == "image":
        counter = _counting_module(problem.model)
        work = ImageWork(
            counter, problem.inputs, problem.baselines, problem.target,
            problem.feature_mask, problem.n_samples, problem.ig_steps, seed,
        )  # fmt: skip
        note = f"exact: all 2^{problem.n_features} sets of patches"
        return _Setup(problem, counter, work, _image_exact(problem), note)
    if problem.is_module:
        counter = _counting_module(problem.model)
        fn = _numpy_fn(counter)
    else:
        counter = fn = _CountingCallable(problem.model)
    work = TabularWork(
        counter, fn, problem.background, problem.rows, problem.train, problem.nsamples,
        problem.lime_samples, seed,
    )  # fmt: skip
    if problem.n_features > MAX_EXACT_FEATURES:
        return _Setup(problem, counter, work, None, "")
    from .. import ExactExplainer

    exact = ExactExplainer(problem.model, problem.background).shap_values(problem.rows, silent=True)
    return _Setup(problem, counter, work, np.reshape(exact, problem.rows.shape), "")


def _image_exact(problem) -> np.ndarray:
    """Exact Shapley values ``(n, M)`` of the patch game of every image: coalition ``z`` is
    worth the targeted logit of ``baseline + (x - baseline) * z[mask]``."""
    import torch

    from .. import ExactExplainer

    ids = problem.feature_mask.reshape(-1)
    M = problem.n_features
    out = np.zeros((len(problem.inputs), M))
    b = problem.baselines[0]
    for i, (x, t) in enumerate(zip(problem.inputs, problem.target, strict=True)):

        def game(Z, x=x, t=t, b=b):
            z = torch.as_tensor(Z, dtype=x.dtype)[:, ids].reshape(-1, *x.shape)
            with torch.inference_mode():
                return problem.model(b + (x - b) * z)[:, t].numpy()

        e = ExactExplainer(game, np.zeros((1, M)), batch_size=16384)
        out[i] = np.reshape(e.shap_values(np.ones((1, M)), silent=True), M)
    return out


# ---------------------------------------------------------------------------- model alone
class _ModelAlone:
    """Times the model on pre-built rows of the problem's shape, 4096 rows a call: random
    rows of the training data (tabular; a tree's speed depends on where rows fall) or random
    images."""

    def __init__(self, problem, seed: int):
        import torch

        self.problem = problem
        if problem.kind == "image":
            gen = torch.Generator().manual_seed(seed)
            self.buf = torch.rand((MODEL_CHUNK, *problem.inputs.shape[1:]), generator=gen)
            return
        rng = np.random.default_rng(seed)
        rows = problem.train[rng.integers(0, len(problem.train), MODEL_CHUNK)]
        self.buf = torch.tensor(rows, dtype=torch.float32) if problem.is_module else rows

    def seconds(self, n_rows: int, *, gradient: bool = False) -> float:
        import torch

        model = self.problem.model
        t = time.perf_counter()
        for start in range(0, n_rows, MODEL_CHUNK):
            x = self.buf[: min(MODEL_CHUNK, n_rows - start)]
            if gradient:  # forward and backward, as a gradient method needs
                x = x.clone().requires_grad_(True)
                torch.autograd.grad(model(x)[:, 0].sum(), x)
            elif isinstance(x, torch.Tensor):
                with torch.inference_mode():
                    model(x)
            else:
                model(x)
        return time.perf_counter() - t


# ---------------------------------------------------------------------------- metrics
def rel_error(values, exact) -> float:
    """``||values - exact|| / ||exact||`` over all rows (Frobenius norms)."""
    return float(np.linalg.norm(values - exact) / np.linalg.norm(exact))


def rank_corr(values, exact) -> float | None:
    """Mean over rows of the Spearman correlation of ``|values|`` with ``|exact|``."""
    from scipy.stats import spearmanr

    rhos = []
    for v, e in zip(np.abs(values), np.abs(exact), strict=True):
        if np.ptp(v) > 0 and np.ptp(e) > 0:  # undefined for a constant row
            rhos.append(spearmanr(v, e).statistic)
    return float(np.mean(rhos)) if rhos else None


def _record(problem, method, **fields) -> dict:
    rec = dict.fromkeys(FIELDS)
    rec.update(problem=problem.name, method=method.name, library=method.library, note="")
    rec.update(fields)
    return rec


# ---------------------------------------------------------------------------- one problem
@dataclass
class _Timings:
    """Per-round times of one method, its model-alone times, model rows and last values."""

    seconds: list
    model_seconds: list
    evaluations: int = 0
    values: np.ndarray | None = None


def _attempt(method, work):
    """``(values, None)``, or ``(None, note)`` when a reference fails (xai_fast raises)."""
    try:
        return method.run(work), None
    except Exception as err:  # a reference that fails here (versions): record it, go on
        if method.library == "xai_fast":
            raise
        return None, f"failed: {type(err).__name__}: {err}"


def _time_all(setup: _Setup, meths, repeats: int, alone: _ModelAlone, say):
    """Warm up every method on the first row, then ``repeats`` rounds in which every method
    runs once, followed by the model alone on as many rows: methods compared with each other
    see the same state of the machine. Returns ``({key: _Timings}, {key: failure note})``."""
    timings, failed = {}, {}
    for m in meths:
        _, note = _attempt(m, setup.work.head(1))
        if note is None:
            timings[m.key] = _Timings([], [])
        else:
            failed[m.key] = note
    for r in range(repeats):
        t0 = time.perf_counter()
        for m in meths:
            if m.key not in timings:
                continue
            setup.counter.rows = 0
            t = time.perf_counter()
            values, note = _attempt(m, setup.work)
            elapsed = time.perf_counter() - t
            if note is not None:
                failed[m.key] = note
                del timings[m.key]
                continue
            tm = timings[m.key]
            tm.seconds.append(elapsed)
            tm.evaluations, tm.values = setup.counter.rows, values
            tm.model_seconds.append(alone.seconds(tm.evaluations, gradient=m.gradient))
        say(f"  round {r + 1}/{repeats}: {time.perf_counter() - t0:.1f} s")
    return timings, failed


def _game_error(setup: _Setup, method, seed: int):
    """Error and rank correlation of ``method`` on a pairwise game of the problem's sizes."""
    from ..testing import pairwise_game

    p = setup.problem
    game = pairwise_game(p.n_features, seed, n_background=p.n_background)
    rows = game.rows(len(p.rows), seed=seed)
    work = TabularWork(
        game.model, game.model, game.background, rows, game.background, p.nsamples,
        p.lime_samples, seed,
    )  # fmt: skip
    values, note = _attempt(method, work)
    if note is not None:
        return None, None
    exact = game.shapley_values(rows)
    return rel_error(values, exact), rank_corr(values, exact)


def _run_problem(setup: _Setup, meths, skips, repeats, seed, say) -> list[dict]:
    """The records of every method that applies to the problem of ``setup``."""
    p = setup.problem
    meths = [m for m in meths if m.applies(p)]
    runnable = [m for m in meths if skips[m.library] is None]
    timings, failed = _time_all(setup, runnable, repeats, _ModelAlone(p, seed), say)
    by_key = {}
    for m in meths:
        if m.key not in timings:
            by_key[m.key] = _record(p, m, note=skips[m.library] or failed[m.key])
            continue
        tm = timings[m.key]
        rec = _record(
            p, m, seconds=statistics.median(tm.seconds),
            model_seconds=statistics.median(tm.model_seconds), evaluations=tm.evaluations,
        )  # fmt: skip
        if m.values == "shapley" and setup.exact is not None:
            rec["rel_error"] = rel_error(tm.values, setup.exact)
            rec["rank_corr"] = rank_corr(tm.values, setup.exact)
            rec["note"] = setup.exact_note
        elif m.values == "shapley" and p.kind == "tabular":
            rec["rel_error"], rec["rank_corr"] = _game_error(setup, m, seed)
            rec["note"] = f"error on pairwise_game({p.n_features}), same sizes and budget"
        by_key[m.key] = rec
    # the agreement of two LIME runs is bounded by the sampling noise: measure it
    noise = {}
    for m in meths:
        if m.values == "lime" and m.library != "xai_fast" and m.key in timings:
            values, note = _attempt(m, replace(setup.work, seed=seed + 1))
            if note is None:
                noise[m.key] = rank_corr(values, timings[m.key].values)
    _compare(meths, by_key, timings, noise)
    for m in meths:
        say(_progress_line(by_key[m.key]))
    return list(by_key.values())


def _compare(meths, by_key, timings, noise) -> None:
    """Speed-ups over the references (median of the per-round ratios), and agreement of LIME
    weights and gradients with the reference's (``noise``: the reference's agreement with
    itself at another seed)."""
    for m in meths:
        if m.reference is None or m.reference not in by_key or m.key not in timings:
            continue
        rec, ref = by_key[m.key], by_key[m.reference]
        notes = [rec["note"]] if rec["note"] else []
        if m.reference not in timings:
            notes.append(f"no speed-up ({ref['note']})")
        else:
            mine, theirs = timings[m.key], timings[m.reference]
            ratios = [b / a for a, b in zip(mine.seconds, theirs.seconds, strict=True)]
            rec["speedup"] = statistics.median(ratios)
            if m.values != "shapley":
                rho = rank_corr(mine.values, theirs.values)
                diff = rel_error(mine.values, theirs.values)
                rec["rank_corr"] = ref["rank_corr"] = rho
                notes.append(f"rank corr. with {m.reference}; rel. difference {diff:.2g}")
                ref["note"] = f"rank corr. with xai_fast {m.name}"
                if noise.get(m.reference) is not None:
                    ref["note"] += f"; {noise[m.reference]:.3f} with itself at another seed"
        rec["note"] = "; ".join(notes)


# ---------------------------------------------------------------------------- the curve
def _budget_curve(setup: _Setup, budgets, seeds, say) -> list[dict]:
    """Error against budget of Kernel SHAP (both samplers) and shap's KernelExplainer."""
    from . import runners

    skip = missing_reference("shap")
    out = []
    for key, options in CURVE_METHODS:
        library, name = key.split(" ", 1)
        if library == "shap" and skip is not None:
            out.append({"problem": setup.problem.name, "method": name, "library": library,
                        "budget": None, "seconds": None, "rel_error": None, "rank_corr": None,
                        "note": skip})  # fmt: skip
            continue
        for budget in budgets:
            errs, rhos, secs = [], [], []
            for seed in range(seeds):
                work = TabularWork(**{**vars(setup.work), "nsamples": budget, "seed": seed})
                t = time.perf_counter()
                if options is None:
                    v = runners.shap_kernel(work)
                else:
                    v = runners.xai_fast_kernel(work, **options)
                secs.append(time.perf_counter() - t)
                errs.append(rel_error(v, setup.exact))
                rhos.append(rank_corr(v, setup.exact))
            out.append({
                "problem": setup.problem.name, "method": name, "library": library,
                "budget": budget, "seconds": statistics.median(secs),
                "rel_error": float(np.mean(errs)),
                "rank_corr": float(np.mean([r for r in rhos if r is not None] or [np.nan])),
                "note": f"mean of {seeds} seed(s)",
            })  # fmt: skip
            say(f"  budget {budget:>6}  {key:<40} rel. error {np.mean(errs):.3g}")
    return out


# ---------------------------------------------------------------------------- the suite
def run_suite(
    *,
    mode: str = "full",
    problems=None,
    repeats: int = 3,
    seed: int = 0,
    budget_curve: bool = True,
    progress=None,
) -> dict:
    """Run the benchmark suite.

    Parameters
    ----------
    mode : {"full", "quick", "smoke"}, keyword-only
        Which problems (see :func:`xai_fast.bench.problems.specs`); ``"smoke"`` is a tiny
        version of everything for tests.
    problems : list of str, optional, keyword-only
        Glob patterns of problem names to keep (e.g. ``["mlp-16f-*"]``).
    repeats : int, default 3, keyword-only
        Timed rounds after the warm-up; the medians are reported.
    seed : int, default 0, keyword-only
        Seed of the problems and of every sampler.
    budget_curve : bool, default True, keyword-only
        Also measure the error against budget on the mode's curve problem (when selected).
    progress : callable, optional, keyword-only
        Called with one line per step (e.g. a print to stderr); default silent.

    Returns
    -------
    dict
        ``"meta"`` (date, versions, settings), ``"records"`` (one dict per problem and method
        with the keys :data:`FIELDS`) and ``"error_vs_budget"``.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int; got {repeats!r}.")
    say = progress or (lambda line: None)
    chosen = [s for s in specs(mode) if s.matches(problems)]
    if not chosen:
        names = [s.name for s in specs(mode)]
        raise ValueError(f"no problem matches {problems}; the {mode} problems are {names}.")
    meths = methods()
    curve_name, budgets, seeds = BUDGET_CURVE[mode]
    records, curve = [], []
    start, load_start = time.perf_counter(), _load()
    with warnings.catch_warnings(), _quiet_logs():
        warnings.simplefilter("ignore")
        skips = {lib: missing_reference(lib) for lib in dict.fromkeys(m.library for m in meths)}
        for spec in chosen:
            t = time.perf_counter()
            setup = _setup(build(spec, seed=seed), seed)
            p = setup.problem
            say(f"{p.name}: {p.description} (set up in {time.perf_counter() - t:.1f} s)")
            records += _run_problem(setup, meths, skips, repeats, seed, say)
            if budget_curve and p.name == curve_name and setup.exact is not None:
                say(f"{p.name}: error against budget")
                curve = _budget_curve(setup, budgets, seeds, say)
    meta = _meta(mode, repeats, seed, time.perf_counter() - start, skips)
    meta["load_average"] = [load_start, _load()]
    return {"meta": meta, "records": records, "error_vs_budget": curve}


def _load() -> float | None:
    """The 1-minute load average (other work on the machine skews the timings)."""
    import os

    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # not on every platform
        return None


class _quiet_logs:
    """shap logs at INFO and WARNING while it works; keep those lines off the progress."""

    def __enter__(self):
        self.logger = logging.getLogger("shap")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)


def _progress_line(rec) -> str:
    lead = f"  {rec['library'] + ' ' + rec['method']:<44}"
    if rec["seconds"] is None:
        return f"{lead} {rec['note']}"
    err = "" if rec["rel_error"] is None else f"   rel. error {rec['rel_error']:.2g}"
    return (
        f"{lead} {rec['seconds']:8.3f} s   model alone {rec['model_seconds']:7.3f} s   "
        f"{rec['evaluations']:>11,} model rows{err}"
    )


def _meta(mode, repeats, seed, seconds, skips) -> dict:
    import os

    import torch

    from .. import __version__
    from ..backends import available

    versions = {"xai_fast": __version__, "numpy": np.__version__, "torch": torch.__version__}
    for lib, note in skips.items():
        if lib != "xai_fast":
            versions[lib] = _version(lib) if note is None else None
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "repeats": repeats,
        "seed": seed,
        "seconds": seconds,
        "python": platform.python_version(),
        "versions": versions,
        "backends": available(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }


def _version(lib: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(lib)
    except PackageNotFoundError:
        return None


# ---------------------------------------------------------------------------- output
def _fmt_seconds(s) -> str:
    if s is None:
        return "-"
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def _fmt(x, spec, suffix="") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:{spec}}{suffix}"


def to_markdown(result: dict, *, command: str | None = None) -> str:
    """The records of :func:`run_suite` as a markdown table (one row per record), preceded by
    the date, command and machine."""
    meta = result["meta"]
    vers = ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v is not None)
    lines = [
        f"{meta['date']}, `{command or meta.get('command') or 'xai-fast bench'}`: "
        f"{meta['cpus']} CPUs, torch threads {meta['torch_threads']}, backends "
        f"{', '.join(meta['backends'])}; {vers}. Median of {meta['repeats']} runs after a "
        f"warm-up; {meta['seconds']:.0f} s in all; load average {_fmt_load(meta)}.",
        "",
        "| problem | method | time | model alone | model rows | rel. error | rank corr. "
        "| speed-up | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in result["records"]:
        cells = [
            r["problem"],
            _key(r),
            _fmt_seconds(r["seconds"]),
            _fmt_seconds(r["model_seconds"]),
            _fmt(r["evaluations"], ","),
            _fmt(r["rel_error"], ".2g"),
            _fmt(r["rank_corr"], ".3f"),
            _fmt(r["speedup"], ".1f", "x"),
            (r["note"] or "").replace("|", "/"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt_load(meta) -> str:
    loads = [x for x in meta.get("load_average") or () if x is not None]
    return " -> ".join(f"{x:.1f}" for x in loads) if loads else "unknown"


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def write_json(result: dict, path) -> None:
    """Write ``result`` as JSON (NaN written as null)."""
    Path(path).write_text(json.dumps(_jsonable(result), indent=2) + "\n")


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
    for key in dict.fromkeys(_key(r) for r in mlp):
        pts = sorted(
            (_mlp_sizes(r["problem"])[0], r["seconds"])
            for r in mlp
            if _key(r) == key and _mlp_sizes(r["problem"])[1] == bg
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
    for key in dict.fromkeys(_key(c) for c in curve):
        pts = [(c["budget"], c["rel_error"]) for c in curve if _key(c) == key]
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


def _key(rec) -> str:
    return f"{rec['library']} {rec['method']}"


def _mlp_sizes(name: str) -> tuple[int, int]:
    _, f, b = name.split("-")
    return int(f[:-1]), int(b[:-2])


def _save(fig, path, plt):
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------- command line
def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``xai-fast bench`` (shared with ``python -m benchmarks``)."""
    p.add_argument("--quick", action="store_true", help="a subset of the problems (minutes)")
    p.add_argument("--json", metavar="FILE", help="write the records (and settings) as JSON")
    p.add_argument("--markdown", metavar="FILE", help="write the table as markdown")
    p.add_argument("--plots", metavar="DIR", help="write time and error plots (PNG) here")
    p.add_argument(
        "--repeats", type=int, default=3, metavar="N", help="timed runs per method (median)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # tests: tiny
    return p


def run_from_args(args, *, command: str | None = None) -> dict:
    """Run the suite with parsed :func:`add_arguments` options and write what they ask."""
    mode = "smoke" if args.smoke else ("quick" if args.quick else "full")
    if args.repeats < 1:
        raise ValueError(f"--repeats must be a positive integer; got {args.repeats}.")
    for option, path in (("--json", args.json), ("--markdown", args.markdown)):
        if path and not Path(path).resolve().parent.is_dir():  # fail now, not after the run
            raise ValueError(f"{option}: the folder of {path} does not exist.")

    def say(line):
        print(line, file=sys.stderr, flush=True)

    result = run_suite(mode=mode, repeats=args.repeats, progress=None if args.quiet else say)
    result["meta"]["command"] = command or "xai-fast bench"
    table = to_markdown(result)
    if args.json:
        write_json(result, args.json)
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.plots:
        write_plots(result, args.plots)
    if not args.quiet:
        print(table)
    return result


def main(argv=None) -> int:
    """``python -m benchmarks``: the suite with ``xai-fast bench``'s options."""
    p = add_arguments(
        argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    )
    args = p.parse_args(argv)
    tail = sys.argv[1:] if argv is None else list(argv)
    run_from_args(args, command=" ".join(["python -m benchmarks"] + tail))
    return 0

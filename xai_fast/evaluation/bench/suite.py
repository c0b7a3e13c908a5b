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
gradients are not Shapley values, nor are the Owen values of the Partition explainer on the
superpixel and text problems: they are scored by their rank correlation with the reference
library's (the note adds the relative and the largest absolute difference).

The pieces: :mod:`.prepare` (counting models, exact values), :mod:`.timing` (warm-up, rounds,
the model alone), :mod:`.metrics`, :mod:`.curve` (error against budget) and :mod:`.machine`
(versions, load); :mod:`.report` and :mod:`.figures` write the results, :mod:`.command` is the
command line.
"""

from __future__ import annotations

import logging
import statistics
import time
import warnings
from dataclasses import replace

import numpy as np

from ..._validation import check_positive_int
from .curve import BUDGET_CURVE, error_against_budget
from .machine import load_average, run_meta
from .metrics import rank_corr, rel_error
from .prepare import Setup, setup_problem
from .problems import build, specs
from .records import record
from .runners import TabularWork, methods, missing_reference
from .timing import ModelAlone, attempt, time_all

__all__ = ["run_suite"]


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
        Which problems (see :func:`xai_fast.evaluation.bench.problems.specs`); ``"smoke"`` is a tiny
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
        with the keys :data:`~xai_fast.evaluation.bench.records.FIELDS`) and ``"error_vs_budget"``.
    """
    repeats = check_positive_int(repeats, "repeats")
    say = progress or (lambda line: None)
    chosen = [s for s in specs(mode) if s.matches(problems)]
    if not chosen:
        names = [s.name for s in specs(mode)]
        raise ValueError(f"no problem matches {problems}; the {mode} problems are {names}.")
    meths = methods()
    curve_name, budgets, seeds = BUDGET_CURVE[mode]
    records, curve = [], []
    start, load_start = time.perf_counter(), load_average()
    with warnings.catch_warnings(), _quiet_logs():
        warnings.simplefilter("ignore")
        skips = {lib: missing_reference(lib) for lib in dict.fromkeys(m.library for m in meths)}
        for spec in chosen:
            t = time.perf_counter()
            setup = setup_problem(build(spec, seed=seed), seed)
            p = setup.problem
            say(f"{p.name}: {p.description} (set up in {time.perf_counter() - t:.1f} s)")
            records += _run_problem(setup, meths, skips, repeats, seed, say)
            if budget_curve and p.name == curve_name and setup.exact is not None:
                say(f"{p.name}: error against budget")
                curve = error_against_budget(setup, budgets, seeds, say)
    meta = run_meta(mode, repeats, seed, time.perf_counter() - start, skips)
    meta["load_average"] = [load_start, load_average()]
    return {"meta": meta, "records": records, "error_vs_budget": curve}


def _game_error(setup: Setup, method, seed: int):
    """Error and rank correlation of ``method`` on a pairwise game of the problem's sizes."""
    from ...testing import pairwise_game

    p = setup.problem
    game = pairwise_game(p.n_features, seed, n_background=p.n_background)
    rows = game.rows(len(p.rows), seed=seed)
    work = TabularWork(
        game.model, game.model, game.background, rows, game.background, p.nsamples,
        p.lime_samples, seed,
    )  # fmt: skip
    values, note = attempt(method, work)
    if note is not None:
        return None, None
    exact = game.shapley_values(rows)
    return rel_error(values, exact), rank_corr(values, exact)


def _run_problem(setup: Setup, meths, skips, repeats, seed, say) -> list[dict]:
    """The records of every method that applies to the problem of ``setup``."""
    p = setup.problem
    meths = [m for m in meths if m.applies(p)]
    runnable = [m for m in meths if skips[m.library] is None]
    timings, failed = time_all(setup, runnable, repeats, ModelAlone(p, seed), say)
    by_key = {}
    for m in meths:
        if m.key not in timings:
            by_key[m.key] = record(p, m, note=skips[m.library] or failed[m.key])
            continue
        tm = timings[m.key]
        rec = record(
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
            values, note = attempt(m, replace(setup.work, seed=seed + 1))
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
                gap = float(np.abs(mine.values - theirs.values).max())
                rec["rank_corr"] = ref["rank_corr"] = rho
                notes.append(
                    f"rank corr. with {m.reference}; rel. difference {diff:.2g}; "
                    f"max abs. difference {gap:.2g}"
                )
                ref["note"] = f"rank corr. with xai_fast {m.name}"
                if noise.get(m.reference) is not None:
                    ref["note"] += f"; {noise[m.reference]:.3f} with itself at another seed"
        rec["note"] = "; ".join(notes)


class _quiet_logs:
    """shap, lime, captum and our own explainers log at INFO and WARNING while they work (a
    warm-up on a sub-problem, say); keep those lines off the progress."""

    NAMES = ("shap", "lime", "captum", "xai_fast")

    def __enter__(self):
        self.levels = {}
        for name in self.NAMES:
            logger = logging.getLogger(name)
            self.levels[name] = logger.level
            logger.setLevel(logging.ERROR)

    def __exit__(self, *exc):
        for name, level in self.levels.items():
            logging.getLogger(name).setLevel(level)


def _progress_line(rec) -> str:
    lead = f"  {rec['library'] + ' ' + rec['method']:<44}"
    if rec["seconds"] is None:
        return f"{lead} {rec['note']}"
    err = "" if rec["rel_error"] is None else f"   rel. error {rec['rel_error']:.2g}"
    return (
        f"{lead} {rec['seconds']:8.3f} s   model alone {rec['model_seconds']:7.3f} s   "
        f"{rec['evaluations']:>11,} model rows{err}"
    )

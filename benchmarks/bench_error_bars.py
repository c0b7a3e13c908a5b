"""Are Kernel SHAP's error bars honest? Calibration and ``tol=`` stopping on the estimator zoo.

The models, rows and exact values are those of ``bench_estimator_zoo.py``. For every model,
sampler and seed, ``KernelExplainer(..., sampler=s)(rows, nsamples=budget, error_bars=True)``
gives values and standard errors; against the exact values:

* ``ratio``: reported over actual error, ``sqrt(sum std^2 / sum err^2)`` pooled over the
  explained rows and the seeds (1 is honest, above 1 conservative);
* ``cover``: the fraction of (seed, row, feature) values whose truth lies within two reported
  standard errors (nominally 95%);
* a model whose estimate is exact to rounding (relative error below 1e-9) shows ``exact``, and
  every value counts as covered when its error is below 1e-9 of the row's scale.

``tol=t`` (``--tol``, started at 512 coalitions): the budget doubles until the reported errors
are small (see ``docs/estimators.md``); the table gives, per model, the largest achieved error
``max |err| / spread`` of a row over ``t`` across rows and seeds (at most 1 meets the
tolerance), the fraction of rows that meet it, and the median number of coalitions used.

    python benchmarks/bench_error_bars.py [--quick] [--seeds 5] [--budget 2048] [--tol 0.01]
        [--samplers shap auto] [--models SUBSTRING ...] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date

import numpy as np
import torch
from bench_estimator_zoo import build_problems
from common import Counting

import xai_fast as xf

EXACT = 1e-9  # relative error below which an estimate is exact to rounding
TOL_START = 512


def calibration(prob, sampler, budget, seeds):
    """``(ratio, cover, rel_error)`` pooled over seeds and the problem's games."""
    rep = act = norm = 0.0
    covered = count = 0
    for seed in seeds:
        for f, B, rows, exact in prob.parts:
            e = xf.KernelExplainer(f, B, seed=seed, sampler=sampler)
            out = e(rows, nsamples=budget, l1_reg=False, silent=True, error_bars=True)
            v, std = out.values.reshape(rows.shape), out.error_std.reshape(rows.shape)
            err = np.abs(v - exact)
            scale = np.abs(exact).max(axis=1, keepdims=True)
            rep += float((std**2).sum())
            act += float((err**2).sum())
            norm += float((exact**2).sum())
            covered += int(((err <= 2 * std) | (err <= EXACT * scale)).sum())
            count += err.size
    rel = np.sqrt(act / norm)
    ratio = None if rel < EXACT else np.sqrt(rep / act)
    return ratio, covered / count, rel


def tol_check(prob, sampler, tol, seeds):
    """``(worst achieved / tol, fraction of rows meeting tol, median coalitions per row)``."""
    worst, met, used = [], [], []
    for seed in seeds:
        for f, B, rows, exact in prob.parts:
            g = Counting(f)
            e = xf.KernelExplainer(g, B, seed=seed, sampler=sampler)
            base = g.rows
            v = np.asarray(e.shap_values(rows, nsamples=TOL_START, tol=tol, silent=True))
            v = v.reshape(rows.shape)
            spread = exact.max(axis=1) - exact.min(axis=1)
            achieved = np.abs(v - exact).max(axis=1) / spread / tol  # (rows,)
            worst.append(achieved.max())
            met += list(achieved <= 1.0)
            used.append((g.rows - base - len(rows)) / (len(B) * len(rows)))
    return max(worst), float(np.mean(met)), float(np.median(used))


def _fmt(x, spec):
    return "exact" if x is None else format(x, spec)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 seeds, the zoo's quick models")
    p.add_argument("--seeds", type=int, default=None, help="seeds (default 5; 3 with --quick)")
    p.add_argument("--budget", type=int, default=2048)
    p.add_argument("--tol", type=float, default=0.01, help="0 skips the tol check")
    p.add_argument("--samplers", nargs="+", default=["shap", "auto"])
    p.add_argument("--models", nargs="+", default=None, help="only models whose name has one")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as markdown")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    seeds = range(args.seeds or (3 if args.quick else 5))
    t0 = time.perf_counter()
    probs = build_problems(args.quick)
    if args.models:
        probs = [q for q in probs if any(m in q.name for m in args.models)]
    print(f"models and truths built in {time.perf_counter() - t0:.0f} s", flush=True)
    cols = [f"{s} {c}" for s in args.samplers for c in ("ratio", "cover")]
    if args.tol:
        cols += [f"{s} tol {k}" for s in args.samplers for k in ("worst", "met", "budget")]
    lines = ["| model | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for prob in probs:
        t = time.perf_counter()
        cells = []
        for s in args.samplers:
            ratio, cover, rel = calibration(prob, s, args.budget, seeds)
            cells += [_fmt(ratio, ".2f"), f"{cover:.1%}"]
        if args.tol:
            for s in args.samplers:
                worst, met, used = tol_check(prob, s, args.tol, seeds)
                cells += [f"{worst:.2f}", f"{met:.0%}", f"{used:,.0f}"]
        lines.append(f"| {prob.name} | " + " | ".join(cells) + " |")
        print(lines[-1], f"({time.perf_counter() - t:.0f} s)", flush=True)
    head = (
        f"{len(seeds)} seeds, {args.budget:,} coalitions, tol={args.tol}; {date.today()}, "
        f"{platform.machine()}, {time.perf_counter() - t0:.0f} s in all"
    )
    print("\n" + head + "\n" + "\n".join(lines))
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write("\n".join([head, "", *lines, ""]))


if __name__ == "__main__":
    main()

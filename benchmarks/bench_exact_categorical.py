"""Exact Shapley values on mostly categorical data: xai_fast.ExactExplainer against shap's Exact.

An adult-like table built offline: ``make_classification`` with 12 features, 8 of them binned
into 2-10 integer-coded levels, 4 left continuous; a scikit-learn gradient-boosting classifier
fitted on it. Both explainers value the same rows against the same 100-row background (shap:
``maskers.Independent(background, max_samples=100)``) and call ``predict_proba``. Both skip
perturbed rows that repeat, so the model rows each sends are counted (a wrapper) and reported
with the wall times. A second table has two of the continuous columns zero in 90% of the rows,
as adult's capital gain and loss are, where shap skips many more rows.

The runs alternate (ours, shap; shap, ours; ...) and the speed-up is the median of the
per-round ratios, since the machine's speed drifts between rounds.

Usage::

    python benchmarks/bench_exact_categorical.py [--rounds 3] [--rows 10]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import warnings

import numpy as np
from common import Counting
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier

import xai_fast as xf

warnings.filterwarnings("ignore")
logging.getLogger("shap").setLevel(logging.ERROR)

LEVELS = (2, 3, 4, 5, 6, 8, 10, 7)  # levels of the 8 categorical columns; 4 stay continuous


def adult_like(n_rows: int, seed: int = 0, sparse: bool = False):
    """``(X, y)``: 12 features, the first 8 integer-coded categories (quantile bins); with
    ``sparse``, two of the 4 continuous columns are zero in 90% of the rows (as adult's capital
    gain and loss)."""
    X, y = make_classification(
        n_samples=n_rows, n_features=12, n_informative=6, n_redundant=2, random_state=seed
    )
    for c, L in enumerate(LEVELS):
        edges = np.quantile(X[:, c], np.linspace(0, 1, L + 1)[1:-1])
        X[:, c] = np.digitize(X[:, c], edges)
    if sparse:
        rng = np.random.default_rng(seed)
        X[:, 8:10] = np.where(rng.random((n_rows, 2)) < 0.9, 0.0, np.abs(X[:, 8:10]))
    return X, y


def compare(shap, data, y, N, n, rounds):
    """Median seconds of each, the median per-round ratio, rows sent and the largest gap."""
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0)
    model.fit(data[:2000], y[:2000])
    B, X = data[2000 : 2000 + N], data[2000 + N :]
    ours_f, shap_f = Counting(model.predict_proba), Counting(model.predict_proba)
    ours = xf.ExactExplainer(ours_f, B)
    ref = shap.explainers.Exact(shap_f, shap.maskers.Independent(B, max_samples=N))
    ours.shap_values(X[:1], silent=True)  # compile the kernels once
    ref(X[:1], silent=True)
    runs = {
        "ours": (ours_f, lambda: ours.shap_values(X, silent=True)),
        "shap": (shap_f, lambda: ref(X, silent=True).values),
    }
    times = {k: [] for k in runs}
    values, ratios = {}, []
    for r in range(rounds):
        for name in ("ours", "shap") if r % 2 == 0 else ("shap", "ours"):
            counter, fn = runs[name]
            counter.rows = 0
            t = time.perf_counter()
            values[name] = fn()
            times[name].append(time.perf_counter() - t)
        ratios.append(times["shap"][-1] / times["ours"][-1])
    return {
        "t_ours": statistics.median(times["ours"]),
        "t_shap": statistics.median(times["shap"]),
        "ratio": statistics.median(ratios),
        "rows_ours": ours_f.rows,
        "rows_shap": shap_f.rows,
        "gap": float(np.abs(values["ours"] - values["shap"]).max()),
    }


def main(argv=None):
    import shap

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rows", type=int, default=10)
    args = p.parse_args(argv)
    N, n = 100, args.rows
    print(
        f"exact Shapley values, 12 features (8 categorical), {N}-row background, {n} rows, "
        "GradientBoostingClassifier.predict_proba"
    )
    for sparse, label in ((False, "4 continuous columns"), (True, "2 of them 90% zeros")):
        data, y = adult_like(2000 + N + n, sparse=sparse)
        r = compare(shap, data, y, N, n, args.rounds)
        print(f"  {label}:")
        print(f"    xai_fast.ExactExplainer  {r['t_ours']:8.3f} s  {r['rows_ours']:>10,} rows")
        print(f"    shap.explainers.Exact    {r['t_shap']:8.3f} s  {r['rows_shap']:>10,} rows")
        print(
            f"    speed-up (median of {args.rounds} rounds) {r['ratio']:.2f}x, model rows "
            f"ours/shap {r['rows_ours'] / r['rows_shap']:.3f}, max |ours - shap| {r['gap']:.1e}"
        )


if __name__ == "__main__":
    main()

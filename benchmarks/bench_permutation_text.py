"""PermutationExplainer with a Text masker against shap's, side by side in one run.

A TF-IDF + logistic regression pipeline fitted on 48 made-up sentences explains 10 sentences of
13 tokens with ``shap.maskers.Text()`` / ``xf.maskers.Text()``, ``max_evals=500``, seed 0.
Beside each explainer's wall time, the model's own time inside it and the rows and calls it
got (shap: one call per row and order; here: every order of every row together, each distinct
masked string once). A warm-up call first (Numba compiles shap's tree shuffle). Rounds
alternate; reported are medians and the median of per-round ratios.

    python benchmarks/bench_permutation_text.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from common import alternating_rounds, median_ratio

import xai_fast as xf

warnings.filterwarnings("ignore")


class Timed:
    """The pipeline's ``predict_proba``, counting its time, rows and calls."""

    def __init__(self, fn):
        self.fn, self.seconds, self.rows, self.calls = fn, 0.0, 0, 0

    def __call__(self, strings):
        t = time.perf_counter()
        out = self.fn(list(strings))
        self.seconds += time.perf_counter() - t
        self.rows, self.calls = self.rows + len(strings), self.calls + 1
        return out


def main(repeats: int) -> None:
    import shap
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    good, bad = "good great fine lovely superb".split(), "bad awful dull boring poor".split()
    filler = "the film was a story and it is very long plot actors scene music ending".split()
    labels = rng.integers(0, 2, 48)
    train = [" ".join(list(rng.choice(filler, 8, replace=False)) + [rng.choice(good if y else bad)])
             for y in labels]  # fmt: skip
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(train, labels)
    texts = [" ".join(list(rng.choice(filler, 12, replace=False)) + [rng.choice(good + bad)])
             for _ in range(10)]  # fmt: skip
    models = {"ours": Timed(pipe.predict_proba), "ref": Timed(pipe.predict_proba)}
    make = {
        "ours": lambda: xf.PermutationExplainer(models["ours"], xf.maskers.Text(), seed=0),
        "ref": lambda: shap.explainers.Permutation(models["ref"], shap.maskers.Text(), seed=0),
    }
    for k in make:  # warm-up
        make[k]()(texts[:1], max_evals=100, silent=True)
        models[k].seconds = models[k].rows = models[k].calls = 0
    fns = {k: (lambda k=k: make[k]()(texts, max_evals=500, silent=True)) for k in make}
    times, _ = alternating_rounds(fns, repeats)
    for k, name in (("ours", "xai_fast"), ("ref", "shap")):
        m = models[k]
        print(f"{name:9s} {statistics.median(times[k]):.3f} s; model {m.seconds / repeats:.3f} s, "
              f"{m.rows // repeats} rows in {m.calls // repeats} calls per run")  # fmt: skip
    ratio = median_ratio(times, "ours", "ref")
    print(f"speed-up (shap / xai_fast, median of rounds): {ratio:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    main(parser.parse_args().repeats)

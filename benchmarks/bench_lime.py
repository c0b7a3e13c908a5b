"""Tabular LIME: ``explain_instances`` against a loop of ``lime``'s ``explain_instance``.

Issue target: 20 rows, 12 features, 5000 samples each, at least 10x faster than the lime loop.
Both sides explain the same rows of the same model with the same settings; the timings are
interleaved (ours, lime, ours, lime, ...) and the ratio is the median of per-round ratios.

    python benchmarks/bench_lime.py [--repeats 7] [--rows 20] [--samples 5000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import xai_fast as xf


def _models(X, y):
    """A scikit-learn pipeline and a small torch MLP, both as ``predict_proba`` callables."""
    sk = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    torch.manual_seed(0)
    mu, sd = X.mean(0), X.std(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 2),
        torch.nn.Softmax(1),
    ).eval()

    def mlp(A):
        with torch.inference_mode():
            t = torch.from_numpy(((A - mu) / sd).astype(np.float32))
            return net(t).double().numpy()

    return {"sklearn logistic": sk.predict_proba, "torch MLP": mlp}


def run_case(name, f, X, rows, settings, samples, repeats):
    """Median times of both sides and the median per-round ratio."""
    import lime.lime_tabular

    ours = xf.LimeTabularExplainer(X, random_state=0, **settings)
    ref = lime.lime_tabular.LimeTabularExplainer(X, random_state=0, **settings)
    ours.explain_instances(rows[:2], f, num_samples=samples)  # compile the kernels
    t_ours, t_ref = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        ours.explain_instances(rows, f, num_samples=samples)
        t_ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        for x in rows:
            ref.explain_instance(x, f, num_samples=samples)
        t_ref.append(time.perf_counter() - t)
    ratio = statistics.median(r / o for r, o in zip(t_ref, t_ours, strict=True))
    return {
        "case": name,
        "ours_s": statistics.median(t_ours),
        "lime_s": statistics.median(t_ref),
        "ratio": ratio,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--rows", type=int, default=20)
    p.add_argument("--samples", type=int, default=5000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :12]  # 12 features, as in the target
    rows = X[np.random.default_rng(0).choice(len(X), args.rows, replace=False)]
    cases = {
        "quartile (default)": {},
        "no discretization": {"discretize_continuous": False},
        "around instance": {"discretize_continuous": False, "sample_around_instance": True},
    }
    results = []
    for model_name, f in _models(X, y).items():
        for case, settings in cases.items():
            r = run_case(f"{model_name}, {case}", f, X, rows, settings, args.samples, args.repeats)
            results.append(r)
            if not args.json:
                print(
                    f"{r['case']:<45} xai_fast {r['ours_s'] * 1e3:8.1f} ms   lime "
                    f"{r['lime_s'] * 1e3:8.1f} ms   lime / xai_fast {r['ratio']:6.1f}x"
                )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Exact Shapley values: xai_fast.ExactExplainer against shap's Exact explainer, side by side.

Same torch MLP, same 100-row background (shap: ``maskers.Independent(max_samples=100)``),
same 20 rows, 10 features. Reports median wall times, the ratio, and the largest difference
from brute-force enumeration for both.

Usage::

    python benchmarks/bench_exact.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import logging
import warnings

import numpy as np
import torch
from common import brute_force_shapley, median_time
from sklearn.datasets import make_classification

import xai_fast as xf

warnings.filterwarnings("ignore")
logging.getLogger("shap").setLevel(logging.ERROR)


def main(argv=None):
    import shap

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    d, N, n = 10, 100, 20
    data, _ = make_classification(n_samples=N + n, n_features=d, random_state=0)
    B, X = data[:N], data[N:]
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(d, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 1),
    ).eval()

    def f(Z):
        with torch.inference_mode():
            return net(torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float32))).numpy()[:, 0]

    exact = brute_force_shapley(f, X, B)
    ours = xf.ExactExplainer(net, B)
    ours.shap_values(X[:1], silent=True)  # compile kernels once
    t_ours, v_ours = median_time(lambda: ours.shap_values(X, silent=True)[..., 0], args.repeats)
    masker = shap.maskers.Independent(B, max_samples=N)
    ref = shap.explainers.Exact(f, masker)
    t_shap, v_shap = median_time(lambda: ref(X, silent=True).values, 1)
    print(f"exact Shapley values, {d} features, {N}-row background, {n} rows, torch MLP")
    print(
        f"  xai_fast.ExactExplainer   {t_ours:8.3f} s   max |error| vs brute force "
        f"{np.abs(v_ours - exact).max():.2e}"
    )
    print(
        f"  shap.explainers.Exact     {t_shap:8.3f} s   max |error| vs brute force "
        f"{np.abs(v_shap - exact).max():.2e}"
    )
    print(f"  speed-up: {t_shap / t_ours:.1f}x")


if __name__ == "__main__":
    main()

"""Permutation methods against their references, side by side in one run.

- ``PermutationExplainer`` against ``shap.PermutationExplainer``: a 16-feature torch MLP
  (ours gets the module, shap a numpy callable of it), a 20-row background, 20 rows, the same
  ``max_evals`` and seed (so the same feature orders); error of each against exact Shapley
  values (all ``2**16`` coalitions), and model rows of each.
- ``FeaturePermutation`` against ``captum.attr.FeaturePermutation``: a small CNN on 3x32x32
  images, 16 patches, 20 images, the same torch seed (so the same permutations); captum with
  ``perturbations_per_eval`` 1 (its default) and 16.

Rounds alternate ours and the reference; reported are medians and the median of per-round
ratios.

    python benchmarks/bench_permutation.py [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import warnings

import numpy as np
import torch
from common import (
    Counting,
    alternating_rounds,
    brute_force_shapley,
    make_mlp,
    median_ratio,
    print_results,
    torch_callable,
)

import xai_fast as xf

warnings.filterwarnings("ignore")


def permutation_vs_shap(repeats: int) -> dict:
    import shap

    d, N, n, max_evals, seed = 16, 20, 20, 500, 0
    net = make_mlp(d, (64, 64), seed=0)
    rng = np.random.default_rng(0)
    B, X = rng.normal(size=(N, d)), rng.normal(size=(n, d))
    fn = torch_callable(net)
    masker = shap.maskers.Independent(B, max_samples=N)

    def ours():
        return xf.PermutationExplainer(net, B, seed=seed)(X, max_evals=max_evals, silent=True)

    def ref():
        return shap.PermutationExplainer(fn, masker, seed=seed)(X, max_evals=max_evals, silent=True)

    times, _ = alternating_rounds({"ours": ours, "ref": ref}, repeats)
    exact = brute_force_shapley(fn, X, B)
    a, b = ours().values.reshape(n, d), ref().values.reshape(n, d)
    counted_ours, counted_ref = Counting(fn), Counting(fn)
    xf.PermutationExplainer(counted_ours, B, seed=seed)(X, max_evals=max_evals, silent=True)
    shap.PermutationExplainer(counted_ref, masker, seed=seed)(X, max_evals=max_evals, silent=True)

    def err(v):
        return float(np.linalg.norm(v - exact) / np.linalg.norm(exact))

    return {
        "ours_s": statistics.median(times["ours"]),
        "shap_s": statistics.median(times["ref"]),
        "speedup": median_ratio(times, "ours", "ref"),
        "rel_error_ours": err(a),
        "rel_error_shap": err(b),
        "max_abs_diff": float(np.abs(a - b).max()),
        "model_rows_ours": counted_ours.rows,
        "model_rows_shap": counted_ref.rows,
    }


def feature_permutation_vs_captum(repeats: int) -> dict:
    from captum.attr import FeaturePermutation as CaptumFP

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(4),
        torch.nn.Flatten(), torch.nn.Linear(512, 10),
    ).eval()  # fmt: skip
    x = torch.randn(20, 3, 32, 32)
    r = torch.arange(32) // 8
    mask = (r[:, None] * 4 + r[None, :]).expand(1, 3, 32, 32)  # 16 patches of 8x8

    def seeded(fn):
        def run():
            torch.manual_seed(1)
            return fn()

        return run

    ours = seeded(lambda: xf.FeaturePermutation(net).attribute(x, target=3, feature_mask=mask))
    ref1 = seeded(lambda: CaptumFP(net).attribute(x, target=3, feature_mask=mask))
    ref16 = seeded(lambda: CaptumFP(net).attribute(x, target=3, feature_mask=mask,
                                                   perturbations_per_eval=16))  # fmt: skip
    times, _ = alternating_rounds({"ours": ours, "ref1": ref1, "ref16": ref16}, repeats)
    with torch.no_grad():
        diff = float((ours() - ref1()).abs().max())

    def ratio(k):
        return median_ratio(times, "ours", k)

    return {
        "ours_s": statistics.median(times["ours"]),
        "captum_ppe1_s": statistics.median(times["ref1"]),
        "captum_ppe16_s": statistics.median(times["ref16"]),
        "speedup_ppe1": ratio("ref1"),
        "speedup_ppe16": ratio("ref16"),
        "max_abs_diff": diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {
        "permutation_vs_shap": permutation_vs_shap(args.repeats),
        "feature_permutation_vs_captum": feature_permutation_vs_captum(args.repeats),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print_results(result, 18)


if __name__ == "__main__":
    main()

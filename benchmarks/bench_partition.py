"""PartitionExplainer against ``shap.PartitionExplainer``, side by side in one run.

- images: a small torch CNN on 8 random 16x16x3 images (channel-last, shap's layout), shap's
  image masker (mask value 0, the axis-aligned hierarchy of 768 elements), ``max_evals=500``;
  ours gets the module, shap a numpy callable of it. Beside them, the model's own time on the
  rows shap evaluates (one batched call: the floor of any method).
- tables: ``load_diabetes`` with a gradient-boosting model, ``shap.maskers.Partition`` (100
  background rows, correlation clustering), 20 rows.
- text: a word-weight classifier on synthetic sentences, ``shap.maskers.Text()``.

Same hierarchy and ``max_evals`` for both: the values agree (``max_abs_diff``). Rounds
alternate ours and shap's; reported are medians and the median of per-round ratios.

    python benchmarks/bench_partition.py [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import numpy as np
import torch
from common import Counting, alternating_rounds, median_ratio, print_results

import xai_fast as xf

warnings.filterwarnings("ignore")


class NHWC(torch.nn.Module):
    """A small CNN on channel-last images."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(64, 10), torch.nn.Softmax(-1),
        )  # fmt: skip

    def forward(self, x):
        return self.net(x.permute(0, 3, 1, 2))


def _numpy(net):
    def f(X):
        with torch.inference_mode():
            return net(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))).numpy()

    return f


def _side_by_side(ours, ref, repeats: int) -> dict:
    times, _ = alternating_rounds({"ours": ours, "ref": ref}, repeats)
    return {
        "ours_s": statistics.median(times["ours"]),
        "shap_s": statistics.median(times["ref"]),
        "speedup": median_ratio(times, "ours", "ref"),
    }


def _diff(a, b) -> float:
    return float(max(np.abs(np.asarray(x, float) - np.asarray(y, float)).max()
                     for x, y in zip(a, b, strict=True)))  # fmt: skip


def images(repeats: int) -> dict:
    import shap

    net = NHWC().eval()
    f = _numpy(net)
    X = np.random.default_rng(0).random((8, 16, 16, 3)).astype(np.float32)
    masker = shap.maskers.Image(0.0, (16, 16, 3))

    def ours():
        return xf.PartitionExplainer(net, masker)(X, max_evals=500, silent=True)

    def ref():
        return shap.PartitionExplainer(f, masker)(X, max_evals=500, silent=True)

    out = _side_by_side(ours, ref, repeats)
    counted_ours, counted_ref = Counting(f), Counting(f)
    a = xf.PartitionExplainer(counted_ours, masker)(X, max_evals=500, silent=True)
    b = shap.PartitionExplainer(counted_ref, masker)(X, max_evals=500, silent=True)
    rows = np.random.default_rng(1).random((counted_ref.rows, 16, 16, 3)).astype(np.float32)
    model_s = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(rows)
        model_s.append(time.perf_counter() - t)
    out.update(
        model_on_shaps_rows_s=statistics.median(model_s),
        max_abs_diff=_diff(a.values, b.values),
        model_rows_ours=counted_ours.rows,
        model_rows_shap=counted_ref.rows,
    )
    return out


def tables(repeats: int) -> dict:
    import shap
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = load_diabetes(return_X_y=True)
    model = GradientBoostingRegressor(n_estimators=50, random_state=0).fit(X, y)
    masker = shap.maskers.Partition(X[:100], clustering="correlation")
    rows = X[100:120]

    def ours():
        return xf.PartitionExplainer(model.predict, masker)(rows, max_evals=500, silent=True)

    def ref():
        return shap.PartitionExplainer(model.predict, masker)(rows, max_evals=500, silent=True)

    out = _side_by_side(ours, ref, repeats)
    out["max_abs_diff"] = _diff(ours().values, ref().values)
    return out


def texts(repeats: int) -> dict:
    import shap

    rng = np.random.default_rng(0)
    words = "the movie was good bad great awful , and but not really plot ( fun ) .".split()
    sentences = [" ".join(rng.choice(words, size=int(rng.integers(6, 16)))) for _ in range(20)]
    weights = {w: rng.normal() for w in words}

    def f(strings):
        s = np.array([sum(weights.get(t, 0.0) for t in x.split()) for x in strings])
        p = 1 / (1 + np.exp(-s))
        return np.stack([p, 1 - p], axis=1)

    def ours():
        return xf.PartitionExplainer(f, xf.maskers.Text())(sentences, max_evals=100, silent=True)

    def ref():
        return shap.PartitionExplainer(f, shap.maskers.Text())(sentences, max_evals=100,
                                                               silent=True)  # fmt: skip

    out = _side_by_side(ours, ref, repeats)
    out["max_abs_diff"] = _diff(ours().values, ref().values)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    xf.PartitionExplainer(lambda A: A.sum(1), xf.maskers.Partition(np.eye(3)))(np.ones((1, 3)))
    result = {
        "images_16x16x3": images(args.repeats),
        "tables_diabetes": tables(args.repeats),
        "texts": texts(args.repeats),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print_results(result, 22)


if __name__ == "__main__":
    main()

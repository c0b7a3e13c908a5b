"""DeepLiftShap against ``captum.attr.DeepLiftShap`` and DeepExplainer against
``shap.DeepExplainer``, side by side in one run.

A small CNN on 3x32x32 images (conv, ReLU, max pooling, conv, ReLU, average pooling, linear),
20 images, 100 background images: 2,000 (image, baseline) pairs for both. Reported: median
seconds of each, the median of per-round ratios, and each one's completeness error
``max |sum(attr) - (f(x) - mean f(background))| / |f(x) - mean f(background)|`` (captum's
max-pool rule misses it). A second net without max pooling, where both rule sets are right,
gives the largest difference between the two attributions.

``DeepExplainer`` explains all 10 outputs of the same net for the same images and background,
as shap's does by default (shap: one forward and backward per image and output); reported with
the largest difference from shap's values relative to their largest magnitude.

Rounds alternate ours and the reference's.

    python benchmarks/bench_deep_lift.py [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import warnings

import torch
from common import alternating_rounds, median_ratio, print_results, small_cnn

import xai_fast as xf

warnings.filterwarnings("ignore")


def _miss(net, attrs, x, bg, target) -> float:
    with torch.no_grad():
        diff = net(x)[:, target] - net(bg)[:, target].mean()
    total = attrs.detach().reshape(len(x), -1).sum(1)
    return float(((total - diff).abs() / diff.abs()).max())


def deep_lift_shap_vs_captum(repeats: int) -> dict:
    from captum.attr import DeepLiftShap as CaptumDLS

    g = torch.Generator().manual_seed(1)
    x = torch.randn(20, 3, 32, 32, generator=g)
    bg = torch.randn(100, 3, 32, 32, generator=g)
    net = small_cnn(torch.nn.MaxPool2d(2))
    fns = {
        "ours": lambda: xf.DeepLiftShap(net).attribute(x, bg, target=3),
        "captum": lambda: CaptumDLS(net).attribute(x, bg, target=3),
    }
    times, out = alternating_rounds(fns, repeats)
    plain = small_cnn(torch.nn.AvgPool2d(2))
    a = xf.DeepLiftShap(plain).attribute(x[:4], bg[:25], target=3)
    b = CaptumDLS(plain).attribute(x[:4], bg[:25], target=3).detach()
    return {
        "ours_s": statistics.median(times["ours"]),
        "captum_s": statistics.median(times["captum"]),
        "speedup": median_ratio(times, "ours", "captum"),
        "ours_completeness_error": _miss(net, out["ours"], x, bg, 3),
        "captum_completeness_error": _miss(net, out["captum"], x, bg, 3),
        "no_maxpool_max_rel_diff": float((a - b).abs().max() / b.abs().max()),
    }


def deep_explainer_vs_shap(repeats: int) -> dict:
    import numpy as np
    import shap

    g = torch.Generator().manual_seed(2)
    x = torch.randn(20, 3, 32, 32, generator=g)
    bg = torch.randn(100, 3, 32, 32, generator=g)
    net = small_cnn(torch.nn.MaxPool2d(2))
    fns = {
        "ours": lambda: xf.DeepExplainer(net, bg).shap_values(x),
        "shap": lambda: shap.DeepExplainer(net, bg).shap_values(x, check_additivity=False),
    }
    times, out = alternating_rounds(fns, repeats)
    return {
        "ours_s": statistics.median(times["ours"]),
        "shap_s": statistics.median(times["shap"]),
        "speedup": median_ratio(times, "ours", "shap"),
        "max_rel_diff": float(np.abs(out["ours"] - out["shap"]).max() / np.abs(out["shap"]).max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {
        "deep_lift_shap_vs_captum": deep_lift_shap_vs_captum(args.repeats),
        "deep_explainer_vs_shap": deep_explainer_vs_shap(args.repeats),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print_results(result, 26)


if __name__ == "__main__":
    main()

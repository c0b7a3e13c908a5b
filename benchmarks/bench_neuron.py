"""NeuronConductance against ``captum.attr.NeuronConductance``, side by side in one run.

The CNN of ``bench_layer.py`` on 3x32x32 images (conv, ReLU, max pooling, conv, ReLU,
average pooling, linear), 16 images, 50 steps, one neuron of the second convolution's
output. Rounds alternate ours and captum's; reported: the median seconds of each, the median
of the per-round ratios, the image rows each ran through the model, and the largest
difference between the two attributions relative to their largest magnitude.

    python benchmarks/bench_neuron.py [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import torch
from common import print_results, small_cnn

import xai_fast as xf

warnings.filterwarnings("ignore")


def _count_rows(net) -> list:
    """A forward pre-hook on ``net`` adding the rows of every call to the returned list."""
    seen = [0]
    net.register_forward_pre_hook(lambda m, args: seen.__setitem__(0, seen[0] + len(args[0])))
    return seen


def conductance_vs_captum(repeats: int) -> dict:
    from captum.attr import NeuronConductance as CaptumNC

    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 3, 32, 32, generator=g)
    net = small_cnn()
    rows = _count_rows(net)
    layer, neuron = net[3], (5, 4, 4)
    kw = dict(neuron_selector=neuron, target=3, n_steps=50)
    fns = {
        "ours": lambda: xf.NeuronConductance(net, layer).attribute(x, **kw),
        "captum": lambda: CaptumNC(net, layer).attribute(x, **kw),
    }
    times = {k: [] for k in fns}
    model_rows = {}
    out = {}
    for _ in range(repeats):
        for k, fn in fns.items():
            rows[0] = 0
            t = time.perf_counter()
            out[k] = fn()
            times[k].append(time.perf_counter() - t)
            model_rows[k] = rows[0]
    ref = out["captum"].detach()
    ratios = [c / o for o, c in zip(times["ours"], times["captum"], strict=True)]
    return {
        "ours_s": statistics.median(times["ours"]),
        "captum_s": statistics.median(times["captum"]),
        "speedup": statistics.median(ratios),
        "ours_model_rows": model_rows["ours"],
        "captum_model_rows": model_rows["captum"],
        "max_rel_diff": float((out["ours"] - ref).abs().max() / ref.abs().max()),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    result = {"neuron_conductance": conductance_vs_captum(args.repeats)}
    print(json.dumps(result, indent=2) if args.json else "", end="")
    if not args.json:
        print_results(result)


if __name__ == "__main__":
    main()

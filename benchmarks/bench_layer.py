"""Layer and neuron methods against captum's, side by side in one run.

``layer_conductance``: LayerConductance against ``captum.attr.LayerConductance`` in detail.
``all_methods`` (``--all``): every layer and neuron method with its defaults on the same net,
images and layer, each with its captum twin, rounds alternating.

A small CNN on 3x32x32 images (conv, ReLU, max pooling, conv, ReLU, average pooling, linear),
16 images, 50 steps, the second convolution's output: 816 path points for both, in one batch.
Rounds alternate ours and captum's; reported: the median seconds of each, the median of the
per-round ratios, and the largest difference between the two attributions relative to their
largest magnitude.

``--processes ROUNDS`` adds LayerConductance with each side in a fresh process of its own
(alternating, ``ROUNDS`` each): in one process each side also runs on the heap the other left.

    python benchmarks/bench_layer.py [--repeats 5] [--all] [--processes 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import warnings

import torch
from common import (
    alternating_rounds,
    fresh_process_rounds,
    median_ratio,
    print_results,
    small_cnn,
)

import xai_fast as xf

warnings.filterwarnings("ignore")


def conductance_vs_captum(repeats: int) -> dict:
    from captum.attr import LayerConductance as CaptumLC

    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 3, 32, 32, generator=g)
    net = small_cnn()
    layer = net[3]
    fns = {
        "ours": lambda: xf.LayerConductance(net, layer).attribute(x, target=3, n_steps=50),
        "captum": lambda: CaptumLC(net, layer).attribute(x, target=3, n_steps=50),
    }
    times, out = alternating_rounds(fns, repeats)
    ref = out["captum"].detach()
    return {
        "ours_s": statistics.median(times["ours"]),
        "captum_s": statistics.median(times["captum"]),
        "speedup": median_ratio(times, "ours", "captum"),
        "max_rel_diff": float((out["ours"] - ref).abs().max() / ref.abs().max()),
    }


def _calls(x, bg, layer):
    """``{name: (attribute kwargs)}`` of every layer and neuron method on ``layer``."""
    zeros = torch.zeros_like(x)
    channels = torch.arange(32).reshape(1, 32, 1, 1)  # LayerFeatureAblation: one per channel
    # NeuronFeatureAblation: 64 patches of 4x4 pixels, all channels together
    patches = torch.arange(64).reshape(1, 1, 8, 8).repeat_interleave(4, 2).repeat_interleave(4, 3)
    neuron = (5, 4, 4)
    return {
        "LayerActivation": dict(),
        "LayerGradientXActivation": dict(target=3),
        "LayerIntegratedGradients": dict(target=3, n_steps=50),
        "LayerConductance": dict(target=3, n_steps=50),
        "InternalInfluence": dict(target=3, n_steps=50),
        "LayerGradientShap": dict(baselines=bg, target=3, n_samples=20),
        "LayerDeepLift": dict(baselines=zeros, target=3),
        "LayerDeepLiftShap": dict(baselines=bg, target=3),
        "LayerFeatureAblation": dict(target=3, layer_mask=channels),
        "LayerGradCam": dict(target=3),
        "NeuronGradient": dict(neuron_selector=neuron),
        "NeuronIntegratedGradients": dict(neuron_selector=neuron, n_steps=50),
        "NeuronConductance": dict(neuron_selector=neuron, target=3, n_steps=50),
        "NeuronGradientShap": dict(neuron_selector=neuron, baselines=bg, n_samples=20),
        "NeuronDeepLift": dict(neuron_selector=neuron, baselines=zeros),
        "NeuronDeepLiftShap": dict(neuron_selector=neuron, baselines=bg),
        "NeuronFeatureAblation": dict(neuron_selector=neuron, feature_mask=patches),
        "NeuronGuidedBackprop": dict(neuron_selector=neuron),
        "NeuronDeconvolution": dict(neuron_selector=neuron),
    }


def all_methods(repeats: int) -> dict:
    import captum.attr as ca

    g = torch.Generator().manual_seed(2)
    x = torch.randn(16, 3, 32, 32, generator=g)
    bg = torch.randn(10, 3, 32, 32, generator=g)
    net = small_cnn()
    layer = net[3]
    out = {}
    for name, kw in _calls(x, bg, layer).items():
        fns = {
            "ours": lambda n=name, k=kw: getattr(xf, n)(net, layer).attribute(x, **k),
            "captum": lambda n=name, k=kw: getattr(ca, n)(net, layer).attribute(x, **k),
        }
        for fn in fns.values():  # first calls apart (imports, caches)
            fn()
        times, _ = alternating_rounds(fns, repeats)
        out[name] = {
            "ours_s": statistics.median(times["ours"]),
            "captum_s": statistics.median(times["captum"]),
            "speedup": median_ratio(times, "ours", "captum"),
        }
    return out


def _conductance_alone(who: str, repeats: int) -> float:
    """Median seconds of ``who``'s LayerConductance (``"ours"`` or ``"captum"``) in this
    process, which has run nothing else (after one call apart)."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 3, 32, 32, generator=g)
    net = small_cnn()
    if who == "ours":
        method = xf.LayerConductance(net, net[3])
    else:
        from captum.attr import LayerConductance as CaptumLC

        method = CaptumLC(net, net[3])
    method.attribute(x, target=3, n_steps=50)
    times, _ = alternating_rounds({who: lambda: method.attribute(x, target=3, n_steps=50)}, repeats)
    return statistics.median(times[who])


def conductance_in_processes(rounds: int, repeats: int) -> dict:
    """LayerConductance with each side in a fresh process of its own, as a user runs one
    library (neither inherits the other's heap); the sides alternate, ``rounds`` each."""
    times = fresh_process_rounds(__file__, ["ours", "captum"], rounds, ["--repeats", str(repeats)])
    return {
        "ours_s": statistics.median(times["ours"]),
        "captum_s": statistics.median(times["captum"]),
        "speedup": median_ratio(times, "ours", "captum"),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--all", action="store_true", help="every layer and neuron method")
    p.add_argument("--processes", type=int, default=0, metavar="ROUNDS",
                   help="also LayerConductance with each side in fresh processes")  # fmt: skip
    p.add_argument("--alone", choices=["ours", "captum"], help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.alone:  # one side in this process: its median seconds
        print(_conductance_alone(args.alone, args.repeats))
        return
    result = {"layer_conductance": conductance_vs_captum(args.repeats)}
    if args.processes:
        result["layer_conductance_in_processes"] = conductance_in_processes(
            args.processes, args.repeats
        )
    if args.all:  # one section per method
        result.update(all_methods(args.repeats))
    print(json.dumps(result, indent=2) if args.json else "", end="")
    if not args.json:
        print_results(result)


if __name__ == "__main__":
    main()

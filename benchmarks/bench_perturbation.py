"""FeatureAblation, Occlusion and ShapleyValueSampling against captum's, side by side in one run.

The scenario of the perturbation issue: a small CNN (conv, ReLU, max pooling, conv, ReLU,
average pooling, linear) on 20 random 3x32x32 images, target class 3.

* ``FeatureAblation``: 16 patches of 8x8 pixels (all channels together), zero baseline.
* ``Occlusion``: 8x8 windows over all channels, stride 4 (49 windows).
* ``ShapleyValueSampling``: the 16 patches, 25 permutations, the same draws for both
  (torch's global generator seeded alike before each call).

captum runs with its defaults (``perturbations_per_eval=1``: one call of 20 images per
perturbation) and, as ``captum_batched``, with all of a call's perturbations in one
``perturbations_per_eval``. Ours runs as it comes, and with ``ModelAdapter``'s
``channels_last=False`` as ``ours_contiguous`` (torch's default layout throughout).

Reported per method: median seconds of each, the median of the per-round ratios against
captum's defaults, the model rows each sends on a second call (counted by a wrapper) and the
largest difference from captum's values.

``--processes ROUNDS`` instead runs each side of each method in fresh processes of its own
(alternating, ``ROUNDS`` each), as a user runs one library: in one process each side also runs
on the heap the other left (see docs/layers.md, page faults).

    python benchmarks/bench_perturbation.py [--repeats 5] [--processes 5] [--json]
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

N_IMAGES, TARGET, PERMUTATIONS = 20, 3, 25


class RowCounter(torch.nn.Module):
    """``net``, counting the rows it is given."""

    def __init__(self, net):
        super().__init__()
        self.net, self.rows = net, 0

    def forward(self, x):
        self.rows += x.shape[0]
        return self.net(x)


def _patches() -> torch.Tensor:
    r = torch.arange(32) // 8
    return (r[:, None] * 4 + r[None])[None, None].expand(1, 3, 32, 32).contiguous()


def _cases(x):
    mask = _patches()
    occ = dict(sliding_window_shapes=(3, 8, 8), strides=(3, 4, 4))
    return {
        "FeatureAblation": (dict(feature_mask=mask), 16),
        "Occlusion": (occ, 49),
        "ShapleyValueSampling": (dict(feature_mask=mask, n_samples=PERMUTATIONS), 16),
    }


def _run(cls, net, x, kw, seed=None, **extra):
    if seed is not None:
        torch.manual_seed(seed)
    return cls(net).attribute(x, target=TARGET, **kw, **extra)


def compare(repeats: int) -> dict:
    import captum.attr as ca

    x = torch.randn(N_IMAGES, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    net = small_cnn()
    plain = xf.ModelAdapter(net, channels_last=False)
    result = {}
    for name, (kw, per_eval) in _cases(x).items():
        seed = 0 if name == "ShapleyValueSampling" else None
        ours_cls, ref_cls = getattr(xf, name), getattr(ca, name)

        def ours_contiguous(n=net, k=kw, s=seed, c=ours_cls):
            e = c(n)
            e.adapter = plain  # the same engine with torch's default layout
            if s is not None:
                torch.manual_seed(s)
            return e.attribute(x, target=TARGET, **k)

        fns = {
            "ours": lambda c=ours_cls, k=kw, s=seed: _run(c, net, x, k, s),
            "ours_contiguous": ours_contiguous,
            "captum": lambda c=ref_cls, k=kw, s=seed: _run(c, net, x, k, s),
            "captum_batched": lambda c=ref_cls, k=kw, s=seed, p=per_eval: _run(
                c, net, x, k, s, perturbations_per_eval=p
            ),
        }
        for fn in fns.values():  # first calls apart (the layout trial, caches)
            fn()
        times, out = alternating_rounds(fns, repeats)
        rows = {}
        for who, cls in (("ours", ours_cls), ("captum", ref_cls)):
            counter = RowCounter(net)
            _run(cls, counter, x, kw, seed)  # ours: the layout trial's 4 rows on this call
            counter.rows = 0
            _run(cls, counter, x, kw, seed)
            rows[who] = counter.rows
        ref = out["captum"].detach()
        result[name] = {
            "ours_s": statistics.median(times["ours"]),
            "ours_contiguous_s": statistics.median(times["ours_contiguous"]),
            "captum_s": statistics.median(times["captum"]),
            "captum_batched_s": statistics.median(times["captum_batched"]),
            "speedup": median_ratio(times, "ours", "captum"),
            "speedup_vs_batched": median_ratio(times, "ours", "captum_batched"),
            "ours_rows": rows["ours"],
            "captum_rows": rows["captum"],
            "max_abs_diff": float((out["ours"] - ref).abs().max()),
            "max_abs_value": float(ref.abs().max()),
        }
    return result


def _alone(side: str, repeats: int) -> float:
    """Median seconds of ``side`` (``"ours:Method"`` or ``"captum:Method"``) in this process,
    which has run nothing else (after one call apart)."""
    import captum.attr as ca

    who, name = side.split(":")
    x = torch.randn(N_IMAGES, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    net = small_cnn()
    kw, _ = _cases(x)[name]
    cls = getattr(xf if who == "ours" else ca, name)
    seed = 0 if name == "ShapleyValueSampling" else None
    fns = {side: lambda: _run(cls, net, x, kw, seed)}
    fns[side]()
    times, _ = alternating_rounds(fns, repeats)
    return statistics.median(times[side])


def in_processes(rounds: int, repeats: int) -> dict:
    """Each method with each side in a fresh process of its own (sides alternating)."""
    out = {}
    for name in _cases(torch.zeros(1, 3, 32, 32)):
        sides = [f"ours:{name}", f"captum:{name}"]
        times = fresh_process_rounds(__file__, sides, rounds, ["--repeats", str(repeats)])
        out[name] = {
            "ours_s": statistics.median(times[sides[0]]),
            "captum_s": statistics.median(times[sides[1]]),
            "speedup": median_ratio(times, sides[0], sides[1]),
        }
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument(
        "--processes", type=int, default=0, metavar="ROUNDS",
        help="instead, each side in fresh processes of its own, ROUNDS each",
    )  # fmt: skip
    p.add_argument("--alone", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.alone:  # one side in this process: its median seconds
        print(_alone(args.alone, args.repeats))
        return
    result = in_processes(args.processes, args.repeats) if args.processes else compare(args.repeats)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_results(result)


if __name__ == "__main__":
    main()

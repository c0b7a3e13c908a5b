"""Kernel SHAP, tensor Lime, IG and DeepLiftShap on a GPU: against the model's own time and
against captum.

The cases, per device (CUDA when torch sees one, then the CPU for comparison):

- ``mlp``: :class:`xai_fast.KernelExplainer` on a torch MLP (50 features, 100-row background,
  ``2 * 50 + 2048`` samples) against the model alone on the same number of perturbed rows, in
  chunks of the same size, on the same device.
- ``cnn``: :class:`xai_fast.KernelShap` on a small CNN (3 x 32 x 32 images, 64 patches of 4 x 4,
  2048 samples) against the model alone on the same rows, and ``captum.attr.KernelShap`` with the
  same mask, samples and device (when captum is installed).
- ``lime``, ``ig``, ``deeplift_shap``: tensor ``Lime`` (the same mask, 512 samples),
  ``IntegratedGradients`` (50 steps) and ``DeepLiftShap`` (20 background images) on the same CNN,
  each next to captum's.

On CUDA the table also gives the host synchronisations of one xai_fast call (torch's sync debug
mode). Prints a markdown table; nothing is fetched.

Usage::

    python benchmarks/bench_gpu.py [--repeats 3] [--quick] [--cpu-rows 10] [--cpu-images 4]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from common import make_mlp

import xai_fast as xf
from xai_fast.backends.extension import has_cuda_kernel
from xai_fast.masking.feature_masks import grid_feature_mask
from xai_fast.testing import count_host_syncs

warnings.filterwarnings("ignore")

D, BG, NSAMPLES_MLP = 50, 100, 2 * 50 + 2048
PATCH, NSAMPLES_CNN, IMAGE = 4, 2048, (3, 32, 32)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device, repeats):
    """Median seconds of ``repeats`` calls (after one warm-up call) and the last result."""
    out = fn()
    sync(device)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        sync(device)
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


class RowCounter(torch.nn.Module):
    """The wrapped module, counting the rows it is given (no device sync: shapes only)."""

    def __init__(self, net):
        super().__init__()
        self.net, self.rows, self.chunk = net, 0, 0

    def forward(self, x):
        self.rows += x.shape[0]
        self.chunk = max(self.chunk, x.shape[0])
        return self.net(x)


def model_alone(net, shape, rows, chunk, device, repeats):
    """Seconds the module alone needs for ``rows`` rows of ``shape``, ``chunk`` rows a call."""
    x = torch.randn((chunk, *shape), device=device, dtype=next(net.parameters()).dtype)

    def run():
        with torch.inference_mode():
            left = rows
            while left > 0:
                net(x[: min(chunk, left)])
                left -= chunk

    return timed(run, device, repeats)[0]


def small_cnn(device):
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 8 * 8, 10),
    )  # fmt: skip
    return net.to(device).eval()


def mlp_case(device, n_rows, repeats):
    rng = np.random.default_rng(0)
    net = make_mlp(D, (128, 128)).to(device)
    bg = rng.normal(size=(BG, D)).astype(np.float32)
    X = rng.normal(size=(n_rows, D)).astype(np.float32)
    counter = RowCounter(net)
    explainer = xf.KernelExplainer(counter, bg, seed=0)

    def run():
        return explainer(X, nsamples=NSAMPLES_MLP, l1_reg=False, silent=True).values

    run()  # warm-up, and the rows and chunk size one call sends to the model
    counter.rows, counter.chunk = 0, 0
    run()
    rows, chunk = counter.rows, counter.chunk
    ours, _ = timed(run, device, repeats)
    alone = model_alone(net, (D,), rows, chunk, device, repeats)
    syncs = count_host_syncs(run) if device.type == "cuda" else None
    return dict(case="mlp", rows=n_rows, model_rows=rows, ours=ours, model=alone, captum=None,
                syncs=syncs)  # fmt: skip


def cnn_case(device, n_images, repeats, with_captum):
    torch.manual_seed(1)
    net = small_cnn(device)
    x = torch.randn((n_images, *IMAGE), device=device)
    counter = RowCounter(net)
    ks = xf.KernelShap(counter, seed=0)

    def run():
        return ks.attribute(x, target=0, n_samples=NSAMPLES_CNN, patch_size=PATCH)

    run()
    counter.rows, counter.chunk = 0, 0
    run()
    rows, chunk = counter.rows, counter.chunk
    ours, _ = timed(run, device, repeats)
    alone = model_alone(net, IMAGE, rows, chunk, device, repeats)
    syncs = count_host_syncs(run) if device.type == "cuda" else None
    theirs = None
    if with_captum:
        from captum.attr import KernelShap as CaptumKernelShap

        mask = grid_feature_mask((1, *IMAGE), PATCH).to(device)
        cks = CaptumKernelShap(net)

        def run_captum():
            return cks.attribute(
                x, baselines=0.0, target=0, feature_mask=mask, n_samples=NSAMPLES_CNN,
                perturbations_per_eval=256,
            )  # fmt: skip

        theirs, _ = timed(run_captum, device, 1)  # one timed call: captum is slow
    return dict(case="cnn", rows=n_images, model_rows=rows, ours=ours, model=alone,
                captum=theirs, syncs=syncs)  # fmt: skip


def captum_pair_cases(device, n_images, repeats, with_captum) -> list:
    """Tensor Lime, IntegratedGradients and DeepLiftShap on the CNN, each next to captum's
    (same device, inputs, mask or baselines, samples or steps)."""
    import xai_fast as xf_

    torch.manual_seed(2)
    net = small_cnn(device)
    x = torch.randn((n_images, *IMAGE), device=device)
    bg = torch.randn((20, *IMAGE), device=device)
    mask = grid_feature_mask((1, *IMAGE), PATCH).to(device)
    ours = {
        "lime": lambda: xf_.Lime(net).attribute(x, target=0, feature_mask=mask, n_samples=512),
        "ig": lambda: xf_.IntegratedGradients(net).attribute(x, target=0, n_steps=50),
        "deeplift_shap": lambda: xf_.DeepLiftShap(net).attribute(x, bg, target=0),
    }
    theirs = {}
    if with_captum:
        import captum.attr as ca

        theirs = {
            "lime": lambda: ca.Lime(net).attribute(
                x, target=0, feature_mask=mask, n_samples=512, perturbations_per_eval=256
            ),
            "ig": lambda: ca.IntegratedGradients(net).attribute(x, target=0, n_steps=50),
            "deeplift_shap": lambda: ca.DeepLiftShap(net).attribute(x, bg, target=0),
        }
    out = []
    for case, fn in ours.items():
        fn()  # warm-up
        t_ours, _ = timed(fn, device, repeats)
        t_ref = None
        if case in theirs:
            theirs[case]()
            t_ref, _ = timed(theirs[case], device, 1)
        out.append(dict(case=case, rows=n_images, model_rows="-", ours=t_ours, model=None,
                        captum=t_ref, syncs=None))  # fmt: skip
    return out


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="few rows and one repeat (a smoke run)")
    p.add_argument("--cpu-rows", type=int, default=10, help="MLP rows explained on the CPU")
    p.add_argument("--cpu-images", type=int, default=4, help="CNN images explained on the CPU")
    args = p.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    try:
        import captum  # noqa: F401

        with_captum = True
    except ImportError:
        with_captum = False
        print("captum is not installed: its column stays empty")
    print(f"torch {torch.__version__}, CUDA build {torch.version.cuda}, "
          f"xai_fast backends {xf.backends.available()}, "
          f"torch CPU threads {torch.get_num_threads()}")  # fmt: skip
    devices = []
    if torch.cuda.is_available():
        kernels = all(has_cuda_kernel(op) for op in ("fill_masked_rows", "background_mean"))
        print(f"CUDA device: {torch.cuda.get_device_name()}; xai_fast CUDA kernels: "
              f"{'registered' if kernels else 'NOT registered (plain torch ops)'}")  # fmt: skip
        devices.append((torch.device("cuda"), 100, 32))
    else:
        print("CUDA: not available; skipping the CUDA cases (CPU only)")
    cpu_rows, cpu_images = (2, 2) if args.quick else (args.cpu_rows, args.cpu_images)
    devices.append((torch.device("cpu"), cpu_rows, cpu_images))
    if args.quick and devices[0][0].type == "cuda":
        devices[0] = (devices[0][0], 10, 4)
    results = []
    for device, n_rows, n_images in devices:
        cases = [mlp_case(device, n_rows, repeats),
                 cnn_case(device, n_images, repeats, with_captum),
                 *captum_pair_cases(device, n_images, repeats, with_captum)]  # fmt: skip
        for r in cases:
            r["device"] = device.type
            results.append(r)
            print(f"  done: {r['case']} on {device.type}", flush=True)
    print()
    print(
        "| case | device | rows explained | model rows | xai_fast (s) | model alone (s) "
        "| xai_fast / model | captum (s) | captum / xai_fast | host syncs per call |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        ratio = r["ours"] / r["model"] if r["model"] else None
        vs = r["captum"] / r["ours"] if r["captum"] is not None else None
        print(f"| {r['case']} | {r['device']} | {r['rows']} | {r['model_rows']} | "
              f"{fmt(r['ours'])} | {fmt(r['model'])} | {fmt(ratio, 2)} | {fmt(r['captum'])} | "
              f"{fmt(vs, 1)} | {'-' if r['syncs'] is None else r['syncs']} |")  # fmt: skip
    print(f"\nmlp: KernelExplainer, {D} features, {BG}-row background, nsamples "
          f"{NSAMPLES_MLP}; cnn: KernelShap, {IMAGE} images, 64 patches, {NSAMPLES_CNN} "
          f"samples; lime: tensor Lime, the same mask, 512 samples; ig: IntegratedGradients, "
          f"50 steps; deeplift_shap: DeepLiftShap, 20 background images; median of {repeats} "
          "call(s) after a warm-up (captum: one call, perturbations_per_eval=256).")  # fmt: skip


if __name__ == "__main__":
    main()

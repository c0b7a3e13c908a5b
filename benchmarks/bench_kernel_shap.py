"""Kernel SHAP: xai_fast against shap.KernelExplainer, side by side in one run.

For each case both libraries explain the same rows of the same torch MLP with the same
background and ``nsamples`` (``l1_reg=False``). Reported per case: median wall time of each,
the time the model alone needs for the same perturbed rows, the ratios, and the relative L2
error against exact Shapley values (brute-force enumeration where 2**M is small, otherwise a
closed-form pairwise game at the same settings).

Usage::

    python benchmarks/bench_kernel_shap.py [--repeats 3] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
import warnings

import numpy as np
import torch
from common import brute_force_shapley, make_mlp, median_time, torch_callable

import xai_fast as xf

warnings.filterwarnings("ignore")
logging.getLogger("shap").setLevel(logging.ERROR)

ACCURACY_SEEDS = 5

CASES = [
    # name, background rows, features, rows explained, nsamples, hidden widths
    ("1-row bg, M=16, 100 rows, 2048 samples", 1, 16, 100, 2048, (64, 64)),
    ("100-row bg, M=50, 10 rows, 2148 samples", 100, 50, 10, 2148, (128, 128)),
]


def model_alone_time(net, n_rows, d, batch_rows):
    """One timing of the model alone on ``n_rows`` pre-built rows fed ``batch_rows`` at a time."""
    buf = torch.randn(min(batch_rows, n_rows), d)
    t = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, n_rows, batch_rows):
            net(buf[: min(batch_rows, n_rows - start)])
    return time.perf_counter() - t


def best_chunk(net, n_rows, d):
    """The chunk size (1k..64k rows) at which the model alone is fastest here."""
    sizes = (1024, 2048, 4096, 8192, 16384, 65536)
    times = [
        statistics.median(model_alone_time(net, n_rows, d, c) for _ in range(3)) for c in sizes
    ]
    return sizes[int(np.argmin(times))]


class PairwiseGame:
    def __init__(self, d, seed=0):
        r = np.random.default_rng(seed)
        self.a = r.normal(size=d)
        self.C = np.triu(r.normal(size=(d, d)) * (r.random((d, d)) < 0.3), 1)

    def __call__(self, X):
        return X @ self.a + np.sum((X @ self.C) * X, axis=1)

    def exact(self, X, B):
        m, mm, S = B.mean(0), B.T @ B / len(B), self.C + self.C.T
        return self.a * (X - m) + 0.5 * (
            X * (m @ S) - np.sum(S * mm, 1) + X * (X @ S) - m * (X @ S)
        )


def rel_err(v, exact):
    return float(np.linalg.norm(v - exact) / np.linalg.norm(exact))


def run_case(name, N, d, n, nsamples, hidden, repeats, shap_rows, backend):
    import shap
    from sklearn.datasets import make_classification

    data, _ = make_classification(
        n_samples=N + n + 200, n_features=d, n_informative=d // 2, random_state=0
    )
    data = ((data - data.mean(0)) / data.std(0)).astype(np.float64)
    B, X = data[:N], data[N : N + n]
    net = make_mlp(d, hidden)
    f = torch_callable(net)

    explainer = xf.KernelExplainer(net, B, seed=0, backend=backend)
    explainer.shap_values(X[:2], nsamples=nsamples, l1_reg=False, silent=True)  # JIT warm-up
    # the same explainer evaluating one chunk at a time (no side-by-side CPU workers)
    serial = xf.KernelExplainer(xf.ModelAdapter(net, workers=1), B, seed=0, backend=backend)
    serial.shap_values(X[:2], nsamples=nsamples, l1_reg=False, silent=True)
    S = min(nsamples, 2**d - 2)
    n_model_rows = n * S * N
    chunk = best_chunk(net, n_model_rows, d)
    # ours and the model alone alternate, so that both see the same machine state
    t_ours_all, t_serial_all, t_model_all = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        explainer.shap_values(X, nsamples=nsamples, l1_reg=False, silent=True)
        t_ours_all.append(time.perf_counter() - t)
        t_model_all.append(model_alone_time(net, n_model_rows, d, chunk))
        t = time.perf_counter()
        serial.shap_values(X, nsamples=nsamples, l1_reg=False, silent=True)
        t_serial_all.append(time.perf_counter() - t)
    t_ours, t_model = statistics.median(t_ours_all), statistics.median(t_model_all)
    ratio = statistics.median(a / b for a, b in zip(t_ours_all, t_model_all, strict=True))
    ratio_serial = statistics.median(a / b for a, b in zip(t_serial_all, t_model_all, strict=True))

    ref = shap.KernelExplainer(f, B)
    rows = X[:shap_rows]
    t_shap = median_time(
        lambda: ref.shap_values(rows, nsamples=nsamples, l1_reg=False, silent=True), 1
    )[0] * (n / len(rows))

    # accuracy against exact values, mean over seeds (both estimators are random)
    if d <= 16:
        Xa, fa, exact = X[:5], f, brute_force_shapley(f, X[:5], B)
        err_src = "MLP, brute force over 2^M coalitions, 5 rows"
    else:
        game = PairwiseGame(d)
        Xa, fa, exact = X, game, game.exact(X, B)
        err_src = "pairwise game, closed form, same settings"
    errs_ours, errs_shap = [], []
    for s in range(ACCURACY_SEEDS):
        v = xf.KernelExplainer(fa, B, seed=s).shap_values(
            Xa, nsamples=nsamples, l1_reg=False, silent=True
        )
        errs_ours.append(rel_err(np.reshape(v, exact.shape), exact))
        np.random.seed(s)  # noqa: NPY002  (shap samples from numpy's global state)
        v = shap.KernelExplainer(fa, B).shap_values(
            Xa, nsamples=nsamples, l1_reg=False, silent=True
        )
        errs_shap.append(rel_err(v, exact))
    err_ours, err_shap = float(np.mean(errs_ours)), float(np.mean(errs_shap))
    err_src += f", mean of {ACCURACY_SEEDS} seeds"
    return {
        "case": name,
        "model_rows": n_model_rows,
        "xai_fast_s": t_ours,
        "shap_s": t_shap,
        "shap_rows_timed": len(rows),
        "model_alone_s": t_model,
        "model_alone_chunk": chunk,
        "backend": explainer.backend.name,
        "speedup_vs_shap": t_shap / t_ours,
        "xai_fast_over_model": ratio,
        "xai_fast_1_worker_s": statistics.median(t_serial_all),
        "xai_fast_1_worker_over_model": ratio_serial,
        "workers": explainer.model.chunk_workers(),
        "shap_over_model": t_shap / t_model,
        "err_xai_fast": err_ours,
        "err_shap": err_shap,
        "err_reference": err_src,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median)")
    p.add_argument("--quick", action="store_true", help="time shap on a few rows and scale")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--backend", default="auto", help="xai_fast backend (default: auto)")
    args = p.parse_args(argv)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    results = []
    for name, N, d, n, ns, hidden in CASES:
        shap_rows = 3 if args.quick else n
        r = run_case(name, N, d, n, ns, hidden, args.repeats, shap_rows, args.backend)
        results.append(r)
        print(
            f"\n{name}  (MLP hidden {hidden}, {r['model_rows']:,} model rows, "
            f"backend {r['backend']})"
        )
        print(
            f"  xai_fast     {r['xai_fast_s']:8.3f} s   {r['xai_fast_over_model']:5.2f}x model"
            "   (median of per-round ratios, alternating with the model alone)"
        )
        print(
            f"  xai_fast, 1 worker {r['xai_fast_1_worker_s']:8.3f} s   "
            f"{r['xai_fast_1_worker_over_model']:5.2f}x model   (one chunk at a time; the "
            f"default runs {r['workers']} side by side)"
        )
        print(
            f"  shap         {r['shap_s']:8.3f} s   {r['shap_over_model']:5.2f}x model"
            f"   (timed on {r['shap_rows_timed']} rows)"
        )
        print(
            f"  model alone  {r['model_alone_s']:8.3f} s   (fed {r['model_alone_chunk']} rows "
            "a call, its fastest chunk size here)"
        )
        print(f"  speed-up vs shap: {r['speedup_vs_shap']:.1f}x")
        print(
            f"  rel. L2 error vs exact: xai_fast {r['err_xai_fast']:.4f}, "
            f"shap {r['err_shap']:.4f}  ({r['err_reference']})"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()

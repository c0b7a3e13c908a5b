"""Each kernel in each backend, and the end-to-end explain time per backend.

Kernels (median of repeats, milliseconds):
  sampling  kernel_design at M in {16, 64, 256}, nsamples = 2M + 2048
  masking   fill_masked_rows + background_mean producing 1M perturbed rows (10 background rows)
            for 1 or 100 explained rows
  solve     constrained_wls on that design for 1 or 100 explained rows (one output)
End to end: KernelExplainer on a torch MLP per backend, same seed, side by side.

Usage::

    python benchmarks/bench_kernels.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import xai_fast as xf
from xai_fast._rng import normalize_seed
from xai_fast.backends import available, get_backend
from xai_fast.sampling.plan import plan_design, random_size_cdf

MS = (16, 64, 256)
ROWS = (1, 100)
BG = 10
CHUNK_ROWS = 4000  # 400 pairs of 10 background rows per call
TOTAL_ROWS = 1_000_000


def median_ms(fn, repeats):
    fn()  # warm-up (JIT, caches)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def design(backend, M):
    p = plan_design(M, "auto")
    cdf = np.zeros(1) if p.fully_enumerated else random_size_cdf(p)
    args = (
        M,
        p.nsamples,
        normalize_seed(0),
        p.weight_vector,
        p.num_full,
        p.num_paired,
        p.binoms,
        cdf,
    )
    return args, backend.kernel_design


def reference_design(M):
    """The ``nsamples="auto"`` design for ``M`` players (coalitions, weights), seed 0."""
    numba = get_backend("numba")
    return numba.kernel_design(*design(numba, M)[0])


def bench_sampling(backends, repeats):
    rows = []
    for M in MS:
        row = {"M": M}
        for b in backends:
            args, fn = design(b, M)
            row[b.name] = median_ms(lambda fn=fn, args=args: fn(*args), repeats)
        rows.append(row)
    return rows


def bench_masking(backends, repeats, rng):
    rows = []
    for M in MS:
        for n in ROWS:
            X = rng.normal(size=(n, M)).astype(np.float32)
            B = rng.normal(size=(BG, M)).astype(np.float32)
            Z, _ = reference_design(M)
            var_idx = np.tile(np.arange(M), (n, 1))
            w = np.full(BG, 1.0 / BG)
            pairs = n * len(Z)
            per = CHUNK_ROWS // BG
            n_chunks = min(TOTAL_ROWS // CHUNK_ROWS, pairs // per)
            out = rng.normal(size=(CHUNK_ROWS, 1))
            row = {"M": M, "rows": n}
            for b in backends:
                buf = np.empty((CHUNK_ROWS, M), np.float32)
                ey = np.empty((per, 1))

                def run(b=b, buf=buf, ey=ey):
                    for c in range(n_chunks):
                        b.fill_masked_rows(X, B, Z, var_idx, c * per, buf)
                        b.background_mean(out, w, ey)

                # scaled to 1M rows when the job has fewer
                row[b.name] = median_ms(run, repeats) * TOTAL_ROWS / (n_chunks * CHUNK_ROWS)
            rows.append(row)
    return rows


def bench_solve(backends, repeats, rng):
    rows = []
    for M in MS:
        for n in ROWS:
            Z, w = reference_design(M)
            Zf = Z.astype(np.float64)
            Y = rng.normal(size=(len(Z), n))
            total = rng.normal(size=n)
            row = {"M": M, "rows": n}
            for b in backends:
                row[b.name] = median_ms(lambda b=b: b.constrained_wls(Zf, w, Y, total), repeats)
            rows.append(row)
    return rows


def bench_end_to_end(names, repeats, rng):
    """Backends alternate round by round, so that all see the same machine state."""
    rows = []
    for d, N, n, hidden in [(16, 1, 100, 64), (50, 100, 10, 128), (64, 10, 20, 128)]:
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Linear(d, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, 1),
        ).eval()
        B, X = rng.normal(size=(N, d)), rng.normal(size=(n, d))
        explainers = {name: xf.KernelExplainer(net, B, seed=0, backend=name) for name in names}
        for e in explainers.values():
            e.shap_values(X[:2], l1_reg=False, silent=True)  # warm-up
        times = {name: [] for name in names}
        for _ in range(repeats):
            for name, e in explainers.items():
                t = time.perf_counter()
                e.shap_values(X, l1_reg=False, silent=True)
                times[name].append(time.perf_counter() - t)
        row = {"M": d, "background": N, "rows": n}
        row.update({name: 1e3 * statistics.median(t) for name, t in times.items()})
        if {"torch", "numba"} <= set(names):
            row["ratio"] = statistics.median(
                a / b for a, b in zip(times["torch"], times["numba"], strict=True)
            )
        rows.append(row)
    return rows


def show(title, rows, names):
    print(f"\n{title}")
    keys = [k for k in rows[0] if k not in names and k != "ratio"]
    print(
        "  "
        + "".join(f"{k:>11}" for k in keys)
        + "".join(f"{n:>12}" for n in names)
        + ("   torch/numba" if {"torch", "numba"} <= set(names) else "")
    )
    for r in rows:
        line = "  " + "".join(f"{r[k]:>11}" for k in keys)
        line += "".join(f"{r[n]:>10.2f}ms" for n in names)
        if {"torch", "numba"} <= set(names):
            line += f"   {r.get('ratio', r['torch'] / r['numba']):>10.2f}"
        print(line)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    names = available()
    backends = [get_backend(n) for n in names]
    print(f"backends: {names}; torch threads {torch.get_num_threads()}")
    show(
        "sampling: kernel_design, nsamples = 2M + 2048",
        bench_sampling(backends, args.repeats),
        names,
    )
    show(
        f"masking: fill + background mean, per 1M rows ({BG} background rows)",
        bench_masking(backends, args.repeats, rng),
        names,
    )
    show(
        "solve: constrained_wls, one output per row",
        bench_solve(backends, args.repeats, rng),
        names,
    )
    show(
        "end to end: KernelExplainer(torch MLP).shap_values, nsamples='auto' "
        "(torch/numba: median of per-round ratios)",
        bench_end_to_end(names, args.repeats, rng),
        names,
    )


if __name__ == "__main__":
    main()

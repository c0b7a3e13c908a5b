"""distributed.explain on a local Ray: rows per second against the number of actors.

Fixed job: Kernel SHAP of a torch MLP (12 features, 64-64 hidden), 20-row background,
``nsamples=512``, ``l1_reg=False``, 4000 rows in batches of 1024. Each configuration is run
``--repeats`` times (median reported), end to end: every call starts its own actor pool, so the
times include actor start-up, which the "overhead" line measures on an 8-row job. The
in-process lines are one ``explainer(X)`` call with torch's default threads and with one thread
(Ray gives each actor one thread).

Usage::

    python benchmarks/bench_distributed.py [--rows 4000] [--repeats 3] [--actors 1 2]
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
import torch
from common import make_mlp, median_time

import xai_fast as xf

warnings.filterwarnings("ignore")


def main(argv=None):
    import ray

    from xai_fast.distributed import explain

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=4000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--nsamples", type=int, default=512)
    p.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    args = p.parse_args(argv)
    d = 12
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, d)).astype(np.float32)
    background = rng.normal(size=(20, d)).astype(np.float32)
    explainer = xf.KernelExplainer(make_mlp(d, [64, 64]), background, seed=0)
    opts = dict(nsamples=args.nsamples, l1_reg=False)

    explainer(X[:8], silent=True, **opts)  # load kernels once
    local = []
    for threads in (torch.get_num_threads(), 1):
        torch.set_num_threads(threads)
        t, ref = median_time(lambda: explainer(X, silent=True, **opts).values, args.repeats)
        local.append((f"in-process, {threads} thread{'s' if threads > 1 else ''}", t))

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    cols = [f"x{j}[0]" for j in range(d)]  # the MLP returns (n, 1): one named output
    ref = ref[..., 0]
    explain(explainer, X[:8], num_actors=1, **opts)  # start Ray's workers once
    t_over, _ = median_time(lambda: explain(explainer, X[:8], num_actors=1, **opts), 3)
    rows = []
    for n in args.actors:
        t, df = median_time(lambda: explain(explainer, X, num_actors=n, **opts), args.repeats)
        rows.append((n, t, np.abs(df[cols].to_numpy() - ref).max()))
    ray.shutdown()

    print(
        f"distributed.explain, Kernel SHAP of a torch MLP, {args.rows} rows x {d} features, "
        f"nsamples={args.nsamples}, batch_size=1024, {os.cpu_count()} CPUs, median of "
        f"{args.repeats} (load average at the end {os.getloadavg()[0]:.2f})"
    )
    print(
        f"  {'configuration':<22}{'time (s)':>10}{'rows/s':>10}{'speed-up':>10}{'max |diff|':>12}"
    )
    for label, t in local:
        print(f"  {label:<22}{t:10.2f}{args.rows / t:10.0f}{'':>10}{'':>12}")
    base = rows[0][1]
    for n, t, diff in rows:
        label = f"{n} actor{'s' if n > 1 else ''}"
        print(f"  {label:<22}{t:10.2f}{args.rows / t:10.0f}{base / t:9.2f}x{diff:12.1e}")
    print(f"  overhead per call (8 rows, 1 actor): {t_over:.2f} s")


if __name__ == "__main__":
    main()

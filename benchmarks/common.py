"""Helpers shared by the benchmark scripts: timing, a torch MLP, brute-force Shapley values."""

from __future__ import annotations

import itertools
import math
import statistics
import subprocess
import sys
import time

import numpy as np
import torch


def median_time(fn, repeats):
    """Median wall time of ``repeats`` calls of ``fn`` (seconds) and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def alternating_rounds(fns: dict, repeats: int) -> tuple[dict, dict]:
    """Time each function of ``fns`` once per round, in turn, for ``repeats`` rounds.

    Returns ``{name: [seconds per round]}`` and ``{name: the last result}``.
    """
    times, out = {k: [] for k in fns}, {}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            out[k] = fn()
            times[k].append(time.perf_counter() - t)
    return times, out


def fresh_process_rounds(script: str, sides: list, rounds: int, args: list) -> dict:
    """Seconds of each side, each round in a fresh process of its own (sides alternating):
    ``python script --alone SIDE *args`` prints one side's median seconds as its last line.
    Neither side then runs on the heap the other left (in one process, each does).

    Returns ``{side: [seconds per round]}``.
    """
    times = {side: [] for side in sides}
    for _ in range(rounds):
        for side in sides:
            cmd = [sys.executable, script, "--alone", side, *args]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            times[side].append(float(out.strip().splitlines()[-1]))
    return times


def median_ratio(times: dict, ours: str, ref: str) -> float:
    """The median over rounds of ``ref``'s time over ``ours``'s (the speed-up)."""
    return statistics.median(r / o for o, r in zip(times[ours], times[ref], strict=True))


class Counting:
    """A callable that counts the rows it is given (the first axis of its argument)."""

    def __init__(self, fn):
        self.fn, self.rows = fn, 0

    def __call__(self, X):
        self.rows += len(X)
        return self.fn(X)


def make_mlp(d, hidden, seed=0):
    """A ReLU MLP ``d -> hidden... -> 1`` in eval mode (float32)."""
    torch.manual_seed(seed)
    layers, width = [], d
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*layers).eval()


def torch_callable(net):
    """``net`` as a numpy callable ``(n, d) -> (n,)``, as users hand it to shap."""

    def f(X):
        with torch.inference_mode():
            out = net(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
        return out.numpy()[:, 0]

    return f


def brute_force_shapley(f, X, B):
    """Exact Shapley values ``(n, d)`` of ``f`` (n,) at each row of ``X`` over background ``B``,
    by evaluating all ``2**d`` coalitions."""
    n, d = X.shape
    masks = np.array(list(itertools.product([False, True], repeat=d)))
    codes = masks @ (1 << np.arange(d))
    pos = np.empty(2**d, dtype=np.int64)
    pos[codes] = np.arange(2**d)
    size = masks.sum(1)
    coef = np.array(
        [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)]
    )
    phi = np.zeros((n, d))
    for i, x in enumerate(X):
        rows = np.where(masks[:, None, :], x[None, None, :], B[None]).reshape(-1, d)
        v = f(rows).reshape(2**d, len(B)).mean(1)
        for j in range(d):
            without = ~masks[:, j]
            with_j = pos[codes[without] | (1 << j)]
            phi[i, j] = np.sum(coef[size[without]] * (v[with_j] - v[without]))
    return phi


def print_results(result: dict, width: int = 18) -> None:
    """Each section of ``result`` (a dict of dicts) with its figures, one per line."""
    for name, r in result.items():
        print(name)
        for k, v in r.items():
            print(f"  {k:{width}s} {v:.4g}" if isinstance(v, float) else f"  {k:{width}s} {v:,}")


def small_cnn(pool: torch.nn.Module | None = None) -> torch.nn.Module:
    """The benchmarks' CNN on 3x32x32 images: conv 3->16, ReLU, ``pool`` (default max pooling
    2), conv 16->32, ReLU, average pooling to 4x4, linear 512->10; N(0, 0.2**2) weights from
    seed 0, eval mode."""
    g = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2) if pool is None else pool,
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(4),
        torch.nn.Flatten(), torch.nn.Linear(512, 10),
    ).eval()  # fmt: skip
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return net


def seeded_net(build, seed):
    """``build()`` (a torch module) with torch's global generator restored afterwards, its
    parameters drawn uniformly in +-1/sqrt(fan_in) from ``torch.Generator().manual_seed(seed)``."""
    from xai_fast.evaluation.bench.media_problems import init_uniform_

    with torch.random.fork_rng(devices=[]):
        net = build()
    init_uniform_(net, torch.Generator().manual_seed(seed))
    return net


def fit_full_batch(net, X, y, loss_fn, epochs=300, lr=1e-2):
    """``net`` fitted by full-batch Adam on tensors ``X, y``; in eval mode, with its final loss."""
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(net(X), y)
        loss.backward()
        opt.step()
    return net.eval(), loss.item()


def train_mlp(X, y, hidden, seed=0, epochs=300, lr=1e-2):
    """A ReLU MLP ``d -> hidden... -> 1`` (float32) trained as a binary classifier (logit out)
    by full-batch Adam; returns the net (eval mode) and its final training loss."""

    def build():
        layers, width = [], X.shape[1]
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        return torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))

    net = seeded_net(build, seed)
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)[:, None]
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
    return fit_full_batch(net, Xt, yt, loss_fn, epochs, lr)


class _SeededNumpy:
    """numpy, except that ``.random`` is a private ``RandomState``: handed to shap's kernel
    module so that its draws are seeded without touching numpy's global generator."""

    def __init__(self, seed):
        self.random = np.random.RandomState(seed)

    def __getattr__(self, name):
        return getattr(np, name)


def shap_kernel_values(f, B, X, nsamples, seed):
    """``shap.KernelExplainer(f, B).shap_values(X, nsamples=..., l1_reg=False)`` with its
    coalitions drawn from ``RandomState(seed)`` (what ``np.random.seed(seed)`` would give),
    numpy's global state untouched. Returns ``(n, d)`` for a one-output ``f``."""
    import logging
    import warnings

    import shap
    from shap.explainers import _kernel

    logging.getLogger("shap").setLevel(logging.ERROR)
    saved = _kernel.np
    _kernel.np = _SeededNumpy(seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = shap.KernelExplainer(f, B).shap_values(
                X, nsamples=nsamples, l1_reg=False, silent=True
            )
    finally:
        _kernel.np = saved
    return np.asarray(v).reshape(X.shape)

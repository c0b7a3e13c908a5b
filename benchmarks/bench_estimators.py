"""Error against budget of each Kernel SHAP sampler, and the issue-9 target.

Two kinds of problems, each with exact values:

* a trained 16-feature MLP (breast cancer, first 16 features) with a 20-row background; the
  truth enumerates all 2**16 coalitions (``ExactExplainer``);
* games with 50, 100 and 200 features made of random main effects, pairs and triples
  (``f(x) = a.x + sum c x_i x_j + sum t x_i x_j x_k`` against a zero background row), whose
  Shapley values are known in closed form (each term is shared equally by its players).

For every budget (256 to 32768 coalitions) and sampler the relative L2 error against the truth
is averaged over seeds. ``shap`` is our drop-in design (the same estimator as
``shap.KernelExplainer``, which ``tests/test_kernel_explainer.py`` checks); with ``--with-shap``
the shap library itself is also run at 2048 and 8192 on the MLP for the target.

    python benchmarks/bench_estimators.py [--seeds 5] [--quick] [--with-shap] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import numpy as np
import torch

import xai_fast as xf

SAMPLERS = ("shap", "leverage", "auto")


def trained_mlp16(seed=0):
    """A 16-32-32-1 MLP trained on standardised breast-cancer data; (f, background, rows)."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :16]
    X = (X - X.mean(0)) / X.std(0)
    gen = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32), torch.nn.ReLU(),
        torch.nn.Linear(32, 1),
    ).double()  # fmt: skip
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-1, 1, generator=gen).mul_(1 / np.sqrt(p.shape[-1]))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.float64)[:, None]
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(Xt), yt).backward()
        opt.step()
    net.eval()
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(X))
    return net, X[idx[:20]], X[idx[20:25]]


def interaction_game(M, seed):
    """``(f, background, rows, exact)`` of a game with M mains, M pairs and M triples."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=M)
    pairs = np.array([rng.choice(M, 2, replace=False) for _ in range(M)])
    triples = np.array([rng.choice(M, 3, replace=False) for _ in range(M)])
    c, t = rng.normal(size=M), rng.normal(size=M)

    def f(X):
        out = X @ a + (c * X[:, pairs[:, 0]] * X[:, pairs[:, 1]]).sum(1)
        return out + (t * X[:, triples[:, 0]] * X[:, triples[:, 1]] * X[:, triples[:, 2]]).sum(1)

    rows = rng.choice([-1.0, 1.0], size=(3, M)) * rng.uniform(0.5, 1.5, size=(3, M))
    exact = rows * a
    for k in range(M):  # each term's value at the row, shared equally by its players
        i, j = pairs[k]
        exact[:, [i, j]] += (c[k] * rows[:, i] * rows[:, j] / 2)[:, None]
        i, j, q = triples[k]
        exact[:, [i, j, q]] += (t[k] * rows[:, i] * rows[:, j] * rows[:, q] / 3)[:, None]
    return f, np.zeros((1, M)), rows, exact


def rel_error(values, exact):
    return float(np.mean(np.linalg.norm(values - exact, axis=1) / np.linalg.norm(exact, axis=1)))


def run(model, B, rows, exact, budgets, seeds, name):
    out = []
    for budget in budgets:
        for sampler in SAMPLERS:
            errs, secs = [], []
            for seed in seeds:
                # the cubic fit at 32,768 coalitions needs more than the default 1 GiB
                e = xf.KernelExplainer(model, B, seed=seed, sampler=sampler, max_memory=4 * 2**30)
                t = time.perf_counter()
                v = e.shap_values(rows, nsamples=budget, l1_reg=False, silent=True)
                secs.append(time.perf_counter() - t)
                errs.append(rel_error(np.asarray(v).reshape(exact.shape), exact))
            out.append({
                "problem": name, "sampler": sampler, "budget": budget,
                "rel_error": statistics.mean(errs), "seconds": statistics.median(secs),
            })  # fmt: skip
    return out


def shap_library(model, B, rows, exact, budgets, seeds):
    import logging

    import shap

    logging.getLogger("shap").setLevel(logging.ERROR)

    def f(X):
        with torch.no_grad():
            return model(torch.from_numpy(X)).numpy()[:, 0]

    out = []
    for budget in budgets:
        errs = []
        for seed in seeds:
            np.random.seed(seed)  # noqa: NPY002 - shap draws from numpy's global state
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = shap.KernelExplainer(f, B).shap_values(
                    rows, nsamples=budget, l1_reg=False, silent=True
                )
            errs.append(rel_error(v, exact))
        out.append({
            "problem": "MLP, 16 features", "sampler": "shap library", "budget": budget,
            "rel_error": statistics.mean(errs), "seconds": float("nan"),
        })  # fmt: skip
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="fewer budgets and games")
    p.add_argument("--with-shap", action="store_true", help="also run the shap library")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    seeds = range(args.seeds)
    budgets = [512, 2048, 8192] if args.quick else [2**k for k in range(8, 16)]
    records = []

    net, B, rows = trained_mlp16()
    exact = xf.ExactExplainer(net, B).shap_values(rows)[..., 0]
    records += run(net, B, rows, exact, budgets, seeds, "MLP, 16 features")
    if args.with_shap:
        records += shap_library(net, B, rows, exact, [2048, 8192], seeds)
    for M in (50,) if args.quick else (50, 100, 200):
        f, Bg, rows_g, exact_g = interaction_game(M, 0)
        records += run(f, Bg, rows_g, exact_g, budgets, seeds, f"interaction game, {M} features")

    if args.json:
        print(json.dumps(records, indent=2))
        return
    problems = list(dict.fromkeys(r["problem"] for r in records))
    for prob in problems:
        print(f"\n{prob}: mean relative L2 error over {args.seeds} seeds")
        rs = [r for r in records if r["problem"] == prob]
        samplers = list(dict.fromkeys(r["sampler"] for r in rs))
        print("budget  " + "".join(f"{s:>14}" for s in samplers))
        for budget in sorted({r["budget"] for r in rs}):
            cells = {r["sampler"]: r["rel_error"] for r in rs if r["budget"] == budget}
            print(f"{budget:>6}  " + "".join(
                f"{cells[s]:>14.4f}" if s in cells else f"{'':>14}" for s in samplers
            ))  # fmt: skip


if __name__ == "__main__":
    main()

"""At an equal budget the samplers' errors are ordered: ``"auto"`` < ``"leverage"`` < ``"shap"``.

Four small models with exact values, 12 players, 1,024 coalitions (a quarter of them), fixed
seeds, medians over 5 seeds, each gap asserted with a 10% margin. Measured medians (relative L2
error, shap / leverage / auto): trained MLP 0.018 / 0.014 / 0.004 and products of 4 to 6
players 0.058 / 0.046 / 0.006 (``"auto"``'s Gaussian-process fit); boosted depth-3 trees
0.0047 / 0.0025 / 2e-14 and mains + pairs + triples 0.036 / 0.023 / 2e-14 (sums of terms of at
most three players, which ``"auto"``'s cubic check finds and fits exactly). The same kinds of
model in ``benchmarks/bench_estimator_zoo.py`` are described in docs/estimators.md ("Error
against budget on many models").
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracles import product_game

import xai_fast as xf

SEEDS = range(5)
D = 12
BUDGET = 1024  # a quarter of the 4,094 coalitions of 12 players
MARGIN = 0.9


def _mlp():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=1000, n_features=D, n_informative=8, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    with torch.random.fork_rng(devices=[]):  # default init: torch's global state restored
        net = torch.nn.Sequential(
            torch.nn.Linear(D, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32), torch.nn.ReLU(),
            torch.nn.Linear(32, 1),
        )  # fmt: skip
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-1, 1, generator=gen).mul_(1 / np.sqrt(p.shape[-1]))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)[:, None]
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(Xt), yt).backward()
        opt.step()
    net.eval()

    def f(Z):
        with torch.inference_mode():
            return net(torch.from_numpy(np.asarray(Z, dtype=np.float32))).numpy()[:, 0]

    return f, X[:10], X[10:13]


def _trees():
    from sklearn.datasets import make_friedman1
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = make_friedman1(n_samples=500, n_features=D, noise=0.5, random_state=0)
    gbr = GradientBoostingRegressor(n_estimators=50, max_depth=3, random_state=0).fit(X, y)
    return gbr.predict, X[:10], X[10:13]


def _triples_game():
    """Mains, pairs and triples against a zero background row; each term's value at the row
    is shared equally by its players (the closed form)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=D)
    pairs = np.array([rng.choice(D, 2, replace=False) for _ in range(D)])
    triples = np.array([rng.choice(D, 3, replace=False) for _ in range(D)])
    c, t = rng.normal(size=D), rng.normal(size=D)

    def f(X):
        out = X @ a + (c * X[:, pairs[:, 0]] * X[:, pairs[:, 1]]).sum(1)
        return out + (t * X[:, triples].prod(axis=2)).sum(1)

    rows = rng.choice([-1.0, 1.0], size=(3, D)) * rng.uniform(0.5, 1.5, size=(3, D))
    exact = rows * a
    for k in range(D):
        exact[:, pairs[k]] += (c[k] * rows[:, pairs[k]].prod(axis=1) / 2)[:, None]
        exact[:, triples[k]] += (t[k] * rows[:, triples[k]].prod(axis=1) / 3)[:, None]
    return f, np.zeros((1, D)), rows, exact


def _high_order_game():
    """Main effects and six products of 4 to 6 players against a zero background row."""
    return product_game(D, (4, 5, 6), D // 2, np.random.default_rng(2), 5, (0.7, 1.4))


def _median_errors(f, B, rows, exact):
    out = {}
    for sampler in ("shap", "leverage", "auto"):
        errs = []
        for seed in SEEDS:
            e = xf.KernelExplainer(f, B, seed=seed, sampler=sampler)
            v = np.asarray(e.shap_values(rows, nsamples=BUDGET, l1_reg=False, silent=True))
            v = v.reshape(exact.shape)
            rel = np.linalg.norm(v - exact, axis=1) / np.linalg.norm(exact, axis=1)
            errs.append(rel.mean())
        out[sampler] = float(np.median(errs))
    return out


@pytest.mark.parametrize("model", ["mlp", "trees", "triples game", "high-order game"])
def test_auto_beats_leverage_beats_shap(model):
    if model in ("triples game", "high-order game"):
        f, B, rows, exact = _triples_game() if model == "triples game" else _high_order_game()
    else:
        f, B, rows = _mlp() if model == "mlp" else _trees()
        exact = np.asarray(xf.ExactExplainer(f, B).shap_values(rows, silent=True))
        exact = exact.reshape(rows.shape)
    err = _median_errors(f, B, rows, exact)
    assert err["leverage"] < MARGIN * err["shap"], err
    assert err["auto"] < MARGIN * err["leverage"], err

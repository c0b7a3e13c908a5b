"""Error against budget of every Kernel SHAP sampler, and of shap.KernelExplainer, on many models.

Models (each with exact Shapley values):

* ReLU MLPs with 2 and 3 hidden layers trained by Adam on ``make_classification`` (16
  features) and on breast cancer (first 16 standardised columns); 20-row background, 5 rows;
* a ``GradientBoostingRegressor`` on ``make_friedman1(n_features=14)``; 20-row background;
* a small CNN on ``load_digits`` whose 16 players are 2x2-pixel patches (a coalition keeps its
  patches, the rest of the image is blank); one game per explained image, 5 images;
  the explained output is the logit of the image's class;
* closed-form games: pairwise products (``xai_fast.testing.pairwise_game``, Gaussian
  background of 20 rows, 5 for 100 features), mains + pairs + triples, and sparse high-order
  products (orders 4 to 6), the last two against a zero background row.

The truth enumerates all coalitions (``ExactExplainer``) for the models and is the closed form
for the games. For every budget, sampler and seed the error is the relative L2 error of a row's
values, averaged over the explained rows; the tables give its median over seeds. ``shap lib``
is ``shap.KernelExplainer`` itself (same background, same rows, ``l1_reg=False``), its draws
seeded per seed. Budgets of at least ``2**d - 2`` coalitions are skipped (every design is exact).

Per model two figures: whether ``"auto"`` at 2,048 coalitions is at most shap lib at 8,192 (the
target of issue 23), and the budget at which shap lib reaches 1% error against the budget
``"auto"`` needs for 1% (log-log interpolation between measured budgets; ``~`` marks an
extrapolation from the two largest, ``>`` one beyond 4x the largest, ``<`` a curve already
below 1% at the smallest budget).

    python benchmarks/bench_estimator_zoo.py [--quick] [--seeds 5] [--markdown FILE] [--json F]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from datetime import date

import numpy as np
import torch
from bench_estimators import interaction_game
from common import fit_full_batch, seeded_net, shap_kernel_values, torch_callable, train_mlp

import xai_fast as xf
from xai_fast.testing import pairwise_game

OURS = ("shap", "leverage", "auto")
SAMPLERS = (*OURS, "shap lib")
BUDGETS = (256, 512, 1024, 2048, 4096, 8192)  # 16384 and 32768 with --budgets
QUICK_BUDGETS = (512, 2048, 8192)
TARGET = 0.01


class Problem:
    """A model to explain: ``parts`` is a list of ``(f, background, rows, exact)`` (one game per
    part; their rows are pooled), ``d`` the number of players."""

    def __init__(self, name, d, parts, info):
        self.name, self.d, self.parts, self.info = name, d, parts, info


def _exact(f, B, rows):
    return np.asarray(xf.ExactExplainer(f, B).shap_values(rows, silent=True)).reshape(rows.shape)


def _split(X, seed, n_bg=20, n_rows=5):
    idx = np.random.default_rng(seed).permutation(len(X))
    return X[idx[:n_bg]], X[idx[n_bg : n_bg + n_rows]]


def _standardise(X):
    return (X - X.mean(0)) / X.std(0)


def mlp_problem(dataset, hidden, seed=0):
    from sklearn.datasets import load_breast_cancer, make_classification

    if dataset == "classification":
        X, y = make_classification(
            n_samples=3000, n_features=16, n_informative=10, n_redundant=3, random_state=seed
        )
    else:
        X, y = load_breast_cancer(return_X_y=True)
        X = X[:, :16]
    X = _standardise(X)
    net, loss = train_mlp(X, y, hidden, seed=seed)
    f = torch_callable(net)
    B, rows = _split(X, seed)
    name = f"MLP {len(hidden)}x{hidden[0]}, {dataset} ({len(X)} rows)"
    return Problem(name, 16, [(f, B, rows, _exact(f, B, rows))], f"training loss {loss:.2g}")


def gbr_problem(seed=0):
    from sklearn.datasets import make_friedman1
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = make_friedman1(n_samples=2000, n_features=14, noise=0.5, random_state=seed)
    gbr = GradientBoostingRegressor(n_estimators=200, max_depth=3, random_state=seed).fit(X, y)
    B, rows = _split(X, seed)
    info = f"200 trees of depth 3, training R^2 {gbr.score(X, y):.3f}"
    return Problem("GBR, friedman1 (14 features)", 14, [(gbr.predict, B, rows, None)], info)


def cnn_problem(seed=0, n_images=5):
    """The digits CNN; one 16-player game per image: patch coalitions, blank baseline."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    imgs = torch.tensor(X / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)

    def build():
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(32 * 16, 10),
        )  # fmt: skip

    idx = np.random.default_rng(seed).permutation(len(X))
    train, test = idx[:1500], idx[1500 : 1500 + n_images]
    net, loss = fit_full_batch(
        seeded_net(build, seed), imgs[train], torch.tensor(y[train]),
        torch.nn.functional.cross_entropy, epochs=150,
    )  # fmt: skip
    acc = float((net(imgs[idx[1500:]]).argmax(1).numpy() == y[idx[1500:]]).mean())

    def game(img, c):
        def f(Z):  # (n, 16) patch weights -> logit of class c
            Z = torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float32)).reshape(-1, 1, 4, 4)
            up = Z.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
            with torch.inference_mode():
                return net(img * up)[:, c].numpy().astype(np.float64)

        return f

    parts = []
    for i in test:
        f, B, row = game(imgs[i : i + 1], int(y[i])), np.zeros((1, 16)), np.ones((1, 16))
        parts.append((f, B, row, None))
    info = f"training loss {loss:.2g}, test accuracy {acc:.3f}, {n_images} games of one row"
    return Problem("CNN, digits (16 patches of 2x2)", 16, parts, info)


def high_order_game(M, seed, n_terms=None, orders=(4, 5, 6)):
    """``(f, background, rows, exact)``: main effects plus ``n_terms`` (default M // 2) products
    of 4 to 6 random players against a zero background row; each product's value at the row is
    shared equally by its players."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=M)
    terms = [rng.choice(M, rng.choice(orders), replace=False) for _ in range(n_terms or M // 2)]
    coef = rng.normal(size=len(terms)) * 2.0

    def f(X):
        return X @ a + sum(c * np.prod(X[:, t], axis=1) for c, t in zip(coef, terms, strict=True))

    rows = rng.choice([-1.0, 1.0], size=(5, M)) * rng.uniform(0.7, 1.4, size=(5, M))
    exact = rows * a
    for c, t in zip(coef, terms, strict=True):
        exact[:, t] += (c * np.prod(rows[:, t], axis=1) / len(t))[:, None]
    return f, np.zeros((1, M)), rows, exact


def game_problems(quick):
    out = []
    for d in (16,) if quick else (16, 100):
        g = pairwise_game(d, seed=0, n_background=20 if d <= 16 else 5)
        rows = g.rows(5, seed=1)
        parts = [(g.model, g.background, rows, g.shapley_values(rows))]
        out.append(Problem(f"pairwise game, {d} features", d, parts, "closed form"))
    for d in (16,) if quick else (16, 200):
        out.append(Problem(f"high-order game, {d} features", d, [high_order_game(d, 0)],
                           f"{d // 2} products of 4-6 players, closed form"))  # fmt: skip
    if not quick:
        f, B, rows, exact = interaction_game(200, 0)
        out.append(Problem("mains+pairs+triples game, 200 features", 200,
                           [(f, B, rows, exact)], "200 of each, closed form"))  # fmt: skip
    return out


def build_problems(quick):
    probs = []
    for dataset in ("classification", "breast cancer"):
        for hidden in ((64, 64),) if quick else ((64, 64), (64, 64, 64)):
            probs.append(mlp_problem(dataset, hidden))
    probs += [gbr_problem(), cnn_problem(n_images=3 if quick else 5)] + game_problems(quick)
    for p in probs:  # the truth by enumeration where no closed form was given
        p.parts = [(f, B, r, _exact(f, B, r) if e is None else e) for f, B, r, e in p.parts]
    return probs


def rel_errors(values, exact):
    return list(np.linalg.norm(values - exact, axis=1) / np.linalg.norm(exact, axis=1))


def estimate(sampler, f, B, rows, budget, seed):
    if sampler == "shap lib":
        return shap_kernel_values(f, B, rows, budget, seed)
    e = xf.KernelExplainer(f, B, seed=seed, sampler=sampler)
    return np.asarray(e.shap_values(rows, nsamples=budget, l1_reg=False, silent=True)).reshape(
        rows.shape
    )


def measure(prob, budgets, seeds):
    """``{sampler: {budget: median over seeds of the mean relative error}}``."""
    table = {s: {} for s in SAMPLERS}
    for budget in budgets:
        if budget >= 2**prob.d - 2:
            continue
        for s in SAMPLERS:
            errs = []
            for seed in seeds:
                e = [
                    rel_errors(estimate(s, f, B, r, budget, seed), ex) for f, B, r, ex in prob.parts
                ]
                errs.append(statistics.mean(sum(e, [])))
            table[s][budget] = statistics.median(errs)
    return table


def budget_at(curve, target=TARGET):
    """``(budget, mark)``: where ``curve`` ``{budget: error}`` reaches ``target``, log-log linear
    between the two measured budgets around the first crossing. ``mark`` is ``"<"`` when the
    smallest budget is already there (the budget returned), ``"~"`` for an extrapolation past
    the largest (``">"`` and 4x the largest budget when that lands further out);
    ``(None, "")`` when the curve does not fall."""
    b = np.log(np.array(sorted(curve), dtype=float))
    e = np.log(np.maximum([curve[k] for k in sorted(curve)], 1e-300))
    below = np.flatnonzero(e <= math.log(target))
    if len(below) and below[0] == 0:
        return float(math.exp(b[0])), "<"
    i = below[0] if len(below) else len(b) - 1
    if i < 1 or e[i] >= e[i - 1]:
        return None, ""
    x = b[i - 1] + (math.log(target) - e[i - 1]) * (b[i] - b[i - 1]) / (e[i] - e[i - 1])
    if not len(below) and x > b[-1] + math.log(4):  # too far out to be told
        return 4 * float(math.exp(b[-1])), ">"
    return float(math.exp(x)), "" if len(below) else "~"


def derived(table):
    auto, lib = table["auto"].get(2048), table["shap lib"].get(8192)
    (b_lib, m_lib), (b_auto, m_auto) = budget_at(table["shap lib"]), budget_at(table["auto"])
    ratio = None
    if b_lib and b_auto and m_lib != "<" and m_auto != ">":
        ratio = (">" if m_auto == "<" or m_lib == ">" else "~" if "~" in m_lib + m_auto else "") + (
            f"{b_lib / b_auto:.1f}x"
        )
    return {"auto@2048": auto, "shap lib@8192": lib,
            "target met": None if auto is None or lib is None else auto <= lib,
            "shap lib 1%": _budget(b_lib, m_lib), "auto 1%": _budget(b_auto, m_auto),
            "ratio": ratio}  # fmt: skip


def _budget(b, mark):
    return "-" if b is None else f"{mark}{b:,.0f}"


def _yes(x):
    return "-" if x is None else ("yes" if x else "no")


def model_lines(prob, table, md):
    budgets = sorted({b for c in table.values() for b in c})
    out = [f"### {prob.name}" if md else f"\n{prob.name}", f"{prob.d} players; {prob.info}"]
    if md:
        out += ["", "| budget | " + " | ".join(SAMPLERS) + " |", "|---" * (len(SAMPLERS) + 1) + "|"]
        out += [f"| {b:,} | " + " | ".join(f"{table[s][b]:.4f}" for s in SAMPLERS) + " |"
                for b in budgets]  # fmt: skip
    else:
        out.append("budget " + "".join(f"{s:>11}" for s in SAMPLERS))
        out += [f"{b:>6} " + "".join(f"{table[s][b]:>11.4f}" for s in SAMPLERS) for b in budgets]
    dv = derived(table)
    a, lib = dv["auto@2048"], dv["shap lib@8192"]
    if a is not None and lib is not None:
        out.append(f"{'- ' if md else ''}auto@2048 {a:.4f} <= shap lib@8192 {lib:.4f}: "
                   f"{_yes(dv['target met'])}")  # fmt: skip
    ratio = f" (shap lib / auto: {dv['ratio']})" if dv["ratio"] else ""
    out.append(f"{'- ' if md else ''}1% error: shap lib at {dv['shap lib 1%']}, "
               f"auto at {dv['auto 1%']}{ratio}")  # fmt: skip
    return out + ([""] if md else [])


def summary_lines(probs, tables):
    head = "| model | auto@2048 | shap lib@8192 | target met | shap lib 1% | auto 1% | ratio |"
    out = [head, "|---" * 7 + "|"]
    for p in probs:
        dv = derived(tables[p.name])
        fmt = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
        out.append(
            f"| {p.name} | {fmt(dv['auto@2048'])} | {fmt(dv['shap lib@8192'])} | "
            f"{_yes(dv['target met'])} | {dv['shap lib 1%']} | {dv['auto 1%']} | "
            f"{dv['ratio'] or '-'} |"
        )
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick", action="store_true", help="3 seeds, 3 budgets, fewer models, 3 digit images"
    )
    p.add_argument("--seeds", type=int, default=None, help="seeds (default 5; 3 with --quick)")
    p.add_argument("--budgets", type=int, nargs="+", default=None)
    p.add_argument("--markdown", metavar="FILE", help="also write the tables as markdown")
    p.add_argument("--json", metavar="FILE", help="also write the medians as JSON")
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # many small batches: one thread is faster and leaves a core free
    seeds = range(args.seeds or (3 if args.quick else 5))
    budgets = args.budgets or (QUICK_BUDGETS if args.quick else BUDGETS)
    t0 = time.perf_counter()
    probs = build_problems(args.quick)
    print(f"models and truths built in {time.perf_counter() - t0:.0f} s")
    tables = {}
    for prob in probs:
        t = time.perf_counter()
        tables[prob.name] = measure(prob, budgets, seeds)
        print("\n".join(model_lines(prob, tables[prob.name], md=False)))
        print(f"({time.perf_counter() - t:.0f} s)", flush=True)
    mode = "quick" if args.quick else "default"
    head = (
        f"{mode} mode, {len(seeds)} seeds, median over seeds of the mean relative L2 error; "
        f"{date.today()}, {platform.machine()}, {time.perf_counter() - t0:.0f} s in all"
    )
    print("\n" + head + "\n" + "\n".join(summary_lines(probs, tables)))
    if args.markdown:
        md = [head, "", *summary_lines(probs, tables), ""]
        for prob in probs:
            md += model_lines(prob, tables[prob.name], md=True)
        with open(args.markdown, "w") as fh:
            fh.write("\n".join(md))
    if args.json:
        rows = [
            {"model": pr.name, "sampler": s, "budget": b, "rel_error": e}
            for pr in probs
            for s, c in tables[pr.name].items()
            for b, e in c.items()
        ]
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()

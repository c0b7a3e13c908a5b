"""Equal (instance, coalition) pairs are evaluated once (masking/distinct_pairs.py).

Calls whose instances repeat (a row under several feature orders) are compared with a brute
force over Python sets of kept columns, their model rows counted, and their values compared bit
for bit with those of sending every row (``dedup_rows=False``) on row-wise models, in every
backend and on both tabular maskers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from game_runs import torch_game_run
from oracles import distinct_walk_sets

import xai_fast as xf
from xai_fast.backends import available, get_backend
from xai_fast.background import as_background
from xai_fast.masking import BackgroundMasker, Game
from xai_fast.masking import game as game_module
from xai_fast.masking.background_torch import BackgroundTorchMasker
from xai_fast.masking.distinct_pairs import MAX_FEATURES, distinct_pairs, kept_columns
from xai_fast.sampling.permutations import chain_coalitions


class RowWise:
    """``(n, d) -> (n, 2)``, each row's output its own (no matrix product); counts rows."""

    def __init__(self, d: int, rng):
        self.w = rng.normal(size=d)
        self.rows = 0

    def __call__(self, A):
        A = np.asarray(A, dtype=np.float64)
        self.rows += len(A)
        return np.stack([np.tanh(A * self.w).sum(axis=1), A[:, 0] * A[:, -1]], axis=1)


class RowWiseNet(torch.nn.Module):
    """The torch twin of :class:`RowWise`, in float64."""

    def __init__(self, d: int, rng):
        super().__init__()
        self.w = torch.nn.Parameter(torch.as_tensor(rng.normal(size=d)))
        self.rows = 0

    def forward(self, x):
        self.rows += x.shape[0]
        return torch.stack([torch.tanh(x * self.w).sum(1), x[:, 0] * x[:, -1]], dim=1)


def walks(rng, rows=3, orders=6, d=5, N=4):
    """Instances as PermutationExplainer makes them: each row once per random feature order,
    under the chain coalitions (every prefix and suffix of the order)."""
    X0, B = rng.normal(size=(rows, d)), rng.normal(size=(N, d))
    X = np.repeat(X0, orders, axis=0)
    var_idx = np.stack([rng.permutation(d) for _ in range(rows * orders)]).astype(np.int64)
    return X, B, chain_coalitions(d), var_idx


def kept_sets(X, Z, var_idx):
    """The key of every pair ``(n * S,)``: the instance's values and its kept columns."""
    return [
        (X[i].tobytes(), frozenset(var_idx[i][Z[s]].tolist()))
        for i in range(len(X))
        for s in range(len(Z))
    ]


def check_plan(plan, X, Z, var_idx, keys):
    """Each pair's distinct pair is an instance of its row whose listed columns are the ones
    the pair keeps; every distinct pair is some pair's."""
    cols = kept_columns(Z, var_idx, plan.inst, plan.coal)
    for p, (values, kept) in enumerate(keys):
        u = plan.inverse[p]
        assert X[plan.inst[u]].tobytes() == values and set(cols[u].tolist()) == kept
    assert len(set(plan.inverse.tolist())) == len(plan.inst)


def test_plan_numbers_pairs_equal_exactly_when_they_keep_the_same_columns_of_the_same_row(rng):
    X, B, Z, var_idx = walks(rng)
    X[-1] = X[0]  # an instance of another row with the first row's values: the same row
    plan = distinct_pairs(xf.ModelAdapter(np.sum), X, Z, var_idx, min_saved=0.0)
    keys = kept_sets(X, Z, var_idx)
    assert plan is not None and len(plan.inst) == len(set(keys)) < len(keys)
    check_plan(plan, X, Z, var_idx, keys)


def test_no_plan_where_nothing_repeats_or_the_model_asks_for_every_row(rng):
    X, B, Z, var_idx = walks(rng)
    f = xf.ModelAdapter(np.sum)
    assert distinct_pairs(xf.ModelAdapter(np.sum, dedup_rows=False), X, Z, var_idx) is None
    distinct_rows = X + np.arange(len(X))[:, None]  # every instance another row
    assert distinct_pairs(f, distinct_rows, Z, var_idx) is None
    with_empty = np.vstack([Z, np.zeros((1, Z.shape[1]), dtype=bool)])  # keeps nothing
    assert distinct_pairs(f, X, with_empty, var_idx) is None
    assert distinct_pairs(f, X, Z, var_idx, min_saved=0.99) is None  # too few repeats
    Xf, _, Zf, vf = walks(rng, rows=4, orders=3, d=16)  # 16 features, 3 orders: few repeat
    assert distinct_pairs(f, Xf, Zf, vf) is None
    assert distinct_pairs(f, Xf, Zf, vf, min_saved=0.0) is not None
    M = MAX_FEATURES + 1
    wide = np.repeat(rng.normal(size=(1, M)), 3, axis=0)
    Zw = np.eye(M, dtype=bool)
    assert distinct_pairs(f, wide, Zw, np.tile(np.arange(M), (3, 1))) is None


def test_kept_sets_are_exact_at_the_widest(rng):
    """52 varying features: kept sets differing in one feature of 2**51 are told apart."""
    M = MAX_FEATURES
    X = np.repeat(rng.normal(size=(1, M)), 2, axis=0)
    var_idx = np.stack([np.arange(M), rng.permutation(M)]).astype(np.int64)
    Z = np.ones((3, M), dtype=bool)
    Z[1, 0] = False
    Z[2, 1] = False
    plan = distinct_pairs(xf.ModelAdapter(np.sum), X, Z, var_idx, min_saved=0.0)
    keys = kept_sets(X, Z, var_idx)
    assert len(plan.inst) == len(set(keys))
    assert len(set(plan.inverse[:3].tolist())) == 3
    check_plan(plan, X, Z, var_idx, keys)


@pytest.mark.parametrize("backend", available())
def test_host_game_sends_each_distinct_pair_once_and_keeps_the_values(rng, backend):
    X, B, Z, var_idx = walks(rng)
    f = RowWise(X.shape[1], rng)
    out = {}
    for dedup in (None, False):
        model = xf.ModelAdapter(f, dedup_rows=dedup)
        masker = BackgroundMasker(as_background(B), get_backend(backend), np.float64)
        f.rows = 0
        out[dedup] = Game(model, masker).evaluate(Z, X, var_idx), f.rows
    distinct = len(set(kept_sets(X, Z, var_idx)))
    assert out[False][1] == len(X) * len(Z) * len(B)
    assert out[None][1] == distinct * len(B) < out[False][1]
    np.testing.assert_array_equal(out[None][0], out[False][0])
    assert out[None][0].shape == (len(X), len(Z), 2)


@pytest.mark.skipif("torch" not in available(), reason="xai_fast._C not built")
def test_torch_game_sends_each_distinct_pair_once_and_keeps_the_values(rng):
    X, B, Z, var_idx = walks(rng)
    net = RowWiseNet(X.shape[1], rng)
    out = {dedup: torch_game_run(net, B, Z, X, var_idx, dedup) for dedup in (None, False)}
    distinct = len(set(kept_sets(X, Z, var_idx)))
    assert out[None][1] == distinct * len(B) < out[False][1] == len(X) * len(Z) * len(B)
    np.testing.assert_array_equal(out[None][0], out[False][0])


def test_where_values_repeat_the_plan_of_equal_rows_finds_the_equal_pairs(rng):
    X, B, Z, var_idx = walks(rng, rows=2, orders=8, d=6, N=9)
    X = np.round(X)  # few values: rows of different pairs repeat too
    B = np.round(B)
    B[::2] = X[0]
    f = RowWise(X.shape[1], rng)
    ey = Game(xf.ModelAdapter(f), BackgroundMasker(as_background(B), get_backend("numba"),
                                                   np.float64)).evaluate(Z, X, var_idx)  # fmt: skip
    sent, f.rows = f.rows, 0
    every = Game(xf.ModelAdapter(f, dedup_rows=False),
                 BackgroundMasker(as_background(B), get_backend("numba"), np.float64))  # fmt: skip
    np.testing.assert_array_equal(ey, every.evaluate(Z, X, var_idx))
    rows = set()
    for values, kept in set(kept_sets(X, Z, var_idx)):
        x = np.frombuffer(values)
        for b in B:
            row = b.copy()
            row[list(kept)] = x[list(kept)]
            rows.add(row.tobytes())
    assert sent == len(rows) < len(set(kept_sets(X, Z, var_idx))) * len(B)


def test_non_finite_outputs_name_the_calls_own_instances(rng):
    X, B, Z, var_idx = walks(rng, rows=2, orders=3)
    bad = X[3, 0]  # the second row's first column

    def f(A):
        return np.where(A[:, 0] == bad, np.nan, A.sum(axis=1))

    game = Game(xf.ModelAdapter(f), BackgroundMasker(as_background(B), get_backend("numpy"),
                                                     np.float64))  # fmt: skip
    with pytest.raises(ValueError, match=r"on perturbed versions of 3 explained row\(s\)") as e:
        game.evaluate(Z, X, var_idx)
    assert "[3, 4, 5]" in str(e.value)


def test_permutation_explainer_values_do_not_change_and_fewer_rows_are_sent(rng):
    d, N = 5, 6
    f = RowWise(d, rng)
    B, X = rng.normal(size=(N, d)), rng.normal(size=(4, d))
    seed = int(rng.integers(2**31))
    ex = xf.PermutationExplainer(f, B, seed=seed)
    f.rows = 0
    ours = ex(X, max_evals=200, silent=True)
    sent = f.rows
    every = xf.PermutationExplainer(xf.ModelAdapter(f, dedup_rows=False), B, seed=seed)
    f.rows = 0
    ref = every(X, max_evals=200, silent=True)
    np.testing.assert_array_equal(ours.values, ref.values)
    assert sent < 0.6 * f.rows  # 5 features, 18 orders a row: most walks' sets repeat


def test_wide_rows_compare_kept_sets_by_rank_among_the_varying_features(rng):
    """More columns than 52, a few varying: the sets are coded by rank, still exactly."""
    d, M, orders = 70, 6, 9
    X = np.repeat(rng.normal(size=(2, d)), orders, axis=0)
    cols = np.sort(rng.choice(d, M, replace=False))
    var_idx = np.stack([rng.permutation(cols) for _ in range(len(X))]).astype(np.int64)
    Z = chain_coalitions(M)
    plan = distinct_pairs(xf.ModelAdapter(np.sum), X, Z, var_idx, min_saved=0.0)
    keys = kept_sets(X, Z, var_idx)
    assert len(plan.inst) == len(set(keys)) < len(keys)
    check_plan(plan, X, Z, var_idx, keys)


@pytest.mark.parametrize("masker", ["host", "torch"])
def test_many_small_chunks_side_by_side_give_the_same_values(rng, monkeypatch, masker):
    """One distinct pair a chunk (on two workers with the torch masker; the host masker runs
    one): each worker's job is rebound to its chunks, and every value lands in its place."""
    if masker == "torch" and "torch" not in available():
        pytest.skip("xai_fast._C not built")
    X, B, Z, var_idx = walks(rng, rows=3, orders=5)
    net = RowWiseNet(X.shape[1], rng)
    monkeypatch.setattr(game_module, "FILL_VALUES", 1)  # a chunk is one model call
    out = {}
    for dedup in (None, False):
        model = xf.ModelAdapter(net, dedup_rows=dedup, batch_size=len(B), workers=2)
        if masker == "torch":
            m = BackgroundTorchMasker(model, as_background(B), get_backend("torch"))
        else:
            m = BackgroundMasker(as_background(B), get_backend("numba"), np.float64)
        net.rows = 0
        ey = Game(model, m).evaluate(Z, X, var_idx)
        out[dedup] = (ey.cpu().numpy() if masker == "torch" else ey), net.rows
    distinct = len(set(kept_sets(X, Z, var_idx)))
    assert out[None][1] == distinct * len(B)
    np.testing.assert_array_equal(out[None][0], out[False][0])


def test_rows_from_the_background_still_send_each_distinct_pair_once(rng):
    """Explained rows drawn from the background share values with it, so rows of different
    pairs could be equal; where too few are for the plan of equal rows, the distinct pairs are
    still evaluated once (before, every row was sent)."""
    d, N = 8, 50
    B = rng.normal(size=(N, d))
    X = B[rng.choice(N, 5, replace=False)]
    f = RowWise(d, rng)
    ex = xf.PermutationExplainer(f, B, seed=int(rng.integers(2**31)))
    every = xf.PermutationExplainer(xf.ModelAdapter(f, dedup_rows=False), B, seed=ex.seed)
    f.rows = 0
    ours = ex(X, max_evals=500, silent=True)
    sent, f.rows = f.rows, 0
    ref = every(X, max_evals=500, silent=True)
    np.testing.assert_array_equal(ours.values, ref.values)
    kept = distinct_walk_sets(ex.seed, len(X), d, 500 // (2 * d + 1))
    assert sent == len(X) + kept * N < f.rows


def test_on_another_device_only_when_asked_for(rng):
    """As the plan of equal rows: a module on an accelerator outruns the host's numbering."""
    X, B, Z, var_idx = walks(rng)

    class OnDevice:
        device = torch.device("cuda")

        def __init__(self, dedup_rows):
            self.dedup_rows = dedup_rows

    assert distinct_pairs(OnDevice(None), X, Z, var_idx) is None
    assert distinct_pairs(OnDevice(True), X, Z, var_idx) is not None

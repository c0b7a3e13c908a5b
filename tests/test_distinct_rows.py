"""Equal perturbed rows are sent to the model once (masking/distinct.py), values unchanged.

Rows are counted with a wrapper and compared with the distinct rows found by brute force; the
values are compared bit for bit with those of sending every row (``dedup_rows=False``), on
models whose output for a row depends on that row alone.
"""

from __future__ import annotations

import numpy as np
import pytest

import xai_fast as xf
from xai_fast.backends import available, get_backend
from xai_fast.background import as_background
from xai_fast.masking import BackgroundMasker, Game, distinct, distinct_numba, distinct_ref
from xai_fast.masking.distinct import column_codes, distinct_share, key_places, plan_distinct
from xai_fast.masking.fill_ref import fill_masked_rows

HOST = [b for b in available() if b != "torch"]
DISTINCT = {
    "numpy": distinct_ref.distinct_masked_rows,
    "numba": distinct_numba.distinct_masked_rows,
}


class Counted:
    """A row-wise model ``(n, d) -> (n, 2)`` that counts the rows it is given."""

    def __init__(self, d: int, seed: int = 0):
        self.w = np.random.default_rng(seed).normal(size=d)
        self.rows = 0

    def __call__(self, A):
        A = np.asarray(A, dtype=np.float64)
        self.rows += len(A)
        return np.stack([np.tanh(A * self.w).sum(axis=1), A[:, 0] * A[:, 1] + A[:, -1]], axis=1)


def categorical(rng, n, N, d, levels=3, continuous=0):
    """Rows ``(n, d)`` and background ``(N, d)`` of integer codes; the last ``continuous``
    columns normal."""
    X = rng.integers(0, levels, (n, d)).astype(np.float64)
    B = rng.integers(0, levels, (N, d)).astype(np.float64)
    if continuous:
        X[:, -continuous:] = rng.normal(size=(n, continuous))
        B[:, -continuous:] = rng.normal(size=(N, continuous))
    return X, B


def call_problem(rng, n=3, N=7, d=8, S=40, M=6):
    X, B = categorical(rng, n, N, d)
    Z = rng.random((S, M)) < 0.5
    var_idx = np.sort(np.array([rng.choice(d, M, replace=False) for _ in range(n)]), axis=1)
    return X, B, Z, var_idx.astype(np.int64)


def all_rows(X, B, Z, var_idx):
    """Every perturbed row of the call, ``(n * S * N, d)``, built by the reference."""
    out = np.empty((len(X) * len(Z) * len(B), X.shape[1]))
    fill_masked_rows(X, B, Z, var_idx, 0, out)
    return out


def distinct_count(rows) -> int:
    """Distinct rows, compared by their bit patterns."""
    return len(np.unique(rows.view(np.uint64), axis=0))


def host_game(model, B, backend):
    return Game(model, BackgroundMasker(as_background(B), get_backend(backend), np.float64))


# ---------------------------------------------------------------------------- the kernel


@pytest.mark.parametrize("backend", list(DISTINCT))
def test_kernel_numbers_rows_equal_exactly_when_their_values_are(rng, backend):
    X, B, Z, var_idx = call_problem(rng)
    X[0, 2], B[1, 2] = -0.0, 0.0  # equal values, different bits: different rows
    N, S = len(B), len(Z)
    start, P = 5, 2 * S - 9  # two instances, cut inside both
    CX, CB, levels = column_codes(X, B)
    weight, word = key_places(levels)
    ids, first = DISTINCT[backend](CX, CB, weight, word, Z, var_idx, start, P)
    rows = all_rows(X, B, Z, var_idx)[start * N : (start + P) * N].view(np.uint64)
    _, brute = np.unique(rows, axis=0, return_inverse=True)
    brute = brute.reshape(-1)
    assert ids.shape == (P * N,) and len(first) == brute.max() + 1 < P * N
    # same number <=> same bits, and first[u] is the first row of its number
    np.testing.assert_array_equal(ids[:, None] == ids[None, :], brute[:, None] == brute[None, :])
    np.testing.assert_array_equal(first, [np.nonzero(ids == u)[0][0] for u in range(len(first))])
    order = first % N * (P * N) + first  # numbered by background row, then first occurrence
    assert np.all(np.diff(order) > 0)


def test_keys_take_several_words_when_the_levels_need_them(rng):
    n, N, d, S, M = 2, 40, 6, 30, 6
    X, B = rng.normal(size=(n, d)), rng.normal(size=(N, d))
    B[::3, :3] = X[0, :3]  # some rows repeat
    CX, CB, levels = column_codes(X, B)
    weight, word = key_places(levels * 10**6)  # as if each column had ~4e7 values
    assert word.max() >= 1
    for w in range(word.max() + 1):
        assert np.prod((levels * 10**6)[word == w].astype(float)) < 2.0**63
    Z = rng.random((S, M)) < 0.5
    var_idx = np.tile(np.arange(M), (n, 1))
    want = distinct_ref.distinct_masked_rows(CX, CB, weight, word, Z, var_idx, 0, n * S)
    got = distinct_numba.distinct_masked_rows(CX, CB, weight, word, Z, var_idx, 0, n * S)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert len(want[1]) == distinct_count(all_rows(X, B, Z, var_idx))


def test_codes_compare_bit_patterns():
    X = np.array([[0.0, np.nan, 1.0]])
    B = np.array([[-0.0, np.nan, 1.0], [0.0, 2.0, 1.0]])
    CX, CB, levels = column_codes(X, B)
    assert CX[0, 0] != CB[0, 0] and CX[0, 0] == CB[1, 0]  # -0.0 is not 0.0
    assert CX[0, 1] == CB[0, 1] != CB[1, 1]  # the same NaN is one value
    np.testing.assert_array_equal(levels, [2, 2, 1])


# ---------------------------------------------------------------------------- the Game


@pytest.mark.parametrize("backend", HOST)
def test_game_sends_each_distinct_row_once_and_keeps_the_values(rng, backend):
    X, B, Z, var_idx = call_problem(rng)
    f = Counted(X.shape[1])
    ey = host_game(xf.ModelAdapter(f), B, backend).evaluate(Z, X, var_idx)
    sent = f.rows
    f.rows = 0
    ey_all = host_game(xf.ModelAdapter(f, dedup_rows=False), B, backend).evaluate(Z, X, var_idx)
    rows = all_rows(X, B, Z, var_idx)
    assert f.rows == len(rows)
    assert sent == distinct_count(rows) < len(rows)
    np.testing.assert_array_equal(ey, ey_all)


def test_torch_game_sends_each_distinct_row_once_and_keeps_the_values(rng, monkeypatch):
    torch = pytest.importorskip("torch")
    if "torch" not in available():
        pytest.skip("xai_fast._C not built")
    from game_runs import torch_game_run

    from xai_fast.masking import background_torch

    monkeypatch.setattr(background_torch, "MIN_SAVED_MODULE", 0.0)  # whatever the share

    class RowWise(torch.nn.Module):  # no matrix product: a row's output is its own
        def __init__(self, d):
            super().__init__()
            self.w = torch.nn.Parameter(torch.linspace(-1.0, 1.0, d, dtype=torch.float64))
            self.rows = 0

        def forward(self, x):
            self.rows += x.shape[0]
            return torch.tanh(x * self.w)[:, :3] + x[:, :1] * x[:, 1:2]

    X, B, Z, var_idx = call_problem(rng)
    net = RowWise(X.shape[1])
    out = {dedup: torch_game_run(net, B, Z, X, var_idx, dedup) for dedup in (True, False)}
    rows = all_rows(X, B, Z, var_idx)
    assert out[False][1] == len(rows)
    assert out[True][1] == distinct_count(rows) < len(rows)
    np.testing.assert_array_equal(out[True][0], out[False][0])


def test_continuous_data_sends_every_row(rng):
    n, N, d, S, M = 3, 10, 6, 30, 6
    X, B = rng.normal(size=(n, d)), rng.normal(size=(N, d))
    Z = rng.random((S, M)) < 0.5
    var_idx = np.tile(np.arange(M), (n, 1))
    f = Counted(d)
    assert plan_distinct(xf.ModelAdapter(f), None, X, B, Z, var_idx) is None
    assert distinct_share(*column_codes(X, B)[:2], Z, var_idx) == 1.0
    ey = host_game(xf.ModelAdapter(f), B, HOST[-1]).evaluate(Z, X, var_idx)
    assert f.rows == n * S * N
    ey_all = host_game(xf.ModelAdapter(f, dedup_rows=False), B, HOST[-1]).evaluate(Z, X, var_idx)
    np.testing.assert_array_equal(ey, ey_all)


def test_progress_counts_pairs_and_non_finite_outputs_still_raise(rng):
    from xai_fast._runtime.progress import Progress

    X, B, Z, var_idx = call_problem(rng)
    bar = Progress(len(X) * len(Z), "test", enabled=False)
    host_game(xf.ModelAdapter(Counted(X.shape[1])), B, HOST[-1]).evaluate(
        Z, X, var_idx, progress=bar
    )
    assert bar.done == len(X) * len(Z)

    X[:, 0] = 5.0  # x's first value, unlike any background row's: NaN where the row takes it
    var_idx = np.tile(np.arange(Z.shape[1]), (len(X), 1))  # column 0 a player of every row
    model = xf.ModelAdapter(lambda A: np.where(A[:, 0] == 5.0, np.nan, A[:, 1]))
    assert plan_distinct(model, None, X, B, Z, var_idx) is not None
    with pytest.raises(ValueError, match="non-finite"):
        host_game(model, B, HOST[-1]).evaluate(Z, X, var_idx)


# ---------------------------------------------------------------------------- explainers


@pytest.mark.parametrize("backend", HOST)
@pytest.mark.parametrize("method", ["exact", "kernel", "leverage"])
def test_explainers_send_fewer_rows_and_give_the_same_values(rng, backend, method):
    X, B = categorical(rng, 4, 20, 7, continuous=1)
    f = Counted(X.shape[1])
    values, rows = {}, {}
    for dedup in (True, False):
        model = xf.ModelAdapter(f, dedup_rows=dedup)
        if method == "exact":
            e = xf.ExactExplainer(model, B, backend=backend)
            call = lambda e=e: e.shap_values(X, silent=True)  # noqa: E731
        else:
            sampler = "shap" if method == "kernel" else "leverage"
            e = xf.KernelExplainer(model, B, seed=5, backend=backend, sampler=sampler)
            call = lambda e=e: e.shap_values(X, nsamples=60, silent=True)  # noqa: E731
        f.rows = 0
        values[dedup] = call()
        rows[dedup] = f.rows
    assert rows[True] < 0.75 * rows[False]
    np.testing.assert_array_equal(values[True], values[False])


def test_values_do_not_depend_on_blocks_or_batches(rng, monkeypatch):
    X, B = categorical(rng, 5, 15, 6)
    f = Counted(X.shape[1])
    want = xf.ExactExplainer(f, B).shap_values(X, silent=True)
    sent = f.rows
    monkeypatch.setattr(distinct, "BLOCK_ROWS", 100)  # one instance a block
    monkeypatch.setattr(distinct, "MAX_BLOCK_ROWS", 200)  # instances cut in pieces
    f.rows = 0
    got = xf.ExactExplainer(f, B, batch_size=37).shap_values(X, silent=True)
    assert f.rows > sent  # repeats in different blocks are sent once per block
    np.testing.assert_array_equal(got, want)


def test_keep_index_sends_every_row(rng):
    pd = pytest.importorskip("pandas")
    X, B = categorical(rng, 2, 10, 5)
    cols = list("abcde")
    f = Counted(len(cols))
    e = xf.KernelExplainer(lambda df: f(df.to_numpy()), pd.DataFrame(B, columns=cols),
                           keep_index=True, seed=0)  # fmt: skip
    assert e.model.dedup_rows is False
    f.rows = 0
    e.shap_values(pd.DataFrame(X, columns=cols), nsamples=40, silent=True)
    keep = f.rows
    every = xf.KernelExplainer(xf.ModelAdapter(f, dedup_rows=False), B, seed=0)
    f.rows = 0
    every.shap_values(X, nsamples=40, silent=True)
    assert keep == f.rows


def test_dedup_rows_is_checked_and_kept_when_rewrapped():
    with pytest.raises(TypeError, match="dedup_rows"):
        xf.ModelAdapter(np.sum, dedup_rows=1)
    off = xf.ModelAdapter(np.sum, dedup_rows=False)
    assert xf.ModelAdapter(off).dedup_rows is False
    assert xf.ModelAdapter(off, dedup_rows=True).dedup_rows is False  # the stricter wins
    assert xf.ModelAdapter(xf.ModelAdapter(np.sum, dedup_rows=True)).dedup_rows is True
    assert xf.ModelAdapter(np.sum).dedup_rows is None  # where it pays


def test_torch_fill_rows_at_without_numba_matches_the_reference(rng):
    torch = pytest.importorskip("torch")
    if "torch" not in available():
        pytest.skip("xai_fast._C not built")
    from xai_fast.backends import torch_ops
    from xai_fast.masking import fill_ref

    X, B, Z, var_idx = call_problem(rng)
    U = 50
    at = [rng.integers(0, len(a), U) for a in (X, Z, B)]
    want = np.empty((U, X.shape[1]), dtype=np.float16)
    fill_ref.fill_rows_at(X.astype(np.float16), B.astype(np.float16), Z, var_idx, *at, want)
    t = [torch.from_numpy(a) for a in (X.astype(np.float16), B.astype(np.float16), Z, var_idx)]
    out = torch.empty((U, X.shape[1]), dtype=torch.float16)  # no Numba kernel: torch ops
    torch_ops.fill_rows_at(*t, *(torch.from_numpy(a) for a in at), out)
    np.testing.assert_array_equal(out.numpy(), want)

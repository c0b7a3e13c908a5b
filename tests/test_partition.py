"""PartitionExplainer: shap's values on the same hierarchy, Owen = Shapley where the theory says
so, efficiency, the evaluation budget, kernels against their reference, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.cluster.hierarchy
import torch

import xai_fast as xf
from xai_fast.sampling.owen_walk import owen_walk
from xai_fast.solvers.owen import lower_credit, tree_of


def _random_tree(rng, M):
    return scipy.cluster.hierarchy.single(rng.random(M * (M - 1) // 2))


def _numpy(net):
    def f(X):
        with torch.no_grad():
            return net(torch.as_tensor(np.asarray(X), dtype=torch.float32)).numpy()

    return f


class _NHWC(torch.nn.Module):
    """A small CNN on channel-last images (shap's image layout)."""

    def __init__(self, seed, C, k):
        super().__init__()
        torch.manual_seed(seed)
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(C, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(24, k), torch.nn.Softmax(-1),
        )  # fmt: skip

    def forward(self, x):
        return self.net(x.permute(0, 3, 1, 2))


def _counting(f):
    def g(X):
        g.rows += len(X)
        return f(X)

    g.rows = 0
    return g


# ---------------------------------------------------------------------------- against shap
@pytest.mark.parametrize("fixed_context", [None, 0, 1])
@pytest.mark.parametrize("max_evals", [500, 36])
def test_tabular_equals_shap(rng, fixed_context, max_evals):
    shap = pytest.importorskip("shap")
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = load_diabetes(return_X_y=True)
    model = GradientBoostingRegressor(n_estimators=15, random_state=0).fit(X, y)
    idx = rng.permutation(len(X))
    masker = shap.maskers.Partition(X[idx[:40]], clustering="correlation")
    rows = X[idx[40:45]]
    theirs = shap.PartitionExplainer(model.predict, masker)(
        rows, max_evals=max_evals, fixed_context=fixed_context, silent=True
    )
    ours = xf.PartitionExplainer(model.predict, masker)(
        rows, max_evals=max_evals, fixed_context=fixed_context
    )
    assert ours.values.shape == theirs.values.shape
    np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.base_values, theirs.base_values, rtol=0, atol=1e-9)
    # our masker on shap's hierarchy is the same explanation
    mine = xf.maskers.Partition(X[idx[:40]], clustering=masker.clustering)
    again = xf.PartitionExplainer(model.predict, mine)(rows, max_evals=max_evals,
                                                      fixed_context=fixed_context)  # fmt: skip
    np.testing.assert_allclose(again.values, theirs.values, rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_multi_output_and_outputs_equal_shap(rng):
    shap = pytest.importorskip("shap")
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    data = load_breast_cancer()
    X = pd.DataFrame(data.data[:, :12], columns=data.feature_names[:12])
    model = LogisticRegression(max_iter=3000).fit(X, data.target)
    idx = rng.permutation(len(X))
    masker = shap.maskers.Partition(X.iloc[idx[:30]])
    rows = X.iloc[idx[30:33]]
    for outputs in (None, [1]):
        theirs = shap.PartitionExplainer(model.predict_proba, masker)(
            rows, max_evals=120, outputs=outputs, silent=True
        )
        ours = xf.PartitionExplainer(model.predict_proba, masker)(rows, max_evals=120,
                                                                  outputs=outputs)  # fmt: skip
        assert ours.values.shape == theirs.values.shape
        np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-9)
        np.testing.assert_allclose(ours.base_values, theirs.base_values, rtol=0, atol=1e-12)
    assert list(ours.feature_names) == list(X.columns)


@pytest.mark.parametrize("as_module", [False, True])
def test_digits_images_equal_shap(rng, as_module):
    shap = pytest.importorskip("shap")
    from sklearn.datasets import load_digits

    images = load_digits().images[rng.choice(1797, 2, replace=False)][..., None] / 16.0
    net = _NHWC(int(rng.integers(2**31)), 1, 10).eval()
    f = _numpy(net)
    theirs = shap.PartitionExplainer(f, shap.maskers.Image(0.0, (8, 8, 1)))(
        images, max_evals=200, outputs=shap.Explanation.argsort.flip[:2], silent=True
    )
    ours = xf.PartitionExplainer(net if as_module else f, xf.maskers.Image(0.0, (8, 8, 1)))(
        images, max_evals=200, outputs=shap.Explanation.argsort.flip[:2]
    )
    assert ours.values.shape == theirs.values.shape == (2, 8, 8, 1, 2)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.base_values, theirs.base_values, rtol=0, atol=1e-7)


def test_color_images_equal_shap_with_an_image_mask_value(rng):
    shap = pytest.importorskip("shap")
    images = rng.random((2, 6, 5, 3))
    net = _NHWC(int(rng.integers(2**31)), 3, 3).eval()
    f = _numpy(net)
    mv = rng.random((6, 5, 3))
    theirs = shap.PartitionExplainer(f, shap.maskers.Image(mv))(images, max_evals=150,
                                                               silent=True)  # fmt: skip
    ours = xf.PartitionExplainer(f, shap.maskers.Image(mv))(images, max_evals=150)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-6)
    one = xf.PartitionExplainer(f, xf.maskers.Image(mv))(images[1], max_evals=150)
    np.testing.assert_allclose(one.values, theirs.values[1], rtol=0, atol=1e-6)


def _sentences(rng, n):
    """Random sentences of distinct words, each with at least two words before any
    punctuation. Punctuation alone gives shap's text masker no tokens to cluster (shap fails),
    and a repeated word ties two nodes of the walk, which shap breaks with a draw from
    numpy's global generator and we break in queue order."""
    words = "the movie was good bad great awful , and but not really plot ( fun ) . it's".split()
    plain = [w for w in words if w.isalpha()]
    out = []
    for _ in range(n):
        head = list(rng.choice(plain, size=2, replace=False))
        rest = [w for w in words if w not in head]
        out.append(" ".join(head + list(rng.choice(rest, size=int(rng.integers(1, 9)),
                                                   replace=False))))  # fmt: skip
    return out


def _text_model(rng):
    # every token its own weight: equal weights would tie nodes of the walk (see _sentences)
    words = "the movie was good bad great awful , and but not really plot ( fun ) . it's"
    weights = {w: rng.normal() for w in words.split()}

    def f(strings):
        score = np.array([sum(weights.get(t, 0.1) for t in s.split()) for s in strings])
        p = 1 / (1 + np.exp(-score))
        return np.stack([p, 1 - p], axis=1)

    return f


@pytest.mark.parametrize(("mask_token", "collapse"), [(None, "auto"), ("[MASK]", False)])
def test_text_equals_shap(rng, mask_token, collapse):
    shap = pytest.importorskip("shap")
    sentences = _sentences(rng, 5)
    f = _text_model(rng)
    theirs = shap.PartitionExplainer(
        f, shap.maskers.Text(mask_token=mask_token, collapse_mask_token=collapse)
    )(sentences, max_evals=60, silent=True)
    mine = xf.maskers.Text(mask_token=mask_token, collapse_mask_token=collapse)
    ours = xf.PartitionExplainer(f, mine)(sentences, max_evals=60)
    for i in range(len(sentences)):
        np.testing.assert_allclose(ours.values[i], theirs.values[i], rtol=0, atol=1e-9)
        assert list(ours.data[i]) == list(theirs.data[i])
        assert list(ours.feature_names[i]) == list(theirs.feature_names[i])
    np.testing.assert_allclose(ours.base_values, np.asarray(theirs.base_values), atol=1e-12)


# ---------------------------------------------------------------------------- oracles
def test_additive_games_owen_values_are_shapley_values(rng):
    d = 9
    B, X = rng.normal(size=(15, d)), rng.normal(size=(4, d))
    w = rng.normal(size=d)
    masker = xf.maskers.Partition(B, clustering=_random_tree(rng, d))
    exp = xf.PartitionExplainer(lambda A: A @ w, masker)(X, max_evals=10_000)
    np.testing.assert_allclose(exp.values, w * (X - B.mean(0)), rtol=0, atol=1e-10)


def test_two_leaf_tree_gives_exact_shapley_values_of_any_game(rng):
    B, X = rng.normal(size=(7, 2)), rng.normal(size=(5, 2))

    def f(A):
        return np.sin(A[:, 0] * A[:, 1]) + A[:, 0] ** 2

    exp = xf.PartitionExplainer(f, xf.maskers.Partition(B))(X, max_evals=50)
    exact = xf.ExactExplainer(f, B)(X)
    np.testing.assert_allclose(exp.values, exact.values, rtol=0, atol=1e-12)


@pytest.mark.parametrize("max_evals", [20, 101, 500])
def test_efficiency_and_model_rows(rng, max_evals):
    net = _NHWC(int(rng.integers(2**31)), 2, 3).eval()
    f = _counting(_numpy(net))
    images = rng.random((3, 4, 4, 2))
    exp = xf.PartitionExplainer(f, xf.maskers.Image(0.25, (4, 4, 2)))(images, max_evals=max_evals)
    fx = f(images)
    full = f(np.full((1, 4, 4, 2), 0.25))
    np.testing.assert_allclose(exp.values.reshape(3, -1, 3).sum(1), fx - full, rtol=0, atol=1e-6)
    np.testing.assert_allclose(exp.base_values, np.repeat(full, 3, axis=0), rtol=0, atol=1e-7)
    ev = xf.PartitionExplainer(f, xf.maskers.Image(0.25, (4, 4, 2)))
    f.rows = 0
    ev(images, max_evals=max_evals)
    limit = max_evals + (max_evals % 2)  # shap's batches of two can pass an odd budget by one
    assert (ev.last_eval_count <= limit).all()
    assert f.rows <= 3 * limit  # equal masked images are evaluated once


def test_rows_walk_independently_of_each_other(rng):
    d = 8
    B, X = rng.normal(size=(10, d)), rng.normal(size=(5, d))
    W = rng.normal(size=(d, 2))

    def f(A):
        return np.tanh(A @ W)

    ex = xf.PartitionExplainer(f, xf.maskers.Partition(B))
    together = ex(X, max_evals=40, batch_size=6).values
    alone = np.stack([ex(x, max_evals=40, batch_size=6).values for x in X])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-12)


@pytest.mark.parametrize("fixed_context", [None, 0, 1])
def test_numba_walk_equals_the_reference(rng, fixed_context):
    M, n, k = 11, 4, 2
    trees = [tree_of(_random_tree(rng, M)) for _ in range(2)]
    A = rng.normal(size=(n, M, k))

    def game(rows, Z):
        return np.tanh(np.einsum("pm,pmk->pk", Z.astype(float), A[rows])) + Z[:, :1] * Z[:, 1:2]

    ids = np.array([0, 1, 1, 0])
    f00 = game(np.arange(n), np.zeros((n, M), bool))
    f11 = game(np.arange(n), np.ones((n, M), bool))
    for budget in (7, 60, 400):
        a, ea = owen_walk(trees, ids, f00, f11, game, budget, 4, fixed_context, kernels="numpy")
        b, eb = owen_walk(trees, ids, f00, f11, game, budget, 4, fixed_context, kernels="numba")
        np.testing.assert_array_equal(ea, eb)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
        vals = np.concatenate([lower_credit(a[i : i + 1], trees[t]) for i, t in enumerate(ids)])
        np.testing.assert_allclose(vals.sum(1), f11 - f00, rtol=0, atol=1e-12)


def test_lower_credit_equals_the_recursion(rng):
    M = 9
    Z = _random_tree(rng, M)
    tree = tree_of(Z)
    dv = rng.normal(size=(2, 2 * M - 1, 3))
    want = np.zeros((2, M, 3))

    def down(i, carry):
        if i < M:
            want[:, i] += dv[:, i] + carry
            return
        total = dv[:, i] + carry
        a, b = int(Z[i - M, 0]), int(Z[i - M, 1])
        down(a, total * tree.sizes[a] / tree.sizes[i])
        down(b, total * tree.sizes[b] / tree.sizes[i])

    down(2 * M - 2, 0.0)
    np.testing.assert_allclose(lower_credit(dv, tree), want, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------- errors
def test_bad_input_is_explained(rng):
    B = rng.normal(size=(10, 4))
    f = lambda A: A.sum(1)  # noqa: E731
    with pytest.raises(ValueError, match="feature hierarchy"):
        xf.PartitionExplainer(f, B)
    with pytest.raises(TypeError, match="unexpected keyword"):
        xf.PartitionExplainer(f, xf.maskers.Partition(B), nsamples=3)
    with pytest.raises(ValueError, match="linearize_link"):
        xf.PartitionExplainer(f, xf.maskers.Partition(B), link="logit")
    ex = xf.PartitionExplainer(f, xf.maskers.Partition(B))
    with pytest.raises(ValueError, match="at least 2"):
        ex(B[:2], max_evals=1)
    with pytest.raises(ValueError, match="fixed_context"):
        ex(B[:2], fixed_context=2)
    with pytest.raises(ValueError, match="batch_size"):
        ex(B[:2], batch_size=0)
    with pytest.raises(ValueError, match="background has 4"):
        ex(B[:2, :3])
    with pytest.raises(ValueError, match="single output"):
        ex(B[:2], outputs=[1])
    with pytest.raises(ValueError, match="outputs"):
        xf.PartitionExplainer(lambda A: A[:, :2], xf.maskers.Partition(B))(B[:2], outputs=[5])
    with pytest.raises(ValueError, match="linkage matrix"):
        xf.maskers.Partition(B, clustering=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="binary tree"):
        xf.maskers.Partition(B, clustering=np.array([[0, 1, 1, 2], [0, 2, 1, 2], [4, 5, 1, 4.0]]))
    with pytest.warns(UserWarning, match="main effects"):
        ex(B[:2], main_effects=True)
    with pytest.raises(TypeError, match="PartitionExplainer"):  # Exact and Permutation take it
        xf.KernelExplainer(f, xf.maskers.Partition(B))


def test_constructor_call_args_are_defaults(rng):
    B, X = rng.normal(size=(8, 10)), rng.normal(size=(3, 10))

    def f(A):
        return np.sin(A).sum(1) * A[:, 0]

    ex = xf.PartitionExplainer(f, xf.maskers.Partition(B), max_evals=12, fixed_context=1)
    want = xf.PartitionExplainer(f, xf.maskers.Partition(B))(X, max_evals=12, fixed_context=1)
    np.testing.assert_array_equal(ex(X).values, want.values)
    assert not np.allclose(ex(X, max_evals=200).values, want.values)


def test_text_efficiency_and_token_ids(rng):
    class Ids:  # a Hugging Face style tokenizer with integer ids and a mask token
        mask_token, mask_token_id = "[MASK]", 0

        def __call__(self, s, return_offsets_mapping=True):
            import re

            spans = [m.span() for m in re.finditer(r"\S+", s)]
            return {"input_ids": [len(s[a:b]) for a, b in spans], "offset_mapping": spans}

    w = rng.normal(size=10)

    def f(ids):
        return np.tanh(np.asarray(ids, dtype=float) @ w[: np.shape(ids)[1]])

    text = "aa b cccc dd eee f"
    masker = xf.maskers.Text(Ids(), output_type="token_ids")
    exp = xf.PartitionExplainer(f, masker)(text, max_evals=40)
    ids = np.array([[2, 1, 4, 2, 3, 1]])
    assert exp.values.shape == (6,)
    np.testing.assert_allclose(exp.values.sum(), f(ids)[0] - f(np.zeros((1, 6)))[0], atol=1e-12)
    np.testing.assert_allclose(exp.base_values, f(np.zeros((1, 6)))[0], atol=1e-12)


def test_rows_walked_in_chunks_give_the_same_values(rng, monkeypatch):
    import xai_fast.sampling.owen_walk as walk

    images = rng.random((5, 4, 4, 1))
    w = rng.normal(size=16)

    def f(X):
        return np.tanh(X.reshape(len(X), -1) @ w) * X[:, 0, 0, 0]

    ex = xf.PartitionExplainer(f, xf.maskers.Image(0.5, (4, 4, 1)))
    whole = ex(images, max_evals=60).values
    monkeypatch.setattr(walk, "MAX_MASK_BYTES", 2 * 64 * 16)  # two rows per chunk
    np.testing.assert_allclose(ex(images, max_evals=60).values, whole, rtol=0, atol=1e-13)

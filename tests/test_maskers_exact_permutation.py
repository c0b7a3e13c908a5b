"""Partition, Image and Text maskers on ExactExplainer, PermutationExplainer and KernelExplainer:
shap's values for the same masker (and seed), brute-force oracles, efficiency, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.cluster.hierarchy

import xai_fast as xf
from xai_fast.sampling.partition_contexts import partition_contexts
from xai_fast.sampling.tree_orders import tree_orders
from xai_fast.solvers.owen import tree_of

WORDS = "the movie was good bad great awful and but not really plot fun acting".split()


def _sentences(rng, n, low=2, high=8):
    """Sentences of distinct words (no punctuation: shap's text masker needs words)."""
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(low, high + 1)), replace=False))
            for _ in range(n)]  # fmt: skip


def _text_model(rng):
    """Two outputs with word weights and a pairwise interaction (orders matter)."""
    w = {t: rng.normal() for t in WORDS}
    a, b = rng.choice(WORDS, 2, replace=False)

    def f(strings):
        s = np.array([sum(w.get(t, 0.3) for t in x.split()) for x in strings])
        both = np.array([float(a in x.split() and b in x.split()) for x in strings])
        return np.stack([s + 2.0 * both, np.tanh(s) * both - 0.1 * s**2], axis=1)

    return f


def _image_model(rng, shape):
    W = rng.normal(size=(2, int(np.prod(shape))))

    def f(batch):
        z = np.asarray(batch, dtype=np.float64).reshape(len(batch), -1)
        lin = z @ W.T
        return np.stack([lin[:, 0] * lin[:, 1], np.sin(lin[:, 0]) + z.max(1)], axis=1)

    return f


def _table(rng, n=40, d=6):
    X = rng.normal(size=(n, d))
    X[:, 1] += X[:, 0]  # correlated columns: a non-trivial hierarchy
    c = rng.normal(size=d)

    def f(Z):
        Z = np.asarray(Z, dtype=np.float64)
        return Z @ c + Z[:, 0] * Z[:, 2] - np.sin(Z[:, 3] * Z[:, 4]) + Z[:, 1] * Z[:, 5] ** 2

    return X, f


@pytest.fixture
def shap_tree_shuffle(monkeypatch):
    """shap with the partition-tree shuffle of its next release: switches ``randn(M - 1) < 0``
    from numpy's global generator (seeded by the explainer), node ``i`` (linkage row ``i``)
    listing its left child first on ``True``. shap 0.51 draws them from Numba's own
    generator, which its ``seed`` does not reach."""
    shap = pytest.importorskip("shap")
    import shap.explainers._permutation as permutation

    def shuffle(indexes, index_mask, tree):
        M = len(index_mask)
        switch = np.random.randn(tree.shape[0]) < 0  # noqa: NPY002 (shap's global stream)
        out = []

        def visit(i):
            if i < 0:
                if index_mask[i + M]:
                    out.append(i + M)
                return
            left, right = int(tree[i, 0]) - M, int(tree[i, 1]) - M
            for child in (left, right) if switch[i] else (right, left):
                visit(child)

        visit(tree.shape[0] - 1)
        indexes[:] = out

    monkeypatch.setattr(permutation, "partition_tree_shuffle", shuffle)
    return shap


# ---------------------------------------------------------------------- permutation vs shap
@pytest.mark.parametrize("max_evals", [40, 150])
def test_permutation_text_equals_shap(rng, shap_tree_shuffle, max_evals):
    shap = shap_tree_shuffle
    texts, f = _sentences(rng, 5), _text_model(rng)
    seed = int(rng.integers(2**31))
    theirs = shap.explainers.Permutation(f, shap.maskers.Text(), seed=seed)(
        texts, max_evals=max_evals, silent=True
    )
    ours = xf.PermutationExplainer(f, xf.maskers.Text(), seed=seed)(texts, max_evals=max_evals)
    assert isinstance(ours, xf.explainers._partition_output.ArrayExplanation)
    for i in range(len(texts)):
        np.testing.assert_allclose(ours.values[i], theirs.values[i], rtol=0, atol=1e-10)
        assert list(ours.feature_names[i]) == list(theirs.feature_names[i])
    np.testing.assert_allclose(ours.base_values, np.asarray(theirs.base_values), atol=1e-12)


def test_permutation_image_and_table_equal_shap(rng, shap_tree_shuffle):
    shap = shap_tree_shuffle
    shape = (4, 4, 1)
    images, g = rng.random((3,) + shape), _image_model(rng, shape)
    seed = int(rng.integers(2**31))
    theirs = shap.explainers.Permutation(g, shap.maskers.Image(0.0, shape), seed=seed)(
        images, max_evals=200, silent=True
    )
    mine = xf.PermutationExplainer(g, xf.maskers.Image(0.0, shape), seed=seed)
    ours = mine(images, max_evals=200)
    assert ours.values.shape == (3,) + shape + (2,)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-10)

    X, f = _table(rng)
    B = X[:5].copy()
    B[:, 3] = X[-1, 3]  # feature 3 of the last row equals every background row's: not varying
    clustering = xf.maskers.Partition(X).clustering
    masker = shap.maskers.Partition(B, clustering=clustering)
    theirs = shap.explainers.Permutation(f, masker, seed=seed)(X[-4:], max_evals=90, silent=True)
    ours = xf.PermutationExplainer(f, masker, seed=seed)(X[-4:], max_evals=90)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.base_values, theirs.base_values, rtol=0, atol=1e-12)


def test_permutation_calls_continue_the_seed_stream(rng):
    texts, f = _sentences(rng, 3), _text_model(rng)
    e = xf.PermutationExplainer(f, xf.maskers.Text(), seed=4)
    both = e(texts[:1] + texts[:1], max_evals=30)
    again = xf.PermutationExplainer(f, xf.maskers.Text(), seed=4)
    first, second = again(texts[:1], max_evals=30), again(texts[:1], max_evals=30)
    np.testing.assert_array_equal(both.values[0], first.values[0])
    np.testing.assert_array_equal(both.values[1], second.values[0])


# ---------------------------------------------------------------------- orders and oracles
def _visit(tree, switch):
    """The leaf order of recursive descent (the oracle of tree_orders)."""
    M, out = len(tree) + 1, []

    def visit(i):
        if i < M:
            out.append(i)
            return
        left, right = int(tree[i - M, 0]), int(tree[i - M, 1])
        for child in (left, right) if switch[i - M] else (right, left):
            visit(child)

    visit(2 * M - 2)
    return out


@pytest.mark.parametrize("M", [2, 5, 9])
def test_tree_orders_equal_recursive_descent(rng, M):
    Zs = [scipy.cluster.hierarchy.single(rng.random(M * (M - 1) // 2)) for _ in range(3)]
    switches = rng.random((3, 6, M - 1)) < 0.5
    orders = tree_orders([tree_of(Z) for Z in Zs], switches)
    for t in range(3):
        for p in range(6):
            assert list(orders[t, p]) == _visit(Zs[t], switches[t, p])


def _owen_brute(Z, v):
    """Owen values: mean marginal contribution over every tree-consistent order (2**(M-1))."""
    M = len(Z) + 1
    phi = np.zeros(M)
    for bits in itertools.product([False, True], repeat=M - 1):
        mask = np.zeros(M, dtype=bool)
        prev = v(mask)
        for j in _visit(Z, bits):
            mask[j] = True
            now = v(mask)
            phi[j] += now - prev
            prev = now
    return phi / 2 ** (M - 1)


def test_exact_partition_values_are_owen_values(rng):
    M = 7
    Z = scipy.cluster.hierarchy.single(rng.random(M * (M - 1) // 2))
    table = rng.normal(size=2**M)
    code = 2 ** np.arange(M)
    _, masks, W = partition_contexts([tree_of(Z)])
    ours = W @ table[masks.astype(int) @ code]
    want = _owen_brute(Z, lambda m: table[int(m.astype(int) @ code)])
    np.testing.assert_allclose(ours, want, rtol=0, atol=1e-12)


def test_permutation_with_every_tree_order_converges_to_exact(rng):
    # many orders of a 5-token text: the permutation estimate nears the exact Owen values
    f = _text_model(rng)
    text = " ".join(rng.choice(WORDS, 5, replace=False))
    exact = xf.ExactExplainer(f, xf.maskers.Text())(text)
    perm = xf.PermutationExplainer(f, xf.maskers.Text(), seed=1)(text, max_evals=11 * 400)
    scale = np.abs(exact.values).max()
    np.testing.assert_allclose(perm.values, exact.values, rtol=0, atol=0.15 * scale)
    total = f([text]) - exact.base_values
    np.testing.assert_allclose(perm.values.sum(0), total[0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(exact.values.sum(0), total[0], rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------- exact vs shap
def test_exact_table_and_image_equal_shap(rng):
    shap = pytest.importorskip("shap")
    X, f = _table(rng)
    masker = shap.maskers.Partition(X[:20])
    theirs = shap.explainers.Exact(f, masker)(X[-3:], silent=True)
    ours = xf.ExactExplainer(f, masker)(X[-3:])
    np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.base_values, theirs.base_values, rtol=0, atol=1e-12)
    mine = xf.ExactExplainer(f, xf.maskers.Partition(X[:20], clustering=masker.clustering))
    np.testing.assert_allclose(mine(X[-3:]).values, theirs.values, rtol=0, atol=1e-10)

    shape = (2, 3, 2)
    images, g = rng.random((2,) + shape), _image_model(rng, shape)
    theirs = shap.explainers.Exact(g, shap.maskers.Image(0.5, shape))(images, silent=True)
    ours = xf.ExactExplainer(g, xf.maskers.Image(0.5, shape))(images)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-10)


def test_exact_text_equals_shaps_partition_masks(rng):
    # shap's Exact explainer fails on a Text masker (its clustering is a function of the
    # string); the oracle is shap's own partition_masks on each string's shap clustering
    shap = pytest.importorskip("shap")
    from shap.explainers._exact import partition_masks

    texts, f = _sentences(rng, 4, high=9), _text_model(rng)
    ours = xf.ExactExplainer(f, xf.maskers.Text())(texts)
    theirs = shap.maskers.Text()
    for i, s in enumerate(texts):
        masks, inds = partition_masks(theirs.clustering(s))
        out = f(np.array([theirs(m, s)[0][0] for m in masks]))
        want = np.stack([(out[on] - out[off]).mean(0) for off, on in
                         ((inds[j][0], inds[j][1]) for j in range(len(inds)))])  # fmt: skip
        np.testing.assert_allclose(ours.values[i], want, rtol=0, atol=1e-10)


# ----------------------------------------------------------------------- kernel vs brute force
def _shapley_brute(v, M):
    phi = np.zeros((M,) + np.shape(v(np.zeros(M, dtype=bool))))
    for S in itertools.product([False, True], repeat=M):
        S = np.array(S)
        s = int(S.sum())
        for j in np.nonzero(~S)[0]:
            T = S.copy()
            T[j] = True
            w = math.factorial(s) * math.factorial(M - s - 1) / math.factorial(M)
            phi[j] += w * (v(T) - v(S))
    return phi


def test_kernel_text_and_image_equal_brute_force_shapley(rng):
    shap = pytest.importorskip("shap")
    texts, f = _sentences(rng, 2, low=3, high=6), _text_model(rng)
    ours = xf.KernelExplainer(f, xf.maskers.Text(), seed=int(rng.integers(2**31)))(texts)
    theirs = shap.maskers.Text()  # an independent masker for the oracle
    for i, s in enumerate(texts):
        M = len(ours.values[i])
        want = _shapley_brute(lambda m, s=s: f(np.array([theirs(m, s)[0][0]]))[0], M)
        np.testing.assert_allclose(ours.values[i], want, rtol=0, atol=1e-9)

    shape = (3, 3, 1)
    images, g = rng.random((2,) + shape), _image_model(rng, shape)
    images[0, 1, 1, 0] = 0.25  # equal to the mask value: a dummy player
    ours = xf.KernelExplainer(g, xf.maskers.Image(0.25, shape))(images)
    for i, x in enumerate(images):
        hide = lambda m, x=x: g(np.where(m.reshape((1,) + shape), x[None], 0.25))[0]  # noqa: E731
        want = _shapley_brute(hide, 9)
        np.testing.assert_allclose(ours.values[i].reshape(9, 2), want, rtol=0, atol=1e-9)
    assert np.all(ours.values[0, 1, 1, 0] == 0)


def test_kernel_sampled_text_is_efficient(rng):
    f = _text_model(rng)
    text = " ".join(rng.choice(WORDS, 12, replace=False))
    exp = xf.KernelExplainer(f, xf.maskers.Text(), seed=3)(text, nsamples=300)
    total = f([text])[0] - exp.base_values
    np.testing.assert_allclose(exp.values.sum(0), total, rtol=0, atol=1e-9)


# ----------------------------------------------------------------------------- front door
def test_explainer_front_door_picks_as_shap(rng):
    X, f = _table(rng)
    texts, g = _sentences(rng, 2), _text_model(rng)
    assert type(xf.Explainer(f, X)).__name__ == "ExactExplainer"  # 6 features
    wide = np.hstack([X, X])
    assert type(xf.Explainer(lambda Z: Z.sum(1), wide)).__name__ == "PermutationExplainer"
    assert type(xf.Explainer(g, xf.maskers.Text())).__name__ == "PartitionExplainer"
    part = xf.Explainer(f, xf.maskers.Partition(X))
    assert type(part).__name__ == "ExactExplainer"
    assert type(xf.Explainer(f, X, algorithm="partition")).__name__ == "PartitionExplainer"
    e = xf.Explainer(g, xf.maskers.Text(), algorithm="permutation", seed=2)
    want = xf.PermutationExplainer(g, xf.maskers.Text(), seed=2)(texts, max_evals=40)
    got = e(texts, max_evals=40)
    for a, b in zip(got.values, want.values, strict=True):
        np.testing.assert_array_equal(a, b)
    k = xf.Explainer(g, xf.maskers.Text(), algorithm="kernel", seed=0)(texts)
    exact = xf.Explainer(f, X)(X[:2])
    np.testing.assert_allclose(exact.values, xf.ExactExplainer(f, X)(X[:2]).values, rtol=0, atol=0)
    assert len(k.values) == 2


def test_masker_explanations_plot(rng):
    pytest.importorskip("matplotlib")
    texts, f = _sentences(rng, 2), _text_model(rng)
    exp = xf.PermutationExplainer(f, xf.maskers.Text(), seed=0)(texts, max_evals=40)
    html = xf.plots.text(list(exp[0].feature_names), exp[0].values[:, 0])
    assert str(html).count("<span") >= len(exp[0].feature_names)
    shape = (4, 4, 1)
    img = xf.ExactExplainer(_image_model(rng, shape), xf.maskers.Image(0.0, shape))(
        rng.random((1,) + shape)
    )
    fig, _ = xf.plots.image(img.values[0, ..., 0], img.data[0])
    assert fig is not None


# --------------------------------------------------------------------------------- errors
def test_misuse_is_explained(rng):
    X, f = _table(rng)
    g = _text_model(rng)
    with pytest.raises(TypeError, match="masker.data"):
        xf.KernelExplainer(f, xf.maskers.Partition(X))
    with pytest.raises(ValueError, match="too low"):
        xf.PermutationExplainer(g, xf.maskers.Text())("the good plot", max_evals=5)
    with pytest.raises(ValueError, match="interaction values need background rows"):
        xf.ExactExplainer(g, xf.maskers.Text())("the good plot", interactions=True)
    with pytest.raises(ValueError, match="max_evals"):
        xf.ExactExplainer(g, xf.maskers.Text(), max_evals=10)("the good plot and bad acting")
    with pytest.raises(TypeError, match="str or a list of str"):
        xf.PermutationExplainer(g, xf.maskers.Text())([1, 2])
    with pytest.raises(ValueError, match="algorithm must be one of"):
        xf.Explainer(f, X, algorithm="tree")
    with pytest.raises(ValueError, match="masker cannot be None"):
        xf.Explainer(f)
    with pytest.raises(TypeError, match="callable"):
        xf.Explainer(3, X)
    with pytest.raises(ValueError, match="linearize_link=False"):
        xf.Explainer(f, X, link="logit")
    with pytest.raises(TypeError, match="call the explainer"):
        xf.PermutationExplainer(g, xf.maskers.Text()).shap_values(["the good plot"])


def test_partition_masker_without_hierarchy_is_background_rows(rng):
    X, f = _table(rng, n=12)
    flat = xf.maskers.Partition(X[:8], clustering=None)
    got = xf.ExactExplainer(f, flat)(X[8:])
    want = xf.ExactExplainer(f, X[:8])(X[8:])
    np.testing.assert_allclose(got.values, want.values, rtol=0, atol=0)
    e = xf.PermutationExplainer(f, flat, seed=1)(X[8:], max_evals=39)
    np.testing.assert_allclose(e.values.sum(1) + e.base_values, f(X[8:]), rtol=0, atol=1e-10)


def test_permutation_error_bounds_and_main_effects_through_a_masker(rng):
    texts, f = _sentences(rng, 3, low=3), _text_model(rng)
    masker = xf.maskers.Text()
    exp = xf.PermutationExplainer(f, masker, seed=2)(
        texts, max_evals=60, error_bounds=True, main_effects=True
    )
    for i, s in enumerate(texts):
        T = len(exp.values[i])
        alone = np.eye(T, dtype=bool)
        want = f(np.array([masker(m, s)[0][0] for m in alone])) - exp.base_values[i]
        np.testing.assert_allclose(exp.main_effects[i], want, rtol=0, atol=1e-12)
        assert exp.error_std[i].shape == exp.values[i].shape
        assert np.all(exp.error_std[i] >= 0) and np.any(exp.error_std[i] > 0)
    one = xf.PermutationExplainer(f, masker, seed=2)(texts[0], max_evals=60, error_bounds=True)
    np.testing.assert_array_equal(one.values, exp.values[0])
    np.testing.assert_array_equal(one.error_std, exp.error_std[0])
    part = exp[1:]  # rows keep their error bars and main effects
    np.testing.assert_array_equal(part.error_std[0], exp.error_std[1])
    np.testing.assert_array_equal(part.main_effects[1], exp.main_effects[2])
    assert exp[0].main_effects.shape == exp.values[0].shape


@pytest.mark.parametrize("cls", [xf.PartitionExplainer, xf.ExactExplainer, xf.PermutationExplainer])
def test_rows_with_other_columns_than_the_maskers_frame_are_refused(rng, cls):
    pd = pytest.importorskip("pandas")
    bg = pd.DataFrame(rng.normal(size=(12, 4)), columns=list("abcd"))

    def f(A):
        A = np.asarray(A)
        return 2 * A[:, 0] + A[:, 3] * A[:, 1]

    ex = cls(f, xf.maskers.Partition(bg))
    right = ex(bg.iloc[:2]).values
    assert right.shape == (2, 4) and np.abs(right[:, 2]).max() < 1e-12
    for wrong in (bg.iloc[:2][list("dcba")], bg.iloc[:2].set_axis(list("wxyz"), axis=1)):
        with pytest.raises(
            ValueError,
            match=r"do not match the masker's background \(at position 0, X has 'd'|missing: \['a'",
        ):
            ex(wrong)
    np.testing.assert_allclose(ex(bg.iloc[:2].to_numpy()).values, right, rtol=0, atol=1e-12)

"""KernelExplainer against shap (same settings) and against exact Shapley values."""

import warnings

import numpy as np
import pytest
import torch
from oracles import PairwiseGame, brute_force_shapley

import xai_fast as xf
from xai_fast.backends import available

shap = pytest.importorskip("shap")


def seed_shap(seed):
    """shap's KernelExplainer samples from numpy's global state; seed it for repeatable runs."""
    np.random.seed(seed)  # noqa: NPY002  (the reference library offers no other way)


def mlp(d, k, seed, dtype=torch.float64):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(d, 16), torch.nn.Tanh(), torch.nn.Linear(16, k))
    return net.to(dtype).eval()


def as_callable(net):
    def f(X):
        with torch.no_grad():
            return net(torch.as_tensor(X, dtype=next(net.parameters()).dtype)).numpy()

    return f


def assert_close_to(ours, ref, rel=1e-6):
    """Elementwise within ``rel`` of the reference, relative to the reference's scale."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=rel, atol=rel * np.abs(ref).max())


def product_game(X):
    return X[:, 0] * X[:, 1] * X[:, 2] * X[:, 3] + X[:, 4] + X[:, 5]


# ---------------------------------------------------------------- (a) full enumeration = shap
def test_product_game_equals_shap_and_brute_force(rng):
    B = rng.normal(size=(100, 6))
    X = rng.normal(size=(8, 6))
    ref = shap.KernelExplainer(product_game, B).shap_values(X, l1_reg=False, silent=True)
    ours = xf.KernelExplainer(product_game, B, seed=0).shap_values(X, l1_reg=False)
    assert_close_to(ours, ref)
    exact = np.stack([brute_force_shapley(product_game, x, B)[:, 0] for x in X])
    assert_close_to(ours, exact, rel=1e-9)


@pytest.mark.parametrize("k", [1, 3])
def test_torch_mlp_equals_shap(rng, k):
    d = 9
    net = mlp(d, k, int(rng.integers(1000)))
    B = rng.normal(size=(30, d))
    X = rng.normal(size=(6, d))
    ref = shap.KernelExplainer(as_callable(net), B).shap_values(X, l1_reg=False, silent=True)
    e = xf.KernelExplainer(net, B, seed=1)
    ours = e.shap_values(X, l1_reg=False)
    assert ours.shape == (6, d, k)  # (n, d, 1) for a (n, 1) output, as shap
    assert_close_to(ours, ref)
    np.testing.assert_allclose(e.expected_value, as_callable(net)(B).mean(0), rtol=1e-12)


@pytest.mark.parametrize("link", ["identity", "logit"])
def test_sklearn_classifier_equals_shap(rng, link):
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    Xall, y = load_breast_cancer(return_X_y=True)
    Xall = Xall[:, :10]
    clf = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(Xall, y)
    f = lambda X: np.clip(clf.predict_proba(X), 0.01, 0.99)  # noqa: E731  (logit-safe)
    idx = rng.choice(len(Xall), 45, replace=False)
    B, X = Xall[idx[:40]], Xall[idx[40:]]
    ref_e = shap.KernelExplainer(f, B, link=link)
    ref = ref_e.shap_values(X, l1_reg=False, silent=True)
    e = xf.KernelExplainer(f, B, link=link, seed=0)
    ours = e.shap_values(X, l1_reg=False)
    assert ours.shape == (5, 10, 2)
    assert_close_to(ours, ref)
    assert_close_to(e.expected_value, ref_e.expected_value, rel=1e-12)


def test_default_l1_reg_equals_shap_default(rng):
    d = 11
    net = mlp(d, 1, 3)
    B = rng.normal(size=(20, d))
    X = rng.normal(size=(4, d))
    ref = shap.KernelExplainer(as_callable(net), B).shap_values(X, silent=True)
    ours = xf.KernelExplainer(net, B, seed=0).shap_values(X)
    assert_close_to(ours, ref)


@pytest.mark.parametrize("d", [6, 10])
def test_num_features_at_least_every_feature_equals_shap(rng, d):
    """``num_features(k)`` with ``k >= d`` equals shap's: its lars path can stop before every
    feature is in (at float32's eps of correlation per sample, which small outputs reach), on a
    generic model and on one with features it never reads (exactly zero in both)."""
    net = mlp(d, 2, int(rng.integers(100)))
    unused = rng.choice(d, 2, replace=False)

    def sparse(A):  # the net without features `unused`
        A = np.array(A, dtype=np.float64)
        A[:, unused] = 0.0
        return as_callable(net)(A)

    B, X = rng.normal(size=(12, d)), rng.normal(size=(3, d))
    for f in (as_callable(net), sparse):
        for l1_reg in ("num_features(10)", f"num_features({d})"):
            ref = shap.KernelExplainer(f, B).shap_values(X, l1_reg=l1_reg, silent=True)
            ours = xf.KernelExplainer(f, B, seed=0).shap_values(X, l1_reg=l1_reg)
            assert_close_to(ours, ref)
            if f is sparse:
                assert np.all(ours[:, unused] == 0) and np.all(np.asarray(ref)[:, unused] == 0)


# ---------------------------------------------------------------- (b) sampling regime accuracy
def rel_err(v, exact):
    return np.linalg.norm(v - exact) / np.linalg.norm(exact)


@pytest.mark.parametrize("d", [16, 50])
def test_sampling_error_no_worse_than_shap(d):
    # Same design as shap's, so equal error in distribution: over 20 seeds our mean error must
    # not exceed shap's by more than three standard errors of the paired difference.
    gen = np.random.default_rng(1000 + d)
    game = PairwiseGame(d, gen)
    B = gen.normal(size=(10, d))
    X = gen.normal(size=(3, d))
    exact = game.shapley_values(X, B)
    np.testing.assert_allclose(exact.sum(1), game(X) - game(B).mean(), rtol=1e-10)
    ours, theirs = [], []
    for s in range(20):
        v = xf.KernelExplainer(game, B, seed=s).shap_values(X, nsamples=1000, l1_reg=False)
        ours.append(rel_err(v, exact))
        seed_shap(s)
        ref = shap.KernelExplainer(game, B)
        v = ref.shap_values(X, nsamples=1000, l1_reg=False, silent=True)
        theirs.append(rel_err(v, exact))
    diff = np.array(ours) - np.array(theirs)
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    assert np.mean(ours) <= np.mean(theirs) + 3 * se, (np.mean(ours), np.mean(theirs), se)
    assert np.mean(ours) < 0.2  # and the estimate is useful at all


def test_additive_model_is_exact_when_sampling(rng):
    d = 30
    a = rng.normal(size=d)
    B = rng.normal(size=(5, d))
    X = rng.normal(size=(4, d))
    v = xf.KernelExplainer(lambda Z: Z @ a, B, seed=3).shap_values(X, nsamples=500, l1_reg=False)
    assert_close_to(v, a * (X - B.mean(0)), rel=1e-8)


# ---------------------------------------------------------------- (c) efficiency
@pytest.mark.parametrize("nsamples", ["auto", 300])
@pytest.mark.parametrize("link", ["identity", "logit"])
def test_efficiency(rng, nsamples, link):
    d = 20
    net = torch.nn.Sequential(mlp(d, 2, 5), torch.nn.Softmax(dim=1))
    B = rng.normal(size=(15, d))
    X = rng.normal(size=(5, d))
    e = xf.KernelExplainer(net, B, link=link, seed=0)
    v = e.shap_values(X, nsamples=nsamples, l1_reg=False)
    out = as_callable(net)(X)
    target = np.log(out / (1 - out)) if link == "logit" else out
    np.testing.assert_allclose(v.sum(axis=1) + e.expected_value, target, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- (d) seeds and batching
def test_same_seed_identical_different_seeds_differ(rng):
    d = 18
    game = PairwiseGame(d, rng)
    B = rng.normal(size=(8, d))
    X = rng.normal(size=(5, d))
    seed = int(rng.integers(2**31))
    v1 = xf.KernelExplainer(game, B, seed=seed).shap_values(X, nsamples=400, l1_reg=False)
    v2 = xf.KernelExplainer(game, B, seed=seed).shap_values(X, nsamples=400, l1_reg=False)
    v3 = xf.KernelExplainer(game, B, seed=seed + 1).shap_values(X, nsamples=400, l1_reg=False)
    np.testing.assert_array_equal(v1, v2)
    assert np.abs(v1 - v3).max() > 1e-6


def test_row_alone_equals_row_in_batch(rng):
    d = 18
    game = PairwiseGame(d, rng)
    B = rng.normal(size=(8, d))
    X = rng.normal(size=(6, d))
    B[:, 0] = 0.5
    X[2, 0] = 0.5  # row 2 has one feature fewer that varies: another design group
    e = xf.KernelExplainer(game, B, seed=11, batch_size=100)
    batch = e.shap_values(X, nsamples=400, l1_reg=False)
    assert batch[2, 0] == 0.0
    for i in [0, 2, 4]:
        np.testing.assert_allclose(
            e.shap_values(X[i], nsamples=400, l1_reg=False), batch[i], rtol=1e-12, atol=1e-12
        )


def test_backends_give_the_same_values(rng):
    d = 20
    game = PairwiseGame(d, rng)
    B = rng.normal(size=(6, d))
    X = rng.normal(size=(3, d))
    vals = [
        xf.KernelExplainer(game, B, seed=2, backend=b).shap_values(X, nsamples=300, l1_reg=False)
        for b in available()
    ]
    for v in vals[1:]:
        assert_close_to(v, vals[0], rel=1e-10)


@pytest.mark.parametrize("link", ["identity", "logit"])
def test_module_on_every_backend_gives_the_same_values(rng, link):
    # "torch" keeps the whole pipeline on the module's device; the others go through numpy.
    d = 14
    net = torch.nn.Sequential(mlp(d, 3, 4), torch.nn.Softmax(dim=1))
    B = rng.normal(size=(9, d))
    X = rng.normal(size=(5, d))
    vals = {
        b: xf.KernelExplainer(net, B, link=link, seed=7, backend=b).shap_values(
            X, nsamples=600, l1_reg=False
        )
        for b in available()
    }
    for v in vals.values():
        assert_close_to(v, vals["numpy"], rel=1e-9)


def test_module_path_equals_callable_path(rng):
    d = 12
    net = mlp(d, 2, 9)
    B = rng.normal(size=(10, d))
    X = rng.normal(size=(4, d))
    a = xf.KernelExplainer(net, B, seed=0).shap_values(X, nsamples=500, l1_reg=False)
    b = xf.KernelExplainer(as_callable(net), B, seed=0).shap_values(X, nsamples=500, l1_reg=False)
    assert_close_to(a, b, rel=1e-10)


# ---------------------------------------------------------------- (e) l1_reg keeps shap's features
def sparse_linear(rng, d, k):
    coef = np.zeros(d)
    support = rng.choice(d, k, replace=False)
    coef[support] = rng.choice([-1, 1], k) * rng.uniform(1, 3, k)
    return (lambda X: X @ coef), set(support.tolist())


@pytest.mark.parametrize("l1_reg", ["num_features(4)", "aic", "bic", 1e-5])
@pytest.mark.parametrize("d,nsamples", [(10, "auto"), (20, 600)])
def test_l1_reg_keeps_the_same_features_as_shap(rng, l1_reg, d, nsamples):
    f, support = sparse_linear(rng, d, 4)
    B = rng.normal(size=(10, d))
    # every feature at least 1 away from its background mean: true values are all >= 1
    X = B.mean(0) + rng.choice([-1, 1], (3, d)) * rng.uniform(1, 2, (3, d))
    seed_shap(0)
    ref = shap.KernelExplainer(f, B).shap_values(X, nsamples=nsamples, l1_reg=l1_reg, silent=True)
    ours = xf.KernelExplainer(f, B, seed=0).shap_values(X, nsamples=nsamples, l1_reg=l1_reg)
    for i in range(len(X)):
        kept = set(np.nonzero(ours[i])[0].tolist())
        assert kept == set(np.nonzero(ref[i])[0].tolist())
        assert kept == support
    if nsamples == "auto":  # identical designs: identical numbers
        assert_close_to(ours, ref)


def test_auto_l1_reg_is_deprecated_like_shap(rng):
    f, _ = sparse_linear(rng, 20, 3)
    B = rng.normal(size=(5, 20))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with pytest.raises(DeprecationWarning, match="deprecated"):
            xf.KernelExplainer(f, B, seed=0).shap_values(B[:1] + 1, nsamples=100, l1_reg="auto")


def test_rows_in_memory_bounded_chunks_give_the_same_values(rng, monkeypatch):
    import xai_fast.explainers.kernel as kernel_module

    game = PairwiseGame(12, rng)
    B = rng.normal(size=(4, 12))
    X = rng.normal(size=(7, 12))
    whole = xf.KernelExplainer(game, B, seed=5).shap_values(X, nsamples=300, l1_reg=False)

    def two_rows(self, groups, nsamples):  # tables for 2 rows a chunk
        return {M: 4 * 8 * 300 * 2 for M, _, _ in groups}

    monkeypatch.setattr(kernel_module.KernelExplainer, "_check_budget", two_rows)
    chunked = xf.KernelExplainer(game, B, seed=5).shap_values(X, nsamples=300, l1_reg=False)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)  # BLAS blocking only


def test_memory_budget_and_budget_floor_are_checked_before_any_model_call(rng):
    calls = []

    def f(A):
        calls.append(len(A))
        return A.sum(axis=1)

    B = rng.normal(size=(5, 40))
    X = rng.normal(size=(2, 40))
    explainer = xf.KernelExplainer(f, B, seed=0, max_memory=2**20)
    calls.clear()
    with pytest.raises(ValueError, match="GiB for the design"):
        explainer.shap_values(X, nsamples=5000, l1_reg=False)
    with pytest.raises(ValueError, match="too small for 40 varying features"):
        explainer.shap_values(X, nsamples=20, l1_reg=False)
    assert calls == []
    with pytest.raises(ValueError, match="at least 1 MiB"):
        xf.KernelExplainer(f, B, max_memory=1000)
    with pytest.raises(TypeError, match="max_memory must be an int"):
        xf.KernelExplainer(f, B, max_memory=1.5e9)

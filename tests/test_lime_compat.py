"""lime's discretizers, side by side with lime: bins and per-bin statistics, undiscretize and
its random_state, and discretizer objects (ours and lime's) given to LimeTabularExplainer."""

# ruff: noqa: NPY002  (lime seeds from numpy's legacy global generator: tested on purpose)
from __future__ import annotations

import numpy as np
import pytest
from lime_compat_cases import data as _data
from lime_compat_cases import keep_global_state  # noqa: F401  (autouse fixture)
from lime_compat_cases import model as _model

import xai_fast as xf

lime_tabular = pytest.importorskip("lime.lime_tabular")
lime_disc = pytest.importorskip("lime.discretize")

CLASSES = ("QuartileDiscretizer", "DecileDiscretizer", "EntropyDiscretizer")


def _recorder(f):
    """``f`` that keeps every input it was called with."""
    seen = []

    def call(A):
        seen.append(A)
        return f(A)

    return call, seen


# ---------------------------------------------------------------- discretizers against lime
@pytest.mark.parametrize("name", CLASSES)
def test_discretizer_bins_and_stats_match_lime(name, rng):
    X, y = _data(rng)
    names = [f"f{j}" for j in range(X.shape[1])]
    ours = getattr(xf, name)(X, [1], names, y, random_state=3)
    ref = getattr(lime_disc, name)(X, [1], names, y, random_state=3)
    assert ours.to_discretize == ref.to_discretize
    assert ours.names == ref.names
    for j in ref.to_discretize:
        for key in ("means", "stds", "mins", "maxs"):
            np.testing.assert_allclose(
                getattr(ours, key)[j], getattr(ref, key)[j], rtol=1e-12, atol=1e-14
            )
    np.testing.assert_array_equal(ours.discretize(X), ref.discretize(X))
    np.testing.assert_array_equal(ours.discretize(X[0]), ref.discretize(X[0]))


@pytest.mark.parametrize("name", CLASSES)
def test_undiscretize_seeds(name, rng):
    X, y = _data(rng)
    names = [f"f{j}" for j in range(X.shape[1])]

    def make(rs):
        return getattr(xf, name)(X, [], names, y, random_state=rs)

    codes = make(0).discretize(X)
    a, b, c = (make(rs).undiscretize(codes) for rs in (10, 10, 20))
    np.testing.assert_array_equal(a, b)
    assert (a != c).mean() > 0.9
    d1 = make(np.random.RandomState(10)).undiscretize(codes)
    d2 = make(np.random.RandomState(10)).undiscretize(codes)
    np.testing.assert_array_equal(d1, d2)
    rs = np.random.RandomState(5)
    disc = make(rs)
    assert (disc.undiscretize(codes) != disc.undiscretize(codes)).mean() > 0.9  # advances
    # values fall back into their bins; one row alone is drawn like the first row of a batch
    disc = make(7)
    np.testing.assert_array_equal(disc.discretize(disc.undiscretize(codes)), codes)
    np.testing.assert_array_equal(disc.undiscretize(codes[0]), disc.undiscretize(codes)[0])


def test_undiscretize_draws_like_lime(rng):
    X, y = _data(rng, n=400, d=2)
    n = 20000
    ours = xf.QuartileDiscretizer(X, [], ["a", "b"], random_state=int(rng.integers(1e9)))
    ref = lime_disc.QuartileDiscretizer(X, [], ["a", "b"], random_state=int(rng.integers(1e9)))
    for b in range(4):
        codes = np.full((n, 2), float(b))
        u, r = ours.undiscretize(codes), ref.undiscretize(codes)
        for j in range(2):
            se = np.sqrt((u[:, j].var() + r[:, j].var()) / n)
            assert abs(u[:, j].mean() - r[:, j].mean()) < 5 * se
            assert abs(u[:, j].std() / r[:, j].std() - 1) < 0.05
            assert u[:, j].min() >= ref.mins[j][b] and u[:, j].max() <= ref.maxs[j][b]


def test_undiscretize_none_reads_one_global_draw(rng):
    X, y = _data(rng)
    disc = xf.QuartileDiscretizer(X, [], list("abcd"))
    codes = disc.discretize(X)
    np.random.seed(123)
    a = disc.undiscretize(codes)
    after = np.random.get_state()[1].copy()
    np.random.seed(123)
    np.random.randint(0, 2**63, dtype=np.int64)  # what one call reads
    np.testing.assert_array_equal(np.random.get_state()[1], after)
    np.random.seed(123)
    np.testing.assert_array_equal(disc.undiscretize(codes), a)


@pytest.mark.parametrize("bad", [1.5, "seed", [1, 2]])
def test_discretizer_random_state_type_error(bad, rng):
    X, _ = _data(rng)
    with pytest.raises(TypeError, match="random_state must be"):
        xf.QuartileDiscretizer(X, [], list("abcd"), random_state=bad)


def test_stats_discretizer_needs_bins(rng):
    X, _ = _data(rng)
    with pytest.raises(ValueError, match="needs data_stats"):
        xf.StatsDiscretizer(X, [], list("abcd"), data_stats={"means": {}})


# ---------------------------------------------------------------- discretizer= objects
@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("source", ["lime", "ours"])
def test_discretizer_object_bins_from_explainer_values_from_discretizer(name, source, rng):
    X, y = _data(rng)
    f = _model(X, y)
    lib = lime_disc if source == "lime" else xf
    names = list("abcd")

    def run(disc_seed, seed=4):
        disc = getattr(lib, name)(X, [], names, y, random_state=disc_seed)
        ex = xf.LimeTabularExplainer(X, feature_names=names, discretizer=disc, random_state=seed)
        g, seen = _recorder(f)
        exp = ex.explain_instance(X[0], g, num_samples=400)
        return exp, seen[-1], disc

    e1, rows1, disc = run(10)
    e2, rows2, _ = run(10)
    e3, rows3, _ = run(20)
    e4, rows4, _ = run(10, seed=5)
    assert e1.as_map() == e2.as_map()
    np.testing.assert_array_equal(rows1, rows2)
    assert e1.as_map() != e3.as_map() and e1.as_map() != e4.as_map()
    # the explainer's seed picks the bins, the discretizer's the values within them
    np.testing.assert_array_equal(disc.discretize(rows1), disc.discretize(rows3))
    assert (rows1 != rows3).mean() > 0.9
    assert (disc.discretize(rows1) != disc.discretize(rows4)).mean() > 0.3
    # display names are lime's bin names
    lime_d = getattr(lime_disc, name)(X, [], names, y, random_state=10)
    ref = lime_tabular.LimeTabularExplainer(X, feature_names=names, discretizer=lime_d)
    r = ref.explain_instance(X[0], f, num_samples=400, num_features=4)
    e = xf.LimeTabularExplainer(X, feature_names=names, discretizer=disc, random_state=1)
    assert sorted(n for n, _ in e.explain_instance(X[0], f, num_features=4).as_list()) == sorted(
        n for n, _ in r.as_list()
    )


def test_own_discretizer_values_are_its_undiscretize(rng):
    X, y = _data(rng)
    f = _model(X, y)
    disc = xf.DecileDiscretizer(X, [], list("abcd"), random_state=9)
    for backend, tol in (("numpy", 0), ("numba", 1e-12)):  # Numba's normal quantile: ~1e-15
        ex = xf.LimeTabularExplainer(X, discretizer=disc, random_state=2, backend=backend)
        g, seen = _recorder(f)
        ex.explain_instance(X[1], g, num_samples=300)
        rows = seen[-1]
        back = disc.undiscretize(disc.discretize(rows))
        np.testing.assert_allclose(back, rows, rtol=tol, atol=tol * np.abs(X).max())


def test_lime_entropy_discretizer_needs_no_training_labels(rng):
    X, y = _data(rng)
    disc = lime_disc.EntropyDiscretizer(X, [], list("abcd"), y, random_state=1)
    ex = xf.LimeTabularExplainer(X, discretizer=disc, random_state=0)
    assert ex.discretizer.names == disc.names
    with pytest.raises(ValueError, match="needs training_labels"):
        xf.LimeTabularExplainer(X, discretizer="entropy")


def test_bad_discretizer_type(rng):
    X, _ = _data(rng)
    with pytest.raises(TypeError, match="discretizer must be"):
        xf.LimeTabularExplainer(X, discretizer=3)


@pytest.mark.parametrize("source", ["lime", "ours"])
def test_with_seed_fixes_the_discretizer_seed(source, rng):
    X, y = _data(rng)
    f = _model(X, y)
    lib = lime_disc if source == "lime" else xf
    disc = lib.QuartileDiscretizer(X, [], list("abcd"), random_state=None)
    ex = xf.LimeTabularExplainer(X, discretizer=disc).with_seed()
    assert isinstance(ex.random_state, int) and isinstance(ex.discretizer.random_state, int)
    a = ex.explain_instance(X[0], f, num_samples=300).as_map()
    np.random.seed(int(rng.integers(1e6)))
    assert ex.explain_instance(X[0], f, num_samples=300).as_map() == a

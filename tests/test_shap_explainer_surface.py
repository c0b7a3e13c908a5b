"""shap's explainer surface beyond the values: ``explainer.masker`` / ``explainer.model``,
``save`` / ``load`` of every coalition explainer, the masker-less front door, and
``xai_fast.Explainer`` giving ``shap.Explainer``'s numbers."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

import xai_fast as xf

shap = pytest.importorskip("shap")


class _Net:
    """A non-additive ``(n, d) -> (n, k)`` model (``(n,)`` for ``single``), picklable."""

    def __init__(self, W, single=False):
        self.W, self.single = W, single

    def __call__(self, X):
        out = np.tanh(X @ self.W) + 0.3 * X[:, :1] * X[:, 1:2]
        return out[:, 0] if self.single else out


def _model(rng, d, k=3):
    """A multi-output model and its single-output first column."""
    W = rng.normal(size=(d, k))
    return _Net(W), _Net(W, single=True)


@pytest.mark.parametrize("kind", ["exact", "permutation", "kernel"])
def test_masker_of_background_rows_fills_the_coalition(rng, kind):
    d, N = 5, 7
    f, _ = _model(rng, d)
    B, x = rng.normal(size=(N, d)), rng.normal(size=d)
    cls = {"exact": xf.ExactExplainer, "permutation": xf.PermutationExplainer,
           "kernel": xf.KernelExplainer}[kind]  # fmt: skip
    ex = cls(f, B)
    masker = ex.masker
    assert isinstance(masker, xf.maskers.Independent)  # shap's type for background rows
    assert masker.shape == (N, d)
    mask = rng.random(d) < 0.5
    (rows,) = masker(mask, x)
    np.testing.assert_array_equal(rows, np.where(mask, x, B))  # oracle: the definition
    np.testing.assert_allclose(ex.model(rows), f(rows), rtol=1e-12, atol=1e-12)
    # the masker stands for the same background: an explainer built on it agrees
    X = rng.normal(size=(3, d))
    again = cls(f, masker, **({"seed": 1} if kind != "exact" else {}))
    first = cls(f, B, **({"seed": 1} if kind != "exact" else {}))
    np.testing.assert_allclose(again(X).values, first(X).values, rtol=1e-12, atol=1e-12)


def test_masker_keeps_feature_names_and_the_given_hierarchy(rng):
    pd = pytest.importorskip("pandas")
    f, g = _model(rng, 4)
    B = pd.DataFrame(rng.normal(size=(6, 4)), columns=list("abcd"))
    assert xf.ExactExplainer(g, B).masker.feature_names == list("abcd")
    part = xf.maskers.Partition(B.to_numpy())
    for cls in (xf.ExactExplainer, xf.PermutationExplainer):
        ex = cls(f, part)
        assert ex.masker is part
        (rows,) = ex.masker(np.ones(4, dtype=bool), B.to_numpy()[0])
        np.testing.assert_allclose(ex.model(rows), f(rows), rtol=1e-12, atol=1e-12)


def test_masker_of_non_numeric_background_is_absent_with_a_reason():
    X = np.array([["A", "0"], ["B", "1"], ["A", "1"]], dtype=object)
    ex = xf.ExactExplainer(lambda Z: (Z[:, 0] == "A").astype(float), X)
    assert not hasattr(ex, "masker")
    with pytest.raises(AttributeError, match="non-numeric"):
        _ = ex.masker


@pytest.mark.parametrize("cls", [xf.ExactExplainer, xf.PermutationExplainer, xf.KernelExplainer])
@pytest.mark.parametrize("savers", ["pickled", "custom", "skipped"])
def test_save_load_round_trip(rng, cls, savers):
    d = 4
    _, g = _model(rng, d)
    B, X = rng.normal(size=(12, d)), rng.normal(size=(3, d))
    seeded = {} if cls is xf.ExactExplainer else {"seed": int(rng.integers(2**31))}
    ex = cls(g, B, **seeded)
    save, load = {
        "pickled": ({}, {}),
        "custom": ({"model_saver": pickle.dump}, {"model_loader": pickle.load}),
        "skipped": (
            {"model_saver": False, "masker_saver": False},
            {"model_loader": lambda _: g, "masker_loader": lambda _: B},
        ),
    }[savers]
    buf = io.BytesIO()
    ex.save(buf, **save)
    buf.seek(0)
    back = cls.load(buf, **load)
    assert type(back) is cls and type(back.masker) is type(ex.masker)
    a, b = ex(X), back(X)
    np.testing.assert_allclose(b.values, a.values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.base_values, a.base_values, rtol=1e-12, atol=1e-12)


def test_front_door_without_masker_says_so():
    with pytest.raises(ValueError, match="masker cannot be None"):
        xf.Explainer(lambda X: X.sum(1))


@pytest.mark.parametrize("d, kind", [(8, xf.ExactExplainer), (30, xf.PermutationExplainer)])
@pytest.mark.parametrize("multi", [False, True])
def test_front_door_equals_shaps(rng, d, kind, multi):
    f, g = _model(rng, d)
    model = f if multi else g
    B, X = rng.normal(size=(25, d)), rng.normal(size=(4, d))
    seed = int(rng.integers(2**31))
    ex = xf.Explainer(model, B, seed=seed)
    assert isinstance(ex, kind)
    ours = ex(X)
    theirs = shap.Explainer(model, B, seed=seed)(X)
    assert ours.values.shape == theirs.values.shape == ((4, d, 3) if multi else (4, d))
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.base_values, theirs.base_values, rtol=1e-9, atol=1e-12)

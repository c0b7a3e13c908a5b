"""KernelShap and Lime on tensors with feature masks: exact Shapley values, efficiency, known
answers, the ridge against scikit-learn, captum, seeds, batching and error messages."""

import numpy as np
import pytest
import torch
from oracles import brute_force_shapley

from xai_fast._rng import normalize_seed
from xai_fast.backends import available
from xai_fast.explainers.feature_mask import (
    KernelShap,
    Lime,
    _lime_design,
    grid_feature_mask,
    weighted_ridge,
)

# ---------------------------------------------------------------------------- helpers


def linear(rng, d_in, d_out, dtype=torch.float64):
    """A Linear layer with weights from ``rng`` (no global random state)."""
    lin = torch.nn.Linear(d_in, d_out).to(dtype)
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(rng.normal(size=(d_out, d_in)) / np.sqrt(d_in)))
        lin.bias.copy_(torch.as_tensor(rng.normal(size=d_out)))
    return lin


class Interacting(torch.nn.Module):
    """A tanh MLP plus a product of three inputs: nonlinear, with interactions, ``k`` outputs."""

    def __init__(self, rng, d, k, dtype=torch.float64):
        super().__init__()
        self.l1, self.l2 = linear(rng, d, 16, dtype), linear(rng, 16, k, dtype)

    def forward(self, x):
        x = x.flatten(1)
        return self.l2(torch.tanh(self.l1(x))) + (x[:, 0] * x[:, 1] * x[:, -1])[:, None]


def torch_gen(rng):
    return torch.Generator().manual_seed(int(rng.integers(2**62)))


def per_feature(attr, mask):
    """``(N, M)`` values of the features from input-shaped attributions, features in increasing
    id order; checks that every element of a feature carries the same value."""
    N = attr.shape[0]
    mask = torch.broadcast_to(torch.as_tensor(mask), attr.shape).reshape(N, -1)
    out = []
    for a, m in zip(attr.reshape(N, -1), mask, strict=True):
        vals = [a[m == u] for u in torch.unique(m)]
        for v in vals:
            torch.testing.assert_close(v, v[:1].expand_as(v), rtol=0, atol=0)
        out.append(torch.stack([v[0] for v in vals]))
    return torch.stack(out)


# ---------------------------------------------------------------------------- (a) exact values


@pytest.mark.parametrize("backend", available())
def test_full_enumeration_equals_brute_force_shapley(rng, backend):
    N, d, M = 3, 12, 6
    model = Interacting(rng, d, k=3)
    x = torch.as_tensor(rng.normal(size=(N, d)))
    base = torch.as_tensor(rng.normal(size=(N, d)))
    ids = np.array([-3, 2, 5, 11, 40, 41])  # not contiguous: numbered 0..5 in this order
    groups = np.stack([rng.permutation(np.repeat(np.arange(M), 2)) for _ in range(N)])
    mask = torch.as_tensor(ids[groups])  # a different grouping per example
    target = [0, 2, 1]

    attr = KernelShap(model, seed=0, backend=backend).attribute(x, base, target, feature_mask=mask)
    assert attr.shape == x.shape and attr.dtype == torch.float64
    got = per_feature(attr, mask).numpy()

    for i in range(N):

        def game(Zrows, i=i):
            keep = torch.as_tensor(Zrows[:, groups[i]], dtype=torch.bool)
            with torch.no_grad():
                return model(torch.where(keep, x[i], base[i]))[:, target[i]].numpy()

        exact = brute_force_shapley(game, np.ones(M), np.zeros((1, M)))[:, 0]
        np.testing.assert_allclose(got[i], exact, rtol=0, atol=1e-8)


# ---------------------------------------------------------------------------- (b) efficiency


def test_efficiency_with_sampling(rng):
    N, L, E = 4, 20, 3  # token embeddings: one feature per position, M = 20
    model = torch.nn.Sequential(torch.nn.Flatten(), Interacting(rng, L * E, k=1))
    x = torch.as_tensor(rng.normal(size=(N, L, E)))
    attr = KernelShap(model, seed=1).attribute(x, baselines=0.5, n_samples=300)
    phi = per_feature(attr, grid_feature_mask(x.shape))
    assert phi.shape == (N, L)
    with torch.no_grad():
        total = model(x)[:, 0] - model(torch.full_like(x, 0.5))[:, 0]
    torch.testing.assert_close(phi.sum(1), total, rtol=0, atol=1e-6)


def test_integer_tokens_through_an_embedding(rng):
    """Token ids stay integers; an absent token becomes the padding id 0."""
    N, L, V = 3, 7, 50
    emb = torch.nn.Embedding(V, 4).double()
    with torch.no_grad():
        emb.weight.copy_(torch.as_tensor(rng.normal(size=(V, 4))))
    model = torch.nn.Sequential(emb, torch.nn.Flatten(), Interacting(rng, L * 4, k=2))
    tokens = torch.as_tensor(rng.integers(1, V, size=(N, L)))
    attr = KernelShap(model, seed=0).attribute(tokens, baselines=0, target=1)
    assert attr.shape == tokens.shape and attr.dtype == torch.float32
    with torch.no_grad():
        total = model(tokens)[:, 1] - model(torch.zeros_like(tokens))[:, 1]
    torch.testing.assert_close(attr.sum(1).double(), total, rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------- (c) known answer


class PatchModel(torch.nn.Module):
    """``10 * sum(patch (2, 1) of 4x4) + 0.1 * sum(other pixels)`` of (N, 1, 16, 16) images."""

    def forward(self, x):
        w = torch.full((16, 16), 0.1, dtype=x.dtype)
        w[8:12, 4:8] = 10.0
        return (x[:, 0] * w).sum((1, 2))


@pytest.mark.parametrize("cls", [KernelShap, Lime])
def test_known_patch_ranked_first(rng, cls):
    x = 0.1 + 0.9 * torch.rand((6, 1, 16, 16), generator=torch_gen(rng))
    attr = cls(PatchModel(), seed=2).attribute(x, patch_size=4, n_samples=400)
    phi = per_feature(attr, grid_feature_mask(x.shape, patch_size=4))
    assert phi.shape == (6, 16)
    assert (phi.argmax(1) == 2 * 4 + 1).all()


def test_grid_feature_mask():
    assert grid_feature_mask((5, 7)).tolist() == [list(range(7))]
    assert grid_feature_mask((5, 4, 3)).shape == (1, 4, 1)
    for H, W, patches in [(16, 16, 64), (224, 224, 64), (10, 30, 24), (3, 5, 15)]:
        m = grid_feature_mask((2, 3, H, W))
        assert m.shape == (1, 1, H, W)
        assert torch.unique(m).tolist() == list(range(patches))
    m = grid_feature_mask((1, 1, 8, 8), patch_size=(2, 4))
    assert (
        m[0, 0, :2, :4].unique().tolist() == [0] and m[0, 0, 2, 4].item() == 3
    )  # 2 patches per row


# ---------------------------------------------------------------------------- (d) ridge


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_weighted_ridge_equals_sklearn(rng, alpha):
    from sklearn.linear_model import Ridge

    Z = (rng.random((200, 7)) < 0.5).astype(np.float64)
    y = rng.normal(size=(200, 3)) + Z @ rng.normal(size=(7, 3))
    w = rng.random(200) + 0.05
    coef, intercept = weighted_ridge(torch.as_tensor(Z), torch.as_tensor(y), w, alpha)
    assert coef.shape == (7, 3) and intercept.shape == (3,)
    for r in range(3):
        ref = Ridge(alpha=alpha, fit_intercept=True).fit(Z, y[:, r], sample_weight=w)
        np.testing.assert_allclose(coef[:, r].numpy(), ref.coef_, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(intercept[r].item(), ref.intercept_, rtol=1e-8)
    c1, i1 = weighted_ridge(Z, y[:, 0], w, alpha)  # one output
    torch.testing.assert_close(c1, coef[:, 0])
    torch.testing.assert_close(i1, intercept[0])


def test_lime_is_sklearn_ridge_on_its_perturbations(rng):
    from sklearn.linear_model import Ridge

    N, d, M, S = 2, 10, 5, 300
    model = Interacting(rng, d, k=2)
    x = torch.as_tensor(rng.normal(size=(N, d)))
    mask = torch.arange(d).reshape(1, d) // 2
    attr = Lime(model, style="lime", seed=3, kernel_width=0.4, alpha=0.5).attribute(
        x, target=1, feature_mask=mask, n_samples=S
    )
    Z, w = _lime_design(M, S, normalize_seed(3), 0.4)
    assert Z[0].all() and w[0] == 1.0
    for i in range(N):
        with torch.no_grad():
            y = model(torch.where(torch.as_tensor(Z)[:, mask[0]], x[i], 0.0))[:, 1].numpy()
        ref = Ridge(alpha=0.5).fit(Z.astype(np.float64), y, sample_weight=w)
        np.testing.assert_allclose(per_feature(attr, mask)[i].numpy(), ref.coef_, rtol=1e-8)


# ---------------------------------------------------------------------------- (e) captum


def test_agrees_with_captum_kernel_shap(rng):
    captum_attr = pytest.importorskip("captum.attr")
    model = torch.nn.Sequential(linear(rng, 16, 16), torch.nn.Tanh(), linear(rng, 16, 1))
    x = torch.as_tensor(rng.normal(size=(2, 16)))
    mask = torch.arange(16).reshape(1, 16) // 2  # M = 8
    ours = KernelShap(model, seed=0).attribute(x, feature_mask=mask, n_samples=2**8 - 2)
    with torch.random.fork_rng(), pytest.warns(UserWarning):  # captum samples from torch's RNG
        torch.manual_seed(int(rng.integers(2**31)))
        ref = captum_attr.KernelShap(model).attribute(
            x, target=0, feature_mask=mask, n_samples=1500, perturbations_per_eval=500
        )
    a, b = per_feature(ours, mask).numpy(), per_feature(ref.double(), mask).numpy()
    for i in range(len(x)):
        assert np.corrcoef(a[i], b[i])[0, 1] >= 0.99


# ---------------------------------------------------------------------------- (f) seeds, batches


@pytest.mark.parametrize(
    "cls, style, mixed",
    [(KernelShap, {}, True), (Lime, {"style": "lime"}, True), (Lime, {}, False)],
    ids=["kernel", "lime-style", "captum-style"],
)
def test_seeds_and_batches(rng, cls, style, mixed):
    N, d = 4, 20
    model = Interacting(rng, d, k=2)
    x = torch.as_tensor(rng.normal(size=(N, d)))
    base = torch.as_tensor(rng.normal(size=(N, d)))
    mask = torch.as_tensor(np.tile(np.arange(d), (N, 1)))
    if mixed:  # example 1 has 10 features, the others 20: two designs
        mask[1] //= 2  # (captum's style counts the batch's ids: alone it would have 10)
    target = [1, 0, 1, 1]

    def run(seed, rows=slice(None), **kw):
        ex = cls(model, seed=seed, **style, **kw)
        t = torch.as_tensor(target)[rows]
        return ex.attribute(x[rows], base[rows], t, feature_mask=mask[rows], n_samples=150)

    a = run(7)
    assert torch.equal(a, run(7))
    assert not torch.allclose(a, run(8))
    for i in range(N):  # each example alone gets its values in the batch
        torch.testing.assert_close(run(7, slice(i, i + 1)), a[i : i + 1], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(run(7, batch_size=7), a, rtol=1e-10, atol=1e-12)


def test_shared_and_expanded_masks_and_baselines_agree(rng):
    model = torch.nn.Sequential(torch.nn.Flatten(), Interacting(rng, 3 * 8 * 8, k=1))
    x = torch.as_tensor(rng.normal(size=(2, 3, 8, 8)))
    ex = KernelShap(model, seed=0)
    shared = KernelShap(model, seed=0, batch_size=16).attribute(  # chunks within one example
        x, baselines=0.2, patch_size=2, n_samples=100
    )
    mask = torch.broadcast_to(grid_feature_mask(x.shape, patch_size=2) * 3 + 5, x.shape)
    base = torch.full((3, 8, 8), 0.2, dtype=torch.float64)
    expanded = ex.attribute(x, baselines=base, feature_mask=mask, n_samples=100)
    torch.testing.assert_close(shared, expanded, rtol=1e-10, atol=1e-12)


def test_eval_mode_device_and_dtype(rng):
    seen = []

    class Recorder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = linear(rng, 6, 1, torch.float32)

        def forward(self, x):
            seen.append((self.training, torch.is_inference_mode_enabled(), x.dtype))
            return self.lin(x)

    model = Recorder().train()
    x = torch.as_tensor(rng.normal(size=(3, 6)))  # float64 inputs, float32 module
    attr = Lime(model, seed=0).attribute(x, n_samples=50)
    assert model.training
    assert set(seen) == {(False, True, torch.float32)}
    assert attr.shape == x.shape and attr.dtype == torch.float64 and attr.device == x.device

    def f(t):  # a plain callable gets the inputs' dtype
        return t.sum(1)

    out = KernelShap(f, seed=0).attribute(x.float(), n_samples=20)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, x.float(), rtol=1e-5, atol=1e-5)  # additive: phi = x - 0


# ---------------------------------------------------------------------------- (g) errors


def _nan_when_first_absent(t):
    return torch.where(t[:, 0] == 0, torch.nan, t.sum(1))


@pytest.mark.parametrize(
    "make, call, error, match",
    [
        (
            lambda m: KernelShap(m),
            dict(feature_mask=torch.arange(5)),
            ValueError,
            r"feature_mask of shape \(5,\) does not broadcast to the inputs' shape \(2, 6\)",
        ),
        (lambda m: KernelShap(m), dict(feature_mask=torch.ones(6)), TypeError, "integer"),
        (lambda m: KernelShap(m), dict(target=3), ValueError, r"target 3 is out of range.*0\.\.2"),
        (lambda m: Lime(m), dict(target=-1), ValueError, "out of range"),
        (lambda m: KernelShap(m), dict(), ValueError, "returns 3 outputs.*pass target="),
        (lambda m: Lime(m), dict(target=[0, 1, 2]), ValueError, "inputs hold 2 examples; pass"),
        (lambda m: KernelShap(m), dict(target=0.5), TypeError, "target must be"),
        (lambda m: KernelShap(m), dict(target=0, n_samples=1), ValueError, "n_samples.*>= 2"),
        (lambda m: Lime(m), dict(target=0, n_samples="many"), ValueError, "n_samples"),
        (
            lambda m: KernelShap(m),
            dict(target=0, baselines=torch.zeros(3)),
            ValueError,
            r"baselines of shape \(3,\) does not broadcast",
        ),
        (lambda m: KernelShap(m), dict(target=0, patch_size=2), ValueError, "patch_size"),
        (lambda m: KernelShap(m), dict(target=0, foo=1), TypeError, "unexpected keyword.*foo"),
        (
            lambda m: KernelShap(_nan_when_first_absent),
            dict(),
            ValueError,
            r"non-finite values \(NaN or inf\).*2 example",
        ),
        (
            lambda m: KernelShap(lambda t: t.sum()),
            dict(target=0),
            ValueError,
            r"one number for the whole batch.*pass target=None",
        ),
    ],
)
def test_errors_say_what_to_do(rng, make, call, error, match):
    model = linear(rng, 6, 3)
    x = torch.as_tensor(rng.normal(size=(2, 6))) + 3.0
    with pytest.raises(error, match=match):
        make(model).attribute(x, **call)


def test_constructor_and_input_errors(rng):
    model = linear(rng, 6, 1)
    with pytest.raises(TypeError, match=r"unexpected keyword.*\['n_samples'\]"):
        KernelShap(model, n_samples=10)
    with pytest.raises(TypeError, match="torch.nn.Module or a callable"):
        Lime(42)
    with pytest.raises(ValueError, match="kernel_width must be a positive"):
        Lime(model, kernel_width=0)
    with pytest.raises(ValueError, match="alpha must be"):
        Lime(model, alpha=-1.0)
    with pytest.raises(ValueError, match="batch_size"):
        KernelShap(model, batch_size=0)
    with pytest.raises(ValueError, match="backend"):
        KernelShap(model, backend="cuda")
    with pytest.raises(TypeError, match=r"torch.Tensor.*torch.as_tensor"):
        KernelShap(model).attribute(rng.normal(size=(2, 6)))
    with pytest.raises(ValueError, match=r"shape \(N, \.\.\.\).*unsqueeze"):
        KernelShap(model).attribute(torch.ones(6, dtype=torch.float64))
    with pytest.raises(ValueError, match="no default feature mask.*feature_mask="):
        KernelShap(model).attribute(torch.ones((1, 1, 1, 2, 3), dtype=torch.float64))

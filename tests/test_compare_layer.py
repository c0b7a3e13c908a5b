"""compare(layer=...): layer methods on the units of a hidden layer against closed forms and a
brute-force Shapley oracle; compare's permutation method."""

import itertools
import math

import numpy as np
import pytest
import torch

import xai_fast as xf
from xai_fast.compare import LAYER_METHODS


def seeded(model, seed):
    """``model`` in float64 with fresh weights from a seeded torch Generator."""
    g = torch.Generator().manual_seed(seed)
    model = model.double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) / math.sqrt(p.shape[-1]))
    return model


def record(c, method):
    return next(r for r in c.records if r["method"] == method)


def brute_force_shapley(v, u):
    """Shapley values ``(u,)`` of the set function ``v(frozenset)`` from all ``u!`` orders."""
    phi = np.zeros(u)
    orders = list(itertools.permutations(range(u)))
    for order in orders:
        s = frozenset()
        for j in order:
            phi[j] += v(s | {j}) - v(s)
            s = s | {j}
    return phi / len(orders)


@pytest.fixture
def seed(rng):
    return int(rng.integers(2**31))


def test_linear_head_matches_closed_forms(rng, seed):
    """After the layer the model is linear, so every baseline method has a closed form in the
    units' activations ``h`` and the head's weights ``w``."""
    d, u = 5, 6
    net = seeded(
        torch.nn.Sequential(torch.nn.Linear(d, u), torch.nn.Tanh(), torch.nn.Linear(u, 1)), seed
    )
    X, B = rng.normal(size=(3, d)), rng.normal(size=(9, d))
    c = xf.compare(net, X, B, layer=net[1])
    assert [r["method"] for r in c.records] == list(LAYER_METHODS)
    w = net[2].weight.detach().numpy()[0]  # (u,)

    def h(rows):
        return np.tanh(rows @ net[0].weight.detach().numpy().T + net[0].bias.detach().numpy())

    hx, hb, hm = h(X), h(B), h(B.mean(0, keepdims=True))
    a = c.attributions
    np.testing.assert_allclose(a["exact"], w * (hx - hb.mean(0)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a["layer_ig"], w * (hx - hm), rtol=0, atol=1e-10)
    # conductance sums gradients times activation steps along 50 input-path points: within
    # 0.5% of the integral here, and equal to captum's sum
    np.testing.assert_allclose(a["layer_conductance"], w * (hx - hm), rtol=5e-3, atol=1e-9)
    captum = pytest.importorskip("captum.attr")
    ref = captum.LayerConductance(net, net[1]).attribute(
        torch.as_tensor(X), torch.as_tensor(B.mean(0, keepdims=True)), target=0, n_steps=50
    )
    np.testing.assert_allclose(a["layer_conductance"], ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a["layer_feature_ablation"], w * (hx - hm), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a["layer_gradient_x_activation"], w * hx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a["layer_deeplift_shap"], a["exact"], rtol=0, atol=1e-10)
    # GradientShap draws its baselines; with one background row every draw is that row
    one = xf.compare(net, X, B[:1], methods=("exact", "layer_gradient_shap"), layer=net[1])
    np.testing.assert_allclose(
        one.attributions["layer_gradient_shap"], w * (hx - hb[0]), atol=1e-10
    )
    np.testing.assert_allclose(one.exact, w * (hx - hb[0]), rtol=0, atol=1e-12)
    for m in ("exact", "layer_deeplift_shap"):
        assert record(c, m)["efficiency_gap"] < 1e-12
    assert math.isnan(record(c, "layer_gradient_x_activation")["efficiency_gap"])


def test_exact_equals_brute_force_on_a_nonlinear_head(rng, seed):
    d, u = 4, 5
    net = seeded(
        torch.nn.Sequential(
            torch.nn.Linear(d, u),
            torch.nn.ReLU(),
            torch.nn.Linear(u, 7),
            torch.nn.Tanh(),
            torch.nn.Linear(7, 3),
        ),  # fmt: skip
        seed,
    )
    X, B = rng.normal(size=(2, d)), rng.normal(size=(6, d))
    weights = rng.dirichlet(np.ones(6))
    bg = xf.Background(B, weights)
    c = xf.compare(net, X, bg, methods=("exact",), layer=net[1], target=2)
    head = net[2:]
    with torch.no_grad():
        hx = net[:2](torch.as_tensor(X)).numpy()
        hb = net[:2](torch.as_tensor(B)).numpy()
        fx = net(torch.as_tensor(X))[:, 2].numpy()
        ef = weights @ net(torch.as_tensor(B))[:, 2].numpy()
    for i in range(2):

        def v(s, i=i):
            rows = hb.copy()
            rows[:, sorted(s)] = hx[i, sorted(s)]
            with torch.no_grad():
                return float(weights @ head(torch.as_tensor(rows))[:, 2].numpy())

        np.testing.assert_allclose(c.exact[i], brute_force_shapley(v, u), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.exact.sum(1), fx - ef, rtol=0, atol=1e-12)


def test_conv_layer_units_are_flattened(rng, seed):
    """A conv layer's output (C, H, W) gives C*H*W units; exact is skipped above the limit."""
    net = seeded(
        torch.nn.Sequential(
            torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8, 1)
        ),
        seed,
    )
    X, B = rng.normal(size=(2, 1, 4, 4)).reshape(2, 16), rng.normal(size=(5, 16))

    class Images(torch.nn.Module):  # rows of 16 values -> 1x4x4 images
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x.reshape(-1, 1, 4, 4))

    model = Images()
    c = xf.compare(model, X, B, layer=net[1], methods=("exact", "layer_ig"), max_exact_features=4)
    assert c.attributions["layer_ig"].shape == (2, 8)
    assert (
        "exact" not in c.attributions
        and "8 units > max_exact_features=4" in record(c, "exact")["note"]
    )
    c = xf.compare(model, X, B, layer=net[1], methods=("exact", "layer_ig"))
    assert c.exact.shape == (2, 8)
    with torch.no_grad():
        f = model(torch.as_tensor(X))[:, 0].numpy()
        ef = model(torch.as_tensor(B))[:, 0].numpy().mean()
    np.testing.assert_allclose(c.exact.sum(1), f - ef, rtol=0, atol=1e-12)


def test_layer_errors(rng):
    net = seeded(
        torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)), 0
    )
    X, B = rng.normal(size=(2, 3)), rng.normal(size=(5, 3))
    with pytest.raises(ValueError, match=r"unknown method\(s\) \['kernel'\] with layer="):
        xf.compare(net, X, B, methods=("kernel",), layer=net[1])
    with pytest.raises(TypeError, match="layer must be a torch.nn.Module"):
        xf.compare(net, X, B, layer="net[1]")
    with pytest.raises(TypeError, match="needs the model to be a torch.nn.Module"):
        xf.compare(lambda a: a.sum(1), X, B, layer=net[1])
    other = torch.nn.Tanh()
    with pytest.raises(ValueError, match="it is not a submodule of the model"):
        xf.compare(net, X, B, methods=("exact",), layer=other)
    with pytest.raises(ValueError, match="feature_names"):
        xf.compare(net, X, B, methods=("exact",), layer=net[1], feature_names=list("abc"))


def test_layer_output_without_the_rows_on_axis_0_is_refused(rng):
    class Transposed(torch.nn.Module):  # the layer sees the batch on axis 1
        def __init__(self):
            super().__init__()
            self.t, self.o = torch.nn.Tanh(), torch.nn.Linear(3, 1)

        def forward(self, x):
            return self.o(self.t(x.T).T)

    model = Transposed().double()
    X, B = rng.normal(size=(2, 3)), rng.normal(size=(4, 3))
    with pytest.raises(ValueError, match=r"output has shape \(3, 2\) for 2 input rows"):
        xf.compare(model, X, B, layer=model.t)


def test_permutation_method_is_exact_on_additive_models(rng):
    """An additive model's Shapley values are its centred terms, whatever the orders."""
    X, B = rng.normal(size=(3, 6)), rng.normal(size=(10, 6))
    coef = rng.normal(size=6)

    def f(a):
        return np.sin(a) @ coef

    c = xf.compare(f, X, B, methods=("exact", "permutation"), nsamples=2 * 6 + 1, seed=4)
    want = (np.sin(X) - np.sin(B).mean(0)) * coef
    np.testing.assert_allclose(c.attributions["permutation"], want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.exact, want, rtol=0, atol=1e-12)
    r = record(c, "permutation")
    assert r["efficiency_gap"] < 1e-12 and "1 antithetic pairs" in r["note"]
    c = xf.compare(f, X, B, methods=("exact", "permutation"), nsamples=12)  # below 2 * 6 + 1
    assert "permutation" not in c.attributions
    assert "pass nsamples >= 13" in record(c, "permutation")["note"]

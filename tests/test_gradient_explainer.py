"""GradientExplainer: shap's samples for a seed (so shap's values), shapes, layers and errors;
the draws against shap's own calls."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from xai_fast import GradientExplainer
from xai_fast.sampling.shap_gradient_draws import shap_gradient_draws, shap_gradient_draws_ref

shap = pytest.importorskip("shap")

TOL = 1e-5


@pytest.mark.parametrize("M", [1, 2, 3, 5, 8, 100, 1000, 2**20 + 1])
def test_draws_equal_shaps_calls(M, rng):
    seed, n = int(rng.integers(2**32)), int(rng.integers(1, 3000))
    rows, t = shap_gradient_draws(seed, n, M)
    ref_rows, ref_t = shap_gradient_draws_ref(seed, n, M)
    np.testing.assert_array_equal(rows, ref_rows)
    np.testing.assert_array_equal(t, ref_t)
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - reads the global state to check it
    shap_gradient_draws(seed, 10, M)
    after = np.random.get_state()[1]  # noqa: NPY002 - reads the global state to check it
    np.testing.assert_array_equal(after, state)  # global state untouched


class Net(nn.Module):
    """A small CNN ending in log_softmax, functional activations (shap's test's kind)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 3, 3), nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 2 * 2, 5)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(self.conv2(x))
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


def _net(rng) -> nn.Module:
    g = torch.Generator().manual_seed(int(rng.integers(1 << 30)))
    net = Net().eval()  # float32: shap's GradientExplainer builds float32 sample batches
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return net


def _data(rng, shape, n, dtype=np.float32):
    return torch.from_numpy(rng.standard_normal((n, *shape)).astype(dtype))


def _close(ours, ref):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() <= TOL * np.abs(ref).max()


def _shap(model, bg, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return shap.GradientExplainer(model, bg).shap_values(X, **kw)


@pytest.mark.parametrize("layer", [False, True])
def test_values_and_variances_equal_shaps_for_the_same_seed(layer, rng):
    net = _net(rng)
    X, bg = _data(rng, (1, 10, 10), 3), _data(rng, (1, 10, 10), 6)
    model = (net, net.conv2) if layer else net
    seed = int(rng.integers(1_000_000))
    ours, ours_var = GradientExplainer(model, bg, batch_size=17).shap_values(
        X, nsamples=40, rseed=seed, return_variances=True
    )
    ref, ref_var = _shap(model, bg, X, nsamples=40, rseed=seed, return_variances=True)
    assert ours.shape == ((3, 3, 4, 4, 5) if layer else (3, 1, 10, 10, 5))
    _close(ours, ref)
    assert len(ours_var) == len(ref_var) == 5
    for a, b in zip(ours_var, ref_var, strict=True):
        _close(a, b)


@pytest.mark.parametrize("order", ["max", "min", "max_abs"])
def test_ranked_outputs_equal_shaps(order, rng):
    net = _net(rng)
    X, bg = _data(rng, (1, 10, 10), 4), _data(rng, (1, 10, 10), 5)
    ours, ranks = GradientExplainer(net, bg).shap_values(
        X, nsamples=20, rseed=3, ranked_outputs=2, output_rank_order=order
    )
    ref, ref_ranks = _shap(net, bg, X, nsamples=20, rseed=3, ranked_outputs=2,
                           output_rank_order=order)  # fmt: skip
    assert torch.equal(ranks, ref_ranks)
    _close(ours, ref)


class Two(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.fc = nn.Linear(7, k)

    def forward(self, a, b):
        return torch.tanh(self.fc(torch.cat((a, b), 1)))


@pytest.mark.parametrize("k", [1, 4])
def test_several_inputs_equal_shaps(k, rng):
    model = Two(k)
    X = [_data(rng, (3,), 5), _data(rng, (4,), 5)]
    bg = [_data(rng, (3,), 9), _data(rng, (4,), 9)]
    ours = GradientExplainer(model, bg).shap_values(X, nsamples=64, rseed=11)
    ref = _shap(model, bg, X, nsamples=64, rseed=11)
    assert isinstance(ours, list) and [o.shape for o in ours] == [(5, 3, k), (5, 4, k)]
    for a, b in zip(ours, ref, strict=True):
        _close(a, b)


def test_linear_model_values_add_up_exactly(rng):
    """For a linear model expected gradients are exact: sum = f(x) - mean f(background)."""
    model = nn.Linear(6, 3).double()
    X, bg = _data(rng, (6,), 4, np.float64), _data(rng, (6,), 8, np.float64)
    values = GradientExplainer(model, bg).shap_values(X, nsamples=4096, rseed=0)
    with torch.no_grad():
        diff = (model(X) - model(bg).mean(0)).numpy()
    # the background mean is sampled: compare with the sampled rows' mean per example
    rows, _ = shap_gradient_draws(0, 4 * 4096, 8)
    sampled = model(bg[torch.from_numpy(rows)]).detach().numpy().reshape(4, 4096, 3).mean(1)
    exact = model(X).detach().numpy() - sampled
    np.testing.assert_allclose(values.sum(1), exact, rtol=1e-10, atol=1e-12)
    assert np.abs(values.sum(1) - diff).max() < 0.2 * np.abs(diff).max()


def test_same_seed_same_values_and_smoothing_is_seeded(rng):
    net = _net(rng)
    X, bg = _data(rng, (1, 10, 10), 2), _data(rng, (1, 10, 10), 4)
    e = GradientExplainer(net, bg, local_smoothing=0.1)
    a = e.shap_values(X, nsamples=10, rseed=4)
    np.testing.assert_array_equal(a, e.shap_values(X, nsamples=10, rseed=4))
    assert not np.array_equal(a, e.shap_values(X, nsamples=10, rseed=5))
    plain = GradientExplainer(net, bg).shap_values(X, nsamples=10, rseed=4)
    assert not np.allclose(a, plain)


def test_bad_arguments(rng):
    model = Two(2)
    bg = [_data(rng, (3,), 4), _data(rng, (4,), 4)]
    e = GradientExplainer(model, bg)
    with pytest.raises(TypeError, match="list of 2 tensors"):
        e.shap_values(bg[0])
    with pytest.raises(ValueError, match="nsamples"):
        e.shap_values(bg, nsamples=0)
    with pytest.raises(ValueError, match="rseed"):
        e.shap_values(bg, rseed=-1)
    with pytest.raises(ValueError, match="output_rank_order"):
        e.shap_values(bg, ranked_outputs=1, output_rank_order="best")
    with pytest.raises(ValueError, match="batch_size"):
        GradientExplainer(model, bg, batch_size=0)
    with pytest.raises(ValueError, match="local_smoothing"):
        GradientExplainer(model, bg, local_smoothing=-1)
    with pytest.raises(TypeError, match="TensorFlow"):
        GradientExplainer(model, bg, session="s")

"""DeepExplainer: shap's values, shapes and additivity check; completeness on the model zoo."""

import warnings

import numpy as np
import pytest
import torch
from test_deep_lift import ZOO, _init
from torch import nn

from xai_fast import DeepExplainer
from xai_fast.explainers.propagation import AdditivityError

shap = pytest.importorskip("shap")

TOL = 1e-5


def _data(rng, shape, n):
    return torch.from_numpy(rng.standard_normal((n, *shape)))


def _shap_values(model, bg, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap warns about modules it passes through
        return shap.DeepExplainer(model, bg).shap_values(X, check_additivity=False, **kw)


def _shap_cnn(rng) -> nn.Module:
    """ShapCNN with weights small enough that no ELU before the softmax saturates (where a
    logit does not move, shap's softmax rule cannot add up and the two differ)."""
    model = _init(ShapCNN(), seed=int(rng.integers(1 << 30)))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
    return model


def _close(ours, ref):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() <= TOL * np.abs(ref).max()


class ShapCNN(nn.Module):
    """The layer mix of shap's own CNN test, smaller, ending in a softmax."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.Tanh(), nn.Conv2d(4, 6, 2),
            nn.ConvTranspose2d(6, 6, 1), nn.AdaptiveAvgPool2d((2, 2)), nn.Softplus(), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Sequential(
            nn.Linear(24, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Linear(12, 5), nn.ELU(),
            nn.Softmax(dim=1),
        )  # fmt: skip

    def forward(self, x):
        return self.head(self.features(x))


class TwoInputs(nn.Module):
    def __init__(self, k=1):
        super().__init__()
        self.a, self.b = nn.Linear(3, 4), nn.Linear(2, 4)
        self.relu, self.out = nn.ReLU(), nn.Linear(4, k)  # a module: shap sees it

    def forward(self, x1, x2):
        return self.out(self.relu(self.a(x1) + self.b(x2)))


# ---------------------------------------------------------------------------- completeness


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_values_add_up_to_the_output_minus_the_expected_value(name, rng):
    make, shape = ZOO[name]
    model = _init(make(), seed=int(rng.integers(1 << 30)))
    X, bg = _data(rng, shape, 3), _data(rng, shape, 7)
    e = DeepExplainer(model, bg)
    values = e.shap_values(X)
    with torch.no_grad():
        f = model(X).numpy()
    assert values.shape == X.shape + (f.shape[1],)
    total = values.reshape(3, -1, f.shape[1]).sum(1)
    diff = f - e.expected_value
    assert np.abs(total - diff).max() <= TOL * np.abs(diff).max()
    _close(e.expected_value, model(bg).detach().numpy().mean(0))


# ---------------------------------------------------------------------------- shap's numbers


@pytest.mark.parametrize("name", ["mlp_relu", "cnn_relu", "tanh", "elu", "sigmoid"])
def test_values_equal_shaps(name, rng):
    make, shape = ZOO[name]
    model = _init(make(), seed=int(rng.integers(1 << 30)))
    X, bg = _data(rng, shape, 4), _data(rng, shape, 6)
    _close(DeepExplainer(model, bg).shap_values(X), _shap_values(model, bg, X))


@pytest.mark.parametrize("name", ["functional_relu_silu", "maxpool_cnn", "residual_batchnorm"])
def test_shap_misses_additivity_where_ours_holds(name, rng):
    make, shape = ZOO[name]
    model = _init(make(), seed=int(rng.integers(1 << 30)))
    X, bg = _data(rng, shape, 3), _data(rng, shape, 6)
    f = model(X).detach().numpy()
    ours = DeepExplainer(model, bg).shap_values(X)  # its check passes
    diff = f - model(bg).detach().numpy().mean(0)
    try:
        ref = _shap_values(model, bg, X)
    except RuntimeError:  # shap's hooks break the model's in-place residual addition
        ref = None
    if ref is not None:
        miss = np.abs(ref.reshape(3, -1, f.shape[1]).sum(1) - diff).max() / np.abs(diff).max()
        assert miss > 1e-3
    assert np.abs(ours.reshape(3, -1, f.shape[1]).sum(1) - diff).max() <= TOL * np.abs(diff).max()


def test_final_softmax_follows_shaps_rule_and_interim_layers(rng):
    model = _shap_cnn(rng)
    X, bg = _data(rng, (1, 9, 9), 3), _data(rng, (1, 9, 9), 5)
    _close(DeepExplainer(model, bg).shap_values(X), _shap_values(model, bg, X))
    pair = (model, model.features[3])  # the values of the second conv's input
    ours = DeepExplainer(pair, bg).shap_values(X)
    assert ours.shape == (3, 4, 3, 3, 5)
    _close(ours, _shap_values(pair, bg, X))


@pytest.mark.parametrize("order", ["max", "min", "max_abs"])
def test_ranked_outputs_equal_shaps(order, rng):
    model = _shap_cnn(rng)
    X, bg = _data(rng, (1, 9, 9), 4), _data(rng, (1, 9, 9), 5)
    ours, ranks = DeepExplainer(model, bg).shap_values(X, ranked_outputs=2, output_rank_order=order)
    ref, ref_ranks = _shap_values(model, bg, X, ranked_outputs=2, output_rank_order=order)
    assert torch.equal(ranks, ref_ranks)
    _close(ours, ref)


@pytest.mark.parametrize("k", [1, 3])
def test_several_inputs_give_a_list_as_shaps(k, rng):
    model = _init(TwoInputs(k), seed=int(rng.integers(1 << 30)))
    X = [_data(rng, (3,), 4), _data(rng, (2,), 4)]
    bg = [_data(rng, (3,), 6), _data(rng, (2,), 6)]
    ours = DeepExplainer(model, bg).shap_values(X)
    ref = _shap_values(model, bg, X)
    assert isinstance(ours, list) and len(ours) == 2
    assert ours[0].shape == (4, 3, k) and ours[1].shape == (4, 2, k)
    for a, b in zip(ours, ref, strict=True):
        _close(a, b)


def test_call_returns_an_explanation_of_the_same_values(rng):
    model = _init(ZOO["cnn_relu"][0](), seed=int(rng.integers(1 << 30)))
    X, bg = _data(rng, (3, 8, 8), 2), _data(rng, (3, 8, 8), 4)
    e = DeepExplainer(model, bg)
    exp = e(X)
    np.testing.assert_array_equal(exp.values, e.shap_values(X))
    np.testing.assert_array_equal(exp.data, X.numpy())
    np.testing.assert_array_equal(exp.base_values, np.tile(e.expected_value, (2, 1)))
    assert exp[0, ..., 1].values.shape == (3, 8, 8)


def test_a_flat_output_model_is_one_output(rng):
    net = _init(nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 1), nn.Flatten(0)), 3)
    X, bg = _data(rng, (4,), 3), _data(rng, (4,), 5)
    e = DeepExplainer(net, bg)
    assert e.expected_value.shape == (1,)
    values = e.shap_values(X)
    assert values.shape == (3, 4, 1)
    diff = net(X).detach().numpy() - e.expected_value[0]
    assert np.abs(values[..., 0].sum(1) - diff).max() <= TOL * np.abs(diff).max()


# ---------------------------------------------------------------------------- errors


class BatchCentred(nn.Module):
    """Depends on the other rows of its batch: no per-example function to explain."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 2)

    def forward(self, x):
        return self.lin(torch.relu(x - x.mean(0, keepdim=True)))


def test_the_additivity_check_catches_a_batch_dependent_model(rng):
    model = _init(BatchCentred(), 5)
    X, bg = _data(rng, (4,), 3) + 3.0, _data(rng, (4,), 5)
    e = DeepExplainer(model, bg)
    with pytest.raises(AdditivityError, match="check_additivity=False"):
        e.shap_values(X)
    with pytest.raises(AssertionError):  # what shap raises, for code that catches it
        e.shap_values(X)
    assert e.shap_values(X, check_additivity=False).shape == (3, 4, 2)


def test_bad_arguments(rng):
    model = _init(TwoInputs(2), 1)
    bg = [_data(rng, (3,), 4), _data(rng, (2,), 4)]
    e = DeepExplainer(model, bg)
    with pytest.raises(TypeError, match="list of 2 tensors"):
        e.shap_values(bg[0])
    with pytest.raises(ValueError, match=r"each example must have shape \(2,\)"):
        e.shap_values([bg[0], _data(rng, (5,), 4)])
    with pytest.raises(ValueError, match="output_rank_order"):
        e.shap_values(bg, ranked_outputs=1, output_rank_order="top")
    with pytest.raises(ValueError, match="at least 1"):
        e.shap_values(bg, ranked_outputs=0)
    with pytest.raises(TypeError, match="TensorFlow"):
        DeepExplainer(model, bg, session=object())
    with pytest.raises(TypeError, match="torch.Tensor or a list"):
        DeepExplainer(model, "data")
    with pytest.raises(ValueError, match="different numbers of examples"):
        DeepExplainer(model, [bg[0], bg[1][:2]])
    with pytest.raises(ValueError, match=r"\(N, K\) or \(N,\)"):
        DeepExplainer(lambda x: x.unsqueeze(1).repeat(1, 2, 1), _data(rng, (3,), 4))

"""Layer methods against captum's: the same numbers (float64, 1e-5) on an MLP, a CNN, a
two-input model with extra forward arguments and token models, every method, both layer sides.
"""

from __future__ import annotations

import pytest
import torch
from layer_models import bag_text, cnn, ids, lstm_text, mlp, no_hooks, t, two_input

import xai_fast as xf

captum_attr = pytest.importorskip("captum.attr")
# captum warns that it sets hooks, requires_grad and batch sizes; both warn on several layers
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:captum"),
    pytest.mark.filterwarnings("ignore:several layers:UserWarning"),
    pytest.mark.filterwarnings("ignore:Multiple layers provided:UserWarning"),
]

RTOL, ATOL = 1e-5, 1e-9


def _flat(out) -> list:
    if isinstance(out, torch.Tensor):
        return [out]
    return [u for o in out for u in _flat(o)]


def _same(ours, ref, scale=None):
    """Same structure (tensor / tuple / list) and values, to ``RTOL`` of ``scale`` (default
    the largest reference value)."""
    assert type(ours) is type(ref), (type(ours), type(ref))
    if isinstance(ours, (tuple, list)):
        assert len(ours) == len(ref)
        for o, r in zip(ours, ref, strict=True):
            _same(o, r, scale)
        return
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert not ours.requires_grad  # results carry no graph
    ref = ref.detach()
    if scale is None:
        scale = float(ref.abs().max()) if ref.numel() else 0.0
    torch.testing.assert_close(ours, ref, rtol=RTOL, atol=ATOL + RTOL * scale)


def _both(name, model, layer, call, init=None, seeded=False):
    """``name`` from xai_fast and from captum on the same model, layer and call arguments."""
    init = init or {}
    ours = getattr(xf, name)(model, layer, **init).attribute(**call)
    ref = getattr(captum_attr, name)(model, layer, **init).attribute(**call)
    if call.get("return_convergence_delta"):
        _same(ours[0], ref[0])
        # deltas are differences of outputs: compared on the attributions' scale
        _same(ours[1], ref[1], max(float(a.detach().abs().max()) for a in _flat(ref[0])))
    else:
        _same(ours, ref)
    assert no_hooks(model)
    return ours


# ------------------------------------------------------------------ each model, each method
def _inputs(rng, kind, pool="max"):
    if kind == "mlp":
        return mlp(rng), dict(inputs=t(rng, 4, 5)), lambda m: [m[0], m[2], m[3]]
    if kind == "cnn":
        return cnn(rng, pool), dict(inputs=t(rng, 3, 2, 8, 8)), lambda m: [m.conv1, m.relu2, m.pool]
    m = two_input(rng)
    call = dict(inputs=(t(rng, 4, 4), t(rng, 4, 3)), additional_forward_args=(t(rng, 4, 1),))
    return m, call, lambda m: [m.mix, m.head, m.a, m.b]


KINDS = ["mlp", "cnn", "two_input"]
SIDES = [False, True]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("to_input", SIDES)
def test_activation_and_gradient_x_activation(rng, kind, to_input):
    model, call, layers = _inputs(rng, kind)
    for layer in layers(model):
        kw = dict(call, attribute_to_layer_input=to_input)
        _both("LayerActivation", model, layer, kw)
        target = [0, 2, 1, 1][: len(_flat(call["inputs"])[0])]
        kw = dict(kw, target=target)
        _both("LayerGradientXActivation", model, layer, kw)
        _both("LayerGradientXActivation", model, layer, kw, dict(multiply_by_inputs=False))
    lst = layers(model)[:2]
    _both("LayerActivation", model, lst, dict(call, attribute_to_layer_input=to_input))
    _both("LayerGradientXActivation", model, lst, dict(call, target=1))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("to_input", SIDES)
@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid"])
def test_path_methods(rng, kind, to_input, method):
    model, call, layers = _inputs(rng, kind)
    xs = call["inputs"]
    base = tuple(0.3 * t(rng, 1, *x.shape[1:]) for x in xs) if isinstance(xs, tuple) else 0.2
    N = len(_flat(xs)[0])
    target = torch.as_tensor(rng.integers(0, 3, size=N))
    kw = dict(call, baselines=base, target=target, n_steps=9, method=method)
    kw["attribute_to_layer_input"] = to_input
    for layer in layers(model)[:2]:
        for ibs in (None, 7):  # one batch, and chunks that split steps
            k = dict(kw, internal_batch_size=ibs)
            _both("InternalInfluence", model, layer, k)
            _both("LayerConductance", model, layer, dict(k, return_convergence_delta=True))
            _both("LayerIntegratedGradients", model, layer, dict(k, return_convergence_delta=True))
    if kind == "two_input":  # a list of layers, neither depending on the other only
        lig = dict(kw, return_convergence_delta=True)
        _both("LayerIntegratedGradients", model, layers(model)[2:], lig)
    _both("LayerIntegratedGradients", model, layers(model)[0], kw, dict(multiply_by_inputs=False))


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_left", "riemann_middle"])
def test_max_pooling_ties_break_as_captums(rng, method):
    # a constant baseline gives each channel one layer value (to the last bit, or nearly);
    # where the input's ReLU zeros fill a pooling window, its path points tie and the
    # gradient goes to the largest: our points must round as captum's do
    for _ in range(8):
        model = cnn(rng)
        x = t(rng, 12, 2, 8, 8)
        target = torch.as_tensor(rng.integers(0, 3, size=12))
        kw = dict(inputs=x, baselines=0.2, target=target, n_steps=9, method=method)
        for ibs in (None, 25):
            _both("LayerIntegratedGradients", model, model.relu2, dict(kw, internal_batch_size=ibs))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("to_input", SIDES)
def test_deep_lift(rng, kind, to_input):
    # captum's max-pooling rule misses completeness (tests/test_deep_lift.py): average pooling
    model, call, layers = _inputs(rng, kind, pool="avg")
    xs = call["inputs"]
    N = len(_flat(xs)[0])
    one = tuple(0.2 * t(rng, 1, *x.shape[1:]) for x in _flat(xs))
    many = tuple(0.2 * t(rng, 4, *x.shape[1:]) for x in _flat(xs))
    if not isinstance(xs, tuple):
        one, many = one[0], many[0]
    target = [int(v) for v in rng.integers(0, 3, size=N)]
    kw = dict(call, target=target, attribute_to_layer_input=to_input)
    for layer in layers(model)[:2]:
        if to_input and isinstance(layer, torch.nn.ReLU):
            # captum's multipliers at a ReLU's own input skip its rule (its delta is off by
            # O(1)); ours keep completeness, every path crossing the layer
            d = xf.LayerDeepLift(model, layer).attribute(
                **kw, baselines=one, return_convergence_delta=True
            )[1]
            assert float(d.abs().max()) <= 1e-10
            continue
        _both("LayerDeepLift", model, layer, dict(kw, baselines=one, return_convergence_delta=True))
        _both(
            "LayerDeepLift", model, layer, dict(kw, baselines=one), dict(multiply_by_inputs=False)
        )
        lds = dict(kw, baselines=many, return_convergence_delta=True)
        _both("LayerDeepLiftShap", model, layer, lds)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("to_input", SIDES)
def test_feature_ablation(rng, kind, to_input):
    model, call, layers = _inputs(rng, kind)
    kw = dict(call, target=2, attribute_to_layer_input=to_input)
    for layer in layers(model)[:2]:
        _both("LayerFeatureAblation", model, layer, kw)
    layer = layers(model)[1]
    shape = xf.LayerActivation(model, layer).attribute(
        call["inputs"], call.get("additional_forward_args"), to_input
    )
    shape = _flat(shape)[0].shape[1:]
    mask = tuple(torch.as_tensor(rng.integers(0, 3, size=(1, *shape))) for _ in range(1))[0]
    if kind != "two_input" or not to_input:  # one layer tensor: one mask, one baseline
        kw = dict(kw, layer_mask=mask, layer_baselines=0.5, perturbations_per_eval=2)
        _both("LayerFeatureAblation", model, layer, kw)


def test_feature_ablation_of_a_plain_callable(rng):
    """A function wrapping the model (no module of its own) takes the general path."""
    model = mlp(rng)
    kw = dict(inputs=t(rng, 4, 5), target=1)
    layer = model[2]
    ours = xf.LayerFeatureAblation(lambda x: model(x), layer).attribute(**kw)
    _same(ours, captum_attr.LayerFeatureAblation(lambda x: model(x), layer).attribute(**kw))
    _same(ours, xf.LayerFeatureAblation(model, layer).attribute(**kw))
    assert float(ours.abs().max()) > 1e-3 and no_hooks(model)


def test_gradient_shap_where_the_draws_do_not_matter(rng):
    """One baseline, no noise and a linear model after the layer: every draw gives the same
    sample, so captum's global-random draws and ours must agree."""
    model = mlp(rng)
    x, b = t(rng, 4, 5), t(rng, 1, 5)
    for layer, to_input in ((model[3], False), (model[4], True)):
        kw = dict(inputs=x, baselines=b, n_samples=3, target=[0, 1, 2, 0])
        kw["attribute_to_layer_input"] = to_input
        kw["return_convergence_delta"] = True
        ours = xf.LayerGradientShap(model, layer, seed=0).attribute(**kw)
        ref = captum_attr.LayerGradientShap(model, layer).attribute(**kw)
        _same(ours[0], ref[0])
        _same(ours[1], ref[1], float(ref[0].abs().max()))


# ------------------------------------------------------------------ token models
def test_token_models_at_the_embedding(rng):
    for model in (lstm_text(rng), bag_text(rng)):
        x = ids(rng, 3)
        base = torch.zeros_like(x)  # the padding token
        kw = dict(inputs=x, baselines=base, target=[0, 1, 2], n_steps=12)
        _both("LayerIntegratedGradients", model, model.emb, dict(kw, return_convergence_delta=True))
        _both("LayerIntegratedGradients", model, model.emb, dict(kw, internal_batch_size=10))
        _both("LayerActivation", model, model.emb, dict(inputs=x))
        _both("LayerGradientXActivation", model, model.emb, dict(inputs=x, target=1))
        _both("LayerFeatureAblation", model, model.emb, dict(inputs=x, target=1))
        layer = model.fc
        fkw = dict(inputs=x, target=[2, 0, 1], attribute_to_layer_input=True)
        _both("LayerFeatureAblation", model, layer, fkw)
    model = bag_text(rng)
    x = ids(rng, 3)
    _both("LayerDeepLift", model, model.emb, dict(inputs=x, baselines=0, target=1))
    _both("LayerDeepLift", model, model.act, dict(inputs=x, baselines=0, target=2))


def test_lstm_layer_output_is_refused_with_its_types(rng):
    model = lstm_text(rng)
    with pytest.raises(TypeError, match="returned tuple of .*Tensor.*tuple"):
        xf.LayerActivation(model, model.lstm).attribute(ids(rng, 2))
    assert no_hooks(model)

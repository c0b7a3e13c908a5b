"""Neuron methods against captum's (float64, 1e-5) on an MLP, a CNN, a two-input model with an
extra forward argument and token models: every method, index / slice / callable selectors,
both sides of the layer. Then oracles of their own (a hand gradient, completeness, a
brute-force ablation loop, conductance summing to integrated gradients) and the errors, with
no hook left behind.
"""

from __future__ import annotations

import pytest
import torch
from layer_models import bag_text, cnn, ids, lstm_text, mlp, no_hooks, t, two_input
from torch import nn

import xai_fast as xf

captum_attr = pytest.importorskip("captum.attr")
# captum warns that it sets requires_grad, that a selector is a callable, and on batch sizes
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:captum")

RTOL, ATOL = 1e-5, 1e-9


def _flat(out) -> list:
    if isinstance(out, torch.Tensor):
        return [out]
    return [u for o in out for u in _flat(o)]


def _same(ours, ref):
    """Same structure and dtypes, values to ``RTOL`` of the largest reference value."""
    assert type(ours) is type(ref), (type(ours), type(ref))
    ours, ref = _flat(ours), [r.detach() for r in _flat(ref)]
    assert len(ours) == len(ref)
    scale = max(float(r.abs().max()) for r in ref)
    for o, r in zip(ours, ref, strict=True):
        assert o.shape == r.shape and o.dtype == r.dtype
        assert not o.requires_grad  # results carry no graph
        torch.testing.assert_close(o, r, rtol=RTOL, atol=ATOL + RTOL * scale)


def _both(name, model, layer, call, init=None):
    """``name`` from xai_fast and from captum on the same model, layer and arguments."""
    init = init or {}
    ours = getattr(xf, name)(model, layer, **init).attribute(**call)
    assert no_hooks(model)
    ref = getattr(captum_attr, name)(model, layer, **init).attribute(**call)
    _same(ours, ref)
    return ours


# ------------------------------------------------------------------ models and selectors
def _case(rng, kind, to_input, pool="max"):
    """Model, call arguments, and (layer, selector) pairs on the chosen side of the layers."""
    if kind == "mlp":
        m = mlp(rng)
        picks = [(m[2], 3), (m[3], (slice(1, 4),)), (m[2], lambda v: v[:, 1] - 2 * v[:, 4])]
        return m, dict(inputs=t(rng, 4, 5)), picks
    if kind == "cnn":
        m = cnn(rng, pool)
        picks = [
            (m.conv2, (1, 2, 3)),
            (m.relu2, (1, slice(0, 2), slice(1, 3))),
            (m.conv2, lambda v: v[:, 2, 1, 1] + 0.5 * v[:, 0, 3, 0]),
        ]
        return m, dict(inputs=t(rng, 3, 2, 8, 8)), picks
    m = two_input(rng)
    call = dict(inputs=(t(rng, 4, 4), t(rng, 4, 3)), additional_forward_args=(t(rng, 4, 1),))
    if to_input:  # mix takes two tensors: only a callable selects among them
        picks = [(m.mix, lambda u: u[0][:, 1] + 2 * u[1][:, 2]), (m.head, 4)]
    else:
        # neurons that depend on both inputs (captum refuses an input a neuron does not use)
        picks = [(m.mix, 4), (m.head, (slice(0, 2),)), (m.mix, lambda v: v[:, 0] - v[:, 5])]
    return m, call, picks


def _baselines(rng, inputs, n=1):
    if isinstance(inputs, tuple):
        return tuple(0.3 * t(rng, n, *x.shape[1:]) for x in inputs)
    return 0.3 * t(rng, n, *inputs.shape[1:])


KINDS = ["mlp", "cnn", "two_input"]
SIDES = [False, True]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("to_input", SIDES)
def test_gradient_methods(rng, kind, to_input):
    model, call, picks = _case(rng, kind, to_input)
    base = _baselines(rng, call["inputs"])
    for layer, sel in picks:
        kw = dict(call, neuron_selector=sel, attribute_to_neuron_input=to_input)
        _both("NeuronGradient", model, layer, kw)
        _both("NeuronGuidedBackprop", model, layer, kw)
        _both("NeuronDeconvolution", model, layer, kw)
        ig = dict(kw, baselines=base, n_steps=7)
        _both("NeuronIntegratedGradients", model, layer, ig)
        _both("NeuronIntegratedGradients", model, layer, dict(ig, method="riemann_left"))
        ig = dict(ig, internal_batch_size=5)  # chunks that split steps
        _both("NeuronIntegratedGradients", model, layer, ig, dict(multiply_by_inputs=False))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("to_input", SIDES)
def test_conductance(rng, kind, to_input):
    model, call, picks = _case(rng, kind, to_input)
    N = len(_flat(call["inputs"])[0])
    target = torch.as_tensor(rng.integers(0, 3, size=N))
    base = _baselines(rng, call["inputs"])
    for layer, sel in picks:
        kw = dict(call, neuron_selector=sel, attribute_to_neuron_input=to_input, n_steps=6)
        _both("NeuronConductance", model, layer, dict(kw, target=target, baselines=base))
        kw = dict(kw, target=1, method="gausslegendre", internal_batch_size=5)
        _both("NeuronConductance", model, layer, kw, dict(multiply_by_inputs=False))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("to_input", SIDES)
def test_deep_lift(rng, kind, to_input):
    model, call, picks = _case(rng, kind, to_input)
    one, many = _baselines(rng, call["inputs"]), _baselines(rng, call["inputs"], 3)
    for layer, sel in picks:
        kw = dict(call, neuron_selector=sel, attribute_to_neuron_input=to_input)
        _both("NeuronDeepLift", model, layer, dict(kw, baselines=one))
        _both("NeuronDeepLift", model, layer, kw, dict(multiply_by_inputs=False))
        _both("NeuronDeepLiftShap", model, layer, dict(kw, baselines=many))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("to_input", SIDES)
def test_feature_ablation(rng, kind, to_input):
    model, call, picks = _case(rng, kind, to_input)
    xs = _flat(call["inputs"])
    masks = tuple(torch.as_tensor(rng.integers(0, 3, size=(1, *x.shape[1:]))) for x in xs)
    for layer, sel in picks:
        kw = dict(call, neuron_selector=sel, attribute_to_neuron_input=to_input)
        _both("NeuronFeatureAblation", model, layer, kw)
        kw = dict(kw, baselines=_baselines(rng, call["inputs"]), perturbations_per_eval=2)
        kw["feature_mask"] = masks if isinstance(call["inputs"], tuple) else masks[0]
        _both("NeuronFeatureAblation", model, layer, kw)


def test_gradient_shap_where_the_draws_do_not_matter(rng):
    """One baseline, no noise and a neuron linear in the inputs: every draw gives the same
    sample, so captum's global-random draws and ours must agree."""
    model = mlp(rng)
    x, b = t(rng, 4, 5), t(rng, 1, 5)
    for sel, to_input in ((3, False), ((slice(2, 5),), False), (lambda v: v[:, 0], True)):
        kw = dict(inputs=x, neuron_selector=sel, baselines=b, n_samples=3)
        kw["attribute_to_neuron_input"] = to_input
        layer = model[1] if to_input else model[0]  # model[0]'s output is Tanh's input
        ours = xf.NeuronGradientShap(model, layer, seed=0).attribute(**kw)
        _same(ours, captum_attr.NeuronGradientShap(model, layer).attribute(**kw))
        assert no_hooks(model)


def test_token_models(rng):
    model, x = bag_text(rng), ids(rng, 3)
    for layer, sel in ((model.act, (2, 3)), (model.proj, (slice(0, 3), 1))):
        _both("NeuronFeatureAblation", model, layer, dict(inputs=x, neuron_selector=sel))
    mask = torch.as_tensor(rng.integers(0, 3, size=(1, x.shape[1])))
    kw = dict(inputs=x, neuron_selector=4, feature_mask=mask, attribute_to_neuron_input=True)
    _both("NeuronFeatureAblation", model, model.fc, kw)
    model = lstm_text(rng)
    kw = dict(inputs=x, neuron_selector=1, baselines=0, attribute_to_neuron_input=True)
    _both("NeuronFeatureAblation", model, model.fc, kw)


# ------------------------------------------------------------------ oracles of their own
def test_gradient_equals_a_hand_gradient(rng):
    model, x = mlp(rng), t(rng, 4, 5)
    xg = x.clone().requires_grad_()
    (hand,) = torch.autograd.grad(model[:3](xg)[:, 4].sum(), xg)
    ours = xf.NeuronGradient(model, model[2]).attribute(x, 4)
    torch.testing.assert_close(ours, hand, rtol=1e-12, atol=1e-14)
    ours = xf.NeuronGradient(model, model[3]).attribute(x, 4, attribute_to_neuron_input=True)
    torch.testing.assert_close(ours, hand, rtol=1e-12, atol=1e-14)
    model, x = cnn(rng), t(rng, 2, 2, 8, 8)
    xg = x.clone().requires_grad_()
    v = model.conv2(model.relu1(model.conv1(xg)))
    (hand,) = torch.autograd.grad(v[:, 1, 0:2, 3].sum(), xg)
    ours = xf.NeuronGradient(model, model.conv2).attribute(x, (1, slice(0, 2), 3))
    torch.testing.assert_close(ours, hand, rtol=1e-12, atol=1e-14)
    model = two_input(rng)
    a, b, scale = t(rng, 2, 4), t(rng, 2, 3), t(rng, 2, 1)
    ag = a.clone().requires_grad_()
    (hand,) = torch.autograd.grad(model.a(ag)[:, 2].sum(), ag)
    ours = xf.NeuronGradient(model, model.a).attribute((a, b), 2, scale)
    torch.testing.assert_close(ours[0], hand, rtol=1e-12, atol=1e-14)
    assert torch.equal(ours[1], torch.zeros_like(b))  # an input the neuron does not use


def test_integrated_gradients_complete(rng):
    """Attributions add up to n(x) - n(b), to the quadrature error of 64 Gauss points on a
    smooth neuron (tanh before it)."""
    model, x, b = mlp(rng), t(rng, 4, 5), t(rng, 4, 5)
    attrs = xf.NeuronIntegratedGradients(model, model[2]).attribute(x, 1, b, n_steps=64)
    with torch.no_grad():
        gap = model[:3](x)[:, 1] - model[:3](b)[:, 1]
    torch.testing.assert_close(attrs.sum(1), gap, rtol=1e-9, atol=1e-9 * float(gap.abs().max()))
    attrs = xf.NeuronDeepLift(model, model[3]).attribute(x, 2, b)
    with torch.no_grad():
        gap = model[:4](x)[:, 2] - model[:4](b)[:, 2]
    torch.testing.assert_close(attrs.sum(1), gap, rtol=1e-10, atol=1e-12)


def test_feature_ablation_equals_a_loop(rng):
    model, x = mlp(rng), t(rng, 3, 5)
    neuron = lambda z: model[:4](z)[:, 2]  # noqa: E731
    with torch.no_grad():
        want = torch.stack([neuron(x) - neuron(x.index_fill(1, torch.tensor([j]), 0.7))
                            for j in range(5)], 1)  # fmt: skip
    ours = xf.NeuronFeatureAblation(model, model[3]).attribute(x, 2, baselines=0.7)
    torch.testing.assert_close(ours, want, rtol=1e-12, atol=1e-14)


def test_conductances_of_a_crossed_layer_sum_to_integrated_gradients(rng):
    """Every path crosses ``model[2]``: summed over its neurons, the chain rule gives the
    integrated gradients of the output, exactly for the same quadrature."""
    model, x, b = mlp(rng), t(rng, 3, 5), t(rng, 1, 5)
    nc = xf.NeuronConductance(model, model[2])
    total = sum(nc.attribute(x, j, b, target=1, n_steps=9) for j in range(6))
    ig = xf.IntegratedGradients(model).attribute(
        x, b, target=1, n_steps=9, method="riemann_trapezoid"
    )
    torch.testing.assert_close(total, ig, rtol=1e-10, atol=1e-12)


def test_the_forward_stops_at_the_layer(rng):
    model, x = mlp(rng), t(rng, 4, 5)
    ran = []
    model[4].register_forward_pre_hook(lambda m, a: ran.append(len(a[0])))
    xf.NeuronGradient(model, model[2]).attribute(x, 1)
    xf.NeuronIntegratedGradients(model, model[2]).attribute(x, 1, n_steps=5)
    assert ran == []
    xf.NeuronConductance(model, model[2]).attribute(x, 1, target=0, n_steps=5)
    assert ran == [20]  # conductance needs the output: one forward of all 5 x 4 path points


# ------------------------------------------------------------------ errors
def test_bad_selectors_say_what_was_expected(rng):
    model, x = mlp(rng), t(rng, 2, 5)
    ng = xf.NeuronGradient(model, model[2])
    with pytest.raises(ValueError, match=r"out of range: index 6 on axis 1 .* shape \(6,\)"):
        ng.attribute(x, 6)
    with pytest.raises(ValueError, match=r"2 indices, but .* shape \(6,\)"):
        ng.attribute(x, (1, 2))
    for bad in ("3", 1.5, True, (1, "a"), (), [1]):
        with pytest.raises(TypeError, match="neuron_selector"):
            ng.attribute(x, bad)
    with pytest.raises(ValueError, match=r"one value per row, shape \(2,\); it returned \(2, 6\)"):
        ng.attribute(x, lambda v: v)
    with pytest.raises(ValueError, match="one value per row"):  # a total needs a gradient method
        xf.NeuronFeatureAblation(model, model[2]).attribute(x, lambda v: v.sum())
    cnn_model = cnn(rng)
    with pytest.raises(ValueError, match=r"picks \(6,\) values per example"):
        xf.NeuronGradient(cnn_model, cnn_model.conv1).attribute(t(rng, 2, 2, 8, 8), (1, 2))
    m2 = two_input(rng)
    args = dict(inputs=(t(rng, 2, 4), t(rng, 2, 3)), additional_forward_args=(t(rng, 2, 1),))
    with pytest.raises(ValueError, match="tuple of 2 tensors.*callable"):
        xf.NeuronConductance(m2, m2.mix).attribute(
            neuron_selector=1, target=0, attribute_to_neuron_input=True, **args
        )
    for m in (model, cnn_model, m2):
        assert no_hooks(m)


def test_bad_layers_and_flags(rng):
    model, x = mlp(rng), t(rng, 2, 5)
    stray = nn.Linear(5, 8).double()
    for name in ("NeuronGradient", "NeuronIntegratedGradients", "NeuronConductance"):
        with pytest.raises(ValueError, match="ran 0 times.*not a submodule"):
            kw = dict(target=0) if name == "NeuronConductance" else {}
            getattr(xf, name)(model, stray).attribute(x, 1, **kw)
        with pytest.raises(TypeError, match="layer must be a torch.nn.Module"):
            getattr(xf, name)(model, "fc")
    with pytest.raises(TypeError, match="attribute_to_neuron_input"):
        xf.NeuronGradient(model, model[2]).attribute(x, 1, attribute_to_neuron_input="yes")
    with pytest.raises(TypeError, match="device_ids"):
        xf.NeuronGradient(model, model[2], device_ids="0")

    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 3).double()

        def forward(self, z):
            return self.fc(z)[:, 7]  # fails after the layer

    broken = Broken()
    with pytest.raises(ValueError, match="forward_func raised IndexError"):
        xf.NeuronConductance(broken, broken.fc).attribute(x, 1)
    assert no_hooks(model) and no_hooks(stray) and no_hooks(broken)


NAMES = [
    "NeuronConductance",
    "NeuronDeconvolution",
    "NeuronDeepLift",
    "NeuronDeepLiftShap",
    "NeuronFeatureAblation",
    "NeuronGradient",
    "NeuronGradientShap",
    "NeuronGuidedBackprop",
    "NeuronIntegratedGradients",
]


@pytest.mark.parametrize("name", NAMES)
def test_captum_signatures_and_defaults(rng, name):
    """captum's parameters, in its order and with its defaults, lead ours (our additions are
    keyword-only)."""
    import inspect

    ours, ref = getattr(xf, name), getattr(captum_attr, name)
    for fn in ("__init__", "attribute"):
        a = inspect.signature(getattr(ours, fn)).parameters
        b = inspect.signature(inspect.unwrap(getattr(ref, fn))).parameters
        assert [(p, b[p].default) for p in b] == [(p, a[p].default) for p in list(a)[: len(b)]]
        assert all(a[p].kind is inspect.Parameter.KEYWORD_ONLY for p in list(a)[len(b) :])
    model = mlp(rng)
    assert ours(model, model[2]).multiplies_by_inputs is ref(model, model[2]).multiplies_by_inputs

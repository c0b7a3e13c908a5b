"""Layer methods against oracles of their own (no captum): completeness, a hand hook, the input
methods at a model's first layer, hand ablations; and the errors, with no hook left behind."""

from __future__ import annotations

import pytest
import torch
from layer_models import bag_text, cnn, ids, init, mlp, no_hooks, t
from torch import nn

import xai_fast as xf


def smooth_mlp(rng):
    return init(
        nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 4), nn.Tanh(), nn.Linear(4, 2)), rng
    )


def _f(model, x, target):
    with torch.no_grad():
        return model(x)[:, target]


def test_layer_activation_equals_a_hand_hook(rng):
    model, x = cnn(rng), t(rng, 3, 2, 8, 8)
    kept = {}
    h = model.conv2.register_forward_hook(lambda m, a, out: kept.update(out=out.detach()))
    h2 = model.conv2.register_forward_pre_hook(lambda m, a: kept.update(inp=a[0].detach()))
    with torch.no_grad():
        model(x)
    h.remove()
    h2.remove()
    out = xf.LayerActivation(model, model.conv2).attribute(x)
    inp = xf.LayerActivation(model, model.conv2).attribute(x, attribute_to_layer_input=True)
    assert torch.equal(out, kept["out"]) and torch.equal(inp, kept["inp"])
    both = xf.LayerActivation(model, [model.conv2, model.relu1]).attribute(x)
    assert isinstance(both, list) and torch.equal(both[0], kept["out"])
    assert torch.equal(both[1], kept["inp"])  # relu1's output is conv2's input


def test_completeness_of_integrated_gradients_and_conductance(rng):
    model, x, b = smooth_mlp(rng), t(rng, 4, 5), t(rng, 1, 5)
    gap = _f(model, x, 1) - _f(model, b, 1)
    for layer in (model[1], model[2]):  # every path from the inputs crosses them
        a, d = xf.LayerIntegratedGradients(model, layer).attribute(
            x, b, target=1, n_steps=64, return_convergence_delta=True
        )
        torch.testing.assert_close(a.sum(1), gap, rtol=0, atol=1e-9 * float(gap.abs().max()))
        assert float(d.abs().max()) <= 1e-9 * float(gap.abs().max())
        # conductance: a Riemann-Stieltjes sum, first-order in the steps (both ends included)
        deltas = []
        for n in (100, 200):
            c, d = xf.LayerConductance(model, layer).attribute(
                x, b, target=1, n_steps=n, method="riemann_trapezoid",
                return_convergence_delta=True, internal_batch_size=37,
            )  # fmt: skip
            torch.testing.assert_close(c.sum(1) - gap, d, rtol=0, atol=1e-12)
            deltas.append(d)
        # the error halves with twice the steps, so Richardson's 2*d(200) - d(100) cancels it:
        # a bias that does not shrink with the steps would survive this
        residual = float((2 * deltas[1] - deltas[0]).abs().max())
        assert residual <= 0.2 * float(deltas[0].abs().max())


def test_at_the_first_layer_input_the_input_methods_come_back(rng):
    model, x, b = mlp(rng), t(rng, 4, 5), 0.3 * t(rng, 1, 5)
    first, tgt = model[0], [0, 2, 1, 1]
    kw = dict(target=tgt, attribute_to_layer_input=True)
    rel = dict(rtol=1e-10, atol=1e-12)
    lig = xf.LayerIntegratedGradients(model, first).attribute(x, b, n_steps=20, **kw)
    ig = xf.IntegratedGradients(model).attribute(x, b, target=tgt, n_steps=20)
    torch.testing.assert_close(lig, ig, **rel)
    inf = xf.InternalInfluence(model, first).attribute(x, b, n_steps=20, **kw)
    raw = xf.IntegratedGradients(model, multiply_by_inputs=False)
    torch.testing.assert_close(inf, raw.attribute(x, b, target=tgt, n_steps=20), **rel)
    gxa = xf.LayerGradientXActivation(model, first).attribute(x, **kw)
    torch.testing.assert_close(gxa, xf.InputXGradient(model).attribute(x, target=tgt), **rel)
    img, base = t(rng, 3, 2, 8, 8), 0.2 * t(rng, 1, 2, 8, 8)
    net = cnn(rng)  # with max pooling
    ldl = xf.LayerDeepLift(net, net.conv1).attribute(img, base, 2, attribute_to_layer_input=True)
    torch.testing.assert_close(ldl, xf.DeepLift(net).attribute(img, base, 2), **rel)


def test_embedding_integrated_gradients_equal_ig_on_the_embeddings(rng):
    model, x = bag_text(rng), ids(rng, 3)
    pad = torch.zeros_like(x)

    def from_embeddings(e):
        return model.fc(model.act(model.proj(e)).mean(1))

    with torch.no_grad():
        e, e0 = model.emb(x), model.emb(pad)
    ref = xf.IntegratedGradients(from_embeddings).attribute(e, e0, target=2, n_steps=30)
    ours = xf.LayerIntegratedGradients(model, model.emb).attribute(x, pad, target=2, n_steps=30)
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-12)


def test_feature_ablation_equals_hand_ablations(rng):
    model, x = mlp(rng), t(rng, 3, 5)
    with torch.no_grad():
        h = model[1](model[0](x))  # the layer's output, (3, 8)
        full = model[2:](h)[:, 1]
        hand = torch.stack(
            [full - model[2:](h * (torch.arange(8) != j))[:, 1] for j in range(8)], 1
        )
    ours = xf.LayerFeatureAblation(model, model[1]).attribute(x, target=1)
    torch.testing.assert_close(ours, hand, rtol=1e-12, atol=1e-12)
    mask = torch.tensor([[0, 0, 1, 1, 2, 2, 3, 3]])
    grouped = xf.LayerFeatureAblation(model, model[1]).attribute(x, target=1, layer_mask=mask)
    assert torch.equal(grouped[:, 0], grouped[:, 1])


def test_gradient_shap_is_its_formula_and_reproducible(rng):
    model, x, b = mlp(rng), t(rng, 4, 5), t(rng, 1, 5)
    layer = model[3]  # only a linear layer after it: the gradient is the same on the path
    gs = xf.LayerGradientShap(model, layer, seed=3)
    ours = gs.attribute(x, b, n_samples=4, target=0)
    grad = xf.LayerGradientXActivation(model, layer, multiply_by_inputs=False)
    acts = xf.LayerActivation(model, layer)
    hand = grad.attribute(x, target=0) * (acts.attribute(x) - acts.attribute(b))
    torch.testing.assert_close(ours, hand, rtol=1e-10, atol=1e-12)
    bg = t(rng, 6, 5)
    first = gs.attribute(x, bg, n_samples=5, stdevs=0.1, target=1)
    assert torch.equal(first, gs.attribute(x, bg, n_samples=5, stdevs=0.1, target=1))


# ------------------------------------------------------------------ errors, hooks removed
class Reused(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin, self.act, self.unused = nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4)

    def forward(self, x):
        return self.lin(self.act(self.lin(x)))


ALL = [
    ("LayerActivation", {}),
    ("LayerGradientXActivation", dict(target=0)),
    ("LayerIntegratedGradients", dict(target=0)),
    ("LayerConductance", dict(target=0)),
    ("InternalInfluence", dict(target=0)),
    ("LayerGradientShap", dict(target=0, baselines=torch.zeros(2, 4, dtype=torch.float64))),
    ("LayerDeepLift", dict(target=0)),
    ("LayerDeepLiftShap", dict(target=0, baselines=torch.zeros(2, 4, dtype=torch.float64))),
    ("LayerFeatureAblation", dict(target=0)),
    ("LayerGradCam", dict(target=0)),
]


@pytest.mark.parametrize("name, kw", ALL, ids=[n for n, _ in ALL])
def test_errors_say_what_was_expected_and_leave_no_hook(rng, name, kw):
    model, x = init(Reused(), rng), t(rng, 3, 4)
    cls = getattr(xf, name)
    with pytest.raises(ValueError, match="ran 2 times .*'lin'.*its own module instance"):
        cls(model, model.lin).attribute(x, **kw)
    with pytest.raises(ValueError, match="ran 0 times .*'unused'.*did not call it"):
        cls(model, model.unused).attribute(x, **kw)
    with pytest.raises(ValueError, match="ran 0 times .*not a submodule of the model"):
        cls(model, nn.Linear(4, 4)).attribute(x, **kw)
    if "target" in kw:
        with pytest.raises(ValueError, match="target 7 is out of range .* 0..3"):
            cls(model, model.act).attribute(x, **dict(kw, target=7))
    with pytest.raises(TypeError, match="layer must be a torch.nn.Module"):
        cls(model, "act")
    with torch.no_grad():
        with pytest.raises((ValueError, TypeError, RuntimeError)):
            cls(model, model.act).attribute(t(rng, 3, 5), **kw)  # the model refuses the width
        assert not torch.is_grad_enabled()  # the caller's grad mode is back
    assert no_hooks(model)
    out = cls(model, model.act).attribute(x, **kw)
    assert no_hooks(model) and out.shape[0] == 3


def test_grad_cam_is_importable_from_both_packages():
    from xai_fast.explainers import gradient, layer

    assert gradient.LayerGradCam is layer.LayerGradCam is xf.LayerGradCam


def test_list_of_layers_and_input_types(rng):
    model, x = mlp(rng), t(rng, 3, 5)
    with pytest.raises(TypeError, match="a torch.nn.Module or a list of them"):
        xf.LayerActivation(model, [model[0], "relu"])
    with pytest.raises(TypeError, match="layer must be a torch.nn.Module of the model"):
        xf.LayerConductance(model, [model[0], model[2]])  # one layer only, as captum
    with pytest.raises(ValueError, match="same module twice"):
        xf.LayerIntegratedGradients(model, [model[0], model[0]])
    with pytest.raises(TypeError, match="floating-point inputs"):
        xf.LayerConductance(model, model[2]).attribute(x.long(), target=0)
    with pytest.raises(TypeError, match="attribute_to_layer_input must be"):
        xf.LayerActivation(model, model[2]).attribute(x, attribute_to_layer_input="yes")
    with pytest.raises(TypeError, match="grad_kwargs must be None or a dict"):
        xf.LayerGradientXActivation(model, model[2]).attribute(x, 0, grad_kwargs=[1])
    text = bag_text(rng)
    with pytest.raises(TypeError, match="floating-point tensors at the layer's input"):
        xf.LayerGradientXActivation(text, text.emb).attribute(ids(rng, 2), 0, None, True)
    assert no_hooks(model) and no_hooks(text)


def test_path_methods_evaluate_each_point_once_whatever_the_chunks(rng):
    """(n_steps + 1) * N rows for LayerConductance and 2 N + n_steps * N for
    LayerIntegratedGradients, for every internal_batch_size (rows counted at the model)."""
    model, x = cnn(rng), t(rng, 4, 2, 8, 8)
    rows = []
    model.register_forward_pre_hook(lambda m, a: rows.append(a[0].shape[0]))
    for ibs in (None, 5, 8, 13):
        rows.clear()
        xf.LayerConductance(model, model.conv2).attribute(
            x, target=1, n_steps=10, internal_batch_size=ibs
        )
        assert sum(rows) == 11 * 4 and (ibs is None or max(rows) <= ibs)
        rows.clear()
        xf.LayerIntegratedGradients(model, model.conv2).attribute(
            x, target=1, n_steps=10, internal_batch_size=ibs
        )
        assert sum(rows) == 2 * 4 + 10 * 4


def test_feature_ablation_on_a_sequential_runs_only_what_follows_the_layer(rng):
    """On an ``nn.Sequential`` the ablations run the modules after the layer alone, with the
    values of the whole model; where that would not be the same model (the layer used twice,
    hooks on the model itself) every call runs the whole model."""
    x = t(rng, 4, 5)
    for to_input, layer_at in ((False, 1), (True, 2)):
        model = mlp(rng)
        calls = []
        model[0].register_forward_hook(lambda *a, calls=calls: calls.append(1))
        layer = model[layer_at]
        kw = dict(target=2, attribute_to_layer_input=to_input, perturbations_per_eval=3)
        ours = xf.LayerFeatureAblation(model, layer).attribute(x, **kw)
        assert len(calls) == 1  # the layer's values, once
        with torch.no_grad():  # by hand, through the whole model
            h = model[:layer_at](x) if to_input else model[: layer_at + 1](x)
            rest = model[layer_at:] if to_input else model[layer_at + 1 :]
            full = rest(h)[:, 2]
            hand = torch.stack(
                [full - rest(h * (torch.arange(h.shape[1]) != j))[:, 2] for j in range(h.shape[1])],
                1,
            )
        torch.testing.assert_close(ours, hand, rtol=1e-12, atol=1e-12)
        model.register_forward_pre_hook(lambda *a: None)  # a hook of the model's own
        calls.clear()
        again = xf.LayerFeatureAblation(model, layer).attribute(x, **kw)
        assert len(calls) > 1
        torch.testing.assert_close(again, ours, rtol=1e-12, atol=1e-12)
    shared = nn.Linear(5, 5)
    twice = nn.Sequential(shared, nn.Tanh(), shared, nn.Linear(5, 2)).double()
    with pytest.raises(ValueError, match="ran 2 times"):  # as for any model
        xf.LayerFeatureAblation(twice, shared).attribute(x, target=0)


class _Double(nn.Module):
    def forward(self, x):
        return x.mul_(2)  # in place, on the tensor the layer handed on


class _Halves(nn.Module):
    def forward(self, x):
        return x[:, :3], x[:, 3:]


class _Join(nn.Module):
    def forward(self, pair):
        return torch.cat(pair, 1)


def test_feature_ablation_shortcut_keeps_what_the_whole_model_gives(rng):
    """Where running only the modules after the layer could differ from the whole model (an
    in-place op after the layer, a layer returning two tensors, hooks on the layer), the
    values are those of the hooked whole-model calls."""
    x = t(rng, 4, 5)

    def by_hand(model, layer_at, target):
        with torch.no_grad():
            h = model[: layer_at + 1](x.clone())
            full = model[layer_at + 1 :](h.clone())[:, target]
            cols = [
                full - model[layer_at + 1 :](h * (torch.arange(h.shape[1]) != j))[:, target]
                for j in range(h.shape[1])
            ]
        return torch.stack(cols, 1)

    inplace = init(nn.Sequential(nn.Linear(5, 6), _Double(), nn.Tanh(), nn.Linear(6, 2)), rng)
    ours = xf.LayerFeatureAblation(inplace, inplace[0]).attribute(x, target=1)
    torch.testing.assert_close(ours, by_hand(inplace, 0, 1), rtol=1e-12, atol=1e-12)
    pair = init(nn.Sequential(nn.Linear(5, 6), _Halves(), _Join(), nn.Linear(6, 2)), rng)
    halves = xf.LayerFeatureAblation(pair, pair[1]).attribute(x, target=0)
    assert isinstance(halves, tuple) and [h.shape for h in halves] == [(4, 3), (4, 3)]
    model = mlp(rng)
    kw = dict(target=2, attribute_to_layer_input=True)
    plain = xf.LayerFeatureAblation(model, model[2]).attribute(x, **kw)
    handle = model[2].register_forward_pre_hook(lambda mod, a: (a[0] * 2,))
    hooked = xf.LayerFeatureAblation(model, model[2]).attribute(x, **kw)
    captum_attr = pytest.importorskip("captum.attr")
    ref = captum_attr.LayerFeatureAblation(model, model[2]).attribute(x, **kw)
    handle.remove()
    torch.testing.assert_close(hooked, ref, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(hooked, plain)


class _WriteUnderNoGrad(nn.Module):
    def forward(self, x):
        with torch.no_grad():
            x.mul_(2)  # in place and unrecorded: only the tensor's version tells
        return x


class _WriteAView(nn.Module):
    def forward(self, x):
        x[:, :3].tanh_()
        return x


@pytest.mark.parametrize(
    "write", [lambda: nn.ReLU(inplace=True), _WriteUnderNoGrad, _WriteAView, nn.Tanh]
)
def test_gradient_layer_methods_when_the_model_writes_the_layer_in_place(rng, write):
    """A model that writes the layer's output in place after the layer (in a recorded op,
    under no_grad, through a view) cannot change what the gradient methods record: the values
    equal a hand hook that hands a clone on."""
    model = init(nn.Sequential(nn.Linear(5, 6), write(), nn.Linear(6, 3)), rng)
    x, b = t(rng, 4, 5), t(rng, 4, 5)

    def grad_and_act(rows):
        h = model[0](rows).detach().requires_grad_()
        y = model[1:](h.clone())[:, 1]
        return torch.autograd.grad(y.sum(), h)[0], h.detach()

    g, a = grad_and_act(x)
    ours = xf.LayerGradientXActivation(model, model[0]).attribute(x, target=1)
    torch.testing.assert_close(ours, g * a, rtol=1e-12, atol=1e-14)
    # conductance on the 3 points 0, 1/2, 1 of the trapezoid rule, by hand from the same hook
    ga = [grad_and_act(b + alpha * (x - b)) for alpha in (0.0, 0.5, 1.0)]
    want = sum(ga[k][0] * (ga[k + 1][1] - ga[k][1]) for k in range(2))
    got = xf.LayerConductance(model, model[0]).attribute(
        x, b, target=1, n_steps=2, method="riemann_trapezoid", internal_batch_size=5
    )
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)

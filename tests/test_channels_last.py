"""Channels-last chunks for conv modules on the CPU: the same values as the default layout
(against a brute-force oracle), the layout the module really gets, and the fall-backs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xai_fast import FeatureAblation, ModelAdapter, Occlusion, ShapleyValueSampling


class Recording(torch.nn.Module):
    """``net``, noting for each call the batch size and whether it came channels-last."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.calls = []

    def forward(self, x):
        cl = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        self.calls.append((x.shape[0], cl))
        return self.net(x)


class Flat(torch.nn.Module):
    """A CNN ending in ``x.view(n, -1)``: it cannot take channels-last activations."""

    def __init__(self, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = torch.nn.Conv2d(3, 5, 3, padding=1)
        self.fc = torch.nn.Linear(5 * 8 * 8, 4)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).view(x.shape[0], -1))


class RawMemory(torch.nn.Module):
    """A CNN that reads its input's memory as NCHW (as a custom operator may): in channels-last
    it runs but gives other numbers."""

    def __init__(self, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(3 * 8 * 8, 4)

    def forward(self, x):
        n = x.shape[0]
        raw = torch.as_strided(x, (n, x[0].numel()), (x[0].numel(), 1))
        return self.fc(raw) + self.conv(x).mean((2, 3))


def _cnn(seed, channels=3):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(channels, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32, 4),
    ).eval()  # fmt: skip


def _patches():
    r = torch.arange(8)
    return (r[:, None] // 4 * 2 + r[None] // 4)[None, None]  # 4 patches of 4x4 pixels


def _ablation_oracle(net, x, target):
    """FeatureAblation by hand, one patch at a time in torch's default layout: ``(n, 4)``."""
    mask = _patches()[0, 0]
    with torch.no_grad():
        full = net(x)[:, target]
        out = [full - net(torch.where(mask == j, 0.0, x))[:, target] for j in range(4)]
    return torch.stack(out, 1)


def _per_patch(attr):
    return attr[:, 0, ::4, ::4].reshape(attr.shape[0], 4)


def test_values_equal_the_default_layout_oracle(rng):
    net = Recording(_cnn(int(rng.integers(1000))))
    x = torch.as_tensor(rng.normal(size=(9, 3, 8, 8)), dtype=torch.float32)
    got = FeatureAblation(net).attribute(x, target=2, feature_mask=_patches())
    net.calls.clear()
    again = FeatureAblation(net).attribute(x, target=2, feature_mask=_patches())
    expected = _ablation_oracle(net.net, x, 2)
    assert float(expected.abs().max()) > 1e-3
    torch.testing.assert_close(_per_patch(got), expected, rtol=1e-5, atol=1e-6)
    assert torch.equal(got, again)
    # after the first call's trial, every chunk reaches the model channels-last
    assert net.calls and all(cl for _, cl in net.calls)
    assert sum(n for n, _ in net.calls) == 9 * 5  # the inputs and 4 ablations, no trial rows


def test_trial_is_two_rows_in_each_layout_once(rng):
    net = Recording(_cnn(int(rng.integers(1000)))).eval()
    x = torch.as_tensor(rng.normal(size=(6, 3, 8, 8)), dtype=torch.float32)
    adapter = ModelAdapter(net)
    out = adapter.call_tensor(x)
    assert net.calls[:2] == [(2, False), (2, True)]
    assert net.calls[2:] == [(6, True)]
    with torch.no_grad():
        torch.testing.assert_close(out, net.net(x), rtol=1e-5, atol=1e-6)
    net.calls.clear()
    adapter.call_tensor(x[:3])  # the same example shape: decided already
    assert net.calls == [(3, True)]


@pytest.mark.parametrize("model", [Flat, RawMemory], ids=["view-raises", "reads-raw-memory"])
def test_a_module_that_cannot_take_it_keeps_the_default_layout(rng, model):
    net = Recording(model(int(rng.integers(1000))).eval())
    x = torch.as_tensor(rng.normal(size=(5, 3, 8, 8)), dtype=torch.float32)
    got = FeatureAblation(net).attribute(x, target=1, feature_mask=_patches())
    expected = _ablation_oracle(net.net, x, 1)
    torch.testing.assert_close(_per_patch(got), expected, rtol=1e-5, atol=1e-6)
    assert not any(cl for _, cl in net.calls[2:])  # after the trial: contiguous only


@pytest.mark.parametrize(
    "case",
    ["float64", "one-channel", "no-conv", "switched-off"],
)
def test_other_inputs_and_models_keep_the_default_layout(rng, case):
    seed = int(rng.integers(1000))
    channels, dtype, adapter_kw = 3, torch.float32, {}
    net = _cnn(seed)
    if case == "float64":
        dtype, net = torch.float64, net.double()
    elif case == "one-channel":
        channels, net = 1, _cnn(seed, channels=1)
    elif case == "no-conv":
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 4))
    else:
        adapter_kw = dict(channels_last=False)
    net = Recording(net)
    x = torch.as_tensor(rng.normal(size=(4, channels, 8, 8)), dtype=dtype)
    ModelAdapter(net, **adapter_kw).call_tensor(x)
    assert net.calls == [(4, False)]  # no trial and no conversion


def test_a_module_with_random_outputs_keeps_the_default_layout(rng):
    class Noisy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = _cnn(int(rng.integers(1000)))

        def forward(self, x):
            return self.net(x) + torch.rand(x.shape[0], 4)

    net = Recording(Noisy())
    x = torch.as_tensor(rng.normal(size=(4, 3, 8, 8)), dtype=torch.float32)
    ModelAdapter(net).call_tensor(x)
    assert net.calls[-1] == (4, False)


def test_occlusion_and_shapley_sampling_equal_captums(rng):
    captum_attr = pytest.importorskip("captum.attr")
    seed = int(rng.integers(1000))
    net = Recording(_cnn(seed))
    x = torch.as_tensor(rng.normal(size=(4, 3, 8, 8)), dtype=torch.float32)
    occ = dict(sliding_window_shapes=(3, 4, 4), strides=(3, 2, 2), target=0)
    ours = Occlusion(net).attribute(x, **occ)
    assert net.calls[-1][1]  # channels-last
    ref = captum_attr.Occlusion(net.net).attribute(x, **occ)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    svs = dict(target=3, feature_mask=_patches(), n_samples=3)
    torch.manual_seed(seed)
    ours = ShapleyValueSampling(net).attribute(x, **svs)
    torch.manual_seed(seed)
    ref = captum_attr.ShapleyValueSampling(net.net).attribute(x, **svs)
    assert float(ref.abs().max()) > 1e-3
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)


def test_true_skips_the_trial(rng):
    net = Recording(_cnn(int(rng.integers(1000))))
    x = torch.as_tensor(rng.normal(size=(3, 3, 8, 8)), dtype=torch.float32)
    ModelAdapter(net, channels_last=True).call_tensor(x)
    assert net.calls == [(3, True)]


def test_gradient_methods_run_channels_last_and_return_the_default_layout(rng):
    captum_attr = pytest.importorskip("captum.attr")
    from xai_fast import IntegratedGradients, LayerActivation, LayerConductance

    seed = int(rng.integers(1000))
    net = Recording(_cnn(seed)).eval()
    x = torch.as_tensor(rng.normal(size=(3, 3, 8, 8)), dtype=torch.float32)
    ours = IntegratedGradients(net).attribute(x, target=1, n_steps=8)
    assert net.calls[:2] == [(2, False), (2, True)] and net.calls[-1][1]
    ref = captum_attr.IntegratedGradients(net.net).attribute(x, target=1, n_steps=8)
    assert ours.is_contiguous() and float(ref.abs().max()) > 1e-3
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    layer = net.net[3]
    ours = LayerConductance(net, layer).attribute(x, target=2, n_steps=8)
    ref = captum_attr.LayerConductance(net.net, layer).attribute(x, target=2, n_steps=8)
    assert ours.is_contiguous()
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    act = LayerActivation(net, layer).attribute(x)
    assert net.calls[-1] == (3, True)  # its one forward ran channels-last ...
    assert act.is_contiguous()  # ... and the result is in the default layout
    with torch.no_grad():
        torch.testing.assert_close(act, net.net[:4](x), rtol=1e-5, atol=1e-6)


def test_neuron_gradient_methods_run_channels_last_and_equal_captums(rng):
    """A neuron's forward runs the model on its rows as they come, so the model's layout
    choice applies to it; the values stay captum's (NCHW) to float32 rounding."""
    captum_attr = pytest.importorskip("captum.attr")
    from xai_fast import NeuronGradient, NeuronGradientShap, NeuronIntegratedGradients

    seed = int(rng.integers(1000))
    net = Recording(_cnn(seed)).eval()
    x = torch.as_tensor(rng.normal(size=(3, 3, 8, 8)), dtype=torch.float32)
    layer, neuron = net.net[3], (2, 1, 3)
    for ours_cls, kw in [
        (NeuronGradient, {}),
        (NeuronIntegratedGradients, dict(n_steps=8)),
        (NeuronGradientShap, dict(baselines=torch.zeros(2, 3, 8, 8), n_samples=4)),
    ]:
        net.calls.clear()
        torch.manual_seed(seed)
        np.random.seed(seed)  # noqa: NPY002 (captum draws from the global generator)
        ours = ours_cls(net, layer).attribute(x, neuron_selector=neuron, **kw)
        assert net.calls[-1][1] and ours.is_contiguous()  # ran channels-last, came back NCHW
        torch.manual_seed(seed)
        np.random.seed(seed)  # noqa: NPY002 (captum draws from the global generator)
        ref_cls = getattr(captum_attr, ours_cls.__name__)
        ref = ref_cls(net.net, layer).attribute(x, neuron_selector=neuron, **kw)
        assert float(ref.abs().max()) > 1e-3
        torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)


def test_a_module_in_training_mode_is_not_tried(rng):
    net = Recording(_cnn(int(rng.integers(1000))).train())
    x = torch.as_tensor(rng.normal(size=(3, 3, 8, 8)), dtype=torch.float32)
    ModelAdapter(net).call_tensor(x)
    assert net.calls == [(3, False)]


def test_the_option_is_checked():
    with pytest.raises(TypeError, match="channels_last must be True, False or None"):
        ModelAdapter(torch.nn.Linear(2, 1), channels_last="yes")


class _FlattenCnn(torch.nn.Module):
    """:func:`_cnn` with a functional flatten: captum's LRP has rules for all its modules."""

    def __init__(self, seed):
        super().__init__()
        net = _cnn(seed)
        self.features, self.fc = net[:6], net[7]

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def test_propagation_methods_run_channels_last_and_equal_captums(rng):
    """Guided backpropagation, deconvolution (and their neuron forms), guided Grad-CAM and LRP
    follow the rows through the forward in their own mode, the layout change included."""
    captum_attr = pytest.importorskip("captum.attr")
    import xai_fast as xf

    net = Recording(_FlattenCnn(int(rng.integers(1000)))).eval()
    x = torch.as_tensor(rng.normal(size=(3, 3, 8, 8)), dtype=torch.float32)
    layer, neuron = net.net.features[3], (2, 1, 3)
    cases = [
        ("GuidedBackprop", (), dict(target=1)),
        ("Deconvolution", (), dict(target=1)),
        ("GuidedGradCam", (layer,), dict(target=1)),
        ("LRP", (), dict(target=1)),
        ("NeuronGuidedBackprop", (layer,), dict(neuron_selector=neuron)),
        ("NeuronDeconvolution", (layer,), dict(neuron_selector=neuron)),
    ]
    for name, args, kw in cases:
        net.calls.clear()
        ours = getattr(xf, name)(net, *args).attribute(x, **kw)
        assert net.calls[-1][1], name  # ran channels-last ...
        assert ours.is_contiguous(), name  # ... and came back NCHW
        ref = getattr(captum_attr, name)(net.net, *args).attribute(x, **kw)
        scale = float(ref.abs().max())  # Grad-CAM's maps can be small: tolerances scale
        assert scale > 0, name
        torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5 * scale, msg=name)

"""GuidedBackprop, Deconvolution and GuidedGradCam: captum's numbers on nn.ReLU models, the
same rule on functional, in-place and reused ReLUs, hand-computed oracles, and the errors."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from xai_fast import Deconvolution, GuidedBackprop, GuidedGradCam

captum_attr = pytest.importorskip("captum.attr")
# captum warns that it sets hooks and requires_grad
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:captum")

TOL = 1e-6  # float64 throughout: relative to the largest reference value
METHODS = {"guided": (GuidedBackprop, "GuidedBackprop"), "deconv": (Deconvolution, "Deconvolution")}


@pytest.fixture
def seed(rng):
    """A torch seed drawn from the session seed (fresh every run, replayable)."""
    return int(rng.integers(2**31))


def _init(model: nn.Module, seed: int) -> nn.Module:
    """float64, eval mode, weights from a generator of its own."""
    g = torch.Generator().manual_seed(seed)
    model = model.double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.7)
    return model


def _data(shape, n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, *shape), generator=g, dtype=torch.float64)


def _close(ours, ref):
    ours = ours if isinstance(ours, tuple) else (ours,)
    ref = ref if isinstance(ref, tuple) else (ref,)
    assert len(ours) == len(ref)
    for a, r in zip(ours, ref, strict=True):
        assert a.shape == r.shape and a.dtype == r.dtype
        scale = max(float(r.detach().abs().max()), 1e-12)
        torch.testing.assert_close(a, r.detach(), rtol=TOL, atol=TOL * scale)


def _no_residue(model: nn.Module) -> None:
    """No hook on any submodule, no gradient on the parameters, no torch-function mode left."""
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
        assert not m._backward_hooks and not m._backward_pre_hooks
    assert all(p.grad is None for p in model.parameters())
    assert torch._C._len_torch_function_stack() == 0


# ---------------------------------------------------------------------------- models


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 4))


def cnn2d() -> nn.Module:  # (N, 2, 10, 10) -> (N, 4); conv2's output is (N, 6, 6, 6)
    return nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.ReLU(),
        nn.Conv2d(4, 6, 3),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(54, 4),
    )


def cnn1d() -> nn.Module:  # (N, 2, 12) -> (N, 3)
    return nn.Sequential(
        nn.Conv1d(2, 4, 3), nn.ReLU(), nn.Conv1d(4, 5, 3), nn.ReLU(), nn.Flatten(), nn.Linear(40, 3)
    )


def cnn3d() -> nn.Module:  # (N, 1, 6, 6, 6) -> (N, 3)
    return nn.Sequential(
        nn.Conv3d(1, 3, 3),
        nn.ReLU(),
        nn.Conv3d(3, 4, 2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(108, 3),
    )


class TwoInputs(nn.Module):
    """An image and a vector, and an extra per-example scale."""

    def __init__(self):
        super().__init__()
        self.conv, self.lin = nn.Conv2d(2, 3, 3), nn.Linear(5, 3)
        self.act1, self.act2, self.out = nn.ReLU(), nn.ReLU(), nn.Linear(3, 4)

    def forward(self, img, vec, scale):
        h = self.act1(self.conv(img)).mean((2, 3)) + self.act2(self.lin(vec))
        return self.out(h) * scale[:, None]


def _inplace_method(t):
    t.relu_()  # the result is used through t
    return t


class EveryForm(nn.Module):
    """Seven ReLUs: ``distinct=False`` uses every form (F.relu, torch.relu, Tensor.relu,
    F.relu(inplace=True), Tensor.relu_ with its result ignored, one module twice);
    ``distinct=True`` runs the same computation through seven distinct nn.ReLU modules."""

    def __init__(self, distinct: bool):
        super().__init__()
        self.inp, self.out = nn.Linear(6, 8), nn.Linear(8, 3)
        self.hidden = nn.ModuleList(nn.Linear(8, 8) for _ in range(7))
        self.distinct = distinct
        self.acts = nn.ModuleList(nn.ReLU() for _ in range(7))
        self.act = nn.ReLU()

    def forward(self, x):
        if self.distinct:
            forms = list(self.acts)
        else:
            forms = [F.relu, torch.relu, torch.Tensor.relu, lambda t: F.relu(t, inplace=True)]
            forms += [_inplace_method, self.act, self.act]
        h = self.inp(x)
        for layer, act in zip(self.hidden, forms, strict=True):
            h = act(layer(h))
        return self.out(h)


# ---------------------------------------------------------------------------- captum's numbers


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("name", ["mlp", "cnn2d"])
def test_equals_captum(method, name, seed):
    make, shape = {"mlp": (mlp, (6,)), "cnn2d": (cnn2d, (2, 10, 10))}[name]
    model = _init(make(), seed)
    x = _data(shape, 5, seed + 1)
    ours_cls, ref_name = METHODS[method]
    for target in ([0, 3, 1, 2, 0], 2):
        ours = ours_cls(model).attribute(x, target=target)
        ref = getattr(captum_attr, ref_name)(model).attribute(x, target=target)
        _close(ours, ref)
    _no_residue(model)


@pytest.mark.parametrize("method", list(METHODS))
def test_tuple_inputs_and_additional_args_equal_captum(method, seed):
    model = _init(TwoInputs(), seed)
    img, vec = _data((2, 6, 6), 4, seed + 1), _data((5,), 4, seed + 2)
    scale = _data((), 4, seed + 3).abs() + 0.5
    ours_cls, ref_name = METHODS[method]
    target = torch.tensor([3, 0, 2, 1])
    ours = ours_cls(model).attribute((img, vec), target=target, additional_forward_args=scale)
    ref = getattr(captum_attr, ref_name)(model).attribute(
        (img, vec), target=target, additional_forward_args=scale
    )
    assert isinstance(ours, tuple) and len(ours) == 2
    _close(ours, ref)


GRADCAM_CASES = [
    (cnn2d, (2, 10, 10), 2, "nearest"),
    (cnn2d, (2, 10, 10), 2, "nearest-exact"),
    (cnn2d, (2, 10, 10), 2, "area"),
    (cnn2d, (2, 10, 10), 2, "bilinear"),
    (cnn2d, (2, 10, 10), 2, "bicubic"),
    (cnn1d, (2, 12), 2, "linear"),
    (cnn1d, (2, 12), 2, "nearest"),
    (cnn3d, (1, 6, 6, 6), 2, "trilinear"),
]


@pytest.mark.parametrize("case", GRADCAM_CASES, ids=lambda c: f"{c[0].__name__}-{c[3]}")
@pytest.mark.parametrize("to_input", [False, True])
def test_guided_grad_cam_equals_captum(case, to_input, seed):
    make, shape, layer_at, mode = case
    model = _init(make(), seed)
    layer = model[layer_at]
    x = _data(shape, 4, seed + 1)
    kwargs = dict(target=[0, 1, 2, 1], interpolate_mode=mode, attribute_to_layer_input=to_input)
    ours = GuidedGradCam(model, layer).attribute(x, **kwargs)
    ref = captum_attr.GuidedGradCam(model, layer).attribute(x, **kwargs)
    _close(ours, ref)
    _no_residue(model)


def test_guided_grad_cam_tuple_inputs_and_mismatched_dims(seed):
    model = _init(TwoInputs(), seed)
    img, vec = _data((2, 6, 6), 3, seed + 1), _data((5,), 3, seed + 2)
    scale = _data((), 3, seed + 3).abs() + 0.5
    kwargs = dict(target=1, additional_forward_args=scale)
    with pytest.warns(UserWarning, match="input 1 of shape \\(3, 5\\).*empty tensor"):
        ours = GuidedGradCam(model, model.conv).attribute((img, vec), **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = captum_attr.GuidedGradCam(model, model.conv).attribute((img, vec), **kwargs)
    _close(ours[0], ref[0])
    assert ours[1].numel() == 0 and ref[1].numel() == 0
    # a mode for other spatial axes: the same warning
    with pytest.warns(UserWarning, match="trilinear"):
        out = GuidedGradCam(model, model.conv).attribute(
            (img, vec), interpolate_mode="trilinear", **kwargs
        )
    assert out[0].numel() == 0


# ---------------------------------------------------------------------------- independent oracles


@pytest.mark.parametrize("method", list(METHODS))
def test_every_relu_form_equals_distinct_modules_through_captum(method, seed):
    target = [0, 1, 2, 0, 1, 2]
    ours_cls, ref_name = METHODS[method]
    for draw in range(10):  # about 1 net in 150 clips every guided path: zero, and no test
        forms = _init(EveryForm(distinct=False), seed + 2 * draw)
        distinct = EveryForm(distinct=True).double().eval()
        distinct.load_state_dict(forms.state_dict())
        x = _data((6,), 6, seed + 2 * draw + 1)
        ref = getattr(captum_attr, ref_name)(distinct).attribute(x, target=target)
        if float(ref.abs().max()) > 0:
            break
    with torch.no_grad():
        torch.testing.assert_close(forms(x), distinct(x), rtol=0, atol=0)
    ours = ours_cls(forms).attribute(x, target=target)
    _close(ours, ref)
    # our distinct-module numbers are the same, and captum misses the functional forms
    _close(ours_cls(distinct).attribute(x, target=target), ref)
    missed = getattr(captum_attr, ref_name)(forms).attribute(x, target=target)
    assert float((missed - ref).abs().max()) > 1e-3 * float(ref.abs().max())
    _no_residue(forms)


class Written(nn.Module):
    """The inputs written into a fresh buffer, then a ReLU of the buffer: ``module=False``
    through ``torch.relu``, ``module=True`` through an nn.ReLU module."""

    def __init__(self, module: bool):
        super().__init__()
        self.lin, self.out = nn.Linear(8, 8), nn.Linear(8, 2)
        self.act = nn.ReLU() if module else torch.relu

    def forward(self, x):
        buf = torch.zeros(x.shape[0], 8, dtype=x.dtype)
        buf[:, 1:7] = x  # buf depends on x from here on
        return self.out(self.act(self.lin(self.act(buf))))


def test_relu_of_a_buffer_the_inputs_were_written_into(seed):
    functional = _init(Written(module=False), seed)
    module = Written(module=True).double().eval()
    module.load_state_dict(functional.state_dict())
    x = _data((6,), 5, seed + 1)
    for ours_cls, ref_name in METHODS.values():
        ref = getattr(captum_attr, ref_name)(module).attribute(x, target=1)
        _close(ours_cls(functional).attribute(x, target=1), ref)


def test_hand_computed_two_layer_net(seed):
    """f(x) = w2 . relu(W1 x + b1): guided W1^T (relu(w2) * [h > 0]), deconv W1^T relu(w2)."""
    g = torch.Generator().manual_seed(seed)
    W1 = torch.randn(7, 4, generator=g, dtype=torch.float64)
    b1 = torch.randn(7, generator=g, dtype=torch.float64)
    w2 = torch.randn(7, generator=g, dtype=torch.float64)
    x = _data((4,), 5, seed + 1)

    def f(t):
        return F.relu(t @ W1.T + b1) @ w2

    open_ = (x @ W1.T + b1 > 0).double()  # (N, 7)
    guided = (w2.clamp_min(0) * open_) @ W1
    deconv = (w2.clamp_min(0) @ W1).expand_as(x)
    plain = (w2 * open_) @ W1
    torch.testing.assert_close(GuidedBackprop(f).attribute(x), guided, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(Deconvolution(f).attribute(x), deconv, rtol=1e-12, atol=1e-12)
    grad = captum_attr.Saliency(f).attribute(x, abs=False)
    torch.testing.assert_close(grad, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", list(METHODS))
def test_without_relu_it_is_the_plain_gradient(method, seed):
    model = _init(
        nn.Sequential(nn.Linear(6, 9), nn.Tanh(), nn.Linear(9, 5), nn.GELU(), nn.Linear(5, 3)),
        seed,
    )
    x = _data((6,), 5, seed + 1)
    target = [2, 1, 0, 1, 2]
    ours = METHODS[method][0](model).attribute(x, target=target)
    rows = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad(model(rows)[torch.arange(5), target].sum(), rows)
    torch.testing.assert_close(ours, grad, rtol=1e-12, atol=1e-12)


def test_relu_of_a_parameter_keeps_its_value(seed):
    """A ReLU of a parameter is off the path from the inputs: it runs as it is."""
    lin = _init(nn.Linear(6, 3), seed)

    def f(t):
        return t @ torch.relu(lin.weight).T + F.relu(t[:, :3])

    x = _data((6,), 4, seed + 1)
    ours = GuidedBackprop(f).attribute(x, target=1)
    expected = torch.relu(lin.weight[1]).detach().expand(4, 6).clone()
    expected[:, 1] += (x[:, 1] > 0).double()
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-12)


def test_one_forward_for_all_examples(seed):
    model = _init(cnn2d(), seed)
    calls = []

    def f(t):
        calls.append(t.shape[0])
        return model(t)

    x = _data((2, 10, 10), 7, seed + 1)
    GuidedBackprop(f).attribute(x, target=0)
    assert calls == [7]
    calls.clear()
    GuidedGradCam(f, model[2]).attribute(x, target=0)
    assert calls == [7, 7]  # GradCAM, then guided backpropagation


def test_inside_no_grad(seed):
    model = _init(mlp(), seed)
    x = _data((6,), 3, seed + 1)
    with torch.no_grad():
        ours = GuidedBackprop(model).attribute(x, target=1)
    _close(ours, GuidedBackprop(model).attribute(x, target=1))


# ---------------------------------------------------------------------------- errors


def test_bad_arguments(seed):
    model = _init(cnn2d(), seed)
    x = _data((2, 10, 10), 3, seed + 1)
    for cls in (GuidedBackprop, Deconvolution):
        with pytest.raises(TypeError, match="inputs is a list"):
            cls(model).attribute([x], target=0)
        with pytest.raises(TypeError, match="floating-point"):
            cls(model).attribute(torch.ones(3, 2, 10, 10, dtype=torch.long), target=0)
        with pytest.raises(ValueError, match="target is None"):
            cls(model).attribute(x)
        with pytest.raises(ValueError, match="out of range"):
            cls(model).attribute(x, target=9)
        with pytest.raises(TypeError, match="forward_func must be"):
            cls(3)
    with pytest.raises(TypeError, match="layer must be a torch.nn.Module"):
        GuidedGradCam(model, "conv")
    with pytest.raises(TypeError, match="device_ids"):
        GuidedGradCam(model, model[2], device_ids="cuda:0")
    with pytest.raises(ValueError, match="interpolate_mode must be one of.*got 'cubic'"):
        GuidedGradCam(model, model[2]).attribute(x, target=0, interpolate_mode="cubic")
    with pytest.raises(TypeError, match="attribute_to_layer_input must be True or False"):
        GuidedGradCam(model, model[2]).attribute(x, target=0, attribute_to_layer_input="yes")
    with pytest.raises(ValueError, match="layer ran 0 times"):
        GuidedGradCam(model, nn.Conv2d(2, 2, 1)).attribute(x, target=0)
    _no_residue(model)


def test_model_unchanged_after_an_error_in_the_forward(seed):
    model = _init(cnn2d(), seed)

    class Failing(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, t):
            h = self.inner[1](self.inner[0](t))
            raise RuntimeError(f"broken after a relu, at shape {tuple(h.shape)}")

    x = _data((2, 10, 10), 2, seed + 1)
    failing = Failing()
    for explainer in (GuidedBackprop(failing), GuidedGradCam(failing, model[0])):
        with pytest.raises(ValueError, match="broken after a relu"):
            explainer.attribute(x, target=0)
        _no_residue(failing)
    assert not model.training
    ref = captum_attr.GuidedBackprop(model).attribute(x, target=0)
    _close(GuidedBackprop(model).attribute(x, target=0), ref)

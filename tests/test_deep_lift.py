"""DeepLift and DeepLiftShap: completeness on a zoo of float64 models, captum's numbers where
captum's rules are right, and the errors."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from xai_fast import DeepLift, DeepLiftShap

captum_attr = pytest.importorskip("captum.attr")
# captum warns that it sets hooks and requires_grad
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:captum")

TOL = 1e-5

# ---------------------------------------------------------------------------- models


def _init(model: nn.Module, seed: int) -> nn.Module:
    """float64, eval mode, weights from a generator of its own (no global random state)."""
    g = torch.Generator().manual_seed(seed)
    model = model.double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.7)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model


def mlp(act: type, d=6, k=3) -> nn.Module:
    return nn.Sequential(nn.Linear(d, 10), act(), nn.Linear(10, 8), act(), nn.Linear(8, k))


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(6, 10), nn.Linear(10, 8), nn.Linear(8, 3)

    def forward(self, x):
        return self.l3(F.silu(self.l2(F.relu(self.l1(x)))))


class Reused(nn.Module):
    """One ReLU module applied twice."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(6, 10), nn.Linear(10, 10), nn.Linear(10, 3)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.l3(self.act(self.l2(self.act(self.l1(x)))))


class Residual(nn.Module):
    """Two residual blocks with batch norm (eval mode), GELU and an in-place add."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(6, 10)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(10, 10), nn.BatchNorm1d(10), nn.GELU()) for _ in range(2)
        )
        self.out = nn.Linear(10, 3)

    def forward(self, x):
        h = F.relu(self.inp(x))
        for block in self.blocks:
            r = block(h)
            r += h
            h = r
        return self.out(h)


class CNN(nn.Module):
    """ReLU CNN without max pooling (captum's rules are right here)."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 5, 3, stride=2)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()
        self.fc = nn.Linear(5 * 2 * 2, 4)

    def forward(self, x):
        x = self.relu2(self.c2(self.relu1(self.c1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 2).flatten(1))


class MaxPoolCNN(nn.Module):
    """Max pooling with overlapping windows, functional and as a module."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 5, 3)
        self.pool = nn.MaxPool2d(3, stride=2)
        self.fc = nn.Linear(5 * 2 * 2, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.c1(x)))
        x = F.max_pool2d(torch.relu(self.c2(x)), 2)  # 15 -> 13 -> 6 -> 4 -> 2
        return self.fc(x.flatten(1))


class Attention(nn.Module):
    """Layer norm, softmax attention (products of two input-dependent tensors) and a gate."""

    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.out = nn.Linear(4, 3)

    def forward(self, x):  # x (N, 5, 4)
        h = self.norm(x)
        w = torch.softmax(self.q(h) @ self.k(h).transpose(1, 2) / 2.0, dim=-1)
        h = h + w @ self.v(h)
        h = h * torch.sigmoid(h)
        return F.log_softmax(self.out(h.mean(1)), dim=1)


ZOO = {
    "mlp_relu": (lambda: mlp(nn.ReLU), (6,)),
    "cnn_relu": (CNN, (3, 8, 8)),
    "functional_relu_silu": (Functional, (6,)),
    "gelu": (lambda: mlp(nn.GELU), (6,)),
    "selu": (lambda: mlp(nn.SELU), (6,)),
    "softplus": (lambda: mlp(nn.Softplus), (6,)),
    "tanh": (lambda: mlp(nn.Tanh), (6,)),
    "sigmoid": (lambda: mlp(nn.Sigmoid), (6,)),
    "elu": (lambda: mlp(nn.ELU), (6,)),
    "leaky_relu": (lambda: mlp(nn.LeakyReLU), (6,)),
    "reused_module": (Reused, (6,)),
    "residual_batchnorm": (Residual, (6,)),
    "maxpool_cnn": (MaxPoolCNN, (3, 15, 15)),
    "attention_softmax_layernorm": (Attention, (5, 4)),
}


def _data(shape, n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, *shape), generator=g, dtype=torch.float64)


def _relative_miss(total, diff):
    return float(((total - diff).abs() / diff.abs()).max().detach())


# ---------------------------------------------------------------------------- completeness


@pytest.mark.parametrize("name", list(ZOO))
def test_deeplift_completeness(name):
    make, shape = ZOO[name]
    model = _init(make(), seed=1)
    x, b = _data(shape, 6, 2), _data(shape, 6, 3)
    attrs, delta = DeepLift(model).attribute(x, b, target=1, return_convergence_delta=True)
    diff = (model(x)[:, 1] - model(b)[:, 1]).detach()
    assert _relative_miss(attrs.reshape(6, -1).sum(1), diff) < TOL
    assert float((delta.abs() / diff.abs()).max()) < TOL


@pytest.mark.parametrize("name", list(ZOO))
def test_deepliftshap_completeness(name):
    make, shape = ZOO[name]
    model = _init(make(), seed=4)
    x, bg = _data(shape, 3, 5), _data(shape, 7, 6)
    attrs, delta = DeepLiftShap(model).attribute(x, bg, target=2, return_convergence_delta=True)
    diff = (model(x)[:, 2] - model(bg)[:, 2].mean()).detach()
    assert _relative_miss(attrs.reshape(3, -1).sum(1), diff) < TOL
    assert delta.shape == (3 * 7,)
    pairs = (model(x)[:, 2].repeat_interleave(7) - model(bg)[:, 2].repeat(3)).detach()
    assert float((delta.abs() / pairs.abs()).max()) < TOL


def test_captum_misses_completeness_where_ours_holds():
    """The models the rules-on-modules approach gets wrong: functional SiLU, GELU, reuse."""
    for name in ("functional_relu_silu", "gelu", "residual_batchnorm", "maxpool_cnn"):
        make, shape = ZOO[name]
        model = _init(make(), seed=1)
        x, b = _data(shape, 6, 2), _data(shape, 6, 3)
        diff = (model(x)[:, 1] - model(b)[:, 1]).detach()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = captum_attr.DeepLift(model).attribute(x, b, target=1)
        ours = DeepLift(model).attribute(x, b, target=1)
        assert _relative_miss(ref.reshape(6, -1).sum(1), diff) > 1e-3, name
        assert _relative_miss(ours.reshape(6, -1).sum(1), diff) < TOL, name


# ---------------------------------------------------------------------------- captum's numbers


class TwoInputs(nn.Module):
    """Two input tensors and an extra per-example argument."""

    def __init__(self, act: type = nn.ReLU):
        super().__init__()
        self.a, self.b = nn.Linear(3, 6), nn.Linear(8, 6)
        self.act1, self.act2 = act(), act()
        self.out = nn.Linear(6, 4)

    def forward(self, u, v, scale):
        h = self.act1(self.a(u)) + self.act2(self.b(v.flatten(1)))
        return self.out(h) * scale[:, None]


def _close(ours, ref):
    ours = ours if isinstance(ours, tuple) else (ours,)
    ref = ref if isinstance(ref, tuple) else (ref,)
    assert len(ours) == len(ref)
    for a, r in zip(ours, ref, strict=True):
        assert a.shape == r.shape
        torch.testing.assert_close(
            a, r.detach(), rtol=TOL, atol=TOL * float(r.abs().max().detach())
        )


@pytest.mark.parametrize("name", ["mlp_relu", "cnn_relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("multiply", [True, False])
def test_deeplift_equals_captum(name, multiply):
    make, shape = ZOO[name]
    model = _init(make(), seed=7)
    x, b = _data(shape, 5, 8), _data(shape, 1, 9)
    target = [0, 1, 2, 0, 1]
    ours, delta = DeepLift(model, multiply).attribute(
        x, b, target=target, return_convergence_delta=True
    )
    ref, ref_delta = captum_attr.DeepLift(model, multiply).attribute(
        x, b, target=target, return_convergence_delta=True
    )
    _close(ours, ref)
    if multiply:  # both near zero: compare on the attributions' scale
        assert float((delta - ref_delta).abs().max().detach()) < TOL * float(
            ref.abs().max().detach()
        )


@pytest.mark.parametrize("name", ["mlp_relu", "cnn_relu", "tanh"])
@pytest.mark.parametrize("multiply", [True, False])
def test_deepliftshap_equals_captum(name, multiply):
    make, shape = ZOO[name]
    model = _init(make(), seed=10)
    x, bg = _data(shape, 4, 11), _data(shape, 6, 12)
    ours, delta = DeepLiftShap(model, multiply).attribute(
        x, bg, target=2, return_convergence_delta=True
    )
    ref, ref_delta = captum_attr.DeepLiftShap(model, multiply).attribute(
        x, bg, target=2, return_convergence_delta=True
    )
    _close(ours, ref)
    assert delta.shape == ref_delta.shape == (4 * 6,)
    assert float((delta - ref_delta).abs().max().detach()) < TOL * float(ref.abs().max().detach())


@pytest.mark.parametrize("act", [nn.ReLU, nn.Tanh])
def test_tuple_inputs_and_additional_args_equal_captum(act):
    model = _init(TwoInputs(act), seed=13)
    u, v = _data((3,), 4, 14), _data((2, 4), 4, 15)
    scale = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    base = (_data((3,), 1, 16), 0.3)
    kw = dict(target=torch.tensor([0, 3, 1, 2]), additional_forward_args=(scale,))
    ours = DeepLift(model).attribute((u, v), base, **kw)
    ref = captum_attr.DeepLift(model).attribute((u, v), base, **kw)
    assert isinstance(ours, tuple)
    _close(ours, ref)
    bg = (_data((3,), 5, 17), _data((2, 4), 5, 18))
    ours = DeepLiftShap(model).attribute((u, v), bg, **kw)
    ref = captum_attr.DeepLiftShap(model).attribute((u, v), bg, **kw)
    _close(ours, ref)
    # a callable distribution, and pairs chunked: the same numbers
    ours_fn = DeepLiftShap(model).attribute((u, v), lambda: bg, internal_batch_size=3, **kw)
    _close(ours_fn, ref)


def test_custom_attribution_func_equals_captum():
    model = _init(mlp(nn.ReLU), seed=19)
    x, bg = _data((6,), 3, 20), _data((6,), 4, 21)

    def func(m, inputs, baselines):
        return tuple(mi * (xi - bi) ** 2 for mi, xi, bi in zip(m, inputs, baselines, strict=True))

    _close(
        DeepLift(model).attribute(x, bg[:1], target=0, custom_attribution_func=func),
        captum_attr.DeepLift(model).attribute(x, bg[:1], target=0, custom_attribution_func=func),
    )
    _close(
        DeepLiftShap(model).attribute(x, bg, target=0, custom_attribution_func=func),
        captum_attr.DeepLiftShap(model).attribute(x, bg, target=0, custom_attribution_func=func),
    )


def test_convergence_delta_and_queries():
    model = _init(Residual(), seed=22)
    x, b = _data((6,), 4, 23), _data((6,), 4, 24)
    dl = DeepLift(model)
    assert dl.has_convergence_delta() and dl.multiplies_by_inputs
    assert not DeepLift(model, multiply_by_inputs=False).multiplies_by_inputs
    attrs, delta = dl.attribute(x, b, target=0, return_convergence_delta=True)
    assert torch.equal(delta, dl.compute_convergence_delta(attrs, b, x, target=0))
    # a wrong attribution is seen by the delta
    wrong = dl.compute_convergence_delta(attrs * 1.01, b, x, target=0)
    assert float(wrong.abs().min()) > 1e-4
    with torch.no_grad():  # works inside the caller's no_grad
        again = dl.attribute(x, b, target=0)
    assert torch.equal(again, attrs)


def test_shared_baseline_and_a_model_that_views_its_input():
    lin = _init(nn.Linear(12, 2), 42)

    def forward(x):  # x (N, 3, 4)
        return lin(torch.tanh(x.view(x.shape[0], -1)))

    x = _data((3, 4), 5, 43)
    for base in (0.5, _data((3, 4), 1, 44), _data((3, 4), 1, 44)[0]):
        attrs = DeepLift(forward).attribute(x, base, target=0)
        b = torch.as_tensor(base, dtype=torch.float64).expand_as(x)
        with torch.no_grad():
            diff = forward(x)[:, 0] - forward(b.contiguous())[:, 0]
        assert _relative_miss(attrs.reshape(5, -1).sum(1), diff) < TOL


def test_inplace_relu_and_callable_forward():
    lin1, lin2 = _init(nn.Linear(6, 8), 25), _init(nn.Linear(8, 2), 26)

    def forward(x):
        return lin2(F.relu(lin1(x), inplace=True))

    x, b = _data((6,), 5, 27), _data((6,), 5, 28)
    attrs = DeepLift(forward).attribute(x, b, target=1)
    diff = forward(x)[:, 1] - forward(b)[:, 1]
    assert _relative_miss(attrs.sum(1), diff) < TOL


# ---------------------------------------------------------------------------- errors


def test_unsupported_operation_is_named():
    lin = _init(nn.Linear(6, 3), 29)
    x = _data((6,), 2, 30)
    with pytest.raises(NotImplementedError, match="`gt`"):
        DeepLift(lambda t: lin(torch.where(t > 0, t, 0.0))).attribute(x, target=0)
    with pytest.raises(NotImplementedError, match="`cummax`"):
        DeepLift(lambda t: lin(torch.cummax(t, 1).values)).attribute(x, target=0)
    with pytest.raises(NotImplementedError, match="`detach`"):
        DeepLift(lambda t: lin(t.detach() * 2)).attribute(x, target=0)
    with pytest.raises(NotImplementedError, match="`to`.*not floating point"):
        DeepLift(lambda t: lin(t.to(torch.long).double())).attribute(x, target=0)
    with pytest.raises(NotImplementedError, match="more than four"):
        DeepLift(lambda t: lin(torch.einsum("ni,ni,ni,ni,ni->ni", t, t, t, t, t))).attribute(
            x, target=0
        )
    with pytest.raises(NotImplementedError, match="rounding_mode"):
        DeepLift(lambda t: lin(torch.div(t, 2, rounding_mode="floor"))).attribute(x, target=0)
    with pytest.raises(NotImplementedError, match="`div`"):
        DeepLift(lambda t: lin(t / (t.abs() + 1))).attribute(x, target=0)


def test_training_mode_batch_norm_and_control_flow_are_refused():
    model = _init(Residual(), seed=31).train()
    x = _data((6,), 4, 32)
    with pytest.raises(ValueError, match="model.eval"):
        DeepLift(model).attribute(x, target=0)
    lin = _init(nn.Linear(6, 3), 33)

    def branchy(t):
        h = lin(t)
        return torch.relu(h) if float(t.sum()) > 0 else torch.tanh(torch.relu(h))

    with pytest.raises((ValueError, NotImplementedError)):
        DeepLift(branchy).attribute(x.abs(), -x.abs(), target=0)


def test_bad_arguments():
    model = _init(mlp(nn.ReLU), seed=34)
    x = _data((6,), 3, 35)
    with pytest.raises(ValueError, match="baselines"):
        DeepLift(model).attribute(x, torch.zeros(3, 5, dtype=torch.float64), target=0)
    with pytest.raises(ValueError, match="background"):
        DeepLiftShap(model).attribute(x, torch.zeros(4, 5, dtype=torch.float64), target=0)
    with pytest.raises(TypeError, match="needs baselines"):
        DeepLiftShap(model).attribute(x, None, target=0)
    with pytest.raises(ValueError, match="eps"):
        DeepLift(model, eps=-1.0)
    with pytest.raises(TypeError, match="custom_attribution_func"):
        DeepLift(model).attribute(x, target=0, custom_attribution_func=3)
    with pytest.raises(ValueError, match="one tensor per input"):
        DeepLift(model).attribute(x, target=0, custom_attribution_func=lambda m: m[0][:1])
    with pytest.raises(ValueError, match="target"):
        DeepLift(model).attribute(x)
    with pytest.raises(TypeError, match="floating"):
        DeepLift(model).attribute(torch.ones(3, 6, dtype=torch.long), target=0)
    with pytest.raises(TypeError, match="number or a tensor") as err:  # captum: an assert
        DeepLiftShap(model).attribute(x, [[0.0] * 6, [1.0] * 6], target=0)
    assert isinstance(err.value, AssertionError)
    for scalar in (0.0, lambda: 0.5, (0.0,)):  # a constant is no distribution (captum: assert)
        with pytest.raises(ValueError, match="use DeepLift") as err:
            DeepLiftShap(model).attribute(x, scalar, target=0)
        assert isinstance(err.value, AssertionError)


ELEMENTWISE = {
    "hardswish": nn.Hardswish(),
    "logsigmoid": nn.LogSigmoid(),
    "mish": nn.Mish(),
    "softsign": nn.Softsign(),
    "celu": nn.CELU(),
    "relu6": nn.ReLU6(),
    "hardtanh": nn.Hardtanh(),
    "threshold": nn.Threshold(0.1, 2.0),
    "silu_inplace": nn.SiLU(inplace=True),
    "leaky_relu_inplace": nn.LeakyReLU(0.1, inplace=True),
    "gelu_tanh": nn.GELU("tanh"),
    "method_relu_": lambda h: h.relu_(),
    "square": lambda h: h**2,
    "reciprocal": lambda h: 1.0 / (h.abs() + 1),
    "clamp": lambda h: h.clamp(-0.5, 0.5),
    "exp": torch.exp,
    "cube_by_products": lambda h: h * h * h,
    "four_factor_einsum": lambda h: torch.einsum("ni,ni,ni,ni->ni", h, h, torch.tanh(h), h),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_forms_completeness(name):
    op = ELEMENTWISE[name]
    lin1, lin2 = _init(nn.Linear(5, 7), 36), _init(nn.Linear(7, 2), 37)

    def forward(t):
        return lin2(op(lin1(t)))

    x, b = _data((5,), 6, 38), _data((5,), 6, 39)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no completeness warning either
        attrs = DeepLift(forward).attribute(x, b, target=1)
    with torch.no_grad():
        diff = forward(x)[:, 1] - forward(b)[:, 1]
    assert _relative_miss(attrs.sum(1), diff) < TOL


def test_random_activation_in_training_mode_is_refused():
    model = _init(mlp(nn.RReLU), seed=40).train()
    with pytest.raises(ValueError, match="random"):
        DeepLift(model).attribute(_data((6,), 2, 41), target=0)


class Counting(nn.Module):
    """Counts the rows of every call; extra arguments are ignored."""

    def __init__(self, model):
        super().__init__()
        self.model, self.rows = model, 0

    def forward(self, x, *args):
        self.rows += x.shape[0]
        return self.model(x)


class SeqFirst(nn.Module):
    """Batch on axis 1 inside the model: the baseline pass cannot be shared across pairs."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x):  # x (N, 5, 4)
        h = torch.tanh(x.transpose(0, 1))  # (5, N, 4)
        return self.lin(F.relu(h).mean(0))


def test_baseline_pass_runs_once_on_the_distinct_baselines():
    model = Counting(_init(MaxPoolCNN(), seed=45))
    x, bg = _data((3, 15, 15), 4, 46), _data((3, 15, 15), 6, 47)
    shared = DeepLiftShap(model).attribute(x, bg, target=1)
    assert model.rows == 6 + 4 * 6  # the background once, then every pair
    model.rows = 0
    ones = torch.ones(4, dtype=torch.float64)  # a per-example argument: one baseline per pair
    paired = DeepLiftShap(model).attribute(x, bg, target=1, additional_forward_args=(ones,))
    assert model.rows == 2 * 4 * 6
    torch.testing.assert_close(shared, paired, rtol=1e-12, atol=1e-14)
    model.rows = 0
    one = DeepLift(model).attribute(x, bg[:1], target=1)
    assert model.rows == 1 + 4
    model.rows = 0  # the same baseline for every example, as N equal rows: one row too
    same = DeepLift(model).attribute(x, bg[:1].expand_as(x).clone(), target=1)
    assert model.rows == 1 + 4
    torch.testing.assert_close(same, one, rtol=1e-12, atol=1e-14)
    model.rows = 0
    unequal = bg[:1].expand_as(x).clone()
    unequal[2, 0, 0, 0] += 1.0  # one example's baseline differs: a pass on every pair
    DeepLift(model).attribute(x, unequal, target=1)
    assert model.rows == 2 * 4


def test_batch_off_axis_zero_falls_back_to_paired_baselines():
    model = _init(SeqFirst(), seed=48)
    x, bg = _data((5, 4), 4, 49), _data((5, 4), 3, 50)
    attrs = DeepLiftShap(model).attribute(x, bg, target=0)
    with torch.no_grad():
        diff = model(x)[:, 0] - model(bg)[:, 0].mean()
    assert _relative_miss(attrs.reshape(4, -1).sum(1), diff) < TOL


POOLS = {
    "max_pool2d_padding": (lambda h: F.max_pool2d(h, 3, stride=2, padding=1), (4, 9, 9)),
    "max_pool2d_ceil_dilation": (
        lambda h: F.max_pool2d(h, 2, stride=2, dilation=2, ceil_mode=True),
        (4, 9, 9),
    ),
    "max_pool2d_indices": (lambda h: nn.MaxPool2d(2, return_indices=True)(h)[0], (4, 8, 8)),
    "max_pool1d": (lambda h: nn.MaxPool1d(3, stride=1)(h), (4, 9)),
    "max_pool3d": (lambda h: F.max_pool3d(h, 2), (4, 4, 4, 4)),
    "adaptive_max_pool2d": (lambda h: nn.AdaptiveMaxPool2d(3)(h), (4, 8, 8)),
}


@pytest.mark.parametrize("name", list(POOLS))
def test_max_pooling_forms_completeness(name):
    pool, shape = POOLS[name]
    width = pool(torch.zeros((1, *shape), dtype=torch.float64)).flatten(1).shape[1]
    head = _init(nn.Linear(width, 2), 51)

    def forward(t):
        return head(pool(torch.relu(t)).flatten(1))

    x, b = _data(shape, 4, 52), _data(shape, 4, 53)
    attrs, delta = DeepLift(forward).attribute(x, b, target=0, return_convergence_delta=True)
    with torch.no_grad():
        diff = forward(x)[:, 0] - forward(b)[:, 0]
    assert _relative_miss(attrs.reshape(4, -1).sum(1), diff) < TOL
    shap = DeepLiftShap(forward).attribute(x, b[:3], target=0)
    with torch.no_grad():
        diff = forward(x)[:, 0] - forward(b[:3])[:, 0].mean()
    assert _relative_miss(shap.reshape(4, -1).sum(1), diff) < TOL

"""LRP: captum's numbers with every rule, closed forms (input x gradient, conservation), the
errors, and a model left exactly as it was."""

import copy
import warnings

import pytest
import torch
from torch import nn

from xai_fast import LRP
from xai_fast.explainers.propagation import lrp_rules as ours

captum_attr = pytest.importorskip("captum.attr")
captum_rules = pytest.importorskip("captum.attr._utils.lrp_rules")
# captum warns that it sets requires_grad on the inputs it is given
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:captum")

TOL = 1e-5

# ---------------------------------------------------------------------------- models


def _init(model: nn.Module, rng) -> nn.Module:
    """float64, eval mode, weights and batch-norm statistics drawn from ``rng``."""
    model = model.double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.as_tensor(rng.normal(size=p.shape) * 0.6))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.as_tensor(rng.normal(size=m.running_mean.shape)))
                m.running_var.copy_(torch.as_tensor(rng.uniform(0.5, 1.5, m.running_var.shape)))
    return model


def _x(rng, *shape):
    return torch.as_tensor(rng.normal(size=shape))


class MLP(nn.Module):
    def __init__(self, bias=True):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(6, 9, bias), nn.Linear(9, 7, bias), nn.Linear(7, 4)
        self.r1, self.t2, self.drop = nn.ReLU(), nn.Tanh(), nn.Dropout(0.3)

    def forward(self, x):
        return self.l3(self.drop(self.t2(self.l2(self.r1(self.l1(x))))))


class CNN(nn.Module):
    """conv, batch norm, relu (one in place), max and average pooling, a linear head."""

    def __init__(self):
        super().__init__()
        self.c1, self.bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
        self.r1, self.pool1 = nn.ReLU(inplace=True), nn.MaxPool2d(2)
        self.c2, self.r2, self.pool2 = nn.Conv2d(4, 5, 3), nn.ReLU(), nn.AvgPool2d(2)
        self.fc = nn.Linear(5 * 2 * 2, 3)

    def forward(self, x):  # (N, 3, 14, 14) -> 12 -> 6 -> 4 -> 2
        x = self.pool1(self.r1(self.bn(self.c1(x))))
        x = self.pool2(self.r2(self.c2(x)))
        return self.fc(x.view(x.shape[0], -1))


class Add(nn.Module):
    def forward(self, a, b):
        return a + b


class TwoInputs(nn.Module):
    """Two input tensors through two branches joined by an addition layer, and an extra
    per-example argument."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.add = nn.Linear(4, 6), nn.Linear(3, 6), Add()
        self.relu, self.out = nn.ReLU(), nn.Linear(6, 3)

    def forward(self, u, v, scale):
        return self.out(self.relu(self.add(self.a(u), self.b(v) * scale)))


# rules by layer: a rule class name and its arguments, built for captum and for us
MLP_RULES = {
    "epsilon": {"l1": ("EpsilonRule", 1e-3), "l2": ("EpsilonRule", 0.5)},
    "gamma": {"l1": ("GammaRule", 0.7), "l3": ("GammaRule",)},
    "alpha1_beta0": {"l1": ("Alpha1_Beta0_Rule",), "l2": ("Alpha1_Beta0_Rule", True)},
    "gamma_no_bias": {"l2": ("GammaRule", 0.25, True), "l3": ("EpsilonRule", 0.1)},
}
CNN_RULES = {
    "defaults": {},
    "epsilon": {"bn": ("EpsilonRule", 0.01), "c2": ("EpsilonRule", 0.3)},
    "gamma": {"c1": ("GammaRule", 0.5), "bn": ("GammaRule",), "fc": ("GammaRule", 0.1, True)},
    "alpha1_beta0": {
        "c1": ("Alpha1_Beta0_Rule",),
        "bn": ("EpsilonRule",),
        "c2": ("Alpha1_Beta0_Rule", True),
    },
    "identity": {"bn": ("IdentityRule",), "pool2": ("EpsilonRule", 1e-6)},
}


def _pair(model, rules):
    """A copy for captum and one for us, each with its own rule objects set."""
    mine, theirs = copy.deepcopy(model), copy.deepcopy(model)
    for layer, (name, *args) in rules.items():
        getattr(mine, layer).rule = getattr(ours, name)(*args)
        getattr(theirs, layer).rule = getattr(captum_rules, name)(*args)
    return mine, theirs


def _captum(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return captum_attr.LRP(model).attribute(*args, **kwargs)


def _close(a, b, tol=TOL):
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    assert len(a) == len(b)
    for u, v in zip(a, b, strict=True):
        assert u.shape == v.shape
        scale = max(1.0, float(v.abs().max()))
        assert float((u - v).abs().max()) <= tol * scale


# ---------------------------------------------------------------------------- captum's numbers


@pytest.mark.parametrize("rules", list(MLP_RULES))
@pytest.mark.parametrize("target", [0, [3, 1, 2, 0, 1, 3, 2]])
def test_mlp_equals_captum(rng, rules, target):
    model = _init(MLP(), rng)
    mine, theirs = _pair(model, MLP_RULES[rules])
    x = _x(rng, 7, 6)
    ref, ref_delta = _captum(theirs, x, target=target, return_convergence_delta=True)
    got, delta = LRP(mine).attribute(x, target=target, return_convergence_delta=True)
    _close(got, ref.detach())
    _close(delta, ref_delta.detach())


@pytest.mark.parametrize("rules", list(CNN_RULES))
def test_cnn_equals_captum(rng, rules):
    model = _init(CNN(), rng)
    mine, theirs = _pair(model, CNN_RULES[rules])
    x = _x(rng, 5, 3, 14, 14)
    target = torch.as_tensor(rng.integers(0, 3, 5))
    ref = _captum(theirs, x, target=target)
    _close(LRP(mine).attribute(x, target=target), ref.detach())


@pytest.mark.parametrize("target", [2, (1,), [0, 2, 1, 1, 0, 2]])
def test_tuple_inputs_and_extra_args_equal_captum(rng, target):
    model = _init(TwoInputs(), rng)
    mine, theirs = _pair(model, {"add": ("EpsilonRule",), "a": ("GammaRule", 0.4)})
    u, v, scale = _x(rng, 6, 4), _x(rng, 6, 3), torch.as_tensor(rng.uniform(0.5, 2, (6, 1)))
    kw = dict(target=target, additional_forward_args=(scale,), return_convergence_delta=True)
    ref, ref_delta = _captum(theirs, (u, v), **kw)
    got, delta = LRP(mine).attribute((u, v), **kw)
    assert isinstance(got, tuple) and len(got) == 2
    _close(got, tuple(r.detach() for r in ref))
    _close(delta, ref_delta.detach())


def test_reused_activation_module_equals_captum(rng):
    class Reused(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.l2, self.act = nn.Linear(5, 6), nn.Linear(6, 3), nn.ReLU()

        def forward(self, x):
            return self.act(self.l2(self.act(self.l1(x))))

    model = _init(Reused(), rng)
    x = _x(rng, 4, 5)
    _close(LRP(model).attribute(x, target=1), _captum(copy.deepcopy(model), x, target=1).detach())


def test_identity_after_an_activation_passes_the_relevance(rng):
    """IdentityRule on a layer fed by a ReLU: the layer's output relevance reaches the ReLU's
    input unchanged (captum hands the ReLU the layer's gradient there instead)."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.relu, self.bn = nn.Linear(4, 5), nn.ReLU(), nn.BatchNorm1d(5)
            self.l2 = nn.Linear(5, 2, bias=False)

        def forward(self, x):
            return self.l2(self.bn(self.relu(self.l1(x))))

    model = _init(Net(), rng)
    model.bn.rule = ours.IdentityRule()
    x = _x(rng, 6, 4)
    got = LRP(model).attribute(x, target=0)
    # by hand: epsilon rule at l2 on h = bn(relu(l1 x)), identity through bn and relu,
    # epsilon rule at l1
    with torch.no_grad():
        z1 = model.l1(x)
        h = model.bn(torch.relu(z1))
        z2 = model.l2(h)[:, :1]
        eps = 1e-9
        r_h = h * model.l2.weight[:1] * (z2 / (z2 + eps * torch.where(z2 >= 0, 1.0, -1.0)))
        s = r_h / (z1 + eps * torch.where(z1 >= 0, 1.0, -1.0))
        want = x * (s @ model.l1.weight)
    _close(got, want)


def test_rules_on_other_weighted_layers_equal_captum(rng):
    """Layers evaluated through torch.func with the rule's weights (a transposed convolution,
    a Linear subclass)."""

    class MyLinear(nn.Linear):
        pass

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.up, self.relu, self.fc = nn.ConvTranspose2d(2, 3, 3), nn.ReLU(), MyLinear(108, 4)

        def forward(self, x):
            return self.fc(self.relu(self.up(x)).flatten(1))

    model = _init(Net(), rng)
    mine, theirs = _pair(model, {"up": ("GammaRule", 0.5, True), "fc": ("Alpha1_Beta0_Rule",)})
    snap = _snapshot(mine)
    x = _x(rng, 3, 2, 4, 4)
    _close(LRP(mine).attribute(x, target=2), _captum(theirs, x, target=2).detach())
    _assert_unchanged(mine, snap)


# ---------------------------------------------------------------------------- closed forms


def test_linear_model_with_zero_biases_gives_input_times_gradient(rng):
    model = _init(nn.Sequential(nn.Linear(6, 8, bias=False), nn.Linear(8, 3, bias=False)), rng)
    for layer in model:
        layer.rule = ours.EpsilonRule(epsilon=1e-300)
    x = _x(rng, 9, 6)
    got = LRP(model).attribute(x, target=2)
    grad = (model[1].weight[2] @ model[0].weight).detach()  # the constant gradient
    _close(got, x * grad, tol=1e-10)


def test_epsilon_rule_without_biases_conserves_the_output(rng):
    model = _init(MLP(bias=False), rng)
    with torch.no_grad():
        model.l3.bias.zero_()
    for name in ("l1", "l2", "l3"):
        getattr(model, name).rule = ours.EpsilonRule(epsilon=1e-12)
    x = _x(rng, 8, 6)
    lrp = LRP(model)
    attrs, delta = lrp.attribute(x, target=1, return_convergence_delta=True)
    out = model(x)[:, 1].detach()
    assert float((attrs.sum(1) - out).abs().max()) <= 1e-9 * float(out.abs().max())
    assert float(delta.abs().max()) <= 1e-9 * float(out.abs().max())
    _close(lrp.compute_convergence_delta(attrs, out), delta, tol=1e-12)
    _close(lrp.compute_convergence_delta((attrs[:, :2], attrs[:, 2:]), out[:, None]), delta)


def test_float32_and_the_callers_no_grad(rng):
    model = _init(MLP(), rng).float()
    x = _x(rng, 5, 6).float()
    with torch.no_grad():
        got = LRP(model).attribute(x, target=0)
    ref = LRP(model.double()).attribute(x.double(), target=0)
    assert got.dtype == torch.float32
    _close(got.double(), ref, tol=1e-4)
    assert all(p.grad is None for p in model.parameters())


def test_flags_and_verbose(rng, capsys):
    model = _init(MLP(), rng)
    model.l1.rule = ours.GammaRule(0.5)
    lrp = LRP(model)
    assert lrp.multiplies_by_inputs and lrp.has_convergence_delta()
    lrp.attribute(_x(rng, 2, 6), target=0, verbose=True)
    printed = capsys.readouterr().out
    assert "GammaRule(gamma=0.5" in printed and "l1" in printed and "l3" in printed


# ---------------------------------------------------------------------------- the model is kept


def _snapshot(model):
    return (
        {k: v.clone() for k, v in model.state_dict().items()},
        {n: (type(getattr(m, "rule", None)), sorted(vars(m))) for n, m in model.named_modules()},
    )


def _assert_unchanged(model, snap):
    state, attrs = snap
    now = model.state_dict()
    assert now.keys() == state.keys()
    assert all(torch.equal(now[k], state[k]) for k in state)
    assert {
        n: (type(getattr(m, "rule", None)), sorted(vars(m))) for n, m in model.named_modules()
    } == attrs
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
        assert not m._backward_hooks and not m._backward_pre_hooks
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("rules", ["gamma", "alpha1_beta0", "identity"])
def test_model_unchanged_after_the_call(rng, rules):
    model = _init(CNN(), rng)
    mine, _ = _pair(model, CNN_RULES[rules])
    snap = _snapshot(mine)
    LRP(mine).attribute(_x(rng, 3, 3, 14, 14), target=[0, 1, 2], return_convergence_delta=True)
    _assert_unchanged(mine, snap)
    assert isinstance(mine.c1.rule if rules != "identity" else mine.bn.rule, ours.PropagationRule)


def test_model_unchanged_after_an_error_mid_forward(rng):
    model = _init(CNN(), rng)
    model.c1.rule = ours.GammaRule()
    model.pool1.rule = ours.IdentityRule()  # pooling changes the shape: raises mid-forward
    snap = _snapshot(model)
    with pytest.raises(ValueError, match=r"IdentityRule .* `pool1` \(MaxPool2d\)"):
        LRP(model).attribute(_x(rng, 2, 3, 14, 14), target=0)
    _assert_unchanged(model, snap)

    class Fails(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = nn.Linear(6, 3)

        def forward(self, x):
            return self.l1(x)[:, :, None] @ x  # the model's own error after the layer

    broken = _init(Fails(), rng)
    snap = _snapshot(broken)
    with pytest.raises(ValueError, match="forward_func raised"):
        LRP(broken).attribute(_x(rng, 2, 6), target=0)
    _assert_unchanged(broken, snap)


# ---------------------------------------------------------------------------- errors


def test_a_layer_without_rule_is_named(rng):
    model = _init(MLP(), rng)
    model.add_module("gate", nn.Sigmoid())  # present but unused: still refused, as captum
    with pytest.raises(TypeError, match=r"no default rule for layer `gate` \(Sigmoid\)"):
        LRP(model).attribute(_x(rng, 2, 6), target=0)
    model.gate.rule = ours.IdentityRule()
    LRP(model).attribute(_x(rng, 2, 6), target=0)


@pytest.mark.parametrize("rules", list(MLP_RULES), ids=list(MLP_RULES))
def test_captums_own_rule_objects_are_read_as_ours(rng, rules):
    """``module.rule = captum's EpsilonRule(...)`` with only the LRP import swapped."""
    mine, theirs = _pair(_init(MLP(), rng), MLP_RULES[rules])
    x = _x(rng, 3, 6)
    ref = _captum(copy.deepcopy(theirs), x, target=1).detach()
    _close(LRP(theirs).attribute(x, target=1), ref)  # captum's rule objects on our LRP
    _close(LRP(mine).attribute(x, target=1), ref)
    assert all(  # the user's rule objects are left as they were
        type(m.rule).__module__.startswith("captum") for m in theirs.modules() if hasattr(m, "rule")
    )


def test_bad_rule_attributes(rng):
    model = _init(MLP(), rng)
    model.l2.rule = 1
    with pytest.raises(TypeError, match=r"rule of layer `l2` \(Linear\) .* got int"):
        LRP(model)
    model.l2.rule = None  # None: the default
    lrp = LRP(model)
    model.l2.rule = 1  # set after construction: checked per call
    with pytest.raises(TypeError, match="got int"):
        lrp.attribute(_x(rng, 2, 6), target=0)

    class Custom(captum_rules.PropagationRule):  # captum's API for its own weights code
        def _manipulate_weights(self, module, inputs, outputs):
            pass

    model.l2.rule = Custom()
    with pytest.raises(TypeError, match="got Custom .*PropagationRule subclass of ours"):
        lrp.attribute(_x(rng, 2, 6), target=0)
    with pytest.raises(TypeError, match="torch.nn.Module; got function"):
        LRP(lambda x: x)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ours.EpsilonRule(-1.0), "epsilon must be a float >= 0; got -1.0"),
        (lambda: ours.EpsilonRule("a"), "epsilon must be a float >= 0; got 'a'"),
        (lambda: ours.GammaRule(gamma=float("nan")), "gamma must be a float >= 0; got nan"),
        (lambda: ours.GammaRule(set_bias_to_zero=1), "set_bias_to_zero must be True or False"),
        (lambda: ours.Alpha1_Beta0_Rule("yes"), "set_bias_to_zero must be True or False"),
    ],
)
def test_bad_rule_arguments(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def test_bad_targets_inputs_and_modes(rng):
    model = _init(MLP(), rng)
    lrp, x = LRP(model), _x(rng, 3, 6)
    with pytest.raises(ValueError, match="target 4 is out of range for output axis 1 of size 4"):
        lrp.attribute(x, target=4)
    with pytest.raises(ValueError, match="target is a list of 2 but the inputs hold 3"):
        lrp.attribute(x, target=[0, 1])
    with pytest.raises(ValueError, match="outputs of shape \\(4,\\) per example and target is"):
        lrp.attribute(x)
    with pytest.raises(TypeError, match="return_convergence_delta must be True or False"):
        lrp.attribute(x, target=0, return_convergence_delta="yes")
    with pytest.raises(ValueError, match=r"one targeted output per example \(3\); got \(2,\)"):
        lrp.compute_convergence_delta(x, torch.zeros(2))
    cnn = _init(CNN(), rng).train()
    with pytest.raises(ValueError, match=r"`bn` \(BatchNorm2d\) is in training mode"):
        LRP(cnn).attribute(_x(rng, 2, 3, 14, 14), target=0)


def test_a_layer_run_twice_equals_captum_on_the_unrolled_model(rng):
    """Each run of a reused layer gets the rule with its own inputs: the same numbers as
    captum on a copy with one module per use (captum refuses the reused one)."""

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.relu, self.out = nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)

        def forward(self, x):
            return self.out(self.relu(self.lin(self.relu(self.lin(x)))))

    class Unrolled(nn.Module):
        def __init__(self, twice):
            super().__init__()
            self.lin1, self.lin2 = copy.deepcopy(twice.lin), copy.deepcopy(twice.lin)
            self.r1, self.r2, self.out = nn.ReLU(), nn.ReLU(), copy.deepcopy(twice.out)

        def forward(self, x):
            return self.out(self.r2(self.lin2(self.r1(self.lin1(x)))))

    model = _init(Twice(), rng)
    unrolled = Unrolled(model)
    model.lin.rule = ours.GammaRule(0.3)
    unrolled.lin1.rule = captum_rules.GammaRule(0.3)
    unrolled.lin2.rule = captum_rules.GammaRule(0.3)
    x = _x(rng, 5, 4)
    snap = _snapshot(model)
    got = LRP(model).attribute(x, target=[0, 1, 1, 0, 1])
    _assert_unchanged(model, snap)
    _close(got, _captum(unrolled, x, target=[0, 1, 1, 0, 1]).detach())


def test_a_model_without_submodules_is_one_layer_and_flatten_moves_values(rng):
    lin = _init(nn.Linear(5, 3), rng)
    x = _x(rng, 4, 5)
    # epsilon rule on the one layer: a * w * z / (z + eps sign(z)), z the output (the factor
    # differs from 1 by 3e-7 at |z| = 3e-3: leaving it out failed for some draws)
    z = lin(x)[:, 1:2].detach()
    want = x * lin.weight[1].detach() * z / (z + 1e-9 * torch.sign(z))
    _close(LRP(lin).attribute(x, target=1), want, tol=1e-10)
    seq = _init(nn.Sequential(nn.Flatten(), nn.Linear(6, 2), nn.Identity()), rng)
    flat = nn.Sequential(copy.deepcopy(seq[1]))
    x = _x(rng, 4, 2, 3)
    want = LRP(flat).attribute(x.flatten(1), target=0).view(4, 2, 3)
    _close(LRP(seq).attribute(x, target=0), want)

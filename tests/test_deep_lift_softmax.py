"""DeepLift and DeepLiftShap on a model whose output is a softmax: each explained probability
goes back through its own logit (shap's rule, exact for that output), and stays exact in
float32 where the logits are large; the path rule takes over where a logit does not move."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from xai_fast import DeepExplainer, DeepLift, DeepLiftShap

captum_attr = pytest.importorskip("captum.attr")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:captum")

TOL = 1e-5


def _gen(rng) -> torch.Generator:
    return torch.Generator().manual_seed(int(rng.integers(1 << 62)))


class Classifier(nn.Module):
    """ReLU MLP with its logits apart, ending in a softmax (module or functional)."""

    def __init__(self, g, d=6, k=4, functional=False, dtype=torch.float64):
        super().__init__()
        self.logits = nn.Sequential(nn.Linear(d, 9), nn.ReLU(), nn.Linear(9, k)).to(dtype)
        with torch.no_grad():
            for p in self.logits.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=dtype))
        self.softmax = None if functional else nn.Softmax(dim=1)

    def forward(self, x):
        z = self.logits(x)
        return F.softmax(z, dim=1) if self.softmax is None else self.softmax(z)


def _oracle(model, x, b, target):
    """The rule in closed form: ``(p_t(x) - p_t(b)) / (z_t(x) - z_t(b))`` times captum's
    DeepLift of the logit ``z_t`` (captum's rules are exact on a ReLU MLP)."""
    with torch.no_grad():
        ratio = (model(x) - model(b))[:, target] / (model.logits(x) - model.logits(b))[:, target]
    ref = captum_attr.DeepLift(model.logits).attribute(x, b, target=target)
    return ratio[:, None] * ref.detach()


@pytest.mark.parametrize("functional", [False, True])
def test_final_softmax_goes_through_the_explained_logit(functional, rng):
    g = _gen(rng)
    model = Classifier(g, functional=functional).eval()
    x, b = torch.randn(5, 6, generator=g).double(), torch.randn(5, 6, generator=g).double()
    t = int(rng.integers(4))
    ours, delta = DeepLift(model).attribute(x, b, target=t, return_convergence_delta=True)
    ref = _oracle(model, x, b, t)
    torch.testing.assert_close(ours, ref, rtol=TOL, atol=TOL * float(ref.abs().max()))
    diff = (model(x) - model(b))[:, t].detach()
    assert float((delta.abs() / diff.abs()).max()) < TOL


def test_deepliftshap_of_a_softmax_equals_deepexplainer(rng):
    g = _gen(rng)
    model = Classifier(g).eval()
    x, bg = torch.randn(3, 6, generator=g).double(), torch.randn(7, 6, generator=g).double()
    values = DeepExplainer(model, bg).shap_values(x)  # (3, 6, 4)
    for t in range(4):
        ours = DeepLiftShap(model).attribute(x, bg, target=t).numpy()
        ref = values[..., t]
        assert abs(ours - ref).max() <= TOL * abs(ref).max()


def test_float32_with_large_logits_adds_up(rng):
    """All-ones weights and inputs up to ~100: logits near 1e6, whose differences between
    classes are float32 rounding. The explained probability moves by about 1e-3; the
    attributions must still add up to it (the path rule misses by several 1e-3 here)."""
    g = _gen(rng)
    d, h, k = 40, 20, 10
    model = nn.Sequential(
        nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, k), nn.Softmax(1)
    )
    with torch.no_grad():
        for lin in model[0], model[2], model[4]:
            lin.weight.fill_(1.0)
            lin.bias.copy_(torch.rand(lin.bias.shape, generator=g) - 0.5)
    x = torch.rand(3, d, generator=g) * 100
    t = int(rng.integers(k))
    _, delta = DeepLift(model).attribute(x, 0.0, target=t, return_convergence_delta=True)
    # float32 sums of 40 attributions round to a few 1e-7; the path rule misses by ~1e-3
    assert float(delta.abs().max()) < 2e-6
    bg = torch.randn(5, d, generator=g)
    _, delta = DeepLiftShap(model).attribute(x, bg, target=t, return_convergence_delta=True)
    assert delta.shape == (3 * 5,)
    assert float(delta.abs().max()) < 2e-6


def test_a_logit_that_does_not_move_falls_back_to_the_exact_path_rule(rng):
    g = _gen(rng)
    model = Classifier(g).eval()
    with torch.no_grad():  # logit 0 is a constant: its elementwise ratio is 0 / 0
        model.logits[2].weight[0] = 0.0
    x, b = torch.randn(4, 6, generator=g).double(), torch.randn(4, 6, generator=g).double()
    t = 1 + int(rng.integers(3))
    attrs, delta = DeepLift(model).attribute(x, b, target=t, return_convergence_delta=True)
    diff = (model(x) - model(b))[:, t].detach()
    assert float(((attrs.sum(1) - diff).abs() / diff.abs()).max()) < TOL
    assert float((delta.abs() / diff.abs()).max()) < TOL
    # the rule is not the elementwise one there: the other logits carry attributions too
    assert not torch.allclose(attrs, _oracle(model, x, b, t), rtol=1e-3, atol=0.0)


def test_a_softmax_inside_the_model_keeps_the_path_rule(rng):
    """Not the model's output: a probability-weighted sum of the logits (softmax, then a
    product of two input-dependent tensors), still exact."""
    g = _gen(rng)
    inner = Classifier(g).eval()

    def forward(x):
        z = inner.logits(x)
        return (torch.softmax(z, dim=1) * z).sum(1, keepdim=True)

    x, b = torch.randn(5, 6, generator=g).double(), torch.randn(5, 6, generator=g).double()
    attrs = DeepLift(forward).attribute(x, b, target=0)
    with torch.no_grad():
        diff = (forward(x) - forward(b))[:, 0]
    assert float(((attrs.sum(1) - diff).abs() / diff.abs()).max()) < TOL

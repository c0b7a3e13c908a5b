"""How the gradient methods pick the targeted output: one target shared by all examples (an int,
a negative int, a tuple, a one-element tensor) or one per example, against per-example autograd,
and inside the caller's ``no_grad`` / ``inference_mode``."""

import numpy as np
import pytest
import torch

from xai_fast.explainers.gradient import IntegratedGradients, Saliency
from xai_fast.explainers.layer import LayerConductance
from xai_fast.explainers.propagation import DeepLift


class Grid(torch.nn.Module):
    """float64 MLP whose output per example is a 2x3 grid (targets index two axes)."""

    def __init__(self, rng, d=5):
        super().__init__()
        self.hidden = torch.nn.Linear(d, 7).double()
        self.out = torch.nn.Linear(7, 6).double()
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.as_tensor(rng.normal(size=p.shape)))

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x))).reshape(-1, 2, 3)


def oracle_gradients(model, x, picks):
    """Row i's gradient of ``model(x)[i][picks[i]]``, one autograd call per row."""
    rows = []
    for i, p in enumerate(picks):
        xi = x[i : i + 1].clone().requires_grad_()
        (g,) = torch.autograd.grad(model(xi)[0][p], xi)
        rows.append(g[0])
    return torch.stack(rows)


SHARED = [  # (target, the index it means into the 2x3 grid)
    ((1, 2), (1, 2)),
    ((-1, 0), (1, 0)),
    ((0, -2), (0, 1)),
]


@pytest.mark.parametrize("target, pick", SHARED)
def test_shared_target_gives_each_examples_gradient(rng, target, pick):
    model, x = Grid(rng), torch.as_tensor(rng.normal(size=(6, 5)))
    got = Saliency(model).attribute(x, target=target, abs=False)
    np.testing.assert_allclose(got, oracle_gradients(model, x, [pick] * 6), rtol=1e-12, atol=0)


def test_per_example_targets_give_each_examples_gradient(rng):
    model, x = Grid(rng), torch.as_tensor(rng.normal(size=(6, 5)))
    picks = [tuple(int(v) for v in rng.integers(0, (2, 3))) for _ in range(6)]
    got = Saliency(model).attribute(x, target=picks, abs=False)
    np.testing.assert_allclose(got, oracle_gradients(model, x, picks), rtol=1e-12, atol=0)


def test_one_element_tensor_target_is_shared(rng):
    lin = torch.nn.Linear(4, 3).double()
    x = torch.as_tensor(rng.normal(size=(5, 4)))
    got = Saliency(lin).attribute(x, target=torch.tensor([2]), abs=False)
    np.testing.assert_allclose(got, lin.weight.detach()[2].expand(5, 4), rtol=1e-12, atol=0)
    neg = Saliency(lin).attribute(x, target=-1, abs=False)
    np.testing.assert_allclose(neg, got, rtol=0, atol=0)


@pytest.mark.parametrize("bad", [(0, 3), (0, -4), (2, 0), (-3, 1)])
def test_shared_target_out_of_range_is_a_value_error(rng, bad):
    model, x = Grid(rng), torch.as_tensor(rng.normal(size=(3, 5)))
    with pytest.raises(ValueError, match="out of range"):
        Saliency(model).attribute(x, target=bad)


@pytest.mark.parametrize("mode", ["plain", "no_grad", "inference_mode"])
def test_methods_agree_inside_the_callers_grad_modes(rng, mode):
    """The same numbers whether or not the caller switched gradients off."""
    model, x = Grid(rng), torch.as_tensor(rng.normal(size=(4, 5)))
    runs = {
        "ig": lambda: IntegratedGradients(model).attribute(x, target=(1, 1), n_steps=8),
        "dl": lambda: DeepLift(model).attribute(x, target=(0, 2)),
        "lc": lambda: LayerConductance(model, model.hidden).attribute(
            x, target=[(1, 1), (0, 0), (1, 2), (0, 1)], n_steps=8
        ),
    }
    ref = {k: f() for k, f in runs.items()}
    ctx = {
        "plain": torch.enable_grad,
        "no_grad": torch.no_grad,
        "inference_mode": torch.inference_mode,
    }[mode]
    for k, f in runs.items():
        with ctx():
            got = f()
        np.testing.assert_allclose(got, ref[k], rtol=1e-12, atol=0, err_msg=k)
        assert not got.requires_grad, k

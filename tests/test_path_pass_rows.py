"""Default passes of the path methods: on the CPU, chunks of about ``CPU_PATH_VALUES`` input
values; the values equal one pass over every path point and captum's."""

from __future__ import annotations

import pytest
import torch
from layer_models import cnn

import xai_fast as xf
from xai_fast.explainers.gradient import _pass_rows
from xai_fast.explainers.gradient._pass_rows import CPU_PATH_VALUES, path_pass_rows

captum_attr = pytest.importorskip("captum.attr")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:captum")


def test_rows_per_pass():
    x = torch.zeros(4, 3, 32, 32)  # 3,072 values per example
    per_pass = CPU_PATH_VALUES // 3072
    assert path_pass_rows((x,), 10_000, None) == per_pass - per_pass % 4  # whole steps
    assert path_pass_rows((x,), 10, None) == 10  # never more than the path's rows
    assert path_pass_rows((x,), 10_000, 7) == 7  # the caller's choice stands
    both = (torch.zeros(3, 3, 32, 32), torch.zeros(3, 1024))
    assert path_pass_rows(both, 10_000, None) == CPU_PATH_VALUES // 4096 // 3 * 3
    wide = torch.zeros(2, 3, 1024, 1024)  # more values than a pass holds: one row a pass
    assert path_pass_rows((wide,), 100, None) == 1
    assert path_pass_rows((torch.zeros(500, 3, 32, 32),), 10_000, None) == per_pass  # < N
    # an accelerator takes every point at once
    assert path_pass_rows((torch.empty(4, 3, 32, 32, device="meta"),), 10_000, None) == 10_000


class _Counting(torch.nn.Module):
    """``net`` that records the rows of each call."""

    def __init__(self, net):
        super().__init__()
        self.net, self.rows = net, []

    def forward(self, x):
        self.rows.append(x.shape[0])
        return self.net(x)


# (rows a pass holds, rows per pass): whole steps of the 4 examples (8 of 10; 8 does not divide
# 28 points) and, where a pass holds fewer rows than the examples, that many (3)
PASSES = [(10, 8), (3, 3)]

CASES = {
    "IntegratedGradients": (False, {}),
    "LayerIntegratedGradients": (True, {}),
    "LayerConductance": (True, {}),
    "InternalInfluence": (True, {}),
    "NeuronIntegratedGradients": (True, {"neuron_selector": (1, 2, 2)}),
    "NeuronConductance": (True, {"neuron_selector": (1, 2, 2), "target": 2}),
}


@pytest.mark.parametrize("holds, per_pass", PASSES)
@pytest.mark.parametrize("name", list(CASES))
def test_default_passes_are_chunks_with_the_values_of_one_pass(
    rng, monkeypatch, name, holds, per_pass
):
    layered, kw = CASES[name]
    net = cnn(rng)
    x = torch.as_tensor(rng.normal(size=(4, 2, 8, 8)))  # 128 values per example
    b = torch.as_tensor(rng.normal(scale=0.3, size=(4, 2, 8, 8)))
    kw = dict(kw, baselines=b, n_steps=6)
    if "neuron_selector" not in kw:
        kw["target"] = torch.as_tensor(rng.integers(0, 3, size=4))
    model = _Counting(net)
    args = (model, net.conv2) if layered else (model,)

    def ours(**extra):
        model.rows.clear()
        return getattr(xf, name)(*args).attribute(x, **kw, **extra)

    monkeypatch.setattr(_pass_rows, "CPU_PATH_VALUES", holds * 128)
    chunked = ours()
    # every pass of the path holds at most per_pass rows, and the path has more than that
    # (LayerIntegratedGradients first takes the layer's values at the inputs and baselines)
    path = model.rows[2:] if name == "LayerIntegratedGradients" else model.rows
    assert max(path) == per_pass and len(path) >= 3, model.rows
    whole = ours(internal_batch_size=10_000)
    assert max(model.rows) > per_pass
    torch.testing.assert_close(chunked, whole, rtol=1e-12, atol=1e-12)
    ref = getattr(captum_attr, name)(*args).attribute(x, **kw).detach()
    torch.testing.assert_close(chunked, ref, rtol=1e-5, atol=1e-9 + 1e-5 * float(ref.abs().max()))


@pytest.mark.parametrize("internal_batch_size", [None, 8, 7])
def test_steps_are_summed_alike_in_every_path_method(rng, internal_batch_size):
    """Integrated gradients and layer integrated gradients at the first layer's input run the
    same path and sum it the same way, so in float32 they agree bit for bit (as captum's)."""
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 2))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    x, b = torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)
    kw = dict(target=1, n_steps=9, internal_batch_size=internal_batch_size)
    ig = xf.IntegratedGradients(model).attribute(x, b, **kw)
    lig = xf.LayerIntegratedGradients(model, model[0]).attribute(
        x, b, attribute_to_layer_input=True, **kw
    )
    assert torch.equal(ig, lig)

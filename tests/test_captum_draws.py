"""seed=None in the GradientShap family and NoiseTunnel: captum's very draws. After the same
torch.manual_seed and np.random.seed the values equal captum's, and both global generators end
in the same states (the next draws agree)."""

import numpy as np
import pytest
import torch

import xai_fast as xf

captum = pytest.importorskip("captum.attr")


def mlp(rng, d=6, k=3):
    model = torch.nn.Sequential(
        torch.nn.Linear(d, 8), torch.nn.Tanh(), torch.nn.Linear(8, k), torch.nn.Softplus()
    ).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.as_tensor(rng.normal(size=p.shape)))
    return model.eval()


class TwoInputs(torch.nn.Module):
    def __init__(self, rng):
        super().__init__()
        self.a, self.b = torch.nn.Linear(4, 3).double(), torch.nn.Linear(2, 3).double()
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.as_tensor(rng.normal(size=p.shape)))

    def forward(self, x, y):
        return torch.tanh(self.a(x)) * torch.sigmoid(self.b(y))


def run(fn, seed):
    """``fn()`` after seeding both global generators, and the next draw of each."""
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    out = fn()
    return out, torch.rand(3), np.random.uniform(size=3)  # noqa: NPY002


def assert_same_draws(ours, theirs, seed, rtol=1e-12):
    a, ta, na = run(ours, seed)
    b, tb, nb = run(theirs, seed)
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    for u, v in zip(a, b, strict=True):
        torch.testing.assert_close(u, v.detach(), rtol=rtol, atol=rtol)
    assert torch.equal(ta, tb) and np.array_equal(na, nb)  # the states after the call


@pytest.fixture
def seed(rng):
    return int(rng.integers(2**31))


def test_gradient_shap_tuple_inputs(rng, seed):
    model = TwoInputs(rng)
    x, y = torch.as_tensor(rng.normal(size=(3, 4))), torch.as_tensor(rng.normal(size=(3, 2)))
    bx, by = torch.as_tensor(rng.normal(size=(5, 4))), torch.as_tensor(rng.normal(size=(5, 2)))
    kw = dict(baselines=(bx, by), n_samples=7, stdevs=(0.1, 0.3), target=1)
    assert_same_draws(
        lambda: xf.GradientShap(model).attribute((x, y), **kw),
        lambda: captum.GradientShap(model).attribute((x, y), **kw),
        seed,
    )
    # without noise captum still draws it (zeros): the states after the call agree too
    assert_same_draws(
        lambda: xf.GradientShap(model, multiply_by_inputs=False).attribute(
            (x, y), (bx, by), target=2
        ),
        lambda: captum.GradientShap(model, multiply_by_inputs=False).attribute(
            (x, y), (bx, by), target=2
        ),
        seed,
    )


def test_layer_and_neuron_gradient_shap(rng, seed):
    model = mlp(rng)
    x, B = torch.as_tensor(rng.normal(size=(4, 6))), torch.as_tensor(rng.normal(size=(9, 6)))
    assert_same_draws(
        lambda: xf.LayerGradientShap(model, model[1]).attribute(
            x, B, n_samples=6, stdevs=0.05, target=0
        ),
        lambda: captum.LayerGradientShap(model, model[1]).attribute(
            x, B, n_samples=6, stdevs=0.05, target=0
        ),
        seed,
    )
    assert_same_draws(
        lambda: xf.NeuronGradientShap(model, model[2]).attribute(x, 1, B, n_samples=5, stdevs=0.2),
        lambda: captum.NeuronGradientShap(model, model[2]).attribute(
            x, 1, B, n_samples=5, stdevs=0.2
        ),
        seed,
    )


def test_noise_tunnel_in_partitions_and_drawn_baselines(rng, seed):
    model = mlp(rng)
    x, B = torch.as_tensor(rng.normal(size=(3, 6))), torch.as_tensor(rng.normal(size=(7, 6)))
    kw = dict(nt_type="smoothgrad_sq", nt_samples=6, nt_samples_batch_size=4, stdevs=0.3)
    assert_same_draws(
        lambda: xf.NoiseTunnel(xf.Saliency(model)).attribute(x, target=2, **kw),
        lambda: captum.NoiseTunnel(captum.Saliency(model)).attribute(x, target=2, **kw),
        seed,
    )
    # baselines drawn once for the runs of 2 copies, and again for the last run of 1
    kw = dict(nt_samples=5, nt_samples_batch_size=2, stdevs=0.1, draw_baseline_from_distrib=True)
    kw["n_steps"] = 8
    assert_same_draws(
        lambda: xf.NoiseTunnel(xf.IntegratedGradients(model)).attribute(
            x, baselines=B, target=1, **kw
        ),
        lambda: captum.NoiseTunnel(captum.IntegratedGradients(model)).attribute(
            x, baselines=B, target=1, **kw
        ),
        seed,
        rtol=1e-6,  # captum rounds the quadrature weights to float32; other draws: O(1) apart
    )


def test_numpy_stdevs_and_half_precision_models(rng, seed):
    """A numpy float64 ``stdevs`` draws float64 noise, as captum's ``torch.tensor(stdev)``; a
    bfloat16 model keeps its dtype (captum's float32 noise would promote the rows)."""
    model = mlp(rng)
    x, B = torch.as_tensor(rng.normal(size=(3, 6))), torch.as_tensor(rng.normal(size=(7, 6)))
    sd = np.float64(0.2)
    assert_same_draws(
        lambda: xf.GradientShap(model).attribute(x, B, n_samples=3, stdevs=sd, target=0),
        lambda: captum.GradientShap(model).attribute(x, B, n_samples=3, stdevs=sd, target=0),
        seed,
    )
    half = mlp(rng).to(torch.bfloat16)
    out = xf.NoiseTunnel(xf.Saliency(half)).attribute(x.bfloat16(), target=0, stdevs=0.1)
    assert out.dtype == torch.bfloat16 and bool(torch.isfinite(out).all())


def test_an_explicit_seed_ignores_the_global_generators(rng):
    model = mlp(rng)
    x, B = torch.as_tensor(rng.normal(size=(3, 6))), torch.as_tensor(rng.normal(size=(7, 6)))
    t_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    for make in (
        lambda: xf.GradientShap(model, seed=3).attribute(x, B, stdevs=0.1, target=0),
        lambda: xf.LayerGradientShap(model, model[1], seed=3).attribute(x, B, target=0),
        lambda: xf.NoiseTunnel(xf.Saliency(model), seed=3).attribute(x, target=0, stdevs=0.1),
    ):
        assert torch.equal(make(), make())
    assert torch.equal(torch.get_rng_state(), t_state)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002

"""Gradient explainers against captum, closed forms, statistics, batching and error messages."""

import contextlib
import math

import numpy as np
import pytest
import torch

from xai_fast.explainers.gradient import (
    METHODS,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    LayerGradCam,
    NoiseTunnel,
    Saliency,
)

captum_attr = pytest.importorskip("captum.attr")
# captum warns that it sets requires_grad on the inputs it is given
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:captum")

# ---------------------------------------------------------------------------- helpers


def tensor(rng, *shape, scale=1.0):
    return torch.as_tensor(rng.normal(size=shape) * scale)


def linear(rng, d_in, d_out):
    """A float64 Linear layer with weights from ``rng`` (no global random state)."""
    lin = torch.nn.Linear(d_in, d_out).double()
    with torch.no_grad():
        lin.weight.copy_(tensor(rng, d_out, d_in) / np.sqrt(d_in))
        lin.bias.copy_(tensor(rng, d_out))
    return lin


class MLP(torch.nn.Module):
    """Smooth and nonlinear: a tanh MLP plus a quadratic term, ``k`` outputs."""

    def __init__(self, rng, d, k):
        super().__init__()
        self.l1, self.l2 = linear(rng, d, 16), linear(rng, 16, k)

    def forward(self, x):
        x = x.flatten(1)
        return self.l2(torch.tanh(self.l1(x))) + 0.5 * (x**2).sum(1, keepdim=True)


class TwoInputs(torch.nn.Module):
    """Two input tensors and an extra per-example argument."""

    def __init__(self, rng, k):
        super().__init__()
        self.a, self.b = linear(rng, 3, k), linear(rng, 8, k)

    def forward(self, u, v, scale):
        return torch.tanh(self.a(u)) * self.b(v.flatten(1)) * scale[:, None]


class CNN(torch.nn.Module):
    """conv -> in-place ReLU -> conv -> in-place ReLU -> global mean -> linear."""

    def __init__(self, rng, c_in=2, k=3):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(c_in, 4, 3).double()
        self.conv2 = torch.nn.Conv2d(4, 5, 3).double()
        self.relu = torch.nn.ReLU(inplace=True)
        self.fc = linear(rng, 5, k)
        with torch.no_grad():
            for conv in (self.conv1, self.conv2):
                conv.weight.copy_(tensor(rng, *conv.weight.shape) / 3)
                conv.bias.copy_(tensor(rng, *conv.bias.shape) / 3)

    def forward(self, x):
        h = self.relu(self.conv2(self.relu(self.conv1(x))))
        return self.fc(h.mean((2, 3)))


class Counting:
    """A forward function that records the number of rows of every call."""

    def __init__(self, model):
        self.model, self.rows = model, []

    def __call__(self, *args):
        self.rows.append(args[0].shape[0])
        return self.model(*args)


def rel(a, b):
    """Largest absolute difference relative to the largest reference value (absolute where
    the reference is all zeros, as a ReLU'd Grad-CAM map can be)."""
    a, b = a.detach(), b.detach()
    diff, scale = float((a - b).abs().max()), float(b.abs().max())
    return diff / scale if scale > 0 else diff


@contextlib.contextmanager
def seeded_globals(rng):
    """Seed torch's and numpy's global generators for captum, restoring them afterwards."""
    # captum draws from the global generators; there is no other way to seed it
    t_state, np_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    torch.manual_seed(int(rng.integers(2**62)))
    np.random.seed(int(rng.integers(2**31)))  # noqa: NPY002
    try:
        yield
    finally:
        torch.set_rng_state(t_state)
        np.random.set_state(np_state)  # noqa: NPY002


# ---------------------------------------------------------------------------- integrated gradients


@pytest.mark.parametrize("method", METHODS)
def test_integrated_gradients_match_captum(rng, method):
    N, d, k = 5, 6, 4
    model = MLP(rng, d, k)
    x, base = tensor(rng, N, d), tensor(rng, N, d)
    target = [int(t) for t in rng.integers(k, size=N)]
    kw = dict(target=target, n_steps=24, method=method, return_convergence_delta=True)
    ours, delta = IntegratedGradients(model).attribute(x, base, **kw)
    ref, ref_delta = captum_attr.IntegratedGradients(model).attribute(x, base, **kw)
    assert ours.shape == x.shape and ours.dtype == x.dtype
    assert rel(ours, ref) <= 1e-4
    # captum rounds its weights to float32: compare deltas on the scale of the attributions
    scale = float(ref.abs().sum(1).max())
    assert float((delta - ref_delta).abs().max()) <= 1e-6 * scale
    # same numbers with a shared int target and a scalar baseline
    ours = IntegratedGradients(model).attribute(x, 0.5, target=2, n_steps=24, method=method)
    ref = captum_attr.IntegratedGradients(model).attribute(
        x, 0.5, target=2, n_steps=24, method=method
    )
    assert rel(ours, ref) <= 1e-4


@pytest.mark.parametrize("multiply_by_inputs", [True, False])
def test_integrated_gradients_tuple_inputs_chunks_and_targets_match_captum(rng, multiply_by_inputs):
    N, k = 4, 3
    model = TwoInputs(rng, k)
    u, v = tensor(rng, N, 3), tensor(rng, N, 2, 4)
    bu, bv = tensor(rng, 1, 3), tensor(rng, N, 2, 4)
    scale = torch.as_tensor(rng.uniform(0.5, 2.0, size=N))
    target = torch.as_tensor(rng.integers(k, size=N))
    kw = dict(target=target, additional_forward_args=scale, n_steps=30, method="riemann_middle")
    ig = IntegratedGradients(model, multiply_by_inputs=multiply_by_inputs)
    whole = ig.attribute((u, v), (bu, bv), **kw)
    chunked = ig.attribute((u, v), (bu, bv), internal_batch_size=7, **kw)  # 7 does not divide 120
    ref = captum_attr.IntegratedGradients(model, multiply_by_inputs).attribute(
        (u, v), (bu, bv), internal_batch_size=8, **kw
    )
    assert isinstance(whole, tuple) and len(whole) == 2
    for w, c, r, x in zip(whole, chunked, ref, (u, v), strict=True):
        assert w.shape == x.shape
        torch.testing.assert_close(c, w, rtol=1e-12, atol=1e-12)
        assert rel(w, r) <= 1e-4


def test_integrated_gradients_batch_all_steps_and_examples(rng):
    N, d, n_steps = 4, 5, 50
    model = Counting(MLP(rng, d, 2))
    x = tensor(rng, N, d)
    IntegratedGradients(model).attribute(x, target=1, n_steps=n_steps)
    assert model.rows == [N * n_steps]  # one call for every step of every example
    model.rows.clear()
    IntegratedGradients(model).attribute(x, target=1, n_steps=n_steps, internal_batch_size=64)
    assert model.rows == [64, 64, 64, 8]
    model.rows.clear()
    IntegratedGradients(model).attribute(x, target=1, return_convergence_delta=True)
    assert model.rows == [N * 50, 2 * N]  # the path, then inputs and baselines together


@pytest.mark.parametrize("method", ["riemann_left", "riemann_right", "riemann_middle"])
def test_convergence_delta_shrinks_with_n_steps(rng, method):
    N, d = 4, 5
    model = MLP(rng, d, 3)
    x, base = tensor(rng, N, d), tensor(rng, N, d)
    ig = IntegratedGradients(model)
    deltas = [
        ig.attribute(x, base, target=1, n_steps=n, method=method, return_convergence_delta=True)[1]
        for n in (10, 50, 200)
    ]
    assert bool((deltas[1].abs() < deltas[0].abs()).all())
    assert bool((deltas[2].abs() < deltas[1].abs()).all())


def test_convergence_delta_of_trapezoid_and_gauss_legendre(rng):
    N, d = 4, 5
    model = MLP(rng, d, 3)
    x, base = tensor(rng, N, d), tensor(rng, N, d)
    ig = IntegratedGradients(model)

    def total_delta(n, method):
        _, delta = ig.attribute(
            x, base, target=0, n_steps=n, method=method, return_convergence_delta=True
        )
        return float(delta.abs().sum())

    # captum's trapezoid weights sum to 1 - 1/n, so one example's delta may cross zero; the
    # total still shrinks like 1/n
    t = [total_delta(n, "riemann_trapezoid") for n in (10, 50, 200)]
    assert t[0] > t[1] > t[2]
    # Gauss-Legendre is exact to rounding long before 50 points on a smooth path
    with torch.no_grad():
        scale = float((model(x)[:, 0] - model(base)[:, 0]).abs().sum())
    assert total_delta(2, "gausslegendre") > total_delta(50, "gausslegendre")
    assert total_delta(50, "gausslegendre") <= 1e-9 * scale


def test_completeness_is_exact_on_a_linear_model(rng):
    N, d, k = 3, 7, 2
    model = linear(rng, d, k)
    x, base = tensor(rng, N, d), tensor(rng, 1, d)
    for method in METHODS:
        if method == "riemann_trapezoid":
            continue  # weights sum to 1 - 1/n
        attr, delta = IntegratedGradients(model).attribute(
            x, base, target=1, n_steps=7, method=method, return_convergence_delta=True
        )
        torch.testing.assert_close(attr, (x - base) * model.weight[1], rtol=1e-12, atol=1e-12)
        assert float(delta.abs().max()) <= 1e-12


# ---------------------------------------------------------------------------- saliency, x * grad


@pytest.mark.parametrize("absolute", [True, False])
def test_saliency_and_input_x_gradient_match_captum(rng, absolute):
    N, d, k = 6, 5, 4
    model = MLP(rng, d, k)
    x = tensor(rng, N, d)
    target = [int(t) for t in rng.integers(k, size=N)]
    ours = Saliency(model).attribute(x, target=target, abs=absolute)
    ref = captum_attr.Saliency(model).attribute(x, target=target, abs=absolute)
    assert ours.shape == x.shape and rel(ours, ref) <= 1e-5
    ours = InputXGradient(model).attribute(x, target=target)
    ref = captum_attr.InputXGradient(model).attribute(x, target=target)
    assert rel(ours, ref) <= 1e-5

    two = TwoInputs(rng, k)
    u, v = tensor(rng, N, 3), tensor(rng, N, 2, 4)
    scale = torch.as_tensor(rng.uniform(0.5, 2.0, size=N))
    for ours, ref in [
        (
            Saliency(two).attribute((u, v), 1, absolute, scale),
            captum_attr.Saliency(two).attribute((u, v), 1, absolute, scale),
        ),
        (
            InputXGradient(two).attribute((u, v), 2, (scale,)),
            captum_attr.InputXGradient(two).attribute((u, v), 2, (scale,)),
        ),
    ]:
        for o, r in zip(ours, ref, strict=True):
            assert rel(o, r) <= 1e-5


def test_gradients_leave_model_inputs_and_parameters_alone(rng):
    d = 5
    model = torch.nn.Sequential(linear(rng, d, 8), torch.nn.Tanh(), linear(rng, 8, 3))
    model.train()
    x = tensor(rng, 4, d)
    x_before = x.clone()
    img = tensor(rng, 2, 2, 8, 8)
    cnn = CNN(rng).train()
    with torch.no_grad():  # gradients are switched on inside, as captum does
        IntegratedGradients(model).attribute(x, target=0)
        Saliency(model).attribute(x, target=1)
        InputXGradient(model).attribute(x, target=2)
        GradientShap(model, seed=0).attribute(x, tensor(rng, 10, d), target=0)
        NoiseTunnel(Saliency(model), seed=0).attribute(x, target=0)
        LayerGradCam(cnn, cnn.conv2).attribute(img, target=1)
    with torch.inference_mode():
        out = Saliency(model).attribute(x, target=1)
    assert not out.is_inference()
    assert model.training and cnn.training  # the caller's mode is kept
    assert all(p.grad is None for p in list(model.parameters()) + list(cnn.parameters()))
    assert not x.requires_grad and torch.equal(x, x_before)


def test_float32_inputs_give_float32_attributions(rng):
    d = 5
    model = torch.nn.Sequential(torch.nn.Linear(d, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    x = tensor(rng, 3, d).float()
    for attr in [
        IntegratedGradients(model).attribute(x, target=1),
        Saliency(model).attribute(x, target=1),
        InputXGradient(model).attribute(x, target=1),
        GradientShap(model, seed=1).attribute(x, tensor(rng, 4, d).float(), target=1),
        NoiseTunnel(IntegratedGradients(model), seed=1).attribute(x, target=1, n_steps=5),
    ]:
        assert attr.dtype == torch.float32 and attr.shape == x.shape and attr.device == x.device


# ---------------------------------------------------------------------------- gradient shap


def test_gradient_shap_with_one_background_row_is_ig_in_expectation(rng):
    N, d, n = 3, 5, 4000
    model = MLP(rng, d, 3)
    x, base = tensor(rng, N, d), tensor(rng, 1, d)
    ours = GradientShap(model, seed=int(rng.integers(2**31))).attribute(
        x, base, n_samples=n, stdevs=0.0, target=2
    )
    ig = IntegratedGradients(model).attribute(x, base, target=2, n_steps=64)
    # one sample is (x - b) * grad f(b + u (x - b)), u ~ U(0, 1): its mean is IG; its spread
    # from the integrand on a fine grid of u
    u = (torch.arange(2000, dtype=torch.float64) + 0.5) / 2000
    points = (base + u[:, None, None] * (x - base)).reshape(-1, d)  # (2000 * N, d)
    g = Saliency(model).attribute(points, target=2, abs=False).reshape(2000, N, d) * (x - base)
    sigma = g.std(0)
    torch.testing.assert_close(g.mean(0), ig, rtol=1e-5, atol=1e-6)
    assert bool(((ours - ig).abs() <= 5 * sigma / math.sqrt(n) + 1e-12).all())


def test_gradient_shap_efficiency_in_expectation_on_a_linear_model(rng):
    N, d, k, M, n, sd = 3, 6, 2, 40, 3000, 0.3
    model = linear(rng, d, k)
    x, background = tensor(rng, N, d), tensor(rng, M, d, scale=2.0)
    attr, delta = GradientShap(model, seed=int(rng.integers(2**31))).attribute(
        x, background, n_samples=n, stdevs=sd, target=1, return_convergence_delta=True
    )
    assert delta.shape == (N * n,)
    assert float(delta.abs().max()) <= 1e-10  # exact per sample for a linear model
    w = model.weight[1].detach()
    f_bg = (background @ w).detach()
    expected = (x @ w).detach() - f_bg.mean()  # f(x) - E f(background)
    # a sample's total is w.(x + noise) - w.b for a random background row b
    sigma = math.sqrt(float(f_bg.var(unbiased=False)) + sd**2 * float(w @ w))
    assert bool(((attr.sum(1) - expected).abs() <= 5 * sigma / math.sqrt(n)).all())


def test_gradient_shap_agrees_with_captum_in_expectation(rng):
    d, K = 4, 3000
    model = MLP(rng, d, 2)
    x, background = tensor(rng, 1, d), tensor(rng, 30, d)
    # K examples that are all x, one sample each: K independent samples of our estimator
    samples = GradientShap(model, seed=int(rng.integers(2**31))).attribute(
        x.expand(K, d), background, n_samples=1, stdevs=0.2, target=1
    )
    with seeded_globals(rng):
        ref = captum_attr.GradientShap(model).attribute(
            x, background, n_samples=K, stdevs=0.2, target=1
        )
    sigma = samples.std(0)
    assert bool(((samples.mean(0) - ref[0]).abs() <= 5 * sigma * math.sqrt(2 / K)).all())


def test_gradient_shap_is_seeded_and_leaves_global_state_alone(rng):
    d = 4
    model = MLP(rng, d, 2)
    x, background = tensor(rng, 3, d), tensor(rng, 10, d)
    t_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    a = GradientShap(model, seed=5).attribute(x, background, stdevs=0.1, target=0)
    b = GradientShap(model, seed=5).attribute(x, background, stdevs=0.1, target=0)
    c = GradientShap(model, seed=6).attribute(x, background, stdevs=0.1, target=0)
    gen = GradientShap(model, seed=torch.Generator().manual_seed(5))
    e, f = (gen.attribute(x, background, stdevs=0.1, target=0) for _ in range(2))
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert torch.equal(a, e) and not torch.allclose(e, f)  # a Generator's state advances
    assert torch.equal(torch.get_rng_state(), t_state)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


# ---------------------------------------------------------------------------- noise tunnel


@pytest.mark.parametrize("name", ["ig", "saliency", "ixg", "gradcam"])
def test_noise_tunnel_without_noise_is_the_wrapped_method(rng, name):
    N = 3
    if name == "gradcam":
        model = CNN(rng)
        x = tensor(rng, N, 2, 8, 8)
        method, kw = LayerGradCam(model, model.conv2), {}
    else:
        model = MLP(rng, 5, 3)
        x = tensor(rng, N, 5)
        method, kw = {
            "ig": (IntegratedGradients(model), dict(baselines=tensor(rng, N, 5), n_steps=10)),
            "saliency": (Saliency(model), dict(abs=False)),
            "ixg": (InputXGradient(model), {}),
        }[name]
    plain = method.attribute(x, target=1, **kw)
    nt = NoiseTunnel(method, seed=0)
    for batch in (None, 2):  # 5 copies: 2 + 2 + 1
        smooth = nt.attribute(
            x, nt_samples=5, nt_samples_batch_size=batch, stdevs=0.0, target=1, **kw
        )
        torch.testing.assert_close(smooth, plain, rtol=1e-10, atol=1e-12)
    squared = nt.attribute(x, nt_type="smoothgrad_sq", stdevs=0.0, target=1, **kw)
    torch.testing.assert_close(squared, plain**2, rtol=1e-10, atol=1e-12)
    var = nt.attribute(x, nt_type="vargrad", stdevs=0.0, target=1, **kw)
    assert float(var.abs().max()) <= 1e-10 * float(plain.abs().max() ** 2)
    tiny = nt.attribute(x, stdevs=1e-9, target=1, **kw)
    assert rel(tiny, plain) <= 1e-5


def test_noise_tunnel_smoothgrad_of_a_linear_model_is_the_gradient(rng):
    N, d, k = 4, 6, 3
    model = Counting(linear(rng, d, k))
    x = tensor(rng, N, d)
    target = [int(t) for t in rng.integers(k, size=N)]
    nt = NoiseTunnel(Saliency(model), seed=int(rng.integers(2**31)))
    smooth = nt.attribute(x, nt_samples=8, stdevs=1.0, target=target, abs=False)
    assert model.rows == [N * 8]  # every noisy copy in one call
    torch.testing.assert_close(smooth, model.model.weight[target].detach(), rtol=1e-12, atol=1e-12)
    var = nt.attribute(x, nt_type="vargrad", nt_samples=8, target=target, abs=False)
    assert float(var.abs().max()) <= 1e-12


def test_noise_tunnel_aggregates_the_same_noisy_copies(rng):
    model = MLP(rng, 5, 2)
    x = tensor(rng, 3, 5)
    nt = NoiseTunnel(IntegratedGradients(model), seed=3)  # an int seed: same noise every call
    kw = dict(nt_samples=6, stdevs=0.5, target=0, n_steps=8)
    mean = nt.attribute(x, **kw)
    mean_sq = nt.attribute(x, nt_type="smoothgrad_sq", **kw)
    var = nt.attribute(x, nt_type="vargrad", **kw)
    torch.testing.assert_close(var, mean_sq - mean**2, rtol=1e-10, atol=1e-12)
    assert float(var.min()) >= -1e-12 and float(var.max()) > 0
    attr, delta = nt.attribute(x, return_convergence_delta=True, **kw)
    assert delta.shape == (3 * 6,) and torch.equal(attr, mean)


def test_noise_tunnel_matches_captum_without_noise_and_with_drawn_baselines(rng):
    N, d = 3, 5
    model = MLP(rng, d, 2)
    x, base = tensor(rng, N, d), tensor(rng, 1, d)
    ig = IntegratedGradients(model)
    ref = captum_attr.NoiseTunnel(captum_attr.IntegratedGradients(model)).attribute(
        x, nt_samples=4, stdevs=0.0, baselines=base, target=1, n_steps=12
    )
    ours = NoiseTunnel(ig, seed=0).attribute(
        x, nt_samples=4, stdevs=0.0, baselines=base, target=1, n_steps=12
    )
    assert rel(ours, ref) <= 1e-4
    # one background row to draw from is that row as the baseline
    drawn = NoiseTunnel(ig, seed=0).attribute(
        x, stdevs=0.0, draw_baseline_from_distrib=True, baselines=base, target=1, n_steps=12
    )
    torch.testing.assert_close(drawn, ig.attribute(x, base, target=1, n_steps=12))


def test_noise_tunnel_of_gradient_shap_and_gradcam_shapes(rng):
    model = CNN(rng)
    x = tensor(rng, 2, 2, 8, 8)
    cam = NoiseTunnel(LayerGradCam(model, model.conv2), seed=0).attribute(x, target=0, stdevs=0.1)
    assert cam.shape == (2, 1, 4, 4)
    gs = NoiseTunnel(GradientShap(model, seed=1), seed=0)
    attr, delta = gs.attribute(
        x,
        nt_samples=3,
        baselines=tensor(rng, 5, 2, 8, 8),
        n_samples=4,
        target=2,
        return_convergence_delta=True,
    )
    assert attr.shape == x.shape and delta.shape == (2 * 3 * 4,)


# ---------------------------------------------------------------------------- grad-cam


def manual_gradcam(model, layer, x, target, to_input=False):
    """GradCAM from a hook of our own and ``torch.autograd.grad``."""
    saved = []

    def keep(t):
        t = t.detach().requires_grad_()
        saved.append(t)
        return t.clone()  # the model's in-place ReLU must not overwrite the saved activations

    if to_input:
        handle = layer.register_forward_pre_hook(lambda m, args: (keep(args[0]),))
    else:
        handle = layer.register_forward_hook(lambda m, args, out: keep(out))
    try:
        out = model(x)
    finally:
        handle.remove()
    y = out[torch.arange(len(x)), torch.as_tensor(target)]
    (grad,) = torch.autograd.grad(y.sum(), saved)
    weights = grad.mean((2, 3), keepdim=True)
    return (weights * saved[0]).sum(1, keepdim=True).detach()


@pytest.mark.parametrize("to_input", [False, True])
def test_gradcam_matches_manual_computation_and_captum(rng, to_input):
    N, k = 4, 3
    model = CNN(rng, k=k)
    x = tensor(rng, N, 2, 10, 10)
    target = [int(t) for t in rng.integers(k, size=N)]
    gc = LayerGradCam(model, model.conv2)
    ours = gc.attribute(x, target=target, attribute_to_layer_input=to_input)
    assert ours.shape == ((N, 1, 8, 8) if to_input else (N, 1, 6, 6))
    manual = manual_gradcam(model, model.conv2, x, target, to_input)
    torch.testing.assert_close(ours, manual, rtol=1e-6, atol=1e-6 * float(manual.abs().max()))
    for relu in (False, True):
        ours = gc.attribute(x, target, None, to_input, relu)
        ref = captum_attr.LayerGradCam(model, model.conv2).attribute(
            x, target, None, to_input, relu
        )
        assert rel(ours, ref) <= 1e-6
    per_channel = gc.attribute(
        x, target, attribute_to_layer_input=to_input, attr_dim_summation=False
    )
    ref = captum_attr.LayerGradCam(model, model.conv2).attribute(
        x, target, attribute_to_layer_input=to_input, attr_dim_summation=False
    )
    assert per_channel.shape == ref.shape and rel(per_channel, ref) <= 1e-6


def test_gradcam_takes_token_ids(rng):
    N, L, k = 3, 9, 2
    emb = torch.nn.Embedding(20, 4).double()
    conv, fc = torch.nn.Conv1d(4, 6, 3).double(), linear(rng, 6, k)

    def model(ids):
        return fc(torch.tanh(conv(emb(ids).transpose(1, 2))).mean(2))

    ids = torch.as_tensor(rng.integers(20, size=(N, L)))
    ours = LayerGradCam(model, conv).attribute(ids, target=1)
    ref = captum_attr.LayerGradCam(model, conv).attribute(ids, target=1)
    assert ours.shape == (N, 1, L - 2) and rel(ours, ref) <= 1e-6


# ---------------------------------------------------------------------------- errors


def test_errors_name_what_was_expected_and_how_to_fix_it(rng):
    d, k = 5, 3
    model = MLP(rng, d, k)
    x = tensor(rng, 4, d)
    ig = IntegratedGradients(model)
    with pytest.raises(ValueError, match=r"target 3 is out of range .* 0\.\.2"):
        ig.attribute(x, target=3)
    with pytest.raises(ValueError, match=r"target is None; .* Pass target="):
        Saliency(model).attribute(x)
    with pytest.raises(ValueError, match="target is a list of 2 but the inputs hold 4"):
        ig.attribute(x, target=[0, 1])
    with pytest.raises(TypeError, match="integer output indices"):
        ig.attribute(x, target=torch.zeros(4))
    with pytest.raises(ValueError, match=r"baselines of shape \(3, 5\) does not match .*\(4, 5\)"):
        ig.attribute(x, tensor(rng, 3, d), target=0)
    with pytest.raises(ValueError, match="baselines has 1 entries but inputs has 2"):
        IntegratedGradients(TwoInputs(rng, k)).attribute((x[:, :3], x), x, target=0)
    with pytest.raises(ValueError, match=r"method must be one of .*got 'simpson'"):
        ig.attribute(x, target=0, method="simpson")
    with pytest.raises(ValueError, match="n_steps must be an int >= 1"):
        ig.attribute(x, target=0, n_steps=0)
    with pytest.raises(ValueError, match="needs n_steps >= 2"):
        ig.attribute(x, target=0, n_steps=1, method="riemann_trapezoid")
    with pytest.raises(ValueError, match="internal_batch_size must be an int >= 1"):
        ig.attribute(x, target=0, internal_batch_size=0)
    with pytest.raises(TypeError, match="floating-point inputs"):
        ig.attribute(torch.ones(4, d, dtype=torch.int64), target=0)
    with pytest.raises(ValueError, match=r"inputs\[1\] holds 3 examples but inputs\[0\] holds 4"):
        Saliency(TwoInputs(rng, k)).attribute((x[:, :3], x[:3]), target=0)
    with pytest.raises(ValueError, match=r"additional_forward_args\[0\] .* axis 0"):
        IntegratedGradients(TwoInputs(rng, k)).attribute(
            (x[:, :3], tensor(rng, 4, 8)), target=0, additional_forward_args=torch.ones(3)
        )
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        ig.attribute(x, target=0, steps=10)
    with pytest.raises(TypeError, match="forward_func must be a torch.nn.Module or a callable"):
        IntegratedGradients("model")

    # model outputs
    with pytest.raises(ValueError, match=r"NaN or inf at the target for example\(s\) \[1, 3\]"):
        x_pos = x.abs() + 0.1
        x_pos[[1, 3], 0] = -1.0
        Saliency(lambda t: torch.log(t).sum(1)).attribute(x_pos)
    with pytest.raises(ValueError, match=r"output of shape \(1,\) for 4 input rows"):
        Saliency(lambda t: t.sum().reshape(1)).attribute(x)
    with pytest.raises(TypeError, match="carries no gradient"):
        Saliency(lambda t: t.detach().sum(1)).attribute(x)

    # gradient shap and noise tunnel
    with pytest.raises(ValueError, match=r"background examples of the inputs' shape: \(M, 5\)"):
        GradientShap(model, seed=0).attribute(x, tensor(rng, 10, d + 1), target=0)
    with pytest.raises(TypeError, match="seed must be None, an int"):
        GradientShap(model, seed=0.5)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['n_steps'\]"):
        NoiseTunnel(Saliency(model)).attribute(x, target=0, n_steps=5)
    with pytest.raises(ValueError, match="nt_type must be one of"):
        NoiseTunnel(Saliency(model)).attribute(x, nt_type="smooth", target=0)
    with pytest.raises(ValueError, match="stdevs must be a number >= 0"):
        NoiseTunnel(Saliency(model)).attribute(x, stdevs=-1.0, target=0)
    with pytest.raises(TypeError, match="GradientShap needs baselines"):
        NoiseTunnel(GradientShap(model)).attribute(x, target=0)
    with pytest.raises(ValueError, match="needs a method with baselines"):
        NoiseTunnel(Saliency(model)).attribute(x, draw_baseline_from_distrib=True, target=0)
    with pytest.raises(TypeError, match="attribution_method must be"):
        NoiseTunnel(object())

    # grad-cam
    cnn = CNN(rng)
    img = tensor(rng, 2, 2, 8, 8)
    with pytest.raises(ValueError, match="layer ran 0 times"):
        LayerGradCam(cnn, torch.nn.Conv2d(4, 5, 3)).attribute(img, target=0)
    with pytest.raises(TypeError, match="layer must be a torch.nn.Module"):
        LayerGradCam(cnn, "conv2")

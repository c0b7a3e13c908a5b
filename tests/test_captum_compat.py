"""captum's argument forms on the tensor perturbation and gradient explainers: tuple inputs,
``return_input_shape``, ``perturbations_per_eval``, one-number forwards, captum's Lime parts,
``compute_convergence_delta``, ``grad_kwargs``, seeds from torch's global generator."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from xai_fast import GradientShap, IntegratedGradients, KernelShap, LayerGradCam, Lime, Saliency


def _weights(rng, *shape):
    return torch.as_tensor(rng.normal(size=shape))


def _two_input_model(rng):
    """f(a, b) = tanh(a @ u + b @ v) + (a @ p) * (b @ q): a non-additive game, (n,)."""
    u, v, p, q = _weights(rng, 3), _weights(rng, 4), _weights(rng, 3), _weights(rng, 4)

    def f(a, b):
        return torch.tanh(a @ u + b @ v) + (a @ p) * (b @ q)

    return f


def _shapley(value, M: int) -> np.ndarray:
    """Brute-force Shapley values of ``value(frozenset) -> float`` over ``M`` players."""
    phi = np.zeros(M)
    for j in range(M):
        others = [k for k in range(M) if k != j]
        for r in range(M):
            w = math.factorial(r) * math.factorial(M - r - 1) / math.factorial(M)
            for S in itertools.combinations(others, r):
                phi[j] += w * (value(frozenset(S) | {j}) - value(frozenset(S)))
    return phi


def test_tuple_inputs_give_exact_shapley_values_with_ids_shared_across_tensors(rng):
    f = _two_input_model(rng)
    a, b = _weights(rng, 1, 3), _weights(rng, 1, 4)
    ba, bb = _weights(rng, 1, 3), _weights(rng, 1, 4)
    ma = torch.tensor([[0, 1, 1]])
    mb = torch.tensor([[2, 0, 3, 3]])  # id 0 spans both tensors
    attr = KernelShap(f, seed=int(rng.integers(2**31))).attribute(
        (a, b), baselines=(ba, bb), feature_mask=(ma, mb), n_samples=2**4 - 2
    )
    assert isinstance(attr, tuple) and attr[0].shape == (1, 3) and attr[1].shape == (1, 4)

    def value(S):
        ka = torch.tensor([int(m) in S for m in ma[0]])
        kb = torch.tensor([int(m) in S for m in mb[0]])
        return float(f(torch.where(ka, a, ba), torch.where(kb, b, bb)))

    phi = _shapley(value, 4)
    got = np.array([attr[0][0, 0], attr[0][0, 1], attr[1][0, 0], attr[1][0, 2]], dtype=float)
    np.testing.assert_allclose(got, phi, rtol=0, atol=1e-9)
    assert float(attr[1][0, 1]) == float(attr[0][0, 0])  # the shared feature, in both tensors


def test_tuple_inputs_without_mask_make_every_scalar_a_feature(rng):
    f = _two_input_model(rng)
    a, b = _weights(rng, 2, 3), _weights(rng, 2, 4)
    ks = KernelShap(f, seed=0)
    attr = ks.attribute((a, b), n_samples=2**7 - 2)
    ref = KernelShap(lambda t: f(t[:, :3], t[:, 3:]), seed=0).attribute(
        torch.cat([a, b], 1), n_samples=2**7 - 2
    )
    torch.testing.assert_close(torch.cat(attr, 1), ref, rtol=0, atol=1e-10)
    total = torch.cat(attr, 1).sum(1)
    torch.testing.assert_close(total, f(a, b) - f(0 * a, 0 * b), rtol=0, atol=1e-9)


def test_return_input_shape_false_gives_one_value_per_feature(rng):
    model = torch.nn.Sequential(torch.nn.Linear(6, 2), torch.nn.Tanh()).double()
    x = _weights(rng, 3, 6)
    mask = torch.tensor([[0, 0, 1, 1, 2, 2]])
    for cls in (KernelShap, Lime):
        explainer = cls(model, seed=1)
        shaped = explainer.attribute(x, target=1, feature_mask=mask)
        coefs = explainer.attribute(x, target=1, feature_mask=mask, return_input_shape=False)
        assert coefs.shape == (3, 3)
        torch.testing.assert_close(coefs, shaped[:, ::2], rtol=0, atol=0)
    # column j is the feature with id j, as captum numbers them; 0 where an example lacks it
    mixed = torch.tensor([[0, 0, 1, 1, 2, 5], [4, 4, 4, 1, 1, 1]])
    for cls in (KernelShap, Lime):
        explainer = cls(model, seed=2)
        shaped = explainer.attribute(x[:2], target=0, feature_mask=mixed)
        coefs = explainer.attribute(x[:2], target=0, feature_mask=mixed, return_input_shape=False)
        assert coefs.shape == (2, 6)
        torch.testing.assert_close(coefs[0, [0, 1, 2, 5]], shaped[0, [0, 2, 4, 5]], rtol=0, atol=0)
        torch.testing.assert_close(coefs[1, [1, 4]], shaped[1, [3, 0]], rtol=0, atol=0)
        assert not coefs[0, [3, 4]].any() and not coefs[1, [0, 2, 3, 5]].any()
    with torch.no_grad():  # efficiency over the columns: f(x) - f(baseline)
        gap = model(x[:2])[:, 0] - model(torch.zeros(1, 6).double())[:, 0]
    phi = KernelShap(model).attribute(x[:2], target=0, feature_mask=mixed, return_input_shape=False)
    torch.testing.assert_close(phi.sum(1), gap, rtol=0, atol=1e-10)
    shifted = KernelShap(
        model
    ).attribute(  # columns count from the smallest id, as captum
        x[:2], target=0, feature_mask=mixed - 3, return_input_shape=False
    )
    torch.testing.assert_close(shifted, phi, rtol=0, atol=1e-12)


def test_perturbations_per_eval_is_checked_and_leaves_values_alone(rng):
    model = torch.nn.Linear(5, 1).double()
    x = _weights(rng, 2, 5)
    ks = KernelShap(model, seed=3)
    base = ks.attribute(x)
    torch.testing.assert_close(ks.attribute(x, perturbations_per_eval=7), base, rtol=0, atol=0)
    with pytest.raises(ValueError, match="perturbations_per_eval"):
        ks.attribute(x, perturbations_per_eval=0)


@pytest.mark.parametrize(
    "wrap, rounded",
    [
        (float, False),
        (lambda y: y, False),
        (lambda y: y.reshape(1), False),
        (lambda y: int(y.round()), True),
    ],
    ids=["float", "0d", "1d", "int"],
)
def test_forward_returning_one_number_for_one_example(rng, wrap, rounded):
    w = _weights(rng, 4)
    x = _weights(rng, 1, 4) * 3

    def per_row(t):  # (n,)
        return (t @ w).round() if rounded else t @ w

    def one_number(t):  # captum's form: one number for the batch it gets
        return wrap((t @ w).sum())

    ref = KernelShap(per_row, seed=0).attribute(x)
    torch.testing.assert_close(KernelShap(one_number, seed=0).attribute(x), ref, rtol=0, atol=1e-12)


def test_forward_returning_one_number_per_batch_explains_the_batch_as_one_example(rng):
    """captum's form for a loss over a batch: a feature id covers its elements in every row,
    one perturbation is one perturbed batch, and the result is one row ``(1, ...)``."""
    w, v = _weights(rng, 3), _weights(rng, 2)
    a, b = _weights(rng, 4, 3), _weights(rng, 4, 2)
    base_a, base_b = _weights(rng, 3), _weights(rng, 2)
    # ids differ by row (row 0 and rows 1-3) and are shared by the two tensors
    mask_a = torch.tensor([[0, 1, 2]] + [[0, 0, 3]] * 3)
    mask_b = torch.tensor([[3, 4]] * 4)

    def loss(ta, tb, scale):  # not additive over the features or the rows
        return (scale * torch.tanh(ta @ w) * torch.sigmoid(tb @ v)).sum().item()

    def value(S):
        keep_a = torch.isin(mask_a, torch.tensor(sorted(S), dtype=torch.long))
        keep_b = torch.isin(mask_b, torch.tensor(sorted(S), dtype=torch.long))
        return loss(torch.where(keep_a, a, base_a), torch.where(keep_b, b, base_b), 2.0)

    phi = torch.as_tensor(_shapley(value, 5))
    out = KernelShap(loss).attribute(
        (a, b), baselines=(base_a, base_b), feature_mask=(mask_a, mask_b),
        additional_forward_args=2.0,
    )  # fmt: skip
    assert out[0].shape == (1, 3) and out[1].shape == (1, 2)
    torch.testing.assert_close(out[0][0].double(), phi[mask_a[0]], rtol=0, atol=1e-5)
    torch.testing.assert_close(out[1][0].double(), phi[mask_b[0]], rtol=0, atol=1e-5)
    flat = KernelShap(loss).attribute(
        (a, b), baselines=(base_a, base_b), feature_mask=(mask_a, mask_b),
        additional_forward_args=2.0, return_input_shape=False,
    )  # fmt: skip
    torch.testing.assert_close(flat.double(), phi[None], rtol=0, atol=1e-5)
    lime = Lime(loss, seed=0).attribute((a, b), additional_forward_args=2.0, n_samples=30)
    assert lime[0].shape == (1, 3) and lime[1].shape == (1, 2)
    with pytest.raises(ValueError, match="one number for the whole batch.*target=None"):
        KernelShap(loss).attribute((a, b), target=0, additional_forward_args=2.0)


def test_seed_none_draws_from_torchs_global_generator(rng):
    """seed=None: one draw per example, in order, so a batch equals its examples explained one
    call at a time after the same torch.manual_seed, as captum explains a batch."""
    model = torch.nn.Sequential(torch.nn.Linear(12, 1), torch.nn.Tanh()).double()
    x = _weights(rng, 2, 12)
    for explainer in (KernelShap(model), Lime(model, style="lime")):
        torch.manual_seed(5)
        a = explainer.attribute(x, n_samples=60)
        after = torch.rand(1)
        torch.manual_seed(5)
        one_by_one = torch.cat([explainer.attribute(x[i : i + 1], n_samples=60) for i in (0, 1)])
        torch.testing.assert_close(a, one_by_one, rtol=0, atol=0)
        torch.manual_seed(5)
        torch.randint(0, 2**62, (2,))  # one draw per example
        assert torch.equal(torch.rand(1), after)
        assert not torch.equal(a, explainer.attribute(x, n_samples=60))


@pytest.mark.parametrize(
    "call",
    [
        dict(target=1),
        dict(target=[0, 2, 1], n_samples=80, baselines=0.3),
        dict(target=2, feature_mask=torch.tensor([[1, 1, 3, 3, 4, 6]])),  # ids as skimage's
        dict(target=0, feature_mask=torch.tensor([[0, 0, 1, 2, 2, 3]]), return_input_shape=False),
    ],
    ids=["default", "targets", "sparse-ids", "coefs"],
)
def test_default_lime_equals_captums_after_the_same_seed(rng, call):
    """Lime's defaults are captum's: the same perturbations from torch's global generator, the
    same kernel and Lasso, so the numbers and the generator's state afterwards are equal."""
    captum_attr = pytest.importorskip("captum.attr")
    # outputs of a few units (tanh, then scaled by 5): large enough that captum's Lasso
    # (alpha 0.01) keeps some coefficient, so the comparison below means something
    model = torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.Tanh(), torch.nn.Linear(3, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.as_tensor(rng.normal(size=tuple(p.shape))))
        model[2].weight.mul_(5.0)
    x = torch.as_tensor(rng.normal(size=(3, 6)), dtype=torch.float32)
    seed = int(rng.integers(1 << 30))
    torch.manual_seed(seed)
    ours = Lime(model).attribute(x, **call)
    ours_next = torch.rand(3)
    torch.manual_seed(seed)
    with pytest.warns(UserWarning, match="multiple inputs"):
        ref = captum_attr.Lime(model).attribute(x, **call)
    assert torch.equal(torch.rand(3), ours_next)
    assert ours.shape == ref.shape and float(ref.abs().max()) > 1e-3
    # float32 rounding of coefficients up to about 10 (the Lasso's, on both sides)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)


def test_explicit_seed_wins_and_leaves_global_state_alone(rng):
    model = torch.nn.Linear(12, 1).double()
    x = _weights(rng, 2, 12)
    state = torch.get_rng_state()
    a = KernelShap(model, seed=9).attribute(x, n_samples=40)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(123)
    torch.testing.assert_close(KernelShap(model, seed=9).attribute(x, n_samples=40), a)


def test_show_progress_prints_captums_label(rng, capsys):
    model = torch.nn.Linear(4, 1).double()
    KernelShap(model, seed=0).attribute(_weights(rng, 1, 4), show_progress=True)
    Lime(model, seed=0).attribute(_weights(rng, 1, 4), show_progress=True, n_samples=10)
    err = capsys.readouterr().err
    assert "Kernel Shap attribution: 100%" in err and "Lime attribution: 100%" in err


def test_lime_with_captums_parts_matches_captum(rng):
    captum_attr = pytest.importorskip("captum.attr")
    pytest.importorskip("sklearn")
    from captum._utils.models.linear_model import SkLearnLasso
    from captum.attr._core.lime import get_exp_kernel_similarity_function

    model = torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.Tanh()).double()
    x = _weights(rng, 2, 6)
    mask = torch.tensor([[0, 0, 1, 2, 2, 3]])
    draws = torch.as_tensor(rng.random((40, 4)) < 0.5).long()

    def perturb(original, **kwargs):  # the same perturbations for both libraries
        yield from (d[None] for d in draws)

    sim = get_exp_kernel_similarity_function("cosine", 2.0)
    ours = Lime(model, SkLearnLasso(alpha=0.001), sim, perturb).attribute(
        x, target=2, feature_mask=mask, n_samples=40
    )
    with pytest.warns(UserWarning, match="multiple inputs"):  # captum fits per example too
        ref = captum_attr.Lime(model, SkLearnLasso(alpha=0.001), sim, perturb).attribute(
            x, target=2, feature_mask=mask, n_samples=40
        )
    torch.testing.assert_close(ours.float(), ref.float(), rtol=0, atol=1e-5)
    assert float(ours.abs().max()) > 1e-3


def test_lime_rejects_an_interpretable_model_without_fit():
    with pytest.raises(TypeError, match="fit\\(DataLoader\\) and representation"):
        Lime(lambda t: t.sum(1), interpretable_model=object())


def test_compute_convergence_delta_matches_attribute_and_captum(rng):
    captum_attr = pytest.importorskip("captum.attr")
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    model = model.double()
    x, b = _weights(rng, 3, 5), _weights(rng, 3, 5)
    ig = IntegratedGradients(model)
    attr, delta = ig.attribute(x, b, target=1, n_steps=7, return_convergence_delta=True)
    ours = ig.compute_convergence_delta(attr, b, x, target=1)
    torch.testing.assert_close(ours, delta, rtol=0, atol=1e-12)
    ref = captum_attr.IntegratedGradients(model).compute_convergence_delta(attr, b, x, target=1)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-10)
    gs = GradientShap(model, seed=0)
    torch.testing.assert_close(gs.compute_convergence_delta(attr, b, x, target=1), ours)
    with pytest.raises(ValueError, match="start_point of shape"):
        ig.compute_convergence_delta(attr, b[:2], x, target=1)
    with pytest.raises(ValueError, match="attributions must have the shapes"):
        ig.compute_convergence_delta(attr[:, :2], b, x, target=1)


def test_grad_cam_passes_grad_kwargs_to_autograd(rng):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)

        def forward(self, x):
            self.unused(x)
            return self.used(x)

    net = Net().double()
    x = _weights(rng, 2, 3)
    cam = LayerGradCam(net, net.unused).attribute(
        x, target=0, grad_kwargs={"materialize_grads": True}
    )
    assert torch.equal(cam, torch.zeros(2, 1, dtype=torch.float64))
    with pytest.raises(TypeError, match="grad_kwargs must be None or a dict"):
        LayerGradCam(net, net.used).attribute(x, target=0, grad_kwargs=[1])


def test_attribute_future_is_not_implemented():
    for explainer in (Saliency(lambda t: t.sum(1)), KernelShap(lambda t: t.sum(1))):
        with pytest.raises(NotImplementedError, match="attribute_future is not implemented"):
            explainer.attribute_future()


def test_one_element_tensor_target_and_explicit_captum_defaults(rng):
    model = torch.nn.Linear(4, 3).double()
    x = _weights(rng, 2, 4)
    ks = KernelShap(model, seed=4)
    ref = ks.attribute(x, target=2)
    got = ks.attribute(
        x,
        target=torch.tensor([2]),
        additional_forward_args=None,
        perturbations_per_eval=1,
        return_input_shape=True,
    )
    torch.testing.assert_close(got, ref, rtol=0, atol=0)


def test_tuple_targets_index_outputs_with_several_axes(rng):
    w = _weights(rng, 3, 2, 4)

    class Net(torch.nn.Module):  # outputs (n, 2, 4)
        def forward(self, x):
            return torch.tanh(torch.einsum("nd,dab->nab", x, w.to(x.dtype)))

    x = _weights(rng, 3, 3)
    targets = [(1, 3), (0, 0), (1, 2)]
    for cls in (KernelShap, Lime):
        got = cls(Net(), seed=2).attribute(x, target=targets)
        flat = cls(lambda t: Net()(t).reshape(len(t), -1), seed=2)
        ref = flat.attribute(x, target=[a * 4 + b for a, b in targets])
        torch.testing.assert_close(got, ref, rtol=0, atol=1e-12)
    total = KernelShap(Net(), seed=2).attribute(x, target=targets).sum(1)
    out, zero = Net()(x), Net()(torch.zeros_like(x))
    want = torch.stack([out[i, a, b] - zero[i, a, b] for i, (a, b) in enumerate(targets)])
    torch.testing.assert_close(total, want, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="out of range for output axis 2 of size 4"):
        KernelShap(Net()).attribute(x, target=(0, 4))
    with pytest.raises(ValueError, match="holds 3 indices per example"):
        KernelShap(Net()).attribute(x, target=(0, 1, 0))


@pytest.mark.parametrize("cls", [KernelShap, Lime])
def test_additional_forward_args_equal_wrapping_the_model(rng, cls):
    W = torch.as_tensor(rng.normal(size=(6, 2)))
    scale = torch.as_tensor(rng.uniform(0.5, 2.0, size=(4, 1)))  # one per example: batch axis
    shift = float(rng.normal())

    def f(x, s, c):
        return torch.tanh(x @ W) * s + c

    x = torch.as_tensor(rng.normal(size=(4, 6)))
    got = cls(f, seed=3).attribute(x, target=1, additional_forward_args=(scale, shift))
    assert float(got.abs().max()) > 1e-3
    for i in range(4):  # oracle: example i alone, its extra arguments bound into the model
        alone = cls(lambda t, i=i: f(t, scale[i : i + 1].expand(len(t), 1), shift), seed=3)
        want = alone.attribute(x[i : i + 1], target=1)
        torch.testing.assert_close(got[i : i + 1], want, rtol=1e-10, atol=1e-12)


def test_noise_tunnel_wraps_captums_own_methods(rng):
    captum_attr = pytest.importorskip("captum.attr")
    from xai_fast import NoiseTunnel

    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    net = net.double()
    x = torch.as_tensor(rng.normal(size=(3, 5)))
    ours = NoiseTunnel(captum_attr.Saliency(net), seed=0)
    plain = NoiseTunnel(Saliency(net), seed=0)
    kw = dict(nt_type="smoothgrad", nt_samples=4, stdevs=0.3, target=2)
    torch.testing.assert_close(
        ours.attribute(x, **kw), plain.attribute(x, **kw), rtol=1e-10, atol=0
    )

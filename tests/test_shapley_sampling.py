"""ShapleyValueSampling and ShapleyValues: captum's numbers after the same seed, exact values
against brute force, the design's pieces against small hand cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from small_models import small_cnn

from xai_fast import KernelShap, ShapleyValues, ShapleyValueSampling
from xai_fast.explainers.shapley_sampling import permutation_values, prefix_design


def _quadrants(shift=0):
    r = torch.arange(8)
    return (r[:, None] // 4 * 2 + r[None] // 4)[None, None] + shift


def test_prefix_design_and_values_on_a_hand_case():
    perms = np.array([[2, 0, 1], [1, 2, 0]])
    Z = prefix_design(perms)
    expected = [[0, 0, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 0], [0, 1, 1], [1, 1, 1]]
    np.testing.assert_array_equal(Z.astype(int), expected)
    weights = torch.tensor([1.0, 10.0, 100.0])

    def game(z):  # additive with one interaction between features 0 and 2
        return (z * weights).sum(-1) + 1000.0 * z[:, 0] * z[:, 2]

    v = game(torch.as_tensor(Z, dtype=torch.float64))[None]
    phi = permutation_values(v, perms)
    # feature 0 joins after 2 in the first permutation (gets the interaction), last in the
    # second (after 2 too): 1 + 1000 both times; 2 joins first then second: 100, 100
    torch.testing.assert_close(phi[0], torch.tensor([1001.0, 10.0, 100.0], dtype=torch.float64))


@pytest.mark.parametrize(
    "call",
    [
        dict(target=1, feature_mask=_quadrants()),
        dict(target=[0, 1, 2], feature_mask=_quadrants(2), baselines=0.3, n_samples=10),
        dict(target=3, feature_mask=_quadrants(), n_samples=1),
    ],
    ids=["default", "ids-from-2-targets", "one-permutation"],
)
def test_sampling_equals_captum_after_the_same_seed(rng, call):
    captum_attr = pytest.importorskip("captum.attr")
    net = small_cnn(int(rng.integers(1000)))
    x = torch.as_tensor(rng.normal(size=(3, 3, 8, 8)), dtype=torch.float32)
    seed = int(rng.integers(1 << 30))
    torch.manual_seed(seed)
    ours = ShapleyValueSampling(net).attribute(x, **call)
    after = torch.rand(2)
    torch.manual_seed(seed)
    ref = captum_attr.ShapleyValueSampling(net).attribute(x, **call)
    assert torch.equal(torch.rand(2), after)  # the same draws from the global generator
    assert ours.dtype == ref.dtype == torch.float32 and float(ref.abs().max()) > 1e-4
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)


def test_exact_values_equal_brute_force_captum_and_kernel_shap(rng):
    w = torch.as_tensor(rng.normal(size=4))

    def f(t):  # interactions between every pair
        return torch.tanh(t @ w) * (1 + t[:, 0] * t[:, 3])

    x = torch.as_tensor(rng.normal(size=(2, 4)))
    ours = ShapleyValues(f).attribute(x)
    for i in range(2):  # brute force over the 4! orders
        phi = torch.zeros(4, dtype=torch.float64)
        for order in itertools.permutations(range(4)):
            keep = torch.zeros(4, dtype=torch.bool)
            prev = f(torch.where(keep, x[i], 0.0)[None])[0]
            for j in order:
                keep[j] = True
                cur = f(torch.where(keep, x[i], 0.0)[None])[0]
                phi[j] += cur - prev
                prev = cur
        torch.testing.assert_close(ours[i].double(), phi / math.factorial(4), rtol=0, atol=1e-6)
    exact = KernelShap(f).attribute(x)  # full enumeration: exact too
    torch.testing.assert_close(ours.double(), exact.double(), rtol=0, atol=1e-6)
    captum_attr = pytest.importorskip("captum.attr")
    torch.testing.assert_close(ours, captum_attr.ShapleyValues(f).attribute(x), rtol=0, atol=1e-6)


def test_negative_ids_stay_at_the_baseline_with_zero_as_captums(rng):
    """captum's ids start at 0: elements with a negative id are never added to a coalition."""
    w = torch.as_tensor(rng.normal(size=4))

    def f(t):
        return torch.tanh(t @ w) * (1 + t[:, 0] * t[:, 3])

    x = torch.as_tensor(rng.normal(size=(2, 4)))
    mask = torch.tensor([[-1, 0, 1, -3]])
    ours = ShapleyValues(f).attribute(x, feature_mask=mask)
    assert torch.all(ours[:, [0, 3]] == 0) and not torch.any(torch.signbit(ours[:, [0, 3]]))
    # oracle: the exact Shapley values of features 1, 2 with elements 0 and 3 fixed at 0
    for i in range(2):

        def v(s1, s2, i=i):
            z = torch.zeros(4, dtype=x.dtype)
            z[1], z[2] = x[i, 1] * s1, x[i, 2] * s2
            return f(z[None])[0]

        phi1 = (v(1, 0) - v(0, 0) + v(1, 1) - v(0, 1)) / 2
        phi2 = (v(0, 1) - v(0, 0) + v(1, 1) - v(1, 0)) / 2
        torch.testing.assert_close(ours[i, 1:3].double(), torch.stack([phi1, phi2]), rtol=0,
                                   atol=1e-6)  # fmt: skip
    torch.manual_seed(3)
    sampled = ShapleyValueSampling(f).attribute(x, feature_mask=mask, n_samples=4)
    captum_attr = pytest.importorskip("captum.attr")
    torch.testing.assert_close(ours, captum_attr.ShapleyValues(f).attribute(x, feature_mask=mask),
                               rtol=0, atol=1e-6)  # fmt: skip
    torch.manual_seed(3)
    ref = captum_attr.ShapleyValueSampling(f).attribute(x, feature_mask=mask, n_samples=4)
    torch.testing.assert_close(sampled, ref, rtol=0, atol=1e-6)
    every = torch.full((1, 4), -2)
    assert torch.all(ShapleyValues(f).attribute(x, feature_mask=every) == 0)


def test_explicit_seed_leaves_the_global_generator_alone_and_errors(rng):
    net = small_cnn(0)
    x = torch.as_tensor(rng.normal(size=(2, 3, 8, 8)), dtype=torch.float32)
    state = torch.get_rng_state()
    a = ShapleyValueSampling(net, seed=3).attribute(x, target=0, feature_mask=_quadrants())
    assert torch.equal(torch.get_rng_state(), state)
    b = ShapleyValueSampling(net, seed=3, batch_size=5).attribute(
        x, target=0, feature_mask=_quadrants()
    )
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)  # batching changes nothing
    with pytest.raises(ValueError, match="n_samples must be"):
        ShapleyValueSampling(net).attribute(x, target=0, n_samples=0)
    with pytest.raises(ValueError, match="at most 9 features"):
        ShapleyValues(net).attribute(x[:, :, :4, :4], target=0)  # 48 scalars
    with pytest.raises(ValueError, match="group the elements into fewer features"):
        big = torch.zeros(1, 3, 32, 32)  # 3,072 scalars, 25 permutations
        ShapleyValueSampling(net).attribute(big, target=0)


def test_outputs_per_example_without_target_keep_the_output_shape(rng):
    """captum's ShapleyValues without a target: attributions (N, k, *example), each output on
    its own example, with per-example feature masks."""
    w = torch.as_tensor(rng.normal(size=(3, 2)))

    def f(t):
        return torch.tanh(t @ w) * t.sum(1, keepdim=True)

    x = torch.as_tensor(rng.normal(size=(2, 3)))
    mask = torch.tensor([[0, 0, 1], [0, 1, 1]])  # each example its own grouping
    out = ShapleyValues(f).attribute(x, feature_mask=mask)
    assert out.shape == (2, 2, 3)
    for j in range(2):
        one = ShapleyValues(f).attribute(x, target=j, feature_mask=mask)
        torch.testing.assert_close(out[:, j], one, rtol=0, atol=1e-6)
    captum_attr = pytest.importorskip("captum.attr")
    ref = captum_attr.ShapleyValues(f).attribute(x, feature_mask=mask)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-5)

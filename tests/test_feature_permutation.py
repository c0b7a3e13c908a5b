"""FeaturePermutation: captum's numbers for the same torch seed, a closed form, its edge cases."""

from __future__ import annotations

import pytest
import torch
from small_models import small_cnn

from xai_fast import FeaturePermutation
from xai_fast.explainers.feature_permutation import permute_feature


def _seeded(fn, seed):
    torch.manual_seed(seed)
    return fn()


def test_linear_model_closed_form(rng):
    """For f(x) = x @ w, the attribution of feature j on example e is
    sum over its elements of (x[e] - x[perm_j[e]]) * w, with perm_j the permutation drawn for j."""
    w = torch.as_tensor(rng.normal(size=6))
    x = torch.as_tensor(rng.normal(size=(5, 6)))
    mask = torch.tensor([[0, 0, 1, 2, 2, 1]])
    seed = int(rng.integers(2**31))
    out = _seeded(lambda: FeaturePermutation(lambda t: t @ w).attribute(x, feature_mask=mask), seed)
    torch.manual_seed(seed)
    expected = torch.zeros_like(x)
    for j in range(3):  # captum's draws: one randperm per feature, again while the identity
        perm = torch.randperm(5)
        while torch.equal(perm, torch.arange(5)):
            perm = torch.randperm(5)
        cols = mask[0] == j
        expected[:, cols] = ((x[:, cols] - x[perm][:, cols]) * w[cols]).sum(1, keepdim=True)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("ppe", [1, 4])
@pytest.mark.parametrize(
    "call",
    [
        dict(target=2),  # every scalar is a feature
        dict(target=[0, 1, 3, 2], feature_mask=(torch.arange(64).reshape(1, 1, 8, 8) // 16)),
    ],
    ids=["every-scalar", "row-bands"],
)
def test_equals_captum_for_the_same_seed(rng, call, ppe):
    captum_attr = pytest.importorskip("captum.attr")
    net = small_cnn(int(rng.integers(1000)))
    x = torch.as_tensor(rng.normal(size=(4, 3, 8, 8)), dtype=torch.float32)
    seed = int(rng.integers(2**31))
    ours = _seeded(
        lambda: FeaturePermutation(net).attribute(x, perturbations_per_eval=ppe, **call), seed
    )
    ref = _seeded(
        lambda: captum_attr.FeaturePermutation(net).attribute(
            x, perturbations_per_eval=ppe, **call
        ),
        seed,
    )
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert float(ref.abs().max()) > 1e-4
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)


def test_tuple_inputs_shared_feature_loss_and_custom_perm_func_equal_captum(rng):
    captum_attr = pytest.importorskip("captum.attr")
    u, v = torch.as_tensor(rng.normal(size=4)), torch.as_tensor(rng.normal(size=2))

    def f(a, b):
        return torch.tanh(a @ u) * (b @ v)

    a, b = torch.as_tensor(rng.normal(size=(6, 4))), torch.as_tensor(rng.normal(size=(6, 2)))
    masks = (torch.tensor([[0, 1, 2, 2]]), torch.tensor([[1, 3]]))  # id 1 in both tensors
    seed = int(rng.integers(2**31))
    for fn, kw in [
        (f, dict(target=None, feature_mask=masks, perturbations_per_eval=3)),
        (lambda a, b: f(a, b).pow(2).mean(), dict(feature_mask=masks)),  # one number per batch
    ]:
        ours = _seeded(lambda: FeaturePermutation(fn).attribute((a, b), **kw), seed)  # noqa: B023
        ref = _seeded(lambda: captum_attr.FeaturePermutation(fn).attribute((a, b), **kw), seed)  # noqa: B023
        for o, r in zip(ours, ref, strict=True):
            assert o.shape == r.shape
            torch.testing.assert_close(o, r, rtol=0, atol=1e-12)

    def reverse(x, mask):  # a deterministic perm_func: the batch in reverse order
        return torch.where(mask, x.flip(0), x)

    ours = FeaturePermutation(f, perm_func=reverse).attribute((a, b), feature_mask=masks)
    ref = captum_attr.FeaturePermutation(f, perm_func=reverse).attribute((a, b), feature_mask=masks)
    for o, r in zip(ours, ref, strict=True):
        torch.testing.assert_close(o, r, rtol=0, atol=1e-12)


def test_a_constant_feature_gets_zero_and_batching_changes_nothing(rng):
    net = small_cnn(int(rng.integers(1000)))
    x = torch.as_tensor(rng.normal(size=(5, 3, 8, 8)), dtype=torch.float32)
    x[:, 0, :2] = 3.0  # the same in every example: permuting it changes nothing
    mask = torch.arange(3 * 64).reshape(1, 3, 8, 8) // 16
    seed = int(rng.integers(2**31))
    call = dict(target=1, feature_mask=mask)
    one = _seeded(lambda: FeaturePermutation(net, batch_size=7).attribute(x, **call), seed)
    other = _seeded(lambda: FeaturePermutation(net).attribute(x, **call), seed)
    assert torch.equal(one, other)
    assert float(one[:, 0, :2].abs().max()) < 1e-6  # rounding of batches of other sizes only
    # every other feature moves some example (an example the permutation keeps in place gets 0)
    per_feature = one.abs().amax(0).reshape(-1)
    assert (per_feature[mask.reshape(-1) > 0] > 0).all()


def test_permute_feature_moves_only_the_masked_elements():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 5)
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[1, 2:] = True
    out = permute_feature(x, mask)
    assert torch.equal(out[:, ~mask], x[:, ~mask])
    assert not torch.equal(out[:, mask], x[:, mask])
    assert torch.equal(out[:, mask].sort(0).values, x[:, mask].sort(0).values)  # a permutation


def test_fewer_than_two_examples_give_zeros_and_bad_masks_are_refused(caplog):
    fp = FeaturePermutation(lambda t: t.sum(1))
    assert torch.equal(fp.attribute(torch.tensor([[1.0, 2.0]])), torch.zeros(1, 2))
    assert "fewer than 2 examples" in caplog.text
    x = torch.randn(3, 4)
    with pytest.raises(ValueError, match="first dimension must be 1"):
        fp.attribute(x, feature_mask=torch.arange(12).reshape(3, 4))  # rows that differ
    with pytest.raises(ValueError, match="does not broadcast"):
        fp.attribute(x, feature_mask=torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="integer ids"):
        fp.attribute(x, feature_mask=torch.full((1, 4), 0.5))
    with pytest.raises(TypeError, match="perm_func must be a callable"):
        FeaturePermutation(lambda t: t.sum(1), perm_func=3)
    with pytest.raises(TypeError, match="unexpected keyword"):
        FeaturePermutation(lambda t: t.sum(1), n_samples=3)


def test_attribute_future_waits_for_the_forward(rng):
    net = small_cnn(int(rng.integers(1000)))
    x = torch.as_tensor(rng.normal(size=(3, 3, 8, 8)), dtype=torch.float32)

    def future_forward(t):
        fut = torch.futures.Future()
        fut.set_result(net(t))
        return fut

    seed = int(rng.integers(2**31))
    mask = torch.arange(64).reshape(1, 1, 8, 8) // 16
    fut = _seeded(
        lambda: FeaturePermutation(future_forward).attribute_future(x, target=0, feature_mask=mask),
        seed,
    )
    assert isinstance(fut, torch.Future)
    plain = _seeded(lambda: FeaturePermutation(net).attribute(x, target=0, feature_mask=mask), seed)
    torch.testing.assert_close(fut.wait(), plain, rtol=0, atol=1e-6)
    with pytest.raises(TypeError, match="returns torch.futures.Future") as err:
        FeaturePermutation(net).attribute_future(x, target=0, feature_mask=mask)
    assert isinstance(err.value, AssertionError)  # captum's error type too
    with pytest.raises(TypeError, match=r"Call attribute_future\(") as err:
        FeaturePermutation(future_forward).attribute(x, target=0, feature_mask=mask)
    assert isinstance(err.value, AssertionError)


def test_min_examples_per_batch_grouped_skips_or_permutes(rng, caplog):
    x = torch.as_tensor(rng.normal(size=(3, 4)), dtype=torch.float32)
    w = torch.as_tensor(rng.normal(size=4), dtype=torch.float32)
    fp = FeaturePermutation(lambda t: t @ w)
    ref = _seeded(lambda: fp.attribute(x), 5)
    assert (ref != 0).any()
    fp._min_examples_per_batch_grouped = 3  # 3 examples: still permuted, the same draws
    assert torch.equal(_seeded(lambda: fp.attribute(x), 5), ref)
    fp._min_examples_per_batch_grouped = 4
    assert torch.equal(fp.attribute(x), torch.zeros_like(x))
    assert "fewer than 4 examples" in caplog.text
    for low in (1, None):  # a batch of one is then permuted, and refused (captum: an assert)
        fp._min_examples_per_batch_grouped = low
        with pytest.raises(ValueError, match="at least 2 examples") as err:
            fp.attribute(x[:1])
        assert isinstance(err.value, AssertionError)
    fp._min_examples_per_batch_grouped = 0
    with pytest.raises(ValueError, match="_min_examples_per_batch_grouped"):
        fp.attribute(x)


def test_an_empty_batch_gives_zeros_shaped_by_the_output():
    empty = torch.zeros(0, 3)
    assert FeaturePermutation(lambda t: t.sum(1)).attribute(empty).shape == (0, 3)
    total = FeaturePermutation(lambda t: t.sum()).attribute(empty)  # one number per batch
    assert torch.equal(total, torch.zeros(1, 3))


def test_a_mask_with_one_equal_row_per_example_is_the_examples_mask(rng):
    x = torch.as_tensor(rng.normal(size=(4, 2, 3)), dtype=torch.float32)
    net = lambda t: t.flatten(1).tanh().sum(1)  # noqa: E731
    mask = torch.as_tensor(rng.integers(0, 3, size=(1, 2, 3)))
    ref = _seeded(lambda: FeaturePermutation(net).attribute(x, feature_mask=mask), 7)
    rows = mask.expand(4, 2, 3)
    ours = _seeded(lambda: FeaturePermutation(net).attribute(x, feature_mask=rows), 7)
    assert torch.equal(ours, ref)
    other = rows.clone()
    other[2] = (other[2] + 1) % 3
    with pytest.raises(ValueError, match="same ids in every row"):
        FeaturePermutation(net).attribute(x, feature_mask=other)

"""FeatureAblation: captum's arguments and numbers, a closed form, batching that changes
nothing."""

from __future__ import annotations

import pytest
import torch
from small_models import small_cnn

from xai_fast import FeatureAblation, Occlusion


def _patches(side=8, patch=4):
    r = torch.arange(side)
    return (r[:, None] // patch * (side // patch) + r[None] // patch)[None, None]


def test_linear_model_closed_form(rng):
    w = torch.as_tensor(rng.normal(size=6))
    x = torch.as_tensor(rng.normal(size=(3, 6)))
    b = torch.as_tensor(rng.normal(size=6))
    mask = torch.tensor([[0, 0, 1, 2, 2, 2]])
    out = FeatureAblation(lambda t: t @ w).attribute(x, baselines=b, feature_mask=mask)
    per_element = (x - b) * w
    expected = torch.stack([per_element[:, mask[0] == j].sum(1) for j in range(3)], dim=1)[
        :, mask[0]
    ]  # each element carries its feature's total
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        dict(target=2, feature_mask=_patches()),
        dict(target=[0, 1, 3], feature_mask=_patches(), baselines=0.5),
        dict(target=torch.tensor([1]), feature_mask=_patches(8, 2)),
        dict(target=1),  # no mask: every scalar is a feature
    ],
    ids=["patches", "targets-baseline", "one-element-target", "every-scalar"],
)
def test_equals_captum(rng, call):
    _same_as_captum(rng, FeatureAblation, "FeatureAblation", call)


def _same_as_captum(rng, ours_cls, name: str, call: dict) -> None:
    """Ours and captum's class ``name`` on a fresh random CNN and images: equal to 1e-6."""
    captum_attr = pytest.importorskip("captum.attr")
    net = small_cnn(int(rng.integers(1000)))
    x = torch.as_tensor(rng.normal(size=(3, 3, 8, 8)), dtype=torch.float32)
    ours = ours_cls(net).attribute(x, **call)
    ref = getattr(captum_attr, name)(net).attribute(x, perturbations_per_eval=5, **call)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert float(ref.abs().max()) > 1e-4
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)


def test_tuple_inputs_extra_args_and_one_number_per_batch_equal_captum(rng):
    captum_attr = pytest.importorskip("captum.attr")
    u, v = torch.as_tensor(rng.normal(size=3)), torch.as_tensor(rng.normal(size=2))

    def f(a, b, scale):
        return torch.tanh(a @ u) * (b @ v) * scale

    a, b = torch.as_tensor(rng.normal(size=(4, 3))), torch.as_tensor(rng.normal(size=(4, 2)))
    masks = (torch.tensor([[0, 1, 1]]), torch.tensor([[1, 2]]))  # id 1 spans both tensors
    for kw in (dict(feature_mask=masks), dict()):
        ours = FeatureAblation(f).attribute((a, b), additional_forward_args=(2.0,), **kw)
        ref = captum_attr.FeatureAblation(f).attribute((a, b), additional_forward_args=(2.0,), **kw)
        for o, r in zip(ours, ref, strict=True):
            torch.testing.assert_close(o, r, rtol=0, atol=1e-12)

    def loss(t):  # one number for the whole batch
        return (t @ u).pow(2).sum()

    x = torch.as_tensor(rng.normal(size=(5, 3)))
    ours = FeatureAblation(loss).attribute(x, feature_mask=torch.tensor([[0, 0, 1]]))
    ref = captum_attr.FeatureAblation(loss).attribute(x, feature_mask=torch.tensor([[0, 0, 1]]))
    assert ours.shape == (1, 3)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)


def test_batching_changes_nothing_and_arguments_are_checked(rng):
    net = small_cnn(0)
    x = torch.as_tensor(rng.normal(size=(3, 3, 8, 8)), dtype=torch.float32)
    ref = FeatureAblation(net).attribute(x, target=0, feature_mask=_patches())
    for bs in (1, 5, 64):
        out = FeatureAblation(net, batch_size=bs).attribute(
            x, target=0, feature_mask=_patches(), perturbations_per_eval=3
        )
        torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="perturbations_per_eval"):
        FeatureAblation(net).attribute(x, target=0, perturbations_per_eval=0)
    with pytest.raises(TypeError, match="unexpected keyword.*n_samples"):
        FeatureAblation(net).attribute(x, target=0, n_samples=10)
    with pytest.raises(TypeError, match="unexpected keyword"):
        FeatureAblation(net, seed=0)


def test_attributions_take_the_model_outputs_dtype(rng):
    x = torch.as_tensor(rng.normal(size=(2, 3)), dtype=torch.float32)
    mask = torch.tensor([[0, 0, 1]])
    as_int = FeatureAblation(lambda t: int((t * 10).sum())).attribute(x, feature_mask=mask)
    as_float = FeatureAblation(lambda t: float(t.sum())).attribute(x, feature_mask=mask)
    as_double = FeatureAblation(lambda t: t.double().sum(1)).attribute(x, feature_mask=mask)
    assert (as_int.dtype, as_float.dtype, as_double.dtype) == (
        torch.int64,
        torch.float64,
        torch.float64,
    )
    total = (x * 10).sum().double()
    ablated0 = (x[:, 2] * 10).sum().double()
    assert int(as_int[0, 0]) == int(total) - int(ablated0 + (x[:, :2] * 0).sum())


class _DoubleOut(torch.nn.Module):
    """A float32 linear module whose outputs are float64; it counts the rows it is given."""

    def __init__(self, w):
        super().__init__()
        self.lin = torch.nn.Linear(len(w), 1, bias=False)
        self.lin.weight.data = torch.as_tensor(w, dtype=torch.float32)[None]
        self.rows = 0

    def forward(self, t):
        self.rows += t.shape[0]
        return self.lin(t).double()


def test_module_output_dtype_needs_no_extra_call(rng):
    """A module's output dtype (float64 here, from float32 inputs) is read off the ablated
    rows: the model sees N * (M + 1) rows, no extra forward on the inputs."""
    w = rng.normal(size=5)
    net = _DoubleOut(w)
    x = torch.as_tensor(rng.normal(size=(3, 5)), dtype=torch.float32)
    mask = torch.tensor([[0, 0, 1, 2, 2]])
    out = FeatureAblation(net).attribute(x, feature_mask=mask)
    assert out.dtype == torch.float64 and net.rows == 3 * (3 + 1)
    contrib = x.double() * torch.as_tensor(w, dtype=torch.float32).double()  # (3, 5)
    group = torch.stack([contrib[:, :2].sum(1), contrib[:, 2], contrib[:, 3:].sum(1)], 1)
    torch.testing.assert_close(out, group[:, mask[0]], rtol=1e-5, atol=1e-5)
    captum_attr = pytest.importorskip("captum.attr")
    ref = captum_attr.FeatureAblation(net).attribute(x, feature_mask=mask)
    assert ref.dtype == out.dtype
    torch.testing.assert_close(out, ref, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- Occlusion
@pytest.mark.parametrize(
    "call",
    [
        dict(sliding_window_shapes=(3, 4, 4), strides=(3, 4, 4), target=1),
        dict(sliding_window_shapes=(3, 3, 3), strides=(3, 2, 2), target=[0, 1, 2]),
        dict(sliding_window_shapes=(1, 5, 3), strides=(1, 2, 3), baselines=0.25, target=3),
        dict(sliding_window_shapes=(2, 2, 2), target=0),  # stride 1: overlapping windows
    ],
    ids=["tiles", "overlap-targets", "clipped-edges", "stride-1"],
)
def test_occlusion_equals_captum(rng, call):
    _same_as_captum(rng, Occlusion, "Occlusion", call)


def test_occlusion_closed_form_tuples_and_errors(rng):
    w = torch.arange(1.0, 6.0)
    x = torch.ones(1, 5, dtype=torch.float64)
    out = Occlusion(lambda t: (t * w).sum(1)).attribute(x, sliding_window_shapes=(2,))
    # windows [0,1] [1,2] [2,3] [3,4]: each element the mean of the windows that cover it
    torch.testing.assert_close(out, torch.tensor([[3.0, 4.0, 6.0, 8.0, 9.0]]))  # float32, as captum
    captum_attr = pytest.importorskip("captum.attr")
    a, b = torch.as_tensor(rng.normal(size=(3, 4))), torch.as_tensor(rng.normal(size=(3, 2, 3)))

    def g(a, b):
        return torch.tanh(a.sum(1) * b.sum((1, 2)))

    kw = dict(sliding_window_shapes=((2,), (1, 2)), strides=((1,), (1, 1)))
    for o, r in zip(
        Occlusion(g).attribute((a, b), **kw),
        captum_attr.Occlusion(g).attribute((a, b), **kw),
        strict=True,
    ):
        torch.testing.assert_close(o, r, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="strides .* must lie in 1..window"):
        Occlusion(g).attribute(a, sliding_window_shapes=(2,), strides=3)
    with pytest.raises(ValueError, match="one entry per axis"):
        Occlusion(g).attribute(a, sliding_window_shapes=(2, 2))
    with pytest.raises(ValueError, match="must fit examples"):
        Occlusion(g).attribute(a, sliding_window_shapes=(5,))


def test_an_output_of_fixed_size_gets_every_element_attributed(rng):
    """captum's rule for a forward whose output is not one per example: the batch is one
    example and attribution row ``o`` is output element ``o``'s drop per feature."""
    x = torch.as_tensor(rng.normal(size=(3, 4)))
    W = torch.as_tensor(rng.normal(size=(4, 2)))
    mask = torch.tensor([[0, 0, 1, 2]])

    def pooled(t):  # (1, 2) whatever the batch: a summary of the whole batch
        return (t @ W).sum(0, keepdim=True)

    out = FeatureAblation(pooled).attribute(x, feature_mask=mask)
    assert out.shape == (2, 4)
    contrib = (x.sum(0)[:, None] * W).T  # (2, 4): each element's share of each output
    expected = torch.stack([contrib[:, mask[0] == j].sum(1) for j in range(3)], 1)[:, mask[0]]
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="nothing for target to select"):
        FeatureAblation(pooled).attribute(x, target=1, feature_mask=mask)


def test_outputs_per_example_without_target_match_one_target_at_a_time(rng):
    captum_attr = pytest.importorskip("captum.attr")
    w = torch.as_tensor(rng.normal(size=(5, 3)))

    def f(t):  # (N, 3), one row per example
        return torch.tanh(t @ w)

    x = torch.as_tensor(rng.normal(size=(4, 5)))
    mask = torch.tensor([[0, 1, 1, 2, 3]])
    out = FeatureAblation(f).attribute(x, feature_mask=mask)  # captum: (N * 3, 5)
    ref = captum_attr.FeatureAblation(f).attribute(x, feature_mask=mask)
    assert out.shape == ref.shape == (12, 5)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    per_target = torch.stack(
        [FeatureAblation(f).attribute(x, target=j, feature_mask=mask) for j in range(3)], 1
    )  # (N, 3, 5)
    torch.testing.assert_close(out.reshape(4, 3, 5), per_target, rtol=0, atol=1e-12)


def test_captums_noise_tunnel_wraps_our_methods(rng):
    """captum's NoiseTunnel calls ``attribute.__wrapped__``: ours is a copy of ``attribute``."""
    import inspect

    captum_attr = pytest.importorskip("captum.attr")
    w = torch.as_tensor(rng.normal(size=5))
    x = torch.as_tensor(rng.normal(size=(3, 5)))
    ours = FeatureAblation(lambda t: torch.tanh(t @ w))
    tunnel = captum_attr.NoiseTunnel(ours)
    out = tunnel.attribute(x, nt_type="smoothgrad", nt_samples=3, stdevs=0.0)
    torch.testing.assert_close(out, ours.attribute(x), rtol=0, atol=1e-12)
    assert list(inspect.signature(FeatureAblation.attribute).parameters)[:3] == [
        "self", "inputs", "baselines",
    ]  # fmt: skip


def test_our_noise_tunnel_gathers_a_per_example_mask_per_copy(rng):
    """A feature mask with one row per example follows each noisy copy (captum repeats it)."""
    captum_attr = pytest.importorskip("captum.attr")
    from xai_fast import NoiseTunnel

    w = torch.as_tensor(rng.normal(size=4))

    def f(t):
        return torch.tanh(t @ w) * t[:, 0]

    x = torch.as_tensor(rng.normal(size=(3, 4)))
    mask = torch.tensor([[0, 0, 1, 2], [0, 1, 1, 1], [2, 2, 0, 1]])
    kw = dict(feature_mask=mask, nt_samples=4, stdevs=0.0)
    out = NoiseTunnel(FeatureAblation(f)).attribute(x, **kw)
    torch.testing.assert_close(out, FeatureAblation(f).attribute(x, feature_mask=mask),
                               rtol=0, atol=1e-12)  # fmt: skip
    torch.manual_seed(5)
    noisy = NoiseTunnel(FeatureAblation(f)).attribute(x, **dict(kw, stdevs=0.3))
    torch.manual_seed(5)
    ref = captum_attr.NoiseTunnel(captum_attr.FeatureAblation(f)).attribute(
        x, **dict(kw, stdevs=0.3)
    )
    torch.testing.assert_close(noisy, ref, rtol=0, atol=1e-10)
    assert float((noisy - out).abs().max()) > 1e-3  # the noise was applied


def test_examples_of_one_number_each(rng):
    """Inputs ``(N,)``: each example is one number, its own feature (captum's 0-d examples)."""
    x, b = torch.as_tensor(rng.normal(size=5)), torch.as_tensor(rng.normal(size=5))

    def f(t):
        return torch.tanh(t) * t

    gap = f(x) - f(b)  # one feature: the whole change of the output
    for out in (
        FeatureAblation(f).attribute(x, baselines=b),
        Occlusion(f).attribute(x, sliding_window_shapes=(), baselines=b),
    ):
        torch.testing.assert_close(out.double(), gap, rtol=0, atol=1e-6)
    captum_attr = pytest.importorskip("captum.attr")
    u = torch.as_tensor(rng.normal(size=(5, 3)))

    def g(s, t):
        return s * t.sum(1) + s.exp()

    kw = dict(sliding_window_shapes=((), (2,)), baselines=(0.5, 0.0))
    for o, r in zip(
        Occlusion(g).attribute((x, u), **kw),
        captum_attr.Occlusion(g).attribute((x, u), **kw),
        strict=True,
    ):
        assert o.shape == r.shape
        torch.testing.assert_close(o.double(), r.double(), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="one entry per axis"):
        Occlusion(f).attribute(x, sliding_window_shapes=(1,))


def test_inputs_without_examples_are_refused_clearly():
    with pytest.raises(ValueError, match=r"N >= 1 examples.*got shape \(0, 3\)"):
        FeatureAblation(lambda a: a.sum(1)).attribute(torch.ones(0, 3))
    empty = (torch.ones(0, 3), torch.ones(0))  # a tuple: every tensor without rows
    with pytest.raises(ValueError, match=r"N >= 1 examples; every tensor has 0 rows"):
        FeatureAblation(lambda a, b: a.sum(1)).attribute(empty)

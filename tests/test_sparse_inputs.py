"""Sparse inputs of captum's perturbation family: a tuple whose tensors have different first
dimensions (dense rows next to an index list), with a forward that returns one output for the
whole batch. The batch is explained as one example, as captum explains it; captum is the
oracle for values, shapes and dtypes."""

from __future__ import annotations

import logging

import pytest
import torch

from xai_fast import (
    FeatureAblation,
    FeaturePermutation,
    KernelShap,
    Lime,
    Occlusion,
    ShapleyValues,
    ShapleyValueSampling,
)

captum_attr = pytest.importorskip("captum.attr")

# float64 models: the same sums in another order; float32 where captum accumulates in it
TOL = {torch.float64: dict(rtol=0, atol=1e-10), torch.float32: dict(rtol=1e-6, atol=1e-5)}


class Embedded(torch.nn.Module):
    """One number for a batch of dense rows ``(N, d)`` and an index list ``(L,)`` or ``(L, 2)``
    of any length: row-weighted dense terms plus position-weighted embeddings of the ids (so
    that shuffling rows or ids changes the output)."""

    def __init__(self, rng, d: int, vocab: int = 12, longest: int = 16):
        super().__init__()
        self.w = torch.as_tensor(rng.normal(size=d))
        self.rows = torch.as_tensor(rng.normal(size=longest))
        self.emb = torch.as_tensor(rng.normal(size=vocab))
        self.pos = torch.as_tensor(rng.normal(size=longest))

    def forward(self, dense, ids):
        n = dense.shape[0]
        out = ((dense @ self.w) * self.rows[:n]).sum() + (dense[:, 0] ** 2).sum()
        if ids.numel():
            per_id = self.emb[ids.long()].reshape(ids.shape[0], -1).sum(1)
            out = out + (per_id * self.pos[: ids.shape[0]]).sum()
        return out


def _inputs(rng, kind: str):
    """Dense rows ``(N, 3)`` and sparse ids of ``kind``, their first dimension not ``N``."""
    N = int(rng.integers(2, 5))
    dense = torch.as_tensor(rng.normal(size=(N, 3)))
    L = int(rng.choice([n for n in range(4, 10) if n != N]))
    ids = {
        "index-list": lambda: torch.as_tensor(rng.integers(1, 12, size=L)),
        "one-index": lambda: torch.as_tensor(rng.integers(1, 12, size=1)),
        "pairs": lambda: torch.as_tensor(rng.integers(1, 12, size=(L, 2))),
        "empty": lambda: torch.tensor([]),
    }[kind]()
    return dense, ids


def _same(ours, ref) -> None:
    assert isinstance(ours, tuple) and len(ours) == len(ref)
    for o, r in zip(ours, ref, strict=True):
        assert o.shape == r.shape and o.dtype == r.dtype
        torch.testing.assert_close(o, r, **TOL[r.dtype])


def _ids_mask(ids):
    return torch.tensor(1) if ids.dim() == 1 else torch.tensor([[1, 3]])


def _windows(ids):
    return ((2,), (1,) * (ids.dim() - 1))


CASES = {  # name -> (class name, call options from the ids)
    "ablation": ("FeatureAblation", lambda ids: {}),
    "ablation-baselines": ("FeatureAblation", lambda ids: dict(baselines=(0.5, 2))),
    "ablation-cross-tensor-mask": (  # id 1 in both tensors, id 3 in the ids alone
        "FeatureAblation",
        lambda ids: dict(feature_mask=(torch.tensor([[0, 1, 0]]), _ids_mask(ids))),
    ),
    "permutation": ("FeaturePermutation", lambda ids: {}),
    "shapley-values": ("ShapleyValues", lambda ids: {}),
    "shapley-sampling": ("ShapleyValueSampling", lambda ids: dict(n_samples=3)),
    "occlusion": ("Occlusion", lambda ids: dict(sliding_window_shapes=_windows(ids))),
}
OURS = {
    "FeatureAblation": FeatureAblation,
    "FeaturePermutation": FeaturePermutation,
    "ShapleyValues": ShapleyValues,
    "ShapleyValueSampling": ShapleyValueSampling,
    "Occlusion": Occlusion,
}


@pytest.mark.parametrize("kind", ["index-list", "one-index", "pairs"])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("module", [True, False], ids=["module", "callable"])
def test_equals_captum(rng, kind, case, module):
    name, options = CASES[case]
    dense, ids = _inputs(rng, kind)
    net = Embedded(rng, 3)
    forward = net if module else (lambda a, b: net(a, b))
    call = options(ids)
    seed = int(rng.integers(2**31))
    logging.disable(logging.WARNING)  # captum logs the skipped features of one-index
    try:
        torch.manual_seed(seed)
        ref = getattr(captum_attr, name)(forward).attribute((dense, ids), **call)
    finally:
        logging.disable(logging.NOTSET)
    torch.manual_seed(seed)
    ours = OURS[name](forward).attribute((dense, ids), **call)
    _same(ours, ref)
    if name == "FeaturePermutation" and kind == "one-index":  # too few rows to shuffle: 0
        assert float(ours[1].abs().max()) == 0.0 and float(ours[0].abs().max()) > 0.0


@pytest.mark.parametrize("cls", [FeatureAblation, FeaturePermutation])
def test_an_empty_index_list_gets_zeros_as_captums(rng, cls):
    dense, ids = _inputs(rng, "empty")
    net = Embedded(rng, 3)
    seed = int(rng.integers(2**31))
    torch.manual_seed(seed)
    ref = getattr(captum_attr, cls.__name__)(net).attribute((dense, ids))
    torch.manual_seed(seed)
    ours = cls(net).attribute((dense, ids))
    _same(ours, ref)
    assert ours[1].shape == (1,) and float(ours[1]) == 0.0


@pytest.mark.parametrize("cls", [ShapleyValues, Occlusion])
def test_an_empty_index_list_gets_zeros_where_captum_fails(rng, cls):
    """captum's ShapleyValues raises and its Occlusion returns NaN for the empty tensor; here it
    has no features (0) and the dense rows get what they get without it."""
    dense, ids = _inputs(rng, "empty")
    net = Embedded(rng, 3)
    call = dict(sliding_window_shapes=((2,), ())) if cls is Occlusion else {}
    ours = cls(net).attribute((dense, ids), **call)
    only = {k: v[0] for k, v in call.items()}
    ref = getattr(captum_attr, cls.__name__)(lambda a: net(a, ids)).attribute(dense, **only)
    assert ours[1].shape == (1,) and float(ours[1]) == 0.0
    assert ours[0].dtype == ref.dtype
    torch.testing.assert_close(ours[0], ref, **TOL[ref.dtype])


@pytest.mark.parametrize("form", ["summary", "per-row", "per-row-k"])
def test_every_element_of_a_larger_output_is_attributed_as_captums(rng, form):
    """One row of attributions per output element, the batch perturbed as a whole: also for an
    output per row of the dense tensor, which captum attributes the same way (and which cannot
    be told apart from a summary of as many numbers)."""
    dense, ids = _inputs(rng, "index-list")
    net = Embedded(rng, 3)
    W = torch.as_tensor(rng.normal(size=(3, 2)))
    forward = {
        "summary": lambda a, b: torch.stack([net(a, b), a.max(), (a[:, 1] * b[0]).sum()]),
        "per-row": lambda a, b: a @ W[:, 0] + net.emb[b[0]],
        "per-row-k": lambda a, b: (a @ W) * net.emb[b[:2]],
    }[form]
    out = forward(dense, ids)
    for name in ["FeatureAblation", "FeaturePermutation", "ShapleyValues"]:
        seed = int(rng.integers(2**31))
        torch.manual_seed(seed)
        ref = getattr(captum_attr, name)(forward).attribute((dense, ids))
        torch.manual_seed(seed)
        ours = OURS[name](forward).attribute((dense, ids))
        _same(ours, ref)
        lead = out.shape if name == "ShapleyValues" else (out.numel(),)
        assert ours[0].shape == (*lead, 3) and ours[1].shape == lead


def test_extra_arguments_go_to_the_forward_as_given(rng):
    dense, ids = _inputs(rng, "index-list")
    net = Embedded(rng, 3)
    scale = torch.as_tensor(rng.normal(size=len(ids) + 1))  # rows of neither tensor

    def scaled(a, b, s, k):
        return net(a, b) * s.sum() * k

    args = (scale, 2.0)
    ref = captum_attr.FeatureAblation(scaled).attribute((dense, ids), additional_forward_args=args)
    _same(FeatureAblation(scaled).attribute((dense, ids), additional_forward_args=args), ref)


def test_tensor_lime_and_kernel_shap_take_them_too(rng):
    N = int(rng.integers(2, 5))
    dense = torch.as_tensor(rng.normal(size=(N, 3)))
    ids = torch.as_tensor(rng.integers(1, 12, size=(N + 2, 2)))
    net = Embedded(rng, 3)
    masks = (torch.tensor([[0, 1, 2]]), torch.tensor([[3, 4]]))
    seed = int(rng.integers(2**31))
    torch.manual_seed(seed)
    ref = captum_attr.Lime(net).attribute((dense, ids), feature_mask=masks, n_samples=30)
    torch.manual_seed(seed)
    ours = Lime(net).attribute((dense, ids), feature_mask=masks, n_samples=30)
    for o, r in zip(ours, ref, strict=True):  # captum's float32 Lasso (ours: the inputs' dtype)
        assert o.shape == r.shape
        torch.testing.assert_close(o.float(), r, rtol=0, atol=1e-5)
    # Kernel SHAP enumerates all 30 coalitions of 5 features: exact Shapley values
    exact = ShapleyValues(net).attribute((dense, ids), feature_mask=masks)
    for o, r in zip(
        KernelShap(net).attribute((dense, ids), feature_mask=masks), exact, strict=True
    ):
        torch.testing.assert_close(o.double(), r.double(), rtol=0, atol=1e-5)


def test_a_target_or_an_output_that_is_not_a_number_is_refused_clearly():
    dense, ids = torch.ones(3, 2), torch.arange(7)
    with pytest.raises(
        ValueError,
        match=r"different first dimensions \[3, 7\], so the batch is explained as one example "
        r"with every element of the output \(shape \(3,\)\).*pass target=None",
    ):
        FeatureAblation(lambda a, b: a.sum(1) + b[0]).attribute((dense, ids), target=[0, 1, 1])
    with pytest.raises(ValueError, match=r"shape \(3, 2\)\) attributed.*pass target=None"):
        FeaturePermutation(lambda a, b: a * b[0]).attribute((dense, ids), target=0)
    with pytest.raises(
        ValueError,
        match=r"one number for the whole batch .* returned shape \(3,\)\. Return one number",
    ):  # tensor KernelShap and Lime attribute one number per call
        KernelShap(lambda a, b: a.sum(1)).attribute((dense, ids[:, None].float()))


@pytest.mark.parametrize("ids", [torch.tensor([3, 1, 4, 1, 5]), torch.tensor([])], ids=str)
@pytest.mark.parametrize("as_float", [False, True], ids=["tensor", "python-float"])
def test_permutation_of_tensors_with_one_row_gives_zeros_as_captums(rng, ids, as_float):
    """A tensor with one row is not shuffled and its features get 0; when no tensor can be
    shuffled, every attribution is 0, in the output's dtype (float64 for a Python float)."""
    dense = torch.as_tensor(rng.normal(size=(1, 3)))
    net = Embedded(rng, 3)
    forward = (lambda a, b: float(net(a, b))) if as_float else net
    seed = int(rng.integers(2**31))
    logging.disable(logging.WARNING)
    try:
        torch.manual_seed(seed)
        ref = captum_attr.FeaturePermutation(forward).attribute((dense, ids))
        torch.manual_seed(seed)
        ours = FeaturePermutation(forward).attribute((dense, ids))
    finally:
        logging.disable(logging.NOTSET)
    _same(ours, ref)
    assert float(ours[0].abs().max()) == 0.0

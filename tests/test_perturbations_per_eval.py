"""``perturbations_per_eval > 1`` in captum's perturbation family: refused, as captum refuses
it, for a forward whose output cannot be split between perturbations evaluated together (one
output for the whole batch), and harmless otherwise (the values never depend on it)."""

from __future__ import annotations

import pytest
import torch

from xai_fast import (
    FeatureAblation,
    FeaturePermutation,
    Occlusion,
    ShapleyValues,
    ShapleyValueSampling,
)
from xai_fast._validation import CaptumArgumentError

captum_attr = pytest.importorskip("captum.attr")

CLASSES = [FeatureAblation, FeaturePermutation, Occlusion, ShapleyValueSampling, ShapleyValues]


def _call(cls, x):
    """Call options of ``cls`` for inputs ``x`` ``(N, d)``: every scalar its own feature."""
    if cls is Occlusion:
        return dict(sliding_window_shapes=(1,))
    return dict(n_samples=2) if cls is ShapleyValueSampling else {}


def _linear(rng, d):
    w = torch.as_tensor(rng.normal(size=(d, 2)))
    return lambda x: torch.tanh(x @ w)  # (N, 2)


FORWARDS = {  # one output for the whole batch, whatever its size
    "python-float": lambda net: lambda x: float(net(x).sum()),
    "0-d": lambda net: lambda x: net(x).sum(),
    "summary": lambda net: lambda x: torch.stack([net(x).sum(), net(x).max(), net(x).min()]),
    "keepdim": lambda net: lambda x: net(x).sum(0, keepdim=True),  # (1, 2)
}


@pytest.mark.parametrize("form", list(FORWARDS))
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_one_output_for_the_batch_is_refused_as_captum_refuses_it(rng, cls, form):
    # not 3 examples: a summary of 3 numbers for 3 examples reads as one output per example
    x = torch.as_tensor(rng.normal(size=(int(rng.choice([2, 4, 5])), 3)))
    forward = FORWARDS[form](_linear(rng, 3))
    call = _call(cls, x)
    with pytest.raises(Exception):  # noqa: B017  captum: AssertionError, or its own crash
        getattr(captum_attr, cls.__name__)(forward).attribute(x, perturbations_per_eval=2, **call)
    with pytest.raises(
        CaptumArgumentError,
        match=r"perturbations_per_eval=2 .*needs one output per example.*forward_func returned "
        r"(one number|.*shape).* for the whole batch of \d+.*Pass perturbations_per_eval=1",
    ) as caught:
        cls(forward).attribute(x, perturbations_per_eval=2, **call)
    assert isinstance(caught.value, AssertionError)  # caught as captum's assert is
    # one perturbation per call: the batch explained as one example, captum's values
    torch.manual_seed(0)
    ref = getattr(captum_attr, cls.__name__)(forward).attribute(x, **call)
    torch.manual_seed(0)
    ours = cls(forward).attribute(x, perturbations_per_eval=1, **call)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours.double(), ref.double(), rtol=1e-6, atol=1e-6)


def test_the_message_says_what_arrived():
    x = torch.ones(2, 3)
    with pytest.raises(
        CaptumArgumentError,
        match=r"one output of shape \(3,\) for the whole batch of 2, and shape \(3,\) for that "
        r"batch twice over: its output does not grow with the batch",
    ):
        FeatureAblation(lambda t: torch.stack([t.sum(), t.max(), t.min()])).attribute(
            x, perturbations_per_eval=2
        )
    with pytest.raises(CaptumArgumentError, match="returned one number for the whole batch of 2"):
        FeatureAblation(lambda t: t.sum().item()).attribute(x, perturbations_per_eval=3)


@pytest.mark.parametrize(
    "cls", [c for c in CLASSES if c is not FeaturePermutation], ids=lambda c: c.__name__
)
def test_one_example_with_one_number_is_refused_too(rng, cls):
    """captum's FeatureAblation family refuses it; its ShapleyValueSampling returns numbers that
    change with perturbations_per_eval (outputs of different perturbations mixed)."""
    x = torch.as_tensor(rng.normal(size=(1, 3)))
    net = _linear(rng, 3)
    for forward in [lambda t: net(t).sum(), lambda t: net(t).sum().reshape(1)]:
        with pytest.raises(CaptumArgumentError, match="perturbations_per_eval=2"):
            cls(forward).attribute(x, perturbations_per_eval=2, **_call(cls, x))


def test_only_outputs_that_cannot_be_split_are_refused(rng):
    """Outputs per example, and a fixed-size output with one feature (one perturbation per
    call whatever perturbations_per_eval), run as captum's; two features then do not."""
    x = torch.as_tensor(rng.normal(size=(3, 4)))
    net = _linear(rng, 4)

    def summary(t):
        return torch.stack([net(t).sum(), net(t).max()])

    cases = [  # (forward, call)
        (net, dict(target=1)),
        (lambda t: net(t)[:, 0], {}),
        (lambda t: net(t), {}),  # (N, 2) and no target: every output attributed
        (summary, dict(feature_mask=torch.zeros(1, 4, dtype=torch.long))),
    ]
    for forward, call in cases:
        ref = captum_attr.FeatureAblation(forward).attribute(x, perturbations_per_eval=3, **call)
        ours = FeatureAblation(forward).attribute(x, perturbations_per_eval=3, **call)
        assert ours.shape == ref.shape and ours.dtype == ref.dtype
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-10)
    two = torch.tensor([[0, 0, 1, 1]])
    with pytest.raises(AssertionError):
        captum_attr.FeatureAblation(summary).attribute(
            x, perturbations_per_eval=3, feature_mask=two
        )
    with pytest.raises(CaptumArgumentError, match="does not grow with the batch"):
        FeatureAblation(summary).attribute(x, perturbations_per_eval=3, feature_mask=two)

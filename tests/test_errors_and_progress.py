"""A model that raises on our inputs gets a message saying what it got and how to fix it; long
calls show one kind of progress bar, which the usual switches silence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xai_fast as xf
from xai_fast._runtime import progress
from xai_fast._runtime.model_errors import ModelCallError


def _net(d_in=4):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(d_in, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))


WIDTH = r"first layer takes 4 features per row but got 5: pass inputs with 4 features"


@pytest.mark.parametrize(
    "call",
    [
        lambda net: xf.IntegratedGradients(net).attribute(torch.rand(2, 5), target=0),
        lambda net: xf.Saliency(net).attribute(torch.rand(2, 5), target=0),
        lambda net: xf.KernelShap(net).attribute(torch.rand(2, 5), target=0),
        lambda net: xf.Lime(net).attribute(torch.rand(2, 5), target=0),
        lambda net: xf.KernelExplainer(net, np.random.default_rng(0).normal(size=(4, 5))),
    ],
    ids=["ig", "saliency", "kernel-shap", "lime", "kernel-explainer"],
)
def test_wrong_input_width_says_what_the_model_takes(call):
    with pytest.raises(ModelCallError, match=WIDTH) as info:
        call(_net())
    assert "of shape" in str(info.value) and isinstance(info.value.__cause__, RuntimeError)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_a_callable_that_wants_tensors_is_told_how_to_wrap_it(rng):
    net = _net()
    B = rng.normal(size=(5, 4))
    with pytest.raises(ModelCallError, match=r"numpy\.ndarray of shape \(\d+, 4\).*torch tensor"):
        xf.KernelExplainer(lambda X: net(X), B)
    with pytest.raises(ModelCallError, match="torch tensor"):
        xf.LimeTabularExplainer(B).explain_instance(B[0], lambda X: net(X)[:, 0], num_samples=20)
    # the wrapping the message suggests works
    ok = xf.KernelExplainer(
        lambda X: net(torch.as_tensor(X, dtype=torch.float32)).detach().numpy(), B
    )
    assert ok.shap_values(B[:1], silent=True).shape == (1, 4, 2)


def test_our_own_checks_and_other_errors_pass_unchanged(rng):
    with pytest.raises(ValueError, match="one number for the whole batch") as info:
        xf.KernelShap(lambda t: t.sum()).attribute(torch.rand(2, 3), target=0)
    assert not isinstance(info.value, ModelCallError)

    def exits(X):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        xf.KernelExplainer(exits, rng.normal(size=(3, 2)))


def test_tensor_explainers_show_a_bar_when_long_unless_told_not_to(rng, capsys, monkeypatch):
    net = _net()
    x = torch.rand(2, 4)
    xf.KernelShap(net).attribute(x, target=0)  # quick: nothing
    assert "attribution" not in capsys.readouterr().err
    monkeypatch.setattr(progress, "DEFAULT_DELAY", 0.0)  # as if every call were long
    xf.KernelShap(net).attribute(x, target=0)
    assert "Kernel Shap attribution: 100%" in capsys.readouterr().err
    xf.Lime(net).attribute(x, target=0, show_progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="show_progress must be"):
        xf.KernelShap(net).attribute(x, target=0, show_progress="yes")


def test_lime_rows_and_kernel_explainer_show_the_same_bar(rng, capsys, monkeypatch):
    monkeypatch.setattr(progress, "DEFAULT_DELAY", 0.0)
    B = rng.normal(size=(30, 4))

    def f(X):
        return np.tanh(X @ np.arange(1.0, 5.0))

    lime = xf.LimeTabularExplainer(B, mode="regression", random_state=0)
    lime.explain_instances(B[:3], f, num_samples=50)
    assert "LIME: 100%" in capsys.readouterr().err
    lime.explain_instances(B[:3], f, num_samples=50, silent=True)
    assert capsys.readouterr().err == ""
    xf.KernelExplainer(f, B[:5]).shap_values(B[:2], nsamples=20)
    assert "100%" in capsys.readouterr().err
    xf.KernelExplainer(f, B[:5]).shap_values(B[:2], nsamples=20, silent=True)
    assert capsys.readouterr().err == ""


def test_a_bar_appears_once_the_work_has_lasted_its_delay(capsys):
    import time

    pytest.importorskip("tqdm")
    quick = progress.Progress(4, "quick work", delay=30.0)
    for _ in range(4):
        quick.update(1)
    quick.close()
    assert capsys.readouterr().err == ""
    slow = progress.Progress(4, "slow work", delay=0.05)
    slow.update(1)
    time.sleep(1.1)
    slow.update(2)
    slow.update(1)
    slow.close()
    err = capsys.readouterr().err
    assert "slow work" in err and "4/4" in err
    assert "[00:01<" in err  # the elapsed time counts from the start of the work

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
        # the propagation methods run the model's layers inside our own dispatch code
        lambda net: xf.DeepLift(net).attribute(torch.rand(2, 5), target=0),
        lambda net: xf.GuidedBackprop(net).attribute(torch.rand(2, 5), target=0),
        lambda net: xf.Deconvolution(net).attribute(torch.rand(2, 5), target=0),
        lambda net: xf.LayerDeepLift(net, net[1]).attribute(torch.rand(2, 5), target=0),
        lambda net: xf.NeuronDeepLift(net, net[1]).attribute(torch.rand(2, 5), 0),
        lambda net: xf.NeuronFeatureAblation(net, net[1]).attribute(torch.rand(2, 5), 0),
        lambda net: xf.DeepExplainer(net, torch.rand(6, 5)),  # X is checked against data
        lambda net: xf.GradientExplainer(net, torch.rand(6, 5)),
    ],
    ids=[
        "ig",
        "saliency",
        "kernel-shap",
        "lime",
        "kernel-explainer",
        "deeplift",
        "guided",
        "deconvolution",
        "layer-deeplift",
        "neuron-deeplift",
        "neuron-ablation",
        "deep-explainer",
        "gradient-explainer",
    ],  # fmt: skip
)
def test_wrong_input_width_says_what_the_model_takes(call):
    with pytest.raises(ModelCallError, match=WIDTH) as info:
        call(_net())
    assert "of shape" in str(info.value) and isinstance(info.value.__cause__, RuntimeError)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def _cnn():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 2, 3, padding=1)
    return torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(32, 2))


@pytest.mark.parametrize(
    "call",
    [
        lambda net, x: xf.IntegratedGradients(net).attribute(x, target=0),
        lambda net, x: xf.Saliency(net).attribute(x, target=0),
        lambda net, x: xf.LayerConductance(net, net[0]).attribute(x, target=0),
        lambda net, x: xf.LayerGradCam(net, net[0]).attribute(x, target=0),
        lambda net, x: xf.DeepLiftShap(net).attribute(x, torch.zeros(3, 3, 4, 4), target=0),
    ],
    ids=["ig", "saliency", "layer-conductance", "grad-cam", "deeplift-shap"],
)
def test_wrong_channel_count_says_what_the_first_convolution_takes(call):
    # eval mode: the channels-last trial runs first and must not leak torch's message
    with pytest.raises(ModelCallError, match="first convolution takes 1 channels but got 3"):
        call(_cnn().eval(), torch.rand(2, 3, 4, 4))


@pytest.mark.parametrize(
    "call, dtype",
    [
        (lambda net, x: xf.IntegratedGradients(net).attribute(x, target=0), torch.float64),
        (lambda net, x: xf.DeepLift(net).attribute(x, target=0), torch.float64),
        (lambda net, x: xf.GuidedBackprop(net).attribute(x, target=0), torch.float64),
        # shap's explainers cast floats to the background's dtype, not integers
        (lambda net, x: xf.DeepExplainer(net, torch.rand(6, 4)).shap_values(x), torch.int64),
        (lambda net, x: xf.GradientExplainer(net, torch.rand(6, 4)).shap_values(x), torch.int64),
    ],
    ids=["ig", "deeplift", "guided", "deep-explainer", "gradient-explainer"],
)
def test_inputs_of_another_dtype_than_the_model_are_told_to_cast(call, dtype):
    x = (torch.rand(2, 4) * 3).to(dtype)
    with pytest.raises(ModelCallError, match=r"dtype differs.*inputs\.float\(\)") as info:
        call(_net().eval(), x)
    assert f"dtype {dtype}" in str(info.value)


def _with_nan(n, row=1):
    x = torch.rand(n, 4)
    x[row, 2] = float("nan")
    return x


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda net: xf.GradientExplainer(net, _with_nan(6)),
            r"data contains NaN or inf in 1 of 6 .*\[1\]",
        ),
        (
            lambda net: xf.DeepExplainer(net, _with_nan(6, 4)),
            r"data contains NaN or inf in 1 of 6 .*\[4\]",
        ),
        (
            lambda net: xf.GradientExplainer(net, torch.rand(6, 4)).shap_values(_with_nan(3)),
            r"X contains NaN or inf in 1 of 3 .*\[1\]",
        ),
        (
            lambda net: xf.DeepExplainer(net, torch.rand(6, 4)).shap_values(_with_nan(3)),
            r"X contains NaN or inf in 1 of 3 .*\[1\]",
        ),
        (
            lambda net: xf.DeepLift(net).attribute(torch.rand(3, 4), _with_nan(1, 0), target=0),
            r"baselines contains NaN or inf in 1 of 1 rows \(first: \[0\]\)",
        ),
        (
            lambda net: xf.DeepLiftShap(net).attribute(torch.rand(3, 4), _with_nan(5), target=0),
            r"baselines contains NaN or inf in 1 of 5 rows \(first: \[1\]\)",
        ),
        (
            lambda net: xf.LayerDeepLift(net, net[1]).attribute(torch.rand(2, 4), _with_nan(1, 0)),
            "baselines contains NaN or inf in 1 of 1 rows",
        ),
    ],
    ids=[
        "gradient-data",
        "deep-data",
        "gradient-x",
        "deep-x",
        "deeplift-baseline",
        "deeplift-shap-baselines",
        "layer-deeplift-baseline",
    ],  # fmt: skip
)
def test_nan_where_the_model_runs_is_an_error_not_nan_values(call, match):
    net = torch.nn.Sequential(*_net(), torch.nn.Linear(2, 1)).eval()  # one output
    with pytest.raises(ValueError, match=match):
        call(net)


def test_a_model_that_is_nan_at_finite_baselines_is_an_error_in_deeplift():
    net = torch.nn.Sequential(*_net(), torch.nn.Linear(2, 1)).eval()

    def f(x):  # NaN where x[:, 0] > 0.5: at the baselines, not at the inputs
        return net(x) + torch.sqrt(0.5 - x[:, :1])

    with pytest.raises(ValueError, match="NaN or inf at the target on the baselines of 3 of 3"):
        xf.DeepLift(f).attribute(torch.full((3, 4), 0.1), torch.full((1, 4), 0.9))


def test_an_output_masked_to_minus_inf_is_fine_while_not_explained():
    """Masked logits: shap explains the other outputs; a model's NaN where explained is not."""
    net = _net().eval()

    def masked(x):
        out = net(x)
        return torch.cat([out, torch.full_like(out[:, :1], -float("inf"))], 1)

    bg, x = torch.rand(6, 4), torch.rand(3, 4)
    ge = xf.GradientExplainer(masked, bg)
    v, ranks = ge.shap_values(x, ranked_outputs=2, nsamples=8, rseed=0)
    assert np.isfinite(np.asarray(v)).all() and int(ranks.max()) <= 1
    de = xf.DeepExplainer(masked, bg)
    v, ranks = de.shap_values(x, ranked_outputs=1)
    assert np.isfinite(np.asarray(v)).all() and int(ranks.max()) <= 1

    def nan_model(x):
        return net(x) * torch.where(x[:, :1] > 0.5, float("nan"), 1.0)

    with pytest.raises(ValueError, match="came out NaN or inf for the explained output"):
        xf.GradientExplainer(nan_model, bg).shap_values(torch.full((2, 4), 0.9), nsamples=4)


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

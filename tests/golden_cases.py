"""Fixed problems whose values must not move when the engine is reorganised.

Each case returns a dict of arrays; ``tests/golden/values.npz`` holds the values recorded from a
known-good commit, and ``tests/test_golden.py`` checks they are reproduced to rounding: within
:func:`tolerance`, a relative tolerance times the key's largest recorded magnitude (:func:`moved`
compares). Bit-for-bit equality does not
carry across CPUs, because BLAS picks its kernels (and with them the order of its sums) by the
instruction set: on two hosts with the same packages the Kernel SHAP values moved by 1.3e-15.
After an intended change of numbers, rewrite the file with ``python tests/golden_cases.py
--write`` and say why in the commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).with_name("golden") / "values.npz"

# Relative tolerance by dtype: a few hundred roundings of a float64 sum, a float32 one's.
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
# Keys whose computation amplifies rounding, with the reason (prefix -> relative tolerance).
# kernel/auto: the Gaussian-process surrogate's prior covariance is near-singular on this small
# design (condition number 2e15, bounded near 1e10 by odd_gp.NUGGET), so a change of 1e-15 in
# the model's outputs moves the values by 2.5e-6 on values of about 2.5, and the BLAS
# difference between two hosts by 2.7e-6: a thousandth of their standard error (1.6e-3).
LOOSER = {"kernel/auto": 1e-5}


def tolerance(key: str, want: np.ndarray) -> float:
    """The largest difference from ``want`` (the recorded values of ``key``) taken as rounding:
    the key's relative tolerance times its own largest magnitude (0 for an all-zero key)."""
    rtol = RTOL.get(want.dtype, 0.0)
    for prefix, looser in LOOSER.items():
        if key == prefix or key.startswith(prefix + "/"):
            rtol = max(rtol, looser)
    finite = want[np.isfinite(want)] if want.dtype.kind == "f" else want
    scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    return rtol * scale


def moved(key: str, value: np.ndarray, want: np.ndarray) -> str | None:
    """Why ``value`` is not ``want`` (the recorded values of ``key``) to rounding, or None."""
    if value.shape != want.shape or value.dtype != want.dtype:
        return f"{key}: {value.dtype} {value.shape}, recorded {want.dtype} {want.shape}"
    if value.dtype.kind == "f" and not np.array_equal(np.isnan(value), np.isnan(want)):
        return f"{key}: NaNs moved"
    if value.dtype.kind not in "fc":
        return None if np.array_equal(value, want) else f"{key}: values moved"
    both = np.isfinite(want)
    if not np.array_equal(value[~both], want[~both], equal_nan=True):
        return f"{key}: infinities moved"
    tol = tolerance(key, want)
    diff = float(np.max(np.abs(value[both] - want[both]), initial=0.0))
    return None if diff <= tol else f"{key}: values moved by {diff:.3g} (rounding allows {tol:.3g})"


def _mlp(d: int, k: int, seed: int, dtype=None):
    """A small tanh MLP whose weights come from a numpy generator (no global torch state)."""
    import torch

    rng = np.random.default_rng(seed)
    net = torch.nn.Sequential(torch.nn.Linear(d, 12), torch.nn.Tanh(), torch.nn.Linear(12, k))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.as_tensor(rng.normal(scale=0.7, size=tuple(p.shape))))
    return net.to(dtype) if dtype is not None else net


def _cnn(seed: int):
    import torch

    rng = np.random.default_rng(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(3 * 8 * 8, 4),
    )
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.as_tensor(rng.normal(scale=0.3, size=tuple(p.shape))))
    return net


def _table(seed: int, n: int, d: int):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d))


def _np_model(X):
    X = np.asarray(X, dtype=np.float64)
    return np.stack([np.tanh(X @ np.arange(1.0, X.shape[1] + 1) / 4), X[:, 0] * X[:, 1]], 1)


def kernel_cases(out: dict) -> None:
    import xai_fast as xf
    from xai_fast.backends import available

    B = _table(1, 8, 6)
    X = _table(2, 5, 6)
    net = _mlp(6, 2, 3)
    for backend in available():
        for kind, model in (("module", net), ("callable", _np_model)):
            exp = xf.KernelExplainer(model, B, seed=7, backend=backend)
            out[f"kernel/{backend}/{kind}"] = np.asarray(
                exp.shap_values(X, nsamples=40, silent=True)
            )
            out[f"kernel/{backend}/{kind}/l1"] = np.asarray(
                exp.shap_values(X, nsamples=40, l1_reg="num_features(3)", silent=True)
            )
        logit = xf.KernelExplainer(
            lambda A: 1 / (1 + np.exp(-_np_model(A))), B, link="logit", seed=3, backend=backend
        )
        out[f"kernel/{backend}/logit"] = np.asarray(logit.shap_values(X, nsamples=50, silent=True))
    for sampler in ("leverage", "auto"):
        exp = xf.KernelExplainer(net, B, seed=11, sampler=sampler)
        e = exp(X, nsamples=60, silent=True, error_bars=True)
        out[f"kernel/{sampler}"] = np.asarray(e.values)
        out[f"kernel/{sampler}/std"] = np.asarray(e.error_std)
        e = exp(X[:2], nsamples=40, silent=True, tol=0.05)
        out[f"kernel/{sampler}/tol"] = np.asarray(e.values)


def exact_cases(out: dict) -> None:
    import xai_fast as xf

    B = _table(4, 6, 5)
    X = _table(5, 4, 5)
    net = _mlp(5, 2, 6)
    exp = xf.ExactExplainer(net, B)
    out["exact/values"] = np.asarray(exp.shap_values(X, silent=True))
    out["exact/interactions"] = np.asarray(exp.shap_interaction_values(X[:2], silent=True))
    out["exact/callable"] = np.asarray(xf.ExactExplainer(_np_model, B).shap_values(X, silent=True))


def lime_tabular_cases(out: dict) -> None:
    import xai_fast as xf

    train = _table(7, 80, 5)
    X = _table(8, 3, 5)

    def proba(A):
        p = 1 / (1 + np.exp(-(A @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]))))
        return np.stack([1 - p, p], 1)

    for disc in (True, False):
        exp = xf.LimeTabularExplainer(train, discretize_continuous=disc, random_state=5)
        exps = exp.explain_instances(X, proba, num_features=3, num_samples=500)
        out[f"lime_tabular/disc={disc}"] = np.array(
            [[w for _, w in sorted(e.local_exp[1])] for e in exps]
        )
        out[f"lime_tabular/disc={disc}/intercept"] = np.array([e.intercept[1] for e in exps])
    exp = xf.LimeTabularExplainer(
        train, mode="regression", feature_selection="lasso_path", random_state=9
    )
    e = exp.explain_instance(X[0], lambda A: proba(A)[:, 1], num_features=2, num_samples=400)
    out["lime_tabular/lasso"] = np.array(sorted(e.local_exp[1]))


def tensor_cases(out: dict) -> None:
    import torch

    import xai_fast as xf
    from xai_fast.backends import available

    rng = np.random.default_rng(12)
    cnn = _cnn(13)
    imgs = torch.as_tensor(rng.normal(size=(3, 1, 8, 8)), dtype=torch.float32)
    tab = _mlp(6, 2, 14)
    rows = torch.as_tensor(rng.normal(size=(4, 6)), dtype=torch.float32)
    for backend in available():
        ks = xf.KernelShap(cnn, seed=1, backend=backend)
        out[f"tensor/kernel/{backend}/image"] = ks.attribute(
            imgs, target=[0, 1, 2], patch_size=2, n_samples=100
        ).numpy()
        out[f"tensor/kernel/{backend}/rows"] = (
            xf.KernelShap(tab, seed=2, backend=backend).attribute(rows, target=1).numpy()
        )
    mask = torch.tensor([[0, 0, 1, 1, 2, 5]])
    out["tensor/kernel/mask"] = (
        xf.KernelShap(tab.double(), seed=3)
        .attribute(rows.double(), baselines=0.5, target=0, feature_mask=mask, n_samples=20)
        .numpy()
    )
    tab.float()
    out["tensor/lime/image"] = (
        xf.Lime(cnn, style="lime", seed=4)
        .attribute(imgs, target=2, patch_size=4, n_samples=64)
        .numpy()
    )
    out["tensor/lime/rows"] = (
        xf.Lime(tab, style="lime", seed=5, alpha=0.1, kernel_width=0.5)
        .attribute(rows, baselines=rows.mean(0), target=[0, 1, 0, 1], n_samples=50)
        .numpy()
    )
    out["tensor/lime/callable"] = (
        xf.Lime(lambda t: tab(t)[:, 0], style="lime", seed=6).attribute(rows, n_samples=30).numpy()
    )


def gradient_cases(out: dict) -> None:
    import torch

    import xai_fast as xf

    rng = np.random.default_rng(20)
    net = _mlp(6, 3, 21, dtype=torch.float64)
    x = torch.as_tensor(rng.normal(size=(4, 6)))
    base = torch.as_tensor(rng.normal(size=(5, 6)))
    ig = xf.IntegratedGradients(net)
    a, delta = ig.attribute(x, target=1, n_steps=20, return_convergence_delta=True)
    out["grad/ig"], out["grad/ig/delta"] = a.numpy(), delta.numpy()
    out["grad/ig/riemann"] = ig.attribute(
        x, target=2, n_steps=7, method="riemann_trapezoid"
    ).numpy()
    out["grad/saliency"] = xf.Saliency(net).attribute(x, target=0).numpy()
    out["grad/ixg"] = xf.InputXGradient(net).attribute(x, target=[0, 1, 2, 0]).numpy()
    out["grad/gradshap"] = (
        xf.GradientShap(net, seed=3).attribute(x, base, target=1, n_samples=6, stdevs=0.1).numpy()
    )
    nt = xf.NoiseTunnel(xf.Saliency(net), seed=4)
    out["grad/noise_tunnel"] = nt.attribute(
        x, nt_type="smoothgrad_sq", nt_samples=5, stdevs=0.2, target=2
    ).numpy()
    cnn = _cnn(22).double()
    imgs = torch.as_tensor(rng.normal(size=(2, 1, 8, 8)))
    out["grad/gradcam"] = xf.LayerGradCam(cnn, cnn[0]).attribute(imgs, target=3).detach().numpy()


CASES = (kernel_cases, exact_cases, lime_tabular_cases, tensor_cases, gradient_cases)


def compute(cases=CASES) -> dict:
    out: dict = {}
    for case in cases:
        case(out)
    return out


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/golden_cases.py --write")
    values = compute()
    GOLDEN.parent.mkdir(exist_ok=True)
    np.savez_compressed(GOLDEN, **values)
    print(f"wrote {len(values)} arrays to {GOLDEN}")

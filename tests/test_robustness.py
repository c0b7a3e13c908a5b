"""Big input within a memory budget, edge cases with exact answers, fuzzing, determinism."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xai_fast as xf

_BIG_JOB = """
import resource, numpy as np, torch, xai_fast as xf
rng = np.random.default_rng({seed})
B, X = rng.normal(size=(500, 300)), rng.normal(size=(2, 300))
gen = torch.Generator().manual_seed({seed})
net = torch.nn.Sequential(torch.nn.Linear(300, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
with torch.no_grad():
    for p in net.parameters():
        p.copy_(0.1 * torch.randn(p.shape, generator=gen))
v = xf.KernelExplainer(net, B, seed=0, backend="numba").shap_values(
    X, nsamples=4000, l1_reg=False, silent=True)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, int(np.isfinite(v).all()))
"""


def test_wide_job_stays_under_3_gb(rng):
    """300 features, 500-row background, 4000 coalitions, 2 rows: 4M perturbed rows per row
    (about 10 GB if built at once) in bounded chunks."""
    out = subprocess.run(
        [sys.executable, "-c", _BIG_JOB.format(seed=int(rng.integers(1e6)))],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    peak, finite = map(int, out.stdout.split())
    assert finite == 1
    assert peak < 3 * 2**30, f"peak RSS {peak / 2**30:.2f} GiB"


def test_edge_cases_with_exact_answers(rng):
    # one feature: its value is f(x) - E f(background)
    B1 = rng.normal(size=(6, 1))
    x1 = rng.normal(size=(3, 1))
    v = xf.KernelExplainer(lambda A: 3 * A[:, 0] ** 2, B1, seed=0).shap_values(x1)
    np.testing.assert_allclose(v[:, 0], 3 * x1[:, 0] ** 2 - np.mean(3 * B1[:, 0] ** 2))
    # constant model: all zeros
    B, X = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    v = xf.KernelExplainer(lambda A: np.full(len(A), 2.5), B, seed=0).shap_values(X)
    np.testing.assert_array_equal(v, 0.0)
    # features equal to every background row get 0; duplicate background rows change nothing
    Bc = np.tile(rng.normal(size=(1, 4)), (3, 1))
    Bc[:, 0] = rng.normal(size=3)
    a = rng.normal(size=4)

    def lin(A):
        return A @ a

    Xc = Bc[:2].copy()
    Xc[:, 0] = rng.normal(size=2)
    v = xf.KernelExplainer(lin, Bc, seed=0).shap_values(Xc)
    np.testing.assert_array_equal(v[:, 1:], 0.0)
    dup = xf.KernelExplainer(lin, np.vstack([Bc, Bc]), seed=0).shap_values(Xc)
    np.testing.assert_allclose(dup, v, rtol=1e-12, atol=1e-12)
    # integer, float32 and float64 data give the linear model's exact values
    Bi = rng.integers(-5, 5, size=(8, 4))
    Xi = rng.integers(-5, 5, size=(2, 4))
    exact = (Xi - Bi.mean(0)) * a
    for dt in (np.int64, np.float32, np.float64):
        v = xf.KernelExplainer(lin, Bi.astype(dt), seed=0).shap_values(Xi.astype(dt))
        np.testing.assert_allclose(v, exact, rtol=1e-5 if dt == np.float32 else 1e-10, atol=1e-5)
    # a single row as 1-D
    v1 = xf.KernelExplainer(lin, Bi, seed=0).shap_values(Xi[0])
    assert v1.shape == (4,)
    np.testing.assert_allclose(v1, exact[0], rtol=1e-10)


def test_nan_in_data_reaches_the_model_and_nan_output_is_an_error(rng):
    B, X = rng.normal(size=(5, 3)), rng.normal(size=(2, 3))
    X[0, 1] = np.nan
    seen = []

    def nan_tolerant(A):
        seen.append(np.isnan(A).any())
        return np.nan_to_num(A).sum(axis=1)

    v = xf.KernelExplainer(nan_tolerant, B, seed=0).shap_values(X)
    assert any(seen) and np.isfinite(v).all()
    with pytest.raises(ValueError, match="model returned NaN or inf .* whose inputs contain NaN"):
        xf.KernelExplainer(lambda A: A.sum(axis=1), B, seed=0).shap_values(X)


_finite = st.floats(-1e6, 1e6, allow_nan=False, width=64)
_any = st.one_of(_finite, st.just(np.nan), st.just(np.inf), st.just(-np.inf), st.just(1e300))


@given(
    d=st.integers(1, 6),
    n_bg=st.integers(0, 5),
    n_x=st.integers(0, 3),
    x_extra=st.integers(-1, 1),
    fill=_any,
    dtype=st.sampled_from(["float64", "float32", "int64", "bool", "object", "str"]),
    nsamples=st.one_of(st.just("auto"), st.integers(-2, 300), st.just("many")),
    method=st.sampled_from(["kernel", "exact", "lime"]),
)
def test_fuzzing_gives_values_or_a_clear_error(
    d, n_bg, n_x, x_extra, fill, dtype, nsamples, method
):
    rng = np.random.default_rng(d * 1000 + n_bg * 10 + n_x)
    B = rng.normal(size=(n_bg, d))
    X = rng.normal(size=(n_x, max(d + x_extra, 0)))
    if X.size:
        X.flat[0] = fill
    if dtype == "str":
        B, X = B.astype(str), X.astype(str)
    elif dtype == "object":
        B, X = B.astype(object), X.astype(object)
    elif dtype not in ("float64",):
        with np.errstate(invalid="ignore", over="ignore"):  # the test's own cast
            B, X = B.astype(dtype), X.astype(dtype)

    def model(A):
        with np.errstate(invalid="ignore"):  # sin(inf) is NaN: the explainer must say so
            return np.sin(A.astype(np.float64)).sum(axis=1) * 1e-3

    def proba(A):
        p = 1 / (1 + np.exp(-np.clip(model(A), -50, 50)))
        return np.column_stack([1 - p, p])

    try:
        if method == "kernel":
            explainer = xf.KernelExplainer(model, B, seed=1)
            values = explainer.shap_values(X, nsamples=nsamples, l1_reg=False, silent=True)
        elif method == "exact":
            values = xf.ExactExplainer(model, B).shap_values(X, silent=True)
        else:
            ns = nsamples if isinstance(nsamples, int) else 100
            exps = xf.LimeTabularExplainer(B, random_state=1).explain_instances(
                X, proba, num_samples=ns
            )
            values = np.array([[w for _, w in e.local_exp[1]] for e in exps])
            d = values.shape[-1] if values.size else d
    except (ValueError, TypeError) as err:
        assert str(err)  # a message that says what was wrong
        return
    assert values.shape[-1] == d
    assert np.isfinite(values).all()


def test_threads_and_processes_give_identical_results(rng):
    B, X = rng.normal(size=(8, 6)), rng.normal(size=(10, 6))
    w = rng.normal(size=6)

    def f(A):
        return np.tanh(A @ w) + A[:, 0] * A[:, 1]

    explainer = xf.KernelExplainer(f, B, seed=123)
    reference = explainer.shap_values(X, nsamples=40, l1_reg=False, silent=True)
    results = [None] * 4

    def work(i):
        results[i] = explainer.shap_values(X, nsamples=40, l1_reg=False, silent=True)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, reference)
    code = (
        "import numpy as np, xai_fast as xf\n"
        f"B = np.array({B.tolist()}); X = np.array({X.tolist()}); w = np.array({w.tolist()})\n"
        "f = lambda A: np.tanh(A @ w) + A[:, 0] * A[:, 1]\n"
        "v = xf.KernelExplainer(f, B, seed=123).shap_values(X, nsamples=40, l1_reg=False, "
        "silent=True)\nprint(v.tobytes().hex())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert bytes.fromhex(out.stdout.strip()) == reference.tobytes()

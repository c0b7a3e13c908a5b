"""Every backend exports every kernel under the reference's name and signature, with the
reference's results on fresh inputs (pickling by name: test_explainer_handoff.py)."""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

from xai_fast.backends import KERNELS, TORCH_OPS, available, get_backend
from xai_fast.sampling.leverage_plan import plan_leverage
from xai_fast.sampling.lime_neighbourhood_ref import BINNED, CATEGORICAL, GAUSSIAN
from xai_fast.sampling.plan import plan_design, random_size_cdf


def _reference(kernel):
    return getattr(importlib.import_module(f"xai_fast.{KERNELS[kernel]}"), kernel)


def _params(fn):
    return list(inspect.signature(getattr(fn, "py_func", fn)).parameters)


# ---------------------------------------------------------------------------- inputs
# Each factory returns ``(args, outputs)``: the kernel's arguments, and for kernels that write
# into arrays, the indices of those arguments (compared after the call).


def _kernel_design(rng):
    M = int(rng.integers(4, 12))
    p = plan_design(M, int(rng.integers(20, 300)))
    cdf = np.zeros(1) if p.fully_enumerated else random_size_cdf(p)
    seed = np.uint64(rng.integers(2**63))
    return (M, p.nsamples, seed, p.weight_vector, p.num_full, p.num_paired, p.binoms, cdf), ()


def _leverage_design(rng):
    M = int(rng.integers(5, 12))
    plan = plan_leverage(M, int(rng.integers(40, 400)))
    seed = np.uint64(rng.integers(2**63))
    return (M, seed, plan.sizes, plan.pairs, plan.enumerated, 16), ()


def _sample_neighbourhood(rng):
    d, V = 6, 4
    kinds = np.array([GAUSSIAN, CATEGORICAL, BINNED] * 2, dtype=np.int8)
    cdf = np.cumsum(rng.random((d, V)) + 0.05, axis=1)
    cdf /= cdf[:, -1:]
    values = np.tile(np.arange(V, dtype=np.float64), (d, 1))
    lo = np.sort(rng.normal(size=(d, V)), axis=1)
    hi = lo + rng.random((d, V)) + 0.1
    mu = lo + (hi - lo) * rng.random((d, V))
    sd = rng.random((d, V)) + 0.05
    seed = np.uint64(rng.integers(2**63))
    center, scale = rng.normal(size=d), rng.random(d) + 0.5
    return (seed, 500, kinds, cdf, values, lo, hi, mu, sd, center, scale), ()


def _masking(rng):
    n, d, N, S, M = 3, 9, 4, 13, 6
    X, B = rng.normal(size=(n, d)), rng.normal(size=(N, d))
    Z = rng.random((S, M)) < 0.5
    var_idx = np.sort(np.array([rng.choice(d, M, replace=False) for _ in range(n)]), axis=1)
    return X, B, Z, var_idx.astype(np.int64), N


def _fill_masked_rows(rng):
    X, B, Z, var_idx, N = _masking(rng)
    start, P = 5, 20
    return (X, B, Z, var_idx, start, np.empty((P * N, X.shape[1]))), (5,)


def _distinct_masked_rows(rng):
    from xai_fast.masking.distinct import column_codes, key_places

    X, B, Z, var_idx, N = _masking(rng)
    X, B = np.round(X), np.round(B)  # few levels: rows repeat
    CX, CB, levels = column_codes(X, B)
    weight, word = key_places(levels)
    return (CX, CB, weight, word, Z, var_idx, 5, 20), ()


def _fill_rows_at(rng):
    X, B, Z, var_idx, N = _masking(rng)
    U = 30
    inst, coal, bg = rng.integers(0, len(X), U), rng.integers(0, len(Z), U), rng.integers(0, N, U)
    return (X, B, Z, var_idx, inst, coal, bg, np.empty((U, X.shape[1]))), (7,)


def _background_mean(rng):
    N, P, k = 4, 9, 3
    w = rng.random(N)
    return (rng.normal(size=(P * N, k)), w / w.sum(), np.empty((P, k))), (2,)


def _interpretable_rows(rng):
    kinds = np.array([GAUSSIAN, CATEGORICAL, BINNED, BINNED, GAUSSIAN], dtype=np.int8)
    S1, n, d = 60, 4, kinds.size
    codes = rng.integers(0, 3, size=(S1, d)).astype(float)
    codes[:, kinds == GAUSSIAN] = rng.normal(size=(S1, 2))
    inst = rng.integers(0, 3, size=(n, d)).astype(float)
    return (codes, inst, rng.normal(size=(n, d)), kinds, bool(rng.integers(2))), ()


def _fill_superpixel_images(rng):
    P, C, M, B = int(rng.integers(20, 80)), int(rng.integers(1, 5)), int(rng.integers(2, 9)), 7
    segments = rng.integers(0, M, P).astype(np.intp)
    image, fudged = (rng.integers(0, 2**63, (P, C), dtype=np.uint64) for _ in range(2))
    keep = rng.random((B, M)) < 0.5
    return (image, fudged, segments, keep, np.empty((B, P, C), np.uint64)), (4,)


def _quickshift_image(rng):
    H, W = int(rng.integers(4, 14)), int(rng.integers(4, 14))
    image = rng.normal(size=(H, W, 3)) * rng.uniform(0.5, 30)
    return image, float(rng.uniform(1, 3))


def _quickshift_densities(rng):
    image, size = _quickshift_image(rng)
    noise = rng.normal(scale=1e-5, size=image.shape[:2])
    a = int(rng.integers(0, image.shape[0]))
    return (image, noise, size, a, int(rng.integers(a + 1, image.shape[0] + 1))), ()


def _quickshift_parents(rng):
    from xai_fast.masking.quickshift_numba import quickshift_densities

    image, size = _quickshift_image(rng)
    H = image.shape[0]
    dens = quickshift_densities(image, rng.normal(scale=1e-5, size=image.shape[:2]), size, 0, H)
    a = int(rng.integers(0, H))
    rows = (a, int(rng.integers(a + 1, H + 1)))
    return (image, dens, size, float(rng.choice([2.0, 10.0, 200.0])), *rows), ()


def _constrained_wls(rng):
    S, M, R = 60, 5, 3
    Z = (rng.random((S, M)) < 0.5).astype(np.float64)
    return (Z, rng.random(S) + 0.1, rng.normal(size=(S, R)), rng.normal(size=R)), ()


def _lime_problem(rng, n=2, S=300, d=5, L=2):
    X = (rng.random((n, S, d)) < 0.5).astype(float)
    X[:, 0] = 1.0
    w = rng.random((n, S)) + 0.01
    Y = X @ rng.normal(size=(d, L)) + 0.3 * rng.normal(size=(n, S, L))
    return X, w, Y


def _weighted_moments(rng):
    return _lime_problem(rng), ()


def _moments(rng):
    X, w, Y = _lime_problem(rng)
    return _reference("weighted_moments")(X, w, Y), X[:, 0]


def _select_features(rng):
    (xbar, G, ybar, c, syy), x0 = _moments(rng)
    return (G, c, syy, x0, int(rng.integers(3)), 3), ()


def _ridge_fit(rng):
    (xbar, G, ybar, c, syy), x0 = _moments(rng)
    used = _reference("select_features")(G, c, syy, x0, 1, 3)
    return (G, c, syy, xbar, ybar, x0, used, 1.0), ()


def _lasso_path_support(rng):
    B, n, d = 3, 200, 6
    G, c = [], []
    for _ in range(B):
        X, w = rng.normal(size=(n, d)), rng.random(n) + 0.05
        y = X @ np.where(rng.random(d) < 0.4, rng.normal(size=d), 0.0) + rng.normal(size=n)
        Xw = (X - np.average(X, axis=0, weights=w)) * np.sqrt(w)[:, None]
        yw = (y - np.average(y, weights=w)) * np.sqrt(w)
        G.append(Xw.T @ Xw)
        c.append(Xw.T @ yw)
    return (np.array(G), np.array(c), 3, n), ()


INPUTS = {
    "kernel_design": _kernel_design,
    "leverage_design": _leverage_design,
    "sample_neighbourhood": _sample_neighbourhood,
    "fill_masked_rows": _fill_masked_rows,
    "background_mean": _background_mean,
    "distinct_masked_rows": _distinct_masked_rows,
    "fill_rows_at": _fill_rows_at,
    "interpretable_rows": _interpretable_rows,
    "fill_superpixel_images": _fill_superpixel_images,
    "quickshift_densities": _quickshift_densities,
    "quickshift_parents": _quickshift_parents,
    "constrained_wls": _constrained_wls,
    "weighted_moments": _weighted_moments,
    "select_features": _select_features,
    "ridge_fit": _ridge_fit,
    "lasso_path_support": _lasso_path_support,
}


def _results(fn, args, outputs):
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    got = fn(*args)
    if outputs:
        return [args[i] for i in outputs]
    got = got if isinstance(got, tuple) else (got,)
    return [np.asarray(g) for g in got]


def test_every_kernel_has_inputs_here():
    assert set(INPUTS) == set(KERNELS)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("name", available())
def test_every_backend_exports_every_kernel_with_the_reference_results(rng, name, kernel):
    backend = get_backend(name)
    fn, ref = getattr(backend, kernel), _reference(kernel)
    assert _params(fn) == _params(ref)
    args, outputs = INPUTS[kernel](rng)
    want = _results(ref, args, outputs)
    got = _results(fn, args, outputs)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        if w.dtype.kind in "biu":  # designs, selections, indices: bit for bit
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)
    impl = backend.implementations[kernel]
    assert impl == (name if name != "torch" or kernel in TORCH_OPS else "numba")


# ---------------------------------------------------------------------------- on a device
DEVICE_KERNELS = ("fill_masked_rows", "background_mean", "fill_rows_at", "constrained_wls")


@pytest.mark.parametrize("kernel", DEVICE_KERNELS)
def test_torch_backend_takes_tensors_on_the_device(rng, device, kernel):
    """The kernels the tabular masker and the solve run on the module's device: tensors in,
    the reference's results (bit for bit for the row builders)."""
    if "torch" not in available():
        pytest.skip("xai_fast._C not built")
    import torch

    fn, ref = getattr(get_backend("torch"), kernel), _reference(kernel)
    args, outputs = INPUTS[kernel](rng)
    want = _results(ref, args, outputs)
    t_args = [torch.from_numpy(np.array(a)).to(device) if isinstance(a, np.ndarray) else a
              for a in args]  # fmt: skip
    got = fn(*t_args)
    got = [t_args[i] for i in outputs] if outputs else [got]
    for g, w in zip(got, want, strict=True):
        assert isinstance(g, torch.Tensor) and g.device.type == device
        g = g.cpu().numpy()
        if kernel.startswith("fill"):
            np.testing.assert_array_equal(g.view(np.int64), w.view(np.int64))
        else:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)

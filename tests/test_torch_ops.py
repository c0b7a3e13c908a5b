"""The C++ extension's ops: opcheck, each against its numpy reference, and the fallback switch."""

import os
import subprocess
import sys

import numpy as np
import pytest

from xai_fast.backends import available, get_backend
from xai_fast.masking import fill_ref
from xai_fast.sampling import kernel_design_ref
from xai_fast.sampling.plan import plan_design, random_size_cdf
from xai_fast.solvers import kernel_wls_ref

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif("torch" not in available(), reason="xai_fast._C not built")


def design_args(M, nsamples, seed):
    p = plan_design(M, nsamples)
    cdf = np.zeros(1) if p.fully_enumerated else random_size_cdf(p)
    return (
        M,
        p.nsamples,
        np.uint64(seed),
        p.weight_vector,
        p.num_full,
        p.num_paired,
        p.binoms,
        cdf,
    )


def tensor_design_args(M, nsamples, seed):
    a = design_args(M, nsamples, seed)
    t = torch.from_numpy
    return (a[0], a[1], int(a[2].astype(np.int64)), t(a[3]), a[4], a[5], t(a[6]), t(a[7]))


def masking_inputs(rng, dtype=torch.float32, device="cpu", d=11):
    n, N, S, M = 3, 4, 17, 7
    X = torch.from_numpy(rng.normal(size=(n, d))).to(dtype)
    B = torch.from_numpy(rng.normal(size=(N, d))).to(dtype)
    X[0, 0], B[1, 2] = float("nan"), -0.0  # copied bit for bit
    Z = torch.from_numpy(rng.random((S, M)) < 0.5)
    var_idx = torch.from_numpy(
        np.sort(np.array([rng.choice(d, M, replace=False) for _ in range(n)]), axis=1)
    )
    return tuple(t.to(device) for t in (X, B, Z, var_idx))


def same_bits(a, b):
    """``a`` and ``b`` (any devices) hold the same bit patterns (NaN and -0.0 included)."""
    a, b = a.cpu().contiguous(), b.cpu().contiguous()
    ints = {4: torch.int32, 8: torch.int64}
    return a.shape == b.shape and torch.equal(
        a.view(ints[a.element_size()]), b.view(ints[b.element_size()])
    )


# ---------------------------------------------------------------- opcheck on every op
def test_opcheck_kernel_design(rng):
    for M, ns in [(6, "auto"), (20, 300)]:
        torch.library.opcheck(
            torch.ops.xai_fast.kernel_design.default,
            tensor_design_args(M, ns, int(rng.integers(2**62))),
        )


def test_opcheck_fill_masked_rows(rng, cuda_kernels):
    X, B, Z, var_idx = masking_inputs(rng, device=cuda_kernels)
    out = torch.empty((5 * B.shape[0], X.shape[1]), dtype=X.dtype, device=cuda_kernels)
    torch.library.opcheck(torch.ops.xai_fast.fill_masked_rows.default, (X, B, Z, var_idx, 3, out))


def test_opcheck_background_mean(rng, cuda_kernels):
    out = torch.from_numpy(rng.normal(size=(5 * 4, 2))).to(cuda_kernels)
    w = torch.from_numpy(rng.random(4)).to(cuda_kernels)
    ey = torch.empty((5, 2), dtype=torch.float64, device=cuda_kernels)
    torch.library.opcheck(torch.ops.xai_fast.background_mean.default, (out, w, ey))


def test_opcheck_constrained_wls(rng, device):
    Z = torch.from_numpy((rng.random((60, 5)) < 0.5).astype(np.float64))
    args = tuple(
        t.to(device)
        for t in (
            Z,
            torch.from_numpy(rng.random(60) + 0.1),
            torch.from_numpy(rng.normal(size=(60, 3))),
            torch.from_numpy(rng.normal(size=3)),
        )
    )
    torch.library.opcheck(torch.ops.xai_fast.constrained_wls.default, args)


# ---------------------------------------------------------------- each op = its numpy reference
@pytest.mark.parametrize(
    "M,nsamples",
    [
        (2, "auto"),
        (9, "auto"),
        (12, "auto"),
        (16, 2048),
        (50, 2148),
        (64, 500),
        (65, 500),
        (200, 257),
    ],
)
def test_kernel_design_bit_identical_to_reference(rng, M, nsamples):
    args = design_args(M, nsamples, int(rng.integers(2**63)))
    Z1, w1 = kernel_design_ref.kernel_design(*args)
    Z2, w2 = get_backend("torch").kernel_design(*args)
    np.testing.assert_array_equal(Z2, Z1)
    np.testing.assert_array_equal(w2, w1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("impl", ["op", "plain_torch"])
@pytest.mark.parametrize("d", [11, 40])  # the CPU op's narrow-row and blended paths
def test_fill_masked_rows_equals_reference(rng, dtype, impl, d, cuda_kernels):
    from xai_fast.backends import torch_ops

    dev = cuda_kernels
    X, B, Z, var_idx = masking_inputs(rng, dtype, dev, d)
    start, P = 5, 30
    out = torch.full((P * B.shape[0], X.shape[1]), 7.0, dtype=dtype, device=dev)
    if impl == "op":
        torch.ops.xai_fast.fill_masked_rows(X, B, Z, var_idx, start, out)
    else:
        torch_ops.fill_masked_rows_torch(X, B, Z, var_idx, start, out)
    ref = np.empty(out.shape, dtype=out.cpu().numpy().dtype)
    host = [t.cpu().numpy() for t in (X, B, Z, var_idx)]
    fill_ref.fill_masked_rows(*host, start, ref)
    assert same_bits(out, torch.from_numpy(ref))


def test_fill_masked_rows_wrapper_runs_the_op_where_it_is_built(rng, cuda_kernels, monkeypatch):
    from xai_fast.backends import torch_ops

    X, B, Z, var_idx = masking_inputs(rng, torch.float64, cuda_kernels)
    out = torch.empty((4 * B.shape[0], X.shape[1]), dtype=X.dtype, device=cuda_kernels)
    assert torch_ops._compiled("fill_masked_rows", out)
    monkeypatch.setattr(torch_ops, "fill_masked_rows_torch", None)  # would fail if called
    torch_ops.fill_masked_rows(X, B, Z, var_idx, 2, out)


def test_fill_masked_rows_rejects_out_of_range_pairs(rng, cuda_kernels):
    X, B, Z, var_idx = masking_inputs(rng, device=cuda_kernels)
    out = torch.empty((10 * B.shape[0], X.shape[1]), dtype=X.dtype, device=cuda_kernels)
    with pytest.raises(RuntimeError, match="exceed"):
        torch.ops.xai_fast.fill_masked_rows(X, B, Z, var_idx, X.shape[0] * Z.shape[0] - 3, out)


def test_background_mean_equals_reference(rng):
    out = rng.normal(size=(7 * 5, 3))
    w = rng.random(5)
    w /= w.sum()
    ey, ref = np.empty((7, 3)), np.empty((7, 3))
    get_backend("torch").background_mean(out, w, ey)
    fill_ref.background_mean(out, w, ref)
    np.testing.assert_allclose(ey, ref, rtol=1e-13, atol=1e-15)


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_background_mean_on_cuda_is_bit_identical_to_the_cpu_op(rng, dtype):
    from xai_fast.backends.extension import has_cuda_kernel

    if not has_cuda_kernel("background_mean"):
        pytest.skip("xai_fast._C was built without its CUDA kernels (csrc/cuda)")
    out = torch.from_numpy(rng.normal(size=(9 * 6, 3))).to(dtype)
    w = torch.from_numpy(rng.random(6))
    ey_cpu = torch.empty((9, 3), dtype=torch.float64)
    torch.ops.xai_fast.background_mean(out, w, ey_cpu)
    ey = torch.empty((9, 3), dtype=torch.float64, device="cuda")
    torch.ops.xai_fast.background_mean(out.cuda(), w.cuda(), ey)
    assert same_bits(ey, ey_cpu)  # the same sums in the same order, no FMA


def test_constrained_wls_equals_reference(rng):
    Z = (rng.random((400, 20)) < 0.5).astype(np.float64)
    w, Y, total = rng.random(400) + 0.1, rng.normal(size=(400, 6)), rng.normal(size=6)
    np.testing.assert_allclose(
        get_backend("torch").constrained_wls(Z, w, Y, total),
        kernel_wls_ref.constrained_wls(Z, w, Y, total),
        rtol=1e-9,
        atol=1e-12,
    )


def test_constrained_wls_on_tensors_stays_a_tensor(rng):
    Z = torch.from_numpy((rng.random((50, 4)) < 0.5).astype(np.float64))
    phi = get_backend("torch").constrained_wls(
        Z,
        torch.ones(50, dtype=torch.float64),
        torch.randn(50, 2, dtype=torch.float64),
        torch.ones(2, dtype=torch.float64),
    )
    assert isinstance(phi, torch.Tensor) and phi.shape == (4, 2)


# ---------------------------------------------------------------- loading and fallback
def test_environment_variable_forces_the_fallback():
    code = (
        "import logging; logging.basicConfig(level=logging.INFO);"
        "import xai_fast.backends as b; print(b.available())"
    )
    env = dict(os.environ, XAI_FAST_DISABLE_EXTENSION="1")
    res = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert res.stdout.strip() == "['numpy', 'numba']"
    assert "XAI_FAST_DISABLE_EXTENSION" in res.stderr
    code = "import xai_fast.backends as b; b.get_backend('torch')"
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode != 0
    assert "ValueError: backend 'torch' is not available here (disabled by" in res.stderr


# ---------------------------------------------------------------- rescale_multiplier
def rescale_inputs(rng, dtype, R=12, M=4, shape=(3, 5), device="cpu"):
    """Inputs of the rescale rule with some |x - x_b| exactly zero and some below eps."""
    x_b = torch.from_numpy(rng.standard_normal((M, *shape))).to(dtype)
    x = torch.from_numpy(rng.standard_normal((R, *shape))).to(dtype)
    x[0] = x_b[0]  # dx == 0 on a whole row
    x[1, 0, 0] = x_b[1, 0, 0] + 1e-12
    y, y_b = torch.tanh(x), torch.tanh(x_b)
    return tuple(t.to(device) for t in (x, x_b, y, y_b))


def test_opcheck_rescale_multiplier(rng, cuda_kernels):
    x, x_b, y, y_b = rescale_inputs(rng, torch.float64, device=cuda_kernels)
    x[:2] += 1.0  # no undefined multipliers: opcheck compares outputs, and NaN != NaN
    args = (x, x_b, torch.tanh(x), y_b)
    torch.library.opcheck(torch.ops.xai_fast.rescale_multiplier.default, (*args, 1e-10))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("M", [4, 12])
def test_rescale_multiplier_bit_identical_to_reference(rng, dtype, M, cuda_kernels):
    from xai_fast.explainers.propagation._rescale import _use_op, rescale_multiplier_ref

    x, x_b, y, y_b = rescale_inputs(rng, dtype, R=12, M=M, device=cuda_kernels)
    assert _use_op(x, x_b, y, y_b)
    m, n = torch.ops.xai_fast.rescale_multiplier(x, x_b, y, y_b, 1e-10)
    assert m.device == x.device and n.device == x.device and n.dtype == torch.int64
    m, n = m.cpu(), n.cpu()
    x, x_b, y, y_b = (t.cpu() for t in (x, x_b, y, y_b))
    ref_m, ref_n = rescale_multiplier_ref(x, x_b, y, y_b, 1e-10)
    assert torch.equal(m.isnan(), ref_m.isnan()) and int(n) == int(ref_n) > 0
    assert same_bits(m.nan_to_num(), ref_m.nan_to_num())  # bit for bit off the NaNs
    # and numpy's IEEE arithmetic on the tiled baselines
    tile = (x.shape[0] // M,) + (1,) * (x.dim() - 1)
    a, ab, c, cb = (t.numpy() for t in (x, x_b.repeat(tile), y, y_b.repeat(tile)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ref_np = np.where(np.abs(a - ab) < a.dtype.type(1e-10), np.nan, (c - cb) / (a - ab))
    assert same_bits(m.nan_to_num(), torch.from_numpy(ref_np).nan_to_num())
    # an independent check of the tiling: row r pairs with baseline row r % M
    r = 7
    want = (y[r] - y_b[r % M]) / (x[r] - x_b[r % M])
    ok = ~m[r].isnan()
    assert torch.equal(m[r][ok], want[ok])


def test_rescale_multiplier_rejects_rows_that_do_not_tile(rng, cuda_kernels):
    x, x_b, y, y_b = rescale_inputs(rng, torch.float64, R=10, M=4, device=cuda_kernels)
    with pytest.raises(RuntimeError, match="multiple"):
        torch.ops.xai_fast.rescale_multiplier(x, x_b, y, y_b, 1e-10)


def test_deep_lift_gives_the_same_values_without_the_op(rng, monkeypatch):
    from xai_fast import DeepLiftShap
    from xai_fast.explainers.propagation import _rescale

    g = torch.Generator().manual_seed(int(rng.integers(1 << 30)))
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(4 * 3 * 3, 3), torch.nn.Tanh(),
    ).double()  # fmt: skip
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    x = torch.from_numpy(rng.standard_normal((5, 2, 8, 8)))
    bg = torch.from_numpy(rng.standard_normal((6, 2, 8, 8)))
    with_op = DeepLiftShap(net).attribute(x, bg, target=1)
    monkeypatch.setattr(_rescale, "_use_op", lambda *args: False)
    assert torch.equal(DeepLiftShap(net).attribute(x, bg, target=1), with_op)

"""The device path on CUDA: the compiled kernels are registered and used, and an explanation
synchronises with the host a fixed number of times per call, however many chunks it runs.

Every test here is marked ``cuda`` and skipped without a CUDA device (tests/conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from xai_fast.backends import available
from xai_fast.testing import count_host_syncs

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif("torch" not in available(), reason="xai_fast._C not built"),
]

CUDA_OPS = ("fill_masked_rows", "background_mean", "rescale_multiplier")


def test_the_cuda_kernels_are_registered():
    from xai_fast.backends.extension import has_cuda_kernel

    missing = [op for op in CUDA_OPS if not has_cuda_kernel(op)]
    if len(missing) == len(CUDA_OPS):
        pytest.skip("xai_fast._C was built without its CUDA kernels (csrc/cuda)")
    assert not missing, f"CUDA kernels missing for {missing}"


def small_cnn(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(4),
        torch.nn.Flatten(), torch.nn.Linear(8 * 16, 5),
    )  # fmt: skip
    return net.cuda().eval()


def test_tensor_kernel_shap_syncs_do_not_grow_with_the_chunks():
    from xai_fast import KernelShap

    net = small_cnn()
    x = torch.randn(4, 3, 16, 16, device="cuda")
    counts, values = {}, {}
    for batch_size in (4096, 64):  # one chunk per call, then about 13
        ks = KernelShap(net, seed=0, batch_size=batch_size)
        run = lambda ks=ks: ks.attribute(x, target=1, n_samples=200, patch_size=4)  # noqa: E731
        run()  # first call: lazy initialisation
        counts[batch_size] = count_host_syncs(run)
        values[batch_size] = run()
    print(f"host syncs per tensor KernelShap call: {counts}")
    assert counts[64] == counts[4096], counts
    torch.testing.assert_close(values[64], values[4096], rtol=1e-5, atol=1e-6)


def test_kernel_explainer_on_a_cuda_module_syncs_do_not_grow_with_the_chunks():
    from xai_fast import KernelExplainer

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    net = net.double().cuda()
    data, X = rng.normal(size=(20, 12)), rng.normal(size=(3, 12))
    counts, values = {}, {}
    for batch_size in (1 << 16, 256):
        ex = KernelExplainer(net, data, seed=0, batch_size=batch_size)
        run = lambda ex=ex: ex(X, nsamples=300, l1_reg=False, silent=True)  # noqa: E731
        run()
        counts[batch_size] = count_host_syncs(run)
        values[batch_size] = run().values
    print(f"host syncs per KernelExplainer call: {counts}")
    assert counts[256] == counts[1 << 16], counts
    np.testing.assert_allclose(values[256], values[1 << 16], rtol=1e-9, atol=1e-12)

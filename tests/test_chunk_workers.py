"""Chunks evaluated side by side on CPU threads: same values, errors and progress as one thread."""

import threading

import numpy as np
import pytest
import torch

import xai_fast as xf
from xai_fast._runtime.chunk_workers import map_chunks
from xai_fast._runtime.model_errors import ModelCallError
from xai_fast.models import ModelAdapter


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_map_chunks_returns_in_order_and_reports_every_chunk(workers):
    done = []
    out = map_chunks(lambda c, w: (c * c, w), 17, workers, on_done=done.append)
    assert [v for v, _ in out] == [c * c for c in range(17)]
    assert all(0 <= w < workers for _, w in out)
    assert sorted(done) == list(range(17))


def test_map_chunks_runs_each_worker_single_threaded_and_restores_the_thread_count():
    before = torch.get_num_threads()
    seen = map_chunks(lambda c, w: torch.get_num_threads(), 8, 2)
    assert torch.get_num_threads() == before
    assert set(seen) == {max(1, before // 2)}


def test_map_chunks_reraises_the_first_error_and_stops_handing_out_chunks():
    started = []
    lock = threading.Lock()

    def fn(c, w):
        with lock:
            started.append(c)
        if c == 3:
            raise ValueError("chunk 3 failed")
        return c

    before = torch.get_num_threads()
    with pytest.raises(ValueError, match="chunk 3 failed"):
        map_chunks(fn, 1000, 2)
    assert len(started) < 1000
    assert torch.get_num_threads() == before


def _mlp(d, seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(d, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3)
    ).eval()


@pytest.mark.parametrize("batch_size", [64, 300])
def test_kernel_shap_is_bit_identical_with_one_or_several_workers(rng, batch_size):
    d = 9
    net = _mlp(d, int(rng.integers(1 << 30)))
    B, X = rng.normal(size=(13, d)), rng.normal(size=(5, d))
    values = []
    for workers in (1, 2, 3):
        model = ModelAdapter(net, batch_size=batch_size, workers=workers)
        e = xf.KernelExplainer(model, B, seed=4)
        assert e.model.chunk_workers() == workers
        values.append(e.shap_values(X, nsamples=200, l1_reg=False, silent=True))
    assert np.abs(values[0]).max() > 1e-3
    for v in values[1:]:
        np.testing.assert_array_equal(v, values[0])
    # and the values are right: efficiency to 1e-6
    total = np.asarray(values[0]).sum(axis=1)
    fx = ModelAdapter(net)(X) - e.expected_value
    np.testing.assert_allclose(total, fx, atol=1e-6)


class _FailsOnLargeInputs(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.lin = torch.nn.Linear(d, 1)

    def forward(self, x):
        if (x.abs() > 50).any():
            raise RuntimeError("forward failed on a large input")
        return self.lin(x)


def test_model_errors_and_nan_reach_the_caller_from_workers(rng):
    d = 6
    B, X = rng.normal(size=(10, d)), rng.normal(size=(3, d))
    X[2, 0] = 100.0
    e = xf.KernelExplainer(ModelAdapter(_FailsOnLargeInputs(d), batch_size=32, workers=2), B)
    with pytest.raises(ModelCallError, match="forward failed on a large input") as info:
        e.shap_values(X, nsamples=100, silent=True)  # the model's error, said as ours
    assert isinstance(info.value.__cause__, RuntimeError)

    class NanAbove(torch.nn.Module):
        def forward(self, x):
            return torch.where(x[:, :1] > 50, torch.nan, x[:, :1])

    e = xf.KernelExplainer(ModelAdapter(NanAbove(), batch_size=32, workers=2), B)
    with pytest.raises(ValueError, match="non-finite"):
        e.shap_values(X, nsamples=100, silent=True)


def test_workers_option_is_checked_and_kept_on_rewrap():
    net = torch.nn.Linear(3, 1)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers must be a positive int"):
            ModelAdapter(net, workers=bad)
    assert ModelAdapter(ModelAdapter(net, workers=3)).workers == 3
    assert ModelAdapter(net).chunk_workers() == max(1, min(torch.get_num_threads(), 8))
    assert ModelAdapter(lambda X: X, workers=4).chunk_workers() == 1  # callables: one thread


def test_one_chunk_at_a_time_without_per_thread_settings(monkeypatch):
    import xai_fast._runtime.chunk_workers as cw

    monkeypatch.setattr(cw, "per_thread_settings", lambda: False)  # torch's native pool
    assert ModelAdapter(torch.nn.Linear(3, 1), workers=4).chunk_workers() == 1


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_pool():
    import multiprocessing as mp

    map_chunks(lambda c, w: c, 4, 2)  # the parent's pool exists

    def child(q):
        # torch's own OpenMP threads do not survive a fork either: one intra-op thread here
        torch.set_num_threads(1)
        q.put(map_chunks(lambda c, w: c * 2, 6, 2))

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    p.join(60)
    alive = p.is_alive()
    if alive:
        p.kill()
    assert not alive, "the forked child hung on the parent's thread pool"
    assert q.get(timeout=10) == [0, 2, 4, 6, 8, 10]


@pytest.mark.parametrize("cls", ["KernelShap", "Lime"])
def test_tensor_explainers_are_bit_identical_with_one_or_several_workers(rng, cls):
    torch.manual_seed(int(rng.integers(1 << 30)))
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(4 * 8 * 8, 3),
    ).eval()  # fmt: skip
    images = torch.tensor(rng.normal(size=(3, 1, 8, 8)), dtype=torch.float32)
    out = []
    for workers in (1, 2):
        explainer = getattr(xf, cls)(net, seed=3, batch_size=100, workers=workers)
        assert explainer._chunk_workers(images.device) == workers
        out.append(explainer.attribute(images, target=1, n_samples=500, patch_size=2))
    assert float(out[0].abs().max()) > 1e-4
    torch.testing.assert_close(out[1], out[0], rtol=0, atol=0)
    with pytest.raises(ValueError, match="workers must be a positive int"):
        getattr(xf, cls)(net, workers=0)

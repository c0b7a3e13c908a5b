import numpy as np
import pytest
import torch

from xai_fast.models import ModelAdapter


def test_module_gets_its_own_dtype_and_returns_float64_2d(rng):
    net = torch.nn.Linear(3, 1)  # float32
    ad = ModelAdapter(net)
    assert ad.input_dtype == np.float32
    X = rng.normal(size=(7, 3))
    out = ad(X)
    assert out.shape == (7, 1) and out.dtype == np.float64
    with torch.no_grad():
        ref = net(torch.tensor(X, dtype=torch.float32)).double().numpy()
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_chunked_evaluation_equals_one_call(rng, batch_size):
    w = rng.normal(size=(4, 2))
    X = rng.normal(size=(11, 4))
    out = ModelAdapter(lambda Z: Z @ w, batch_size=batch_size)(X)
    # a chunk's product may round differently from the whole one's (another BLAS kernel):
    # to rounding of the terms' size, which an output near 0 does not bound
    scale = (np.abs(X) @ np.abs(w)).max()
    np.testing.assert_allclose(out, X @ w, rtol=1e-13, atol=1e-14 * scale)


def test_callable_outputs_of_many_kinds_are_read(rng):
    import pandas as pd

    X = rng.normal(size=(5, 3))
    for f in [
        lambda Z: list(Z[:, 0]),
        lambda Z: pd.Series(Z[:, 0]),
        lambda Z: torch.tensor(Z[:, 0]),
        lambda Z: Z[:, :1],
    ]:
        np.testing.assert_allclose(ModelAdapter(f)(X)[:, 0], X[:, 0])


def test_adapter_errors():
    with pytest.raises(TypeError, match="model must be"):
        ModelAdapter(42)
    with pytest.raises(ValueError, match="batch_size"):
        ModelAdapter(lambda X: X, batch_size=0)
    with pytest.raises(TypeError, match="could not be read as numbers"):
        ModelAdapter(lambda X: np.array(["a"] * len(X)))(np.ones((2, 2)))
    with pytest.raises(ValueError, match="expected \\(2,\\) or \\(2, k\\)"):
        ModelAdapter(lambda X: np.ones((2, 2, 2)))(np.ones((2, 2)))


def test_rewrapping_keeps_settings_and_check_finite_can_be_turned_off(rng):
    import xai_fast as xf

    inner = ModelAdapter(
        lambda X: np.where(X[:, 0] > 0, np.nan, X[:, 0]), batch_size=7, check_finite=False
    )
    outer = ModelAdapter(inner)
    assert outer.batch_size == 7 and not outer.check_finite
    B = rng.normal(size=(5, 3))
    B[:, 0] = -1.0
    e = xf.KernelExplainer(inner, B, seed=0)
    v = e.shap_values(np.array([1.0, 0.5, 0.5]), l1_reg=False)
    assert np.isnan(v).any()  # accepted, as asked


class _SmallDevice(torch.nn.Module):
    """A linear model whose 'device' runs out of memory above ``limit`` rows per call."""

    def __init__(self, limit):
        super().__init__()
        self.lin = torch.nn.Linear(5, 2).double()
        self.limit = limit
        self.calls = []

    def forward(self, x):
        self.calls.append(x.shape[0])
        if x.shape[0] > self.limit:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.lin(x)


def test_out_of_memory_halves_the_chunk_and_retries(rng):
    X = rng.normal(size=(300, 5))
    net = _SmallDevice(limit=70)
    adapter = ModelAdapter(net, batch_size=256)
    out = adapter(X)
    with torch.no_grad():
        np.testing.assert_allclose(out, net.lin(torch.from_numpy(X)).numpy(), rtol=1e-12)
    assert max(c for c in net.calls[-5:]) <= 70 and 256 in net.calls
    t = adapter.call_tensor(torch.from_numpy(X))
    np.testing.assert_allclose(t.numpy(), out, rtol=1e-12)
    with pytest.raises(MemoryError, match="single row"):
        ModelAdapter(_SmallDevice(limit=0), batch_size=8)(X[:3])


def test_call_tensor_sizes_chunks_by_values_per_example():
    class CountRows(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = []

        def forward(self, x):
            self.calls.append(x.shape[0])
            return x.flatten(1).sum(1, keepdim=True)

    net = CountRows()
    images = torch.randn(2500, 1, 32, 32)  # 1024 values per example
    out = ModelAdapter(net).call_tensor(images)
    np.testing.assert_allclose(out.numpy()[:, 0], images.flatten(1).sum(1).numpy(), rtol=1e-4)
    # at most 2**20 values per call: 1024 images a call (not 2048 from the channel count)
    assert net.calls == [1024, 1024, 452]


def test_chunk_rule_rows_per_call():
    """2048 rows for narrow rows, about 2**20 values per call up to 1024 values a row; wider
    rows (images) on the CPU about 2**16 values, at least 16 rows; accelerators keep 2**20."""
    import torch

    net = ModelAdapter(torch.nn.Linear(3, 1))
    assert [net.batch_rows(d) for d in (1, 10, 512, 1024)] == [2048, 2048, 2048, 1024]
    assert [net.batch_rows(d) for d in (1025, 3072, 150528)] == [63, 21, 16]
    assert ModelAdapter(lambda X: X).batch_rows(3072) == 21  # a callable: the CPU's rule
    net.device = torch.device("cuda")  # the rule only; nothing runs there
    assert net.batch_rows(3072) == 341 and net.batch_rows(150528) == 256
    assert ModelAdapter(lambda X: X, batch_size=7).batch_rows(3072) == 7


def test_chunks_that_disagree_on_the_number_of_outputs_are_refused(rng):
    calls = []

    def model(X):  # 1 output on the first chunk, 2 on the next
        calls.append(len(X))
        return np.ones((len(X), len(calls)))

    X = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match=r"2 outputs per row for rows 4\.\.7 but 1"):
        ModelAdapter(model, batch_size=4)(X)
    net = torch.nn.Linear(3, 2)
    t = torch.as_tensor(X, dtype=torch.float32)
    out = ModelAdapter(net, batch_size=3).call_tensor(t)  # 4 chunks, written into one result
    with torch.no_grad():
        torch.testing.assert_close(out, net(t), rtol=0, atol=0)


def test_explainer_pickles_after_a_call_and_reuses_its_buffers(rng):
    import pickle

    import xai_fast as xf

    torch.manual_seed(int(rng.integers(1000)))
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    ex = xf.KernelExplainer(net, rng.normal(size=(6, 5)), seed=1, backend="torch")
    X = rng.normal(size=(4, 5))
    first = ex.shap_values(X, silent=True)
    second = ex.shap_values(X, silent=True)  # the same buffers, the same values
    np.testing.assert_array_equal(np.asarray(first), np.asarray(second))
    again = pickle.loads(pickle.dumps(ex))
    np.testing.assert_array_equal(np.asarray(again.shap_values(X, silent=True)), np.asarray(first))


class _ModeRecorder(torch.nn.Module):
    """A dropout net that records, per forward, whether each module was in training mode."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 1)
        self.drop = torch.nn.Dropout(0.5)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, self.drop.training))
        return self.drop(self.lin(x))


@pytest.mark.parametrize("parent,child", [(True, True), (False, True), (False, False)])
def test_evaluating_runs_every_module_in_eval_mode_and_restores(rng, parent, child):
    net = _ModeRecorder()
    net.train(parent)
    net.drop.train(child)
    adapter = ModelAdapter(net)
    X = rng.normal(size=(6, 3))
    with adapter.evaluating():
        out = adapter(X)
    assert net.seen == [(False, False)]  # dropout off: the same rows give the same outputs
    with adapter.evaluating():
        np.testing.assert_array_equal(adapter(X), out)
    if parent == child:  # a uniform mode comes back as it was
        assert (net.training, net.drop.training) == (parent, child)


def test_kernel_explainer_calls_a_small_background_once_at_construction(rng):
    import xai_fast as xf

    calls = []

    def f(X):
        calls.append(len(X))
        return X.sum(axis=1)

    B = rng.normal(size=(20, 4))
    ex = xf.KernelExplainer(f, B)
    assert calls == [20]
    np.testing.assert_allclose(ex.expected_value, B.sum(axis=1).mean(), rtol=1e-12)
    big = xf.KernelExplainer(f, B, batch_size=8)  # a background over one call: chunks
    assert calls[1:] == [1, 8, 8, 4]
    assert not big.vector_out

"""What an explainer offers to be handed to other processes: ``with_seed``, ``to``,
``sample_rows``, and pickling with compiled kernels by name."""

import io
import pickle
import subprocess
import sys

import numpy as np
import pytest

import xai_fast as xf
from xai_fast.backends import available, get_backend

D = 5
W = np.array([0.8, -1.2, 0.5, 2.0, -0.3])


def model(X):
    return np.tanh(X @ W) + X[:, 0] * X[:, 1]


def proba(X):
    p = 1.0 / (1.0 + np.exp(-(X @ W)))
    return np.stack([1.0 - p, p], axis=1)


def compiled_in(obj) -> list:
    """The Numba functions that pickling ``obj`` serialises by value."""
    from numba.core.dispatcher import Dispatcher

    seen = []

    class Recorder(pickle.Pickler):
        def reducer_override(self, o):
            if isinstance(o, Dispatcher):
                seen.append(o)
            return NotImplemented

    Recorder(io.BytesIO()).dump(obj)
    return seen


# ---------------------------------------------------------------------- Backend pickling
@pytest.mark.parametrize("name", available())
def test_backend_pickles_as_its_name_and_loads_the_same_kernels(name):
    backend = get_backend(name)
    assert backend.__reduce__() == (get_backend, (name,))
    blob = pickle.dumps(backend)
    assert len(blob) < 200  # the name, not the kernels' code
    loaded = pickle.loads(blob)
    assert loaded == backend
    for field in ("kernel_design", "constrained_wls", "fill_masked_rows", "background_mean"):
        assert getattr(loaded, field) is getattr(backend, field)
    assert compiled_in(backend) == []


def test_loading_a_numba_backend_does_not_import_torch():
    blob = pickle.dumps(get_backend("numba")).hex()
    code = (
        "import pickle, sys\n"
        f"b = pickle.loads(bytes.fromhex({blob!r}))\n"
        "print(b.name, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["numba", "False"]


def test_explainers_pickle_no_compiled_kernel_by_value(rng):
    B = rng.normal(size=(6, D))
    kernel = xf.KernelExplainer(model, B, seed=0, backend="numba")
    lime = xf.LimeTabularExplainer(rng.normal(size=(60, D)), random_state=0, backend="numba")
    assert compiled_in(kernel) == []
    assert compiled_in(lime) == []
    X = rng.normal(size=(4, D))
    for e, args in ((kernel, ()), (lime, (proba,))):
        ref = e(X, *args, silent=True)
        again = pickle.loads(pickle.dumps(e))(X, *args, silent=True)
        np.testing.assert_array_equal(again.values, ref.values)


# ---------------------------------------------------------------------- with_seed
def test_kernel_with_seed_fixes_a_drawn_seed(rng):
    B, X = rng.normal(size=(8, D)), rng.normal(size=(12, D))
    e = xf.KernelExplainer(model, B)  # seed=None: fresh entropy on every call
    fixed = e.with_seed()
    assert fixed is not e and e.seed is None and isinstance(fixed.seed, int)
    first = fixed(X, nsamples=40, l1_reg=False, silent=True)
    second = fixed(X, nsamples=40, l1_reg=False, silent=True)
    np.testing.assert_array_equal(first.values, second.values)
    assert xf.KernelExplainer(model, B, seed=7).with_seed().seed == 7


def test_kernel_with_seed_draws_a_generator_once(rng):
    B, X = rng.normal(size=(8, D)), rng.normal(size=(12, D))
    fixed = xf.KernelExplainer(model, B, seed=np.random.default_rng(11)).with_seed()
    ref = xf.KernelExplainer(model, B, seed=np.random.default_rng(11))
    expected = ref(X, nsamples=40, l1_reg=False, silent=True).values
    for _ in range(2):  # the generator was drawn once, in with_seed
        got = fixed(X, nsamples=40, l1_reg=False, silent=True).values
        np.testing.assert_array_equal(got, expected)


def test_exact_with_seed_is_a_copy(rng):
    e = xf.ExactExplainer(model, rng.normal(size=(4, D)))
    copy = e.with_seed()
    X = rng.normal(size=(3, D))
    assert copy is not e
    np.testing.assert_array_equal(copy(X, silent=True).values, e(X, silent=True).values)


def test_lime_with_seed_draws_a_random_state_once(rng):
    train, X = rng.normal(size=(80, D)), rng.normal(size=(6, D))
    e = xf.LimeTabularExplainer(train, random_state=np.random.RandomState(3))
    fixed = e.with_seed()
    assert isinstance(fixed.random_state, int)
    assert isinstance(e.random_state, np.random.RandomState)
    ref = xf.LimeTabularExplainer(train, random_state=np.random.RandomState(3))
    expected = ref(X, proba, num_samples=300).values
    for _ in range(2):
        np.testing.assert_array_equal(fixed(X, proba, num_samples=300).values, expected)


# ---------------------------------------------------------------------- sample_rows
def test_lime_sample_rows_lie_where_the_model_is_evaluated(rng):
    train = 5.0 + rng.normal(size=(400, D))
    binned = xf.LimeTabularExplainer(train, random_state=0)
    rows = binned.sample_rows(500, seed=1)
    assert rows.shape == (500, D) and rows.dtype == np.float64
    np.testing.assert_array_equal(rows, binned.sample_rows(500, seed=1))
    assert (rows >= train.min(axis=0)).all() and (rows <= train.max(axis=0)).all()
    # draws around each instance are offsets; sample_rows places them around the mean
    around = xf.LimeTabularExplainer(
        train, discretize_continuous=False, sample_around_instance=True, random_state=0
    )
    rows = around.sample_rows(4000, seed=1)
    np.testing.assert_allclose(rows.mean(axis=0), train.mean(axis=0), atol=0.15)
    with pytest.raises(ValueError, match="n must be a positive int"):
        around.sample_rows(0)


# ---------------------------------------------------------------------- to(device)
def test_to_moves_a_module_model_and_keeps_its_settings(rng):
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(D, 1).double()
    e = xf.KernelExplainer(net, rng.normal(size=(6, D)), seed=0, batch_size=7, backend="numba")
    X = rng.normal(size=(5, D))
    ref = e(X, nsamples=40, l1_reg=False, silent=True).values
    assert e.to("cpu") is e
    np.testing.assert_array_equal(e(X, nsamples=40, l1_reg=False, silent=True).values, ref)
    assert e.to("meta") is e
    assert next(net.parameters()).device.type == "meta"
    assert e.model.device == torch.device("meta") and e.model.batch_size == 7


def test_to_leaves_a_callable_model_as_it_is(rng):
    e = xf.KernelExplainer(model, rng.normal(size=(6, D)), seed=0)
    adapter = e.model
    assert e.to("cuda") is e
    assert e.model is adapter and e.model.device is None


def test_gpu_placement_moves_models_only_when_cuda_is_visible(rng, monkeypatch):
    torch = pytest.importorskip("torch")
    from xai_fast.distributed.placement import to_gpu

    e = xf.KernelExplainer(model, rng.normal(size=(6, D)), seed=0)
    net = torch.nn.Linear(D, 2)
    moved = []
    monkeypatch.setattr(e, "to", lambda device: moved.append(("explainer", device)))
    monkeypatch.setattr(net, "to", lambda device: moved.append(("predict_fn", device)))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    to_gpu(e, net)
    assert moved == []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    to_gpu(e, net)
    to_gpu(e, model)  # a callable predict_fn stays where it is
    assert moved == [("explainer", "cuda"), ("predict_fn", "cuda"), ("explainer", "cuda")]

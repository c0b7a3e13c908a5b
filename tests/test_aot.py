"""The LIME kernels compiled ahead of time (``xai_fast.backends.aot``): built by the set-up, bit
for bit the JIT kernels' results, used only for the argument types they were compiled for and
only while their sources are unchanged, and tabular LIME's first call runs without Numba."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from test_backends import INPUTS

from xai_fast.backends import AOT_KERNELS, aot, aot_kernels, get_backend
from xai_fast.masking import lime_rows_numba
from xai_fast.sampling import lime_neighbourhood_numba
from xai_fast.solvers import lime_ridge_numba

JIT = {
    "sample_neighbourhood": lime_neighbourhood_numba.sample_neighbourhood,
    "interpretable_rows": lime_rows_numba.interpretable_rows,
    "weighted_moments": lime_ridge_numba.weighted_moments,
    "select_features": lime_ridge_numba.select_features,
    "ridge_fit": lime_ridge_numba.ridge_fit,
}
SEEDS = range(4)


def _contiguous(args):
    return [np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a for a in args]


def _assert_same(got, want):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


@pytest.fixture
def spy(monkeypatch):
    """Counts the calls that reach the compiled module."""
    module = aot.load()
    calls = []

    class Spy:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(module, name)

    monkeypatch.setattr(aot, "_MODULE", [Spy()])
    return calls


def test_the_setup_built_the_module_from_the_current_sources():
    module = aot.load()
    assert module is not None, "run `python -m xai_fast._runtime.warm_cache` (make does)"
    assert module.stamp() == aot.source_stamp()
    assert set(AOT_KERNELS) == set(JIT)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kernel", sorted(JIT))
def test_compiled_ahead_equals_the_jit_bit_for_bit(spy, kernel, seed):
    rng = np.random.default_rng([seed, 17])
    args, _ = INPUTS[kernel](rng)
    args = _contiguous(args)
    _assert_same(getattr(aot_kernels, kernel)(*args), JIT[kernel](*args))
    assert len(spy) == 1  # it ran compiled, not through the fallback


def test_seeds_of_all_64_bits(spy):
    args = _contiguous(INPUTS["sample_neighbourhood"](np.random.default_rng(11))[0])
    args[0] = np.uint64(2**64 - 3)
    within = np.uint64(2**63 + 5)
    _assert_same(
        aot_kernels.sample_neighbourhood(*args, within_seed=within),
        JIT["sample_neighbourhood"](*args, within_seed=within),
    )
    assert spy == ["draw_neighbourhood"]


@pytest.mark.parametrize("kernel", sorted(JIT))
def test_the_numba_backend_runs_them(spy, kernel):
    backend = get_backend("numba")
    assert getattr(backend, kernel) is getattr(aot_kernels, kernel)
    getattr(backend, kernel)(*_contiguous(INPUTS[kernel](np.random.default_rng(3))[0]))
    assert spy


def _strided(a):
    """``a``'s values in a non-contiguous array."""
    wide = np.zeros(a.shape + (2,), dtype=a.dtype)
    wide[..., 0] = a
    return wide[..., 0]


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.astype(np.float32),  # compiled code would read float64 out of these
        _strided,
        lambda a: a.reshape(1, *a.shape),
    ],
    ids=["float32", "strided", "extra-dimension"],
)
def test_other_argument_types_run_the_jit(spy, monkeypatch, change):
    rng = np.random.default_rng(5)
    X, w, Y = _contiguous(INPUTS["weighted_moments"](rng)[0])
    ran = []
    monkeypatch.setitem(aot._JIT, "weighted_moments", lambda *a: ran.append(a) or "jit")
    assert aot_kernels.weighted_moments(change(X), w, Y) == "jit"
    assert not spy and len(ran) == 1


@pytest.mark.parametrize(
    ("kind", "value", "want"),
    [
        ("i8", 3, 3),
        ("i8", np.int32(-4), -4),
        ("i8", 2**63, None),
        ("i8", True, None),
        ("i8", 2.0, None),
        ("u8", np.uint64(2**64 - 1), 2**64 - 1),
        ("u8", -1, None),
        ("f8", 2, 2.0),
        ("f8", "2", None),
        ("b1", np.bool_(True), True),
        ("b1", 1, None),
    ],
)
def test_scalar_checks(kind, value, want):
    got = aot._checked(value, kind)
    assert got == want and type(got) is type(want)


def test_a_stale_module_is_not_used(monkeypatch):
    monkeypatch.setattr(aot, "_MODULE", [])
    monkeypatch.setattr(aot, "source_stamp", lambda: -1)  # the sources changed since
    assert aot.load() is None
    args = _contiguous(INPUTS["ridge_fit"](np.random.default_rng(7))[0])
    _assert_same(aot_kernels.ridge_fit(*args), lime_ridge_numba.ridge_fit(*args))


def test_the_stamp_follows_the_sources(monkeypatch):
    before = aot.source_stamp()
    monkeypatch.setattr(aot, "SOURCES", aot.SOURCES[:-1])
    assert aot.source_stamp() != before


LIME_ONLY = """
import sys
import numpy as np
import xai_fast as xf
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 5))
f = lambda Z: np.tanh(Z @ np.arange(1.0, 6.0))
e = xf.LimeTabularExplainer(X, mode="regression", random_state=0)
exp = e.explain_instance(X[0], f, num_samples=200, num_features=3)
print(len(exp.as_list()), "numba" in sys.modules)
"""


def test_tabular_lime_on_a_callable_never_imports_numba():
    out = subprocess.run(
        [sys.executable, "-c", LIME_ONLY], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.split() == ["3", "False"], out.stdout + out.stderr


def test_a_failed_build_leaves_the_setup_running(monkeypatch, capsys):
    from xai_fast._runtime import warm_cache

    def no_compiler(output_dir=None):
        raise OSError("no C compiler")

    monkeypatch.setattr(warm_cache, "warm", lambda: 0.0)
    monkeypatch.setattr(aot, "build", no_compiler)
    warm_cache.main()
    out = capsys.readouterr().out
    assert "not compiled ahead of time (OSError: no C compiler)" in out

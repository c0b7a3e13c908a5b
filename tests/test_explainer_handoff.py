"""What an explainer offers to be handed to other processes: pickling with compiled kernels by
name."""

import io
import pickle
import subprocess
import sys

import pytest

from xai_fast.backends import available, get_backend


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

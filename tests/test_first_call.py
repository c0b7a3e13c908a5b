"""The first call stays light: a callable's explainer imports neither torch nor matplotlib, and
a kernel compiled at first use says so once."""

from __future__ import annotations

import subprocess
import sys
import types

from xai_fast._runtime import compile_notice

LIGHT = """
import sys
import numpy as np
import xai_fast as xf
rng = np.random.default_rng(0)
B, X = rng.normal(size=(8, 4)), rng.normal(size=(2, 4))
f = lambda Z: np.tanh(Z @ np.arange(1.0, 5.0))
xf.KernelExplainer(f, B).shap_values(X, silent=True)
xf.ExactExplainer(f, B)(X, silent=True)
xf.LimeTabularExplainer(B, mode="regression").explain_instance(X[0], f, num_samples=50)
print(sorted(m for m in ("torch", "matplotlib") if m in sys.modules))
"""


def test_callable_explainers_import_neither_torch_nor_matplotlib():
    out = subprocess.run(
        [sys.executable, "-c", LIGHT], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_compiling_notice_once_and_only_without_a_cache(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(compile_notice, "_NOTICED", set())
    cold = tmp_path / "cold_numba.py"
    warm = tmp_path / "warm_numba.py"
    for p in (cold, warm):
        p.write_text("")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "warm_numba.kernel-1.py311.nbi").write_text("")
    compile_notice.compiling_notice(types.SimpleNamespace(__file__=str(warm)))
    assert capsys.readouterr().err == ""
    compile_notice.compiling_notice(types.SimpleNamespace(__file__=str(cold)))
    assert "compiling Numba kernels on first use" in capsys.readouterr().err
    other = tmp_path / "other_numba.py"
    other.write_text("")
    compile_notice.compiling_notice(types.SimpleNamespace(__file__=str(other)))
    assert capsys.readouterr().err == ""  # one line per process

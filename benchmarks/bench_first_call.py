"""The first call: a fresh Python process that imports the library and explains a few rows.

Each round starts new processes, ours and the reference's alternately, and times them from
process start to the end of the explanation (model loading included, the same for both):

- Kernel SHAP: a ``LogisticRegression`` pipeline on breast cancer, ``kmeans(X, 10)``, 5 rows,
  against ``shap.KernelExplainer`` with ``shap.kmeans(X, 10)``;
- LIME: the same model, one row with ``explain_instance`` (5000 samples), against ``lime``'s.

Run it right after ``make`` on a new clone for the fresh-install figures, and again for the
warm-cache ones. Also reported: Kernel SHAP on a 10-feature torch MLP with a 10-row background
(in-process, warm), against the model's own time on the same rows.

    python benchmarks/bench_first_call.py [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

OURS_KERNEL = """
import xai_fast as xf
X, model = load()
xf.KernelExplainer(model.predict_proba, xf.kmeans(X, 10)).shap_values(X[:5], silent=True)
"""
SHAP_KERNEL = """
import shap
X, model = load()
shap.KernelExplainer(model.predict_proba, shap.kmeans(X, 10)).shap_values(X[:5], silent=True)
"""
OURS_LIME = """
import xai_fast as xf
X, model = load()
xf.LimeTabularExplainer(X, random_state=0).explain_instance(X[0], model.predict_proba)
"""
LIME_LIME = """
import lime.lime_tabular
X, model = load()
lime.lime_tabular.LimeTabularExplainer(X, random_state=0).explain_instance(
    X[0], model.predict_proba
)
"""
PRELUDE = """
import pickle, sys, time
def load():
    with open(sys.argv[1], "rb") as f:
        return pickle.load(f)
"""


def _run(body: str, model_file: Path) -> float:
    """Seconds from starting a new interpreter to the end of ``body``."""
    code = textwrap.dedent(PRELUDE) + textwrap.dedent(body)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(model_file)], check=True)
    return time.perf_counter() - start


def _pairs(ours: str, ref: str, model_file: Path, repeats: int) -> dict:
    a, b = [], []
    for _ in range(repeats):  # alternate, so that drift hits both sides alike
        a.append(_run(ours, model_file))
        b.append(_run(ref, model_file))
    return {
        "ours_s": statistics.median(a),
        "ref_s": statistics.median(b),
        "ratio": statistics.median(x / y for x, y in zip(a, b, strict=True)),
    }


def _small_call(repeats: int) -> dict:
    """Kernel SHAP of 10 rows of a 10-feature MLP on a 10-row background, against the model
    on the same number of rows (every coalition of every row against every background row)."""
    import numpy as np
    import torch

    import xai_fast as xf

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(10, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)
    ).eval()
    rng = np.random.default_rng(0)
    B, X = rng.normal(size=(10, 10)), rng.normal(size=(10, 10))
    ex = xf.KernelExplainer(net, B, seed=0)
    ex.shap_values(X, l1_reg=False, silent=True)  # warm; no selection, as the quick suite
    rows = len(X) * (2**10 - 2) * len(B)
    Z = torch.as_tensor(rng.normal(size=(rows, 10)), dtype=torch.float32)
    ours, model = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        ex.shap_values(X, l1_reg=False, silent=True)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        with torch.inference_mode():
            for chunk in torch.split(Z, 2048):
                net(chunk)
        model.append(time.perf_counter() - t)
    return {
        "ours_s": statistics.median(ours),
        "model_s": statistics.median(model),
        "ratio": statistics.median(a / b for a, b in zip(ours, model, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "model.pkl"
        model_file.write_bytes(pickle.dumps((X, model)))
        result = {
            "kernel_first_call": _pairs(OURS_KERNEL, SHAP_KERNEL, model_file, args.repeats),
            "lime_first_call": _pairs(OURS_LIME, LIME_LIME, model_file, args.repeats),
        }
    result["kernel_small_call"] = _small_call(max(args.repeats, 5))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, r in result.items():
        ref = "ref_s" if "ref_s" in r else "model_s"
        print(f"{name:20s} ours {r['ours_s']:.3f} s  {ref[:-2]} {r[ref]:.3f} s  "
              f"ratio (median of rounds) {r['ratio']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()

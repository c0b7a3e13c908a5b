"""The xai-fast command line: explain from files, and one-line errors on bad input."""

from __future__ import annotations

import csv
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import xai_fast as xf
from xai_fast.cli import main


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X[:, :6] - X[:, :6].mean(0)) / X[:, :6].std(0)
    return X, y, [f"f{j}" for j in range(6)]


def _write_csv(path, names, X):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        w.writerows(X.tolist())


def _read(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=float)


@pytest.fixture
def files(tmp_path, cancer, rng):
    from sklearn.linear_model import LogisticRegression

    X, y, names = cancer
    rows = rng.choice(len(X), 8, replace=False)
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    model = tmp_path / "clf.pkl"
    model.write_bytes(pickle.dumps(clf))
    _write_csv(tmp_path / "data.csv", names, X[rows])
    _write_csv(tmp_path / "bg.csv", names, X[:40])
    return tmp_path, clf, X[rows], X[:40], names


def test_explain_kernel_writes_shap_values(files, capsys):
    d, clf, X, B, names = files
    out = d / "values.csv"
    argv = ["explain", "--model", str(d / "clf.pkl"), "--data", str(d / "data.csv")]
    argv += ["--background", str(d / "bg.csv"), "--seed", "3", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    header, table = _read(out)
    assert header[:7] == ["base_value[0]"] + [f"{n}[0]" for n in names]
    assert header[7:9] == ["base_value[1]", "f0[1]"] and len(header) == 14
    ref = xf.KernelExplainer(clf.predict_proba, B, seed=3).shap_values(X, l1_reg=False)
    np.testing.assert_allclose(table[:, 8:], ref[:, :, 1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(table[:, 7] + table[:, 8:].sum(1), clf.predict_proba(X)[:, 1])


def test_explain_exact_and_lime_with_torch_models(tmp_path, cancer, rng):
    X, _, names = cancer
    _write_csv(tmp_path / "data.csv", names, X[:5])
    gen = torch.Generator().manual_seed(int(rng.integers(1e6)))
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    torch.save(net, tmp_path / "net.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(net), tmp_path / "net_script.pt")
    f = net(torch.tensor(X[:5], dtype=torch.float32)).detach().numpy()[:, 0]
    for model in ("net.pt", "net_script.pt"):
        out = tmp_path / f"{model}.csv"
        argv = ["explain", "--model", str(tmp_path / model), "--data", str(tmp_path / "data.csv")]
        assert main([*argv, "--method", "exact", "--out", str(out), "--quiet"]) == 0
        header, table = _read(out)
        assert header == ["base_value", *names]
        np.testing.assert_allclose(table[:, 0] + table[:, 1:].sum(1), f, rtol=1e-5, atol=1e-5)
    out = tmp_path / "lime.csv"
    argv = ["explain", "--model", str(tmp_path / "net.pt"), "--data", str(tmp_path / "data.csv")]
    assert main([*argv, "--method", "lime", "--nsamples", "500", "--out", str(out), "--quiet"]) == 0
    header, table = _read(out)
    assert header == ["base_value", *names] and table.shape == (5, 7)


def _fails(argv, capsys, match):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("xai-fast: error:"), err
    assert match in err[0], err[0]


def test_bad_input_ends_with_one_line(files, capsys, tmp_path):
    d, clf, X, B, names = files
    base = ["explain", "--data", str(d / "data.csv"), "--out", str(d / "o.csv")]
    _fails([*base, "--model", str(d / "missing.pkl")], capsys, "does not exist")
    _fails(["explain", "--model", str(d / "clf.pkl"), "--data", "nope.csv", "--out", "o.csv"],
           capsys, "does not exist")  # fmt: skip
    _write_csv(d / "bg_wrong.csv", ["a", "b", "c", "d", "e", "f"], B)
    _fails([*base, "--model", str(d / "clf.pkl"), "--background", str(d / "bg_wrong.csv")],
           capsys, "columns")  # fmt: skip
    (d / "text.csv").write_text("f0,f1\n1,abc\n")
    _fails(["explain", "--model", str(d / "clf.pkl"), "--data", str(d / "text.csv"),
            "--out", "o.csv"], capsys, "numbers only")  # fmt: skip

    (d / "broken.pkl").write_bytes(pickle.dumps(BrokenModel()))
    _fails([*base, "--model", str(d / "broken.pkl")], capsys, "the model raised")
    torch.save(torch.nn.Linear(6, 1).state_dict(), d / "weights.pt")
    _fails([*base, "--model", str(d / "weights.pt")], capsys, "state_dict")
    (d / "junk.pkl").write_bytes(b"not a pickle")
    _fails([*base, "--model", str(d / "junk.pkl")], capsys, "unpickle")
    _fails([*base, "--model", str(d / "clf.pkl"), "--nsamples", "0"], capsys, "--nsamples")


class BrokenModel:
    """A model that fails on every call (module level, so that it pickles)."""

    def __call__(self, X):
        raise RuntimeError("boom")


def test_module_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "xai_fast", "explain", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "--background" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "xai_fast", "frobnicate"], capture_output=True)
    assert bad.returncode == 2


def test_explain_writes_plots(files):
    pytest.importorskip("matplotlib")
    d, clf, X, B, names = files
    argv = ["explain", "--model", str(d / "clf.pkl"), "--data", str(d / "data.csv")]
    argv += ["--out", str(d / "v.csv"), "--plots", str(d / "plots"), "--quiet"]
    assert main(argv) == 0
    for name in ("bar", "beeswarm", "waterfall"):
        png = d / "plots" / f"{name}.png"
        assert png.stat().st_size > 5000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("method", ["kernel", "exact", "lime"])
def test_a_frame_fitted_pipeline_prints_no_warnings(tmp_path, cancer, method):
    import warnings

    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, names = cancer
    frame = pd.DataFrame(X, columns=names)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(frame, y)
    (tmp_path / "pipe.pkl").write_bytes(pickle.dumps(pipe))
    _write_csv(tmp_path / "data.csv", names, X[:3])
    _write_csv(tmp_path / "bg.csv", names, X[:12])
    argv = ["explain", "--model", str(tmp_path / "pipe.pkl"), "--data", str(tmp_path / "data.csv")]
    argv += ["--background", str(tmp_path / "bg.csv"), "--method", method, "--quiet"]
    argv += ["--out", str(tmp_path / "values.csv"), "--nsamples", "64"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a feature-name warning fails the test
        assert main(argv) == 0

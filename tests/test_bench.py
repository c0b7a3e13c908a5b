"""The benchmark suite (``xai-fast bench``) in its tiny smoke mode: records, tables and plots.

No assertion here depends on wall-clock time.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xai_fast.bench import FIELDS, run_suite
from xai_fast.bench.runners import methods
from xai_fast.bench.suite import rank_corr, rel_error
from xai_fast.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One smoke run through the command line, with every output written (and what it
    printed on stderr in ``stderr.txt``)."""
    out = tmp_path_factory.mktemp("bench")
    argv = ["bench", "--smoke", "--repeats", "1", "--quiet"]
    argv += ["--json", str(out / "r.json"), "--markdown", str(out / "r.md")]
    argv += ["--plots", str(out / "plots")]
    err, logged = io.StringIO(), _Lines()
    root = logging.getLogger()
    root.addHandler(logged)
    try:
        with contextlib.redirect_stderr(err):
            assert main(argv) == 0
    finally:
        root.removeHandler(logged)
    (out / "stderr.txt").write_text(err.getvalue() + "".join(logged.lines))
    return out, json.loads((out / "r.json").read_text())


class _Lines(logging.Handler):
    """Every log line of WARNING or above, as the default handler would print it."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record) + "\n")


def test_quiet_prints_nothing(smoke):
    # warm-ups and references log warnings (a permutation of one example, say); --quiet
    # keeps every line of theirs and ours off stderr
    out, _ = smoke
    assert (out / "stderr.txt").read_text() == ""


def _key(rec):
    return f"{rec['library']} {rec['method']}"


def test_records_have_the_schema(smoke):
    _, result = smoke
    assert result["records"]
    for rec in result["records"]:
        assert tuple(rec) == FIELDS
        assert isinstance(rec["note"], str)
        if rec["seconds"] is None:  # skipped or failed: says why
            assert rec["note"]
            continue
        assert rec["seconds"] > 0 and rec["model_seconds"] >= 0
        assert isinstance(rec["evaluations"], int) and rec["evaluations"] > 0
        for k in ("rel_error", "rank_corr", "speedup"):
            assert rec[k] is None or isinstance(rec[k], float)
    meta = result["meta"]
    assert meta["mode"] == "smoke" and meta["repeats"] == 1
    assert meta["command"].startswith("xai-fast bench --smoke")


def test_every_method_appears(smoke):
    _, result = smoke
    assert {_key(r) for r in result["records"]} == {m.key for m in methods()}
    for rec in result["records"]:
        if rec["library"] == "xai_fast":
            assert rec["seconds"] is not None, rec


def test_scores_and_speedups(smoke):
    _, result = smoke
    by = {(r["problem"], _key(r)): r for r in result["records"]}
    exact = by[("mlp-6f-2bg", "xai_fast ExactExplainer")]
    assert exact["rel_error"] < 1e-6 and exact["rank_corr"] == pytest.approx(1.0)
    # above 16 features the Shapley methods are scored on a closed-form game
    game = by[("mlp-20f-2bg", "xai_fast KernelExplainer[numpy]")]
    assert game["rel_error"] is not None and "pairwise_game" in game["note"]
    assert ("mlp-20f-2bg", "xai_fast ExactExplainer") not in by
    # LIME and gradients: agreement with the reference, no error against Shapley values
    for problem, key in [("mlp-6f-2bg", "xai_fast LimeTabularExplainer"),
                         ("cnn-digits", "xai_fast IntegratedGradients")]:  # fmt: skip
        rec = by[(problem, key)]
        assert rec["rel_error"] is None and rec["rank_corr"] is not None
    ig = by[("cnn-digits", "xai_fast IntegratedGradients")]
    assert ig["rank_corr"] == pytest.approx(1.0)  # same path and quadrature as captum
    ablation = by[("cnn-digits", "xai_fast FeatureAblation")]
    assert ablation["rank_corr"] == pytest.approx(1.0) and ablation["rel_error"] is None
    ours, theirs = (
        by[("cnn-digits", f"{lib} ShapleyValueSampling")] for lib in ("xai_fast", "captum")
    )
    assert ours["rel_error"] == pytest.approx(theirs["rel_error"], rel=1e-4)  # the same draws
    for m in methods():
        for problem in ("mlp-6f-2bg", "cnn-digits"):
            rec, ref = by.get((problem, m.key)), by.get((problem, m.reference))
            if rec is not None and ref is not None and ref["seconds"] is not None:
                assert rec["speedup"] == pytest.approx(ref["seconds"] / rec["seconds"])


def test_superpixel_and_text_records_agree_with_the_references(smoke):
    _, result = smoke
    by = {(r["problem"], _key(r)): r for r in result["records"]}
    pairs = (("digits-rgb-16", "LimeImageExplainer"), ("text-tfidf", "LimeTextExplainer"))
    for problem, lime in pairs:
        for name, ref in ((lime, "lime"), ("PartitionExplainer", "shap")):
            rec = by[(problem, f"xai_fast {name}")]
            assert rec["seconds"] is not None and rec["evaluations"] > 0
            assert rec["rel_error"] is None and rec["rank_corr"] == pytest.approx(1.0), rec
            assert rec["speedup"] is not None and "max abs. difference" in rec["note"]
            assert rec["note"].startswith(f"rank corr. with {ref} ")


@pytest.fixture(scope="module")
def media_works():
    """The smoke superpixel and text problems, one image and one text each."""
    from xai_fast.evaluation.bench.prepare import setup_problem
    from xai_fast.evaluation.bench.problems import build, specs

    chosen = [s for s in specs("smoke") if s.kind in ("superpixel", "text")]
    return {s.kind: setup_problem(build(s, seed=0), 0).work.head(1) for s in chosen}


@pytest.mark.parametrize(
    "kind, ours, theirs, reference",
    [
        ("superpixel", "xai_fast_lime_superpixels", "lime_image_superpixels", "lime.lime_image"),
        ("superpixel", "xai_fast_partition_image", "shap_partition_image", "shap"),
        ("text", "xai_fast_lime_text", "lime_text", "lime.lime_text"),
        ("text", "xai_fast_partition_text", "shap_partition_text", "shap"),
    ],
)
def test_superpixel_and_text_runners_match_the_references(media_works, kind, ours, theirs,
                                                          reference):  # fmt: skip
    pytest.importorskip(reference)
    from xai_fast.evaluation.bench import superpixel_runners, text_runners

    module = superpixel_runners if kind == "superpixel" else text_runners
    work = media_works[kind]
    mine, ref = getattr(module, ours)(work), getattr(module, theirs)(work)
    assert mine.shape == ref.shape and mine.shape[0] == 1 and np.abs(ref).max() > 0
    # the same samples (LIME, same random_state) or the same walk (Partition, same masker)
    np.testing.assert_allclose(mine, ref, rtol=1e-6, atol=1e-9 * np.abs(ref).max())


def test_markdown_has_a_row_per_record(smoke):
    out, result = smoke
    lines = (out / "r.md").read_text().splitlines()
    rows = [ln for ln in lines if ln.startswith("| ")][1:]  # without the header
    rows = [ln for ln in rows if not ln.startswith("| ---")]
    assert len(rows) == len(result["records"])
    for ln, rec in zip(rows, result["records"], strict=True):
        assert ln.startswith(f"| {rec['problem']} | {_key(rec)} |")


def test_plots_and_budget_curve(smoke):
    out, result = smoke
    for name in ("time_vs_features.png", "error_vs_budget.png"):
        path = out / "plots" / name
        assert path.stat().st_size > 1000
        assert path.read_bytes()[:4] == b"\x89PNG"
    curve = result["error_vs_budget"]
    assert {c["method"] for c in curve} == {
        "KernelExplainer(sampler=shap)", "KernelExplainer(sampler=auto)", "KernelExplainer"
    }  # fmt: skip
    assert all(c["rel_error"] is not None for c in curve)


def test_missing_references_are_skipped_with_a_note(monkeypatch):
    for name in ("lime", "lime.lime_tabular", "captum", "captum.attr"):
        monkeypatch.setitem(sys.modules, name, None)  # import now raises ImportError
    result = run_suite(mode="smoke", problems=["mlp-6f-*", "cnn-*"], repeats=1, budget_curve=False)
    by = {_key(r): r for r in result["records"]}
    for key in ("lime LimeTabularExplainer", "captum KernelShap", "captum Lime",
                "captum IntegratedGradients", "captum FeatureAblation",
                "captum ShapleyValueSampling"):  # fmt: skip
        rec = by[key]
        assert rec["seconds"] is None and rec["evaluations"] is None
        assert "not installed" in rec["note"]
    ours = by["xai_fast LimeTabularExplainer"]
    assert ours["seconds"] is not None and ours["speedup"] is None
    assert "not installed" in ours["note"]
    assert by["shap KernelExplainer"]["seconds"] is not None
    assert result["meta"]["versions"]["lime"] is None


def test_bad_options_fail_in_one_line(capsys, tmp_path):
    assert main(["bench", "--repeats", "0"]) == 2
    assert main(["bench", "--json", str(tmp_path / "missing" / "r.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(ln.startswith("xai-fast: error:") for ln in err)
    with pytest.raises(ValueError, match="no problem matches"):
        run_suite(mode="smoke", problems=["nothing-*"])


def test_metrics():
    exact = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    assert rel_error(exact, exact) == 0.0
    assert rel_error(2 * exact, exact) == pytest.approx(1.0)
    assert rank_corr(-exact, exact) == pytest.approx(1.0)  # of |values|
    assert rank_corr(np.ones((2, 3)), exact) is None


@pytest.mark.parametrize("module", ["xai_fast", "benchmarks"])
def test_help_from_the_command_line(module):
    args = [sys.executable, "-m", module] + (["bench"] if module == "xai_fast" else [])
    done = subprocess.run(args + ["--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for option in (
        "--quick",
        "--problems",
        "--json",
        "--markdown",
        "--plots",
        "--repeats",
        "--quiet",
    ):
        assert option in done.stdout
    assert "--smoke" not in done.stdout

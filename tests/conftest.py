"""Shared fixtures: a fresh random seed per session, reported in the header, and the devices.

Tests marked ``cuda`` (or taking the ``device`` fixture, whose ``"cuda"`` case is marked) run
when torch sees a CUDA device and are skipped otherwise; ``pytest -m cuda`` runs them alone.
"""

from __future__ import annotations

import os
import secrets
import warnings

import numpy as np
import pytest

SESSION_SEED = int(os.environ.get("XAI_FAST_TEST_SEED", secrets.randbits(32)))


def pytest_report_header(config):
    return f"xai_fast test seed: {SESSION_SEED} (set XAI_FAST_TEST_SEED to replay)"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The seed again after a failure: ``-q`` runs (as in CI) print no header."""
    if exitstatus not in (0, 5):
        terminalreporter.write_line(
            f"xai_fast test seed: {SESSION_SEED}; replay with XAI_FAST_TEST_SEED={SESSION_SEED}"
        )


@pytest.fixture
def rng(request):
    """A generator seeded from the session seed and the test's name: fresh inputs every run."""
    salt = sum(ord(c) * (i + 1) for i, c in enumerate(request.node.nodeid))
    return np.random.default_rng([SESSION_SEED, salt])


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_runtest_setup(item):
    if item.get_closest_marker("cuda") is not None and not cuda_available():
        pytest.skip("no CUDA device")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request):
    """Each test using it runs on the CPU, and on ``cuda`` when there is a CUDA device."""
    return request.param


@pytest.fixture
def cuda_kernels(device):
    """Skips the ``cuda`` case when the extension was built without its CUDA kernels."""
    if device == "cuda":
        from xai_fast.backends.extension import has_cuda_kernel

        if not has_cuda_kernel("fill_masked_rows"):
            pytest.skip("xai_fast._C was built without its CUDA kernels (csrc/cuda)")
    return device


@pytest.fixture(autouse=True)
def _quiet_shap_logs():
    import logging

    logging.getLogger("shap").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*l1_reg.*", category=DeprecationWarning)
        yield


def _hypothesis_profiles():
    """``ci`` (default): few examples, no deadline; ``thorough``: many. Pick with
    HYPOTHESIS_PROFILE=thorough."""
    from hypothesis import HealthCheck, settings

    common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("ci", max_examples=15, **common)
    settings.register_profile("thorough", max_examples=300, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_hypothesis_profiles()

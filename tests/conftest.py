"""Shared fixtures: a fresh random seed per session, reported in the header."""

from __future__ import annotations

import os
import secrets
import warnings

import numpy as np
import pytest

SESSION_SEED = int(os.environ.get("XAI_FAST_TEST_SEED", secrets.randbits(32)))


def pytest_report_header(config):
    return f"xai_fast test seed: {SESSION_SEED} (set XAI_FAST_TEST_SEED to replay)"


@pytest.fixture
def rng(request):
    """A generator seeded from the session seed and the test's name: fresh inputs every run."""
    salt = sum(ord(c) * (i + 1) for i, c in enumerate(request.node.nodeid))
    return np.random.default_rng([SESSION_SEED, salt])


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

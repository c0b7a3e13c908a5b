"""Shared inputs of the lime compatibility tests: fresh continuous data with labels, a fitted
classifier, and a fixture that leaves numpy's global generator as a test found it."""

# ruff: noqa: NPY002  (lime seeds from numpy's legacy global generator: restored on purpose)
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def keep_global_state():
    """Leave numpy's global generator as the test found it (autouse where imported)."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def data(rng, n=300, d=4):
    """Continuous columns of different scales ``(n, d)`` and binary labels ``(n,)``."""
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, d) + rng.normal(size=d)
    score = X[:, 0] - X[:, 1] + rng.normal(scale=0.5, size=n)
    y = (score > np.median(score)).astype(int)  # both classes, about half each
    return X, y


def model(X, y):
    """A logistic regression's ``predict_proba`` fitted on ``X``, ``y``."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000).fit(X, y).predict_proba

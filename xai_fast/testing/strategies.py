"""Hypothesis strategies for property tests of explainers (needs ``hypothesis``).

Small and composable, keyword-only parameters::

    from hypothesis import given
    from xai_fast.testing import strategies as xst

    @given(game=xst.games(max_features=6), X=...)
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .games import dummy_game, linear_game, pairwise_game, symmetric_game

__all__ = ["backgrounds", "budgets", "games", "rows"]

_MAKERS = {
    "linear": linear_game,
    "pairwise": pairwise_game,
    "dummy": dummy_game,
    "symmetric": symmetric_game,
}


@st.composite
def games(
    draw,
    *,
    min_features=2,
    max_features=8,
    min_background=1,
    max_background=20,
    kinds=("linear", "pairwise", "dummy", "symmetric"),
):
    """A closed-form game (:mod:`xai_fast.testing.games`) of a drawn kind, size and seed."""
    kind = draw(st.sampled_from(list(kinds)))
    lo = max(min_features, 2) if kind == "symmetric" else min_features
    d = draw(st.integers(lo, max(lo, max_features)))
    n_bg = draw(st.integers(min_background, max_background))
    seed = draw(st.integers(0, 2**31 - 1))
    return _MAKERS[kind](d, seed, n_background=n_bg)


@st.composite
def backgrounds(draw, *, n_features, min_rows=1, max_rows=20, scale=3.0):
    """A float64 background ``(N, n_features)`` of finite values in ``[-scale, scale]``."""
    n = draw(st.integers(min_rows, max_rows))
    seed = draw(st.integers(0, 2**31 - 1))
    return np.random.default_rng(seed).uniform(-scale, scale, size=(n, n_features))


@st.composite
def rows(draw, game, *, min_rows=1, max_rows=5):
    """Rows to explain for ``game`` ``(n, d)``, respecting its symmetric pairs."""
    n = draw(st.integers(min_rows, max_rows))
    return game.rows(n, seed=draw(st.integers(0, 2**31 - 1)))


def budgets(*, min_value=64, max_value=4096):
    """A coalition budget (``nsamples``) for a sampling explainer."""
    return st.integers(min_value, max_value)

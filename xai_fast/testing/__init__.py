"""Tools for testing explainers against the Shapley axioms: closed-form games and assertions.

Works on any explainer's values (numpy arrays or Explanations), shap's included. Hypothesis
strategies live in :mod:`xai_fast.testing.strategies`, imported on demand.
"""

from .assertions import assert_dummy, assert_efficiency, assert_linearity, assert_symmetry
from .device import count_host_syncs
from .games import ClosedFormGame, dummy_game, linear_game, pairwise_game, symmetric_game

__all__ = [
    "ClosedFormGame",
    "assert_dummy",
    "assert_efficiency",
    "assert_linearity",
    "assert_symmetry",
    "count_host_syncs",
    "dummy_game",
    "linear_game",
    "pairwise_game",
    "symmetric_game",
]

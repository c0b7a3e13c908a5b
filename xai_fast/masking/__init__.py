"""Maskers and the Game: what "feature absent" means, and the value of coalitions.

- :mod:`.game`: :class:`Game`, one chunked evaluation loop for every masker.
- :mod:`.background` / :mod:`.background_torch`: tables, absent features from background rows
  (numpy kernels, or every tensor on a module's device).
- :mod:`.tensor_masker` and :mod:`.feature_masks`: tensors, absent elements from a baseline,
  features from an integer feature mask.
- ``fill_*`` and ``lime_rows_*``: the compiled kernels and their numpy references.
"""

from .background import BackgroundMasker, varying_features
from .finite_means import check_means
from .game import Game, Masker, PairJob

__all__ = ["BackgroundMasker", "Game", "Masker", "PairJob", "check_means", "varying_features"]

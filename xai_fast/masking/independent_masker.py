"""The tabular Independent masker (shap's ``shap.maskers.Independent``): background rows, each
feature hidden on its own (no hierarchy).

It is :class:`~xai_fast.maskers.Partition` without a clustering, under shap's name, so that
``shap.maskers.Independent(data, max_samples=100)`` changes to ``xai_fast.maskers.Independent``
with the same rows and the same values from every explainer that takes it.
"""

from __future__ import annotations

from .partition_masker import Partition

__all__ = ["Independent"]


class Independent(Partition):
    """Background rows standing for "feature absent", every feature masked independently.

    Parameters
    ----------
    data : array-like or DataFrame, shape (N, d)
        Background rows.
    max_samples : int, default 100
        Most rows kept; more are summarised by ``max_samples`` rows drawn as shap's
        ``Independent`` draws them (``shap.utils.sample``: ``sklearn.utils.shuffle`` with
        ``random_state=0``), so the rows are shap's.

    Attributes
    ----------
    data : ndarray of float64, shape (N, d)
    clustering : None
    feature_names : list of str or None
        A DataFrame's columns. As with a DataFrame of background rows, a model fitted on a
        DataFrame gets DataFrames with them, any other callable numpy rows.
    shape : tuple
        ``(N, d)``.
    """

    def __init__(self, data, max_samples=100):
        super().__init__(data, max_samples=max_samples, clustering=None)

    def __repr__(self) -> str:
        return f"Independent(data of shape {self.shape})"

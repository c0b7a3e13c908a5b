"""Cohorts: named groups of rows of one explanation, as ``shap.Cohorts``."""

from __future__ import annotations

import numpy as np

__all__ = ["Cohorts", "auto_cohorts"]


class Cohorts:
    """Named :class:`~xai_fast.Explanation` objects that are sliced and reduced together.

    Parameters
    ----------
    **cohorts : Explanation
        One explanation per cohort name.

    Notes
    -----
    An attribute, method or index applied to a ``Cohorts`` is applied to every cohort and gives
    a new ``Cohorts``: ``ch.abs.mean(0)``, ``ch[..., "age"]``. ``xai_fast.plots.bar`` draws
    one bar per cohort and feature.
    """

    def __init__(self, **cohorts):
        self.cohorts = cohorts
        self._method = None

    @property
    def cohorts(self) -> dict:
        """The cohorts, ``{name: Explanation}``."""
        return self._cohorts

    @cohorts.setter
    def cohorts(self, value) -> None:
        if not isinstance(value, dict):
            raise TypeError(f"cohorts must be a dict of Explanations; got {type(value).__name__}.")
        for name, exp in value.items():
            if not _is_explanation(exp):
                raise TypeError(
                    f"every cohort must be an Explanation; cohort {name!r} is a "
                    f"{type(exp).__name__}."
                )
        self._cohorts = dict(value)

    def __getitem__(self, key) -> Cohorts:
        return Cohorts(**{name: exp[key] for name, exp in self._cohorts.items()})

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        got = {k: getattr(exp, name) for k, exp in self._cohorts.items()}
        if not any(callable(v) for v in got.values()):
            return Cohorts(**got)
        out = object.__new__(Cohorts)  # bound methods, called by __call__
        out._cohorts, out._method = got, name
        return out

    def __call__(self, *args, **kwargs) -> Cohorts:
        if self._method is None:
            raise ValueError(
                "No methods to call on these cohorts: call a method of the explanations, "
                "e.g. cohorts.mean(0)."
            )
        return Cohorts(**{k: f(*args, **kwargs) for k, f in self._cohorts.items()})

    def __repr__(self) -> str:
        return f"<Cohorts of {len(self._cohorts)} Explanations: {list(self._cohorts)}>"


def _is_explanation(obj) -> bool:
    """An :class:`~xai_fast.Explanation` (checked by its interface: this module sits below
    ``core``, which imports it)."""
    return all(hasattr(obj, a) for a in ("values", "base_values", "data", "axes", "cohorts"))


def auto_cohorts(exp, max_cohorts: int) -> Cohorts:
    """Split rows into at most ``max_cohorts`` groups of similar values, as shap does.

    A ``sklearn.tree.DecisionTreeRegressor(max_leaf_nodes=max_cohorts)`` is fitted from the
    data to the values; each leaf is a cohort, named by its path (``"age < 30.5 & bmi >= 2"``).

    Parameters
    ----------
    exp : Explanation, values (n, M), data (n, M)
    max_cohorts : int
    """
    from sklearn.tree import DecisionTreeRegressor

    data = np.asarray(exp.data, dtype=np.float64)
    tree = DecisionTreeRegressor(max_leaf_nodes=max_cohorts).fit(data, exp.values)
    leaves = tree.apply(data)  # (n,)
    t = tree.tree_
    parent = np.full(t.node_count, -1)
    parent[t.children_left[t.children_left >= 0]] = np.flatnonzero(t.children_left >= 0)
    parent[t.children_right[t.children_right >= 0]] = np.flatnonzero(t.children_right >= 0)
    names = exp.feature_names or [f"Feature {j}" for j in range(data.shape[1])]
    cohorts = {}
    for leaf in np.unique(leaves):  # one name per leaf: its path from the root
        parts, node = [], leaf
        while parent[node] >= 0:
            up = parent[node]
            op = " < " if t.children_left[up] == node else " >= "
            parts.append(f"{names[t.feature[up]]}{op}{t.threshold[up]}")
            node = up
        cohorts[" & ".join(reversed(parts))] = exp[leaves == leaf]
    return Cohorts(**dict(sorted(cohorts.items())))

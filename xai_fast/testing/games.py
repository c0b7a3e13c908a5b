"""Games whose Shapley values are known in closed form, for testing any explainer.

Each game has ``.model`` (a callable ``(n, d) -> (n,)``), ``.background`` ``(N, d)``,
``.rows(n, seed=0)`` (rows to explain that respect the game's structure) and
``.shapley_values(X)`` ``(n, d)``: the exact interventional Shapley values against the
uniformly weighted background.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_positive_int

__all__ = ["ClosedFormGame", "dummy_game", "linear_game", "pairwise_game", "symmetric_game"]


@dataclass(frozen=True)
class ClosedFormGame:
    """``f(x) = bias + a @ x + sum_{i<j} C[i, j] x_i x_j`` over a background.

    Attributes
    ----------
    a : ndarray, shape (d,)
    C : ndarray, shape (d, d)
        Strictly upper triangular.
    bias : float
    background : ndarray, shape (N, d)
    dummy_features : tuple of int
        Features that never change the output (their Shapley value is 0).
    symmetric_pairs : tuple of (int, int)
        Pairs of features that play identical roles, for rows from :meth:`rows`.
    """

    a: np.ndarray
    C: np.ndarray
    bias: float
    background: np.ndarray
    dummy_features: tuple = ()
    symmetric_pairs: tuple = ()
    name: str = field(default="game")

    @property
    def n_features(self) -> int:
        return len(self.a)

    def model(self, X) -> np.ndarray:
        """The game's model: ``(n, d) -> (n,)``."""
        X = np.asarray(X, dtype=np.float64)
        return self.bias + X @ self.a + np.sum((X @ self.C) * X, axis=1)

    def rows(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` rows to explain, equal within each symmetric pair. Shape ``(n, d)``."""
        _check_positive(n=n)
        X = np.random.default_rng(seed).normal(size=(n, self.n_features))
        for i, j in self.symmetric_pairs:
            X[:, j] = X[:, i]
        return X

    def shapley_values(self, X) -> np.ndarray:
        """Exact Shapley values ``(n, d)``: linear terms plus each product split in two."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        B = self.background
        m = B.mean(axis=0)
        mm = B.T @ B / len(B)
        S = self.C + self.C.T
        XS = X @ S
        # product x_i x_j, as a two-player game: phi_i = (x_i m_j - m_ij + x_i x_j - m_i x_j) / 2
        pair = 0.5 * (X * (m @ S) - np.sum(S * mm, axis=1) + X * XS - m * XS)
        return self.a * (X - m) + pair

    def __repr__(self) -> str:
        return (
            f"{self.name}(d={self.n_features}, background={len(self.background)}, "
            f"dummies={list(self.dummy_features)}, symmetric={list(self.symmetric_pairs)})"
        )


def _check_positive(**values):
    for name, val in values.items():
        check_positive_int(val, name)


def _background(rng, n_background, d):
    return rng.normal(size=(n_background, d))


def linear_game(d: int, seed: int = 0, *, n_background: int = 20) -> ClosedFormGame:
    """``f(x) = b + a @ x``; Shapley values ``a * (x - mean(background))``."""
    _check_positive(d=d, n_background=n_background)
    rng = np.random.default_rng(seed)
    return ClosedFormGame(
        rng.normal(size=d),
        np.zeros((d, d)),
        float(rng.normal()),
        _background(rng, n_background, d),
        name="linear_game",
    )


def pairwise_game(
    d: int, seed: int = 0, *, n_background: int = 20, density: float = 0.5
) -> ClosedFormGame:
    """Additive terms plus products of random pairs of features."""
    _check_positive(d=d, n_background=n_background)
    rng = np.random.default_rng(seed)
    C = np.triu(rng.normal(size=(d, d)) * (rng.random((d, d)) < density), 1)
    return ClosedFormGame(
        rng.normal(size=d),
        C,
        float(rng.normal()),
        _background(rng, n_background, d),
        name="pairwise_game",
    )


def dummy_game(
    d: int, seed: int = 0, *, n_dummy: int | None = None, n_background: int = 20
) -> ClosedFormGame:
    """A pairwise game in which ``n_dummy`` features (default ``d // 3``, at least 1) play no
    part; they are listed in ``dummy_features``."""
    g = pairwise_game(d, seed, n_background=n_background)
    n_dummy = max(1, d // 3) if n_dummy is None else n_dummy
    if (
        isinstance(n_dummy, bool)
        or not isinstance(n_dummy, (int, np.integer))
        or not (0 <= n_dummy <= d)
    ):
        raise ValueError(f"n_dummy must be an int between 0 and d={d}; got {n_dummy!r}.")
    dummies = tuple(
        sorted(np.random.default_rng(seed + 1).choice(d, n_dummy, replace=False).tolist())
    )
    a, C = g.a.copy(), g.C.copy()
    a[list(dummies)] = 0.0
    C[list(dummies), :] = 0.0
    C[:, list(dummies)] = 0.0
    return ClosedFormGame(a, C, g.bias, g.background, dummy_features=dummies, name="dummy_game")


def symmetric_game(d: int, seed: int = 0, *, n_background: int = 20) -> ClosedFormGame:
    """A pairwise game in which features ``(0, 1)`` (and ``(2, 3)`` when ``d >= 4``) are
    interchangeable: equal coefficients, equal background columns, and equal values in the
    rows from :meth:`ClosedFormGame.rows`."""
    _check_positive(d=d, n_background=n_background)
    if d < 2:
        raise ValueError(f"symmetric_game needs d >= 2; got {d}.")
    g = pairwise_game(d, seed, n_background=n_background)
    pairs = ((0, 1), (2, 3)) if d >= 4 else ((0, 1),)
    a, C, B = g.a.copy(), g.C + g.C.T, g.background.copy()
    for i, j in pairs:
        a[j] = a[i]
        B[:, j] = B[:, i]
        # swap-invariant products: i and j interact with every k alike, and not among
        # themselves except through one shared coefficient
        C[j, :] = C[i, :]
        C[:, j] = C[:, i]
    np.fill_diagonal(C, 0.0)
    return ClosedFormGame(a, np.triu(C, 1), g.bias, B, symmetric_pairs=pairs, name="symmetric_game")

"""Assertions of the Shapley axioms for any explainer's output.

Each raises ``AssertionError`` naming the rows, features and size of the worst violations.
Tolerances are absolute (``atol``) plus relative to the scale of the values (``rtol``), both
explicit; the defaults catch a 1% error in attributions of order one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["assert_dummy", "assert_efficiency", "assert_linearity", "assert_symmetry"]


def _values(values) -> np.ndarray:
    v = np.asarray(getattr(values, "values", values), dtype=np.float64)
    if v.ndim == 1:
        v = v[None, :]
    if v.ndim == 2:
        v = v[:, :, None]
    if v.ndim != 3:
        raise ValueError(f"values must have shape (n, d) or (n, d, k); got {v.shape}.")
    return v  # (n, d, k)


def _check(what, err, limit, describe):
    """Raise naming the worst places where ``err > limit``; ``describe(index)`` words one."""
    limit = np.broadcast_to(limit, err.shape)
    bad = np.argwhere(err > limit)
    if len(bad):
        worst = np.unravel_index(np.argmax(err - limit), err.shape)
        places = ", ".join(describe(*idx) for idx in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise AssertionError(
            f"{what} violated in {len(bad)} place(s); worst violation {err[worst]:.3g} > "
            f"tolerance {limit[worst]:.3g}. {places}"
        )


def assert_efficiency(values, base_values, outputs, *, atol=1e-8, rtol=1e-6):
    """Values of each row add up to its output minus the base value.

    Parameters
    ----------
    values : array (n, d) or (n, d, k), or an Explanation
    base_values : float or array (n,), (k,) or (n, k)
        1-D: one base value per row for a single-output model, one per output otherwise.
    outputs : array (n,) or (n, k)
        Model outputs of the rows (in the explanation's link space).
    atol, rtol : float
        Allowed ``|sum - (outputs - base)| <= atol + rtol * |outputs - base|``.
    """
    v = _values(values)
    n, _, k = v.shape
    out = np.asarray(outputs, dtype=np.float64).reshape(n, -1)  # (n, k)
    base = np.asarray(base_values, dtype=np.float64)
    if base.ndim == 1 and out.shape[1] == 1:  # single output: one base value per row
        base = base[:, None] if base.shape[0] == n else base[None, :]
    elif base.ndim == 1:  # several outputs: one base value per output
        if base.shape[0] != out.shape[1]:
            raise ValueError(
                f"base_values of shape {base.shape} fits neither the {out.shape[1]} outputs nor "
                "(n, k); pass one value per output or an (n, k) array."
            )
        base = base[None, :]
    target = out - np.broadcast_to(base, out.shape)
    err = np.abs(v.sum(axis=1) - target)
    limit = atol + rtol * np.abs(target)
    _check(
        "efficiency (sum of values = output - base value)",
        err,
        limit,
        lambda r, c: f"row {r} output {c}: sum {v[r, :, c].sum():.6g} vs {target[r, c]:.6g}",
    )


def assert_symmetry(values, pairs, *, atol=1e-8, rtol=1e-6):
    """Interchangeable features get equal values: ``values[:, i] == values[:, j]``.

    Parameters
    ----------
    values : array (n, d) or (n, d, k), or an Explanation
    pairs : iterable of (int, int)
        Feature pairs that play identical roles in the game and the rows.
    """
    v = _values(values)
    scale = np.abs(v).max() if v.size else 0.0
    for i, j in pairs:
        err = np.abs(v[:, i, :] - v[:, j, :])
        limit = atol + rtol * scale
        _check(
            f"symmetry of features {i} and {j}",
            err,
            limit,
            lambda r, c, i=i, j=j: f"row {r} output {c}: {v[r, i, c]:.6g} vs {v[r, j, c]:.6g}",
        )


def assert_dummy(values, dummies, *, atol=1e-8, rtol=1e-6):
    """Features that never change the output get 0.

    Parameters
    ----------
    values : array (n, d) or (n, d, k), or an Explanation
    dummies : iterable of int
    """
    v = _values(values)
    dummies = list(dummies)
    scale = np.abs(v).max() if v.size else 0.0
    err = np.abs(v[:, dummies, :])
    limit = atol + rtol * scale
    _check(
        "dummy (a feature with no effect gets 0)",
        err,
        limit,
        lambda r, f, c: f"row {r} feature {dummies[f]} output {c}: {v[r, dummies[f], c]:.6g}",
    )


def assert_linearity(
    explain, model_a, model_b, background, X, *, weights=(1.0, 1.0), atol=1e-8, rtol=1e-6
):
    """The values of ``wa * f + wb * g`` are ``wa`` times those of ``f`` plus ``wb`` times
    those of ``g``.

    Parameters
    ----------
    explain : callable ``(model, background, X) -> values`` (n, d) or (n, d, k)
        The explainer under test, e.g.
        ``lambda f, B, X: shap.KernelExplainer(f, B).shap_values(X)``.
    model_a, model_b : callable ``(n, d) -> (n,)`` or ``(n, k)``
    background : array (N, d)
    X : array (n, d)
    weights : (float, float)
    """
    wa, wb = weights

    def combined(Z):
        return wa * np.asarray(model_a(Z)) + wb * np.asarray(model_b(Z))

    va, vb = _values(explain(model_a, background, X)), _values(explain(model_b, background, X))
    vc = _values(explain(combined, background, X))
    expected = wa * va + wb * vb
    err = np.abs(vc - expected)
    limit = atol + rtol * np.abs(expected).max()
    _check(
        f"linearity ({wa} f + {wb} g)",
        err,
        limit,
        lambda r, f, c: (
            f"row {r} feature {f} output {c}: {vc[r, f, c]:.6g} vs {expected[r, f, c]:.6g}"
        ),
    )

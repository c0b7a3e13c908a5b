import numpy as np
import pytest

from xai_fast.backends import available, get_backend
from xai_fast.solvers import kernel_wls_numba, kernel_wls_ref
from xai_fast.solvers.feature_selection import check_l1_reg

SOLVERS = {"numpy": kernel_wls_ref.constrained_wls, "numba": kernel_wls_numba.constrained_wls}
if "torch" in available():  # the extension's CPU kernel (small systems) and ATen version (large)
    SOLVERS["torch"] = get_backend("torch").constrained_wls


def kkt_oracle(Z, w, Y, total):
    """Constrained WLS through its KKT system (no variable elimination)."""
    S, M = Z.shape
    ZW = Z.T * w
    K = np.zeros((M + 1, M + 1))
    K[:M, :M] = 2 * ZW @ Z
    K[:M, M] = K[M, :M] = 1.0
    out = np.zeros((M, Y.shape[1]))
    for r in range(Y.shape[1]):
        rhs = np.concatenate([2 * ZW @ Y[:, r], [total[r]]])
        out[:, r] = np.linalg.solve(K, rhs)[:M]
    return out


def random_problem(rng, S, M, R):
    Z = (rng.random((S, M)) < 0.5).astype(np.float64)
    w = rng.random(S) + 0.1
    Y = rng.normal(size=(S, R))
    total = rng.normal(size=R)
    return Z, w, Y, total


@pytest.mark.parametrize("backend", list(SOLVERS))
@pytest.mark.parametrize(
    "S,M,R", [(40, 2, 1), (200, 7, 3), (600, 25, 12), (3000, 60, 5), (3000, 120, 4)]
)
def test_constrained_wls_matches_kkt_oracle(rng, backend, S, M, R):
    Z, w, Y, total = random_problem(rng, S, M, R)
    phi = SOLVERS[backend](Z, w, Y, total)
    assert phi.shape == (M, R)
    np.testing.assert_allclose(phi, kkt_oracle(Z, w, Y, total), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(phi.sum(axis=0), total, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", [b for b in SOLVERS if b != "numpy"])
def test_backends_agree(rng, backend):
    Z, w, Y, total = random_problem(rng, 500, 30, 8)
    np.testing.assert_allclose(
        SOLVERS[backend](Z, w, Y, total), SOLVERS["numpy"](Z, w, Y, total), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("backend", list(SOLVERS))
def test_singular_design_raises_linalg_error(backend):
    Z = np.ones((10, 3))  # every coalition identical: no information
    with pytest.raises(np.linalg.LinAlgError):
        SOLVERS[backend](Z, np.ones(10), np.ones((10, 1)), np.ones(1))


def test_lstsq_fallback_keeps_efficiency(rng):
    Z = np.ones((10, 3))
    Z[:, 0] = 0
    phi = kernel_wls_ref.constrained_lstsq(Z, np.ones(10), rng.normal(size=(10, 2)), np.ones(2))
    np.testing.assert_allclose(phi.sum(axis=0), 1.0, rtol=1e-12)


@pytest.mark.parametrize(
    "value,expected",
    [
        (False, False),
        (0, False),
        (0.0, False),
        ("aic", "aic"),
        ("bic", "bic"),
        ("num_features(3)", "num_features(3)"),
        (0.01, 0.01),
        ("auto", "auto"),
    ],
)
def test_check_l1_reg_accepts_shap_options(value, expected):
    assert check_l1_reg(value) == expected


@pytest.mark.parametrize(
    "value", ["num_features(0)", "num_features(x)", "lasso", -0.1, True, float("nan"), None]
)
def test_check_l1_reg_rejects_unknown(value):
    with pytest.raises(ValueError, match="l1_reg must be|must keep"):
        check_l1_reg(value)

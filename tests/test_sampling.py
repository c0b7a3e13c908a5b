import math

import numpy as np
import pytest

from xai_fast._rng import normalize_seed
from xai_fast.sampling import kernel_design_numba, kernel_design_ref
from xai_fast.sampling.plan import plan_design, random_size_cdf

BACKENDS = {"numpy": kernel_design_ref.kernel_design, "numba": kernel_design_numba.kernel_design}


def design(backend, M, nsamples, seed):
    p = plan_design(M, nsamples)
    cdf = np.zeros(1) if p.fully_enumerated else random_size_cdf(p)
    return BACKENDS[backend](
        M,
        p.nsamples,
        normalize_seed(seed),
        p.weight_vector,
        p.num_full,
        p.num_paired,
        p.binoms,
        cdf,
    )


def shapley_kernel(M, s):
    return (M - 1) / (math.comb(M, s) * s * (M - s))


CASES = [
    (2, "auto"),
    (3, "auto"),
    (7, "auto"),
    (11, "auto"),
    (12, "auto"),
    (16, 2048),
    (17, 301),
    (33, 500),
    (50, 2148),
    (64, 700),
    (65, 700),
    (130, 257),
]


@pytest.mark.parametrize("M,nsamples", CASES)
def test_backends_bit_identical(rng, M, nsamples):
    seed = int(rng.integers(0, 2**63))
    Z1, w1 = design("numpy", M, nsamples, seed)
    Z2, w2 = design("numba", M, nsamples, seed)
    np.testing.assert_array_equal(Z1, Z2)
    np.testing.assert_array_equal(w1, w2)


@pytest.mark.parametrize("M", [2, 3, 6, 9, 11])
def test_full_enumeration_is_every_coalition_with_shapley_kernel_weights(M):
    Z, w = design("numba", M, "auto", 0)
    assert len(Z) == 2**M - 2
    codes = Z.astype(np.int64) @ (1 << np.arange(M))
    assert len(np.unique(codes)) == 2**M - 2
    assert codes.min() > 0 and codes.max() < 2**M - 1
    s = Z.sum(axis=1)
    expected = np.array([shapley_kernel(M, k) for k in s])
    np.testing.assert_allclose(w / w.sum(), expected / expected.sum(), rtol=1e-12)


@pytest.mark.parametrize("M,nsamples", [(16, 2048), (33, 500), (50, 2148), (65, 700)])
def test_sampled_design_properties(rng, M, nsamples):
    seed = int(rng.integers(0, 2**63))
    Z, w = design("numba", M, nsamples, seed)
    p = plan_design(M, nsamples)
    assert len(Z) == p.nsamples
    packed = np.packbits(Z, axis=1)
    assert len(np.unique(packed, axis=0)) == len(Z), "coalitions must be distinct"
    s = Z.sum(axis=1)
    assert s.min() >= 1 and s.max() <= M - 1
    np.testing.assert_allclose(w.sum(), 1.0, rtol=1e-12)
    assert (w > 0).all()
    # enumerated part: sizes 1..num_full complete, with their exact kernel weights
    n_enum = p.n_enumerated
    for k in range(1, p.num_full + 1):
        in_size = (s[:n_enum] == k) | (s[:n_enum] == M - k)
        assert in_size.sum() == math.comb(M, k) * (2 if k <= p.num_paired else 1)
    # random part: every paired coalition is followed by its complement
    rand = Z[n_enum:]
    rs = rand.sum(axis=1)
    i = 0
    while i < len(rand) - 1:
        if rs[i] <= p.num_paired:
            np.testing.assert_array_equal(rand[i + 1], ~rand[i])
            i += 2
        else:
            i += 1
    # the random part carries exactly the kernel mass of the sizes not enumerated
    np.testing.assert_allclose(w[n_enum:].sum(), p.weight_vector[p.num_full :].sum(), rtol=1e-12)


def test_sampled_sizes_follow_the_shapley_kernel():
    # Over many draws, the share of each sampled size matches the kernel's size distribution.
    M, nsamples = 40, 20000
    Z, w = design("numba", M, nsamples, 7)
    p = plan_design(M, nsamples)
    s = np.minimum(Z.sum(axis=1), M - Z.sum(axis=1))[p.n_enumerated :]
    sizes = np.arange(p.num_full + 1, p.num_sizes + 1)
    share = np.array([(s == k).mean() for k in sizes])
    expected = p.weight_vector[p.num_full :] / p.weight_vector[p.num_full :].sum()
    np.testing.assert_allclose(share, expected, atol=0.01)


def test_same_seed_same_design_and_different_seeds_differ(rng):
    seed = int(rng.integers(0, 2**63))
    Z1, _ = design("numba", 20, 1000, seed)
    Z2, _ = design("numba", 20, 1000, seed)
    Z3, _ = design("numba", 20, 1000, seed + 1)
    np.testing.assert_array_equal(Z1, Z2)
    assert not np.array_equal(Z1, Z3)


def test_enumerated_part_matches_shap_design():
    shap = pytest.importorskip("shap")
    M = 12  # sizes 1..3 enumerated at the default budget, the rest sampled
    p = plan_design(M, "auto")
    x = np.arange(1.0, M + 1)[None, :]
    e = shap.KernelExplainer(lambda X: X.sum(axis=1), np.zeros((1, M)))
    e.shap_values(x, l1_reg=False, silent=True)
    Z, w = design("numba", M, "auto", 0)
    n = p.n_enumerated
    assert n > 0
    np.testing.assert_array_equal(Z[:n], e.maskMatrix[:n].astype(bool))
    np.testing.assert_allclose(w[:n], e.kernelWeights[:n], rtol=1e-12)


def test_plan_rejects_fewer_than_two_players():
    with pytest.raises(ValueError, match="at least 2 players"):
        plan_design(1, "auto")

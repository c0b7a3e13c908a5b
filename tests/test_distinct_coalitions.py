"""Repeated coalitions of a tensor design are evaluated once: the index maps against a
brute-force grouping, the rows ShapleyValueSampling sends, and the same values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from xai_fast import ModelAdapter, ShapleyValueSampling
from xai_fast.masking.distinct_coalitions import distinct_coalitions


def test_maps_against_a_brute_force_grouping(rng):
    Z = rng.random((200, 11)) < 0.5
    Z[rng.integers(200, size=60)] = Z[rng.integers(200, size=60)]  # repeats
    first, inverse = distinct_coalitions(Z)
    seen = {}
    for s, z in enumerate(map(bytes, Z)):
        seen.setdefault(z, s)  # the first appearance of each coalition
    assert first.tolist() == sorted(seen.values())
    np.testing.assert_array_equal(Z[first][inverse], Z)


def test_none_when_nothing_repeats(rng):
    Z = np.array(list(itertools.product([False, True], repeat=6)))[rng.permutation(64)]
    assert distinct_coalitions(Z) is None
    assert distinct_coalitions(Z[:1]) is None


class Rows(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net, self.rows = net, 0

    def forward(self, x):
        self.rows += x.shape[0]
        return self.net(x)


def _distinct_prefixes(perms) -> int:
    """Distinct coalitions of the empty set and every prefix of every permutation."""
    sets = {frozenset()}
    for p in perms:
        sets.update(frozenset(p[: k + 1]) for k in range(len(p)))
    return len(sets)


def test_shapley_sampling_sends_each_distinct_coalition_once(rng):
    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(int(rng.integers(1000)))
    net = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    x = torch.as_tensor(rng.normal(size=(4, 6)), dtype=torch.float32)
    seed, P = int(rng.integers(1000)), 12
    torch.manual_seed(seed)
    perms = [torch.randperm(6).tolist() for _ in range(P)]  # captum's draws for this seed
    counted = Rows(net)
    torch.manual_seed(seed)
    ours = ShapleyValueSampling(counted).attribute(x, target=1, n_samples=P)
    assert counted.rows == 4 * _distinct_prefixes(perms) < 4 * (1 + P * 6)
    every = Rows(net)
    torch.manual_seed(seed)
    all_rows = ShapleyValueSampling(ModelAdapter(every, dedup_rows=False)).attribute(
        x, target=1, n_samples=P
    )
    assert every.rows == 4 * (1 + P * 6)
    torch.manual_seed(seed)
    ref = captum_attr.ShapleyValueSampling(net).attribute(x, target=1, n_samples=P)
    assert float(ref.abs().max()) > 1e-3
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)
    torch.testing.assert_close(all_rows, ref, rtol=0, atol=1e-6)

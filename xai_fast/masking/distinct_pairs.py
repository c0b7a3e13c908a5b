"""Equal (instance, coalition) pairs of a tabular call are evaluated once.

A pair's ``N`` rows are the background rows with the coalition's features set to the
instance's values, so two pairs have the same rows when their instances are the same row
(equal values, the same varying features) and they keep the same features. Calls that explain a
row several times repeat pairs: ``PermutationExplainer`` makes one instance per (row, feature
order), and the short and long prefixes of a row's orders recur (16 features, 15 orders walked
both ways: about 9% of the coalitions; 10 features, 23 orders: about 30%).

:func:`distinct_pairs` finds them from the instances and coalitions alone (a cost independent
of the background and the model); :class:`RepeatedPairs` then evaluates the distinct pairs
alone, chunk by chunk, each as an instance of its own under one coalition that keeps all its
listed features (its kept ones, a kept one again in each place of a masked one), and hands every
pair its distinct pair's value. Where rows of different pairs can be equal too (categorical
data) and :mod:`.distinct`'s plan of equal rows is made, that plan finds the equal pairs with
the rest; where it is not (too few equal rows), the distinct pairs are still evaluated once.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from .distinct import every_feature_differs
from .finite_means import check_means

__all__ = [
    "MIN_SAVED_PAIRS",
    "PairPlan",
    "RepeatedPairs",
    "distinct_pairs",
    "kept_columns",
    "pairs_once",
]

#: Smallest share of pairs saved for which the distinct pairs' job replaces the call's. Finding
#: them costs about 0.1 us a pair, and their chunks' fills a little more than the call's: on a
#: 16-64-64-1 MLP with 20 background rows (2 cores), 9% saved ran 0.96-1.0x as fast, 20% 1.09x.
MIN_SAVED_PAIRS = 0.12
#: Instance groups whose pairs are counted first: with too few repeats among them the call's
#: pairs are not sorted at all.
SAMPLE_GROUPS = 2
#: Most varying features for which kept sets are compared (as exact sums of powers of two in
#: float64); with more, repeats are rare (each set is one of at least 2**53).
MAX_FEATURES = 52


class PairPlan(NamedTuple):
    """The distinct pairs of a call.

    Attributes
    ----------
    inst, coal : ndarray of int64, shape (U,)
        The instance and coalition of each distinct pair (its first pair).
    inverse : ndarray of int64, shape (n * S,)
        The distinct pair of each pair ``i * S + s``.
    """

    inst: np.ndarray
    coal: np.ndarray
    inverse: np.ndarray


def distinct_pairs(model, X, Z, var_idx, min_saved: float = MIN_SAVED_PAIRS) -> PairPlan | None:
    """The distinct pairs of instances ``X`` and coalitions ``Z``, or ``None`` to send all.

    Parameters
    ----------
    model : ModelAdapter
        ``model.dedup_rows`` false: ``None`` (every row is sent).
    X : ndarray, shape (n, d)
    Z : ndarray of bool, shape (S, M)
    var_idx : ndarray of int64, shape (n, M)
    min_saved : float
        Smallest share of pairs saved worth the plan.

    Returns
    -------
    PairPlan or None
        ``None`` when no instance repeats, when a coalition keeps nothing, when there are more
        than :data:`MAX_FEATURES` varying features, or when fewer than ``min_saved`` of the
        pairs repeat.
    """
    n = X.shape[0]
    S, M = Z.shape
    dedup = getattr(model, "dedup_rows", None)
    device = getattr(model, "device", None)
    if dedup is False or (dedup is None and device is not None and device.type != "cpu"):
        return None  # (on another device, as the plan of equal rows: only when asked for)
    if n < 2 or S == 0 or M == 0 or M > MAX_FEATURES or not Z.any(axis=1).all():
        return None
    group = _instance_groups(X, var_idx)
    if group.max() == n - 1:  # every instance differs
        return None
    d = X.shape[1]
    bits = d if d <= MAX_FEATURES else M
    if group.max() >= SAMPLE_GROUPS:  # a sample of whole groups first (about as many repeat)
        some = np.flatnonzero(group < SAMPLE_GROUPS)
        first, _ = _distinct(group[some], _kept_sets(Z, var_idx[some], d), bits)
        if len(first) > (1.0 - min_saved) * len(some) * S:
            return None
    first, inverse = _distinct(group, _kept_sets(Z, var_idx, d), bits)
    if len(first) > (1.0 - min_saved) * n * S:
        return None
    inst, coal = np.divmod(first, S)
    return PairPlan(inst, coal, inverse)


def kept_columns(Z, var_idx, inst, coal) -> np.ndarray:
    """The columns pairs ``(inst, coal)`` keep, ``(len(inst), M)``: each varying column in its
    place when kept, else one of the kept ones again (the pairs' rows under a coalition that
    keeps all its places; every pair keeps at least one)."""
    keep = Z[coal]  # (U, M)
    cols = var_idx[inst]
    some_kept = np.take_along_axis(cols, keep.argmax(axis=1)[:, None], axis=1)  # (U, 1)
    return np.where(keep, cols, some_kept)


def pairs_once(model, Z, X, var_idx, B, make):
    """The job of a call, evaluating each distinct pair once.

    ``make(Z, X, var_idx)`` makes a masker's job (with ``row_plan``, ``rebind`` and
    ``values``). When :func:`distinct_pairs` finds repeated pairs, a :class:`RepeatedPairs` job
    evaluates the distinct ones, unless rows of different pairs can be equal too (a varying
    value equal to a background row's, as in categorical data) and the call's plan of equal rows
    (:mod:`.distinct`), which then also finds the equal pairs, is made. Else the job is the
    call's own.

    Parameters
    ----------
    model : ModelAdapter
    Z, X, var_idx
        The call's coalitions ``(S, M)``, instances ``(n, d)`` and varying columns ``(n, M)``.
    B : ndarray, shape (N, d)
        The background rows in the dtype the model gets (``X`` is compared in it too).
    make : callable
    """
    X = np.ascontiguousarray(X, dtype=B.dtype)
    plan = distinct_pairs(model, X, Z, var_idx)
    if plan is None:
        return make(Z, X, var_idx)
    bits = f"u{B.dtype.itemsize}"
    if B.dtype.itemsize not in (1, 2, 4, 8) or not every_feature_differs(
        X.view(bits), np.ascontiguousarray(B).view(bits), var_idx
    ):
        job = make(Z, X, var_idx)
        if job.row_plan() is not None:
            return job
    return RepeatedPairs(model, make, Z, X, var_idx, plan)


class RepeatedPairs:
    """A call's job that evaluates its distinct pairs alone (see the module's text).

    A chunk of distinct pairs is a small job of the masker's: its pairs as instances of their
    own under one coalition keeping every listed column (:func:`kept_columns`), one such job
    per worker rebound to each chunk (so only a chunk's instances are copied at a time).

    Parameters
    ----------
    model : ModelAdapter
    make : callable
        ``make(Z, X, var_idx)``: a job of the masker's.
    Z, X, var_idx
        The call's coalitions ``(S, M)``, instances ``(n, d)`` and varying columns ``(n, M)``.
    plan : PairPlan
    """

    def __init__(self, model, make, Z, X, var_idx, plan: PairPlan):
        self.model, self.make, self.plan = model, make, plan
        self.Z, self.X, self.var_idx = Z, X, var_idx
        self.S = Z.shape[0]
        self.one = np.ones((1, Z.shape[1]), dtype=bool)
        probe = make(self.one, X[:0], var_idx[:0])
        self.pairs = len(plan.inst)
        self.rows_per_pair = probe.rows_per_pair
        self.values_per_row = probe.values_per_row
        self.workers = probe.workers
        self.jobs = {}  # worker -> its job, rebound to each of its chunks
        self.ey = None  # (U, k), made by the first chunk to know k
        self.lock = threading.Lock()

    def fill(self, start: int, P: int, worker: int):
        inst, coal = self.plan.inst[start : start + P], self.plan.coal[start : start + P]
        X, cols = self.X[inst], kept_columns(self.Z, self.var_idx, inst, coal)
        job = self.jobs.get(worker)
        if job is None or job.pairs < P:  # (a worker's first chunk is its largest)
            if job is not None:
                job.values()  # hands its buffers back
            job = self.jobs[worker] = self.make(self.one, X, cols)
        else:
            job.rebind(X, cols)
        return job.fill(0, P, worker)

    def reduce(self, out, start: int, P: int, worker: int) -> None:
        job = self.jobs[worker]
        job.reduce(out, 0, P, worker)
        values = job.ey[:P]
        if self.ey is None:
            with self.lock:
                if self.ey is None:
                    self.ey = _empty_like_rows(values, self.pairs)
        self.ey[start : start + P] = values

    def result(self):
        """Every pair's value, ``(n, S, k)``; raises if the model returned NaN or inf."""
        for job in self.jobs.values():
            job.values()  # hands its buffers back
        ey = self.ey
        if hasattr(ey, "index_select"):
            import torch

            ey = ey.index_select(0, torch.as_tensor(self.plan.inverse, device=ey.device))
        else:
            ey = ey[self.plan.inverse]
        check_means(self.model, ey, self.S)
        return ey.reshape(-1, self.S, ey.shape[1])


def _empty_like_rows(values, rows: int):
    """An uninitialised ``(rows, k)`` array or tensor of ``values``' kind, dtype and device."""
    if hasattr(values, "new_empty"):
        return values.new_empty((rows, values.shape[1]))
    return np.empty((rows, values.shape[1]), dtype=values.dtype)


def _instance_groups(X: np.ndarray, var_idx: np.ndarray) -> np.ndarray:
    """The group of each instance ``(n,)``: equal for instances with the same values (bit for
    bit) and the same varying features, numbered from 0."""
    n = X.shape[0]
    values = np.ascontiguousarray(X).view(np.uint8).reshape(n, -1)
    features = np.sort(var_idx, axis=1).astype(np.int64).view(np.uint8).reshape(n, -1)
    key = np.ascontiguousarray(np.concatenate([values, features], axis=1))
    row = key.view(np.dtype((np.void, key.shape[1]))).ravel()
    _, group = np.unique(row, return_inverse=True)
    return group.ravel().astype(np.int64)


def _kept_sets(Z: np.ndarray, var_idx: np.ndarray, d: int) -> np.ndarray:
    """Each pair's kept features ``(n, S)`` int64, exact (at most 52 bits summed in float64):
    bit ``c`` set when column ``c`` is kept (``d`` columns, at most 52), else bit ``r`` when
    the instance's varying feature of rank ``r`` (among its own, ascending) is."""
    place = var_idx if d <= MAX_FEATURES else np.argsort(np.argsort(var_idx, axis=1), axis=1)
    bits = np.ldexp(1.0, place)  # (n, M): 2 ** place
    return (bits @ Z.T.astype(np.float64)).astype(np.int64)


def _distinct(group: np.ndarray, mask: np.ndarray, bits: int):
    """The first pair of each distinct key ``(U,)``, in the keys' order, and the distinct pair
    of each pair ``(n * S,)``; pair ``i * S + s``'s key is ``(group[i], mask[i, s])``
    (``mask`` ``(n, S)``, below ``2**bits``). About 33 bytes a pair at the peak."""
    n, S = mask.shape
    if int(group.max()) < 2 ** (63 - bits):  # one int64 key
        key = ((group[:, None] << bits) | mask).ravel()
        order = np.argsort(key)
        key = key[order]
        new = np.empty(order.size, dtype=bool)
        new[0] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        del key
    else:
        g, m = group.repeat(S), mask.ravel()
        order = np.lexsort((m, g))
        g, m = g[order], m[order]
        new = np.empty(order.size, dtype=bool)
        new[0] = True
        new[1:] = (g[1:] != g[:-1]) | (m[1:] != m[:-1])
        del g, m
    first = np.minimum.reduceat(order, np.flatnonzero(new))  # each key's first pair
    inverse = np.empty(order.size, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return first, inverse

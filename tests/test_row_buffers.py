"""Spare row buffers shared by the tabular torch maskers of the process."""

import threading

import numpy as np
import pytest
import torch

import xai_fast as xf
from xai_fast._runtime import row_buffers

CPU, META = torch.device("cpu"), torch.device("meta")


@pytest.fixture(autouse=True)
def empty_pool(monkeypatch):
    monkeypatch.setattr(row_buffers, "_spare", [])


def test_a_buffer_handed_back_is_reused_when_it_fits():
    a = row_buffers.take(100, 5, torch.float32, CPU)
    assert a.shape == (100, 5) and a.dtype == torch.float32
    row_buffers.give_back([a])
    assert row_buffers.take(60, 5, torch.float32, CPU) is a  # larger is fine
    row_buffers.give_back([a])
    for rows, d, dtype in [(101, 5, torch.float32), (60, 4, torch.float32), (60, 5, torch.float64)]:
        b = row_buffers.take(rows, d, dtype, CPU)
        assert b is not a and b.shape == (rows, d) and b.dtype == dtype
    assert row_buffers.take(100, 5, torch.float32, CPU) is a
    assert row_buffers.take(100, 5, torch.float32, CPU) is not a  # owned by one taker at a time


def test_limits_on_count_and_bytes_keep_the_newest(monkeypatch):
    monkeypatch.setattr(row_buffers, "MAX_SPARE", 3)
    bufs = [torch.empty((10, 4)) for _ in range(5)]
    row_buffers.give_back(bufs[:2])
    row_buffers.give_back(bufs[2:])
    assert [id(b) for b in row_buffers._spare] == [id(b) for b in bufs[2:]]
    monkeypatch.setattr(row_buffers, "MAX_SPARE_BYTES", 10 * 4 * 4 * 2)  # two of them
    big = torch.empty((1000, 4))
    row_buffers.give_back([big, bufs[0]])  # too big alone: freed; bufs[0] newest
    assert [id(b) for b in row_buffers._spare] == [id(bufs[0]), id(bufs[2])]


def test_other_devices_are_left_to_their_allocator():
    m = row_buffers.take(8, 3, torch.float32, META)
    assert m.device.type == "meta"
    row_buffers.give_back([m])
    assert row_buffers._spare == []


def _model(seed, d):
    gen = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(d, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    return net.double()


def test_a_new_explainer_fills_the_buffer_of_the_last_one(rng, monkeypatch):
    d = 7
    B, X = rng.normal(size=(6, d)), rng.normal(size=(3, d))
    taken, take = [], row_buffers.take

    def recording(*args):
        buf = take(*args)
        taken.append(buf)
        return buf

    monkeypatch.setattr(row_buffers, "take", recording)
    values = []
    for _ in range(2):
        e = xf.KernelExplainer(_model(0, d), B, backend="torch", seed=1)
        values.append(e.shap_values(X, nsamples=60, l1_reg=False, silent=True))
    assert len(taken) == 2 and taken[1] is taken[0]
    np.testing.assert_array_equal(values[1], values[0])


def test_explainers_in_threads_never_share_a_buffer(rng):
    # two models and backgrounds of the same width: their calls take from one pool
    d = 6
    setups = []
    for k in range(2):
        B, X = rng.normal(size=(9, d)), rng.normal(size=(5, d))
        e = xf.KernelExplainer(_model(k, d), B, backend="torch", seed=k)
        setups.append((e, X, e.shap_values(X, nsamples=200, l1_reg=False, silent=True)))
    failures = []

    def work(k):
        e, X, reference = setups[k % 2]
        for _ in range(15):
            got = e.shap_values(X, nsamples=200, l1_reg=False, silent=True)
            if not np.array_equal(got, reference):
                failures.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []

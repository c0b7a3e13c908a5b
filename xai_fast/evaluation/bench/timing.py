"""Timing: every method once on the first two rows (warm-up), then rounds in which every method runs
once followed by the model alone on as many rows, so that methods compared with each other see
the same state of the machine."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .prepare import Setup

__all__ = ["MODEL_CHUNK", "ModelAlone", "Timings", "attempt", "time_all"]

#: Rows per model call of the model-alone timing.
MODEL_CHUNK = 4096


class ModelAlone:
    """Times the model on pre-built rows of the problem's shape, 4096 rows a call: random
    rows of the training data (tabular; a tree's speed depends on where rows fall), random
    images, or what the problem's ``alone_inputs`` gives (RGB images, training texts)."""

    def __init__(self, problem, seed: int):
        import torch

        self.problem = problem
        if hasattr(problem, "alone_inputs"):
            self.buf = problem.alone_inputs(MODEL_CHUNK, seed)
            return
        if problem.kind == "image":
            gen = torch.Generator().manual_seed(seed)
            self.buf = torch.rand((MODEL_CHUNK, *problem.inputs.shape[1:]), generator=gen)
            return
        rng = np.random.default_rng(seed)
        rows = problem.train[rng.integers(0, len(problem.train), MODEL_CHUNK)]
        self.buf = torch.tensor(rows, dtype=torch.float32) if problem.is_module else rows

    def seconds(self, n_rows: int, *, gradient: bool = False) -> float:
        import torch

        model = self.problem.model
        t = time.perf_counter()
        for start in range(0, n_rows, MODEL_CHUNK):
            x = self.buf[: min(MODEL_CHUNK, n_rows - start)]
            if gradient:  # forward and backward, as a gradient method needs
                x = x.clone().requires_grad_(True)
                torch.autograd.grad(model(x)[:, 0].sum(), x)
            elif isinstance(x, torch.Tensor):
                with torch.inference_mode():
                    model(x)
            else:
                model(x)
        return time.perf_counter() - t


@dataclass
class Timings:
    """Per-round times of one method, its model-alone times, model rows and last values."""

    seconds: list
    model_seconds: list
    evaluations: int = 0
    values: np.ndarray | None = None


def attempt(method, work):
    """``(values, None)``, or ``(None, note)`` when a reference fails (xai_fast raises)."""
    try:
        return method.run(work), None
    except Exception as err:  # a reference that fails here (versions): record it, go on
        if method.library == "xai_fast":
            raise
        return None, f"failed: {type(err).__name__}: {err}"


def time_all(setup: Setup, meths, repeats: int, alone: ModelAlone, say):
    """Warm up every method on the first two rows (two, so that a permutation has rows to
    permute), then ``repeats`` rounds in which every method
    runs once, followed by the model alone on as many rows: methods compared with each other
    see the same state of the machine. Returns ``({key: Timings}, {key: failure note})``."""
    timings, failed = {}, {}
    for m in meths:
        _, note = attempt(m, setup.work.head(2))
        if note is None:
            timings[m.key] = Timings([], [])
        else:
            failed[m.key] = note
    for r in range(repeats):
        t0 = time.perf_counter()
        for m in meths:
            if m.key not in timings:
                continue
            setup.counter.rows = 0
            t = time.perf_counter()
            values, note = attempt(m, setup.work)
            elapsed = time.perf_counter() - t
            if note is not None:
                failed[m.key] = note
                del timings[m.key]
                continue
            tm = timings[m.key]
            tm.seconds.append(elapsed)
            tm.evaluations, tm.values = setup.counter.rows, values
            tm.model_seconds.append(alone.seconds(tm.evaluations, gradient=m.gradient))
        say(f"  round {r + 1}/{repeats}: {time.perf_counter() - t0:.1f} s")
    return timings, failed

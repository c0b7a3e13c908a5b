"""What one run of the suite explains: :class:`TabularWork`, :class:`ImageWork`,
:class:`SuperpixelWork` and :class:`TextWork`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .media_problems import SuperpixelProblem, TextProblem
from .problems import ImageProblem

__all__ = ["ImageWork", "SuperpixelWork", "TabularWork", "TextWork"]


@dataclass
class TabularWork:
    """What one tabular run explains.

    Attributes
    ----------
    model : torch.nn.Module or callable
        What xai_fast is given (a module stays a module).
    fn : callable
        The same model as a numpy callable ``(n, d) -> (n,)``, as users hand it to shap and lime.
    background, rows, train : ndarray
        Background ``(N, d)``, rows to explain ``(n, d)`` and LIME's training data.
    nsamples, lime_samples, seed : int
    """

    model: object
    fn: Callable
    background: np.ndarray
    rows: np.ndarray
    train: np.ndarray
    nsamples: int
    lime_samples: int
    seed: int = 0

    def head(self, n: int = 1) -> TabularWork:
        """The same work on the first ``n`` rows."""
        return replace(self, rows=self.rows[:n])


@dataclass
class ImageWork(ImageProblem):
    """An :class:`ImageProblem` as one run explains it: its model (wrapped to count rows) and
    the run's seed."""

    seed: int = 0

    def head(self, n: int = 1) -> ImageWork:
        return replace(self, inputs=self.inputs[:n], target=self.target[:n])


@dataclass
class SuperpixelWork(SuperpixelProblem):
    """A :class:`SuperpixelProblem` as one run explains it: its model (wrapped to count
    images) and the run's seed."""

    seed: int = 0

    def head(self, n: int = 1) -> SuperpixelWork:
        return replace(self, images=self.images[:n], target=self.target[:n])


@dataclass
class TextWork(TextProblem):
    """A :class:`TextProblem` as one run explains it: its model (wrapped to count strings) and
    the run's seed."""

    seed: int = 0

    def head(self, n: int = 1) -> TextWork:
        return replace(self, texts=self.texts[:n])

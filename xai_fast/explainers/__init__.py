"""Explainers: thin compositions of model adapter, game, sampler and solver."""

from .exact import ExactExplainer
from .kernel import KernelExplainer

__all__ = ["ExactExplainer", "KernelExplainer"]

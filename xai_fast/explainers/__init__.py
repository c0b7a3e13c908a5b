"""Explainers: thin compositions of model adapter, game, sampler and solver."""

from .kernel import KernelExplainer

__all__ = ["KernelExplainer"]

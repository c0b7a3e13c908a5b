"""How well and how fast the explainers work.

:mod:`~xai_fast.evaluation.compare` runs several explainers on the same rows and scores them
(:func:`xai_fast.compare`); :mod:`~xai_fast.evaluation.bench` is the benchmark suite behind
``xai-fast bench``. Nothing is imported here, so that ``import xai_fast.evaluation`` stays light
and every submodule keeps its own name.
"""

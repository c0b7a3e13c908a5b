"""The ``xai-fast`` command line: ``demo``, ``explain`` and ``bench``.

:mod:`~xai_fast.cli.dispatch` parses the arguments and runs the command,
:mod:`~xai_fast.cli.explain` explains the rows of a CSV, :mod:`~xai_fast.cli.demo` trains and
explains a small MLP, :mod:`~xai_fast.cli.io` reads models and CSV files and writes values, and
:mod:`~xai_fast.cli.plot_files` writes an explanation's plots as PNG files.
"""

from .dispatch import main

__all__ = ["main"]

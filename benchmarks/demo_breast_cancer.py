"""The main job end to end (``make demo``): see :mod:`xai_fast.cli.demo`.

Usage: ``python benchmarks/demo_breast_cancer.py [--out DIR]``.
"""

from __future__ import annotations

import sys

from xai_fast.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))

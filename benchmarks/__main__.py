"""``python -m benchmarks`` (from the repository root): the suite of ``xai-fast bench``.

The suite lives in :mod:`xai_fast.bench` so that the installed ``xai-fast`` command has it;
this entry point takes the same options (``--quick``, ``--json``, ``--markdown``, ``--plots``,
``--repeats``, ``--quiet``).
"""

import sys

from xai_fast.bench.suite import main

sys.exit(main())

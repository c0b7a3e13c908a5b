"""``python -m xai_fast`` is the ``xai-fast`` command line."""

import sys

from .cli import main

sys.exit(main())

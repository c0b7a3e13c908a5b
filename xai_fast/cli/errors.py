"""What every command-line failure the user can fix turns into: one line and exit status 2."""

from __future__ import annotations

__all__ = ["EXIT_USAGE", "CliError"]

#: Exit status of a failure the user can fix.
EXIT_USAGE = 2


class CliError(Exception):
    """A problem to report in one line."""

"""The options of ``xai-fast bench`` and ``python -m benchmarks``, and the suite run with them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .figures import write_plots
from .report import to_markdown, write_json
from .suite import __doc__ as _SUITE_DOC
from .suite import run_suite

__all__ = ["add_arguments", "main", "run_from_args"]


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``xai-fast bench`` (shared with ``python -m benchmarks``)."""
    p.add_argument("--quick", action="store_true", help="a subset of the problems (minutes)")
    p.add_argument("--json", metavar="FILE", help="write the records (and settings) as JSON")
    p.add_argument("--markdown", metavar="FILE", help="write the table as markdown")
    p.add_argument("--plots", metavar="DIR", help="write time and error plots (PNG) here")
    p.add_argument(
        "--repeats", type=int, default=3, metavar="N", help="timed runs per method (median)"
    )
    p.add_argument(
        "--problems", nargs="+", metavar="GLOB",
        help="only the problems whose names match one of these patterns (e.g. 'text-*')",
    )  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # tests: tiny
    return p


def run_from_args(args, *, command: str | None = None) -> dict:
    """Run the suite with parsed :func:`add_arguments` options and write what they ask."""
    mode = "smoke" if args.smoke else ("quick" if args.quick else "full")
    if args.repeats < 1:
        raise ValueError(f"--repeats must be a positive integer; got {args.repeats}.")
    for option, path in (("--json", args.json), ("--markdown", args.markdown)):
        if path and not Path(path).resolve().parent.is_dir():  # fail now, not after the run
            raise ValueError(f"{option}: the folder of {path} does not exist.")

    def say(line):
        print(line, file=sys.stderr, flush=True)

    result = run_suite(
        mode=mode, problems=getattr(args, "problems", None), repeats=args.repeats,
        progress=None if args.quiet else say,
    )  # fmt: skip
    result["meta"]["command"] = command or "xai-fast bench"
    table = to_markdown(result)
    if args.json:
        write_json(result, args.json)
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.plots:
        write_plots(result, args.plots)
    if not args.quiet:
        print(table)
    return result


def main(argv=None) -> int:
    """``python -m benchmarks``: the suite with ``xai-fast bench``'s options."""
    p = add_arguments(
        argparse.ArgumentParser(prog="python -m benchmarks", description=_SUITE_DOC.splitlines()[0])
    )
    args = p.parse_args(argv)
    tail = sys.argv[1:] if argv is None else list(argv)
    run_from_args(args, command=" ".join(["python -m benchmarks"] + tail))
    return 0

"""The ``xai-fast`` command line: the parser of ``demo``, ``explain`` and ``bench``, and
:func:`main`, which runs the command chosen.

Every failure the user can fix (a missing file, wrong columns, a model that fails) ends with one
line on stderr naming the problem and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys

from .errors import EXIT_USAGE, CliError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``xai-fast`` and its three commands (``bench`` takes the suite's options)."""
    p = argparse.ArgumentParser(
        prog="xai-fast", description="Fast Kernel SHAP, exact Shapley values and LIME."
    )
    sub = p.add_subparsers(dest="command", metavar="{demo,explain,bench}")
    sub.required = True

    d = sub.add_parser(
        "demo",
        help="train a small MLP on breast cancer, explain held-out rows, compare with shap",
        description="Train a torch MLP on scikit-learn's breast cancer data, explain held-out "
        "rows with Kernel SHAP, print the top features and the time next to shap.",
    )
    d.add_argument("--out", metavar="DIR", help="write plots (PNG) and a summary here")
    d.add_argument("--no-compare", action="store_true", help="skip the shap comparison")
    d.add_argument("--quiet", action="store_true", help="print less")

    e = sub.add_parser(
        "explain",
        help="explain the rows of a CSV with a saved model",
        description="Explain every row of --data with a saved model and write the values as CSV "
        "(one column per feature; '<feature>[<output>]' columns for several outputs). Models: a "
        "pickled scikit-learn model or callable (.pkl, .pickle, .joblib), a TorchScript file or "
        "a torch.save'd module (.pt, .pth). Only load model files you trust: unpickling runs code.",
    )
    e.add_argument("--model", required=True, metavar="FILE")
    e.add_argument("--data", required=True, metavar="CSV", help="rows to explain, with a header")
    e.add_argument(
        "--background", metavar="CSV", help="background rows (default: 100 rows of --data)"
    )
    e.add_argument("--method", choices=("kernel", "exact", "lime"), default="kernel")
    e.add_argument("--nsamples", type=int, help="coalitions (kernel) or samples (lime) per row")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument(
        "--output",
        choices=("auto", "predict_proba", "predict"),
        default="auto",
        help="which method of a scikit-learn model to explain (auto: predict_proba if present)",
    )
    e.add_argument("--out", required=True, metavar="CSV", help="where to write the values")
    e.add_argument("--plots", metavar="DIR", help="also write bar, beeswarm and waterfall PNGs")
    e.add_argument("--quiet", action="store_true", help="no progress bars or summary")

    from ..evaluation.bench.command import add_arguments

    add_arguments(
        sub.add_parser(
            "bench",
            help="time every method against shap, lime and captum on the same problems",
            description="Run every xai_fast method and its reference (shap, lime, captum) on "
            "the same torch MLPs, scikit-learn model and CNN, with the same rows, background and "
            "budgets; report median times, the model alone, model rows, error against exact "
            "Shapley values and speed-ups. Missing references are skipped with a note.",
        )
    )
    return p


def main(argv=None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0, 2 for a failure the user can fix (one line on stderr), 130 when
        interrupted.
    """
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from .demo import run_demo

            run_demo(out_dir=args.out, compare=not args.no_compare, quiet=args.quiet)
        elif args.command == "bench":
            _bench(args, sys.argv[1:] if argv is None else list(argv))
        else:
            from .explain import run_explain

            run_explain(args)
    except (CliError, OSError) as err:
        print(f"xai-fast: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("xai-fast: interrupted", file=sys.stderr)
        return 130
    return 0


def _bench(args, argv) -> None:
    from ..evaluation.bench.command import run_from_args

    try:
        run_from_args(args, command=" ".join(["xai-fast", *argv]))
    except ValueError as err:  # bad options: one line
        raise CliError(str(err)) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

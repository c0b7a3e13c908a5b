"""The ``xai-fast`` command line: ``demo``, ``explain`` and ``bench``.

Every failure the user can fix (a missing file, wrong columns, a model that fails) ends with one
line on stderr naming the problem and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]

EXIT_USAGE = 2


class CliError(Exception):
    """A problem to report in one line."""


def _parser() -> argparse.ArgumentParser:
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

    from .bench.suite import add_arguments

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
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from .demo import run_demo

            run_demo(out_dir=args.out, compare=not args.no_compare, quiet=args.quiet)
        elif args.command == "bench":
            _bench(args, sys.argv[1:] if argv is None else list(argv))
        else:
            _explain(args)
    except (CliError, OSError) as err:
        print(f"xai-fast: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("xai-fast: interrupted", file=sys.stderr)
        return 130
    return 0


# ---------------------------------------------------------------------- bench
def _bench(args, argv) -> None:
    from .bench.suite import run_from_args

    try:
        run_from_args(args, command=" ".join(["xai-fast", *argv]))
    except ValueError as err:  # bad options: one line
        raise CliError(str(err)) from None


# ---------------------------------------------------------------------- explain
def _explain(args) -> None:
    try:
        _explain_files(args)
    except (ValueError, TypeError, KeyError) as err:  # bad files or options: one line
        raise CliError(str(err)) from None


def _explain_files(args) -> None:
    import numpy as np

    from .io import load_model, read_csv, write_values_csv

    names, X = read_csv(args.data, "--data")
    if args.background:
        bnames, B = read_csv(args.background, "--background")
        if bnames != names:
            raise CliError(
                f"--background columns {bnames[:4]}... differ from --data columns {names[:4]}...; "
                "give both files the same columns in the same order."
            )
    else:
        rng = np.random.default_rng(args.seed)
        B = X[np.sort(rng.choice(len(X), min(100, len(X)), replace=False))]
    if args.nsamples is not None and args.nsamples < 1:
        raise CliError(f"--nsamples must be a positive integer; got {args.nsamples}.")
    model, output_names = load_model(args.model, args.output)
    try:
        exp = _run_method(args, model, X, B, names, output_names)
    except (CliError, ValueError, TypeError) as err:
        raise CliError(str(err)) from None
    except Exception as err:  # the user's model raised: name it, no traceback
        raise CliError(f"the model failed on the data: {type(err).__name__}: {err}") from None
    write_values_csv(args.out, exp)
    if args.plots:
        write_plots(exp, args.plots)
    if not args.quiet:
        print(
            f"explained {len(X)} rows x {len(names)} features with {args.method}; "
            f"values written to {args.out}"
        )


def _run_method(args, model, X, B, names, output_names):
    from . import ExactExplainer, KernelExplainer, LimeTabularExplainer

    silent = args.quiet
    if args.method == "kernel":
        explainer = KernelExplainer(model, B, feature_names=names, seed=args.seed)
        nsamples = "auto" if args.nsamples is None else args.nsamples
        exp = explainer(X, nsamples=nsamples, l1_reg=False, silent=silent)
    elif args.method == "exact":
        exp = ExactExplainer(model, B, feature_names=names)(X, silent=silent)
    else:
        probe = _outputs(model, X[:2])
        mode = "classification" if probe > 1 else "regression"
        explainer = LimeTabularExplainer(B, mode=mode, feature_names=names, random_state=args.seed)
        labels = tuple(range(probe)) if mode == "classification" else (0,)
        nsamples = 5000 if args.nsamples is None else args.nsamples
        exp = explainer(X, model, labels=labels, num_samples=nsamples, silent=silent)
    if exp.values.ndim == 3 and exp.values.shape[2] == 1:  # one output: plain feature columns
        exp = exp[..., 0]
    if output_names is not None and exp.values.ndim == 3:
        exp.output_names = list(output_names)
    return exp


def write_plots(exp, out_dir) -> list:
    """Write bar, beeswarm and waterfall (first row) PNGs of ``exp`` to ``out_dir``.

    An explanation with several outputs is plotted for its last output (the positive class of
    a binary classifier). Returns the paths written.
    """
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if exp.values.ndim == 3:
        exp = exp[..., exp.values.shape[2] - 1]
    paths = []
    for name, draw in (("bar", plots.bar), ("beeswarm", plots.beeswarm)):
        paths.append(_save(draw(exp, show=False), out / f"{name}.png", plt))
    paths.append(_save(plots.waterfall(exp[0], show=False), out / "waterfall.png", plt))
    return paths


def _save(drawn, path, plt):
    fig = drawn[0] if isinstance(drawn, tuple) else drawn
    fig = getattr(fig, "figure", fig)  # an Axes knows its figure
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _outputs(model, X) -> int:
    from .models import ModelAdapter

    return ModelAdapter(model)(X).shape[1]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

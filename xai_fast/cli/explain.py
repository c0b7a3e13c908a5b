"""``xai-fast explain``: a saved model, CSV rows and a background in; CSV values (and plots) out."""

from __future__ import annotations

from .errors import CliError

__all__ = ["run_explain"]


def run_explain(args) -> None:
    """``xai-fast explain``: explain every row of ``args.data`` and write the values (and plots).

    Parameters
    ----------
    args : argparse.Namespace
        The options of ``xai-fast explain`` (see :func:`~xai_fast.cli.dispatch.build_parser`).

    Raises
    ------
    CliError
        For bad files or options, or a model that fails on the data: one line to report.
    """
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
            raise CliError(column_mismatch(names, bnames))
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
        from .plot_files import write_plots

        write_plots(exp, args.plots)
    if not args.quiet:
        print(
            f"explained {len(X)} rows x {len(names)} features with {args.method}; "
            f"values written to {args.out}"
        )


def column_mismatch(names: list, bnames: list) -> str:
    """What differs between the columns of --data and --background, by name."""
    missing = [c for c in names if c not in bnames]
    extra = [c for c in bnames if c not in names]
    parts = [f"--data has {len(names)} columns and --background {len(bnames)}"]
    if missing:
        parts.append(f"missing from --background: {_few(missing)}")
    if extra:
        parts.append(f"only in --background: {_few(extra)}")
    if not missing and not extra:
        first = next(i for i, (a, b) in enumerate(zip(names, bnames, strict=True)) if a != b)
        parts.append(
            f"the same names in another order (column {first + 1}: {names[first]!r} in --data, "
            f"{bnames[first]!r} in --background)"
        )
    return "; ".join(parts) + ". Give both files the same columns in the same order."


def _few(names: list, k: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:k])
    return shown + (f" and {len(names) - k} more" if len(names) > k else "")


def _run_method(args, model, X, B, names, output_names):
    from .. import ExactExplainer, KernelExplainer, LimeTabularExplainer

    silent = args.quiet
    if args.method == "kernel":
        explainer = KernelExplainer(model, B, feature_names=names, seed=args.seed)
        nsamples = "auto" if args.nsamples is None else args.nsamples
        exp = explainer(X, nsamples=nsamples, l1_reg=False, silent=silent)
    elif args.method == "exact":
        exp = ExactExplainer(model, B, feature_names=names)(X, silent=silent)
    else:
        probe = _outputs(model, X[:2], names)
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


def _outputs(model, X, names) -> int:
    from ..model_inputs import AsFittedFrame, fitted_on_frame
    from ..models import ModelAdapter

    if fitted_on_frame(model, names):  # the form it was fitted on: no feature-name warning
        model = AsFittedFrame(model, names)
    return ModelAdapter(model)(X).shape[1]

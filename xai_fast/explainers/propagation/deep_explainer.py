"""shap's ``DeepExplainer`` for PyTorch models: DeepSHAP, i.e. DeepLIFT against every
background row, averaged, with shap's arguments, shapes and additivity check.

It runs on the same rules as :class:`~xai_fast.DeepLift` (attached to the operations the forward
executes, so functional activations, reused modules and residual additions are exact). Where
shap runs one forward and backward per example and output, here the background goes through the
model once, all (example, background row) pairs of a block of examples run in large chunks, and
every explained output is differentiated from the same forward.
"""

from __future__ import annotations

import numpy as np
import torch

from ..._validation import check_flag, explained_init
from .. import _shap_torch as shp
from ..gradient._call import _autograd, _Call
from ._passes import _multipliers

__all__ = ["AdditivityError", "DeepExplainer"]

#: Values per block of examples (pairs x input size x (targets + 3)), about 256 MiB of float64.
_BLOCK_VALUES = 1 << 25
_TOLERANCE = 1e-2  # shap's absolute tolerance of the additivity check


class AdditivityError(AssertionError):
    """The values do not add up to ``f(x) - E[f(background)]`` (an AssertionError, as shap's)."""


@explained_init
class DeepExplainer:
    """DeepSHAP values of a PyTorch model against a background data set (shap's API).

    Parameters
    ----------
    model : torch.nn.Module or (torch.nn.Module, torch.nn.Module)
        Takes the input tensors and returns ``(N, K)`` (or ``(N,)``). Put in eval mode here, as
        shap does. With a pair ``(model, layer)`` the values are for the inputs of ``layer``.
    data : torch.Tensor or list of torch.Tensor, each (M, ...)
        Background examples (a list for a model with several inputs).
    session, learning_phase_flags : None
        TensorFlow arguments of shap's class; must be None here.

    Attributes
    ----------
    expected_value : numpy.ndarray, shape (K,)
        Mean model output over the background.
    """

    def __init__(self, model, data, session=None, learning_phase_flags=None):
        if session is not None or learning_phase_flags is not None:
            raise TypeError(
                "session and learning_phase_flags are TensorFlow arguments; this DeepExplainer "
                "explains PyTorch models. Leave them None."
            )
        self.model, self.layer = shp.model_and_layer(model, "DeepExplainer")
        if hasattr(self.model, "eval"):
            self.model.eval()
        self.data, self.multi_input = shp.background(data, "DeepExplainer")
        raw = shp.forward(self.model, self.data, "data")
        out = shp.outputs_2d(raw, "DeepExplainer")
        self._flat_output = raw.dim() == 1  # (N,): targets are None
        self.num_outputs = out.shape[1]
        self.multi_output = self.num_outputs > 1
        self.device = out.device
        self.expected_value = out.mean(0).cpu().numpy()
        self.eps = 1e-6  # shap's: below this |x - x_b| a nonlinearity passes its derivative

    def __call__(self, X):
        """The values of :meth:`shap_values` as an :class:`~xai_fast.Explanation` (a list of
        them, one per input, for a model with several inputs)."""
        values = self.shap_values(X)
        xs = shp.torch_inputs(X, self.multi_input, self.data, "X")
        base = np.broadcast_to(self.expected_value, (xs[0].shape[0], self.num_outputs))
        return shp.as_explanation(values, xs, base.copy(), self.multi_input)

    def shap_values(self, X, ranked_outputs=None, output_rank_order="max", check_additivity=True):
        """DeepSHAP values of every explained output.

        Parameters
        ----------
        X : torch.Tensor or list of torch.Tensor, each (N, ...)
            Examples, shaped as the background (a list for several inputs).
        ranked_outputs : int, optional
            Explain only this many outputs per example, chosen by ``output_rank_order``.
        output_rank_order : {"max", "min", "max_abs"}, default "max"
        check_additivity : bool, default True
            Raise :class:`AdditivityError` when some example's values miss
            ``f(x) - expected_value`` by more than 0.01.

        Returns
        -------
        numpy.ndarray or list of numpy.ndarray
            Per input ``(N, ..., T)`` (the input's shape, or the layer input's, then the ``T``
            explained outputs); a list for several inputs. With ``ranked_outputs``, the pair
            ``(values, ranks)``, ``ranks`` a tensor ``(N, T)`` of the outputs explained.
        """
        order = shp.check_rank_order(output_rank_order)
        check = check_flag(check_additivity, "check_additivity")
        with _autograd():
            xs = shp.torch_inputs(X, self.multi_input, self.data, "X")
            out = shp.outputs_2d(shp.forward(self.model, xs, "X"), "DeepExplainer")
            ranks = shp.output_ranks(out, ranked_outputs, order)
            phis = self._values(xs, ranks)
        if check:
            self._check_additivity(phis, out, ranks)
        values = shp.shap_shaped(phis, self.multi_input)
        return values if ranked_outputs is None else (values, ranks)

    # ------------------------------------------------------------------ computation
    def _values(self, xs, ranks) -> list:
        """``phis[t][k]``: float64 arrays ``(N, ...)`` for rank ``t`` and input ``k``."""
        N, T = ranks.shape
        M = self.data[0].shape[0]
        per_pair = sum(x[0].numel() for x in xs) * (T + 3)
        block = max(1, _BLOCK_VALUES // max(M * per_pair, 1))
        parts = []
        for a in range(0, N, block):
            parts.append(self._block([x[a : a + block] for x in xs], ranks[a : a + block]))
        return [
            [np.concatenate([p[t][k] for p in parts]) for k in range(len(parts[0][t]))]
            for t in range(T)
        ]

    def _block(self, xs, ranks) -> list:
        n, T = ranks.shape
        M, device = self.data[0].shape[0], xs[0].device
        r = torch.arange(n * M, device=device)
        i, j = r // M, r % M  # example and background row of each pair
        x_rows = tuple(x.index_select(0, i) for x in xs)
        b_rows = tuple(d.index_select(0, j) for d in self.data)
        model = self.model
        calls = []
        for t in range(T):
            target = None if self._flat_output else ranks[:, t]
            calls.append(_Call(model, None, target, n, device).expand(i))
        shared = (tuple(self.data), j)
        if self.layer is None:
            mults, _, _ = _multipliers(calls, x_rows, b_rows, self.eps, None, shared)
            diffs = tuple(x - b for x, b in zip(x_rows, b_rows, strict=True))
        else:
            mults, _, _, (a_x, a_b) = _multipliers(
                calls, x_rows, b_rows, self.eps, None, shared, self.layer
            )
            diffs = tuple(u - v for u, v in zip(a_x, a_b, strict=True))
        out = []
        for m in mults:
            out.append(
                [
                    (g * d).reshape((n, M) + tuple(d.shape[1:])).mean(1).double().cpu().numpy()
                    for g, d in zip(m, diffs, strict=True)
                ]
            )
        return out

    def _check_additivity(self, phis, out, ranks) -> None:
        expected = torch.as_tensor(self.expected_value, dtype=torch.float64)
        f = out.detach().double().cpu()
        worst = 0.0
        for t, per_input in enumerate(phis):
            cols = ranks[:, t].cpu()
            total = sum(p.reshape(p.shape[0], -1).sum(1) for p in per_input)
            miss = f[torch.arange(f.shape[0]), cols] - expected[cols] - torch.from_numpy(total)
            worst = max(worst, float(miss.abs().max()))
        if worst >= _TOLERANCE:
            raise AdditivityError(
                f"the SHAP values miss f(x) - expected_value by up to {worst:.3g} (tolerance "
                f"{_TOLERANCE}): an operation of the model ran outside the DeepLIFT rules (a "
                "custom autograd Function, or one that bypasses torch's function overrides), or "
                "the model is random or depends on the batch. Check the model, or pass "
                "check_additivity=False to get the values anyway."
            )

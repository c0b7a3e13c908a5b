"""shap's ``GradientExplainer`` for PyTorch models: expected gradients, with shap's arguments,
shapes, and (for the same ``rseed``) shap's samples.

For every example and sample shap draws a background row ``b`` and a point ``t`` in [0, 1],
takes the gradient of the explained output at ``t x + (1 - t) b`` and averages
``gradient * (x - b)``; the draws come from :mod:`xai_fast.sampling.shap_gradient_draws`, so
the values are shap's. Where shap runs one batch of ``batch_size`` samples of one example per
output, here the samples of all examples are stacked into batches of ``batch_size`` rows and
every explained output is differentiated from the same forward.
"""

from __future__ import annotations

import numpy as np
import torch

from ..._validation import check_flag, check_int, explained_init, is_real
from ...sampling.shap_gradient_draws import shap_gradient_draws
from .. import _shap_torch as shp
from ._call import _autograd

__all__ = ["GradientExplainer"]


def _check_seed(rseed):
    if rseed is None:  # shap's draw from numpy's global generator: np.random.seed repeats it
        return int(np.random.randint(0, 1_000_000))  # noqa: NPY002
    seed = check_int(rseed, "rseed", 0, hint=" (the seed of the samples)")
    if seed >= 2**32:
        raise ValueError(f"rseed must be below 2**32 (numpy's seeds); got {seed}.")
    return seed


@explained_init
class GradientExplainer:
    """Expected gradients of a PyTorch model over a background data set (shap's API).

    Parameters
    ----------
    model : torch.nn.Module or (torch.nn.Module, torch.nn.Module)
        Takes the input tensors and returns ``(N, K)`` (or ``(N,)``); put in eval mode, as
        shap does. With ``(model, layer)`` the values are for the inputs of ``layer``, each
        sample's gradient times that input (shap's definition for layers).
    data : torch.Tensor or list of torch.Tensor, each (M, ...)
        Background examples (a list for a model with several inputs).
    session : None
        TensorFlow only; must be None.
    batch_size : int, default 50
        Sample rows per forward and backward pass.
    local_smoothing : float, default 0
        Standard deviation of Gaussian noise added to each example per sample (drawn from a
        generator seeded with ``rseed``; shap draws it from torch's global generator).
    """

    def __init__(self, model, data, session=None, batch_size=50, local_smoothing=0):
        if session is not None:
            raise TypeError(
                "session is a TensorFlow argument; this GradientExplainer explains PyTorch "
                "models. Leave it None."
            )
        self.model, self.layer = shp.model_and_layer(model, "GradientExplainer")
        if hasattr(self.model, "eval"):
            self.model.eval()
        self.model_inputs, self.multi_input = shp.background(data, "GradientExplainer")
        self.batch_size = check_int(batch_size, "batch_size", 1, hint=" (sample rows per pass)")
        if not is_real(local_smoothing) or not local_smoothing >= 0:
            raise ValueError(f"local_smoothing must be a number >= 0; got {local_smoothing!r}.")
        self.local_smoothing = float(local_smoothing)
        self.data = list(self.model_inputs)
        if self.layer is not None:
            self.data = list(shp.layer_inputs(self.model, self.layer, self.model_inputs))
        raw = shp.forward(self.model, self.model_inputs, "data")
        out = shp.outputs_2d(raw, "GradientExplainer")
        self._flat_output = raw.dim() == 1
        self.num_outputs = out.shape[1]
        self.multi_output = self.num_outputs > 1

    def shap_values(
        self,
        X,
        nsamples=200,
        ranked_outputs=None,
        output_rank_order="max",
        rseed=None,
        return_variances=False,
    ):
        """Expected-gradient values of every explained output.

        Parameters
        ----------
        X : torch.Tensor or list of torch.Tensor, each (N, ...)
        nsamples : int, default 200
            Samples per example.
        ranked_outputs : int, optional
            Explain only this many outputs per example, chosen by ``output_rank_order``.
        output_rank_order : {"max", "min", "max_abs"}, default "max"
        rseed : int, optional
            Seed of the samples (shap's for the same seed); when None, drawn from numpy's
            global generator as shap draws it (so after ``np.random.seed`` the values are
            shap's too).
        return_variances : bool, default False
            Also return, per rank, the variance of the sample values over ``sqrt(nsamples)``.

        Returns
        -------
        values : numpy.ndarray or list of numpy.ndarray
            Per explained tensor ``(N, ..., T)``, a list when there are several.
        variances : list, only with ``return_variances``
            One entry per rank: an array ``(N, ...)`` per input, a list for several inputs.
        ranks : torch.Tensor (N, T), only with ``ranked_outputs``
        """
        ns = check_int(nsamples, "nsamples", 1, hint=" (samples per example)")
        order = shp.check_rank_order(output_rank_order)
        seed = _check_seed(rseed)
        with_vars = check_flag(return_variances, "return_variances")
        with _autograd():
            xs = shp.torch_inputs(X, self.multi_input, self.model_inputs, "X")
            out = shp.outputs_2d(shp.forward(self.model, xs, "X"), "GradientExplainer")
            ranks = shp.output_ranks(out, ranked_outputs, order)
            phis, variances = self._values(xs, ranks, ns, seed)
        values = shp.shap_shaped(phis, len(self.data) > 1)
        result = (values,)
        if with_vars:
            result += ([v if self.multi_input else v[0] for v in variances],)
        if ranked_outputs is not None:
            result += (ranks,)
        return result[0] if len(result) == 1 else result

    # ------------------------------------------------------------------ computation
    def _points(self, xs, ns: int, seed: int):
        """The sample rows ``(N * ns, ...)`` per input, and ``x - b`` at each (model inputs)."""
        N, M = xs[0].shape[0], self.model_inputs[0].shape[0]
        rows, t = shap_gradient_draws(seed, N * ns, M)
        device = xs[0].device
        rows = torch.from_numpy(rows).to(device)
        ex = torch.arange(N, device=device).repeat_interleave(ns)
        gen = torch.Generator(device=device).manual_seed(seed)
        points, deltas = [], []
        for x, b in zip(xs, self.model_inputs, strict=True):
            shape = (-1,) + (1,) * (x.dim() - 1)  # t and 1 - t rounded to x's dtype, as shap's
            tt = torch.from_numpy(t).to(device=device, dtype=x.dtype).reshape(shape)
            ut = torch.from_numpy(1 - t).to(device=device, dtype=x.dtype).reshape(shape)
            xr = x.index_select(0, ex)
            if self.local_smoothing > 0:
                noise = torch.randn(xr.shape, generator=gen, dtype=xr.dtype, device=device)
                xr = xr + noise * self.local_smoothing
            br = b.index_select(0, rows)
            points.append(tt * xr + ut * br)
            deltas.append(xr - br)
        return points, deltas, ex

    def _values(self, xs, ranks, ns: int, seed: int):
        N, T = ranks.shape
        points, deltas, ex = self._points(xs, ns, seed)
        R = points[0].shape[0]
        samples = [[None] * len(self.data) for _ in range(T)]
        parts: list = [[[] for _ in self.data] for _ in range(T)]
        for a in range(0, R, self.batch_size):
            b = min(a + self.batch_size, R)
            rows = [p[a:b].detach().requires_grad_() for p in points]
            grads, wrt = self._gradients(rows, ranks.index_select(0, ex[a:b]))
            d = deltas if self.layer is None else None
            for t in range(T):
                for k, g in enumerate(grads[t]):
                    delta = d[k][a:b] if d is not None else wrt[k]
                    parts[t][k].append(g.double() * delta.double())
        phis, variances = [], []
        for t in range(T):
            for k in range(len(self.data)):
                s = torch.cat(parts[t][k]).reshape((N, ns) + tuple(parts[t][k][0].shape[1:]))
                samples[t][k] = s
            phis.append([s.mean(1).cpu().numpy() for s in samples[t]])
            bad = [int(np.any(~np.isfinite(v.reshape(N, -1)), axis=1).sum()) for v in phis[t]]
            if any(bad):
                raise ValueError(
                    f"the values of {max(bad)} of {N} examples came out NaN or inf for the "
                    f"explained output of rank {t}: the model returns NaN or inf (or its "
                    "gradients overflow) there, between the examples and the background. Check "
                    "the model on X and on data."
                )
            variances.append(
                [(s.var(1, unbiased=False) / np.sqrt(ns)).cpu().numpy() for s in samples[t]]
            )
        return phis, variances

    def _gradients(self, rows, cols):
        """Per rank, the gradients of the ranked outputs at ``rows`` (w.r.t. the rows, or the
        layer's inputs), and the layer's inputs (None without a layer)."""
        keep = []
        handle = None
        if self.layer is not None:
            handle = self.layer.register_forward_pre_hook(
                lambda m, args: keep.append(tuple(a for a in args if isinstance(a, torch.Tensor)))
            )
        try:
            out = self.model(*rows)
        finally:
            if handle is not None:
                handle.remove()
        out = out.unsqueeze(1) if self._flat_output else out
        wrt = rows if self.layer is None else keep[-1]
        T = cols.shape[1]
        r = torch.arange(out.shape[0], device=out.device)
        grads = []
        for t in range(T):
            y = out[r, cols[:, t].to(out.device)]
            g = torch.autograd.grad(y.sum(), wrt, allow_unused=True, retain_graph=t < T - 1)
            grads.append(
                [torch.zeros_like(w) if v is None else v for w, v in zip(wrt, g, strict=True)]
            )
        return grads, (None if self.layer is None else [w.detach() for w in wrt])

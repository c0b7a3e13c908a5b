"""The one hook mechanism of the layer methods: :class:`_LayerHooks`.

For the forwards run inside ``with _LayerHooks(...)``, each layer's positional tensor inputs (a
forward pre-hook) or its output tensors (a forward hook) are recorded, and clones, or the given
replacements, go on downstream (so in-place operations after the layer cannot change what was
recorded). A layer must run exactly once per forward: a second run raises ``ValueError`` (a
module used at several places would mix its uses), and so does a layer that did not run. The
hooks are removed on leaving the block, also on error.
"""

from __future__ import annotations

import torch

__all__ = ["_LayerHooks", "_check_layers"]

MODES = ("keep", "grad", "replace")


def _check_layers(layer, many: bool = False) -> tuple[tuple[torch.nn.Module, ...], bool]:
    """The layers as a tuple and whether a list was given (only where ``many`` allows one)."""
    if many and isinstance(layer, list):
        if not layer:
            raise ValueError("layer is an empty list; pass a torch.nn.Module or a list of them.")
        layers = tuple(layer)
    else:
        layers = (layer,)
    for m in layers:
        if not isinstance(m, torch.nn.Module):
            kinds = "a torch.nn.Module or a list of them" if many else "a torch.nn.Module"
            raise TypeError(
                f"layer must be {kinds} of the model (e.g. model.conv2); got {type(m).__name__}."
            )
    if len({id(m) for m in layers}) != len(layers):
        raise ValueError("layer lists the same module twice; pass each layer once.")
    return layers, many and isinstance(layer, list)


def _describe(layer, model) -> str:
    names = {}
    if isinstance(model, torch.nn.Module):
        names = {id(m): n for n, m in model.named_modules()}
    name = names.get(id(layer))
    return f"{type(layer).__name__}" + (f" '{name}'" if name else "")


class _LayerHooks:
    """Hooks on ``layers`` for the forwards of one ``with`` block.

    Parameters
    ----------
    layers : tuple of torch.nn.Module
    to_input : bool
        Hook each layer's positional tensor inputs instead of its output tensors.
    mode : {"keep", "grad", "replace"}
        ``"keep"``: record the layer's tensors as they are. ``"grad"``: record them as tensors
        that require gradients (a detached leaf where they have none), so that the output can
        be differentiated with respect to them. ``"replace"``: record and pass on
        ``replacements`` instead of the layer's tensors.
    replacements : list of tuple of torch.Tensor, optional
        With ``"replace"``: per layer, one tensor per layer tensor, the same shapes.
    model : optional
        The model, to name the layers in errors.
    prefix_grad : bool, default False
        Run the forward without gradients up to the first hooked layer and with them after it
        (the graph before the layer is never needed when differentiating with respect to it).
        Only where every hooked tensor is a leaf: one layer in ``"grad"`` mode, or ``"replace"``.

    Attributes
    ----------
    values : list of tuple of torch.Tensor
        Per layer, the tensors recorded in the last forward (``(R, ...)`` each).
    is_tuple : list of bool
        Per layer, whether its inputs / output are several tensors.
    """

    def __init__(
        self, layers, to_input: bool, mode: str, replacements=None, model=None, prefix_grad=False
    ):
        if mode not in MODES:  # pragma: no cover - internal
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
        self.layers, self.to_input, self.mode = tuple(layers), to_input, mode
        self.replacements, self.model = replacements, model
        self.prefix_grad = prefix_grad
        self.what = "input" if to_input else "output"

    # ------------------------------------------------------------------ context
    def __enter__(self):
        n = len(self.layers)
        self.values, self.is_tuple, self.runs = [None] * n, [False] * n, [0] * n
        self.handles = []
        self._grad = torch.is_grad_enabled()
        try:
            for k, layer in enumerate(self.layers):
                if self.to_input:
                    h = layer.register_forward_pre_hook(self._pre_hook(k))
                else:
                    h = layer.register_forward_hook(self._hook(k))
                self.handles.append(h)
        except BaseException:
            self._remove()
            raise
        if self.prefix_grad:
            torch.set_grad_enabled(False)
        return self

    def __exit__(self, *exc):
        self._remove()
        torch.set_grad_enabled(self._grad)
        return False

    def _remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    # ------------------------------------------------------------------ hooks
    def _pre_hook(self, k):
        def hook(module, args):
            at = [p for p, a in enumerate(args) if isinstance(a, torch.Tensor)]
            new = self._take(k, tuple(args[p] for p in at), len(at) > 1)
            out = list(args)
            for p, t in zip(at, new, strict=True):
                out[p] = t
            return tuple(out)

        return hook

    def _hook(self, k):
        def hook(module, args, out):
            if isinstance(out, torch.Tensor):
                return self._take(k, (out,), False)[0]
            if (
                isinstance(out, (tuple, list))
                and out
                and all(isinstance(t, torch.Tensor) for t in out)
            ):
                return type(out)(self._take(k, tuple(out), True))
            kinds = [type(t).__name__ for t in out] if isinstance(out, (tuple, list)) else None
            raise TypeError(
                f"layer {_describe(module, self.model)} returned {type(out).__name__}"
                f"{f' of {kinds}' if kinds else ''}; layer attributions need a tensor or a tuple "
                "of tensors at the layer's output. Pick a submodule that returns tensors (for an "
                "LSTM, a module after it, or attribute_to_layer_input=True on the next layer)."
            )

        return hook

    def _take(self, k, tensors: tuple, is_tuple: bool) -> tuple:
        """Record layer ``k``'s tensors; the tensors to hand on downstream."""
        self.runs[k] += 1
        if self.runs[k] > 1:
            raise ValueError(
                f"the layer ran {self.runs[k]} times in one call of forward_func (layer "
                f"{_describe(self.layers[k], self.model)}); layer attributions need a submodule "
                "that runs exactly once per forward, as a module used at several places mixes "
                "its uses. Give each use its own module instance."
            )
        if not tensors:
            raise ValueError(
                f"layer {_describe(self.layers[k], self.model)} was called without positional "
                "tensor inputs; attribute_to_layer_input=True needs them."
            )
        self.is_tuple[k] = is_tuple
        if self.mode == "replace":
            new = self.replacements[k]
            if len(new) != len(tensors) or any(
                a.shape[1:] != b.shape[1:] for a, b in zip(new, tensors, strict=False)
            ):
                raise ValueError(
                    f"the layer's {self.what} has shapes {[tuple(t.shape) for t in tensors]} "
                    f"but its replacements {[tuple(t.shape) for t in new]}; the layer's "
                    f"{self.what} must not depend on the batch it runs in."
                )
            tensors = tuple(new)
        elif self.mode == "grad":
            for t in tensors:
                if not t.is_floating_point():
                    raise TypeError(
                        f"gradients need floating-point tensors at the layer's {self.what}; got "
                        f"{t.dtype} at layer {_describe(self.layers[k], self.model)}. Pick a "
                        "layer whose inputs / outputs are float tensors (for token ids, the "
                        "embedding layer's output)."
                    )
            tensors = tuple(t if t.requires_grad else t.detach().requires_grad_() for t in tensors)
        self.values[k] = tensors
        if self.prefix_grad:
            torch.set_grad_enabled(True)
        return tuple(t.clone() for t in tensors)

    # ------------------------------------------------------------------ after the forward
    def taken(self, k: int = 0) -> tuple:
        """Layer ``k``'s tensors of the last forward; ``ValueError`` if it did not run."""
        if self.runs[k] == 0:
            layer = self.layers[k]
            inside = not isinstance(self.model, torch.nn.Module) or any(
                m is layer for m in self.model.modules()
            )
            why = (
                "the forward did not call it (on these inputs)"
                if inside
                else "it is not a submodule of the model"
            )
            raise ValueError(
                f"the layer ran 0 times in one call of forward_func (layer "
                f"{_describe(layer, self.model)}): {why}. Pass a submodule the forward calls, "
                "e.g. model.conv2."
            )
        return self.values[k]

    def all_taken(self) -> list:
        """Every layer's tensors of the last forward."""
        return [self.taken(k) for k in range(len(self.layers))]

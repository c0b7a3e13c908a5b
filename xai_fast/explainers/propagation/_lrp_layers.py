"""The layers of an LRP call: which rule each leaf module gets, and the hooks that apply them.

:func:`_plan` maps every leaf module of the model to its rule (the user's ``module.rule``, the
default for its type, pass-through, or none for shape-only layers) and raises for a layer
without one. :class:`_Hooks` puts forward hooks on those layers for one forward pass and takes
them off when it ends, also when it raises. A hooked layer runs on detached copies of its
inputs, and its output is handed on through an autograd node (:class:`_Relevance` or
:class:`_PassOn`) with the layer's own output values, whose backward maps the relevance at the
output to the layer's inputs by the rule instead of the chain rule.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .lrp_rules import (
    Alpha1_Beta0_Rule,
    EpsilonRule,
    GammaRule,
    IdentityRule,
    PropagationRule,
)

__all__ = ["_Hooks", "_check_rules", "_plan"]

#: Layers that get the epsilon rule when they carry no rule.
_DEFAULT_EPSILON = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.MaxPool3d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AvgPool3d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
)
#: Activations whose output relevance goes to their input unchanged (any rule set is unused).
_PASS_THROUGH = (nn.ReLU, nn.Dropout, nn.Tanh)
#: Layers that only move values: the relevance follows their gradient.
_SHAPE_ONLY = (nn.Identity, nn.Flatten, nn.Unflatten)

_RULES = "EpsilonRule, GammaRule, Alpha1_Beta0_Rule or IdentityRule"


def _label(name: str, module) -> str:
    return f"`{name}` ({type(module).__name__})" if name else f"the model ({type(module).__name__})"


def _check_rule(name: str, module) -> PropagationRule | None:
    rule = getattr(module, "rule", None)
    if rule is None or isinstance(rule, PropagationRule):
        return rule
    hint = ""
    if any(c.__module__.startswith("captum") for c in type(rule).__mro__):
        ours = _from_captum(rule)
        if ours is not None:
            return ours
        hint = " (of captum's rules, EpsilonRule, GammaRule, Alpha1_Beta0_Rule and " + (
            "IdentityRule are read; write another as a PropagationRule subclass of ours)"
        )
    raise TypeError(
        f"the rule of layer {_label(name, module)} must be an LRP rule ({_RULES} from "
        f"xai_fast.explainers.propagation, or a PropagationRule subclass) or None; got "
        f"{type(rule).__name__}{hint}."
    )


def _from_captum(rule) -> PropagationRule | None:
    """Our rule equal to captum's built-in ``rule`` (same class name and settings), so that
    ``module.rule = captum's EpsilonRule(...)`` keeps working after the import swap; ``None``
    for other captum classes (a user's subclass: its own weights code is captum's API)."""
    name = type(rule).__name__
    if type(rule).__module__ != "captum.attr._utils.lrp_rules":
        return None  # a subclass (elsewhere) may change what the built-in rule does
    if name == "IdentityRule":
        return IdentityRule()
    if name == "EpsilonRule":
        return EpsilonRule(getattr(rule, "STABILITY_FACTOR", 1e-9))
    if name == "GammaRule":
        return GammaRule(rule.gamma, bool(getattr(rule, "set_bias_to_zero", False)))
    if name == "Alpha1_Beta0_Rule":
        return Alpha1_Beta0_Rule(bool(getattr(rule, "set_bias_to_zero", False)))
    return None


def _check_rules(model: nn.Module) -> None:
    """TypeError for a ``rule`` attribute, anywhere in ``model``, that is no rule."""
    for name, module in model.named_modules():
        _check_rule(name, module)


def _is_addition(module) -> bool:
    """captum's ``Addition_Module`` (an epsilon-rule layer there), recognised by name."""
    cls = type(module)
    return cls.__name__ == "Addition_Module" and cls.__module__.startswith("captum")


def _plan(model: nn.Module) -> list[tuple[str, nn.Module, PropagationRule | None]]:
    """``(name, module, rule)`` of every leaf module that is hooked; ``rule`` None passes
    the relevance through. The model itself is the one layer when it has no children."""
    leaves = [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
    out = []
    for name, module in leaves:
        rule = _check_rule(name, module)
        if isinstance(module, _PASS_THROUGH):
            out.append((name, module, None))
        elif rule is not None:
            out.append((name, module, rule))
        elif isinstance(module, _DEFAULT_EPSILON) or _is_addition(module):
            out.append((name, module, EpsilonRule()))
        elif not isinstance(module, _SHAPE_ONLY):
            raise TypeError(
                f"LRP has no default rule for layer {_label(name, module)}. Layers with one: "
                "Linear, Conv1d/2d/3d, max / average pooling and BatchNorm1d/2d/3d (epsilon "
                "rule); ReLU, Dropout and Tanh pass relevance through. Set a rule on it if one "
                f"fits the layer, e.g. model.{name or '<layer>'}.rule = EpsilonRule() (or "
                "IdentityRule() to pass relevance through an elementwise layer)."
            )
    for name, module, _ in out:
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.training:
            raise ValueError(
                f"layer {_label(name, module)} is in training mode, where batch norm mixes the "
                "examples of a batch and updates its running statistics; call model.eval() "
                "before attributing."
            )
    return out


def _modified_forward(module: nn.Module, params: dict, guard):
    """The layer evaluated with ``params`` in place of its own tensors; the module is not
    written to for linear, convolution and batch-norm layers."""
    w = params.get("weight", getattr(module, "weight", None))
    b = params.get("bias", getattr(module, "bias", None))
    if type(module) is nn.Linear:
        return lambda x: F.linear(x, w, b)
    if type(module) in (nn.Conv1d, nn.Conv2d, nn.Conv3d):
        return lambda x: module._conv_forward(x, w, b)
    if (
        isinstance(module, nn.modules.batchnorm._BatchNorm)
        and not module.training
        and module.running_mean is not None
    ):
        rm, rv, eps = module.running_mean, module.running_var, module.eps
        return lambda x: F.batch_norm(x, rm, rv, w, b, False, 0.0, eps)

    def call(*args):  # any other layer: torch.func swaps the tensors in for the call only
        with guard():
            return torch.func.functional_call(module, params, args)

    return call


class _Relevance(torch.autograd.Function):
    """Forward: the layer's output (``state[3]``). Backward: ``a * J^T (R / (z + eps sign z))``
    for every input ``a``; ``state[:3]`` holds ``z`` (with its graph from the detached inputs),
    those inputs and the denominator."""

    @staticmethod
    def forward(ctx, state, *inputs):
        ctx.state = state[:3]
        return state[3]

    @staticmethod
    def backward(ctx, R):
        z, leaves, den = ctx.state
        del ctx.state
        wanted = [i for i, t in enumerate(leaves) if t.requires_grad]
        if not wanted or not z.requires_grad:
            return (None,) * (1 + len(leaves))
        with torch.enable_grad():
            grads = torch.autograd.grad(z, [leaves[i] for i in wanted], R / den, allow_unused=True)
        out: list = [None] * len(leaves)
        for i, g in zip(wanted, grads, strict=True):
            if g is not None:
                out[i] = leaves[i].detach() * g
        return (None, *out)


class _PassOn(torch.autograd.Function):
    """Forward: the layer's output ``value[0]``. Backward: the relevance at the output, to
    every input unchanged (pass-through activations, IdentityRule)."""

    @staticmethod
    def forward(ctx, value, *inputs):
        ctx.n = len(inputs)
        return value[0]

    @staticmethod
    def backward(ctx, R):
        return (None,) + (R,) * ctx.n


def _sign(z: torch.Tensor) -> torch.Tensor:
    return torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


class _Hooks:
    """Forward hooks on the planned layers for the duration of a ``with`` block.

    A layer that runs more than once gets one autograd node per run, each with the inputs of
    that run (the rule applies to every use of the layer).

    ``error`` keeps the first error a hook raised, so that the caller can raise it as it is
    rather than as a failure of the model.
    """

    def __init__(self, plan, verbose: bool = False):
        self.plan, self.verbose = plan, verbose
        self.handles: list = []
        self.error: Exception | None = None
        self._pending: dict[int, list] = {}
        self._off = 0

    def __enter__(self):
        try:
            for name, module, rule in self.plan:
                self.handles.append(module.register_forward_pre_hook(self._pre(rule)))
                self.handles.append(module.register_forward_hook(self._post(name, rule)))
                if self.verbose and rule is not None:
                    print(f"Applied {rule!r} on layer {name or 'model'} ({type(module).__name__})")
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, *exc):
        self._remove()
        return False

    def _remove(self):
        while self.handles:
            self.handles.pop().remove()

    def guard(self):
        hooks = self

        class _Off:
            def __enter__(self):
                hooks._off += 1

            def __exit__(self, *exc):
                hooks._off -= 1

        return _Off()

    def _pre(self, rule):
        grad = rule is not None and not rule.passes_relevance

        def hook(module, args):
            if self._off:
                return None
            copy = getattr(module, "inplace", False)  # an in-place layer must not write to args
            bases = tuple(
                t.detach().requires_grad_(grad and t.is_floating_point())
                if isinstance(t, torch.Tensor)
                else t
                for t in args
            )
            self._pending.setdefault(id(module), []).append((args, bases))
            if not copy:
                return bases
            return tuple(t.clone() if isinstance(t, torch.Tensor) else t for t in bases)

        return hook

    def _post(self, name: str, rule):
        def hook(module, given, out):
            if self._off:
                return None
            args, bases = self._pending[id(module)].pop()
            try:
                return self._apply(name, module, rule, args, bases, out)
            except Exception as err:
                self.error = self.error or err
                raise

        return hook

    def _apply(self, name, module, rule, args, bases, out):
        label = _label(name, module)
        if not isinstance(out, torch.Tensor):
            raise TypeError(
                f"layer {label} returned {type(out).__name__}; LRP rules need layers that "
                "return one tensor."
            )
        tensors = tuple(a for a in args if isinstance(a, torch.Tensor))
        if rule is None or rule.passes_relevance:
            bad = [tuple(t.shape) for t in tensors if t.shape != out.shape]
            if bad:
                what = "pass-through layers" if rule is None else "IdentityRule"
                raise ValueError(
                    f"{what} hand the relevance on unchanged, so layer {label} must return the "
                    f"shape of its inputs; it maps {bad} to {tuple(out.shape)}."
                )
            return _PassOn.apply([out.detach()], *tensors)
        params = rule.modified_parameters(module)
        if not isinstance(params, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in params.items()
        ):
            raise TypeError(
                f"{type(rule).__name__}.modified_parameters must return a dict of parameter "
                f"names to tensors; got {type(params).__name__} for layer {label}."
            )
        ins = tuple(a for a in bases if isinstance(a, torch.Tensor))
        if params:
            with torch.enable_grad():
                z = _modified_forward(module, params, self.guard)(*bases)
        else:
            z = out
        if not isinstance(z, torch.Tensor) or z.shape != out.shape:
            raise ValueError(
                f"layer {label} evaluated with the parameters of {rule!r} returned "
                f"{getattr(z, 'shape', type(z).__name__)}, not the shape {tuple(out.shape)}."
            )
        zd = z.detach()
        den = zd + rule.STABILITY_FACTOR * _sign(zd)
        return _Relevance.apply([z, ins, den, out.detach().clone()], *tensors)

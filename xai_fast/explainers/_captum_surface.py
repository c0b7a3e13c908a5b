"""The parts of captum's ``Attribution`` interface every captum-style method here answers."""

from __future__ import annotations

import types

from .._validation import explained_init

__all__ = ["CaptumSurface"]


def _undecorated_copy(fn):
    """A copy of function ``fn`` (same code, defaults and closure), for ``__wrapped__``."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                              fn.__closure__)  # fmt: skip
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__doc__, copy.__qualname__ = fn.__doc__, fn.__qualname__
    return copy


class CaptumSurface:
    """captum's queries and its asynchronous entry point, the same for every method."""

    multiplies_by_inputs = False  # captum's flag: whether attributions scale with the inputs

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # captum's wrappers (its NoiseTunnel) call ``method.attribute.__wrapped__(method, ...)``,
        # the undecorated function behind captum's logging decorator: give ours one (a copy,
        # so that inspect.unwrap stops there)
        fn = cls.__dict__.get("attribute")
        if isinstance(fn, types.FunctionType) and not hasattr(fn, "__wrapped__"):
            fn.__wrapped__ = _undecorated_copy(fn)
        explained_init(cls)  # unknown constructor arguments: say which ones it takes

    def has_convergence_delta(self) -> bool:
        """Whether ``attribute`` can return convergence deltas (captum's query)."""
        return False

    def attribute_future(self, *args, **kwargs):
        """captum's asynchronous variant of ``attribute`` (forwards returning futures): not
        implemented, as in captum's methods of this kind; call ``attribute``."""
        raise NotImplementedError(
            f"{type(self).__name__}.attribute_future is not implemented; call attribute(...) "
            "with a forward that returns tensors."
        )

"""Which torch operations DeepLift lets through, and with which rule.

Operations are named by ``__name__`` (``torch.relu``, ``Tensor.relu`` and ``F.relu`` share
``"relu"``; an in-place name ends in ``_``). Only calls with an operand that depends on the
explained inputs are looked up; any name in none of these tables raises, so an operation the
rules do not know never yields a silently wrong answer.
"""

from __future__ import annotations

import torch.nn.functional as F

__all__ = [
    "CREATION",
    "DIVISION",
    "LINEAR",
    "MAXPOOL",
    "PATH",
    "PRODUCT",
    "RESCALE",
    "TRAINING",
    "op_name",
]

#: Elementwise nonlinearities: the rescale rule.
RESCALE = frozenset(
    """relu relu6 leaky_relu rrelu elu selu celu silu gelu mish softplus sigmoid tanh hardtanh
    hardswish hardsigmoid logsigmoid log_sigmoid _threshold softsign tanhshrink softshrink
    hardshrink threshold exp expm1 exp2 log log1p log2 log10 sqrt rsqrt abs square erf erfc sin
    cos atan asinh sinh cosh clamp clip clamp_min clamp_max reciprocal pow __pow__ __rpow__
    prelu""".split()
)

#: Affine in the varying operands (structure, sums, pooling by averages, normalisation with
#: fixed statistics). ``batch_norm`` and the dropouts are checked for training mode first.
LINEAR = frozenset(
    """add sub rsub neg negative positive __add__ __radd__ __iadd__ __sub__ __rsub__ __isub__
    __neg__ __pos__ sum mean cat concat concatenate stack hstack vstack dstack view view_as
    reshape reshape_as flatten unflatten permute transpose swapaxes swapdims t squeeze unsqueeze
    expand expand_as broadcast_to contiguous clone __getitem__ split split_with_sizes chunk
    tensor_split narrow select index_select unbind flip fliplr flipud roll rot90 repeat tile
    movedim moveaxis pad avg_pool1d avg_pool2d avg_pool3d adaptive_avg_pool1d adaptive_avg_pool2d
    adaptive_avg_pool3d interpolate upsample upsample_nearest upsample_bilinear pixel_shuffle
    pixel_unshuffle unfold fold to type float double half bfloat16 cpu cuda identity trace diag
    diagonal tril triu cumsum batch_norm dropout dropout1d dropout2d dropout3d alpha_dropout
    feature_alpha_dropout masked_fill gather take_along_dim where embedding""".split()
)
# ``embedding`` varies only through integer ids (token inputs before an embedding layer): its
# rows are looked up, never differentiated; the rules apply from the layer on.

#: Multilinear in their tensor operands: linear with one varying operand; with two to four, the
#: path rule at two Gauss-Legendre points (exact: the gradient is at most cubic on the path).
PRODUCT = frozenset(
    """mul multiply __mul__ __rmul__ __imul__ matmul __matmul__ __rmatmul__ mm bmm mv dot vdot
    outer inner einsum tensordot linear bilinear conv1d conv2d conv3d conv_transpose1d
    conv_transpose2d conv_transpose3d addmm addbmm baddbmm addmv""".split()
)

#: Division: linear in a varying numerator; a varying denominator alone is elementwise (the
#: rescale rule), both varying is refused.
DIVISION = frozenset(
    "div divide true_divide __truediv__ __itruediv__ __div__ __rtruediv__ __rdiv__".split()
)

#: Multi-input nonlinearities over one slice: the path rule with exact conservation per slice.
PATH = frozenset("softmax log_softmax layer_norm".split())

#: Outputs that do not depend on the operand's values.
CREATION = frozenset(
    """zeros_like ones_like full_like empty_like new_zeros new_ones new_full new_empty size dim
    numel __len__ __get__ is_floating_point is_contiguous stride element_size""".split()
)

#: Names whose ``training`` flag must be off (``rrelu`` draws its slopes in training).
TRAINING = frozenset(
    """rrelu batch_norm dropout dropout1d dropout2d dropout3d alpha_dropout
    feature_alpha_dropout""".split()
)

#: Max pooling: the function to call, with indices, and its number of pooled axes.
MAXPOOL = {
    F.max_pool1d: (F.max_pool1d_with_indices, 1),
    F.max_pool2d: (F.max_pool2d_with_indices, 2),
    F.max_pool3d: (F.max_pool3d_with_indices, 3),
    F.max_pool1d_with_indices: (F.max_pool1d_with_indices, 1),
    F.max_pool2d_with_indices: (F.max_pool2d_with_indices, 2),
    F.max_pool3d_with_indices: (F.max_pool3d_with_indices, 3),
    F.adaptive_max_pool1d: (F.adaptive_max_pool1d_with_indices, 1),
    F.adaptive_max_pool2d: (F.adaptive_max_pool2d_with_indices, 2),
    F.adaptive_max_pool3d: (F.adaptive_max_pool3d_with_indices, 3),
    F.adaptive_max_pool1d_with_indices: (F.adaptive_max_pool1d_with_indices, 1),
    F.adaptive_max_pool2d_with_indices: (F.adaptive_max_pool2d_with_indices, 2),
    F.adaptive_max_pool3d_with_indices: (F.adaptive_max_pool3d_with_indices, 3),
}


def op_name(func) -> str:
    """The table name of ``func``: its ``__name__``, the in-place ``_`` kept."""
    return getattr(func, "__name__", None) or repr(func)

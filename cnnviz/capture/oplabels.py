"""The label of a box for a functional op cnnviz has no layer for (torch-free).

A ``custom`` box is labelled by its module's class (``MultiheadAttention``); a functional
op has no class, and torch's own name (``view``, ``__getitem__``, ``cat``) says little in
a picture.  :data:`LABELS` says what it is instead, by what the op does to its shapes and
whether it holds parameters: ViT's ``cat`` of a learned vector is its class token, its
``add`` of a learned table the position embedding."""

from __future__ import annotations

from collections.abc import Callable

from .ops import Op


def _ins(op: Op) -> tuple[int, ...]:
    return op.in_shapes[0] if op.in_shapes else ()


# what an op must be for a row to apply
WHEN: dict[str, Callable[[Op], bool]] = {
    "learned": lambda op: op.params > 0,  # it reads parameters of its own
    "to tokens": lambda op: len(_ins(op)) == 3 and len(op.shape) == 2,  # [C, H, W] → a sequence
    "one token": lambda op: len(_ins(op)) == 2 and len(op.shape) == 1,  # [tokens, features] → [features]
    "any": lambda op: True,
}

RESHAPES = ("view", "flatten", "reshape", "unflatten", "permute", "transpose", "contiguous", "squeeze", "unsqueeze")

# (torch's names, when, label): the first row that applies gives the label; {size} is the output's H×W
LABELS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("cat",), "learned", "Class token"),
    (("add",), "learned", "Position embedding"),
    (("getitem", "__getitem__", "select"), "one token", "Select token"),
    (("getitem", "__getitem__", "slice"), "any", "Slice"),
    (("view", "flatten", "reshape"), "to tokens", "Patches to tokens"),
    (RESHAPES, "any", "Reshape"),
    (("adaptive_avg_pool2d",), "any", "Adaptive avg pool {size}"),
    (("adaptive_max_pool2d",), "any", "Adaptive max pool {size}"),
    (("pad",), "any", "Pad"),
    (("roll",), "any", "Cyclic shift"),
    (("cat",), "any", "Concatenate"),
    (("add",), "any", "Add"),
    (("mul",), "any", "Multiply"),
    (("matmul", "bmm"), "any", "Matrix product"),
    (("layer_norm",), "any", "Layer norm"),
    (("softmax",), "any", "Softmax"),
)

# labels of boxes that only rearrange values (no parameters): neighbours of these are one box
REARRANGING = frozenset(label for names, _, label in LABELS if set(names) <= set(RESHAPES))


def op_label(op: Op) -> str:
    """The label of a box for the functional op ``op``: readable, else torch's name."""
    size = "×".join(str(d) for d in op.shape[1:])
    for names, when, label in LABELS:
        if op.fn in names and WHEN[when](op):
            return label.format(size=size)
    return op.fn

"""The labels of boxes for functional ops (cnnviz.capture.oplabels): readable, by what the op does."""

from __future__ import annotations

import pytest

from cnnviz.capture.oplabels import LABELS, REARRANGING, WHEN, op_label
from cnnviz.capture.ops import Op


def op(fn: str, ins: tuple[int, ...], out: tuple[int, ...], params: int = 0) -> Op:
    return Op(0, (), [-1], out, fn=fn, in_shapes=[ins], params=params)


@pytest.mark.parametrize(
    "fn, ins, out, params, label",
    [
        # ViT-B/16 (torchvision), in order: patches to tokens, the class token, the position embedding, the token taken out
        ("view", (768, 14, 14), (768, 196), 0, "Patches to tokens"),
        ("permute", (768, 196), (196, 768), 0, "Reshape"),
        ("cat", (196, 768), (197, 768), 768, "Class token"),
        ("add", (197, 768), (197, 768), 151296, "Position embedding"),
        ("__getitem__", (197, 768), (768,), 0, "Select token"),
        ("getitem", (197, 768), (768,), 0, "Select token"),  # as torch.export names it
        ("flatten", (16, 2, 2), (16, 4), 0, "Patches to tokens"),  # timm's flatten(2)
        ("transpose", (16, 4), (4, 16), 0, "Reshape"),
        # GoogLeNet's auxiliary head at 224x224: a 14x14 map pooled to 4x4 (no whole window: no avgpool)
        ("adaptive_avg_pool2d", (512, 14, 14), (512, 4, 4), 0, "Adaptive avg pool 4×4"),
        # without parameters, the same ops are what they are
        ("cat", (8, 4, 4), (16, 4, 4), 0, "Concatenate"),
        ("add", (8, 4, 4), (8, 4, 4), 0, "Add"),
        ("__getitem__", (8, 4, 4), (4, 4, 4), 0, "Slice"),
        ("roll", (56, 56, 96), (56, 56, 96), 0, "Cyclic shift"),  # Swin's shifted windows
        ("erf", (8,), (8,), 0, "erf"),  # an op the table does not know keeps torch's name
    ],
)
def test_an_ops_box_is_labelled_by_what_it_does(fn, ins, out, params, label):
    assert op_label(op(fn, ins, out, params)) == label


def test_every_row_of_the_table_can_apply():
    # a row after one that always applies to the same names would never give its label
    for k, (names, when, label) in enumerate(LABELS):
        assert when in WHEN, label
        shadowed = [other for other, w, _ in LABELS[:k] if w == "any" and set(names) <= set(other)]
        assert not shadowed, f"{label} comes after a row for {shadowed[0]} that always applies"


def test_rearranging_labels_are_only_those_of_reshapes():
    assert REARRANGING == {"Patches to tokens", "Reshape"}

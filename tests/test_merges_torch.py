"""The merges ``mul`` and ``split`` (and ``gap keep``, which squeeze-and-excitation needs), against torch built by hand.

Each row is a spec, its input shape, and a hand-built ``nn.Module`` computing the
same thing in plain torch (its parameters created in the order the spec writes its
layers).  The test checks that ``infer`` gives the hand-built module's parameter
count (``sum(p.numel())``) and output shape, then copies the built model's weights
into the hand-built module one tensor at a time (their shapes must agree) and checks
that both compute the same numbers.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnviz.graph import build_network
from cnnviz.model import Network
from cnnviz.shapes import build_model, infer
from cnnviz.spec import load_spec

C2, BN = nn.Conv2d, nn.BatchNorm2d


class SE(nn.Module):
    """Squeeze-and-excitation: the input times a per-channel gate computed from its global average."""

    def __init__(self, c: int, mid: int):
        super().__init__()
        self.reduce, self.expand = C2(c, mid, 1), C2(mid, c, 1)

    def forward(self, x):
        s = x.mean(dim=(2, 3), keepdim=True)
        return x * torch.sigmoid(self.expand(torch.relu(self.reduce(s))))


class Product(nn.Module):
    """Two convolutions of the same input, multiplied."""

    def __init__(self):
        super().__init__()
        self.a, self.b = C2(4, 8, 3, padding=1), C2(4, 8, 1)

    def forward(self, x):
        return self.a(x) * self.b(x)


class GateFirst(nn.Module):
    """The broadcast [C,1,1] written as the first branch."""

    def forward(self, x):
        return x.mean(dim=(2, 3), keepdim=True) * x


class ShuffleUnit(nn.Module):
    """ShuffleNet v2's unit: half the channels kept, half through 1x1, 3x3 depthwise, 1x1; concatenated, shuffled in 2 groups."""

    def __init__(self, c: int):
        super().__init__()
        h = c // 2
        self.branch = nn.Sequential(C2(h, h, 1, bias=False), BN(h), nn.ReLU(), C2(h, h, 3, 1, 1, groups=h, bias=False), BN(h), C2(h, h, 1, bias=False), BN(h), nn.ReLU())

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        y = torch.cat([a, self.branch(b)], dim=1)
        n, c, hh, ww = y.shape
        return y.view(n, 2, c // 2, hh, ww).transpose(1, 2).reshape(n, c, hh, ww)


class ThreeParts(nn.Module):
    """Three equal parts of the channels: a conv, kept as is, a max pool."""

    def __init__(self):
        super().__init__()
        self.conv = C2(2, 4, 1)

    def forward(self, x):
        a, b, c = x.split(2, dim=1)
        return torch.cat([self.conv(a), b, nn.functional.max_pool2d(c, 3, 1, 1)], dim=1)


ROWS: list[tuple[str, tuple[int, ...], object]] = [
    ("- mul: [identity, [gap keep, conv 8 1x1 relu, conv 32 1x1 sigmoid]]", (32, 7, 7), lambda: SE(32, 8)),
    ("- mul: [identity, [gap keep, conv 2 1x1 relu, conv 6 1x1 sigmoid]]", (6, 5, 3), lambda: SE(6, 2)),
    ("- mul: [conv 8 3x3, conv 8 1x1]", (4, 5, 5), lambda: Product()),
    ("- mul: [gap keep, identity]", (3, 4, 6), lambda: GateFirst()),
    (
        "- split: [identity, [conv 4 1x1 nobias bn relu, dwconv 3x3 nobias bn, conv 4 1x1 nobias bn relu]]\n  - shuffle 2",
        (8, 5, 7),
        lambda: ShuffleUnit(8),
    ),
    ("- split: [conv 4 1x1, identity, maxpool 3 /1 same]", (6, 5, 5), lambda: ThreeParts()),
]


def network(tmp_path, shape: tuple[int, ...], layers: str) -> Network:
    path = tmp_path / "net.yaml"
    path.write_text(f"name: t\ninput: {list(shape)}\nlayers:\n  {layers}\n", encoding="utf-8")
    return build_network(load_spec(path))


@pytest.mark.parametrize("layers, shape, hand", ROWS, ids=[r[0] for r in ROWS])
def test_merge_matches_torch_built_by_hand(tmp_path, layers, shape, hand):
    torch.manual_seed(0)
    net = network(tmp_path, shape, layers)
    ref: nn.Module = hand().eval()
    x = torch.randn(2, *shape)

    r = infer(net, verify=True)
    assert r.total == sum(p.numel() for p in ref.parameters())
    model = build_model(net).eval()
    built, mine = list(model.parameters()) + list(model.buffers()), list(ref.parameters()) + list(ref.buffers())
    assert [tuple(t.shape) for t in built] == [tuple(t.shape) for t in mine]
    with torch.no_grad():
        for b in built:
            if b.is_floating_point():
                b.copy_(torch.rand_like(b) + 0.5 if b.dim() == 1 else torch.randn_like(b))
        for b, m in zip(built, mine):
            m.copy_(b)
        want = ref(x)
        assert r.output_of(net) == tuple(want.shape[1:])
        assert torch.allclose(model(x), want, atol=1e-5)


def test_split_gives_each_branch_its_own_consecutive_part(tmp_path):
    net = network(tmp_path, (6, 2, 2), "- split: [identity, identity, identity]")
    r = infer(net)
    parts = [p for p, n in net.nodes.items() if n.type == "split"]
    assert [str(p) for p in parts] == ["split1.b1.input", "split1.b2.input", "split1.b3.input"]
    assert [r.shapes[p] for p in parts] == [(2, 2, 2)] * 3
    model = build_model(net).eval()
    x = torch.arange(6.0).view(1, 6, 1, 1).expand(1, 6, 2, 2)
    assert torch.equal(model.get_submodule("split1.b2.input")(x), x[:, 2:4])
    assert torch.equal(model(x), x)  # the parts, concatenated in order, are the input again

"""Small self-written PyTorch models for the import tests (no torchvision needed).

Each stands for one construct the importer must handle: residual blocks repeated,
concatenated towers, functional add/cat/mul, data-dependent control flow (export
fails, the hook fallback runs), an unknown layer, a DenseNet-like growing block."""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torch.nn import functional as F


def conv_bn(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Residual(nn.Module):
    """Two 3x3 convs added to a shortcut (a 1x1 projection when the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.down is None else self.down(x)))


class ResNetTiny(nn.Module):
    """Residual blocks: a projection block then identical blocks (folded ×N)."""

    def __init__(self, width: int = 8, blocks: int = 3, classes: int = 10):
        super().__init__()
        self.stem = conv_bn(3, width, 3)
        self.stage1 = nn.Sequential(*[Residual(width, width) for _ in range(blocks)])
        self.stage2 = nn.Sequential(Residual(width, 2 * width, 2), *[Residual(2 * width, 2 * width) for _ in range(blocks - 1)])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x):
        x = self.stage2(self.stage1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class Tower(nn.Module):
    """Inception-like: four towers concatenated."""

    def __init__(self, cin: int):
        super().__init__()
        self.b1 = conv_bn(cin, 8, 1)
        self.b3 = nn.Sequential(conv_bn(cin, 4, 1), conv_bn(4, 8, 3))
        self.b5 = nn.Sequential(conv_bn(cin, 4, 1), conv_bn(4, 8, 5))
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv_bn(cin, 8, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x)], 1)


class Towers(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2)
        self.mixed1 = Tower(16)
        self.mixed2 = Tower(32)
        self.mixed3 = Tower(32)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, 5))

    def forward(self, x):
        return self.head(self.mixed3(self.mixed2(self.mixed1(self.stem(x)))))


class Functional(nn.Module):
    """Functional ops only: F.relu, x + y, torch.cat, x * 0.5, flatten by view."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(3, 8, 1)
        self.c = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 3)

    def forward(self, x):
        y = F.relu(self.a(x)) + self.b(x)
        y = torch.cat([y, self.c(y) * 0.5], dim=1)
        y = F.max_pool2d(y, 2)
        return self.fc(y.view(y.size(0), -1))


class Gated(nn.Module):
    """Data-dependent control flow: torch.export cannot trace the branch on a value."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        y = self.conv(x)
        if y.mean() > 1e9:  # never true for a zero input; export refuses to guess
            y = y * 2
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


class Mystery(nn.Module):
    """A layer cnnviz has no word for: it must become a box with its exact parameters."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels, 3))
        self.mix = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x * self.weight.sum(1).view(1, -1, 1, 1) + self.mix


class WithMystery(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3)
        self.odd = Mystery(6)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * 6 * 6, 4))

    def forward(self, x):
        return self.head(self.odd(self.conv(x)))


class DenseLayer(nn.Module):
    """Adds ``growth`` channels to its input: its input width grows layer by layer."""

    def __init__(self, cin: int, growth: int = 4):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = nn.Conv2d(cin, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return torch.cat([x, self.conv(F.relu(self.bn(x)))], 1)


class DenseTiny(nn.Module):
    """Strict folding keeps the dense layers apart (their inputs differ); loose folds them."""

    def __init__(self, layers: int = 4):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.block = nn.Sequential(*[DenseLayer(8 + 4 * i) for i in range(layers)])
        self.fc = nn.Linear(8 + 4 * layers, 2)

    def forward(self, x):
        return self.fc(self.block(self.stem(x)).mean((2, 3)))


def channel_shuffle(x, groups: int):
    n, c, h, w = x.shape
    return torch.transpose(x.view(n, groups, c // groups, h, w), 1, 2).contiguous().view(n, c, h, w)


class ShuffleUnit(nn.Module):
    """ShuffleNet v2's unit: half the channels pass, half are transformed, then shuffled."""

    def __init__(self, channels: int):
        super().__init__()
        half = channels // 2
        self.branch = nn.Sequential(conv_bn(half, half, 1), nn.Conv2d(half, half, 3, padding=1, groups=half, bias=False), nn.BatchNorm2d(half))

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return channel_shuffle(torch.cat([a, self.branch(b)], 1), 2)


class ShuffleTiny(nn.Module):
    """Split, channel shuffle; with ``gate`` a branch on a value sends the capture to the hooks."""

    def __init__(self, gate: bool = False):
        super().__init__()
        self.gate = gate
        self.stem = conv_bn(3, 8, 3)
        self.units = nn.Sequential(ShuffleUnit(8), ShuffleUnit(8))
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        x = self.units(self.stem(x))
        if self.gate and x.mean() > 1e9:
            x = x * 2
        return self.fc(x.mean((2, 3)))


class WithAux(nn.Module):
    """An auxiliary classifier that runs only in training, returned beside the output."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8, 3)
        self.body = conv_bn(8, 16, 3, 2)
        self.aux = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        x = self.stem(x)
        aux = self.aux(x) if self.training else None
        out = self.fc(torch.flatten(F.adaptive_avg_pool2d(self.body(x), 1), 1))
        return (out, aux) if self.training else out


class Attention(nn.Module):
    """A pre-norm transformer block on [tokens, features]: attention and an MLP, each residual."""

    def __init__(self, dim: int, heads: int = 2):
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class QKVAttention(nn.Module):
    """Attention as timm writes it: one qkv Linear, unbind, F.scaled_dot_product_attention."""

    def __init__(self, dim: int, heads: int = 2):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, *_, **__):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        return (self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c)),)


class ViTTiny(nn.Module):
    """A vision transformer as torchvision writes it: patches, a class token, a position
    embedding, blocks on a token sequence, the class token's features to the head."""

    def __init__(self, dim: int = 16, depth: int = 3, patch: int = 4, size: int = 8, timm: bool = False):
        super().__init__()
        self.patches = nn.Conv2d(3, dim, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, (size // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[Attention(dim) for _ in range(depth)])
        for block in self.blocks if timm else ():
            block.attn = QKVAttention(dim)
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patches(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.ln(self.blocks(x))[:, 0])


def vit_timm(**kwargs) -> nn.Module:
    """ViTTiny with timm's attention (qkv.unbind(0))."""
    return ViTTiny(timm=True, **kwargs)


class MB(nn.Module):
    """An inverted residual without the residual: expand (when the ratio is over 1), depthwise, project."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int):
        super().__init__()
        mid = cin * expand
        layers = [conv_bn(cin, mid, 1)] if expand > 1 else []
        layers += [nn.Conv2d(mid, mid, kernel, padding=kernel // 2, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU()]
        self.block = nn.Sequential(*layers, conv_bn(mid, cout, 1))

    def forward(self, x):
        return self.block(x)


class Stage(nn.Module):
    """Layers named by their number (``layer1``, as DenseNet's ``denselayer1``), each wider
    than the last (so that they do not fold): a name made of an index."""

    def __init__(self, width: int, n: int):
        super().__init__()
        for i in range(n):
            self.add_module(f"layer{i + 1}", conv_bn(width + 2 * i, width + 2 * i + 2, 3))

    def forward(self, x):
        for layer in self.children():
            x = layer(x)
        return x


class Variants(nn.Module):
    """Blocks of one class that differ by a setting: the expansion, the kernel, the depth."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8, 3)
        self.blocks = nn.Sequential(MB(8, 8, 1, 3), MB(8, 12, 4, 3), MB(12, 16, 4, 5))
        self.stages = nn.Sequential(Stage(16, 2), Stage(20, 5))
        self.fc = nn.Linear(30, 2)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.stages(self.blocks(self.stem(x))), 1), 1))


class BatchNormAct(nn.BatchNorm2d):
    """timm's BatchNormAct2d: a batch norm module that calls F.batch_norm itself, then its activation."""

    def __init__(self, channels: int, act: bool = True):
        super().__init__(channels)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training, self.momentum, self.eps)
        return self.act(x)


def norm_act(channels: int, timm: bool, act: bool = True) -> nn.Module:
    return BatchNormAct(channels, act) if timm else nn.Sequential(nn.BatchNorm2d(channels), *([nn.SiLU()] if act else []))


class SE(nn.Module):
    def __init__(self, channels: int, timm: bool):
        super().__init__()
        self.timm = timm
        self.reduce = nn.Conv2d(channels, channels // 4, 1)
        self.expand = nn.Conv2d(channels // 4, channels, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True) if self.timm else F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.expand(F.silu(self.reduce(s))))


class DSConv(nn.Module):
    def __init__(self, channels: int, kernel: int, timm: bool):
        super().__init__()
        self.conv_dw = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, groups=channels, bias=False)
        self.bn1 = norm_act(channels, timm)
        self.se = SE(channels, timm)
        self.conv_pw = nn.Conv2d(channels, channels, 1, bias=False)
        self.bn2 = norm_act(channels, timm, act=False)

    def forward(self, x):
        return x + self.bn2(self.conv_pw(self.se(self.bn1(self.conv_dw(x)))))


class NormActNet(nn.Module):
    """EfficientNet blocks written as timm writes them (``timm=True``: BatchNormAct2d, a mean
    for the squeeze) or as torchvision does: both must give the same spec."""

    def __init__(self, timm: bool = True):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = norm_act(8, timm)
        self.blocks = nn.Sequential(DSConv(8, 3, timm), DSConv(8, 3, timm), DSConv(8, 5, timm))
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.blocks(self.bn(self.stem(x))), 1), 1))


class Permute(nn.Module):
    """torchvision's ops.Permute."""

    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(self.dims)


class TimmMlp(nn.Module):
    """timm's Mlp: Linear, GELU, Dropout(0), Identity (its norm), Linear, Dropout(0)."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.fc1, self.act, self.drop1 = nn.Linear(channels, hidden), nn.GELU(), nn.Dropout(0.0)
        self.norm, self.fc2, self.drop2 = nn.Identity(), nn.Linear(hidden, channels), nn.Dropout(0.0)

    def forward(self, x):
        return self.drop2(self.fc2(self.norm(self.drop1(self.act(self.fc1(x))))))


class NextBlock(nn.Module):
    """A ConvNeXt block as timm writes it (``timm=True``: permutes in forward, an Mlp module
    between them, the scale a multiplication) or as torchvision does (one Sequential with
    Permute modules, the scale a parameter times the result)."""

    def __init__(self, channels: int, timm: bool):
        super().__init__()
        self.timm = timm
        dw = nn.Conv2d(channels, channels, 7, padding=3, groups=channels)
        if timm:
            self.conv_dw, self.norm, self.mlp = dw, nn.LayerNorm(channels, eps=1e-6), TimmMlp(channels, 4 * channels)
            self.gamma = nn.Parameter(torch.ones(channels))
        else:
            self.block = nn.Sequential(dw, Permute([0, 2, 3, 1]), nn.LayerNorm(channels, eps=1e-6), nn.Linear(channels, 4 * channels),
                                       nn.GELU(), nn.Linear(4 * channels, channels), Permute([0, 3, 1, 2]))
            self.layer_scale = nn.Parameter(torch.ones(channels, 1, 1))

    def forward(self, x):
        if not self.timm:
            return x + self.layer_scale * self.block(x)
        y = self.mlp(self.norm(self.conv_dw(x).permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
        return x + y.mul(self.gamma.reshape(1, -1, 1, 1))


class NextTiny(nn.Module):
    """ConvNeXt, timm's layout by default: must give torchvision's spec (``timm=False``)."""

    def __init__(self, timm: bool = True):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 2, stride=2)
        self.blocks = nn.Sequential(*[NextBlock(8, timm) for _ in range(3)])
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


class Branchy(nn.Module):
    """A branch on the input's values: the zero input of the trace never takes it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.extra = nn.Conv2d(4, 4, 1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        y = self.conv(x)
        if x.abs().sum() > 0:
            y = self.extra(y)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


class Plain(nn.Module):
    """VGG's start: two convolutions written the same, the first on 3 channels, the second on 8."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class Sized(nn.Module):
    """Needs a constructor argument and warns when built (as torchvision's GoogLeNet does);
    ``gate`` adds a branch on a value, which sends the forward pass to CPU."""

    def __init__(self, width: int, gate: bool = False):
        super().__init__()
        warnings.warn("Sized: built", FutureWarning, stacklevel=2)
        self.gate = gate
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.fc = nn.Linear(width, 2)

    def forward(self, x):
        y = self.conv(x)
        if self.gate and y.mean() > 1e9:
            y = y * 2
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


class ReadsValues(Sized):
    """An initialisation that reads a value: cannot be built on the meta device."""

    def __init__(self):
        super().__init__(4)
        if float(self.conv.weight.abs().sum()) < 0:
            raise AssertionError("never")


class Offline(nn.Module):
    """A constructor that fails as a download does without a network."""

    def __init__(self):
        super().__init__()
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")


class FPNTiny(nn.Module):
    """A feature pyramid: four stages down, then top-down, each level the up-sampled level
    above plus a 1x1 lateral conv of its stage, smoothed by a 3x3 conv.  Returns the levels
    by name, finest first, as torchvision's FeaturePyramidNetwork does."""

    def __init__(self, width: int = 4, out: int = 8):
        super().__init__()
        widths = [width, 2 * width, 4 * width, 8 * width]
        self.stages = nn.ModuleList(conv_bn(cin, cout, 3, 2) for cin, cout in zip([3, *widths[:-1]], widths))
        self.lateral = nn.ModuleList(nn.Conv2d(c, out, 1) for c in widths)
        self.smooth = nn.ModuleList(nn.Conv2d(out, out, 3, padding=1) for _ in widths)

    def forward(self, x):
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        top = self.lateral[3](feats[3])
        levels = [self.smooth[3](top)]
        for i in (2, 1, 0):
            top = F.interpolate(top, scale_factor=2, mode="nearest") + self.lateral[i](feats[i])
            levels.insert(0, self.smooth[i](top))
        return dict(zip(["p2", "p3", "p4", "p5"], levels))


class TwoTasks(nn.Module):
    """A shared trunk and two heads, returned as a tuple (classes, a segmentation map), with
    the trunk's features last: three outputs, the last one a point of the main line."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(conv_bn(3, 8, 3), conv_bn(8, 16, 3, 2))
        self.classify = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5))
        self.segment = nn.Sequential(conv_bn(16, 8, 3), nn.Conv2d(8, 3, 1))

    def forward(self, x):
        x = self.trunk(x)
        return self.classify(x), self.segment(x), x


class Stages(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = conv_bn(3, 8, 3)
        self.b = conv_bn(8, 16, 3, 2)

    def forward(self, x):
        mid = self.a(x)
        return {"mid": mid, "last": self.b(mid)}


class InnerFeature(nn.Module):
    """A second output read from inside the backbone (its first stage), as torchvision's
    segmentation models read layer3 for their auxiliary output: the backbone, which gives
    two values, is written as its parts, so that the output leaves the main line."""

    def __init__(self):
        super().__init__()
        self.backbone = Stages()
        self.fc = nn.Conv2d(16, 4, 1)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        f = self.backbone(x)
        return self.fc(f["last"]), self.head(f["mid"])


class DoubleConv(nn.Module):
    """(conv 3x3, batch norm, ReLU) twice: a U-Net's step."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.double_conv = nn.Sequential(conv_bn(cin, cout, 3), conv_bn(cout, cout, 3))

    def forward(self, x):
        return self.double_conv(x)


class UNet(nn.Module):
    """A classic U-Net of three levels, its skips in its own forward: each encoder step's
    features are concatenated, in the decoder, with what a transposed conv brings up."""

    def __init__(self, channels: int = 3, classes: int = 2, width: int = 4, depth: int = 1):
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width]

        def step(cin: int, cout: int) -> nn.Module:  # depth > 1: identical double convs after the first, the last one read by the skip
            return DoubleConv(cin, cout) if depth == 1 else nn.Sequential(DoubleConv(cin, cout), *[DoubleConv(cout, cout) for _ in range(depth - 1)])

        self.enc1, self.enc2, self.enc3 = step(channels, w[0]), step(w[0], w[1]), step(w[1], w[2])
        self.pool = nn.MaxPool2d(2)
        self.bottom = DoubleConv(w[2], w[3])
        self.up3, self.dec3 = nn.ConvTranspose2d(w[3], w[2], 2, stride=2), DoubleConv(w[3], w[2])
        self.up2, self.dec2 = nn.ConvTranspose2d(w[2], w[1], 2, stride=2), DoubleConv(w[2], w[1])
        self.up1, self.dec1 = nn.ConvTranspose2d(w[1], w[0], 2, stride=2), DoubleConv(w[1], w[0])
        self.head = nn.Conv2d(w[0], classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        x = self.bottom(self.pool(e3))
        x = self.dec3(torch.cat([e3, self.up3(x)], dim=1))
        x = self.dec2(torch.cat([e2, self.up2(x)], dim=1))
        x = self.dec1(torch.cat([e1, self.up1(x)], dim=1))
        return self.head(x)


class Down(nn.Module):
    """Max pool, then a double conv (milesial/Pytorch-UNet's ``Down``)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(cin, cout))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    """Up-sample ``x1``, pad it to ``x2``'s size, concatenate the skip ``x2`` and it, double conv:
    the skip is an argument of the step, as most U-Nets on GitHub write it."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
        self.conv = DoubleConv(cin, cout)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        dy, dx = x2.size(2) - x1.size(2), x2.size(3) - x1.size(3)
        x1 = F.pad(x1, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class UNetModules(nn.Module):
    """The same U-Net with its steps as modules: ``Down`` and ``Up(x, skip)``."""

    def __init__(self, channels: int = 3, classes: int = 2, width: int = 4):
        super().__init__()
        self.inc = DoubleConv(channels, width)
        self.down1, self.down2, self.down3 = Down(width, 2 * width), Down(2 * width, 4 * width), Down(4 * width, 8 * width)
        self.up1, self.up2, self.up3 = Up(8 * width, 4 * width), Up(4 * width, 2 * width), Up(2 * width, width)
        self.outc = nn.Conv2d(width, classes, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.down3(x3)
        x = self.up1(x, x3)
        x = self.up2(x, x2)
        x = self.up3(x, x1)
        return self.outc(x)


class Blended(nn.Module):
    """A second output that adds two points of the main line: no head off one point, so the
    model is one box (its count exact)."""

    def __init__(self):
        super().__init__()
        self.a = conv_bn(3, 8, 3)
        self.b = conv_bn(8, 8, 3)
        self.fc = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        a = self.a(x)
        b = self.b(a)
        return self.fc(b), a + b


class PoolList(nn.Module):
    """A module without children that takes and gives lists (torchvision's LastLevelMaxPool)."""

    def forward(self, xs):
        return [*xs, F.max_pool2d(xs[-1], 1, 2, 0)]


class ExtraLevel(nn.Module):
    """A further output made inside a module that gives a list: no op records it, its shape is the tensor's."""

    def __init__(self):
        super().__init__()
        self.conv = conv_bn(3, 8, 3)
        self.extra = PoolList()

    def forward(self, x):
        feats = self.extra([self.conv(x)])
        return {"out": feats[0], "pool": feats[1]}


class LowHigh(nn.Module):
    """A backbone that gives two values: an early feature and the last one."""

    def __init__(self):
        super().__init__()
        self.a = conv_bn(3, 8, 3)
        self.b = conv_bn(8, 16, 3, 2)

    def forward(self, x):
        low = self.a(x)
        return {"low": low, "high": self.b(low)}


class SkipHead(nn.Module):
    """A head that takes both (torchvision's LRASPPHead): the last up-sampled, plus the early one."""

    def __init__(self):
        super().__init__()
        self.high = nn.Conv2d(16, 2, 1)
        self.low = nn.Conv2d(8, 2, 1)

    def forward(self, feats):
        return self.low(feats["low"]) + F.interpolate(self.high(feats["high"]), scale_factor=2, mode="bilinear")


class LowHighSeg(nn.Module):
    """Segmentation as LR-ASPP writes it: each module could be a box of its own; both are written
    as their parts instead, the early feature a reference."""

    def __init__(self):
        super().__init__()
        self.backbone = LowHigh()
        self.head = SkipHead()

    def forward(self, x):
        return self.head(self.backbone(x))


class SharedHeads(nn.Module):
    """Two further outputs, the second made from the first (a pooled pyramid level): a spec
    would count the layers they share twice, so the model is one box."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Conv2d(3, 8, 3, padding=1)
        self.p = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        t = self.trunk(x)
        p = self.p(t)
        return {"out": self.fc(t), "p": p, "pool": F.max_pool2d(p, 1, 2, 0)}


class SegTiny(InnerFeature):
    """Segmentation with an auxiliary output, as torchvision's ``fcn_resnet50(aux_loss=True)``:
    both read the backbone (the aux one its first stage), both scaled to the input size and
    returned as a dict ``out``, ``aux``."""

    def __init__(self):
        super().__init__()
        self.head = nn.Conv2d(8, 4, 1)  # as many classes as the main output

    def forward(self, x):
        f = self.backbone(x)
        size = x.shape[-2:]
        out = F.interpolate(self.fc(f["last"]), size=size, mode="bilinear")
        return {"out": out, "aux": F.interpolate(self.head(f["mid"]), size=size, mode="bilinear")}


class Detector(nn.Module):
    """Returns a list of dicts (boxes, labels, scores), as torchvision's detection models do:
    no tensor to draw; its ``backbone`` returns tensors."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(conv_bn(3, 8, 3, 2), conv_bn(8, 16, 3, 2))
        self.box = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        boxes = self.box(self.backbone(x)).flatten(1)
        return [{"boxes": b.reshape(-1, 4), "labels": b[:1].long(), "scores": b[:1]} for b in boxes]


class LastLevelPool(nn.Module):
    """torchvision's LastLevelMaxPool: a leaf that takes the levels and their names and returns
    both with one more level, pooled from the last (a tensor inside a nested result)."""

    def forward(self, levels, names):
        return levels + [F.max_pool2d(levels[-1], 1, 2, 0)], names + ["pool"]


class PooledLevels(nn.Module):
    """Two levels and their pooled extra one, returned by torchvision's keys ('0', '1', 'pool')."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = conv_bn(3, 4, 3, 2), conv_bn(4, 4, 3, 2)
        self.extra = LastLevelPool()

    def forward(self, x):
        a = self.c1(x)
        levels, names = self.extra([a, self.c2(a)], ["0", "1"])
        return dict(zip(names, levels))


class TwoInputs(nn.Module):
    """A forward pass that needs two tensors (an image and a mask)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x, mask):
        return self.conv(x) * mask


def resnet_tiny(width: int = 8) -> nn.Module:
    """A factory function, as torchvision writes them."""
    return ResNetTiny(width)


def configured(tag: str | None = None, gate: bool = False, width: int = 4) -> nn.Module:
    """Arguments of each YAML kind (text, null, a boolean, a number), which an ejected spec's
    reference line must give back as they were."""
    if tag is not None and not isinstance(tag, str):
        raise TypeError(f"tag must be text, got {type(tag).__name__}")
    return ResNetTiny(width, blocks=2 if gate else 3)


def create_model(model_name: str, **kwargs) -> nn.Module:
    """A generic factory, as timm's: the model is named by an argument."""
    return {"resnet_tiny": ResNetTiny, "towers": Towers, "hub/towers:v2": Towers}[model_name](**kwargs)


NOT_A_MODEL = 42

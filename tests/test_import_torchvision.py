"""Importing torchvision's models (marker ``torchvision``; skipped when torchvision is not installed).

Counts are checked against ``sum(p.numel())`` and the output against a forward pass on
the meta device; the folds against the catalogue's hand-written specs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from cnnviz import shapes  # noqa: E402
from cnnviz.capture import ModelRef, model_spec  # noqa: E402
from cnnviz.graph import build_network  # noqa: E402
from cnnviz.spec import Call, load_spec  # noqa: E402

pytestmark = pytest.mark.torchvision


@pytest.fixture(scope="module")
def tv():
    # torchvision's compiled ops may not load against the installed torch; the models
    # themselves do not need them, so their registration is skipped (in tests only)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.library, "register_fake", lambda *a, **k: (lambda f: f))
        return pytest.importorskip("torchvision")


def truth(tv, name: str) -> tuple[int, tuple[int, ...]]:
    with torch.device("meta"):
        m = getattr(tv.models, name)().eval()
        out = m(torch.empty(1, 3, 224, 224))
    return sum(p.numel() for p in m.parameters()), tuple(out.shape[1:])


@pytest.mark.parametrize(
    "name, fold",
    [
        ("resnet50", "strict"),
        ("resnext50_32x4d", "strict"),
        ("mobilenet_v2", "strict"),
        ("densenet121", "loose"),
        ("convnext_tiny", "strict"),
        ("efficientnet_b0", "strict"),
        ("mobilenet_v3_small", "strict"),
        ("shufflenet_v2_x1_0", "strict"),
        ("vit_b_16", "strict"),  # token sequences [197, 768] between custom boxes
        ("swin_t", "strict"),
    ],
)
def test_counts_are_exact(tv, name, fold):
    net = build_network(model_spec(ModelRef(f"torchvision.models:{name}", fold=fold)))
    r = shapes.infer(net)
    assert (r.total, tuple(r.output_of(net))) == truth(tv, name)


def repeats(spec) -> list[int]:
    return [i.repeat for i in spec.body if isinstance(i, Call)]


def test_resnet50_folds_like_the_catalogue(tv):
    spec = model_spec(ModelRef("torchvision.models:resnet50"))
    assert repeats(spec) == repeats(load_spec("resnet50")) == [1, 2, 1, 3, 1, 5, 1, 2]
    assert [i.label for i in spec.body if isinstance(i, Call)][:2] == ["Bottleneck (downsample)", "Bottleneck"]


def test_densenet121_folds_loosely(tv):
    spec = model_spec(ModelRef("torchvision.models:densenet121", fold="loose"))
    assert [i.args["n"] for i in spec.body if isinstance(i, Call) and i.label == "_DenseBlock"] == [6, 12, 24, 16]


def test_efficientnet_b0_stage_6_is_a_first_block_and_three(tv):
    spec = model_spec(ModelRef("torchvision.models:efficientnet_b0"))
    assert [(i.name, i.repeat) for i in spec.body if i.name.startswith("features_6")] == [("features_6_0", 1), ("features_6_1", 3)]


def test_vit_b_16_folds_its_twelve_encoder_blocks(tv):
    spec = model_spec(ModelRef("torchvision.models:vit_b_16"))
    encoder = next(i for i in spec.body if isinstance(i, Call) and i.label == "Encoder")
    assert [(i.label, i.repeat) for i in encoder.body if isinstance(i, Call)] == [("EncoderBlock", 12)]


def test_googlenet_aux_heads_are_drawn_and_counted_apart(tv):
    net = build_network(model_spec(ModelRef("torchvision.models:googlenet")))
    r = shapes.infer(net)
    assert (r.total, r.aux, r.total + r.aux) == (6624904, 6379984, truth(tv, "googlenet")[0])

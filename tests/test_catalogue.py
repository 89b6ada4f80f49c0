"""Every catalogue spec validates and matches its reference exactly.

The reference figures below are copied from the references the specs follow
(torchvision, timm, Keras, the papers), independently of the specs' own
``expect:`` sections, so that neither the specs nor the shape pass can drift.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cnnviz.graph import build_network
from cnnviz.registry import entries, list_models
from cnnviz.shapes import infer
from cnnviz.spec import load_spec

# id -> (params, params_aux, output)
REFERENCE = {
    "lenet5": (61_706, 0, (10,)),
    "alexnet": (60_965_224, 0, (1000,)),
    "vgg16": (138_357_544, 0, (1000,)),
    "vgg19": (143_667_240, 0, (1000,)),
    "nin": (7_595_176, 0, (1000,)),
    "inception_v1": (6_998_552, 6_379_728, (1000,)),
    "inception_v3": (23_834_568, 3_326_696, (1000,)),
    "resnet50": (25_557_032, 0, (1000,)),
    "resnet101": (44_549_160, 0, (1000,)),
    "resnet152": (60_192_808, 0, (1000,)),
    "xception": (22_855_952, 0, (1000,)),
    "inception_v4": (42_679_816, 0, (1000,)),
    "inception_resnet_v2": (55_843_464, 0, (1000,)),
    "resnext50": (25_028_904, 0, (1000,)),
    # beyond the article: counted with torch 2.13, torchvision 0.28 and timm 1.0.31
    "resnet18": (11_689_512, 0, (1000,)),
    "resnet34": (21_797_672, 0, (1000,)),
    "squeezenet1_1": (1_235_496, 0, (1000,)),
    "densenet121": (7_978_856, 0, (1000,)),
    "mobilenet_v1": (4_231_976, 0, (1000,)),
    "mobilenet_v2": (3_504_872, 0, (1000,)),
    "convnext_tiny": (28_589_128, 0, (1000,)),
    "mobilenet_v3_large": (5_483_032, 0, (1000,)),
    "efficientnet_b0": (5_288_548, 0, (1000,)),
    # U-Net has no library reference: a torch model built from the paper's Figure 1
    # (padded 3x3 convs with bias, 2x2 transposed convs, 1 channel in, 2 classes)
    "unet": (31_030_658, 0, (2, 256, 256)),
}

# id -> {stage name in the spec: shape}, from the references
STAGES = {
    "resnet50": {"conv2": (256, 56, 56), "conv3": (512, 28, 28), "conv4": (1024, 14, 14), "conv5": (2048, 7, 7)},
    "resnet101": {"conv4": (1024, 14, 14), "conv5": (2048, 7, 7)},
    "resnet152": {"conv4": (1024, 14, 14), "conv5": (2048, 7, 7)},
    # torchvision's maxpool, layer1..layer4
    "resnet18": {"pool1": (64, 56, 56), "conv2": (64, 56, 56), "conv3": (128, 28, 28), "conv4": (256, 14, 14), "conv5": (512, 7, 7)},
    "resnet34": {"pool1": (64, 56, 56), "conv2": (64, 56, 56), "conv3": (128, 28, 28), "conv4": (256, 14, 14), "conv5": (512, 7, 7)},
    # torchvision's features.0, .2, .4, .5, .7, .8, .10, .12 and classifier.1
    "squeezenet1_1": {
        "conv1": (64, 111, 111), "pool1": (64, 55, 55), "fire2_3": (128, 55, 55), "pool3": (128, 27, 27), "fire4_5": (256, 27, 27),
        "pool5": (256, 13, 13), "fire6_7": (384, 13, 13), "fire8_9": (512, 13, 13), "conv10": (1000, 13, 13),
    },
    # torchvision's features.pool0, denseblock1..4, transition1..3
    "densenet121": {
        "pool0": (64, 56, 56), "dense1": (256, 56, 56), "trans1": (128, 28, 28), "dense2": (512, 28, 28),
        "trans2": (256, 14, 14), "dense3": (1024, 14, 14), "trans3": (512, 7, 7), "dense4": (1024, 7, 7),
    },
    # timm's conv_stem and blocks.0 .. blocks.4
    "mobilenet_v1": {
        "conv1": (32, 112, 112), "conv2": (64, 112, 112), "conv3": (128, 56, 56), "conv4": (256, 28, 28),
        "conv5": (512, 14, 14), "conv6": (1024, 7, 7),
    },
    # torchvision's features.0, .1, .3, .6, .10, .13, .16, .17, .18
    "mobilenet_v2": {
        "stem": (32, 112, 112), "stage1": (16, 112, 112), "stage2": (24, 56, 56), "stage3": (32, 28, 28), "stage4": (64, 14, 14),
        "stage5": (96, 14, 14), "stage6": (160, 7, 7), "stage7": (320, 7, 7), "head": (1280, 7, 7),
    },
    # torchvision's features.0 .. features.7
    "convnext_tiny": {
        "stem_norm": (96, 56, 56), "stage1": (96, 56, 56), "down2": (192, 28, 28), "stage2": (192, 28, 28),
        "down3": (384, 14, 14), "stage3": (384, 14, 14), "down4": (768, 7, 7), "stage4": (768, 7, 7),
    },
    # torchvision's features.0, .1, .3, .6, .10, .12, .15, .16
    "mobilenet_v3_large": {
        "stem": (16, 112, 112), "bneck1": (16, 112, 112), "bneck3": (24, 56, 56), "bneck5_6": (40, 28, 28),
        "bneck9_10": (80, 14, 14), "bneck12": (112, 14, 14), "bneck14_15": (160, 7, 7), "head": (960, 7, 7),
    },
    # torchvision's features.0 .. features.8
    "efficientnet_b0": {
        "stem": (32, 112, 112), "stage1": (16, 112, 112), "stage2": (24, 56, 56), "stage3": (40, 28, 28), "stage4": (80, 14, 14),
        "stage5": (112, 14, 14), "stage6": (192, 7, 7), "stage7": (320, 7, 7), "head": (1280, 7, 7),
    },
    # the same model's levels, from 1x256x256
    "unet": {
        "enc1": (64, 256, 256), "enc2": (128, 128, 128), "enc3": (256, 64, 64), "enc4": (512, 32, 32), "bottom": (1024, 16, 16),
        "dec4": (512, 32, 32), "dec3": (256, 64, 64), "dec2": (128, 128, 128), "dec1": (64, 256, 256),
    },
}

MODELS = list_models()


def test_catalogue_is_complete():
    assert set(REFERENCE) <= set(MODELS), f"missing specs: {sorted(set(REFERENCE) - set(MODELS))}"


@pytest.mark.parametrize("model", MODELS)
def test_params_and_output_match_reference(model):
    assert model in REFERENCE, f"add {model}'s reference figures to REFERENCE"
    params, aux, output = REFERENCE[model]
    net = build_network(load_spec(model))
    r = infer(net, verify=True)  # checks the spec's own expect: section, and torch's meta forward agrees on every shape
    assert (r.total, r.aux, r.output_of(net)) == (params, aux, output)
    assert net.expect["params"] == params
    assert net.expect.get("params_aux", 0) == aux


@pytest.mark.parametrize("model", MODELS)
def test_stage_shapes(model):
    net = build_network(load_spec(model))
    r = infer(net)
    declared = net.expect.get("shapes", {})
    assert declared, f"{model} declares no stage shapes"
    for name, shape in {**declared, **STAGES.get(model, {})}.items():
        path = net.find(name)
        assert path is not None, f"{model} has no item '{name}'"
        assert r.shapes[net.item_exit(path)] == tuple(shape), name


@pytest.mark.parametrize("model", MODELS)
def test_metadata(model):
    spec = load_spec(model)
    for key in ("year", "paper", "reference", "novel"):
        assert spec.meta.get(key), f"{model}: missing {key}"
    assert spec.meta["paper"].get("title") and spec.meta["paper"].get("authors")


def test_aliases_resolve():
    assert load_spec("googlenet").id == "inception_v1"
    assert load_spec("resnext50_32x4d").id == "resnext50"


def test_list_is_in_article_order():
    years = [e["year"] for e in entries()]
    assert years == sorted(years)


@pytest.mark.parametrize("model", MODELS)
def test_the_built_model_has_the_inferred_parameters(model):
    import torch

    from cnnviz.shapes import build_model

    r = infer(model)
    with torch.device("meta"):  # no memory for the weights: only their count matters here
        built = build_model(model)
    assert sum(p.numel() for p in built.parameters()) == r.total + r.aux


# -- docs/spec-format.md's "Modern blocks" are the catalogue's text -------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"
SNIPPET = re.compile(r"<!-- from (arch_specs/[\w.]+\.yaml) -->\n```yaml\n(.*?)```", re.DOTALL)


def modern_blocks() -> list[tuple[str, str]]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("\n## Modern blocks\n", 1)[1].split("\n## ", 1)[0]
    return SNIPPET.findall(section)


def test_modern_blocks_cover_the_issue():
    sources = [src for src, _ in modern_blocks()]
    # SE and MBConv, the dense layer, the ConvNeXt block, U-Net with references
    assert sources == ["arch_specs/efficientnet_b0.yaml"] * 2 + [f"arch_specs/{n}.yaml" for n in ("densenet121", "convnext_tiny", "unet")]


@pytest.mark.parametrize(("source", "snippet"), modern_blocks(), ids=lambda v: v if v.endswith(".yaml") else "")
def test_modern_block_is_the_specs_text(source, snippet):
    spec = (DOCS.parent.parent / source).read_text(encoding="utf-8").splitlines()
    head, *body = snippet.splitlines()
    assert head in ("modules:", "layers:") and head in spec, f"{source} has no '{head}' line"
    start = spec.index(head)
    # the snippet's lines come after the key, one after the other, as the spec writes them
    assert any(spec[i : i + len(body)] == body for i in range(start + 1, len(spec))), f"not in {source}:\n{snippet}"
    assert isinstance(yaml.safe_load(snippet)[head[:-1]], (dict, list))


def test_readme_lists_every_catalogue_entry_with_its_count():
    readme = (DOCS.parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("\n## The catalogue\n", 1)[1].split("\n## ", 1)[0]
    listed, years = {}, {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip("|").split("|")]
        if not row.startswith("| `"):
            continue
        ids = re.findall(r"`(\w+)`", re.sub(r"\(.*?\)", "", cells[0]))  # the ids, not the (aliases)
        counts = [int(re.match(r"[\d,]+", c.strip())[0].replace(",", "")) for c in cells[-1].split(";")]
        assert len(ids) == len(counts), row
        listed.update(zip(ids, counts, strict=True))
        years.update(dict.fromkeys(ids, int(cells[2])))
    assert listed == {m: REFERENCE[m][0] for m in MODELS}
    assert years == {e["id"]: e["year"] for e in entries()}  # the year its spec gives (nin: ICLR 2014)


# -- the networks beyond the article use the vocabulary made for them, not stand-ins --

# id -> the layer types and merges its network must contain
VOCABULARY = {
    "mobilenet_v1": {"dwconv", "relu6"},
    "mobilenet_v2": {"dwconv", "relu6", "add"},
    "mobilenet_v3_large": {"dwconv", "hardswish", "hardsigmoid", "mul", "gap", "add"},
    "efficientnet_b0": {"dwconv", "silu", "sigmoid", "mul", "gap", "droppath", "add"},
    "convnext_tiny": {"dwconv", "layernorm", "gelu", "layerscale", "droppath", "add"},
    "densenet121": {"bn", "relu", "concat", "avgpool"},
    "unet": {"tconv", "concat"},
}


@pytest.mark.parametrize(("model", "types"), VOCABULARY.items())
def test_modern_networks_use_the_modern_vocabulary(model, types):
    net = build_network(load_spec(model))
    assert types <= {node.type for node in net.nodes.values()}
    assert not any(node.type == "conv" and node.params.get("groups", 1) > 1 for node in net.nodes.values()), "a grouped conv standing in for dwconv"
    se = [n for n in net.nodes.values() if n.type == "gap" and not n.params.get("keep")]
    assert "mul" not in types or len(se) == 1, "squeeze-and-excitation pools with 'gap keep'"


def test_unet_skips_are_references():
    net = build_network(load_spec("unet"))
    assert [ref.name for ref in net.refs.values()] == ["enc4", "enc3", "enc2", "enc1"]

"""Importing PyTorch models (issue 11): capture, fold, eject, round trip, exact counts.

The models are small self-written ones (tests/models/nets.py); each import is done
once per test session.  The ejected specs are golden files (``pytest --overwrite``)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

torch = pytest.importorskip("torch")

from cnnviz import shapes  # noqa: E402
from cnnviz.capture import ModelRef, eject, is_model_ref, model_spec, parse_args, parse_input  # noqa: E402
from cnnviz.cli import cli  # noqa: E402
from cnnviz.diff import diff  # noqa: E402
from cnnviz.errors import SpecError  # noqa: E402
from cnnviz.graph import build_network  # noqa: E402
from cnnviz.spec import Call, load_spec  # noqa: E402
from cnnviz.spec.layers import LAYERS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NETS = "tests/models/nets.py"  # relative, so that the golden files do not depend on the checkout's place
GOLDEN = ROOT / "tests" / "golden" / "import"
needs_custom = pytest.mark.skipif("custom" not in LAYERS, reason="needs the 'custom' layer type (vocabulary branch)")

# (class, input, fold)
CASES = [
    pytest.param("ResNetTiny", (3, 16, 16), "strict", id="residual-repeated"),
    pytest.param("Towers", (3, 16, 16), "strict", id="concat-towers"),
    pytest.param("Functional", (3, 8, 8), "strict", id="functional-ops"),
    pytest.param("Gated", (3, 8, 8), "strict", id="control-flow-fallback"),
    pytest.param("WithMystery", (3, 8, 8), "strict", id="unknown-layer", marks=needs_custom),
    pytest.param("DenseTiny", (3, 8, 8), "strict", id="dense-strict"),
    pytest.param("DenseTiny", (3, 8, 8), "loose", id="dense-loose"),
    pytest.param("ShuffleTiny", (3, 8, 8), "strict", id="split-shuffle"),
    pytest.param("ViTTiny", (3, 8, 8), "strict", id="tokens", marks=needs_custom),
    pytest.param("vit_timm", (3, 8, 8), "strict", id="tokens-unbind", marks=needs_custom),
    pytest.param("Variants", (3, 8, 8), "strict", id="variants"),
    pytest.param("NormActNet", (3, 8, 8), "strict", id="norm-act-and-mean"),
    pytest.param("UNet", (3, 32, 32), "strict", id="unet-skips-as-references"),
    pytest.param("UNetModules", (3, 32, 32), "strict", id="unet-skips-inside-modules"),
    pytest.param("LowHighSeg", (3, 8, 8), "strict", id="calls-giving-and-taking-two-values"),
    pytest.param("NextTiny", (3, 8, 8), "strict", id="channels-last-mlp"),
]
AUX = [pytest.param("WithAux", (3, 8, 8), "strict", id="aux-head")]  # its total leaves the head out
OUTPUTS = [  # several outputs: the total is every parameter, each further tensor an output
    pytest.param("TwoTasks", (3, 8, 8), "strict", id="tuple-of-outputs"),
    pytest.param("FPNTiny", (3, 32, 32), "strict", id="fpn-dict-of-outputs"),
    pytest.param("InnerFeature", (3, 8, 8), "strict", id="output-from-inside-a-module"),
    pytest.param("Blended", (3, 8, 8), "strict", id="output-off-two-points"),
    pytest.param("ExtraLevel", (3, 8, 8), "strict", id="output-made-unseen"),
    pytest.param("SharedHeads", (3, 8, 8), "strict", id="outputs-sharing-a-layer"),
    pytest.param("SegTiny", (3, 8, 8), "strict", id="outputs-of-one-shape-from-inside"),
]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def ref(name: str, shape: tuple[int, ...], fold: str = "strict", **args) -> ModelRef:
    return ModelRef(f"{NETS}:{name}", args, shape, fold)


@functools.cache
def ejected(name: str, shape: tuple[int, ...], fold: str) -> str:
    os.chdir(ROOT)
    return eject(ref(name, shape, fold))


def model(name: str, **args):
    import importlib.util

    spec = importlib.util.spec_from_file_location("nets_for_tests", ROOT / NETS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)(**args)


def truth(name: str, shape: tuple[int, ...], **args) -> tuple[int, tuple[int, ...]]:
    """sum(p.numel()) and the output shape of a real forward pass."""
    m = model(name, **args).eval()
    with torch.no_grad():
        out = m(torch.zeros(1, *shape))
    return sum(p.numel() for p in m.parameters()), tuple(out.shape[1:])


@pytest.mark.parametrize("name, shape, fold", CASES + AUX + OUTPUTS)
def test_ejected_spec_is_the_golden_file(name, shape, fold, golden):
    golden(GOLDEN / f"{name}-{fold}.yaml", ejected(name, shape, fold))


@pytest.mark.parametrize("name, shape, fold", CASES)
def test_counts_and_output_are_the_models(name, shape, fold):
    spec = model_spec(ref(name, shape, fold))
    net = build_network(spec)
    r = shapes.infer(net)
    assert (r.total, tuple(r.output_of(net))) == truth(name, shape)


@pytest.mark.parametrize("name, shape, fold", CASES + AUX + OUTPUTS)
def test_ejected_file_round_trips(name, shape, fold, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(ejected(name, shape, fold), encoding="utf-8")
    from_file = build_network(load_spec(str(path)))
    from_model = build_network(model_spec(ref(name, shape, fold)))
    a, b = shapes.infer(from_file), shapes.infer(from_model)
    assert (a.total, a.output_of(from_file)) == (b.total, b.output_of(from_model))
    assert diff(from_model, from_file).identical


def top(name: str, shape: tuple[int, ...], fold: str = "strict") -> list[tuple[str, int]]:
    """The top-level items of the imported spec: (module label or layer type, repeat)."""
    spec = model_spec(ref(name, shape, fold))
    return [(i.label if isinstance(i, Call) else getattr(i, "type", type(i).__name__.lower()), i.repeat) for i in spec.body]


@pytest.mark.parametrize(
    "name, shape, fold, expected",
    [
        ("ResNetTiny", (3, 16, 16), "strict", [("conv", 1), ("Residual", 3), ("Residual (down)", 1), ("Residual", 2), ("gap", 1), ("dense", 1)]),
        ("Towers", (3, 16, 16), "strict", [("conv", 1), ("Tower", 1), ("Tower", 2), ("gap", 1), ("dropout", 1), ("dense", 1)]),
        ("DenseTiny", (3, 8, 8), "strict", [("conv", 1), ("DenseLayer", 1), ("DenseLayer", 1), ("DenseLayer", 1), ("DenseLayer", 1), ("gap", 1), ("dense", 1)]),
        ("DenseTiny", (3, 8, 8), "loose", [("conv", 1), ("DenseLayer", 4), ("gap", 1), ("dense", 1)]),
        ("ShuffleTiny", (3, 8, 8), "strict", [("conv", 1), ("ShuffleUnit", 2), ("gap", 1), ("dense", 1)]),
        # layers written the same fold whatever their input, in strict mode too (docs/import.md, Fold)
        ("Plain", (3, 8, 8), "strict", [("conv", 2), ("gap", 1), ("dense", 1)]),
    ],
)
def test_identical_blocks_fold(name, shape, fold, expected):
    assert top(name, shape, fold) == expected


@pytest.mark.parametrize("name, shape, first, method", [
    ("ResNetTiny", (3, 16, 16), "hooks", "forward hooks"),
    ("Gated", (3, 8, 8), "hooks", "forward hooks"),  # a branch on a value: hooks on CPU
    ("ResNetTiny", (3, 16, 16), "export", "torch.export"),
    ("Gated", (3, 8, 8), "export", "forward hooks"),  # export refuses the branch; hooks take over
])
def test_each_capture_falls_back_to_the_other(name, shape, first, method, monkeypatch):
    from cnnviz.capture import trace

    monkeypatch.setattr(trace, "capture", functools.partial(trace.capture, first=first))
    monkeypatch.chdir(ROOT)
    assert yaml.safe_load(eject(ref(name, shape)))["reference"] == f"{NETS}:{name} --input {'x'.join(map(str, shape))} (imported with {method})"


@pytest.mark.parametrize(
    "name, args",
    [
        ("configured", ["--arg", "tag=null", "--arg", "gate=true"]),  # YAML scalars, not Python's None and True
        ("configured", ["--arg", "tag='10'", "--arg", "width=6", "--fold", "loose"]),  # a text that reads as a number; the fold
        ("configured", ["--arg", "tag=two words", "--input", "3x8x8"]),  # quoted for the shell
        ("create_model", ["--arg", "model_name=hub/towers:v2", "--input", "3x16x16"]),
    ],
)
def test_the_reference_line_runs_again_to_the_same_spec(name, args):
    import shlex

    first = CliRunner().invoke(cli, ["import", f"{NETS}:{name}", *args, "-o", "-"])
    assert first.exit_code == 0, first.output
    line = yaml.safe_load(first.stdout)["reference"]
    assert "\n" not in first.stdout.split("reference: ", 1)[1].split("\ninput:")[0]  # one line in the file
    again = CliRunner().invoke(cli, ["import", *shlex.split(line.rsplit(" (imported with ", 1)[0]), "-o", "-"])
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout


@needs_custom
def test_an_unknown_layer_is_a_box_with_its_exact_parameters():
    doc = yaml.safe_load(ejected("WithMystery", (3, 8, 8), "strict"))
    boxes = [i["custom"] for i in doc["layers"] if isinstance(i, dict) and "custom" in i]
    assert boxes == [{"label": "Mystery", "params": 6 * 3 + 1, "output": [6, 6, 6]}]


@pytest.mark.parametrize(
    "name, shape, fold, expected",
    [
        # names that only some have (ResNet's downsample), else the fewest settings that differ;
        # a name made of an index (layer2, as DenseNet's denselayer2) tells nothing apart
        ("ResNetTiny", (3, 16, 16), "strict", ["Residual (down)", "Residual"]),
        ("Variants", (3, 8, 8), "strict", ["MB · e1", "MB · e4", "Stage · layers 2", "Stage · layers 5"]),
        ("DenseTiny", (3, 8, 8), "strict", ["DenseLayer"]),
    ],
)
def test_modules_of_one_class_are_labelled_by_what_differs(name, shape, fold, expected):
    doc = yaml.safe_load(ejected(name, shape, fold))
    assert sorted(m["label"] for m in doc["modules"].values()) == sorted(expected)


def test_timms_norm_act_and_mean_are_written_as_torchvisions():
    # BatchNormAct2d (F.batch_norm inside a module, then its activation) folds into the conv,
    # x.mean((2, 3), keepdim=True) is gap keep: the same spec as nn.BatchNorm2d + SiLU and a pooling
    timm_style = ejected("NormActNet", (3, 8, 8), "strict")
    plain = eject(ref("NormActNet", (3, 8, 8), timm=False))
    assert timm_style.replace("NormActNet --input", "NormActNet --arg timm=false --input") == plain
    assert "custom" not in timm_style and "- gap keep" in timm_style


def test_timms_convnext_block_is_written_as_torchvisions():
    # permute, LayerNorm, Mlp(Linear, GELU, Linear), permute back: a layernorm and two 1x1 convs in
    # one block module, ×3, as torchvision's Sequential of the same layers; names aside, one spec
    import re

    timm_style, plain = ejected("NextTiny", (3, 8, 8), "strict"), eject(ref("NextTiny", (3, 8, 8), timm=False))
    unnamed = [re.sub(r" @\w+| --arg timm=false|\n  *name: \w+", "", text) for text in (timm_style, plain)]
    assert unnamed[0] == unnamed[1]
    assert "custom" not in timm_style and " x3" in timm_style and len(yaml.safe_load(timm_style)["modules"]) == 1


def test_both_captures_give_the_same_spec(monkeypatch):
    # chunk/split, channel shuffle and functional ops, seen by the hooks and by torch.export
    from cnnviz.capture import trace

    by_hooks = ejected("ShuffleTiny", (3, 8, 8), "strict")
    monkeypatch.setattr(trace, "capture", functools.partial(trace.capture, first="export"))
    by_export = eject(ref("ShuffleTiny", (3, 8, 8)))
    assert " (imported with torch.export)" in by_export
    assert by_hooks.replace(" (imported with forward hooks)", " (imported with torch.export)") == by_export
    assert "- split:" in by_export and "- shuffle 2" in by_export


def test_constructor_arguments_reach_the_model():
    spec = model_spec(ref("ResNetTiny", (3, 16, 16), width=4, blocks=2))
    assert shapes.infer(spec).total == truth("ResNetTiny", (3, 16, 16), width=4, blocks=2)[0]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("resnet50", False),
        ("my_net.yaml", False),
        ("specs/net.yml", False),
        ("C:\\specs\\net", False),
        ("torchvision.models:resnet50", True),
        ("model.py:Net", True),
        ("./models/model.py:make_net", True),
    ],
)
def test_what_is_a_model_reference(text, expected):
    assert is_model_ref(text) is expected


@pytest.mark.parametrize(
    "pairs, expected",
    [(["width=4"], {"width": 4}), (["p=0.5", "name=wide", "flag=true", "none=null"], {"p": 0.5, "name": "wide", "flag": True, "none": None}), ([], {})],
)
def test_arguments_are_yaml_scalars(pairs, expected):
    assert parse_args(pairs) == expected


@pytest.mark.parametrize("text, expected", [("3x224x224", (3, 224, 224)), ("1x28x28", (1, 28, 28)), ("3,32,32", (3, 32, 32)), ("128", (128,))])
def test_input_shapes(text, expected):
    assert parse_input(text) == expected


@pytest.mark.parametrize(
    "args, expected",
    [
        (["import", f"{NETS}:NoSuch"], f"cnnviz: {NETS}:NoSuch: {NETS} has no 'NoSuch'"),
        (["import", f"{NETS}:NOT_A_MODEL"], f"cnnviz: {NETS}:NOT_A_MODEL: expected a torch.nn.Module (a class or a function that returns one), got int"),
        (["import", "tests/models/absent.py:Net"], "cnnviz: tests/models/absent.py:Net: no such file tests/models/absent.py"),
        (["summary", "no_such_pkg.models:net"], "cnnviz: no_such_pkg.models:net: importing no_such_pkg.models failed: ModuleNotFoundError: No module named 'no_such_pkg'"),
        (["import", f"{NETS}:Towers", "--input", "3x16"], "cnnviz: --input 3x16: expected a shape like 3x224x224 (channels x height x width)"),
        (["import", f"{NETS}:Towers", "--arg", "width"], "cnnviz: --arg width: expected key=value, with key a Python identifier"),
        (["render", f"{NETS}:Functional", "--input", "3x16x16", "-o", "-"], None),  # its dense layer wants 8x8
        (["import", f"{NETS}:Sized"], f"cnnviz: {NETS}:Sized: building the model failed: TypeError: Sized.__init__() missing 1 required positional argument: 'width' (pass --arg width=…)"),
        (["import", f"{NETS}:Sized", "--arg", "width=4", "--arg", "depth=2"], f"cnnviz: {NETS}:Sized: building the model failed: "
            "TypeError: Sized.__init__() got an unexpected keyword argument 'depth' (drop --arg depth)"),
        (["import", f"{NETS}:Offline"], f"cnnviz: {NETS}:Offline: building the model failed: OSError: <urlopen error [Errno -3] Temporary failure in name resolution>"),
        (["import", f"{NETS}:Sized", "--arg", "width=wide"], f"cnnviz: {NETS}:Sized: building the model failed: TypeError: ...; check --arg width=wide"),
        (["import", f"{NETS}:configured", "--arg", "tag=3", "--arg", "gate=true"], f"cnnviz: {NETS}:configured: building the model failed: "
            "TypeError: tag must be text, got int; check --arg tag=3"),  # the --arg the message names
        (["import", "torch:zeros"], "cnnviz: torch:zeros: not a model: builtin_function_or_method zeros builds no torch.nn.Module (calling it failed: TypeError: ..."),
        (["import", "torch.nn.init:calculate_gain", "--arg", "nonlinearity=relu"],
            "cnnviz: torch.nn.init:calculate_gain: not a model: it returned a float, not a torch.nn.Module (name a class or a function that returns one)"),
        (["import", f"{NETS}:TwoInputs"], f"cnnviz: {NETS}:TwoInputs: the model's forward takes more than one input (TypeError: ...): cnnviz draws models of one input tensor"),
        (["render", f"{NETS}:Detector", "-o", "-"], f"cnnviz: {NETS}:Detector: the model returns a list of dicts (detections), not tensors: "
            f"cnnviz draws models whose outputs are tensors; draw a part that does, e.g. {NETS}:Detector.backbone (MODEL.attribute imports that part of the built model)"),
        (["import", f"{NETS}:Detector.neck"], f"cnnviz: {NETS}:Detector.neck: the model has no part 'neck'"),
    ],
)
def test_model_errors_are_one_line(args, expected):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    if expected is not None and "..." in expected:
        start, end = expected.split("...", 1)  # between them, torch's wording
        assert lines[0].startswith(start) and lines[0].endswith(end), lines[0]
    elif expected is not None:
        assert lines[0] == expected
    else:  # the same failure of each way, said once, with the option to check
        assert lines[0].startswith(f"cnnviz: {NETS}:Functional: the model could not run on an input of 3×16×16 (RuntimeError: "), lines[0]
        assert lines[0].endswith("): check --input (channels x height x width, default 3x224x224)") and lines[0].count("RuntimeError") == 1


@pytest.mark.parametrize(
    "name, args",
    [
        ("Sized", {"width": 4}),  # built and run on meta
        ("Sized", {"width": 4, "gate": True}),  # its forward pass needs values: run again on CPU
        ("ReadsValues", {}),  # its constructor needs values: built on CPU
    ],
)
def test_the_constructors_warnings_are_shown_once(name, args):
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        spec = model_spec(ref(name, (3, 8, 8), **args))
    assert [str(w.message) for w in seen if "Sized" in str(w.message)] == ["Sized: built"]
    assert shapes.infer(spec).total == truth(name, (3, 8, 8), **args)[0]


@pytest.mark.parametrize(
    "command, old, new, expected",
    [
        # a count the shape pass refutes, and a layer the spec stage refuses: both cnnviz's bugs
        ("validate", "params: 6053", "params: 6054", "line 24: expect: params is 6,054 but the network has 6,053 (-1)"),
        ("import", "- conv 8 3x3", "- conv 8 3x3 wobble", "line 11: conv: unexpected 'wobble'"),
    ],
)
def test_a_generated_spec_that_fails_is_said_to_be_cnnvizs_fault(command, old, new, expected, monkeypatch):
    import cnnviz.capture
    import cnnviz.capture.cli

    def broken(r):
        text = ejected("Towers", (3, 16, 16), "strict")
        assert old in text
        return text.replace(old, new, 1)

    monkeypatch.setattr(cnnviz.capture, "_eject", lambda r: (broken(r), 0))
    monkeypatch.setattr(cnnviz.capture.cli, "eject", broken)
    result = CliRunner().invoke(cli, [command, f"{NETS}:Towers", "--input", "3x16x16", *(["-o", "-"] if command == "import" else [])])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.splitlines() == [
        f"{NETS}:Towers: cnnviz generated a spec for this model that it cannot read (a bug in cnnviz, please report it): {expected}",
        f"{NETS}:Towers: to see that spec: cnnviz import {NETS}:Towers --no-check -o - (with the same --arg, --input and --fold)",
    ]
    if command == "import":  # and that way shows it
        shown = CliRunner().invoke(cli, [command, f"{NETS}:Towers", "--input", "3x16x16", "--no-check", "-o", "-"])
        assert shown.exit_code == 0 and new in shown.output


UNUSED = (
    "cnnviz: warning: {}: 20 of the model's parameters are not drawn or counted: its forward pass, "
    "traced once on a zero (or meta) input, did not use them (a branch taken on that input, a module it never calls)"
)


@pytest.mark.parametrize(
    "command, name, warned",
    [
        (["summary"], "Branchy", True),
        (["validate"], "Branchy", True),
        (["render", "-o", "-", "--format", "dot"], "Branchy", True),
        (["summary"], "Towers", False),
    ],
)
def test_parameters_the_trace_did_not_use_are_a_warning(command, name, warned):
    # Branchy's extra 1x1 conv (4*4+4 = 20 parameters) runs only on a non-zero input
    result = CliRunner().invoke(cli, [*command, f"{NETS}:{name}", "--input", "3x8x8"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ([UNUSED.format(f"{NETS}:{name}")] if warned else [])


def test_a_diff_warns_for_each_side_that_left_parameters_out():
    result = CliRunner().invoke(cli, ["diff", f"{NETS}:Branchy", f"{NETS}:Gated", "--input", "3x8x8"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [UNUSED.format(f"{NETS}:Branchy")]


def test_import_writes_a_spec_that_validates(tmp_path):
    out = tmp_path / "net.yaml"
    result = CliRunner().invoke(cli, ["import", f"{NETS}:resnet_tiny", "--arg", "width=4", "--input", "3x16x16", "-o", str(out)])
    assert result.exit_code == 0, result.output
    check = CliRunner().invoke(cli, ["validate", str(out)])
    assert check.exit_code == 0 and check.output.startswith(f"OK {out}: resnet_tiny, {truth('ResNetTiny', (3, 16, 16), width=4)[0]:,} params")


def test_a_block_a_skip_reads_folds_as_the_last_copy():
    # enc1 is DoubleConv(3, 4), DoubleConv(4, 4) ×2: the skip reads the last copy, so the ×2 is named for the reference
    layers = yaml.safe_load(eject(ref("UNet", (3, 32, 32), depth=3)))["layers"]
    assert layers[:2] == ["double_conv 4 @enc1_0", "double_conv 4 @enc1_1 x2"]
    assert {"concat": ["from enc1_1", "identity"]} in layers


@pytest.mark.parametrize("name, shape", [("Towers", (3, 16, 16)), ("UNet", (3, 32, 32)), ("UNetModules", (3, 32, 32)), ("UNetModules", (3, 36, 36)), ("FPNTiny", (3, 32, 32))])
def test_diff_of_a_model_and_its_spec_is_empty(name, shape, tmp_path):
    out = tmp_path / "net.yaml"
    out.write_text(ejected(name, shape, "strict"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["diff", f"{NETS}:{name}", str(out), "--input", "x".join(map(str, shape)), "--exit-code"])
    assert result.exit_code == 0, result.output


def test_render_of_a_model_names_the_file_after_it(tmp_path):
    result = CliRunner().invoke(cli, ["render", f"{NETS}:Towers", "--input", "3x16x16", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "Towers.svg").read_text(encoding="utf-8").startswith("<?xml")


@pytest.mark.parametrize("text, message", [("tests.models.nets:Towers", "a model reference, not a spec"), (f"{NETS}:Towers", "no such file")])
def test_the_spec_stage_never_imports_a_model(text, message):
    # a model reference given where only specs are read is refused, not imported
    with pytest.raises(SpecError, match=message):
        load_spec(text)


def test_validate_takes_models_and_specs_together():
    result = CliRunner().invoke(cli, ["validate", f"{NETS}:Towers", "resnet50", "--input", "3x16x16"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"OK {NETS}:Towers: Towers, {truth('Towers', (3, 16, 16))[0]:,} params, output 5"


@pytest.mark.parametrize("capture_with", ["by_export", "by_hooks"])
def test_the_models_train_state_is_restored(capture_with):
    from cnnviz.capture import trace

    m = model("ResNetTiny").train()
    m.stage1[0].eval()  # a mixed state must come back as it was
    before = [x.training for x in m.modules()]
    device = "meta" if capture_with == "by_export" else "cpu"
    m = m.to(device)
    cap = trace._guarded(m, lambda: getattr(trace, capture_with)(m, torch.zeros(1, 3, 16, 16, device=device)))
    assert cap.output_shape == (10,)
    assert [x.training for x in m.modules()] == before
    assert torch.is_grad_enabled()


def test_an_auxiliary_head_is_drawn_off_the_main_line_and_counted_apart():
    net = build_network(model_spec(ref("WithAux", (3, 8, 8))))
    r = shapes.infer(net)
    aux_head = sum(p.numel() for p in model("WithAux").aux.parameters())
    assert (r.total + r.aux, tuple(r.output_of(net))) == truth("WithAux", (3, 8, 8))
    assert r.aux == aux_head


@pytest.mark.parametrize(
    "name, shape, fold, names",
    [
        ("TwoTasks", (3, 8, 8), "strict", ["out", "output1", "output2"]),  # a tuple: named by place, model(x)[1] is output1
        ("FPNTiny", (3, 32, 32), "strict", ["out", "p3", "p4", "p5"]),  # a dict: by key, the first being the main output
        ("InnerFeature", (3, 8, 8), "strict", ["out", "output1"]),  # off the backbone's first stage, the backbone written as its parts
        ("Blended", (3, 8, 8), "strict", ["out", "output1"]),  # off no one point: the model as one box
        ("ExtraLevel", (3, 8, 8), "strict", ["out", "pool"]),
        ("SharedHeads", (3, 8, 8), "strict", ["out", "p", "pool"]),  # two outputs sharing a layer: one box, counted once  # made where no op was recorded: one box, the shape the tensor's
        ("SegTiny", (3, 8, 8), "strict", ["out", "aux"]),  # as fcn_resnet50's: aux off the backbone's first stage
        ("PooledLevels", (3, 16, 16), "strict", ["out", "output_1", "pool"]),  # 'pool' made inside a leaf's nested result
    ],
)
def test_every_output_is_the_models(name, shape, fold, names):
    net = build_network(model_spec(ref(name, shape, fold)))
    r = shapes.infer(net)
    m = model(name).eval()
    with torch.no_grad():
        out = m(torch.zeros(1, *shape))
    given = list(out.values()) if isinstance(out, dict) else list(out)
    assert r.total == sum(p.numel() for p in m.parameters())
    assert dict(r.outputs_of(net)) == dict(zip(names, [tuple(t.shape[1:]) for t in given]))  # in the order computed, not returned


@pytest.mark.parametrize("name, shape", [("TwoTasks", (3, 8, 8)), ("FPNTiny", (3, 32, 32))])
def test_both_captures_name_the_outputs_alike(name, shape, monkeypatch):
    from cnnviz.capture import trace

    by_hooks = ejected(name, shape, "strict")
    monkeypatch.setattr(trace, "capture", functools.partial(trace.capture, first="export"))
    by_export = eject(ref(name, shape))
    assert by_hooks.replace(" (imported with forward hooks)", " (imported with torch.export)") == by_export


@pytest.mark.parametrize(
    "keys, expected",
    [
        (["", ""], ["output1", "output2"]),  # a tuple's places (the main output is the first)
        (["p3", "p4"], ["p3", "p4"]),
        (["0", "pool"], ["output_0", "pool"]),  # torchvision's FPN keys: '0' is no spec name
        (["out", "a.b", "output_a_b"], ["output_out", "output_a_b", "output_a_b_3"]),  # 'out' is the main output's; each name once
    ],
)
def test_output_names_are_spec_names(keys, expected):
    from cnnviz.capture import output_names

    assert output_names(keys) == expected


@pytest.mark.parametrize(
    "name, args, file, title",
    [
        ("Towers", [], "Towers.yaml", "Towers"),
        # a generic factory is named by the model it is asked for, in a file name that is one
        ("create_model", ["--arg", "model_name=towers"], "towers.yaml", "towers"),
        ("create_model", ["--arg", "model_name=hub/towers:v2"], "hub_towers_v2.yaml", "hub/towers:v2"),
    ],
)
def test_import_writes_name_yaml_by_default(tmp_path, monkeypatch, name, args, file, title):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["import", f"{ROOT / NETS}:{name}", *args, "--input", "3x16x16"])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load((tmp_path / file).read_text(encoding="utf-8"))
    assert (doc["name"], doc["expect"]) == (title, {"params": truth("Towers", (3, 16, 16))[0], "output": [5]})


@pytest.mark.parametrize("text, shape, part", [
    ("Detector.backbone", (3, 16, 16), "backbone"),
    ("resnet_tiny.stem", (3, 16, 16), "stem"),
    ("Detector.backbone.1", (8, 16, 16), "backbone.1"),  # a path of attributes
])
def test_a_part_of_a_model_is_drawn_on_its_own(text, shape, part):
    # MODEL.attribute: the model built, then its attribute: what a detector's backbone is drawn with
    r = shapes.infer(build_network(model_spec(ModelRef(f"{NETS}:{text}", {}, shape))))
    whole = model(text.split(".")[0])
    assert r.total == sum(p.numel() for p in whole.get_submodule(part).parameters())


def test_an_imported_models_count_is_not_marked_declared():
    # the count in the title was read off the model itself, not written by hand
    from cnnviz.drawing import Diagram
    from cnnviz.drawing.view import subtitle

    sub = subtitle(Diagram(model_spec(ref("Towers", (3, 16, 16)))).view)
    count = truth("Towers", (3, 16, 16))[0]
    assert "parameters" in sub and "(declared)" not in sub
    assert f"{count / 1000:.1f}k" in sub or f"{count:,}" in sub

"""A U is a U in every detail level: measured on the laid-out main line, every skip goes
straight across from the encoder on the left to the decoder on the right, and the fold
does not bend a module round."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.drawing import DETAILS, Diagram, compose
from cnnviz.drawing.engine import PURE

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "valid"

ARCHS = {"unet": "unet", "unet_refs": str(CASES / "unet_refs.yaml"), "fpn_refs": str(CASES / "fpn_refs.yaml")}
IMPORTED = {  # PyTorch models (tests/models/nets.py) whose skips the importer writes as references: (class, input)
    "unet_import": ("UNet", (3, 32, 32)),  # the skips in its own forward
    "unet_modules_import": ("UNetModules", (3, 32, 32)),  # the skips inside its Up(x, skip) modules
    "fpn_import": ("FPNTiny", (3, 32, 32)),
}


def _arch(key: str):
    """A spec path or catalogue id, or the spec imported from a model (needs torch)."""
    if key in ARCHS:
        return ARCHS[key]
    pytest.importorskip("torch")
    from cnnviz.capture import ModelRef, model_spec

    name, shape = IMPORTED[key]
    return model_spec(ModelRef(f"{ROOT / 'tests' / 'models' / 'nets.py'}:{name}", {}, shape))


def _skips_across(v) -> list[tuple[str, str]]:
    """(start, merge) of every skip the U lines up: a rank group of the view that starts with a skip edge
    (the others are the bottom of the U and its arms)."""
    return [(g[0], g[-1]) for g in v.graph["same_rank"] if v.has_edge(g[0], g[1]) and v.edges[g[0], g[1]].get("skip")]


@pytest.mark.dot
@pytest.mark.parametrize("detail", DETAILS)
@pytest.mark.parametrize("arch", [*ARCHS, *IMPORTED])
def test_the_encoder_is_left_of_the_decoder(arch, detail):
    d = Diagram(_arch(arch), detail=detail, legend=False, title=False)
    v = d.view.main.graph
    assert d.options["direction"] == "TB"
    (laid,) = compose.layout([d.pieces()[0].dot], PURE)
    pos = {n: laid.nodes[n]["pos"] for n in v}
    skips = _skips_across(v)
    assert len(skips) >= 3
    for start, merge in skips:
        (xs, ys), (xm, ym) = pos[start], pos[merge]
        assert xs < xm, f"{detail}: the skip {start} → {merge} goes right to left (a mirrored U)"
        assert ys == pytest.approx(ym), f"{detail}: the skip {start} → {merge} does not go straight across"


@pytest.mark.parametrize("arch", [*ARCHS, "unet_import", "unet_modules_import"])  # the FPNs that have modules
def test_the_fold_does_not_bend_a_module_round(arch):
    # full: every module is expanded; its edges all go down the U, or all back up (or all across its bottom)
    v = Diagram(_arch(arch), detail="full").view.main.graph
    ways: dict = {}
    for s, t, e in v.edges(data=True):
        c = v.nodes[s].get("cluster")
        if c is not None and c == v.nodes[t].get("cluster"):
            ways.setdefault(c, set()).add(bool(e.get("back")))
    assert ways
    assert all(len(w) == 1 for w in ways.values()), ways

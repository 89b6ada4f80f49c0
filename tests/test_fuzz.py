"""Property: any text at all gives a Network or a located SpecError, never another exception,
and quickly.

Two sources of inputs:

* mutations of the catalogue's specs (lines deleted, duplicated, swapped; words
  replaced by random words, numbers, huge numbers, unicode, control characters);
* specs drawn from the layer registry (:data:`cnnviz.spec.layers.LAYERS`): random
  layer lines with random settings, nested in ``concat``/``add``/``towers``/``aux``
  and modules that call one another (cycles included).

The normal suite runs a few examples of each, derandomized so that CI is
deterministic (about 20 seconds in all).  To fuzz for longer::

    CNNVIZ_FUZZ_EXAMPLES=5000 .venv/bin/pytest -p no:cacheprovider tests/test_fuzz.py

(``CNNVIZ_FUZZ_SEED=random`` drops ``derandomize`` to explore new inputs each run.)
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnviz.cli import cli
from cnnviz.errors import SpecError
from cnnviz.graph import build_network
from cnnviz.model import Network
from cnnviz.spec import load_spec
from cnnviz.spec.layers import LAYERS

ROOT = Path(__file__).resolve().parent.parent
SPECS = {p.stem: p.read_text(encoding="utf-8") for p in sorted((ROOT / "arch_specs").glob("*.yaml"))}
EXAMPLES = int(os.environ.get("CNNVIZ_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=EXAMPLES or 60,
    deadline=timedelta(seconds=5),  # per case; the limits of the spec stage keep every case well under it
    derandomize=os.environ.get("CNNVIZ_FUZZ_SEED") != "random",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)


def spec_or_error(path: Path) -> Network | SpecError:
    """What the spec stage makes of a file: a Network, or the SpecError.  Anything else raises."""
    try:
        return build_network(load_spec(path))
    except SpecError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)
        return exc


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# -- (a) mutations of the catalogue ---------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)  # any character a file can hold, control ones included
WORDS = st.sampled_from(
    [*LAYERS, "concat", "add", "mul", "split", "towers", "aux", "from", "x1000000", "x0", "/0", "@", "@x.y", "@input", "$", "$(", "$nope", "$(2**64)", "$((w**64)**64)", "$(1/0)",
     "[", "]", "{", "}", ":", "-", "- -", "&a", "*a", "<<", "!!python/object:os.system", "null", "~", "extends:", "none", "same", "1x0", "0x0", "#", "'", '"']
)  # fmt: skip
NUMBERS = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True), st.just("9" * 4400), st.just("0x" + "F" * 4400))
TOKENS = st.one_of(WORDS, NUMBERS.map(str), TEXT)


@st.composite
def mutated(draw) -> tuple[str, str]:
    ident = draw(st.sampled_from(sorted(SPECS)))
    lines = SPECS[ident].splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "replace", "replace"]))
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(j, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        else:
            words = list(re.finditer(r"\S+", lines[i]))
            if words:
                w = words[draw(st.integers(0, len(words) - 1))]
                lines[i] = lines[i][: w.start()] + draw(TOKENS) + lines[i][w.end() :]
    return ident, "\n".join(lines) + "\n"


@FUZZ
@given(case=mutated())
def test_mutated_catalogue_specs(workdir, case):
    ident, text = case
    path = workdir / f"{ident}.yaml"  # resnet101 still extends the catalogue's resnet50
    path.write_text(text, encoding="utf-8")
    spec_or_error(path)


# -- (b) specs drawn from the layer registry ----------------------------------------------------------

SIZES = st.sampled_from(["1", "3", "3x3", "1x7", "7x1", "0", "0x3", "99999", "[1, 2]", "same", "valid"])
VALUES = st.one_of(SIZES, st.integers(-3, 300).map(str), st.sampled_from(["true", "false", "none", "relu", "0.5", "1e-4", "nan", "$w", "$(w*2)", "$(w/3)", "$(nope)", "[]"]))


@st.composite
def layer_line(draw) -> str:
    lt = LAYERS[draw(st.sampled_from(sorted(LAYERS)))]
    words = [lt.name]
    words += [draw(VALUES) for _ in lt.positional[: draw(st.integers(0, len(lt.positional) + 1))]]
    for f in draw(st.lists(st.sampled_from(lt.fields), max_size=2)) if lt.fields else []:
        words.append(f"{f.name}={draw(VALUES)}")
    if lt.flags:
        words += draw(st.lists(st.sampled_from(sorted(lt.flags)), max_size=2))
    words += draw(st.lists(st.sampled_from(["/2", "/1", "x2", "x3", "@a", "@b", "@a_bn", "@in.put", "#c"]), max_size=2))
    return " ".join(words)


def items(modules: list[str]) -> st.SearchStrategy[object]:
    """A layer list item: a line, a module call, or branches, towers, aux around more items."""
    calls = st.sampled_from(modules).flatmap(lambda m: st.sampled_from([m, f"{m} 8", f"{m} w=4 x2", f"{m} 1 2 3"])) if modules else st.nothing()
    leaf = st.one_of(layer_line(), calls, st.just("none"), st.just(""))

    def nest(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
        seq = st.lists(inner, min_size=1, max_size=3)
        ref = st.sampled_from(["from a", "from b", "@a", "from", "from a b", "from $w"])  # references to named items (@a, @b)
        branch = st.one_of(seq, inner, st.just("identity"), st.just([]), ref, st.builds(lambda r, b: [r, *b], ref, seq))
        return st.one_of(
            st.builds(lambda k, b: {k: b}, st.sampled_from(["concat", "add", "mul", "split"]), st.lists(branch, min_size=1, max_size=3)),
            st.builds(lambda c, s, b: {"towers": {"count": c, "input": s, "layers": b}}, st.sampled_from([2, 4, 1, 5000, "$w"]), st.sampled_from(["shared", "split"]), seq),
            st.builds(lambda b: {"aux": b}, seq),
            st.builds(lambda b, r: {"concat": [b, b], "repeat": r}, seq, st.sampled_from([1, 2, 0, 10**6])),
        )

    return st.recursive(leaf, nest, max_leaves=8)


@st.composite
def drawn_spec(draw) -> str:
    names = draw(st.lists(st.sampled_from(["m0", "m1", "m2", "block"]), max_size=3, unique=True))
    modules = {
        name: {
            "args": draw(st.sampled_from([["w"], {"w": 8}, [], {"w": None, "stride": 1}])),
            "vars": draw(st.sampled_from([{}, {"h": "$(w*2)"}, {"h": "$((w**64)**64)"}])),
            "layers": draw(st.lists(items(names), min_size=1, max_size=4)),
        }
        for name in names
    }
    doc = {
        "name": "Drawn",
        "input": draw(st.sampled_from([[3, 32, 32], [3, 8, 8], [16], [3, 1, 1]])),
        "vars": {"w": draw(st.sampled_from([8, 0, -1, 2**62, "abc"]))},
        "defaults": draw(st.sampled_from([{}, {"conv": {"bn": True, "act": "relu"}}, {"conv": {"nosuch": 1}}])),
        "modules": modules,
        "layers": draw(st.lists(items(names), min_size=1, max_size=6)),
    }
    if draw(st.booleans()):
        doc["expect"] = draw(st.sampled_from([{"params": 0}, {"params_aux": 1}, {"output": [10]}, {"shapes": {"a": [8, 8, 8]}}, {"parms": 1}]))
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@FUZZ
@given(text=drawn_spec())
def test_specs_drawn_from_the_registry(workdir, text):
    path = workdir / "drawn.yaml"
    path.write_text(text, encoding="utf-8")
    spec_or_error(path)


@settings(FUZZ, max_examples=max(EXAMPLES // 10, 12))
@given(text=st.one_of(drawn_spec(), mutated().map(lambda case: case[1])))
def test_validate_never_shows_a_traceback(workdir, text):
    """The whole command, shape pass included, in-process: exit 0 or 1, every error line located."""
    path = workdir / "cli.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output

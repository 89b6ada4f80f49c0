"""Hand-picked mutation testing: does the suite catch one-line bugs in the spec, shape and diff stages?

Each mutant is one exact text replacement in one file, the kind of slip a
person makes (a bound off by one, a setting ignored, a check dropped).  For
each, the tree is copied, the mutant applied, and the suite run until its
first failure: a failure *kills* the mutant; a mutant the whole suite lets
through *survives* and names a test worth writing.  Not collected by pytest
(slow: a minute or so per surviving mutant); run it by hand::

    .venv/bin/python tests/mutants.py            # every mutant, 2 at a time
    .venv/bin/python tests/mutants.py -k expr    # those whose file or note matches

A mutant whose text is not found exactly once is reported as stale: the code
moved on, and the line needs rewriting (never silently skipped).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (file, text, replacement, what the bug is)
MUTANTS: list[tuple[str, str, str, str]] = [
    # -- spec: keys, names, bounds ---------------------------------------------------------
    ("cnnviz/spec/parse.py", "if key not in EXPECT_KEYS:", "if False:", "unknown keys under expect: ignored"),
    ("cnnviz/spec/parse.py", "if key not in MODULE_KEYS:", "if False:", "unknown keys in a module ignored"),
    ("cnnviz/spec/parse.py", "if key not in TOP_KEYS:", "if False:", "unknown top-level keys ignored"),
    ("cnnviz/spec/parse.py", "if key not in PAPER_KEYS:", "if False:", "unknown paper keys ignored"),
    ("cnnviz/spec/parse.py", 'for key in ("name", "input", "layers"):', 'for key in ("name", "layers"):', "missing input not reported"),
    # Not here, being equivalent: `if key in chain:` for `if key in chain or key == path.resolve():` in
    # spec/documents.py (a spec extending itself is caught one level down, with the same message and place).
    ("cnnviz/spec/names.py", "first = owner.get(item.name)", "first = None", "duplicate names in one list"),
    ("cnnviz/spec/names.py", "if SEPARATOR in name:", "if False:", "a '.' in a name"),
    ("cnnviz/spec/names.py", "if name in parts:", "if False:", "a name taking a folded part's path"),
    ("cnnviz/spec/names.py", "if name not in used and not used.intersection(folded(item, name)):", "if name not in used:", "made-up names colliding with folded parts"),
    ("cnnviz/spec/items.py", "if module in stack:", "if False:", "a module using itself"),
    (
        "cnnviz/spec/values.py",
        "        if not lo <= v <= hi:\n            raise BadValue(f\"{v} is out of range ({lo} to {hi})\")\n        return v",
        "        return v",
        "integer ranges not enforced",
    ),
    ("cnnviz/spec/arguments.py", 'params["stride"] = params["kernel"]', 'params["stride"] = (1, 1)', "a pool's default stride"),
    ("cnnviz/spec/arguments.py", "key = positional.pop(0)", "key = positional.pop(-1)", "positional values in the wrong order"),
    # -- spec: expressions -------------------------------------------------------------------
    ("cnnviz/spec/expr.py", "ast.FloorDiv: operator.floordiv,", "ast.FloorDiv: operator.truediv,", "// as true division"),
    ("cnnviz/spec/expr.py", "and value.is_integer() and isinstance(node.op, ast.Div)", "and False", "$(w / 2) not made a whole number"),
    ("cnnviz/spec/expr.py", "return -value if isinstance(node.op, ast.USub) else value", "return value", "unary minus ignored"),
    ("cnnviz/spec/expr.py", "raise ExprError(f\"arithmetic needs numbers in '{text}'\")", "pass", "string arithmetic allowed"),
    # -- shapes: counts and sizes ------------------------------------------------------------
    ("cnnviz/rules.py", 'return int(p["groups"])', "return 1", "groups ignored outside towers"),
    ("cnnviz/torch_layers.py", 'nn.Conv2d(c, p["filters"], 1, bias=p["bias"]),', 'nn.Conv2d(c, p["filters"], 1, bias=False),', "sepconv pointwise bias ignored"),
    ("cnnviz/torch_layers.py", 'return nn.Linear(c, p["units"], p["bias"])', 'return nn.Linear(c, p["units"], True)', "dense nobias ignored"),
    ("cnnviz/rules.py", "if p.get(\"ceil\") and (out - 1) * s >= n + pad:", "if False:", "ceil mode: the last window must start inside the input"),
    ("cnnviz/torch_layers.py", 'return (nn.BatchNorm1d if flat else nn.BatchNorm2d)(c, eps=p["eps"])', "return (nn.BatchNorm1d if flat else nn.BatchNorm2d)(c)", "bn eps not reaching the model"),
    ("cnnviz/shapes.py", 'for key, have in (("params", r.total), ("params_aux", r.aux)):', 'for key, have in (("params", r.total),):', "expect: params_aux never checked"),
    ("cnnviz/torch_layers.py", "ceil_mode=p[\"ceil\"], count_include_pad=p[\"count_pad\"])", "ceil_mode=p[\"ceil\"])", "avgpool count_pad not reaching the model"),
    ("cnnviz/shapes.py", 'if "output" in expect and tuple(expect["output"]) != out:', "if False:", "expect: output never checked"),
    ("cnnviz/rules.py", "if type_ == \"conv\" and shape[0] % p[\"groups\"]:", "if False:", "groups not dividing the input channels"),
    ("cnnviz/rules.py", "if type_ == \"conv\" and p[\"filters\"] % p[\"groups\"]:", "if False:", "groups not dividing the filters"),
    ("cnnviz/rules.py", "reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, p[\"kernel\"]))", "reach = tuple(p[\"kernel\"])", "dilation ignored in the kernel-too-big check"),
    ("cnnviz/rules.py", "span = n + 2 * pad - dil * (k - 1) - 1", "span = n + 2 * pad - (k - 1) - 1", "dilation ignored in output sizes"),
    ("cnnviz/shapes.py", "aux = sum(n for path, n in params.items() if net.nodes[path].aux)", "aux = 0", "aux heads counted in the main total"),
    ("cnnviz/shapes.py", "if self.training and self._aux_outputs:", "if self._aux_outputs:", "aux outputs in eval mode"),
    # -- shapes: the newer vocabulary -------------------------------------------------------
    ("cnnviz/rules.py", "(n - 1) * s - 2 * pad + k + op", "(n - 1) * s - pad + k + op", "tconv padding taken once"),
    ("cnnviz/rules.py", "if all(d in (1, o) for s in ins for d, o in zip(s, out)):", "if True:", "mul shapes that do not broadcast accepted"),
    ("cnnviz/rules.py", 'if type_ == "split" and shape[0] % p["parts"]:', "if False:", "split channels not dividing"),
    ("cnnviz/rules.py", 'else shape[0] * p.get("multiplier", 1)', "else shape[0]", "dwconv multiplier ignored in shapes"),
    ("cnnviz/rules.py", 'if any(op >= s for op, s in zip(p["output_padding"], p["stride"])):', "if False:", "tconv output_padding not checked"),
    ("cnnviz/spec/layers.py", 'if p["align_corners"] and p["mode"] != "bilinear":', "if False:", "align_corners with nearest accepted"),
    ("cnnviz/torch_layers.py", 'nn.GroupNorm(p["groups"], c, eps=p["eps"])', 'nn.GroupNorm(p["groups"], c)', "groupnorm eps not reaching the model"),
    ("cnnviz/torch_layers.py", "x.narrow(1, (self.part - 1) * size, size)", "x.narrow(1, 0, size)", "every split branch reading the first part"),
    ("cnnviz/torch_layers.py", 'corners = True if p["align_corners"] else None', "corners = None", "upsample align_corners ignored"),
    ("cnnviz/torch_layers.py", "self.weight = nn.Parameter(torch.zeros(params))", "self.weight = nn.Parameter(torch.zeros(params + 1))", "custom params off by one"),
    ("cnnviz/torch_layers.py", "self.norm(x.permute(0, 2, 3, 1))", "self.norm(x.permute(0, 3, 2, 1))", "layernorm over the wrong axis"),
    # -- diff -------------------------------------------------------------------------------
    ("cnnviz/diff/align.py", "THRESHOLD = 0.3", "THRESHOLD = 0.0", "unrelated parts paired"),
    ("cnnviz/diff/align.py", 'notes.insert(0, Note("repeat", ua.count, ub.count))', "pass", "repeat count changes not noted"),
    ("cnnviz/diff/align.py", "return ratio if ratio >= 0.6 else 0.0", "return ratio", "any two labels alike"),
    ("cnnviz/diff/overview.py", "shortcut = p.type == \"add\" and any(not br.body for br in p.body)", "shortcut = False", "residual adds not told apart"),
    ("cnnviz/diff/jsonout.py", '"params_delta": (y.params if y else 0) - (x.params if x else 0)', '"params_delta": (y.params if y else 0)', "stage deltas wrong"),
    ("cnnviz/diff/overview.py", "c[\"layers\"][p.type] += times", "c[\"layers\"][p.type] += 1", "census ignoring repeats"),
    ("cnnviz/diff/__init__.py", "return self.a.input == self.b.input and", "return", "a changed input reported identical"),
]


def apply(tree: Path, file: str, old: str, new: str) -> bool:
    path = tree / file
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        return False
    path.write_text(text.replace(old, new), encoding="utf-8")
    return True


SKIP = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache", "*.egg-info", "*.svg.*.tmp")


# The tests most likely to catch a mutant of a stage run first (the rest of the suite follows), so a kill comes early.
FIRST = {
    "cnnviz/spec/": ["test_spec.py", "test_expr.py", "test_loader.py", "test_spec_errors.py", "test_graph.py"],
    "cnnviz/shapes.py": ["test_layers_torch.py", "test_shapes.py", "test_catalogue.py"],
    "cnnviz/rules.py": ["test_layers_torch.py", "test_merges_torch.py", "test_shapes.py", "test_spec_errors.py", "test_catalogue.py"],
    "cnnviz/torch_layers.py": ["test_layers_torch.py", "test_merges_torch.py", "test_shapes.py", "test_catalogue.py"],
    "cnnviz/diff/": ["test_diff.py", "test_diff_cli.py"],
}


def suite_passes(tree: Path, timeout: int, file: str = "") -> bool:
    """Run the suite on ``tree`` (imported ahead of any installed cnnviz) until its first failure."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    order = [f"tests/{t}" for prefix, tests in FIRST.items() if file.startswith(prefix) for t in tests]
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *order, "tests"]
    try:
        proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0


def run_one(index: int, mutant: tuple[str, str, str, str] | None, timeout: int) -> tuple[int, str]:
    """Apply one mutant (None: the control, no change) to a copy of the tree and run the suite."""
    with tempfile.TemporaryDirectory(prefix="cnnviz-mutant-") as tmp:
        tree = Path(tmp) / "tree"
        shutil.copytree(ROOT, tree, ignore=SKIP)
        if mutant is not None and not apply(tree, *mutant[:3]):
            return index, "stale"
        return index, "survived" if suite_passes(tree, timeout, mutant[0] if mutant else "") else "killed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", help="only mutants whose file or note contains this")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args()
    chosen = [(i, m) for i, m in enumerate(MUTANTS) if not args.k or args.k in m[0] or args.k in m[3]]
    if run_one(-1, None, args.timeout)[1] != "survived":  # the unchanged tree must pass, or every "kill" is noise
        print("the suite fails on an unchanged copy of the tree; fix that first")
        return 2
    results: dict[int, str] = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        for i, outcome in pool.map(lambda im: run_one(im[0], im[1], args.timeout), chosen):
            results[i] = outcome
            print(f"{outcome:<16} {MUTANTS[i][0]}: {MUTANTS[i][3]}", flush=True)
    live = [o for o in results.values() if o != "stale"]
    killed = sum(o.startswith("killed") for o in live)
    stale = len(results) - len(live)
    print(f"\n{killed} of {len(live)} mutants killed ({killed / max(len(live), 1):.0%}); {stale} stale")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

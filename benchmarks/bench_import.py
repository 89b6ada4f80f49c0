"""Time `cnnviz render torchvision.models:resnet50` against torchview's `draw_graph` on the same model.

    python benchmarks/bench_import.py                 # 5 cold runs of each, medians, then where the time goes
    python benchmarks/bench_import.py --runs 9 --model resnet18 --json

Both run as whole processes in the same run, on the same machine:

* ``import torch`` and ``import torch, torchvision``: the floors both tools pay;
* ``cnnviz render torchvision.models:MODEL``: import, capture on the meta
  device, fold, shape pass, layout, SVG written;
* ``torchview draw_graph``: a forward pass with hooks on CPU (torchview's default
  device) and the DOT source of its graph.  torchview lays out and draws through
  system Graphviz; when ``dot`` is not installed that step is left out, which
  favours torchview.

Needs torchvision and torchview in the venv (neither is a cnnviz dependency):
``pip install torchvision==0.28.0 --no-deps pillow numpy torchview``.  When
torchvision's compiled ops do not load against the installed torch, every process
stubs their registration first (the models do not need them); the table says so.

Then one in-process run splits cnnviz's time into its stages.  Not a test: timings
depend on the machine; run it by hand and compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time

from _timing import cnnviz_exe, print_table, timed
from _timing import rows as table_rows

STUB = "import torch; torch.library.register_fake = lambda *a, **k: (lambda f: f)\n"


def needs_stub(py: str) -> bool:
    return subprocess.run([py, "-c", "import torchvision"], capture_output=True, check=False).returncode != 0


def torchview_code(model: str, render: bool) -> str:
    code = (
        "import torchvision, torchview\n"
        f"m = torchvision.models.{model}()\n"
        "g = torchview.draw_graph(m, input_size=(1, 3, 224, 224), expand_nested=True)\n"
        "src = g.visual_graph.source\n"
    )
    return code + ("g.visual_graph.render('torchview', format='svg')\n" if render else "")


def cnnviz_code(model: str) -> str:
    return f"from cnnviz.cli import main\nmain(['render', 'torchvision.models:{model}', '-o', 'out.svg'])\n"


def phases(model: str) -> list[tuple[str, float]]:
    """One in-process run of cnnviz's stages, each timed."""
    out = []
    t = time.perf_counter()
    import torch

    torch.library.register_fake = lambda *a, **k: (lambda f: f)  # as in the processes above, when needed
    import torchvision  # noqa: F401

    out.append(("import torch, torchvision", time.perf_counter() - t))
    from cnnviz.capture import ModelRef
    from cnnviz.capture.emit import document
    from cnnviz.capture.fold import define
    from cnnviz.capture.items import fold_runs
    from cnnviz.capture.lowering import lower_root
    from cnnviz.capture.ops import Frame
    from cnnviz.capture.reference import load_factory
    from cnnviz.capture.structure import tree
    from cnnviz.capture.trace import capture
    from cnnviz.drawing import Diagram
    from cnnviz.spec.parse import load_spec_text

    ref = ModelRef(f"torchvision.models:{model}")
    t = time.perf_counter()
    factory = load_factory(ref)
    cap = capture(factory, ref.input, ref.text)
    out.append((f"capture ({cap.method}, meta device)", time.perf_counter() - t))
    t = time.perf_counter()
    items = fold_runs(lower_root(tree(cap.ops, cap.output, Frame("", "", cap.root), ref.input)))
    text = document(ref.name, ref.text, ref.input, items, define(items), {"params": 0, "output": list(cap.output_shape)})
    out.append(("structure, fold, spec text", time.perf_counter() - t))
    t = time.perf_counter()
    spec = load_spec_text(text, ref.text, ref.name)
    out.append(("spec stage (parse the text)", time.perf_counter() - t))
    t = time.perf_counter()
    Diagram(spec).svg()
    out.append(("graph, layout, SVG", time.perf_counter() - t))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="cold runs of each command (default 5)")
    ap.add_argument("--model", default="resnet50", help="a torchvision.models function (default resnet50)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("--phases-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phases_only:  # run in a fresh process by main(), so that its imports are cold
        print(json.dumps(phases(args.model)))
        return

    py = sys.executable
    stub = STUB if needs_stub(py) else ""
    has_dot = shutil.which("dot") is not None
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("import torch", [py, "-c", "import torch"]),
            ("import torch, torchvision", [py, "-c", stub + "import torch, torchvision"]),
            (f"cnnviz render torchvision.models:{args.model}", [py, "-c", stub + cnnviz_code(args.model)] if stub else [*cnnviz_exe(), "render", f"torchvision.models:{args.model}", "-o", "out.svg"]),
            (f"torchview draw_graph {args.model}" + ("" if has_dot else " (no layout: no dot)"), [py, "-c", stub + torchview_code(args.model, has_dot)]),
        ]
        timed(cases[0][1], 1, tmp)  # warm the file cache once
        results = [(name, timed(argv, args.runs, tmp)) for name, argv in cases]
        split = json.loads(subprocess.run([py, __file__, "--phases-only", "--model", args.model], capture_output=True, text=True, check=True, cwd=tmp).stdout)

    rows = table_rows(results)
    summary = {"python": sys.version.split()[0], "torchvision_ops_stubbed": bool(stub), "system_dot": has_dot, "rows": rows, "cnnviz_phases_s": {k: round(v, 3) for k, v in split}}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print_table(rows, f"s, {args.runs} cold runs each" + (", torchvision's op registration stubbed" if stub else ""))
    print("\nwhere cnnviz's time goes (one in-process run):")
    for name, secs in split:
        print(f"  {name:<40} {secs:6.3f}")


if __name__ == "__main__":
    main()

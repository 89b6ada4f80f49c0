"""Time `cnnviz render` as a whole process, side by side with the import floors.

    python benchmarks/bench_render.py              # 9 cold runs of each, medians
    python benchmarks/bench_render.py --runs 15 --arch inception_v4 --json

Every measurement is a fresh process (what a user waits for at the shell):
interpreter start-up, imports, spec → graph → view → layout → SVG, file write.
The floors run in the same interpreter on the same machine:

* ``python -c pass``                               the interpreter alone
* ``import networkx, yaml, click``       the light dependencies
* ``import torch``                                 what the shape pass costs

The aim is a cold compact render within about twice the light-import floor.
Not a test: timings depend on the machine; run it by hand and compare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile

from _timing import cnnviz_exe, print_table, timed
from _timing import rows as table_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9, help="cold runs of each command (default 9)")
    ap.add_argument("--arch", default="resnet50", help="catalogue id to render (default resnet50)")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch floor (slow to import)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()

    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("python -c pass", [py, "-c", "pass"]),
            ("import networkx, yaml, click", [py, "-c", "import networkx, yaml, click"]),
        ]
        if not args.no_torch:
            cases.append(("import torch", [py, "-c", "import torch"]))
        cases += [
            (f"cnnviz render {args.arch}", [*cnnviz_exe(), "render", args.arch, "-o", "out.svg"]),
            (f"cnnviz render {args.arch} --format png", [*cnnviz_exe(), "render", args.arch, "-o", "out.png"]),
            (f"cnnviz render {args.arch} --detail full", [*cnnviz_exe(), "render", args.arch, "--detail", "full", "-o", "full.svg"]),
        ]
        timed(cases[0][1], 2, tmp)  # warm the file cache once, so "cold" means a new process, not a cold disk
        results = [(name, timed(argv, args.runs, tmp)) for name, argv in cases]

    floor = statistics.median(results[1][1])
    rows = table_rows(results)
    render = rows[len(cases) - 3]["median_s"]
    summary = {"python": sys.version.split()[0], "rows": rows, "render_over_light_floor": round(render / floor, 2), "aim": 2.0}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print_table(rows, f"s, {args.runs} cold runs each")
    print(f"\ncompact render / light-import floor = {summary['render_over_light_floor']}× (aim: within about 2×)")


if __name__ == "__main__":
    main()

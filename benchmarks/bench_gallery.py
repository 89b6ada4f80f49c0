"""Time regenerating the whole gallery as a user (or CI) meets it: one fresh process each.

    python benchmarks/bench_gallery.py              # 5 cold runs of each, medians
    python benchmarks/bench_gallery.py --runs 9 --json

Every measurement is a new interpreter: start-up, imports, the catalogue in the
article's order, every spec → graph → view → layout → SVG (spread over worker
processes), README.md and index.html, the comparison with the folder, and the
writes.  Side by side:

* ``python -c pass``                              the interpreter alone
* ``import networkx, yaml, click``      the light import floor
* ``cnnviz gallery --out DIR``  into an empty folder (every file written)
* ``cnnviz gallery --out DIR``  again (up to date: nothing written)
* ``cnnviz gallery --out DIR --check``            what CI runs
* ``cnnviz gallery --out DIR --jobs 1``           the same work in one process

The aim is a few seconds on a 2-core machine.  Not a test: timings depend on
the machine; run it by hand and compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import cnnviz_exe, print_table, timed
from _timing import rows as table_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="cold runs of each command (default 5)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()

    py, cnnviz = sys.executable, cnnviz_exe()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gallery"

        def empty() -> None:
            shutil.rmtree(out, ignore_errors=True)

        cases = [
            ("python -c pass", [py, "-c", "pass"], None),
            ("import networkx, yaml, click", [py, "-c", "import networkx, yaml, click"], None),
            ("cnnviz gallery (empty folder)", [*cnnviz, "gallery", "--out", str(out)], empty),
            ("cnnviz gallery (up to date)", [*cnnviz, "gallery", "--out", str(out)], None),
            ("cnnviz gallery --check", [*cnnviz, "gallery", "--out", str(out), "--check"], None),
            ("cnnviz gallery --jobs 1 (empty folder)", [*cnnviz, "gallery", "--out", str(out), "--jobs", "1"], empty),
        ]
        timed(cases[2][1], 1, tmp, empty)  # warm the file cache once: "cold" means a new process, not a cold disk
        results = [(name, timed(argv, args.runs, tmp, before)) for name, argv, before in cases]
        files = sum(1 for p in out.iterdir() if p.is_file())

    rows = table_rows(results)
    summary = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "files": files, "rows": rows}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print_table(rows, f"s, {args.runs} cold runs each, {os.cpu_count()} CPUs, {files} files")


if __name__ == "__main__":
    main()

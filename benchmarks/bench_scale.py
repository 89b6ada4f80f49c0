"""How `cnnviz render` grows with the network: ResNet-like specs of N bottleneck blocks.

    python benchmarks/bench_scale.py                       # the default curve (one run each)
    python benchmarks/bench_scale.py --blocks 250,500 --full-max 500 --json
    python benchmarks/bench_scale.py --tree /tmp/scale_before   # another copy of the code

Each spec is a ResNet stem, four stages of bottleneck blocks (a projection
block, then identity blocks, in ResNet-50's proportions 3:4:6:3) and a head.
Two ways of writing it:

* ``lines``: every block on a line of its own (nothing for the spec stage to
  fold; the drawing finds the runs of identical instances itself);
* ``repeat``: each stage's identity blocks as one ``xN`` item (split into
  items of at most 1024, the spec stage's largest repeat).

Every render is a fresh process, ``python -m cnnviz render SPEC`` with
``PYTHONPATH`` set to ``--tree`` (so an unpacked copy of older code runs as it
is, nothing installed), started from a small wrapper process that reports:

* seconds: wall-clock time of the whole render;
* CPU s: the CPU time of the whole tree (user and system; steadier than the
  wall clock on a shared machine);
* MiB (largest): the peak resident memory of the largest single process of the
  tree, cnnviz or the layout binary (``getrusage(RUSAGE_CHILDREN).ru_maxrss``);
* MiB (tree): the peak of the whole tree's resident memory summed, sampled from
  ``/proc`` every 20 ms (Linux only; a short spike can be missed).

Not a test: timings depend on the machine; run it by hand and compare the
curve's shape (about ×2 per doubling is linear).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ((64, 3), (128, 4), (256, 6), (512, 3))  # width, share of the blocks (ResNet-50's)
MAX_REPEAT = 1024

HEAD = """\
name: ResNet-like {n}
input: [3, 224, 224]
defaults:
  conv: {{bias: false, bn: true, act: relu}}
modules:
  conv_block:
    label: conv block
    args: {{width: null, stride: 1}}
    layers:
      - add:
          - [conv $width 1x1, conv $width 3x3 /$stride, conv $(4*width) 1x1 act=none]
          - conv $(4*width) 1x1 /$stride act=none
      - relu
  identity_block:
    label: identity block
    args: [width]
    layers:
      - add:
          - [conv $width 1x1, conv $width 3x3, conv $(4*width) 1x1 act=none]
          - identity
      - relu
layers:
  - conv 64 7x7 /2
  - maxpool 3x3 /2 padding=1
"""


def stage_sizes(n: int) -> list[int]:
    """N blocks shared among the four stages as 3:4:6:3, each stage at least one block."""
    total = sum(s for _, s in STAGES)
    sizes = [max(1, n * s // total) for _, s in STAGES]
    sizes[2] += n - sum(sizes)  # the rest to the longest stage, as ResNet-101/152 do
    return sizes


def spec(n: int, style: str) -> str:
    """A ResNet-like spec of ``n`` bottleneck blocks, written one per line or as repeats."""
    out = [HEAD.format(n=n)]
    for (width, _), size in zip(STAGES, stage_sizes(n)):
        stride = "" if width == 64 else " /2"
        out.append(f"  - conv_block {width}{stride}\n")
        rest = size - 1
        if style == "lines":
            out += [f"  - identity_block {width}\n"] * rest
        else:
            while rest > 0:
                k = min(rest, MAX_REPEAT)
                out.append(f"  - identity_block {width} x{k}\n" if k > 1 else f"  - identity_block {width}\n")
                rest -= k
    out.append("  - gap\n  - dense 1000\n")
    return "".join(out)


# The wrapper: runs one command, samples the tree's memory, prints one JSON line.
WRAPPER = r"""
import json, os, resource, subprocess, sys, threading, time

def tree_rss(pid):
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return total

timeout = float(sys.argv[1])
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
peak = [0]
def sample():
    while proc.poll() is None:
        peak[0] = max(peak[0], tree_rss(proc.pid))
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
try:
    _, err = proc.communicate(timeout=timeout)
    status = proc.returncode
except subprocess.TimeoutExpired:
    proc.kill()
    _, err = proc.communicate()
    status = "timeout"
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
largest = usage.ru_maxrss / 1024  # KiB on Linux
tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if status != 0 else []
print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "mib_largest": largest, "mib_tree": peak[0] / 2**20, "status": status, "error": tail}))
"""


def measure(argv: list[str], tree: Path, cwd: str, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run([sys.executable, "-c", WRAPPER, str(timeout), *argv], cwd=cwd, env=env, capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the wrapper failed:\n{proc.stderr.decode(errors='replace')}")
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", default="250,500,1000,2000,4000", help="block counts for the compact view (default 250,500,1000,2000,4000)")
    ap.add_argument("--full-max", type=int, default=2000, help="largest block count for the full view (default 2000)")
    ap.add_argument("--styles", default="lines,repeat", help="how the blocks are written: lines, repeat or both (default)")
    ap.add_argument("--tree", type=Path, default=ROOT, help="the copy of cnnviz to run (PYTHONPATH; default this checkout)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds before a render is stopped (default 900)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()

    blocks = [int(b) for b in args.blocks.split(",") if b]
    styles = [s for s in args.styles.split(",") if s]
    cnnviz = [sys.executable, "-m", "cnnviz", "render"]
    rows: list[dict] = []

    def record(what: str, n: int | None, style: str, detail: str, target: str, tmp: str) -> None:
        r = measure([*cnnviz, target, "--detail", detail, "-o", "out.svg"], args.tree, tmp, args.timeout)
        rows.append({"spec": what, "blocks": n, "style": style, "detail": detail, **r})
        if not args.json:
            show(rows[-1])

    if not args.json:
        print(f"{'spec':<14} {'style':<7} {'detail':<8} {'seconds':>8} {'CPU s':>7} {'MiB largest':>12} {'MiB tree':>9}  status")
    with tempfile.TemporaryDirectory() as tmp:
        measure([sys.executable, "-m", "cnnviz", "render", "resnet50", "-o", "out.svg"], args.tree, tmp, args.timeout)  # warm the file cache
        for detail in ("compact", "full"):
            record("resnet50", None, "-", detail, "resnet50", tmp)
        for style in styles:
            for detail in ("compact", "full"):
                for n in blocks:
                    if detail == "full" and n > args.full_max:
                        continue
                    path = Path(tmp) / f"resnet_like_{n}_{style}.yaml"
                    path.write_text(spec(n, style))
                    record(f"{n} blocks", n, style, detail, str(path), tmp)
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "tree": str(args.tree), "cpus": os.cpu_count(), "rows": rows}, indent=2))


def show(r: dict) -> None:
    status = "ok" if r["status"] == 0 else f"{r['status']}: {' '.join(r['error'])}"[:90]
    print(f"{r['spec']:<14} {r['style']:<7} {r['detail']:<8} {r['seconds']:8.2f} {r['cpu']:7.2f} {r['mib_largest']:12.0f} {r['mib_tree']:9.0f}  {status}", flush=True)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - start:.0f} s in all)", file=sys.stderr)

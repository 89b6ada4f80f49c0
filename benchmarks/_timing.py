"""What the benchmark scripts share: timing whole processes and printing the medians."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def cnnviz_exe() -> list[str]:
    exe = Path(sys.executable).parent / ("cnnviz.exe" if os.name == "nt" else "cnnviz")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cnnviz"]


def timed(argv: list[str], runs: int, cwd: str, before=None) -> list[float]:
    """Wall-clock seconds of ``runs`` fresh processes; ``before`` runs untimed before each."""
    out = []
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
        out.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.decode(errors='replace')}")
    return out


def rows(results: list[tuple[str, list[float]]]) -> list[dict]:
    return [
        {"command": n, "median_s": round(statistics.median(t), 3), "min_s": round(min(t), 3), "max_s": round(max(t), 3), "runs": len(t)}
        for n, t in results
    ]


def print_table(table: list[dict], note: str) -> None:
    width = max(len(r["command"]) for r in table)
    print(f"{'command':<{width}}  median     min     max  ({note})")
    for r in table:
        print(f"{r['command']:<{width}}  {r['median_s']:6.3f}  {r['min_s']:6.3f}  {r['max_s']:6.3f}")

"""Hostile specs too big to keep as case files: each gives its exact located error line(s),
exit code 1 and no traceback, within a wall-clock and a memory budget.

Each runs ``cnnviz validate`` in a child process (so that a crash, a hang or a
memory blow-up fails the test instead of the test run): at most 10 seconds,
and at most 2 GiB of address space (``RLIMIT_AS``).  The small hostile specs
are case files in ``tests/cases/invalid/`` (``test_spec_errors.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.spec.limits import MAX_CALL_DEPTH, MAX_EXPR_CHARS, MAX_EXPR_WORK, MAX_EXTENDS, MAX_ITEMS, MAX_NESTING, MAX_PROBLEMS, MAX_TEXT

TIMEOUT = 10  # seconds, for the whole command
MEMORY = 2 << 30  # bytes of address space
HEAD = "name: Hostile\ninput: [3, 8, 8]\n"
TOO_LARGE = "whole number too large (the limit is 2**63 - 1)"
TOO_LONG = f"text longer than {MAX_TEXT} characters (a layer line or a value is a few words)"
NAME_TOO_LONG = "file name too long (at most 255 bytes a name, 4096 in all)"
BUDGET = f"the network unrolls to more than {MAX_ITEMS:,} items (layers, module calls, branches, each copy counted); check repeat counts"


def _limit_memory() -> None:  # runs in the child, before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def validate(*args: str, cwd: Path) -> tuple[int, list[str], str]:
    """Run ``cnnviz validate ARGS`` in a bounded child; (exit code, error lines, all output)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cnnviz", "validate", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            preexec_fn=_limit_memory if sys.platform != "win32" else None,  # noqa: PLW1509 (no threads here)
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"cnnviz validate took more than {TIMEOUT} s")
    return done.returncode, done.stderr.splitlines(), done.stdout + done.stderr


def check(tmp_path: Path, text: str, expected: list[str]) -> None:
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    code, lines, output = validate("spec.yaml", cwd=tmp_path)
    assert "Traceback" not in output, output[-2000:]
    assert code == 1, output[-2000:]
    assert lines == [f"spec.yaml:{e}" if e[0].isdigit() else f"spec.yaml: {e}" for e in expected]


def modules(lines: list[str]) -> str:
    return HEAD + "modules:\n" + "".join(f"  {line}\n" for line in lines)


# -- the spec's text ---------------------------------------------------------------------------


def chain(n: int, body: str = "[relu]") -> str:
    """Module m0 calls m1 calls m2 ... calls m{n}."""
    return modules([f"m{i}: {{layers: [m{i + 1}]}}" for i in range(n)] + [f"m{n}: {{layers: {body}}}"]) + "layers: [m0]\n"


def nested_items(n: int) -> str:
    """Branches inside branches, n deep, in one module body (YAML nesting 2 per level)."""
    item = "relu"
    for _ in range(n):
        item = f"{{add: [[{item}], identity]}}"
    return HEAD + f"layers: [{item}]\n"


def nested_calls(n: int) -> str:
    """n modules, each an add whose branch calls the next: items nested 2n deep."""
    return modules([f"m{i}: {{layers: [{{add: [[m{i + 1}], identity]}}]}}" for i in range(n)] + [f"m{n}: {{layers: [relu]}}"]) + "layers: [m0]\n"


def empty_calls(fan: int, levels: int) -> str:
    """Each module calls the one before ``fan`` times, written out, down to an empty module."""
    lines = ["m0: {layers: []}"] + [f"m{i}: {{layers: [{', '.join([f'm{i - 1}'] * fan)}]}}" for i in range(1, levels + 1)]
    return modules(lines) + f"layers: [m{levels}]\n"


def substitutions(fan: int, refs: int) -> str:
    """fan x fan calls of a module that sets ``refs`` vars from its argument."""
    local = ", ".join(f"v{i}: $(w)" for i in range(refs))
    return (
        modules([f"m0: {{args: [w], vars: {{{local}}}, layers: [identity]}}", f"m1: {{layers: [{', '.join(['m0 1'] * fan)}]}}"])
        + f"layers: [{', '.join(['m1'] * fan)}]\n"
    )


DEEP = 50_000
LINE3 = 8 + 1  # `layers: ` and then the first bracket, on line 3


@pytest.mark.parametrize(
    "text, expected",
    [
        # nesting: measured before the document is built (50,000 levels overflowed libyaml's stack)
        (HEAD + "layers: " + "[" * DEEP + "]" * DEEP + "\n", [f"3:{LINE3 + 63}: nesting deeper than 64 levels"]),
        (HEAD + "layers: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n", [f"3:{LINE3 + 4 * 63}: nesting deeper than 64 levels"]),
        (HEAD + "layers:\n" + "".join(" " * i + "- \n" for i in range(200)), ["67:64: nesting deeper than 64 levels"]),
        # module calls and items nested too deep (a chain of 330 modules was a RecursionError)
        (chain(330), [f"{4 + MAX_CALL_DEPTH - 1}:18: module calls nested more than {MAX_CALL_DEPTH} deep (m0 → m1 → m2 → … → m30 → m31 → m32)"]),
        (nested_calls(40), [f"{4 + 31}:26: items nested more than {MAX_NESTING} deep (module calls, branches, towers, aux heads)"]),
        # work: calls of empty modules count like layers; a repeat like its copies written out
        (empty_calls(20, 8), [f"5:{17 + 4 * 15}: " + BUDGET]),  # the 16th call of m0 in m1 passes the budget
        (HEAD + "layers: [conv 8 3x3 x100000]\n", ["3:10: " + BUDGET]),
        (HEAD + "layers: [" + ", ".join(["relu"] * (MAX_ITEMS + 1)) + "]\n", [f"3:{10 + 6 * MAX_ITEMS}: " + BUDGET]),
        # 122 steps a call (2 to bind, 30 to set the vars, 3 to evaluate each): the 2,049th call, the 50th of m0 in m1
        (substitutions(200, 30), [f"5:{17 + 6 * 48}: substituting the spec's $ references, module arguments and vars takes more than {MAX_EXPR_WORK:,} steps"]),
        # expressions: a chain of 3,000 operators (a RecursionError in ast.parse), powers of powers
        (HEAD + "layers: [conv $(" + "-" * 3000 + "1) 3x3]\n", [f"3:10: expression longer than {MAX_EXPR_CHARS} characters: '{'-' * 40}...'"]),
        (HEAD + "layers: [conv $(" + "1+" * 3000 + "1) 3x3]\n", ["3:10: " + TOO_LONG]),
        (
            modules(["m: {args: [w], vars: {a: $((w**64)**64), b: $((a**64)**64), c: $((b**64)**64), d: $((c**64)**64)}, layers: [relu]}"]) + "layers: [m 9]\n",
            ["4:28: m: vars: a: a whole number larger than 2**63 - 1 in '(w**64)**64'"],
        ),
        # whole numbers of 4,400 digits (Python cannot print them): refused where written
        (HEAD + "year: 0x" + "F" * 4400 + "\nlayers: [relu]\n", ["3:7: " + TOO_LARGE]),
        (HEAD + "layers: [relu]\nexpect: {params: " + "9" * 4400 + "}\n", ["4:18: " + TOO_LARGE]),
        (HEAD + "layers: [{relu: null, repeat: " + "9" * 4400 + "}]\n", ["3:31: " + TOO_LARGE]),
        (modules(["m: {label: 0x" + "F" * 4400 + ", layers: [relu]}"]) + "layers: [m]\n", ["4:14: " + TOO_LARGE]),
        (HEAD + "layers: [conv " + "9" * 4000 + " 3x3]\n", ["3:10: conv: filters: " + TOO_LARGE]),
        (HEAD + "layers: [relu x" + "9" * 4000 + "]\n", ["3:10: repeat: " + TOO_LARGE]),
        (HEAD + "layers: [conv 8 3x3 x" + "9" * 4400 + "]\n", ["3:10: " + TOO_LONG]),
        # long text, and too many problems
        (HEAD + "layers: [conv 8 3x3 " + "bn " * 2000 + "]\n", ["3:10: " + TOO_LONG]),
        (
            HEAD + "layers:\n" + "".join(f"  - nosuch{i}\n" for i in range(2 * MAX_PROBLEMS)),
            [f"more than {MAX_PROBLEMS} problems; stopped here"] + [f"{4 + i}:5: unknown layer type or module 'nosuch{i}'" for i in range(MAX_PROBLEMS + 1)],
        ),
    ],
    ids=[
        "deep-list",
        "deep-mapping",
        "deep-block-list",
        "module-chain",
        "nested-items",
        "empty-calls",
        "huge-repeat",
        "written-out-copies",
        "substitution-work",
        "3000-unary-operators",
        "3000-binary-operators",
        "power-chain",
        "year-4400-digits",
        "params-4400-digits",
        "repeat-4400-digits",
        "label-4400-digits",
        "filters-4000-digits",
        "repeat-token-4000-digits",
        "repeat-token-4400-digits",
        "long-line",
        "many-problems",
    ],
)
def test_hostile_spec(tmp_path, text, expected):
    check(tmp_path, text, expected)


def test_a_repeat_is_limited_only_by_the_budget(tmp_path):
    # x1025 was refused while 1025 copies written out were accepted; now both are accepted
    (tmp_path / "repeat.yaml").write_text(HEAD + "layers: [relu x5000]\n", encoding="utf-8")
    (tmp_path / "copies.yaml").write_text(HEAD + "layers: [" + ", ".join(["relu"] * 5000) + "]\n", encoding="utf-8")
    from cnnviz.spec import load_spec

    assert load_spec(tmp_path / "repeat.yaml").body[0].repeat == 5000
    assert len(load_spec(tmp_path / "copies.yaml").body) == 5000


# -- what is read -------------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


def test_a_fifo_given_as_the_spec_is_refused_unread(tmp_path, fifo):
    code, lines, output = validate(fifo.name, cwd=tmp_path)
    assert (code, lines) == (1, ["pipe.yaml: is a named pipe, not a spec file; only regular files are read"]), output


def test_a_fifo_named_by_extends_is_refused_unread(tmp_path, fifo):
    check(tmp_path, "extends: pipe.yaml\n" + HEAD + "layers: [relu]\n", ["1:10: extends: pipe.yaml: is a named pipe, not a spec file; only regular files are read"])


def test_a_device_is_refused_unread(tmp_path):
    if not Path(os.devnull).exists() or os.name != "posix":
        pytest.skip("no /dev/null here")
    code, lines, _ = validate(os.devnull, cwd=tmp_path)
    assert (code, lines) == (1, [f"{os.devnull}: is a device, not a spec file; only regular files are read"])
    check(tmp_path, f"extends: {os.devnull}\n" + HEAD + "layers: [relu]\n", [f"1:10: extends: {os.devnull}: is a device, not a spec file; only regular files are read"])


def test_a_file_name_too_long_is_refused(tmp_path):
    code, lines, output = validate("a" * 300 + ".yaml", cwd=tmp_path)
    assert "Traceback" not in output
    assert (code, lines) == (1, ["a" * 60 + "...: " + NAME_TOO_LONG])
    check(tmp_path, "extends: " + "b" * 300 + ".yaml\n" + HEAD + "layers: [relu]\n", ["1:10: extends: " + NAME_TOO_LONG])
    check(tmp_path, "extends: " + "b" * 300 + "\n" + HEAD + "layers: [relu]\n", ["1:10: extends: " + NAME_TOO_LONG])


def test_an_extends_chain_is_limited(tmp_path):
    for i in range(MAX_EXTENDS + 4):
        (tmp_path / f"s{i}.yaml").write_text(f"extends: s{i + 1}.yaml\n" + HEAD, encoding="utf-8")
    (tmp_path / f"s{MAX_EXTENDS + 4}.yaml").write_text(HEAD + "layers: [relu]\n", encoding="utf-8")
    code, lines, _ = validate("s0.yaml", cwd=tmp_path)
    assert (code, lines) == (1, [f"s{MAX_EXTENDS - 1}.yaml:1:10: extends: more than {MAX_EXTENDS} specs extend one another"])

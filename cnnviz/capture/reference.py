"""Model references: ``PATH.py:NAME`` and ``package.module:NAME`` (torch-free until used).

The one rule that tells them from specs: an argument with a ``:`` that is not a spec
path (``.yaml``/``.yml``) and not a Windows drive (``C:\\``) is a model reference;
anything else is a catalogue id or a spec path (:mod:`cnnviz.spec.catalogue`).
Reading a spec never imports anything; a model reference imports and runs Python
code (the user's file, or the package named)."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, SpecError

_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_NAME = re.compile(r"^[A-Za-z_][\w.]*$")
NAMING_ARGS = ("model_name", "arch", "name", "model", "variant")  # a factory's argument that names the model it builds


def is_model_ref(text: str) -> bool:
    return ":" in text and not _DRIVE.match(text) and not text.lower().endswith((".yaml", ".yml"))


@dataclass(frozen=True)
class ModelRef:
    """A model to import, with what building and running it needs."""

    text: str  # as written: 'torchvision.models:resnet50', 'net.py:Net'
    args: dict[str, Any] = field(default_factory=dict)  # constructor keyword arguments (--arg)
    input: tuple[int, ...] = (3, 224, 224)  # without the batch dimension (--input)
    fold: str = "strict"  # strict | loose

    @property
    def target(self) -> str:
        return self.text.rsplit(":", 1)[0]

    @property
    def name(self) -> str:
        return self.text.rsplit(":", 1)[1]

    @property
    def title(self) -> str:
        """What the model is called (the spec's name, ``import``'s default file): NAME, or for
        a generic factory (``timm:create_model --arg model_name=resnet50``) the model it is asked for."""
        for key in NAMING_ARGS:
            value = self.args.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return self.name

    @property
    def file_stem(self) -> str:
        return re.sub(r"[^\w.-]+", "_", self.title).strip("._") or self.name


def command_line(ref: ModelRef) -> str:
    """MODEL and its options as written on the command line, to run again as they are:
    ``timm:create_model --arg model_name=convnext_tiny --arg pretrained=false --input 3x224x224``."""
    words = [ref.text, *(w for k, v in ref.args.items() for w in ("--arg", f"{k}={yaml_scalar(v)}"))]
    words += ["--input", "x".join(map(str, ref.input))] + (["--fold", ref.fold] if ref.fold != "strict" else [])
    return " ".join(shlex.quote(w) for w in words)


def yaml_scalar(value: Any) -> str:
    """A value as ``--arg`` reads it back (a YAML scalar): null, true, 10, resnet50, '10'."""
    return yaml.safe_dump(value, default_flow_style=True, width=1 << 20).removesuffix("\n...\n").strip()


def parse_args(pairs: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``key=value`` pairs, values read as YAML scalars (safely): 10, 0.5, true, null, text."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise SpecError(f"--arg {pair}: expected key=value, with key a Python identifier")
        try:
            out[key] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            out[key] = value
    return out


def parse_input(text: str) -> tuple[int, ...]:
    """``3x224x224`` (or ``3,224,224``; ``128`` for a vector of features) → (3, 224, 224)."""
    parts = re.split(r"[x×,]", text.strip())
    if not all(p.strip().isdigit() and 0 < int(p) < 1 << 16 for p in parts) or len(parts) not in (1, 3):
        raise SpecError(f"--input {text}: expected a shape like 3x224x224 (channels x height x width)")
    return tuple(int(p) for p in parts)


def load_factory(ref: ModelRef) -> Any:
    """The class or function NAME of the file or module (imports it: runs its code)."""
    target, name = ref.target, ref.name
    if not _NAME.match(name):
        raise SpecError(f"{ref.text}: '{name}' is not a Python name (write FILE.py:NAME or package.module:NAME)")
    try:
        if target.endswith(".py") or "/" in target or "\\" in target:
            path = Path(target)
            if not path.is_file():
                raise SpecError(f"{ref.text}: no such file {target}")
            mod_name = f"cnnviz_model_{abs(hash(str(path.resolve())))}"
            spec = importlib.util.spec_from_file_location(mod_name, path)
            if spec is None or spec.loader is None:
                raise SpecError(f"{ref.text}: cannot import {target}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except SpecError:
        raise
    except Exception as exc:  # noqa: BLE001  (the user's code: any failure is their model's)
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise SpecError(f"{ref.text}: importing {target} failed: {type(exc).__name__}: {first}") from None
    first, *attrs = name.split(".")
    if not hasattr(module, first):
        raise SpecError(f"{ref.text}: {target} has no '{first}'")
    found = getattr(module, first)
    while attrs and hasattr(found, attrs[0]):  # a class inside a class
        found = getattr(found, attrs.pop(0))
    if not callable(found):
        raise SpecError(f"{ref.text}: expected a torch.nn.Module (a class or a function that returns one), got {type(found).__name__}")
    return functools.partial(_part_of, found, attrs, ref.text) if attrs else found


def _part_of(factory: Any, path: list[str], label: str, **args: Any) -> Any:
    """``NAME.backbone``: the model NAME builds, then its attribute ``backbone`` (a part drawn on its own)."""
    built = factory(**args)
    for k, attr in enumerate(path):
        if not hasattr(built, attr):
            raise SpecError(f"{label}: the model has no part '{'.'.join(path[:k + 1])}'")
        built = getattr(built, attr)
    return built


def generated_problems(problems: list[Problem]) -> list[str] | None:
    """The lines to show for problems located in the spec generated for a model (a text the
    user never sees: a bug of cnnviz's), or None when there are none.  Each says whose fault
    it is; the last how to see that spec."""
    ours = [p for p in problems if p.line and is_model_ref(p.path)]
    if not ours:
        return None
    lines = [str(p) for p in problems if p not in ours]
    for p in ours:
        lines.append(f"{p.path}: cnnviz generated a spec for this model that it cannot read (a bug in cnnviz, please report it): line {p.line}: {p.message}")
    ref = ours[-1].path
    lines.append(f"{ref}: to see that spec: cnnviz import {ref} --no-check -o - (with the same --arg, --input and --fold)")
    return lines

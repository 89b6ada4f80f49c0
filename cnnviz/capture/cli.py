"""The body of ``cnnviz import``: a model → its spec, written as YAML."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..files import check_target, write_atomic
from ..terminal import echo
from . import ModelRef, eject, is_model_ref, parse_args, parse_input


def run(model: str, output: str | None, model_args: tuple[str, ...], model_input: str | None, fold: str, check: bool = True) -> None:
    if not is_model_ref(model):
        raise click.UsageError(f"'{model}' is not a model reference: write FILE.py:NAME or package.module:NAME")
    ref = ModelRef(model, parse_args(model_args), parse_input(model_input) if model_input else (3, 224, 224), fold)
    path = None if output == "-" else Path(output or f"{ref.file_stem}.yaml")
    if path is not None:
        check_target(path)  # before the import: a bad -o fails fast
    text = eject(ref)
    if check:
        from ..spec.parse import load_spec_text

        load_spec_text(text, ref.text, ref.file_stem)  # the spec stage reads what is written
    if path is None:
        sys.stdout.write(text)
        return
    write_atomic(path, text.encode("utf-8"))
    echo(f"wrote {path}", err=True)

"""What an ARCH argument of a command names: a catalogue id, a spec path, or a MODEL
reference (``model.py:Net``, ``torchvision.models:resnet50``), and the options that
say how to build, run and fold a MODEL.  The commands of :mod:`cnnviz.cli` share these."""

from __future__ import annotations

import click

from .terminal import echo


def model_options(func):
    """--arg, --input and --fold: how to build, run and fold a MODEL argument."""
    func = click.option(
        "--fold",
        type=click.Choice(["strict", "loose"]),
        default="strict",
        show_default=True,
        help="MODEL: fold identical neighbouring blocks into ×N; loose also folds blocks whose input channels differ (DenseNet).",
    )(func)
    func = click.option("--input", "model_input", metavar="CxHxW", help="MODEL: the input shape without the batch.  [default: 3x224x224]")(func)
    func = click.option("--arg", "model_args", metavar="KEY=VALUE", multiple=True, help="MODEL: a constructor argument (repeatable); the value is read as a YAML scalar.")(func)
    return func


def resolve_arch(arch, model_args=(), model_input=None, fold="strict"):
    """The one place an ARCH argument is told apart: a MODEL reference becomes the spec of
    that model (imports torch and the model's code); a catalogue id or spec path stays as it is."""
    from .capture.reference import is_model_ref

    if not is_model_ref(arch):
        return arch
    from .capture import ModelRef, model_spec, parse_args, parse_input

    shape = parse_input(model_input) if model_input else (3, 224, 224)
    spec = model_spec(ModelRef(arch, parse_args(model_args), shape, fold))
    if spec.unused:  # the drawn count is not sum(p.numel()): say so, once, beside the output
        echo(
            f"cnnviz: warning: {arch}: {spec.unused:,} of the model's parameters are not drawn or counted: its forward pass, "
            "traced once on a zero (or meta) input, did not use them (a branch taken on that input, a module it never calls)",
            err=True,
        )
    return spec


def load_arch(arch, *options):
    """A spec of ARCH (a spec file, catalogue id or MODEL)."""
    from .spec import Spec, load_spec

    got = resolve_arch(arch, *options)
    return got if isinstance(got, Spec) else load_spec(got)

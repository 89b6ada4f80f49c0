"""The ``cnnviz`` command line.  Thin: each command imports its backend inside its body,
so that ``cnnviz --help`` and a plain render never import torch.

Every line it prints goes through :mod:`cnnviz.terminal`, which shows the control
characters of user text (names, labels, keys, paths) escaped: error lines in
:func:`report`, click's own usage errors in :class:`Cli`, results and messages
through :func:`~cnnviz.terminal.echo`."""

from __future__ import annotations

import sys

import click

from . import __version__
from .archs import load_arch, model_options, resolve_arch
from .errors import CnnvizError, OutputError, SpecError
from .terminal import echo, safe, safe_lines

ARCH = click.argument("arch", metavar="ARCH|FILE|MODEL")
ERROR_EXIT = "cnnviz.error_exit"  # ctx.meta key: the exit code of a user error (diff --exit-code sets 2)


class Cli(click.Group):
    """The command group; the one place where library errors become messages and exit codes."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            raise _escaped(exc) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CnnvizError as exc:
            report(exc)
            ctx.exit(ctx.meta.get(ERROR_EXIT, 1))
        except click.ClickException as exc:  # a usage error quotes the user's arguments
            raise _escaped(exc) from None


def _escaped(exc: click.ClickException) -> click.ClickException:
    """The exception, its message (which quotes what the user typed) terminal-safe."""
    vars(exc)["message"] = safe(exc.message)  # (click types the attribute Final)
    return exc


def report(exc: CnnvizError) -> None:
    """Show an error's lines on standard error: no 'Error:' prefix, no traceback, and
    each line terminal-safe.  An output error is one line about one path, whatever
    characters the path holds."""
    lines = [str(exc)] if isinstance(exc, OutputError) else exc.lines()
    if isinstance(exc, SpecError):  # located in the spec generated for a model: ours, said so
        from .capture.reference import generated_problems

        lines = generated_problems(exc.problems) or lines
    for line in lines:
        echo(line, err=True)


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cnnviz")
def cli():
    """Compact diagrams of convolutional networks from YAML specs.

    ARCH is a catalogue id or alias (see 'cnnviz list'); FILE is a path to a spec of
    your own.  An argument is a FILE when it contains a '/' or ends in .yaml or .yml,
    else an ARCH: write ./resnet50 for a file named resnet50.

    MODEL (an argument with a ':') is a PyTorch model, FILE.py:NAME or
    package.module:NAME, imported and drawn compactly ('cnnviz import' writes its spec).
    Importing a model runs its Python code; reading a spec never does.
    """


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def list_cmd(as_json):
    """The catalogue: id, name, year and parameter count of every architecture.

    The counts are the specs' declared figures, which the test-suite checks
    against the torch shape pass; 'cnnviz validate ID' recomputes one."""
    from .present import exact
    from .registry import entries

    items = entries()
    if as_json:
        import json

        click.echo(json.dumps(items, indent=2))
        return
    rows = [(safe(e["id"]), safe(e["name"]), e["year"] or "", exact(e["params"])) for e in items]
    wid = max(len(r[0]) for r in rows)
    wname = max(len(r[1]) for r in rows)
    for ident, name, year, params in rows:
        echo(f"{ident:<{wid}}  {name:<{wname}}  {year:<4}  {params:>12}")


@cli.command()
@click.argument("archs", metavar="ARCH|FILE|MODEL...", nargs=-1, required=True)
@model_options
def validate(archs, model_args, model_input, fold):
    """Check specs: syntax, shapes and declared expectations.

    Prints one OK line per spec, or every problem as path:line:col: message.  Every
    spec is read before the shape pass starts, so spec errors come first and cost no
    torch import."""
    from . import shape_stage
    from .errors import MissingDependency
    from .graph import build_network
    from .present import exact, shape

    failed = False
    read = []
    for ref in archs:
        try:
            read.append((ref, build_network(load_arch(ref, model_args, model_input, fold))))
        except CnnvizError as exc:
            report(exc)
            failed = True
    for ref, net in read:
        try:
            r = shape_stage().infer(net)
        except MissingDependency:
            raise  # not about this spec: stop here instead of repeating it for every one
        except CnnvizError as exc:
            report(exc)
            failed = True
            continue
        aux = f" (+{exact(r.aux)} aux)" if r.aux else ""
        outs = r.outputs_of(net)
        said = ", ".join(f"{k} {shape(s)}" for k, s in outs.items()) if len(outs) > 1 else shape(r.output_of(net))
        echo(f"OK {ref}: {net.name}, {exact(r.total)} params{aux}, output{'s' * (len(outs) > 1)} {said}")
    if failed:
        sys.exit(1)


@cli.command()
@ARCH
@click.option("--json", "as_json", is_flag=True, help="One JSON object: name, input, output, outputs, params, params_aux, layers.")
@click.option("--depth", type=click.IntRange(1, 64), default=2, show_default=True, help="Levels of nesting to show in the table (1: the top-level items only).")
@model_options
def summary(arch, as_json, depth, model_args, model_input, fold):
    """A layer-by-layer table: path, type, output shape, parameters.

    A declared expectation (expect: params, output, shapes) that the network breaks is
    reported after the table, which is printed all the same; the exit status is then 1."""
    from . import shape_stage
    from .graph import build_network
    from .summary import as_json as to_json
    from .summary import table

    net = build_network(load_arch(arch, model_args, model_input, fold))  # a spec error costs no torch import
    stage = shape_stage()
    r = stage.infer(net, check=False)  # shapes that do not fit stop here; broken expectations come after the table
    if as_json:  # json.dumps escapes every control character
        click.echo(to_json(net, r))
    else:
        click.echo(safe_lines(table(printable(net), r, depth)))
    sys.stdout.flush()  # the table first, then what it contradicts
    stage.check_expect(net, r)


def printable(net):
    """The network with its free text (its name, module labels) terminal-safe: the table
    joins its rows into one text, after which a line break inside a label could no
    longer be told from the table's own."""
    from dataclasses import replace

    blocks = {p: replace(b, label=safe(b.label)) for p, b in net.blocks.items()}
    return replace(net, name=safe(net.name), blocks=blocks)


@cli.command("render")
@ARCH
@click.option("-o", "--output", metavar="FILE", help="Where to write: a file, a folder (for <id>.<format>), or '-' for standard output.  [default: <id>.<format>]")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["svg", "png", "pdf", "dot", "json"]),
    help="svg, png, pdf (needs system Graphviz: apt-get install graphviz), dot (the positioned DOT source) "
    "or json (the collapsed graph).  [default: from the -o suffix, else svg]",
)
@click.option(
    "--detail",
    type=click.Choice(["compact", "modules", "full"]),
    default="compact",
    show_default=True,
    help="compact: one box per module, insides drawn once beside; modules: one level expanded; full: every layer.",
)
@click.option(
    "--direction",
    type=click.Choice(["LR", "TB"], case_sensitive=False),
    help="Main line left to right, or top to bottom.  [default: LR; TB for a network whose long skips draw it as a U]",
)
@click.option("--shapes", is_flag=True, help="Label edges with tensor shapes (runs the torch shape pass).")
@click.option("--params", is_flag=True, help="Label boxes with parameter counts (runs the torch shape pass).")
@click.option("--no-aux", is_flag=True, help="Leave auxiliary classifiers out (by default they are drawn dashed).")
@click.option("--engine", type=click.Choice(["graphviz-pure", "dot"]), help="Layout engine: graphviz-pure (installed with cnnviz) or dot (system Graphviz).  [default: graphviz-pure; dot for pdf]")
@click.option("--dpi", type=click.IntRange(36, 1200), default=144, show_default=True, help="Resolution of PNG output.")
@click.option("--no-legend", is_flag=True, help="Leave the legend out.")
@click.option("--no-title", is_flag=True, help="Leave the title line out.")
@model_options
def render_cmd(arch, output, fmt, detail, direction, shapes, params, no_aux, engine, dpi, no_legend, no_title, model_args, model_input, fold):
    """Draw an architecture as a compact diagram, like 'Illustrated: 10 CNN Architectures'.

    One box per module ("Inception-A ×4"), each module's inside drawn once in a
    panel, identical towers drawn once ("×32 towers"), one colour per layer type.

    \b
    SVG and PNG need nothing beyond 'pip install cnnviz' (graphviz-pure).
    PDF needs system Graphviz: apt-get install graphviz (or brew install graphviz).

    \b
    Examples:
      cnnviz render resnet50                     # writes resnet50.svg
      cnnviz render inception_v4 -o v4.png       # format from the suffix
      cnnviz render my_net.yaml --detail full -o -
      cnnviz render torchvision.models:resnet50  # a PyTorch model (runs its code)
    """
    from .drawing.cli import run

    direction = direction.upper() if direction else None  # None: LR, or TB for a U
    options = dict(detail=detail, direction=direction, shapes=shapes, params=params, aux=not no_aux, engine=engine, dpi=dpi, legend=not no_legend, title=not no_title)
    run(resolve_arch(arch, model_args, model_input, fold), output, fmt, **options)


@cli.command()
def schema():
    """Print the JSON Schema of the spec format (for editor completion and checks)."""
    from .spec.schema import shipped_schema_text

    click.echo(shipped_schema_text(), nl=False)


@cli.command("diff")
@click.argument("arch_a", metavar="A")
@click.argument("arch_b", metavar="B")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "svg", "png"]),
    help="text for the terminal, json for tools (schema in docs/diff.md), svg or png: both diagrams coloured by change.  "
    "[default: from the -o suffix (.txt, .json, .svg, .png), else text]",
)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (its suffix gives the format) instead of standard output; '-' is standard output.")
@click.option(
    "--detail",
    type=click.Choice(["compact", "modules", "full"]),
    default="modules",
    show_default=True,
    help="Top-level changes only; also the changes inside modules (pictures: changed modules before and after); or every part (pictures: every layer).",
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when the networks differ, 0 when they do not, and 2 on any error, like 'git diff --exit-code'.")
@model_options
@click.pass_context
def diff_cmd(ctx, arch_a, arch_b, fmt, output, detail, exit_code, model_args, model_input, fold):
    """What changed from A to B (catalogue ids, spec files or MODELs).

    Aligns the two networks module by module: added, removed, changed (towers,
    kernels, filters, repeat counts), renamed and unchanged parts, with the
    parameter and shape deltas per stage and the change in depth.  Text is
    coloured on a terminal only."""
    if exit_code:  # 1 means "they differ" here, so any error exits 2 (git diff exits 128)
        ctx.meta[ERROR_EXIT] = 2
    from .diff.cli import run

    options = (model_args, model_input, fold)
    identical = run(resolve_arch(arch_a, *options), resolve_arch(arch_b, *options), output, fmt, detail)
    if exit_code and not identical:
        ctx.exit(1)


@cli.command("import")
@click.argument("model", metavar="MODEL")
@click.option("-o", "--output", metavar="FILE", help="Where to write the spec ('-' for standard output).  [default: <NAME>.yaml]")
@click.option("--no-check", is_flag=True, help="Write the spec without reading it back (to see a spec that cnnviz then refuses: a bug to report).")
@model_options
def import_cmd(model, output, no_check, model_args, model_input, fold):
    """Write the spec of a PyTorch model: an editable YAML file in cnnviz's format.

    MODEL is FILE.py:NAME (a class or a function returning an nn.Module) or
    package.module:NAME, e.g. torchvision.models:resnet50.  IMPORTING A MODEL RUNS
    ITS PYTHON CODE: import only code you trust.  The spec has one module per
    distinct block, repeats as ×N, and declares the model's parameter count and
    output shape, so 'cnnviz validate net.yaml' checks it against the model.

    \b
    Examples:
      cnnviz import torchvision.models:resnet50 -o resnet50.yaml
      cnnviz import model.py:Net --arg width=32 --input 1x28x28 -o net.yaml
    """
    from .capture.cli import run

    run(model, output, model_args, model_input, fold, check=not no_check)


@cli.command("gallery")
@click.option("--out", type=click.Path(file_okay=False), help="The folder to write or check.  [default: gallery/ beside arch_specs/ in a checkout, else ./gallery]")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing every stale, missing or extra file (for CI).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), help="Processes to draw with.  [default: one per CPU]")
def gallery_cmd(out, check, jobs):
    """Draw every catalogue architecture into gallery/: one SVG each, README.md and index.html.

    The same tree gives the same bytes on any machine (the layout engine is
    always the pinned graphviz-pure), so the gallery is committed and CI runs
    'cnnviz gallery --check' to catch a spec or renderer change that was not
    followed by regenerating it."""
    from .gallery.cli import run

    run(out, check, jobs)


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: temporary files are removed on the way out


def main(argv=None):
    import signal
    import warnings

    signal.signal(signal.SIGTERM, _terminated)
    # torch warns on import when numpy is absent; cnnviz never hands it numpy arrays
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy", category=UserWarning)
    cli.main(args=argv, prog_name="cnnviz")

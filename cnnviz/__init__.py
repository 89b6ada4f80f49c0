"""cnnviz: compact, article-style diagrams of convolutional networks from YAML specs.

The pipeline runs one way — spec → graph → shapes → render | diff — and each
stage is importable on its own.  torch is imported only by the shape stage, on
first use of :func:`build_model` or :func:`infer`.
"""

__version__ = "0.1.0"


def load_spec(ref):
    """Parse and validate a catalogue id or spec path (no torch)."""
    from .spec import load_spec as _load

    return _load(ref)


def build_network(ref):
    """The typed :class:`~cnnviz.model.Network` of a catalogue id or spec path (no torch)."""
    from .graph import as_network

    return as_network(ref)


def build_graph(ref):
    """A networkx view of the network (nodes are paths; attribute ``node`` is the typed node)."""
    return build_network(ref).graph


def shape_stage():
    """The shape stage's module (:mod:`cnnviz.shapes`), which needs torch.

    Raises :class:`~cnnviz.errors.MissingDependency` with the command that installs it."""
    try:
        from . import shapes
    except ImportError as exc:
        from .errors import MissingDependency

        raise MissingDependency.torch("shapes and parameter counts", str(exc.name or exc)) from None
    return shapes


def infer(ref):
    """Shapes and parameter counts (imports torch)."""
    return shape_stage().infer(ref)


def build_model(ref):
    """A trainable ``torch.nn.Module`` built from a spec (imports torch); with extra outputs
    (``output:``) it returns a dict of them by name, the main one first as ``"out"``."""
    return shape_stage().build_model(ref)


def render(ref, **options):
    """A compact diagram's SVG text (no torch unless shapes/params); shows inline in Jupyter.

    Options: detail ("compact", "modules", "full"), direction ("LR", "TB"),
    shapes, params, aux, engine, legend, title.  ``cnnviz.diagram`` gives an
    object that also writes PNG, PDF, DOT and JSON."""
    from .drawing import render as _render

    return _render(ref, **options)


def diagram(ref, **options):
    """A :class:`cnnviz.drawing.Diagram`: ``.svg()``, ``.png()``, ``.save(path)``, ``.json()``."""
    from .drawing import Diagram

    return Diagram(ref, **options)


__all__ = ["__version__", "build_graph", "build_model", "build_network", "diagram", "infer", "load_spec", "render", "shape_stage"]

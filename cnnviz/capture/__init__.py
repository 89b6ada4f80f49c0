"""Import stage: a ``torch.nn.Module`` → a spec, upstream of the spec stage.

capture (hooks on meta, or torch.export) → structure (blocks, merges) → leaves
(our layer vocabulary) → fold (×N, one module per distinct block) → emit (the spec
as YAML text) → the spec stage reads that text like any spec.  So an imported
model is drawn, counted, summarised and diffed by the same code as a spec, and
``cnnviz import -o net.yaml`` writes exactly the spec that was drawn.

Only :mod:`cnnviz.capture.trace` and :mod:`cnnviz.capture.build` (which builds the model)
import torch, and only when a model is imported.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .reference import ModelRef, is_model_ref, parse_args, parse_input

if TYPE_CHECKING:
    from ..spec.model import Spec

__all__ = ["ModelRef", "eject", "is_model_ref", "model_spec", "parse_args", "parse_input"]


def eject(ref: ModelRef) -> str:
    """The spec of the model as YAML text, in cnnviz's format."""
    return _eject(ref)[0]


def _eject(ref: ModelRef) -> tuple[str, int]:
    """The spec as YAML text, and how many of the model's parameters its traced forward pass did not use."""
    from ..errors import SpecError
    from .emit import document
    from .fold import define
    from .items import MergeItem, fold_runs
    from .leaves import Unexpressible, custom, have
    from .lowering import lower_root
    from .ops import Frame, leaf_params
    from .reference import command_line, load_factory
    from .structure import Head, tree

    try:
        from .trace import Models, capture
    except ImportError as exc:
        if not (exc.name or "").startswith("torch"):
            raise
        from ..errors import MissingDependency

        raise MissingDependency.torch("PyTorch models", str(exc.name)) from None

    factory = load_factory(ref)
    built = Models(lambda: factory(**ref.args), ref.text, ref.args, factory)  # once: its warnings and downloads happen once
    cap = capture(built, ref.input, ref.text)
    used = _used_params(cap.ops, leaf_params)
    names = output_names(cap.names[1:])  # every further tensor returned in eval mode is an output
    heads = [Head(o, "output", n) for o, n in zip(cap.outputs[1:], names)]
    if used < cap.params:  # some modules did not run: perhaps auxiliary heads, which run in training
        try:
            trained = capture(built, ref.input, ref.text, train=True)
        except SpecError:
            trained = None
        if trained is not None and len(trained.outputs) > len(cap.outputs) and _used_params(trained.ops, leaf_params) > used:
            extra = len(cap.outputs)  # what training mode returns beyond them is auxiliary
            cap, heads = trained, [Head(o, "output", n) for o, n in zip(trained.outputs[1:extra], names)] + [Head(o, "aux") for o in trained.outputs[extra:]]
    outputs = [h for h in heads if h.role == "output"]
    out_shapes = dict(zip(names, cap.shapes[1:]))  # as the forward pass gave them (no op may have been recorded for one)
    root = tree(cap.ops, cap.output, Frame("", "", cap.root), ref.input, tuple(heads))
    main = _used_params(_upstream(cap.ops, [cap.output, *(h.out for h in outputs)]), leaf_params)
    used = _used_params(cap.ops, leaf_params)
    try:
        items = lower_root(root)
        if sum(isinstance(i, MergeItem) and i.kind == "output" for i in items) < len(outputs):
            raise Unexpressible("an output that does not branch off the model's own sequence")
    except Unexpressible as exc:
        if not have("custom"):
            raise SpecError(f"{ref.text}: cannot write {exc} as a layer of this cnnviz (no 'custom' layer type)") from None
        # one box for the whole model, each output hanging off it: counted exactly, not looked inside
        items = [custom(cap.root, main, cap.output_shape)]
        for h in outputs:  # one of its shape is the box's point itself; another was taken from inside it
            shape = out_shapes[h.name]
            items.append(MergeItem("output", [[] if shape == cap.output_shape else [custom(f"from inside {cap.root}", 0, shape)]], h.name))
    items = fold_runs(items, loose=ref.fold == "loose")
    modules = define(items)
    drawn_aux = used - main if any(isinstance(i, MergeItem) and i.kind == "aux" for i in items) else 0
    unused = cap.params - main - drawn_aux
    notes = f"The model has {cap.params:,} parameters; {unused:,} of them are not used by its forward pass." if unused else ""
    shapes = {h.name: list(out_shapes[h.name]) for h in outputs}
    expect = {"params": main, **({"params_aux": drawn_aux} if drawn_aux else {}), "output": list(cap.output_shape), **({"shapes": shapes} if shapes else {})}
    return document(ref.title, f"{command_line(ref)} (imported with {cap.method})", ref.input, items, modules, expect, notes), unused


def output_names(keys: list[str]) -> list[str]:
    """The names of a model's further outputs, from the second on: the dict key where it is a
    spec name (``p4``), else one made from it (``output_0``) or from the place (``output1``:
    what ``model(x)[1]`` returns)."""
    from ..model import MAIN_OUTPUT
    from ..spec.names import name_problem

    out: list[str] = []
    for k, key in enumerate(keys, 1):
        name = key if key and key != MAIN_OUTPUT and not name_problem(key) else f"output_{re.sub(r'[^A-Za-z0-9_-]', '_', key)}" if key else f"output{k}"
        out.append(name if name not in out else f"{name}_{k}")
    return out


def _upstream(ops, outs: list[int]) -> list:
    """The ops the values ``outs`` depend on."""
    seen: set[int] = set()
    todo = list(outs)
    while todo:
        i = todo.pop()
        if i >= 0 and i not in seen:
            seen.add(i)
            todo += ops[i].inputs
    return [op for op in ops if op.index in seen]


def _used_params(ops, leaf_params) -> int:
    seen: set[int] = set()
    total = 0
    for op in ops:
        if op.module is not None:
            if id(op.module) not in seen:
                seen.add(id(op.module))
                total += leaf_params(op)
        else:
            total += op.params
    return total


def model_spec(ref: ModelRef) -> Spec:
    """The spec of the model, read by the spec stage from the ejected text."""
    from ..spec.parse import load_spec_text

    text, unused = _eject(ref)
    spec = load_spec_text(text, ref.text, ref.file_stem)
    spec.counted = True  # its parameter count and output shape were read off the model
    spec.unused = unused
    return spec

"""Run a ``torch.nn.Module`` once and record its leaf-module calls and functional ops.

This module imports torch; only :mod:`cnnviz.capture` imports it, inside the import
stage.  ``torch.export`` on the meta device comes first (no weights allocated, every
op with its module path and shapes); when it fails (data-dependent control flow, an
op export cannot trace) a forward pass on CPU with module hooks and a torch function
mode records the same :class:`~cnnviz.capture.ops.Op` list.
"""

from __future__ import annotations

import contextlib
import io
import logging
import operator
import re
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ..errors import SpecError
from .build import Models, NotTensors, one_line
from .ops import INPUT, PARTS, Frame, Op, normalise

# Module classes kept whole even though they have children (drawn as one box).
WHOLE = ("MultiheadAttention",)


def is_leaf(module: nn.Module) -> bool:
    return next(module.children(), None) is None or type(module).__name__ in WHOLE


def _shape(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, torch.Tensor) and value.dim() >= 1:
        return tuple(int(d) for d in value.shape[1:])
    return None


class Capture:
    """The ops of one forward pass, and how they were captured."""

    def __init__(self, ops: list[Op], output: int, method: str, params: int, output_shape: tuple[int, ...]):
        self.ops, self.output, self.method, self.params, self.output_shape = ops, output, method, params, output_shape
        self.root = ""  # the model's class name
        self.outputs = [output]  # every tensor the model returns, the main output first
        self.names = [""]  # their keys when the model returns a dict, else ""
        self.shapes = [output_shape]  # their shapes, as the forward pass gave them


def capture(models: Models | Callable[[], Any], input_shape: tuple[int, ...], label: str, train: bool = False, first: str = "hooks") -> Capture:
    """Run the model once and record it.  By default: forward hooks on meta (no weights
    allocated), then hooks on CPU (a branch on a value needs real numbers), then
    torch.export on meta; ``first="export"`` tries export before the hooks.  A one-line
    error naming what failed when nothing works.

    Hooks go first because, with the function mode that records add/cat/mul between
    modules, they record the same ops as export on the torchvision models we checked
    (and structure ViT's encoder, which export hands back as one graph) at about a
    twentieth of the time (ResNet-50: 0.13 s against 2.8 s, export's own imports included)."""
    built = models if isinstance(models, Models) else Models(models, label)
    meta = built.meta

    def on_meta(how: Callable[[nn.Module, torch.Tensor], Capture]) -> Callable[[], Capture]:
        return lambda: _named(meta, _guarded(meta, lambda: how(meta, torch.empty(_batch(train), *input_shape, device="meta")), train))

    def on_cpu() -> Capture:
        model = built.on_cpu()
        return _named(model, _guarded(model, lambda: by_hooks(model, torch.zeros(_batch(train), *input_shape)), train))

    hooks = [("a forward pass with hooks on meta", on_meta(by_hooks)), (_ON_CPU, on_cpu)]
    export = [("torch.export", on_meta(by_export))]
    failures: list[tuple[str, str]] = []
    for what, attempt in (export + hooks if first == "export" else hooks + export):
        try:
            return attempt()
        except NotTensors as exc:
            raise exc.said(label) from None
        except SpecError:
            raise
        except Exception as exc:  # noqa: BLE001  (any failure sends us to the next way)
            failures.append((what, one_line(exc)))
    raise SpecError(f"{label}: {_why(failures, input_shape)}")


def _why(failures: list[tuple[str, str]], input_shape: tuple[int, ...]) -> str:
    """Why no way of capturing worked, once: the model's own failure (each way ran into the
    same error) with what to check, else each way's."""
    said = [(what, why) for what, why in failures if "on meta" not in what] or failures
    if two := next((why for _, why in said if _TWO_INPUTS.search(why)), None):
        return f"the model's forward takes more than one input ({two}): cnnviz draws models of one input tensor"
    if ran := next((why for what, why in said if what == _ON_CPU), None):  # the model itself, run as it is, failed
        shape = "×".join(map(str, input_shape))
        return f"the model could not run on an input of {shape} ({ran}): check --input (channels x height x width, default 3x224x224)"
    return "cannot capture the model: " + "; ".join(f"{what} failed ({why})" for what, why in said)


_ON_CPU = "a forward pass with hooks"
_TWO_INPUTS = re.compile(r"forward\(\) missing \d+ required positional argument")


def _named(model: nn.Module, cap: Capture) -> Capture:
    cap.root = type(model).__name__
    return cap


def _batch(train: bool) -> int:
    return 2 if train else 1  # batch norm in training mode needs two values per channel


def _guarded(model: nn.Module, run: Callable[[], Capture], train: bool = False) -> Capture:
    """Run in eval mode (train: training mode, to see auxiliary heads) without gradients, the
    model's train/eval state restored afterwards, torch's own log lines and warnings kept off
    the terminal (a failure is reported as one line)."""
    modes = [(m, m.training) for m in model.modules()]
    logging.disable(logging.CRITICAL)
    try:
        model.train(train)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run()
    finally:
        logging.disable(logging.NOTSET)
        for m, training in modes:
            m.training = training


def _total(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def by_export(model: nn.Module, x: torch.Tensor) -> Capture:
    with contextlib.redirect_stderr(io.StringIO()):  # export prints the partial graph of a failure
        ep = torch.export.export(model, (x,), strict=False)
    sig = ep.graph_signature
    state = ep.state_dict
    param_size = {name: state[target].numel() for name, target in sig.inputs_to_parameters.items() if target in state}
    modules = dict(model.named_modules())
    ops: list[Op] = []
    made: dict[str, int] = {}  # graph node name -> op index (INPUT for the user input)
    calls: dict[str, int] = {}  # leaf call key -> op index
    output = INPUT
    returned: list[int] = []
    keys: list[str] = []
    for node in ep.graph_module.graph.nodes:
        if node.op == "placeholder":
            if node.name in sig.user_inputs:
                made[node.name] = INPUT
            continue
        if node.op == "output":
            outs = node.args[0] if isinstance(node.args[0], (list, tuple)) else [node.args[0]]
            returned = [made.get(n.name, INPUT) for n in outs if isinstance(n, torch.fx.Node) and n.name in sig.user_outputs]
            spec = ep.call_spec.out_spec
            keys = [str(k) for k in spec.context] if spec is not None and isinstance(spec.type, type) and issubclass(spec.type, dict) and len(spec.context) == len(returned) else []
            output = returned[0] if returned else INPUT
            continue
        if node.op != "call_function":
            continue
        args = [a for a in _flat(node.args) if isinstance(a, torch.fx.Node)]
        val = node.meta.get("val")
        if node.target is operator.getitem and args and args[0].name in made:
            source = ops[made[args[0].name]] if made[args[0].name] != INPUT else None
            if source is None or source.fn not in PARTS or _shape(val) is None:
                made[node.name] = made[args[0].name]  # an element of a multi-output op (batch norm)
                continue
        parts = isinstance(val, (list, tuple)) and val and all(isinstance(v, torch.Tensor) for v in val)
        shape = _shape(val[0] if parts else val)
        if shape is None:
            continue  # sizes, symbols, assertions
        frames = [Frame(k, path, cls.rsplit(".", 1)[-1] if isinstance(cls, str) else cls.__name__) for k, (path, cls) in node.meta.get("nn_module_stack", {}).items()]
        frames = [f for f in frames if f.path]
        leaf = next((i for i, f in enumerate(frames) if f.path in modules and is_leaf(modules[f.path])), None)
        inputs = [made[a.name] for a in args if a.name in made]
        if leaf is not None:
            f = frames[leaf]
            if f.key in calls:
                op = ops[calls[f.key]]
                op.inputs += [i for i in inputs if i != op.index and i not in op.inputs]
                op.shape = shape
            else:
                calls[f.key] = len(ops)
                op = Op(len(ops), tuple(frames[:leaf]), _dedupe(inputs), shape, module=modules[f.path], path=f.path)
                ops.append(op)
        else:
            consts = [a for a in node.args[1:] if not isinstance(a, torch.fx.Node) and not _has_node(a)]
            params = sum(param_size.get(a.name, 0) for a in args)
            fn = "getitem" if node.target is operator.getitem else normalise(str(node.target))
            op = Op(len(ops), tuple(frames), _dedupe(inputs), shape, fn=fn, consts=consts, params=params)
            ops.append(op)
        op.in_shapes = [ops[i].shape if i != INPUT else tuple(x.shape[1:]) for i in op.inputs]
        if op.fn == "getitem" and op.inputs and op.inputs[0] != INPUT:
            op.in_shapes = list(ops[op.inputs[0]].in_shapes)  # the whole tensor the part was taken from
        made[node.name] = op.index
    if not returned:
        raise ValueError("the model returns no tensors")
    cap = Capture(ops, output, "torch.export", _total(model), ops[output].shape if output != INPUT else tuple(x.shape[1:]))
    cap.outputs = returned
    cap.names = keys or [""] * len(returned)
    cap.shapes = [ops[i].shape if i != INPUT else tuple(x.shape[1:]) for i in returned]
    return cap


def _has_node(a: Any) -> bool:
    return isinstance(a, (list, tuple)) and any(isinstance(x, torch.fx.Node) for x in _flat(a))


def _flat(args: Any) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if isinstance(a, (list, tuple)):
            out += _flat(a)
        else:
            out.append(a)
    return out


def _dedupe(xs: list[int]) -> list[int]:
    return list(dict.fromkeys(xs))


class _Recorder(TorchFunctionMode):
    """Records functional ops outside leaf modules; module hooks record the leaf calls."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[Op] = []
        self.made: dict[int, int] = {}  # id(tensor) -> op index
        self.keep: list[Any] = []  # tensors seen, kept alive so that their ids stay unique
        self.stack: list[Frame] = []
        self.inside_leaf = 0
        self.carried: dict[int, int] = {}  # id(tensor) -> parameters it was computed from (no input involved)
        self.calls = 0  # torch functions run so far (a leaf call that runs none is a no-op here)
        self.counts: dict[str, int] = {}

    def track(self, t: torch.Tensor, index: int) -> None:
        self.made[id(t)] = index
        self.keep.append(t)

    def inputs(self, values: Any) -> list[int]:
        return _dedupe([self.made[id(a)] for a in _flat(values) if isinstance(a, torch.Tensor) and id(a) in self.made])

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.calls += 1
        name = normalise(getattr(func, "__name__", str(func)))
        if not self.inside_leaf and name in PARTS and isinstance(out, (list, tuple)) and out and all(isinstance(t, torch.Tensor) for t in out):
            self.parts(name, args, kwargs, out)
            return out
        if self.inside_leaf or not isinstance(out, torch.Tensor):
            return out
        flat = _flat(list(args) + list((kwargs or {}).values()))
        inputs = self.inputs(flat)
        params = sum(a.numel() if isinstance(a, nn.Parameter) else self.carried.get(id(a), 0) for a in flat if isinstance(a, torch.Tensor))
        if not inputs:
            if params:  # computed from parameters alone (a bias table gathered): counted where it is used
                self.carried[id(out)] = params
                self.keep.append(out)
            return out
        consts = [a for a in [*args[1:], *(kwargs or {}).values()] if not isinstance(a, torch.Tensor) and not any(isinstance(x, torch.Tensor) for x in _flat([a]))]
        op = Op(len(self.ops), tuple(self.stack), inputs, _shape(out) or (), fn=name, consts=consts, params=params)
        op.in_shapes = [self.ops[i].shape if i != INPUT else self.input_shape for i in inputs]
        self.ops.append(op)
        self.track(out, op.index)
        return out


    def parts(self, name: str, args: Any, kwargs: Any, out: Any) -> None:
        """torch.chunk/split: the op, then one ``getitem`` per part (Python unpacks the tuple unseen)."""
        inputs = self.inputs(args[:1])
        if not inputs:
            return
        consts = [a for a in [*args[1:], *(kwargs or {}).values()] if not isinstance(a, torch.Tensor)]
        whole = Op(len(self.ops), tuple(self.stack), inputs, _shape(out[0]) or (), fn=name, consts=consts)
        whole.in_shapes = [self.ops[i].shape if i != INPUT else self.input_shape for i in inputs]  # type: ignore[attr-defined]
        self.ops.append(whole)
        for k, t in enumerate(out):
            part = Op(len(self.ops), tuple(self.stack), [whole.index], _shape(t) or (), fn="getitem", consts=[k], in_shapes=[whole.in_shapes[0]])
            self.ops.append(part)
            self.track(t, part.index)


def by_hooks(model: nn.Module, x: torch.Tensor) -> Capture:
    rec = _Recorder()
    rec.input_shape = tuple(x.shape[1:])  # type: ignore[attr-defined]
    rec.track(x, INPUT)
    handles = []

    def pre(path: str, module: nn.Module) -> Callable[..., None]:
        def hook(mod: nn.Module, args: Any) -> None:
            n = rec.counts.get(path, 0)
            rec.counts[path] = n + 1
            if rec.inside_leaf:
                rec.inside_leaf += 1
            elif is_leaf(mod):
                rec.inside_leaf = 1
                rec.pending = (path, rec.inputs(args), rec.calls)  # type: ignore[attr-defined]
            else:
                rec.stack.append(Frame(f"{path}@{n}", path, type(mod).__name__))

        return hook

    def post(path: str) -> Callable[..., None]:
        def hook(mod: nn.Module, args: Any, out: Any) -> None:
            if rec.inside_leaf > 1:
                rec.inside_leaf -= 1
                return
            if rec.inside_leaf == 1:
                rec.inside_leaf = 0
                at, inputs, calls = rec.pending  # type: ignore[attr-defined]
                first = out[0] if isinstance(out, (list, tuple)) else out
                if not isinstance(first, torch.Tensor):  # nested (torchvision's LastLevelMaxPool: levels, names): the tensor it made
                    first = next((t for t in _flat([out]) if isinstance(t, torch.Tensor) and id(t) not in rec.made), first)
                if calls == rec.calls and any(first is a for a in _flat(args)) and not any(True for _ in mod.parameters()):
                    return  # ran nothing and gave its input back (stochastic depth in eval mode): export sees no op either
                op = Op(len(rec.ops), tuple(rec.stack), inputs, _shape(first) or (), module=mod, path=at)
                op.in_shapes = [rec.ops[i].shape if i != INPUT else rec.input_shape for i in inputs]  # type: ignore[attr-defined]
                rec.ops.append(op)
                if isinstance(first, torch.Tensor):
                    rec.track(first, op.index)
            elif rec.stack and rec.stack[-1].path == path:
                rec.stack.pop()

        return hook

    for path, module in model.named_modules():
        if path:
            handles.append(module.register_forward_pre_hook(pre(path, module)))
            handles.append(module.register_forward_hook(post(path)))
    try:
        with rec:
            out = model(x)
    finally:
        for h in handles:
            h.remove()
    returned = [(str(k), v) for k, v in out.items()] if isinstance(out, dict) else [("", v) for v in out] if isinstance(out, (list, tuple)) else [("", out)]
    tensors = [(k, t) for k, t in returned if isinstance(t, torch.Tensor)]
    if not tensors:
        raise NotTensors(out, model)
    first = tensors[0][1]
    output = rec.made.get(id(first), INPUT)
    cap = Capture(rec.ops, output, "forward hooks", _total(model), _shape(first) or ())
    if len(tensors) > 1:
        cap.outputs = [rec.made.get(id(t), INPUT) for _, t in tensors]  # INPUT too when made where no op was recorded (inside a leaf that returns lists)
        cap.names = [k for k, _ in tensors]
        cap.shapes = [_shape(t) or () for _, t in tensors]
    return cap

"""Building the user's model, once: on the meta device when its constructor allows.

Imports torch (only for the meta device); imported by :mod:`cnnviz.capture.trace`."""

from __future__ import annotations

import copy
import functools
import inspect
import re
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..errors import SpecError
from .reference import yaml_scalar


class Models:
    """The user's model, built once: on the meta device (no weights allocated) unless its
    constructor needs real values, and on CPU only when that, or a forward pass, needs it.
    A constructor that fails for any other reason (a missing ``--arg``, a failed download)
    is a one-line error, not a second try."""

    def __init__(self, build: Callable[[], Any], label: str, args: dict[str, Any] | None = None, maker: Any = None):
        self.build, self.label = build, label
        self.args, self.maker = args or {}, maker  # the --arg values, and what NAME is (for the messages)
        self.cpu: nn.Module | None = None
        try:
            with torch.device("meta"):
                self.meta = self._built(build)
        except _BuildFailed as failed:
            if not _about_meta(failed.exc):
                raise self._failed(failed.exc) from None
            self.cpu = self.on_cpu()
            self.meta = copy.deepcopy(self.cpu).to("meta")

    def _built(self, build: Callable[[], Any]) -> nn.Module:
        try:
            return _module(build(), self.label)
        except SpecError:
            raise
        except Exception as exc:  # noqa: BLE001  (the user's constructor)
            raise _BuildFailed(exc) from exc

    def on_cpu(self) -> nn.Module:
        """The model on CPU, built a second time: quietly, the first build (on meta) having
        shown the constructor's warnings already."""
        if self.cpu is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.cpu = self._built(self.build)
            except _BuildFailed as failed:
                raise self._failed(failed.exc) from None
        return self.cpu

    def _failed(self, exc: Exception) -> SpecError:
        """One line: what failed, and what to do (an --arg to pass, drop or check)."""
        if self.maker is not None and not _may_build(self.maker):
            return SpecError(f"{self.label}: not a model: {type(self.maker).__name__} {getattr(self.maker, '__name__', '')} builds no torch.nn.Module "
                             f"(calling it failed: {one_line(exc)}); name a torch.nn.Module class or a function that returns one")
        hint = _hint(exc)
        if not hint and isinstance(exc, (TypeError, ValueError)) and self.args:
            named = [k for k in self.args if k in str(exc)] or list(self.args)
            hint = "; check " + " ".join(f"--arg {k}={yaml_scalar(self.args[k])}" for k in named)
        return SpecError(f"{self.label}: building the model failed: {one_line(exc)}{hint}")


def _may_build(maker: Any) -> bool:
    """Can calling it build a model: a Module class, or a function or class written in Python
    (not a builtin like torch.zeros, nor another class)?"""
    if inspect.isclass(maker):
        return issubclass(maker, nn.Module)
    return inspect.isfunction(maker) or inspect.ismethod(maker) or isinstance(maker, functools.partial)


class _BuildFailed(Exception):
    def __init__(self, exc: Exception):
        super().__init__(str(exc))
        self.exc = exc


_META = re.compile(r"\bmeta\b", re.IGNORECASE)
_MISSING = re.compile(r"missing \d+ required (?:positional|keyword-only) arguments?: (.*)")
_UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")


def _about_meta(exc: Exception) -> bool:
    """Did building on the meta device fail because of the device (an initialisation that
    reads values, an op without a meta kernel)?"""
    return isinstance(exc, NotImplementedError) or bool(_META.search(str(exc)))


def _hint(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, TypeError) and (m := _MISSING.search(text)):
        names = re.findall(r"'(\w+)'", m.group(1))
        return " (pass " + " ".join(f"--arg {n}=…" for n in names) + ")" if names else ""
    if isinstance(exc, TypeError) and (m := _UNEXPECTED.search(text)):
        return f" (drop --arg {m.group(1)})"
    return ""


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


class NotTensors(SpecError):
    """The model returned no tensor (a detector's list of dicts): nothing cnnviz can draw."""

    def __init__(self, out: Any, model: nn.Module):
        self.what, self.part = what_it_is(out), _part(model)
        super().__init__(f"returns {self.what}, not tensors")

    def said(self, label: str) -> SpecError:
        part = f"; draw a part that does, e.g. {label}.{self.part} (MODEL.attribute imports that part of the built model)" if self.part else ""
        return SpecError(f"{label}: the model returns {self.what}, not tensors: cnnviz draws models whose outputs are tensors{part}")


_PARTS = ("backbone", "encoder", "features", "body", "trunk")  # the children worth drawing on their own, first found first


def _part(model: nn.Module) -> str:
    children = dict(model.named_children())
    return next((n for n in _PARTS if n in children), next(iter(children), ""))


def what_it_is(value: Any) -> str:
    """``a list of dicts (detections)``, ``a dict of lists``, ``None``: what a model returned, in words."""
    if isinstance(value, (list, tuple, dict)):
        items = list(value.values() if isinstance(value, dict) else value)
        kinds = sorted({type(v).__name__ for v in items})
        inner = f" of {kinds[0]}s" if len(kinds) == 1 else f" of {', '.join(kinds)}" if kinds else " (empty)"
        boxes = any(isinstance(v, dict) and "boxes" in v for v in items)
        return f"a {type(value).__name__}{inner}" + (" (detections)" if boxes else "")
    return "None" if value is None else f"a {type(value).__name__}"


def _module(obj: Any, label: str) -> nn.Module:
    if not isinstance(obj, nn.Module):
        raise SpecError(f"{label}: not a model: it returned {what_it_is(obj)}, not a torch.nn.Module (name a class or a function that returns one)")
    return obj

"""Spec stage: YAML text → a validated :class:`~cnnviz.spec.model.Spec`."""

from .model import Aux, Branches, Call, Item, Layer, Spec, Towers
from .parse import load_spec

__all__ = ["Aux", "Branches", "Call", "Item", "Layer", "Spec", "Towers", "load_spec"]

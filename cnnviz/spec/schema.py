"""The JSON Schema of the spec format, generated from the layer registry.

The generated schema is shipped as ``cnnviz/spec/cnnviz.schema.json`` (so that
editors can point at a file) and a test checks that the shipped file equals
what this module generates.  Regenerate with
``python -m cnnviz.spec.schema > cnnviz/spec/cnnviz.schema.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from .items import STRUCTURAL
from .layers import LAYERS, LayerType, Schema
from .parse import PAPER_KEYS, TOP_KEYS
from .values import MAX_RANK

SHIPPED = Path(__file__).with_name("cnnviz.schema.json")


def _layer_settings(lt: LayerType) -> Schema:
    props: dict[str, Schema] = {}
    for f in lt.fields:
        prop: Schema = dict(getattr(f.convert, "schema", {}))
        if f.doc:
            prop["description"] = f.doc
        # any value may also be a $reference to a var or module argument
        props[f.name] = {"anyOf": [prop, {"$ref": "#/$defs/reference"}]} if prop else {"description": f.doc}
    return {"type": "object", "properties": props, "additionalProperties": False}


def _kind_item(kind: str, value: Schema, description: str) -> Schema:
    return {
        "type": "object",
        "description": description,
        "properties": {kind: value, "name": {"type": "string"}, "repeat": {"type": ["integer", "string"]}},
        "required": [kind],
        "additionalProperties": False,
    }


def build_schema() -> Schema:
    items: list[Schema] = [{"type": "string", "description": "one short line: 'conv 64 3x3 /2 @name', 'module args xN'"}]
    for name, lt in LAYERS.items():
        items.append(_kind_item(name, {"anyOf": [{"type": "string"}, {"type": "null"}, _layer_settings(lt)]}, lt.doc))
    head = {"anyOf": [{"$ref": "#/$defs/layers"}, {"type": "object", "properties": {"layers": {"$ref": "#/$defs/layers"}}}]}
    branches = {"type": "array", "minItems": 2, "items": {"anyOf": [{"$ref": "#/$defs/layers"}, {"type": "string"}, {"type": "null"}]}}
    items += [
        _kind_item("concat", branches, "parallel branches, concatenated along channels"),
        _kind_item("add", branches, "parallel branches, added; 'identity' or [] is a shortcut"),
        _kind_item("mul", branches, "parallel branches, multiplied element-wise (a size of 1 broadcasts: squeeze-and-excitation)"),
        _kind_item("split", branches, "the input channels split into equal parts, one per branch, the outputs concatenated"),
        _kind_item(
            "towers",
            {
                "type": "object",
                "properties": {
                    "count": {"type": ["integer", "string"], "minimum": 2},
                    "input": {"enum": ["shared", "split"]},
                    "layers": {"$ref": "#/$defs/layers"},
                },
                "required": ["count", "layers"],
                "additionalProperties": False,
            },
            "N identical towers, concatenated (drawn once, marked ×N)",
        ),
        _kind_item("aux", head, "an auxiliary classifier (training only, counted apart)"),
        _kind_item("output", head, "an extra output of the network, off the current point ('identity' or []: the point itself); named by 'name'"),
        {
            "type": "object",
            "description": "a call of a module defined under 'modules'",
            "minProperties": 1,
            "maxProperties": 3,
            "not": {"anyOf": [{"required": [k]} for k in [*LAYERS, *STRUCTURAL]]},
        },
    ]
    shape: Schema = {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 3}
    produced: Schema = {**shape, "maxItems": MAX_RANK}  # what a network may produce: a custom box's [tokens, features]
    props: dict[str, Schema] = {k: {"description": v} for k, v in TOP_KEYS.items()}
    props["name"]["type"] = "string"
    props["year"]["type"] = "integer"
    props["input"].update(shape)
    props["layers"]["$ref"] = "#/$defs/layers"
    props["aliases"].update({"type": "array", "items": {"type": "string"}})
    props["paper"].update({"type": "object", "properties": {k: {} for k in PAPER_KEYS}, "additionalProperties": False})
    props["defaults"].update({"type": "object", "properties": {n: _layer_settings(lt) for n, lt in LAYERS.items()}, "additionalProperties": False})
    props["modules"].update(
        {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "doc": {"type": "string"},
                    "args": {"type": ["array", "object"]},
                    "vars": {"type": "object"},
                    "layers": {"$ref": "#/$defs/layers"},
                },
                "required": ["layers"],
                "additionalProperties": False,
            },
        }
    )
    props["expect"].update(
        {
            "type": "object",
            "properties": {
                "params": {"type": "integer"},
                "params_aux": {"type": "integer"},
                "output": produced,
                "shapes": {"type": "object", "additionalProperties": produced},
            },
            "additionalProperties": False,
        }
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:cnnviz:spec-schema",
        "title": "cnnviz architecture spec",
        "type": "object",
        "properties": props,
        "required": ["name"],
        "if": {"not": {"required": ["extends"]}},
        "then": {"required": ["name", "input", "layers"]},
        "additionalProperties": False,
        "$defs": {
            "layers": {"type": "array", "items": {"anyOf": items}},
            "reference": {"type": "string", "pattern": r"\$"},
        },
    }


def schema_text() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped_schema_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")


if __name__ == "__main__":
    print(schema_text(), end="")

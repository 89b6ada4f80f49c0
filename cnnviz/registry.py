"""The catalogue as data: every shipped spec with its metadata, in the article's order (by year)."""

from __future__ import annotations

from .spec import load_spec
from .spec.catalogue import ids

# The article's order within a year (its appendix, Network-in-Network, last);
# variants follow the network they extend.
ARTICLE_ORDER = [
    "lenet5", "alexnet", "vgg16", "vgg19", "inception_v1", "nin", "inception_v3", "resnet50", "resnet101",
    "resnet152", "xception", "inception_v4", "inception_resnet_v2", "resnext50",
]


def list_models() -> list[str]:
    """Catalogue ids, alphabetically (like ``timm.list_models``)."""
    return ids()


def entries() -> list[dict]:
    """One dict per catalogue spec, ordered by year then id.  No torch needed."""
    out = []
    for ident in ids():
        spec = load_spec(ident)
        out.append(
            {
                "id": ident,
                "name": spec.name,
                "year": spec.meta.get("year"),
                "params": spec.expect.get("params"),
                "params_aux": spec.expect.get("params_aux", 0),
                "article_params": spec.meta.get("article_params"),
                "input": list(spec.input),
                "aliases": spec.meta.get("aliases", []),
            }
        )
    rank = {ident: i for i, ident in enumerate(ARTICLE_ORDER)}
    return sorted(out, key=lambda e: (e["year"] or 9999, rank.get(e["id"], len(rank)), e["id"]))

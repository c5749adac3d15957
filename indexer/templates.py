"""Versioned index templates (indexer/templates/*.json) and the one idempotent command that
applies them and creates each first index behind its alias. Reads no settings."""
from __future__ import annotations

import json
from importlib import resources

TEMPLATES = ("posts", "alerts")


def load_template(name: str) -> dict:
    return json.loads(resources.files("indexer").joinpath("templates", f"{name}.json").read_text("utf-8"))


def first_index(name: str) -> str:
    return f"{name}-v{load_template(name)['_meta']['template_version']}"


def apply_templates(es) -> list[str]:
    """PUT every template and create its first index if its alias is missing. Returns what changed."""
    changed = []
    for name in TEMPLATES:
        body = load_template(name)
        es.indices.put_index_template(name=f"shaobing-{name}", index_patterns=body["index_patterns"],
                                      priority=body["priority"], meta=body["_meta"], template=body["template"])
        if not es.indices.exists_alias(name=name):
            es.indices.create(index=first_index(name))
            changed.append(first_index(name))
    return changed

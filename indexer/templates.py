"""Versioned index templates (indexer/templates/*.json) and the one idempotent command that
applies them and creates each first index behind its alias. Reads no settings."""
from __future__ import annotations

import json
from importlib import resources

TEMPLATES = ("posts", "alerts", "console_tokens", "cases", "reports")   # console_tokens: hashed API tokens; cases: 舆情档案; reports: archived 摘报


def load_template(name: str) -> dict:
    return json.loads(resources.files("indexer").joinpath("templates", f"{name}.json").read_text("utf-8"))


def first_index(alias: str, name: str | None = None) -> str:
    return f"{alias}-v{load_template(name or alias)['_meta']['template_version']}"


def missing_properties(wanted: dict, existing: dict) -> dict:
    """The mapping properties of `wanted` that `existing` lacks (inside objects too). A field
    whose parameters changed between template versions (doc_values, index, norms ...) is left
    as the index has it: Elasticsearch refuses to change those on an existing index."""
    out = {}
    for name, spec in wanted.items():
        have = existing.get(name)
        if have is None:
            out[name] = spec
        elif "properties" in spec:
            inner = missing_properties(spec["properties"], have.get("properties", {}))
            if inner:
                out[name] = {**{k: v for k, v in spec.items() if k != "properties"}, "properties": inner}
    return out


def apply_templates(es, alias_of=lambda name: name) -> list[str]:
    """PUT every template and create its first index behind its alias if the alias is missing.

    `alias_of` maps a template name to the alias to use (a namespace prefix). Namespaced indices
    get the template's settings and mappings explicitly, so the shared template's alias never
    leaks onto them. Returns the indices created.
    """
    changed = []
    for name in TEMPLATES:
        body = load_template(name)
        es.indices.put_index_template(name=f"shaobing-{name}", index_patterns=body["index_patterns"],
                                      priority=body["priority"], meta=body["_meta"], template=body["template"])
        alias = alias_of(name)
        if es.indices.exists_alias(name=alias):
            wanted = body["template"]["mappings"]["properties"]
            for index, current in es.indices.get_mapping(index=alias).items():
                added = missing_properties(wanted, current["mappings"].get("properties", {}))
                if added:
                    es.indices.put_mapping(index=index, properties=added)
            continue
        index = first_index(alias, name)
        if alias == name:
            es.indices.create(index=index)
        else:
            tpl = body["template"]
            es.indices.create(index=index, settings=tpl["settings"], mappings=tpl["mappings"], aliases={alias: {}})
        changed.append(index)
    return changed

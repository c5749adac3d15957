"""apply_templates on an index made by an earlier template version: the stack still starts, the
index keeps its own field parameters (Elasticsearch refuses to change them), and only fields
the old index lacks are added."""
from __future__ import annotations

import copy

from elasticsearch import Elasticsearch

from indexer.templates import apply_templates, load_template
from tests.integration.helpers import unique


def test_an_older_posts_index_keeps_its_mapping_and_gets_new_fields(live_stack):
    ns = unique("it-tpl")
    alias_of = lambda name: f"{ns}-{name}"   # noqa: E731
    tpl = copy.deepcopy(load_template("posts")["template"])
    old = tpl["mappings"]["properties"]
    old["url"] = {"type": "keyword", "ignore_above": 2048}          # as template version 1 had it
    old["tokens"] = {"type": "text", "analyzer": "whitespace"}
    del old["region"]                                                # a field added later
    es = Elasticsearch(live_stack.elasticsearch_url, request_timeout=60)
    try:
        es.indices.create(index=f"{ns}-posts-v1", settings={"number_of_shards": 1, "number_of_replicas": 0},
                          mappings=tpl["mappings"], aliases={alias_of("posts"): {}})
        created = apply_templates(es, alias_of)
        assert f"{ns}-posts-v1" not in created and f"{ns}-posts-v2" not in created
        props = es.indices.get_mapping(index=f"{ns}-posts-v1")[f"{ns}-posts-v1"]["mappings"]["properties"]
        assert props["url"] == {"type": "keyword", "ignore_above": 2048}
        assert props["region"] == {"type": "keyword", "doc_values": False}
        assert apply_templates(es, alias_of) == []                       # idempotent
    finally:
        es.indices.delete(index=f"{ns}-*", allow_no_indices=True)
        es.close()

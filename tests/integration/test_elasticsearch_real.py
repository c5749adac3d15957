"""The real node: bulk-index 10,000 Chinese documents, find them by full text and by terms."""
from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch, helpers

from indexer.templates import load_template
from tests.integration.helpers import unique

N_DOCS = 10_000
TOWNS = ["青石镇", "柳河乡", "东关街道", "白沙村", "城南区"]
TOPICS = ["道路施工噪音扰民", "菜市场价格上涨", "学校食堂卫生", "化工厂异味", "公交线路调整"]


@pytest.fixture()
def es_index(live_stack):
    es = Elasticsearch(live_stack.elasticsearch_url, request_timeout=60)
    index = unique("it-posts")
    tpl = load_template("posts")["template"]
    es.indices.create(index=index, settings=tpl["settings"], mappings=tpl["mappings"])
    yield es, index
    es.indices.delete(index=index)
    es.close()


def _doc(i: int) -> dict:
    town, topic = TOWNS[i % len(TOWNS)], TOPICS[(i // len(TOWNS)) % len(TOPICS)]
    return {
        "_index": None, "_id": f"it:{i}",
        "post_id": f"it:{i}", "site": f"site{i % 3}", "source": "it", "kind": "forum",
        "url": f"http://127.0.0.1/t/{i}", "title": f"{town}{topic}", "text": f"网友反映{town}{topic}，希望有关部门尽快处理。编号{i}",
        "tokens": f"网友 反映 {town} {topic}", "published_at": "2026-11-26T00:00:00Z",
        "crawled_at": "2026-11-26T00:00:01Z", "watch_terms": [topic[:2]], "subjects": ["民生"] if i % 2 else ["环境"],
        "sentiment": 0.2, "sentiment_label": "negative",
    }


def test_bulk_then_full_text_and_terms(es_index):
    es, index = es_index
    actions = [{**_doc(i), "_index": index} for i in range(N_DOCS)]
    ok, errors = helpers.bulk(es, actions, chunk_size=1000, raise_on_error=False)
    assert (ok, errors) == (N_DOCS, [])
    es.indices.refresh(index=index)
    assert es.count(index=index)["count"] == N_DOCS

    # phrase match on Chinese text: standard analyzer gives per-character tokens, phrase keeps order
    hits = es.count(index=index, query={"match_phrase": {"text": "青石镇化工厂异味"}})["count"]
    expected = sum(1 for i in range(N_DOCS) if i % 5 == 0 and (i // 5) % 5 == 3)
    assert hits == expected > 0

    both = es.count(index=index, query={"bool": {
        "must": [{"match_phrase": {"title": "化工厂"}}],
        "filter": [{"terms": {"site": ["site0", "site1"]}}, {"term": {"subjects": "环境"}}],
    }})["count"]
    want = sum(1 for i in range(N_DOCS) if (i // 5) % 5 == 3 and i % 3 in (0, 1) and i % 2 == 0)
    assert both == want > 0

    # jieba tokens are indexed whitespace-separated, so a whole word matches and a fragment does not
    assert es.count(index=index, query={"match": {"tokens": "柳河乡"}})["count"] == N_DOCS // 5
    assert es.count(index=index, query={"match": {"tokens": "柳河"}})["count"] == 0

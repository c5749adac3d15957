"""The Elasticsearch boundary of the stream worker, over a fake client: every failure the pinned
client raises (ApiError for a whole-request 429 / 413 / 503, TransportError for no answer) is
translated into retry / split / reject instead of escaping into an agent; bulk requests are
bounded by bytes; alert history is written in the background."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError, ConnectionError as ESConnectionError, ConnectionTimeout, SerializationError

from indexer.errors import REJECT, RETRY, SPLIT, classify
from indexer.history import AlertHistory
from indexer.sink import BULK_FILTER, PostSink, chunks_by_bytes, ndjson_pair
from streams.records import EnrichedPost

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
NODE = NodeConfig("http", "127.0.0.1", 9200)


def api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0, node=NODE)
    return ApiError(f"HTTP {status}", meta=meta, body={"error": {"type": "x"}})


def post(i: int, text: str = "青石镇化工厂附近有刺鼻异味") -> EnrichedPost:
    return EnrichedPost(post_id=f"bbs:{i}", site="bbs", source="demo-bbs", kind="forum", url=f"http://127.0.0.1/t/{i}",
                        text=text, published_at=NOW, crawled_at=NOW)


class FakeES:
    """Answers bulk requests from a script: an exception to raise, or None for 'all indexed'.
    Records each request body; over `max_body` bytes it answers 413 like http.max_content_length."""

    def __init__(self, script=(), max_body: int | None = None):
        self.script, self.max_body = list(script), max_body
        self.bodies: list[bytes] = []
        self.indexed: list[tuple] = []

    async def bulk(self, *, operations: bytes, filter_path: str | None = None):
        self.bodies.append(operations)
        self.filter_path = filter_path
        step = self.script.pop(0) if self.script else None
        if step is not None:
            raise step
        if self.max_body is not None and len(operations) > self.max_body:
            raise api_error(413)
        lines = operations.decode().splitlines()
        actions = [next(iter(json.loads(line).items())) for line in lines[::2]]
        return {"errors": False, "items": [{op: {"_id": meta["_id"], "status": 201}} for op, meta in actions]}

    async def index(self, **kw):
        step = self.script.pop(0) if self.script else None
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, asyncio.Event):
            await step.wait()
        self.indexed.append(kw)

    async def close(self):
        pass


class Conflict(FakeES):
    """Answers every bulk with a version conflict on one `op` ("index" or "update") of bbs:1."""

    def __init__(self, op: str):
        super().__init__()
        self.op = op

    async def bulk(self, *, operations: bytes, filter_path: str | None = None):
        self.bodies.append(operations)
        return {"errors": True, "items": [{self.op: {"_id": "bbs:1", "status": 409, "error": {
            "type": "version_conflict_engine_exception", "reason": "version conflict"}}}]}


def sink(es, **kw) -> tuple[PostSink, list[float]]:
    slept: list[float] = []

    async def sleep(s):
        slept.append(s)

    return PostSink("http://127.0.0.1:9", es=es, sleep=sleep, **kw), slept


@pytest.mark.parametrize(("exc", "action"), [
    (api_error(429), RETRY), (api_error(503), RETRY), (api_error(502), RETRY), (api_error(500), RETRY),
    (api_error(413), SPLIT), (api_error(400), REJECT), (api_error(404), REJECT),
    (ESConnectionError("refused"), RETRY), (ConnectionTimeout("slow"), RETRY),
    (SerializationError("bad"), REJECT),
])
def test_every_client_error_is_classified(exc, action):
    assert classify(exc) == action


def test_a_foreign_exception_is_not_swallowed():
    with pytest.raises(TypeError):
        classify(ValueError("bug"))


async def test_whole_request_429_and_503_are_retried_not_raised():
    es = FakeES([api_error(429), api_error(503), ESConnectionError("refused")])
    s, slept = sink(es)
    assert await s.write([post(1), post(2)], NOW) == []
    assert len(es.bodies) == 4 and slept == [0.5, 1.0, 2.0]


async def test_413_splits_the_request_down_to_the_document_that_is_too_big():
    es = FakeES(max_body=3_000)
    s, _ = sink(es, max_bytes=10_000_000)          # the count/byte bound is off: the node says 413
    posts = [post(i) for i in range(6)] + [post(99, "长" * 2_000)]
    rejected = await s.write(posts, NOW)
    assert [(p.post_id, "413" in reason) for p, reason in rejected] == [("bbs:99", True)]
    indexed = {line for body in es.bodies if len(body) <= 3_000 for line in body.decode().splitlines()[::2]}
    assert len(indexed) == 6


async def test_bulk_requests_are_bounded_by_bytes():
    es = FakeES()
    s, _ = sink(es, max_bytes=2_000)
    assert await s.write([post(i, "字" * 150) for i in range(20)], NOW) == []
    assert len(es.bodies) > 1 and all(len(b) <= 2_000 for b in es.bodies)
    assert sum(len(b.decode().splitlines()) // 2 for b in es.bodies) == 20


def test_a_line_larger_than_the_bound_goes_alone():
    lines = [("a", b"x" * 10), ("b", b"y" * 50), ("c", b"z" * 10), ("d", b"w" * 10)]
    assert [[k for k, _ in c] for c in chunks_by_bytes(lines, 30)] == [["a"], ["b"], ["c", "d"]]


async def test_alert_history_is_written_in_the_background_and_retried():
    gate = asyncio.Event()
    es = FakeES([api_error(503), gate])
    done: list[bool] = []

    async def no_wait(s):
        return None

    history = AlertHistory(es, "alerts", sleep=no_wait, on_done=done.append)
    history.record_alert("a1", {"subject": "某县"})        # returns at once: nothing awaited
    history.record_alert("a2", {"subject": "某市"})
    await asyncio.sleep(0.05)
    assert history.pending == 2 and done == []           # the node is "slow": the first write waits
    gate.set()
    await history.drain()
    assert [kw["id"] for kw in es.indexed] == ["a1", "a2"] and done == [True, True]
    await history.close()


async def test_alert_history_backlog_is_bounded_and_counted():
    gate = asyncio.Event()
    es = FakeES([gate])
    done: list[bool] = []
    history = AlertHistory(es, "alerts", max_pending=3, on_done=done.append)
    history.record_alert("a0", {})
    await asyncio.sleep(0.01)                 # a0 is being written (the node hangs)
    for i in range(1, 5):
        history.record_alert(f"a{i}", {})
    assert history.pending == 3 and done.count(False) == 2
    gate.set()
    await history.drain()
    assert [kw["id"] for kw in es.indexed] == ["a0", "a3", "a4"] and done.count(True) == 3
    await history.close()


def test_ndjson_pairs_are_compact_utf8_and_updates_are_partial():
    line = ndjson_pair("posts", "index", "bbs:1", {"text": "青石镇 \"异味\"", "n": 1})
    assert line == '{"index":{"_index":"posts","_id":"bbs:1"}}\n{"text":"青石镇 \\"异味\\"","n":1}\n'.encode()
    action, source = (json.loads(x) for x in ndjson_pair("posts", "update", "bbs:1", {"is_repost": True}).splitlines())
    assert action == {"update": {"_index": "posts", "_id": "bbs:1", "retry_on_conflict": 3}}
    assert source == {"doc": {"is_repost": True}}
    with pytest.raises(TypeError):                   # never produced by the worker: validation drops them
        ndjson_pair("posts", "index", "bbs:2", {"text": "a\ud800b"})


async def test_bulk_answers_are_filtered_to_what_the_sink_reads():
    es = FakeES()
    s, _ = sink(es)
    assert await s.write([post(1)], NOW) == []
    assert es.filter_path == BULK_FILTER
    assert set(BULK_FILTER.split(",")) >= {"errors", "items.*._id", "items.*.status", "items.*.error.type",
                                           "items.*.error.reason"}


def test_a_versioned_document_and_an_update_carry_their_bulk_options():
    from indexer.sink import ndjson_pair
    action = json.loads(ndjson_pair("posts", "index", "a", {"x": 1}, 1700000000123).splitlines()[0])
    assert action == {"index": {"_index": "posts", "_id": "a", "version": 1700000000123, "version_type": "external_gte"}}
    assert json.loads(ndjson_pair("posts", "index", "a", {"x": 1}).splitlines()[0]) == {"index": {"_index": "posts", "_id": "a"}}
    update = json.loads(ndjson_pair("posts", "update", "a", {"x": 1}, 5).splitlines()[0])
    assert update == {"update": {"_index": "posts", "_id": "a", "retry_on_conflict": 3}}


async def test_a_superseded_version_is_neither_rejected_nor_retried():
    es = Conflict("index")
    s, slept = sink(es)
    superseded: list[str] = []
    assert await s.write_documents({"bbs:1": {"post_id": "bbs:1"}}, {}, {"bbs:1": 4}, superseded=superseded) == []
    assert len(es.bodies) == 1 and slept == [] and superseded == ["bbs:1"]


async def test_a_conflict_on_an_update_is_a_refusal_not_a_superseded_version():
    superseded: list[str] = []
    s, _ = sink(Conflict("update"))
    rejected = await s.write_documents({}, {"bbs:1": {"is_repost": True}}, superseded=superseded)
    assert [pid for pid, _ in rejected] == ["bbs:1"] and superseded == []


async def test_a_decision_for_another_version_than_the_document_beside_it_is_dropped():
    es = FakeES()
    s, _ = sink(es)
    superseded: list[str] = []
    docs = {"bbs:1": {"post_id": "bbs:1", "content_hash": "h2"}, "bbs:2": {"post_id": "bbs:2", "content_hash": "h9"}}
    updates = {"bbs:1": {"is_repost": True}, "bbs:2": {"is_repost": True}}
    assert await s.write_documents(docs, updates, guards={"bbs:1": "h1", "bbs:2": "h9"}, superseded=superseded) == []
    body = es.bodies[0].decode().splitlines()
    assert superseded == ["bbs:1"]
    assert [json.loads(line) for line in body[::2]][-1] == {"update": {"_index": "posts", "_id": "bbs:2", "retry_on_conflict": 3}}
    assert len(body) == 6

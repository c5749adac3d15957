"""Crawl to alert on the real stack, with two worker processes on multi-partition topics."""
from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone

from kafka import KafkaAdminClient, KafkaProducer, TopicPartition
from kafka.admin import OffsetSpec

from alerting.rules import load_rules
from shaobing.demo import pipeline_lag, scrape, stage_counts
from streams.clustering import MIN_CLUSTER_CHARS
from streams.textnorm import post_content_hash
from streams.topics import POSTS_DLQ, POSTS_RAW
from tests.e2e.conftest import E2E_CONFIG
from tests.e2e.helpers import firing, indexed, load, topic_records, wait_for

ALERT_LATENCY_BOUND_S = 60   # from the first surge post produced to Kafka to the webhook receiving the alert


def test_every_unique_post_is_indexed_exactly_once(pipeline):
    truth = pipeline.scenario.ground_truth()
    raw = {r.key.decode(): load(r) for r in topic_records(pipeline, POSTS_RAW.name)}
    assert truth.keys <= set(raw), f"posts the crawler never produced: {sorted(truth.keys - set(raw))[:5]}"
    docs = indexed(pipeline)        # (helpers.indexed asserts one document per post id)
    assert set(docs) == set(raw), f"produced, not indexed: {sorted(set(raw) - set(docs))[:5]}"
    # verbatim copies (same normalised title and text) are indexed as reposts of one first
    # publisher, so analysts see every site a story reached
    groups = defaultdict(set)
    for key, post in raw.items():
        if len("".join(post["text"].split())) >= MIN_CLUSTER_CHARS:
            groups[post_content_hash(post["title"], post["text"])].add(key)
    for keys in groups.values():
        assert len({docs[k]["cluster_id"] for k in keys}) == 1, f"{sorted(keys)} split across clusters"
        assert sum(not docs[k]["is_repost"] for k in keys) <= 1, f"{sorted(keys)}: more than one first publisher"
    assert pipeline.first_summary["posts_indexed"] == len(docs)


ORIGINAL = ("县城东污水处理厂扩建工程今日开工，预计明年六月投入使用，届时日处理能力将从三万吨提高到六万吨，"
            "可覆盖城东新区和柳河乡的生活污水，施工期间部分路段将实行交通管制。")
REPOSTS = {
    "e2e:repost-prefix": ("【转】污水处理厂扩建开工", "转自澄溪发布：" + ORIGINAL),
    "e2e:repost-tags": ("污水处理厂扩建", "#澄溪身边事# #民生# " + ORIGINAL),
    "e2e:repost-punct": ("污水处理厂扩建开工了", ORIGINAL.replace("，", " ").replace("。", "！")),
}
UNRELATED = ("柳河乡中心小学新建的塑胶跑道今天正式启用，孩子们终于不用在泥地上上体育课了，"
             "家长们纷纷点赞，希望县里其他学校也能尽快改造。")


def test_reposts_join_their_first_publisher(pipeline):
    truth = pipeline.scenario.ground_truth()
    docs = indexed(pipeline)
    # the scenario's verbatim copies are indexed in their original's cluster; which of the two is
    # the first publisher is the first the sequencer saw (crawl order: both may appear in one round)
    for copy in truth.verbatim_copies:
        original = docs[truth.repost_of[copy]]
        assert docs[copy]["cluster_id"] == original["cluster_id"], copy
        assert docs[copy]["is_repost"] != original["is_repost"], copy

    def post(post_id: str, title: str, text: str) -> tuple[bytes, bytes]:
        return post_id.encode(), json.dumps({**_valid(post_id), "title": title, "text": text}, ensure_ascii=False).encode()

    _produce(pipeline, [post("e2e:original", "城东污水处理厂扩建开工", ORIGINAL)])
    wait_for(lambda: "e2e:original" in indexed(pipeline), 60, "the original to be indexed")
    _produce(pipeline, [post(k, *v) for k, v in REPOSTS.items()] + [post("e2e:unrelated", "跑道启用", UNRELATED)])
    wait_for(lambda: {*REPOSTS, "e2e:unrelated"} <= set(indexed(pipeline)), 60, "the reposts to be indexed")
    # a post is indexed first and marked a repost when the sequencer has decided it (a partial
    # update through posts.enriched, a second or two later): wait for the marks, then check them all
    wait_for(lambda: all(indexed(pipeline)[key]["is_repost"] for key in REPOSTS), 60, "the reposts to be marked")
    docs = indexed(pipeline)
    for key in REPOSTS:
        assert (docs[key]["is_repost"], docs[key]["cluster_id"]) == (True, "e2e:original"), key
    assert (docs["e2e:original"]["is_repost"], docs["e2e:unrelated"]["is_repost"]) == (False, False)


def test_surge_alert_reaches_the_duty_receiver_once_with_samples(pipeline):
    alerts = [a for a in firing(pipeline) if a["labels"]["subject"] == pipeline.scenario.ground_truth().subject]
    assert alerts, f"no alert for the surge subject; received {[a['labels'] for a in firing(pipeline)]}"
    # grouped like Alertmanager: a later notification of a subject's group may list an alert
    # again beside a new one, but no notification may repeat only what was already sent
    sent: set[str] = set()
    for notification in pipeline.receiver.received:
        fingerprints = {a["fingerprint"] for a in notification.payload["alerts"] if a["status"] == "firing"}
        assert not fingerprints or fingerprints - sent, f"a notification repeated {sorted(fingerprints)}"
        sent |= fingerprints
    first = alerts[0]
    detail = first["shaobing"]
    assert detail["count"] >= E2E_CONFIG.surge["min_count"]
    assert detail["samples"] and all(s["url"].startswith("http://127.0.0.1:") for s in detail["samples"])
    assert "青石镇" in first["annotations"]["description"]
    # the alert history index records the delivery
    from elasticsearch import Elasticsearch

    with Elasticsearch(pipeline.settings.elasticsearch_url) as es:
        es.indices.refresh(index=pipeline.settings.alias("alerts"))
        history = es.search(index=pipeline.settings.alias("alerts"), size=50,
                            query={"term": {"subject": first["labels"]["subject"]}})["hits"]["hits"]
    assert any(h["_source"]["status"] == "firing" and "duty-webhook" in h["_source"]["channel"] for h in history)
    latency = pipeline.first_summary["alert_latency_s"]
    assert latency is not None and 0 < latency <= ALERT_LATENCY_BOUND_S, latency


def test_search_command_finds_the_surge_with_highlights(pipeline):
    proc = subprocess.run([sys.executable, "-m", "shaobing.cli", "--namespace", pipeline.settings.namespace, "search",
                           "化工厂", "--subject", pipeline.scenario.ground_truth().subject, "-n", "3"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("共 ") and int(lines[0].split()[1]) >= E2E_CONFIG.surge["min_count"]
    assert "【化工厂】" in proc.stdout            # highlight markers rendered for a non-terminal
    assert proc.stdout.count("http://127.0.0.1:") == 3


def _produce(demo, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=demo.settings.kafka_servers, acks="all",
                             max_request_size=8 * 1024 * 1024)
    try:
        for key, value in records:
            producer.send(demo.settings.topic(POSTS_RAW.name), key=key, value=value)
        producer.flush(30)
    finally:
        producer.close(10)


def _counts(demo) -> dict[str, int]:
    return stage_counts([scrape(port) for port in demo.metrics_ports])


def test_exact_recrawls_are_not_indexed_twice(pipeline):
    before = indexed(pipeline)
    raw = topic_records(pipeline, POSTS_RAW.name)
    dropped_before = _counts(pipeline)["recrawls_dropped"]
    _produce(pipeline, [(r.key, r.value) for r in raw])
    wait_for(lambda: _counts(pipeline)["recrawls_dropped"] >= dropped_before + len(raw), 120, "re-crawls to be dropped")
    after = indexed(pipeline)
    assert set(after) == set(before)
    assert {k: d["indexed_at"] for k, d in after.items()} == {k: d["indexed_at"] for k, d in before.items()}


def _valid(post_id: str) -> dict:
    now = datetime.now(timezone.utc).isoformat()
    return {"post_id": post_id, "site": "e2e", "source": "e2e", "kind": "forum", "url": f"http://127.0.0.1/{post_id}",
            "title": "死信测试之后的正常帖子", "text": "这条帖子在一串坏记录之后到达，应当被正常索引。", "published_at": now,
            "crawled_at": now}


def test_malformed_records_go_to_the_dead_letter_topic_and_the_worker_keeps_running(pipeline):
    huge = json.dumps({**_valid("e2e:huge"), "text": "长" * (5 * 1024 * 1024 // 3)}, ensure_ascii=False).encode()
    wrong_type = json.dumps({**_valid("e2e:wrong"), "published_at": ["today"], "kind": 3}).encode()
    missing = json.dumps({k: v for k, v in _valid("e2e:missing").items() if k not in ("text", "url")}).encode()
    bad = {
        "json": (b"e2e:json", b'{"post_id": "e2e:json", '),
        "missing": (b"e2e:missing", missing),
        "types": (b"e2e:wrong", wrong_type),
        "size": (b"e2e:huge", huge),
        "utf8": (b"e2e:utf8", b'{"post_id": "e2e:utf8", "text": "\xff\xfe\xfa"}'),
    }
    good = json.dumps(_valid("e2e:after-bad"), ensure_ascii=False).encode()
    _produce(pipeline, [*bad.values(), (b"e2e:after-bad", good)])
    wait_for(lambda: "e2e:after-bad" in indexed(pipeline), 120, "the valid post after the bad ones to be indexed")

    letters = {}
    for record in topic_records(pipeline, POSTS_DLQ.name):
        letter = load(record)
        letters[base64.b64decode(letter["key_b64"]).decode()] = letter
    reasons = {name: letters[key.decode()]["reason"] for name, (key, _) in bad.items()}
    assert "not JSON" in reasons["json"]
    assert "text" in reasons["missing"] and "url" in reasons["missing"]
    assert "published_at" in reasons["types"] and "kind" in reasons["types"]
    assert "over the" in reasons["size"]
    assert "UTF-8" in reasons["utf8"]
    for name, (key, value) in bad.items():
        letter = letters[key.decode()]
        assert letter["value_bytes"] == len(value) and letter["value_sha256"] == hashlib.sha256(value).hexdigest()
        kept = base64.b64decode(letter["value_b64"])
        assert (kept == value) if not letter["value_truncated"] else value.startswith(kept), name
    assert all(p.alive() for p in pipeline.children)


def _alerting_quiet(demo, quiet_s: float) -> bool:
    received = demo.receiver.received
    return not received or (datetime.now(timezone.utc) - received[-1].at).total_seconds() >= quiet_s


def test_replaying_posts_raw_from_offset_zero_changes_nothing(pipeline):
    # a grouped update already due (group_interval after the last notification) is not the
    # replay's doing: let it go out first. Every worker ticks its own subjects, so the scenario's
    # episodes resolve one by one after the surge, each group's resolution a minute apart: allow
    # for them all
    group_interval_s = load_rules(pipeline.workdir / "rules.yml").spec.default_route.group_interval
    wait_for(lambda: _alerting_quiet(pipeline, group_interval_s + 10), 420, "alerting to be quiet for a group interval")
    before = {k: (d["indexed_at"], d["cluster_id"]) for k, d in indexed(pipeline).items()}
    alerts_before = len(pipeline.receiver.received)
    raw_before = {r.key for r in topic_records(pipeline, POSTS_RAW.name)}
    pipeline.stop_workers()
    admin = KafkaAdminClient(bootstrap_servers=pipeline.settings.kafka_servers)
    try:
        topic = pipeline.settings.topic(POSTS_RAW.name)
        specs = {TopicPartition(topic, p): OffsetSpec.EARLIEST for p in range(POSTS_RAW.partitions)}
        result = admin.reset_group_offsets(pipeline.settings.analyze_group_id, specs)
        assert all(r["error"] is None or r["error"].errno == 0 for r in result.values()), result
    finally:
        admin.close()
    pipeline.start_workers()

    def replayed() -> bool:
        c = _counts(pipeline)
        return c["validated"] + c["dead_letters"] >= len(raw_before) and pipeline_lag(pipeline.settings) == 0

    wait_for(replayed, 180, "the replay to be consumed")
    # the crawler keeps running against the live demo web, so posts first crawled during the
    # replay are analysed legitimately; none of the replayed ones may be
    new_posts = {r.key for r in topic_records(pipeline, POSTS_RAW.name)} - raw_before
    assert _counts(pipeline)["analysed"] <= len(new_posts), "a replayed post was analysed again"
    after = {k: (d["indexed_at"], d["cluster_id"]) for k, d in indexed(pipeline).items()}
    assert {k: after.get(k) for k in before} == before, "a replayed post was indexed again"
    # a replayed mention may not fire (or re-fire) an alert; a surge that ends meanwhile may
    # still be notified as resolved, which no replay can cause
    extra = pipeline.receiver.received[alerts_before:]
    firing_again = [a for r in extra for a in r.payload.get("alerts", []) if a.get("status") == "firing"]
    assert not firing_again, [(r.at.isoformat(), json.dumps(r.payload, ensure_ascii=False)[:800]) for r in extra]


def test_one_worker_gives_the_same_results_as_two(pipeline):
    c = E2E_CONFIG
    proc = subprocess.run(
        [sys.executable, "-m", "shaobing.cli", "demo", "--once", "--workers", "1", "--seed", str(c.seed),
         "--history", str(c.history_s), "--surge-at", str(c.surge_at_s), "--surge-span", str(c.surge_span_s),
         "--tail", str(c.tail_s), "--crawl-interval", str(c.crawl_interval_s), "--timeout", str(c.timeout_s)],
        capture_output=True, text=True, timeout=c.timeout_s + 120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    for field in ("posts_crawled", "posts_unique", "duplicates_dropped", "reposts_clustered", "posts_indexed",
                  "alerts_delivered", "alert_latency_s"):
        assert field in summary, field
    assert summary["alerts_delivered"] >= 1

    class One:
        settings = pipeline.settings.model_copy(update={"namespace": summary["namespace"]})

    # the same input must give the same output: compare the posts both runs crawled (crawl
    # timing against the live scenario can differ by a round at the end)
    raw_one = {r.key.decode() for r in topic_records(One, POSTS_RAW.name)}
    raw_two = {r.key.decode() for r in topic_records(pipeline, POSTS_RAW.name)}
    both = raw_one & raw_two
    assert len(both) >= 0.9 * len(raw_two - {k for k in raw_two if k.startswith("e2e:")})

    def by_content(docs: dict) -> dict:
        # what was derived from each post (which copy of a group is the first publisher depends
        # on arrival order, so cluster roots are not compared)
        return {k: (tuple(d["subjects"]), d["sentiment_label"], d["content_hash"]) for k, d in docs.items() if k in both}

    assert by_content(indexed(One)) == by_content(indexed(pipeline))


def test_the_console_shows_the_alert_and_its_event(pipeline):
    import httpx

    headers = {"Authorization": f"Bearer {pipeline.console_token}"}
    with httpx.Client(base_url=pipeline.console_url, headers=headers, timeout=30) as client:
        assert client.get("/healthz").json()["elasticsearch"] is True
        alerts = client.get("/api/v1/alerts", params={"status": "firing"}).json()["alerts"]
        assert alerts, "the delivered alert is in the console's history"
        event = client.get(f"/api/v1/alerts/{alerts[-1]['alert_id']}/event").json()
        assert event["total"] >= E2E_CONFIG.surge["min_count"] and event["first"] and event["sites"]
        assert httpx.get(f"{pipeline.console_url}api/v1/alerts").status_code == 401

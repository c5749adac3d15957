"""Fault suite, REDUCED FORM (issue 16): the whole pipeline under load on the real stack, with
faults injected, then counted against the scenario's ground truth.

    nice -n 10 .venv/bin/python bench/faults.py            # reduced form, ~5-8 min
    .venv/bin/python bench/faults.py --fuzz 10000            # the issue's full fuzz count

What runs: `shaobing demo`'s pipeline in a namespace of its own (demo web with a steady stream of
posts and one surge -> crawler -> Kafka -> 2 workers -> Elasticsearch -> duty receiver). Faults:
  fuzz         --fuzz raw records (bad JSON, bad UTF-8, deep nesting, oversize, wrong types,
               NaN, key mismatch, tombstones) produced to posts.raw while posts flow; each must
               come out of posts.dlq with a reason (matched by its unique key)
  worker_kill  kill -9 one of the two workers when the surge starts, restart it --restart-after
               seconds later; nothing lost, nothing indexed twice, the alert exactly once
  channel_down the primary duty channel answers 503 or hangs past the attempt timeout from the
               start for --outage seconds (and until the fallback has the alert); with
               retry.deadline 20s each alert must reach the fallback once while it is down and
               the primary once after it recovers
  es_freeze    the pipeline writes to a private Elasticsearch node (spare ports, so the shared
               one is untouched), frozen with SIGSTOP for --es-freeze seconds during the surge
NOT in this reduced form (say so in the JSON under "not_run"): killing one broker of three (the
shared stack has one broker; see tests/integration/test_kafka_cluster.py for that fault on a
private 3-broker cluster); the channel outage is 150 s, not 10 minutes.

Totals: posts_lost (posts online by the scenario's end missing from the index), duplicate_docs (exact copies the
pipeline should have dropped but indexed), alerts_missing / alerts_duplicated (firing
notifications per surge episode at the duty receiver, expected exactly one),
bad_records_not_dead_lettered, workers_alive. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.duty_receiver import DutyReceiver  # noqa: E402
from shaobing.demo import Demo, DemoConfig  # noqa: E402
from shaobing.processes import spawn_shaobing  # noqa: E402
from shaobing.settings import load_settings  # noqa: E402
from streams.records import MAX_RAW_BYTES  # noqa: E402
from streams.topics import POSTS_DLQ, POSTS_RAW  # noqa: E402

CONFIG = DemoConfig(seed=23, history_s=900, surge_at_s=40, surge_span_s=60, tail_s=20, crawl_interval_s=3,
                    workers=2, once=True, timeout_s=900, fallback=True, retry_deadline="20s")
NOT_RUN = {"broker_kill": "the shared stack has one broker (see tests/integration/test_kafka_cluster.py)",
           "channel_down_10min": "reduced to --outage seconds (default 150)"}


@dataclass
class FlakyReceiver(DutyReceiver):
    """The primary duty channel, down while `down` is set: every other request hangs past the
    sender's 10 s attempt timeout, the rest get HTTP 503."""

    down: bool = True
    refused: int = 0

    def _accept(self, headers, body: bytes) -> int:
        if self.down:
            with self._lock:
                self.refused += 1
                hang = self.refused % 2 == 0
            if hang:
                time.sleep(12)
            return 503
        return super()._accept(headers, body)


def recover_later(primary: FlakyReceiver, fallback: DutyReceiver, outage_s: float, started: float, out: dict) -> None:
    """Bring the primary back once the fallback has the alert and the outage has lasted outage_s."""
    while time.monotonic() - started < outage_s or not fallback.alerts():
        if time.monotonic() - started > 900:
            break
        time.sleep(1)
    primary.down = False
    out["outage_s"] = round(time.monotonic() - started, 1)
    out["fallback_before_recovery"] = len(fallback.alerts())
    log(f"faults: primary channel back after {out['outage_s']}s ({primary.refused} requests refused)")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fuzzed(n: int, rng: random.Random) -> list[tuple[bytes, bytes | None, str]]:
    """n hostile records (key, value, kind); every key is unique so its dead letter can be found."""
    good = {"post_id": "", "site": "fuzz", "source": "fuzz", "kind": "forum", "url": "http://127.0.0.1/f",
            "text": "正文", "published_at": "2026-11-26T08:00:00+00:00", "crawled_at": "2026-11-26T08:00:00+00:00"}
    makers = {
        "bad_json": lambda k: b'{"post_id": "' + k + b'", "text": ',
        "bad_utf8": lambda k: b'{"post_id": "' + k + b'", "text": "\xff\xfe\xfa"}',
        "nesting": lambda k: b"[" * rng.choice((5_000, 50_000, 200_000)),
        "oversize": lambda k: json.dumps({**good, "post_id": k.decode(), "text": "长" * (MAX_RAW_BYTES // 2)}).encode(),
        "wrong_types": lambda k: json.dumps({**good, "post_id": k.decode(), "kind": 7, "text": ["a"]}).encode(),
        "nan": lambda k: json.dumps({**good, "post_id": k.decode()}).encode()[:-1] + b', "x": NaN}',
        "key_mismatch": lambda k: json.dumps({**good, "post_id": "other:" + k.decode()}).encode(),
        "not_object": lambda k: json.dumps([k.decode(), 1, None]).encode(),
        "tombstone": lambda k: None,
    }
    kinds = [k for k in makers if k != "oversize"]
    out = []
    for i in range(n):
        kind = "oversize" if i % 500 == 0 else kinds[i % len(kinds)]     # a few 1.5 MB records only
        key = f"fuzz:{i}".encode()
        out.append((key, makers[kind](key), kind))
    return out


def inject(settings, records) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all", linger_ms=20,
                             max_request_size=8 * 1024 * 1024)
    for key, value, _ in records:
        producer.send(settings.topic(POSTS_RAW.name), key=key, value=value)
    producer.flush(120)
    producer.close(10)


def dead_letter_keys(settings) -> dict[str, str]:
    """key -> reason of every record in the namespace's posts.dlq."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(settings.topic(POSTS_DLQ.name), bootstrap_servers=settings.kafka_servers,
                             auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
                             consumer_timeout_ms=5000, fetch_max_bytes=64 * 1024 * 1024,
                             max_partition_fetch_bytes=16 * 1024 * 1024)
    out = {}
    try:
        for msg in consumer:
            record = json.loads(msg.value)
            out[base64.b64decode(record["key_b64"]).decode("utf-8", "replace")] = record["reason"]
    finally:
        consumer.close()
    return out


def indexed_ids(settings) -> list[str]:
    from elasticsearch import Elasticsearch, helpers

    with Elasticsearch(settings.elasticsearch_url, request_timeout=60) as es:
        es.indices.refresh(index=settings.alias("posts"))
        return [hit["_id"] for hit in helpers.scan(es, index=settings.alias("posts"), query={"query": {"match_all": {}}},
                                                   _source=False)]


def kill_and_restart(demo: Demo, after_s: float) -> dict:
    worker = next(c for c in demo.children if c.name == "worker-1")
    killed_at = time.monotonic()
    os.killpg(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait()
    demo.children.remove(worker)
    scenario_s = demo.scenario.now_s()
    log(f"faults: worker-1 killed (-9) at scenario t={scenario_s:.0f}s")
    time.sleep(after_s)
    child = spawn_shaobing("worker-1b", ["worker"], demo.env, demo.workdir / "logs")
    demo.children.append(child)
    port = int(child.wait_for(r"METRICS_PORT=(\d+)", 180).group(1))
    demo.metrics_ports[0] = port
    return {"killed_at": killed_at, "restarted_after_s": round(time.monotonic() - killed_at, 1),
            "scenario_s": round(scenario_s)}


def private_es(base, name: str):
    """A throw-away Elasticsearch node on spare ports (so it can be frozen without freezing the
    shared one); returns (settings pointing at it, the node)."""
    from infra.nodes import ElasticsearchNode, find_java
    from infra.stack import _wait_healthy, es_healthy

    def free() -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    es_port = free()
    node_settings = load_settings(state_dir=base.state_dir / "faults" / name, es_port=es_port,
                                  es_transport_port=free(), kafka_port=free(), kafka_controller_port=free())
    node = ElasticsearchNode(node_settings)
    proc = node.start(find_java(node_settings))
    _wait_healthy(node, proc, lambda: es_healthy(f"http://127.0.0.1:{es_port}"), 300)
    return f"http://127.0.0.1:{es_port}", node


def freeze(node, seconds: float, out: dict) -> None:
    pid = node.pid()
    t0 = time.monotonic()
    os.killpg(pid, signal.SIGSTOP)
    log(f"faults: Elasticsearch frozen (SIGSTOP) for {seconds:.0f}s")
    time.sleep(seconds)
    os.killpg(pid, signal.SIGCONT)
    out["frozen_s"] = round(time.monotonic() - t0, 1)
    log("faults: Elasticsearch thawed (SIGCONT)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz", type=int, default=2000, help="hostile raw records to inject (issue: 10000)")
    parser.add_argument("--restart-after", type=float, default=10.0, help="seconds before the killed worker restarts")
    parser.add_argument("--outage", type=float, default=150.0, help="seconds the primary channel is down (issue: 600)")
    parser.add_argument("--es-freeze", type=float, default=60.0,
                        help="seconds a private Elasticsearch node is frozen with SIGSTOP (0 = shared node, no freeze)")
    args = parser.parse_args()
    namespace = f"faults-{uuid.uuid4().hex[:8]}"
    settings = load_settings(namespace=namespace)
    es_node, frozen = None, {}
    if args.es_freeze > 0:
        es_url, es_node = private_es(settings, namespace)
        settings = load_settings(namespace=namespace, es_url=es_url)
    demo = Demo(settings, CONFIG, echo=log)
    demo.receiver = primary = FlakyReceiver(secret=demo.receiver.secret, on_alert=demo._on_alert)
    started = time.monotonic()
    outage: dict = {}
    try:
        demo.start()
        threading.Thread(target=recover_later, args=(primary, demo.fallback_receiver, args.outage, started, outage),
                         daemon=True).start()
        records = fuzzed(args.fuzz, random.Random(5))
        injector = threading.Thread(target=inject, args=(settings, records), name="fuzz")
        injector.start()                          # while the posts and the surge flow
        while demo.scenario.now_s() < CONFIG.surge_at_s + 5:
            time.sleep(1)
            demo.check_children()
        freezer = None
        if es_node is not None:
            freezer = threading.Thread(target=freeze, args=(es_node, args.es_freeze, frozen), daemon=True)
            freezer.start()
        kill = kill_and_restart(demo, args.restart_after)
        injector.join()
        if freezer is not None:
            freezer.join()
        log(f"faults: {len(records)} fuzzed records produced")
        summary = demo.run_until_finished()
        drained_after_kill_s = round(time.monotonic() - kill["killed_at"], 1)
        # what was online by the scenario's end: the demo crawled at least two full rounds after it
        # (posts that appear later, during the drain, may or may not be crawled yet: not counted)
        truth = demo.scenario.ground_truth(until_s=demo.scenario.params.end_s)
        ids = indexed_ids(settings)
        dlq = dead_letter_keys(settings)
        workers_alive = sum(1 for c in demo.children if c.name.startswith("worker") and c.alive())
        def of_subject(receiver) -> list[dict]:
            return [a for a in receiver.alerts() if a.get("status") == "firing"
                    and a.get("labels", {}).get("subject") == truth.subject]

        firing = of_subject(primary)
        fallback_firing = of_subject(demo.fallback_receiver)
    finally:
        demo.stop()
        if es_node is not None:
            es_node.stop(timeout=30)
            import shutil

            shutil.rmtree(es_node.settings.state_dir, ignore_errors=True)

    docs = set(ids)
    expected_docs = truth.keys - truth.verbatim_copies
    posts_lost = len(expected_docs - docs)
    duplicate_docs = len(truth.verbatim_copies & docs) + (len(ids) - len(docs))
    # the scenario surges one subject once; each rule that fires for it (surge, negative_surge) is
    # one alert (one fingerprint) that must reach the duty receiver exactly once
    per_alert = Counter(a.get("fingerprint") for a in firing)
    per_fallback = Counter(a.get("fingerprint") for a in fallback_firing)
    alerts_missing = len(set(per_fallback) - set(per_alert)) + (0 if per_alert or per_fallback else 1)
    alerts_missing += len(set(per_alert) - set(per_fallback))      # the primary was down: the fallback must have it
    alerts_duplicated = sum(n - 1 for n in per_alert.values()) + sum(n - 1 for n in per_fallback.values())
    missing = [k.decode() for k, _, _ in records if k.decode() not in dlq]
    reasons = Counter(dlq[k.decode()].split(":")[0][:40] for k, _, _ in records if k.decode() in dlq)
    not_dead_lettered_by_kind = Counter(kind for k, _, kind in records if k.decode() not in dlq)
    result = {
        "bench": "faults", "form": "reduced", "namespace": settings.namespace,
        "posts_lost": posts_lost, "duplicate_docs": duplicate_docs, "alerts_missing": alerts_missing,
        "alerts_duplicated": alerts_duplicated, "bad_records_not_dead_lettered": len(missing),
        "workers_alive": workers_alive,
        "faults": {
            "fuzz": {"injected": len(records), "dead_letters": len(records) - len(missing),
                     "not_dead_lettered_by_kind": dict(not_dead_lettered_by_kind),
                     "reasons": dict(reasons.most_common(12))},
            "worker_kill": {"posts_lost": posts_lost, "duplicate_docs": duplicate_docs,
                            "alerts_sent": sum(per_alert.values()), "alerts_distinct": len(per_alert),
                            "alerts_expected": "each distinct alert of the surge subject exactly once",
                            "killed_at_scenario_s": kill["scenario_s"],
                            "restarted_after_s": kill["restarted_after_s"],
                            "drained_after_kill_s": drained_after_kill_s, "workers_alive": workers_alive},
            "es_freeze": ({"frozen_s": frozen.get("frozen_s"), "posts_lost": posts_lost, "duplicate_docs": duplicate_docs,
                           "alerts_missing": alerts_missing} if es_node is not None else "not run (--es-freeze 0)"),
            "channel_down": {"primary_refused_requests": primary.refused, **outage,
                             "alerts_on_fallback": dict(per_fallback), "alerts_on_primary_after_recovery": dict(per_alert),
                             "expected": "each alert once on the fallback while down, once on the primary after"},
        },
        "not_run": NOT_RUN,
        "pipeline": {k: summary.get(k) for k in ("posts_crawled", "posts_indexed", "dead_letters", "surges",
                                                 "alerts_delivered", "alert_latency_s", "error")},
        "ground_truth_unique": len(expected_docs), "elapsed_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A real worker whose Elasticsearch stops answering keeps analysing: the batches it cannot index
go to posts.enriched (and their mentions to `mentions`) instead of waiting, and every post is
indexed once the node answers again.

The worker reaches the real node through a proxy in this test that can be frozen: connections
stay open and nothing comes back, as with a node stuck in a long GC pause or SIGSTOP."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.request
from datetime import datetime, timezone

from elasticsearch import Elasticsearch
from kafka import KafkaConsumer, KafkaProducer

from infra.stack import provision, reset_namespace
from shaobing.processes import spawn_shaobing
from shaobing.settings import load_settings
from streams.topics import POSTS_ENRICHED, POSTS_RAW
from tests.integration.helpers import unique


class FreezableProxy:
    """TCP forwarder to `target`; while `frozen` is set, bytes are held in both directions."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.frozen, self.closed = target, threading.Event(), threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                while self.frozen.is_set() and not self.closed.is_set():
                    time.sleep(0.05)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.closed.set()
        self.server.close()


def _metric(port: int, outcome: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    m = re.search(rf'shaobing_stream_records_total\{{outcome="{outcome}",stage="index"\}} ([0-9.e+]+)', text)
    return float(m.group(1)) if m else 0.0


def _post(n: int) -> dict:
    now = datetime.now(timezone.utc).isoformat()
    return {"post_id": f"spill:{n}", "site": "bbs.example.cn", "source": "example", "kind": "forum",
            "url": f"https://bbs.example.cn/t/{n}", "title": "", "text": f"第{n}条帖子：城关镇今天的道路施工进展",
            "published_at": now, "crawled_at": now}


def _enriched_ids(settings, timeout_s: float, want: set[str]) -> set[str]:
    consumer = KafkaConsumer(settings.topic(POSTS_ENRICHED.name), bootstrap_servers=settings.kafka_servers,
                             auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + timeout_s
        while not want <= seen and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                seen.update(json.loads(r.value)["post_id"] for r in records)
        return seen
    finally:
        consumer.close()


def test_a_frozen_node_spills_batches_and_loses_nothing(live_stack, tmp_path):
    settings = load_settings(namespace=unique("it-spill"))
    provision(settings, echo=lambda _: None)
    es_host, es_port = "127.0.0.1", settings.es_port
    proxy = FreezableProxy((es_host, es_port))
    es = Elasticsearch(settings.elasticsearch_url)
    worker = None
    try:
        env = {"SHAOBING_NAMESPACE": settings.namespace, "SHAOBING_STATE_DIR": str(settings.state_dir),
               "SHAOBING_METRICS_PORT": "0", "SHAOBING_WORKER_NAME": "spill-1", "SHAOBING_LOG_LEVEL": "INFO",
               "SHAOBING_ES_URL": f"http://127.0.0.1:{proxy.port}",
               "SHAOBING_INDEX_INLINE_TIMEOUT_S": "2", "SHAOBING_INDEX_SPILL_PAUSE_S": "5"}
        worker = spawn_shaobing("worker", ["worker"], env, tmp_path / "logs")
        port = int(worker.wait_for(r"METRICS_PORT=(\d+)", 120).group(1))
        worker.wait_for(r"\[\^Worker\]: Ready", 180)
        producer = KafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all")
        raw = settings.topic(POSTS_RAW.name)

        def produce(numbers) -> set[str]:
            for n in numbers:
                post = _post(n)
                producer.send(raw, key=post["post_id"].encode(), value=json.dumps(post, ensure_ascii=False).encode())
            producer.flush(30)
            return {f"spill:{n}" for n in numbers}

        before = produce(range(0, 20))           # indexed inline while the node answers
        deadline = time.monotonic() + 120
        while _metric(port, "indexed") < len(before) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _metric(port, "indexed") >= len(before), worker.tail()
        assert _metric(port, "spilled") == 0
        # the analysis' own CPU is exported beside the process's (bench/pipeline.py divides them)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        analyze_cpu = re.search(r"^shaobing_stream_analyze_cpu_seconds_total ([0-9.e+-]+)$", text, re.M)
        assert analyze_cpu and float(analyze_cpu.group(1)) > 0, text[:2000]
        # the hot loops run in C (streams._speedups, built by make install)
        assert re.search(r"^shaobing_stream_analysis_accelerated 1\.0$", text, re.M), text[:2000]

        proxy.frozen.set()
        during = produce(range(20, 60))
        spilled = _enriched_ids(settings, 90, during)      # analysed and handed on while the node is frozen
        assert during <= spilled, worker.tail()
        assert _metric(port, "spilled") >= len(during)
        proxy.frozen.clear()

        after = produce(range(60, 80))
        # an edit of a post that is still waiting in posts.enriched: whichever write reaches the
        # node last, the index ends with the edit (the newest version wins)
        edited = _post(25)
        edited["text"] = "第25条帖子（已编辑）：城关镇道路施工今天结束"
        producer.send(raw, key=edited["post_id"].encode(), value=json.dumps(edited, ensure_ascii=False).encode())
        producer.flush(30)
        want = before | during | after
        deadline = time.monotonic() + 120
        found: set[str] = set()
        while found != want and time.monotonic() < deadline:
            es.indices.refresh(index=settings.alias("posts"))
            resp = es.search(index=settings.alias("posts"), size=200, query={"prefix": {"post_id": "spill:"}},
                             source=["post_id"])
            found = {h["_source"]["post_id"] for h in resp["hits"]["hits"]}
            time.sleep(1)
        assert found == want, (sorted(want - found), worker.tail())
        assert resp["hits"]["total"]["value"] == len(want)
        deadline = time.monotonic() + 60
        while "已编辑" not in es.get(index=settings.alias("posts"), id="spill:25")["_source"]["text"]:
            assert time.monotonic() < deadline, worker.tail()
            time.sleep(1)
        time.sleep(3)      # the spilled first version, if it is written after the edit, must not win
        assert "已编辑" in es.get(index=settings.alias("posts"), id="spill:25")["_source"]["text"]
        assert worker.alive()
        producer.close()
    finally:
        if worker is not None:
            worker.stop()
        proxy.close()
        es.close()
        reset_namespace(settings, echo=lambda _: None)

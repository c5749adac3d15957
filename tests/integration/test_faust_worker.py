"""A Faust agent run by a real `faust worker` process against the real broker, end to end."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from tests.integration.helpers import unique

ROOT = Path(__file__).resolve().parents[2]
N = 200


async def test_real_worker_processes_records(live_stack, tmp_path):
    servers = live_stack.kafka_servers
    topic_in, topic_out = unique("it-faust-in"), unique("it-faust-out")
    admin = KafkaAdminClient(bootstrap_servers=servers)
    admin.create_topics([NewTopic(topic_in, 2, 1), NewTopic(topic_out, 2, 1)])
    admin.close()

    env = {**os.environ, "PROBE_APP_ID": unique("it-probe"), "PROBE_IN": topic_in,
           "PROBE_OUT": topic_out, "PROBE_BROKER": servers, "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([sys.executable, "-m", "faust", "-A", "tests.integration.faust_probe",
                               "--datadir", str(tmp_path / "faust"), "worker", "-l", "info"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        producer = KafkaProducer(bootstrap_servers=servers, acks="all")
        for i in range(N):
            site = ("news", "forum", "weibo")[i % 3]
            producer.send(topic_in, key=f"p{i}".encode(),
                          value=json.dumps({"post_id": f"p{i}", "site": site, "text": "舆情" * (i % 7 + 1)}).encode())
        producer.flush(30)
        producer.close()

        consumer = AIOKafkaConsumer(topic_out, bootstrap_servers=servers, auto_offset_reset="earliest", group_id=None)
        await consumer.start()
        out = {}
        try:
            async with asyncio.timeout(120):
                while len(out) < N:
                    assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
                    for records in (await consumer.getmany(timeout_ms=1000)).values():
                        for r in records:
                            value = json.loads(r.value)
                            out[value["post_id"]] = value
        finally:
            await consumer.stop()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()

    assert len(out) == N
    assert all(out[f"p{i}"]["length"] == 2 * (i % 7 + 1) for i in range(N))
    # the table saw every post of each site exactly once: the largest running count equals the site's total
    for site, total in (("news", 67), ("forum", 67), ("weibo", 66)):
        assert max(v["site_count"] for v in out.values() if v["site"] == site) == total

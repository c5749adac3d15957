"""The stream framework's own cost per record: what a worker pays before it does any work.

Builds the worker's Faust app (streams.app.build_app: the same settings, topics and tables),
produces N posts-sized records (about 1 KB of JSON, not real posts: no analysis runs) into a fresh
namespace's posts.raw, then runs ONE agent on posts.raw in this process and measures the process
CPU from the first record to the last, per record. Steps, each adding to the one before:

    take   stream.take_events(200, within=0.2), nothing else (fetch, event, ack)
    table  + a table get and set per record, as seen_posts was a Faust table (RocksDB or memory store, plus its changelog record)
    send   + one Topic.send per record (as a mention is sent), gathered per batch

    .venv/bin/python bench/faust_floor.py                 # 20,000 records, every step
    .venv/bin/python bench/faust_floor.py --step take --records 50000

The worker in bench/pipeline.py pays these plus analyze() and its own plumbing; the difference
between them is what a rewrite of the consume/produce path could save. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STEPS = ("take", "table", "send")


def produce(settings, n: int) -> None:
    from kafka import KafkaProducer

    from infra.stack import provision
    from streams.topics import POSTS_RAW

    provision(settings, echo=lambda *_: None)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_servers, acks="all", linger_ms=20, batch_size=256 * 1024)
    topic, body = settings.topic(POSTS_RAW.name), "某地" * 400
    for i in range(n):
        producer.send(topic, key=f"p{i}".encode(), value=json.dumps({"post_id": f"p{i}", "text": body}).encode())
    producer.flush()
    producer.close()


def run_step(step: str, n: int, namespace: str) -> None:
    """The child process: one Faust worker, one agent; prints the JSON line and exits."""
    import faust

    from shaobing.settings import load_settings
    from streams.agents import writing_for
    from streams.app import build_app

    settings = load_settings(namespace=namespace)
    topo = build_app(settings)
    state = {"n": 0, "cpu0": None, "wall0": None}
    # a Faust table as the worker kept seen_posts before the analyze stage left Faust (streams.raw_stage)
    seen_posts = topo.app.Table("floor_seen_posts", default=None, partitions=topo.raw.partitions, key_type=str)

    @topo.app.agent(topo.raw, name="floor")
    async def floor(stream):
        async for events in stream.take_events(200, within=0.2):
            if state["cpu0"] is None:
                state["cpu0"], state["wall0"] = time.process_time(), time.monotonic()
            sent = []
            for event in events:
                if step in ("table", "send"):
                    key = event.message.key.decode()
                    if seen_posts.get(key) is None:
                        with writing_for(event):
                            seen_posts[key] = ["0" * 32, 1]
                if step == "send":
                    sent.append(await topo.mentions.send(key=b"subject", value=event.value[:300], force=True))
            await asyncio.gather(*sent)
            state["n"] += len(events)
            if state["n"] >= n:
                cpu, wall = time.process_time() - state["cpu0"], time.monotonic() - state["wall0"]
                print(json.dumps({"step": step, "records": state["n"], "store": settings.worker_store,
                                  "cpu_us_per_record": round(cpu / state["n"] * 1e6, 1),
                                  "records_per_s": round(state["n"] / wall, 1)}), flush=True)
                os._exit(0)

    worker = faust.Worker(topo.app, loglevel="WARNING", quiet=True, redirect_stdouts=False)
    worker.spinner = None
    worker.execute_from_commandline()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--step", choices=STEPS, action="append", help="default: every step")
    ap.add_argument("--child", nargs=2, metavar=("STEP", "NAMESPACE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        run_step(args.child[0], args.records, args.child[1])
        return 0
    from infra.stack import reset_namespace
    from shaobing.settings import load_settings

    results = {}
    for step in args.step or STEPS:
        settings = load_settings(namespace=f"floor-{step}-{uuid.uuid4().hex[:6]}")
        try:
            produce(settings, args.records)
            out = subprocess.run([sys.executable, __file__, "--records", str(args.records), "--child", step,
                                  settings.namespace], capture_output=True, text=True, timeout=600,
                                 env={**os.environ, "SHAOBING_NAMESPACE": settings.namespace})
            line = next((ln for ln in reversed(out.stdout.splitlines()) if ln.startswith("{")), None)
            if line is None:
                print(out.stdout[-2000:], out.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"step {step}: the worker printed no result (exit {out.returncode})")
            print(line, flush=True)
            results[step] = json.loads(line)
        finally:
            reset_namespace(settings, echo=lambda *_: None)
    print(json.dumps({"records": args.records, "load_avg_1m": round(os.getloadavg()[0], 1),
                      **{f"{s}_cpu_us_per_record": r["cpu_us_per_record"] for s, r in results.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

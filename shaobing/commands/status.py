"""`shaobing status`: the health of every part in one screen (stack, Prometheus and its firing
alerts, workers, crawler rounds, consumer lag, freshness, the last alert, dead letters in the last
hour); exit 1 when something is broken. Gathers readings (the I/O lives here) and leaves the
verdict to shaobing.health. Reads Settings (servers, namespace, state_dir, prometheus_api)."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone


def register(sub) -> None:
    p = sub.add_parser("status", help="流水线健康状况 / health of every part of the pipeline")
    p.add_argument("--json", action="store_true", help="print the checks as JSON (one object)")
    p.set_defaults(func=run)


def announced(settings, job: str) -> list[str]:
    """host:port of this namespace's processes of one kind, from the file_sd target files."""
    from shaobing.telemetry import targets_dir

    out = []
    for path in sorted(targets_dir(settings).glob(f"{job}-*.json")):
        try:
            groups = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for g in groups:
            if g.get("labels", {}).get("namespace") == (settings.namespace or "default"):
                out += g.get("targets", [])
    return out


def read_processes(settings, job: str):
    from shaobing.demo import scrape
    from shaobing.health import Process

    out = []
    for instance in announced(settings, job):
        try:
            out.append(Process(instance, scrape(int(instance.rsplit(":", 1)[1]))))
        except OSError:
            out.append(Process(instance, None))
    return out


def read_lag(settings, now: float):
    from kafka.errors import KafkaError

    from streams.lag import worker_lag_reader

    reader = worker_lag_reader(settings)
    try:
        return {t: (lag.records, lag.seconds) for t, lag in reader.read(now).items()}
    except (KafkaError, OSError):
        return None
    finally:
        reader.close()


def dead_letters_since(settings, since_ms: int) -> int | None:
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    from shaobing.connections import kafka_python_options
    from streams.topics import POSTS_DLQ

    try:
        consumer = KafkaConsumer(bootstrap_servers=settings.kafka_servers, enable_auto_commit=False,
                                 client_id="shaobing-status", **kafka_python_options(settings))
    except (KafkaError, OSError):
        return None
    try:
        topic = settings.topic(POSTS_DLQ.name)
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not parts:
            return 0
        ends = consumer.end_offsets(parts)
        starts = consumer.offsets_for_times({tp: since_ms for tp in parts})
        return sum(ends[tp] - (starts[tp].offset if starts.get(tp) else ends[tp]) for tp in parts)
    except (KafkaError, OSError):
        return None
    finally:
        consumer.close()


def last_alert(settings) -> dict | None:
    from elasticsearch import ApiError, TransportError

    from shaobing.connections import es_client

    try:
        with es_client(settings, request_timeout=10) as es:
            resp = es.search(index=settings.alias("alerts"), size=1, sort=[{"fired_at": "desc"}],
                             ignore_unavailable=True)
    except (ApiError, TransportError):
        return None
    hits = resp["hits"]["hits"]
    return hits[0]["_source"] if hits else None


def prometheus_alerts(url: str) -> list[dict]:
    import httpx

    try:
        resp = httpx.get(f"{url}/api/v1/alerts", timeout=5)
        alerts = resp.json()["data"]["alerts"]
    except (httpx.HTTPError, ValueError, KeyError):
        return []
    return [a for a in alerts if a.get("state") == "firing"]


def prometheus_query(url: str, query: str) -> list[dict]:
    """An instant query's result vector; empty when Prometheus does not answer."""
    import httpx

    try:
        resp = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=5)
        return resp.json()["data"]["result"]
    except (httpx.HTTPError, ValueError, KeyError):
        return []


def freshness_5m(url: str, namespace: str) -> dict[str, float]:
    """p99 freshness by `since` over the last 5 minutes, from the recording rule."""
    query = f'shaobing:index_freshness_seconds:p99_5m{{namespace="{namespace or "default"}"}}'
    return {r["metric"].get("since", ""): float(r["value"][1]) for r in prometheus_query(url, query)}


def gather(settings):
    from infra.monitor import ready as prometheus_ready
    from infra.stack import es_healthy, kafka_healthy
    from shaobing.health import Readings

    now = time.time()
    from shaobing.connections import es_options, kafka_python_options

    readings = Readings(now=now, kafka=kafka_healthy(settings.kafka_servers, options=kafka_python_options(settings)),
                        elasticsearch=es_healthy(settings.elasticsearch_url, options=es_options(settings)))
    ready, detail = prometheus_ready(settings.prometheus_api)
    if ready or settings.prometheus_url:
        readings.prometheus = (ready, f"{detail} at {settings.prometheus_api}")
        if ready:
            # this namespace's alerts and those without one (ShaobingNoWorker); not other namespaces'
            ns = settings.namespace or "default"
            readings.prometheus_alerts = [a for a in prometheus_alerts(settings.prometheus_api)
                                          if a["labels"].get("namespace", ns) == ns]
            readings.freshness_5m = freshness_5m(settings.prometheus_api, settings.namespace)
    readings.workers = read_processes(settings, "worker")
    readings.crawlers = read_processes(settings, "crawler")
    if readings.kafka[0]:
        readings.lag = read_lag(settings, now)
        readings.dead_letters_1h = dead_letters_since(settings, int((now - 3600) * 1000))
    if readings.elasticsearch[0]:
        readings.last_alert = last_alert(settings)
    return readings


def run(args, settings) -> int:
    from alerting.render import local
    from shaobing.health import as_json, exit_code, judge, report

    checks = judge(gather(settings))
    if args.json:
        print(json.dumps({"namespace": settings.namespace or "default", "checks": as_json(checks),
                          "exit_code": exit_code(checks)}, ensure_ascii=False))
    else:
        at = local(datetime.now(timezone.utc), "%Y-%m-%d %H:%M:%S")
        print(report(checks, f"shaobing status — namespace {settings.namespace or 'default'} — {at} (Asia/Shanghai)"))
    return exit_code(checks)

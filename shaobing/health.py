"""The verdict of `shaobing status`: each part of the pipeline judged from plain readings (what
the command gathered from Kafka, Elasticsearch, Prometheus and the processes' /metrics), and the
report an operator reads at 3 a.m. Pure: no I/O, the clock is passed in. Reads no settings.

States: ok, warn (worth a look, exit 0), fail (something is broken, exit 1), off (an optional
part that is not running, e.g. Prometheus). Thresholds mirror infra/prometheus/alerts.yml.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

LAG_WARN_S, LAG_FAIL_S = 60.0, 300.0            # ShaobingConsumerLagHigh fires at 300 s
FRESHNESS_OBJECTIVE_S = 60.0                    # crawled -> indexed p99 (ShaobingFreshnessSlow)
CRAWL_ROUND_WARN_S = 600.0                      # no finished round for 10 min
SOURCE_FAILING_S = 1800.0                       # ShaobingSourceFailing
DLQ_FAIL_PER_HOUR = 60                          # ShaobingDeadLetters: more than 1 a minute
ORDER = {"ok": 0, "off": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Check:
    part: str
    state: str            # ok | warn | fail | off
    detail: str


@dataclass(frozen=True)
class Process:
    """One announced /metrics endpoint and what it answered (samples None = did not answer)."""
    instance: str
    samples: Mapping[str, float] | None      # "name{k=v,...}" -> value, labels sorted


@dataclass
class Readings:
    now: float                                           # unix seconds
    kafka: tuple[bool, str] = (False, "not checked")
    elasticsearch: tuple[bool, str] = (False, "not checked")
    prometheus: tuple[bool, str] | None = None           # None = not configured / not running
    prometheus_alerts: Sequence[Mapping] = ()             # firing alerts: {"labels": {...}}
    workers: Sequence[Process] = ()
    crawlers: Sequence[Process] = ()
    lag: Mapping[str, tuple[int, float]] | None = None    # topic -> (records, seconds); None = unreadable
    dead_letters_1h: int | None = None
    last_alert: Mapping | None = None
    freshness_5m: Mapping[str, float] | None = None      # since -> p99 over 5 min, from Prometheus
    notes: list[str] = field(default_factory=list)


def sample(samples: Mapping[str, float], name: str, **labels: str) -> float | None:
    key = name + "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"
    return samples.get(key)


def family(samples: Mapping[str, float], name: str) -> dict[str, float]:
    """{labels part: value} of every sample of one metric name."""
    prefix = name + "{"
    return {k[len(prefix):-1]: v for k, v in samples.items() if k.startswith(prefix)}


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """Prometheus's histogram_quantile over cumulative bucket counts {upper bound: count}."""
    if not buckets:
        return None
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank, prev_bound, prev_count = q * total, 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return prev_bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / max(count - prev_count, 1e-12)
        prev_bound, prev_count = bound, count
    return bounds[-2] if len(bounds) > 1 else None


def freshness_p99(workers: Sequence[Process], since: str) -> float | None:
    """p99 over every answering worker's freshness histogram (since each worker started)."""
    buckets: dict[float, float] = {}
    for w in workers:
        for labels, value in family(w.samples or {}, "shaobing_index_freshness_seconds_bucket").items():
            parts = dict(p.split("=", 1) for p in labels.split(","))
            if parts.get("since") == since:
                le = float(parts["le"])
                buckets[le] = buckets.get(le, 0.0) + value
    return histogram_quantile(0.99, buckets)


def ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}min"
    return f"{seconds / 3600:.1f}h"


def local_time(iso: str | None) -> str:
    """An ISO time from a document, shown in Asia/Shanghai; unreadable values as they are."""
    from alerting.render import local

    try:
        return local(datetime.fromisoformat(iso), "%m-%d %H:%M:%S") + " (Asia/Shanghai)"
    except (TypeError, ValueError):
        return str(iso)


def check_stack(r: Readings) -> list[Check]:
    out = [Check("kafka", "ok" if r.kafka[0] else "fail", r.kafka[1]),
           Check("elasticsearch", "ok" if r.elasticsearch[0] else "fail", r.elasticsearch[1])]
    if r.prometheus is None:
        out.append(Check("prometheus", "off", "not running (start it: shaobing stack up --with-prometheus)"))
    elif not r.prometheus[0]:
        out.append(Check("prometheus", "warn", r.prometheus[1]))
    else:
        names = sorted({f"{a['labels'].get('alertname')}({a['labels'].get('severity', '?')})" for a in r.prometheus_alerts})
        critical = any(a["labels"].get("severity") == "critical" for a in r.prometheus_alerts)
        state = "fail" if critical else "warn" if names else "ok"
        out.append(Check("prometheus", state, r.prometheus[1] + ("; firing: " + ", ".join(names) if names else "; no alert firing")))
    return out


def check_workers(r: Readings) -> Check:
    if not r.workers:
        return Check("workers", "fail", "no worker has announced itself (start one: shaobing worker)")
    down = [w.instance for w in r.workers if w.samples is None]
    up = len(r.workers) - len(down)
    detail = f"{up} of {len(r.workers)} answering" + (f"; not answering: {', '.join(down)}" if down else "")
    return Check("workers", "fail" if down else "ok", detail)


def check_crawler(r: Readings) -> Check:
    live = [c for c in r.crawlers if c.samples is not None]
    if not r.crawlers:
        return Check("crawler", "warn", "no crawler has announced itself (start one: shaobing crawl --loop)")
    if not live:
        return Check("crawler", "fail", "not answering: " + ", ".join(c.instance for c in r.crawlers))
    problems, rounds, last_round = [], 0.0, 0.0
    for c in live:
        rounds += sample(c.samples, "shaobing_crawler_rounds_total") or 0
        last_round = max(last_round, sample(c.samples, "shaobing_crawler_last_round_timestamp_seconds") or 0)
        for labels, value in family(c.samples, "shaobing_crawler_watchdog_firing").items():
            if value == 1:
                problems.append(labels.replace("rule=", "").replace("source=", ""))
        for labels, value in family(c.samples, "shaobing_crawler_last_success_timestamp_seconds").items():
            if r.now - value > SOURCE_FAILING_S:
                problems.append(f"{labels.removeprefix('source=')} no clean round for {ago(r.now - value)}")
    when = f"last round {ago(r.now - last_round)} ago" if last_round else "no round finished yet"
    stale = bool(last_round) and r.now - last_round > CRAWL_ROUND_WARN_S
    detail = f"{when}, {rounds:.0f} rounds; " + ("; ".join(sorted(problems)) if problems else "no source silent or failing")
    return Check("crawler", "warn" if problems or stale else "ok", detail)


def check_lag(r: Readings) -> Check:
    if r.lag is None:
        return Check("lag", "fail", "could not read the worker group's offsets from Kafka")
    worst = max((s for _, s in r.lag.values()), default=0.0)
    detail = " · ".join(f"{t} {n}" + (f" ({ago(s)} behind)" if n else "") for t, (n, s) in r.lag.items())
    state = "fail" if worst > LAG_FAIL_S else "warn" if worst > LAG_WARN_S else "ok"
    return Check("lag", state, detail or "no topic")


def check_freshness(r: Readings) -> Check:
    """From Prometheus's last 5 minutes when it has them, else the workers' histograms since start."""
    recent = {k: v for k, v in (r.freshness_5m or {}).items() if not math.isnan(v)}
    if "crawled" in recent:
        crawled, published, window = recent["crawled"], recent.get("published"), "last 5 min (Prometheus)"
    else:
        crawled, published = freshness_p99(r.workers, "crawled"), freshness_p99(r.workers, "published")
        window = "since the workers started"
    if crawled is None:
        return Check("freshness", "ok", "nothing indexed since the workers started")
    detail = f"crawled→indexed p99 {crawled:.1f}s (objective {FRESHNESS_OBJECTIVE_S:.0f}s)" + (
        f", published→indexed p99 {ago(published)}" if published is not None else "") + f", {window}"
    return Check("freshness", "warn" if crawled > FRESHNESS_OBJECTIVE_S else "ok", detail)


def check_alerts(r: Readings) -> list[Check]:
    out = []
    a = r.last_alert
    if a is None:
        out.append(Check("last alert", "ok", "none recorded"))
    else:
        channels = ",".join(a.get("channel") or []) or "-"
        state = "warn" if a.get("status") == "failed" else "ok"
        out.append(Check("last alert", state, f"{local_time(a.get('fired_at'))} {a.get('rule')} {a.get('subject')} "
                                              f"({a.get('status')}; channels {channels})"))
    n = r.dead_letters_1h
    if n is None:
        out.append(Check("dead letters", "warn", "could not count posts.dlq"))
    else:
        out.append(Check("dead letters", "fail" if n > DLQ_FAIL_PER_HOUR else "warn" if n else "ok",
                         f"{n} in the last hour"))
    return out


def judge(r: Readings) -> list[Check]:
    return [*check_stack(r), check_workers(r), check_crawler(r), check_lag(r), check_freshness(r), *check_alerts(r)]


def exit_code(checks: Sequence[Check]) -> int:
    return 1 if any(c.state == "fail" for c in checks) else 0


def verdict(checks: Sequence[Check]) -> str:
    """healthy, warnings or unhealthy: the worst state among the checks."""
    return ("healthy", "warnings", "unhealthy")[max((ORDER[c.state] for c in checks), default=0)]


def report(checks: Sequence[Check], header: str) -> str:
    words = {"healthy": "healthy", "warnings": "healthy, with warnings", "unhealthy": "UNHEALTHY"}
    lines = [header] + [f"{c.state.upper():<5} {c.part:<14} {c.detail}" for c in checks]
    return "\n".join(lines + [f"verdict: {words[verdict(checks)]}"])


def as_json(checks: Sequence[Check]) -> list[dict]:
    return [asdict(c) for c in checks]

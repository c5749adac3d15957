"""The demo: the whole pipeline on the real stack against the local demo web, from crawl to the
duty channel. Reads Settings (namespace, ports, state dir) and passes them to its children.

`run_demo(settings, config)` starts the stack, the demo web (in this process), a duty receiver
(the generic webhook's endpoint, in this process), N `shaobing worker` processes and a
`shaobing crawl --loop` process, shows counters per stage while it runs, prints every alert in
full when it arrives, and stops everything it started on return or Ctrl-C.
"""
from __future__ import annotations

import json
import secrets
import shutil
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from infra.duty_receiver import DutyReceiver, Received
from shaobing.processes import Child, spawn_shaobing
from shaobing.settings import Settings

DEMO_WATCHLIST = Path(__file__).resolve().parent.parent / "infra" / "demo" / "watchlist.yml"


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 7
    history_s: float = 1800.0       # chatter already online when the demo starts
    surge_at_s: float = 45.0        # scenario seconds until the surge starts
    surge_span_s: float = 90.0
    tail_s: float = 30.0            # scenario after the surge
    crawl_interval_s: float = 5.0
    workers: int = 1
    once: bool = False
    timeout_s: float = 600.0
    reset: bool = False             # delete the namespace's topics, indices and worker state first
    console_port: int = 8080        # the analysts' console; another free port if this one is taken
    fallback: bool = False          # a second receiver as the duty route's fallback (bench/faults.py)
    retry_deadline: str = ""        # the rules file's retry.deadline, e.g. "20s"; empty = the default
    # The demo compresses a watch into minutes: its subjects have 30 minutes of history, not the
    # day after which the detector trusts its learned rhythm (young_factor doubles z before that,
    # which left the demo's surge borderline), so the demo waives that; and, as an office would
    # for its own hot spot, it sets a plain threshold (15 mentions in the minute) beside it. With
    # no daily peaks for the tail gate to learn from, it keeps the fixed line z 5 (the packaged z
    # of 3 counts on the gate).
    surge: dict = field(default_factory=lambda: {"bucket_s": 10, "window_s": 60, "baseline_s": 1800,
                                                 "min_count": 8, "ratio": 3.0, "z": 5.0, "grace_s": 60,
                                                 "young_factor": 1.0, "threshold": 15})


def write_rules(path: Path, receiver_url: str, secret: str, config: DemoConfig, fallback_url: str = "") -> Path:
    rules = {
        "version": 1,
        "surge": config.surge,
        "channels": [{"name": "duty-webhook", "type": "webhook", "url": receiver_url, "secret": secret},
                     {"name": "console", "type": "console"}],
        "default_route": {"name": "duty", "channels": ["duty-webhook", "console"], "group_wait": "5s",
                          "group_interval": "1m", "repeat_interval": "4h"},
        "workers": config.workers,
    }
    if fallback_url:
        rules["channels"].append({"name": "duty-fallback", "type": "webhook", "url": fallback_url, "secret": secret})
        rules["default_route"]["fallback"] = ["duty-fallback"]
    if config.retry_deadline:
        rules["retry"] = {"deadline": config.retry_deadline}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# written by `shaobing demo`\n" + yaml.safe_dump(rules, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    path.chmod(0o600)   # it holds the webhook secret
    return path


def scrape(port: int) -> dict[str, float]:
    """Sum of every sample of a worker's /metrics, keyed `name{label=value,...}`."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}"] = s.value
    return out


def stage_counts(samples: list[dict[str, float]]) -> dict[str, int]:
    def total(stage: str, outcome: str) -> int:
        key = f"shaobing_stream_records_total{{outcome={outcome},stage={stage}}}"
        return int(sum(s.get(key, 0) for s in samples))

    dlq = sum(v for s in samples for k, v in s.items() if k.startswith("shaobing_stream_dead_letters_total{"))
    return {
        "validated": total("validate", "ok"),
        "dead_letters": int(dlq),
        "recrawls_dropped": total("dedup", "duplicate"),
        "analysed": total("dedup", "unique"),
        "exact_duplicates": total("cluster", "duplicate"),
        "new": total("cluster", "new"),
        "reposts": total("cluster", "repost"),
        "indexed": total("index", "indexed"),
        "mentions": total("fanout", "mentions"),
        "surges": total("surge", "signal"),
        "alerts_ok": total("alert", "delivered"),
    }


def pipeline_lag(settings: Settings) -> int | None:
    """Records not yet committed by the worker groups on the post-carrying topics; None before
    the group has committed on all of them. Zero means the pipeline has drained."""
    from kafka import KafkaAdminClient
    from kafka.admin import OffsetSpec

    from streams.topics import MENTIONS, POSTS_ANALYZED, POSTS_ENRICHED, POSTS_RAW

    names = {settings.topic(t.name) for t in (POSTS_RAW, POSTS_ANALYZED, POSTS_ENRICHED, MENTIONS)}
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers, client_id="shaobing-demo")
    try:
        raw, committed = settings.topic(POSTS_RAW.name), {}
        for group in (settings.faust_app_id, settings.analyze_group_id):     # posts.raw: the analyze stage's group
            offsets = admin.list_group_offsets(group).get(group, {})
            committed.update({tp: om.offset for tp, om in offsets.items()
                              if tp.topic in names and (tp.topic == raw) == (group == settings.analyze_group_id)})
        if {tp.topic for tp in committed} != names:
            return None
        latest = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in committed})
    finally:
        admin.close()
    end = {tp: (v.offset if hasattr(v, "offset") else v) for tp, v in latest.items()}
    return sum(max(0, end[tp] - off) for tp, off in committed.items())


def es_stats(settings: Settings) -> dict[str, int]:
    from shaobing.connections import es_client

    with es_client(settings) as es:
        alias = settings.alias("posts")
        es.indices.refresh(index=alias)
        return {"docs": es.count(index=alias)["count"],
                "reposts": es.count(index=alias, query={"term": {"is_repost": True}})["count"]}


def first_detection(settings: Settings, subject: str) -> datetime | None:
    """detected_at of the first firing surge of a subject in this namespace's surges topic."""
    from kafka import KafkaConsumer

    from streams.records import ALERT_TICK_KEY
    from streams.topics import SURGES

    consumer = KafkaConsumer(settings.topic(SURGES.name), bootstrap_servers=settings.kafka_servers,
                             auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=2000)
    try:
        for record in consumer:
            if record.key == ALERT_TICK_KEY:
                continue
            surge = json.loads(record.value)
            if surge.get("subject") == subject and surge.get("status", "firing") == "firing":
                return datetime.fromisoformat(surge["detected_at"])
    finally:
        consumer.close()
    return None


def first_indexed(settings: Settings, post_ids: frozenset[str]) -> datetime | None:
    from shaobing.connections import es_client

    with es_client(settings) as es:
        resp = es.search(index=settings.alias("posts"), size=1, sort=[{"indexed_at": "asc"}],
                         query={"ids": {"values": sorted(post_ids)}}, source=["indexed_at"])
    hits = resp["hits"]["hits"]
    return datetime.fromisoformat(hits[0]["_source"]["indexed_at"]) if hits else None


def first_produced(settings: Settings, post_ids: frozenset[str], timeout_s: float = 20) -> datetime | None:
    """Earliest produced_at among the given posts in this namespace's posts.raw."""
    from kafka import KafkaConsumer

    from streams.topics import POSTS_RAW

    consumer = KafkaConsumer(settings.topic(POSTS_RAW.name), bootstrap_servers=settings.kafka_servers,
                             auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=3000)
    earliest = None
    deadline = time.monotonic() + timeout_s
    try:
        for record in consumer:
            if (record.key or b"").decode("utf-8", "replace") in post_ids:
                produced = json.loads(record.value).get("produced_at")
                if produced:
                    at = datetime.fromisoformat(produced)
                    earliest = at if earliest is None or at < earliest else earliest
            if time.monotonic() > deadline:
                break
    finally:
        consumer.close()
    return earliest


class Demo:
    def __init__(self, settings: Settings, config: DemoConfig, echo: Callable[[str], None] = print):
        self.settings, self.config, self.echo = settings, config, echo
        self.workdir = settings.state_dir / "demo" / (settings.namespace or "default")
        self.children: list[Child] = []
        self.receiver = DutyReceiver(secret=secrets.token_hex(16), on_alert=self._on_alert)
        self.fallback_receiver = DutyReceiver(secret=self.receiver.secret) if config.fallback else None
        self.crawled = 0
        self.metrics_ports: list[int] = []
        self._stop_web = None
        self.scenario = None
        self.env: dict[str, str] = {}
        self.console_url, self.console_token = "", ""

    # --- set-up
    def start(self) -> None:
        from infra.demo_web.scenario import Scenario
        from infra.demo_web.server import start_demo_web
        from infra.stack import Stack, provision, reset_namespace

        if self.settings.uses_local_stack:
            stack = Stack(self.settings)
            stack.up(echo=self.echo)
            self.start_prometheus(stack)
        if self.config.reset:
            reset_namespace(self.settings, echo=self.echo)
            shutil.rmtree(self.workdir / "crawl", ignore_errors=True)
        provision(self.settings, echo=self.echo)
        c = self.config
        self.scenario = Scenario(seed=c.seed, speed=1.0, surge_at_s=c.surge_at_s, history_s=c.history_s,
                                 surge_span_s=c.surge_span_s, duration_s=c.surge_at_s + c.surge_span_s + c.tail_s)
        web_url, self._stop_web = start_demo_web(port=0, scenario=self.scenario)
        receiver_url = self.receiver.start()
        fallback_url = self.fallback_receiver.start() if self.fallback_receiver else ""
        rules = write_rules(self.workdir / "rules.yml", receiver_url, self.receiver.secret, c, fallback_url)
        self.env = env = {"SHAOBING_NAMESPACE": self.settings.namespace, "SHAOBING_RULES_FILE": str(rules),
                          "SHAOBING_WATCHLIST_FILE": str(DEMO_WATCHLIST), "SHAOBING_METRICS_PORT": "0",
                          "SHAOBING_STATE_DIR": str(self.settings.state_dir),
                          "SHAOBING_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
                          "SHAOBING_ES_URL": self.settings.es_url}
        self.echo(f"演示站点 / demo web: {web_url}   值班接收端 / duty receiver: {receiver_url}")
        self.start_workers()
        self.crawler = spawn_shaobing("crawl", ["crawl", "--loop", "--interval", str(c.crawl_interval_s),
                                                "--base-url", web_url, "--state-dir", str(self.workdir / "crawl")],
                                      env, self.workdir / "logs")
        self.children.append(self.crawler)
        self.echo(f"worker ×{c.workers}, crawler started; logs in {self.workdir / 'logs'}")
        self.start_console()

    def start_prometheus(self, stack) -> None:
        """The operators' view: Prometheus scrapes the demo's processes (they announce their
        ports); without a prometheus binary the demo runs on and says how to get one."""
        from infra.errors import StackError

        try:
            stack.prometheus.up(echo=self.echo)
        except StackError as exc:
            self.echo(f"运维视图未启动 / operators' view not started: {exc}")

    def run_until_finished(self) -> dict:
        """Show counters until the scenario is over and drained (--once) or forever (live)."""
        config, started = self.config, time.monotonic()
        rounds_at_end, last_line = None, 0.0
        while True:
            time.sleep(2)
            self.check_children()
            counts = self.counts()
            rounds = self.crawl_rounds()
            if rounds_at_end is None and self.scenario.now_s() >= self.scenario.params.end_s:
                rounds_at_end = len(rounds)      # rounds from now on see the whole scenario
            if time.monotonic() - last_line >= (2 if not config.once else 10):
                last_line = time.monotonic()
                self.echo(format_counts(self.scenario.now_s(), counts))
            crawled_all = (rounds_at_end is not None and len(rounds) >= rounds_at_end + 2
                           and rounds[-1].get("posts_new", 0) == 0)
            if config.once and crawled_all and self.finished(counts):
                return self.summary(counts)
            if config.once and time.monotonic() - started > config.timeout_s:
                summary = self.summary(counts)
                summary["error"] = f"timed out after {config.timeout_s:.0f}s"
                return summary

    def start_console(self) -> None:
        """`shaobing console` on the demo's namespace, and an admin token to log in with."""
        import asyncio

        from console.store import create_token

        port = _free_or_any(self.config.console_port)
        self.children.append(spawn_shaobing("console", ["console", "--port", str(port)], self.env, self.workdir / "logs"))
        token = asyncio.run(create_token(self.settings, "admin", "demo", created_by="demo"))
        self.console_url, self.console_token = f"http://127.0.0.1:{port}/", token
        self.echo(f"分析控制台 / analysts' console: {self.console_url}   登录令牌 / login token: {token}")

    def start_workers(self) -> None:
        for n in range(self.config.workers):
            child = spawn_shaobing(f"worker-{n + 1}", ["worker"], {**self.env, "SHAOBING_WORKER_NAME": f"worker-{n + 1}"},
                                   self.workdir / "logs")
            self.children.append(child)
            self.metrics_ports.append(int(child.wait_for(r"METRICS_PORT=(\d+)", 120).group(1)))
            # one worker at a time, each in the group with its partitions before the next joins
            # and before posts flow: a rebalance while a batch is in flight can leave an event
            # unacknowledged until the next restart (docs/architecture.md, Known issues)
            child.wait_for(r"\[\^Worker\]: Ready", 180)

    def stop_workers(self) -> None:
        for child in [c for c in self.children if c.name.startswith("worker-")]:
            child.stop()
            self.children.remove(child)
        self.metrics_ports.clear()

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.receiver.stop()
        if self.fallback_receiver:
            self.fallback_receiver.stop()
        if self._stop_web:
            self._stop_web()

    # --- while it runs
    def _on_alert(self, item: Received) -> None:
        from indexer.console import terminal_safe

        for alert in item.payload.get("alerts", []):
            text = alert.get("annotations", {}).get("description", "")
            self.echo("\n" + "=" * 72 + "\n🚨 值班告警 / duty alert\n" + "\n".join(map(terminal_safe, text.splitlines())) + "\n" + "=" * 72)

    def crawl_rounds(self) -> list[dict]:
        rounds = []
        for line in self.crawler.output().splitlines():
            if line.startswith("{") and '"posts_new"' in line:
                try:
                    rounds.append(json.loads(line))
                except ValueError:
                    continue
        return rounds

    def counts(self) -> dict[str, int]:
        samples = []
        for port in self.metrics_ports:
            try:
                samples.append(scrape(port))
            except OSError:
                continue
        counts = stage_counts(samples)
        counts["crawled"] = sum(r.get("posts_new", 0) for r in self.crawl_rounds())
        firing = [a for a in self.receiver.alerts() if a.get("status") == "firing"]
        counts["alerts_received"] = len({a.get("fingerprint") for a in firing})
        counts["notifications"] = len(self.receiver.received)
        return counts

    def check_children(self) -> None:
        for child in self.children:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited ({child.proc.returncode}):\n{child.tail()}")

    def finished(self, counts: dict[str, int]) -> bool:
        # stage counters count deliveries (at-least-once: a rebalance re-delivers), so "done" is
        # read from the broker instead: the whole scenario was crawled and the lag is zero
        return counts["alerts_received"] > 0 and pipeline_lag(self.settings) == 0

    def summary(self, counts: dict[str, int]) -> dict:
        truth = self.scenario.ground_truth()
        produced = first_produced(self.settings, truth.surge_keys)
        first_alert = min((r.at for r in self.receiver.received
                           if any(a.get("status") == "firing" for a in r.payload.get("alerts", []))), default=None)
        latency = (first_alert - produced).total_seconds() if first_alert and produced else None

        def since_produced(at: datetime | None) -> float | None:
            return round((at - produced).total_seconds(), 2) if at and produced else None

        split = {"first_surge_post_indexed_s": since_produced(first_indexed(self.settings, truth.surge_keys)),
                 "surge_detected_s": since_produced(first_detection(self.settings, truth.subject)),
                 "alert_delivered_s": since_produced(first_alert)}
        es = es_stats(self.settings)
        return {
            "posts_crawled": counts["crawled"], "posts_unique": es["docs"],
            "duplicates_dropped": counts["crawled"] - es["docs"],
            "reposts_clustered": es["reposts"], "posts_indexed": es["docs"],
            "dead_letters": counts["dead_letters"], "surges": counts["surges"],
            "alerts_delivered": counts["alerts_received"], "notifications": counts["notifications"],
            "alert_latency_s": round(latency, 2) if latency is not None else None,
            "alert_latency_split": split,
            "ground_truth_unique": truth.total_unique, "namespace": self.settings.namespace,
        }


def _free_or_any(port: int) -> int:
    import socket

    for candidate in (port, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port for the console")


def run_demo(settings: Settings, config: DemoConfig, echo: Callable[[str], None] = print) -> dict:
    demo = Demo(settings, config, echo)
    try:
        demo.start()
        return demo.run_until_finished()
    finally:
        demo.stop()


def format_counts(now_s: float, c: dict[str, int]) -> str:
    clock = (datetime.now(timezone.utc) + timedelta(hours=8)).strftime("%H:%M:%S")
    return (f"[{clock} 场景 {now_s:5.0f}s] 抓取 {c['crawled']} · 校验 {c['validated']} · 死信 {c['dead_letters']} · "
            f"重抓丢弃 {c['recrawls_dropped']} · 重复丢弃 {c['exact_duplicates']} · 新帖 {c['new']} · "
            f"转载 {c['reposts']} · 索引 {c['indexed']} · 提及 {c['mentions']} · 突增 {c['surges']} · "
            f"告警 {c['alerts_received']}")

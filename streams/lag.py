"""Consumer lag of the worker group, per topic: records behind (log end minus committed offset)
and seconds behind (age of the oldest record not yet committed). Reads Settings.kafka_servers
(and the TLS / SASL settings through shaobing.connections), Settings.faust_app_id and analyze_group_id (the groups) and
Settings.namespace (topic names).

`lag_by_topic` and `seconds_behind` are pure; `LagReader` asks the broker (an admin client for
offsets, a group-less consumer to read the timestamp of the first uncommitted record);
`LagCollector` exports the last reading at scrape time and refreshes it in a background thread,
so a slow broker never slows a scrape. Each worker exports the group's lag, so two workers
export the same numbers: the recording rules take `max` over instances, not `sum`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from streams.topics import MENTIONS, POSTS_ANALYZED, POSTS_ENRICHED, POSTS_RAW, SURGES

log = logging.getLogger(__name__)

CONSUMED = (POSTS_RAW, POSTS_ANALYZED, POSTS_ENRICHED, MENTIONS, SURGES)
Partition = tuple[str, int]


@dataclass(frozen=True)
class TopicLag:
    records: int
    seconds: float


def lag_by_topic(committed: Mapping[Partition, int], ends: Mapping[Partition, int]) -> dict[str, int]:
    """Records behind per topic. A partition the group never committed counts from 0 (the worker
    reads from the earliest offset), so a fresh group on a full topic shows its whole backlog."""
    out: dict[str, int] = {}
    for (topic, partition), end in ends.items():
        behind = max(0, end - committed.get((topic, partition), 0))
        out[topic] = out.get(topic, 0) + behind
    return out


def seconds_behind(oldest_uncommitted_ms: Mapping[Partition, int], now_s: float) -> dict[str, float]:
    """Per topic, the age of the oldest record not yet committed (0 when none is waiting)."""
    out: dict[str, float] = {}
    for (topic, _), ts_ms in oldest_uncommitted_ms.items():
        out[topic] = max(out.get(topic, 0.0), max(0.0, now_s - ts_ms / 1000))
    return out


class LagReader:
    """Reads the group's lag from the broker. One admin client and one consumer, reused."""

    def __init__(self, servers: str, group: str, topics: Mapping[str, str], options: Mapping | None = None,
                 groups: Mapping[str, str] | None = None):
        self.servers, self.group, self.options = servers, group, dict(options or {})
        self.topics = dict(topics)          # broker topic name -> base name for the label
        self.groups = {t: (groups or {}).get(t, group) for t in self.topics}      # broker topic name -> its group
        self._admin = self._consumer = None

    def read(self, now_s: float) -> dict[str, TopicLag]:
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
        from kafka.admin import OffsetSpec

        if self._admin is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.servers, client_id="shaobing-lag", **self.options)
            # only the first record of each lagging partition is read: small fetches (the broker
            # still returns a whole first batch), not 1 MB per partition parsed in Python every 10 s
            # (4.5 % of a busy worker's samples with a backlog)
            self._consumer = KafkaConsumer(bootstrap_servers=self.servers, enable_auto_commit=False,
                                           client_id="shaobing-lag", consumer_timeout_ms=1000,
                                           max_partition_fetch_bytes=16 * 1024, fetch_max_bytes=256 * 1024,
                                           **self.options)
        parts = [TopicPartition(t, p) for t in self.topics
                 for p in (self._consumer.partitions_for_topic(t) or ())]
        ends_raw = self._admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in parts})
        ends = {(tp.topic, tp.partition): getattr(v, "offset", v) for tp, v in ends_raw.items()}
        committed = {}
        for group in sorted(set(self.groups.values())):
            offsets = self._admin.list_group_offsets(group).get(group, {})
            committed.update({(tp.topic, tp.partition): om.offset for tp, om in offsets.items()
                              if self.groups.get(tp.topic) == group and om.offset >= 0})
        records = lag_by_topic(committed, ends)
        waiting = {tp: committed.get(tp, 0) for tp, end in ends.items() if end > committed.get(tp, 0)}
        seconds = seconds_behind(self._oldest_timestamps(waiting), now_s)
        return {self.topics[t]: TopicLag(records.get(t, 0), seconds.get(t, 0.0)) for t in self.topics}

    def _oldest_timestamps(self, offsets: Mapping[Partition, int]) -> dict[Partition, int]:
        from kafka import TopicPartition

        if not offsets:
            return {}
        tps = {TopicPartition(t, p): off for (t, p), off in offsets.items()}
        self._consumer.assign(list(tps))
        for tp, off in tps.items():
            self._consumer.seek(tp, off)
        found: dict[Partition, int] = {}
        deadline = time.monotonic() + 3
        while len(found) < len(tps) and time.monotonic() < deadline:
            for tp, records in self._consumer.poll(timeout_ms=500, max_records=50).items():
                if records and (tp.topic, tp.partition) not in found:
                    found[(tp.topic, tp.partition)] = records[0].timestamp
                    self._consumer.pause(tp)
        self._consumer.assign([])
        return found

    def close(self) -> None:
        for client in (self._admin, self._consumer):
            if client is not None:
                client.close()


class LagCollector:
    """A prometheus Collector: the last lag reading, refreshed every `interval_s` in a thread."""

    def __init__(self, read: Callable[[float], dict[str, TopicLag]], topics: list[str], interval_s: float = 10.0,
                 clock: Callable[[], float] = time.time):
        self._read, self.topics, self.interval_s, self.clock = read, topics, interval_s, clock
        self.last: dict[str, TopicLag] = {}
        self.updated = 0.0
        self.errors = 0
        self._stop = threading.Event()

    def refresh(self) -> None:
        try:
            self.last = self._read(self.clock())
            self.updated = self.clock()
        except Exception as exc:  # noqa: BLE001 - any broker failure: keep the last reading, count it
            self.errors += 1
            log.warning("consumer lag not read: %s", exc.__class__.__name__)

    def start(self) -> "LagCollector":
        def loop():
            while not self._stop.is_set():
                self.refresh()
                self._stop.wait(self.interval_s)

        threading.Thread(target=loop, name="consumer-lag", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def collect(self):
        records = GaugeMetricFamily("shaobing_stream_consumer_lag_records",
                                    "Records the worker group has not committed yet, per topic.", labels=["topic"])
        seconds = GaugeMetricFamily("shaobing_stream_consumer_lag_seconds",
                                    "Age of the oldest record the worker group has not committed yet, per topic.",
                                    labels=["topic"])
        for topic in self.topics:
            lag = self.last.get(topic)
            if lag is not None:
                records.add_metric([topic], lag.records)
                seconds.add_metric([topic], lag.seconds)
        yield records
        yield seconds
        yield GaugeMetricFamily("shaobing_stream_consumer_lag_updated_timestamp_seconds",
                                "Unix time of the last successful lag reading (0 = never).", value=self.updated)
        yield CounterMetricFamily("shaobing_stream_consumer_lag_read_errors",
                                  "Lag readings that failed (broker unreachable or slow).", value=self.errors)


def worker_lag_reader(settings) -> LagReader:
    """The worker's lag: posts.raw as read by the analyze stage's group, the rest by the Faust app's."""
    from shaobing.connections import kafka_python_options

    return LagReader(settings.kafka_servers, settings.faust_app_id, {settings.topic(t.name): t.name for t in CONSUMED},
                     kafka_python_options(settings), groups={settings.topic(POSTS_RAW.name): settings.analyze_group_id})


def start_lag_collector(settings, registry=None, interval_s: float = 10.0) -> LagCollector:
    from prometheus_client import REGISTRY

    reader = worker_lag_reader(settings)
    collector = LagCollector(reader.read, [t.name for t in CONSUMED], interval_s=interval_s)
    (registry or REGISTRY).register(collector)
    return collector.start()

"""Silences and acks in Kafka: the compacted topic `alerts.control` (streams.topics), read whole
by every process as a global table, so an ack or a silence made by the CLI or the HTTP server on
one host is seen by the alert agent wherever Kafka assigns `surges`, and survives any rebalance.

Each change (alerting.control builds them) is one record, key `silence:<id>` or `ack:<key>`,
value UTF-8 JSON, or a tombstone (null) to delete; compaction keeps the latest per key. A reader
thread follows the topic from its beginning into a dict, so the dispatcher's per-flush reads
never wait for Kafka; a change first catches up to the end of the topic (so it decides on the
latest state), then produces with acks=all and applies its own records at once (read-your-writes).
kafka-python's consumer is not thread-safe: one lock guards it. Reads no settings: the servers,
topic name and client options (TLS / SASL) come from alerting.service.control_store.
"""
from __future__ import annotations

import json
import logging
import threading
import time

from kafka.errors import KafkaError

from alerting.control import ControlBase, Records, apply
from alerting.errors import AlertingError

log = logging.getLogger("shaobing.alerting.control")


class KafkaControlStore(ControlBase):
    def __init__(self, servers: str, topic: str, *, options: dict | None = None, timeout_s: float = 10.0,
                 follow_s: float = 0.5):
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition

        self.topic, self.timeout_s, self.follow_s = topic, timeout_s, follow_s
        self._state: dict[str, dict] = {}
        self._state_lock = threading.Lock()
        self._consumer_lock = threading.Lock()
        self._stop = threading.Event()
        options = options or {}
        try:
            self._consumer = KafkaConsumer(bootstrap_servers=servers, group_id=None, enable_auto_commit=False,
                                           client_id="shaobing-control", **options)
            partitions = self._consumer.partitions_for_topic(topic)
            if not partitions:
                self._consumer.close()
                raise AlertingError(f"Kafka topic {topic} does not exist: run `shaobing stack up` "
                                    "(or create the topics of streams/topics.py on your cluster)")
            self._partitions = [TopicPartition(topic, p) for p in sorted(partitions)]
            self._consumer.assign(self._partitions)
            self._consumer.seek_to_beginning(*self._partitions)
            self._producer = KafkaProducer(bootstrap_servers=servers, acks="all", client_id="shaobing-control",
                                           **options)
        except KafkaError as exc:
            raise AlertingError(f"cannot reach Kafka at {servers} for silences and acks: "
                                f"{exc.__class__.__name__}") from None
        self.catch_up()
        self._thread = threading.Thread(target=self._follow, name="alerts-control", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"<KafkaControlStore {self.topic}>"

    def _poll(self, timeout_ms: int) -> int:
        """Read what is there (caller holds the consumer lock); returns the number of records."""
        batches = self._consumer.poll(timeout_ms=timeout_ms)
        records: Records = []
        for batch in batches.values():
            for msg in batch:
                try:
                    key = msg.key.decode("utf-8")
                    value = json.loads(msg.value) if msg.value is not None else None
                except (AttributeError, UnicodeDecodeError, ValueError):
                    log.warning("alerts.control: skipped an unreadable record at offset %d", msg.offset)
                    continue
                if value is not None and not isinstance(value, dict):
                    continue
                records.append((key, value))
        if records:
            with self._state_lock:
                apply(self._state, records)
        return len(records)

    def catch_up(self) -> None:
        """Until everything written before this call has been read."""
        with self._consumer_lock:
            ends = self._consumer.end_offsets(self._partitions)
            deadline = time.monotonic() + self.timeout_s
            while any(self._consumer.position(tp) < ends[tp] for tp in self._partitions):
                if time.monotonic() > deadline:
                    raise AlertingError(f"reading {self.topic} timed out after {self.timeout_s:.0f}s")
                self._poll(200)

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                with self._consumer_lock:
                    self._poll(100)
            except Exception as exc:    # the reader must outlive a broker restart; logged, retried
                log.warning("alerts.control reader: %s; retrying", exc.__class__.__name__)
            self._stop.wait(self.follow_s)

    def _snapshot(self) -> dict[str, dict]:
        with self._state_lock:
            return dict(self._state)

    def _change(self, make):
        self.catch_up()
        result, records = make(self._snapshot())
        futures = [self._producer.send(self.topic, key=key.encode("utf-8"),
                                       value=None if value is None else json.dumps(value, ensure_ascii=False).encode("utf-8"))
                   for key, value in records]
        try:
            for future in futures:
                future.get(timeout=self.timeout_s)
        except KafkaError as exc:
            raise AlertingError(f"writing to {self.topic} failed: {exc.__class__.__name__}; "
                                "the change may or may not have been made, check with `alerts silence list`") from None
        with self._state_lock:
            apply(self._state, records)
        return result

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._consumer_lock:
            self._consumer.close()
        self._producer.close(timeout=5)

"""Kafka topic names and partition counts: the one definition the crawler, the Faust app and
`shaobing stack up` all import. Reads no settings."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    # how long the broker keeps records; the raw and dead-letter topics are the replay source
    retention_ms: int
    description: str
    cleanup_policy: str = "delete"     # "compact": the latest value per key is kept for ever


_DAY_MS = 24 * 3600 * 1000

POSTS_RAW = TopicSpec("posts.raw", 3, 7 * _DAY_MS, "raw posts from the spiders, key = post_id")
# internal: the repost-clustering sequencer. One partition on purpose, so every near-duplicate
# candidate meets every earlier post in one place (see docs/architecture.md); the expensive
# segmentation happens before it, in parallel, and only the cheap index lookup is serialised.
# Its records are small (ClusterKey) and they ARE the sequencer's state: a worker taking it over
# replays it from now - state_horizon_days, so its retention must exceed that horizon (14 days).
POSTS_ANALYZED = TopicSpec("posts.analyzed", 1, 30 * _DAY_MS, "cluster keys of analysed posts, the repost sequencer's log")
POSTS_ENRICHED = TopicSpec("posts.enriched", 3, 7 * _DAY_MS, "deduplicated, tagged posts, key = post_id")
MENTIONS = TopicSpec("mentions", 3, 3 * _DAY_MS, "one record per (post, subject), key = subject")
# one partition: alerts are a few per hour, and the alert lifecycle (grouping, repeats, acks)
# is evaluated by a timer over all subjects, which a single partition keeps consistent
SURGES = TopicSpec("surges", 1, 30 * _DAY_MS, "surge and threshold events, key = subject; alert ticks")
POSTS_DLQ = TopicSpec("posts.dlq", 1, 30 * _DAY_MS, "records that could not be processed, with the reason")
# silences and acks (alerting.control_kafka): written by the CLI and the HTTP server, read whole by
# every worker, so an ack or silence made anywhere is seen wherever `surges` is assigned.
# Compacted: the latest value per key (silence:<id>, ack:<dedup key>; null = deleted) is kept.
ALERT_CONTROL = TopicSpec("alerts.control", 1, -1, "silences and acknowledgements, key = silence:<id> | ack:<key>",
                          cleanup_policy="compact")

ALL_TOPICS: tuple[TopicSpec, ...] = (POSTS_RAW, POSTS_ANALYZED, POSTS_ENRICHED, MENTIONS, SURGES, POSTS_DLQ,
                                     ALERT_CONTROL)


# posts.raw accepts records up to 8 MiB so an oversized post reaches validation and the
# dead-letter topic with its reason, instead of failing invisibly in the crawler's producer
MAX_MESSAGE_BYTES = {"posts.raw": 8 * 1024 * 1024}


def replication(brokers: int, replication_factor: int = 0, min_insync_replicas: int = 0) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of `brokers`; 0 = automatic:
    min(3, brokers) copies, and 2 of them in sync when there are 3 or more (acks=all then
    survives one broker down, and refuses a write only one broker has)."""
    rf = replication_factor or max(1, min(3, brokers))
    if rf > brokers:
        raise ValueError(f"replication factor {rf} needs {rf} brokers; the cluster has {brokers}")
    isr = min_insync_replicas or (2 if rf >= 3 else 1)
    if isr > rf:
        raise ValueError(f"min.insync.replicas {isr} is more than the replication factor {rf}")
    return rf, isr


def topic_config(spec: TopicSpec, min_insync_replicas: int | None = None) -> dict[str, str]:
    """Broker-side topic config applied at creation."""
    config = {"retention.ms": str(spec.retention_ms), "cleanup.policy": spec.cleanup_policy}
    if min_insync_replicas:
        config["min.insync.replicas"] = str(min_insync_replicas)
    if spec.name in MAX_MESSAGE_BYTES:
        config["max.message.bytes"] = str(MAX_MESSAGE_BYTES[spec.name])
    return config

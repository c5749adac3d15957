"""The Faust app: declares the app, its topics and tables once, and wires the agents.
Reads Settings (Kafka servers, app id, store, batch sizes, state dir).

Every topic carries pydantic records as UTF-8 JSON bytes (streams.records); Faust sees raw
bytes, so a malformed record reaches our own validation and the dead-letter topic instead of
failing inside Faust's deserialiser.
"""
from __future__ import annotations

from dataclasses import dataclass

import faust

from shaobing.connections import faust_broker_credentials
from shaobing.settings import Settings
from streams import topics


@dataclass
class Topology:
    app: faust.App
    raw: faust.TopicT
    analyzed: faust.TopicT
    enriched: faust.TopicT
    mentions: faust.TopicT
    surges: faust.TopicT
    dlq: faust.TopicT
    seen_posts: faust.types.TableT
    content_index: faust.types.TableT
    band_index: faust.types.TableT
    cluster_of: faust.types.TableT
    surge_state: faust.types.TableT
    alert_state: faust.types.TableT


def _topic(app: faust.App, name: str, spec: topics.TopicSpec) -> faust.TopicT:
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", partitions=spec.partitions)


def build_app(settings: Settings) -> Topology:
    datadir = settings.state_dir / "worker" / settings.faust_app_id
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.faust_app_id,
        broker=";".join(f"kafka://{s.strip()}" for s in settings.kafka_servers.split(",")),
        store=settings.worker_store,
        datadir=str(datadir),
        web_enabled=False,
        # the worker command resolves 0 (automatic) from the cluster's size before building the app
        topic_replication_factor=settings.kafka_replication_factor or 1,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        table_standby_replicas=0,
        stream_wait_empty=False,
        broker_credentials=faust_broker_credentials(settings),     # TLS / SASL, None = PLAINTEXT
    )

    def table(name: str, spec: topics.TopicSpec) -> faust.types.TableT:
        # co-partitioned with the topic whose stream writes it (same key, same partition count)
        # values are plain JSON-serialisable dicts/lists/strings (faust's default serializer is json)
        return app.Table(name, default=None, partitions=spec.partitions, key_type=str)

    return Topology(
        app=app,
        raw=_topic(app, settings.topic(topics.POSTS_RAW.name), topics.POSTS_RAW),
        analyzed=_topic(app, settings.topic(topics.POSTS_ANALYZED.name), topics.POSTS_ANALYZED),
        enriched=_topic(app, settings.topic(topics.POSTS_ENRICHED.name), topics.POSTS_ENRICHED),
        mentions=_topic(app, settings.topic(topics.MENTIONS.name), topics.MENTIONS),
        surges=_topic(app, settings.topic(topics.SURGES.name), topics.SURGES),
        dlq=_topic(app, settings.topic(topics.POSTS_DLQ.name), topics.POSTS_DLQ),
        seen_posts=table("seen_posts", topics.POSTS_RAW),
        content_index=table("content_index", topics.POSTS_ANALYZED),
        band_index=table("band_index", topics.POSTS_ANALYZED),
        cluster_of=table("cluster_of", topics.POSTS_ANALYZED),
        surge_state=table("surge_state", topics.MENTIONS),
        alert_state=table("alert_state", topics.SURGES),
    )

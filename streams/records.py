"""Every message schema on shaobing's Kafka topics, defined once and imported everywhere else.

Pydantic models rather than faust.Record: the pure cores (validation, dedup, analysis, surge
detection) must stay free of faust imports, and pydantic's errors name the offending field,
which becomes the dead-letter reason. Wire format: UTF-8 JSON, timestamps ISO 8601 in UTC.
Adding an optional field is compatible; renaming or removing one needs a schema_version bump.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from typing import Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1
MAX_RAW_BYTES = 1_000_000        # a posts.raw record larger than this goes to the dead-letter topic
MAX_TEXT_CHARS = 200_000
DLQ_MAX_VALUE_BYTES = 256 * 1024  # a dead letter keeps at most this much of the original value

PostKind = Literal["forum", "reply", "news", "feed", "api"]
SentimentLabel = Literal["positive", "neutral", "negative"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes):
        return cls.model_validate_json(data)


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


class RawPost(_Record):
    """posts.raw — one crawled post, as the spider saw it. key = post_id."""

    schema_version: int = SCHEMA_VERSION
    post_id: str = Field(min_length=1, max_length=128)
    site: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=128)
    kind: PostKind
    url: str = Field(min_length=1, max_length=4096)
    native_id: str = Field("", max_length=256)
    title: str = Field("", max_length=1000)
    text: str = Field(max_length=MAX_TEXT_CHARS)
    author: str = Field("", max_length=256)
    published_at: AwareDatetime
    crawled_at: AwareDatetime
    reply_to: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    # wall-clock time the producer handed the record to Kafka; used to measure alert latency
    produced_at: AwareDatetime | None = None

    _utc_times = field_validator("published_at", "crawled_at", "produced_at")(
        lambda v: _utc(v) if v is not None else v
    )


class EnrichedPost(RawPost):
    """posts.enriched — a unique post with everything the text analysis derived. key = post_id."""

    tokens: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    entities: dict[str, list[str]] = Field(default_factory=dict)   # PER / LOC / ORG
    watch_terms: list[str] = Field(default_factory=list)
    subjects: list[str] = Field(default_factory=list)
    sentiment: float = 0.5
    sentiment_label: SentimentLabel = "neutral"
    simhash: str = ""              # 16 hex digits
    sketch: str = ""               # bigram bottom-k sketch, 8 hex digits per hash (streams.dedup)
    content_hash: str = ""
    cluster_id: str = ""           # post_id of the first-seen post of its repost cluster (首发)
    is_repost: bool = False
    version: int | None = None     # the posts.raw record's timestamp in ms: the newest version wins in the index


class ClusterKey(_Record):
    """posts.analyzed — only what repost clustering needs (the full post goes straight to
    posts.enriched). key = b"cluster": one partition, the sequencer's order."""

    post_id: str
    content_hash: str
    simhash: str = ""              # 16 hex digits; "" for a text without tokens
    sketch: str = ""               # bigram bottom-k sketch, hex (streams.dedup)
    chars: int = 0                 # non-space characters of title and text (short posts are never clustered)


class ClusterKeys(_Record):
    """posts.analyzed — the cluster keys of one analyze batch, in the batch's order: one record
    per batch, not per post (a produce and a Faust event per post were most of the sequencer's
    cost). A lone ClusterKey record, as workers wrote before, still reads: cluster_keys_from_bytes."""

    record: Literal["cluster_keys"] = "cluster_keys"
    keys: list[ClusterKey]


MAX_CLUSTER_KEYS = 256     # per ClusterKeys record (~700 bytes a key: far below the 1 MB message limit)


_KEY_FIELDS = tuple(ClusterKey.model_fields)


def cluster_keys_bytes(keys: list[tuple[str, str, str, str, int]]) -> bytes:
    """ClusterKeys(keys=[ClusterKey(*key) ...]).to_bytes() from the keys' field values in
    ClusterKey's order, without building a model per post (the analyze stage writes one key per
    post; the same bytes, tests/unit/test_records.py)."""
    return orjson.dumps({"record": "cluster_keys", "keys": [dict(zip(_KEY_FIELDS, key, strict=True)) for key in keys]})


def cluster_keys_from_bytes(data: bytes) -> list[ClusterKey]:
    """The keys of one posts.analyzed record: a ClusterKeys batch, or one ClusterKey (older
    workers). ValueError (pydantic's ValidationError) names the field of a bad record."""
    if data.startswith(b'{"record":"cluster_keys"'):      # as ClusterKeys.to_bytes writes it
        return ClusterKeys.from_bytes(data).keys
    return [ClusterKey.from_bytes(data)]


class ClusterUpdate(_Record):
    """posts.enriched, after the post itself — the sequencer's decision that a post already sent
    in full is a repost (or a verbatim copy) of `cluster_id`, the first publisher (首发)."""

    record: Literal["cluster_update"] = "cluster_update"
    post_id: str
    cluster_id: str
    is_repost: bool = True
    content_hash: str = ""         # the version decided on: the update changes no other version ("" = any)


class Mention(_Record):
    """mentions — one (post, subject) pair, re-keyed by subject.

    kind "tick" is the worker's own timer record: it carries only the subject and makes the
    surge stage evaluate closed buckets (and resolve episodes) when no mentions arrive.
    """

    kind: Literal["mention", "tick"] = "mention"
    subject: str
    post_id: str
    site: str
    url: str
    title: str
    published_at: AwareDatetime
    sentiment_label: SentimentLabel
    is_repost: bool
    cluster_id: str
    produced_at: AwareDatetime | None = None


class SamplePost(_Record):
    post_id: str
    site: str
    url: str
    title: str
    published_at: AwareDatetime


class Surge(_Record):
    """surges — a subject whose mentions broke a rule. key = subject."""

    subject: str
    rule: str
    severity: Literal["info", "warning", "critical"] = "warning"
    status: Literal["firing", "resolved"] = "firing"
    window_start: AwareDatetime
    window_end: AwareDatetime
    count: int
    baseline: float
    negative_share: float
    samples: list[SamplePost] = Field(default_factory=list)
    trend: list[int] = Field(default_factory=list)   # bucket counts, oldest first, ending with the window
    detected_at: AwareDatetime
    first_produced_at: AwareDatetime | None = None
    # why it fired: `baseline` is the usual count of the window at this hour; score = how many of
    # the subject's usual spreads above it; since = when the episode started
    score: float | None = None
    since: AwareDatetime | None = None
    peak: float | None = None        # the subject's usual daily peak score (in spreads) that score beat
    record: float | None = None      # the subject's recent highest bucket that this bucket more than
                                     # doubled (the record gate), None when it did not


class AlertTick(_Record):
    """surges, key = ALERT_TICK_KEY — the worker's timer asking the alert stage to run its
    time-driven work (group flushes, repeats, resolves, escalations) inside the stream."""

    kind: Literal["alert_tick"] = "alert_tick"
    at: AwareDatetime


ALERT_TICK_KEY = b"__alert_tick__"


class DeadLetter(_Record):
    """posts.dlq — a record that could not be processed, with why and its original bytes."""

    topic: str
    partition: int
    offset: int
    stage: str
    reason: str
    key_b64: str = ""
    value_b64: str = ""               # the original bytes, or their first DLQ_MAX_VALUE_BYTES
    value_bytes: int = 0              # size of the original value
    value_sha256: str = ""
    value_truncated: bool = False
    at: AwareDatetime

    @classmethod
    def of(cls, topic: str, partition: int, offset: int, stage: str, reason: str, key: bytes, value: bytes,
           at: datetime) -> "DeadLetter":
        """The dead letter of one record: its key and value (the value cut to DLQ_MAX_VALUE_BYTES)."""
        return cls(topic=topic, partition=partition, offset=offset, stage=stage, reason=reason,
                   key_b64=base64.b64encode(key[:1024]).decode(),
                   value_b64=base64.b64encode(value[:DLQ_MAX_VALUE_BYTES]).decode(), value_bytes=len(value),
                   value_sha256=hashlib.sha256(value).hexdigest(), value_truncated=len(value) > DLQ_MAX_VALUE_BYTES,
                   at=at)

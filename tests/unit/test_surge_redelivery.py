"""A deliberate redelivery, as close to the detect_surges agent as runs without Kafka: the agent's
own batch step (`surge.observe_mentions`) on Mention records decoded from their wire bytes, with
the subject's state going through JSON between workers as the table's changelog carries it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from streams.records import Mention
from streams.surge import SurgeParams, observe_mentions

NOW = datetime(2025, 3, 3, 2, 0, 30, tzinfo=timezone.utc)


def wire(post_id: str, at: datetime, negative: bool = False) -> bytes:
    return Mention(subject="某县", post_id=post_id, site="bbs.example", url=f"https://bbs.example/{post_id}",
                   title="标题", published_at=at, sentiment_label="negative" if negative else "neutral",
                   is_repost=False, cluster_id=post_id).to_bytes()


def changelog(state: dict) -> dict:
    """What a worker that takes the partition over restores: the table value as stored."""
    return json.loads(json.dumps(state))


def batch(raw: list[bytes]) -> list[Mention]:
    return [Mention.from_bytes(b) for b in raw]


def test_a_batch_redelivered_after_a_rebalance_is_counted_once():
    params = SurgeParams(warmup_buckets=0, threshold=6)
    raw = [wire(f"p{i}", NOW - timedelta(seconds=25 - i), negative=i % 2 == 0) for i in range(4)]
    # worker A counts the batch and writes the table, then loses the partition before committing
    state, signals = observe_mentions(None, batch(raw), NOW, params)
    assert signals == [] and state["counts"][-1][:2] == [4, 2]
    # worker B restores the table from its changelog and is handed the same batch again, plus a new post
    again = raw + [wire("p9", NOW - timedelta(seconds=5))]
    state, signals = observe_mentions(changelog(state), batch(again), NOW + timedelta(seconds=3), params)
    assert state["counts"][-1][:2] == [5, 2] and state["redelivered"] == 4
    assert signals == []              # counted twice, 9 mentions would have crossed the threshold of 6


def test_a_surge_redelivered_after_a_rebalance_pages_once():
    params = SurgeParams(warmup_buckets=0, threshold=6)
    raw = [wire(f"s{i}", NOW - timedelta(seconds=20 - i)) for i in range(8)]
    state, first = observe_mentions(None, batch(raw), NOW, params)
    assert [s.rule for s in first if s.status == "firing"] == ["threshold"] and first[0].count == 6
    state, second = observe_mentions(changelog(state), batch(raw), NOW + timedelta(seconds=2), params)
    assert [s for s in second if s.status == "firing"] == [] and state["counts"][-1][0] == 8


def test_the_mention_is_its_own_sample_and_the_signal_carries_its_fields():
    params = SurgeParams(warmup_buckets=0, threshold=3)
    raw = [wire(f"m{i}", NOW - timedelta(seconds=20 - i)) for i in range(3)]
    _, signals = observe_mentions(None, batch(raw), NOW, params)
    samples = [s for s in signals if s.status == "firing"][0].samples
    assert [s.post_id for s in samples] == ["m0", "m2", "m1"]        # the first publisher, then the latest
    assert samples[0].url == "https://bbs.example/m0" and samples[0].title == "标题"
    assert samples[0].published_at == NOW - timedelta(seconds=20)
    assert type(samples[0]).__name__ == "SamplePost"                  # what the surges record carries


def test_a_post_dated_ahead_of_the_clock_is_counted_once_when_redelivered_later():
    # a site stamping Beijing time as UTC (8 h ahead): counted in the open bucket; the same batch
    # redelivered a minute later, when the open bucket has moved on, adds nothing
    params = SurgeParams(warmup_buckets=0)
    raw = [wire("ahead", NOW + timedelta(hours=8)), wire("now", NOW - timedelta(seconds=5))]
    state, _ = observe_mentions(None, batch(raw), NOW, params)
    state, _ = observe_mentions(changelog(state), batch(raw), NOW + timedelta(seconds=61), params)
    assert sum(c[0] for c in state["counts"]) == 2 and state["redelivered"] == 2

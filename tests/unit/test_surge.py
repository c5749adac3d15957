"""The surge detector core, on hand-built series with a pinned clock."""
from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from streams.records import SamplePost
from streams.surge import SurgeParams, is_late, observe, observe_many, tick

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
# series here start mid-life and are shorter than a day: a warm-up keeps the first hour (no history
# yet) from alerting, and young_factor=1 judges them like subjects whose daily rhythm is known. With
# under a day of history there are no daily peaks for the tail gate to learn from, so these tests
# judge at a fixed line (SUBDAY); the packaged line and the tail gate are tested further down.
SUBDAY = {"z": 5.0, "ratio": 3.0, "single_factor": 1.6}
P = SurgeParams(warmup_buckets=60, young_factor=1.0, **SUBDAY)


def feed(counts, params=P, negatives=None, state=None, start=T0, roundtrip=False):
    """Feed one count per bucket; returns (state, [(bucket index, signal)])."""
    out = []
    step = timedelta(seconds=params.bucket_s)
    for i, n in enumerate(counts):
        at = start + i * step
        neg = negatives[i] if negatives else 0
        state, sigs = observe_many(state, at, n, neg, [], at + step, params)
        if roundtrip:
            state = json.loads(json.dumps(state))
        out += [(i, s) for s in sigs]
    return state, out


def firing(signals, rule=None):
    return [(i, s) for i, s in signals if s.status == "firing" and (rule is None or s.rule == rule)]


def noisy(n, level, seed):
    rng = random.Random(seed)
    return [max(0, round(rng.gauss(level, math.sqrt(level)))) for _ in range(n)]


def test_steady_subject_never_alerts():
    _, sigs = feed(noisy(600, 4, seed=1))
    assert firing(sigs) == []


def test_surge_fires_once_per_episode_then_resolves():
    counts = noisy(200, 4, seed=2) + [40] * 15 + noisy(60, 4, seed=3)
    _, sigs = feed(counts)
    fired = firing(sigs, "surge")
    assert len(fired) == 1 and fired[0][0] in (200, 201)      # a 5-bucket window needs ~2 hot buckets
    assert fired[0][1].count >= 40 and fired[0][1].baseline == pytest.approx(20, rel=0.35)
    resolved = [i for i, s in sigs if s.status == "resolved" and s.rule == "surge"]
    assert len(resolved) == 1 and 215 <= resolved[0] <= 225


def test_fires_on_the_event_that_crosses_the_line_not_every_event():
    params = P
    state, _ = feed(noisy(200, 2, seed=4), params)
    at = T0 + timedelta(minutes=200)
    fired = []
    for k in range(120):                     # 30 a minute for four minutes, one event every 2 s
        t = at + timedelta(seconds=2 * k)
        state, sigs = observe(state, t, False, None, t, params)
        fired += [k for s in sigs if s.status == "firing"]
    assert len(fired) == 1 and 30 <= fired[0] < 60       # early in the second hot minute


def test_surge_does_not_lift_its_own_baseline():
    normal = noisy(150, 3, seed=5)
    counts = normal + [30] * 40 + noisy(30, 3, seed=6) + [30] * 5
    _, sigs = feed(counts)
    fired = firing(sigs, "surge")
    assert len(fired) == 2 and 150 <= fired[0][0] <= 152 and 220 <= fired[1][0] <= 222
    assert fired[1][1].baseline < 2 * 15


def test_heavy_tailed_history_does_not_inflate_baseline():
    rng = random.Random(7)
    history = [rng.choice([1, 2, 2, 3]) if rng.random() > 0.08 else 60 for _ in range(120)]
    quiet = [2] * 60
    # the baseline, not the subject's own tail, is under test: the tail gate is off (tail_factor 0)
    params = SurgeParams(**SUBDAY, quiet_buckets=2, warmup_buckets=60, young_factor=1.0, tail_factor=0)
    _, sigs = feed(history + quiet + [12] * 5, params)
    late = [(i, s) for i, s in firing(sigs, "surge") if i >= 180]
    assert late and late[0][1].baseline < 20


def test_one_sided_a_drop_never_alerts():
    _, sigs = feed(noisy(150, 20, seed=8) + [0] * 60)
    assert firing(sigs) == []


def test_minimum_count_and_silent_subject_becoming_busy():
    _, sigs = feed([0] * 100 + [1, 0, 2, 0] + [0] * 30)
    assert firing(sigs) == []
    _, sigs = feed([0] * 100 + [0, 1] + [7] * 5 + [0] * 10)
    fired = firing(sigs, "surge")
    assert [i for i, _ in fired] == [103] and fired[0][1].baseline < 1


def test_a_one_bucket_blip_is_heavy_tail_noise_not_a_surge():
    blip = [2] * 150 + [60] + [2] * 20
    assert firing(feed(blip)[1]) == []
    assert [i for i, _ in firing(feed(blip, SurgeParams(**SUBDAY, warmup_buckets=60, persist_buckets=1, young_factor=1.0))[1])] == [150]
    assert [i for i, _ in firing(feed([2] * 150 + [30, 30] + [2] * 20)[1])] == [151]


def test_negative_share_rule_fires_below_the_volume_ratio():
    base = [5] * 150
    counts = base + [12] * 6
    negatives = [1] * 150 + [10] * 6
    _, sigs = feed(counts, negatives=negatives)
    assert firing(sigs, "surge") == []
    neg = firing(sigs, "negative_surge")
    assert len(neg) == 1 and neg[0][1].severity == "critical" and neg[0][1].negative_share > 0.6


def test_negative_rule_respects_the_subjects_usual_share():
    counts = [5] * 150 + [12] * 6
    negatives = [4] * 150 + [10] * 6        # usually 80 % negative: 83 % is nothing new
    _, sigs = feed(counts, negatives=negatives)
    assert firing(sigs, "negative_surge") == []


def test_plain_threshold_rule():
    params = SurgeParams(**SUBDAY, threshold=100, threshold_severity="critical", warmup_buckets=60, young_factor=1.0)
    _, sigs = feed([30] * 150 + [40] * 3, params)
    thr = firing(sigs, "threshold")
    assert thr and thr[0][1].severity == "critical" and firing(sigs, "surge") == []


def test_late_events_within_grace_count_and_older_are_dropped():
    params = SurgeParams(**SUBDAY, grace_s=120, young_factor=1.0)
    state, _ = feed([2] * 150, params)
    now = T0 + timedelta(minutes=150, seconds=30)
    fresh = now - timedelta(seconds=90)      # previous bucket, within grace
    stale = now - timedelta(minutes=10)
    assert not is_late(state, fresh, now, params) and is_late(state, stale, now, params)
    fired = []
    for k in range(40):                      # 20 late ones in the previous bucket, 20 in this one
        at = fresh if k % 2 else now
        state, sigs = observe(state, at, False, None, now, params)
        fired += sigs
    before = state["late"]
    state, _ = observe(state, stale, False, None, now, params)
    assert state["late"] == before + 1
    assert [s.rule for s in fired] == ["surge"]


@pytest.mark.parametrize("bucket_s,scale", [(10, 1), (60, 1), (3600, 20)])
def test_works_at_any_bucket_size(bucket_s, scale):
    params = SurgeParams(**SUBDAY, bucket_s=bucket_s, grace_s=bucket_s, warmup_buckets=60, young_factor=1.0)
    counts = [c * scale for c in noisy(150, 4, seed=9)] + [40 * scale] * 5
    _, sigs = feed(counts, params)
    assert [i for i, _ in firing(sigs, "surge")] in ([150], [151])


def test_state_is_plain_json_and_roundtrip_changes_nothing():
    counts = noisy(200, 4, seed=10) + [40] * 10 + noisy(40, 4, seed=11)
    s1, a = feed(counts)
    s2, b = feed(counts, roundtrip=True)
    assert json.loads(json.dumps(s1)) == s2
    assert [(i, s.rule, s.status) for i, s in a] == [(i, s.rule, s.status) for i, s in b]
    assert len(json.dumps(s1)) < 8000


def test_tick_alone_resolves_an_episode():
    params = P
    state, sigs = feed(noisy(150, 3, seed=12) + [40] * 5, params)
    assert firing(sigs)
    state, sigs = tick(state, T0 + timedelta(minutes=200), params)
    assert [s.status for s in sigs] == ["resolved"]
    assert tick(state, T0 + timedelta(minutes=201), params)[1] == []


def test_daily_rhythm_is_not_a_surge_but_a_real_surge_is():
    rng = random.Random(13)
    day = [6 + 5 * math.sin(2 * math.pi * (m - 8 * 60) / 1440) for m in range(1440)]
    counts = [max(0, round(rng.gauss(day[m % 1440], math.sqrt(day[m % 1440])))) for m in range(3 * 1440)]
    for m in range(2 * 1440 + 600, 2 * 1440 + 610):
        counts[m] += 30
    _, sigs = feed(counts, SurgeParams(**SUBDAY, grace_s=60, warmup_buckets=60, young_factor=1.0))
    fired = [i for i, _ in firing(sigs) if i >= 1440]
    assert fired and all(2 * 1440 + 600 <= i <= 2 * 1440 + 605 for i in fired)


def test_signal_carries_first_publisher_samples_and_builds_a_surge_record():
    params = P
    state, _ = feed([1] * 150, params)
    at = T0 + timedelta(minutes=150, seconds=5)
    produced = at + timedelta(seconds=1)
    sigs = []
    for k in range(30):                      # 30 posts over two minutes
        t = at + timedelta(seconds=4 * k)
        sample = SamplePost(post_id=f"p{k}", site="bbs.example", url=f"https://bbs.example/t/{k}",
                            title=f"帖子{k}", published_at=t)
        state, out = observe(state, t, False, sample, t + timedelta(seconds=1), params,
                             produced_at=produced + timedelta(seconds=4 * k))
        sigs += out
    (sig,) = sigs
    assert sig.samples[0].post_id == "p0" and len(sig.samples) == 3
    assert sig.first_produced_at == produced
    surge = sig.to_surge("某县", detected_at=at + timedelta(seconds=120))
    assert surge.subject == "某县" and surge.count == sig.count and surge.samples[0].post_id == "p0"
    # why it fired: how many usual spreads above this hour's usual count, and since when
    assert surge.score == sig.score >= P.z and surge.baseline < sig.count / 3
    assert surge.since is not None and surge.since <= at


def test_params_from_mapping_converts_durations_and_rejects_unknown_fields():
    params = SurgeParams.from_mapping({"bucket_s": 30, "window_s": 300, "baseline_s": 3600, "ratio": 4})
    assert (params.window_buckets, params.baseline_buckets, params.ratio) == (10, 120, 4)
    with pytest.raises(ValueError, match="ratoi"):
        SurgeParams.from_mapping({"ratoi": 4})


def test_a_young_subject_is_judged_more_strictly_until_its_daily_rhythm_is_known():
    moderate = noisy(200, 4, seed=14) + [16] * 5          # ~4x for 5 minutes
    assert firing(feed(moderate)[1])                                      # judged as a known subject
    assert firing(feed(moderate, SurgeParams(**SUBDAY, warmup_buckets=60))[1]) == []  # default: first day is strict
    day = noisy(1440, 4, seed=15)
    assert firing(feed(day + moderate[200:], SurgeParams(**SUBDAY, warmup_buckets=60))[1])


def test_a_redelivered_mention_is_counted_once_per_subject_and_bucket():
    state, _ = feed([2] * 150)
    at = T0 + timedelta(minutes=150, seconds=5)
    for k in range(6):
        state, _ = observe(state, at, k % 2 == 0, None, at, P, post_id=f"p{k}")
    counted = state["counts"][-1][:2]
    for k in range(6):                       # Kafka redelivers the whole batch after a rebalance
        state, sigs = observe(state, at, k % 2 == 0, None, at + timedelta(seconds=30), P, post_id=f"p{k}")
        assert sigs == []
    assert state["counts"][-1][:2] == counted == [6, 3] and state["redelivered"] == 6
    state, _ = observe(state, at, False, None, at, P, post_id="p-new")    # a new post still counts
    assert state["counts"][-1][0] == 7


def test_redelivery_memory_is_bounded_and_ages_out_with_the_buckets():
    params = SurgeParams(**SUBDAY, warmup_buckets=60, young_factor=1.0, max_ids=50)
    state = None
    for minute in range(30):
        at = T0 + timedelta(minutes=minute)
        for k in range(20):
            state, _ = observe(state, at, False, None, at, params, post_id=f"m{minute}-{k}")
    assert sum(len(v) for v in state["ids"].values()) <= 50
    assert all(int(b) > state["folded"] for b in state["ids"])    # past the grace period: forgotten
    # a redelivery after the grace period is late anyway and is not counted
    old = T0 + timedelta(minutes=5)
    before = state["late"]
    state, _ = observe(state, old, False, None, T0 + timedelta(minutes=30), params, post_id="m5-0")
    assert state["late"] == before + 1


def test_a_state_of_the_old_detector_is_relearned_not_crashed_on():
    old = {"v": 1, "start": 0, "counts": [], "born": 0, "done": -1, "profile": [None] * 24}
    state, sigs = observe(old, T0, False, None, T0, P)
    assert state["v"] == 3 and "model" in state and sigs == []
    assert tick(old, T0, P) == ({}, [])


# --- the subject's own tail and the refractory period (multi-day series, 5-minute buckets) -----

DAILY = SurgeParams(bucket_s=300, window_buckets=1, warmup_buckets=288, refractory_buckets=288)


def daily_bursts(days, seed, burst=40, level=6):
    """`days` days of noisy counts with a 15-minute burst of `burst` a bucket every day, at a
    different hour each day (a bot, a daily digest that moves: not the hour's usual rhythm)."""
    counts = noisy(days * 288, level, seed)
    for d in range(days):
        for k in range(3):
            counts[d * 288 + (3 + 7 * d) % 24 * 12 + k] = burst
    return counts


def test_a_burst_that_happens_every_day_is_not_news():
    counts = daily_bursts(6, seed=20)
    gated = [i // 288 for i, _ in firing(feed(counts, DAILY)[1], "surge")]
    ungated = [i // 288 for i, _ in firing(feed(counts, replace(DAILY, tail_factor=0, refractory_buckets=0))[1], "surge")]
    assert sorted(set(ungated)) == [1, 2, 3, 4, 5]          # every day after the warm-up, without the tail
    assert all(day <= 1 for day in gated)                    # with it, at most the first day it is seen


def test_a_burst_well_above_the_usual_daily_peak_pages():
    counts = daily_bursts(6, seed=21)
    for k in range(3):
        counts[5 * 288 + 15 * 12 + k] = 200                   # day 6, 15:00: five times the daily burst
    fired = [i for i, _ in firing(feed(counts, DAILY)[1], "surge")]
    assert 5 * 288 + 15 * 12 in fired or 5 * 288 + 15 * 12 + 1 in fired


def test_a_burst_this_subject_has_every_other_week_is_not_news():
    state, _ = feed(noisy(9 * 288, 6, seed=23), DAILY)
    assert len(state["peaks"][2]) == 8 and not state["episodes"]
    # its remembered daily peaks: a quiet last week, and two days ten and twelve days ago as high as
    # the burst below (the memory gate: the second highest of a month's peaks)
    state["peaks"][2] = [20.0, 1.0, 20.0] + state["peaks"][2][-7:]
    counts = noisy(288, 6, seed=24)
    for k in range(3):
        counts[150 + k] = 40
    later = T0 + timedelta(days=9)
    week_only = replace(DAILY, tail_memory_days=7)           # remembers a week: the burst is news
    fired = [i for i, _ in firing(feed(counts, week_only, state=json.loads(json.dumps(state)), start=later)[1], "surge")]
    assert fired and 150 <= fired[0] <= 152
    assert firing(feed(counts, DAILY, state=state, start=later)[1], "surge") == []


def test_refractory_period_holds_a_second_wave_unless_it_is_much_bigger():
    base = noisy(4 * 288, 6, seed=22)
    first, second = 3 * 288, 3 * 288 + 36                     # day 4, 3 hours apart
    same = list(base)
    for k in range(3):
        same[first + k] = same[second + k] = 80
    fired = [i for i, _ in firing(feed(same, DAILY)[1], "surge")]
    assert first in fired or first + 1 in fired
    assert not [i for i in fired if i >= second]              # the same size again: held
    bigger = list(same)
    for k in range(3):
        bigger[second + k] = 2000                             # far more than twice the first one's score
    fired = [i for i, _ in firing(feed(bigger, DAILY)[1], "surge")]
    assert [i for i in fired if second <= i <= second + 2]
    later = noisy(6 * 288, 6, seed=22)                        # the bar halves every refractory period:
    for at in (first, first + 2 * 288):                       # the same wave two days on pages again
        for k in range(3):
            later[at + k] = 80
    fired = [i for i, _ in firing(feed(later, DAILY)[1], "surge")]
    assert [i for i in fired if first <= i <= first + 2] and [i for i in fired if first + 576 <= i <= first + 578]


def test_threshold_episode_resolves_when_its_rule_is_gone():
    # a major event's window sets `threshold`; the subject crosses it; the event ends while the
    # episode is open. The episode resolves (a "resolved" signal), and the next event's crossing
    # pages again instead of being swallowed by a stale episode
    event = SurgeParams(**SUBDAY, threshold=30, warmup_buckets=60, young_factor=1.0)
    plain = replace(event, threshold=None)
    state, first = feed([5] * 100 + [40] * 3, event)
    assert [s.status for _, s in first if s.rule == "threshold"] == ["firing"]
    state, after = feed([5] * 30, plain, state=state, start=T0 + timedelta(minutes=103))
    assert [s.status for _, s in after if s.rule == "threshold"] == ["resolved"]
    assert "threshold" not in state["episodes"]
    state, again = feed([5] * 30 + [40] * 3, event, state=state, start=T0 + timedelta(minutes=133))
    assert [s.status for _, s in again if s.rule == "threshold"] == ["firing"]


def test_a_late_first_mention_does_not_age_a_new_subject():
    # a subject first seen through an old post (or an edit after a state-version bump) is born
    # now: still in its warm-up, not warm with days of learnt zeros behind it
    params = SurgeParams(**SUBDAY, warmup_buckets=60, young_factor=1.0)
    now = T0 + timedelta(days=7)
    state, sigs = observe(None, T0, False, None, now, params)
    assert state["late"] == 1 and sigs == []
    assert state["born"] == int(now.timestamp()) // params.bucket_s
    state, sigs = feed([12] * 30, params, state=state, start=now)
    assert firing(sigs) == []                     # warm-up: ordinary traffic pages nothing


@pytest.mark.parametrize("field, value", [
    ("persist_buckets", 0), ("single_factor", 0.0), ("max_ids", 0), ("refractory_buckets", -1),
    ("busy_refractory_buckets", -1), ("warmup_buckets", -1), ("grace_s", -120), ("max_samples", -1),
    ("critical_ratio", 0.0), ("negative_min_count", 0), ("negative_ratio", -1.0), ("quiet_buckets", 0),
    ("threshold", 0)])
def test_values_that_would_crash_the_detector_are_refused(field, value):
    # a rules-file typo is refused when the rules load, not met by the agent on every batch
    with pytest.raises(ValueError, match=field):
        SurgeParams(**{field: value})


def test_a_subject_silent_for_dormant_days_with_nothing_open_is_dormant():
    from streams.surge import dormant
    params = SurgeParams(**SUBDAY, warmup_buckets=60, young_factor=1.0, dormant_days=2)
    state, _ = feed([3] * 100, params)
    last = T0 + timedelta(minutes=99)
    assert not dormant(state, last + timedelta(days=2), params)              # exactly two days: not yet
    state, _ = tick(state, last + timedelta(days=2, minutes=2), params)
    assert dormant(state, last + timedelta(days=2, minutes=2), params)
    assert not dormant(state, last + timedelta(days=9), replace(params, dormant_days=0))   # 0: never
    # a mention wakes it; an open episode keeps it ticked whatever the silence
    state, _ = observe(state, last + timedelta(days=2, minutes=3), False, None,
                       last + timedelta(days=2, minutes=3), params, post_id="back")
    assert not dormant(state, last + timedelta(days=3), params)
    state["episodes"]["surge"] = {"since": 0, "quiet": 0, "severity": "warning", "scale": 0}
    assert not dormant(state, last + timedelta(days=9), params)


def test_a_state_from_before_seen_was_kept_counts_from_its_first_tick():
    from streams.surge import dormant
    params = SurgeParams(**SUBDAY, warmup_buckets=60, young_factor=1.0, dormant_days=2)
    state, _ = feed([3] * 100, params)
    del state["seen"]
    later = T0 + timedelta(days=30)
    assert not dormant(state, later, params)
    state, _ = tick(state, later, params)
    assert state["seen"] == int(later.timestamp()) // 60 and not dormant(state, later, params)
    assert dormant(state, later + timedelta(days=2, minutes=2), params)


def test_a_dormant_county_subject_pages_on_its_first_story_after_weeks_untouched():
    # the packaged rules, the agent's way: mentions one by one, ticks (every 30 min here) unless the
    # subject is dormant. Three weeks at ~3 mentions a day, 15 days of silence (dormant after 14:
    # not ticked), then 40 mentions in 5 minutes: the state kept its history, so the story pages
    from alerting.rules import load_rules
    from streams.records import Mention
    from streams.surge import dormant, observe_mentions
    params = load_rules(None).surge
    rng = random.Random(5)

    def mention(at, n):
        return Mention(subject="某县", post_id=f"p{n}", site="s", url=f"https://s/p{n}", title="t", published_at=at,
                       sentiment_label="neutral", is_repost=False, cluster_id=f"p{n}")

    posts = sorted(T0 + timedelta(seconds=rng.uniform(0, 21 * 86400)) for _ in range(63))
    burst = T0 + timedelta(days=36, hours=3)
    posts += [burst + timedelta(seconds=7.5 * i) for i in range(40)]
    state, fired, skipped, t, n = None, [], 0, T0, 0
    while t < burst + timedelta(minutes=30):
        while n < len(posts) and posts[n] < t + timedelta(minutes=30):
            state, sigs = observe_mentions(state, [mention(posts[n], n)], posts[n] + timedelta(seconds=1), params)
            fired += [(posts[n], s) for s in sigs if s.status == "firing"]
            n += 1
        t += timedelta(minutes=30)
        if state is not None and dormant(state, t, params):
            skipped += 1
            continue
        tick_ = Mention(kind="tick", subject="某县", post_id="", site="", url="", title="", published_at=t,
                        sentiment_label="neutral", is_repost=False, cluster_id="")
        state, sigs = observe_mentions(state, [tick_], t, params)
        fired += [(t, s) for s in sigs if s.status == "firing"]
    assert skipped > 40                                   # about a day of 30-minute ticks not sent
    assert [s.rule for at, s in fired if at >= burst] == ["surge"]

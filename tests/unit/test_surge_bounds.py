"""The open bucket's bounds: the smallest count at which a window could fire, found from the closed
form of the persistence cap, must equal a plain search; the caches they live in are rebuilt from
the state alone (a state restored from the changelog judges exactly as the one kept in memory)."""
from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from streams import surge_model as model_
from streams.surge import SurgeParams, _parts, observe_many
from streams.surge_bounds import judge, judged_with, least_x

T0 = datetime(2025, 3, 3, tzinfo=timezone.utc)


def searched(count, top, buckets, at_least, p):
    """The smallest x >= 0 (minus one) whose judged count reaches at_least, by bisection."""
    lo, hi = -1, math.ceil(max(1.0, at_least))
    if judged_with(hi * 64, count, top, buckets, p) < at_least:
        return math.inf
    while judged_with(hi, count, top, buckets, p) < at_least:
        hi *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if judged_with(mid, count, top, buckets, p) < at_least else (lo, mid)
    return hi - 1


@pytest.mark.parametrize("persist", [1, 2, 3])
def test_least_count_from_the_closed_form_equals_the_search(persist):
    p = SurgeParams(persist_buckets=persist)
    rng = random.Random(persist)
    for _ in range(20000):
        values = [rng.choice([rng.randint(0, 30), rng.random() * 40]) for _ in range(rng.randint(0, 6))]
        top, count = sorted(values, reverse=True)[:persist], float(sum(values))
        at_least = rng.choice([rng.uniform(0, 100), rng.randint(1, 80), count + rng.uniform(-5, 5)])
        assert least_x(count, top, len(values), at_least, p) == searched(count, top, len(values), at_least, p)


def test_a_state_through_json_every_minute_judges_as_the_one_in_memory():
    p = SurgeParams(z=3.0, ratio=1.5, warmup_buckets=60, young_factor=1.0)
    rng = random.Random(5)
    counts = [rng.randint(2, 9) for _ in range(300)] + [30, 45, 60, 60, 50] + [rng.randint(2, 9) for _ in range(60)]
    kept = restored = None
    out_kept, out_restored = [], []
    for i, n in enumerate(counts):
        at = T0 + timedelta(minutes=i)
        for part in (n // 2, n - n // 2):                # two calls per bucket: the open bucket's caches
            kept, a = observe_many(kept, at, part, 0, [], at + timedelta(seconds=50), p)
            restored, b = observe_many(restored, at, part, 0, [], at + timedelta(seconds=50), p)
            restored = json.loads(json.dumps(restored))
            out_kept += [(i, s.status, s.count, s.score) for s in a]
            out_restored += [(i, s.status, s.count, s.score) for s in b]
    assert out_kept and out_kept == out_restored


def test_judged_count_without_the_sort_equals_the_sorted_cap():
    """`judged_with`'s persistence-2 short cut gives the judged count of the sorted top two exactly
    (bit for bit, ties and whole and fractional counts mixed)."""
    p = SurgeParams(persist_buckets=2)
    rng = random.Random(2)
    shortcut = 0
    for _ in range(20000):
        pick = [rng.choice([rng.randint(0, 6), float(rng.randint(0, 6)), rng.random() * 6]) for _ in range(3)]
        top, x = sorted(pick[:2], reverse=True), pick[2]
        count = float(sum(top)) + rng.choice([0.0, rng.randint(0, 20), rng.random() * 20])
        want = judge(count + x, sorted(top + [x], reverse=True)[:2], 2)
        got = judged_with(x, count, top, 2, p)
        assert got == want and math.copysign(1.0, got) == math.copysign(1.0, want) and type(got) is type(want)


def test_spreads_of_every_length_equal_one_spread_at_a_time():
    """`surge_model.spreads` (the hour looked up once) gives each length's `spread` exactly, trusted
    hours and untrusted ones."""
    rng = random.Random(4)
    model = model_.new_model(3)
    for idx in range(4000):
        model_.learn(model, idx, rng.randint(0, 30), rng.randint(0, 5), [rng.gauss(0, 2) for _ in range(3)], 60,
                     rng.random() < 0.1)
        if idx % 7 == 0:
            at = idx + rng.randint(0, 3000)
            assert model_.spreads(model, at, 60) == [model_.spread(model, k, at, 60) for k in range(3)]
    assert len({model_.spread(model, 0, at, 60) for at in range(0, 1440, 60)}) > 1    # the hours differ


@pytest.mark.parametrize("persist", [2, 3])
def test_window_parts_keep_the_stable_sorts_top_counts(persist):
    """`_parts` (a persistence-2 top count put in place, not sorted in) keeps, per window, the first
    `persist` counts of a stable sort of the window newest first: ties and whole and fractional
    counts mixed, the same objects and types."""
    p = SurgeParams(persist_buckets=persist)
    rng = random.Random(persist)
    for _ in range(300):
        rows = [[rng.choice([rng.randint(0, 4), float(rng.randint(0, 4)), rng.random() * 4]), 0, rng.random()]
                for _ in range(rng.randint(1, 80))]
        start = 1000
        end = start + len(rows) - 1 + rng.randint(0, 1)
        state = {"start": start, "counts": rows, "born": start}     # nothing before the stored rows
        parts, _ = _parts(state, end, p, end - 1)
        for length, (count, usual, top, buckets) in zip(p.windows, parts):
            newest_first = [rows[i - start][0] for i in range(end - 1, max(end - length, start - 1), -1)]
            want = sorted(newest_first, reverse=True)[:persist]
            assert top == want and [type(v) for v in top] == [type(v) for v in want]

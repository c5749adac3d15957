"""The open bucket's bounds: the smallest count at which a window could fire, found from the closed
form of the persistence cap, must equal a plain search; the caches they live in are rebuilt from
the state alone (a state restored from the changelog judges exactly as the one kept in memory)."""
from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from streams.surge import SurgeParams, observe_many
from streams.surge_bounds import judged_with, least_x

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

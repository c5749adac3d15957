"""A busy subject's longer refractory bar (streams.surge_busy): a subject that paged `busy_pages`
times in `busy_days` needs `busy_escalation` x its last episode's peak, a bar halving every
`busy_refractory` buckets; a subject that pages rarely keeps the ordinary bar."""
from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from alerting import backtest
from streams import surge_busy, surge_gates
from streams.surge import SurgeParams

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
DAY = 288                                       # 5-min buckets
P = SurgeParams.from_mapping({"bucket_s": 300, "window_s": 300, "refractory_s": 21600, "escalation": 1.5,
                              "busy_pages": 2, "busy_days": 14, "busy_refractory_s": 86400,
                              "busy_escalation": 2.0, "warmup_s": 86400})


def test_params_convert_the_busy_half_life_and_reject_bad_values():
    assert P.busy_refractory_buckets == DAY and P.busy_buckets == 14 * DAY
    with pytest.raises(ValueError, match="busy_escalation"):
        SurgeParams(busy_escalation=0.5)
    with pytest.raises(ValueError, match="busy_pages"):
        SurgeParams(busy_pages=-1)


def test_busy_needs_busy_pages_onsets_within_busy_days():
    state = {"onset": [0, 0.0]}
    surge_busy.learn_page(state, 100, P)
    assert not surge_busy.busy(state, 200, P)             # one page
    surge_busy.learn_page(state, 300, P)
    assert surge_busy.busy(state, 400, P)
    assert not surge_busy.busy(state, 100 + 14 * DAY, P)   # the older page is 14 days old
    for end in (500, 600, 700):
        surge_busy.learn_page(state, end, P)
    assert state["pages"] == [600, 700]                    # only the last busy_pages are kept


def test_off_keeps_no_pages_and_the_ordinary_bar():
    off = replace(P, busy_pages=0)
    state = {"onset": [1000, 8.0]}
    surge_busy.learn_page(state, 1000, off)
    assert "pages" not in state
    assert surge_busy.escalation_bar(state, 1000 + 72, off) == surge_gates.escalation_bar(state, 1000 + 72, off)


def test_a_busy_subject_gets_the_longer_bar():
    state = {"onset": [1000, 8.0], "pages": [900, 1000]}
    assert surge_busy.escalation_bar(state, 1000 + DAY, P) == pytest.approx(2.0 * 8.0 * 0.5)
    quiet = {"onset": [1000, 8.0], "pages": [1000]}
    assert surge_busy.escalation_bar(quiet, 1000 + 72, P) == pytest.approx(1.5 * 8.0 * 0.5)   # 6 h


def series(starts, days=5, level=20.0, seed=3):
    """5-min counts at a flat level (Poisson-like noise) with 1-hour surges of 5x at `starts`."""
    rng = random.Random(seed)
    out = []
    for b in range(days * DAY):
        lam = level * (5.0 if any(s <= b < s + 12 for s in starts) else 1.0)
        out.append(max(0, round(rng.gauss(lam, math.sqrt(lam)))))
    return out


def onsets(counts, params):
    rows = [backtest.Row(i + 2, "", T0 + timedelta(minutes=5 * i), c) for i, c in enumerate(counts)]
    return [i for i, f in enumerate(backtest.run(rows, params)) if f]


def test_a_third_equal_surge_within_a_day_pages_only_for_a_subject_that_is_not_busy():
    starts = [2 * DAY + 120, 3 * DAY, 3 * DAY + 144]      # the third 12 h after the second
    counts = series(starts)
    hit = lambda found, s: any(s <= i < s + 12 for i in found)   # noqa: E731
    ordinary = onsets(counts, replace(P, busy_pages=0))
    assert all(hit(ordinary, s) for s in starts)
    busy = onsets(counts, P)
    assert hit(busy, starts[0]) and hit(busy, starts[1]) and not hit(busy, starts[2])


def test_a_bigger_wave_still_pages_for_a_busy_subject():
    starts = [2 * DAY + 120, 3 * DAY, 3 * DAY + 144]
    counts = series(starts)
    for b in range(starts[2], starts[2] + 12):
        counts[b] *= 8                                     # 40x the level, far above 2x the last peak
    assert any(starts[2] <= i < starts[2] + 12 for i in onsets(counts, P))

"""The rarity path for a low-volume subject (streams.surge_rare), on a county subject written for
these tests: 0.4-4 mentions an hour with a daily rhythm, a one-minute blip of reposts a day, and
three stories of 40 mentions an hour for an hour, a day or so apart (days 2-4)."""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from alerting import backtest
from alerting.rules import load_rules
from streams import surge
from streams import surge_rare as rare_
from streams.surge import SurgeParams, observe
from tests.unit.surge_fixtures import poisson

T0 = datetime(2025, 3, 3, tzinfo=timezone.utc)
STORY = 3 * 1440 + 10 * 60 - 8 * 60           # day 4, 10:00 in Beijing (the rhythm's clock)
STORIES = (STORY - 2 * 1440 + 600, STORY - 1440 + 300, STORY)


def county(seed: int = 6, days: int = 5, story: bool = True, stories=STORIES, per_story: float = 40,
           hours: float = 1) -> list[int]:
    rng = random.Random(seed)
    out = []
    for m in range(days * 1440):
        hour = ((m + 8 * 60) % 1440) / 60
        per_hour = 0.4 + 2.0 * math.exp(-((hour - 10) / 3) ** 2) + 3.0 * math.exp(-((hour - 21) / 2) ** 2)
        lam = per_hour / 60 + (per_story / 60 if story and any(s <= m < s + 60 * hours for s in stories) else 0.0)
        blip = rng.randint(2, 5) if rng.random() < 1 / 1440 else 0
        out.append(poisson(rng, lam) + blip)
    return out


def packaged(**change) -> SurgeParams:
    return backtest.scaled_params({**load_rules(None).spec.surge, **change}, 60)


def pages(counts: list[float], params: SurgeParams) -> list[int]:
    rows = [backtest.Row(i + 2, "", T0 + timedelta(minutes=i), c) for i, c in enumerate(counts)]
    flags = backtest.run(rows, params)
    return [i for i, f in enumerate(flags) if f and i >= 1440]


def test_the_packaged_rules_judge_a_county_subject_by_rarity():
    params = packaged()
    assert params.rare_rate == 6 and params.rare_min_count == 5 and params.rare_z == 4.25
    on = pages(county(), params)
    off = pages(county(), packaged(rare_rate=0))
    assert [[i for i in on if s <= i < s + 60] != [] for s in STORIES] == [True] * 3, on
    assert len(on) == 3                                   # and nothing else
    assert not [i for i in off if STORIES[0] <= i < STORIES[0] + 60]   # the spreads alone miss the first


@pytest.mark.parametrize("seed, per_story, hours", [(3, 40, 6), (1, 15, 6), (2, 10, 8)])
def test_a_long_story_is_one_page(seed, per_story, hours):
    """The episode holds while the story stays rare (the spreads adapt to it within hours), and an
    aftershock within hours needs to beat the page's peak rarity."""
    on = pages(county(seed=seed, stories=(STORY - 1440,), per_story=per_story, hours=hours), packaged())
    story = [i for i in on if STORY - 1440 <= i < STORY - 1440 + 60 * hours + 60]
    assert len(story) <= 1 and len(on) - len(story) == 0, on


def test_a_lasting_rise_ends_its_episode_and_becomes_usual():
    """A county subject whose level moves from 1 to 40 an hour for good pages at the rise; its episode
    must end (the raw level of the last hours becomes its usual count), not hold on for ever against
    the old hourly means, and it must not page on every decay of the bar."""
    rng = random.Random(1)
    counts = [poisson(rng, (1.0 if m < 3 * 1440 else 40.0) / 60) for m in range(6 * 1440)]
    rows = [backtest.Row(i + 2, "", T0 + timedelta(minutes=i), c) for i, c in enumerate(counts)]
    params = packaged()
    onsets = [i for i, f in enumerate(backtest.run(rows, params)) if f]
    active = backtest.run(rows, params, mark="active")
    assert onsets and 3 * 1440 <= onsets[0] < 3 * 1440 + 60 and len(onsets) <= 3, onsets
    assert sum(active[-1440:]) < 720                       # the last day is mostly no episode


def test_hourly_buckets_price_a_window_by_every_hour_it_spans():
    params = packaged()
    hourly = backtest.scaled_params(dict(load_rules(None).spec.surge), 3600)
    for seed in range(4):
        minutes = county(seed=seed, days=10, story=False)
        counts = [sum(minutes[h * 60:(h + 1) * 60]) for h in range(len(minutes) // 60)]
        rows = [backtest.Row(i + 2, "", T0 + timedelta(hours=i), c) for i, c in enumerate(counts)]
        assert sum(backtest.run(rows, hourly)[24:]) <= 1, seed      # quiet days: no page from the evening rise
    assert params.windows == (5, 15, 60) and hourly.windows == (1, 3, 12)


def test_the_daily_peak_and_the_last_page_raise_the_line():
    params = packaged()
    state = {"born": 0, "rrate": [[1 / 60] * 24, [420] * 24, 1 / 60, 10080]}   # one an hour, learnt
    wins = [(8.0, 8.0, 0.0, 0.0)] * 3                       # 8 in every window: rare against 1 an hour
    ends = [True] * 3
    at, r = rare_.fires(state, 5000, wins, ends, params)
    assert at is not None and r > params.rare_z
    state["rare"] = [4, None, [r, r / 1.2, 0.5]]            # a day as rare as this, another nearly
    assert rare_.fires(state, 5000, wins, ends, params)[0] is None
    state["rare"] = [4, None, [1.0, 1.0]]
    state["rare_onset"] = [4990, r]                         # a rarity page ten minutes ago
    assert rare_.fires(state, 5000, wins, ends, params)[0] is None
    state["rare_onset"] = [5000 - 6 * params.refractory_buckets, r]   # six halvings later
    assert rare_.fires(state, 5000, wins, ends, params)[0] is not None


def test_quiet_days_with_blips_do_not_page():
    assert pages(county(story=False), packaged()) == []


def test_only_whole_counts_and_few_of_them_are_judged_by_rarity():
    params = packaged()
    rows = county()[:2 * 1440]
    for counts, low in ((rows, True), ([c + (0.5 if i == 100 else 0) for i, c in enumerate(rows)], False),
                        ([c + 1 for c in rows], False),               # 60+ an hour is no county subject
                        ([c * 1.0000000001 for c in rows], True)):    # a CSV's float noise is still a count
        state = None
        for i, c in enumerate(counts):
            at = T0 + timedelta(minutes=i)
            state, _ = surge.observe_many(state, at, c, 0, [], at + timedelta(minutes=1), params)
        assert rare_.low_volume(state, params) is low


def test_rarity_is_the_normal_deviate_of_the_poisson_tail():
    assert rare_.rarity(2.5, 1.5) == 0.0 and rare_.rarity(2.6, 1.5) > 0.0
    exact = sum(math.exp(-0.75) * 0.75 ** k / math.factorial(k) for k in range(6, 40))
    assert math.exp(rare_.log_poisson_tail(6, 0.75)) == pytest.approx(exact, rel=1e-9)
    assert rare_.rarity(6, 0.75) == pytest.approx(3.65, abs=0.01)
    assert rare_.rarity(7, 0.75) > rare_.rarity(6.5, 0.75) > rare_.rarity(6, 0.75)   # fractions interpolate
    assert rare_.rarity(400, 0.01) > 30                    # no underflow


def test_an_hour_seen_quiet_is_not_a_rate_of_zero():
    params = packaged()
    state: dict = {}
    assert rare_.usual(state, 0, 60, params) == math.inf          # nothing learnt yet
    for i in range(1441):                                           # one a minute, none 08:00-09:00 Beijing
        rare_.learn_rate(state, i, 0.0 if i % 1440 < 60 else 1.0, params)
    quiet_hour, busy_hour = 60 * rare_.usual(state, 1470, 1, params), 60 * rare_.usual(state, 1530, 1, params)
    assert 20 < quiet_hour < 50 and busy_hour == pytest.approx(60, rel=0.1)   # shrunk towards the day's mean


@pytest.mark.parametrize("field, value", [("rare_rate", -1.0), ("rare_min_count", 0), ("rare_z", 0.0)])
def test_bad_rarity_parameters_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        SurgeParams(**{field: value})


def test_the_open_bucket_bound_never_skips_a_rarity_page(monkeypatch):
    """Mention by mention, the bound that skips judging an open bucket must decide as judging it at
    every mention does."""
    params = SurgeParams(**{**{f: getattr(packaged(), f) for f in SurgeParams.__dataclass_fields__}, "grace_s": 0})
    counts = county(seed=8)[:STORY + 120]

    def replay() -> list[tuple]:
        state, out = None, []
        for i, c in enumerate(counts):
            for k in range(int(c)):
                at = T0 + timedelta(minutes=i, seconds=10 + k)
                state, signals = observe(state, at, False, None, at, params, post_id=f"{i}-{k}")
                out += [(i, s.rule, s.status, s.score) for s in signals]
        return out

    fast = replay()
    monkeypatch.setattr(surge, "_may_fire", lambda state, cur, x, p: True)
    assert replay() == fast
    assert any(status == "firing" and score >= params.rare_z for _, _, status, score in fast)  # shown by its rarity

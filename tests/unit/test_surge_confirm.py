"""A busy subject's near-the-line confirmation (streams.surge_confirm): a busy subject of whole counts
whose best score passes its line by less than `confirm_factor` x the line pages only when the window
before (ending `window_buckets` earlier) also passed it; louder bursts, calm subjects and series of
measurements page at once. At 5-minute buckets (the backtest) the window before is the bucket before;
at the agent's one-minute buckets it is five buckets back, and late mentions count."""
from __future__ import annotations

import copy
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from alerting import backtest
from alerting.rules import load_rules
from streams import surge_busy, surge_confirm
from streams.surge import SurgeParams, observe_many, tick
from tests.unit.surge_fixtures import poisson

T0 = datetime(2024, 5, 6, tzinfo=timezone.utc)
DAY = 288                                             # 5-min buckets
ON = backtest.scaled_params(dict(load_rules(None).spec.surge), 300)
OFF = replace(ON, confirm_factor=0.0)


def test_the_packaged_rules_confirm_and_bad_factors_are_refused():
    assert ON.confirm_factor == 1.25 and ON.busy_pages == 2
    assert SurgeParams(confirm_factor=1.0).confirm_factor == 1.0
    for bad in (0.5, -1.0, float("nan")):
        with pytest.raises(ValueError, match="confirm_factor"):
            SurgeParams(confirm_factor=bad)


def test_held_only_a_busy_whole_count_subject_just_past_the_line_without_the_window_before():
    busy = {"pages": [900, 1000], "onset": [1000, 9.0]}
    assert surge_busy.busy(busy, 1100, ON) and ON.window_buckets == 1
    assert surge_confirm.held(busy, 1100, 5.0, 4.5, ON)                   # 5.0 < 1.25 x 4.5
    assert not surge_confirm.held(busy, 1100, 5.7, 4.5, ON)               # past 1.25 x the line
    assert not surge_confirm.held({**busy, "above": [1099]}, 1100, 5.0, 4.5, ON)   # confirmed
    assert surge_confirm.held({**busy, "above": [1098]}, 1100, 5.0, 4.5, ON)       # not the window before
    assert not surge_confirm.held({**busy, "frac": True}, 1100, 5.0, 4.5, ON)      # measurements
    assert not surge_confirm.held({"pages": [1000], "onset": [1000, 9.0]}, 1100, 5.0, 4.5, ON)   # calm
    assert not surge_confirm.held(busy, 1100, 5.0, 4.5, OFF)
    minute = replace(ON, bucket_s=60, window_buckets=5)          # the agent: five one-minute buckets back
    assert surge_confirm.held({**busy, "above": [1099]}, 1100, 5.0, 4.5, minute)
    assert not surge_confirm.held({**busy, "above": [1095]}, 1100, 5.0, 4.5, minute)


def test_learn_keeps_the_last_two_windows_of_buckets_past_the_line_and_nothing_when_off():
    state: dict = {}
    surge_confirm.learn(state, 10, 4.0, 4.5, ON)
    assert state["above"] == []
    surge_confirm.learn(state, 11, 4.5, 4.5, ON)
    surge_confirm.learn(state, 12, 3.0, 4.5, ON)
    assert state["above"] == [11]
    surge_confirm.learn(state, 13, 5.0, 4.5, ON)
    assert state["above"] == [13]                              # 11 is older than two windows
    surge_confirm.learn(state, 13, 4.0, 4.5, ON)               # a late re-judge can take it back
    assert state["above"] == []
    surge_confirm.learn(state, 14, 9.0, 4.5, OFF)
    assert state["above"] == []


def feed(state, b: int, count: float, params):
    """One closed 5-min bucket, as `shaobing backtest` feeds a row: (state, whether a surge fired)."""
    at = T0 + timedelta(minutes=5 * b)
    state, signals = observe_many(state, at, count, 0, [], at + timedelta(minutes=5), params)
    return state, any(s.rule == "surge" and s.status == "firing" for s in signals)


@pytest.fixture(scope="module")
def busy_subject():
    """Eleven days at ~40 mentions per 5 min with two one-hour 6x stories (days 3 and 5): the state at
    noon of day 11, a subject with two pages in 14 days whose bars have decayed under its line."""
    rng = random.Random(11)
    stories = [3 * DAY + 120, 5 * DAY + 150]
    state, pages = None, []
    for b in range(11 * DAY + 144):
        lam = 40.0 * (6.0 if any(s <= b < s + 12 for s in stories) else 1.0)
        state, fired = feed(state, b, poisson(rng, lam), ON)
        pages += [b] if fired else []
    assert [any(s <= p < s + 12 for p in pages) for s in stories] == [True, True]
    assert surge_busy.busy(state, 11 * DAY + 144, ON)
    return state, 11 * DAY + 144


def least_firing(state, b: int, params) -> int:
    """The smallest count of bucket `b` that pages under `params`."""
    for count in range(40, 400):
        if feed(copy.deepcopy(state), b, count, params)[1]:
            return count
    raise AssertionError("nothing under 400 pages")


def test_a_burst_just_past_the_line_waits_one_bucket_and_a_louder_one_does_not(busy_subject):
    state, b = busy_subject
    least = least_firing(state, b, OFF)
    assert least_firing(state, b, ON) > least                  # held at the count that pages without
    after, fired = feed(copy.deepcopy(state), b, least, ON)
    assert not fired and after["above"] == [after["done"]]     # it passed the line: remembered
    assert feed(copy.deepcopy(after), b + 1, least, ON)[1]     # it held: pages one bucket later
    _, fired = feed(copy.deepcopy(state), b, 3 * least, ON)
    assert fired                                               # far past the line: at once


def test_a_one_bucket_burst_just_past_the_line_followed_by_an_ordinary_bucket_never_pages(busy_subject):
    state, b = busy_subject
    least = least_firing(state, b, OFF)
    for params, pages in ((OFF, True), (ON, False)):
        after, fired = feed(copy.deepcopy(state), b, least, params)
        for i in range(1, 13):                                 # then an hour at the usual level
            after, more = feed(after, b + i, 40, params)
            fired = fired or more
        assert fired == pages


def test_a_held_bucket_teaches_the_daily_peak_nothing(busy_subject):
    state, b = busy_subject
    least = least_firing(state, b, OFF)
    held, fired = feed(copy.deepcopy(state), b, least, ON)
    quiet, _ = feed(copy.deepcopy(state), b, least - 1, ON)    # just under the line: an ordinary bucket
    assert not fired
    assert held["peaks"] == state["peaks"] != quiet["peaks"]


def test_a_calm_subject_and_a_series_of_measurements_page_at_once(busy_subject):
    state, b = busy_subject
    least = least_firing(state, b, OFF)
    calm = copy.deepcopy(state)
    calm["pages"] = calm["pages"][-1:]
    assert feed(calm, b, least, ON)[1]
    measured = copy.deepcopy(state)
    measured["frac"] = True
    assert feed(measured, b, least, ON)[1]


# --- the agent's one-minute buckets: the window before is five buckets back; late mentions count ---

AGENT = SurgeParams.from_mapping(dict(load_rules(None).spec.surge))      # 60 s buckets, 2 min grace


def minute(state, m: int, count: int, params, late: int = 0):
    """The agent's minute `m`: its tick at the minute's start, `count` mentions on time and `late` more
    published in it that arrive 30 s after it closed. (state, whether a surge fired)."""
    at = T0 + timedelta(minutes=m)
    fired = False
    for published, arrives, n in ((at + timedelta(seconds=10), at + timedelta(seconds=40), count),
                                  (at + timedelta(seconds=50), at + timedelta(seconds=90), late)):
        state, signals = tick(state, arrives - timedelta(seconds=1), params) if state else (state, [])
        fired = fired or any(s.rule == "surge" and s.status == "firing" for s in signals)
        if n:
            state, signals = observe_many(state, published, n, 0, [], arrives, params)
            fired = fired or any(s.rule == "surge" and s.status == "firing" for s in signals)
    return state, fired


@pytest.fixture(scope="module")
def busy_agent_subject():
    """Eleven days at ~8 mentions a minute with two one-hour 6x stories: noon of day 11, busy."""
    rng = random.Random(5)
    stories = [3 * 1440 + 600, 5 * 1440 + 700]
    state, pages = None, []
    for m in range(11 * 1440 + 720):
        state, fired = minute(state, m, poisson(rng, 8.0 * (6.0 if any(s <= m < s + 60 for s in stories) else 1.0)),
                              AGENT)
        pages += [m] if fired else []
    assert [any(s <= p < s + 60 for p in pages) for s in stories] == [True, True]
    assert surge_busy.busy(state, state["done"] + 1, AGENT)
    return state, 11 * 1440 + 720


def story(state, m0: int, extra: int, length: int, params, late: bool = False):
    """`extra` more mentions a minute for `length` minutes on the usual 8, half of them late when
    `late`: the minute (from the story's start) of the first page, or None within 30 minutes."""
    state = copy.deepcopy(state)
    for i in range(30):
        n = 8 + (extra if i < length else 0)
        state, fired = minute(state, m0 + i, n - n // 2 if late else n, params, n // 2 if late else 0)
        if fired:
            return i
    return None


def test_at_the_agent_a_two_minute_burst_is_held_and_a_story_pages_a_window_later(busy_agent_subject):
    state, m0 = busy_agent_subject
    off = replace(AGENT, confirm_factor=0.0)
    burst = next(e for e in range(2, 60) if story(state, m0, e, 2, off) is not None)
    assert story(state, m0, burst, 2, AGENT) is None             # the burst that pages without: held
    delayed = 0
    for extra in (8, 10, 14):                                    # a quarter-hour story, 2-3x the usual
        first, confirmed = story(state, m0, extra, 15, off), story(state, m0, extra, 15, AGENT)
        assert first is not None and first <= confirmed <= first + AGENT.window_buckets
        assert story(state, m0, extra, 15, AGENT, late=True) == confirmed     # late mentions count
        delayed += confirmed > first
    assert delayed


def test_a_late_mention_that_lifts_a_closed_minute_past_the_line_is_learnt(busy_agent_subject):
    state, m0 = busy_agent_subject
    passed = lambda s: s["done"] - 1 in s["above"]       # noqa: E731  minute m0, closed at m0 + 1

    def two_minutes(count: int, late: int = 0, missing: int = 0) -> dict:
        """`count` mentions in minute m0 - 1 and in minute m0, `late` of the latter arriving after it
        closed and `missing` of them never."""
        s, _ = minute(copy.deepcopy(state), m0 - 1, count, AGENT)
        s, _ = minute(s, m0, count - late - missing, AGENT, late=late)
        return minute(s, m0 + 1, 0, AGENT)[0]

    count = next(c for c in range(8, 80) if passed(two_minutes(c)))
    assert passed(two_minutes(count, late=4)) and not passed(two_minutes(count, missing=4))

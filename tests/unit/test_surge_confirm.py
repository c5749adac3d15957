"""A busy subject's near-the-line confirmation (streams.surge_confirm): a busy subject of whole counts
whose best score passes its line by less than `confirm_factor` x the line pages only when the bucket
before also passed it; louder bursts, calm subjects and series of measurements page at once."""
from __future__ import annotations

import copy
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from alerting import backtest
from alerting.rules import load_rules
from streams import surge_busy, surge_confirm
from streams.surge import SurgeParams, observe_many
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


def test_held_only_a_busy_whole_count_subject_just_past_the_line_without_the_bucket_before():
    busy = {"pages": [900, 1000], "onset": [1000, 9.0]}
    assert surge_busy.busy(busy, 1100, ON)
    assert surge_confirm.held(busy, 1100, 5.0, 4.5, ON)                   # 5.0 < 1.25 x 4.5
    assert not surge_confirm.held(busy, 1100, 5.7, 4.5, ON)               # past 1.25 x the line
    assert not surge_confirm.held({**busy, "above": 1099}, 1100, 5.0, 4.5, ON)   # confirmed
    assert surge_confirm.held({**busy, "above": 1098}, 1100, 5.0, 4.5, ON)       # not the bucket before
    assert not surge_confirm.held({**busy, "frac": True}, 1100, 5.0, 4.5, ON)    # measurements
    assert not surge_confirm.held({"pages": [1000], "onset": [1000, 9.0]}, 1100, 5.0, 4.5, ON)   # calm
    assert not surge_confirm.held(busy, 1100, 5.0, 4.5, OFF)


def test_learn_remembers_the_last_closed_bucket_past_the_line_and_nothing_when_off():
    state: dict = {}
    surge_confirm.learn(state, 10, 4.0, 4.5, ON)
    assert "above" not in state
    surge_confirm.learn(state, 11, 4.5, 4.5, ON)
    surge_confirm.learn(state, 12, 3.0, 4.5, ON)
    assert state["above"] == 11
    surge_confirm.learn(state, 13, 9.0, 4.5, OFF)
    assert state["above"] == 11


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
    assert not fired and after["above"] == after["done"]          # it passed the line: remembered
    assert feed(after, b + 1, least, ON)[1]                    # it held: pages one bucket later
    _, fired = feed(copy.deepcopy(state), b, 3 * least, ON)
    assert fired                                               # far past the line: at once


def test_a_calm_subject_and_a_series_of_measurements_page_at_once(busy_subject):
    state, b = busy_subject
    least = least_firing(state, b, OFF)
    calm = copy.deepcopy(state)
    calm["pages"] = calm["pages"][-1:]
    assert feed(calm, b, least, ON)[1]
    measured = copy.deepcopy(state)
    measured["frac"] = True
    assert feed(measured, b, least, ON)[1]

"""The replay tool's account of the surge rule's gates (streams.surge_why, bench/surge_why.py) on a
tiny fixture series: the re-evaluation agrees with the detector on every judged bucket, and names
the gate that held a surge (warm-up, the refractory bar) or how one fired."""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from alerting import backtest
from alerting.rules import DEFAULT_RULES, load_rules
from streams import surge_why as why_

T0 = datetime(2025, 3, 3, tzinfo=timezone.utc)
FIRST, SECOND, YOUNG = (2000, 2030), (2200, 2220), (300, 330)     # minutes [start, end)


def fixture() -> list[backtest.Row]:
    """Two days of 1-minute counts at 4 a minute: a 6x surge during the first day's warm-up, a 10x
    one on the second day, and a 3x one 170 minutes after it (an aftershock)."""
    rng = random.Random(3)
    rows = []
    for m in range(2 * 1440):
        factor = 6 if YOUNG[0] <= m < YOUNG[1] else 10 if FIRST[0] <= m < FIRST[1] else (
            3 if SECOND[0] <= m < SECOND[1] else 1)
        rows.append(backtest.Row(m + 2, "", T0 + timedelta(minutes=m), round(max(0.0, rng.gauss(4.0 * factor, math.sqrt(4.0 * factor))))))
    return rows


def replay(mapping: dict | None = None):
    surge = {**dict(load_rules(DEFAULT_RULES).spec.surge), **(mapping or {})}
    collector = why_.Collector()
    flags = backtest.run(fixture(), backtest.scaled_params(surge, 60), scores=collector.scores, trace=collector)
    return flags, collector


def test_the_account_agrees_with_the_detector_on_every_bucket():
    flags, collector = replay()
    assert collector.disagree == 0
    assert len(collector.scores) == 2 * 1440
    assert len(collector.accounts) >= 2 * 1440                     # every closed bucket, and open ones
    alerts = [a["row"] for a in collector.accounts if a["alert"]]
    assert alerts == [i for i, f in enumerate(flags) if f]        # the row run() flags


def test_it_names_the_warm_up_and_the_daily_peak_the_warm_up_surge_taught():
    flags, collector = replay()
    assert not any(flags)
    young = why_.why_missed(collector.accounts, (YOUNG[0], YOUNG[1] - 1))
    assert young["gate"] == "warm-up" and set(young["held"]) == {"warm-up"}
    # the warm-up surge was a quiet bucket for the daily peak: the first day's peak is its score,
    # and the 10x surge of the second day stays under 1.25 x it
    first = why_.why_missed(collector.accounts, (FIRST[0], FIRST[1] - 1))
    assert first["gate"] == "tail 7-day"
    at = first["at"]
    assert at["z"] <= at["best"] < at["tail_week"]
    assert at["tail_week"] == pytest.approx(1.25 * young["best_max"], rel=0.01)


def test_it_names_how_the_surge_fired_and_the_refractory_bar_that_held_the_aftershock():
    flags, collector = replay({"tail_factor": 0})
    assert collector.disagree == 0
    onsets = [i for i, f in enumerate(flags) if f]
    assert len(onsets) == 1 and FIRST[0] <= onsets[0] < FIRST[1]
    fired = why_.why_fired(collector.accounts, onsets[0])
    assert fired["via"] == "spread"
    assert fired["at"]["best"] >= max(fired["at"]["z"], fired["at"]["bar"])
    after = why_.why_missed(collector.accounts, (SECOND[0], SECOND[1] - 1))
    assert after["gate"] == "refractory bar"
    at = after["at"]
    assert at["z"] <= at["best"] < at["bar"]


def test_without_the_refractory_bar_the_aftershock_pages_and_the_account_follows():
    flags, collector = replay({"tail_factor": 0, "refractory_s": 0, "busy_pages": 0})
    assert collector.disagree == 0
    onsets = [i for i, f in enumerate(flags) if f]
    second = next(i for i in onsets if SECOND[0] <= i < SECOND[1])
    assert why_.why_fired(collector.accounts, second)["via"] == "spread"


def test_the_closest_bucket_is_the_one_that_passed_most_gates():
    held_by_z = {"gate": "z", "best": 2.9, "z": 3.0, "tail_week": 1.0, "tail_month": 0.0, "bar": 0.0}
    held_by_tail = {"gate": "tail 7-day", "best": 3.5, "z": 3.0, "tail_week": 7.0, "tail_month": 0.0, "bar": 0.0}
    assert why_.closest([held_by_z, held_by_tail]) is held_by_tail
    assert why_.margin(held_by_z) == 2.9 / 3.0 and why_.margin(held_by_tail) == 0.5
    assert why_.closest([]) is None


def test_the_history_of_an_alert_counts_the_pages_and_bursts_before_it():
    flags, collector = replay({"tail_factor": 0, "refractory_s": 0, "busy_pages": 0})
    onsets = [i for i, f in enumerate(flags) if f]
    first = next(i for i in onsets if FIRST[0] <= i < FIRST[1])
    second = next(i for i in onsets if SECOND[0] <= i < SECOND[1])
    best = why_.best_by_row(collector.accounts)
    before = why_.history(best, onsets, second, 1440)
    assert before["alerts_7d"] == before["alerts_1d"] == len([i for i in onsets if i < second]) >= 1
    assert before["hours_since_alert"] == pytest.approx((second - max(i for i in onsets if i < second)) / 60, abs=0.1)
    # the 10x surge three hours earlier was louder than the 3x aftershock; the warm-up surge of
    # day 0 (over a day before it) counts in the 7 days only
    assert before["loudest_1d"] >= best[first] > best[second]
    assert before["loudest_7d"] >= max(best[r] for r in range(YOUNG[0], YOUNG[1])) > before["loudest_1d"]
    assert before["days_as_loud"] == 1                  # day 0 held the 6x warm-up surge
    assert why_.history(best, onsets, first, 1440)["alerts_7d"] == 0
    # a run past a line stops at the first row under it
    assert why_.run_past({5: 4.0, 6: 3.5, 7: 2.0, 8: 9.0}, 5, 3.0) == 2
    assert why_.run_past({}, 5, 3.0) == 0


def test_a_late_page_names_the_gates_that_held_it_after_the_surge_became_visible():
    flags, collector = replay({"tail_factor": 0, "refractory_s": 0, "busy_pages": 0})
    first = next(i for i, f in enumerate(flags) if f and FIRST[0] <= i < FIRST[1])
    late = why_.why_late(collector.accounts, FIRST[0], first)
    assert late["held"]                                 # the surge's first minutes were held
    assert late["delay"] == first - FIRST[0] + 1
    assert sum(late["held"].values()) == 2 * (first - FIRST[0])    # an open and a closed account per row
    assert None not in late["held"]                     # nothing between visible and the page fired
    # accounts outside the rows do not count; a page in the row the surge became visible is delay 1
    rows = [{"row": 9, "gate": "z", "via": None}, {"row": 10, "gate": "min_count/ratio", "via": None},
            {"row": 11, "gate": "z", "via": None}, {"row": 12, "gate": None, "via": "spread"}]
    assert why_.why_late(rows, 10, 12) == {"delay": 3, "held": {"min_count/ratio": 1, "z": 1}}
    assert why_.why_late(rows, 12, 12) == {"delay": 1, "held": {}}
    assert why_.why_late(rows, 12, 11) == {"delay": 1, "held": {}}       # paged before it was visible

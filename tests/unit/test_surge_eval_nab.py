"""The tweet-like proxy scored the NAB way (bench/surge_eval.py, block `nab_style`, issue 9): the
windows' width and centre, and the block's counts on a tiny hand-made series of alert flags."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import surge_eval  # noqa: E402
from alerting.rules import DEFAULT_RULES, load_rules  # noqa: E402

N = 2000                                     # rows of 5 minutes; 2 surges -> windows of 100 rows
SURGES = [(600, 620, 5.0, 605), (1400, 1430, 8.0, 1410)]       # (start, end, peak, visible row)
ONSETS = [100, 552, 640, 641, 700, 1300, 1455]


def flags() -> list[int]:
    return [1 if i in ONSETS else 0 for i in range(N)]


def test_a_window_is_a_tenth_of_the_rows_shared_by_the_surges_centred_on_the_start():
    assert surge_eval.nab_windows(N, SURGES) == [(550, 649), (1350, 1449)]
    assert surge_eval.nab_windows(N, SURGES, "visible") == [(555, 654), (1360, 1459)]
    # floor(0.1 * 1018 / 2) = 50 rows (not 51): 25 before the start, the start, 24 after it
    assert surge_eval.nab_windows(1018, SURGES[:1] * 2)[0] == (575, 624)
    # an odd width: floor(0.1 * 1030 / 2) = 51 rows, 25 either side
    assert surge_eval.nab_windows(1030, SURGES[:1] * 2)[0] == (575, 625)
    # one surge gets the whole tenth
    assert surge_eval.nab_windows(N, SURGES[:1]) == [(500, 699)]


def test_windows_are_clipped_to_the_series_and_absent_without_surges():
    near_ends = [(10, 20, 4.0, 12), (1990, 1999, 4.0, 1995)]
    assert surge_eval.nab_windows(N, near_ends) == [(0, 59), (1940, 1999)]
    assert surge_eval.nab_windows(N, []) == []
    with pytest.raises(ValueError):
        surge_eval.nab_windows(N, SURGES, "end")


def _sigma(y: float) -> float:
    return -1.0 if y > 3 else 2 / (1 + math.exp(5 * y)) - 1


def block(monkeypatch, centre: str) -> dict:
    """evaluate() on one 'seed' whose series and flags are the hand-made ones above."""
    monkeypatch.setattr(surge_eval, "generate_tweet", lambda seed: ([3] * N, SURGES))
    monkeypatch.setattr(surge_eval, "run", lambda rows, params: flags())
    out = surge_eval.evaluate(dict(load_rules(DEFAULT_RULES).spec.surge), [0], regime="tweet", nab_centre=centre)
    assert {"hits", "false_per_day", "delay_after_visible_median"} <= set(out)    # the old keys stay
    return out["nab_style"]


def test_the_block_counts_windows_events_and_the_nab_score_around_the_start(monkeypatch):
    got = block(monkeypatch, "start")
    # events: 100 | 552 | 640+641 (5 min apart) | 700 | 1300 | 1455; true: 552 and 640+641 (window A,
    # 550..649); B (1350..1449) has no alert: 1455 is after it
    assert (got["windows"], got["caught"], got["events"], got["false_alarms"]) == (2, 1, 6, 4)
    days = (N - 1) * 5 / 1440
    assert got["series_days"] == round(days, 1)
    assert got["false_per_series_day"] == round(4 / days, 3)
    assert (got["precision"], got["recall"], got["f1"]) == (round(2 / 6, 3), 0.5, 0.4)
    # NAB: row 100 is in the probation (300 rows); 552 earns A's true positive; 700, 1300 and 1455
    # are false positives scaled by their distance after the last window; B is a miss
    raw = (_sigma(-(649 - 552 + 1) / 100) + 0.11 * _sigma(51 / 99) + 0.11 * _sigma(651 / 99)
           + 0.11 * _sigma(6 / 99) - 1)
    assert got["nab_standard"] == round(100 * (raw + 2) / (2 * _sigma(-1) + 2), 1)
    assert got["centre"] == "start"


def test_centred_on_the_visible_row_the_early_alert_is_false_and_the_late_one_true(monkeypatch):
    got = block(monkeypatch, "visible")
    # windows 555..654 and 1360..1459: 552 is now before A, 1455 inside B
    assert (got["windows"], got["caught"], got["events"], got["false_alarms"]) == (2, 2, 6, 4)
    assert (got["precision"], got["recall"]) == (round(2 / 6, 3), 1.0)
    assert got["centre"] == "visible"

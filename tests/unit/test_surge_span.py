"""The span record (streams.surge_span): per window length, the highest judged count of the
subject's quiet buckets on past days; a window far past it faces the refractory/busy bar without
its escalation."""
from __future__ import annotations

from streams import surge_span as span_
from streams.surge import SurgeParams

P = SurgeParams(bucket_s=3600, window_buckets=1, span_factor=2.0, span_days=7, refractory_buckets=6,
                escalation=1.5, busy_pages=2, busy_days=14, busy_refractory_buckets=24, busy_escalation=2.0)
DAY = 24                                                 # buckets per day at 1-hour buckets


def state_with(days: list[list[float]]) -> dict:
    """A subject born at bucket 0 that learned one quiet bucket with these judged counts a day."""
    state = {"born": 0, "onset": [-10**12, 0.0], "episodes": {}}
    for d, judged in enumerate(days):
        span_.learn(state, d * DAY, judged, P)
    return state


def wins(*judged: float, usual: float = 2.0) -> list[tuple[float, float, float, float]]:
    return [(j, j, usual, 0.0) for j in judged]


def test_the_record_needs_two_past_days_and_leaves_today_out():
    assert span_.lines(state_with([[5, 10, 20]]), P) is None
    state = state_with([[5, 10, 20], [6, 9, 30]])
    assert span_.lines(state, P) is None                 # day 1 is today: still one past day
    span_.learn(state, 2 * DAY, [50, 90, 400], P)           # today's own rise does not count
    assert span_.lines(state, P) == [12.0, 20.0, 60.0]


def test_only_quiet_buckets_teach_and_days_are_forgotten():
    state = state_with([[5, 10, 20], [6, 9, 30]])
    span_.learn(state, 2 * DAY + 1, None, P)               # in an episode: nothing
    assert state["spans"][1] is None
    for d in range(3, 12):
        span_.learn(state, d * DAY, [1, 1, 1], P)
    assert span_.lines(state, P) == [2.0, 2.0, 2.0]      # the 7 days before today


def test_the_longest_window_past_its_record_with_min_count_and_ratio():
    state = state_with([[5, 10, 20], [6, 9, 30], [1, 1, 1]])
    assert span_.past(state, 3 * DAY, wins(13, 21, 61), P) == 2
    assert span_.past(state, 3 * DAY, wins(13, 21, 59), P) == 1
    assert span_.past(state, 3 * DAY, wins(11, 19, 59), P) is None
    assert span_.past(state, 3 * DAY, wins(11, 19, 61, usual=50.0), P) is None     # under ratio x usual
    state["last_episode"] = 3 * DAY - 2                # the long window still holds the last episode
    assert span_.past(state, 3 * DAY, wins(13, 21, 61), P) == 0


def test_past_its_record_a_window_faces_the_bar_without_the_escalation():
    state = state_with([[5, 10, 20], [6, 9, 30], [1, 1, 1]])
    state["onset"] = [3 * DAY - 6, 8.0]                    # a page 6 h ago, peak score 8: bar 1.5 x 8 / 2
    assert span_.bar(state, 3 * DAY, wins(1, 1, 1), P) == 6.0
    assert span_.bar(state, 3 * DAY, wins(13, 21, 61), P) == 4.0
    state["pages"] = [3 * DAY - 30, 3 * DAY - 6]           # busy: 2 x 8 halving every 24 h
    busy = 2.0 * 8.0 * 0.5 ** (6 / 24)
    assert span_.bar(state, 3 * DAY, wins(1, 1, 1), P) == busy
    assert span_.bar(state, 3 * DAY, wins(13, 21, 61), P) == busy / 2.0
    assert span_.bar(state, 3 * DAY, wins(13, 21, 61), SurgeParams(bucket_s=3600, window_buckets=1)) == 0.0


def test_a_day_without_a_quiet_bucket_is_no_record_of_zero():
    state = state_with([[5, 10, 20], [6, 9, 30]])
    for d in range(2, 6):                                  # four days in episodes or refractory
        span_.learn(state, d * DAY, None, P)
    assert span_.lines(state, P) == [12.0, 20.0, 60.0]   # still the two quiet days' record
    assert span_.past(state, 6 * DAY, wins(11, 19, 59), P) is None
    fresh = {"born": 0, "onset": [-10**12, 0.0], "episodes": {}}
    for d in range(4):
        span_.learn(fresh, d * DAY, None, P)
    assert span_.lines(fresh, P) is None                 # no quiet day at all: no record

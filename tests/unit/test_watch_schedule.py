"""The rules file's watch terms reach analyze(): a major-event window adds its terms at its start
and drops them at its end, with a pinned clock and no reload."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from alerting.rules import load_rules
from streams.analysis import Resources, analyze
from streams.watch_schedule import WatchSchedule
from streams.watchlist import Subject, with_extra_terms

RULES = """
version: 1
subjects:
  - {name: 安全事故, watch: [液氨]}
  - {name: 某县, watch: [化工园区]}
channels:
  - {name: ding, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=t"}
default_route: {channels: [ding]}
major_events:
  - {name: 两会, start: "2026-03-05 09:00", end: "2026-03-05 18:00", watch: [代表通道, 委员通道]}
"""
POST = "今天的代表通道上，化工园区液氨的问题又被提起"
OPENS = datetime(2026, 3, 5, 1, 0, tzinfo=timezone.utc)      # 09:00 Asia/Shanghai
CLOSES = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)    # 18:00 Asia/Shanghai
SECOND = timedelta(seconds=1)


@pytest.fixture(scope="module")
def resources() -> Resources:
    return Resources.load()


@pytest.fixture
def schedule(tmp_path, resources) -> WatchSchedule:
    path = tmp_path / "rules.yml"
    path.write_text(RULES, encoding="utf-8")
    return WatchSchedule(resources, load_rules(path).watch_terms)


def test_event_terms_are_watched_from_the_start_to_the_end_of_the_window(schedule):
    seen = {}
    for label, now in {"before": OPENS - SECOND, "start": OPENS, "inside": OPENS + timedelta(hours=4),
                       "last second": CLOSES - SECOND, "end": CLOSES}.items():
        a = analyze("", POST, schedule.at(now))
        seen[label] = (a.subjects, a.watch_terms)
    outside = (["安全事故", "某县"], ["液氨", "化工园区"])
    inside = (["安全事故", "某县", "重大活动:两会"], ["液氨", "化工园区", "代表通道"])
    assert seen == {"before": outside, "start": inside, "inside": inside, "last second": inside, "end": outside}


def test_matcher_is_rebuilt_only_when_the_active_terms_change(schedule, resources):
    before = schedule.at(OPENS - 2 * SECOND)
    assert schedule.at(OPENS - SECOND) is before
    during = schedule.at(OPENS)
    assert during is not before and schedule.at(OPENS + timedelta(hours=1)) is during
    # everything but the watch list is the loaded Resources, shared and never reloaded
    assert during.segmenter is resources.segmenter and during.sentiment is resources.sentiment
    assert schedule.at(CLOSES).watchlist.terms() == before.watchlist.terms()


def test_no_rules_terms_keeps_the_loaded_resources(resources):
    assert WatchSchedule(resources, lambda now: {}).at(OPENS) is resources


def test_extra_terms_join_a_subject_of_the_same_name_normalised():
    base = (Subject("a", ("x",), require=("y",)),)
    merged = with_extra_terms(base, {"a": ["Ｘ", "醫院"], "b": ["新词"], "c": []})
    assert merged == (Subject("a", ("x", "医院"), require=("y",)), Subject("b", ("新词",)))

from datetime import datetime, timezone

import pytest

from alerting.errors import RulesError
from crawlers.runner import due_in
from crawlers.sources import load_sources
from shaobing.commands.crawl import event_windows

RULES = """
version: 1
channels: [{name: console, type: console}]
default_route: {name: default, channels: [console]}
major_events:
  - name: 两会
    start: 2026-03-05 08:00
    end: 2026-03-12 20:00
"""


def test_major_event_windows_switch_the_crawl_to_event_intervals(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(RULES, encoding="utf-8")
    clock = {"now": datetime(2026, 3, 5, 0, 30, tzinfo=timezone.utc)}      # 08:30 in Shanghai
    active = event_windows(path, clock=lambda: clock["now"])
    source = next(s for s in load_sources().values() if s.schedule.event_interval_s)
    assert active() is True
    assert due_in(source, None, active()) == source.schedule.event_interval_s
    clock["now"] = datetime(2026, 3, 12, 12, 30, tzinfo=timezone.utc)      # 20:30 in Shanghai: over
    assert active() is False
    assert due_in(source, None, active()) == source.schedule.interval_s


def test_a_broken_rules_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(RULES.replace("end: 2026-03-12 20:00", "end: 2026-03-01 20:00"), encoding="utf-8")
    with pytest.raises(RulesError, match="rules.yml"):
        event_windows(path)

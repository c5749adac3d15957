"""Rules file: validation names file, entry and field; frozen after load; time-dependent views."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pydantic
import pytest

from alerting.errors import RulesError
from alerting.rules import load_rules

BASE = """
version: 1
surge: {window_s: 300, baseline_s: 7200, ratio: 3}
subjects:
  - {name: 某县, watch: [化工厂], surge: {threshold: 50}}
channels:
  - {name: ding, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=t"}
  - {name: mail, type: email, smtp_host: smtp.example.cn, sender: a@example.cn, to: [b@example.cn]}
routes:
  - {name: critical, match: {min_severity: critical}, channels: [ding], fallback: [mail]}
default_route: {channels: [ding]}
quiet_hours:
  - {start: "23:00", end: "07:00", min_severity: critical}
major_events:
  - {name: 国庆, start: "2025-10-01 00:00", end: "2025-10-08 00:00", surge: {ratio: 2}, extra_channels: [mail]}
"""


def load(tmp_path, text):
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


def test_valid_file_loads_and_is_frozen(tmp_path):
    rules = load(tmp_path, BASE)
    assert rules.surge.window_buckets == 5 and rules.surge.baseline_buckets == 120
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.surge = None
    with pytest.raises(pydantic.ValidationError):
        rules.spec.channels[0].name = "x"


@pytest.mark.parametrize("change,where", [
    (("channels: [ding], fallback: [mail]}", "channels: [dingding], fallback: [mail]}"), "routes[0] ('critical').channels"),
    (("{name: 国庆, start", "{name: 国庆, start: x, stat"), "major_events[0] ('国庆')"),
    (("surge: {ratio: 2}", "surge: {ratoi: 2}"), "major_events[0] ('国庆').surge"),
    (("surge: {threshold: 50}", "surge: {bucket_s: 30}"), "subjects[0] ('某县').surge"),
    (("type: email", "type: mail"), "channels[1] ('mail').type"),
    (("default_route: {channels: [ding]}", "default_route: {channels: [ding], repeat_interval: 4 hours}"),
     "default_route.repeat_interval"),
    (("end: \"2025-10-08 00:00\"", "end: \"2025-09-08 00:00\""), "major_events[0] ('国庆')"),
    (("- {name: mail, type: email", "- {name: ding, type: email"), "channels[1] ('ding').name"),
])
def test_errors_name_file_entry_and_field(tmp_path, change, where):
    with pytest.raises(RulesError) as err:
        load(tmp_path, BASE.replace(*change))
    message = str(err.value)
    assert message.startswith(str(tmp_path / "rules.yml")) and where in message, message


@pytest.mark.parametrize("term, why", [("+化工", "require"), ("!演习", "exclude"), ("＋化工", "require"),
                                       ("@人民日报", "@handles"), ("市长@热线", "@handles"), ("http://t.cn/x", "links"),
                                       ("[爆炸]", "emoticon codes"), ("［泪］", "emoticon codes"),
                                       ("化工厂[爆炸]", "emoticon codes"), (" ", "empty"), ("\u200b", "empty")])
def test_a_watch_term_that_could_never_match_as_meant_is_refused_with_its_place(tmp_path, term, why):
    with pytest.raises(RulesError, match=rf"subjects\[0\] \('某县'\)\.watch\[1\]: .*{why}"):
        load(tmp_path, BASE.replace("watch: [化工厂]", f"watch: [化工厂, '{term}']"))
    with pytest.raises(RulesError, match=rf"major_events\[0\] \('国庆'\)\.watch\[0\]: .*{why}"):
        load(tmp_path, BASE.replace("surge: {ratio: 2}, extra", f"watch: ['{term}'], surge: {{ratio: 2}}, extra"))
    rules = load(tmp_path, BASE.replace("watch: [化工厂]", "watch: [化工厂, '【突发】', '[化工厂爆炸事件现场]', 火]"))
    assert rules.watch_terms(datetime(2025, 1, 1, tzinfo=timezone.utc))["某县"][1:] == ("【突发】", "[化工厂爆炸事件现场]", "火")


def test_overlapping_event_windows_of_one_name_are_refused(tmp_path):
    """Both would be subject 重大活动:<name> at once, and one window's watch terms would replace the other's."""
    extension = '  - {name: 国庆, start: "2025-10-07 00:00", end: "2025-10-09 00:00", watch: [返程]}\n'
    with pytest.raises(RulesError) as err:
        load(tmp_path, BASE + extension)
    message = str(err.value)
    assert "major_events[1] ('国庆').name" in message and "duplicate event name '国庆'" in message, message
    assert "major_events[0]" in message.split(".name", 1)[1], message


def test_a_recurring_event_of_one_name_loads_with_each_windows_terms(tmp_path):
    text = BASE.replace("surge: {ratio: 2}, extra_channels: [mail]}", "watch: [阅兵]}") + \
        '  - {name: 国庆, start: "2026-10-01 00:00", end: "2026-10-08 00:00", watch: [黄金周]}\n'
    rules = load(tmp_path, text)
    day = lambda year: datetime(year, 10, 2, tzinfo=timezone.utc)  # noqa: E731
    assert rules.watch_terms(day(2025))["重大活动:国庆"] == ("阅兵",)
    assert rules.watch_terms(day(2026))["重大活动:国庆"] == ("黄金周",)


def test_yaml_syntax_error_names_the_line(tmp_path):
    with pytest.raises(RulesError, match=r"rules.yml: line \d+: invalid YAML"):
        load(tmp_path, BASE + "\n  - [unclosed\n")


def test_unknown_top_level_key_is_rejected(tmp_path):
    with pytest.raises(RulesError, match="routs"):
        load(tmp_path, BASE + "routs: []\n")


def test_major_event_switches_on_and_off_by_itself_in_shanghai_time(tmp_path):
    rules = load(tmp_path, BASE)
    before = datetime(2025, 9, 30, 15, 59, tzinfo=timezone.utc)       # 23:59 Shanghai
    start = before + timedelta(minutes=1)
    assert rules.params_for("某市", before).ratio == 3 and rules.params_for("某市", start).ratio == 2
    assert rules.router(before).default.channels == ("ding",)
    assert rules.router(start).default.channels == ("ding", "mail")
    assert rules.params_for("某县", start).threshold == 50 and rules.watch_terms(before) == {"某县": ("化工厂",)}


def test_quiet_hours_wrap_midnight(tmp_path):
    rules = load(tmp_path, BASE)
    at = lambda h: datetime(2025, 3, 5, h, tzinfo=timezone.utc) - timedelta(hours=8)  # noqa: E731  h o'clock Shanghai
    assert rules.quiet({"severity": "warning"}, at(23)) and rules.quiet({"severity": "warning"}, at(3))
    assert not rules.quiet({"severity": "warning"}, at(7)) and not rules.quiet({"severity": "critical"}, at(3))


def test_packaged_default_rules_are_valid():
    assert load_rules().router(datetime.now(timezone.utc)).default.channels == ("console",)


def test_new_subject_line_is_a_validated_surge_field(tmp_path):
    rules = load(tmp_path, BASE.replace("ratio: 3}", "ratio: 3, new_subject_min_count: 150, warmup_s: 86400}"))
    assert rules.surge.new_subject_min_count == 150 and rules.surge.warmup_buckets == 1440
    with pytest.raises(RulesError, match=r"rules.yml: surge: new_subject_min_count must be >= 1"):
        load(tmp_path, BASE.replace("ratio: 3}", "ratio: 3, new_subject_min_count: 0}"))
    with pytest.raises(RulesError, match=r"subjects\[0\] \('某县'\).surge: .*new_subject_min_count"):
        load(tmp_path, BASE.replace("surge: {threshold: 50}", "surge: {new_subject_min_count: -5}"))


def test_packaged_rules_set_the_new_subject_line():
    rules = load_rules()
    assert rules.surge.new_subject_min_count and rules.surge.warmup_buckets * rules.surge.bucket_s >= 86400


@pytest.mark.parametrize("setting, message", [
    ("span_days: 7.5", r"surge: span_days: expected a whole number, got 7.5"),
    ("record_days: true", r"surge: record_days: expected a whole number, got True"),
    ("span_factor: abc", r"surge: span_factor: expected a number, got 'abc'"),
    ("z: .nan", r"surge: z: expected a number, got nan"),
    ("threshold_severity: 3", r"surge: threshold_severity: expected text, got 3"),
])
def test_surge_fields_of_the_wrong_kind_are_named(tmp_path, setting, message):
    with pytest.raises(RulesError, match=message):
        load(tmp_path, BASE.replace("ratio: 3}", f"ratio: 3, {setting}}}"))

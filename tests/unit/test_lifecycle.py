"""Alert lifecycle on a pinned clock: dedup, grouping, repeats, resolution, acks, escalation."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from alerting import lifecycle
from alerting.routing import Route, Timing
from alerting.rules import load_rules
from tests.fakes.alerts import T0, alert

ROUTE = Route("duty", channels=("ding",), fallback=("mail",),
              timing=Timing(group_wait_s=30, group_interval_s=300, repeat_interval_s=3600, escalate_after_s=900))
ROUTES = {"duty": ROUTE}


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def step(state, now, sent=True):
    state, batches = lifecycle.flush(state, now, ROUTES)
    state, escalating = lifecycle.escalations(state, now, ROUTES)
    batches += escalating
    if sent:
        for b in batches:
            state = lifecycle.mark_sent(state, b, now)
    return state, [(b.channel, b.kind, b.firing) for b in batches]


def test_dedup_key_is_stable_per_rule_and_subject():
    assert alert().dedup_key == alert(count=999).dedup_key
    assert alert().dedup_key != alert(rule="negative_surge").dedup_key
    assert alert().dedup_key != alert(subject="某市").dedup_key


def test_group_wait_then_one_notification_per_episode():
    state, what = lifecycle.record(None, alert(), ROUTE, at(0))
    assert what == "new"
    assert step(state, at(10))[1] == []                       # inside group_wait
    state, sent = step(state, at(30))
    assert sent == [("ding", "new", (alert().dedup_key,))]
    state, what = lifecycle.record(state, alert(count=300), ROUTE, at(60))
    assert what == "updated"
    state, sent = step(state, at(330))
    assert sent == []                                         # same episode: no re-send


def test_new_alert_in_group_waits_for_group_interval():
    state, _ = lifecycle.record(None, alert(), ROUTE, at(0))
    state, _ = step(state, at(30))
    state, _ = lifecycle.record(state, alert(rule="negative_surge", severity="critical"), ROUTE, at(40))
    assert step(state, at(100))[1] == []
    state, sent = step(state, at(330))
    assert [(c, k, len(f)) for c, k, f in sent] == [("ding", "new", 2)]


def test_repeat_interval_and_ack_stops_repeats_and_escalation():
    state, _ = lifecycle.record(None, alert(), ROUTE, at(0))
    state, _ = step(state, at(30))
    key = alert().dedup_key
    state, sent = step(state, at(30 + 900))
    assert sent == [("mail", "escalation", (key,))]
    state, sent = step(state, at(30 + 3600))
    assert sent == [("ding", "repeat", (key,))]
    state, ok = lifecycle.acknowledge(state, key, at(3700), by="值班员")
    assert ok
    state, sent = step(state, at(30 + 2 * 3600 + 10))
    assert sent == []


def test_ack_before_escalation_prevents_it():
    state, _ = lifecycle.record(None, alert(), ROUTE, at(0))
    state, _ = step(state, at(30))
    state, _ = lifecycle.acknowledge(state, alert().dedup_key, at(100))
    assert step(state, at(2000))[1] == []


def test_resolved_notification_and_refire_is_a_new_episode():
    state, _ = lifecycle.record(None, alert(), ROUTE, at(0))
    state, _ = step(state, at(30))
    state, what = lifecycle.record(state, alert(status="resolved"), ROUTE, at(400))
    assert what == "resolved"
    state, sent = step(state, at(630))
    assert [(c, k) for c, k, _ in sent] == [("ding", "resolved")]
    state, what = lifecycle.record(state, alert(), ROUTE, at(700))
    assert what == "new"
    state, sent = step(state, at(930))
    assert [(c, k) for c, k, _ in sent] == [("ding", "new")]
    assert state["alerts"][alert().dedup_key]["occurrence"] == 2


def test_refire_is_new_even_when_resolution_was_not_sent():
    route = replace(ROUTE, timing=replace(ROUTE.timing, send_resolved=False, group_by=("rule",)))
    routes = {"duty": route}
    state, _ = lifecycle.record(None, alert(), route, at(0))
    state, _ = lifecycle.record(state, alert(subject="某市"), route, at(0))
    state, batches = lifecycle.flush(state, at(30), routes)
    state = lifecycle.mark_sent(state, batches[0], at(30))
    state, _ = lifecycle.record(state, alert(status="resolved"), route, at(100))
    state, _ = lifecycle.record(state, alert(), route, at(200))
    state, batches = lifecycle.flush(state, at(330), routes)
    assert [b.kind for b in batches] == ["new"]


def test_expire_resolves_stale_alerts_and_collect_forgets_them():
    assert Timing().resolve_timeout_s >= 6 * 3600      # a safety net: longer than any surge episode
    route = replace(ROUTE, timing=replace(ROUTE.timing, resolve_timeout_s=1800))
    routes = {"duty": route}
    state, _ = lifecycle.record(None, alert(), route, at(0))
    state = lifecycle.expire(state, at(1799), routes)
    assert state["alerts"][alert().dedup_key]["status"] == "firing"
    state = lifecycle.expire(state, at(1800), routes)
    assert state["alerts"][alert().dedup_key]["status"] == "resolved"
    assert lifecycle.collect(state, at(1800 + 86400))["alerts"] == {}


def test_an_episode_signalled_once_is_not_expired_while_it_can_still_be_live():
    """The producers send firing once and resolved at the end: only a lost resolve may be expired."""
    packaged = load_rules().router(T0).by_name
    for routes in ({"duty": Route("duty", ("ding",))}, packaged):
        for route in routes.values():
            state, _ = lifecycle.record(None, alert(), route, at(0))
            state, _ = lifecycle.record(state, alert(rule="source_quiet"), route, at(0))
            statuses = lambda t: {e["status"] for e in lifecycle.expire(state, at(t), routes)["alerts"].values()}  # noqa: E731
            assert statuses(2 * 86400) == {"firing"} and statuses(7 * 86400) == {"resolved"}


def test_silenced_alert_is_not_sent_and_unsilenced_alert_then_is():
    state, _ = lifecycle.record(None, alert(), ROUTE, at(0))
    state, batches = lifecycle.flush(state, at(30), ROUTES, silenced=lambda a: True)
    assert batches == []
    state, batches = lifecycle.flush(state, at(330), ROUTES)
    assert [b.kind for b in batches] == ["new"]


def test_failed_send_stays_due_for_the_next_flush():
    state, _ = lifecycle.record(None, alert(), ROUTE, at(0))
    state, sent = step(state, at(30), sent=False)
    assert sent
    state, sent = step(state, at(330))
    assert [(c, k) for c, k, _ in sent] == [("ding", "new")]

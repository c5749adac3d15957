"""Alert lifecycle, pure: dedup per rule+subject, Alertmanager-style grouping (group_wait,
group_interval), repeat_interval, resolved notifications, acknowledgement and escalation timers.

State is a plain JSON dict per shard (the subject, so it can live in a Faust table keyed like the
`surges` topic):
  alerts {dedup_key: {alert, status, started, updated, resolved_at, acked_at, first_sent,
          escalated_at, group, route}}
  groups {group_key: {route, next_flush}}
  nflog  {"group_key|channel": {at, firing: [keys], resolved: [keys]}}   what each channel last got
Functions return a new state; the caller persists it. Times are ISO strings in UTC. No I/O.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping

from alerting.model import Alert
from alerting.routing import Route, Timing

RESOLVED_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class Batch:
    group_key: str
    route: str
    channel: str
    kind: str                      # new | repeat | resolved | escalation
    firing: tuple[str, ...]
    resolved: tuple[str, ...]
    newly_resolved: tuple[str, ...] = ()   # resolved since this channel last heard, to show with `firing`


def empty() -> dict:
    return {"alerts": {}, "groups": {}, "nflog": {}}


def _t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def group_key(alert: Alert, route: Route) -> str:
    labels = {"subject": alert.subject, "rule": alert.rule, "severity": alert.severity}
    return route.name + ":" + "|".join(f"{k}={labels[k]}" for k in route.timing.group_by)


def record(state: dict | None, alert: Alert, route: Route, now: datetime) -> tuple[dict, str]:
    """Fold a firing or resolved alert in. Returns (state, "new" | "updated" | "resolved" | "ignored")."""
    state = copy.deepcopy(state) if state else empty()
    entry = state["alerts"].get(alert.dedup_key)
    stamp = now.isoformat()
    if alert.status == "resolved":
        if entry is None or entry["status"] == "resolved":
            return state, "ignored"
        entry.update(status="resolved", resolved_at=stamp, alert=alert.model_dump(mode="json"))
        return state, "resolved"
    what = "updated"
    since = (entry or {}).get("alert", {}).get("since")
    if entry is not None and entry["status"] == "firing" and since and alert.since:
        if alert.since < _t(since):
            return state, "ignored"           # a late firing of an episode already superseded
        if alert.since > _t(since):
            # a later episode while the last still fires: its resolve was lost (a detector that
            # lost its state, a redelivery gap). The new episode is news, not an update of the old
            entry["status"] = "resolved"
    if entry is None or entry["status"] == "resolved":
        what = "new"
        occurrence = (entry or {}).get("occurrence", 0) + 1
        entry = {"status": "firing", "started": stamp, "resolved_at": None, "acked_at": None,
                 "acked_by": "", "first_sent": None, "escalated_at": None, "occurrence": occurrence}
        state["alerts"][alert.dedup_key] = entry
    gk = group_key(alert, route)
    entry.update(alert=alert.model_dump(mode="json"), updated=stamp, group=gk, route=route.name)
    state["groups"].setdefault(gk, {"route": route.name,
                                    "next_flush": (now + timedelta(seconds=route.timing.group_wait_s)).isoformat()})
    return state, what


def expire(state: dict, now: datetime, routes: Mapping[str, Route]) -> dict:
    """Resolve firing alerts that were not refreshed within their route's resolve_timeout."""
    state = copy.deepcopy(state)
    for entry in state["alerts"].values():
        route = routes.get(entry["route"])
        timeout = (route.timing if route else Timing()).resolve_timeout_s
        if entry["status"] == "firing" and now - _t(entry["updated"]) >= timedelta(seconds=timeout):
            entry.update(status="resolved", resolved_at=now.isoformat())
            entry["alert"] = {**entry["alert"], "status": "resolved"}
    return state


def acknowledge(state: dict, key: str, now: datetime, by: str = "", episode: str = "") -> tuple[dict, bool]:
    """`episode` (from a signed link: when the acknowledged episode started) must be the current
    one; an ack without it (the CLI, by dedup key) acknowledges whatever episode is firing."""
    state = copy.deepcopy(state)
    entry = state["alerts"].get(key)
    if entry is None or entry["status"] != "firing" or entry["acked_at"] or now < _t(entry["started"]):
        return state, False             # an ack from before this episode began does not count
    if episode and episode != entry["started"]:
        return state, False             # a link from an earlier episode of the same alert
    entry.update(acked_at=now.isoformat(), acked_by=by[:64])
    return state, True


def _needs_update(firing: set, visible: set, resolved: set, log: dict | None, unacked: bool,
                  now: datetime, route: Route) -> str | None:
    """Alertmanager's DedupStage.needsUpdate over episode ids, with acknowledgement stopping repeats."""
    if log is None:
        return "new" if visible else None
    before_f, before_r = set(log["firing"]), set(log["resolved"])
    if not visible <= before_f:
        return "new"
    if before_f and not firing:
        return "resolved" if route.timing.send_resolved else None
    if route.timing.send_resolved and (resolved & before_f) - before_r:
        return "resolved"
    repeat_due = now - _t(log["at"]) >= timedelta(seconds=route.timing.repeat_interval_s)
    return "repeat" if visible and unacked and repeat_due else None


def _newly_resolved(resolved: set, ids: dict, log: dict | None, route: Route) -> tuple[str, ...]:
    """Resolved alerts the channel was sent as firing and not yet as resolved (none if send_resolved is off)."""
    if log is None or not route.timing.send_resolved:
        return ()
    told = set(log["firing"]) - set(log["resolved"])
    return tuple(sorted(k for k in resolved if ids[k] in told))


def episode_id(key: str, entry: dict) -> str:
    # a re-fire after resolution is a new episode even if the resolution was never sent
    return f"{key}@{entry['started']}"


def flush(state: dict, now: datetime, routes: Mapping[str, Route],
          silenced: Callable[[dict], bool] = lambda alert: False,
          channels_of: Callable[[Route], tuple[str, ...]] = lambda r: r.channels) -> tuple[dict, list[Batch]]:
    """Batches due now for groups whose timer has expired; moves those timers on by group_interval."""
    state = copy.deepcopy(state)
    batches: list[Batch] = []
    for gk, group in state["groups"].items():
        route = routes.get(group["route"])
        if route is None or now < _t(group["next_flush"]):
            continue
        members = {k: e for k, e in state["alerts"].items() if e["group"] == gk}
        firing = {k for k, e in members.items() if e["status"] == "firing"}
        visible = {k for k in firing if not silenced(members[k]["alert"])}
        resolved = {k for k, e in members.items() if e["status"] == "resolved"}
        unacked = any(not members[k]["acked_at"] for k in visible)
        ids = {k: episode_id(k, e) for k, e in members.items()}
        primary = channels_of(route)
        # a fallback that was sent the firing (primary down, or escalation) is also sent the resolve
        told = tuple(c for c in route.fallback if c not in primary and f"{gk}|{c}" in state["nflog"])
        for channel in primary + told:
            log = state["nflog"].get(f"{gk}|{channel}")
            newly = _newly_resolved(resolved, ids, log, route)
            if channel in primary:
                kind = _needs_update({ids[k] for k in firing}, {ids[k] for k in visible},
                                     {ids[k] for k in resolved}, log, unacked, now, route)
                shown = tuple(sorted(visible))
            else:     # a fallback only hears the end of what it was told
                kind = "resolved" if newly else None
                shown = tuple(sorted(k for k in visible if ids[k] in set(log["firing"])))
            if kind:
                batches.append(Batch(gk, route.name, channel, kind, shown, tuple(sorted(resolved)), newly))
        group["next_flush"] = (now + timedelta(seconds=route.timing.group_interval_s)).isoformat()
    return state, batches


def mark_sent(state: dict, batch: Batch, now: datetime) -> dict:
    """Record what `batch.channel` now knows. An escalation adds its alert to what the channel
    knows of the group (so it is sent the resolve) and is logged on the alert."""
    state = copy.deepcopy(state)
    alerts = state["alerts"]
    log_key = f"{batch.group_key}|{batch.channel}"
    firing = [episode_id(k, alerts[k]) for k in batch.firing if k in alerts]
    if batch.kind == "escalation":
        log = state["nflog"].get(log_key) or {"at": now.isoformat(), "firing": [], "resolved": []}
        state["nflog"][log_key] = {**log, "firing": sorted(set(log["firing"]) | set(firing))}
    else:
        state["nflog"][log_key] = {
            "at": now.isoformat(), "firing": firing,
            "resolved": [episode_id(k, alerts[k]) for k in batch.resolved if k in alerts]}
    for key in batch.firing:
        entry = alerts.get(key)
        if entry and not entry["first_sent"]:
            entry["first_sent"] = now.isoformat()
        if entry and batch.kind == "escalation":
            entry["escalated_at"] = now.isoformat()
    return state


def mark_escalated(state: dict, keys: tuple[str, ...], now: datetime) -> dict:
    """The fallback already has these alerts (the primary failed): no separate escalation later."""
    state = copy.deepcopy(state)
    for key in keys:
        if key in state["alerts"] and not state["alerts"][key]["escalated_at"]:
            state["alerts"][key]["escalated_at"] = now.isoformat()
    return state


def escalations(state: dict, now: datetime, routes: Mapping[str, Route],
                silenced: Callable[[dict], bool] = lambda alert: False) -> tuple[dict, list[Batch]]:
    """Firing, unacknowledged, unmuted alerts past their route's escalate_after: one batch per
    fallback. A mute (a silence, quiet hours) restarts the clock: an alert escalates
    escalate_after after the mute ended, not the moment it ends (the team muted it on purpose).
    The state records the mute's start and end only (a write per change, not per tick)."""
    out, changed = [], {}
    for key, e in sorted(state["alerts"].items()):
        route = routes.get(e["route"])
        if (route is None or route.timing.escalate_after_s is None or e["status"] != "firing"
                or e["acked_at"] or e["escalated_at"] or not e["first_sent"]):
            continue
        muted = silenced(e["alert"])
        if muted != bool(e.get("muted")):
            changed[key] = {"muted": muted, **({} if muted else {"unmuted_at": now.isoformat()})}
        if muted:
            continue
        unmuted = now if key in changed else _t(e.get("unmuted_at"))
        since = max(_t(e["first_sent"]), unmuted or _t(e["first_sent"]))
        if now - since >= timedelta(seconds=route.timing.escalate_after_s):
            out += [Batch(e["group"], route.name, ch, "escalation", (key,), ()) for ch in route.fallback]
    if changed:
        state = copy.deepcopy(state)
        for key, update in changed.items():
            state["alerts"][key].update(update)
    return state, out


def collect(state: dict, now: datetime) -> dict:
    """Forget resolved alerts once old enough, and groups and log entries left without alerts."""
    state = copy.deepcopy(state)
    state["alerts"] = {k: e for k, e in state["alerts"].items()
                       if e["status"] == "firing" or now - _t(e["resolved_at"]) < RESOLVED_RETENTION}
    live = {e["group"] for e in state["alerts"].values()}
    state["groups"] = {g: v for g, v in state["groups"].items() if g in live}
    state["nflog"] = {k: v for k, v in state["nflog"].items() if k.rsplit("|", 1)[0] in live}
    return state


def alerts_of(state: dict, keys: tuple[str, ...]) -> list[Alert]:
    out = []
    for key in keys:
        entry = state["alerts"].get(key)
        if entry:
            out.append(Alert.model_validate({**entry["alert"], "occurrence": entry["occurrence"]}))
    return out

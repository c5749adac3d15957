"""Load and validate the rules file (YAML) into a frozen `Rules`; errors name file, entry and field.

Rules answer time-dependent questions without holding runtime state: the surge parameters for a
subject now (major-event windows lower thresholds by themselves), the extra watch terms, the routes
now (event windows add channels and escalation), and whether quiet hours mute an alert now.
Reads no settings; the path comes from Settings.rules_file (None = alerting/default_rules.yml).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from alerting.errors import RulesError
from alerting.routing import SEVERITY_RANK, Route, Router, Timing
from alerting.rules_schema import SHANGHAI, STRUCTURAL, MajorEventSpec, RouteSpec, RulesSpec
from streams.surge import SurgeParams

DEFAULT_RULES = Path(__file__).with_name("default_rules.yml")


def _entry(raw, loc: tuple) -> str:
    """routes[2] ('critical').channels for a pydantic location."""
    out, node = "", raw
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and node.get("name"):
                out += f" ({node['name']!r})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def _fail(path: Path, where: str, message: str) -> RulesError:
    return RulesError(f"{path}: {where}: {message}")


def _route(spec: RouteSpec) -> Route:
    timing = Timing(group_wait_s=spec.group_wait, group_interval_s=spec.group_interval,
                    repeat_interval_s=spec.repeat_interval, resolve_timeout_s=spec.resolve_timeout,
                    send_resolved=spec.send_resolved, escalate_after_s=spec.escalate_after,
                    group_by=spec.group_by)
    return Route(name=spec.name, channels=spec.channels, fallback=spec.fallback, timing=timing,
                 subjects=spec.match.subjects, rules=spec.match.rules, min_severity=spec.match.min_severity)


@dataclass(frozen=True)
class Rules:
    path: Path
    spec: RulesSpec
    surge: SurgeParams                      # the everyday parameters

    def active_events(self, now: datetime) -> tuple[MajorEventSpec, ...]:
        return tuple(e for e in self.spec.major_events if e.start <= now < e.end)

    def params_for(self, subject: str, now: datetime) -> SurgeParams:
        """Surge parameters for one subject now: base, then the subject's, then active events'."""
        overrides: dict = {}
        for s in self.spec.subjects:
            if s.name == subject:
                overrides |= s.surge
        for event in self.active_events(now):
            overrides |= event.surge
        return replace(self.surge, **overrides) if overrides else self.surge

    def watch_terms(self, now: datetime) -> dict[str, tuple[str, ...]]:
        """Subject -> extra watch terms from the rules file, including active major events'."""
        terms = {s.name: s.watch for s in self.spec.subjects if s.watch}
        for event in self.active_events(now):
            if event.watch:
                terms[f"重大活动:{event.name}"] = event.watch
        return terms

    def router(self, now: datetime) -> Router:
        events = self.active_events(now)
        extra = tuple(c for e in events for c in e.extra_channels)
        escalate = min((e.escalate_after for e in events if e.escalate_after is not None), default=None)

        def effective(spec: RouteSpec) -> Route:
            route = _route(spec)
            if extra:
                route = replace(route, channels=tuple(dict.fromkeys(route.channels + extra)))
            if escalate is not None:
                current = route.timing.escalate_after_s
                route = replace(route, timing=replace(route.timing, escalate_after_s=min(
                    escalate, current if current is not None else escalate)))
            return route

        return Router([effective(r) for r in self.spec.routes], effective(self.spec.default_route))

    def quiet(self, alert: dict, now: datetime) -> bool:
        """True when quiet hours (Asia/Shanghai) hold back an alert of this severity now."""
        clock = now.astimezone(SHANGHAI).time()
        for q in self.spec.quiet_hours:
            inside = q.start <= clock < q.end if q.start <= q.end else (clock >= q.start or clock < q.end)
            if inside and SEVERITY_RANK[alert["severity"]] < SEVERITY_RANK[q.min_severity]:
                return True
        return False


def _check(path: Path, raw: dict, spec: RulesSpec) -> SurgeParams:
    names = [c.name for c in spec.channels]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise _fail(path, f"channels[{i}] ({name!r}).name", "duplicate channel name")
    for i, route in enumerate((*spec.routes, spec.default_route)):
        where = f"routes[{i}] ({route.name!r})" if i < len(spec.routes) else "default_route"
        for field in ("channels", "fallback"):
            for ch in getattr(route, field):
                if ch not in names:
                    raise _fail(path, f"{where}.{field}", f"unknown channel {ch!r} (known: {', '.join(names)})")
    for i, event in enumerate(spec.major_events):
        clash = _overlapping_namesake(spec.major_events, i)
        if clash is not None:
            raise _fail(path, f"major_events[{i}] ({event.name!r}).name",
                        f"duplicate event name {event.name!r}: its window overlaps major_events[{clash}]'s, and "
                        f"both would be subject '重大活动:{event.name}' at once (put the terms in one entry, "
                        "or give one window another name)")
        for ch in event.extra_channels:
            if ch not in names:
                raise _fail(path, f"major_events[{i}] ({event.name!r}).extra_channels", f"unknown channel {ch!r}")
    for ch in spec.reports.channels:
        if ch not in names:
            raise _fail(path, "reports.channels", f"unknown channel {ch!r} (known: {', '.join(names)})")
    try:
        base = SurgeParams.from_mapping(spec.surge)
    except (TypeError, ValueError) as exc:
        raise _fail(path, "surge", str(exc)) from exc
    for kind, entries in (("subjects", spec.subjects), ("major_events", spec.major_events)):
        for i, entry in enumerate(entries):
            where = f"{kind}[{i}] ({entry.name!r}).surge"
            fixed = STRUCTURAL & set(entry.surge)
            if fixed:
                raise _fail(path, where, f"{', '.join(sorted(fixed))} cannot be overridden (bucket layout)")
            try:
                SurgeParams.from_mapping({**spec.surge, **entry.surge})
            except (TypeError, ValueError) as exc:
                raise _fail(path, where, str(exc)) from exc
    return base


def _overlapping_namesake(events: tuple[MajorEventSpec, ...], i: int) -> int | None:
    """Index of an earlier event of the same name whose window overlaps event i's, else None.

    Windows of one name that do not overlap are a recurring event (两会 every March) and load;
    overlapping ones are refused: watch_terms keys an event's terms by its name, so one window's
    terms would silently replace the other's while both are open."""
    event = events[i]
    return next((j for j, other in enumerate(events[:i])
                 if other.name == event.name and other.start < event.end and event.start < other.end), None)


def load_rules(path: Path | str | None = None) -> Rules:
    path = Path(path) if path else DEFAULT_RULES
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise RulesError(f"{path}: {where}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(raw, dict):
        raise RulesError(f"{path}: (top level): expected a mapping")
    try:
        spec = RulesSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise _fail(path, _entry(raw, err["loc"]), err["msg"] + more) from None
    return Rules(path=path, spec=spec, surge=_check(path, raw, spec))

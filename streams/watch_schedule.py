"""The watch list in force at a given time: the loaded watch list plus the rules file's `watch:` terms.

The rules file gives subjects extra watch terms, and major-event windows (重大活动) add terms only
while they are active (`alerting.rules.Rules.watch_terms(now)`). `WatchSchedule.at(now)` returns
the `Resources` to analyse with at `now`: the same object while the active term set is unchanged,
and a copy with a rebuilt Aho-Corasick matcher when a window opens or closes, so the worker picks
up an event's terms at its start and drops them at its end without a restart. Pure: the clock and
the term source are passed in. Reads no settings.

Only matching changes: the segmenter's dictionary (which keeps the shipped watch terms whole for
keywords and SimHash) is not rebuilt, so fingerprints stay comparable across a window's edges.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Callable, Mapping, Sequence

from streams.analysis import Resources
from streams.watchlist import Subject, WatchlistMatcher, with_extra_terms

TermSource = Callable[[datetime], Mapping[str, Sequence[str]]]   # e.g. Rules.watch_terms


class WatchSchedule:
    def __init__(self, resources: Resources, terms_at: TermSource):
        self._base: tuple[Subject, ...] = resources.watchlist.subjects
        self._terms_at = terms_at
        self._resources = resources
        self._key: tuple = ()     # the extra terms the current matcher was built with

    def at(self, now: datetime) -> Resources:
        """Resources whose watch list holds the base subjects plus the extra terms active at `now`."""
        extra = self._terms_at(now)
        key = tuple(sorted((name, tuple(terms)) for name, terms in extra.items() if terms))
        if key != self._key:
            matcher = WatchlistMatcher(with_extra_terms(self._base, dict(key)))
            self._resources = replace(self._resources, watchlist=matcher)
            self._key = key
        return self._resources

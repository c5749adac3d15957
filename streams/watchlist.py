"""Watch lists: named subjects of terms, loaded from YAML, matched with one Aho-Corasick pass.

File format (see streams/resources/watchlist.yml)::

    subjects:
      安全事故:
        terms: [爆炸, 坍塌]        # any one hit matches; "+词" / "!词" here mean require / exclude
        require: [工厂]             # optional: all must be present too
        exclude: [演习, 演练]       # optional: cancels the subject's hits in its own sentence

An excluded term cancels only the subject's term hits in the same sentence (split on 。！？!?；;
and line breaks): "消防演练中模拟起火" is a drill, but "工厂起火。当地已组织演练" still reports the fire.
analyze() matches the cleaned text, whose line breaks are already spaces: there a title without
end punctuation and the first sentence of its text are one sentence.
Terms are normalised like the text (simplified, half-width, lower case) before matching.
Given the text's tokens, an occurrence that runs across a token boundary with neither of its ends
on one is not a hit: 早起|火车站 holds no 起火, 网上|访问量 no 上访, while 食品|安全检查 (one end on a
boundary) holds 食品安全 and 收受贿赂 (inside one token) holds 受贿. This applies to `require` and
`exclude` terms too.
Errors name the file, the subject and the field. Reads no settings.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

import ahocorasick
import yaml

from streams.textnorm import normalise

FIELDS = ("terms", "require", "exclude")
# Sentence ends for the scope of an excluded term. Not "." (decimals, URLs) nor "，" (one clause
# often names the drill and the next the fire it simulates).
_SENTENCE_END = re.compile(r"[。！？!?；;\n｡]")


class WatchlistError(ValueError):
    """A watch-list file that cannot be used; the message names file, subject and field."""


@dataclass(frozen=True)
class Subject:
    name: str
    terms: tuple[str, ...]
    require: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


def _norm_term(term: str) -> str:
    return normalise(term).lower()


def _term_list(where: str, field: str, value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise WatchlistError(f"{where}, field '{field}': must be a list of strings")
    terms = [_norm_term(t) for t in value]
    if any(not t for t in terms):
        raise WatchlistError(f"{where}, field '{field}': contains an empty term")
    return terms


def parse_subjects(data, source: str = "<watchlist>") -> tuple[Subject, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("subjects"), dict) or not data["subjects"]:
        raise WatchlistError(f"{source}: top-level field 'subjects' must be a non-empty mapping")
    subjects = []
    for name, body in data["subjects"].items():
        where = f"{source}: subject {name!r}"
        if not isinstance(name, str) or not name.strip():
            raise WatchlistError(f"{where}: the subject name must be a non-empty string")
        if not isinstance(body, dict):
            raise WatchlistError(f"{where}: must be a mapping with field 'terms'")
        unknown = sorted(set(body) - set(FIELDS))
        if unknown:
            raise WatchlistError(f"{where}, field '{unknown[0]}': unknown field (allowed: {', '.join(FIELDS)})")
        terms, require, exclude = [], _term_list(where, "require", body.get("require")), \
            _term_list(where, "exclude", body.get("exclude"))
        for term in _term_list(where, "terms", body.get("terms")):
            if term.startswith("+") and len(term) > 1:
                require.append(term[1:])
            elif term.startswith("!") and len(term) > 1:
                exclude.append(term[1:])
            else:
                terms.append(term)
        if not terms:
            raise WatchlistError(f"{where}, field 'terms': needs at least one plain term")
        subjects.append(Subject(name.strip(), tuple(dict.fromkeys(terms)), tuple(require), tuple(exclude)))
    return tuple(subjects)


def load_subjects(path: str | Path) -> tuple[Subject, ...]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WatchlistError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise WatchlistError(f"{path}: not valid YAML: {exc}") from exc
    return parse_subjects(data, str(path))


def with_extra_terms(subjects: tuple[Subject, ...], extra: Mapping[str, Sequence[str]]) -> tuple[Subject, ...]:
    """`subjects` with more terms: added to the subject of that name, else a new subject.

    For the rules file's `watch:` terms (subjects and major-event windows); they are normalised
    like every watch term, and empty ones are ignored.
    """
    added = {name: [t for t in map(_norm_term, terms) if t] for name, terms in extra.items()}
    out = [replace(s, terms=tuple(dict.fromkeys((*s.terms, *added.pop(s.name, ()))))) for s in subjects]
    out += [Subject(name, tuple(dict.fromkeys(terms))) for name, terms in added.items() if terms]
    return tuple(out)


class WatchlistMatcher:
    """One automaton over every term of every subject; match() is one pass over the text."""

    def __init__(self, subjects: tuple[Subject, ...]):
        self.subjects = subjects
        self._automaton = ahocorasick.Automaton()
        for subject in subjects:
            for term in (*subject.terms, *subject.require, *subject.exclude):
                self._automaton.add_word(term, term)
        self._automaton.make_automaton()
        self._plain = frozenset(t for s in subjects for t in s.terms)

    def terms(self) -> set[str]:
        return set(self._plain)

    def match(self, text: str, tokens: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
        """(matched subject names, their hit terms), both in watch-list order. `tokens`, if given,
        are the segmentation of `text` (joined, they are `text`; ValueError if they do not cover it):
        an occurrence across a token boundary with neither end on one is dropped (see the module doc)."""
        lowered = text.lower()
        starts: dict[str, list[int]] = {}
        for end, term in self._automaton.iter(lowered):
            starts.setdefault(term, []).append(end - len(term) + 1)
        if not starts:
            return [], []
        if tokens is not None and not self._plain.isdisjoint(starts):   # only if a subject may match
            starts = _on_boundaries(starts, tokens, len(lowered))
        ends = None   # sentence end offsets, computed only when some excluded term occurs
        subjects, terms = [], {}
        for subject in self.subjects:
            found = [t for t in subject.terms if t in starts]
            if not found or any(t not in starts for t in subject.require):
                continue
            excluded = [t for t in subject.exclude if t in starts]
            if excluded:
                ends = ends if ends is not None else [m.start() for m in _SENTENCE_END.finditer(lowered)]
                found = _outside_sentences(found, excluded, starts, ends)
                if not found:
                    continue
            subjects.append(subject.name)
            terms.update(dict.fromkeys(found))
        return subjects, list(terms)


def _on_boundaries(starts: dict[str, list[int]], tokens: Sequence[str], length: int) -> dict[str, list[int]]:
    """`starts` without the occurrences that cross a token boundary with neither end on one.
    `length`: the matched (lowered) text's, which the tokens must cover exactly."""
    # offsets in the lowered text: lower() may lengthen a character (U+0130), so token by token
    cuts = list(accumulate((len(t.lower()) for t in tokens), initial=0))
    if cuts[-1] != length:
        raise ValueError(f"the tokens cover {cuts[-1]} characters of a {length}-character text: "
                         "pass the segmentation that joins to the text")
    bounds = set(cuts)
    kept: dict[str, list[int]] = {}
    for term, ats in starts.items():
        good = [at for at in ats if at in bounds or at + len(term) in bounds
                or bisect_right(cuts, at) == bisect_left(cuts, at + len(term))]   # no cut inside
        if good:
            kept[term] = good
    return kept


def _outside_sentences(found: list[str], excluded: list[str], starts: dict[str, list[int]],
                       ends: list[int]) -> list[str]:
    """The terms of `found` with an occurrence in a sentence where no `excluded` term occurs."""
    vetoed = {bisect_right(ends, at) for term in excluded for at in starts[term]}
    return [t for t in found if any(bisect_right(ends, at) not in vetoed for at in starts[t])]

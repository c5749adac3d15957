"""What analyze() needs to know about each distinct jieba token, computed once and memoised.

A stream sees the same words all day, so the per-token work (lower-casing, the IDF look-up,
keyword candidacy, stop words, the sentiment weights, the entity facts) is done on a token's
first sighting only.
The memo is bounded and reset when full. Reads no settings.
"""
from __future__ import annotations

import re
from typing import Callable, Mapping, NamedTuple

from streams.keywords import IdfTable, is_candidate
from streams.segment import MAX_MEMO_CHARS
from streams.sentiment import AFTER_CONTRAST, CONTRAST, CUE_MARKS, DEGREE, NEGATED, NEGATORS

_WORD = re.compile(r"\w")


class Facts(NamedTuple):
    word: str | None            # lower-cased token; None for whitespace, punctuation, emoji
    idf: float
    keyword: bool               # may be a keyword
    stop: bool                  # left out of the SimHash
    sentiment: float | None     # the sentiment model's weight; None if the model does not know it
    negated: float | None       # its weight inside a negation scope (streams.sentiment.features)
    negator: bool               # opens a negation scope
    entity: tuple               # streams.entities.EntityTagger.compute(token)
    cue: str                    # "›" a contrast word, "↑" / "↓" a degree adverb, "" neither
    marked: dict | None         # the model's weights of this word's cue features ("›¬好": w), if any


class WordFacts:
    MAX_MEMO = 300_000

    def __init__(self, idf: IdfTable, tags: Mapping[str, str], stopwords: frozenset[str],
                 sentiment_weights: Mapping[str, float], entity_facts: Callable[[str], tuple]):
        self.idf, self.tags, self.stopwords, self.sentiment_weights = idf, tags, stopwords, sentiment_weights
        self.entity_facts = entity_facts
        # one memo for everything: one dictionary look-up per token is what keeps analyze() cheap
        self.memo: dict[str, Facts] = {}
        # word -> its cue features' weights, indexed once (a word's first sighting then costs one
        # look-up instead of one per mark and negation): "›¬好" is filed under "¬好" and "好"
        self._marks: dict[str, dict[str, float]] = {}
        for key, weight in sentiment_weights.items():
            if key[:1] in CUE_MARKS:
                rest = key[1:]
                self._marks.setdefault(rest, {})[key] = weight
                if rest[:1] == NEGATED:
                    self._marks.setdefault(rest[1:], {})[key] = weight

    def compute(self, token: str) -> Facts:
        if _WORD.search(token):
            word = token.lower()
            stop = word in self.stopwords
            facts = Facts(word, self.idf.get(word), not stop and is_candidate(word, self.tags.get(word), self.stopwords),
                          stop, self.sentiment_weights.get(word), self.sentiment_weights.get(NEGATED + word),
                          word in NEGATORS, self.entity_facts(token),
                          AFTER_CONTRAST if word in CONTRAST else DEGREE.get(word, ""), self._marked(word))
        else:
            facts = Facts(None, 0.0, False, True, None, None, False, self.entity_facts(token), "", None)
        if len(token) <= MAX_MEMO_CHARS:
            if len(self.memo) >= self.MAX_MEMO:
                self.memo.clear()
            self.memo[token] = facts
        return facts

    def _marked(self, word: str) -> dict | None:
        """The model's weights of mark + word and mark + ¬ + word, every cue mark (shared, read-only)."""
        return self._marks.get(word)

    def clear(self) -> None:
        self.memo.clear()

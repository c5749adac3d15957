"""Keywords by TF-IDF over the post's tokens, with an IDF table shipped in streams/resources.

A token is a keyword candidate if it has two or more characters, is not a number, is not in
the stop list and its dictionary tag is not a function-word tag (pronoun, preposition, adverb,
numeral, particle...). Reads no settings.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

TOP_K = 8
# jieba / ICTCLAS tags of words that never make a useful keyword
FUNCTION_TAGS = frozenset({"r", "rr", "rz", "p", "c", "u", "uj", "ul", "ud", "ug", "uv", "uz", "d", "m", "mq",
                           "q", "y", "e", "o", "x", "f", "zg", "ad", "df", "dg", "rg", "yg", "tg", "k", "h"})
_NUMERIC = re.compile(r"^[\d.,%:/\-+]+$|^\d+[a-z]{0,3}$")


class IdfTable:
    def __init__(self, idf: dict[str, float], default: float):
        self.idf = idf
        self.default = default

    @classmethod
    def load(cls, path: str | Path) -> "IdfTable":
        idf: dict[str, float] = {}
        with open(path, encoding="utf-8") as src:
            for number, line in enumerate(src, start=1):
                if line.startswith("#") or not line.strip():
                    continue
                word, _, value = line.rstrip("\n").rpartition("\t")
                try:
                    idf[word] = float(value)
                except ValueError as exc:
                    raise ValueError(f"{path}, line {number}: expected word<TAB>idf") from exc
        if not idf:
            raise ValueError(f"{path}: empty IDF table")
        values = sorted(idf.values())
        # an unseen word is rarer than any seen one: it gets the table's maximum
        return cls(idf, values[-1])

    def get(self, word: str) -> float:
        return self.idf.get(word, self.default)


def build_idf(documents: Iterable[Sequence[str]], min_df: int = 3) -> tuple[dict[str, float], int]:
    """Smoothed IDF, log((N + 1) / (df + 1)) + 1, for words in at least `min_df` documents."""
    df: Counter = Counter()
    n = 0
    for tokens in documents:
        n += 1
        df.update(set(tokens))
    return {w: math.log((n + 1) / (c + 1)) + 1.0 for w, c in df.items() if c >= min_df}, n


def is_candidate(token: str, tag: str | None, stopwords: frozenset[str]) -> bool:
    return (len(token) >= 2 and tag not in FUNCTION_TAGS and token not in stopwords
            and not _NUMERIC.match(token))


def top_keywords(scores: dict[str, float], top_k: int = TOP_K) -> list[str]:
    """The top_k words by summed tf * idf, ties broken alphabetically so results are stable."""
    return [w for w, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:top_k]]


def tfidf_keywords(tokens: Sequence[str], idf: IdfTable, tags: Mapping[str, str],
                   stopwords: frozenset[str], top_k: int = TOP_K) -> list[str]:
    """Keywords of a token list (analyze() computes the same scores in its one pass over tokens)."""
    scores: dict[str, float] = {}
    for token in tokens:
        if is_candidate(token, tags.get(token), stopwords):
            scores[token] = scores.get(token, 0.0) + idf.get(token)
    return top_keywords(scores, top_k)

"""Text analysis in one jieba segmentation pass: tokens, keywords, entities, watch-list hits,
sentiment, SimHash and an exact-content hash. Pure: no Kafka, Faust, Elasticsearch or network.

`Resources.load()` reads the dictionaries, IDF table, sentiment model and watch list once per
process (they live in streams/resources unless paths are given); `analyze()` is then a pure
function of (title, text). Reads no settings: callers pass paths from Settings.
"""
from __future__ import annotations

import logging
import re
import tempfile
from collections import ChainMap, Counter
from typing import Iterable
from dataclasses import dataclass
from pathlib import Path

import jieba

from streams import entities as ent
from streams.keywords import IdfTable, tfidf_keywords
from streams.sentiment import SentimentModel, label_of
from streams.simhash import hamming, simhash
from streams.textnorm import (EMOTICON, MAX_ANALYSIS_CHARS, clean_for_analysis, content_hash,
                             fingerprint_skips, normalise)
from streams.watchlist import WatchlistMatcher, load_subjects

__all__ = ["Analysis", "Resources", "analyze", "normalise", "hamming", "Segmenter", "MAX_ANALYSIS_CHARS"]

RESOURCES = Path(__file__).with_name("resources")
DEFAULT_WATCHLIST = RESOURCES / "watchlist.yml"
USER_DICTS = ("places.txt", "units.txt")
_WORD = re.compile(r"\w")
MIN_FINGERPRINT_TOKENS = 5     # distinct content tokens a post needs for a SimHash (else 0)

jieba.setLogLevel(logging.WARNING)


@dataclass(frozen=True)
class Analysis:
    tokens: list[str]
    keywords: list[str]
    entities: dict[str, list[str]]     # "PER", "LOC", "ORG"
    watch_terms: list[str]
    subjects: list[str]
    sentiment: float                   # probability of positive, 0..1
    sentiment_label: str               # "positive" | "neutral" | "negative"
    simhash: int                       # 64-bit
    content_hash: str                  # hex digest of the normalised text


@dataclass(frozen=True, eq=False)
class Segmenter:
    """jieba with our user dictionaries, and the word->tag table that types its tokens."""

    tokenizer: jieba.Tokenizer
    tags: ChainMap                     # word -> POS tag: ours, then newswire counts, then jieba's

    @classmethod
    def load(cls, cache_dir: str | Path | None = None, extra_words: Iterable[str] = ()) -> "Segmenter":
        import jieba.posseg   # only for the word->tag table of jieba's dictionary; never to segment

        cache = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "shaobing-jieba"
        cache.mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(cache)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(cache)
        for name in USER_DICTS:
            for word, tag in read_user_dict(RESOURCES / name):
                tokenizer.add_word(word, tag=tag)
        for word in extra_words:
            if _WORD.search(word) and " " not in word:
                tokenizer.add_word(word)   # keep watch terms whole for keywords and SimHash
        return cls(tokenizer, ChainMap(tokenizer.user_word_tag_tab, ent.newswire_tags(),
                                       jieba.posseg.dt.word_tag_tab))

    def segment(self, title: str, text: str, keep_emoticons: bool = False) -> tuple[str, list[str]]:
        """The one segmentation: (cleaned text, raw jieba tokens covering it exactly).

        Emoticon codes such as [哈哈] are removed before segmenting, so models learn words; with
        keep_emoticons they are appended as whole tokens instead (for measuring their effect).
        """
        cleaned = clean_for_analysis(title, text)
        emoticons = EMOTICON.findall(cleaned) if keep_emoticons else []
        cleaned = normalise(EMOTICON.sub(" ", cleaned))
        raw = self.tokenizer.lcut(cleaned, HMM=True) if cleaned else []
        return cleaned, raw + emoticons

    def tokens(self, title: str, text: str, keep_emoticons: bool = False) -> list[str]:
        """Word tokens (lower-cased, no whitespace or punctuation) of one post."""
        return words(self.segment(title, text, keep_emoticons)[1])


@dataclass(frozen=True, eq=False)
class Resources:
    segmenter: Segmenter
    idf: IdfTable
    stopwords: frozenset[str]
    sentiment: SentimentModel
    watchlist: WatchlistMatcher

    @classmethod
    def load(cls, watchlist_path: str | Path | None = None, *, cache_dir: str | Path | None = None,
             sentiment_path: str | Path | None = None) -> "Resources":
        watchlist = WatchlistMatcher(load_subjects(watchlist_path or DEFAULT_WATCHLIST))
        return cls(
            segmenter=Segmenter.load(cache_dir, sorted(watchlist.terms())),
            idf=IdfTable.load(RESOURCES / "idf.tsv"),
            stopwords=frozenset((RESOURCES / "stopwords.txt").read_text(encoding="utf-8").split()),
            sentiment=SentimentModel.load(sentiment_path or RESOURCES / "sentiment.tsv.gz"),
            watchlist=watchlist,
        )


def words(raw: list[str]) -> list[str]:
    return [t.lower() for t in raw if _WORD.search(t)]


def read_user_dict(path: Path) -> list[tuple[str, str | None]]:
    """`word [tag]` lines (jieba user-dictionary style, without frequencies); # starts a comment."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) > 2:
            raise ValueError(f"{path}, line {number}: expected `word [tag]`")
        entries.append((fields[0], fields[1] if len(fields) == 2 else None))
    return entries


def fingerprint_tokens(cleaned: str, raw: list[str]) -> list[str]:
    """The word tokens that identify a post's content for SimHash (repost decorations left out).

    Fewer than MIN_FINGERPRINT_TOKENS distinct ones (a chain tail of "哈哈", a one-word post)
    give no fingerprint at all: such posts would all look alike.
    """
    start, skips = fingerprint_skips(cleaned)
    for begin_at in dict.fromkeys((start, 0)):
        kept, pos = [], 0
        for token in raw:
            begin, pos = pos, pos + len(token)
            if begin >= begin_at and not any(a <= begin < b for a, b in skips) and _WORD.search(token):
                kept.append(token.lower())
        if len(set(kept)) >= MIN_FINGERPRINT_TOKENS:
            return kept
    return []


def analyze(title: str, text: str, resources: Resources) -> Analysis:
    """Everything shaobing derives from one post's text; never raises on any str input."""
    cleaned, raw = resources.segmenter.segment(title, text)
    tag_of = resources.segmenter.tags.get
    tokens = words(raw)
    spans = ent.entity_spans(raw, tag_of)
    subjects, terms = resources.watchlist.match(cleaned)
    score = resources.sentiment.score(tokens)
    idf = resources.idf
    counts = Counter(fingerprint_tokens(cleaned, raw))
    weights = {t: round(n * idf.get(t)) for t, n in counts.items() if t not in resources.stopwords}
    return Analysis(
        tokens=tokens,
        keywords=tfidf_keywords(tokens, idf, tag_of, resources.stopwords),
        entities=ent.group_entities("".join(raw), spans),
        watch_terms=terms,
        subjects=subjects,
        sentiment=score,
        sentiment_label=label_of(score),
        simhash=simhash(weights),
        content_hash=content_hash(text if normalise(text) else title),
    )

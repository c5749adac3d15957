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
from typing import Iterable
from dataclasses import dataclass
from pathlib import Path

import jieba

from streams import entities as ent
from streams.entity_crf import ENTITY_CRF, EntityCRF
from streams.keywords import IdfTable, top_keywords
from streams import dedup
from streams.sentiment import (AFTER_CONTRAST, BIGRAM, DEGREE_SCOPE, NEGATED, SentimentModel, label_of,
                               weibo_style)
from streams.simhash import clear as simhash_clear
from streams.segment import FastCut
from streams.simhash import hamming, simhash
from streams.textnorm import (EMOTICON, MAX_ANALYSIS_CHARS, post_digest, prepare,
                             fingerprint_skips, normalise)
from streams.watchlist import WatchlistMatcher, load_subjects
from streams.wordfacts import WordFacts

__all__ = ["Analysis", "Resources", "analyze", "normalise", "hamming", "Segmenter", "MAX_ANALYSIS_CHARS"]

RESOURCES = Path(__file__).with_name("resources")
DEFAULT_WATCHLIST = RESOURCES / "watchlist.yml"
USER_DICTS = ("places.txt", "units.txt")
# learned from MSRA NER train (bench/build_entity_dict.py): entity names kept whole, and tag
# overrides (PER / LOC / ORG, or O for "not an entity") for words the rules type wrongly
ENTITY_DICT = RESOURCES / "entities_msra.txt"
# ... and the entities inside single tokens there (中美 -> 中 + 美), same provenance
ENTITY_PARTS = RESOURCES / "entity_parts_msra.txt"
_WORD = re.compile(r"\w")
_SPACE = re.compile(r"\s+")
MIN_FINGERPRINT_TOKENS = 3     # distinct non-stop-word tokens a post needs for a SimHash (else 0)

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
    sketch: str                        # character-trigram bottom-k sketch, hex (streams.dedup)
    content_hash: str                  # textnorm.post_content_hash of title and text


@dataclass(frozen=True, eq=False)
class Segmenter:
    """jieba with our user dictionaries, and the word->tag table that types its tokens."""

    tokenizer: jieba.Tokenizer
    tags: dict[str, str]               # word -> POS tag: ours, else newswire counts, else jieba's
    cutter: FastCut                    # tokenizer.lcut(text, HMM=True), token for token, cheaper

    @classmethod
    def load(cls, cache_dir: str | Path | None = None, extra_words: Iterable[str] = (),
             entity_dict: Path | None = ENTITY_DICT) -> "Segmenter":
        import jieba.posseg   # only for the word->tag table of jieba's dictionary; never to segment

        cache = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "shaobing-jieba"
        cache.mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(cache)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(cache)
        for name in USER_DICTS:
            for word, tag in read_user_dict(RESOURCES / name):
                tokenizer.add_word(word, tag=tag)
        for word, tag in read_user_dict(entity_dict) if entity_dict else ():
            if tokenizer.FREQ.get(word):
                tokenizer.user_word_tag_tab[word] = tag   # a dictionary word already: only its type
            else:
                tokenizer.add_word(word, tag=tag)
        for word in extra_words:
            if _WORD.search(word) and " " not in word:
                tokenizer.add_word(word)   # keep watch terms whole for keywords and SimHash
        # one merged dict: a ChainMap look-up costs several times a dict's, per token
        tags = {**jieba.posseg.dt.word_tag_tab, **ent.newswire_tags(), **tokenizer.user_word_tag_tab}
        return cls(tokenizer, tags, FastCut(tokenizer))

    def segment(self, title: str, text: str, keep_emoticons: bool = False) -> tuple[str, list[str]]:
        """The one segmentation: (cleaned text, raw jieba tokens covering it exactly).

        Emoticon codes such as [哈哈] are removed before segmenting, so models learn words; with
        keep_emoticons they are appended as whole tokens instead (for measuring their effect).
        """
        cleaned, raw, _ = self.segment_post(title, text, keep_emoticons)
        return cleaned, raw

    def segment_post(self, title: str, text: str, keep_emoticons: bool = False,
                     prepared: tuple[str, str] | None = None) -> tuple[str, list[str], str]:
        """segment() plus the normalised full text (for the content hash), normalised only once
        (`prepared`: textnorm.prepare(title, text), when the caller has it)."""
        cleaned, body = prepared or prepare(title, text)
        emoticons = EMOTICON.findall(cleaned) if keep_emoticons else []
        if "[" in cleaned:
            cleaned = _SPACE.sub(" ", EMOTICON.sub(" ", cleaned)).strip()
        raw = self.cutter.cut(cleaned) if cleaned else []
        return cleaned, raw + emoticons, body

    def tokens(self, title: str, text: str, keep_emoticons: bool = False) -> list[str]:
        """Word tokens (lower-cased, no whitespace or punctuation) of one post."""
        return words(self.segment(title, text, keep_emoticons)[1])


def default_segmenter(cache_dir: str | Path | None = None, entity_dict: Path | None = ENTITY_DICT,
                      watchlist_path: str | Path | None = None) -> Segmenter:
    """The segmenter analyze() uses with this watch list (default: the packaged one): for training
    and building the shipped resources (sentiment model, IDF table), and for evaluating, so their
    tokens match the stream's (a watch term is kept whole as one jieba word)."""
    terms = WatchlistMatcher(load_subjects(watchlist_path or DEFAULT_WATCHLIST)).terms()
    return Segmenter.load(cache_dir, sorted(terms), entity_dict)


@dataclass(frozen=True, eq=False)
class Resources:
    segmenter: Segmenter
    entities: ent.EntityTagger
    entity_crf: EntityCRF   # the second opinion over the rules' spans (streams.entity_crf)
    words: WordFacts
    idf: IdfTable
    stopwords: frozenset[str]
    sentiment: SentimentModel
    watchlist: WatchlistMatcher

    @classmethod
    def load(cls, watchlist_path: str | Path | None = None, *, cache_dir: str | Path | None = None,
             sentiment_path: str | Path | None = None) -> "Resources":
        watchlist = WatchlistMatcher(load_subjects(watchlist_path or DEFAULT_WATCHLIST))
        segmenter = Segmenter.load(cache_dir, sorted(watchlist.terms()))
        entities = ent.EntityTagger(segmenter.tags, ent.read_parts(ENTITY_PARTS), ent.given_name_chars(),
                                    segmenter.tokenizer.FREQ)
        entity_crf = EntityCRF.load(ENTITY_CRF)
        idf = IdfTable.load(RESOURCES / "idf.tsv")
        stopwords = frozenset((RESOURCES / "stopwords.txt").read_text(encoding="utf-8").split())
        sentiment = SentimentModel.load(sentiment_path or RESOURCES / "sentiment.tsv.gz")
        return cls(
            segmenter=segmenter,
            entities=entities,
            entity_crf=entity_crf,
            words=WordFacts(idf, segmenter.tags, stopwords, sentiment.weights, entities.compute),
            idf=idf,
            stopwords=stopwords,
            sentiment=sentiment,
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


def forget_memos(resources: Resources) -> None:
    """Drop every memoised per-token fact (for benchmarks that must not reuse a warm cache)."""
    resources.words.clear()
    resources.segmenter.cutter.clear()
    resources.entities.clear()
    simhash_clear()


def _fingerprint(cleaned: str, raw: list[str], resources: Resources,
                 words: list[str], distinct: int) -> tuple[list[str], str]:
    """(the content words, without stop words, that identify a post, in text order; the post's
    text without decorations, for the character sketch). Nothing if too few words.

    `words` has them for the whole post (`distinct` of them distinct); they are recomputed only for a post with a repost
    chain or decorations, which are left out. The text keeps the whole chain: a repost that
    cuts or comments inside a chain's last link still shares most of its characters. Fewer than MIN_FINGERPRINT_TOKENS distinct content
    words (a chain tail of "哈哈", a one-word post) give no fingerprint at all: such posts would
    all look alike.
    """
    start, skips = fingerprint_skips(cleaned)
    if start or skips:
        skipped = bytearray(len(cleaned) + 1)
        for a, b in skips:
            skipped[a:b] = b"\x01" * (b - a)
        facts = resources.words
        for begin_at in dict.fromkeys((start, 0)):
            kept: list[str] = []
            pos = 0
            for token in raw:
                begin, pos = pos, pos + len(token)
                if begin >= begin_at and not skipped[begin]:
                    f = facts.memo.get(token) or facts.compute(token)
                    if f.word is not None and not f.stop:
                        kept.append(f.word)
            if len(set(kept)) >= MIN_FINGERPRINT_TOKENS:
                if not skips:
                    return kept, cleaned
                kept_text, at = [], 0
                for a, b in skips:
                    kept_text.append(cleaned[at:a])
                    at = b
                kept_text.append(cleaned[at:])
                return kept, "".join(kept_text)
        return [], ""
    return (words, cleaned) if distinct >= MIN_FINGERPRINT_TOKENS else ([], "")


def _simhash_weights(words: list[str], resources: Resources) -> dict[str, float]:
    """tf * idf of the fingerprint words."""
    weights: dict[str, float] = {}
    idf = resources.idf.get
    for word in words:
        weights[word] = weights.get(word, 0.0) + idf(word)
    return weights


def analyze(title: str, text: str, resources: Resources, content_hash: str | None = None,
            prepared: tuple[str, str] | None = None) -> Analysis:
    """Everything shaobing derives from one post's text; never raises on any str input.

    `content_hash`: the post's textnorm.post_content_hash when the caller has it already (the
    worker computes it first, to skip exact re-crawls before analysing), so it is not hashed twice;
    `prepared`: textnorm.prepare(title, text), which that hash was computed from, so the text is
    not normalised twice either."""
    cleaned, raw, body = resources.segmenter.segment_post(title, text, prepared=prepared)
    memo, compute = resources.words.memo.get, resources.words.compute
    tokens: list[str] = []
    keyword_scores: dict[str, float] = {}
    content_weights: dict[str, float] = {}
    content_words: list[str] = []
    sentiment_weights: dict[str, float] = {}
    entity_facts: list[tuple] = []
    scope, negation_scope = 0, resources.sentiment.negation_scope   # as sentiment.features() does
    cues, bigrams, pair_weight = resources.sentiment.cues, resources.sentiment.bigrams, resources.sentiment.weights.get
    after_contrast, degree, degree_left, previous = False, "", 0, ""
    for token in raw:   # one loop over the one segmentation feeds every derivation
        word, idf, keyword, stop, polarity, negated, negator, entity, cue, marked = memo(token) or compute(token)
        entity_facts.append(entity)
        if word is None:
            scope = degree_left = 0
            previous = ""
            continue
        tokens.append(word)
        if bigrams:
            if previous:
                pair = previous + BIGRAM + word
                weight = pair_weight(pair)
                if weight is not None:
                    sentiment_weights[pair] = weight
            previous = word
        if keyword:
            keyword_scores[word] = keyword_scores.get(word, 0.0) + idf
        if not stop:
            content_weights[word] = content_weights.get(word, 0.0) + idf
            content_words.append(word)
        in_scope = False
        if negator:
            scope = negation_scope
            if polarity is not None:
                sentiment_weights[word] = polarity
        elif scope:
            scope -= 1
            in_scope = True
            if negated is not None:
                sentiment_weights[NEGATED + word] = negated
        elif polarity is not None:
            sentiment_weights[word] = polarity
        if cues and (cue or degree_left or after_contrast):
            feature = NEGATED + word if in_scope else word
            after_contrast = after_contrast or cue == AFTER_CONTRAST
            if marked and after_contrast and AFTER_CONTRAST + feature in marked:
                sentiment_weights[AFTER_CONTRAST + feature] = marked[AFTER_CONTRAST + feature]
            if cue and cue != AFTER_CONTRAST:
                degree, degree_left = cue, DEGREE_SCOPE
            elif degree_left:
                degree_left -= 1
                if marked and degree + feature in marked:
                    sentiment_weights[degree + feature] = marked[degree + feature]
    subjects, terms = resources.watchlist.match(cleaned, raw)   # raw joins to cleaned
    model = resources.sentiment   # styled weights (Weibo-style posts) only if the model has them
    score = model.score_features(sentiment_weights, bool(model.styled) and weibo_style(body))
    fingerprint, fingerprint_text = _fingerprint(cleaned, raw, resources, content_words, len(content_weights))
    weights = content_weights if fingerprint is content_words else _simhash_weights(fingerprint, resources)
    return Analysis(
        tokens=tokens,
        keywords=top_keywords(keyword_scores),
        entities=ent.group_entities(cleaned, resources.entity_crf.spans(   # raw joins to cleaned
            cleaned, raw, resources.entities.spans(raw, entity_facts))),
        watch_terms=terms,
        subjects=subjects,
        sentiment=score,
        sentiment_label=label_of(score),
        simhash=simhash({t: round(w) for t, w in weights.items()}) if fingerprint else 0,
        sketch=dedup.sketch_hex(dedup.sketch(fingerprint_text)),
        content_hash=content_hash or post_digest(normalise(title) if title else "", body),
    )

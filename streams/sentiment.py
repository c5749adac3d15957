"""Sentiment of a post from its jieba tokens: a linear model (naive Bayes or logistic regression).

Features (`features()`): each word, lower-cased; a word within NEGATION_SCOPE words after a
negator (不, 没有, 并非...) in the same clause becomes "¬word" instead. With cues (models trained
since session 5 of issue 13), a word also gives "›word" anywhere after a contrast word (但是, 不过,
可惜...: the part that carries a review's verdict) and "↑word" / "↓word" within DEGREE_SCOPE words
after a strong / weak degree adverb (非常, 太 / 有点, 稍微) in the same clause. With bigrams (session 7),
two adjacent words of one clause also give "word word" (the two lower-cased words joined by a space,
which no token holds). Both trainers produce the
same shape, a bias plus one weight per distinct feature, so scoring is a dictionary sum and a
sigmoid. The logistic trainer can tie lexicon words (`word<TAB>1|0`, bench/build_sentiment_lexicon.py) to
one shared weight per polarity, which is folded into each word's weight when training ends: words
the training text never showed still get their polarity. The model file is gzip'd UTF-8 text: a
JSON header line, then `feature<TAB>weight` lines. snownlp's bundled classifier stays available
as a baseline (`snownlp_score`). Reads no settings.

A model trained on domains (`train_logistic(domains=..., styled=NAME)`) can keep a second set of
weights for posts written in Weibo style (`weibo_style()`: an emoticon code, an @handle, a
#topic#): such a post scores with the shared weights plus domain NAME's own ("styled") weights,
any other text (reviews, forums, news) with the shared weights only (plus, with `plain=`, a share
of another domain's own weights, which the styled column then takes back). The styled weight of a
feature is a third column of its line (`feature<TAB>weight<TAB>styled`), and the styled bias is in
the header; every feature with a styled weight also has a line of its own, so the one table of
features is the same for both kinds of post (docs/quality.md, session 6 of issue 13).
"""
from __future__ import annotations

import gzip
import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from streams.sentiment_stability import FLOOR, MIN_POSTS, SINGLE, stability_rates
from streams.textnorm import EMOTICON, MAX_ANALYSIS_CHARS

FORMAT = "shaobing-sentiment/1"
NEGATED = "¬"
NEGATION_SCOPE = 3      # words after a negator that it flips (a clause break ends it sooner)
NEGATORS = frozenset({"不", "没", "没有", "无", "非", "未", "别", "勿", "莫", "甭", "不是", "不要", "不会", "不能",
                      "不可", "不太", "不够", "不怎么", "不大", "不算", "并不", "并非", "从不", "从来不", "绝不",
                      "毫不", "决不", "无法", "没法", "未必", "不必", "不用", "毫无", "绝非", "尚未", "还没", "还没有",
                      "没什么", "没啥", "没多少", "没多大", "没怎么"})   # the last five: session 5 (jieba keeps them whole)
# cues (features(cues=True)): the contrast words after which a post's verdict comes, and degree adverbs
CONTRAST = frozenset({"但", "但是", "不过", "可是", "然而", "就是", "只是", "可惜", "遗憾的是", "无奈"})
AFTER_CONTRAST = "›"
DEGREE = {**dict.fromkeys(("很", "非常", "太", "特别", "十分", "超", "超级", "挺", "真", "真是", "极", "极其", "相当",
                           "最", "蛮", "好好", "格外", "尤其", "实在", "太过", "过于", "巨"), "↑"),
          **dict.fromkeys(("有点", "有些", "稍微", "稍", "略", "略微", "比较", "还", "还算", "还是", "一点",
                           "有点儿"), "↓")}
DEGREE_SCOPE = 2        # words after a degree adverb that it marks (a clause break ends it sooner)
BIGRAM = " "            # joins two adjacent words of a clause into one feature (features(bigrams=True))
CUE_MARKS = (AFTER_CONTRAST, "↑", "↓")
_WORD = re.compile(r"\w")
# Weibo-style markers (weibo_style): an emoticon code, an @handle (also in //@name: and 回复@name:), a #topic#
WEIBO_STYLE = re.compile(EMOTICON.pattern + r"|[@＠][\w\-]{1,30}|[#＃][^#＃\n]{1,40}[#＃]")
BIGRAMS = False         # the trainers' default for word-pair features
NB_WEIGHT = 0.1         # train_logistic's default share of naive Bayes weights (session 6 of issue 13)
# a post is positive at or above POSITIVE, negative at or below NEGATIVE, neutral in between
POSITIVE, NEGATIVE = 0.6, 0.4


def features(tokens: Iterable[str], negation_scope: int = NEGATION_SCOPE, cues: bool = False,
             bigrams: bool = False) -> list[str]:
    """The model's features of one post's tokens in text order, punctuation included (it ends a
    negation scope, a degree adverb's and a bigram; 0 turns negation off). cues adds the contrast
    and degree features, bigrams the adjacent word pairs (module docstring). analyze() computes the
    same in its one pass (tests/unit/test_analysis.py)."""
    out: list[str] = []
    scope = 0
    after_contrast, degree, degree_left = False, "", 0
    previous = ""
    for token in tokens:
        if not _WORD.search(token):
            scope = degree_left = 0
            previous = ""
            continue
        word = token.lower()
        if bigrams:
            if previous:
                out.append(previous + BIGRAM + word)
            previous = word
        if word in NEGATORS:
            feature = word
            scope = negation_scope
        elif scope:
            feature = NEGATED + word
            scope -= 1
        else:
            feature = word
        out.append(feature)
        if not cues:
            continue
        after_contrast = after_contrast or word in CONTRAST
        if after_contrast:
            out.append(AFTER_CONTRAST + feature)
        mark = DEGREE.get(word)
        if mark:
            degree, degree_left = mark, DEGREE_SCOPE
        elif degree_left:
            out.append(degree + feature)
            degree_left -= 1
    return out


def weibo_style(text: str) -> bool:
    """Whether a post is written in Weibo style (WEIBO_STYLE within its first MAX_ANALYSIS_CHARS
    characters): a model with styled weights then adds them. Callers pass the normalised text."""
    return WEIBO_STYLE.search(text, 0, MAX_ANALYSIS_CHARS) is not None


def read_lexicon(path: str | Path) -> dict[str, int]:
    """`word<TAB>1|0` lines (1 positive); # starts a comment. Errors name the file and line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SentimentModelError(f"{path}: cannot read the lexicon: {exc}") from exc
    lexicon = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        word, sep, label = line.partition("\t")
        if not sep or label not in ("0", "1") or not word:
            raise SentimentModelError(f"{path}, line {number}: expected word<TAB>1 or word<TAB>0")
        lexicon[word] = int(label)
    return lexicon


class SentimentModelError(ValueError):
    """A model file that cannot be read; the message names the file and line."""


def label_of(score: float) -> str:
    return "positive" if score >= POSITIVE else "negative" if score <= NEGATIVE else "neutral"


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@dataclass(frozen=True, eq=False)
class SentimentModel:
    bias: float
    weights: dict[str, float]
    meta: dict = field(default_factory=dict)
    styled: dict[str, float] = field(default_factory=dict)   # extra weights for Weibo-style posts (module doc)

    def __post_init__(self) -> None:
        missing = self.styled.keys() - self.weights.keys()
        if missing:
            raise SentimentModelError(f"styled weights for features without a weight: {sorted(missing)[:5]}")

    @property
    def negation_scope(self) -> int:
        """Words a negator flips for this model; 0 for models trained before negation existed."""
        return int(self.meta.get("negation_scope", 0))

    @property
    def cues(self) -> bool:
        """Whether the model has contrast and degree features (False for models trained before them)."""
        return bool(self.meta.get("cues", False))

    @property
    def bigrams(self) -> bool:
        """Whether the model has word-pair features (False for models trained before session 7)."""
        return bool(self.meta.get("bigrams", False))

    def score(self, tokens: Iterable[str], styled: bool = False) -> float:
        """Probability that the post is positive from its tokens in order (punctuation included);
        0.5 when no feature is known to the model. styled: the post is in Weibo style
        (weibo_style() of its normalised text); it matters only to a model with styled weights."""
        weights = self.weights
        return self.score_features({f: weights[f] for f in set(features(tokens, self.negation_scope, self.cues, self.bigrams))
                                    if f in weights}, styled)

    def score_features(self, known: Mapping[str, float], styled: bool = False) -> float:
        """score() from a post's distinct known features and their weights (0.5 when there are none)."""
        if not known:
            return 0.5
        if styled and self.styled:
            extra = self.styled.get
            return _sigmoid(self.bias + float(self.meta.get("styled_bias", 0.0))
                            + sum(w + extra(f, 0.0) for f, w in known.items()))
        return _sigmoid(self.bias + sum(known.values()))

    def save(self, path: str | Path) -> None:
        header = {"format": FORMAT, "bias": self.bias, **self.meta}
        lines = [json.dumps(header, ensure_ascii=False, sort_keys=True)]
        styled = self.styled
        lines += [f"{token}\t{weight:.5g}\t{styled[token]:.5g}" if token in styled else f"{token}\t{weight:.5g}"
                  for token, weight in sorted(self.weights.items())]
        # mtime=0: the same model gives the same bytes, so a retrain without change shows no diff
        with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as out:
            out.write(("\n".join(lines) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path: str | Path) -> "SentimentModel":
        try:
            with gzip.open(path, "rt", encoding="utf-8") as src:
                lines = src.read().splitlines()
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise SentimentModelError(f"{path}: cannot read a gzip'd sentiment model: {exc}") from exc
        try:
            header = json.loads(lines[0]) if lines else {}
        except json.JSONDecodeError as exc:
            raise SentimentModelError(f"{path}, line 1: header is not JSON: {exc}") from exc
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise SentimentModelError(f"{path}, line 1: not a {FORMAT} model")
        weights, styled = {}, {}
        for number, line in enumerate(lines[1:], start=2):
            token, *values = line.split("\t")
            try:
                weights[token] = float(values[0])
                if len(values) == 2:
                    styled[token] = float(values[1])
            except (ValueError, IndexError):
                values = []
            if not token or len(values) not in (1, 2):
                raise SentimentModelError(f"{path}, line {number}: expected token<TAB>weight[<TAB>styled weight]")
        bias = float(header.pop("bias", 0.0))
        header.pop("format")
        return cls(bias, weights, header, styled)


def train_naive_bayes(docs: Sequence[tuple[int, Sequence[str]]], alpha: float = 1.0,
                      min_count: int = 2, negation_scope: int = NEGATION_SCOPE, cues: bool = True,
                      bigrams: bool = BIGRAMS) -> SentimentModel:
    """Binarised multinomial naive Bayes (each token counted once per post), Laplace smoothing."""
    counts = (Counter(), Counter())
    n_docs = [0, 0]
    for label, tokens in docs:
        n_docs[label] += 1
        counts[label].update(set(features(tokens, negation_scope, cues, bigrams)))
    if not all(n_docs):
        raise ValueError("training data needs both positive (1) and negative (0) posts")
    vocab = [t for t in counts[0].keys() | counts[1].keys() if counts[0][t] + counts[1][t] >= min_count]
    totals = [sum(counts[c][t] for t in vocab) + alpha * len(vocab) for c in (0, 1)]
    weights = {
        t: math.log((counts[1][t] + alpha) / totals[1]) - math.log((counts[0][t] + alpha) / totals[0])
        for t in vocab
    }
    bias = math.log(n_docs[1] / n_docs[0])
    return SentimentModel(bias, weights, {"trainer": "naive_bayes", "alpha": alpha, "min_count": min_count,
                                          "docs": sum(n_docs), "negation_scope": negation_scope, "cues": cues,
                                          **({"bigrams": True} if bigrams else {})})


def train_logistic(docs: Sequence[tuple[int, Sequence[str]]], epochs: int = 6, rate: float = 0.05,
                   l2: float = 1e-5, min_count: int = 2, seed: int = 42,
                   lexicon: Mapping[str, int] | None = None, negation_scope: int = NEGATION_SCOPE,
                   average: bool = True, cues: bool = True, domains: Sequence[str] | None = None,
                   fold: Mapping[str, float] | None = None, styled: str | None = None,
                   nb: float = NB_WEIGHT, bigrams: bool = BIGRAMS,
                   plain: Mapping[str, float] | None = None, stability: bool = False,
                   plain_nb: Mapping[str, float] | None = None) -> SentimentModel:
    """Logistic regression on binary features(tokens), SGD with L2 and a decaying rate.

    average: the model is the mean of the weights at the end of each epoch (the last epoch's
    alone when False); with the smaller rate it transfers better to domains absent from the
    training text (docs/quality.md, session 4). cues: contrast and degree features (features()).

    With a lexicon, every distinct lexicon word in a post (plain or negated) also counts once
    towards a shared weight for its polarity; at the end that weight is added to each lexicon
    word's own, so the model file needs no lexicon and unseen lexicon words score too.

    domains: one name per doc (say, the file it came from). Every feature (and the bias) then also
    learns a weight of its own per domain (feature augmentation, Daume III 2007): the shared
    weight keeps what holds across the domains, a domain's own weight what holds only there. The
    model keeps the shared weights plus fold[name] times each named domain's own weights (the
    other domains' are dropped), so it is one weight per feature as before. styled names a domain
    whose own weights the model keeps apart, for posts in Weibo style only (module docstring).
    plain[name] folds that domain's own weights like fold, but for posts NOT in Weibo style only:
    they are added to the weights every post gets and taken out again in the styled column, so a
    Weibo-style post scores as without them (docs/quality.md, session 7 of issue 13).

    nb: add nb times the naive Bayes model of the same posts (train_naive_bayes: each feature's
    log-count ratio, and the class prior) to the shared weights, interpolating the two as NBSVM
    does (Wang & Manning 2012); NB's counts transfer to unseen domains better than the fitted
    weights alone (docs/quality.md, session 6 of issue 13).

    stability (needs domains): each feature's shared weight learns at its share of the rate from
    sentiment_stability.stability_rates (how far its lean agrees across the domains), so what
    flips between domains or belongs to one is learnt by the domains' own weights. plain_nb[name]
    adds that factor times the naive Bayes model of domain name's posts alone for posts NOT in
    Weibo style, like plain (docs/quality.md, session 8 of issue 13).
    """
    lexicon = lexicon or {}
    fold = dict(fold or {})
    plain = dict(plain or {})
    plain_nb = dict(plain_nb or {})
    if domains is not None and len(domains) != len(docs):
        raise ValueError(f"{len(domains)} domain names for {len(docs)} posts")
    if domains is not None and set(fold) - set(domains):
        raise ValueError(f"fold names domains without posts: {sorted(set(fold) - set(domains))}")
    if styled is not None and (domains is None or styled not in domains or styled in fold):
        raise ValueError(f"styled names a domain with posts that is not folded, got {styled!r}")
    if plain and (styled is None or set(plain) - set(domains) or styled in plain or set(plain) & set(fold)):
        raise ValueError(f"plain names domains with posts, neither styled nor folded, and needs styled; got {plain}")
    if plain_nb and (styled is None or set(plain_nb) - set(domains) or styled in plain_nb):
        raise ValueError(f"plain_nb names domains with posts other than the styled one, and needs styled; got {plain_nb}")
    if stability and domains is None:
        raise ValueError("stability needs domains (one name per post)")
    tied = {1: "<+>", 0: "<->"}

    def row(tokens: Sequence[str]) -> list[str]:
        distinct = sorted(set(features(tokens, negation_scope, cues, bigrams)))   # sorted: set order varies per process
        kept = [f for f in distinct if freq[f] >= min_count]
        for f in distinct:
            negated = f.startswith(NEGATED)
            polarity = lexicon.get(f[1:] if negated else f)
            if polarity is not None:
                kept.append(NEGATED + tied[polarity] if negated else tied[polarity])
        return kept

    freq = Counter(f for _, tokens in docs for f in set(features(tokens, negation_scope, cues, bigrams)))
    rows = [(label, row(tokens)) for label, tokens in docs]
    if domains is not None:   # DOMAIN<TAB>feature: no feature holds a tab (the segmenter splits at whitespace)
        rows = [(label, [*feats, *(f"{name}\t{f}" for f in feats), f"{name}\t"])
                for (label, feats), name in zip(rows, domains)]
    if len({label for label, _ in rows}) < 2:
        raise ValueError("training data needs both positive (1) and negative (0) posts")
    rates = stability_rates([(label, set(features(tokens, negation_scope, cues, bigrams))) for label, tokens in docs],
                            domains) if stability else {}
    rate_of = rates.get
    weights: dict[str, float] = {}
    bias = 0.0
    rng = random.Random(seed)
    order = list(range(len(rows)))
    step = 0
    summed: dict[str, float] = {}
    summed_bias = 0.0
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            label, feats = rows[i]
            step += 1
            lr = rate / (1.0 + step * 1e-5)
            margin = bias + sum(weights.get(t, 0.0) for t in feats)
            grad = _sigmoid(margin) - label
            bias -= lr * grad
            shrink = 1.0 - lr * l2
            for t in feats:
                weights[t] = weights.get(t, 0.0) * shrink - lr * grad * rate_of(t, 1.0)
        if average:
            summed_bias += bias
            for t, w in weights.items():
                summed[t] = summed.get(t, 0.0) + w
    if average and epochs:
        bias, weights = summed_bias / epochs, {t: w / epochs for t, w in summed.items()}
    own: dict[str, float] = {}   # the styled domain's own weights ("" its bias)
    if domains is not None:
        common = {t: w for t, w in weights.items() if "\t" not in t}
        for t, w in sorted(weights.items()):
            name, tab, feature = t.partition("\t")
            if tab and name == styled:
                own[feature] = own.get(feature, 0.0) + w
            elif tab and (name in fold or name in plain):
                factor = fold[name] if name in fold else plain[name]
                if feature:
                    common[feature] = common.get(feature, 0.0) + factor * w
                else:
                    bias += factor * w
                if name in plain:   # taken out again for Weibo-style posts
                    own[feature] = own.get(feature, 0.0) - factor * w
        weights = common
    shared = {key: weights.pop(key, 0.0) for key in (*tied.values(), *(NEGATED + v for v in tied.values()))}
    for word, polarity in sorted(lexicon.items()):
        for feature, key in ((word, tied[polarity]), (NEGATED + word, NEGATED + tied[polarity])):
            weights[feature] = weights.get(feature, 0.0) + shared[key]
    if nb:
        naive = train_naive_bayes(docs, min_count=min_count, negation_scope=negation_scope, cues=cues, bigrams=bigrams)
        bias += nb * naive.bias
        for t, w in naive.weights.items():
            weights[t] = weights.get(t, 0.0) + nb * w
    for name, factor in sorted(plain_nb.items()):   # for posts not in Weibo style: taken out again in the styled column
        naive = train_naive_bayes([doc for doc, d in zip(docs, domains) if d == name], min_count=min_count,
                                  negation_scope=negation_scope, cues=cues, bigrams=bigrams)
        bias += factor * naive.bias
        own[""] = own.get("", 0.0) - factor * naive.bias
        for t, w in naive.weights.items():
            weights[t] = weights.get(t, 0.0) + factor * w
            own[t] = own.get(t, 0.0) - factor * w
    styled_bias = own.pop("", 0.0)
    own = {t: w for t, w in own.items() if abs(w) >= 1e-4}
    weights = {t: w for t, w in weights.items() if abs(w) >= 1e-4 or t in own}
    weights.update((t, 0.0) for t in own.keys() - weights.keys())
    meta = {"trainer": "logistic", "epochs": epochs, "rate": rate, "l2": l2, "min_count": min_count, "average": average,
            "docs": len(rows), "lexicon_words": len(lexicon), "negation_scope": negation_scope, "cues": cues}
    if nb:
        meta["nb"] = nb
    if bigrams:
        meta["bigrams"] = True
    if domains is not None:
        meta.update(domains=dict(sorted(Counter(domains).items())), fold=fold)
    if plain:
        meta["plain"] = plain
    if plain_nb:
        meta["plain_nb"] = plain_nb
    if stability:
        meta["stability"] = {"min_posts": MIN_POSTS, "single": SINGLE, "floor": FLOOR, "features": len(rates)}
    if styled is not None:
        meta.update(styled=styled, styled_bias=styled_bias)
    return SentimentModel(bias, weights, meta, own)


def snownlp_score(tokens: Sequence[str]) -> float:
    """snownlp's bundled (shopping/hotel review) naive Bayes, applied to our tokens: the baseline."""
    from snownlp import normal
    from snownlp.sentiment import classifier

    words = normal.filter_stop(list(tokens))
    if not words:
        return 0.5
    ret, prob = classifier.classifier.classify(words)
    return prob if ret == "pos" else 1.0 - prob


def evaluate(gold: Sequence[int], scores: Sequence[float]) -> dict:
    """n, accuracy and per-class precision/recall/F1, a post counted positive when score >= 0.5."""
    predicted = [1 if s >= 0.5 else 0 for s in scores]
    report: dict = {"n": len(gold), "accuracy": _ratio(sum(p == g for p, g in zip(predicted, gold)), len(gold))}
    for label, name in ((1, "positive"), (0, "negative")):
        tp = sum(p == g == label for p, g in zip(predicted, gold))
        precision = _ratio(tp, sum(p == label for p in predicted))
        recall = _ratio(tp, sum(g == label for g in gold))
        f1 = _ratio(2 * precision * recall, precision + recall)
        report[name] = {"precision": precision, "recall": recall, "f1": f1, "support": sum(g == label for g in gold)}
    return report


def _ratio(num: float, den: float) -> float:
    return round(num / den, 4) if den else 0.0

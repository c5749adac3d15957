"""A character CRF over the entity rules: the second opinion that finds names no dictionary holds.

The rules of streams.entities type words by dictionary and pattern, so they do well on names they
have read and badly on new ones (docs/quality.md, session 17: 0.88 on MSRA dev, 0.77 on a block of
articles the dictionary never read). This model reads each character in its window of characters
(unigrams, bigrams, a skip pair, character classes) together with what the rules said there (their
BIO tag and their neighbours') and where the character sits in its jieba token, and tags the post
again with a linear-chain CRF (Viterbi over BIO labels of PER / LOC / ORG).

It is trained by bench/train_entity_crf.py with python-crfsuite on MSRA NER train, the rule tags
jackknifed (each fifth of train tagged by rules whose dictionary learned from the other four
fifths), so the model learns how far to trust the rules on names they have not read. The model is
streams/resources/entity_crf.tsv.gz; its provenance is in docs/quality.md.

Every feature is an integer key (template, a, b, c): `features()` lists them, the trainer writes
them as crfsuite attribute strings, and tagging looks them up. streams._speedups.crf_tag tags in C;
`tag_py` is its Python twin (the fallback, and what the unit tests hold the C code to): both add
the same doubles in the same order and break ties the same way.
"""
from __future__ import annotations

import gzip
import re
from array import array
from math import isfinite
from pathlib import Path
from typing import Mapping, Sequence

try:
    from streams import _speedups
except ImportError:   # no C compiler at install time: the Python twin runs instead
    _speedups = None

ENTITY_TYPES = ("PER", "LOC", "ORG")
LABELS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")
N_LABELS = len(LABELS)
BOS, EOS = 2, 3                 # code points that pad the character window (control characters)
RULE_BOS, RULE_EOS = 7, 8       # rule "tags" before the first / after the last character
SEG = {"S": 0, "B": 1, "M": 2, "E": 3}
# templates: (id, what); an attribute is (id, a, b, c) with unused places 0
T_BIAS, T_U, T_B, T_SKIP, T_CLASS, T_R0, T_RP, T_RN, T_SEG, T_SEGR = 0, 1, 6, 10, 11, 12, 13, 14, 15, 16
N_TEMPLATES = 17
NUMERALS = frozenset("零一二三四五六七八九十百千万亿两〇")
HEADER = "# shaobing entity CRF v1"
ENTITY_CRF = Path(__file__).resolve().parent / "resources" / "entity_crf.tsv.gz"   # the shipped model


def char_class(cp: int) -> int:
    """0 digit or Chinese numeral, 1 Latin letter, 2 Han, 3 other; 4 / 5 the padding (as in C)."""
    if cp == BOS:
        return 4
    if cp == EOS:
        return 5
    if 48 <= cp <= 57 or 0xFF10 <= cp <= 0xFF19 or chr(cp) in NUMERALS:
        return 0
    if 65 <= cp <= 90 or 97 <= cp <= 122 or 0xFF21 <= cp <= 0xFF3A or 0xFF41 <= cp <= 0xFF5A:
        return 1
    if 0x4E00 <= cp <= 0x9FFF:
        return 2
    return 3


def _places(n: int) -> bytes:
    return b"\x00" if n == 1 else b"\x01" + b"\x02" * (n - 2) + b"\x03" if n else b""


_PLACES = tuple(_places(n) for n in range(64))


def seg_codes(tokens: Sequence[str]) -> bytes:
    """Each character's place in its token: S(ingle), B(egin), M(iddle), E(nd), as SEG codes."""
    return b"".join([_PLACES[n] if n < 64 else _places(n) for n in map(len, tokens)])


def rule_codes(n: int, spans: Sequence[tuple[int, int, str]]) -> bytes:
    """The rules' BIO tags as LABELS indexes (0 = O) for a text of n characters (a span outside the
    text, or of another type, tags nothing)."""
    out = bytearray(n)
    for start, end, kind in spans:
        if not 0 <= start < end <= n or kind not in ENTITY_TYPES:
            continue
        b = 1 + 2 * ENTITY_TYPES.index(kind)
        out[start] = b
        out[start + 1:end] = bytes([b + 1]) * (end - start - 1)
    return bytes(out)


def features(text: str, seg: bytes, rule: bytes) -> list[list[tuple[int, int, int, int]]]:
    """Every character's attribute keys, in template order (the order the scores are added in)."""
    n = len(text)
    cps = [BOS, BOS, *map(ord, text), EOS, EOS]
    out = []
    for i in range(n):
        j = i + 2
        r0 = rule[i]
        rp = rule[i - 1] if i else RULE_BOS
        rn = rule[i + 1] if i + 1 < n else RULE_EOS
        s = seg[i]
        out.append([
            (T_BIAS, 0, 0, 0),
            (T_U, cps[j - 2], 0, 0), (T_U + 1, cps[j - 1], 0, 0), (T_U + 2, cps[j], 0, 0),
            (T_U + 3, cps[j + 1], 0, 0), (T_U + 4, cps[j + 2], 0, 0),
            (T_B, cps[j - 2], cps[j - 1], 0), (T_B + 1, cps[j - 1], cps[j], 0),
            (T_B + 2, cps[j], cps[j + 1], 0), (T_B + 3, cps[j + 1], cps[j + 2], 0),
            (T_SKIP, cps[j - 1], cps[j + 1], 0),
            (T_CLASS, char_class(cps[j - 1]), char_class(cps[j]), char_class(cps[j + 1])),
            (T_R0, r0, 0, 0), (T_RP, rp, r0, 0), (T_RN, r0, rn, 0),
            (T_SEG, s, 0, 0), (T_SEGR, s, r0, 0),
        ])
    return out


# the small codes each template takes (as streams/_speedups.c stores them)
CODES, SEGS, CLASSES = 16, 8, 6


def fits(key: tuple[int, ...]) -> bool:
    """Is key a (template, a, b, c) some template makes? (rule codes < 16, places < 8, classes < 6)"""
    if len(key) != 4 or min(key) < 0 or max(key) >= 1 << 32:
        return False
    t, a, b, c = key
    if t == T_BIAS:
        return a == b == c == 0
    if T_U <= t < T_U + 5:
        return b == c == 0
    if T_B <= t <= T_SKIP:
        return c == 0
    if t == T_CLASS:
        return max(a, b, c) < CLASSES
    if t == T_R0:
        return a < CODES and b == c == 0
    if t in (T_RP, T_RN):
        return a < CODES and b < CODES and c == 0
    if t == T_SEG:
        return a < SEGS and b == c == 0
    if t == T_SEGR:
        return a < SEGS and b < CODES and c == 0
    return False


def attribute(key: tuple[int, int, int, int]) -> str:
    """A key as crfsuite attribute text (and as the model file writes it)."""
    return "%d:%d:%d:%d" % key


class EntityCRF:
    """The trained model: per attribute key N_LABELS weights, and the label transitions."""

    def __init__(self, weights: Mapping[tuple[int, int, int, int], Sequence[float]],
                 transitions: Sequence[Sequence[float]]):
        keys, rows = array("I"), array("f")   # stored as floats (C keeps them so): both read the same values
        for key, row in weights.items():
            if not fits(key):
                raise ValueError(f"entity CRF: attribute key {key} fits no template")
            if len(row) != N_LABELS:
                raise ValueError(f"entity CRF: attribute key {key} needs {N_LABELS} weights, has {len(row)}")
            keys.extend(key)
            rows.extend(row)
        if not all(map(isfinite, rows)) or not all(isfinite(w) for row in transitions for w in row):
            raise ValueError("entity CRF: weights must be finite (as floats)")
        self._init(keys, rows, transitions)

    def _init(self, keys: array, rows: array, transitions: Sequence[Sequence[float]]) -> None:
        self._keys, self._rows, self._weights = keys, rows, None
        self.transitions = tuple(tuple(float(w) for w in row) for row in transitions)
        if len(self.transitions) != N_LABELS or any(len(row) != N_LABELS for row in self.transitions):
            raise ValueError(f"entity CRF: transitions must be {N_LABELS} x {N_LABELS}")
        self._table = None
        if _speedups is not None:
            trans = array("d", (w for row in self.transitions for w in row))
            self._table = _speedups.crf_table(keys.tobytes(), array("d", rows).tobytes(), trans.tobytes(), N_LABELS)

    @property
    def weights(self) -> dict[tuple[int, int, int, int], tuple[float, ...]]:
        """Per attribute key its N_LABELS weights (built on first use: the Python twin and save())."""
        if self._weights is None:
            keys, rows = self._keys, self._rows
            self._weights = {tuple(keys[4 * r:4 * r + 4]): tuple(rows[N_LABELS * r:N_LABELS * (r + 1)])
                             for r in range(len(keys) // 4)}
        return self._weights

    @property
    def accelerated(self) -> bool:
        return self._table is not None

    @classmethod
    def load(cls, path: str | Path) -> "EntityCRF":
        """Read a model file (gzip text): `T from to weight` and `F template a b c w0 ... w6` lines."""
        path = Path(path)
        keys, rows, seen = array("I"), array("f"), set()
        trans = [[0.0] * N_LABELS for _ in range(N_LABELS)]
        with open(path, "rb") as probe:   # save() writes gzip whatever the name; plain text reads too
            opener = gzip.open if probe.read(2) == b"\x1f\x8b" else open
        with opener(path, "rt", encoding="utf-8") as src:
            first = src.readline().rstrip("\n")
            if first != HEADER:
                raise ValueError(f"{path}, line 1: expected {HEADER!r}, got {first[:60]!r}")
            for number, line in enumerate(src, start=2):
                fields = line.split()
                if not fields or fields[0].startswith("#"):
                    continue
                try:
                    if fields[0] == "F" and len(fields) == 5 + N_LABELS:
                        key = (int(fields[1]), int(fields[2]), int(fields[3]), int(fields[4]))
                        if not fits(key) or key in seen:
                            raise ValueError
                        seen.add(key)
                        rows.extend(map(float, fields[5:]))
                        keys.extend(key)
                        if not all(map(isfinite, rows[-N_LABELS:])):   # as floats: 1e39 is inf
                            raise ValueError
                    elif fields[0] == "T" and len(fields) == 4:
                        a, b = int(fields[1]), int(fields[2])
                        if not (0 <= a < N_LABELS and 0 <= b < N_LABELS):
                            raise ValueError
                        trans[a][b] = float(fields[3])
                        if not isfinite(trans[a][b]):
                            raise ValueError
                    else:
                        raise ValueError
                except (ValueError, IndexError, OverflowError):
                    raise ValueError(f"{path}, line {number}: expected `T from to weight` (labels 0-{N_LABELS - 1}) "
                                     f"or `F template a b c` and {N_LABELS} weights, once per key") from None
        model = cls.__new__(cls)
        model._init(keys, rows, trans)
        return model

    def save(self, path: str | Path, comment: str = "") -> None:
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as out:
            out.write(HEADER + "\n")
            for line in comment.splitlines():
                out.write(f"# {line}\n")
            for a, row in enumerate(self.transitions):
                for b, w in enumerate(row):
                    if w:
                        out.write(f"T {a} {b} {w!r}\n")
            for key in sorted(self.weights):
                out.write("F %d %d %d %d " % key + " ".join(repr(w) for w in self.weights[key]) + "\n")

    def spans(self, text: str, tokens: Sequence[str], rule_spans: Sequence[tuple[int, int, str]],
              accelerated: bool = True) -> list[tuple[int, int, str]]:
        """The entity spans (start, end, type) of text, given its jieba tokens and the rules' spans.

        Tokens that do not join to the text (never from Segmenter.segment) leave the rules' spans as
        they are: analyze() must not raise."""
        seg = seg_codes(tokens)
        if len(seg) != len(text) or not text:
            return list(rule_spans)
        rule = rule_codes(len(text), rule_spans)
        if accelerated and self._table is not None:
            labels = _speedups.crf_tag(self._table, text, seg, rule)
        else:
            labels = self.tag_py(text, seg, rule)
        spans = label_spans(labels)
        if spans and spans != rule_spans:
            kept = set(rule_spans)
            spans = [s for s in (span if span in kept else plausible(text, span) for span in spans) if s]
        return spans

    def tag_py(self, text: str, seg: bytes, rule: bytes) -> bytes:
        """Viterbi labels (LABELS indexes), in Python: crf_tag's twin."""
        weights, trans, L = self.weights, self.transitions, N_LABELS
        zero = (0.0,) * L
        prev: list[float] = []
        back: list[list[int]] = []
        for i, keys in enumerate(features(text, seg, rule)):
            emit = [0.0] * L
            for key in keys:
                row = weights.get(key, zero)
                for y in range(L):
                    emit[y] += row[y]
            if i == 0:
                prev = emit
                continue
            score, came = [0.0] * L, [0] * L
            for y in range(L):
                best, arg = prev[0] + trans[0][y], 0
                for z in range(1, L):
                    s = prev[z] + trans[z][y]
                    if s > best:
                        best, arg = s, z
                score[y], came[y] = best + emit[y], arg
            prev = score
            back.append(came)
        y = max(range(L), key=lambda k: (prev[k], -k))
        labels = [y]
        for came in reversed(back):
            y = came[y]
            labels.append(y)
        return bytes(reversed(labels))


# what a name the model found (and the rules did not) may not hold: a clause break, a space, or a
# microblog's @ / # / link; newswire names hold such characters in about 1 of 1,000 (MSRA train)
_BREAKS = frozenset("，,。！!？?；;：:、…~～|/@#\t\n\r \u3000")
_PAIRS = {"“": "”", "‘": "’", "《": "》", "（": "）", "(": ")", "「": "」", "『": "』", "〈": "〉", "【": "】",
          "<": ">", "[": "]", "\"": "\"", "'": "'"}     # the ASCII quotes close themselves
_CLOSERS = {close: open_ for open_, close in _PAIRS.items()}
_MARKS = frozenset(_PAIRS) | frozenset(_CLOSERS)


def _balanced(name: str) -> bool:
    """Does every quote or bracket in name have its partner in it, in order?"""
    open_: list[str] = []
    for ch in name:
        if open_ and ch == _PAIRS[open_[-1]]:
            open_.pop()
        elif ch in _PAIRS:
            open_.append(ch)
        elif ch in _CLOSERS:
            return False
    return not open_


def plausible(text: str, span: tuple[int, int, str]) -> tuple[int, int, str] | None:
    """A span the model found, as a name: quotes and brackets at its edges without their partner
    inside are cut off (“惠农志愿者联盟 -> 惠农志愿者联盟); then None if what is left holds a clause
    break, a space, an unpaired quote or bracket, nothing but quotes and brackets, or one character
    repeated (哈哈哈哈: microblog text the newswire never showed the model)."""
    start, end, kind = span
    if _MARKS.intersection(text[start:end]):
        while start < end and text[start] in _MARKS and not _balanced(text[start:end]):
            start += 1          # an edge mark of an unbalanced span goes, from the left, then the right
        while start < end and text[end - 1] in _MARKS and not _balanced(text[start:end]):
            end -= 1
        name = text[start:end]
        if not _balanced(name) or not _MARKS.isdisjoint(name) and _MARKS.issuperset(name):
            return None
    name = text[start:end]
    if not name or _BREAKS.intersection(name) or (len(name) > 1 and name.count(name[0]) == len(name)):
        return None
    return start, end, kind


_ENTITY_RUN = re.compile(rb"[\x01-\x06]+")


def label_spans(labels: bytes) -> list[tuple[int, int, str]]:
    """BIO label indexes to (start, end, type) spans; an I- without its B- starts a span."""
    spans: list[tuple[int, int, str]] = []
    if not labels.strip(b"\x00"):
        return spans
    for run in _ENTITY_RUN.finditer(labels):
        start = run.start()
        kind = (labels[start] - 1) // 2
        for i in range(start + 1, run.end()):
            y = labels[i]
            if y % 2 or (y - 1) // 2 != kind:    # a B-, or an I- of another type: a new span
                spans.append((start, i, ENTITY_TYPES[kind]))
                start, kind = i, (y - 1) // 2
        spans.append((start, run.end(), ENTITY_TYPES[kind]))
    return spans

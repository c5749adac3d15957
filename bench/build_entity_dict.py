"""Learn the entity files of streams/resources/ from MSRA NER train: names, types, token parts.

entities_msra.txt holds names to keep whole and types; entity_parts_msra.txt the entities inside
one token.

    .venv/bin/python bench/build_entity_dict.py /work/shared/data/msra_ner/train.bio            # shipped
    .venv/bin/python bench/build_entity_dict.py /work/shared/data/msra_ner/train.bio --tune \\
        --out /tmp/entities_tune.txt               # tuning: also writes /tmp/entities_tune_parts.txt

Pass 1 segments every sentence with the stream's segmenter (without a learned dictionary) and
counts each gold entity string (PER / LOC / ORG) against all its occurrences in the text: a
string of at least two characters that is that entity at least --min-count times and in at
least --min-share of its occurrences becomes a word of that type (jieba then keeps it whole).
Pass 2 segments again with those words and counts, for every token, how often it is exactly a
gold entity of each type or none: a token seen --min-count times whose majority type (share >=
--min-share) differs from what streams.entities would say gets a tag override (PER, LOC, ORG or
O for none). The same pass learns, for every token, which gold entities lie strictly inside it
(中美 -> 中 LOC + 美 LOC, 来京 -> 京 LOC; a token a gold entity crosses counts against it): the
majority inside pattern, at the same count and share, goes to the parts table (--parts-out). The
files hold words, types and offsets only, no sentence. With --tune 10 % of the sentences (seed 42)
are left out, for `bench/eval_entities.py --entity-dict FILE --entity-parts PARTS --tune-split`.
The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import ahocorasick

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.eval_entities import SPLITS, read_bio, split  # noqa: E402
from streams.analysis import ENTITY_DICT, ENTITY_PARTS, default_segmenter  # noqa: E402
from streams.entities import EntityTagger, format_parts, given_name_chars  # noqa: E402

HEADER = ("# Learned from MSRA NER train (no licence stated; research data) by bench/build_entity_dict.py:\n"
          "# entity names kept whole and tag overrides (PER / LOC / ORG, O = not an entity). Words only.\n")
PARTS_HEADER = ("# Learned from MSRA NER train (no licence stated; research data) by bench/build_entity_dict.py:\n"
                "# the entities inside one jieba token, as character offsets and types. Tokens only.\n")


def tokens_of(segmenter, text: str) -> list[str]:
    cleaned, raw = segmenter.segment("", text)
    return raw if cleaned == text else segmenter.tokenizer.lcut(text, HMM=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bio", type=Path)
    parser.add_argument("--out", type=Path, default=ENTITY_DICT)
    parser.add_argument("--parts-out", type=Path, default=None,
                        help="default: the shipped table beside the shipped --out, else OUT_parts.txt beside OUT")
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--split", choices=SPLITS, default="random",
                        help="with --tune: which 10 %% to leave out (random sentences, or the last / first block)")
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument("--min-share", type=float, default=0.6)
    args = parser.parse_args()
    shipped = args.out.resolve() == ENTITY_DICT.resolve()
    if args.parts_out is None:
        args.parts_out = ENTITY_PARTS if shipped else args.out.with_name(args.out.stem + "_parts.txt")
    if args.tune and (shipped or args.parts_out.resolve() == ENTITY_PARTS.resolve()):
        parser.error("--tune learns from 90 % of the file: give --out (and --parts-out) outside the shipped files")
    sentences, _ = split(list(read_bio(args.bio)), args.tune, args.split)

    summary = learn(sentences, args.out, args.parts_out, args.min_count, args.min_share)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def learn(sentences: list, out: Path, parts_out: Path, min_count: int = 1, min_share: float = 0.6) -> dict:
    """Write the entity dictionary (out) and parts table (parts_out) learned from (text, gold spans) pairs."""
    as_entity: dict[str, Counter] = {}
    for text, gold in sentences:
        for a, b, kind in gold:
            if b - a >= 2:
                as_entity.setdefault(text[a:b], Counter())[kind] += 1
    automaton = ahocorasick.Automaton()
    for name in as_entity:
        automaton.add_word(name, name)
    automaton.make_automaton()
    seen = Counter(name for text, _ in sentences for _, name in automaton.iter(text))
    words = {}
    for name, kinds in as_entity.items():
        kind, count = kinds.most_common(1)[0]
        if count >= min_count and count / seen[name] >= min_share:
            words[name] = kind

    learned = Path(out)
    learned.write_text(HEADER + "".join(f"{w} {k}\n" for w, k in sorted(words.items())), encoding="utf-8")
    segmenter = default_segmenter(entity_dict=learned)
    tagger = EntityTagger(segmenter.tags, given_names=given_name_chars(), counts=segmenter.tokenizer.FREQ)
    per_token: dict[str, Counter] = {}
    inside: dict[str, Counter] = {}
    for text, gold in sentences:
        spans = {(a, b): kind for a, b, kind in gold}
        pos = 0
        for token in tokens_of(segmenter, text):
            end = pos + len(token)
            per_token.setdefault(token, Counter())[spans.get((pos, end), "O")] += 1
            crossed = any(a < end and b > pos and not (pos <= a and b <= end) for a, b in spans)
            inside.setdefault(token, Counter())[None if crossed else tuple(sorted(
                (a - pos, b - pos, kind) for (a, b), kind in spans.items() if pos <= a and b <= end))] += 1
            pos = end
    parts = {}
    for token, patterns in inside.items():
        pattern, count = patterns.most_common(1)[0]
        whole = pattern is not None and len(pattern) == 1 and pattern[0][:2] == (0, len(token))
        if (pattern and not whole and count >= min_count and count / sum(patterns.values()) >= min_share
                and token.strip() and " " not in token):
            parts[token] = pattern
    overrides = {}
    for token, kinds in per_token.items():
        kind, count = kinds.most_common(1)[0]
        if count < min_count or count / sum(kinds.values()) < min_share or not token.strip():
            continue
        current = tagger.compute(token)[1] or "O"
        if kind != current and words.get(token) != kind:
            overrides[token] = kind
    entries = {**words, **overrides}
    learned.write_text(HEADER + "".join(f"{w} {k}\n" for w, k in sorted(entries.items()) if " " not in w),
                       encoding="utf-8")
    Path(parts_out).write_text(PARTS_HEADER + "".join(f"{t} {format_parts(p)}\n" for t, p in sorted(parts.items())),
                              encoding="utf-8")
    return {"sentences": len(sentences), "words": len(words), "overrides": len(overrides), "parts": len(parts),
            "by_type": Counter(entries.values()), "out": str(learned), "parts_out": str(parts_out)}


if __name__ == "__main__":
    sys.exit(main())

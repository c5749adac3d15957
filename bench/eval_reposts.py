"""Repost detection quality through the production path, `streams.clustering.decide`.

    .venv/bin/python bench/eval_reposts.py /work/shared/data/weibo_senti_100k/dev.csv --n 3000     # reported
    .venv/bin/python bench/eval_reposts.py /work/shared/data/weibo_senti_100k/train.csv --n 3000   # tuning

Takes N real posts (at least --min-chars characters after clean-up) as originals, makes one
repost of each with 1-3 realistic edits (转发/转自 prefixes, //@ chains, added hashtags, changed
punctuation, a small inserted comment, a source line or short link, a cut tail), and holds out
N other posts as unrelated queries. Every post is analysed by analyze() and classified by
decide() with the worker's state (content index, near-duplicate index with its 64-per-key cap,
cluster roots), in this order: the originals, then every other post of the file and of the
--background files (so the near-duplicate index holds what a busy worker holds and hot keys are
at their cap), then the reposts and unrelated posts interleaved. A repost is found if decide()
puts it in its original's cluster; precision counts every repost or duplicate decision on the
reposts and unrelated posts; "judged" precision does not count a match of an unrelated post to a
post whose text it largely shares (exact character-trigram Jaccard >= JUDGE = 0.3: Weibo data is
full of //@ chains of one root). Because the sketch is itself built on character trigrams, a second
judge independent of it is reported too: difflib's SequenceMatcher ratio of the two cleaned
texts >= DIFF_JUDGE = 0.5 (longest matching blocks, not trigram sets). Seeded: the same input gives the same numbers.
The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams import dedup  # noqa: E402
from streams.analysis import Resources, analyze  # noqa: E402
from streams.clustering import cluster_chars, decide  # noqa: E402
from streams.textnorm import clean_for_analysis  # noqa: E402

PREFIXES = ["转发微博：", "转发：", "转自@{u}：", "【转】", "{c}//@{u}:", "{c} //@{u}: ", "转：", "#{t}# "]
COMMENTS = ["太过分了", "大家看看", "扩散", "关注一下", "求真相", "无语", "顶", "真的吗", "心疼"]
TAGS = ["社会新闻", "热点", "今日关注", "身边事", "转发抽奖", "城市生活"]
USERS = ["小城故事", "本地生活圈", "热心网友", "新闻哥", "观察者"]
PUNCT = {"，": ",", "。": ".", "！": "!", "？": "?", "：": ":", "；": ";"}


def edit_prefix(text: str, rng: random.Random) -> str:
    return rng.choice(PREFIXES).format(u=rng.choice(USERS), t=rng.choice(TAGS), c=rng.choice(COMMENTS)) + text


def edit_hashtag(text: str, rng: random.Random) -> str:
    tag = f"#{rng.choice(TAGS)}#"
    return f"{tag}{text}" if rng.random() < 0.5 else f"{text} {tag}"


def edit_punctuation(text: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "".join(PUNCT.get(ch, ch) for ch in text)
    return "".join(ch for ch in text if ch not in PUNCT or rng.random() < 0.5)


def edit_insert(text: str, rng: random.Random) -> str:
    # people add a comment at a clause boundary (or at either end), not inside a word
    bounds = [0, len(text), *(i + 1 for i, ch in enumerate(text) if ch in "，。！？,.!? ")]
    at = rng.choice(bounds)
    return f"{text[:at]}{rng.choice(COMMENTS)}！{text[at:]}"


def edit_source(text: str, rng: random.Random) -> str:
    tail = rng.choice([" 来源：网络", " via 本地论坛", f" http://t.cn/{rng.randrange(16**6):06x}", "（来源：某客户端）"])
    return text + tail


def edit_cut_tail(text: str, rng: random.Random) -> str:
    # sites cut long posts (Weibo at 140 characters) and link to the rest; short ones stay whole
    if len(text) < 60:
        return edit_source(text, rng)
    keep = max(1, int(len(text) * rng.uniform(0.85, 0.95)))
    return text[:keep] + "…全文"


EDITS = [edit_prefix, edit_hashtag, edit_punctuation, edit_insert, edit_source, edit_cut_tail]


def make_repost(text: str, rng: random.Random) -> tuple[str, list[str]]:
    chosen = rng.sample(EDITS, rng.randint(1, 3))
    for edit in chosen:
        text = edit(text, rng)
    return text, [e.__name__[5:] for e in chosen]


def read_texts(path: Path, min_chars: int) -> list[str]:
    with path.open(encoding="utf-8", newline="") as src:
        texts = [row["text"] for row in csv.DictReader(src)]
    return list(dict.fromkeys(t for t in texts if len(clean_for_analysis("", t)) >= min_chars))


def signature(text: str, resources: Resources) -> tuple[str, int, str, int]:
    """What the worker hands decide(): content hash, SimHash, sketch, text length (agents.py)."""
    a = analyze("", text, resources)
    return a.content_hash, a.simhash, a.sketch, cluster_chars("", text)


_NON_WORD = re.compile(r"[\W_]+")


def trigram_jaccard(a: str, b: str) -> float:
    """Exact character-trigram Jaccard of two cleaned texts: the judge, independent of the signatures."""
    a, b = _NON_WORD.sub("", clean_for_analysis("", a)), _NON_WORD.sub("", clean_for_analysis("", b))
    x, y = {a[i:i + 3] for i in range(len(a) - 2)}, {b[i:i + 3] for i in range(len(b) - 2)}
    return len(x & y) / len(x | y) if x | y else 0.0


def run(stream, k: int, min_resemblance: float, use_sketch: bool, max_distance: int = dedup.SKETCH_MAX_DISTANCE,
        min_confirm: float = dedup.MIN_CONFIRM):
    """decide() over (post_id, signature) in order; returns each post's decision and the index."""
    content_index: dict = {}
    band_index: dict = {}
    cluster_of: dict = {}
    decisions = {}
    for post_id, (content_hash, simhash, sketch, chars) in stream:
        decisions[post_id] = decide(post_id, content_hash, simhash, content_index, band_index, cluster_of, k=k,
                                    text_chars=chars, sketch=sketch if use_sketch else "",
                                    min_resemblance=min_resemblance, max_distance=max_distance,
                                    min_confirm=min_confirm if use_sketch else 0.0)
    return decisions, band_index, cluster_of


JUDGE = 0.3
DIFF_JUDGE = 0.5


def diff_ratio(a: str, b: str) -> float:
    """difflib's similarity of two cleaned texts (word characters only): the second judge."""
    from difflib import SequenceMatcher

    a, b = _NON_WORD.sub("", clean_for_analysis("", a)), _NON_WORD.sub("", clean_for_analysis("", b))
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--background", type=Path, nargs="*", default=[], help="more label,text CSVs to fill the state")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--min-chars", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache", type=Path, help="keep the analysed signatures in this file (outside the repo) "
                        "and reuse them when it exists: for trying decide() settings without re-analysing")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    resources = None if args.cache and args.cache.exists() else Resources.load()

    texts = read_texts(args.csv, args.min_chars)
    rng.shuffle(texts)
    originals, unrelated, rest = texts[: args.n], texts[args.n: 2 * args.n], texts[2 * args.n:]
    chosen = set(originals) | set(unrelated)
    for path in args.background:
        rest += [t for t in read_texts(path, args.min_chars) if t not in chosen]
    reposts, edits_of = [], []
    for text in originals:
        repost, edits = make_repost(text, rng)
        reposts.append(repost)
        length = len(clean_for_analysis("", text))
        edits_of.append([*edits, "chars<50" if length < 50 else "chars50-99" if length < 100 else "chars>=100"])
    queries = [(f"r{i}", t) for i, t in enumerate(reposts)] + [(f"u{i}", t) for i, t in enumerate(unrelated)]
    rng.shuffle(queries)
    if args.cache and args.cache.exists():
        stream = json.loads(args.cache.read_text(encoding="utf-8"))
    else:
        stream = ([(f"o{i}", signature(t, resources)) for i, t in enumerate(originals)]
                  + [(f"b{i}", signature(t, resources)) for i, t in enumerate(rest)]
                  + [(post_id, signature(t, resources)) for post_id, t in queries])
        if args.cache:
            args.cache.write_text(json.dumps(stream), encoding="utf-8")

    n = len(originals)
    configs = [("simhash only", k, 1.0, False, 64, 0.0) for k in (3, 8, 12)]
    configs += [("simhash + sketch", dedup.DEFAULT_K, r, True, d, 0.0) for d in (64, 28, 24, 20) for r in (0.4, 0.5, 0.6)]
    # a SimHash match confirmed by the sketch (resemblance >= c), the sketch settings shipped
    configs += [("simhash + sketch", dedup.DEFAULT_K, dedup.MIN_RESEMBLANCE, True, dedup.SKETCH_MAX_DISTANCE, c)
                for c in (0.05, 0.1, 0.15, 0.2, 0.25)]
    rows = []
    print(f"{n} originals, {n} reposts, {len(unrelated)} unrelated posts, {len(rest)} background posts "
          f"(min {args.min_chars} chars); decide() with k and min_resemblance:")
    for name, k, min_resemblance, use_sketch, max_distance, min_confirm in configs:
        decisions, band_index, cluster_of = run(stream, k, min_resemblance, use_sketch, max_distance, min_confirm)
        found = wrong = 0
        by_edit: dict[str, list[int]] = {}
        for i in range(n):
            d, root = decisions[f"r{i}"], cluster_of.get(f"o{i}", f"o{i}")
            hit = d.kind in ("repost", "duplicate") and cluster_of.get(d.cluster_id, d.cluster_id) == root
            found += hit
            wrong += d.kind in ("repost", "duplicate") and not hit
            for name_ in edits_of[i]:
                by_edit.setdefault(name_, [0, 0])
                by_edit[name_][0] += 1
                by_edit[name_][1] += hit
        # a match of an "unrelated" post is often a real repost inside the data (a //@ chain of the
        # same root): judged by exact trigram Jaccard of the two texts, >= JUDGE counts as right
        texts = {**{f"o{i}": t for i, t in enumerate(originals)}, **{f"b{i}": t for i, t in enumerate(rest)},
                 **dict(queries)}
        in_data = in_data_diff = 0
        for i in range(len(unrelated)):
            d = decisions[f"u{i}"]
            if d.kind in ("repost", "duplicate"):
                wrong += 1
                in_data += trigram_jaccard(unrelated[i], texts[d.cluster_id]) >= JUDGE
                in_data_diff += diff_ratio(unrelated[i], texts[d.cluster_id]) >= DIFF_JUDGE
        full = sum(len(entries) >= dedup.MAX_PER_BAND for entries in band_index.values())
        judged = found + wrong - in_data
        judged_diff = found + wrong - in_data_diff
        row = {"signatures": name, "k": k, "precision_judged": round(found / judged, 4) if judged else 1.0,
               "precision_judged_difflib": round(found / judged_diff, 4) if judged_diff else 1.0,
               "matches_that_are_reposts_in_the_data": in_data, "min_resemblance": min_resemblance if use_sketch else None,
               "sketch_max_distance": max_distance if use_sketch else None,
               "min_confirm": min_confirm if use_sketch else None,
               "recall": round(found / n, 4), "precision": round(found / (found + wrong), 4) if found + wrong else 1.0,
               "wrong_matches": wrong, "index_keys": len(band_index), "keys_at_cap": full,
               "recall_by_edit_and_length": {e: round(f / c, 4) for e, (c, f) in sorted(by_edit.items())}}
        rows.append(row)
        print(f"  {name:<17} k={k:<2} r>={min_resemblance if use_sketch else '-':<4} "
              f"d<={max_distance if use_sketch else '-':<3} c>={min_confirm if use_sketch else '-':<4} "
              f"recall {row['recall']:.4f}  "
              f"precision {row['precision']:.4f} (judged {row['precision_judged']:.4f}, "
              f"difflib {row['precision_judged_difflib']:.4f})  wrong {wrong:<3} "
              f"(of which reposts in the data {in_data:<3}) keys {len(band_index)} (at cap {full})")
        print("     recall by edit and length:", {e: f"{f / c:.3f} of {c}" for e, (c, f) in sorted(by_edit.items())})
    print(json.dumps({"n": n, "background": len(rest), "max_per_key": dedup.MAX_PER_BAND, "runs": rows},
                     ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

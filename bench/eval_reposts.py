"""Repost detection quality: SimHash (banded, Hamming <= k) + exact content fingerprint.

    .venv/bin/python bench/eval_reposts.py /work/shared/data/weibo_senti_100k/dev.csv --n 3000

Takes N real posts (at least --min-chars characters after clean-up) as originals, makes one
repost of each with 1-3 realistic edits (转发/转自 prefixes, //@ chains, added hashtags, changed
punctuation, a small inserted comment, a source line or short link, a cut tail), and holds out
N other posts as unrelated queries. Every original is indexed; every repost and unrelated post
is looked up. A repost is found if it is matched to its own original. Precision counts every
match returned (reposts and unrelated posts). Seeded: the same input gives the same numbers.
The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams import dedup  # noqa: E402
from streams.analysis import Resources, analyze  # noqa: E402
from streams.simhash import hamming  # noqa: E402
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--min-chars", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    resources = Resources.load()

    with args.csv.open(encoding="utf-8", newline="") as src:
        texts = [row["text"] for row in csv.DictReader(src)]
    texts = list(dict.fromkeys(t for t in texts if len(clean_for_analysis("", t)) >= args.min_chars))
    rng.shuffle(texts)
    originals, unrelated = texts[: args.n], texts[args.n: 2 * args.n]

    index: dict[str, list] = {}
    exact: dict[str, str] = {}
    for i, text in enumerate(originals):
        a = analyze("", text, resources)
        exact.setdefault(a.content_hash, f"o{i}")
        dedup.add(index, f"o{i}", a.simhash)
        originals[i] = (text, a.simhash)

    ks = range(0, 13)
    found = {k: 0 for k in ks}
    false_pos = {k: 0 for k in ks}
    brute_found = {k: 0 for k in ks}
    by_edit: dict[str, list[int]] = {}
    distances = []
    for i, (text, original_hash) in enumerate(originals):
        repost, edits = make_repost(text, rng)
        a = analyze("", repost, resources)
        distance = hamming(a.simhash, original_hash)
        distances.append(distance)
        cands = dedup.candidates(index, a.simhash)
        for k in ks:
            hit = exact.get(a.content_hash) or dedup.match(a.simhash, cands, k)
            found[k] += hit == f"o{i}"
            false_pos[k] += hit is not None and hit != f"o{i}"
            brute_found[k] += bool(a.simhash) and distance <= k
        hit = exact.get(a.content_hash) or dedup.match(a.simhash, cands, dedup.DEFAULT_K)
        length = len(clean_for_analysis("", text))
        bucket = "chars<50" if length < 50 else "chars50-99" if length < 100 else "chars>=100"
        for name in [*edits, bucket]:
            by_edit.setdefault(name, [0, 0])
            by_edit[name][0] += 1
            by_edit[name][1] += hit == f"o{i}"
    for text in unrelated:
        a = analyze("", text, resources)
        cands = dedup.candidates(index, a.simhash)
        for k in ks:
            false_pos[k] += (exact.get(a.content_hash) or dedup.match(a.simhash, cands, k)) is not None

    n = len(originals)
    rows = {}
    print(f"{n} originals, {n} reposts, {len(unrelated)} unrelated posts (min {args.min_chars} chars)")
    print("k  recall(banded)  recall(all pairs)  precision  false matches")
    for k in ks:
        returned = found[k] + false_pos[k]
        rows[k] = {"recall": round(found[k] / n, 4), "recall_bruteforce": round(brute_found[k] / n, 4),
                   "precision": round(found[k] / returned, 4) if returned else 1.0, "false_matches": false_pos[k]}
        print(f"{k}  {rows[k]['recall']:.4f}          {rows[k]['recall_bruteforce']:.4f}             "
              f"{rows[k]['precision']:.4f}     {false_pos[k]}")
    print(f"recall at k={dedup.DEFAULT_K} by edit and by original length:",
          {e: f"{f / c:.3f} of {c}" for e, (c, f) in sorted(by_edit.items())})
    exact_only = sum(1 for d in distances if d == 0)
    print(json.dumps({"n": n, "k_default": dedup.DEFAULT_K, "by_k": rows, "identical_simhash": exact_only,
                      "recall_by_edit_and_length": {e: round(f / c, 4) for e, (c, f) in sorted(by_edit.items())}},
                     ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Repost detection quality through the production path, `streams.clustering.decide`.

    .venv/bin/python bench/eval_reposts.py /work/shared/data/weibo_senti_100k/dev.csv --n 3000 \
        --background /work/shared/data/weibo_senti_100k/train.csv          # reported
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
reposts and unrelated posts. Seeded: the same input gives the same numbers.
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
from streams.clustering import decide  # noqa: E402
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
    return a.content_hash, a.simhash, a.sketch, len("".join(text.split()))


def run(stream, k: int, min_resemblance: float, use_sketch: bool):
    """decide() over (post_id, signature) in order; returns each post's decision and the index."""
    content_index: dict = {}
    band_index: dict = {}
    cluster_of: dict = {}
    decisions = {}
    for post_id, (content_hash, simhash, sketch, chars) in stream:
        decisions[post_id] = decide(post_id, content_hash, simhash, content_index, band_index, cluster_of, k=k,
                                    text_chars=chars, sketch=sketch if use_sketch else "",
                                    min_resemblance=min_resemblance)
    return decisions, band_index, cluster_of


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--background", type=Path, nargs="*", default=[], help="more label,text CSVs to fill the state")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--min-chars", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    resources = Resources.load()

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
    stream = ([(f"o{i}", signature(t, resources)) for i, t in enumerate(originals)]
              + [(f"b{i}", signature(t, resources)) for i, t in enumerate(rest)]
              + [(post_id, signature(t, resources)) for post_id, t in queries])

    n = len(originals)
    configs = [("simhash only", k, 1.0, False) for k in (3, 8, 12)]
    configs += [("simhash + sketch", dedup.DEFAULT_K, r, True) for r in (0.3, 0.4, 0.5, 0.6, 0.7)]
    rows = []
    print(f"{n} originals, {n} reposts, {len(unrelated)} unrelated posts, {len(rest)} background posts "
          f"(min {args.min_chars} chars); decide() with k and min_resemblance:")
    for name, k, min_resemblance, use_sketch in configs:
        decisions, band_index, cluster_of = run(stream, k, min_resemblance, use_sketch)
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
        wrong += sum(decisions[f"u{i}"].kind in ("repost", "duplicate") for i in range(len(unrelated)))
        full = sum(len(entries) >= dedup.MAX_PER_BAND for entries in band_index.values())
        row = {"signatures": name, "k": k, "min_resemblance": min_resemblance if use_sketch else None,
               "recall": round(found / n, 4), "precision": round(found / (found + wrong), 4) if found + wrong else 1.0,
               "wrong_matches": wrong, "index_keys": len(band_index), "keys_at_cap": full,
               "recall_by_edit_and_length": {e: round(f / c, 4) for e, (c, f) in sorted(by_edit.items())}}
        rows.append(row)
        print(f"  {name:<17} k={k:<2} r>={min_resemblance if use_sketch else '-':<4} recall {row['recall']:.4f}  "
              f"precision {row['precision']:.4f}  wrong {wrong:<3} keys {len(band_index)} (at cap {full})")
        print("     recall by edit and length:", {e: f"{f / c:.3f} of {c}" for e, (c, f) in sorted(by_edit.items())})
    print(json.dumps({"n": n, "background": len(rest), "max_per_key": dedup.MAX_PER_BAND, "runs": rows},
                     ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
